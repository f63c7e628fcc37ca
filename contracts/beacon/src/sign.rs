//! Partial signatures, their combination into the unique threshold signature, and the seed.
//!
//! Each share signs `H(m)^{s_i}` with `H` the RFC 9380 hash to G1 under
//! [`SEED_SIGNATURE_DST`] and `m` the seed message bytes (no other prefix). Any `t` valid
//! partials interpolate (Lagrange at 0) to `H(m)^s`, the same point whichever `t` are used,
//! because BLS signatures are unique per key and message. The chain checks
//! `e(sigma, g2) == e(H(m), PK_G)` and derives `seed = SHA-256("mtl/seed/v1" || sigma)`.

use borsh::{BorshDeserialize, BorshSerialize};
use commonware_cryptography::bls12381::primitives::group::{DST, G1};
use commonware_cryptography::bls12381::primitives::ops::{self, threshold as tops};
use commonware_cryptography::bls12381::primitives::variant::PartialSignature as Partial;
use commonware_parallel::Sequential;
use commonware_utils::Participant;
use jiu_types::{sha256, Hash};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::keys::{point_type, GroupKey, GroupPublic, SecretShare, V};
use crate::message::SeedMessage;

/// Hash-to-curve domain separation tag of the seed signature (RFC 9380 section 3.1 format:
/// application, version, ciphersuite). A verifier hashes the seed message to G1 with
/// `BLS12381G1_XMD:SHA-256_SSWU_RO_` under exactly this tag.
pub const SEED_SIGNATURE_DST: DST = b"JIU-MTL-SEED-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
/// Tag of the seed: `seed = SHA-256(tag || signature (48 bytes))`, as in `jiu-lottery`.
pub const SEED_TAG: &[u8] = b"mtl/seed/v1";

point_type!(
    /// The threshold signature `sigma` over a seed message (G1, 48 bytes): unique for the
    /// group key and message, so the seed it gives is too.
    Signature,
    G1,
    48,
    "signature"
);

/// One validator's signature share: its share index and `H(m)^{s_i}` (G1). Encoded as
/// `index (4, BE) || point (48)`; in JSON `{"index": i, "value": "<hex>"}`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct PartialSignature {
    pub index: u32,
    pub value: Signature,
}

impl PartialSignature {
    /// Length of [`Self::to_bytes`].
    pub const BYTES: usize = 4 + 48;

    /// `index (4, BE) || point (48)`.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        out[..4].copy_from_slice(&self.index.to_be_bytes());
        out[4..].copy_from_slice(&self.value.to_bytes());
        out
    }

    /// Parses [`Self::to_bytes`]; refuses a wrong length or an invalid point. Never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != Self::BYTES {
            return Err(Error::malformed(
                "partial signature",
                format!("expected {} bytes, got {}", Self::BYTES, bytes.len()),
            ));
        }
        let (index, point) = bytes.split_at(4);
        let mut index_bytes = [0u8; 4];
        index_bytes.copy_from_slice(index);
        Ok(Self {
            index: u32::from_be_bytes(index_bytes),
            value: Signature::from_bytes(point)?,
        })
    }

    fn inner(&self) -> Partial<V> {
        Partial {
            index: Participant::new(self.index),
            value: self.value.0,
        }
    }
}

/// Signs the seed message with one share. Deterministic: the same share and message always
/// give the same partial, so re-sending after a restart is safe. The caller must have asked
/// the [`crate::SigningGuard`] first.
pub fn partial_sign(share: &SecretShare, message: &SeedMessage) -> PartialSignature {
    let value = ops::sign::<V>(
        &share.share.private,
        SEED_SIGNATURE_DST,
        &message.to_bytes(),
    );
    PartialSignature {
        index: share.index(),
        value: Signature(value),
    }
}

/// Checks one partial against its signer's public share (from the public polynomial).
/// `UNKNOWN_SIGNER` for an index the group does not have, `BAD_PARTIAL` for anything else.
pub fn verify_partial(
    public: &GroupPublic,
    message: &SeedMessage,
    partial: &PartialSignature,
) -> Result<()> {
    let share_key = public.share_key(partial.index)?;
    ops::verify::<V>(
        &share_key.0,
        SEED_SIGNATURE_DST,
        &message.to_bytes(),
        &partial.value.0,
    )
    .map_err(|_| Error::BadPartial {
        index: partial.index,
    })
}

/// Combines partials into the threshold signature. Refuses (in this order) an unknown or
/// repeated share index, fewer than `threshold` partials, and any partial that does not
/// verify; then interpolates the `threshold` lowest indices and checks the result against the
/// group key. Any `threshold` valid partials give the same signature.
pub fn combine(
    public: &GroupPublic,
    message: &SeedMessage,
    partials: &[PartialSignature],
) -> Result<Signature> {
    let mut by_index = BTreeMap::new();
    for partial in partials {
        if partial.index >= public.n() {
            return Err(Error::UnknownSigner {
                index: partial.index,
                n: public.n(),
            });
        }
        if by_index.insert(partial.index, partial.inner()).is_some() {
            return Err(Error::DuplicateSigner {
                index: partial.index,
            });
        }
    }
    let have = u32::try_from(by_index.len()).unwrap_or(u32::MAX);
    if have < public.threshold() {
        return Err(Error::NotEnoughShares {
            have,
            need: public.threshold(),
        });
    }
    for partial in partials {
        verify_partial(public, message, partial)?;
    }
    let chosen = by_index.values().take(public.threshold() as usize);
    let sigma = tops::recover::<V, _>(public.sharing(), chosen, &Sequential)
        .map_err(|_| Error::BadSignature)?;
    let signature = Signature(sigma);
    // With every partial verified the result must verify; checking costs one pairing and
    // keeps a library or interpolation fault from ever reaching the chain.
    verify(public.group_key(), message, &signature)?;
    Ok(signature)
}

/// Checks a threshold signature on the seed message against the group key:
/// `e(sigma, g2) == e(H(m), PK_G)`. `BAD_SIGNATURE` if not.
pub fn verify(group_key: &GroupKey, message: &SeedMessage, signature: &Signature) -> Result<()> {
    ops::verify::<V>(
        &group_key.0,
        SEED_SIGNATURE_DST,
        &message.to_bytes(),
        &signature.0,
    )
    .map_err(|_| Error::BadSignature)
}

/// `seed = SHA-256("mtl/seed/v1" || signature (48 bytes))`. Only meaningful for a signature
/// that [`verify`] accepted; [`verified_seed`] does both.
pub fn seed_from_signature(signature: &Signature) -> Hash {
    sha256(&[SEED_TAG, &signature.to_bytes()])
}

/// Verifies the signature, then derives the seed: what the chain runs on `SeedRecord`.
pub fn verified_seed(
    group_key: &GroupKey,
    message: &SeedMessage,
    signature: &Signature,
) -> Result<Hash> {
    verify(group_key, message, signature)?;
    Ok(seed_from_signature(signature))
}
