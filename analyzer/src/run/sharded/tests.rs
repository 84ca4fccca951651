//! Tests of sharded runs: the same output as one thread, and the merge's memory bound.

use super::*;
use crate::run::{run, EventFormat, LogFormat};
use std::path::PathBuf;

/// Every capture of `tests/captures`, in name order.
fn corpus() -> Vec<Input> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/captures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "pcap"));
    files.sort();
    files.into_iter().map(Input::Path).collect()
}

fn output(inputs: &[Input], threads: usize, across: bool, events: bool) -> (String, Summary) {
    output_seeded(inputs, threads, across, events, Some(42))
}

fn output_seeded(
    inputs: &[Input],
    threads: usize,
    across: bool,
    events: bool,
    seed: Option<u64>,
) -> (String, Summary) {
    let mut opts = RunOptions {
        threads,
        ..RunOptions::default()
    };
    opts.capture.seed = seed;
    opts.capture.continue_across_inputs = across;
    let mut out: Vec<u8> = Vec::new();
    let outputs = if events {
        Outputs {
            events: Some((EventFormat::Json, &mut out as &mut dyn Write)),
            log: None,
        }
    } else {
        Outputs {
            events: None,
            log: Some((LogFormat::Tsv, &mut out as &mut dyn Write)),
        }
    };
    let summary = match run(inputs, &opts, outputs) {
        Ok(s) => s,
        Err(e) => panic!("run failed: {e}"),
    };
    (String::from_utf8_lossy(&out).into_owned(), summary)
}

fn sorted(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort_unstable();
    v
}

#[test]
fn sharded_output_equals_single_threaded() {
    let inputs = corpus();
    assert!(inputs.len() >= 20, "captures not found");
    for events in [false, true] {
        let (one, s1) = output(&inputs, 1, false, events);
        assert!(one.lines().count() > 30);
        for threads in [2, 3, 8] {
            let (many, sn) = output(&inputs, threads, false, events);
            // Each input ends all its connections, so no timer decides an order: identical.
            assert_eq!(one, many, "threads={threads} events={events}");
            assert_eq!(s1.capture, sn.capture, "threads={threads}");
            assert_eq!(
                (s1.events, s1.log_rows, s1.ssl_connections),
                (sn.events, sn.log_rows, sn.ssl_connections)
            );
        }
    }
}

#[test]
fn sharded_output_equals_single_threaded_across_inputs() {
    // One continuous capture: connections now end by timers, which fire at ticks in the
    // workers, so only the order of lines may differ.
    let inputs = corpus();
    for events in [false, true] {
        let (one, _) = output(&inputs, 1, true, events);
        for threads in [2, 5] {
            let (many, _) = output(&inputs, threads, true, events);
            assert_eq!(
                sorted(&one),
                sorted(&many),
                "threads={threads} events={events}"
            );
        }
    }
}

#[test]
fn sharded_without_seed_keeps_distinct_random_uids() {
    // No renumbering without --seed: rows are the same apart from their (random) uids.
    let inputs = corpus();
    let strip = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let mut cols: Vec<&str> = l.split('\t').collect();
                if cols.len() > 1 {
                    cols.remove(1);
                }
                cols.join("\t")
            })
            .collect();
        v.sort_unstable();
        v
    };
    let (one, _) = output_seeded(&inputs, 1, false, false, None);
    let (two, _) = output_seeded(&inputs, 2, false, false, None);
    assert_eq!(strip(&one), strip(&two));
    let mut uids: Vec<&str> = two
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    let rows = uids.len();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(uids.len(), rows, "uids repeat across workers");
    // Events go out piece by piece, unchanged: same lines apart from the uids.
    let (one, _) = output_seeded(&inputs, 1, false, true, None);
    let (two, _) = output_seeded(&inputs, 3, false, true, None);
    let no_uid = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .lines()
            .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
                Ok(serde_json::Value::Object(mut o)) => {
                    o.remove("uid");
                    serde_json::Value::Object(o).to_string()
                }
                _ => l.to_owned(),
            })
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(no_uid(&one), no_uid(&two));
}

/// A pcap (Ethernet, microseconds) of `conns` TLS connections whose packets alternate: each a
/// hello exchange, then `records` one-byte handshake records from the client, `per_packet` to a
/// segment (a 4-byte hello_request cut into single bytes, as `make-adversarial.py`'s
/// `tiny-records`): about 280 bytes of JSON events per record.
fn tiny_records_capture(conns: u16, records: usize, per_packet: usize) -> Vec<u8> {
    tiny_records_capture_sni(conns, records, per_packet, None)
}

/// [`tiny_records_capture`] whose client hellos carry `sni` as server name, if any.
fn tiny_records_capture_sni(
    conns: u16,
    records: usize,
    per_packet: usize,
    sni: Option<&str>,
) -> Vec<u8> {
    fn record(ct: u8, body: &[u8]) -> Vec<u8> {
        let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
        let mut r = vec![ct, 3, 3];
        r.extend_from_slice(&len.to_be_bytes());
        r.extend_from_slice(body);
        r
    }
    fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
        let len = u32::try_from(body.len()).unwrap_or(0).to_be_bytes();
        let mut h = vec![t, len[1], len[2], len[3]];
        h.extend_from_slice(body);
        h
    }
    fn segment(
        from_client: bool,
        port: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) -> Vec<u8> {
        let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let (src, dst, sport, dport) = if from_client {
            (c, s, port, 443)
        } else {
            (s, c, 443, port)
        };
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0];
        let total = u16::try_from(40 + data.len()).unwrap_or(0);
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&ack.to_be_bytes());
        f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(data);
        f
    }
    const SYN: u8 = 0x02;
    const FIN: u8 = 0x01;
    const PSH_ACK: u8 = 0x18;
    const ACK: u8 = 0x10;
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0x42; 32]);
    hello.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0]);
    let mut extensions = Vec::new();
    if let Some(name) = sni {
        let n = u16::try_from(name.len()).unwrap_or(0);
        // server_name: list length, host_name (0), name length, name.
        extensions.extend_from_slice(&[0, 0]);
        extensions.extend_from_slice(&(n + 5).to_be_bytes());
        extensions.extend_from_slice(&(n + 3).to_be_bytes());
        extensions.push(0);
        extensions.extend_from_slice(&n.to_be_bytes());
        extensions.extend_from_slice(name.as_bytes());
    }
    let ext_len = u16::try_from(extensions.len()).unwrap_or(0);
    hello.extend_from_slice(&ext_len.to_be_bytes());
    hello.extend_from_slice(&extensions);
    let client_hello = record(22, &handshake(1, &hello));
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[0x11; 32]);
    sh.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
    let server_hello = record(22, &handshake(2, &sh));
    let request = handshake(0, &[]);
    let mut per_conn: Vec<Vec<Vec<u8>>> = Vec::new();
    for i in 0..conns {
        let port = 40001 + i * 7;
        let (mut cseq, mut sseq) = (1000u32, 500_000u32);
        let mut frames = vec![
            segment(true, port, cseq, 0, SYN, &[]),
            segment(false, port, sseq, cseq + 1, SYN | ACK, &[]),
        ];
        cseq += 1;
        sseq += 1;
        frames.push(segment(true, port, cseq, sseq, ACK, &[]));
        frames.push(segment(true, port, cseq, sseq, PSH_ACK, &client_hello));
        cseq += client_hello.len() as u32;
        frames.push(segment(false, port, sseq, cseq, PSH_ACK, &server_hello));
        sseq += server_hello.len() as u32;
        let mut sent = 0;
        while sent < records {
            let mut data = Vec::new();
            for r in sent..(sent + per_packet).min(records) {
                data.extend_from_slice(&record(22, &request[r % 4..r % 4 + 1]));
            }
            sent += per_packet;
            frames.push(segment(true, port, cseq, sseq, PSH_ACK, &data));
            cseq += data.len() as u32;
        }
        frames.push(segment(true, port, cseq, sseq, FIN | ACK, &[]));
        frames.push(segment(false, port, sseq, cseq + 1, FIN | ACK, &[]));
        frames.push(segment(true, port, cseq + 1, sseq + 1, ACK, &[]));
        per_conn.push(frames);
    }
    let mut pcap: Vec<u8> = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        pcap.extend_from_slice(&v.to_le_bytes());
    }
    let longest = per_conn.iter().map(Vec::len).max().unwrap_or(0);
    let mut usec = 0u32;
    for k in 0..longest {
        for frames in &per_conn {
            let Some(f) = frames.get(k) else { continue };
            usec += 1;
            let len = f.len() as u32;
            for v in [1_700_000_000u32, usec, len, len] {
                pcap.extend_from_slice(&v.to_le_bytes());
            }
            pcap.extend_from_slice(f);
        }
    }
    pcap
}

/// Events (JSON, `--seed 42`) of `inputs` with `threads` engines and `tuning`; also what the
/// merge measured.
fn events_tuned(inputs: &[Input], threads: usize, tuning: Tuning) -> (Vec<u8>, MergeStats) {
    let mut opts = RunOptions {
        threads,
        ..RunOptions::default()
    };
    opts.capture.seed = Some(42);
    let mut out: Vec<u8> = Vec::new();
    let outputs = Outputs {
        events: Some((EventFormat::Json, &mut out as &mut dyn Write)),
        log: None,
    };
    let (result, stats) = run_sharded_with(inputs, &opts, outputs, tuning);
    if let Err(e) = result {
        panic!("run failed: {e}");
    }
    (out, stats)
}

#[test]
fn sharded_merge_holds_at_most_its_bound() {
    // 8 connections of 12,000 tiny records each: ~27 MB of events, over 3 times the bound.
    let capture = tiny_records_capture(8, 12_000, 20);
    let inputs = vec![Input::Memory("tiny-records".into(), capture)];
    let (one, _) = output(&inputs, 1, false, true);
    assert!(
        one.len() > 3 * MERGE_BUFFER_BYTES,
        "only {} bytes",
        one.len()
    );
    for threads in [2, 3] {
        let (many, stats) = events_tuned(&inputs, threads, Tuning::default());
        assert!(one.as_bytes() == many.as_slice(), "threads={threads}");
        assert!(
            stats.peak_held <= MERGE_BUFFER_BYTES,
            "threads={threads}: the merge held {} bytes",
            stats.peak_held
        );
        assert!(stats.peak_held > 0);
    }
}

#[test]
fn sharded_small_merge_buffer_waits_and_keeps_the_output() {
    // A bound far below the output makes engines wait for each other all the time: the output
    // must not change, nothing may deadlock, and the bound must hold.
    let tuning = Tuning {
        merge_buffer_bytes: 256 << 10,
        ..Tuning::default()
    };
    let capture = tiny_records_capture(6, 3_000, 4);
    let generated = vec![Input::Memory("tiny-records".into(), capture)];
    for inputs in [generated, corpus()] {
        let (one, _) = output(&inputs, 1, false, true);
        // The routed reader too, the fallback for inputs that cannot be read twice.
        let routed = Tuning {
            replicate: false,
            ..tuning
        };
        let (many, stats) = events_tuned(&inputs, 3, routed);
        assert!(one.as_bytes() == many.as_slice(), "routed");
        assert!(stats.peak_held <= tuning.merge_buffer_bytes, "routed");
        for threads in [2, 3, 8] {
            let (many, stats) = events_tuned(&inputs, threads, tuning);
            assert!(one.as_bytes() == many.as_slice(), "threads={threads}");
            assert!(
                stats.peak_held <= tuning.merge_buffer_bytes,
                "threads={threads}: the merge held {} bytes",
                stats.peak_held
            );
        }
    }
    let capture = tiny_records_capture(6, 3_000, 4);
    let (_, stats) = events_tuned(&[Input::Memory("t".into(), capture)], 3, tuning);
    assert!(stats.waits > 0, "no engine ever waited");
}

#[test]
fn sharded_inline_engine_share_does_not_change_the_output() {
    // Which engine runs which flow only decides where the work is done.
    let inputs = corpus();
    let (one, _) = output(&inputs, 1, false, true);
    for main_share_percent in [0, 100, 400] {
        let tuning = Tuning {
            main_share_percent,
            replicate: false,
            ..Tuning::default()
        };
        let (many, _) = events_tuned(&inputs, 3, tuning);
        assert!(
            one.as_bytes() == many.as_slice(),
            "share={main_share_percent}"
        );
    }
}

/// Events (JSON) or ssl.log (TSV) of `inputs`, `--seed 42`, with `threads` engines and `tuning`.
fn output_tuned(
    inputs: &[Input],
    threads: usize,
    across: bool,
    events: bool,
    tuning: Tuning,
) -> (String, Summary) {
    let mut opts = RunOptions {
        threads,
        ..RunOptions::default()
    };
    opts.capture.seed = Some(42);
    opts.capture.continue_across_inputs = across;
    let mut out: Vec<u8> = Vec::new();
    let outputs = if events {
        Outputs {
            events: Some((EventFormat::Json, &mut out as &mut dyn Write)),
            log: None,
        }
    } else {
        Outputs {
            events: None,
            log: Some((LogFormat::Tsv, &mut out as &mut dyn Write)),
        }
    };
    let summary = match run_sharded_with(inputs, &opts, outputs, tuning).0 {
        Ok(s) => s,
        Err(e) => panic!("run failed: {e}"),
    };
    (String::from_utf8_lossy(&out).into_owned(), summary)
}

#[test]
fn sharded_replicated_equals_single_threaded_across_inputs() {
    // Every engine reads every packet, so its timers fire at the packet where one engine's
    // would, and ends are keyed by their timer's time: the same bytes even where connections
    // end by timers, and the same counters.
    let inputs = corpus();
    assert!(can_read_twice(&inputs));
    let tuning = Tuning {
        replicate: true,
        ..Tuning::default()
    };
    for events in [false, true] {
        let (one, s1) = output(&inputs, 1, true, events);
        for threads in [2, 5] {
            let (many, sn) = output_tuned(&inputs, threads, true, events, tuning);
            assert!(one == many, "threads={threads} events={events}");
            assert_eq!(s1.capture, sn.capture, "threads={threads}");
            assert_eq!(
                (s1.events, s1.log_rows, s1.ssl_connections),
                (sn.events, sn.log_rows, sn.ssl_connections)
            );
        }
    }
}

#[test]
fn sharded_routed_reader_equals_single_threaded() {
    // The fallback for inputs that cannot be read twice: one reader routes the frames.
    let inputs = corpus();
    let tuning = Tuning {
        replicate: false,
        ..Tuning::default()
    };
    for events in [false, true] {
        let (one, s1) = output(&inputs, 1, false, events);
        for threads in [2, 3] {
            let (many, sn) = output_tuned(&inputs, threads, false, events, tuning);
            assert!(one == many, "threads={threads} events={events}");
            assert_eq!(s1.capture, sn.capture, "threads={threads}");
        }
    }
}

#[test]
fn sharded_reads_only_plain_files_and_memory_twice() {
    use std::io::Write as _;
    let capture = tiny_records_capture(3, 50, 4);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if let Err(e) = gz.write_all(&capture) {
        panic!("gzip: {e}");
    }
    let gzipped = match gz.finish() {
        Ok(b) => b,
        Err(e) => panic!("gzip: {e}"),
    };
    let dir = std::env::temp_dir().join(format!("sharded-reread-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let gz_path = dir.join("c.pcap.gz");
    let plain_path = dir.join("c.pcap");
    if let Err(e) = std::fs::write(&gz_path, &gzipped) {
        panic!("write: {e}");
    }
    if let Err(e) = std::fs::write(&plain_path, &capture) {
        panic!("write: {e}");
    }
    let plain = Input::Memory("plain".into(), capture.clone());
    let gz_mem = Input::Memory("gz".into(), gzipped);
    assert!(can_read_twice(&[
        plain.clone(),
        Input::Path(plain_path.clone())
    ]));
    assert!(!can_read_twice(&[plain.clone(), Input::Stdin]));
    assert!(!can_read_twice(std::slice::from_ref(&gz_mem)));
    assert!(!can_read_twice(&[Input::Path(gz_path.clone())]));
    assert!(!can_read_twice(&[Input::Path(dir.clone())]));
    assert!(!can_read_twice(&[Input::Path(dir.join("missing"))]));
    // Either way, the bytes of one thread.
    let (one, s1) = output(&[plain], 1, false, true);
    for inputs in [
        vec![gz_mem],
        vec![Input::Path(gz_path)],
        vec![Input::Path(plain_path)],
    ] {
        let (two, s2) = output(&inputs, 2, false, true);
        assert!(one == two);
        assert_eq!(s1.capture, s2.capture);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Events (JSON, `--seed 42`) and the error of a run that is expected to fail.
fn failing_output(inputs: &[Input], threads: usize, tuning: Tuning) -> (Vec<u8>, String) {
    let mut opts = RunOptions {
        threads,
        ..RunOptions::default()
    };
    opts.capture.seed = Some(42);
    let mut out: Vec<u8> = Vec::new();
    let outputs = Outputs {
        events: Some((EventFormat::Json, &mut out as &mut dyn Write)),
        log: None,
    };
    let result = if threads == 1 {
        run(inputs, &opts, outputs)
    } else {
        run_sharded_with(inputs, &opts, outputs, tuning).0
    };
    match result {
        Ok(_) => panic!("the run did not fail"),
        Err(e) => (out, e.to_string()),
    }
}

#[test]
fn sharded_truncated_input_stops_like_one_thread() {
    // A capture cut in the middle of a record: everything before it is analysed, its
    // connections end, later inputs are not read, and the error is the capture's.
    let capture = tiny_records_capture(4, 200, 3);
    let cut = capture
        .get(..capture.len() * 2 / 3)
        .unwrap_or_default()
        .to_vec();
    let inputs = vec![
        Input::Memory("first".into(), capture.clone()),
        Input::Memory("cut".into(), cut),
        Input::Memory("never read".into(), capture),
    ];
    let (one, err1) = failing_output(&inputs, 1, Tuning::default());
    assert!(!one.is_empty());
    for replicate in [true, false] {
        let tuning = Tuning {
            replicate,
            ..Tuning::default()
        };
        for threads in [2, 3] {
            let (many, err) = failing_output(&inputs, threads, tuning);
            assert!(one == many, "threads={threads} replicate={replicate}");
            assert_eq!(err1, err);
        }
    }
}

/// ssl.log (TSV) and JSON events of `inputs`, seeded 1, with `threads` engines and at most
/// `max_connections` connections.
fn log_and_events(inputs: &[Input], threads: usize, max_connections: usize) -> (String, String) {
    let mut opts = RunOptions {
        threads,
        ..RunOptions::default()
    };
    opts.capture.seed = Some(1);
    opts.capture.max_connections = max_connections;
    let (mut log, mut events): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
    let outputs = Outputs {
        events: Some((EventFormat::Json, &mut events as &mut dyn Write)),
        log: Some((LogFormat::Tsv, &mut log as &mut dyn Write)),
    };
    if let Err(e) = run(inputs, &opts, outputs) {
        panic!("run failed: {e}");
    }
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (text(log), text(events))
}

#[test]
fn sharded_merge_leaves_uid_shaped_payload_alone() {
    // A server name that is exactly an engine-local uid: a merge that looked for local uids in
    // the text would take it for one and rewrite it. Whichever engine gets the connection,
    // one of the two captures names that engine's first local uid.
    for engine in 0..2 {
        let local =
            crate::capture::uid::UidGenerator::from_seed(engine_seed(1, engine)).next_uid('C');
        let pcap = tiny_records_capture_sni(1, 2, 1, Some(&local));
        let inputs = [Input::Memory("sni".into(), pcap)];
        let (log1, events1) = log_and_events(&inputs, 1, 100_000);
        assert!(log1.contains(&format!("\t{local}\t")), "{log1}");
        assert!(events1.contains(&format!("\"{local}\"")), "{events1}");
        let (log2, events2) = log_and_events(&inputs, 2, 100_000);
        assert_eq!(log1, log2, "engine {engine}");
        assert_eq!(events1, events2, "engine {engine}");
    }
}

#[test]
fn sharded_evicted_uid_in_weird_text_is_the_run_uid() {
    // connection_table_full names the evicted connection in its text: the merge puts the
    // run's uid there as in the line's own uid field.
    let inputs = [Input::Memory("tiny".into(), tiny_records_capture(6, 2, 1))];
    for threads in [1, 2, 3] {
        let (_, events) = log_and_events(&inputs, threads, threads);
        let mut weirds = 0;
        for line in events
            .lines()
            .filter(|l| l.contains("connection_table_full"))
        {
            let field = |key: &str| -> String {
                let at = line.find(key).map_or(0, |p| p + key.len());
                line.get(at..)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or_default()
                    .to_owned()
            };
            let uid = field("\"uid\":\"");
            assert!(uid.starts_with('C') && uid.len() > 10, "{line}");
            assert_eq!(field("\"addl\":\""), format!("{uid} ended to make room"));
            weirds += 1;
        }
        assert!(weirds >= 3, "threads={threads}: {events}");
    }
}

#[test]
fn log_writers_note_where_uids_go() {
    // The ssl.log writers note their uids like the event writers (`output::stream` tests
    // those); tested here, as `output` may not import `log` (tests/architecture.rs).
    use crate::log::{JsonLogWriter, LogShared, TsvLogWriter};
    const UID: &str = "CAbcdefgh1234567";
    let conn = || crate::capture::ConnId {
        orig_h: std::net::Ipv4Addr::new(10, 0, 0, 1).into(),
        orig_p: 40001,
        resp_h: std::net::Ipv4Addr::new(10, 0, 0, 2).into(),
        resp_p: 443,
    };
    let assert_marks = |buf: &[u8], marks: &[crate::output::UidMark], expected: usize| {
        assert_eq!(marks.len(), expected, "{}", String::from_utf8_lossy(buf));
        for &(at, len) in marks {
            assert_eq!(buf.get(at..at + len), Some(UID.as_bytes()));
        }
    };
    let row = LogShared::default().builder(1.0).row(UID, conn());
    let mut tsv = TsvLogWriter::new();
    tsv.header(1.0);
    tsv.row(&row);
    tsv.row(&row);
    let marks = tsv.uid_marks().to_vec();
    let mut out: Vec<u8> = Vec::new();
    assert!(tsv.flush_to(&mut out).is_ok());
    assert_marks(&out, &marks, 2);
    assert!(tsv.uid_marks().is_empty());
    let mut json = JsonLogWriter::new();
    json.row(&row);
    let marks = json.uid_marks().to_vec();
    let mut out: Vec<u8> = Vec::new();
    assert!(json.flush_to(&mut out).is_ok());
    assert_marks(&out, &marks, 1);
}
