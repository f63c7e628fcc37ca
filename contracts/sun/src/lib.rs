//! Verification of NXP NTAG 424 DNA "SUN" (Secure Unique NFC) messages: the `picc`, `cmac`
//! and optional `enc` parameters a bottle's tag appends to its verify URL on every tap
//! (design note: `docs/ntag424-sun.md`; research section 5.1).
//!
//! # Algorithm (AES mode, NT4H2421Gx section 9.3, examples in AN12196)
//! - [`decrypt_picc`]: `picc` is one AES-128 block under the tag's SDM meta-read key (zero
//!   IV, so a plain block decryption) of `PICCDataTag || UID (7) || SDMReadCtr (3, LSB
//!   first) || 5 random bytes`. The tag byte must be exactly `0xC7`: UID mirrored, counter
//!   mirrored, RFU bits zero, UID length 7.
//! - [`session_mac_key`]: `Ks = CMAC(K_SDMFileRead, 3C C3 00 01 00 80 || UID || ctr)`.
//! - [`sdm_mac`]: the bytes 1, 3, .., 15 of `CMAC(Ks, m)`, `m` being the URL text between the
//!   tag's SDMMACInputOffset and SDMMACOffset (empty for `?picc=..&cmac=..`); compared in
//!   constant time ([`verify_sdm_mac`]).
//! - [`decrypt_file_data`]: `enc` is AES-128-CBC under
//!   `CMAC(K_SDMFileRead, C3 3C 00 01 00 80 || UID || ctr)` with
//!   `IV = AES(that key, ctr || 13 zero bytes)`.
//! - [`verify_sun`] runs all of it for one tap and returns the UID and counter;
//!   [`check_counter`] is the replay rule the caller applies with its stored counter.
//!
//! # Key layout
//! A producer holds two AES-128 master keys, meta-read and file-read ([`DiversifiedKeys`]).
//! Each tag's keys in slots 1 (meta-read) and 2 (file-read) are derived from them with NXP
//! AN10922 and `M = UID || NTAG 424 AID || key number || "jiu-sun-v1"` ([`key`]). The
//! meta-read key is per tag too ([`MetaReadKeying::PerTag`], recommended) when the node
//! knows the UID bound to the bottle code in the URL before decrypting; otherwise it is one
//! key per producer ([`MetaReadKeying::Shared`]), which costs privacy (not authenticity) if a
//! tag is broken open. The file-read key, which authenticates, is always per tag. The master
//! of slot 0 (the tag's application master key) is never given to the node.
//!
//! # What is checked, and the limits
//! Refusals are [`SunError`]s: `INVALID_TAG_PARAMS` for malformed parameters,
//! `TAG_INVALID` for a tag that is not genuine for this bottle (bad tag byte, UID not the
//! bound one, bad MAC). `TAG_REPLAY` is the caller's: a counter not greater than the last
//! accepted one for the UID. A URL captured and never presented stays valid until the
//! genuine tag is tapped again; a SUN proves the tag, not the liquid. LRP mode, plain
//! (unencrypted) UID mirroring and the originality signature are not handled.
//!
//! Invariants: no I/O, no clock, no randomness; no panic on any input (the parameters come
//! from the public internet); key bytes never appear in `Debug` output and are wiped on drop.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod error;
mod freshness;
pub mod key;
mod params;
mod sdm;
mod verify;

pub use error::{SunError, INVALID_TAG_PARAMS, TAG_INVALID, TAG_REPLAY};
pub use freshness::{check_counter, Freshness, TamperState, TamperStatus};
pub use key::{
    diversify_aes128, diversify_shared_key, diversify_tag_key, AesKey, Uid, FILE_READ_KEY_NO,
    META_READ_KEY_NO,
};
pub use params::{
    parse_cmac, parse_enc, parse_picc, SunParams, CMAC_HEX_LEN, ENC_BYTES_MAX, MAC_INPUT_BYTES_MAX,
    PICC_HEX_LEN,
};
pub use sdm::{
    decrypt_file_data, decrypt_picc, encrypt_picc, sdm_mac, session_enc_key, session_mac_key,
    verify_sdm_mac, PiccData, COUNTER_MAX, PICC_DATA_TAG,
};
pub use verify::{
    simulate_tap, verify_sun, DiversifiedKeys, FixedKeys, KeySource, MetaReadKeying, SimulatedTap,
    TagKeys, TagReading,
};

#[cfg(test)]
mod tests;
