//! Blocks: header, body, id, and the two ways a block meets the state machine: built by a
//! proposer from mempool candidates, or validated by everyone else before they vote.
//!
//! Execution is immediate: a block's header carries the state root *after* its transactions,
//! so the commit certificate of height H signs the state at H. Proposer and validators run
//! the same `contracts` code; a block whose root differs is invalid and gets a nil vote.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_contracts::{
    check_stateless, merkle, sha256, verify_batch, BlockCtx, Hash, Receipt, SignedTx, State,
    TxError, VerifiedTx,
};
use serde::{Deserialize, Serialize};

use crate::context::{Address, BlockId};

const BLOCK_DOMAIN: &[u8] = b"jiu/block/v1\0";

/// A block header. Its SHA-256 (with a domain tag) is the block id that consensus decides on.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: String,
    pub height: u64,
    /// Proposer's wall clock; never earlier than the parent's.
    pub time_ms: u64,
    pub proposer: Address,
    /// The parent block id; for height 1, the genesis hash.
    pub parent_id: BlockId,
    /// Merkle root (RFC 6962) of the encoded signed transactions, in block order. The leaves
    /// cover the signatures too (the tx id does not), so the block id commits to exactly
    /// the bytes every node stores.
    #[serde(with = "hex::serde")]
    pub txs_root: Hash,
    pub tx_count: u32,
    /// Merkle root of the application state after this block's transactions.
    #[serde(with = "hex::serde")]
    pub state_root: Hash,
}

impl BlockHeader {
    /// The block id.
    pub fn id(&self) -> BlockId {
        let bytes = borsh::to_vec(self).unwrap_or_default();
        BlockId(sha256(&[BLOCK_DOMAIN, &bytes]))
    }
}

/// A block: header and transactions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

impl Block {
    /// The canonical encoding (borsh).
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// Decodes a block, refusing more than `bytes_max` bytes before looking inside.
    pub fn decode(bytes: &[u8], bytes_max: usize) -> Result<Block, BlockError> {
        if bytes.len() > bytes_max {
            return Err(BlockError::Oversized {
                bytes: bytes.len(),
                max: bytes_max,
            });
        }
        borsh::from_slice(bytes).map_err(|e| BlockError::Malformed(e.to_string()))
    }

    /// The block id.
    pub fn id(&self) -> BlockId {
        self.header.id()
    }
}

/// What the previous block left behind: the base every new block builds on.
#[derive(Clone, Debug)]
pub struct Parent {
    pub height: u64,
    pub id: BlockId,
    pub time_ms: u64,
}

/// Per-block limits from the genesis consensus parameters.
#[derive(Clone, Copy, Debug)]
pub struct BlockLimits {
    pub txs_max: usize,
    pub bytes_max: usize,
}

/// Why a proposed or synced block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("block of {bytes} bytes exceeds the limit of {max}")]
    Oversized { bytes: usize, max: usize },
    #[error("block does not decode: {0}")]
    Malformed(String),
    #[error("header field {field} is wrong: expected {expected}, got {got}")]
    Header {
        field: &'static str,
        expected: String,
        got: String,
    },
    #[error("block has {count} transactions, limit is {max}")]
    TooManyTxs { count: usize, max: usize },
    #[error("transaction {index} is invalid: {error}")]
    Tx { index: usize, error: TxError },
    #[error("state root mismatch: header says {header}, execution gives {computed}")]
    StateRoot { header: String, computed: String },
}

fn header_err(field: &'static str, expected: impl ToString, got: impl ToString) -> BlockError {
    BlockError::Header {
        field,
        expected: expected.to_string(),
        got: got.to_string(),
    }
}

/// A block that was executed on its parent state.
#[derive(Clone, Debug)]
pub struct Executed {
    pub block: Block,
    pub id: BlockId,
    pub state: State,
    pub receipts: Vec<Receipt>,
    /// The encoding of `block`, made once: a block (up to several MB) is stored as
    /// undecided, streamed and committed, and each of those needs the same bytes.
    encoded: std::sync::OnceLock<Vec<u8>>,
}

impl Executed {
    /// The canonical encoding of the block, computed on first use.
    pub fn encoded(&self) -> &[u8] {
        self.encoded.get_or_init(|| self.block.encode())
    }
}

/// Mempool candidates that did not make it into a block, and why.
pub type Rejections = Vec<(Hash, TxError)>;

/// Builds a block from verified candidates: each is applied in order, and those the state
/// machine refuses are left out and reported. Once executing has taken `budget`, the
/// remaining candidates are left for a later block (not refused): every validator must
/// execute the block again before voting, so its execution time has to fit well inside the
/// propose timeout whatever the mempool holds.
pub fn build(
    parent_state: &State,
    parent: &Parent,
    chain_id: &str,
    proposer: Address,
    time_ms: u64,
    candidates: Vec<VerifiedTx>,
    budget: std::time::Duration,
) -> (Executed, Rejections) {
    let started = std::time::Instant::now();
    let ctx = BlockCtx {
        height: parent.height + 1,
        time_ms: time_ms.max(parent.time_ms),
    };
    let mut state = parent_state.clone();
    state.begin_block(&ctx);
    let mut txs = Vec::with_capacity(candidates.len());
    let mut receipts = Vec::with_capacity(candidates.len());
    let mut rejected = Vec::new();
    for tx in candidates {
        if !room_for_another(started.elapsed(), txs.len(), budget) {
            break;
        }
        match state.apply(&tx, &ctx) {
            Ok(receipt) => {
                receipts.push(receipt);
                txs.push(tx.into_inner());
            }
            Err(error) => rejected.push((tx.id(), error)),
        }
    }
    state.end_block();
    let header = BlockHeader {
        chain_id: chain_id.to_string(),
        height: ctx.height,
        time_ms: ctx.time_ms,
        proposer,
        parent_id: parent.id,
        txs_root: txs_root(&txs),
        tx_count: txs.len() as u32,
        state_root: state.root(),
    };
    let block = Block { header, txs };
    let id = block.id();
    let executed = Executed {
        block,
        id,
        state,
        receipts,
        encoded: std::sync::OnceLock::new(),
    };
    (executed, rejected)
}

/// Whether a block whose `txs` took `elapsed` to execute may take one more within `budget`.
/// The next tx is taken to cost what the block's txs cost on average, so the builder stops
/// before a tx that would likely take the block past its budget: stopping only once past it
/// let a block of two 0.6-s shipments take 1.2 s to build (more than twice that for
/// validators sharing the machine) and miss the propose timeout at every try. A block
/// always gets its first tx.
fn room_for_another(elapsed: std::time::Duration, txs: usize, budget: std::time::Duration) -> bool {
    txs == 0 || elapsed + elapsed / (txs as u32) < budget
}

/// The Merkle root over the encoded signed transactions.
pub fn txs_root(txs: &[SignedTx]) -> Hash {
    let leaves: Vec<Hash> = txs
        .iter()
        .map(|tx| merkle::leaf_hash(&tx.encode()))
        .collect();
    merkle::root(&leaves)
}

/// Validates a block from another validator (or from sync) against our parent state and
/// executes it. Any invalid transaction makes the whole block invalid: an honest proposer
/// only includes transactions that apply.
pub fn validate(
    parent_state: &State,
    parent: &Parent,
    chain_id: &str,
    expected_proposer: Option<Address>,
    limits: BlockLimits,
    block: Block,
) -> Result<Executed, BlockError> {
    let header = &block.header;
    if header.chain_id != chain_id {
        return Err(header_err("chain_id", chain_id, &header.chain_id));
    }
    if header.height != parent.height + 1 {
        return Err(header_err("height", parent.height + 1, header.height));
    }
    if header.parent_id != parent.id {
        return Err(header_err("parent_id", parent.id, header.parent_id));
    }
    if header.time_ms < parent.time_ms {
        return Err(header_err("time_ms", parent.time_ms, header.time_ms));
    }
    if let Some(proposer) = expected_proposer {
        if header.proposer != proposer {
            return Err(header_err("proposer", proposer, header.proposer));
        }
    }
    if block.txs.len() > limits.txs_max {
        return Err(BlockError::TooManyTxs {
            count: block.txs.len(),
            max: limits.txs_max,
        });
    }
    if header.tx_count as usize != block.txs.len() {
        return Err(header_err("tx_count", block.txs.len(), header.tx_count));
    }
    for (index, tx) in block.txs.iter().enumerate() {
        check_stateless(tx, chain_id).map_err(|error| BlockError::Tx { index, error })?;
    }
    let id = block.id();
    let computed_txs_root = txs_root(&block.txs);
    let Block { header, txs } = block;
    if computed_txs_root != header.txs_root {
        return Err(header_err(
            "txs_root",
            hex::encode(computed_txs_root),
            hex::encode(header.txs_root),
        ));
    }
    let verified = verify_batch(txs).map_err(|(index, error)| BlockError::Tx { index, error })?;
    let ctx = BlockCtx {
        height: header.height,
        time_ms: header.time_ms,
    };
    let mut state = parent_state.clone();
    state.begin_block(&ctx);
    let mut receipts = Vec::with_capacity(verified.len());
    let mut txs = Vec::with_capacity(verified.len());
    for (index, tx) in verified.into_iter().enumerate() {
        let receipt = state
            .apply(&tx, &ctx)
            .map_err(|error| BlockError::Tx { index, error })?;
        receipts.push(receipt);
        txs.push(tx.into_inner());
    }
    state.end_block();
    let computed = state.root();
    if computed != header.state_root {
        return Err(BlockError::StateRoot {
            header: hex::encode(header.state_root),
            computed: hex::encode(computed),
        });
    }
    Ok(Executed {
        block: Block { header, txs },
        id,
        state,
        receipts,
        encoded: std::sync::OnceLock::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiu_contracts::{Payload, PublicKey, TxBody};
    use jiu_genesis::devnet::devnet;

    const LIMITS: BlockLimits = BlockLimits {
        txs_max: 100,
        bytes_max: 1 << 20,
    };

    struct Fixture {
        state: State,
        parent: Parent,
        chain_id: String,
        producer: ed25519_dalek::SigningKey,
    }

    fn fixture() -> Fixture {
        let net = devnet("jiu-test", 4, 27000, Some([3; 32]));
        let state = State::new(net.genesis.initial_orgs()).expect("genesis state");
        let producer = net.org_keys[0].1.clone();
        Fixture {
            state,
            parent: Parent {
                height: 0,
                id: BlockId(net.genesis.hash()),
                time_ms: 1_000,
            },
            chain_id: net.genesis.chain_id,
            producer,
        }
    }

    fn anchor(f: &Fixture, nonce: u64) -> SignedTx {
        let body = TxBody {
            chain_id: f.chain_id.clone(),
            signer: PublicKey::from_signing_key(&f.producer),
            nonce,
            expires_at_height: 50,
            payload: Payload::Anchor {
                record_hash: sha256(&[&nonce.to_le_bytes()]),
                data: vec![1, 2, 3],
            },
        };
        SignedTx::sign(body, &f.producer)
    }

    fn built(f: &Fixture, txs: Vec<SignedTx>) -> (Executed, Rejections) {
        built_within(f, txs, std::time::Duration::from_secs(60))
    }

    fn built_within(
        f: &Fixture,
        txs: Vec<SignedTx>,
        budget: std::time::Duration,
    ) -> (Executed, Rejections) {
        let verified = txs
            .into_iter()
            .map(|tx| tx.verify().expect("signed"))
            .collect();
        build(
            &f.state,
            &f.parent,
            &f.chain_id,
            Address([1; 20]),
            2_000,
            verified,
            budget,
        )
    }

    fn check(f: &Fixture, block: Block) -> Result<Executed, BlockError> {
        validate(&f.state, &f.parent, &f.chain_id, None, LIMITS, block)
    }

    #[test]
    fn test_built_block_validates_to_the_same_state() {
        let f = fixture();
        let (executed, rejected) = built(&f, vec![anchor(&f, 1), anchor(&f, 2)]);
        assert!(rejected.is_empty());
        assert_eq!(executed.block.txs.len(), 2);
        let validated = check(&f, executed.block.clone()).expect("valid");
        assert_eq!(validated.id, executed.id);
        assert_eq!(validated.state.root(), executed.block.header.state_root);
        assert_ne!(executed.block.header.state_root, f.state.root());
    }

    #[test]
    fn test_builder_expects_the_next_tx_to_cost_the_average() {
        let ms = std::time::Duration::from_millis;
        let budget = ms(750);
        assert!(
            room_for_another(ms(5_000), 0, budget),
            "the first tx always"
        );
        // One 0.6-s shipment: a second like it would pass the budget.
        assert!(!room_for_another(ms(600), 1, budget));
        assert!(room_for_another(ms(300), 1, budget));
        // Six small txs averaging 0.1 s: one more fits, two more would not.
        assert!(room_for_another(ms(600), 6, budget));
        assert!(!room_for_another(ms(700), 7, budget));
        assert!(!room_for_another(budget, 100, budget));
    }

    #[test]
    fn test_builder_stops_at_its_budget_without_refusing_the_rest() {
        let f = fixture();
        let txs: Vec<SignedTx> = (1..=5).map(|n| anchor(&f, n)).collect();
        let (executed, rejected) = built_within(&f, txs.clone(), std::time::Duration::ZERO);
        assert_eq!(executed.block.txs, txs[..1], "always at least one tx");
        assert!(
            rejected.is_empty(),
            "txs past the budget wait, they are not refused"
        );
        let (all, _) = built(&f, txs.clone());
        assert_eq!(all.block.txs.len(), 5);
    }

    #[test]
    fn test_builder_leaves_out_a_replayed_tx_and_reports_it() {
        let f = fixture();
        let tx = anchor(&f, 7);
        let (executed, rejected) = built(&f, vec![tx.clone(), tx.clone()]);
        assert_eq!(executed.block.txs, vec![tx.clone()]);
        assert_eq!(rejected, vec![(tx.id(), TxError::Replayed)]);
    }

    #[test]
    fn test_block_with_a_replayed_tx_is_invalid() {
        let f = fixture();
        let tx = anchor(&f, 7);
        let (mut executed, _) = built(&f, vec![tx.clone()]);
        executed.block.txs.push(tx);
        executed.block.header.tx_count = 2;
        executed.block.header.txs_root = txs_root(&executed.block.txs);
        let error = check(&f, executed.block).unwrap_err();
        assert_eq!(
            error,
            BlockError::Tx {
                index: 1,
                error: TxError::Replayed
            }
        );
    }

    #[test]
    fn test_tampered_blocks_are_invalid() {
        let f = fixture();
        let (executed, _) = built(&f, vec![anchor(&f, 1), anchor(&f, 2)]);
        let block = executed.block;

        // A swapped signature changes the txs root, which the header commits to...
        let mut forged = block.clone();
        forged.txs[1].signature[3] ^= 1;
        assert!(matches!(
            check(&f, forged.clone()),
            Err(BlockError::Header {
                field: "txs_root",
                ..
            })
        ));
        // ...and a proposer that recomputes the root still cannot pass a bad signature.
        forged.header.txs_root = txs_root(&forged.txs);
        assert!(matches!(
            check(&f, forged),
            Err(BlockError::Tx {
                index: 1,
                error: TxError::BadSignature
            })
        ));

        let mut root = block.clone();
        root.header.state_root[0] ^= 1;
        assert!(matches!(check(&f, root), Err(BlockError::StateRoot { .. })));

        let mut txs_root_wrong = block.clone();
        txs_root_wrong.txs.swap(0, 1);
        assert!(matches!(
            check(&f, txs_root_wrong),
            Err(BlockError::Header {
                field: "txs_root",
                ..
            })
        ));

        let mut height = block.clone();
        height.header.height = 2;
        assert!(matches!(
            check(&f, height),
            Err(BlockError::Header {
                field: "height",
                ..
            })
        ));

        let mut parent = block.clone();
        parent.header.parent_id = BlockId([9; 32]);
        assert!(matches!(
            check(&f, parent),
            Err(BlockError::Header {
                field: "parent_id",
                ..
            })
        ));

        let mut early = block.clone();
        early.header.time_ms = 999;
        assert!(matches!(
            check(&f, early),
            Err(BlockError::Header {
                field: "time_ms",
                ..
            })
        ));

        let mut chain = block;
        chain.header.chain_id = "other".into();
        assert!(matches!(
            check(&f, chain),
            Err(BlockError::Header {
                field: "chain_id",
                ..
            })
        ));
    }

    #[test]
    fn test_block_over_limits_is_refused_before_execution() {
        let f = fixture();
        let txs: Vec<SignedTx> = (0..3).map(|n| anchor(&f, n)).collect();
        let (executed, _) = built(&f, txs);
        let tight = BlockLimits {
            txs_max: 2,
            bytes_max: 1 << 20,
        };
        let result = validate(
            &f.state,
            &f.parent,
            &f.chain_id,
            None,
            tight,
            executed.block.clone(),
        );
        assert_eq!(
            result.unwrap_err(),
            BlockError::TooManyTxs { count: 3, max: 2 }
        );
        let bytes = executed.encoded().to_vec();
        assert_eq!(bytes, executed.block.encode());
        assert!(matches!(
            Block::decode(&bytes, bytes.len() - 1),
            Err(BlockError::Oversized { .. })
        ));
        assert!(matches!(
            Block::decode(&bytes[..bytes.len() - 1], bytes.len()),
            Err(BlockError::Malformed(_))
        ));
    }
}
