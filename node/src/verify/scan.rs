//! Node-local scan statistics: how often, and from how many cities, a code was checked.

use std::collections::HashMap;
use std::sync::Mutex;

use jiu_contracts::Hash;
use serde::Serialize;

/// Public checks of one code above which it is flagged `MULTI_SCAN`.
pub const MULTI_SCAN_CHECKS: u64 = 20;
/// Distinct cities within [`SCAN_WINDOW_MS`] at which it is flagged `MULTI_SCAN`.
pub const MULTI_SCAN_CITIES: usize = 3;
/// The window of the city rule: 30 days.
pub const SCAN_WINDOW_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// Codes whose scan statistics a node keeps in memory; beyond it new codes are not counted.
pub const SCAN_STATS_CODES_MAX: usize = 1_000_000;

/// Who asked, as the scan book tells clients apart: a hash of the client's address under a
/// key drawn when the node starts (the book keeps no addresses).
pub type ClientId = u64;

/// Public verification statistics of one code, kept by this node.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanStats {
    // Fields in key order: an answer shows them in that order (see `AnswerJson`).
    pub cities_30d: usize,
    pub count: u64,
    pub first_ms: Option<u64>,
    /// Distinct cities seen within the window: each with the last time it was reported and
    /// the client that reported it. A client holds at most one city of a code.
    #[serde(skip)]
    cities: Vec<(String, u64, ClientId)>,
}

/// Shards of the scan book, by the first byte of the record key. One table under one lock
/// stalled every public answer for 170 ms when it grew from 0.9 M to 1.8 M slots; a shard
/// grows a 64th of that at a time, and concurrent answers rarely share a lock.
const SCAN_SHARDS: usize = 64;

/// Node-local scan statistics by record key.
pub struct ScanBook {
    shards: Vec<Mutex<HashMap<Hash, ScanStats>>>,
    /// Codes each shard counts; together about [`SCAN_STATS_CODES_MAX`].
    shard_codes_max: usize,
    /// The key client addresses are hashed under.
    clients: std::hash::RandomState,
}

impl Default for ScanBook {
    fn default() -> Self {
        Self::with_codes_max(SCAN_STATS_CODES_MAX)
    }
}

impl ScanBook {
    /// A book that counts at most about `codes_max` codes (each shard its share).
    pub fn with_codes_max(codes_max: usize) -> Self {
        Self {
            shards: (0..SCAN_SHARDS).map(|_| Mutex::default()).collect(),
            shard_codes_max: codes_max.div_ceil(SCAN_SHARDS),
            clients: std::hash::RandomState::new(),
        }
    }

    /// The id of a client at `address` (`None`: unknown, one client for all such). An IPv6
    /// client is its /64, which privacy addresses rotate within.
    pub fn client_id(&self, address: Option<std::net::IpAddr>) -> ClientId {
        use std::net::IpAddr;
        let bits: u128 = match address {
            None => 0,
            Some(IpAddr::V4(v4)) => u128::from(u32::from(v4)) | 1 << 64,
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => u128::from(u32::from(v4)) | 1 << 64,
                None => u128::from(v6) >> 64 | 2 << 64,
            },
        };
        std::hash::BuildHasher::hash_one(&self.clients, bits)
    }

    /// Records a public check at `now_ms` by `client` from `city` and returns the statistics
    /// after it. The city rule counts clients, not requests: a client that reports another
    /// city for the code moves its one city there, so a single caller cannot make a bottle
    /// look seen in three cities. Once the code's shard is full, a code not yet counted
    /// gets empty statistics.
    pub fn record(
        &self,
        key: Hash,
        now_ms: u64,
        city: Option<&str>,
        client: ClientId,
    ) -> ScanStats {
        // Record keys are SHA-256 outputs: their first byte spreads codes evenly.
        let shard = &self.shards[usize::from(key[0]) % SCAN_SHARDS];
        let mut stats = shard.lock().unwrap_or_else(|e| e.into_inner());
        if !stats.contains_key(&key) && stats.len() >= self.shard_codes_max {
            return ScanStats::default();
        }
        let entry = stats.entry(key).or_default();
        entry.first_ms.get_or_insert(now_ms);
        entry.count += 1;
        entry
            .cities
            .retain(|(_, at, _)| now_ms.saturating_sub(*at) <= SCAN_WINDOW_MS);
        if let Some(city) = city.filter(|c| !c.is_empty() && c.len() <= 64) {
            if let Some(seen) = entry.cities.iter_mut().find(|(c, _, _)| c == city) {
                seen.1 = now_ms;
            } else if let Some(own) = entry.cities.iter_mut().find(|(_, _, by)| *by == client) {
                *own = (city.to_string(), now_ms, client);
            } else if entry.cities.len() < 64 {
                entry.cities.push((city.to_string(), now_ms, client));
            }
        }
        entry.cities_30d = entry.cities.len();
        entry.clone()
    }
}
