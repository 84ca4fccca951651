//! Cross-crate test support: the conformance harness against Zeek ([`conformance`], with the
//! real analyzer behind [`adapter`]) and the tshark differential ([`tshark`] dissects with tshark,
//! [`tshark_diff`] builds our side and compares).
pub mod adapter;
pub mod conformance;
pub mod tshark;
pub mod tshark_diff;
