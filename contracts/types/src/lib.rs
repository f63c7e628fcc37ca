//! The base types every jiu crate shares: SHA-256 hashes, ed25519 public keys, roles and
//! organisations, GS1 identifiers (`gs1`), and the RFC 6962 Merkle tree (`merkle`).
//!
//! A crate of its own so that the state machine (`jiu-contracts`) and the pure sub-ledgers
//! it runs (the lottery in `jiu-lottery`) can both use them without depending on each
//! other. `jiu-contracts` re-exports everything here at the same paths.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod beacon;
pub mod gs1;
pub mod merkle;
#[doc(hidden)]
pub mod serde_hex;
pub mod types;

pub use types::{sha256, Hash, KeyError, Org, PublicKey, Role, UnknownRole};
