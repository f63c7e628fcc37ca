//! Offline checks of what a node serves. A client that holds only the genesis file can
//! check that a block was finalized by this chain: the header hashes to the block id, the
//! transactions hash to the header's `txs_root`, and more than two thirds of the genesis
//! voting power signed a precommit for that id at that height and round.
//!
//! The JSON forms here are exactly what `GET /block/{height}` returns; the provenance and
//! lottery proofs build on the same certificate check.

use std::collections::{BTreeMap, BTreeSet};

use jiu_contracts::{PublicKey, SignedTx, TxBody};
use jiu_genesis::Genesis;
use malachitebft_core_types::{NilOrVal, Round, VoteType};
use serde::{Deserialize, Serialize};

use crate::block::{txs_root, BlockHeader};
use crate::context::{Address, BlockId, Height, Vote};
use crate::signing::{verify_bytes, vote_sign_bytes};

/// One validator's precommit signature in a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSignatureJson {
    pub address: Address,
    #[serde(with = "hex::serde")]
    pub signature: [u8; 64],
}

/// A commit certificate as the RPC serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateJson {
    pub height: u64,
    pub round: i64,
    pub block_id: BlockId,
    pub signatures: Vec<CommitSignatureJson>,
}

/// A transaction as the RPC serves it inside a block.
#[derive(Clone, Debug, Deserialize)]
pub struct TxJson {
    pub body: TxBody,
    #[serde(with = "hex::serde")]
    pub signature: [u8; 64],
}

/// The answer of `GET /block/{height}`.
#[derive(Clone, Debug, Deserialize)]
pub struct BlockAnswer {
    pub block_id: BlockId,
    pub header: BlockHeader,
    pub txs: Vec<TxJson>,
    pub certificate: CertificateJson,
}

/// Exactly what failed in an offline check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the block is from chain '{got}', the genesis is for '{expected}'")]
    ChainId { expected: String, got: String },
    #[error("the header hashes to {computed}, not to the claimed block id {claimed}")]
    BlockId { claimed: BlockId, computed: BlockId },
    #[error("the transactions hash to {computed}, not to the header's txs_root {header}")]
    TxsRoot { header: String, computed: String },
    #[error("the certificate is for {what} {certificate}, the block is {block}")]
    CertificateMismatch {
        what: &'static str,
        certificate: String,
        block: String,
    },
    #[error("the certificate round {0} is not a valid round")]
    BadRound(i64),
    #[error("signature by {0} is not from a genesis validator")]
    UnknownSigner(Address),
    #[error("validator {0} signed twice")]
    DuplicateSigner(Address),
    #[error("the signature by validator {0} does not verify (forged or altered)")]
    BadSignature(Address),
    #[error(
        "the signatures carry {signed} of {total} voting power; more than two thirds is needed"
    )]
    InsufficientPower { signed: u64, total: u64 },
}

/// Checks that `certificate` holds valid precommits of more than two thirds of the genesis
/// voting power for its (height, round, block id). Returns the power that signed.
pub fn verify_certificate(
    genesis: &Genesis,
    certificate: &CertificateJson,
) -> Result<u64, ProofError> {
    let genesis_hash = genesis.hash();
    let validators: BTreeMap<Address, (PublicKey, u64)> = genesis
        .validators
        .iter()
        .map(|v| {
            (
                Address::from_public_key(&v.public_key),
                (v.public_key, v.power),
            )
        })
        .collect();
    let total: u64 = validators.values().map(|(_, power)| power).sum();
    let round =
        u32::try_from(certificate.round).map_err(|_| ProofError::BadRound(certificate.round))?;
    let mut seen = BTreeSet::new();
    let mut signed = 0u64;
    for sig in &certificate.signatures {
        let (key, power) = validators
            .get(&sig.address)
            .ok_or(ProofError::UnknownSigner(sig.address))?;
        if !seen.insert(sig.address) {
            return Err(ProofError::DuplicateSigner(sig.address));
        }
        let vote = Vote {
            vote_type: VoteType::Precommit,
            height: Height(certificate.height),
            round: Round::new(round),
            value: NilOrVal::Val(certificate.block_id),
            validator_address: sig.address,
            extension: None,
        };
        if !verify_bytes(key, &vote_sign_bytes(&genesis_hash, &vote), &sig.signature) {
            return Err(ProofError::BadSignature(sig.address));
        }
        signed += power;
    }
    if signed.saturating_mul(3) <= total.saturating_mul(2) {
        return Err(ProofError::InsufficientPower { signed, total });
    }
    Ok(signed)
}

/// Checks a whole block answer: chain, header hash, transactions, certificate.
pub fn verify_block_answer(genesis: &Genesis, answer: &BlockAnswer) -> Result<(), ProofError> {
    let header = &answer.header;
    if header.chain_id != genesis.chain_id {
        return Err(ProofError::ChainId {
            expected: genesis.chain_id.clone(),
            got: header.chain_id.clone(),
        });
    }
    let computed = header.id();
    if computed != answer.block_id {
        return Err(ProofError::BlockId {
            claimed: answer.block_id,
            computed,
        });
    }
    let txs: Vec<SignedTx> = answer
        .txs
        .iter()
        .map(|tx| SignedTx {
            body: tx.body.clone(),
            signature: tx.signature,
        })
        .collect();
    let root = txs_root(&txs);
    if root != header.txs_root || txs.len() != header.tx_count as usize {
        return Err(ProofError::TxsRoot {
            header: hex::encode(header.txs_root),
            computed: hex::encode(root),
        });
    }
    let cert = &answer.certificate;
    if cert.block_id != answer.block_id {
        return Err(ProofError::CertificateMismatch {
            what: "block",
            certificate: cert.block_id.to_string(),
            block: answer.block_id.to_string(),
        });
    }
    if cert.height != header.height {
        return Err(ProofError::CertificateMismatch {
            what: "height",
            certificate: cert.height.to_string(),
            block: header.height.to_string(),
        });
    }
    verify_certificate(genesis, cert).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use jiu_genesis::devnet::devnet;

    use crate::signing::JiuSigner;

    struct Fixture {
        genesis: Genesis,
        keys: Vec<SigningKey>,
    }

    fn fixture() -> Fixture {
        let net = devnet("jiu-proof", 4, 27000, Some([4; 32]));
        Fixture {
            genesis: net.genesis,
            keys: net.validator_keys,
        }
    }

    fn signed_by(f: &Fixture, signers: &[usize], height: u64, block: BlockId) -> CertificateJson {
        let genesis_hash = f.genesis.hash();
        let signatures = signers
            .iter()
            .map(|&i| {
                let key = &f.keys[i];
                let address = Address::from_public_key(&PublicKey::from_signing_key(key));
                let vote = Vote {
                    vote_type: VoteType::Precommit,
                    height: Height(height),
                    round: Round::new(0),
                    value: NilOrVal::Val(block),
                    validator_address: address,
                    extension: None,
                };
                let signer = JiuSigner::new(key.clone(), genesis_hash);
                let signature = signer.sign_bytes(&vote_sign_bytes(&genesis_hash, &vote)).0;
                CommitSignatureJson { address, signature }
            })
            .collect();
        CertificateJson {
            height,
            round: 0,
            block_id: block,
            signatures,
        }
    }

    #[test]
    fn test_quorum_certificate_verifies() {
        let f = fixture();
        let cert = signed_by(&f, &[0, 1, 2], 5, BlockId([7; 32]));
        assert_eq!(verify_certificate(&f.genesis, &cert), Ok(3));
    }

    #[test]
    fn test_certificate_refusals_name_the_fault() {
        let f = fixture();
        let block = BlockId([7; 32]);
        let two = signed_by(&f, &[0, 1], 5, block);
        assert_eq!(
            verify_certificate(&f.genesis, &two),
            Err(ProofError::InsufficientPower {
                signed: 2,
                total: 4
            })
        );
        let mut dup = signed_by(&f, &[0, 1], 5, block);
        dup.signatures.push(dup.signatures[0].clone());
        assert_eq!(
            verify_certificate(&f.genesis, &dup),
            Err(ProofError::DuplicateSigner(dup.signatures[0].address))
        );
        let mut forged = signed_by(&f, &[0, 1, 2], 5, block);
        forged.signatures[1].signature[9] ^= 1;
        assert_eq!(
            verify_certificate(&f.genesis, &forged),
            Err(ProofError::BadSignature(forged.signatures[1].address))
        );
        let mut moved = signed_by(&f, &[0, 1, 2], 5, block);
        moved.height = 6;
        assert!(matches!(
            verify_certificate(&f.genesis, &moved),
            Err(ProofError::BadSignature(_))
        ));
        let mut stranger = signed_by(&f, &[0, 1, 2], 5, block);
        stranger.signatures[2].address = Address([9; 20]);
        assert_eq!(
            verify_certificate(&f.genesis, &stranger),
            Err(ProofError::UnknownSigner(Address([9; 20])))
        );
        let other = devnet("jiu-proof", 4, 27000, Some([5; 32])).genesis;
        assert!(matches!(
            verify_certificate(&other, &signed_by(&f, &[0, 1, 2], 5, block)),
            Err(ProofError::UnknownSigner(_))
        ));
        let mut round = signed_by(&f, &[0, 1, 2], 5, block);
        round.round = -1;
        assert_eq!(
            verify_certificate(&f.genesis, &round),
            Err(ProofError::BadRound(-1))
        );
    }
}
