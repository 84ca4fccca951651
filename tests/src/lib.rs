//! Cross-crate test support: the conformance harness against Zeek ([`conformance`], with the
//! real analyzer behind [`adapter`]) and the tshark differential ([`tshark`] dissects with tshark,
//! [`tshark_diff`] builds our side and compares; [`tshark_quic`], tshark's view of QUIC
//! connections), [`require`], what a test does when an
//! optional tool or the corpus is missing, and [`snapshot_failures`], snapshot loops that report
//! every mismatch of a run; [`support`], helpers several test binaries share;
//! [`zeek_quic`], conformance with Zeek's QUIC regression tests; [`zeek_tunnels`], with Zeek's
//! tunnel regression tests; [`quic_craft`], QUIC Initials opened and sealed for hostile-input
//! tests; [`fixtures`] and [`roundtrip`], the hex fixtures as data and the comparison behind the
//! encoder round-trip tests.
pub mod adapter;
pub mod conformance;
pub mod fingerprints;
pub mod fixtures;
pub mod quic_craft;
pub mod require;
pub mod roundtrip;
pub mod snapshot_failures;
pub mod support;
pub mod tshark;
pub mod tshark_diff;
pub mod tshark_quic;
pub mod zeek_quic;
pub mod zeek_tunnels;
