//! Memory per idle connection: writes a synthetic capture of many concurrent, never-closed TLS
//! connections and prints the sizes of the per-connection state, so that the peak RSS measured
//! by `scripts/bench-memory.sh` can be explained.
//!
//! `cargo bench -p pac-tests --bench conn_memory -- --write FILE --connections N` writes FILE:
//! N TCP connections from distinct 127.x.y.z:port endpoints to 127.0.0.1:443, each a SYN,
//! SYN-ACK, ACK and OpenSSL's TLS 1.3 ClientHello (taken from `tests/captures/tls13.pcap`),
//! 100 µs apart, with no FIN or RST: all of them are open at the end of the capture. Without
//! `--write` it only prints the struct sizes.

use std::io::{BufWriter, Write};
use std::mem::size_of;
use std::path::PathBuf;

/// The client's first TCP payload in `tests/captures/tls13.pcap` (its ClientHello record).
fn client_hello() -> Vec<u8> {
    #[derive(Default)]
    struct First(Vec<u8>);
    impl tls_analyzer::capture::FlowHandler for First {
        fn tcp_data(
            &mut self,
            _c: &tls_analyzer::capture::ConnInfo,
            is_orig: bool,
            _ts: f64,
            data: &[u8],
        ) -> tls_analyzer::capture::Verdict {
            if is_orig && self.0.is_empty() {
                self.0 = data.to_vec();
            }
            tls_analyzer::capture::Verdict::Continue
        }
        fn udp_datagram(
            &mut self,
            _c: &tls_analyzer::capture::ConnInfo,
            _is_orig: bool,
            _ts: f64,
            _data: &[u8],
        ) -> tls_analyzer::capture::Verdict {
            tls_analyzer::capture::Verdict::Stop
        }
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/tls13.pcap");
    let mut first = First::default();
    let opts = tls_analyzer::capture::Options::default();
    if let Err(e) = tls_analyzer::capture::run(
        &[tls_analyzer::capture::Input::Path(path)],
        &opts,
        &mut first,
    ) {
        panic!("cannot read tls13.pcap: {e}");
    }
    assert!(!first.0.is_empty(), "no ClientHello in tls13.pcap");
    first.0
}

/// RFC 1071 checksum of an IPv4 header (tshark and Zeek do not need it, but a valid file is
/// friendlier to every other tool).
fn ip_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// One Ethernet/IPv4/TCP frame as a pcap record.
#[allow(clippy::too_many_arguments)]
fn packet(
    out: &mut impl Write,
    ts_us: u64,
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let mut f = Vec::with_capacity(54 + payload.len());
    f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let total = (20 + 20 + payload.len()) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    out.write_all(&((ts_us / 1_000_000) as u32).to_le_bytes())?;
    out.write_all(&((ts_us % 1_000_000) as u32).to_le_bytes())?;
    out.write_all(&(f.len() as u32).to_le_bytes())?;
    out.write_all(&(f.len() as u32).to_le_bytes())?;
    out.write_all(&f)
}

fn write_capture(path: &str, connections: u32) -> std::io::Result<()> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    let hello = client_hello();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    // pcap header: microseconds, version 2.4, snaplen 65535, Ethernet.
    out.write_all(&0xa1b2_c3d4_u32.to_le_bytes())?;
    out.write_all(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ])?;
    let server = [127, 0, 0, 1];
    let start_us: u64 = 1_700_000_000_000_000;
    for i in 0..connections {
        let client = [127, 1 + (i / 50_000) as u8, 0, 1];
        let cport = 10_000 + (i % 50_000) as u16;
        let t = start_us + u64::from(i) * 100;
        let (cseq, sseq) = (1000u32, 5000u32);
        packet(&mut out, t, client, cport, server, 443, cseq, 0, SYN, &[])?;
        packet(
            &mut out,
            t + 10,
            server,
            443,
            client,
            cport,
            sseq,
            cseq + 1,
            SYN | ACK,
            &[],
        )?;
        packet(
            &mut out,
            t + 20,
            client,
            cport,
            server,
            443,
            cseq + 1,
            sseq + 1,
            ACK,
            &[],
        )?;
        packet(
            &mut out,
            t + 30,
            client,
            cport,
            server,
            443,
            cseq + 1,
            sseq + 1,
            PSH_ACK,
            &hello,
        )?;
    }
    out.flush()
}

fn print_sizes() {
    println!("per-connection state (fixed parts; heap parts come on top):");
    println!(
        "  capture table entry               {:>5} B  (ConnInfo, times, flags, both TCP directions)",
        tls_analyzer::capture::engine::CONN_ENTRY_BYTES
    );
    println!(
        "  capture::ConnInfo                 {:>5} B  (in the entry; + uid String heap, 32 B)",
        size_of::<tls_analyzer::capture::ConnInfo>()
    );
    println!(
        "  capture::tcp::Reassembler         {:>5} B  (x2 in the entry; buffer boxed on demand)",
        size_of::<tls_analyzer::capture::tcp::Reassembler>()
    );
    println!(
        "  capture::timers::Timer            {:>5} B  (one per connection in the timer heap)",
        size_of::<tls_analyzer::capture::timers::Timer>()
    );
    println!(
        "  run pipeline state                {:>5} B  (per slot, in a Vec)",
        tls_analyzer::run::CONN_STATE_BYTES
    );
    println!(
        "  session::Session                  {:>5} B  (in a Box, per SSL connection)",
        size_of::<tls_analyzer::session::Session>()
    );
    println!(
        "  ssl::SslAnalyzer                  {:>5} B  (in the Session)",
        size_of::<tls_analyzer::ssl::SslAnalyzer>()
    );
    println!(
        "  ssl::tls::TlsStreams              {:>5} B  (in a Box once TCP data arrives)",
        size_of::<tls_analyzer::ssl::tls::TlsStreams>()
    );
    println!(
        "  log::SslLogState                  {:>5} B  (in the Session, from the first SSL event)",
        size_of::<tls_analyzer::log::SslLogState>()
    );
    println!(
        "  log::SslLogRow                    {:>5} B  (built only when the row is written)",
        size_of::<tls_analyzer::log::SslLogRow>()
    );
    println!(
        "  pac_runtime::StreamBuffer         {:>5} B  (x4 in TlsStreams)",
        size_of::<tls_grammar::pac_runtime::stream::StreamBuffer>()
    );
    println!("parser values (copied through Result on every read):");
    println!(
        "  pac_runtime::ParseError           {:>5} B",
        size_of::<tls_grammar::pac_runtime::ParseError>()
    );
    println!(
        "  List<'_, u16>                     {:>5} B",
        size_of::<tls_grammar::pac_runtime::List<'_, u16>>()
    );
    println!(
        "  Extension                         {:>5} B",
        size_of::<tls_grammar::Extension<'_>>()
    );
    println!(
        "  Result<Extension, ParseError>     {:>5} B",
        size_of::<Result<tls_grammar::Extension<'_>, tls_grammar::pac_runtime::ParseError>>()
    );
    println!(
        "  ClientHello                       {:>5} B",
        size_of::<tls_grammar::ClientHello<'_>>()
    );
    println!(
        "  HandshakeMessage                  {:>5} B",
        size_of::<tls_grammar::HandshakeMessage<'_>>()
    );
    println!(
        "  Handshake                         {:>5} B",
        size_of::<tls_grammar::Handshake<'_>>()
    );
}

fn main() {
    print_sizes();
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(path) = value("--write") {
        let n: u32 = value("--connections")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        if let Err(e) = write_capture(&path, n) {
            panic!("cannot write {path}: {e}");
        }
        println!("wrote {path}: {n} open TLS connections");
    }
}
