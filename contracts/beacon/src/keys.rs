//! Key material: the group key, the public polynomial that goes into genesis, a validator's
//! secret share, and the byte and JSON encodings of each.
//!
//! Points are compressed (ZCash / IETF BLS encoding): G2 96 bytes, G1 48 bytes; scalars are
//! 32 bytes big-endian. Decoding checks that a point is on the curve, in the prime-order
//! subgroup and not the identity, so a malicious point cannot reach a pairing.

use std::fmt;
use std::num::NonZeroU32;

use borsh::{BorshDeserialize, BorshSerialize};
use commonware_codec::{Decode, Encode, FixedSize, Read};
use commonware_cryptography::bls12381::primitives::group::{Private, Scalar, Share, G1, G2};
use commonware_cryptography::bls12381::primitives::sharing::{ModeVersion, Sharing};
use commonware_cryptography::bls12381::primitives::variant::{MinSig, Variant};
use commonware_utils::Participant;
use jiu_types::PublicKey;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Most participants (validators) a group may have. The design plans for 4 to 50; the bound
/// keeps decoding of peer bytes (polynomials, dealer logs) small.
pub const PARTICIPANTS_MAX: u32 = 256;

/// Signatures needed out of `n`: `t = n - f` with `f = floor((n - 1) / 3)`, the BFT quorum.
/// Fewer than `t` colluding validators can neither compute nor predict a seed; up to `f`
/// offline validators do not stop one. Returns 0 for `n = 0`.
pub const fn threshold(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        n - (n - 1) / 3
    }
}

/// Decodes a commonware object that must fill `bytes` exactly.
pub(crate) fn decode<T: Read>(what: &'static str, bytes: &[u8], cfg: &T::Cfg) -> Result<T> {
    T::decode_cfg(commonware_codec::Copying(bytes), cfg)
        .map_err(|error| Error::malformed(what, error))
}

pub(crate) fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| Error::malformed(what, format!("expected {N} bytes, got {}", bytes.len())))
}

/// A compressed, validated curve point with hex JSON and fixed-array borsh encodings.
macro_rules! point_type {
    ($(#[$doc:meta])* $name:ident, $group:ty, $len:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub(crate) $group);

        impl $name {
            /// Length of the compressed encoding.
            pub const BYTES: usize = $len;

            /// The compressed point.
            pub fn to_bytes(&self) -> [u8; $len] {
                let mut out = [0u8; $len];
                out.copy_from_slice(&commonware_codec::Encode::encode(&self.0));
                out
            }

            /// Parses a compressed point; refuses anything off the curve, outside the
            /// subgroup, or the identity.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
                let bytes: [u8; $len] = $crate::keys::fixed($what, bytes)?;
                $crate::keys::decode::<$group>($what, &bytes, &()).map(Self)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), hex::encode(self.to_bytes()))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                crate::serde_hex::serialize(&self.to_bytes(), serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                let bytes: [u8; $len] = crate::serde_hex::deserialize(deserializer)?;
                Self::from_bytes(&bytes).map_err(serde::de::Error::custom)
            }
        }

        impl borsh::BorshSerialize for $name {
            fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
                writer.write_all(&self.to_bytes())
            }
        }

        impl borsh::BorshDeserialize for $name {
            fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
                let mut bytes = [0u8; $len];
                reader.read_exact(&mut bytes)?;
                Self::from_bytes(&bytes).map_err($crate::keys::invalid_data)
            }
        }
    };
}
pub(crate) use point_type;

pub(crate) fn invalid_data(error: Error) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
}

point_type!(
    /// The group public key `PK_G` (G2, 96 bytes): the one value an app pins to verify every
    /// seed. It is the constant term of the public polynomial.
    GroupKey,
    G2,
    96,
    "group key"
);

point_type!(
    /// One coefficient of the public polynomial, `g2^{a_j}` (G2, 96 bytes).
    Commitment,
    G2,
    96,
    "commitment"
);

const _: () = assert!(G2::SIZE == 96 && G1::SIZE == 48 && Scalar::SIZE == 32);

/// The public outcome of the ceremony, for genesis: who holds share `i`, how many shares sign,
/// the group key, and the public polynomial that gives each share's public key (to check a
/// partial signature before combining it).
///
/// Invariants (checked on every decode): `1 <= n <= PARTICIPANTS_MAX`,
/// `threshold == threshold(n)`, `commitments.len() == threshold`, `commitments[0] ==
/// group_key`, `participants` has `n` keys in strictly ascending byte order and share index
/// `i` belongs to `participants[i]`.
#[derive(Clone, PartialEq, Eq)]
pub struct GroupPublic {
    raw: GroupPublicRaw,
    sharing: Sharing<MinSig>,
}

/// The JSON and borsh shape of [`GroupPublic`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
struct GroupPublicRaw {
    n: u32,
    threshold: u32,
    group_key: GroupKey,
    commitments: Vec<Commitment>,
    participants: Vec<PublicKey>,
}

impl GroupPublic {
    pub(crate) fn from_sharing(
        sharing: Sharing<MinSig>,
        participants: Vec<PublicKey>,
    ) -> Result<Self> {
        let commitments = sharing_commitments(&sharing)?;
        let n = sharing.total().get();
        let raw = GroupPublicRaw {
            n,
            threshold: sharing.required(),
            group_key: GroupKey(*sharing.public()),
            commitments,
            participants,
        };
        Self::try_from(raw)
    }

    /// Number of participants (shares).
    pub fn n(&self) -> u32 {
        self.raw.n
    }

    /// Partial signatures needed to make a signature: [`threshold`]`(n)`.
    pub fn threshold(&self) -> u32 {
        self.raw.threshold
    }

    /// The group key every seed signature verifies against.
    pub fn group_key(&self) -> &GroupKey {
        &self.raw.group_key
    }

    /// The public polynomial's coefficients, constant term (the group key) first.
    pub fn commitments(&self) -> &[Commitment] {
        &self.raw.commitments
    }

    /// The participants' identity keys; share `i` belongs to `participants()[i]`.
    pub fn participants(&self) -> &[PublicKey] {
        &self.raw.participants
    }

    /// The share index of `key`, if it is a participant.
    pub fn index_of(&self, key: &PublicKey) -> Option<u32> {
        let position = self.raw.participants.binary_search(key).ok()?;
        u32::try_from(position).ok()
    }

    /// The public key of share `index` (the polynomial at `index + 1`).
    pub fn share_key(&self, index: u32) -> Result<GroupKey> {
        if index >= self.raw.n {
            return Err(Error::UnknownSigner {
                index,
                n: self.raw.n,
            });
        }
        self.sharing
            .partial_public(Participant::new(index))
            .map(GroupKey)
            .map_err(|_| Error::UnknownSigner {
                index,
                n: self.raw.n,
            })
    }

    pub(crate) fn sharing(&self) -> &Sharing<MinSig> {
        &self.sharing
    }
}

impl fmt::Debug for GroupPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt(f)
    }
}

impl TryFrom<GroupPublicRaw> for GroupPublic {
    type Error = Error;

    fn try_from(raw: GroupPublicRaw) -> Result<Self> {
        check_threshold(raw.n, raw.threshold)?;
        if raw.commitments.len() != raw.threshold as usize {
            return Err(Error::Inconsistent(
                "the public polynomial needs exactly `threshold` commitments",
            ));
        }
        if raw.commitments[0].0 != raw.group_key.0 {
            return Err(Error::Inconsistent(
                "the group key is not the polynomial's constant term",
            ));
        }
        if raw.participants.len() != raw.n as usize {
            return Err(Error::Inconsistent(
                "the group needs exactly `n` participants",
            ));
        }
        if let Some(pair) = raw.participants.windows(2).find(|w| w[0] >= w[1]) {
            return Err(if pair[0] == pair[1] {
                Error::DuplicateParticipant(pair[1])
            } else {
                Error::Inconsistent("participants must be in ascending byte order")
            });
        }
        let sharing = sharing_from_parts(raw.n, &raw.commitments)?;
        // The codec refuses identity coefficients, so the polynomial has exact degree t - 1:
        // no fewer than `threshold` shares can interpolate it.
        assert_eq!(
            sharing.required(),
            raw.threshold,
            "commitments are non-identity"
        );
        Ok(Self { raw, sharing })
    }
}

impl Serialize for GroupPublic {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.raw, serializer)
    }
}

impl<'de> Deserialize<'de> for GroupPublic {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let raw = <GroupPublicRaw as serde::Deserialize>::deserialize(deserializer)?;
        Self::try_from(raw).map_err(serde::de::Error::custom)
    }
}

impl BorshSerialize for GroupPublic {
    fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        BorshSerialize::serialize(&self.raw, writer)
    }
}

impl BorshDeserialize for GroupPublic {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        // Bound the lists before borsh allocates them: a u32 count could ask for gigabytes.
        let raw = GroupPublicRaw::deserialize_reader(&mut std::io::Read::take(
            reader,
            GROUP_PUBLIC_BORSH_MAX,
        ))?;
        Self::try_from(raw).map_err(invalid_data)
    }
}

/// Largest borsh encoding of a [`GroupPublic`]: two counts, `PARTICIPANTS_MAX` commitments and
/// keys, with length prefixes.
const GROUP_PUBLIC_BORSH_MAX: u64 =
    8 + 96 + 4 + 96 * PARTICIPANTS_MAX as u64 + 4 + 32 * PARTICIPANTS_MAX as u64;

pub(crate) fn check_threshold(n: u32, t: u32) -> Result<()> {
    let expected = threshold(n);
    if n == 0 || n > PARTICIPANTS_MAX || t != expected {
        return Err(Error::BadThreshold {
            n,
            threshold: t,
            expected,
        });
    }
    Ok(())
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Rebuilds commonware's `Sharing` from `n` and the coefficients through its codec:
/// `mode (1 byte, 0 = evaluation points 1..=n) || n (u32 BE) || varint(t) || t x 96 bytes`.
fn sharing_from_parts(n: u32, commitments: &[Commitment]) -> Result<Sharing<MinSig>> {
    let mut bytes = Vec::with_capacity(1 + 4 + 5 + commitments.len() * 96);
    bytes.push(0);
    bytes.extend_from_slice(&n.to_be_bytes());
    bytes.extend_from_slice(&commonware_codec::varint::UInt(commitments.len() as u32).encode());
    for commitment in commitments {
        bytes.extend_from_slice(&commitment.to_bytes());
    }
    decode::<Sharing<MinSig>>(
        "public polynomial",
        &bytes,
        &(nonzero(PARTICIPANTS_MAX), ModeVersion::v0()),
    )
}

/// The coefficients of a `Sharing`, read back from its encoding (commonware exposes only the
/// constant term directly).
fn sharing_commitments(sharing: &Sharing<MinSig>) -> Result<Vec<Commitment>> {
    let bytes = sharing.encode();
    let t = sharing.required() as usize;
    let prefix = bytes
        .len()
        .checked_sub(t * 96)
        .ok_or_else(|| Error::malformed("public polynomial", "shorter than its coefficients"))?;
    bytes[prefix..]
        .chunks_exact(96)
        .map(Commitment::from_bytes)
        .collect()
}

/// One validator's share of the group secret, and the group key it belongs to. Only this
/// validator knows it; `threshold` of them together could sign anything, so it is kept like
/// a consensus key (file mode 0600, never logged: `Debug` redacts it).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretShare {
    pub(crate) share: Share,
    group_key: GroupKey,
}

/// The JSON and borsh shape of [`SecretShare`].
#[derive(Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
struct SecretShareRaw {
    index: u32,
    #[serde(with = "crate::serde_hex")]
    secret: [u8; 32],
    group_key: GroupKey,
}

impl SecretShare {
    pub(crate) fn new(share: Share, group_key: GroupKey) -> Self {
        Self { share, group_key }
    }

    /// The share index: this validator's position in [`GroupPublic::participants`].
    pub fn index(&self) -> u32 {
        self.share.index.get()
    }

    /// The group key this share belongs to.
    pub fn group_key(&self) -> &GroupKey {
        &self.group_key
    }

    /// This share's public key, `g2^secret`.
    pub fn public_key(&self) -> GroupKey {
        GroupKey(self.share.public::<MinSig>())
    }

    /// Refuses a share that does not belong to `public`: another group key, an index out of
    /// range, or a secret whose public key is not the polynomial at its index. A node runs
    /// this at start-up, so a wrong share file stops it instead of producing bad partials.
    pub fn check(&self, public: &GroupPublic) -> Result<()> {
        if self.group_key != *public.group_key() {
            return Err(Error::Inconsistent("the share is for another group key"));
        }
        if public.share_key(self.index())? != self.public_key() {
            return Err(Error::Inconsistent(
                "the share's public key is not the public polynomial at its index",
            ));
        }
        Ok(())
    }

    fn to_raw(&self) -> SecretShareRaw {
        let mut secret = [0u8; 32];
        self.share
            .private
            .expose(|scalar| secret.copy_from_slice(&scalar.encode()));
        SecretShareRaw {
            index: self.index(),
            secret,
            group_key: self.group_key,
        }
    }

    fn from_raw(raw: SecretShareRaw) -> Result<Self> {
        if raw.index >= PARTICIPANTS_MAX {
            return Err(Error::malformed("secret share", "index out of range"));
        }
        let private = decode::<Private>("secret share", &raw.secret, &())?;
        Ok(Self {
            share: Share::new(Participant::new(raw.index), private),
            group_key: raw.group_key,
        })
    }
}

impl fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretShare")
            .field("index", &self.index())
            .field("secret", &"[REDACTED]")
            .field("group_key", &self.group_key)
            .finish()
    }
}

impl Serialize for SecretShare {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.to_raw(), serializer)
    }
}

impl<'de> Deserialize<'de> for SecretShare {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        Self::from_raw(<SecretShareRaw as serde::Deserialize>::deserialize(
            deserializer,
        )?)
        .map_err(serde::de::Error::custom)
    }
}

impl BorshSerialize for SecretShare {
    fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        BorshSerialize::serialize(&self.to_raw(), writer)
    }
}

impl BorshDeserialize for SecretShare {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        Self::from_raw(SecretShareRaw::deserialize_reader(reader)?).map_err(invalid_data)
    }
}

/// The variant in use: public keys on G2 (96 bytes), signatures on G1 (48 bytes).
pub(crate) type V = MinSig;
const _: () = assert!(<<V as Variant>::Signature as FixedSize>::SIZE == 48);

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_utils::{Faults, N3f1};

    #[test]
    fn test_threshold_is_n_minus_f() {
        let table = [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 3),
            (5, 4),
            (7, 5),
            (10, 7),
            (50, 34),
        ];
        for (n, t) in table {
            assert_eq!(threshold(n), t, "n = {n}");
        }
        for n in 1..=PARTICIPANTS_MAX {
            assert_eq!(threshold(n), N3f1::quorum(n), "n = {n}");
        }
        assert_eq!(threshold(0), 0);
    }

    #[test]
    fn test_check_threshold_refuses_other_thresholds_and_sizes() {
        assert!(check_threshold(4, 3).is_ok());
        for (n, t) in [
            (4, 2),
            (4, 4),
            (0, 0),
            (PARTICIPANTS_MAX + 1, threshold(PARTICIPANTS_MAX + 1)),
        ] {
            assert_eq!(check_threshold(n, t).unwrap_err().code(), "BAD_THRESHOLD");
        }
    }

    #[test]
    fn test_points_refuse_garbage_identity_and_wrong_length() {
        assert!(GroupKey::from_bytes(&[0u8; 96]).is_err());
        let mut identity = [0u8; 96];
        identity[0] = 0xc0; // compressed point at infinity
        assert!(GroupKey::from_bytes(&identity).is_err());
        assert!(GroupKey::from_bytes(&[0u8; 95]).is_err());
        // The standard compressed G2 generator.
        let generator = hex::decode(
            "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac\
             7d055d042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac03\
             26a805bbefd48056c8c121bdb8",
        )
        .unwrap();
        let key = GroupKey::from_bytes(&generator).unwrap();
        assert_eq!(key.to_bytes().to_vec(), generator);
    }
}
