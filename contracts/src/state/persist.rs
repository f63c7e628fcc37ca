//! Saving and restoring the state, and the invariant checker.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::TxError;
use crate::state::State;
use crate::tx::ORG_KEYS_MAX;
use crate::types::{Hash, Org};

/// Bumped on any change to [`Persistent`], so an old node never misreads a new database.
const PERSISTENT_VERSION: u8 = 1;

/// The persisted part of [`State`]: everything but the replay window and the key index,
/// which are rebuilt on load.
#[derive(BorshSerialize, BorshDeserialize)]
struct Persistent {
    version: u8,
    /// In id order.
    orgs: Vec<Org>,
    anchors_count: u64,
    anchors_acc: Hash,
    height: u64,
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
        Ok(state)
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
        self.check_replay_invariants()
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
