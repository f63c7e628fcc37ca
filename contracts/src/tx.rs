//! The transaction envelope: body, payloads, signing bytes, id and wire format.
//!
//! Wire format: `borsh(SignedTx)`, at most [`TX_BYTES_MAX`] bytes, no trailing bytes. The
//! signature covers `TX_DOMAIN || borsh(TxBody)`; the domain prefix keeps a jiu signature from
//! ever being valid for another protocol that signs borsh with the same key. The tx id is the
//! SHA-256 of those signing bytes, so it does not depend on the signature: re-signing the same
//! body (or malleating a signature) yields the same id and is caught by replay protection.
//!
//! Borsh decoding is canonical for these types (strings must be UTF-8, bools 0 or 1, enum tags
//! in range, no trailing bytes), so `encode(decode(bytes)) == bytes` and the id a node computes
//! from a decoded tx is the id the signer computed.
//!
//! Admission pipeline, cheapest first: [`SignedTx::decode`] (size, shape), [`check_stateless`]
//! (chain id, payload well-formedness), [`SignedTx::verify`] or [`verify_batch`] (signature),
//! then `State::check` / `State::apply` (everything that needs the state).

mod check;
mod verify;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::error::TxError;
use crate::types::{sha256, Hash, PublicKey, Role};

pub(crate) use check::{check_payload, validate_org};
pub use check::{check_stateless, ORG_ID_CHARS_MAX, ORG_KEYS_MAX, ORG_NAME_BYTES_MAX};
pub use verify::{verify_batch, VerifiedTx};

/// Prefix of every signed message; the NUL ends it so no other domain can be a prefix of it.
pub const TX_DOMAIN: &[u8] = b"jiu/tx/v1\0";
/// Largest encoded `SignedTx` accepted, checked before decoding.
/// 1 MiB: room for one provenance batch of 10,000 bottles commissioned and packed into
/// cases (about 0.5 MiB in borsh), or an EPCIS document of that size.
pub const TX_BYTES_MAX: usize = 1024 * 1024;
/// Most lifecycle ops one provenance tx may carry.
pub const OPS_PER_TX_MAX: usize = 10_000;
/// Most codes the ops of one provenance tx may name in all (each op has its own limit of
/// [`crate::provenance::BATCH_CODES_MAX`]).
pub const CODES_PER_TX_MAX: usize = 50_000;
/// Largest `Anchor` data; the chain anchors hashes of records, not the records.
pub const ANCHOR_DATA_BYTES_MAX: usize = 1024;
/// How far past the current height a tx may expire; bounds the replay window.
pub const TX_TTL_HEIGHTS_MAX: u64 = 1_000;

/// What a signer asks the chain to do, and the envelope fields that bind it to one chain and
/// one window of heights.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TxBody {
    /// Must equal the chain's id, so a tx signed for a testnet never applies on mainnet.
    pub chain_id: String,
    /// The key that signs; must belong to an active organisation.
    pub signer: PublicKey,
    /// Free for the signer to choose; two bodies differing only in nonce have different ids.
    pub nonce: u64,
    /// Last height at which the tx may be included.
    pub expires_at_height: u64,
    pub payload: Payload,
}

/// The state change a tx requests. Borsh encodes the variant index first, so new variants
/// go at the end.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// Add an organisation to the consortium (producer only). It starts active.
    RegisterOrg {
        id: String,
        name: String,
        role: Role,
        keys: Vec<PublicKey>,
    },
    /// Give an organisation one more signing key (producer only).
    AddOrgKey { org_id: String, key: PublicKey },
    /// Take a signing key away from an organisation, never its last (producer only).
    RemoveOrgKey { org_id: String, key: PublicKey },
    /// Suspend or reinstate an organisation (producer only, never its own org).
    SetOrgActive { org_id: String, active: bool },
    /// Commit to an off-chain record by its hash (producer, distributor or store).
    Anchor {
        #[serde(with = "crate::serde_hex")]
        record_hash: Hash,
        #[serde(with = "crate::serde_hex")]
        data: Vec<u8>,
    },
    /// Give an organisation its GS1 party GLN, or take it away (producer only).
    SetOrgPgln {
        org_id: String,
        pgln: Option<crate::gs1::Gln>,
    },
    /// An EPCIS 2.0 document (JSON-LD text), captured as one atomic tx: every validator maps
    /// its events to lifecycle ops with [`crate::capture::map_document`] and applies them as
    /// a `Provenance` tx would. Events without a lifecycle effect are recorded as captured.
    Capture { document: String },
    /// Bottle lifecycle ops (T1-T12), applied in order and all-or-nothing. If an op is
    /// refused for a reason worth an alert (a second sale, a sale or receive by the wrong
    /// party), the ops change nothing and the alert is the tx's only effect.
    Provenance { ops: Vec<crate::provenance::Op> },
    /// A reservation-lottery op ([`jiu_lottery::book`]): signed by an active org key, or,
    /// for the self-verifying `SubmitSeed` and `CommitResults`, by a validator.
    Lottery { op: jiu_lottery::LotteryOp },
    /// A validator's partial signature over a lottery's seed message (jiu-beacon
    /// `PartialSignature::to_bytes`: share index, then the G1 point). Signed by the
    /// validator whose share it is; once `threshold` distinct shares are in, the chain
    /// combines them into the seed signature.
    SeedShare {
        lottery_id: u64,
        #[serde(with = "crate::serde_hex")]
        partial: Vec<u8>,
    },
    /// Register or amend a product's master data (producer only). Registering a GTIN claims
    /// its brand: only the registering producer may then amend it or issue codes under it
    /// ([`crate::product`]).
    SetProduct {
        gtin: crate::gs1::Gtin,
        name: String,
        volume_ml: u32,
        /// Alcohol by volume in basis points (5300 = 53.00%).
        abv_bp: u16,
    },
    /// Recall a lot of a registered product, or end its recall (`recalled: false`): the
    /// lot-scope `RECALLED` of section 7.2. Only the product's brand owner may. Every bottle
    /// recorded with that lot is then treated as recalled ([`crate::product`]).
    RecallLot {
        gtin: crate::gs1::Gtin,
        lot: crate::gs1::Lot,
        recalled: bool,
    },
}

impl Payload {
    /// The snake_case name of the variant, as in JSON; used in errors and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::RegisterOrg { .. } => "register_org",
            Payload::AddOrgKey { .. } => "add_org_key",
            Payload::RemoveOrgKey { .. } => "remove_org_key",
            Payload::SetOrgActive { .. } => "set_org_active",
            Payload::Anchor { .. } => "anchor",
            Payload::SetOrgPgln { .. } => "set_org_pgln",
            Payload::Provenance { .. } => "provenance",
            Payload::Capture { .. } => "capture",
            Payload::Lottery { .. } => "lottery",
            Payload::SeedShare { .. } => "seed_share",
            Payload::SetProduct { .. } => "set_product",
            Payload::RecallLot { .. } => "recall_lot",
        }
    }
}

/// A body and its ed25519 signature over [`TxBody::signing_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedTx {
    pub body: TxBody,
    #[serde(with = "crate::serde_hex")]
    pub signature: [u8; 64],
}

impl TxBody {
    /// The signed message: `TX_DOMAIN || borsh(self)`.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = TX_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut bytes).expect("borsh writes to a Vec cannot fail");
        bytes
    }

    /// The tx id: SHA-256 of the signing bytes. Independent of the signature, so one body is
    /// one id however often or however it is signed.
    pub fn id(&self) -> Hash {
        sha256(&[&self.signing_bytes()])
    }
}

impl SignedTx {
    /// Signs `body` with `key`. The caller puts the matching public key in `body.signer`.
    pub fn sign(body: TxBody, key: &SigningKey) -> Self {
        let signature = key.sign(&body.signing_bytes()).to_bytes();
        Self { body, signature }
    }

    /// The tx id; see [`TxBody::id`].
    pub fn id(&self) -> Hash {
        self.body.id()
    }

    /// The wire bytes: `borsh(self)`.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("borsh writes to a Vec cannot fail")
    }

    /// Parses wire bytes. The size limit is checked first so an oversized tx costs nothing to
    /// refuse; trailing bytes are refused so one tx has exactly one encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, TxError> {
        if bytes.len() > TX_BYTES_MAX {
            return Err(TxError::Oversized {
                bytes: bytes.len(),
                max: TX_BYTES_MAX,
            });
        }
        borsh::from_slice(bytes).map_err(|e| TxError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
pub(crate) mod tests;
