//! QUIC Initial decryption cost (`tls_analyzer::quic::protection`): key derivation from the
//! client's DCID, and opening the RFC 9001 Appendix A.2 client Initial (1200 bytes: header
//! protection removal plus AES-128-GCM over 1162 bytes of frames).
//!
//! Run with `cargo bench -p tls-analyzer --bench quic_initial`. Groups:
//! - `derive`: `InitialKeys::derive` for v1, client side (HKDF-Extract, four HKDF-Expand-Label,
//!   the AES-GCM and header protection key schedules);
//! - `open`: copy the protected packet into a reused scratch buffer, then `open_in_place`, as
//!   the analyzer does per packet;
//! - `derive+open`: both, what a connection's first Initial costs (and what every Initial costs
//!   in Zeek, which derives the keys again for each packet).
//!
//! The crates were chosen with the same timings over ring, aws-lc-rs, RustCrypto and the ring
//! AEAD + RustCrypto HKDF mix in a scratch crate outside the repository (numbers in
//! docs/PERFORMANCE.md); only the winner is a dependency.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tls_analyzer::quic::protection::{InitialKeys, Side, TAG_LEN, VERSION_1};

/// RFC 9001 Appendix A: the client's first DCID.
const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
/// The unprotected header of A.2 (packet number 2 in 4 bytes at offset 18).
const HEADER: &str = "c300000001088394c8f03e5157080000449e00000002";
/// The CRYPTO frame of A.2; PADDING fills the payload up to 1162 bytes.
const CRYPTO_FRAME: &str = "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff";
const PN_OFFSET: usize = 18;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The protected A.2 packet, made by sealing the RFC's plaintext (the unit tests check every
/// byte against the RFC; here its first and last bytes, as printed there).
fn client_initial(keys: &InitialKeys) -> Vec<u8> {
    let mut packet = hex(HEADER);
    packet.extend(hex(CRYPTO_FRAME));
    packet.resize(1200 - TAG_LEN, 0);
    packet.resize(1200, 0);
    keys.seal_in_place(&mut packet, PN_OFFSET).expect("seals");
    assert_eq!(packet[..6], [0xc0, 0x00, 0x00, 0x00, 0x01, 0x08]);
    assert_eq!(packet[1196..], [0x19, 0x4c, 0xd9, 0x34]);
    packet
}

fn quic_initial(c: &mut Criterion) {
    let keys = InitialKeys::derive(VERSION_1, &DCID, Side::Client).expect("v1");
    let packet = client_initial(&keys);
    let mut scratch = vec![0u8; 1500];

    c.bench_function("quic_initial/derive", |b| {
        b.iter(|| InitialKeys::derive(black_box(VERSION_1), black_box(&DCID), Side::Client))
    });
    c.bench_function("quic_initial/open", |b| {
        b.iter(|| {
            let buf = &mut scratch[..packet.len()];
            buf.copy_from_slice(black_box(&packet));
            keys.open_in_place(buf, PN_OFFSET).expect("opens")
        })
    });
    c.bench_function("quic_initial/derive+open", |b| {
        b.iter(|| {
            let keys = InitialKeys::derive(black_box(VERSION_1), black_box(&DCID), Side::Client)
                .expect("v1");
            let buf = &mut scratch[..packet.len()];
            buf.copy_from_slice(black_box(&packet));
            keys.open_in_place(buf, PN_OFFSET).expect("opens")
        })
    });
}

criterion_group!(benches, quic_initial);
criterion_main!(benches);
