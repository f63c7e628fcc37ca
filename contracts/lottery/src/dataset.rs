//! The public dataset of a lottery (design 6.3 step 7): every leaf preimage and the
//! operator's exclusions, what an auditor downloads to re-run the whole draw.
//!
//! Encoding: `borsh(Dataset)`: `lottery_id (u64 LE)`, the entries as a borsh list (each
//! entry's fields in declaration order, little-endian as borsh writes them), then the
//! exclusions `(batch_no, index, reason_hash)` ascending. Every entry not listed is eligible.
//! About 100 bytes per entry (300 MB for 3 M entries).

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::Hash;

use crate::book::Exclusion;
use crate::{Entry, Status};

/// A lottery's leaf preimages and exclusions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Dataset {
    pub lottery_id: u64,
    /// In canonical (batch, index) order.
    pub entries: Vec<Entry>,
    /// Ascending by (batch, index).
    pub exclusions: Vec<Exclusion>,
}

impl Dataset {
    /// From entries and their statuses (`status[i]` for `entries[i]`).
    pub fn new(lottery_id: u64, entries: Vec<Entry>, status: &[Status]) -> Self {
        let exclusions = entries
            .iter()
            .zip(status)
            .filter(|(_, s)| !s.eligible)
            .map(|(e, s)| Exclusion {
                batch_no: e.batch_no,
                index: e.index,
                reason_hash: s.reason_hash,
            })
            .collect();
        Self {
            lottery_id,
            entries,
            exclusions,
        }
    }

    /// Every entry's status: eligible unless excluded. `None` if an exclusion names no
    /// entry, repeats, or is out of order.
    pub fn status(&self) -> Option<Vec<Status>> {
        let mut next = self.exclusions.iter().peekable();
        let mut out = Vec::with_capacity(self.entries.len());
        let mut last: Option<(u32, u32)> = None;
        for entry in &self.entries {
            let leaf = entry.leaf_hash();
            let at = (entry.batch_no, entry.index);
            match next.next_if(|x| (x.batch_no, x.index) == at) {
                Some(x) => {
                    if last.is_some_and(|l| l >= at) || x.reason_hash == Hash::default() {
                        return None;
                    }
                    last = Some(at);
                    out.push(Status::excluded(leaf, x.reason_hash));
                }
                None => out.push(Status::eligible(leaf)),
            }
        }
        next.next().is_none().then_some(out)
    }

    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("borsh writes to a Vec cannot fail")
    }

    /// Decodes [`Dataset::encode`]; refuses trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        borsh::from_slice(bytes).map_err(|e| format!("dataset does not decode: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(batch_no: u32, index: u32) -> Entry {
        Entry {
            lottery_id: 1,
            pool_id: 0,
            batch_no,
            index,
            nullifier: [index as u8 + 1; 32],
            commitment: [2; 32],
            received_at_ms: 10,
            tier: 0,
            weight: 1,
        }
    }

    #[test]
    fn test_dataset_round_trips_and_gives_the_statuses_back() {
        let entries = vec![entry(0, 0), entry(0, 1), entry(1, 0)];
        let status = vec![
            Status::eligible(entries[0].leaf_hash()),
            Status::excluded(entries[1].leaf_hash(), [9; 32]),
            Status::eligible(entries[2].leaf_hash()),
        ];
        let dataset = Dataset::new(1, entries, &status);
        assert_eq!(dataset.exclusions.len(), 1);
        let decoded = Dataset::decode(&dataset.encode()).expect("round trip");
        assert_eq!(decoded, dataset);
        assert_eq!(decoded.status().expect("consistent"), status);
        let mut trailing = dataset.encode();
        trailing.push(0);
        assert!(Dataset::decode(&trailing).is_err());
        let mut stray = dataset.clone();
        stray.exclusions[0].index = 7;
        assert!(stray.status().is_none(), "an exclusion of no entry");
    }
}
