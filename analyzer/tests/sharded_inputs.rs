//! `--threads` on every kind of input: regular files (every thread reads them), standard input
//! and a gzip file (one reader routes the frames) give the output of one thread, byte for byte.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "cli_util.rs"]
mod cli_util;

use cli_util::*;

/// Every capture of `tests/captures`, in name order.
fn inputs() -> Vec<String> {
    let mut files: Vec<String> = all_captures()
        .iter()
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    files.sort();
    files
}

/// One capture with several connections: its path and its bytes.
fn one_capture() -> (String, Vec<u8>) {
    let path = capture_arg("tls12-large-chain.pcap");
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn sharded_files_give_the_output_of_one_thread() {
    let files = inputs();
    for cmd in [["events", "--format", "json"], ["log", "--format", "tsv"]] {
        let mut one: Vec<&str> = vec![cmd[0], cmd[1], cmd[2], "--seed", "5"];
        one.extend(files.iter().map(String::as_str));
        let a = run(&one).ok();
        for threads in ["2", "4"] {
            let mut many = one.clone();
            many.extend(["--threads", threads]);
            let b = run(&many).ok();
            assert!(a.stdout == b.stdout, "{cmd:?} --threads {threads}");
        }
    }
}

#[test]
fn sharded_stdin_and_gzip_give_the_output_of_one_thread() {
    let (path, bytes) = one_capture();
    let gz = scratch_file("sharded_inputs", "large-chain.pcap.gz", &gzip(&bytes));
    for cmd in [["events", "--format", "json"], ["log", "--format", "tsv"]] {
        let a = run(&[cmd[0], cmd[1], cmd[2], "--seed", "5", &path]).ok();
        let stdin = run_stdin(
            &[cmd[0], cmd[1], cmd[2], "--seed", "5", "--threads", "2", "-"],
            &bytes,
        )
        .ok();
        let gzipped = run(&[cmd[0], cmd[1], cmd[2], "--seed", "5", "--threads", "3", &gz]).ok();
        // The file name is not part of the output, so all three agree.
        assert!(a.stdout == stdin.stdout, "{cmd:?} stdin");
        assert!(a.stdout == gzipped.stdout, "{cmd:?} gzip");
    }
}
