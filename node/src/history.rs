//! The per-code history index: what each finalized lifecycle op did to each code it named,
//! written with the block that finalized it, read by the verify answer.
//!
//! The index is derived from finalized blocks (every node can rebuild it), so it is not in
//! the state root; a client that wants proof of a history line checks the block it names.
//! A bottle's history includes the history of the containers it travelled in while it was
//! inside them: a pallet shipped with the bottle in it shipped the bottle.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_contracts::gs1::{parse_code, Code};
use jiu_contracts::provenance::{record_key, Op, NESTING_DEPTH_MAX};
use jiu_contracts::{Event, Hash, Payload, Receipt, SignedTx};
use serde::Serialize;

use crate::db::{Db, DbError};

/// Most own entries one history answer reads per code.
pub const HISTORY_ENTRIES_MAX: usize = 256;

/// One line of a code's history.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
pub struct HistoryEntry {
    pub height: u64,
    /// Position of the tx in its block and of the op in its tx: with `height`, the order
    /// of lines (ops of one tx apply in order).
    #[serde(skip)]
    pub tx_index: u32,
    #[serde(skip)]
    pub op_index: u32,
    pub time_ms: u64,
    #[serde(with = "hex::serde")]
    pub tx_id: Hash,
    /// The op, as `Op::kind` names it (`commission`, `ship`, ...).
    pub op: String,
    /// The org that signed it.
    pub org_id: String,
    /// For pack/unpack of this code as a child: the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// For ship: the destination org.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// For sell: the city.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// For flag changes: the flag; for void: the replacement code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When the line comes from a container the code was in: that container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// The history index rows of one finalized block: (key, borsh(entry)).
pub fn rows_for_block(
    height: u64,
    time_ms: u64,
    txs: &[SignedTx],
    receipts: &[Receipt],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rows = Vec::new();
    for (tx_index, (tx, receipt)) in txs.iter().zip(receipts).enumerate() {
        let Some(org_id) = receipt.events.iter().find_map(|e| match e {
            Event::LifecycleApplied { org_id, .. } | Event::EpcisCaptured { org_id, .. } => {
                Some(org_id.clone())
            }
            _ => None,
        }) else {
            continue; // not a lifecycle tx, or refused with an alert: the leaf carries it
        };
        let ops: Vec<&Op> = match &tx.body.payload {
            Payload::Provenance { ops } => ops.iter().collect(),
            Payload::Capture { .. } => receipt
                .captured
                .as_ref()
                .map(|c| c.ops().collect())
                .unwrap_or_default(),
            _ => continue,
        };
        for (op_index, op) in ops.iter().enumerate() {
            let base = HistoryEntry {
                height,
                tx_index: tx_index as u32,
                op_index: op_index as u32,
                time_ms,
                tx_id: receipt.tx_id,
                op: op.kind().to_string(),
                org_id: org_id.clone(),
                container: None,
                to: None,
                city: None,
                detail: None,
                via: None,
            };
            for (code, entry) in entries_of(op, &base) {
                let mut key = record_key(&code).to_vec();
                key.extend_from_slice(&height.to_be_bytes());
                key.extend_from_slice(&(tx_index as u32).to_be_bytes());
                key.extend_from_slice(&(op_index as u32).to_be_bytes());
                rows.push((key, borsh::to_vec(&entry).unwrap_or_default()));
            }
        }
    }
    rows
}

/// The codes an op names and the line each gets.
fn entries_of(op: &Op, base: &HistoryEntry) -> Vec<(Code, HistoryEntry)> {
    let with = |f: &dyn Fn(&mut HistoryEntry)| {
        let mut entry = base.clone();
        f(&mut entry);
        entry
    };
    match op {
        Op::Pack { parent, children } | Op::Unpack { parent, children } => {
            let parent_code = parent.code();
            // Written once: a pallet's hundreds of lines name the same container.
            let parent_text = parent_code.to_string();
            let mut out: Vec<(Code, HistoryEntry)> = children
                .iter()
                .map(|child| {
                    let entry = with(&|e| e.container = Some(parent_text.clone()));
                    (child.code(), entry)
                })
                .collect();
            let count = children.len();
            out.push((
                parent_code,
                with(&|e| e.detail = Some(format!("{count} items"))),
            ));
            out
        }
        Op::Ship { roots, to } => roots
            .iter()
            .map(|r| (r.code(), with(&|e| e.to = Some(to.clone()))))
            .collect(),
        Op::Sell { items, city } => items
            .iter()
            .map(|i| {
                (
                    Code::Item(i.clone()),
                    with(&|e| e.city = Some(city.clone())),
                )
            })
            .collect(),
        Op::SetFlag { items, flag } | Op::ClearFlag { items, flag } => items
            .iter()
            .map(|i| {
                let entry = with(&|e| e.detail = Some(format!("{flag:?}")));
                (Code::Item(i.clone()), entry)
            })
            .collect(),
        Op::Void { items } => items
            .iter()
            .flat_map(|(old, new)| {
                let detail = new.as_ref().map(|n| n.to_string());
                let mut out = vec![(
                    Code::Item(old.clone()),
                    with(&|e| e.detail = detail.clone()),
                )];
                if let Some(new) = new {
                    let old_code = old.to_string();
                    out.push((
                        Code::Item(new.clone()),
                        with(&|e| e.detail = Some(format!("replaces {old_code}"))),
                    ));
                }
                out
            })
            .collect(),
        other => other
            .codes()
            .into_iter()
            .map(|code| (code, base.clone()))
            .collect(),
    }
}

/// The history of `code`: its own lines, plus the lines of each container it was in while
/// it was inside (recursively), in time order.
pub fn history_of(db: &Db, code: &Code) -> Result<Vec<HistoryEntry>, DbError> {
    let mut out = Vec::new();
    collect(db, code, (0, 0, 0), (u64::MAX, 0, 0), None, 0, &mut out)?;
    out.sort_by_key(HistoryEntry::position);
    Ok(out)
}

/// (height, tx index, op index): where a line sits in the chain.
type Position = (u64, u32, u32);

impl HistoryEntry {
    fn position(&self) -> Position {
        (self.height, self.tx_index, self.op_index)
    }
}

/// Collects the lines of `code` at positions in `from..until`, and those of the containers
/// it was in meanwhile.
fn collect(
    db: &Db,
    code: &Code,
    from: Position,
    until: Position,
    via: Option<&str>,
    depth: usize,
    out: &mut Vec<HistoryEntry>,
) -> Result<(), DbError> {
    let prefix = record_key(code).to_vec();
    let mut start = prefix.clone();
    start.extend_from_slice(&from.0.to_be_bytes());
    start.extend_from_slice(&from.1.to_be_bytes());
    start.extend_from_slice(&from.2.to_be_bytes());
    // Keys sort by position after the record key.
    let rows = db.history_from(&prefix, &start, HISTORY_ENTRIES_MAX)?;
    let mut own = Vec::new();
    for (_, value) in rows {
        let Ok(mut entry) = HistoryEntry::try_from_slice(&value) else {
            continue;
        };
        if entry.position() >= until {
            break;
        }
        entry.via = via.map(str::to_string);
        own.push(entry);
    }
    // The intervals during which `code` was inside a container, from its pack/unpack lines
    // (a sale or destroy also takes a bottle out of its case).
    if depth < NESTING_DEPTH_MAX {
        let mut inside: Option<(String, Position)> = None;
        let mut intervals = Vec::new();
        for entry in &own {
            match (entry.op.as_str(), &entry.container) {
                ("pack", Some(container)) => {
                    inside = Some((container.clone(), entry.position()));
                }
                ("unpack", Some(_)) | ("sell", _) | ("destroy", _) | ("void", _) => {
                    if let Some((container, from)) = inside.take() {
                        intervals.push((container, from, entry.position()));
                    }
                }
                _ => {}
            }
        }
        if let Some((container, from)) = inside {
            intervals.push((container, from, until));
        }
        for (container, (height, tx, op), until) in intervals {
            if let Ok(parent) = parse_code(&container) {
                // Lines of the container from the op after the pack that put `code` in it.
                let after = (height, tx, op.saturating_add(1));
                collect(db, &parent, after, until, Some(&container), depth + 1, out)?;
            }
        }
    }
    out.extend(own);
    Ok(())
}
