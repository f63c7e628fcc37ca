//! The jiu genesis format: the chain's first state, loaded, validated and hashed.
//!
//! A genesis is a JSON file ([`Genesis`]) naming the chain, its consensus parameters, the
//! member organisations and the validator set. Every validator must start from the same one,
//! so nodes compare [`Genesis::hash`], which covers a canonical encoding (compact JSON in
//! struct field order) rather than the file's bytes: reformatting a file keeps its hash.
//!
//! Invariants:
//! - `Genesis::from_json` and `Genesis::load` return only genesis documents that pass
//!   [`Genesis::validate`]; every rejection names the offending field path.
//! - The hash of the example devnet genesis is pinned by a golden test; changing it is a
//!   deliberate format change.
//! - Key files are created with mode 0600 and never overwritten.
//!
//! [`devnet`] builds reproducible local networks; [`keys`] reads and writes key files.

mod error;
mod genesis;
mod json_path;
mod p2p;
mod validate;

pub mod beacon;
pub mod ceremony;
pub mod devnet;
pub mod keys;

pub use error::{GenesisError, Result};
pub use genesis::{
    ConsensusParams, Genesis, GenesisOrg, GenesisValidator, ProvenanceParams,
    GENESIS_FILE_BYTES_MAX, GENESIS_HASH_TAG,
};
pub use p2p::{Host, P2pAddr, P2pAddrError, Transport};
pub use validate::{
    ID_LEN_MAX, ORGS_MAX, ORG_KEYS_MAX, ORG_NAME_BYTES_MAX, TOTAL_POWER_MAX, VALIDATORS_MAX,
};
