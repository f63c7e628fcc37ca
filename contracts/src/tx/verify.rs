//! Signature verification, single and batched. A [`VerifiedTx`] can only be built here, so
//! holding one proves the signature was checked.
//!
//! # The rule: ZIP-215
//!
//! Transactions are signed with ed25519-dalek; their validity is defined by ZIP-215
//! (cofactored verification, `[8][s]B = [8]R + [8][k]A`, canonical `s`, any encoding of `R`
//! and `A` that decompresses), as implemented by `ed25519-consensus`, the crate Malachite
//! uses for its own ed25519 scheme. Under this rule single and batch verification accept
//! exactly the same signatures by construction, so a block verified in one batch, in
//! several, or tx by tx gets the same verdict on every node: no fork from batching.
//!
//! Why not `verify_strict` with dalek's batch: dalek's batch equation is looser than
//! `verify_strict` (it accepts a torsion component on `R` about half the time, depending on
//! the batch), so the two can disagree on a crafted signature; making them agree needs a
//! scalar multiplication per signature, which cancels the gain (measured 2026-11-26 on the
//! 2-core dev VM: strict 47 us/tx, dalek batch 16 us/tx). The signatures ZIP-215 accepts
//! beyond strict (small-order or torsion `R`) can only be made by the key holder, and the tx
//! id does not cover the signature, so they cannot make a second transaction either.
//!
//! The batch weights come from a ChaCha20 stream seeded with a hash of the whole batch
//! (Fiat-Shamir, as dalek does): deterministic, and nothing here uses ambient randomness.

use ed25519_consensus::{batch, Signature, VerificationKey, VerificationKeyBytes};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::error::TxError;
use crate::tx::SignedTx;
use crate::types::{sha256, Hash};

const BATCH_SEED_DOMAIN: &[u8] = b"jiu/batch-verify/v1\0";

/// A tx whose signature verified. The private fields mean only [`SignedTx::verify`] and
/// [`verify_batch`] can make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTx {
    tx: SignedTx,
    id: Hash,
}

impl VerifiedTx {
    /// The verified tx.
    pub fn tx(&self) -> &SignedTx {
        &self.tx
    }

    /// The tx id, computed once during verification.
    pub fn id(&self) -> Hash {
        self.id
    }

    /// Gives back the tx, e.g. to store it in a block.
    pub fn into_inner(self) -> SignedTx {
        self.tx
    }
}

impl SignedTx {
    /// Verifies the signature over the signing bytes (ZIP-215).
    pub fn verify(self) -> Result<VerifiedTx, TxError> {
        let message = self.body.signing_bytes();
        let key =
            VerificationKey::try_from(self.body.signer.0).map_err(|_| TxError::BadSignature)?;
        key.verify(&Signature::from(self.signature), &message)
            .map_err(|_| TxError::BadSignature)?;
        let id = sha256(&[&message]);
        Ok(VerifiedTx { tx: self, id })
    }
}

/// Verifies many txs at once; accepts exactly what [`SignedTx::verify`] accepts.
///
/// On failure returns the index of the first tx (in input order) that single verification
/// refuses, so the answer does not depend on how the batch was formed. The caller bounds the
/// batch size (a block's txs, or a mempool batch).
pub fn verify_batch(txs: Vec<SignedTx>) -> Result<Vec<VerifiedTx>, (usize, TxError)> {
    let messages: Vec<Vec<u8>> = txs.iter().map(|tx| tx.body.signing_bytes()).collect();
    if batch_is_valid(&txs, &messages) {
        let verified = txs
            .into_iter()
            .zip(&messages)
            .map(|(tx, message)| VerifiedTx {
                tx,
                id: sha256(&[message]),
            })
            .collect();
        return Ok(verified);
    }
    // Some signature is bad: single verification names the first one.
    txs.into_iter()
        .enumerate()
        .map(|(index, tx)| tx.verify().map_err(|error| (index, error)))
        .collect()
}

fn batch_is_valid(txs: &[SignedTx], messages: &[Vec<u8>]) -> bool {
    let mut verifier = batch::Verifier::new();
    let mut transcript = Vec::with_capacity(BATCH_SEED_DOMAIN.len() + txs.len() * 96);
    transcript.extend_from_slice(BATCH_SEED_DOMAIN);
    for (tx, message) in txs.iter().zip(messages) {
        let key = VerificationKeyBytes::from(tx.body.signer.0);
        verifier.queue((key, Signature::from(tx.signature), message));
        transcript.extend_from_slice(&tx.signature);
        transcript.extend_from_slice(&sha256(&[message]));
    }
    let rng = ChaCha20Rng::from_seed(sha256(&[&transcript]));
    verifier.verify(rng).is_ok()
}

/// True if `bytes` canonically encode a point of the prime-order subgroup: not of small
/// order and without a torsion component. Registered keys must be (honest keys always are),
/// so one key has exactly one encoding in the registry.
pub(crate) fn is_strict_point(bytes: &[u8; 32]) -> bool {
    let Ok(point) = ed25519_dalek::VerifyingKey::from_bytes(bytes) else {
        return false;
    };
    let edwards = point.to_edwards();
    !point.is_weak() && edwards.compress().to_bytes() == *bytes && edwards.is_torsion_free()
}
