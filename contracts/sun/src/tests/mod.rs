//! Tests: published vectors (RFC 4493, AN10922, AN12196, sdm-backend), the cross-implementation
//! vectors of `reference/gen_vectors.py`, refusals, and property tests.

mod an12196;
mod cross;
mod negative;
mod primitives;
mod props;

use crate::{AesKey, FixedKeys};

/// Decodes a hex literal of a test vector.
fn h<const N: usize>(hex: &str) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(hex, &mut out).expect("test vectors are valid hex");
    out
}

fn key(hex: &str) -> AesKey {
    AesKey::from_bytes(h(hex))
}

/// Factory-fresh tags and the AN12196 examples: every key all zero.
fn zero_keys() -> FixedKeys {
    FixedKeys {
        meta_read: AesKey::from_bytes([0; 16]),
        file_read: AesKey::from_bytes([0; 16]),
    }
}
