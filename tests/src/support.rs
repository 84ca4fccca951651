//! Small helpers several test binaries and benchmarks share: the workspace's own spec compiled
//! as `pacc` compiles it, and the TCP payload of a capture's first connection read through the
//! analyzer's capture front end.

use std::path::Path;

use tls_analyzer::capture::{self, ConnInfo, FlowHandler, Input, Verdict};

/// The workspace root (the tests crate sits in it).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
}

/// `grammar/` through the compiler's front end, with paths shown relative to the workspace
/// root: the same inputs as `pacc docs grammar/` run from there.
pub fn workspace_spec() -> pac_codegen::Output {
    let root = workspace_root();
    let opts = pac_codegen::Options {
        root: root.to_path_buf(),
        ..pac_codegen::Options::default()
    };
    let files = pac_codegen::spec_files(&root.join("grammar")).expect("grammar/ is readable");
    let sources = pac_codegen::load(&files, &opts).unwrap_or_else(|f| panic!("{f}"));
    pac_codegen::front(sources, &opts).unwrap_or_else(|f| panic!("{f}"))
}

/// Collects each direction's TCP payload of the first connection (reassembled).
#[derive(Default)]
struct StreamCollector {
    orig: Vec<u8>,
    resp: Vec<u8>,
}

impl FlowHandler for StreamCollector {
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, data: &[u8]) -> Verdict {
        if c.handle == 0 {
            if is_orig {
                self.orig.extend_from_slice(data);
            } else {
                self.resp.extend_from_slice(data);
            }
        }
        Verdict::Continue
    }
    fn udp_datagram(&mut self, _c: &ConnInfo, _is_orig: bool, _ts: f64, _d: &[u8]) -> Verdict {
        Verdict::Stop
    }
}

/// (client stream, server stream) of the first connection of the capture at `path`; panics
/// when the capture cannot be read.
pub fn capture_streams(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut c = StreamCollector::default();
    let opts = capture::Options {
        seed: Some(1),
        ..Default::default()
    };
    if let Err(e) = capture::run(&[Input::Path(path.to_path_buf())], &opts, &mut c) {
        panic!("cannot read {}: {e}", path.display());
    }
    (c.orig, c.resp)
}
