//! The lifecycle records a state reads through: the node's store at one height.
//!
//! After writing a block the node rebases its committed state onto a [`StoreAt`] of that
//! height, so memory holds the records tree and one block's changes, and the records
//! themselves live in rocksdb (`records` column, one version per height that changed a
//! code; see `db`). A state cloned for an RPC answer keeps reading its own height however
//! many blocks are written meanwhile, so a record and the proof built from the same state
//! always agree.
//!
//! Most lookups while commissioning are for codes that do not exist yet. [`KnownCodes`]
//! answers those from memory: the first 8 bytes of every record key ever stored, in a hash
//! map (one probe, about 20 bytes per code). It only grows, so one map serves every height:
//! a code stored after a reader's height is a miss in the store at that height.
//!
//! The map also keeps the height of each code's newest version. A reader at or above it
//! (every verify answer at the tip, and every lookup while executing the next block) then
//! reads that version with a point lookup; only an older reader, or two codes sharing a
//! prefix, seeks for the newest version at or below its height. A point lookup stops at the
//! first level of the tree that holds the key, where a seek positions an iterator in every
//! level.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use jiu_contracts::gs1::Code;
use jiu_contracts::provenance::{record_key, RecordLeaf, RecordStore, StoredRecord};
use jiu_contracts::{Hash, State};
use tracing::error;

use crate::db::Db;

/// The codes that have a stored record at some height: the first 8 bytes of their record
/// keys, each with the newest height a version was stored under that prefix. Grow-only;
/// shared by every [`StoreAt`] of a node.
#[derive(Default)]
pub struct KnownCodes {
    prefixes: RwLock<HashMap<u64, u32, BuildHasherDefault<PrefixHasher>>>,
    /// Whether the map holds every key of the store (see [`KnownCodes::set_complete`]).
    complete: AtomicBool,
}

/// Stands for every height that does not fit in a `u32` (a chain of 136 years at one block
/// a second): the newest version's height is then unknown and readers seek for it.
const HEIGHT_UNKNOWN: u32 = u32::MAX;

impl KnownCodes {
    fn prefix(key: &Hash) -> u64 {
        u64::from_le_bytes(key[..8].try_into().expect("8 bytes of a 32-byte key"))
    }

    /// Notes a version of each of `keys` stored at `height`. Returns those under which no
    /// record was stored before (a new prefix), or none if the map is not
    /// [complete](KnownCodes::set_complete) and cannot tell: one lock and one probe per key.
    pub fn extend<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a Hash>,
        height: u64,
    ) -> HashSet<&'a Hash> {
        let complete = self.complete.load(Ordering::Acquire);
        let height = u32::try_from(height).unwrap_or(HEIGHT_UNKNOWN);
        let mut prefixes = self.prefixes.write().unwrap_or_else(|e| e.into_inner());
        let mut new = HashSet::new();
        for key in keys {
            match prefixes.entry(Self::prefix(key)) {
                Entry::Occupied(mut newest) => *newest.get_mut() = (*newest.get()).max(height),
                Entry::Vacant(slot) => {
                    slot.insert(height);
                    if complete {
                        new.insert(key);
                    }
                }
            }
        }
        new
    }

    /// False if no record was ever stored under `key`; true may be another key's prefix.
    pub fn may_hold(&self, key: &Hash) -> bool {
        self.newest(key).is_some()
    }

    /// `None` if no record was ever stored under `key`; otherwise the newest height at which
    /// a version was stored under its prefix (`key`'s or another's), if known.
    pub fn newest(&self, key: &Hash) -> Option<Option<u64>> {
        let prefixes = self.prefixes.read().unwrap_or_else(|e| e.into_inner());
        let height = *prefixes.get(&Self::prefix(key))?;
        Some((height != HEIGHT_UNKNOWN).then_some(u64::from(height)))
    }

    /// Marks the map as holding every key ever stored: the store was empty, or every
    /// stored key has been added. Until then [`KnownCodes::extend`] reports no new keys.
    pub fn set_complete(&self) {
        self.complete.store(true, Ordering::Release);
    }

    pub fn len(&self) -> usize {
        self.prefixes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Record keys are SHA-256 outputs, so their first 8 bytes are already uniform: the set
/// hashes them as they are.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// The records as of `height`, kept readable while the store lives.
pub struct StoreAt {
    db: Db,
    height: u64,
    _reading: crate::db::ReaderGuard,
}

impl StoreAt {
    pub fn new(db: Db, height: u64) -> StoreAt {
        let reading = db.read_records_at(height);
        StoreAt {
            db,
            height,
            _reading: reading,
        }
    }

    /// A store for `state`, which must be the state whose records `db` holds at its height.
    pub fn of(db: &Db, state: &State) -> Arc<dyn RecordStore> {
        Arc::new(StoreAt::new(db.clone(), state.height()))
    }
}

impl StoreAt {
    /// The stored bytes of `code` at this height.
    fn read(&self, code: &Code) -> Option<Vec<u8>> {
        // `record_at` answers a code never stored from `KnownCodes`, without a read.
        match self.db.record_at(&record_key(code), self.height) {
            Ok(bytes) => bytes,
            // Going on without the record would execute blocks on a wrong ledger and fork,
            // so stop, as on any storage failure.
            Err(e) => stop(&format!("reading the record of {code}: {e}")),
        }
    }
}

impl RecordStore for StoreAt {
    fn get(&self, code: &Code) -> Option<StoredRecord> {
        let bytes = self.read(code)?;
        match StoredRecord::decode(&bytes) {
            Some(record) if record.leaf.code == *code => Some(record),
            _ => stop(&format!("stored record of {code} is corrupt")),
        }
    }

    fn leaf(&self, code: &Code) -> Option<RecordLeaf> {
        let bytes = self.read(code)?;
        match StoredRecord::leaf_bytes(&bytes).and_then(RecordLeaf::decode) {
            Some(leaf) if leaf.code == *code => Some(leaf),
            _ => stop(&format!("stored record of {code} is corrupt")),
        }
    }
}

fn stop(why: &str) -> ! {
    error!(why, "record store failure; stopping the node");
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_known_codes_answer_by_key_prefix() {
        let known = KnownCodes::default();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert!(!known.may_hold(&a));
        known.extend([&a], 7);
        assert!(known.may_hold(&a));
        assert_eq!(known.newest(&a), Some(Some(7)));
        assert!(!known.may_hold(&b));
        let mut same_prefix = a;
        same_prefix[31] = 9;
        assert!(known.may_hold(&same_prefix), "only the prefix is kept");
        assert_eq!(known.len(), 1);
        known.extend([&same_prefix], 9);
        known.extend([&a], 8);
        assert_eq!(known.newest(&a), Some(Some(9)), "the newest of the prefix");
        known.extend([&b], u64::from(u32::MAX) + 1);
        assert_eq!(known.newest(&b), Some(None), "too high to keep: unknown");
    }

    /// What a block writes, a store of its height reads back; a store of an older height
    /// does not see it, and a code never written is a miss.
    #[test]
    fn test_store_reads_what_commit_wrote_at_its_height() {
        use jiu_contracts::gs1::parse_code;
        use jiu_contracts::provenance::{Actor, Ctx, Ledger, MemRecords, Op};
        use jiu_contracts::Role;

        let code = parse_code("(01)09506000134352(21)S1").expect("code");
        let Code::Item(sgtin) = code.clone() else {
            panic!("an item code")
        };
        let mut ledger = Ledger::new();
        let parties: std::collections::BTreeMap<String, Role> =
            [("p".to_string(), Role::Producer)].into();
        let ctx = Ctx {
            height: 5,
            time_ms: 1,
            undo_window_ms: 1,
        };
        let op = Op::Commission {
            items: vec![sgtin],
            lot: None,
        };
        ledger
            .apply(&op, &Actor::new("p", Role::Producer), &parties, &ctx)
            .expect("commission");
        let record = MemRecords::snapshot(&ledger).get(&code).expect("snapshot");
        let dir = tempfile::tempdir().expect("tempdir");
        for db in [Db::in_memory(), Db::open(dir.path()).expect("rocksdb")] {
            db.commit(crate::db::CommitRecord {
                height: 5,
                block: b"b",
                certificate: b"c",
                tx_ids: &[],
                tx_events: &[],
                state: b"s",
                records: &[jiu_contracts::DirtyRecord {
                    key: record_key(&code),
                    stored: Some(record.encode().into()),
                }],
                index_rows: Vec::new(),
            })
            .expect("commit");
            let at = |height| StoreAt::new(db.clone(), height);
            assert_eq!(at(5).get(&code), Some(record.clone()));
            assert_eq!(at(5).leaf(&code), Some(record.leaf.clone()));
            assert_eq!(at(4).leaf(&code), None);
            assert_eq!(at(9).get(&code), Some(record.clone()));
            assert_eq!(at(4).get(&code), None, "written after height 4");
            let other = parse_code("(01)09506000134352(21)S2").expect("code");
            assert_eq!(at(5).get(&other), None);
        }
    }
}
