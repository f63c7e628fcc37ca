//! Why a SUN message is refused.
//!
//! Two kinds, told apart by [`SunError::code`]: the parameters are not even well formed
//! (`INVALID_TAG_PARAMS`: a typo, a truncated URL, a scanner that mangled it), or they are
//! well formed and the tag is not genuine for this bottle (`TAG_INVALID`: wrong MAC, PICCData
//! that does not decrypt under the tag's key, a UID that is not the one bound to the code).
//! Replays are not errors of this crate: the caller decides them with
//! [`crate::check_counter`] and reports [`TAG_REPLAY`].

/// Code of a refusal of well-formed parameters: the tag is not genuine for this bottle.
pub const TAG_INVALID: &str = "TAG_INVALID";
/// Code of parameters that are not well formed (length, hex, size bounds).
pub const INVALID_TAG_PARAMS: &str = "INVALID_TAG_PARAMS";
/// Code the caller reports when [`crate::check_counter`] answers
/// [`crate::Freshness::Replay`].
pub const TAG_REPLAY: &str = "TAG_REPLAY";

/// A refusal of SUN parameters. Nothing here carries key material; the messages are safe to
/// log and to return to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SunError {
    #[error("{param}: {got} characters, expected {expected}")]
    WrongLength {
        param: &'static str,
        got: usize,
        expected: &'static str,
    },
    #[error("{param}: not hexadecimal")]
    NotHex { param: &'static str },
    #[error("the MAC input is {len} bytes, more than the {max} a tag's NDEF file can hold")]
    MacInputTooLong { len: usize, max: usize },
    #[error("PICCData tag byte {tag:#04x} is not 0xc7 (UID and counter mirrored, 7-byte UID)")]
    PiccDataTag { tag: u8 },
    #[error("per-tag meta-read keys need the UID bound to the code, and none is bound")]
    NoBoundUid,
    #[error("the tag's UID is not the one bound to this code")]
    UidMismatch,
    #[error("SDMMAC does not match")]
    BadMac,
    #[error("read counter {counter:#x} does not fit the tag's 24 bits")]
    CounterOutOfRange { counter: u32 },
}

impl SunError {
    /// A stable machine-readable code for the RPC; clients match on it, so never change one.
    pub fn code(&self) -> &'static str {
        match self {
            SunError::WrongLength { .. }
            | SunError::NotHex { .. }
            | SunError::MacInputTooLong { .. } => INVALID_TAG_PARAMS,
            SunError::PiccDataTag { .. }
            | SunError::NoBoundUid
            | SunError::UidMismatch
            | SunError::BadMac
            | SunError::CounterOutOfRange { .. } => TAG_INVALID,
        }
    }
}
