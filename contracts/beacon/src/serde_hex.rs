//! Fixed-size byte arrays as lowercase hex in JSON: `#[serde(with = "crate::serde_hex")]`.
//! A wrong length or a non-hex character is a deserialization error, not a panic.

use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer, const N: usize>(
    bytes: &[u8; N],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(bytes))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
    deserializer: D,
) -> Result<[u8; N], D::Error> {
    let text = <String as Deserialize>::deserialize(deserializer)?;
    decode(&text).map_err(serde::de::Error::custom)
}

pub(crate) fn decode<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes = hex::decode(text).map_err(|error| error.to_string())?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {len}"))
}
