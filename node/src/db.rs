//! Storage. `Db` holds the chain: blocks, commit certificates, the latest application state
//! and the transaction index, each height written atomically in one batch. It runs over a
//! small key-value trait with two implementations: rocksdb on disk and a `BTreeMap` twin
//! for tests, so the logic above the trait is the same in both.
//!
//! Layout (column, key -> value):
//! - `blocks`: height (u64 BE) -> borsh(Block)
//! - `certs`: height -> borsh(ExtendedCommitCertificate)
//! - `txs`: tx id -> height (u64 BE) || index (u32 BE) || the receipt's events as JSON
//! - `meta`: `tip` -> height; `state` -> the persistent state at `tip`
//! - `undecided`: height || round || block id -> borsh(Block) we built or validated but that
//!   is not decided yet, so a restarted node can answer consensus about its own proposals.
//! - `records`: record key (32 bytes) || !height (u64 BE, bitwise not) -> the code's stored
//!   record (`StoredRecord`: its leaf, and a container's children) as that height left it;
//!   empty if the height removed it. Only the codes a height changed are written with it,
//!   and older versions stay, so the newest version at or below any height is the first
//!   key at or after `key || !height`: readers holding an older state read that state's
//!   records while later blocks are written (see `records`). A compaction drops the
//!   versions no registered reader can see (see `prune`).
//! - `history`: record key -> borsh(HistoryRow) for each finalized tx that named the code,
//!   appended in chain order (a merge operator, so a block adds a code's row without
//!   reading its history; the first row of a code created at that height is a plain put):
//!   what the ops did to the code, for the verify answer, read with one point lookup. Not
//!   consensus state (the blocks are), so it carries no proof.
//! - `events`: height || tx index (u32 BE) || event index (u32 BE) -> a captured EPCIS
//!   event as JSON, with `recordTime` (the block time) and `eventID` (its CBV hash ID if
//!   the document gave none).
//! - `tags`: NFC tag UID (7 bytes) -> record key of the code it is bound to || last
//!   accepted tap counter (u32 BE); node-local (see `tags`).
//! - `epc_index`: canonical EPC URI || 0x00 || height || tx index -> the indexes (u32 BE)
//!   of the tx's events naming the EPC, for `GET /epcs/{epc}/events` and `MATCH_anyEPC`.

use std::path::Path;
use std::sync::Arc;

use jiu_contracts::gs1::Sgtin;
use jiu_contracts::{DirtyRecord, Hash};

use crate::records::KnownCodes;
use malachitebft_metrics::prometheus::metrics::counter::Counter;

/// A storage failure. The node stops on one: continuing risks divergence.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("stored value under {0} is corrupt")]
    Corrupt(&'static str),
    #[error(
        "the data directory holds storage format {found}; this jiu reads format {expected}: \
         start the node on an empty data directory and let it sync"
    )]
    Format { found: u32, expected: u32 },
}

/// The layout of the columns below. A node refuses a data directory written in another
/// layout rather than misread it. Format 1 had no `format` key; format 2 appends a code's
/// history rows under its record key and stores one EPC index row per EPC and tx; format 3
/// records a bottle's lot in its record (and a Commission op may carry one); format 4 gives
/// each product its recalled lots (the persisted state holds the products); format 5 adds
/// the `lots` index, which a format-4 directory lacks for the lots it holds.
pub const STORAGE_FORMAT: u32 = 5;

pub type Result<T> = std::result::Result<T, DbError>;

/// A column family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Col {
    Blocks,
    Certs,
    Txs,
    Meta,
    Undecided,
    Records,
    History,
    Events,
    EpcIndex,
    Tags,
    /// Where each applied lottery tx is, in chain order: the book's log for a restart.
    LotteryTxs,
    /// This validator's seed-share signing records (jiu-beacon's guard).
    SeedGuard,
    /// The bottles each tx commissioned with each lot (`crate::lots`).
    Lots,
}

impl Col {
    const ALL: [Col; 13] = [
        Col::Blocks,
        Col::Certs,
        Col::Txs,
        Col::Meta,
        Col::Undecided,
        Col::Records,
        Col::History,
        Col::Events,
        Col::EpcIndex,
        Col::Tags,
        Col::LotteryTxs,
        Col::SeedGuard,
        Col::Lots,
    ];

    /// Columns whose keys start with a 32-byte record key and are read one record key at a
    /// time (see `RocksKv::read_options`).
    fn keyed_by_record(self) -> bool {
        matches!(self, Col::Records)
    }

    /// Columns that take a row per code per block: tens of millions of rows at 10 M bottles,
    /// with each memtable's keys spread over the whole key space (record keys are hashes;
    /// an EPCIS block's EPCs run from its first bottle to its last case), so every flush
    /// overlaps every file below it (see `RocksKv::open`).
    pub(crate) fn bulk(self) -> bool {
        matches!(self, Col::Records | Col::History | Col::EpcIndex)
    }

    /// Whether writes to the column append to the value under their key (see
    /// [`CommitRecord::index_rows`]).
    pub fn appends(self) -> bool {
        matches!(self, Col::History)
    }

    fn name(self) -> &'static str {
        match self {
            Col::Blocks => "blocks",
            Col::Certs => "certs",
            Col::Txs => "txs",
            Col::Meta => "meta",
            Col::Undecided => "undecided",
            Col::Records => "records",
            Col::History => "history",
            Col::Events => "events",
            Col::EpcIndex => "epc_index",
            Col::Tags => "tags",
            Col::LotteryTxs => "lottery_txs",
            Col::SeedGuard => "seed_guard",
            Col::Lots => "lots",
        }
    }
}

mod kv;
mod prune;

pub use kv::{DbOptions, Kv, MemKv, Op, RocksKv};
pub use prune::{ReaderGuard, ReaderHeights};

/// Everything one decided height writes, atomically. `Default` is an empty height 0, for
/// tests that write only some parts.
#[derive(Default)]
pub struct CommitRecord<'a> {
    pub height: u64,
    pub block: &'a [u8],
    pub certificate: &'a [u8],
    pub tx_ids: &'a [Hash],
    /// The receipt events of each tx (JSON), in the order of `tx_ids`.
    pub tx_events: &'a [Vec<u8>],
    pub state: &'a [u8],
    /// Lifecycle records changed at this height: record key and new stored record, `None`
    /// to delete (as the state hands them over, so nothing is copied before the batch).
    pub records: &'a [DirtyRecord],
    /// Derived index rows of this height (history, EPCIS events and their EPC index). A
    /// row of a column that [`Col::appends`] is appended to the value under its key. Owned:
    /// they move into the batch uncopied.
    pub index_rows: Vec<(Col, Vec<u8>, Vec<u8>)>,
}

/// Where a finalized transaction is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxLocation {
    pub height: u64,
    pub index: u32,
    /// The receipt's events as JSON (empty for txs stored before receipts were kept).
    pub events: Vec<u8>,
}

/// The `records` key of `key`'s version written at `height`: newer versions sort first.
fn record_version(key: &Hash, height: u64) -> Vec<u8> {
    let mut version = Vec::with_capacity(40);
    version.extend_from_slice(key);
    version.extend_from_slice(&(!height).to_be_bytes());
    version
}

const KEY_TIP: &[u8] = b"tip";
const KEY_STATE: &[u8] = b"state";
const KEY_FORMAT: &[u8] = b"format";

/// The chain store.
#[derive(Clone)]
pub struct Db {
    kv: Arc<dyn Kv>,
    /// The codes with a stored record, kept by `commit` and `load_records`.
    known: Arc<KnownCodes>,
    /// The heights records are read at; older versions are pruned (see `prune`).
    readers: Arc<ReaderHeights>,
}

impl Db {
    /// rocksdb at `path`, with the default tuning.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, &DbOptions::default())
    }

    /// rocksdb at `path`, tuned by `tuning`.
    pub fn open_with(path: &Path, tuning: &DbOptions) -> Result<Self> {
        let readers = Arc::new(ReaderHeights::default());
        let db = Self {
            kv: Arc::new(RocksKv::open(path, tuning, &readers)?),
            known: Default::default(),
            readers,
        };
        db.check_format()?;
        // An empty store's known codes are all there are; otherwise `load_records` fills
        // them in.
        if db.tip()?.is_none() {
            db.known.set_complete();
        }
        Ok(db)
    }

    /// Refuses a store written in another [`STORAGE_FORMAT`]; marks a new one.
    fn check_format(&self) -> Result<()> {
        let found = match self.kv.get(Col::Meta, KEY_FORMAT)? {
            Some(bytes) => u32::from_be_bytes(
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| DbError::Corrupt("meta/format"))?,
            ),
            None if self.tip()?.is_some() => 1,
            None => {
                return self.kv.write(vec![Op::Put(
                    Col::Meta,
                    KEY_FORMAT.to_vec(),
                    STORAGE_FORMAT.to_be_bytes().to_vec(),
                )])
            }
        };
        if found != STORAGE_FORMAT {
            return Err(DbError::Format {
                found,
                expected: STORAGE_FORMAT,
            });
        }
        Ok(())
    }

    /// An empty in-memory store.
    pub fn in_memory() -> Self {
        let db = Self {
            kv: Arc::new(MemKv::default()),
            known: Default::default(),
            readers: Default::default(),
        };
        db.known.set_complete();
        db
    }

    /// Writes one decided height and drops undecided blocks at or below it.
    pub fn commit(&self, record: CommitRecord<'_>) -> Result<()> {
        let height_key = record.height.to_be_bytes().to_vec();
        let mut ops = Vec::with_capacity(record.tx_ids.len() + 8);
        ops.push(Op::Put(
            Col::Blocks,
            height_key.clone(),
            record.block.to_vec(),
        ));
        ops.push(Op::Put(
            Col::Certs,
            height_key.clone(),
            record.certificate.to_vec(),
        ));
        for (index, id) in record.tx_ids.iter().enumerate() {
            let mut location = height_key.clone();
            location.extend_from_slice(&(index as u32).to_be_bytes());
            if let Some(events) = record.tx_events.get(index) {
                location.extend_from_slice(events);
            }
            ops.push(Op::Put(Col::Txs, id.to_vec(), location));
        }
        ops.push(Op::Put(Col::Meta, KEY_TIP.to_vec(), height_key));
        ops.push(Op::Put(
            Col::Meta,
            KEY_STATE.to_vec(),
            record.state.to_vec(),
        ));
        for dirty in record.records {
            let value = dirty.stored.as_deref().unwrap_or_default().to_vec();
            ops.push(Op::Put(
                Col::Records,
                record_version(&dirty.key, record.height),
                value,
            ));
        }
        // Before the write: a reader must never find a stored record its index misses.
        // The codes this height creates have no rows in an appending column yet (a code's
        // history starts with the op that creates it), so their first row is a plain put:
        // rocksdb then has no merge to resolve for it at every compaction and read.
        let mut created = self
            .known
            .extend(record.records.iter().map(|dirty| &dirty.key), record.height);
        for (col, key, value) in record.index_rows {
            let append = col.appends()
                && !<&Hash>::try_from(key.as_slice()).is_ok_and(|code| created.remove(code));
            ops.push(if append {
                Op::Append(col, key, value)
            } else {
                Op::Put(col, key, value)
            });
        }
        // Keys only: each value is a whole block. Keys start with the height, so the scan
        // stops at the first block above this one.
        self.kv.scan(Col::Undecided, &[], &[], &mut |key, _| {
            let below = undecided_height(key) <= Some(record.height);
            if below {
                ops.push(Op::Delete(Col::Undecided, key.to_vec()));
            }
            below
        })?;
        // Record and history keys are hashes, so a block's rows land all over the key
        // space; rocksdb inserts a batch into its memtable fastest in key order (each insert
        // starts where the last one ended). Stable, so two writes of one key keep their order.
        ops.sort_by(|a, b| a.target().cmp(&b.target()));
        self.kv.write(ops)
    }

    /// Replaces the certificate of a height (Finalized may carry more signatures).
    pub fn put_certificate(&self, height: u64, certificate: &[u8]) -> Result<()> {
        self.kv.write(vec![Op::Put(
            Col::Certs,
            height.to_be_bytes().to_vec(),
            certificate.to_vec(),
        )])
    }

    /// The last decided height, if any.
    pub fn tip(&self) -> Result<Option<u64>> {
        match self.kv.get(Col::Meta, KEY_TIP)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(u64_be(&bytes).ok_or(DbError::Corrupt("meta/tip"))?)),
        }
    }

    /// The persistent state at the tip.
    pub fn state(&self) -> Result<Option<Vec<u8>>> {
        self.kv.get(Col::Meta, KEY_STATE)
    }

    /// The encoded block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>> {
        self.kv.get(Col::Blocks, &height.to_be_bytes())
    }

    /// The encoded commit certificate of `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>> {
        self.kv.get(Col::Certs, &height.to_be_bytes())
    }

    /// Where transaction `id` was finalized.
    pub fn tx_location(&self, id: &Hash) -> Result<Option<TxLocation>> {
        let Some(bytes) = self.kv.get(Col::Txs, id)? else {
            return Ok(None);
        };
        let height = u64_be(bytes.get(..8).unwrap_or_default()).ok_or(DbError::Corrupt("txs"))?;
        let index: [u8; 4] = bytes
            .get(8..12)
            .and_then(|b| b.try_into().ok())
            .ok_or(DbError::Corrupt("txs"))?;
        Ok(Some(TxLocation {
            height,
            index: u32::from_be_bytes(index),
            events: bytes.get(12..).unwrap_or_default().to_vec(),
        }))
    }

    /// Every applied lottery tx position `(height, index)` with the row's value, in chain
    /// order.
    pub fn lottery_txs(&self) -> Result<Vec<(u64, u32, Vec<u8>)>> {
        let mut out = Vec::new();
        let mut corrupt = false;
        self.kv.scan(Col::LotteryTxs, &[], &[], &mut |k, v| match (
            u64_be(k.get(..8).unwrap_or_default()),
            k.get(8..12),
        ) {
            (Some(height), Some(index)) => {
                let index = u32::from_be_bytes(index.try_into().unwrap_or_default());
                out.push((height, index, v.to_vec()));
                true
            }
            _ => {
                corrupt = true;
                false
            }
        })?;
        if corrupt {
            return Err(DbError::Corrupt("lottery_txs"));
        }
        Ok(out)
    }

    /// The seed-share signing records, one per lottery.
    pub fn seed_guard(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .kv
            .scan_prefix(Col::SeedGuard, &[])?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// Persists one seed-share signing record (before the share leaves the node).
    pub fn put_seed_guard(&self, lottery_id: u64, record: &[u8]) -> Result<()> {
        self.kv.write(vec![Op::Put(
            Col::SeedGuard,
            lottery_id.to_be_bytes().to_vec(),
            record.to_vec(),
        )])
    }

    /// The stored record under `key` as of `height` (the newest version at or below it), or
    /// `None` if there is none or that version removed it. Answers from the known codes
    /// (kept by `commit` and `load_records`) whether `key` was ever stored, and reads its
    /// newest version with a point lookup when `height` is at or above it.
    pub fn record_at(&self, key: &Hash, height: u64) -> Result<Option<Vec<u8>>> {
        let newest = match self.known.newest(key) {
            None => return Ok(None),
            Some(newest) => newest.filter(|&newest| newest <= height),
        };
        // The newest version of the prefix is at or below `height`: if it is `key`'s, it is
        // the version `height` reads (see `records`).
        if let Some(newest) = newest {
            if let Some(value) = self.kv.get(Col::Records, &record_version(key, newest))? {
                return Ok(Some(value).filter(|value| !value.is_empty()));
            }
        }
        let mut found = None;
        self.kv.scan(
            Col::Records,
            key,
            &record_version(key, height),
            &mut |_, value| {
                found = Some(value.to_vec());
                false
            },
        )?;
        Ok(found.filter(|value| !value.is_empty()))
    }

    /// Registers a reader of records at `height` until the guard drops: the versions it
    /// reads outlive compaction (see `prune`).
    pub fn read_records_at(&self, height: u64) -> ReaderGuard {
        self.readers.enter(height)
    }

    /// How many record versions compactions have dropped since the store opened.
    pub fn pruned_record_versions(&self) -> &Counter {
        self.readers.pruned()
    }

    /// The codes with a stored record (see `records`).
    pub fn known_codes(&self) -> &Arc<KnownCodes> {
        &self.known
    }

    /// Calls `visit` with each code's record key and newest stored record, for rebuilding
    /// the records tree at start (every stored version is at or below the tip), and indexes
    /// every stored code in [`Db::known_codes`].
    pub fn load_records(&self, visit: &mut dyn FnMut(&Hash, &[u8])) -> Result<()> {
        let mut last: Option<Hash> = None;
        self.kv.scan(Col::Records, &[], &[], &mut |key, value| {
            let Some(code_key) = key.get(..32).and_then(|k| <Hash>::try_from(k).ok()) else {
                return true;
            };
            if last != Some(code_key) {
                last = Some(code_key);
                // The first version of a key is its newest (`record_version`).
                let height = key.get(32..40).and_then(u64_be).map_or(u64::MAX, |h| !h);
                self.known.extend([&code_key], height);
                if !value.is_empty() {
                    visit(&code_key, value);
                }
            }
            true
        })?;
        self.known.set_complete();
        Ok(())
    }

    /// The history rows of the code with `record_key`, as appended (see `history`).
    pub fn history(&self, record_key: &Hash) -> Result<Option<Vec<u8>>> {
        self.kv.get(Col::History, record_key)
    }

    /// The newest `limit` stored EPCIS events, newest first (a reverse seek, not a scan of
    /// the whole column).
    pub fn events_newest(&self, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.kv.last(Col::Events, limit)
    }

    /// The stored EPCIS events naming `epc` (canonical form), oldest first, at most `limit`.
    pub fn events_of_epc(&self, epc: &str, limit: usize) -> Result<Vec<Vec<u8>>> {
        let mut prefix = epc.as_bytes().to_vec();
        prefix.push(0);
        let mut keys = Vec::new();
        let mut corrupt = false;
        self.kv.scan(Col::EpcIndex, &prefix, &prefix, &mut |k, v| {
            // key: EPC || 0 || height || tx index; value: the tx's event indexes (u32 BE).
            let tx_key = &k[prefix.len()..];
            if tx_key.len() != 12 || v.is_empty() || v.len() % 4 != 0 {
                corrupt = true;
                return false;
            }
            for index in v.chunks_exact(4) {
                keys.push([tx_key, index].concat());
            }
            keys.len() < limit
        })?;
        if corrupt {
            return Err(DbError::Corrupt("epc_index"));
        }
        keys.truncate(limit);
        let mut events = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(event) = self.kv.get(Col::Events, &key)? {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// The bottles commissioned with a lot, in chain order, from the `lots` rows under
    /// `prefix` (`crate::lots::prefix`); at most `limit`.
    pub fn lot_bottles(&self, prefix: &[u8], limit: usize) -> Result<Vec<Sgtin>> {
        let mut bottles = Vec::new();
        let mut corrupt = false;
        self.kv.scan(Col::Lots, prefix, prefix, &mut |_, v| {
            match crate::lots::decode_row(v) {
                Some(rows) => bottles.extend(rows),
                None => corrupt = true,
            }
            !corrupt && bottles.len() < limit
        })?;
        if corrupt {
            return Err(DbError::Corrupt("lots"));
        }
        bottles.truncate(limit);
        Ok(bottles)
    }

    /// The code a tag is bound to and its last accepted counter.
    pub fn tag(&self, uid: &[u8; 7]) -> Result<Option<(Hash, u32)>> {
        let Some(bytes) = self.kv.get(Col::Tags, uid)? else {
            return Ok(None);
        };
        let code: Hash = bytes
            .get(..32)
            .and_then(|b| b.try_into().ok())
            .ok_or(DbError::Corrupt("tags"))?;
        let counter = bytes
            .get(32..36)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or(DbError::Corrupt("tags"))?;
        Ok(Some((code, counter)))
    }

    /// Binds a tag to a code and records its counter (synced).
    pub fn put_tag(&self, uid: &[u8; 7], code: &Hash, counter: u32) -> Result<()> {
        let mut value = code.to_vec();
        value.extend_from_slice(&counter.to_be_bytes());
        self.kv.write(vec![Op::Put(Col::Tags, uid.to_vec(), value)])
    }

    /// Keeps a block we proposed or validated at (height, round) until its height is decided.
    pub fn put_undecided(&self, height: u64, round: u32, id: &Hash, block: &[u8]) -> Result<()> {
        let mut key = height.to_be_bytes().to_vec();
        key.extend_from_slice(&round.to_be_bytes());
        key.extend_from_slice(id);
        self.kv
            .write(vec![Op::Put(Col::Undecided, key, block.to_vec())])
    }

    /// The undecided blocks stored for (height, round).
    pub fn undecided(&self, height: u64, round: u32) -> Result<Vec<Vec<u8>>> {
        let mut prefix = height.to_be_bytes().to_vec();
        prefix.extend_from_slice(&round.to_be_bytes());
        let entries = self.kv.scan_prefix(Col::Undecided, &prefix)?;
        Ok(entries.into_iter().map(|(_, v)| v).collect())
    }
}

fn u64_be(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

fn undecided_height(key: &[u8]) -> Option<u64> {
    u64_be(key.get(..8)?)
}

#[cfg(test)]
mod tests;
