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
// A log file in --logdir: created at its first write, renamed at each rotation.
use tls_analyzer::log::file::LogFile as LazyFile;
use tls_analyzer::run::{
    report_drops, run_live, run_with_logs, EventFormat, LiveSetup, LogFormat, OtherLogs, Outputs,
    RunError, RunOptions,
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
    /// With -i and --logdir: close and rename the logs every SECONDS, as Zeek names rotated
    /// logs (ssl.2026-12-06-05-00-00.log, the time the file was opened, UTC); SIGHUP rotates
    /// at once.
    #[arg(long, value_name = "SECONDS", requires = "logdir", value_parser = parse_seconds)]
    rotate: Option<f64>,
}

/// Live capture (`-i`); see `tls_analyzer::capture::live`.
#[derive(clap::Args, Debug, Default)]
struct LiveArgs {
    /// Capture live from this network interface instead of reading files (repeat for several;
    /// needs root or CAP_NET_RAW, and a build with the cargo feature `live`). Runs until
    /// SIGINT or SIGTERM, which end the open connections and write their rows; a second signal
    /// exits at once.
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        conflicts_with = "files"
    )]
    interfaces: Vec<String>,
    /// With -i: a capture filter in tcpdump's syntax, applied in the kernel.
    #[arg(
        short = 'f',
        long = "filter",
        value_name = "BPF",
        requires = "interfaces"
    )]
    filter: Option<String>,
    /// With -i: bytes kept of each frame.
    #[arg(long, value_name = "N", requires = "interfaces",
          default_value_t = tls_analyzer::capture::live::DEFAULT_SNAPLEN,
          value_parser = clap::value_parser!(u32).range(64..))]
    snaplen: u32,
    /// With -i: every SECONDS, a stats.log row (Zeek's columns: packets processed, dropped by
    /// the kernel, seen on the link, ...) in --logdir, or on stderr without it.
    #[arg(long, value_name = "SECONDS", requires = "interfaces", value_parser = parse_seconds)]
    stats_interval: Option<f64>,
}

/// A positive number of seconds.
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a positive number of seconds")),
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LogKindArg {
    #[default]
    Ssl,
    X509,
    Quic,
    Tunnel,
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
    /// single-threaded. With -i: N packet sockets per interface in one kernel fanout group
    /// (symmetric flow hash), one engine each.
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
    #[command(flatten)]
    live: LiveArgs,
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
            live: LiveArgs {
                snaplen: tls_analyzer::capture::live::DEFAULT_SNAPLEN,
                ..LiveArgs::default()
            },
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
    // Live capture (-i): the same outputs, fed from interfaces until a signal.
    let mut stats_file = files_out
        .logdir
        .as_ref()
        .map(|dir| LazyFile::new(dir.join("stats.log")));
    let mut stats_stderr = io::stderr();
    let stats_format = match (log, events) {
        (Some(f), _) => f,
        (None, Some(EventFormat::Json)) => LogFormat::Json,
        (None, _) => LogFormat::Tsv,
    };
    let rotators: Vec<LazyFile> = dir_logs
        .iter()
        .flat_map(|(ssl, x509, quic, tunnel)| {
            [ssl.clone(), x509.clone(), quic.clone(), tunnel.clone()]
        })
        .chain(stats_file.clone())
        .collect();
    let mut rotate_files = |opened: f64| -> io::Result<()> {
        rotators.iter().try_for_each(|f| f.rotate(opened).map(drop))
    };
    let mut live = (!common.live.interfaces.is_empty()).then(|| LiveSetup {
        capture: tls_analyzer::capture::live::LiveOptions {
            interfaces: common.live.interfaces.clone(),
            filter: common.live.filter.clone(),
            snaplen: common.live.snaplen,
            ..Default::default()
        },
        rotate_interval: files_out.rotate,
        rotate_files: Some(&mut rotate_files),
        stats_interval: common.live.stats_interval,
        stats: common.live.stats_interval.map(|_| {
            let w: &mut dyn Write = match stats_file.as_mut() {
                Some(f) => f,
                None => &mut stats_stderr,
            };
            (stats_format, w)
        }),
        announce: true,
    });
    let mut live_summary = None;
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
        match live.take() {
            Some(setup) => run_live(setup, &opts, outputs, logs).map(|s| {
                let run = s.run.clone();
                live_summary = Some(s);
                run
            }),
            None => run_with_logs(&inputs, &opts, outputs, logs),
        }
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
    if let Some(s) = &live_summary {
        let _ = report_drops(s, &mut io::stderr());
    }
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
