//! Byte strings as lowercase hex in JSON, for `#[serde(with = "crate::serde_hex")]`.
//!
//! Works for `Hash`, `[u8; 64]` and `Vec<u8>`: anything that is bytes and can be built from a
//! `Vec<u8>` of the right length. A wrong length is a deserialization error, not a panic.

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer, T: AsRef<[u8]>>(
    bytes: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&encode(bytes.as_ref()))
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

/// Lowercase hex of `bytes`, as `hex::encode` gives, with a table lookup per byte: proofs
/// put thousands of hex characters into every verify answer, and `hex::encode`'s
/// char-by-char iterator showed up in the profile.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 0x0f)]);
    }
    // Only ASCII digits were pushed.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn test_encode_matches_the_hex_crate(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(super::encode(&bytes), hex::encode(&bytes));
        }
    }
}
