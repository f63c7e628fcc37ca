//! Basic types shared by every transition: hashes, keys, roles, organisations.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 over the concatenation of `parts`.
/// Lowercase hex of `bytes` (fast; see [`crate::serde_hex::encode`]).
pub fn hex_encode(bytes: &[u8]) -> String {
    crate::serde_hex::encode(bytes)
}

pub fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// An ed25519 public key, as its 32 compressed bytes. Serialized as lowercase hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The public half of a signing key.
    pub fn from_signing_key(key: &SigningKey) -> Self {
        Self(key.verifying_key().to_bytes())
    }

    /// The dalek verifying key; fails when the bytes are not a valid curve point.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::NotOnCurve)
    }

    /// Lowercase hex of the 32 bytes.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Why bytes or text are not a public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("public key must be 64 hex characters (32 bytes)")]
    BadHex,
    #[error("public key is not a valid ed25519 point")]
    NotOnCurve,
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s).map_err(|_| KeyError::BadHex)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadHex)?;
        let key = Self(bytes);
        key.verifying_key()?;
        Ok(key)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What an organisation is in the supply chain. Decides which transactions it may sign.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Makes the bottles; administers the consortium registry.
    Producer,
    /// Moves cases and pallets between producer and stores.
    Distributor,
    /// The shop that sells to consumers.
    Store,
    /// Reads and checks; signs nothing that changes custody.
    Auditor,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 4] = [
        Role::Producer,
        Role::Distributor,
        Role::Store,
        Role::Auditor,
    ];

    /// The lowercase name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Distributor => "distributor",
            Role::Store => "store",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}' (expected producer, distributor, store or auditor)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A member organisation of the consortium and the keys that sign for it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Org {
    /// Stable identifier: 1 to 64 characters of `a-z 0-9 - _ .`.
    pub id: String,
    /// Human-readable name, at most 128 bytes.
    pub name: String,
    pub role: Role,
    /// Signing keys, sorted and unique, 1 to 16 of them.
    pub keys: Vec<PublicKey>,
    /// An inactive organisation's keys sign nothing.
    pub active: bool,
    /// Its GS1 party GLN (AI 417), how EPCIS documents name it (source and destination
    /// lists); unique across orgs. Set by the producer with `SetOrgPgln`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgln: Option<crate::gs1::Gln>,
}
