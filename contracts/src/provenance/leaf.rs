//! The committed form of the lifecycle: one leaf per code in the state's sparse Merkle tree.
//!
//! A verify answer carries a [`RecordLeaf`] and its Merkle path, so the leaf is the public
//! record of a code: everything the chain knows about it, and nothing that must be looked
//! up elsewhere to make sense of it. A container's leaf does not list its children (a pallet
//! may hold thousands, and a bottle's own leaf names its parent); it gives their number.
//!
//! - key: `sha256("jiu/code/v1\0" || element string)`, e.g. the element string
//!   `(01)09506000134352(21)ABC123`; a client computes it from the code it scanned.
//! - value: `borsh(RecordLeaf)`; the tree commits to `sha256(value)` (see [`crate::smt`]).
//!
//! A leaf exists for every bottle, every container, and every code that has alerts (a sale
//! attempt on an unknown code is itself worth recording).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::alerts::Alert;
use super::state::{BottleRecord, Child, Container, ContainerId, LifeState, Shipment};
use crate::gs1::Code;
use crate::types::{sha256, Hash};

/// Domain of the record keys.
pub const RECORD_KEY_DOMAIN: &[u8] = b"jiu/code/v1\0";

/// Most recent alerts a leaf carries per code; older ones are counted in `alerts_total`.
/// Bounds the size of a leaf (and of a proof) however many attempts are made on a code.
pub const ALERTS_KEPT_PER_CODE: usize = 16;

/// The tree key of a code.
pub fn record_key(code: &Code) -> Hash {
    sha256(&[RECORD_KEY_DOMAIN, code.element_string().as_bytes()])
}

/// What the chain keeps about a container, as committed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub custodian: String,
    pub owner: String,
    pub state: LifeState,
    pub parent: Option<ContainerId>,
    pub shipment: Option<Shipment>,
    /// Number of bottles and containers directly inside.
    pub children: u32,
}

/// The alerts about one code: how many ever, and the latest [`ALERTS_KEPT_PER_CODE`].
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct AlertLog {
    pub total: u64,
    /// Oldest first.
    pub recent: Vec<Alert>,
}

impl AlertLog {
    pub(super) fn push(&mut self, alert: Alert) {
        self.total += 1;
        self.recent.push(alert);
        if self.recent.len() > ALERTS_KEPT_PER_CODE {
            self.recent.remove(0);
        }
    }
}

/// One code's committed record: at most one of `bottle` and `container`, plus its alerts.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RecordLeaf {
    pub code: Code,
    pub bottle: Option<BottleRecord>,
    pub container: Option<ContainerRecord>,
    pub alerts: AlertLog,
}

impl RecordLeaf {
    /// The tree key of this leaf.
    pub fn key(&self) -> Hash {
        record_key(&self.code)
    }

    /// The committed bytes.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("borsh writes to a Vec cannot fail")
    }

    /// Decodes committed bytes; `None` if they are not a leaf.
    pub fn decode(bytes: &[u8]) -> Option<RecordLeaf> {
        borsh::from_slice(bytes).ok()
    }
}

/// What a node stores for one code: the committed leaf and, for a container, the children
/// the leaf only counts (the lifecycle needs them to move or unpack it). Not committed as
/// such: the children are derivable from their own leaves' parent pointers.
///
/// Encoding: `borsh(leaf bytes as Vec<u8>) || borsh(children)`, so the committed bytes (and
/// so the tree's value hash) can be read without decoding ([`StoredRecord::leaf_bytes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub leaf: RecordLeaf,
    /// In order; empty for anything but a container.
    pub children: Vec<Child>,
}

impl StoredRecord {
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(&(self.leaf.encode(), &self.children))
            .expect("borsh writes to a Vec cannot fail")
    }

    /// Decodes stored bytes; `None` if they are not a record, or the children do not match
    /// the leaf's count.
    pub fn decode(bytes: &[u8]) -> Option<StoredRecord> {
        let (leaf, children): (Vec<u8>, Vec<Child>) = borsh::from_slice(bytes).ok()?;
        let leaf = RecordLeaf::decode(&leaf)?;
        let count = leaf.container.as_ref().map_or(0, |c| c.children as usize);
        (count == children.len()).then_some(StoredRecord { leaf, children })
    }

    /// The committed leaf bytes inside stored bytes, without decoding them.
    pub fn leaf_bytes(bytes: &[u8]) -> Option<&[u8]> {
        let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        bytes.get(4..4usize.checked_add(len)?)
    }

    /// The container this record holds, with its children.
    pub fn into_container(self) -> Option<Container> {
        let record = self.leaf.container?;
        Some(Container::from_record(
            record,
            self.children.into_iter().collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gs1::{Gtin, Lot, Serial, Sgtin};

    /// A bottle leaf's borsh layout is a format: proofs carry these bytes and the consumer
    /// page decodes them by hand (`decodeLeaf` in node/src/web/proof.js), so the layout is
    /// spelled out here field by field, and a change to it fails this test.
    #[test]
    fn test_bottle_leaf_layout_golden() {
        let gtin = Gtin::parse("09506000134352").expect("gtin");
        let serial = Serial::parse("B1").expect("serial");
        let leaf = RecordLeaf {
            code: Code::Item(Sgtin::new(gtin, serial)),
            bottle: Some(BottleRecord {
                state: LifeState::Active,
                flags: Default::default(),
                producer: "p".into(),
                custodian: "c".into(),
                owner: "o".into(),
                parent: None,
                shipment: None,
                sold: None,
                history_len: 1,
                replaced_by: None,
                replaces: None,
                lot: Some(Lot::parse("L1").expect("lot")),
            }),
            container: None,
            alerts: AlertLog::default(),
        };
        let text = |t: &str| [&(t.len() as u32).to_le_bytes()[..], t.as_bytes()].concat();
        let expected = [
            // code: Code::Item (variant 0), the GTIN as its u64 value, the serial.
            vec![0],
            9_506_000_134_352u64.to_le_bytes().to_vec(),
            text("B1"),
            // bottle: Some; state Active (variant 1); no flags; producer, custodian, owner.
            vec![1, 1],
            0u32.to_le_bytes().to_vec(),
            text("p"),
            text("c"),
            text("o"),
            // parent, shipment, sale: none; history_len; replaced_by, replaces: none.
            vec![0, 0, 0],
            1u64.to_le_bytes().to_vec(),
            vec![0, 0],
            // lot: Some("L1").
            vec![1],
            text("L1"),
            // container: none; alerts: total 0, no recent ones.
            vec![0],
            0u64.to_le_bytes().to_vec(),
            0u32.to_le_bytes().to_vec(),
        ]
        .concat();
        assert_eq!(leaf.encode(), expected);
        assert_eq!(RecordLeaf::decode(&expected), Some(leaf));
    }
}
