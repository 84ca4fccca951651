//! placeholder
pub mod adapter;
pub mod conformance;
pub mod tshark;
