//! The `tls-analyzer` command: captures in, Zeek's SSL events or ssl.log out.
//!
//! In: command-line arguments (see `--help`). Out: event lines or ssl.log on stdout, errors on
//! stderr, exit status 0 on success, 1 when an input could not be read (everything before the
//! problem is still printed), 2 for usage errors (clap's convention).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, LogFormat, Outputs, RunOptions};

/// The capture analysed when no FILE is given: a TLS 1.3 handshake made on loopback with
/// openssl (see `tests/captures/README.md`).
const SAMPLE_NAME: &str = "bundled sample (tests/captures/tls13.pcap)";
const SAMPLE: &[u8] = include_bytes!("../../tests/captures/tls13.pcap");

#[derive(Parser, Debug)]
#[command(
    name = "tls-analyzer",
    version,
    about = "Zeek-compatible SSL/TLS/DTLS analyzer: Zeek's ssl_* events and ssl.log from packet captures",
    long_about = "Reads pcap or pcapng captures (optionally gzip-compressed; `-` is standard input), \
                  finds SSL/TLS/DTLS by content on any port, and prints Zeek's SSL events or Zeek's \
                  ssl.log. With no command it prints the ssl.log of a bundled sample capture."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print one line per event (ssl_* events, weirds, analyzer violations).
    Events {
        /// Output format.
        #[arg(long, value_enum, default_value_t = EventsFormatArg::Text)]
        format: EventsFormatArg,
        #[command(flatten)]
        common: Common,
    },
    /// Print ssl.log with Zeek's columns.
    Log {
        /// Output format: Zeek's TSV (readable by zeek-cut) or JSON Lines.
        #[arg(long, value_enum, default_value_t = LogFormatArg::Tsv)]
        format: LogFormatArg,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args, Debug, Default)]
struct Common {
    /// Seed for connection uids, making them reproducible across runs.
    #[arg(long)]
    seed: Option<u64>,
    /// Keep analysing a connection after ssl_established (Zeek:
    /// SSL::disable_analyzer_after_detection=F); encrypted records then yield ssl_encrypted_data.
    #[arg(long)]
    no_stop_after_established: bool,
    /// Truncate ssl_history after this many letters (Zeek: SSL::max_ssl_history_length).
    #[arg(long, default_value_t = tls_analyzer::log::MAX_SSL_HISTORY_LENGTH)]
    max_ssl_history_length: usize,
    /// Worker threads: above 1, connections are sharded over N analysis threads by flow hash
    /// (same output; it is buffered until the end of the input).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: u16,
    /// Capture files (pcap, pcapng, optionally .gz); `-` reads standard input. Without FILE, the
    /// bundled sample capture is analysed.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum EventsFormatArg {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LogFormatArg {
    Tsv,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Log {
        format: LogFormatArg::Tsv,
        common: Common {
            max_ssl_history_length: tls_analyzer::log::MAX_SSL_HISTORY_LENGTH,
            threads: 1,
            ..Common::default()
        },
    });
    let (common, events, log) = match command {
        Command::Events { format, common } => {
            let f = match format {
                EventsFormatArg::Text => EventFormat::Text,
                EventsFormatArg::Json => EventFormat::Json,
            };
            (common, Some(f), None)
        }
        Command::Log { format, common } => {
            let f = match format {
                LogFormatArg::Tsv => LogFormat::Tsv,
                LogFormatArg::Json => LogFormat::Json,
            };
            (common, None, Some(f))
        }
    };

    let inputs: Vec<Input> = if common.files.is_empty() {
        vec![Input::Memory(SAMPLE_NAME.to_owned(), SAMPLE.to_vec())]
    } else {
        common.files.iter().map(|f| Input::from_arg(f)).collect()
    };
    if inputs.iter().any(|i| matches!(i, Input::Stdin)) && io::stdin().is_terminal() {
        eprintln!("tls-analyzer: reading a capture from standard input (a terminal); pipe one in");
    }

    let mut opts = RunOptions::default();
    opts.capture.seed = common.seed;
    opts.ssl.disable_analyzer_after_detection = !common.no_stop_after_established;
    opts.max_ssl_history_length = common.max_ssl_history_length;
    opts.threads = usize::from(common.threads);

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let outputs = Outputs {
        events: events.map(|f| (f, &mut out as &mut dyn Write)),
        log: None,
    };
    // Only one of the two outputs is requested per command; split the borrow accordingly.
    let result = match log {
        Some(f) => run(
            &inputs,
            &opts,
            Outputs {
                events: None,
                log: Some((f, &mut out as &mut dyn Write)),
            },
        ),
        None => run(&inputs, &opts, outputs),
    };
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(_), Ok(())) => ExitCode::SUCCESS,
        (Err(e), _) => {
            eprintln!("tls-analyzer: {e}");
            ExitCode::from(1)
        }
        (Ok(_), Err(e)) => {
            // A closed pipe (`| head`) is not worth an error message.
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("tls-analyzer: cannot write output: {e}");
            }
            ExitCode::from(1)
        }
    }
}
