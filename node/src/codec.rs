//! One borsh codec for everything Malachite sends or stores: consensus and liveness
//! messages, proposal parts, sync messages, WAL entries.
//!
//! borsh is deterministic and rejects trailing bytes; its `Vec` decoding never pre-allocates
//! more than it has read, so a hostile length prefix cannot exhaust memory. Message sizes are
//! bounded before they get here by libp2p (`pubsub_max_size`, `rpc_max_size`).

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_codec::{Codec, HasEncodedLen};
use malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_core_types::{
    ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round, SignedExtension,
    ValidatorProof,
};
use malachitebft_engine::util::streaming::StreamMessage;
use malachitebft_sync as sync;

use crate::context::{Address, BlockId, Height, JiuContext, ProposalPart};
use crate::signing::Signature;

/// The borsh codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct BorshCodec;

/// Bytes that do not decode to the expected message.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {what}: {reason}")]
pub struct CodecError {
    what: &'static str,
    reason: String,
}

fn decode<T: BorshDeserialize>(what: &'static str, bytes: &[u8]) -> Result<T, CodecError> {
    borsh::from_slice(bytes).map_err(|e| CodecError {
        what,
        reason: e.to_string(),
    })
}

fn encode<T: BorshSerialize>(what: &'static str, msg: &T) -> Result<Bytes, CodecError> {
    borsh::to_vec(msg).map(Bytes::from).map_err(|e| CodecError {
        what,
        reason: e.to_string(),
    })
}

macro_rules! borsh_codec {
    ($($ty:ty => $what:literal),* $(,)?) => {
        $(
            impl Codec<$ty> for BorshCodec {
                type Error = CodecError;

                fn decode(&self, bytes: Bytes) -> Result<$ty, CodecError> {
                    decode($what, &bytes)
                }

                fn encode(&self, msg: &$ty) -> Result<Bytes, CodecError> {
                    encode($what, msg)
                }
            }
        )*
    };
}

borsh_codec! {
    ProposalPart => "proposal part",
    SignedConsensusMsg<JiuContext> => "consensus message",
    LivenessMsg<JiuContext> => "liveness message",
    StreamMessage<ProposalPart> => "stream message",
    sync::Status<JiuContext> => "sync status",
    sync::Request<JiuContext> => "sync request",
    ProposedValue<JiuContext> => "proposed value",
    PolkaCertificate<JiuContext> => "polka certificate",
}

/// The wire form of a commit certificate (Malachite 0.8.2 has no borsh impl for
/// `ExtendedCommitCertificate`). Also the form stored in the `certs` column.
#[derive(BorshSerialize, BorshDeserialize)]
struct CertificateWire {
    height: Height,
    round: Round,
    value_id: BlockId,
    signatures: Vec<(Address, Signature, Option<SignedExtension<JiuContext>>)>,
}

impl From<&ExtendedCommitCertificate<JiuContext>> for CertificateWire {
    fn from(c: &ExtendedCommitCertificate<JiuContext>) -> Self {
        Self {
            height: c.height,
            round: c.round,
            value_id: c.value_id,
            signatures: c
                .commit_signatures
                .iter()
                .map(|s| (s.address, s.signature, s.extension.clone()))
                .collect(),
        }
    }
}

impl From<CertificateWire> for ExtendedCommitCertificate<JiuContext> {
    fn from(w: CertificateWire) -> Self {
        Self {
            height: w.height,
            round: w.round,
            value_id: w.value_id,
            commit_signatures: w
                .signatures
                .into_iter()
                .map(|(a, s, e)| ExtendedCommitSignature::new(a, s, e))
                .collect(),
        }
    }
}

/// Encodes a commit certificate for storage and sync.
pub fn encode_certificate(certificate: &ExtendedCommitCertificate<JiuContext>) -> Vec<u8> {
    borsh::to_vec(&CertificateWire::from(certificate)).unwrap_or_default()
}

/// Decodes a commit certificate.
pub fn decode_certificate(
    bytes: &[u8],
) -> Result<ExtendedCommitCertificate<JiuContext>, CodecError> {
    decode::<CertificateWire>("commit certificate", bytes).map(Into::into)
}

#[derive(BorshSerialize, BorshDeserialize)]
struct ResponseWire {
    start_height: Height,
    values: Vec<(Vec<u8>, CertificateWire)>,
}

fn response_wire(msg: &sync::Response<JiuContext>) -> ResponseWire {
    let sync::Response::ValueResponse(response) = msg;
    ResponseWire {
        start_height: response.start_height,
        values: response
            .values
            .iter()
            .map(|v| {
                (
                    v.value_bytes.to_vec(),
                    CertificateWire::from(&v.certificate),
                )
            })
            .collect(),
    }
}

impl Codec<sync::Response<JiuContext>> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<sync::Response<JiuContext>, CodecError> {
        let wire: ResponseWire = decode("sync response", &bytes)?;
        let values = wire
            .values
            .into_iter()
            .map(|(bytes, cert)| sync::RawDecidedValue::new(Bytes::from(bytes), cert.into()))
            .collect();
        Ok(sync::Response::ValueResponse(sync::ValueResponse::new(
            wire.start_height,
            values,
        )))
    }

    fn encode(&self, msg: &sync::Response<JiuContext>) -> Result<Bytes, CodecError> {
        encode("sync response", &response_wire(msg))
    }
}

impl HasEncodedLen<sync::Response<JiuContext>> for BorshCodec {
    fn encoded_len(&self, msg: &sync::Response<JiuContext>) -> Result<usize, CodecError> {
        borsh::object_length(&response_wire(msg)).map_err(|e| CodecError {
            what: "sync response",
            reason: e.to_string(),
        })
    }
}

/// Malachite's `ValidatorProof` has no borsh impl of its own; this is its wire form.
#[derive(BorshSerialize, BorshDeserialize)]
struct ValidatorProofWire {
    public_key: Vec<u8>,
    peer_id: Vec<u8>,
    signature: Signature,
}

impl Codec<ValidatorProof<JiuContext>> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<JiuContext>, CodecError> {
        let wire: ValidatorProofWire = decode("validator proof", &bytes)?;
        Ok(ValidatorProof::new(
            wire.public_key,
            wire.peer_id,
            wire.signature,
        ))
    }

    fn encode(&self, msg: &ValidatorProof<JiuContext>) -> Result<Bytes, CodecError> {
        let wire = ValidatorProofWire {
            public_key: msg.public_key.clone(),
            peer_id: msg.peer_id.clone(),
            signature: msg.signature,
        };
        encode("validator proof", &wire)
    }
}
