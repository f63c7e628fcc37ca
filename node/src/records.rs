//! The lifecycle records a state reads through: the node's store at one height.
//!
//! After writing a block the node rebases its committed state onto a [`StoreAt`] of that
//! height, so memory holds the records tree and one block's changes, and the records
//! themselves live in rocksdb (`records` column, one version per height that changed a
//! code; see `db`). A state cloned for an RPC answer keeps reading its own height however
//! many blocks are written meanwhile, so a record and the proof built from the same state
//! always agree.

use std::sync::Arc;

use jiu_contracts::gs1::Code;
use jiu_contracts::provenance::{record_key, RecordStore, StoredRecord};
use jiu_contracts::smt::Smt;
use jiu_contracts::State;
use tracing::error;

use crate::db::Db;

/// The records as of `height`.
pub struct StoreAt {
    db: Db,
    height: u64,
    /// The records tree at `height`: answers which codes exist without a disk read, which
    /// is most lookups while commissioning.
    known: Smt,
}

impl StoreAt {
    pub fn new(db: Db, height: u64, known: Smt) -> StoreAt {
        StoreAt { db, height, known }
    }

    /// A store for `state`, which must be the state whose records `db` holds at its height.
    pub fn of(db: &Db, state: &State) -> Arc<dyn RecordStore> {
        Arc::new(StoreAt::new(
            db.clone(),
            state.height(),
            state.records_tree().clone(),
        ))
    }
}

impl RecordStore for StoreAt {
    fn get(&self, code: &Code) -> Option<StoredRecord> {
        let key = record_key(code);
        self.known.get(&key)?;
        let bytes = match self.db.record_at(&key, self.height) {
            Ok(Some(bytes)) => bytes,
            // The tree has the code but the store does not, or cannot be read: going on
            // would execute blocks on a wrong ledger and fork, so stop (as on any storage
            // failure).
            Ok(None) => stop(&format!(
                "record of {code} missing at height {}",
                self.height
            )),
            Err(e) => stop(&format!("reading the record of {code}: {e}")),
        };
        match StoredRecord::decode(&bytes) {
            Some(record) if record.leaf.code == *code => Some(record),
            _ => stop(&format!("stored record of {code} is corrupt")),
        }
    }
}

fn stop(why: &str) -> ! {
    error!(why, "record store failure; stopping the node");
    std::process::abort()
}
