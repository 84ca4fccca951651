//! QUIC (placeholder).
pub mod protection;
