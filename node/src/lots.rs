//! The bottles of a lot, and where they are now: what a producer works from when it
//! recalls a lot ("which stores still hold bottles of L0000080, and how many?").
//!
//! The index (`lots` column) is derived from finalized blocks, like the history: one row
//! per (product, lot, tx) that commissioned bottles with that lot, holding those bottles'
//! codes. A packing line's tx commissions thousands of bottles of one lot, so the index
//! adds one row per tx, not one per bottle, to what an ingest writes. The census
//! (`GET /lots/{gtin}/{lot}`, partner token) reads each listed bottle's record as the
//! committed state holds it, following a voided code to its replacement (which keeps the
//! lot), and counts them by state, by holder and by flag. The census is the node's own
//! index, not a proven answer: each bottle's record is proven by its verify answer.

use std::collections::BTreeMap;

use borsh::BorshDeserialize;
use jiu_contracts::gs1::{Code, Gtin, Lot, Sgtin};
use jiu_contracts::provenance::{LifeState, Op};
use jiu_contracts::{Receipt, SignedTx, State};
use serde::Serialize;

use crate::db::{Db, DbError};

/// Most bottles one census reads; a lot with more is counted up to here (`truncated`).
pub const CENSUS_BOTTLES_MAX: usize = 200_000;

/// Most codes one census lists for a holder (`?holder=`).
pub const CENSUS_CODES_MAX: usize = 10_000;

/// Most replacement links followed from one commissioned code.
const REPLACEMENTS_MAX: usize = 8;

/// The key prefix of a lot's rows: the GTIN's 14 digits, 0, the lot, 0 (a lot is CSET 82
/// text, which has no 0 byte, so one lot's prefix never starts another's).
pub fn prefix(gtin: &Gtin, lot: &Lot) -> Vec<u8> {
    let mut key = gtin.to_string().into_bytes();
    key.push(0);
    key.extend_from_slice(lot.to_string().as_bytes());
    key.push(0);
    key
}

/// The `lots` rows of one finalized block: for each applied lifecycle tx, the bottles each
/// (product, lot) was commissioned with, as (key, borsh(`Vec<Sgtin>`)). A key is the lot's
/// [`prefix`], the height and the tx index (big-endian), so a lot's rows read in chain
/// order.
pub fn rows_for_block(
    height: u64,
    txs: &[SignedTx],
    receipts: &[Receipt],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rows = Vec::new();
    for (tx_index, (tx, receipt)) in txs.iter().zip(receipts).enumerate() {
        let Some((_, ops)) = crate::history::applied_ops(tx, receipt) else {
            continue;
        };
        let mut lots: BTreeMap<(Gtin, &Lot), Vec<&Sgtin>> = BTreeMap::new();
        for op in ops {
            if let Op::Commission {
                items,
                lot: Some(lot),
            } = op
            {
                for item in items {
                    lots.entry((item.gtin, lot)).or_default().push(item);
                }
            }
        }
        for ((gtin, lot), bottles) in lots {
            let mut key = prefix(&gtin, lot);
            key.extend_from_slice(&height.to_be_bytes());
            key.extend_from_slice(&(tx_index as u32).to_be_bytes());
            rows.push((key, borsh::to_vec(&bottles).unwrap_or_default()));
        }
    }
    rows
}

/// Decodes one row's value.
pub fn decode_row(value: &[u8]) -> Option<Vec<Sgtin>> {
    Vec::<Sgtin>::try_from_slice(value).ok()
}

/// How many of a lot's bottles one holder has, by state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub org_id: String,
    pub name: String,
    /// As verify answers name roles (`producer`, `distributor`, `store`, ...).
    pub role: Option<jiu_contracts::Role>,
    /// Bottles in its custody that are neither sold, destroyed nor voided: what a recall
    /// has to bring back from it.
    pub unsold: u64,
    pub by_state: BTreeMap<LifeState, u64>,
    /// Of its bottles in transit, how many are on their way to each org: the shipments a
    /// recall can still stop.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub in_transit_to: BTreeMap<String, u64>,
    /// With `?holder=` naming it: its unsold bottles' codes (element strings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<String>>,
}

/// The census of one lot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Census {
    pub gtin: String,
    pub lot: String,
    /// Whether the lot's product lists it as recalled, at `height`.
    pub recalled: bool,
    pub height: u64,
    /// Bottles commissioned with the lot (a replaced code counted once, as its
    /// replacement).
    pub bottles: u64,
    pub by_state: BTreeMap<LifeState, u64>,
    /// Bottles carrying each flag of their own (a lot recall is not a bottle flag).
    pub flagged: BTreeMap<String, u64>,
    /// Each custodian of the lot's bottles, most unsold bottles first.
    pub holders: Vec<Holder>,
    /// The lot has more than [`CENSUS_BOTTLES_MAX`] bottles: the counts cover the first.
    pub truncated: bool,
}

/// Why a census has no answer.
#[derive(Debug, thiserror::Error)]
pub enum CensusError {
    #[error("lot {lot} of GTIN {gtin}: no bottle was commissioned with it on this chain")]
    UnknownLot { gtin: Gtin, lot: Lot },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Counts the bottles of `lot` of `gtin` as `state` holds them; `holder` names the org
/// whose unsold bottles to list.
pub fn census(
    db: &Db,
    state: &State,
    gtin: &Gtin,
    lot: &Lot,
    holder: Option<&str>,
) -> Result<Census, CensusError> {
    let commissioned = db.lot_bottles(&prefix(gtin, lot), CENSUS_BOTTLES_MAX + 1)?;
    if commissioned.is_empty() {
        return Err(CensusError::UnknownLot {
            gtin: *gtin,
            lot: lot.clone(),
        });
    }
    let truncated = commissioned.len() > CENSUS_BOTTLES_MAX;
    let mut census = Census {
        gtin: gtin.to_string(),
        lot: lot.to_string(),
        recalled: state
            .product(gtin)
            .is_some_and(|p| p.lot_recall(lot).is_some()),
        height: state.height(),
        bottles: 0,
        by_state: BTreeMap::new(),
        flagged: BTreeMap::new(),
        holders: Vec::new(),
        truncated,
    };
    let mut holders: BTreeMap<String, Holder> = BTreeMap::new();
    for first in commissioned.iter().take(CENSUS_BOTTLES_MAX) {
        let Some((code, bottle)) = current(state, first) else {
            continue;
        };
        census.bottles += 1;
        *census.by_state.entry(bottle.state).or_default() += 1;
        for flag in bottle.flags.keys() {
            *census
                .flagged
                .entry(format!("{flag:?}").to_uppercase())
                .or_default() += 1;
        }
        let entry = holders
            .entry(bottle.custodian.clone())
            .or_insert_with(|| Holder {
                org_id: bottle.custodian.clone(),
                name: state
                    .org(&bottle.custodian)
                    .map_or_else(|| bottle.custodian.clone(), |o| o.name.clone()),
                role: state.org(&bottle.custodian).map(|o| o.role),
                ..Holder::default()
            });
        *entry.by_state.entry(bottle.state).or_default() += 1;
        if let (LifeState::InTransit, Some(shipment)) = (bottle.state, &bottle.shipment) {
            *entry.in_transit_to.entry(shipment.to.clone()).or_default() += 1;
        }
        let unsold = !matches!(
            bottle.state,
            LifeState::Sold | LifeState::Destroyed | LifeState::Void
        );
        if unsold {
            entry.unsold += 1;
            if holder == Some(entry.org_id.as_str()) {
                let codes = entry.codes.get_or_insert_with(Vec::new);
                if codes.len() < CENSUS_CODES_MAX {
                    codes.push(Code::Item(code).element_string());
                }
            }
        }
    }
    let mut holders: Vec<Holder> = holders.into_values().collect();
    holders.sort_by(|a, b| b.unsold.cmp(&a.unsold).then(a.org_id.cmp(&b.org_id)));
    census.holders = holders;
    Ok(census)
}

/// The bottle a commissioned code stands for now: itself, or the code that replaced it.
fn current(
    state: &State,
    commissioned: &Sgtin,
) -> Option<(Sgtin, jiu_contracts::provenance::BottleRecord)> {
    let mut code = commissioned.clone();
    for _ in 0..REPLACEMENTS_MAX {
        let bottle = state.record(&Code::Item(code.clone()))?.bottle?;
        match (&bottle.replaced_by, bottle.state) {
            (Some(next), LifeState::Void) => code = next.clone(),
            _ => return Some((code, bottle)),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use jiu_contracts::gs1::parse_code;
    use jiu_contracts::provenance::{Child, Flag};
    use jiu_contracts::Payload;

    use super::*;
    use crate::testchain::Chain;

    const GTIN: &str = "09506000134352";

    fn bottle(serial: &str) -> Sgtin {
        match parse_code(&format!("(01){GTIN}(21){serial}")) {
            Ok(Code::Item(sgtin)) => sgtin,
            other => panic!("test code: {other:?}"),
        }
    }

    fn bottles(serials: &[&str]) -> Vec<Sgtin> {
        serials.iter().map(|s| bottle(s)).collect()
    }

    fn gtin() -> Gtin {
        Gtin::parse(GTIN).expect("gtin")
    }

    fn lot(text: &str) -> Lot {
        Lot::parse(text).expect("lot")
    }

    fn census_of(chain: &Chain, text: &str, holder: Option<&str>) -> Census {
        census(&chain.db, &chain.state, &gtin(), &lot(text), holder).expect("census")
    }

    #[test]
    fn test_a_census_finds_each_bottle_of_a_lot_where_it_is_now() {
        let mut chain = Chain::new();
        let product = Payload::SetProduct {
            gtin: gtin(),
            name: "Reserve Baijiu".into(),
            volume_ml: 500,
            abv_bp: 5300,
        };
        assert_eq!(chain.block_of("producer", product), 1);
        // Two lots in one tx, then more of the first lot in another.
        chain.block(
            "producer",
            vec![
                Op::Commission {
                    items: bottles(&["A1", "A2", "A3", "A4"]),
                    lot: Some(lot("A")),
                },
                Op::Commission {
                    items: bottles(&["B1", "B2"]),
                    lot: Some(lot("B")),
                },
                Op::Commission {
                    items: bottles(&["N1"]),
                    lot: None,
                },
            ],
        );
        chain.block(
            "producer",
            vec![Op::Commission {
                items: bottles(&["A5", "A6"]),
                lot: Some(lot("A")),
            }],
        );
        let roots = |serials: &[&str]| serials.iter().map(|s| Child::Bottle(bottle(s))).collect();
        chain.block(
            "producer",
            vec![Op::Ship {
                roots: roots(&["A1", "A2"]),
                to: "store-1".into(),
            }],
        );
        chain.block(
            "store-1",
            vec![Op::Receive {
                roots: roots(&["A1", "A2"]),
            }],
        );
        chain.block(
            "store-1",
            vec![Op::Sell {
                items: bottles(&["A1"]),
                city: "Guiyang".into(),
            }],
        );
        chain.block(
            "producer",
            vec![
                Op::SetFlag {
                    items: bottles(&["A3"]),
                    flag: Flag::Stolen,
                },
                // A damaged label replaced: the new code stands for the bottle.
                Op::Void {
                    items: vec![(bottle("A4"), Some(bottle("A4R")))],
                },
            ],
        );

        chain.block(
            "producer",
            vec![Op::Ship {
                roots: roots(&["A5"]),
                to: "distributor-1".into(),
            }],
        );

        let a = census_of(&chain, "A", Some("store-1"));
        assert_eq!(a.bottles, 6, "{a:?}");
        assert!(!a.recalled && !a.truncated);
        let count = |map: &BTreeMap<LifeState, u64>, state| map.get(&state).copied();
        assert_eq!(count(&a.by_state, LifeState::Active), Some(3), "{a:?}");
        assert_eq!(count(&a.by_state, LifeState::InTransit), Some(1));
        assert_eq!(
            a.holders[0].in_transit_to.get("distributor-1"),
            Some(&1),
            "the shipment a recall can still stop"
        );
        assert_eq!(count(&a.by_state, LifeState::InStock), Some(1));
        assert_eq!(count(&a.by_state, LifeState::Sold), Some(1));
        assert_eq!(
            count(&a.by_state, LifeState::Void),
            None,
            "A4 counts as A4R"
        );
        assert_eq!(a.flagged.get("STOLEN"), Some(&1));
        let holders: Vec<(&str, u64)> = a
            .holders
            .iter()
            .map(|h| (h.org_id.as_str(), h.unsold))
            .collect();
        assert_eq!(holders, [("producer", 4), ("store-1", 1)]);
        let store = &a.holders[1];
        assert_eq!(store.role, Some(jiu_contracts::Role::Store));
        assert_eq!(
            store.codes.as_deref(),
            Some(&[Code::Item(bottle("A2")).element_string()][..]),
            "its unsold bottle, to take off the shelf"
        );
        assert!(
            a.holders[0].codes.is_none(),
            "only the named holder's codes"
        );

        let b = census_of(&chain, "B", None);
        assert_eq!((b.bottles, b.holders.len()), (2, 1));
        assert!(matches!(
            census(&chain.db, &chain.state, &gtin(), &lot("C"), None),
            Err(CensusError::UnknownLot { .. })
        ));

        let recall = Payload::RecallLot {
            gtin: gtin(),
            lot: lot("A"),
            recalled: true,
        };
        assert_eq!(chain.block_of("producer", recall), 1);
        assert!(census_of(&chain, "A", None).recalled);
        assert!(!census_of(&chain, "B", None).recalled);
    }

    #[test]
    fn test_a_lot_prefix_never_starts_another_lots() {
        let one = prefix(&gtin(), &lot("A"));
        let other = prefix(&gtin(), &lot("AB"));
        assert!(!other.starts_with(&one) && !one.starts_with(&other));
    }
}
