//! ed25519-dalek signing for consensus messages.
//!
//! Every signed consensus message is bound to one chain: the bytes signed are
//! `tag || genesis hash || borsh(message)`, with a distinct tag per message kind, so a vote
//! can never be replayed as a proposal, nor on another network.

use std::fmt;

use async_trait::async_trait;
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use jiu_contracts::{Hash, PublicKey};
use malachitebft_core_types::{SignedMessage, SigningScheme, ValidatorProof, VoteExtensionScope};
use malachitebft_signing::{Error as SigningError, Signer, VerificationResult, Verifier};

use crate::context::{BlockId, Height, JiuContext, Proposal, Vote};

const TAG_VOTE: &[u8] = b"jiu/vote/v1\0";
const TAG_PROPOSAL: &[u8] = b"jiu/proposal/v1\0";
const TAG_EXTENSION: &[u8] = b"jiu/vote-extension/v1\0";
const TAG_VALIDATOR_PROOF: &[u8] = b"jiu/validator-proof/v1\0";
const TAG_BLOCK_STREAM: &[u8] = b"jiu/block-stream/v1\0";

/// An ed25519 signature as its 64 bytes; ordered so it can live in Malachite's sets.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

/// The ed25519 signing scheme for Malachite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519;

/// Bytes that are not an ed25519 key or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ed25519 encoding: {0}")]
pub struct DecodingError(pub &'static str);

impl SigningScheme for Ed25519 {
    type DecodingError = DecodingError;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = SigningKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, DecodingError> {
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|_| DecodingError("signature must be 64 bytes"))?;
        Ok(Signature(bytes))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, DecodingError> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| DecodingError("public key must be 32 bytes"))?;
        let key = PublicKey(bytes);
        key.verifying_key()
            .map_err(|_| DecodingError("public key is not a curve point"))?;
        Ok(key)
    }

    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.0.to_vec()
    }
}

fn message_bytes(tag: &[u8], genesis_hash: &Hash, body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(tag.len() + 32 + body.len());
    bytes.extend_from_slice(tag);
    bytes.extend_from_slice(genesis_hash);
    bytes.extend_from_slice(body);
    bytes
}

/// The exact bytes a validator signs for a vote; used by offline verifiers too.
pub fn vote_sign_bytes(genesis_hash: &Hash, vote: &Vote) -> Vec<u8> {
    message_bytes(TAG_VOTE, genesis_hash, &vote.to_sign_bytes())
}

/// The exact bytes a proposer signs for a proposal.
pub fn proposal_sign_bytes(genesis_hash: &Hash, proposal: &Proposal) -> Vec<u8> {
    message_bytes(TAG_PROPOSAL, genesis_hash, &borsh_bytes(proposal))
}

/// The bytes a proposer signs to close a block stream: (height, round, block id).
pub fn block_stream_sign_bytes(
    genesis_hash: &Hash,
    height: Height,
    round: malachitebft_core_types::Round,
    block_id: &BlockId,
) -> Vec<u8> {
    message_bytes(
        TAG_BLOCK_STREAM,
        genesis_hash,
        &borsh_bytes(&(height, round, block_id)),
    )
}

fn borsh_bytes<T: BorshSerialize>(value: &T) -> Vec<u8> {
    // Writing borsh into a Vec cannot fail: the only errors are I/O errors of the writer.
    borsh::to_vec(value).unwrap_or_default()
}

/// Verifies `signature` over `bytes` with `key`, strictly (no malleable or small-order keys).
pub fn verify_bytes(key: &PublicKey, bytes: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&key.0) else {
        return false;
    };
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    key.verify_strict(bytes, &signature).is_ok()
}

/// Signs consensus messages with the validator's key.
pub struct JiuSigner {
    key: SigningKey,
    genesis_hash: Hash,
}

impl JiuSigner {
    /// A signer for `key` on the chain whose genesis hashes to `genesis_hash`.
    pub fn new(key: SigningKey, genesis_hash: Hash) -> Self {
        Self { key, genesis_hash }
    }

    /// Signs raw bytes already prefixed with a domain tag.
    pub fn sign_bytes(&self, bytes: &[u8]) -> Signature {
        Signature(self.key.sign(bytes).to_bytes())
    }

    /// Signs the close of a block stream.
    pub fn sign_block_stream(
        &self,
        height: Height,
        round: malachitebft_core_types::Round,
        block_id: &BlockId,
    ) -> Signature {
        self.sign_bytes(&block_stream_sign_bytes(
            &self.genesis_hash,
            height,
            round,
            block_id,
        ))
    }
}

#[async_trait]
impl Signer<JiuContext> for JiuSigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<JiuContext, Vote>, SigningError> {
        let signature = self.sign_bytes(&vote_sign_bytes(&self.genesis_hash, &vote));
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<JiuContext, Proposal>, SigningError> {
        let signature = self.sign_bytes(&proposal_sign_bytes(&self.genesis_hash, &proposal));
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<JiuContext>,
        extension: (),
    ) -> Result<SignedMessage<JiuContext, ()>, SigningError> {
        let body = borsh_bytes(&(
            scope.height,
            scope.round,
            scope.value_id,
            scope.validator_address,
        ));
        let signature = self.sign_bytes(&message_bytes(TAG_EXTENSION, &self.genesis_hash, &body));
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<JiuContext>, SigningError> {
        let preimage = ValidatorProof::<JiuContext>::signing_bytes(&public_key, &peer_id);
        let signature = self.sign_bytes(&message_bytes(
            TAG_VALIDATOR_PROOF,
            &self.genesis_hash,
            &preimage,
        ));
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Verifies consensus signatures for one chain.
#[derive(Clone)]
pub struct JiuVerifier {
    genesis_hash: Hash,
}

impl JiuVerifier {
    /// A verifier for the chain whose genesis hashes to `genesis_hash`.
    pub fn new(genesis_hash: Hash) -> Self {
        Self { genesis_hash }
    }

    fn check(key: &PublicKey, bytes: &[u8], signature: &Signature) -> VerificationResult {
        VerificationResult::from_bool(verify_bytes(key, bytes, &signature.0))
    }

    /// Checks a block stream's closing signature.
    pub fn verify_block_stream(
        &self,
        key: &PublicKey,
        height: Height,
        round: malachitebft_core_types::Round,
        block_id: &BlockId,
        signature: &[u8; 64],
    ) -> bool {
        let bytes = block_stream_sign_bytes(&self.genesis_hash, height, round, block_id);
        verify_bytes(key, &bytes, signature)
    }
}

#[async_trait]
impl Verifier<JiuContext> for JiuVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        let bytes = vote_sign_bytes(&self.genesis_hash, vote);
        Ok(Self::check(public_key, &bytes, signature))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        let bytes = proposal_sign_bytes(&self.genesis_hash, proposal);
        Ok(Self::check(public_key, &bytes, signature))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<JiuContext>,
        _extension: &(),
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        let body = borsh_bytes(&(
            scope.height,
            scope.round,
            scope.value_id,
            scope.validator_address,
        ));
        let bytes = message_bytes(TAG_EXTENSION, &self.genesis_hash, &body);
        Ok(Self::check(public_key, &bytes, signature))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<JiuContext>,
    ) -> Result<VerificationResult, SigningError> {
        let Ok(key) = Ed25519::decode_public_key(&proof.public_key) else {
            return Ok(VerificationResult::Invalid);
        };
        let bytes = message_bytes(TAG_VALIDATOR_PROOF, &self.genesis_hash, &proof.preimage());
        Ok(Self::check(&key, &bytes, &proof.signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use malachitebft_core_types::{NilOrVal, Round, VoteType};

    fn vote() -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height: Height(7),
            round: Round::new(1),
            value: NilOrVal::Val(BlockId([0xab; 32])),
            validator_address: crate::context::Address([0x11; 20]),
            extension: None,
        }
    }

    #[test]
    fn test_vote_sign_bytes_are_pinned() {
        // A change here is a consensus wire-format change: every signature breaks.
        let bytes = vote_sign_bytes(&[0x22; 32], &vote());
        let mut expected = b"jiu/vote/v1\0".to_vec();
        expected.extend_from_slice(&[0x22; 32]); // genesis hash
        expected.push(1); // VoteType::Precommit
        expected.extend_from_slice(&7u64.to_le_bytes()); // height
        expected.push(1); // Round: defined ...
        expected.extend_from_slice(&1u32.to_le_bytes()); // ... as round 1
        expected.push(1); // NilOrVal::Val
        expected.extend_from_slice(&[0xab; 32]); // block id
        expected.extend_from_slice(&[0x11; 20]); // validator address
        assert_eq!(hex::encode(&bytes), hex::encode(&expected));
    }

    #[tokio::test]
    async fn test_signatures_bind_message_kind_and_chain() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let public = PublicKey::from_signing_key(&key);
        let signer = JiuSigner::new(key, [1; 32]);
        let verifier = JiuVerifier::new([1; 32]);
        let other_chain = JiuVerifier::new([2; 32]);
        let signed = signer.sign_vote(vote()).await.unwrap();
        let ok = verifier
            .verify_signed_vote(&signed.message, &signed.signature, &public)
            .await
            .unwrap();
        assert!(ok.is_valid());
        let wrong_chain = other_chain
            .verify_signed_vote(&signed.message, &signed.signature, &public)
            .await
            .unwrap();
        assert!(wrong_chain.is_invalid());
        let mut altered = signed.message.clone();
        altered.round = Round::new(2);
        let altered = verifier
            .verify_signed_vote(&altered, &signed.signature, &public)
            .await
            .unwrap();
        assert!(altered.is_invalid());
        // A vote signature is not a block-stream signature for the same height and round.
        assert!(!verifier.verify_block_stream(
            &public,
            Height(7),
            Round::new(1),
            &BlockId([0xab; 32]),
            &signed.signature.0
        ));
    }
}
