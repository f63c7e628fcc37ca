//! Signatures a key holder can craft with unusual `R` or key points (small order, torsion
//! components), and proof that `verify_batch` agrees with single verification on every one
//! of them, alone or among honest txs (see the `verify` module doc).
//!
//! curve25519-dalek is not a dependency, so scalars and points are only reached through
//! ed25519-dalek (`SigningKey::to_scalar`, `VerifyingKey::to_edwards`) and their operators.

use std::ops::{Add, Mul};

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha512};

use super::*;
use crate::testkit::{body, signing_key};

/// The identity point (0, 1): small order.
pub(crate) const IDENTITY: [u8; 32] = {
    let mut bytes = [0; 32];
    bytes[0] = 1;
    bytes
};

/// The identity again, with y = 1 + p: a non-canonical encoding.
pub(crate) const IDENTITY_NON_CANONICAL: [u8; 32] = {
    let mut bytes = [0xff; 32];
    bytes[0] = 0xee;
    bytes[31] = 0x7f;
    bytes
};

/// The point (0, -1), of order 2.
const ORDER_2: [u8; 32] = {
    let mut bytes = [0xff; 32];
    bytes[0] = 0xec;
    bytes[31] = 0x7f;
    bytes
};

/// `bytes` as a little-endian integer mod l, in the scalar type of `like`.
fn reduce<S>(like: S, bytes: &[u8]) -> S
where
    S: Copy + From<u64> + Add<Output = S> + Mul<Output = S>,
{
    let _ = like;
    bytes.iter().rev().fold(S::from(0), |acc, byte| {
        acc * S::from(256) + S::from(u64::from(*byte))
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Forgery {
    /// A textbook signature with our own nonce: must verify, or the helper is wrong.
    None,
    /// R = identity, s = h * a: passes every batch.
    SmallOrderR,
    /// R = [r]B + T2: passes a batch whenever its weight is even.
    TorsionR,
    /// Signer key A + T2: strict accepts when h is even; batch also when its weight is even.
    MixedOrderKey,
}

/// A key with a torsion component: the key of `seed` plus the order-2 point.
pub(crate) fn mixed_order_key(seed: u8) -> PublicKey {
    let t2 = VerifyingKey::from_bytes(&ORDER_2)
        .expect("order-2 point decodes")
        .to_edwards();
    let point = signing_key(seed).verifying_key().to_edwards() + t2;
    PublicKey(point.compress().to_bytes())
}

fn forge(forgery: Forgery, seed: u8, nonce: u64) -> SignedTx {
    let key = signing_key(seed);
    let a = key.to_scalar();
    let nonce_key = signing_key(seed.wrapping_add(100));
    let mut r = nonce_key.to_scalar();
    let mut r_point = nonce_key.verifying_key().to_edwards();
    let t2 = VerifyingKey::from_bytes(&ORDER_2)
        .expect("order-2 point decodes")
        .to_edwards();
    let mut tx_body = body(seed, nonce, 100, testkit::anchor(9));
    match forgery {
        Forgery::None => {}
        Forgery::SmallOrderR => {
            r = reduce(r, &[]);
            r_point = VerifyingKey::from_bytes(&IDENTITY)
                .expect("decodes")
                .to_edwards();
        }
        Forgery::TorsionR => r_point += t2,
        Forgery::MixedOrderKey => tx_body.signer = mixed_order_key(seed),
    }
    let r_bytes = r_point.compress().to_bytes();
    let digest = Sha512::new()
        .chain_update(r_bytes)
        .chain_update(tx_body.signer.0)
        .chain_update(tx_body.signing_bytes())
        .finalize();
    let s = r + reduce(a, &digest) * a;
    let mut signature = [0; 64];
    signature[..32].copy_from_slice(&r_bytes);
    signature[32..].copy_from_slice(&s.to_bytes());
    SignedTx {
        body: tx_body,
        signature,
    }
}

#[test]
fn test_constants_are_what_they_claim() {
    let identity = VerifyingKey::from_bytes(&IDENTITY).expect("identity decodes");
    assert!(identity.is_weak());
    let non_canonical = VerifyingKey::from_bytes(&IDENTITY_NON_CANONICAL).expect("decodes");
    assert_eq!(non_canonical.to_edwards().compress().to_bytes(), IDENTITY);
    let t2 = VerifyingKey::from_bytes(&ORDER_2)
        .expect("decodes")
        .to_edwards();
    assert!(t2.is_small_order() && (t2 + t2).compress().to_bytes() == IDENTITY);
}

#[test]
fn test_verify_batch_agrees_with_single_on_forged_signatures() {
    let mut verdicts = std::collections::BTreeSet::new();
    for nonce in 0..16 {
        for forgery in [
            Forgery::None,
            Forgery::SmallOrderR,
            Forgery::TorsionR,
            Forgery::MixedOrderKey,
        ] {
            let tx = forge(forgery, testkit::FREE, nonce);
            let single = tx.clone().verify();
            if forgery == Forgery::None {
                assert!(single.is_ok(), "the forging helper signs correctly");
            }
            verdicts.insert((forgery as usize, single.is_ok()));
            // Alone, and between honest txs: the same verdict and the same index.
            let honest = signed(PRODUCER, nonce, anchor(2));
            let batch = vec![honest.clone(), tx.clone(), honest.clone()];
            let expected = match &single {
                Ok(verified) => {
                    let honest = honest.clone().verify().expect("honest");
                    Ok(vec![honest.clone(), verified.clone(), honest])
                }
                Err(error) => Err((1, error.clone())),
            };
            assert_eq!(verify_batch(batch), expected, "{forgery:?} nonce {nonce}");
            assert_eq!(
                verify_batch(vec![tx]),
                single.map(|v| vec![v]).map_err(|e| (0, e)),
                "{forgery:?} alone, nonce {nonce}"
            );
        }
    }
    // ZIP-215 is cofactored: a key holder's signature with a small-order or torsion R is
    // valid, every time, in a batch or alone (strict verification would refuse it).
    for forgery in [Forgery::SmallOrderR, Forgery::TorsionR] {
        assert!(verdicts.contains(&(forgery as usize, true)), "{forgery:?}");
        assert!(
            !verdicts.contains(&(forgery as usize, false)),
            "{forgery:?}"
        );
    }
}

#[test]
fn test_corrupted_signature_fails_alone_and_in_a_batch() {
    let honest = signed(PRODUCER, 1, anchor(2));
    let mut bad = signed(PRODUCER, 2, anchor(3));
    bad.signature[40] ^= 0x10;
    assert_eq!(bad.clone().verify(), Err(TxError::BadSignature));
    let batch = vec![honest.clone(), honest.clone(), bad];
    assert_eq!(verify_batch(batch), Err((2, TxError::BadSignature)));
}
