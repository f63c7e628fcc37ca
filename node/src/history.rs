//! The per-code history index: what each finalized lifecycle op did to each code it named,
//! written with the block that finalized it, read by the verify answer.
//!
//! The index is derived from finalized blocks (every node can rebuild it), so it is not in
//! the state root; a client that wants proof of a history line checks the block it names.
//! A bottle's history includes the history of the containers it travelled in while it was
//! inside them: a pallet shipped with the bottle in it shipped the bottle.
//!
//! One row per code and tx, holding the lines of every op of the tx that named the code: a
//! packing line's document commissions a bottle and packs it in one tx, and one row for both
//! halved what ten million bottles write, and then compact, to the history column. A code's
//! rows are appended under its record key (see `db`), so an answer reads each code's
//! history with one point lookup: an iterator and a seek per code had been a third of the
//! verify answer's time.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_contracts::gs1::{parse_code, Code};
use jiu_contracts::provenance::{record_key, Op, NESTING_DEPTH_MAX};
use jiu_contracts::{Event, Hash, Payload, Receipt, SignedTx};
use serde::Serialize;

use crate::db::{Db, DbError};

/// Most own lines one history answer keeps per code (the oldest), however many ops named
/// it: one tx may carry thousands of ops on one code.
pub const HISTORY_ENTRIES_MAX: usize = 256;

/// One line of a code's history, as the verify answer shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// A stored row: what one tx did to one code.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
struct HistoryRow {
    height: u64,
    tx_index: u32,
    time_ms: u64,
    tx_id: Hash,
    org_id: String,
    /// In op order.
    lines: Vec<RowLine>,
}

/// What one op of the tx did to the code.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
struct RowLine {
    op_index: u32,
    op: String,
    container: Option<String>,
    to: Option<String>,
    city: Option<String>,
    detail: Option<String>,
}

/// The history rows of one finalized block: (record key, borsh(row)), each to append to
/// the code's history, in chain order.
pub fn rows_for_block(
    height: u64,
    time_ms: u64,
    txs: &[SignedTx],
    receipts: &[Receipt],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rows = Vec::new();
    for (tx_index, (tx, receipt)) in txs.iter().zip(receipts).enumerate() {
        let Some((org_id, ops)) = applied_ops(tx, receipt) else {
            continue;
        };
        // Every (code, line) of the tx, then one row per code: a stable sort by record key
        // keeps each code's lines in op order.
        let mut lines: Vec<(Hash, RowLine)> = Vec::new();
        for (op_index, op) in ops.iter().enumerate() {
            let base = RowLine {
                op_index: op_index as u32,
                op: op.kind().to_string(),
                ..RowLine::default()
            };
            lines.extend(
                lines_of(op, &base)
                    .into_iter()
                    .map(|(code, line)| (record_key(&code), line)),
            );
        }
        lines.sort_by_key(|(key, _)| *key);
        let mut lines = lines.into_iter().peekable();
        while let Some((key, first)) = lines.next() {
            let mut row = HistoryRow {
                height,
                tx_index: tx_index as u32,
                time_ms,
                tx_id: receipt.tx_id,
                org_id: org_id.to_owned(),
                lines: vec![first],
            };
            while let Some((_, line)) = lines.next_if(|(next, _)| *next == key) {
                row.lines.push(line);
            }
            rows.push((key.to_vec(), borsh::to_vec(&row).unwrap_or_default()));
        }
    }
    rows
}

/// The org that signed `tx` and the lifecycle ops it applied, in op order (a capture's as
/// its receipt carries them, mapped when it applied); `None` for a tx that applied none:
/// not a lifecycle tx, or one refused with an alert (the leaf carries the alert).
pub(crate) fn applied_ops<'a>(
    tx: &'a SignedTx,
    receipt: &'a Receipt,
) -> Option<(&'a str, Vec<&'a Op>)> {
    let org_id = receipt.events.iter().find_map(|e| match e {
        Event::LifecycleApplied { org_id, .. } | Event::EpcisCaptured { org_id, .. } => {
            Some(org_id.as_str())
        }
        _ => None,
    })?;
    let ops = match &tx.body.payload {
        Payload::Provenance { ops } => ops.iter().collect(),
        Payload::Capture { .. } => receipt
            .captured
            .as_ref()
            .map(|c| c.ops().collect())
            .unwrap_or_default(),
        _ => return None,
    };
    Some((org_id, ops))
}

/// The codes an op names and the line each gets.
fn lines_of(op: &Op, base: &RowLine) -> Vec<(Code, RowLine)> {
    let with = |f: &dyn Fn(&mut RowLine)| {
        let mut line = base.clone();
        f(&mut line);
        line
    };
    match op {
        Op::Pack { parent, children } | Op::Unpack { parent, children } => {
            let parent_code = parent.code();
            // Written once: a pallet's hundreds of lines name the same container.
            let parent_text = parent_code.to_string();
            let mut out: Vec<(Code, RowLine)> = children
                .iter()
                .map(|child| {
                    let line = with(&|e| e.container = Some(parent_text.clone()));
                    (child.code(), line)
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
                let line = with(&|e| e.detail = Some(format!("{flag:?}")));
                (Code::Item(i.clone()), line)
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
    let stored = db.history(&record_key(code))?.unwrap_or_default();
    let rows = decode_rows(&stored).filter(|row| (row.height, row.tx_index) >= (from.0, from.1));
    let mut own = Vec::new();
    'rows: for row in rows {
        for line in row.lines {
            let entry = HistoryEntry {
                height: row.height,
                tx_index: row.tx_index,
                op_index: line.op_index,
                time_ms: row.time_ms,
                tx_id: row.tx_id,
                op: line.op,
                org_id: row.org_id.clone(),
                container: line.container,
                to: line.to,
                city: line.city,
                detail: line.detail,
                via: via.map(str::to_string),
            };
            // The first row may hold lines before `from`.
            if entry.position() < from {
                continue;
            }
            if entry.position() >= until || own.len() >= HISTORY_ENTRIES_MAX {
                break 'rows;
            }
            own.push(entry);
        }
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

/// A code's stored rows, in the order they were appended: chain order, since blocks are
/// written in height order and a block's rows in tx order. A row that does not decode ends
/// the read (never a panic).
fn decode_rows(mut stored: &[u8]) -> impl Iterator<Item = HistoryRow> + '_ {
    std::iter::from_fn(move || {
        if stored.is_empty() {
            return None;
        }
        HistoryRow::deserialize(&mut stored).ok()
    })
}

/// The (height, tx index) of each stored row of `code`, as appended.
#[cfg(test)]
pub(crate) fn stored_rows(db: &Db, code: &Code) -> Vec<(u64, u32)> {
    let stored = db
        .history(&record_key(code))
        .expect("history")
        .unwrap_or_default();
    decode_rows(&stored)
        .map(|row| (row.height, row.tx_index))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Col, CommitRecord};

    /// A code named by more ops than an answer keeps: the oldest lines are kept, in order.
    #[test]
    fn test_history_keeps_the_oldest_lines_of_a_busy_code() {
        let db = Db::in_memory();
        let code = parse_code("(01)09506000134352(21)BUSY").expect("code");
        let row = |height: u64, lines: u32| HistoryRow {
            height,
            tx_index: 0,
            time_ms: height * 1_000,
            tx_id: [height as u8; 32],
            org_id: "producer".into(),
            lines: (0..lines)
                .map(|op_index| RowLine {
                    op_index,
                    op: "set_flag".into(),
                    ..RowLine::default()
                })
                .collect(),
        };
        for (height, lines) in [(1, 200), (2, 200)] {
            let rows = vec![(
                Col::History,
                record_key(&code).to_vec(),
                borsh::to_vec(&row(height, lines)).expect("borsh"),
            )];
            db.commit(CommitRecord {
                height,
                index_rows: rows,
                ..CommitRecord::default()
            })
            .expect("commit");
        }
        let history = history_of(&db, &code).expect("history");
        assert_eq!(history.len(), HISTORY_ENTRIES_MAX);
        let positions: Vec<(u64, u32)> = history.iter().map(|e| (e.height, e.op_index)).collect();
        let expected: Vec<(u64, u32)> = (0..200)
            .map(|i| (1, i))
            .chain((0..56).map(|i| (2, i)))
            .collect();
        assert_eq!(positions, expected);
    }
}
