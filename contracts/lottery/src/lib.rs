//! The pure, deterministic core of jiu's reservation lottery: encodings, the draw, and the
//! applicant's proof (design: `docs/lottery-spec.md`, research section 6).
//!
//! - [`encoding`]: entry leaves, status leaves, seed, ticket scores (SHA-256, ASCII domain
//!   tags, big-endian integers).
//! - [`tree`]: the entries and status trees, RFC 6962, two levels (batch roots, then the
//!   root over them), in (batch, index) order.
//! - [`draw()`]: per pool, the eligible entries ranked by (tier, score, leaf hash), smallest
//!   first; the first `quota` win, the next `waitlist_size` are the waitlist. A weight-`w`
//!   entry holds `w` tickets and its best ticket counts, so it wins at most once.
//! - [`result`]: the ranked lists and the results root committing to every pool.
//! - [`bundle`]: what one applicant receives and [`verify_applicant`] runs offline;
//!   [`Prover`] builds bundles from the full dataset.
//! - [`book`]: the on-chain lifecycle, [`LotteryBook`]: rules, entry batches, status
//!   commitment, seed, results and claims, as a pure state machine a node calls for lottery
//!   transactions (`docs/lottery-lifecycle.md`).
//!
//! Invariants: no I/O, no clock, no randomness beyond the given seed, no HashMap; the
//! result depends only on the set of (entry, status) pairs, never on their order or the
//! thread count. Threads are used only for independent chunks whose outputs are combined
//! by order-free operations.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod book;
pub mod bundle;
pub mod dataset;
mod draw;
pub mod encoding;
mod error;
mod par;
mod prover;
pub mod result;
pub mod rules;
mod serde_hex;
pub mod tree;

pub use book::{
    Actor, LotteryBook, LotteryCtx, LotteryError, LotteryEvent, LotteryOp, LotteryRecord, Outcome,
    SeedVerifier,
};
pub use bundle::{
    verify_applicant, ApplicantBundle, Commitments, FraudReason, ListedEntry, PoolProof, Verdict,
};
pub use dataset::Dataset;
pub use draw::draw;
pub use encoding::{
    applicant_commitment, entry_score, seed_from_signature, ticket_score, Entry, EntryId, Status,
};
pub use error::DrawError;
pub use jiu_types::Hash;
pub use prover::Prover;
pub use result::{DrawResult, PoolResult, PoolSummary, Ranked};
pub use rules::{LotteryRules, Pool, Rules};
pub use tree::{entries_root, entry_tree, status_root, status_tree, BatchedProof, BatchedTree};

#[cfg(test)]
mod tests;
