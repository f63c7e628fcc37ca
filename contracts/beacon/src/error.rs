//! Why a beacon operation is refused.
//!
//! Almost every variant is bad input from a peer, a client or a file (kind 1 in STYLE.md): the
//! caller rejects the message, keeps its state, and may penalize the sender. None of them is a
//! panic. [`Error::code`] is the stable machine-readable name.

use jiu_types::PublicKey;

/// A refusal of a beacon operation; see [`Error::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bytes or JSON that do not decode to the named object (wrong length, not a curve
    /// point, not in the subgroup, out-of-range scalar, trailing bytes).
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// `n` participants with a threshold other than `n - floor((n - 1) / 3)`, or `n` outside
    /// `1..=PARTICIPANTS_MAX`.
    #[error("threshold {threshold} of {n} participants; this scheme needs {expected}")]
    BadThreshold {
        n: u32,
        threshold: u32,
        expected: u32,
    },
    /// The group key does not match the public polynomial, or a secret share does not match
    /// its public share.
    #[error("inconsistent key material: {0}")]
    Inconsistent(&'static str),
    /// A second, different seed message for a lottery this validator has already signed for.
    #[error("lottery {lottery_id} was already signed over another seed message")]
    SeedMessageMismatch { lottery_id: u64 },
    /// A partial signature that does not verify against its signer's public share.
    #[error("partial signature of share {index} does not verify")]
    BadPartial { index: u32 },
    /// A partial signature from a share index the group does not have.
    #[error("share index {index} is not below the {n} participants")]
    UnknownSigner { index: u32, n: u32 },
    /// Two partial signatures from one share index.
    #[error("two partial signatures from share {index}")]
    DuplicateSigner { index: u32 },
    /// Fewer distinct partial signatures than the threshold.
    #[error("{have} partial signatures, {need} needed")]
    NotEnoughShares { have: u32, need: u32 },
    /// A threshold signature that does not verify against the group key and message.
    #[error("threshold signature does not verify against the group key")]
    BadSignature,
    /// A key that is not a participant of the ceremony.
    #[error("{0} is not a participant of this ceremony")]
    NotAParticipant(PublicKey),
    /// The same key listed twice as a participant.
    #[error("{0} is listed twice as a participant")]
    DuplicateParticipant(PublicKey),
    /// A dealer's share that does not match its commitment (or a commitment of the wrong
    /// degree). This is the player's complaint: it withholds its ack, so the dealer must reveal
    /// the share publicly in its log.
    #[error("dealer {dealer} sent a share that does not match its commitment: {reason}")]
    BadDealerShare { dealer: PublicKey, reason: String },
    /// A player's ack that does not verify (or comes from a non-player).
    #[error("ack from {player} does not verify: {reason}")]
    BadAck { player: PublicKey, reason: String },
    /// A dealer log whose signature does not verify for this ceremony.
    #[error("dealer log from {dealer} is not signed for this ceremony")]
    BadDealerLog { dealer: PublicKey },
    /// A dealer that published two different logs.
    #[error("dealer {dealer} published two different logs")]
    ConflictingDealerLog { dealer: PublicKey },
    /// Too few usable dealer logs: the ceremony failed and must be re-run (new round).
    #[error(
        "ceremony failed: {found} usable dealer logs, {required} needed \
         (faulty: {faulty:?}, missing or withheld: {unavailable:?})"
    )]
    CeremonyFailed {
        required: u32,
        found: u32,
        /// Dealers whose signed logs prove a fault (bad reveal, forged ack, wrong degree).
        faulty: Vec<PublicKey>,
        /// Dealers with no usable log (none published, or more than `f` complaints).
        unavailable: Vec<PublicKey>,
    },
    /// The player's own state cannot produce its share (a dealing it acknowledged is missing
    /// or the transcript is for another ceremony). The ceremony itself may have succeeded.
    #[error("player state cannot finish the ceremony: {0}")]
    PlayerState(String),
}

impl Error {
    /// A stable machine-readable code; callers and peers match on it, so never change one.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed { .. } => "MALFORMED",
            Error::BadThreshold { .. } => "BAD_THRESHOLD",
            Error::Inconsistent(_) => "INCONSISTENT_KEY",
            Error::SeedMessageMismatch { .. } => "SEED_MESSAGE_MISMATCH",
            Error::BadPartial { .. } => "BAD_PARTIAL",
            Error::UnknownSigner { .. } => "UNKNOWN_SIGNER",
            Error::DuplicateSigner { .. } => "DUPLICATE_SIGNER",
            Error::NotEnoughShares { .. } => "NOT_ENOUGH_SHARES",
            Error::BadSignature => "BAD_SIGNATURE",
            Error::NotAParticipant(_) => "NOT_A_PARTICIPANT",
            Error::DuplicateParticipant(_) => "DUPLICATE_PARTICIPANT",
            Error::BadDealerShare { .. } => "BAD_DEALER_SHARE",
            Error::BadAck { .. } => "BAD_ACK",
            Error::BadDealerLog { .. } => "BAD_DEALER_LOG",
            Error::ConflictingDealerLog { .. } => "CONFLICTING_DEALER_LOG",
            Error::CeremonyFailed { .. } => "CEREMONY_FAILED",
            Error::PlayerState(_) => "PLAYER_STATE",
        }
    }

    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Error::Malformed {
            what,
            reason: reason.to_string(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn test_codes_are_stable_and_distinct() {
        let key = PublicKey([7; 32]);
        let all = [
            (Error::malformed("x", "y"), "MALFORMED"),
            (
                Error::BadThreshold {
                    n: 4,
                    threshold: 2,
                    expected: 3,
                },
                "BAD_THRESHOLD",
            ),
            (Error::Inconsistent("x"), "INCONSISTENT_KEY"),
            (
                Error::SeedMessageMismatch { lottery_id: 1 },
                "SEED_MESSAGE_MISMATCH",
            ),
            (Error::BadPartial { index: 1 }, "BAD_PARTIAL"),
            (Error::UnknownSigner { index: 9, n: 4 }, "UNKNOWN_SIGNER"),
            (Error::DuplicateSigner { index: 1 }, "DUPLICATE_SIGNER"),
            (
                Error::NotEnoughShares { have: 2, need: 3 },
                "NOT_ENOUGH_SHARES",
            ),
            (Error::BadSignature, "BAD_SIGNATURE"),
            (Error::NotAParticipant(key), "NOT_A_PARTICIPANT"),
            (Error::DuplicateParticipant(key), "DUPLICATE_PARTICIPANT"),
            (
                Error::BadDealerShare {
                    dealer: key,
                    reason: String::new(),
                },
                "BAD_DEALER_SHARE",
            ),
            (
                Error::BadAck {
                    player: key,
                    reason: String::new(),
                },
                "BAD_ACK",
            ),
            (Error::BadDealerLog { dealer: key }, "BAD_DEALER_LOG"),
            (
                Error::ConflictingDealerLog { dealer: key },
                "CONFLICTING_DEALER_LOG",
            ),
            (
                Error::CeremonyFailed {
                    required: 3,
                    found: 2,
                    faulty: vec![key],
                    unavailable: vec![],
                },
                "CEREMONY_FAILED",
            ),
            (Error::PlayerState(String::new()), "PLAYER_STATE"),
        ];
        let mut seen = BTreeSet::new();
        for (error, code) in &all {
            assert_eq!(error.code(), *code);
            assert!(seen.insert(*code), "{code} is used twice");
        }
    }
}
