//! The byte encodings every verifier must reproduce exactly (design section 6.4).
//!
//! All hashes are SHA-256; every hash input starts with an ASCII domain tag so no value of
//! one kind can be replayed as another; integers are big-endian and fixed-width, so every
//! encoding has exactly one byte string and no length prefixes are needed. Tree leaves add
//! the RFC 6962 `0x00` prefix in front of the tag, tree nodes are `SHA-256(0x01 || l || r)`.
//! `docs/lottery-spec.md` is the human-readable copy of this file; the test vectors in
//! `tests/vectors/lottery/` pin it.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::{sha256, Hash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Tag of an entry leaf: `leaf_hash = SHA-256(0x00 || tag || leaf bytes)`.
pub const LEAF_TAG: &[u8] = b"mtl/leaf/v1";
/// Tag of a status leaf: `SHA-256(0x00 || tag || leaf_hash || eligible || reason_hash)`.
pub const STATUS_TAG: &[u8] = b"mtl/status/v1";
/// Tag of the seed: `seed = SHA-256(tag || signature bytes)`.
pub const SEED_TAG: &[u8] = b"mtl/seed/v1";
/// Tag of a ticket score: `SHA-256(tag || seed || lottery_id || pool_id || leaf_hash [|| j])`.
pub const SCORE_TAG: &[u8] = b"mtl/score/v1";
/// Tag of the hash over a pool's ranked list (winners, then waitlist).
pub const RANKED_TAG: &[u8] = b"mtl/ranked/v1";
/// Tag of a pool result leaf in the results tree.
pub const RESULT_TAG: &[u8] = b"mtl/result/v1";
/// Tag of an applicant commitment `SHA-256(tag || salt || account id)`.
pub const COMMITMENT_TAG: &[u8] = b"mtl/commitment/v1";

/// Length of [`Entry::leaf_bytes`].
pub const LEAF_BYTES: usize = 8 + 4 + 4 + 4 + 32 + 32 + 8 + 1 + 2;
/// Length of one item of a ranked list: tier, score, leaf hash.
pub const RANKED_ITEM_BYTES: usize = 1 + 32 + 32;

/// Where an entry sits in the committed entry set: its batch and its index in the batch.
///
/// Ordered by batch, then index: the order of the leaves in both trees.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct EntryId {
    pub batch_no: u32,
    pub index: u32,
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "batch {} index {}", self.batch_no, self.index)
    }
}

/// One application, as the operator receipted it. Pseudonymous: the nullifier is a keyed
/// hash of the person's ID and the commitment hides the account behind an app-held salt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Entry {
    pub lottery_id: u64,
    pub pool_id: u32,
    pub batch_no: u32,
    /// Position inside the batch, from 0.
    pub index: u32,
    /// HMAC(K_null, lottery id || person's ID): unique per person and lottery.
    #[serde(with = "crate::serde_hex")]
    pub nullifier: Hash,
    /// [`applicant_commitment`] of the app's salt and the account.
    #[serde(with = "crate::serde_hex")]
    pub commitment: Hash,
    /// Operator receive time, Unix milliseconds (the chain's block-time unit).
    pub received_at_ms: u64,
    /// Priority tier; 0 is served first.
    pub tier: u8,
    /// Number of tickets; the best ticket counts, an entry wins at most once.
    pub weight: u16,
}

impl Entry {
    /// Its position in the entry set.
    pub fn id(&self) -> EntryId {
        EntryId {
            batch_no: self.batch_no,
            index: self.index,
        }
    }

    /// The canonical leaf bytes: every field, big-endian, in declaration order (95 bytes).
    pub fn leaf_bytes(&self) -> [u8; LEAF_BYTES] {
        let mut out = [0u8; LEAF_BYTES];
        let fields: [&[u8]; 9] = [
            &self.lottery_id.to_be_bytes(),
            &self.pool_id.to_be_bytes(),
            &self.batch_no.to_be_bytes(),
            &self.index.to_be_bytes(),
            &self.nullifier,
            &self.commitment,
            &self.received_at_ms.to_be_bytes(),
            &[self.tier],
            &self.weight.to_be_bytes(),
        ];
        let mut at = 0;
        for field in fields {
            out[at..at + field.len()].copy_from_slice(field);
            at += field.len();
        }
        assert_eq!(at, LEAF_BYTES, "the leaf layout covers every byte");
        out
    }

    /// `SHA-256(0x00 || "mtl/leaf/v1" || leaf bytes)`: the entry's identity everywhere else.
    pub fn leaf_hash(&self) -> Hash {
        sha256(&[&[0x00], LEAF_TAG, &self.leaf_bytes()])
    }

    /// The entry's score: the smallest of its `weight` ticket scores, or `None` for weight 0
    /// (an entry without tickets cannot be ranked; the draw refuses it).
    pub fn score(&self, seed: &Hash, leaf_hash: &Hash) -> Option<Hash> {
        entry_score(seed, self.lottery_id, self.pool_id, leaf_hash, self.weight)
    }
}

/// The operator's eligibility decision on one entry, committed before the seed exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Status {
    /// [`Entry::leaf_hash`] of the entry this decision is about.
    #[serde(with = "crate::serde_hex")]
    pub leaf_hash: Hash,
    pub eligible: bool,
    /// Hash of the exclusion reason code; all zero exactly when `eligible`.
    #[serde(with = "crate::serde_hex")]
    pub reason_hash: Hash,
}

impl Status {
    /// An eligible entry: no reason.
    pub fn eligible(leaf_hash: Hash) -> Self {
        Self {
            leaf_hash,
            eligible: true,
            reason_hash: [0; 32],
        }
    }

    /// An excluded entry; `reason_hash` must not be all zero.
    pub fn excluded(leaf_hash: Hash, reason_hash: Hash) -> Self {
        Self {
            leaf_hash,
            eligible: false,
            reason_hash,
        }
    }

    /// Eligible entries carry the zero reason, excluded ones a non-zero reason, so each
    /// decision has exactly one encoding.
    pub fn is_well_formed(&self) -> bool {
        self.eligible == (self.reason_hash == [0; 32])
    }

    /// `SHA-256(0x00 || "mtl/status/v1" || leaf_hash || eligible (1 byte, 0 or 1) || reason)`.
    pub fn hash(&self) -> Hash {
        sha256(&[
            &[0x00],
            STATUS_TAG,
            &self.leaf_hash,
            &[u8::from(self.eligible)],
            &self.reason_hash,
        ])
    }
}

/// Tag at the start of every seed message (the bytes the validators' shares sign).
pub const SEED_MESSAGE_TAG: &[u8] = b"mtl/seed-msg/v1";
/// Longest chain id a seed message can carry (its length is one byte).
pub const SEED_CHAIN_ID_BYTES_MAX: usize = 255;

/// The seed message of a lottery (design 6.4; jiu-beacon's `SeedMessage::to_bytes`, pinned
/// by a golden test): `"mtl/seed-msg/v1" || len(chain_id) (1) || chain_id || lottery_id (8)
/// || rules_hash (32) || entries_root (32) || status_root (32)`. `None` for an empty chain id
/// or one longer than [`SEED_CHAIN_ID_BYTES_MAX`] bytes.
pub fn seed_message(
    chain_id: &str,
    lottery_id: u64,
    rules_hash: &Hash,
    entries_root: &Hash,
    status_root: &Hash,
) -> Option<Vec<u8>> {
    let chain = chain_id.as_bytes();
    let len = u8::try_from(chain.len()).ok().filter(|len| *len > 0)?;
    Some(
        [
            SEED_MESSAGE_TAG,
            &[len],
            chain,
            &lottery_id.to_be_bytes(),
            rules_hash,
            entries_root,
            status_root,
        ]
        .concat(),
    )
}

/// The fields of `message` that differ from `expected` (both seed messages), by name: the
/// first of `chain_id`, `lottery_id`, `rules_hash`, `entries_root`, `status_root`, or
/// `encoding` when `message` is not a well-formed seed message.
pub fn seed_message_difference(expected: &[u8], message: &[u8]) -> &'static str {
    let (Some(want), Some(got)) = (split_seed_message(expected), split_seed_message(message))
    else {
        return "encoding";
    };
    let names = [
        "chain_id",
        "lottery_id",
        "rules_hash",
        "entries_root",
        "status_root",
    ];
    names
        .iter()
        .zip(want.iter().zip(got.iter()))
        .find(|(_, (w, g))| w != g)
        .map_or("encoding", |(name, _)| name)
}

/// A seed message cut into its five fields, or `None` if it is not one.
fn split_seed_message(message: &[u8]) -> Option<[&[u8]; 5]> {
    let rest = message.strip_prefix(SEED_MESSAGE_TAG)?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if len == 0 || rest.len() != len + 8 + 3 * 32 {
        return None;
    }
    let (chain_id, rest) = rest.split_at(len);
    std::str::from_utf8(chain_id).ok()?;
    let (lottery_id, rest) = rest.split_at(8);
    let (rules_hash, rest) = rest.split_at(32);
    let (entries_root, status_root) = rest.split_at(32);
    Some([chain_id, lottery_id, rules_hash, entries_root, status_root])
}

/// `seed = SHA-256("mtl/seed/v1" || signature)`, from the threshold signature's bytes.
/// The caller verifies the signature; this only fixes how the seed follows from it.
pub fn seed_from_signature(signature: &[u8]) -> Hash {
    sha256(&[SEED_TAG, signature])
}

/// One ticket's score. `ticket` is `None` for a weight-1 entry (no ticket suffix) and
/// `Some(j)` for ticket `j` of a heavier entry.
pub fn ticket_score(
    seed: &Hash,
    lottery_id: u64,
    pool_id: u32,
    leaf_hash: &Hash,
    ticket: Option<u16>,
) -> Hash {
    let mut hasher = score_prefix(seed, lottery_id, pool_id, leaf_hash);
    if let Some(j) = ticket {
        hasher.update(j.to_be_bytes());
    }
    hasher.finalize().into()
}

/// The minimum over tickets `0..weight` of [`ticket_score`]; a weight-1 entry has the single
/// suffix-free ticket. `None` for weight 0.
pub fn entry_score(
    seed: &Hash,
    lottery_id: u64,
    pool_id: u32,
    leaf_hash: &Hash,
    weight: u16,
) -> Option<Hash> {
    let prefix = score_prefix(seed, lottery_id, pool_id, leaf_hash);
    match weight {
        0 => None,
        1 => Some(prefix.finalize().into()),
        // The 88-byte prefix is hashed once; each ticket then costs one compression.
        _ => (0..weight)
            .map(|j| -> Hash {
                prefix
                    .clone()
                    .chain_update(j.to_be_bytes())
                    .finalize()
                    .into()
            })
            .min(),
    }
}

fn score_prefix(seed: &Hash, lottery_id: u64, pool_id: u32, leaf_hash: &Hash) -> Sha256 {
    Sha256::new()
        .chain_update(SCORE_TAG)
        .chain_update(seed)
        .chain_update(lottery_id.to_be_bytes())
        .chain_update(pool_id.to_be_bytes())
        .chain_update(leaf_hash)
}

/// `SHA-256("mtl/commitment/v1" || salt || account_id)`: what the app checks its leaf's
/// commitment against. The salt stays on the device.
pub fn applicant_commitment(salt: &Hash, account_id: &[u8]) -> Hash {
    sha256(&[COMMITMENT_TAG, salt, account_id])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry() -> Entry {
        Entry {
            lottery_id: 0x0102_0304_0506_0708,
            pool_id: 0x1112_1314,
            batch_no: 0x2122_2324,
            index: 0x3132_3334,
            nullifier: [0x41; 32],
            commitment: [0x51; 32],
            received_at_ms: 0x6162_6364_6566_6768,
            tier: 0x71,
            weight: 0x8182,
        }
    }

    #[test]
    fn test_leaf_bytes_are_big_endian_fields_in_order() {
        let bytes = entry().leaf_bytes();
        let expected = [
            &[1, 2, 3, 4, 5, 6, 7, 8][..],
            &[0x11, 0x12, 0x13, 0x14],
            &[0x21, 0x22, 0x23, 0x24],
            &[0x31, 0x32, 0x33, 0x34],
            &[0x41; 32],
            &[0x51; 32],
            &[0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68],
            &[0x71],
            &[0x81, 0x82],
        ]
        .concat();
        assert_eq!(bytes.to_vec(), expected);
        let mut preimage = vec![0x00];
        preimage.extend_from_slice(b"mtl/leaf/v1");
        preimage.extend_from_slice(&expected);
        assert_eq!(entry().leaf_hash(), sha256(&[&preimage]));
    }

    #[test]
    fn test_every_field_changes_the_leaf_hash() {
        let base = entry().leaf_hash();
        let changes: [fn(&mut Entry); 9] = [
            |e| e.lottery_id ^= 1,
            |e| e.pool_id ^= 1,
            |e| e.batch_no ^= 1,
            |e| e.index ^= 1,
            |e| e.nullifier[31] ^= 1,
            |e| e.commitment[0] ^= 1,
            |e| e.received_at_ms ^= 1,
            |e| e.tier ^= 1,
            |e| e.weight ^= 1,
        ];
        for change in changes {
            let mut changed = entry();
            change(&mut changed);
            assert_ne!(changed.leaf_hash(), base);
        }
    }

    #[test]
    fn test_status_hash_encoding_and_well_formedness() {
        let leaf = [7; 32];
        let eligible = Status::eligible(leaf);
        let mut preimage = vec![0x00];
        preimage.extend_from_slice(b"mtl/status/v1");
        preimage.extend_from_slice(&leaf);
        preimage.push(1);
        preimage.extend_from_slice(&[0; 32]);
        assert_eq!(eligible.hash(), sha256(&[&preimage]));
        assert!(eligible.is_well_formed());
        assert!(Status::excluded(leaf, [9; 32]).is_well_formed());
        assert!(!Status::excluded(leaf, [0; 32]).is_well_formed());
        let mut with_reason = eligible.clone();
        with_reason.reason_hash = [9; 32];
        assert!(!with_reason.is_well_formed());
        assert_ne!(Status::excluded(leaf, [9; 32]).hash(), eligible.hash());
    }

    #[test]
    fn test_score_is_min_over_tickets_and_weight_one_has_no_suffix() {
        let (seed, leaf) = ([3; 32], [4; 32]);
        let single = ticket_score(&seed, 9, 5, &leaf, None);
        let mut preimage = b"mtl/score/v1".to_vec();
        preimage.extend_from_slice(&seed);
        preimage.extend_from_slice(&9u64.to_be_bytes());
        preimage.extend_from_slice(&5u32.to_be_bytes());
        preimage.extend_from_slice(&leaf);
        assert_eq!(single, sha256(&[&preimage]));
        assert_eq!(entry_score(&seed, 9, 5, &leaf, 1), Some(single));
        assert_eq!(entry_score(&seed, 9, 5, &leaf, 0), None);

        preimage.extend_from_slice(&[0, 2]);
        assert_eq!(
            ticket_score(&seed, 9, 5, &leaf, Some(2)),
            sha256(&[&preimage])
        );
        let tickets: Vec<Hash> = (0..7)
            .map(|j| ticket_score(&seed, 9, 5, &leaf, Some(j)))
            .collect();
        let best = tickets.iter().min().copied();
        assert_eq!(entry_score(&seed, 9, 5, &leaf, 7), best);
        assert!(!tickets.contains(&single), "weight 1 is not ticket 0");
    }

    #[test]
    fn test_seed_and_commitment_encodings() {
        assert_eq!(
            seed_from_signature(b"sig"),
            sha256(&[b"mtl/seed/v1sig".as_slice()])
        );
        assert_eq!(
            applicant_commitment(&[1; 32], b"acct"),
            sha256(&[b"mtl/commitment/v1", &[1; 32], b"acct"])
        );
    }

    proptest! {
        #[test]
        fn test_entry_and_status_round_trip_through_borsh_and_json(
            ids in any::<(u64, u32, u32, u32)>(),
            hashes in any::<([u8; 32], [u8; 32])>(),
            rest in any::<(u64, u8, u16, bool)>(),
        ) {
            let entry = Entry {
                lottery_id: ids.0,
                pool_id: ids.1,
                batch_no: ids.2,
                index: ids.3,
                nullifier: hashes.0,
                commitment: hashes.1,
                received_at_ms: rest.0,
                tier: rest.1,
                weight: rest.2,
            };
            let borsh_back: Entry = borsh::from_slice(&borsh::to_vec(&entry).expect("encodes"))
                .expect("decodes");
            prop_assert_eq!(&borsh_back, &entry);
            let json = serde_json::to_string(&entry).expect("encodes");
            prop_assert_eq!(&serde_json::from_str::<Entry>(&json).expect("decodes"), &entry);
            prop_assert_eq!(borsh_back.leaf_hash(), entry.leaf_hash());

            let status = Status { leaf_hash: hashes.0, eligible: rest.3, reason_hash: hashes.1 };
            let json = serde_json::to_string(&status).expect("encodes");
            prop_assert_eq!(serde_json::from_str::<Status>(&json).expect("decodes"), status);
        }
    }

    proptest! {
        #[test]
        fn test_seed_message_is_the_beacons_byte_for_byte(
            chain_id in "[a-zA-Z0-9._-]{1,64}",
            lottery_id in any::<u64>(),
            hashes in any::<([u8; 32], [u8; 32], [u8; 32])>(),
        ) {
            let ours = seed_message(&chain_id, lottery_id, &hashes.0, &hashes.1, &hashes.2)
                .expect("valid chain id");
            let beacon = jiu_beacon::SeedMessage::new(&chain_id, lottery_id, hashes.0, hashes.1, hashes.2)
                .expect("valid chain id");
            prop_assert_eq!(&ours, &beacon.to_bytes());
            prop_assert_eq!(seed_message_difference(&ours, &ours), "encoding");
        }
    }

    #[test]
    fn test_seed_message_bounds_and_differences() {
        let message =
            |chain: &str, id: u64, h: u8| seed_message(chain, id, &[h; 32], &[2; 32], &[3; 32]);
        assert_eq!(message("", 1, 1), None);
        assert!(message(&"x".repeat(SEED_CHAIN_ID_BYTES_MAX), 1, 1).is_some());
        assert_eq!(
            message(&"x".repeat(SEED_CHAIN_ID_BYTES_MAX + 1), 1, 1),
            None
        );
        let base = message("jiu", 1, 1).expect("valid");
        let differs = |other: &[u8]| seed_message_difference(&base, other);
        assert_eq!(differs(&message("jiv", 1, 1).expect("valid")), "chain_id");
        assert_eq!(differs(&message("jiu", 2, 1).expect("valid")), "lottery_id");
        assert_eq!(differs(&message("jiu", 1, 9).expect("valid")), "rules_hash");
        let mut entries = base.clone();
        entries[15 + 1 + 3 + 8 + 32] ^= 1;
        assert_eq!(differs(&entries), "entries_root");
        let mut status = base.clone();
        *status.last_mut().expect("not empty") ^= 1;
        assert_eq!(differs(&status), "status_root");
        assert_eq!(differs(&base[..base.len() - 1]), "encoding");
        assert_eq!(differs(b"mtl/seed-msg/v1"), "encoding");
    }

    #[test]
    fn test_json_refuses_a_hash_of_the_wrong_length() {
        let json = r#"{"leaf_hash":"00","eligible":true,"reason_hash":"00"}"#;
        assert!(serde_json::from_str::<Status>(json).is_err());
    }
}
