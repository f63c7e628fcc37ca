//! The key-value layer under `Db`: columns, atomic batches and prefix scans, on rocksdb
//! or on an in-memory `BTreeMap` twin for tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::prune::{PruneFactory, ReaderHeights};
use super::{Col, Result};

/// One write in an atomic batch.
#[derive(Clone)]
pub enum Op {
    Put(Col, Vec<u8>, Vec<u8>),
    Delete(Col, Vec<u8>),
    /// Appends the bytes to the value under the key (an empty value if none): only for a
    /// column that [`Col::appends`].
    Append(Col, Vec<u8>, Vec<u8>),
}

impl Op {
    pub(super) fn target(&self) -> (Col, &[u8]) {
        match self {
            Op::Put(col, key, _) | Op::Delete(col, key) | Op::Append(col, key, _) => (*col, key),
        }
    }
}

/// A key-value store with columns and atomic batches. Implementors must apply a batch
/// all-or-nothing and make it durable before returning.
pub trait Kv: Send + Sync + 'static {
    fn get(&self, col: Col, key: &[u8]) -> Result<Option<Vec<u8>>>;
    fn write(&self, ops: Vec<Op>) -> Result<()>;
    /// Calls `visit` on each entry of `col` whose key starts with `prefix` and is at least
    /// `start` (which starts with `prefix`), in key order, until it returns false.
    fn scan(
        &self,
        col: Col,
        prefix: &[u8],
        start: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()>;

    /// The last `limit` entries of `col`, in descending key order.
    fn last(&self, col: Col, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Compacts all of `col` now, as rocksdb would in time (tests of what compaction
    /// drops); nothing to do in memory.
    #[cfg(test)]
    fn compact(&self, _col: Col) -> Result<()> {
        Ok(())
    }

    /// All entries of `col` whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, col: Col, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        self.scan(col, prefix, prefix, &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            true
        })?;
        Ok(out)
    }
}

type MemMap = BTreeMap<(Col, Vec<u8>), Vec<u8>>;

/// The in-memory twin, for tests.
#[derive(Default)]
pub struct MemKv {
    map: Mutex<MemMap>,
}

impl MemKv {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemMap> {
        // A poisoned lock means a writer panicked mid-batch, which is a bug elsewhere.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Kv for MemKv {
    fn get(&self, col: Col, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.lock().get(&(col, key.to_vec())).cloned())
    }

    fn write(&self, ops: Vec<Op>) -> Result<()> {
        let mut map = self.lock();
        for op in ops {
            match op {
                Op::Put(col, key, value) => {
                    map.insert((col, key), value);
                }
                Op::Delete(col, key) => {
                    map.remove(&(col, key));
                }
                Op::Append(col, key, bytes) => {
                    map.entry((col, key)).or_default().extend_from_slice(&bytes);
                }
            }
        }
        Ok(())
    }

    fn last(&self, col: Col, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let map = self.lock();
        Ok(map
            .range((col, Vec::new())..)
            .take_while(|((c, _), _)| *c == col)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .take(limit)
            .collect())
    }

    fn scan(
        &self,
        col: Col,
        prefix: &[u8],
        start: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let map = self.lock();
        for ((_, key), value) in map
            .range((col, start.to_vec())..)
            .take_while(|((c, k), _)| *c == col && k.starts_with(prefix))
        {
            if !visit(key, value) {
                break;
            }
        }
        Ok(())
    }
}

/// Length of a record key, the prefix of every key in `records`.
const RECORD_PREFIX_BYTES: usize = 32;

/// The write-ahead log kept before rocksdb flushes the columns it holds (see `RocksKv::open`).
const WAL_BYTES_MAX: u64 = 1024 * 1024 * 1024;

/// Memtable size of a bulk column (`Col::bulk`); rocksdb's default is 64 MiB.
const BULK_WRITE_BUFFER_BYTES: usize = 128 * 1024 * 1024;

/// Level-0 files that start a compaction of a bulk column; rocksdb's default is 4.
const BULK_LEVEL0_FILES: i32 = 8;

/// How a node's rocksdb is tuned (`db_cache_mb` in the node config).
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// The block cache shared by all columns.
    pub block_cache_bytes: usize,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            block_cache_bytes: 256 * 1024 * 1024,
        }
    }
}

/// rocksdb on disk.
pub struct RocksKv {
    db: rocksdb::DB,
}

impl RocksKv {
    /// Opens (or creates) the database at `path`. Compactions of `records` drop the
    /// versions no reader in `readers` can see (see `prune`).
    pub fn open(path: &Path, tuning: &DbOptions, readers: &Arc<ReaderHeights>) -> Result<Self> {
        let mut options = rocksdb::Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_compression_type(rocksdb::DBCompressionType::Lz4);
        // Without a cap the write-ahead logs grew past the data they protect (547 MB of WAL
        // for 259 MB of tables after a 3 M-entry lottery): flush columns once 1 GiB of log
        // is kept. Every block writes to every bulk column, so the log holds about three
        // times what one bulk memtable does: a smaller cap flushed them half full, and a
        // restart replays at most this much.
        options.set_max_total_wal_size(WAL_BYTES_MAX);
        // Verify answers read a code's history lines on every query: a shared block cache
        // and bloom filters keep those reads in memory (the default cache is 8 MiB).
        let cache = rocksdb::Cache::new_lru_cache(tuning.block_cache_bytes);
        let table = |col: Col| {
            let mut table = rocksdb::BlockBasedOptions::default();
            table.set_block_cache(&cache);
            // The EPC index is only ever scanned from an EPC's first row; a filter there is
            // built at every compaction and never read.
            if col != Col::EpcIndex {
                table.set_bloom_filter(10.0, false);
            }
            table.set_whole_key_filtering(!col.keyed_by_record());
            table.set_cache_index_and_filter_blocks(true);
            // Index and filter blocks stay in the cache: with random reads over a ledger
            // larger than the cache, data blocks evicted them, and every read first re-read
            // them (about 2% of the data: 100 MB per node at 10 M bottles).
            table.set_unpartitioned_pinning_tier(rocksdb::BlockBasedTablePinningTier::All);
            // A hash index inside each data block answers a point lookup (a record's
            // newest version, a code's history) without a binary search. Only those two
            // are read by point lookup; elsewhere the index was 5% of a node's CPU,
            // hashing every key again at every compaction, for nothing.
            if matches!(col, Col::Records | Col::History) {
                table.set_data_block_index_type(rocksdb::DataBlockIndexType::BinaryAndHash);
            }
            table
        };
        let columns = Col::ALL.map(|col| {
            let mut cf = options.clone();
            cf.set_block_based_table_factory(&table(col));
            if col.keyed_by_record() {
                // Every read of these columns seeks within one record key: with the key as a
                // fixed prefix, bloom filters let a seek skip the files (and memtable) that
                // hold nothing under it, instead of searching every level of the tree.
                cf.set_prefix_extractor(rocksdb::SliceTransform::create_fixed_prefix(
                    RECORD_PREFIX_BYTES,
                ));
                cf.set_memtable_prefix_bloom_ratio(0.05);
            }
            if col.appends() {
                cf.set_merge_operator_associative("jiu.append", append);
            }
            if col == Col::Records {
                cf.set_compaction_filter_factory(PruneFactory {
                    readers: Arc::clone(readers),
                });
            }
            if col.bulk() {
                // Every flush of a bulk column spans the whole key space, so each compaction
                // from level 0 rewrites the whole level below it. Twice the memtable and
                // twice the level-0 files per compaction halve those rewrites: at 10 M
                // bottles, write amplification went from 3.6 to 1.9 (records) and 3.9 to
                // 2.9 (history), and a node's CPU from 344 to 324 s. Reads pay a bloom
                // probe per extra level-0 file.
                cf.set_write_buffer_size(BULK_WRITE_BUFFER_BYTES);
                cf.set_level_zero_file_num_compaction_trigger(BULK_LEVEL0_FILES);
            }
            rocksdb::ColumnFamilyDescriptor::new(col.name(), cf)
        });
        let db = rocksdb::DB::open_cf_descriptors(&options, path, columns)?;
        Ok(Self { db })
    }

    /// How to iterate `col` from a key under `prefix`: within the prefix's bloom-filtered
    /// files when the column has a prefix extractor and the scan stays inside one record
    /// key; over the whole key order otherwise (a prefix extractor makes plain iterators
    /// undefined across prefixes).
    fn read_options(col: Col, prefix: &[u8]) -> rocksdb::ReadOptions {
        let mut read = rocksdb::ReadOptions::default();
        if col.keyed_by_record() && prefix.len() >= RECORD_PREFIX_BYTES {
            read.set_prefix_same_as_start(true);
        } else {
            read.set_total_order_seek(true);
        }
        read
    }

    /// The write batch of `ops`. A block's batch runs to megabytes; grown by doubling, its
    /// buffer was copied about twice over (2% of a node during an ingest). Sized up front
    /// from an upper bound, it is written once.
    fn batch(&self, ops: Vec<Op>) -> rocksdb::WriteBatch {
        let mut batch = rocksdb::WriteBatch::with_capacity_bytes(batch_bytes(&ops));
        for op in ops {
            match op {
                Op::Put(col, key, value) => batch.put_cf(self.cf(col), key, value),
                Op::Delete(col, key) => batch.delete_cf(self.cf(col), key),
                Op::Append(col, key, bytes) => batch.merge_cf(self.cf(col), key, bytes),
            }
        }
        batch
    }

    fn cf(&self, col: Col) -> &rocksdb::ColumnFamily {
        // Every column is created at open, so a missing handle is a bug.
        self.db
            .cf_handle(col.name())
            .expect("column families are created at open")
    }
}

/// Header of a rocksdb write batch: sequence number and count.
const BATCH_HEADER_BYTES: usize = 12;

/// Most framing bytes rocksdb adds to one entry of a write batch: a tag and three varint32s
/// (column family, key length, value length).
const BATCH_ENTRY_FRAMING_BYTES: usize = 16;

/// An upper bound on the size of the write batch holding `ops`.
fn batch_bytes(ops: &[Op]) -> usize {
    let entries: usize = ops
        .iter()
        .map(|op| {
            BATCH_ENTRY_FRAMING_BYTES
                + match op {
                    Op::Put(_, key, value) | Op::Append(_, key, value) => key.len() + value.len(),
                    Op::Delete(_, key) => key.len(),
                }
        })
        .sum();
    BATCH_HEADER_BYTES + entries
}

/// The merge operator of an appending column: the operands after the existing value, in
/// the order they were written. Concatenation is associative, so rocksdb may combine
/// operands in any grouping.
fn append(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    let size = existing.map_or(0, <[u8]>::len) + operands.iter().map(<[u8]>::len).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(existing.unwrap_or_default());
    for operand in operands {
        out.extend_from_slice(operand);
    }
    Some(out)
}

impl Kv for RocksKv {
    fn get(&self, col: Col, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(col), key)?)
    }

    fn write(&self, ops: Vec<Op>) -> Result<()> {
        let batch = self.batch(ops);
        let mut options = rocksdb::WriteOptions::default();
        options.set_sync(true);
        Ok(self.db.write_opt(batch, &options)?)
    }

    #[cfg(test)]
    fn compact(&self, col: Col) -> Result<()> {
        self.db
            .compact_range_cf(self.cf(col), None::<&[u8]>, None::<&[u8]>);
        Ok(())
    }

    fn last(&self, col: Col, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf_opt(
            self.cf(col),
            Self::read_options(col, &[]),
            rocksdb::IteratorMode::End,
        ) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item?;
            out.push((key.to_vec(), value.to_vec()));
        }
        Ok(out)
    }

    fn scan(
        &self,
        col: Col,
        prefix: &[u8],
        start: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        // A raw iterator lends each entry in place; the plain one copies every key and value
        // it passes into new boxes (a whole block, for an undecided block's entry).
        let mut entries = self
            .db
            .raw_iterator_cf_opt(self.cf(col), Self::read_options(col, prefix));
        entries.seek(start);
        while let (Some(key), Some(value)) = (entries.key(), entries.value()) {
            if !key.starts_with(prefix) || !visit(key, value) {
                break;
            }
            entries.next();
        }
        Ok(entries.status()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound holds for every kind of entry, in the default-like first column and in
    /// later ones, with lengths whose varints take one to three bytes.
    #[test]
    fn test_batch_bytes_bounds_the_encoded_batch() {
        let dir = tempfile::tempdir().unwrap();
        let kv = RocksKv::open(dir.path(), &DbOptions::default(), &Default::default()).unwrap();
        let sizes = [0, 1, 127, 128, 16_383, 16_384, 300_000];
        let mut ops = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            let col = Col::ALL[i % Col::ALL.len()];
            ops.push(Op::Put(col, vec![1; size.min(1000)], vec![2; size]));
            ops.push(Op::Delete(col, vec![3; size]));
        }
        ops.push(Op::Append(Col::History, vec![4; 40], vec![5; 16_384]));
        for tail in 0..=ops.len() {
            let part = ops[..tail].to_vec();
            let bound = batch_bytes(&part);
            let encoded = kv.batch(part).size_in_bytes();
            assert!(
                encoded <= bound,
                "{encoded} encoded bytes over the bound {bound}"
            );
            assert!(bound - encoded <= BATCH_ENTRY_FRAMING_BYTES * tail);
        }
    }
}
