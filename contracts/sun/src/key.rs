//! AES-128 keys and per-tag key diversification (NXP AN10922 section 2.2, AES-128).
//!
//! A producer holds one master key per key role; each tag's key is derived from it and the
//! tag's UID, so a key extracted from one tag says nothing about any other tag and the node
//! stores no per-tag secret. The diversification input `M` is
//!
//! ```text
//! M = UID (7) || AID D2 76 00 00 85 01 01 (7) || key number (1) || SYSTEM_ID (10) = 25 bytes
//! ```
//!
//! AN10922's pattern (UID, application identifier, system identifier) with the key number
//! added, the layout of the Rust `ntag424` crate's `diversify_ntag424`; given our system
//! identifier its provisioning tool derives the same tag keys. The key number binds a key to its slot; [`SYSTEM_ID`] binds it to
//! jiu (and its version, so a future scheme cannot collide). A key shared by all of a
//! producer's tags (see [`diversify_shared_key`]) drops the UID: `M = AID || key number ||
//! SYSTEM_ID`.

use std::fmt;

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use zeroize::Zeroize;

use crate::error::SunError;
use crate::params::decode_fixed;

/// Bytes of an AES-128 key.
pub const KEY_BYTES: usize = 16;
/// Bytes of an NTAG 424 DNA UID.
pub const UID_BYTES: usize = 7;
/// A tag's 7-byte UID (NXP UIDs start with 0x04).
pub type Uid = [u8; UID_BYTES];

/// ISO DF name of the NTAG 424 DNA NDEF application, the AID part of `M`.
pub const NTAG424_AID: [u8; 7] = [0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01];
/// jiu's system identifier in `M`. Changing it changes every tag key: a format change.
pub const SYSTEM_ID: &[u8; 10] = b"jiu-sun-v1";
/// Key slot that holds the SDM meta-read key (decrypts PICCData).
pub const META_READ_KEY_NO: u8 = 1;
/// Key slot that holds the SDM file-read key (SDMMAC and file data encryption).
pub const FILE_READ_KEY_NO: u8 = 2;
/// AN10922 AES-128 takes 1 to 31 bytes of diversification input.
pub const DIVERSIFICATION_INPUT_MAX: usize = 31;

/// An AES-128 key. `Debug` never shows it and the bytes are wiped when it is dropped.
#[derive(Clone)]
pub struct AesKey([u8; KEY_BYTES]);

impl AesKey {
    /// Wraps raw key bytes.
    pub const fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// Parses 32 hex characters (a key in a config file or an environment variable).
    pub fn from_hex(hex: &str) -> Result<Self, SunError> {
        decode_fixed("key", "32", hex).map(Self)
    }

    /// The raw bytes, for writing a diversified key into a tag during personalisation.
    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    pub(crate) fn cipher(&self) -> Aes128 {
        Aes128::new(GenericArray::from_slice(&self.0))
    }
}

impl Drop for AesKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(..)")
    }
}

/// AN10922 AES-128 diversification of `master` with `input` (1 to 31 bytes); `None` for any
/// other length.
pub fn diversify_aes128(master: &AesKey, input: &[u8]) -> Option<AesKey> {
    (1..=DIVERSIFICATION_INPUT_MAX)
        .contains(&input.len())
        .then(|| an10922(master, input))
}

/// The key for slot `key_no` of the tag `uid`: AN10922 with `M = UID || AID || key_no ||
/// SYSTEM_ID`.
pub fn diversify_tag_key(master: &AesKey, uid: &Uid, key_no: u8) -> AesKey {
    let mut m = [0u8; 25];
    m[..7].copy_from_slice(uid);
    m[7..14].copy_from_slice(&NTAG424_AID);
    m[14] = key_no;
    m[15..].copy_from_slice(SYSTEM_ID);
    an10922(master, &m)
}

/// The key for slot `key_no` shared by all of a producer's tags: AN10922 with
/// `M = AID || key_no || SYSTEM_ID` (no UID).
pub fn diversify_shared_key(master: &AesKey, key_no: u8) -> AesKey {
    let mut m = [0u8; 18];
    m[..7].copy_from_slice(&NTAG424_AID);
    m[7] = key_no;
    m[8..].copy_from_slice(SYSTEM_ID);
    an10922(master, &m)
}

/// AN10922 section 2.2: `D = 0x01 || M || padding` is always two blocks (padding 0x80 00..
/// when `M` is shorter than 31 bytes), the second block is XORed with the CMAC subkey K2 if
/// padded and K1 if not, and the key is the last block of AES-CBC-MAC over `D` with a zero IV.
/// For `M` of 16 to 31 bytes this equals AES-CMAC(K, 0x01 || M); for shorter `M` it does
/// not (CMAC would use one block), hence this explicit form.
fn an10922(master: &AesKey, m: &[u8]) -> AesKey {
    assert!(
        (1..=DIVERSIFICATION_INPUT_MAX).contains(&m.len()),
        "callers pass 1 to 31 bytes"
    );
    let cipher = master.cipher();
    let (k1, k2) = cmac_subkeys(&cipher);

    let mut d = [0u8; 32];
    d[0] = 0x01;
    d[1..1 + m.len()].copy_from_slice(m);
    let padded = m.len() < DIVERSIFICATION_INPUT_MAX;
    if padded {
        d[1 + m.len()] = 0x80;
    }
    let subkey = if padded { k2 } else { k1 };

    let mut state = [0u8; 16];
    state.copy_from_slice(&d[..16]);
    encrypt_in_place(&cipher, &mut state);
    for i in 0..16 {
        state[i] ^= d[16 + i] ^ subkey[i];
    }
    encrypt_in_place(&cipher, &mut state);
    d.zeroize();
    AesKey(state)
}

/// NIST SP 800-38B section 6.1: `L = AES(K, 0)`, `K1 = dbl(L)`, `K2 = dbl(K1)`.
pub(crate) fn cmac_subkeys(cipher: &Aes128) -> ([u8; 16], [u8; 16]) {
    let mut l = [0u8; 16];
    encrypt_in_place(cipher, &mut l);
    let k1 = dbl(&l);
    let k2 = dbl(&k1);
    (k1, k2)
}

/// Multiplication by x in GF(2^128) with the polynomial x^128 + x^7 + x^2 + x + 1.
fn dbl(block: &[u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut carry = 0u8;
    for i in (0..16).rev() {
        out[i] = (block[i] << 1) | carry;
        carry = block[i] >> 7;
    }
    // Constant time: the reduction is applied through a mask, not a branch on key bits.
    out[15] ^= 0x87 & 0u8.wrapping_sub(block[0] >> 7);
    out
}

pub(crate) fn encrypt_in_place(cipher: &Aes128, block: &mut [u8; 16]) {
    cipher.encrypt_block(GenericArray::from_mut_slice(block));
}
