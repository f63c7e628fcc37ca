//! The lottery's randomness: a threshold BLS12-381 signature of the validator set over the
//! finalized commitments of a lottery, and the seed derived from it (design
//! `research/lottery-design.md` 2.6, 6.2-6.8; note `docs/lottery-beacon.md`).
//!
//! # Scheme
//!
//! BLS12-381 "min-sig" (commonware `MinSig`, on `blst`): the group key and the share keys are
//! G2 points (96 bytes), signatures G1 points (48 bytes). After a lottery's StatusCommit is
//! finalized, validator `i` signs the [`SeedMessage`]
//! `"mtl/seed-msg/v1" || len || chain_id || lottery_id || rules_hash || entries_root ||
//! status_root` with its share: `sigma_i = H(m)^{s_i}`, `H` the RFC 9380 hash to G1 under
//! [`sign::SEED_SIGNATURE_DST`]. Any node that has `t` valid partials [`combine`]s them
//! (Lagrange interpolation at 0) into `sigma = H(m)^s`; the chain checks
//! `e(sigma, g2) == e(H(m), PK_G)` ([`verify`]) and stores it; the draw's seed is
//! [`seed_from_signature`]` = SHA-256("mtl/seed/v1" || sigma)`, the tag and formula of
//! `jiu-lottery`.
//!
//! # Who knows what
//!
//! - Nobody knows the group secret `s`, not the producer, not a validator, not the machine
//!   that ran the devnet ceremony: it is the sum of `t` dealers' random constants and only
//!   its shares `s_i = f(i + 1)` ever exist.
//! - Validator `i` knows its share `s_i` ([`SecretShare`], a file like its consensus key).
//! - Everybody knows the [`GroupPublic`] (in genesis): `n`, `t`, the group key `PK_G` and the
//!   public polynomial's coefficients, which give each share's public key to check its
//!   partials before combining.
//!
//! # Why `t = n - f`
//!
//! `f = floor((n - 1) / 3)` is what BFT consensus tolerates; `t = n - f` is its quorum
//! ([`threshold`]: 4 -> 3, 7 -> 5, 10 -> 7, 50 -> 34). Up to `f` offline validators cannot
//! stop a seed (withholding only delays it when more than `f` are silent). Fewer than `t`
//! colluders cannot compute `sigma`, so cannot predict the seed for a candidate entry set
//! before committing it; with `t = f + 1` an operator with `f + 1` friendly validators
//! could. BLS signatures are unique per key and message, so every set of `t` partials
//! gives the same `sigma`: whoever combines cannot choose among seeds.
//!
//! # The ceremony ([`dkg`])
//!
//! A Joint-Feldman DKG (commonware `feldman_desmedt`, GJKR99) at genesis, every validator a
//! dealer and a player. Each dealer commits to a random degree `t - 1` polynomial and sends
//! each player its evaluation; players check evaluations against the commitment and ack
//! (ed25519-signed). A player that gets a bad share complains by withholding its ack; the
//! dealer must then reveal that share in its signed log, where everyone checks it. A log is
//! used only if its acks verify, its reveals match its commitment and it has at most `f`
//! reveals; a dealer that reveals wrongly, has more than `f` complaints, publishes two logs
//! or none is excluded, and the arbiter may disqualify more. The group polynomial is the
//! sum of the first `t` usable logs; fewer usable logs fail with `CEREMONY_FAILED`.
//!
//! Guarantees: all players and observers holding the same transcript get the same public
//! output and consistent shares; with at most `f` Byzantine participants the group secret
//! stays unknown to every coalition of fewer than `t`. Assumptions: the ceremony is
//! synchronous (every honest ack reaches its dealer before the deadline; otherwise honest
//! players' shares may be revealed, which [`DkgOutput::revealed`] reports); dealer-to-player
//! shares travel over encrypted, authenticated channels (the node's job); participants agree
//! on one transcript (genesis fixes it). Joint-Feldman lets an adversary bias the group
//! key by a few bits, which does not matter for signing (commonware's own caveat).
//!
//! # One message per lottery
//!
//! A validator never signs two different seed messages for one lottery: [`SigningGuard`]
//! decides, the node persists its [`SignedSeedRecord`] before sending the partial.
//!
//! Invariants: no I/O and no clock; randomness only from the caller's rng (a dealer's
//! polynomial, and batch-verification weights that do not change any output); every decoder
//! refuses bad bytes with a typed [`Error`] and never panics.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod chain;
pub mod dkg;
mod error;
pub mod guard;
pub mod keys;
pub mod message;
mod serde_hex;
pub mod sign;

pub use dkg::{run_local_ceremony, DkgOutput, Identity, LocalCeremony};
pub use error::{Error, Result};
pub use guard::{Permission, SignedSeedRecord, SigningGuard};
pub use jiu_types::{Hash, PublicKey};
pub use keys::{threshold, Commitment, GroupKey, GroupPublic, SecretShare, PARTICIPANTS_MAX};
pub use message::SeedMessage;
/// The `rand_core` version the ceremony's rng must implement (`CryptoRng`).
pub use rand_core_10 as rand_core;
pub use sign::{
    combine, partial_sign, seed_from_signature, verified_seed, verify, verify_partial,
    PartialSignature, Signature,
};
