//! The single-threaded pipeline: flows in, detection, one [`Session`] per SSL connection, and
//! output lines and ssl.log rows out.
//!
//! In: [`FlowHandler`] calls from the capture engine. Out: event lines and ssl.log rows written
//! to the run's writers. Detection happens on the start of each connection's stream
//! ([`crate::detect`]); once a connection is SSL its bytes go to its [`Session`].

use super::{Outputs, RunError, RunOptions, Summary};
use crate::capture::{ConnInfo, EndReason, FlowHandler, Proto, Verdict};
use crate::detect::{self, Detected, MAX_STARTTLS_SCAN_BYTES};
use crate::log::table::TableLog;
use crate::log::{LogOutput, LogShared, QuicOutput, TunnelOutput, X509Output};
use crate::output::EventOutput;
use crate::session::{self, Session};

/// Bytes [`detect::tcp`] needs for its verdict on the start of a stream: an alert record
/// (7 bytes) and then the 11 bytes up to a ServerHello's own version. A delivery shorter than
/// that may still be the start of a hello.
const DETECT_PREFIX_LEN: usize = 18;

/// The starts of one TCP direction's recent deliveries that are followed by fewer than
/// [`DETECT_PREFIX_LEN`] bytes so far, so that a hello split over tiny segments is still
/// recognised at the delivery it begins with, like Zeek's DPD which matches its signatures on
/// the reassembled stream rather than on single packets.
#[derive(Default)]
struct PendingStarts {
    /// The bytes from the oldest undecided start on (fewer than 2 × [`DETECT_PREFIX_LEN`]).
    bytes: Vec<u8>,
    /// Offsets into `bytes` where deliveries began, oldest first.
    starts: Vec<usize>,
}

impl PendingStarts {
    /// Adds a delivery; when an SSL hello begins at one of the kept starts (or at this
    /// delivery: no bytes before it), returns the verdict and the bytes before the delivery that
    /// belong to the stream.
    fn push(&mut self, data: &[u8]) -> Option<(Detected, Vec<u8>)> {
        let base = self.bytes.len();
        self.starts.push(base);
        // Only the start of a long delivery can matter: later bytes are never a verdict's.
        self.bytes
            .extend_from_slice(data.get(..DETECT_PREFIX_LEN).unwrap_or(data));
        let found = self.starts.iter().copied().find_map(|s| {
            let candidate = if s == base {
                data
            } else {
                self.bytes.get(s..).unwrap_or_default()
            };
            let verdict = detect::tcp(candidate);
            (verdict != Detected::No).then_some((s, verdict))
        });
        if let Some((s, verdict)) = found {
            let before = self.bytes.get(s..base).unwrap_or_default().to_vec();
            *self = PendingStarts::default();
            return Some((verdict, before));
        }
        // A start followed by enough bytes has had its verdict: not SSL. Forget it, and the
        // bytes before the oldest start still open.
        let len = self.bytes.len();
        self.starts.retain(|&s| len - s < DETECT_PREFIX_LEN);
        let first = self.starts.first().copied().unwrap_or(len);
        self.bytes.drain(..first);
        for s in &mut self.starts {
            *s -= first;
        }
        None
    }
}

/// What [`Pipeline::detect_tcp`] decided about a delivery.
enum TcpDetect {
    /// The analyzer is attached; it gets these earlier bytes (a hello's start that came in
    /// deliveries too short to recognise) before the delivery itself.
    Ssl(Vec<u8>),
    /// Not recognised yet: keep delivering.
    Waiting,
    /// Not SSL, or the analyzer is done with the connection.
    Ignored,
}

/// What the pipeline knows about one connection.
#[derive(Default)]
enum ConnState {
    /// Not recognised yet; `scanned` bytes of it were looked at; `pending` (per direction,
    /// originator first) exists once a delivery was too short for a verdict; `quic`: a UDP
    /// flow whose first datagram looks like QUIC (for [`super::NotAnalysed`]).
    Detecting {
        scanned: u64,
        pending: Option<Box<[PendingStarts; 2]>>,
        quic: bool,
    },
    /// Handed to the SSL analyzer.
    Ssl(Box<Session>),
    /// Not SSL, or the analyzer is finished with it (also: no connection in this slot).
    #[default]
    Ignored,
}

/// Bytes of the pipeline's state per tracked connection (its slot in the state table), for
/// memory accounting; a session (`Box<Session>`) comes on top for SSL connections.
pub const CONN_STATE_BYTES: usize = std::mem::size_of::<ConnState>();

/// The [`FlowHandler`] that ties capture, detection, analysis and output together.
pub struct Pipeline<'w> {
    opts: RunOptions,
    /// Per connection, indexed by [`ConnInfo::slot`]: the engine's table already found the
    /// connection, so no second map (and no second hash per packet) is needed here.
    conns: Vec<ConnState>,
    events: Option<EventOutput<'w>>,
    log: Option<LogOutput<'w>>,
    log_shared: LogShared,
    /// x509.log, when written (see [`super::run_with_logs`]).
    x509: Option<X509Output<'w>>,
    /// quic.log, when written (see [`super::run_with_logs`]).
    quic: Option<QuicOutput<'w>>,
    /// tunnel.log, when written (see [`super::run_with_logs`]).
    tunnel: Option<crate::log::TunnelOutput<'w>>,
    pub(super) summary: Summary,
    pub(super) first_ts: Option<f64>,
    pub(super) last_ts: f64,
    /// Connections whose analyzer asked, during the current packet, to be removed once the
    /// packet is over (see [`FlowHandler::packet_done`]); at most a few per packet.
    removal_pending: Vec<ConnInfo>,
}

impl<'w> Pipeline<'w> {
    pub(super) fn new(opts: &RunOptions, outputs: Outputs<'w>) -> Self {
        Pipeline {
            opts: opts.clone(),
            conns: Vec::new(),
            events: outputs.events.map(|(f, w)| EventOutput::new(f, w)),
            log: outputs
                .log
                .map(|(f, w)| LogOutput::new(f, opts.log_columns, w)),
            log_shared: LogShared::new(opts.max_ssl_history_length, opts.log_columns),
            x509: None,
            quic: None,
            tunnel: None,
            summary: Summary::default(),
            first_ts: None,
            last_ts: 0.0,
            removal_pending: Vec::new(),
        }
    }

    /// Also writes x509.log (single-threaded runs only: its deduplication is run-wide).
    pub(super) fn set_x509(&mut self, x509: X509Output<'w>) {
        self.x509 = Some(x509);
    }

    /// Also writes quic.log (single-threaded runs only, like x509.log).
    pub(super) fn set_quic(&mut self, quic: QuicOutput<'w>) {
        self.quic = Some(quic);
    }

    /// Also writes tunnel.log (single-threaded runs only: its rows are in packet order).
    pub(super) fn set_tunnel(&mut self, tunnel: crate::log::TunnelOutput<'w>) {
        self.tunnel = Some(tunnel);
    }

    /// Tells `events` and `log` where the uids are in what each output writes (a sharded run
    /// puts the run's uids there while merging).
    pub(super) fn set_uid_sinks(
        &mut self,
        events: crate::output::stream::UidSink<'w>,
        log: crate::output::stream::UidSink<'w>,
    ) {
        if let Some(e) = self.events.as_mut() {
            e.dest.set_uid_sink(events);
        }
        if let Some(l) = self.log.as_mut() {
            l.dest.set_uid_sink(log);
        }
    }

    /// What a session writes into for one call.
    fn outputs(&mut self) -> session::Outputs<'_, 'w> {
        session::Outputs {
            events: self.events.as_mut(),
            log: self.log.as_mut(),
            log_shared: &mut self.log_shared,
            x509: self.x509.as_mut(),
            quic: self.quic.as_mut(),
        }
    }

    /// Whether writing an output failed: nobody reads it any more (`| head`), so nothing
    /// else is analysed.
    pub(super) fn output_failed(&self) -> bool {
        self.events.as_ref().is_some_and(|e| e.dest.failed())
            || self.log.as_ref().is_some_and(|l| l.dest.failed())
            || self.x509.as_ref().is_some_and(|x| x.dest().failed())
            || self.quic.as_ref().is_some_and(|q| q.dest().failed())
            || self.tunnel.as_ref().is_some_and(|t| t.dest().failed())
    }

    fn state(&self, c: &ConnInfo) -> Option<&ConnState> {
        self.conns.get(c.slot as usize)
    }

    fn state_mut(&mut self, c: &ConnInfo) -> Option<&mut ConnState> {
        self.conns.get_mut(c.slot as usize)
    }

    /// Sets the connection's state (the table grows to the engine's highest slot).
    fn set_state(&mut self, c: &ConnInfo, state: ConnState) {
        let i = c.slot as usize;
        if i >= self.conns.len() {
            self.conns.resize_with(i + 1, ConnState::default);
        }
        if let Some(s) = self.conns.get_mut(i) {
            *s = state;
        }
    }

    /// Takes the connection's state out, leaving its slot empty for the next connection.
    fn take_state(&mut self, c: &ConnInfo) -> ConnState {
        self.state_mut(c).map(std::mem::take).unwrap_or_default()
    }

    pub(super) fn note_ts(&mut self, ts: f64) {
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
            // ssl.log's `#open` is the run's first timestamp.
            if let Some(log) = self.log.as_mut() {
                log.set_open_ts(ts);
            }
            for t in self.other_logs() {
                t.set_open_ts(ts);
            }
        }
        if ts > self.last_ts {
            self.last_ts = ts;
        }
    }

    /// Runs `f` on the connection's session with the writers, then flushes what it wrote.
    fn with_session(
        &mut self,
        c: &ConnInfo,
        f: impl FnOnce(&mut Session, &mut session::Outputs<'_, 'w>),
    ) -> Verdict {
        let Some(ConnState::Ssl(session)) = self.conns.get_mut(c.slot as usize) else {
            return Verdict::Stop;
        };
        let mut outputs = session::Outputs {
            events: self.events.as_mut(),
            log: self.log.as_mut(),
            log_shared: &mut self.log_shared,
            x509: self.x509.as_mut(),
            quic: self.quic.as_mut(),
        };
        f(session, &mut outputs);
        let done = session.is_done();
        if session.removal_pending() && !self.removal_pending.iter().any(|p| p.slot == c.slot) {
            self.removal_pending.push(c.clone());
        }
        self.flush();
        if done {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }

    /// Moves buffered output to the writers; each remembers its first I/O error.
    fn flush(&mut self) {
        if let Some(events) = self.events.as_mut() {
            events.flush();
        }
        if let Some(log) = self.log.as_mut() {
            log.flush();
        }
        for t in self.other_logs() {
            t.flush();
        }
    }

    /// The logs beside ssl.log that this run writes (x509.log, quic.log, tunnel.log), which
    /// open, rotate, flush and close alike.
    fn other_logs(&mut self) -> impl Iterator<Item = &mut TableLog<'w>> {
        let x509 = self.x509.as_mut().map(X509Output::table);
        let quic = self.quic.as_mut().map(QuicOutput::table);
        let tunnel = self.tunnel.as_mut().map(TunnelOutput::table);
        x509.into_iter().chain(quic).chain(tunnel)
    }

    /// Ends every log's current file at `now` and starts the next (`--rotate`, SIGHUP): the
    /// footers are written and everything is flushed to the writers, so that the caller can
    /// close and rename the files before the next row.
    pub(super) fn rotate(&mut self, now: f64) {
        if let Some(log) = self.log.as_mut() {
            log.rotate(now);
        }
        for t in self.other_logs() {
            t.rotate(now);
        }
        self.flush();
    }

    /// Moves buffered output to the writers and flushes the writers themselves (stdout's
    /// buffer, the log files'), so that a live run's rows reach their readers while it runs.
    pub(super) fn flush_writers(&mut self) {
        self.flush();
        if let Some(e) = self.events.as_mut() {
            e.dest.write(|w| w.flush());
        }
        if let Some(l) = self.log.as_mut() {
            l.dest.write(|w| w.flush());
        }
        for t in self.other_logs() {
            t.flush_writer();
        }
    }

    /// Hands the connection to a new session; `detected` is what its start was found to be.
    fn start_ssl(&mut self, c: &ConnInfo, detected: Detected) {
        let session = Session::new(self.opts.ssl, detected, self.opts.quic);
        self.summary.ssl_connections += 1;
        self.set_state(c, ConnState::Ssl(Box::new(session)));
    }

    /// Decides from the first bytes of a delivery whether the connection is SSL. Returns
    /// whether the analyzer is attached now.
    fn detect(&mut self, c: &ConnInfo, data: &[u8]) -> bool {
        let Some(ConnState::Detecting { scanned, quic, .. }) = self.state_mut(c) else {
            return matches!(self.state(c), Some(ConnState::Ssl(_)));
        };
        let verdict = match c.proto {
            Proto::Tcp => detect::tcp(data),
            Proto::Udp => match detect::udp(data) {
                Detected::No if detect::udp_quic(data, c.id.resp_p) => Detected::Quic,
                verdict => verdict,
            },
        };
        if verdict == Detected::No {
            if *scanned == 0 && c.proto == Proto::Udp {
                *quic = detect::looks_like_quic(data);
            }
            *scanned += data.len() as u64;
            if *scanned > MAX_STARTTLS_SCAN_BYTES {
                self.give_up(c);
            }
            return false;
        }
        self.start_ssl(c, verdict);
        true
    }

    /// [`Self::detect`] for TCP, where a hello may arrive in several deliveries.
    fn detect_tcp(&mut self, c: &ConnInfo, is_orig: bool, data: &[u8]) -> TcpDetect {
        let Some(ConnState::Detecting {
            scanned, pending, ..
        }) = self.state_mut(c)
        else {
            return match self.state(c) {
                Some(ConnState::Ssl(_)) => TcpDetect::Ssl(Vec::new()),
                _ => TcpDetect::Ignored,
            };
        };
        let found = match pending {
            // The common case: a delivery long enough for a verdict, nothing kept.
            None if data.len() >= DETECT_PREFIX_LEN => {
                let verdict = detect::tcp(data);
                (verdict != Detected::No).then(|| (verdict, Vec::new()))
            }
            _ => pending
                .get_or_insert_with(Box::default)
                .get_mut(usize::from(!is_orig))
                .and_then(|p| p.push(data)),
        };
        match found {
            Some((verdict, before)) => {
                self.start_ssl(c, verdict);
                TcpDetect::Ssl(before)
            }
            None => {
                *scanned += data.len() as u64;
                if *scanned > MAX_STARTTLS_SCAN_BYTES {
                    self.give_up(c);
                    return TcpDetect::Ignored;
                }
                TcpDetect::Waiting
            }
        }
    }

    /// No SSL was found in the connection: it is counted as seen but not analysed, and its
    /// data is no longer looked at.
    fn give_up(&mut self, c: &ConnInfo) {
        if let ConnState::Detecting { scanned, quic, .. } = self.take_state(c) {
            self.summary.not_analysed.count(c.proto, scanned, quic);
        }
    }

    /// Writes the rows of connections still open and the log footer.
    ///
    /// The engine has ended every connection by now (`Engine::finish`, called by both drivers
    /// before this), so every session has written its row; nothing is left to end here.
    pub(super) fn finish(&mut self, close_ts: f64) -> Result<(), RunError> {
        self.conns = Vec::new();
        if let Some(log) = self.log.as_mut() {
            // Like Zeek, no rows means no log at all (no header without a first write).
            log.footer(close_ts);
        }
        for t in self.other_logs() {
            t.footer(close_ts);
        }
        self.flush();
        self.summary.events = self.events.as_ref().map_or(0, |e| e.dest.written());
        self.summary.log_rows = self.log.as_ref().map_or(0, |l| l.dest.written());
        let error = self.events.as_mut().and_then(|e| e.dest.take_error());
        let error = error.or_else(|| self.log.as_mut().and_then(|l| l.dest.take_error()));
        match error.or_else(|| self.other_logs().find_map(|t| t.dest.take_error())) {
            Some(e) => Err(RunError::Output(e)),
            None => Ok(()),
        }
    }
}

impl FlowHandler for Pipeline<'_> {
    fn new_connection(&mut self, c: &ConnInfo) -> Verdict {
        self.note_ts(c.start_ts);
        if self.output_failed() {
            // Nobody reads the output any more (`| head`): analyse nothing else.
            self.set_state(c, ConnState::Ignored);
            return Verdict::Stop;
        }
        self.set_state(
            c,
            ConnState::Detecting {
                scanned: 0,
                pending: None,
                quic: false,
            },
        );
        Verdict::Continue
    }

    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.note_ts(ts);
        if self.output_failed() {
            return Verdict::Stop;
        }
        match self.detect_tcp(c, is_orig, data) {
            TcpDetect::Ssl(before) if before.is_empty() => {
                self.with_session(c, |s, w| s.deliver(c, is_orig, ts, data, w))
            }
            TcpDetect::Ssl(mut stream) => {
                // Once per connection, and only for a hello that came in tiny pieces.
                stream.extend_from_slice(data);
                self.with_session(c, |s, w| s.deliver(c, is_orig, ts, &stream, w))
            }
            TcpDetect::Waiting => Verdict::Continue,
            TcpDetect::Ignored => Verdict::Stop,
        }
    }

    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, len: u64) -> Verdict {
        self.note_ts(ts);
        self.with_session(c, |s, w| s.gap(c, is_orig, len, w))
    }

    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        self.note_ts(ts);
        if self.output_failed() {
            return Verdict::Stop;
        }
        if !self.detect(c, data) {
            // STUN and other packets before the first DTLS hello keep the flow under watch.
            return match self.state(c) {
                Some(ConnState::Detecting { .. }) => Verdict::Continue,
                _ => Verdict::Stop,
            };
        }
        self.with_session(c, |s, w| s.datagram(c, is_orig, ts, data, w))
    }

    fn connection_end(&mut self, c: &ConnInfo, ts: f64, _reason: EndReason) {
        self.note_ts(ts);
        match self.take_state(c) {
            ConnState::Ssl(mut session) => {
                session.end(c, ts, &mut self.outputs());
                self.flush();
            }
            ConnState::Detecting { scanned, quic, .. } => {
                self.summary.not_analysed.count(c.proto, scanned, quic);
            }
            ConnState::Ignored => {}
        }
    }

    /// Removals requested during this packet take effect now, as Zeek's `disable_analyzer`
    /// does once the packet's events are drained.
    fn packet_done(&mut self) {
        if self.removal_pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.removal_pending);
        for c in &pending {
            if let Some(ConnState::Ssl(session)) = self.conns.get_mut(c.slot as usize) {
                let mut outputs = session::Outputs {
                    events: self.events.as_mut(),
                    log: self.log.as_mut(),
                    log_shared: &mut self.log_shared,
                    x509: self.x509.as_mut(),
                    quic: self.quic.as_mut(),
                };
                session.end_of_packet(c, &mut outputs);
            }
        }
        // Keep the allocation for the next packet.
        self.removal_pending = pending;
        self.removal_pending.clear();
        self.flush();
    }

    /// Weirds of the capture layer (TCP reassembly, the connection table, IP) that belong to
    /// a connection become `conn_weird` lines, as Zeek raises `conn_weird` for its TCP and UDP
    /// analyzers' weirds; the source names the transport. Weirds without a connection (pcapng
    /// blocks, IP fragments, link layers) become `net_weird` lines.
    fn tunnel(&mut self, record: &crate::capture::tunnel::TunnelRecord<'_>) {
        self.note_ts(record.ts);
        if let Some(t) = self.tunnel.as_mut() {
            t.row(record);
            t.table().flush();
        }
    }

    fn weird(&mut self, c: Option<&ConnInfo>, ts: f64, name: &'static str, addl: &str) {
        self.note_ts(ts);
        let Some(events) = self.events.as_mut() else {
            return;
        };
        events.line(|l| match c {
            Some(c) => {
                let source = match c.proto {
                    Proto::Tcp => "TCP",
                    Proto::Udp => "UDP",
                };
                l.conn_weird(ts, &c.uid, &c.id, name, addl.as_bytes(), source);
            }
            None => l.net_weird(ts, name, addl.as_bytes(), ""),
        });
        self.flush();
    }
}

#[cfg(test)]
mod detect_prefix_tests {
    use super::*;

    /// The first bytes of a TLS 1.2 ClientHello record (enough for a verdict).
    const HELLO: [u8; 20] = [
        22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 1, 2,
    ];

    #[test]
    fn a_hello_in_one_byte_deliveries_is_found_at_its_start() {
        let mut p = PendingStarts::default();
        for (i, b) in HELLO.iter().enumerate() {
            match p.push(&[*b]) {
                // Recognised once the hello's own version (bytes 9..11) has arrived; the bytes
                // before the current delivery are handed over with it.
                Some((verdict, before)) => {
                    assert_eq!(i, 10);
                    assert_eq!(verdict, Detected::ClientHello);
                    assert_eq!(before, &HELLO[..10]);
                    return;
                }
                None => assert!(i < 10),
            }
        }
        panic!("never recognised");
    }

    #[test]
    fn short_non_tls_deliveries_before_a_split_hello_are_skipped() {
        // A STARTTLS-style "OK\r\n" then the hello in pieces of 3 bytes.
        let mut p = PendingStarts::default();
        assert_eq!(p.push(b"OK\r\n"), None);
        let mut found = None;
        for chunk in HELLO.chunks(3) {
            if let Some((_, before)) = p.push(chunk) {
                found = Some(before);
                break;
            }
        }
        assert_eq!(found.as_deref(), Some(&HELLO[..9]));
    }

    #[test]
    fn kept_bytes_stay_bounded() {
        let mut p = PendingStarts::default();
        for _ in 0..10_000 {
            assert_eq!(p.push(b"x"), None);
            assert!(p.bytes.len() < DETECT_PREFIX_LEN, "{}", p.bytes.len());
            assert!(p.starts.len() < DETECT_PREFIX_LEN);
        }
        // A long delivery decides every start at once.
        assert_eq!(p.push(&[b'y'; 100]), None);
        assert!(p.bytes.is_empty() && p.starts.is_empty());
    }
}
