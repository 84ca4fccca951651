//! The command line's inputs, run as a user would (the built binary): no FILE (the bundled
//! sample), `-` (standard input), several files, gzip, and the three ways an input can fail —
//! missing, not a capture, truncated — each with a clear message on stderr, exit status 1, and
//! everything before the problem still printed.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "cli_util.rs"]
mod util;

use std::path::Path;

use util::*;

#[test]
fn no_file_analyses_the_bundled_sample() {
    // The README's first commands: ssl.log of the sample, and its events.
    let log = run(&[]).ok();
    let expected = run(&["log", &capture_arg("tls13.pcap")]).ok();
    assert!(
        log.stdout.starts_with("#separator \\x09\n"),
        "{}",
        log.stdout
    );
    let rows = tsv_rows(&log.stdout);
    assert_eq!(rows.len(), 1, "{}", log.stdout);
    assert!(
        rows[0].contains("\tTLSv13\tTLS_AES_256_GCM_SHA384\t"),
        "{}",
        rows[0]
    );
    // Without --seed the uids differ between runs; everything else is the same.
    let strip = |s: &str| tsv_rows(s).into_iter().map(without_uid).collect::<Vec<_>>();
    assert_eq!(strip(&log.stdout), strip(&expected.stdout));

    for args in [
        ["events", "--seed", "5"].as_slice(),
        ["log", "--format", "json", "--seed", "5"].as_slice(),
    ] {
        let sample = run(args).ok();
        let mut with_file = args.to_vec();
        let path = capture_arg("tls13.pcap");
        with_file.push(&path);
        let file = run(&with_file).ok();
        assert!(!sample.stdout.is_empty());
        assert_eq!(sample.stdout, file.stdout, "{args:?}");
    }
    let events = run(&["events"]).ok();
    assert!(events.stdout.contains(" ssl_client_hello "));
    assert!(events.stdout.contains(" ssl_established\n"));
}

#[test]
fn dash_reads_standard_input_plain_and_gzip() {
    let bytes = std::fs::read(capture("tls12-alpn.pcap")).unwrap();
    let from_file = run(&["events", "--seed", "1", &capture_arg("tls12-alpn.pcap")]).ok();
    let from_stdin = run_stdin(&["events", "--seed", "1", "-"], &bytes).ok();
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let from_gzip_stdin = run_stdin(&["events", "--seed", "1", "-"], &gzip(&bytes)).ok();
    assert_eq!(from_gzip_stdin.stdout, from_file.stdout);
    assert!(from_file
        .stdout
        .contains("ssl_extension_application_layer_protocol_negotiation"));
}

#[test]
fn several_files_make_one_log_in_argument_order() {
    let names = ["tls12.pcap", "dtls12.pcap", "tls13-resume-psk.pcap"];
    let args: Vec<String> = names.iter().map(|n| capture_arg(n)).collect();
    let mut cmd = vec!["log", "--seed", "9"];
    cmd.extend(args.iter().map(String::as_str));
    let all = run(&cmd).ok();
    // One header block and one footer for the whole run, like one Zeek ssl.log.
    assert_eq!(all.stdout.matches("#fields\t").count(), 1);
    assert_eq!(all.stdout.matches("#close\t").count(), 1);
    assert!(all.stdout.ends_with('\n'));
    let mut expected = Vec::new();
    for a in &args {
        let one = run(&["log", a]).ok();
        expected.extend(tsv_rows(&one.stdout).into_iter().map(without_uid));
    }
    let rows = tsv_rows(&all.stdout);
    assert_eq!(rows.len(), 4, "tls12 + dtls12 + two resumption connections");
    assert_eq!(
        rows.iter().map(|r| without_uid(r)).collect::<Vec<_>>(),
        expected
    );
    let mut uids: Vec<&str> = rows.iter().map(|r| r.split('\t').nth(1).unwrap()).collect();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(uids.len(), 4, "every connection has its own uid");

    // Events of several files: each file's events, in order.
    let mut cmd = vec!["events", "--seed", "9"];
    cmd.extend(args.iter().map(String::as_str));
    let events = run(&cmd).ok();
    let names_in_order: Vec<&str> = events
        .stdout
        .lines()
        .filter(|l| l.contains(" ssl_client_hello "))
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(
        names_in_order.len(),
        5,
        "1 + 2 (DTLS cookie exchange) + 2 hellos"
    );
}

#[test]
fn gzip_files_are_recognised_by_content_not_name() {
    let bytes = std::fs::read(capture("tls12-ocsp.pcap")).unwrap();
    let plain = run(&["log", "--seed", "2", &capture_arg("tls12-ocsp.pcap")]).ok();
    let gz = scratch_file("gzip", "tls12-ocsp.pcap.gz", &gzip(&bytes));
    let misnamed = scratch_file("gzip", "tls12-ocsp-gzipped.pcap", &gzip(&bytes));
    for path in [gz, misnamed] {
        let r = run(&["log", "--seed", "2", &path]).ok();
        assert_eq!(r.stdout, plain.stdout, "{path}");
    }
}

#[test]
fn missing_file_is_a_clear_error_after_earlier_output() {
    let r = run(&["log", "/nonexistent/dir/trace.pcap"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "", "no rows, so no log at all (like Zeek)");
    assert_eq!(
        r.stderr,
        "tls-analyzer: /nonexistent/dir/trace.pcap: cannot open capture: No such file or \
         directory (os error 2)\n"
    );

    // A good file before the missing one is analysed and printed; the one after is not read.
    let good = capture_arg("tls12.pcap");
    let later = capture_arg("tls13.pcap");
    let r = run(&["log", "--seed", "1", &good, "/nonexistent.pcap", &later]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("/nonexistent.pcap: cannot open capture"),
        "{}",
        r.stderr
    );
    let alone = run(&["log", "--seed", "1", &good]).ok();
    assert_eq!(r.stdout, alone.stdout);
}

#[test]
fn a_file_that_is_not_a_capture_is_named_with_its_first_bytes() {
    let toml = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let toml = toml.to_str().unwrap();
    let r = run(&["events", toml]);
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        format!(
            "tls-analyzer: {toml}: not a capture file (pcap, pcapng or gzip); starts with \
             5b 70 61 63\n"
        )
    );
    let empty = scratch_file("not_a_capture", "empty.pcap", b"");
    let r = run(&["events", &empty]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.ends_with("starts with nothing (empty input)\n"),
        "{}",
        r.stderr
    );
    // gzip of something that is not a capture either.
    let r = run_stdin(&["log", "-"], &gzip(b"GET / HTTP/1.1\r\n"));
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "tls-analyzer: -: not a capture file (pcap, pcapng or gzip); starts with 47 45 54 20\n"
    );
}

#[test]
fn truncated_capture_prints_everything_before_the_cut_then_fails() {
    // tls12-large-chain has 41 packets; cut inside the data of one in the middle of the
    // server's certificate flight, where records and handshake messages are incomplete.
    let name = "tls12-large-chain.pcap";
    let bytes = std::fs::read(capture(name)).unwrap();
    let records = pcap_records(&bytes);
    let k = records.len() / 2;
    let cut = records[k].start + 16 + (records[k].len() - 16) / 2;
    let truncated = &bytes[..cut];
    // The same capture ending cleanly after packet k-1: what must be printed.
    let prefix = &bytes[..records[k].start];

    for (args, format) in [
        (["events", "--seed", "4"], "events text"),
        (["log", "--seed", "4"], "ssl.log TSV"),
    ] {
        let expected = run_stdin(&[args[0], args[1], args[2], "-"], prefix).ok();
        assert!(
            !expected.stdout.is_empty(),
            "{format}: something before the cut"
        );
        let path = scratch_file("truncated", name, truncated);
        for (input, stdin) in [(path.as_str(), &[][..]), ("-", truncated)] {
            let r = run_stdin(&[args[0], args[1], args[2], input], stdin);
            assert_eq!(r.code, Some(1), "{format} {input}");
            assert_eq!(r.stdout, expected.stdout, "{format} {input}");
            assert_eq!(
                r.stderr,
                format!(
                    "tls-analyzer: {input}: truncated capture: input ends inside a record \
                     after {k} complete packets\n"
                )
            );
        }
    }
    // The cut really lost something: the full capture has more events.
    let full = run(&["events", "--seed", "4", &capture_arg(name)]).ok();
    let before = run_stdin(&["events", "--seed", "4", "-"], prefix).ok();
    assert!(full.stdout.lines().count() > before.stdout.lines().count());
    assert!(full.stdout.starts_with(&before.stdout));
}

#[test]
fn successful_runs_write_nothing_to_stderr() {
    // No progress bar, no notice when stderr is a pipe, whatever the input.
    let mut args = vec!["log".to_string()];
    args.extend(
        all_captures()
            .iter()
            .map(|p| p.to_str().unwrap().to_owned()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(&args).ok();
    assert!(tsv_rows(&r.stdout).len() >= 30);
}

#[test]
fn usage_errors_exit_with_status_2() {
    for args in [
        ["log", "--format", "xml"].as_slice(),
        ["events", "--threads", "0"].as_slice(),
        ["frobnicate"].as_slice(),
    ] {
        let r = run(args);
        assert_eq!(r.code, Some(2), "{args:?}");
        assert_eq!(r.stdout, "");
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    // The sample capture 3000 times over (the same connection again and again, 100 s apart):
    // megabytes of events, far more than a pipe holds.
    let bytes = std::fs::read(capture("tls13.pcap")).unwrap();
    let records = pcap_records(&bytes);
    let mut big = bytes[..24].to_vec();
    for i in 0..3000u32 {
        for r in &records {
            let mut rec = bytes[r.clone()].to_vec();
            let sec = u32::from_le_bytes(rec[..4].try_into().unwrap()) + i * 100;
            rec[..4].copy_from_slice(&sec.to_le_bytes());
            big.extend_from_slice(&rec);
        }
    }
    let path = scratch_file("closed_pipe", "big.pcap", &big);
    // `tls-analyzer events big.pcap | head -1`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tls-analyzer"))
        .args(["events", &path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains(" ssl_extension_server_name "), "{first}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "no 'Broken pipe' message"
    );
    assert_eq!(out.status.code(), Some(1));
}
