//! Pure, deterministic state transitions of the jiu chain.
//!
//! Everything validators must agree on lives here: the transaction envelope and its signing
//! bytes, the registry of organisations and keys, replay protection, and the state root.
//! No I/O, no clock, no randomness, no HashMap iteration: the same blocks applied to the
//! same state give the same state and root on every machine.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod capture;
pub mod error;
pub mod lottery;
pub mod product;
pub mod provenance;
pub mod smt;
pub mod state;
pub mod tx;

pub use jiu_types::{gs1, merkle, types};
// `#[serde(with = "crate::serde_hex")]` paths in this crate resolve through this.
pub(crate) use jiu_types::serde_hex;

pub use error::TxError;
pub use state::{BlockCtx, DirtyRecord, Event, ProofLeaves, Receipt, State};
pub use tx::{
    check_stateless, verify_batch, Payload, SignedTx, TxBody, VerifiedTx, ANCHOR_DATA_BYTES_MAX,
    ORG_ID_CHARS_MAX, ORG_KEYS_MAX, ORG_NAME_BYTES_MAX, TX_BYTES_MAX, TX_DOMAIN,
    TX_TTL_HEIGHTS_MAX,
};
pub use types::{sha256, Hash, KeyError, Org, PublicKey, Role, UnknownRole};
#[cfg(test)]
pub(crate) mod testkit;
