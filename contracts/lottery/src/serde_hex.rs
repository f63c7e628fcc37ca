//! Hashes as lowercase hex in JSON: `#[serde(with = "crate::serde_hex")]` for one `Hash`,
//! `#[serde(with = "crate::serde_hex::list")]` for a `Vec<Hash>`. A wrong length is a
//! deserialization error, not a panic.

use jiu_types::Hash;
use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(hash: &Hash, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(hash))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Hash, D::Error> {
    let text = <String as Deserialize>::deserialize(deserializer)?;
    decode(&text).map_err(serde::de::Error::custom)
}

fn decode(text: &str) -> Result<Hash, String> {
    let bytes = hex::decode(text).map_err(|error| error.to_string())?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| format!("expected 32 bytes, got {len}"))
}

pub(crate) mod list {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        hashes: &[Hash],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(hashes.iter().map(hex::encode))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Hash>, D::Error> {
        let texts = <Vec<String> as Deserialize>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| decode(text).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Arbitrary bytes (a seed message, a signature) as one hex string.
pub(crate) mod bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = <String as Deserialize>::deserialize(deserializer)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}
