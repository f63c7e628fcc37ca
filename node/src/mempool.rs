//! The mempool: verified transactions waiting for a block, in arrival order.
//!
//! Bounded by count and bytes; a full mempool refuses new transactions (backpressure to the
//! client) rather than evicting ones already accepted. Transactions a proposer could not
//! include are remembered for a while with their reason so `GET /tx/{id}` can say why.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use jiu_contracts::{Hash, TxError, VerifiedTx};

use crate::recent::Recent;

/// Mempool bounds.
#[derive(Clone, Copy, Debug)]
pub struct MempoolConfig {
    pub txs_max: usize,
    pub bytes_max: usize,
    /// How many recent rejections are remembered for status queries.
    pub rejections_max: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            txs_max: 100_000,
            bytes_max: 256 * 1024 * 1024,
            rejections_max: 100_000,
        }
    }
}

/// Why the mempool did not take a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    #[error("mempool is full ({txs} transactions, {bytes} bytes); retry later")]
    Full { txs: usize, bytes: usize },
    #[error("transaction is already in the mempool")]
    Duplicate,
}

struct Entry {
    tx: VerifiedTx,
    bytes: usize,
}

struct Inner {
    queue: BTreeMap<u64, Entry>,
    by_id: HashMap<Hash, u64>,
    bytes: usize,
    next_seq: u64,
    rejected: Recent<Hash, TxError>,
}

/// A bounded FIFO of verified transactions.
pub struct Mempool {
    config: MempoolConfig,
    inner: Mutex<Inner>,
}

impl Mempool {
    /// An empty mempool.
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            inner: Mutex::new(Inner {
                queue: BTreeMap::new(),
                by_id: HashMap::new(),
                bytes: 0,
                next_seq: 0,
                rejected: Recent::new(config.rejections_max),
            }),
            config,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a verified transaction of `bytes` encoded bytes.
    pub fn insert(&self, tx: VerifiedTx, bytes: usize) -> Result<(), MempoolError> {
        let mut inner = self.lock();
        let id = tx.id();
        if inner.by_id.contains_key(&id) {
            return Err(MempoolError::Duplicate);
        }
        if inner.queue.len() >= self.config.txs_max || inner.bytes + bytes > self.config.bytes_max {
            return Err(MempoolError::Full {
                txs: inner.queue.len(),
                bytes: inner.bytes,
            });
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.by_id.insert(id, seq);
        inner.bytes += bytes;
        inner.queue.insert(seq, Entry { tx, bytes });
        Ok(())
    }

    /// Up to `txs_max` transactions and `bytes_max` bytes, oldest first, left in place until
    /// they are committed or rejected.
    pub fn reap(&self, txs_max: usize, bytes_max: usize) -> Vec<VerifiedTx> {
        let inner = self.lock();
        let mut out = Vec::new();
        let mut bytes = 0;
        for entry in inner.queue.values() {
            if out.len() >= txs_max || bytes + entry.bytes > bytes_max {
                break;
            }
            bytes += entry.bytes;
            out.push(entry.tx.clone());
        }
        out
    }

    /// Drops transactions that a decided block contains.
    pub fn remove_committed(&self, ids: &[Hash]) {
        let mut inner = self.lock();
        for id in ids {
            remove(&mut inner, id);
        }
    }

    /// Drops a transaction the state machine refused, remembering why.
    pub fn reject(&self, id: Hash, error: TxError) {
        let mut inner = self.lock();
        remove(&mut inner, &id);
        inner.rejected.insert(id, error);
    }

    /// Whether `id` is waiting in the mempool.
    pub fn contains(&self, id: &Hash) -> bool {
        self.lock().by_id.contains_key(id)
    }

    /// Why `id` was rejected, if it was recently.
    pub fn rejection(&self, id: &Hash) -> Option<TxError> {
        self.lock().rejected.get(id).cloned()
    }

    /// Number of waiting transactions.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no transaction is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn remove(inner: &mut Inner, id: &Hash) {
    if let Some(seq) = inner.by_id.remove(id) {
        if let Some(entry) = inner.queue.remove(&seq) {
            inner.bytes -= entry.bytes;
        }
    }
}
