//! Build-time probe of the optional tools and data the tests use, shared by the build scripts of
//! `pac-tests` (`tests/build.rs`) and `tls-analyzer` (`analyzer/build.rs`, through `#[path]`).
//!
//! Rust's test harness has no run-time "skipped": a test that returns early because tshark is
//! missing is reported `ok`. So the build script looks for each optional thing and, when it is
//! missing, sets a `cfg` (`pac_no_tshark`, ...) under which the tests that need it carry
//! `#[ignore = "why"]`: the summary then says `ignored, tshark is not installed ...` instead of
//! `ok`. Every such `cfg` is declared with `cargo:rustc-check-cfg`.
//!
//! `PAC_REQUIRE_TOOLS` (comma-separated names, or `all`) lists what must not be skipped: a
//! required thing never gets its `cfg`, so its tests run and fail at run time when it is missing
//! (see `require` in the tests). `.ci/run` sets it, so CI cannot skip silently. The older
//! `PAC_REQUIRE_TSHARK=1` still means `tshark` is required.
//!
//! The probe reruns when those variables change, when a found tool's file changes, and, for a
//! missing tool, when a directory it would be installed into changes (the `PATH` directories,
//! Python's site-packages), so installing it un-ignores its tests on the next build.

#![allow(dead_code)] // Each build script uses only the probes it needs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The names `PAC_REQUIRE_TOOLS` understands, with the `cfg` each one sets when missing.
pub const KNOWN: &[(&str, &str)] = &[
    ("tshark", "pac_no_tshark"),
    ("python3", "pac_no_python3"),
    ("parsezeeklogs", "pac_no_parsezeeklogs"),
    ("conformance", "pac_no_conformance"),
    // Live capture on `lo` (analyzer/tests/live_*.rs): root, openssl and tcpdump.
    ("live", "pac_no_live"),
];

/// What the build script decided.
pub struct Probe {
    required: Vec<String>,
}

impl Probe {
    /// Reads the switches and declares every `cfg` of [`KNOWN`].
    pub fn new() -> Probe {
        for var in [
            "PAC_REQUIRE_TOOLS",
            "PAC_REQUIRE_TSHARK",
            "TSHARK",
            "TLS_ANALYZER_CONFORMANCE_DIR",
            "ZEEK_CONFORMANCE_DIR",
        ] {
            println!("cargo:rerun-if-env-changed={var}");
        }
        for (_, cfg) in KNOWN {
            println!("cargo:rustc-check-cfg=cfg({cfg})");
        }
        let mut required: Vec<String> = std::env::var("PAC_REQUIRE_TOOLS")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if std::env::var("PAC_REQUIRE_TSHARK").is_ok_and(|v| v == "1") {
            required.push("tshark".into());
        }
        for r in &required {
            if r != "all" && !KNOWN.iter().any(|(n, _)| n == r) {
                println!(
                    "cargo:warning=PAC_REQUIRE_TOOLS names `{r}`, which is none of {:?}",
                    KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>()
                );
            }
        }
        Probe { required }
    }

    fn required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name || r == "all")
    }

    /// Records whether `name` (one of [`KNOWN`]) is present: when it is missing and not
    /// required, sets its `cfg`; when it is missing and required, warns that its tests will fail.
    pub fn record(&self, name: &str, present: bool) {
        let Some((_, cfg)) = KNOWN.iter().find(|(n, _)| *n == name) else {
            panic!("build_probe: unknown name {name}");
        };
        if present {
            return;
        }
        if self.required(name) {
            println!(
                "cargo:warning={name} is missing but PAC_REQUIRE_TOOLS requires it: \
                 the tests that need it will fail"
            );
        } else {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

/// The directories of `PATH` (absolute, existing).
fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.is_absolute() && d.is_dir())
        .collect()
}

/// Whether the executable `program` (a name looked up on `PATH`, or a path) exists.
pub fn executable(program: &str) -> bool {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        path_dirs().iter().map(|d| d.join(program)).collect()
    };
    match candidates.into_iter().find(|p| p.is_file()) {
        Some(found) => {
            println!("cargo:rerun-if-changed={}", found.display());
            true
        }
        None => {
            for d in path_dirs() {
                println!("cargo:rerun-if-changed={}", d.display());
            }
            false
        }
    }
}

/// Whether `python3` can import `module`.
pub fn python_module(module: &str) -> bool {
    let script = format!(
        "import site, sys\n\
         try:\n    import {module} as m\n    print('FOUND', m.__file__)\n\
         except ImportError:\n    pass\n\
         for d in site.getsitepackages() + [site.getusersitepackages()]:\n    print('SITE', d)\n"
    );
    let Ok(out) = Command::new("python3").args(["-c", &script]).output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = false;
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("FOUND ") {
            println!("cargo:rerun-if-changed={f}");
            found = true;
        }
    }
    if !found {
        for d in text.lines().filter_map(|l| l.strip_prefix("SITE ")) {
            if Path::new(d).is_dir() {
                println!("cargo:rerun-if-changed={d}");
            }
        }
    }
    found
}

/// Whether the conformance corpus is present: `$TLS_ANALYZER_CONFORMANCE_DIR`, else
/// `$ZEEK_CONFORMANCE_DIR`, else `<workspace>/../shared/conformance`, with its
/// `zeek/manifest.json`. `workspace` is the workspace root.
pub fn conformance(workspace: &Path) -> bool {
    let dir = std::env::var_os("TLS_ANALYZER_CONFORMANCE_DIR")
        .or_else(|| std::env::var_os("ZEEK_CONFORMANCE_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("../shared/conformance"));
    let manifest = dir.join("zeek/manifest.json");
    if manifest.is_file() {
        println!("cargo:rerun-if-changed={}", manifest.display());
        true
    } else {
        // Not watched: a missing path would rerun this script (and rebuild the crate) on every
        // build. After adding the corpus, `touch` this file or set one of the variables above.
        false
    }
}

/// Whether the build runs as root (uid 0), as live capture on `lo` needs.
pub fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
