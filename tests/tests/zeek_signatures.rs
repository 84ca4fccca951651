//! Our event signatures against Zeek's: every event the spec declares that Zeek also has must
//! carry Zeek's name, Zeek's parameter names in Zeek's order, and values of Zeek's types, so
//! that a Zeek script or a pipeline reading Zeek's JSON reads ours unchanged.
//!
//! In: the spec's event declarations (`grammar/*.pac`, through `pac_codegen`, as `pacc` reads
//! them) and two sources of Zeek's signatures:
//!
//! * the oracle: the complete event streams a running Zeek 8.2.2 printed for its own test
//!   captures (`<corpus>/zeek-live/**/*.events.json`, arguments named as in its `events.bif`).
//!   Every occurrence of every spec event in them is checked: the argument names in order
//!   against the declared parameters, and each value's shape (count, integer, number, bool,
//!   string, vector, record with its field names in order) against the declared type. New files
//!   in the corpus only add occurrences; events of other analyzers are ignored.
//! * [`NOT_IN_ZEEK_LIVE`]: the signatures of the Zeek events those streams cannot contain
//!   (newer than Zeek 8.2.2, or retired before it), read from Zeek's `events.bif` at the
//!   version noted per entry, compared type for type.
//!
//! Out: a failure listing every difference. Without the corpus the oracle test says so loudly
//! and skips; the table test needs nothing outside the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use pac_codegen::ir::{Event as SpecEvent, Spec, ZTy};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A Zeek event signature without its leading `c: connection`: parameter names and Zeek types
/// as `events.bif` spells them.
struct ZeekSignature {
    /// The event name.
    name: &'static str,
    /// Where the signature was read.
    source: &'static str,
    /// `(name, type)` in order.
    params: &'static [(&'static str, &'static str)],
}

/// Zeek's `events.bif` of `zeek/zeek` at a13de64fbbdb (2026-08-21, version 9.1.0-dev), the
/// commit the conformance corpus's baselines come from.
const ZEEK_MASTER: &str = "zeek/zeek@a13de64 (9.1.0-dev) src/analyzer/protocol/ssl/events.bif";

/// Zeek's QUIC events, declared (Spicy analyzer, no `events.bif`) in the same commit's
/// `scripts/base/protocols/quic/spicy-events.zeek`.
const ZEEK_QUIC: &str =
    "zeek/zeek@a13de64 (9.1.0-dev) scripts/base/protocols/quic/spicy-events.zeek";

/// The parameters (after `c: connection`) of Zeek's QUIC events about one long header packet.
const QUIC_PACKET_PARAMS: &[(&str, &str)] = &[
    ("is_orig", "bool"),
    ("version", "count"),
    ("dcid", "string"),
    ("scid", "string"),
];

/// The Zeek events the zeek-live streams cannot contain, with their Zeek signatures. Zeek 8.2.2
/// predates the first two (the corpus README says so); `ssl_server_curve` was removed in Zeek
/// 3.0 and is raised here only in compatibility mode; the zeek-live streams were recorded for
/// the SSL analyzer's captures and hold no QUIC event.
const NOT_IN_ZEEK_LIVE: [ZeekSignature; 11] = [
    ZeekSignature {
        name: "ssl_extension_signature_algorithms_cert",
        source: ZEEK_MASTER,
        params: &[("is_client", "bool"), ("signature_schemes", "index_vec")],
    },
    ZeekSignature {
        name: "ssl_extension_encrypted_client_hello",
        source: ZEEK_MASTER,
        params: &[
            ("is_client", "bool"),
            ("kdf_id", "count"),
            ("aead_id", "count"),
            ("config_id", "count"),
            ("enc", "string"),
            ("payload_length", "count"),
        ],
    },
    ZeekSignature {
        name: "ssl_server_curve",
        source: "zeek/zeek@v2.6 src/analyzer/protocol/ssl/events.bif (&deprecated, removed in 3.0)",
        params: &[("curve", "count")],
    },
    ZeekSignature {
        name: "QUIC::initial_packet",
        source: ZEEK_QUIC,
        params: QUIC_PACKET_PARAMS,
    },
    ZeekSignature {
        name: "QUIC::retry_packet",
        source: ZEEK_QUIC,
        params: &[
            ("is_orig", "bool"),
            ("version", "count"),
            ("dcid", "string"),
            ("scid", "string"),
            ("retry_token", "string"),
            ("retry_integrity_tag", "string"),
        ],
    },
    ZeekSignature {
        name: "QUIC::handshake_packet",
        source: ZEEK_QUIC,
        params: QUIC_PACKET_PARAMS,
    },
    ZeekSignature {
        name: "QUIC::zero_rtt_packet",
        source: ZEEK_QUIC,
        params: QUIC_PACKET_PARAMS,
    },
    ZeekSignature {
        name: "QUIC::connection_close_frame",
        source: ZEEK_QUIC,
        params: &[
            ("is_orig", "bool"),
            ("version", "count"),
            ("dcid", "string"),
            ("scid", "string"),
            ("error_code", "count"),
            ("reason_phrase", "string"),
        ],
    },
    ZeekSignature {
        name: "QUIC::unhandled_version",
        source: ZEEK_QUIC,
        params: QUIC_PACKET_PARAMS,
    },
    ZeekSignature {
        name: "QUIC::discarded_packet",
        source: ZEEK_QUIC,
        params: &[("is_orig", "bool"), ("total_decrypted", "count")],
    },
    ZeekSignature {
        name: "QUIC::short_header_packet_threshold_crossed",
        source: ZEEK_QUIC,
        params: &[("is_orig", "bool"), ("threshold", "count")],
    },
];

/// Events of our spec that no Zeek version has; nothing to compare them with.
const OURS_ONLY: [&str; 1] = ["ssl_extension_record_size_limit"];

/// The spec's IR, read the way `pacc` reads `grammar/`.
fn spec() -> Spec {
    pac_tests::support::workspace_spec().ir
}

/// A declared type as Zeek spells it in `events.bif` (its named vector aliases included).
fn zeek_type(ty: &ZTy) -> String {
    match ty {
        ZTy::Record(r) if r == "SignatureAndHashAlgorithm" => {
            "SSL::SignatureAndHashAlgorithm".into()
        }
        ZTy::Vector(inner) => match inner.as_ref() {
            ZTy::Record(r) if r == "SignatureAndHashAlgorithm" => {
                "signature_and_hashalgorithm_vec".into()
            }
            ZTy::Record(r) if r == "psk_identity" => "psk_identity_vec".into(),
            other => format!("vector of {}", zeek_type(other)),
        },
        // Every other type is spelt as the spec spells it.
        other => pac_codegen::types::show_z(other),
    }
}

/// A JSON value reduced to what this test checks: the shape of every value, strings (for the
/// event name) and the order of object keys (`serde_json::Value` sorts them, and the order of
/// arguments and record fields is what matters here).
#[derive(Debug)]
enum Json {
    Null,
    Bool,
    /// An integer that fits `u64` (how Zeek renders a `count`).
    Unsigned,
    /// A negative integer.
    Signed,
    /// A number with a fraction or exponent (Zeek's `time` and `double`).
    Float,
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Bool)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
                Ok(Json::Unsigned)
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                // serde_json hands non-negative integers to visit_u64.
                Ok(if v < 0 { Json::Signed } else { Json::Unsigned })
            }
            fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
                Ok(Json::Float)
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(Json::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry()? {
                    out.push((k, v));
                }
                Ok(Json::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    fn field(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Short description of the value's shape, for messages.
    fn shape(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool => "bool",
            Json::Unsigned => "unsigned integer",
            Json::Signed => "negative integer",
            Json::Float => "number with a fraction",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

/// Whether `v` is how Zeek's JSON renders a value of type `ty`; otherwise what is wrong, with
/// `path` naming the place.
fn check_shape(spec: &Spec, ty: &ZTy, v: &Json, path: &str) -> Result<(), String> {
    let ok = match (ty, v) {
        (ZTy::Count, Json::Unsigned) => true,
        (ZTy::Int, Json::Unsigned | Json::Signed) => true,
        (ZTy::Double | ZTy::Time, Json::Unsigned | Json::Signed | Json::Float) => true,
        (ZTy::Bool, Json::Bool) => true,
        (ZTy::String, Json::String(_)) => true,
        (ZTy::IndexVec, Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_shape(spec, &ZTy::Count, item, &format!("{path}[{i}]"))?;
            }
            true
        }
        (ZTy::StringVec, Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_shape(spec, &ZTy::String, item, &format!("{path}[{i}]"))?;
            }
            true
        }
        (ZTy::Vector(inner), Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_shape(spec, inner, item, &format!("{path}[{i}]"))?;
            }
            true
        }
        (ZTy::Record(name), Json::Object(kv)) => {
            let rec = spec
                .zeek_records
                .iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| format!("{path}: the spec has no zeek record {name}"))?;
            let declared: Vec<&str> = rec.fields.iter().map(|f| f.name.as_str()).collect();
            let got: Vec<&str> = kv.iter().map(|(k, _)| k.as_str()).collect();
            if declared != got {
                return Err(format!(
                    "{path}: Zeek's record has fields {got:?}, our {name} declares {declared:?}"
                ));
            }
            for (f, (_, val)) in rec.fields.iter().zip(kv) {
                check_shape(spec, &f.ty, val, &format!("{path}.{}", f.name))?;
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{path}: Zeek sent a {} where we declare {}",
            v.shape(),
            zeek_type(ty)
        ))
    }
}

/// Every `*.events.json` under `dir`.
fn event_files(dir: &Path, out: &mut Vec<PathBuf>) {
    pac_tests::conformance::corpus::list_files_ending(dir, ".events.json", out);
}

/// Writes to the process's stderr directly: libtest captures `eprintln!`, and a skipped
/// comparison must be visible in a plain `cargo test`.
fn loud(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// Checks one occurrence of `ev` in Zeek's stream; returns what differs.
fn check_occurrence(spec: &Spec, ev: &SpecEvent, args: &Json) -> Vec<String> {
    let Json::Object(kv) = args else {
        return vec![format!("args is a {}, not an object", args.shape())];
    };
    let declared: Vec<&str> = ev.params.iter().map(|p| p.name.as_str()).collect();
    let got: Vec<&str> = kv.iter().map(|(k, _)| k.as_str()).collect();
    if declared != got {
        return vec![format!(
            "Zeek's parameters are {got:?}, we declare {declared:?}"
        )];
    }
    ev.params
        .iter()
        .zip(kv)
        .filter_map(|(p, (_, v))| check_shape(spec, &p.ty, v, &p.name).err())
        .collect()
}

#[test]
fn spec_events_match_the_events_zeek_live_printed() {
    let live = pac_tests::conformance::corpus::default_location().join("zeek-live");
    if !live.is_dir() {
        loud(&format!(
            "\n!!! spec_events_match_the_events_zeek_live_printed: {} IS ABSENT.\n\
             !!! Our event signatures were NOT compared with Zeek's streams; TEST SKIPPED.\n",
            live.display()
        ));
        return;
    }
    let spec = spec();
    let by_name: BTreeMap<&str, &SpecEvent> =
        spec.events.iter().map(|e| (e.name.as_str(), e)).collect();

    let mut files = Vec::new();
    event_files(&live, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no *.events.json under {}",
        live.display()
    );

    // Per event: occurrences checked; per (event, problem): the first place it was seen and
    // how often, so that a wrong signature is reported once, not once per occurrence.
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems: BTreeMap<(String, String), (String, usize)> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable events file");
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let obj: Json = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), n + 1));
            let Some(Json::String(name)) = obj.field("event") else {
                panic!("{}:{}: no event name", file.display(), n + 1);
            };
            // Zeek events our spec does not declare (other analyzers' weirds, violations)
            // are not ours to match.
            let Some(ev) = by_name.get(name.as_str()) else {
                continue;
            };
            *checked.entry(ev.name.as_str()).or_default() += 1;
            let args = obj.field("args").unwrap_or(&Json::Null);
            for p in check_occurrence(&spec, ev, args) {
                problems
                    .entry((ev.name.clone(), p))
                    .or_insert_with(|| (format!("{}:{}", file.display(), n + 1), 0))
                    .1 += 1;
            }
        }
    }

    loud(&format!(
        "zeek-live signature check: {} events of the spec checked in {} occurrences over {} files",
        checked.len(),
        checked.values().sum::<usize>(),
        files.len()
    ));

    // Every spec event is judged somewhere: by the streams, by the table, or known to be ours.
    let tabled: BTreeSet<&str> = NOT_IN_ZEEK_LIVE.iter().map(|s| s.name).collect();
    let unjudged: Vec<&str> = spec
        .events
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| !checked.contains_key(n) && !tabled.contains(n) && !OURS_ONLY.contains(n))
        .collect();

    let mut report: Vec<String> = problems
        .iter()
        .map(|((ev, p), (first, times))| format!("{ev}: {p} ({times}x, first at {first})"))
        .collect();
    if !unjudged.is_empty() {
        report.push(format!(
            "spec events neither in the zeek-live streams nor in NOT_IN_ZEEK_LIVE nor in OURS_ONLY \
             (add their Zeek signature to the table, or list them as ours): {unjudged:?}"
        ));
    }
    assert!(
        report.is_empty(),
        "our event signatures differ from Zeek's:\n  {}",
        report.join("\n  ")
    );
    // The events the streams are known to hold must all have been checked; a corpus that lost
    // them would otherwise turn this test into one that cannot fail.
    assert!(
        checked.len() >= 30,
        "only {} spec events occur in the zeek-live streams; expected the 33 of Zeek 8.2.2",
        checked.len()
    );
}

#[test]
fn spec_events_missing_from_zeek_live_have_zeeks_signature() {
    let spec = spec();
    let mut report = Vec::new();
    for sig in &NOT_IN_ZEEK_LIVE {
        let Some(ev) = spec.events.iter().find(|e| e.name == sig.name) else {
            report.push(format!(
                "{}: not declared in the spec ({})",
                sig.name, sig.source
            ));
            continue;
        };
        if !ev.has_conn {
            report.push(format!(
                "{}: Zeek's first parameter is c: connection",
                sig.name
            ));
        }
        let ours: Vec<(String, String)> = ev
            .params
            .iter()
            .map(|p| (p.name.clone(), zeek_type(&p.ty)))
            .collect();
        let zeek: Vec<(String, String)> = sig
            .params
            .iter()
            .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
            .collect();
        if ours != zeek {
            report.push(format!(
                "{}: Zeek ({}) has {zeek:?}, we declare {ours:?}",
                sig.name, sig.source
            ));
        }
    }
    for name in OURS_ONLY {
        if !spec.events.iter().any(|e| e.name == name) {
            report.push(format!(
                "{name}: listed as ours but not declared in the spec"
            ));
        }
    }
    assert!(
        report.is_empty(),
        "our event signatures differ from Zeek's:\n  {}",
        report.join("\n  ")
    );
}

/// The checker itself: a signature that differs from Zeek's in a name, the order, a type or a
/// record field is reported, and the old form of `ssl_extension_signature_algorithms_cert`
/// (pairs named `signature_algorithms`) would be rejected by both tests.
#[test]
fn signature_checker_rejects_what_zeek_would_not_print() {
    let spec = spec();
    let ev = |n: &str| {
        spec.events
            .iter()
            .find(|e| e.name == n)
            .unwrap_or_else(|| panic!("{n} is declared"))
    };
    let json = |s: &str| -> Json { serde_json::from_str(s).expect("test JSON") };

    let alert = ev("ssl_alert");
    assert!(check_occurrence(
        &spec,
        alert,
        &json(r#"{"is_client":true,"level":2,"desc":40}"#)
    )
    .is_empty());
    // Renamed, reordered, wrong type, count rendered as a float.
    for bad in [
        r#"{"is_client":true,"level":2,"description":40}"#,
        r#"{"is_client":true,"desc":40,"level":2}"#,
        r#"{"is_client":1,"level":2,"desc":40}"#,
        r#"{"is_client":true,"level":2.0,"desc":40}"#,
    ] {
        assert!(
            !check_occurrence(&spec, alert, &json(bad)).is_empty(),
            "accepted {bad}"
        );
    }

    let sig = ev("ssl_extension_signature_algorithm");
    let good =
        r#"{"is_client":true,"signature_algorithms":[{"HashAlgorithm":4,"SignatureAlgorithm":3}]}"#;
    assert!(check_occurrence(&spec, sig, &json(good)).is_empty());
    // A record with its fields swapped, and plain counts where records belong.
    for bad in [
        r#"{"is_client":true,"signature_algorithms":[{"SignatureAlgorithm":3,"HashAlgorithm":4}]}"#,
        r#"{"is_client":true,"signature_algorithms":[1027]}"#,
    ] {
        assert!(
            !check_occurrence(&spec, sig, &json(bad)).is_empty(),
            "accepted {bad}"
        );
    }

    // Zeek's current form of the cert variant fits; the pairs we used to send would not.
    let cert = ev("ssl_extension_signature_algorithms_cert");
    assert!(check_occurrence(
        &spec,
        cert,
        &json(r#"{"is_client":true,"signature_schemes":[1027,2052]}"#)
    )
    .is_empty());
    assert!(!check_occurrence(
        &spec,
        cert,
        &json(r#"{"is_client":true,"signature_algorithms":[{"HashAlgorithm":4,"SignatureAlgorithm":3}]}"#)
    )
    .is_empty());
    assert_eq!(zeek_type(&cert.params[1].ty), "index_vec");
}
