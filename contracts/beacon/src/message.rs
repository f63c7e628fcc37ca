//! The seed message: the exact bytes every validator signs with its share (design 6.4).
//!
//! `"mtl/seed-msg/v1" || len(chain_id) (1) || chain_id || lottery_id (8) || rules_hash (32) ||
//! entries_root (32) || status_root (32)`. Integers are big-endian; the chain id is the only
//! variable-length field and carries a one-byte length, so every message has exactly one
//! encoding and no two field lists share one. The tag is in the same `mtl/` namespace as the
//! lottery's other tags (`docs/lottery-spec.md`); this crate does not depend on `jiu-lottery`,
//! so the tag is repeated here and pinned by a golden test.

use jiu_types::{sha256, Hash};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Domain tag at the start of every seed message.
pub const SEED_MESSAGE_TAG: &[u8] = b"mtl/seed-msg/v1";
/// Longest chain id a seed message can carry (its length is one byte). The genesis allows 64.
pub const CHAIN_ID_BYTES_MAX: usize = 255;

/// What the validators sign once a lottery's status commitment is finalized: the lottery and
/// the committed inputs of its draw. Every field is fixed before any share signs it.
///
/// Built with [`SeedMessage::new`] (or decoded), so the chain id always fits its one-byte
/// length and [`SeedMessage::to_bytes`] cannot fail.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "SeedMessageJson", into = "SeedMessageJson")]
pub struct SeedMessage {
    chain_id: String,
    lottery_id: u64,
    rules_hash: Hash,
    entries_root: Hash,
    status_root: Hash,
}

/// The JSON shape of [`SeedMessage`]: its fields by name, hashes in hex.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedMessageJson {
    chain_id: String,
    lottery_id: u64,
    #[serde(with = "crate::serde_hex")]
    rules_hash: Hash,
    #[serde(with = "crate::serde_hex")]
    entries_root: Hash,
    #[serde(with = "crate::serde_hex")]
    status_root: Hash,
}

impl SeedMessage {
    /// The seed message of a lottery. `chain_id` is the genesis chain id; `rules_hash`,
    /// `entries_root` and `status_root` are the finalized commitments. Refuses an empty
    /// chain id or one longer than [`CHAIN_ID_BYTES_MAX`] bytes.
    pub fn new(
        chain_id: &str,
        lottery_id: u64,
        rules_hash: Hash,
        entries_root: Hash,
        status_root: Hash,
    ) -> Result<Self> {
        if chain_id.is_empty() || chain_id.len() > CHAIN_ID_BYTES_MAX {
            return Err(Error::malformed(
                "seed message",
                format!(
                    "chain id is {} bytes, allowed 1..={CHAIN_ID_BYTES_MAX}",
                    chain_id.len()
                ),
            ));
        }
        Ok(Self {
            chain_id: chain_id.to_string(),
            lottery_id,
            rules_hash,
            entries_root,
            status_root,
        })
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    pub fn lottery_id(&self) -> u64 {
        self.lottery_id
    }

    pub fn rules_hash(&self) -> &Hash {
        &self.rules_hash
    }

    pub fn entries_root(&self) -> &Hash {
        &self.entries_root
    }

    pub fn status_root(&self) -> &Hash {
        &self.status_root
    }

    /// The signed bytes (see the module doc).
    pub fn to_bytes(&self) -> Vec<u8> {
        let chain_id = self.chain_id.as_bytes();
        let len = u8::try_from(chain_id.len()).expect("new() bounds the chain id to 255 bytes");
        let mut out = Vec::with_capacity(SEED_MESSAGE_TAG.len() + 1 + chain_id.len() + 8 + 96);
        out.extend_from_slice(SEED_MESSAGE_TAG);
        out.push(len);
        out.extend_from_slice(chain_id);
        out.extend_from_slice(&self.lottery_id.to_be_bytes());
        out.extend_from_slice(&self.rules_hash);
        out.extend_from_slice(&self.entries_root);
        out.extend_from_slice(&self.status_root);
        out
    }

    /// Parses [`Self::to_bytes`]; refuses anything else (wrong tag, length, UTF-8, trailing
    /// bytes). Never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |reason: &str| Error::malformed("seed message", reason);
        let rest = bytes
            .strip_prefix(SEED_MESSAGE_TAG)
            .ok_or_else(|| bad("wrong tag"))?;
        let (&len, rest) = rest.split_first().ok_or_else(|| bad("truncated"))?;
        let len = usize::from(len);
        if rest.len() != len + 8 + 32 * 3 {
            return Err(bad("wrong length"));
        }
        let (chain_id, rest) = rest.split_at(len);
        let chain_id = std::str::from_utf8(chain_id).map_err(|_| bad("chain id is not UTF-8"))?;
        let (lottery_id, rest) = rest.split_at(8);
        let (rules_hash, rest) = rest.split_at(32);
        let (entries_root, status_root) = rest.split_at(32);
        let array = |slice: &[u8]| -> Hash {
            let mut out = [0; 32];
            out.copy_from_slice(slice);
            out
        };
        let mut id = [0; 8];
        id.copy_from_slice(lottery_id);
        Self::new(
            chain_id,
            u64::from_be_bytes(id),
            array(rules_hash),
            array(entries_root),
            array(status_root),
        )
    }

    /// `SHA-256` of the signed bytes: what the signing guard remembers per lottery.
    pub fn digest(&self) -> Hash {
        sha256(&[&self.to_bytes()])
    }
}

impl TryFrom<SeedMessageJson> for SeedMessage {
    type Error = Error;

    fn try_from(json: SeedMessageJson) -> Result<Self> {
        Self::new(
            &json.chain_id,
            json.lottery_id,
            json.rules_hash,
            json.entries_root,
            json.status_root,
        )
    }
}

impl From<SeedMessage> for SeedMessageJson {
    fn from(message: SeedMessage) -> Self {
        Self {
            chain_id: message.chain_id,
            lottery_id: message.lottery_id,
            rules_hash: message.rules_hash,
            entries_root: message.entries_root,
            status_root: message.status_root,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message() -> SeedMessage {
        SeedMessage::new(
            "jiu-devnet",
            0x0102_0304_0506_0708,
            [0x11; 32],
            [0x22; 32],
            [0x33; 32],
        )
        .unwrap()
    }

    #[test]
    fn test_bytes_are_tag_length_prefixed_chain_id_then_big_endian_fields() {
        let bytes = message().to_bytes();
        let expected = [
            &b"mtl/seed-msg/v1"[..],
            &[10],
            b"jiu-devnet",
            &[1, 2, 3, 4, 5, 6, 7, 8],
            &[0x11; 32],
            &[0x22; 32],
            &[0x33; 32],
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(SeedMessage::from_bytes(&bytes).unwrap(), message());
    }

    #[test]
    fn test_every_field_changes_the_bytes() {
        let base = message().to_bytes();
        let changes: [fn(&mut SeedMessage); 6] = [
            |m| m.chain_id.push('x'),
            |m| m.chain_id = "jiu-devneu".into(),
            |m| m.lottery_id ^= 1,
            |m| m.rules_hash[0] ^= 1,
            |m| m.entries_root[31] ^= 1,
            |m| m.status_root[7] ^= 1,
        ];
        for change in changes {
            let mut changed = message();
            change(&mut changed);
            assert_ne!(changed.to_bytes(), base);
            assert_ne!(changed.digest(), message().digest());
        }
    }

    #[test]
    fn test_chain_id_length_is_bounded() {
        let new = |chain_id: &str| SeedMessage::new(chain_id, 1, [0; 32], [0; 32], [0; 32]);
        assert_eq!(new("").unwrap_err().code(), "MALFORMED");
        let longest = new(&"x".repeat(CHAIN_ID_BYTES_MAX)).unwrap();
        assert_eq!(
            SeedMessage::from_bytes(&longest.to_bytes()).unwrap(),
            longest
        );
        assert_eq!(
            new(&"x".repeat(CHAIN_ID_BYTES_MAX + 1)).unwrap_err().code(),
            "MALFORMED"
        );
        let json = r#"{"chain_id":"","lottery_id":1,"rules_hash":"00","entries_root":"00","status_root":"00"}"#;
        assert!(serde_json::from_str::<SeedMessage>(json).is_err());
    }

    #[test]
    fn test_from_bytes_refuses_truncated_extended_and_retagged() {
        let bytes = message().to_bytes();
        for cut in 0..bytes.len() {
            assert!(SeedMessage::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(SeedMessage::from_bytes(&longer).is_err());
        let mut retagged = bytes;
        retagged[0] ^= 1;
        assert!(SeedMessage::from_bytes(&retagged).is_err());
    }

    proptest! {
        #[test]
        fn test_round_trip(
            chain_id in "[a-zA-Z0-9._-]{1,64}",
            lottery_id in any::<u64>(),
            hashes in any::<([u8; 32], [u8; 32], [u8; 32])>(),
        ) {
            let m = SeedMessage::new(&chain_id, lottery_id, hashes.0, hashes.1, hashes.2).unwrap();
            let bytes = m.to_bytes();
            prop_assert_eq!(&SeedMessage::from_bytes(&bytes).unwrap(), &m);
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(&serde_json::from_str::<SeedMessage>(&json).unwrap(), &m);
        }

        #[test]
        fn test_from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = SeedMessage::from_bytes(&bytes);
        }

        #[test]
        fn test_from_bytes_never_panics_after_the_tag(
            bytes in proptest::collection::vec(any::<u8>(), 0..300)
        ) {
            let input = [SEED_MESSAGE_TAG, &bytes].concat();
            if let Ok(m) = SeedMessage::from_bytes(&input) {
                prop_assert_eq!(m.to_bytes(), input);
            }
        }
    }
}
