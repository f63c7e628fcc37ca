//! Pruning of record versions no reader can see.
//!
//! `records` keeps a version of a code per height that changed it, so a state held at an
//! older height reads that height's records while later blocks are written. Only states
//! still held read: the committed one, the one before it until its last RPC answer or
//! candidate block lets go, and nothing older. Every store that reads records registers its
//! height here ([`ReaderHeights::enter`]); at each compaction of `records` a filter drops a
//! version when a newer version of the same code, at or below the oldest registered height
//! (the horizon), is in the same compaction. A reader at height `h` reads the newest version
//! at or below `h`; with `h` at or above the horizon that is a version above the horizon or
//! the newest one at or below it, both kept. Without pruning, a code moved through the
//! chain kept every version (commission, pack, ship, receive, sell: five) where one serves.
//!
//! The same way as TiKV's and CockroachDB's MVCC garbage collection by compaction filter:
//! versions are dropped only when rocksdb rewrites them anyway, and versions that never meet
//! a newer one in a compaction stay until they do (the bottom level holds them all).
//! The in-memory store used by tests keeps every version.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::sync::{Arc, Mutex};

use malachitebft_metrics::prometheus::metrics::counter::Counter;

use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};

/// The heights at which stores read records, each with how many read there, and how many
/// versions compactions have dropped (`jiu_record_versions_pruned_total`).
#[derive(Debug, Default)]
pub struct ReaderHeights {
    heights: Mutex<BTreeMap<u64, usize>>,
    pruned: Counter,
}

/// A store reading records at a height; the height stays registered until it drops.
#[derive(Debug)]
pub struct ReaderGuard {
    readers: Arc<ReaderHeights>,
    height: u64,
}

impl ReaderHeights {
    /// Registers a reader at `height`. A node only reads at the height it has just
    /// committed or later; a reader entering below the horizon of a compaction already
    /// running could miss a version (tests reading old heights of a small store do not
    /// compact).
    pub fn enter(self: &Arc<Self>, height: u64) -> ReaderGuard {
        *self.lock().entry(height).or_default() += 1;
        ReaderGuard {
            readers: Arc::clone(self),
            height,
        }
    }

    /// The versions compactions have dropped since the store opened.
    pub fn pruned(&self) -> &Counter {
        &self.pruned
    }

    /// The oldest height a registered reader reads; with none, every version but each
    /// code's newest is unseen (a later reader is at the tip).
    pub fn horizon(&self) -> u64 {
        self.lock().keys().next().copied().unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, usize>> {
        // The map is consistent after every statement, so a panicking holder leaves it
        // usable.
        self.heights.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        let mut heights = self.readers.lock();
        if let Some(count) = heights.get_mut(&self.height) {
            *count -= 1;
            if *count == 0 {
                heights.remove(&self.height);
            }
        }
    }
}

/// The name rocksdb logs for the factory and its filters.
const NAME: &CStr = c"jiu.prune_record_versions";

/// Makes a [`PruneVersions`] for each compaction of `records`, with the horizon of its start.
pub(super) struct PruneFactory {
    pub(super) readers: Arc<ReaderHeights>,
}

impl CompactionFilterFactory for PruneFactory {
    type Filter = PruneVersions;

    fn create(&mut self, _context: CompactionFilterContext) -> PruneVersions {
        PruneVersions::new(self.readers.horizon(), self.readers.pruned.clone())
    }

    fn name(&self) -> &CStr {
        NAME
    }
}

/// Sees one compaction's `records` keys in key order: per code, newest version first
/// (`record key || !height`, see `Db`'s layout).
pub(super) struct PruneVersions {
    horizon: u64,
    /// The code of the last key seen, and whether a version of it at or below the horizon
    /// was kept (then every older one is unseen).
    code: Option<[u8; 32]>,
    covered: bool,
    /// Counts the versions dropped.
    pruned: Counter,
}

impl PruneVersions {
    pub(super) fn new(horizon: u64, pruned: Counter) -> Self {
        Self {
            horizon,
            code: None,
            covered: false,
            pruned,
        }
    }

    /// Whether the version under `key` stays. A key not of the layout stays.
    pub(super) fn keep(&mut self, key: &[u8]) -> bool {
        let (Some(code), Some(height)) = (
            key.get(..32)
                .and_then(|code| <[u8; 32]>::try_from(code).ok()),
            key.get(32..)
                .and_then(|height| <[u8; 8]>::try_from(height).ok())
                .map(|height| !u64::from_be_bytes(height)),
        ) else {
            return true;
        };
        if self.code == Some(code) {
            if self.covered {
                return false;
            }
        } else {
            self.code = Some(code);
            self.covered = false;
        }
        self.covered = height <= self.horizon;
        true
    }
}

impl CompactionFilter for PruneVersions {
    fn filter(&mut self, _level: u32, key: &[u8], _value: &[u8]) -> Decision {
        if self.keep(key) {
            Decision::Keep
        } else {
            self.pruned.inc();
            Decision::Remove
        }
    }

    fn name(&self) -> &CStr {
        NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(code: u8, height: u64) -> Vec<u8> {
        super::super::record_version(&[code; 32], height)
    }

    /// Code and height of the keys of a compaction, in its order: code 1 at 9, 6, 4, 2, 1;
    /// code 2 at 3; code 3 at 8, 7.
    const KEYS: [(u8, u64); 8] = [
        (1, 9),
        (1, 6),
        (1, 4),
        (1, 2),
        (1, 1),
        (2, 3),
        (3, 8),
        (3, 7),
    ];

    fn kept(horizon: u64) -> Vec<(u8, u64)> {
        let mut filter = PruneVersions::new(horizon, Counter::default());
        KEYS.into_iter()
            .filter(|&(code, height)| filter.keep(&version(code, height)))
            .collect()
    }

    #[test]
    fn test_versions_below_the_newest_one_at_the_horizon_go() {
        assert_eq!(
            kept(4),
            vec![(1, 9), (1, 6), (1, 4), (2, 3), (3, 8), (3, 7)],
            "4 reads code 1's version 4, code 2's 3, nothing of code 3"
        );
        assert_eq!(kept(5), kept(4), "no version between 4 and 5");
        assert_eq!(kept(1), KEYS, "readers from 1 up may read any of them");
        assert_eq!(kept(0), kept(1), "nothing is at or below 0");
        assert_eq!(
            kept(u64::MAX),
            vec![(1, 9), (2, 3), (3, 8)],
            "without readers each code keeps its newest version"
        );
    }

    #[test]
    fn test_keys_not_of_the_layout_stay() {
        let mut filter = PruneVersions::new(u64::MAX, Counter::default());
        assert!(filter.keep(&version(1, 5)));
        assert!(filter.keep(b"short"));
        assert!(filter.keep(&[version(1, 4), vec![0]].concat()), "41 bytes");
        assert!(
            !filter.keep(&version(1, 3)),
            "still code 1, covered by version 5"
        );
    }

    #[test]
    fn test_horizon_is_the_oldest_registered_reader() {
        let readers = Arc::new(ReaderHeights::default());
        assert_eq!(readers.horizon(), u64::MAX);
        let at_7 = readers.enter(7);
        let at_5 = readers.enter(5);
        let again_5 = readers.enter(5);
        assert_eq!(readers.horizon(), 5);
        drop(at_5);
        assert_eq!(readers.horizon(), 5, "one reader is still at 5");
        drop(again_5);
        assert_eq!(readers.horizon(), 7);
        drop(at_7);
        assert_eq!(readers.horizon(), u64::MAX);
    }
}
