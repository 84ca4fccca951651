//! placeholder
pub mod conformance;
pub mod tshark;
