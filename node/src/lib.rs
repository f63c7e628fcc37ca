//! The running jiu node: Malachite consensus glue, storage, mempool, RPC and metrics.
//!
//! Design: `context` and `signing` implement Malachite's `Context` with ed25519-dalek;
//! `codec` encodes every consensus, sync and WAL message with borsh; `block` builds and
//! validates blocks by running `jiu-contracts`; `app` answers the engine's requests;
//! `db` persists each decided height atomically in rocksdb; `rpc` serves HTTP/JSON.
//!
//! Invariants: a block is committed only with a commit certificate from more than two
//! thirds of the voting power; the state stored for a height matches the state root in
//! that height's header; the node stops rather than continue after a failed write.

pub mod app;
pub mod block;
pub mod codec;
pub mod config;
pub mod context;
pub mod db;
pub mod epcis;
pub mod forward;
pub mod history;
pub mod lots;
pub mod lottery;
pub mod lottery_proof;
pub mod lottery_rpc;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod proof;
pub mod reaper;
pub mod recent;
pub mod records;
pub mod resolver;
pub mod rpc;
pub mod shared;
pub mod signing;
pub mod streaming;
pub mod tags;
#[cfg(test)]
pub(crate) mod testchain;
pub mod tls;
pub mod verify;
pub mod web;

pub use config::NodeConfig;
