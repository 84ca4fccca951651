//! The `tls-analyzer` command: captures in, Zeek's SSL events or ssl.log out.
//!
//! In: command-line arguments (see `--help`). Out: event lines or ssl.log on stdout, errors on
//! stderr, exit status 0 on success, 1 when an input could not be read (everything before the
//! problem is still printed), 2 for usage errors (clap's convention).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand, ValueEnum};
use tls_analyzer::capture::Input;
use tls_analyzer::fingerprint::FingerprintSet;
use tls_analyzer::run::{
    run_with_logs, EventFormat, LogFormat, OtherLogs, Outputs, RunError, RunOptions,
};

/// The capture analysed when no FILE is given: a TLS 1.3 handshake made on loopback with
/// openssl (see `tests/captures/README.md`).
const SAMPLE_NAME: &str = "bundled sample (tests/captures/tls13.pcap)";
const SAMPLE: &[u8] = include_bytes!("../../tests/captures/tls13.pcap");

/// Total input size above which a progress bar is drawn (when stderr is a terminal): below it a
/// run takes a second or two and a bar would only flicker.
const PROGRESS_MIN_BYTES: u64 = 50 * 1024 * 1024;
/// How often the progress bar is redrawn from the shared byte counter.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Parser, Debug)]
#[command(
    name = "tls-analyzer",
    version,
    about = "Zeek-compatible SSL/TLS/DTLS analyzer: Zeek's ssl_* events and ssl.log from packet captures",
    long_about = "Zeek-compatible SSL/TLS/DTLS analyzer.\n\n\
                  Reads pcap or pcapng captures (optionally gzip-compressed; `-` is standard input), \
                  finds SSL/TLS/DTLS by content on any port, and prints Zeek's SSL events or Zeek's \
                  ssl.log. With no command it prints the ssl.log of a bundled sample capture. \
                  `tls-analyzer <COMMAND> --help` lists a command's options.",
    after_help = "Examples:\n  \
                  tls-analyzer                                   ssl.log of the bundled sample\n  \
                  tls-analyzer log trace.pcap | zeek-cut server_name version\n  \
                  tls-analyzer log --format json a.pcap b.pcapng.gz\n  \
                  tcpdump -w - port 443 | tls-analyzer events -\n\n\
                  Exit status: 0 on success, 1 when an input cannot be read (everything before the \
                  problem is printed first), 2 for usage errors."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print one line per event (ssl_* events, weirds, analyzer confirmation/violation/removal).
    Events {
        /// Output format: one readable line per event, or JSON Lines shaped like Zeek's JSON
        /// logs.
        #[arg(long, value_enum, default_value_t = EventsFormatArg::Text)]
        format: EventsFormatArg,
        #[command(flatten)]
        common: Common,
    },
    /// Print ssl.log: Zeek's columns, as TSV (Zeek's ASCII log) or JSON Lines.
    Log {
        /// Output format: Zeek's TSV (readable by zeek-cut) or JSON Lines.
        #[arg(long, value_enum, default_value_t = LogFormatArg::Tsv)]
        format: LogFormatArg,
        #[command(flatten)]
        columns: LogColumns,
        #[command(flatten)]
        files_out: LogFiles,
        #[command(flatten)]
        common: Common,
    },
}

/// Which of Zeek's logs `log` writes, and where.
#[derive(clap::Args, Debug, Default)]
struct LogFiles {
    /// The log printed on stdout: ssl (ssl.log), x509 (x509.log, one row per certificate, with
    /// Zeek's deduplication), quic (quic.log, one row per QUIC session) or tunnel (tunnel.log,
    /// tunnels discovered, closed and expired); x509, quic and tunnel runs are single-threaded
    /// (--threads is ignored: x509's deduplication is run-wide and rows keep the order they
    /// happened in).
    #[arg(long = "log", value_enum, default_value_t = LogKindArg::Ssl)]
    kind: LogKindArg,
    /// Write DIR/ssl.log, DIR/x509.log, DIR/quic.log and DIR/tunnel.log (Zeek's file names, in --format)
    /// instead of printing; a log without rows is not created, as with Zeek.
    #[arg(long, value_name = "DIR", conflicts_with = "kind")]
    logdir: Option<std::path::PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LogKindArg {
    #[default]
    Ssl,
    X509,
    Quic,
    Tunnel,
}

/// A log file created at its first write (Zeek creates no file for a log without rows).
struct LazyFile {
    path: std::path::PathBuf,
    file: Option<BufWriter<std::fs::File>>,
}

impl LazyFile {
    fn new(path: std::path::PathBuf) -> Self {
        LazyFile { path, file: None }
    }

    fn file(&mut self) -> io::Result<&mut BufWriter<std::fs::File>> {
        if self.file.is_none() {
            let f = std::fs::File::create(&self.path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
            self.file = Some(BufWriter::with_capacity(1 << 16, f));
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))
    }
}

impl Write for LazyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.file()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// ssl.log's optional columns (Zeek leaves them out by default).
#[derive(clap::Args, Debug, Default)]
struct LogColumns {
    /// Add ssl.log's subject and issuer columns: the server certificate's names, as Zeek with
    /// SSL::log_include_server_certificate_subject_issuer=T.
    #[arg(long)]
    log_cert_subject_issuer: bool,
    /// Add ssl.log's client_subject and client_issuer columns: the client certificate's names, as
    /// Zeek with SSL::log_include_client_certificate_subject_issuer=T.
    #[arg(long)]
    log_client_cert_subject_issuer: bool,
    /// Add fingerprint columns, comma-separated: ja3, ja3s, ja4, ja4_r, ja4_o, ja4_ro, and (in a
    /// build with the cargo feature ja4plus, FoxIO License 1.1) ja4s, ja4s_r.
    #[arg(long, value_name = "LIST", value_parser = parse_fingerprints)]
    fingerprints: Option<FingerprintSet>,
}

/// `--fingerprints`: the column list, or the reason it is not one.
fn parse_fingerprints(list: &str) -> Result<FingerprintSet, String> {
    FingerprintSet::parse(list)
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
    /// Truncate quic.log's history after this many letters (Zeek: QUIC::max_history_length).
    #[arg(long, default_value_t = tls_analyzer::log::quic_log::DEFAULT_MAX_HISTORY_LENGTH)]
    quic_max_history_length: usize,
    /// QUIC::discarded_packet events per connection: 0 for no limit, -1 for none (Zeek:
    /// QUIC::max_discarded_packet_events).
    #[arg(long, default_value_t = tls_analyzer::quic::DEFAULT_MAX_DISCARDED_PACKET_EVENTS, allow_negative_numbers = true)]
    quic_max_discarded_packet_events: i64,
    /// Worker threads: above 1, connections are sharded over N analysis threads by flow hash
    /// (same output, merged as it is produced within a bounded buffer). Ignored by runs that
    /// write x509.log, quic.log or tunnel.log (--log x509/quic/tunnel, --logdir), which are
    /// single-threaded.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: u16,
    /// Connections tracked at once (TCP and UDP); past it the least recently active one is
    /// ended early (weird connection_table_full). An idle entry costs about 300 bytes, an SSL
    /// connection under analysis about 850.
    #[arg(long, default_value_t = tls_analyzer::capture::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Bytes held for TCP reassembly (out-of-order segments) over all connections; past it the
    /// connection that needs more skips ahead (weird reassembly_buffer_overflow).
    #[arg(long, default_value_t = tls_analyzer::capture::tcp::DEFAULT_MAX_BUFFERED_BYTES_TOTAL)]
    max_buffered_bytes: usize,
    /// Most tunnel encapsulations removed around one packet (Zeek's Tunnel::max_depth); a
    /// deeper one is dropped with weird exceeded_tunnel_max_depth. 0 turns decapsulation off.
    #[arg(long, default_value_t = tls_analyzer::capture::tunnel::DEFAULT_MAX_DEPTH)]
    tunnel_max_depth: usize,
    /// Also raise the deprecated ssl_server_curve event (removed in Zeek 3.0) for each
    /// ServerKeyExchange with a named curve, for scripts written against Bro 2.6.
    #[arg(long)]
    compat_ssl_server_curve: bool,
    /// Say on stderr how many connections carried data in which no SSL/TLS/DTLS was found
    /// (e.g. plain HTTP, or QUIC of a draft version on another port than 443); done anyway when
    /// stderr is a terminal
    // Never otherwise unless asked, so that pipelines and scripts see only the output.
    #[arg(long)]
    report_unanalysed: bool,
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
    let cli = Cli::try_parse().unwrap_or_else(|e| with_capture_hint(e).exit());
    let command = cli.command.unwrap_or(Command::Log {
        format: LogFormatArg::Tsv,
        columns: LogColumns::default(),
        files_out: LogFiles::default(),
        common: Common {
            max_ssl_history_length: tls_analyzer::log::MAX_SSL_HISTORY_LENGTH,
            quic_max_history_length: tls_analyzer::log::quic_log::DEFAULT_MAX_HISTORY_LENGTH,
            quic_max_discarded_packet_events:
                tls_analyzer::quic::DEFAULT_MAX_DISCARDED_PACKET_EVENTS,
            threads: 1,
            max_connections: tls_analyzer::capture::DEFAULT_MAX_CONNECTIONS,
            max_buffered_bytes: tls_analyzer::capture::tcp::DEFAULT_MAX_BUFFERED_BYTES_TOTAL,
            tunnel_max_depth: tls_analyzer::capture::tunnel::DEFAULT_MAX_DEPTH,
            ..Common::default()
        },
    });
    let mut files_out = LogFiles::default();
    let (common, columns, events, log) = match command {
        Command::Events { format, common } => {
            let f = match format {
                EventsFormatArg::Text => EventFormat::Text,
                EventsFormatArg::Json => EventFormat::Json,
            };
            (common, LogColumns::default(), Some(f), None)
        }
        Command::Log {
            format,
            columns,
            files_out: f_out,
            common,
        } => {
            files_out = f_out;
            let f = match format {
                LogFormatArg::Tsv => LogFormat::Tsv,
                LogFormatArg::Json => LogFormat::Json,
            };
            (common, columns, None, Some(f))
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
    opts.quic.max_history_length = common.quic_max_history_length;
    opts.quic.analyzer.max_discarded_packet_events = common.quic_max_discarded_packet_events;
    opts.threads = usize::from(common.threads);
    opts.capture.max_connections = common.max_connections.max(1);
    opts.capture.tunnel_max_depth = common.tunnel_max_depth;
    opts.capture.max_buffered_bytes_total = common.max_buffered_bytes;
    opts.ssl.raise_ssl_server_curve = common.compat_ssl_server_curve;
    opts.log_columns.server_subject_issuer = columns.log_cert_subject_issuer;
    opts.log_columns.client_subject_issuer = columns.log_client_cert_subject_issuer;
    opts.log_columns.fingerprints = columns.fingerprints.unwrap_or_default();
    opts.ssl.hello_views = !opts.log_columns.fingerprints.is_empty();

    let total_bytes = input_size(&inputs);
    let progress = wants_progress(io::stderr().is_terminal(), total_bytes).then(|| {
        let count = Arc::new(AtomicU64::new(0));
        opts.capture.progress = Some(Arc::clone(&count));
        (count, total_bytes.unwrap_or(0))
    });

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let dir_logs = files_out.logdir.as_ref().map(|dir| {
        (
            LazyFile::new(dir.join("ssl.log")),
            LazyFile::new(dir.join("x509.log")),
            LazyFile::new(dir.join("quic.log")),
            LazyFile::new(dir.join("tunnel.log")),
        )
    });
    if let Some(dir) = files_out.logdir.as_ref() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("tls-analyzer: cannot create {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    }
    let mut dir_logs = dir_logs;
    let mut analyse = || {
        // Each command asks for exactly one of the outputs, or (--logdir) for every log.
        let w: &mut dyn Write = &mut out;
        let none = || Outputs {
            events: None,
            log: None,
        };
        let (outputs, logs) = match (events, log, dir_logs.as_mut()) {
            (Some(f), _, _) => (
                Outputs {
                    events: Some((f, w)),
                    log: None,
                },
                OtherLogs::default(),
            ),
            (None, Some(f), Some((ssl, x509, quic, tunnel))) => (
                Outputs {
                    events: None,
                    log: Some((f, ssl)),
                },
                OtherLogs {
                    x509: Some((f, x509)),
                    quic: Some((f, quic)),
                    tunnel: Some((f, tunnel)),
                },
            ),
            (None, Some(f), None) if files_out.kind == LogKindArg::X509 => (
                none(),
                OtherLogs {
                    x509: Some((f, w)),
                    ..OtherLogs::default()
                },
            ),
            (None, Some(f), None) if files_out.kind == LogKindArg::Quic => (
                none(),
                OtherLogs {
                    quic: Some((f, w)),
                    ..OtherLogs::default()
                },
            ),
            (None, Some(f), None) if files_out.kind == LogKindArg::Tunnel => (
                none(),
                OtherLogs {
                    tunnel: Some((f, w)),
                    ..OtherLogs::default()
                },
            ),
            (None, log, _) => (
                Outputs {
                    events: None,
                    log: log.map(|f| (f, w)),
                },
                OtherLogs::default(),
            ),
        };
        run_with_logs(&inputs, &opts, outputs, logs)
    };
    let result = match progress {
        Some((count, total)) => with_progress_bar(&count, total, analyse),
        None => analyse(),
    };
    let flushed = out.flush().and_then(|()| match dir_logs.as_mut() {
        Some((ssl, x509, quic, tunnel)) => ssl
            .flush()
            .and_then(|()| x509.flush())
            .and_then(|()| quic.flush())
            .and_then(|()| tunnel.flush()),
        None => Ok(()),
    });
    if let Ok(summary) = &result {
        if common.report_unanalysed || io::stderr().is_terminal() {
            if let Some(line) = summary.not_analysed.describe() {
                eprintln!("tls-analyzer: {line}");
            }
        }
    }
    match (result, flushed) {
        (Ok(_), Ok(())) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not worth an error message, whenever it is noticed.
        (Err(RunError::Output(e)), _) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(1),
        (Err(e), _) => {
            eprintln!("tls-analyzer: {e}");
            ExitCode::from(1)
        }
        (Ok(_), Err(e)) => {
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("tls-analyzer: cannot write output: {e}");
            }
            ExitCode::from(1)
        }
    }
}

/// `tls-analyzer trace.pcap` is clap's "unrecognized subcommand" (a usage error, exit 2); when
/// that word is an existing file, the error also says which command analyses it.
fn with_capture_hint(mut e: clap::Error) -> clap::Error {
    if e.kind() != ErrorKind::InvalidSubcommand {
        return e;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidSubcommand) else {
        return e;
    };
    if !std::path::Path::new(arg).is_file() {
        return e;
    }
    let tip = format!(
        "to analyse it, run 'tls-analyzer log {arg}' (ssl.log) or 'tls-analyzer events {arg}'"
    );
    e.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![tip.into()]),
    );
    e
}

/// Total size of the inputs, or `None` when one of them has no size known in advance
/// (standard input, a file whose metadata cannot be read).
fn input_size(inputs: &[Input]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |sum, input| match input {
        Input::Path(p) => Some(sum.saturating_add(std::fs::metadata(p).ok()?.len())),
        Input::Memory(_, bytes) => Some(sum.saturating_add(bytes.len() as u64)),
        Input::Stdin => None,
    })
}

/// A progress bar only helps a person watching a long run: never when stderr goes to a file or
/// a pipe (it would fill logs with control sequences), never for small or unsized inputs.
fn wants_progress(stderr_is_terminal: bool, total_bytes: Option<u64>) -> bool {
    stderr_is_terminal && total_bytes.is_some_and(|t| t > PROGRESS_MIN_BYTES)
}

/// Runs `work` while a thread redraws a progress bar on stderr from `count` (input bytes read
/// so far, out of `total`); the bar is erased when `work` returns, so that only the output and
/// any error message remain.
fn with_progress_bar<T>(count: &AtomicU64, total: u64, work: impl FnOnce() -> T) -> T {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec}, {eta} left",
    ) {
        bar.set_style(style);
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                bar.set_position(count.load(Ordering::Relaxed));
                std::thread::park_timeout(PROGRESS_INTERVAL);
            }
            bar.finish_and_clear();
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_bar_only_on_a_terminal_for_large_sized_inputs() {
        let large = Some(PROGRESS_MIN_BYTES + 1);
        assert!(wants_progress(true, large));
        // Pipes and files (tests, `2>log`) never get control sequences.
        assert!(!wants_progress(false, large));
        // Small inputs finish before a bar would be worth drawing.
        assert!(!wants_progress(true, Some(PROGRESS_MIN_BYTES)));
        // Standard input has no known size.
        assert!(!wants_progress(true, None));
    }

    #[test]
    fn input_size_sums_files_and_gives_up_on_stdin() {
        let sample = Input::Memory("sample".into(), SAMPLE.to_vec());
        let path = Input::Path(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures/tls12.pcap"),
        );
        let file_len = match &path {
            Input::Path(p) => std::fs::metadata(p).map(|m| m.len()).expect("tls12.pcap"),
            _ => unreachable!(),
        };
        assert_eq!(
            input_size(&[sample.clone(), path]),
            Some(SAMPLE.len() as u64 + file_len)
        );
        assert_eq!(input_size(&[sample, Input::Stdin]), None);
        let missing = Input::Path("/nonexistent/capture.pcap".into());
        assert_eq!(input_size(&[missing]), None);
    }
}
