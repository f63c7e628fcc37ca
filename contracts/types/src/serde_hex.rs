//! Byte strings as lowercase hex in JSON, for `#[serde(with = "crate::serde_hex")]`.
//!
//! Works for `Hash`, `[u8; 64]` and `Vec<u8>`: anything that is bytes and can be built from a
//! `Vec<u8>` of the right length. A wrong length is a deserialization error, not a panic.

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer, T: AsRef<[u8]>>(
    bytes: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(bytes.as_ref()))
}

pub fn deserialize<'de, D: Deserializer<'de>, T: TryFrom<Vec<u8>>>(
    deserializer: D,
) -> Result<T, D::Error> {
    let text = <String as Deserialize>::deserialize(deserializer)?;
    let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
    let len = bytes.len();
    T::try_from(bytes)
        .map_err(|_| serde::de::Error::custom(format!("unexpected byte length {len}")))
}
