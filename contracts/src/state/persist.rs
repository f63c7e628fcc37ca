//! Saving and restoring the state, and the invariant checker.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::TxError;
use crate::provenance::{Ledger, StoredRecord};
use crate::smt::{self, Smt};
use crate::state::{Records, State};
use crate::tx::ORG_KEYS_MAX;
use crate::types::{Hash, Org};

/// Bumped on any change to [`Persistent`], so an old node never misreads a new database.
const PERSISTENT_VERSION: u8 = 4;

/// The persisted part of [`State`] but for the lifecycle leaves, which the node stores one
/// per code (see [`State::take_dirty`] and [`State::restore_records`]); the replay window and
/// the key index are rebuilt on load.
#[derive(BorshSerialize, BorshDeserialize)]
struct Persistent {
    version: u8,
    /// In id order.
    orgs: Vec<Org>,
    anchors_count: u64,
    anchors_acc: Hash,
    height: u64,
    undo_window_ms: u64,
    /// In GTIN order.
    products: Vec<crate::product::Product>,
}

impl State {
    /// The bytes to store after each block: borsh of the state without the replay window.
    pub fn encode_persistent(&self) -> Vec<u8> {
        let persistent = Persistent {
            version: PERSISTENT_VERSION,
            orgs: self.orgs.values().cloned().collect(),
            anchors_count: self.anchors_count,
            anchors_acc: self.anchors_acc,
            height: self.height,
            undo_window_ms: self.undo_window_ms,
            products: self.products.values().cloned().collect(),
        };
        borsh::to_vec(&persistent).expect("borsh writes to a Vec cannot fail")
    }

    /// Loads [`State::encode_persistent`] bytes, re-validating the orgs with the genesis
    /// rules. The replay window starts empty; fill it with [`State::restore_replay`].
    pub fn decode_persistent(bytes: &[u8]) -> Result<State, TxError> {
        let persistent: Persistent =
            borsh::from_slice(bytes).map_err(|e| TxError::Malformed(e.to_string()))?;
        if persistent.version != PERSISTENT_VERSION {
            return Err(TxError::Malformed(format!(
                "state format version {} (this node reads {PERSISTENT_VERSION})",
                persistent.version
            )));
        }
        let mut state = State::new(persistent.orgs)?;
        state.anchors_count = persistent.anchors_count;
        state.anchors_acc = persistent.anchors_acc;
        state.height = persistent.height;
        state.undo_window_ms = persistent.undo_window_ms;
        state.products = persistent
            .products
            .into_iter()
            .map(|product| (product.gtin, product))
            .collect();
        Ok(state)
    }

    /// Restores the records tree at a restart, built from each stored code's tree key and
    /// value hash ([`crate::smt::SmtBuilder`]). The ledger is left empty: the caller rebases
    /// it at once onto its store at this height ([`State::rebase_records`]), where the
    /// records themselves stay. It then compares [`State::root`] with the stored tip header,
    /// which checks every value hash at once.
    pub fn restore_records(&mut self, records: Smt) {
        self.records = Records::of(records);
        self.dirty = Default::default();
        self.ledger = Ledger::new();
    }

    /// Loads whole stored records ([`StoredRecord::encode`], any order) into memory and
    /// checks every invariant: for tools and tests, which hold a ledger without a store.
    pub fn load_records(
        &mut self,
        stored: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<(), TxError> {
        let mut leaves = Vec::new();
        for bytes in stored {
            let record = StoredRecord::decode(&bytes)
                .ok_or_else(|| TxError::Malformed("a stored record does not decode".into()))?;
            leaves.push(record.leaf);
        }
        let updates: Vec<(Hash, Option<Hash>)> = leaves
            .iter()
            .map(|leaf| (leaf.key(), Some(smt::value_hash(&leaf.encode()))))
            .collect();
        let ledger = Ledger::from_leaves(leaves)
            .map_err(|why| TxError::Malformed(format!("stored records: {why}")))?;
        let mut records = Smt::new();
        records.apply_batch(updates);
        self.ledger = ledger;
        self.records = Records::of(records);
        self.dirty = Default::default();
        Ok(())
    }

    /// Rebuilds the replay window at restart from `(expires_at_height, tx id)` of the txs in
    /// the last `TX_TTL_HEIGHTS_MAX` blocks up to and including `self.height()`. Entries that
    /// `begin_block` would already have pruned are skipped, so the restored state equals the
    /// state before the restart.
    pub fn restore_replay(&mut self, entries: impl IntoIterator<Item = (u64, Hash)>) {
        for (expires, id) in entries {
            if expires >= self.height {
                self.replay.insert(id);
                self.replay_by_expiry.insert((expires, id));
            }
        }
    }

    /// Checks the structural invariants; tests run it after every apply. An error names the
    /// first broken one.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut key_count = 0;
        for (id, org) in &self.orgs {
            if &org.id != id {
                return Err(format!("org '{}' stored under id '{id}'", org.id));
            }
            if org.keys.is_empty() || org.keys.len() > ORG_KEYS_MAX {
                return Err(format!("org '{id}' has {} keys", org.keys.len()));
            }
            if !org.keys.windows(2).all(|pair| pair[0] < pair[1]) {
                return Err(format!("keys of org '{id}' are not sorted and unique"));
            }
            for key in &org.keys {
                if self.key_index.get(key) != Some(id) {
                    return Err(format!("key {key} of org '{id}' is not indexed to it"));
                }
            }
            key_count += org.keys.len();
        }
        if self.key_index.len() != key_count {
            return Err(format!(
                "key index has {} entries for {key_count} org keys",
                self.key_index.len()
            ));
        }
        self.ledger.check_invariants()?;
        self.check_records_invariants()?;
        self.check_replay_invariants()
    }

    /// The records tree holds exactly the ledger's leaves: all of them without a base
    /// (O(records), for tests); with one, the tree holds each changed leaf's value.
    fn check_records_invariants(&self) -> Result<(), String> {
        let leaves = self.ledger.leaves();
        let records = self.records.current();
        if self.ledger.has_base() {
            for leaf in &leaves {
                if records.get(&leaf.key()) != Some(smt::value_hash(&leaf.encode())) {
                    return Err(format!(
                        "records tree does not hold the leaf of {}",
                        leaf.code
                    ));
                }
            }
            return Ok(());
        }
        let mut expected = Smt::new();
        expected.apply_batch(
            leaves
                .iter()
                .map(|leaf| (leaf.key(), Some(smt::value_hash(&leaf.encode())))),
        );
        if expected.root() != records.root() {
            return Err("records tree does not match the ledger's leaves".to_string());
        }
        Ok(())
    }

    fn check_replay_invariants(&self) -> Result<(), String> {
        let ids: imbl::OrdSet<Hash> = self.replay_by_expiry.iter().map(|(_, id)| *id).collect();
        if ids != self.replay || self.replay_by_expiry.len() != self.replay.len() {
            return Err("replay window and its expiry index disagree".to_string());
        }
        match self.replay_by_expiry.get_min() {
            Some((expires, _)) if *expires < self.height => Err(format!(
                "replay entry expiring at {expires} kept at height {}",
                self.height
            )),
            _ => Ok(()),
        }
    }
}
