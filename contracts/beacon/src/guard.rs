//! The signing guard: a validator signs at most one seed message per lottery.
//!
//! If a validator would sign two messages for one lottery (say, two status roots), a
//! coalition of `t` could pick the seed they prefer; refusing the second message is what
//! makes "one valid seed" hold against a faulty operator or leader. The guard is pure: the
//! node owns persistence and must follow this order, like its last-vote state:
//!
//! 1. `guard.check(&message)?` -> [`Permission::First`] or [`Permission::Again`];
//! 2. on `First(record)`: write `record` durably (a failed write stops the node), then
//!    `guard.record(record)`;
//! 3. sign and send. On `Again`, sign and re-send: BLS signing is deterministic, so the
//!    partial is byte-identical to the first one.
//!
//! At start-up the node rebuilds the guard with [`SigningGuard::from_records`].

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::Hash;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::message::SeedMessage;

/// What the node persists before sending its first partial for a lottery.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct SignedSeedRecord {
    pub lottery_id: u64,
    /// [`SeedMessage::digest`] of the message signed.
    #[serde(with = "crate::serde_hex")]
    pub message_digest: Hash,
}

impl SignedSeedRecord {
    /// The record of signing `message`.
    pub fn of(message: &SeedMessage) -> Self {
        Self {
            lottery_id: message.lottery_id(),
            message_digest: message.digest(),
        }
    }
}

/// The guard's answer when signing is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Nothing signed yet for this lottery: persist this record, then sign.
    First(SignedSeedRecord),
    /// This exact message was signed before: signing again gives the same partial.
    Again,
}

/// Per lottery, the digest of the one seed message this validator signed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SigningGuard {
    signed: BTreeMap<u64, Hash>,
}

impl SigningGuard {
    /// A guard that has signed nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the guard from persisted records. Two different records for one lottery
    /// (corrupt storage, or a past equivocation) are refused with `SEED_MESSAGE_MISMATCH`.
    pub fn from_records(records: impl IntoIterator<Item = SignedSeedRecord>) -> Result<Self> {
        let mut guard = Self::new();
        for record in records {
            guard.record(record)?;
        }
        Ok(guard)
    }

    /// May this validator sign `message`? `SEED_MESSAGE_MISMATCH` if it already signed a
    /// different message for the same lottery.
    pub fn check(&self, message: &SeedMessage) -> Result<Permission> {
        let record = SignedSeedRecord::of(message);
        match self.signed.get(&record.lottery_id) {
            None => Ok(Permission::First(record)),
            Some(digest) if *digest == record.message_digest => Ok(Permission::Again),
            Some(_) => Err(Error::SeedMessageMismatch {
                lottery_id: record.lottery_id,
            }),
        }
    }

    /// Remembers a persisted record. Recording the same record twice is a no-op; a different
    /// one for the same lottery is refused and leaves the guard unchanged.
    pub fn record(&mut self, record: SignedSeedRecord) -> Result<()> {
        match self.signed.get(&record.lottery_id) {
            Some(digest) if *digest != record.message_digest => Err(Error::SeedMessageMismatch {
                lottery_id: record.lottery_id,
            }),
            _ => {
                self.signed.insert(record.lottery_id, record.message_digest);
                Ok(())
            }
        }
    }

    /// The digest signed for `lottery_id`, if any.
    pub fn signed(&self, lottery_id: u64) -> Option<&Hash> {
        self.signed.get(&lottery_id)
    }

    /// Every record, by lottery id: what the node's storage should hold.
    pub fn records(&self) -> impl Iterator<Item = SignedSeedRecord> + '_ {
        self.signed
            .iter()
            .map(|(&lottery_id, &message_digest)| SignedSeedRecord {
                lottery_id,
                message_digest,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(lottery_id: u64, status_root: u8) -> SeedMessage {
        SeedMessage::new(
            "jiu-devnet",
            lottery_id,
            [1; 32],
            [2; 32],
            [status_root; 32],
        )
        .unwrap()
    }

    /// Step table: (message to sign, expected answer, lotteries recorded afterwards).
    #[test]
    fn test_guard_step_table() {
        enum Expect {
            First,
            Again,
            Mismatch,
        }
        let steps = [
            (message(1, 3), Expect::First, 1),
            (message(1, 3), Expect::Again, 1),
            (message(1, 4), Expect::Mismatch, 1),
            (message(2, 4), Expect::First, 2),
            (message(1, 3), Expect::Again, 2),
            (message(2, 3), Expect::Mismatch, 2),
        ];
        let mut guard = SigningGuard::new();
        for (step, (message, expect, recorded)) in steps.into_iter().enumerate() {
            let before = guard.clone();
            match (guard.check(&message), expect) {
                (Ok(Permission::First(record)), Expect::First) => {
                    assert_eq!(record, SignedSeedRecord::of(&message));
                    guard.record(record).unwrap();
                }
                (Ok(Permission::Again), Expect::Again) => assert_eq!(guard, before),
                (Err(error), Expect::Mismatch) => {
                    assert_eq!(error.code(), "SEED_MESSAGE_MISMATCH", "step {step}");
                    let conflicting = SignedSeedRecord::of(&message);
                    assert!(guard.record(conflicting).is_err());
                    assert_eq!(guard, before, "a refused record leaves the guard unchanged");
                }
                (answer, _) => panic!("step {step}: unexpected {answer:?}"),
            }
            assert_eq!(guard.records().count(), recorded, "step {step}");
        }
    }

    #[test]
    fn test_from_records_round_trips_and_refuses_conflicts() {
        let mut guard = SigningGuard::new();
        for record in [message(1, 3), message(9, 4)]
            .iter()
            .map(SignedSeedRecord::of)
        {
            guard.record(record).unwrap();
        }
        let records: Vec<_> = guard.records().collect();
        let json = serde_json::to_string(&records).unwrap();
        let back: Vec<SignedSeedRecord> = serde_json::from_str(&json).unwrap();
        assert_eq!(SigningGuard::from_records(back).unwrap(), guard);

        let duplicated = [SignedSeedRecord::of(&message(1, 3)); 2];
        assert!(SigningGuard::from_records(duplicated).is_ok());
        let conflicting = [
            SignedSeedRecord::of(&message(1, 3)),
            SignedSeedRecord::of(&message(1, 4)),
        ];
        assert_eq!(
            SigningGuard::from_records(conflicting).unwrap_err().code(),
            "SEED_MESSAGE_MISMATCH"
        );
    }

    #[test]
    fn test_another_chain_is_another_message() {
        let mut guard = SigningGuard::new();
        let here = message(1, 3);
        let Permission::First(record) = guard.check(&here).unwrap() else {
            panic!("first signature")
        };
        guard.record(record).unwrap();
        let elsewhere = SeedMessage::new("jiu-other", 1, [1; 32], [2; 32], [3; 32]).unwrap();
        assert!(guard.check(&elsewhere).is_err());
    }
}
