//! The physical ceiling of the end-to-end benchmark: reads every record of the captures given
//! on the command line and does nothing else (`tls_analyzer::capture::count_packets`).
//!
//! `cargo bench -p pac-tests --bench read_loop -- FILE...` prints packets and bytes; the binary
//! it builds (`target/release/deps/read_loop-*`) is what `scripts/bench-e2e.sh` times.

use tls_analyzer::capture::{count_packets, Input};

fn main() {
    // Flags are cargo's (`--bench`); everything else is a capture.
    let inputs: Vec<Input> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| Input::from_arg(&a))
        .collect();
    if inputs.is_empty() {
        eprintln!("read_loop: no capture given");
        return;
    }
    match count_packets(&inputs) {
        Ok((packets, bytes)) => println!("{packets} packets, {bytes} bytes"),
        Err(e) => {
            eprintln!("read_loop: {e}");
            std::process::exit(1);
        }
    }
}
