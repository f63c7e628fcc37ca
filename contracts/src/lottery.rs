//! The reservation lottery on chain: the [`LotteryBook`] in the state, the threshold seed
//! collected from validators' shares, and the lottery leaf of the state root.
//!
//! # Seed shares
//!
//! After a lottery's status commitment is finalized, each validator signs the lottery's seed
//! message with its share of the genesis group key (jiu-beacon) and submits a `SeedShare`
//! transaction signed with its consensus key. The chain checks the share against the
//! genesis public polynomial and keeps it; the transaction that brings the `threshold`-th
//! distinct share also combines them (Lagrange interpolation; any `threshold` valid shares
//! give the same, unique signature) and runs the book's `SubmitSeed` with the result, so
//! the seed is set in that block. Anyone may instead submit `Lottery { SubmitSeed }` with a
//! signature combined off chain; the book checks it the same way.
//!
//! The BLS arithmetic is behind [`Beacon`] (a jiu-types trait): this crate links no pairing
//! code (jiu-beacon's dependencies pull an async runtime); jiu-beacon implements it for the
//! genesis group key.
//!
//! # Root
//!
//! The state root's `lotteries` leaf is `leaf_hash("lotteries\0" || lotteries_root ||
//! shares_digest)`: `lotteries_root` is the RFC 6962 root over each lottery's committed leaf
//! hash ([`jiu_lottery::LotteryRecord::leaf_hash`]) in id order, and `shares_digest` is
//! `SHA-256("jiu/seed-shares/v1" || borsh(pending shares))` over the shares received for
//! lotteries whose seed is not set yet.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use imbl::OrdMap;
use jiu_lottery::book::{DrawKey, PreparedDraw};
use jiu_lottery::{LotteryBook, SeedVerifier};

use crate::merkle;
use crate::types::{sha256, Hash, PublicKey};

/// Length of an encoded partial signature: share index (4, BE) then a G1 point (48).
pub const PARTIAL_BYTES: usize = 52;
/// Domain of the pending-shares digest in the lotteries leaf.
const SHARES_DOMAIN: &[u8] = b"jiu/seed-shares/v1";

pub use jiu_types::beacon::Beacon;

/// Why a seed share is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error("this chain has no lottery beacon (no group key in the genesis)")]
    NoBeacon,
    #[error("the signer is not a beacon participant (a genesis validator)")]
    NotParticipant,
    #[error("the share is for index {got}, the signer holds share {expected}")]
    WrongIndex { expected: u32, got: u32 },
    #[error("lottery {0} is not waiting for its seed")]
    NotWaiting(u64),
    #[error("share {index} for lottery {lottery_id} was already received")]
    Duplicate { lottery_id: u64, index: u32 },
    #[error("the share does not verify against the signer's public share for the seed message")]
    BadShare,
}

impl ShareError {
    /// Stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            ShareError::NoBeacon => "NO_BEACON",
            ShareError::NotParticipant => "NOT_BEACON_PARTICIPANT",
            ShareError::WrongIndex { .. } => "SHARE_INDEX_MISMATCH",
            ShareError::NotWaiting(_) => "NOT_WAITING_FOR_SEED",
            ShareError::Duplicate { .. } => "DUPLICATE_SHARE",
            ShareError::BadShare => "BAD_SHARE",
        }
    }
}

/// A draw, once run; `OnceLock` makes a second asker wait for the first run.
type DrawSlot = Arc<std::sync::OnceLock<Arc<PreparedDraw>>>;

/// One lottery's seed shares so far: encoded partial signature by share index.
pub type Shares = BTreeMap<u32, Vec<u8>>;

/// The lottery part of the state.
#[derive(Clone, Default)]
pub(crate) struct Lotteries {
    pub(crate) book: LotteryBook,
    /// Shares received per lottery still waiting for its seed.
    pub(crate) shares: OrdMap<u64, Shares>,
    /// The genesis chain id, part of every seed message.
    pub(crate) chain_id: String,
    /// The genesis group key's operations; `None` on a chain without a beacon.
    pub(crate) beacon: Option<Arc<dyn Beacon>>,
    /// Validator consensus keys and their orgs, for validator-signed lottery txs.
    pub(crate) validators: BTreeMap<PublicKey, String>,
    /// Draws run or running, by their inputs: a cache of a pure function, so the draw runs
    /// once per lottery however often `CommitResults` is checked, and a check that needs a
    /// draw the node is already running waits for it instead of running a second one.
    pub(crate) draws: Arc<Mutex<Vec<(DrawKey, DrawSlot)>>>,
}

impl fmt::Debug for Lotteries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lotteries")
            .field("book", &self.book)
            .field("shares", &self.shares)
            .field("beacon", &self.beacon.is_some())
            .finish()
    }
}

/// Compares what is state: the book and the pending shares (the beacon and validators are
/// configuration from the genesis, the draws a cache).
impl PartialEq for Lotteries {
    fn eq(&self, other: &Self) -> bool {
        self.book == other.book && self.shares == other.shares
    }
}
impl Eq for Lotteries {}

impl Lotteries {
    /// The hash the state root commits to; see the module doc.
    pub(crate) fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(
            &[
                b"lotteries\0".as_slice(),
                &self.root(),
                &self.shares_digest(),
            ]
            .concat(),
        )
    }

    /// RFC 6962 root over the lotteries' leaf hashes in id order.
    pub(crate) fn root(&self) -> Hash {
        merkle::root(&self.leaves())
    }

    pub(crate) fn leaves(&self) -> Vec<Hash> {
        self.book
            .lotteries()
            .map(|(_, record)| record.leaf_hash())
            .collect()
    }

    pub(crate) fn shares_digest(&self) -> Hash {
        // borsh of the list of (lottery id, list of (index, partial)), ascending.
        let pending: Vec<(u64, &Shares)> = self.shares.iter().map(|(id, s)| (*id, s)).collect();
        let bytes = borsh::to_vec(&pending).expect("borsh writes to a Vec cannot fail");
        sha256(&[SHARES_DOMAIN, &bytes])
    }

    /// A draw already run for these inputs (does not wait for one running).
    pub(crate) fn prepared(&self, key: &DrawKey) -> Option<PreparedDraw> {
        self.slot(key).get().map(|d| PreparedDraw::clone(d))
    }

    /// The draw of `job`: from the cache, or from the run already under way (waiting for
    /// it), or run now.
    pub(crate) fn draw(&self, job: &jiu_lottery::book::DrawJob) -> PreparedDraw {
        let slot = self.slot(job.key());
        PreparedDraw::clone(slot.get_or_init(|| Arc::new(job.run())))
    }

    /// The cache slot of `key`, made if absent; keeps the last few (a draw holds every
    /// pool's ranked list).
    fn slot(&self, key: &DrawKey) -> DrawSlot {
        let mut draws = self.draws.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, slot)) = draws.iter().find(|(k, _)| k == key) {
            return Arc::clone(slot);
        }
        if draws.len() >= 4 {
            draws.remove(0);
        }
        let slot = DrawSlot::default();
        draws.push((key.clone(), Arc::clone(&slot)));
        slot
    }
}

/// The book's view of the beacon.
pub(crate) struct BeaconVerifier<'a>(pub(crate) Option<&'a dyn Beacon>);

impl SeedVerifier for BeaconVerifier<'_> {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0.is_some_and(|b| b.verify(message, signature))
    }
}

/// The proof that a lottery has the leaf a client was shown: its path among the lotteries,
/// the pending-shares digest, and the lotteries leaf's path in the state root.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct LotteryProof {
    /// The lottery's position among all lotteries (id order) and their count.
    pub index: u64,
    pub count: u64,
    #[serde(with = "crate::smt::serde_hex_list")]
    pub path: Vec<Hash>,
    #[serde(with = "crate::serde_hex")]
    pub shares_digest: Hash,
    pub state_leaf_index: u64,
    pub state_leaf_count: u64,
    #[serde(with = "crate::smt::serde_hex_list")]
    pub state_path: Vec<Hash>,
}

/// Why a lottery proof fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LotteryProofError {
    /// The path cannot be a path of the stated position (wrong length, index past the end).
    #[error("the lottery proof's path does not fit its stated position")]
    MalformedPath,
    /// Leaf, path, shares digest and state path do not hash to the state root: one of them
    /// was altered (the proof does not carry the lotteries root, so which one is unknown).
    #[error("the lottery leaf does not hash up to the state root (leaf or proof altered)")]
    NotProven,
}

impl LotteryProofError {
    pub fn code(&self) -> &'static str {
        match self {
            LotteryProofError::MalformedPath => "LOTTERY_PROOF_MALFORMED",
            LotteryProofError::NotProven => "LOTTERY_NOT_PROVEN",
        }
    }
}

/// Checks that a lottery's committed leaf bytes are under `state_root`.
pub fn verify_lottery(
    state_root: &Hash,
    leaf_bytes: &[u8],
    proof: &LotteryProof,
) -> Result<(), LotteryProofError> {
    let leaf = sha256(&[&[0x00], jiu_lottery::book::BOOK_LEAF_TAG, leaf_bytes]);
    let (Ok(index), Ok(count)) = (usize::try_from(proof.index), usize::try_from(proof.count))
    else {
        return Err(LotteryProofError::MalformedPath);
    };
    // The lotteries root is not sent: it is recomputed from the leaf and path, then the
    // lotteries leaf from it, and that must be under the state root.
    let lotteries_root = merkle::root_from_path(leaf, index, count, &proof.path)
        .ok_or(LotteryProofError::MalformedPath)?;
    let state_leaf = merkle::leaf_hash(
        &[
            b"lotteries\0".as_slice(),
            &lotteries_root,
            &proof.shares_digest,
        ]
        .concat(),
    );
    if crate::state::is_state_leaf(
        state_leaf,
        proof.state_leaf_index,
        proof.state_leaf_count,
        &proof.state_path,
        state_root,
    ) {
        Ok(())
    } else {
        Err(LotteryProofError::NotProven)
    }
}
