//! A realistic packing workload: bottles commissioned, packed six to a case, cases packed a
//! hundred to a pallet. The demo seeder, the ingest benchmark and the ledger benchmark all
//! build their ops here, so they measure the same thing.

use super::{Child, ContainerId, Op};
use crate::gs1::{Gtin, Lot, Serial, Sgtin, Sscc};

/// Bottles per case.
pub const CASE_BOTTLES: u64 = 6;
/// Cases per pallet.
pub const PALLET_CASES: u64 = 100;

/// The bottle `n` of product `gtin`: serial `B` + 9 digits.
pub fn bottle(gtin: Gtin, n: u64) -> Sgtin {
    let serial = Serial::parse(&format!("B{n:09}")).expect("B + 9 digits is a valid serial");
    Sgtin::new(gtin, serial)
}

/// The case `n` of product `gtin` (a case-level SGTIN): serial `C` + 9 digits.
pub fn case(gtin: Gtin, n: u64) -> ContainerId {
    let serial = Serial::parse(&format!("C{n:09}")).expect("C + 9 digits is a valid serial");
    ContainerId::Case(Sgtin::new(gtin, serial))
}

/// Distinct pallets under one company prefix: the SSCC's 7-digit serial reference. Pallet
/// `n` and `n + PALLETS_MAX` get the same code.
pub const PALLETS_MAX: u64 = 10_000_000;

/// The pallet `n` under GS1 company prefix digits `prefix` (9 digits): an SSCC.
pub fn pallet(prefix: u64, n: u64) -> ContainerId {
    // SSCC: extension digit 0, 9-digit company prefix, 7-digit serial reference.
    let body = (prefix % 1_000_000_000) * PALLETS_MAX + n % PALLETS_MAX;
    let sscc = Sscc::from_body(body).expect("17 body digits fit an SSCC");
    ContainerId::Sscc(sscc)
}

/// Bottles on a full pallet.
pub const PALLET_BOTTLES: u64 = CASE_BOTTLES * PALLET_CASES;

/// Bottles per ingest tx: 16 full pallets, about 0.5 MiB of ops.
pub const TX_BOTTLES: u64 = 16 * PALLET_BOTTLES;

/// The lot of the bottles one call of [`commission_and_pack`] commissions from bottle
/// `first`: one filling run per call, named after its first pallet (`L0000016`).
pub fn lot(first: u64) -> Lot {
    Lot::parse(&format!("L{:07}", first / PALLET_BOTTLES)).expect("8 CSET 82 chars")
}

/// The ops that commission bottles `first..first + count` and pack them into cases and
/// pallets. `first` must be a multiple of [`PALLET_BOTTLES`] so that cases and pallets of
/// consecutive calls do not overlap; the last case and pallet of a call may be partial.
pub fn commission_and_pack(gtin: Gtin, prefix: u64, first: u64, count: u64) -> Vec<Op> {
    assert!(
        first.is_multiple_of(PALLET_BOTTLES),
        "batches start on a pallet boundary"
    );
    let items: Vec<Sgtin> = (first..first + count).map(|n| bottle(gtin, n)).collect();
    let mut ops = vec![Op::Commission {
        items: items.clone(),
        lot: Some(lot(first)),
    }];
    let mut cases = Vec::new();
    for (i, chunk) in items.chunks(CASE_BOTTLES as usize).enumerate() {
        let case = case(gtin, first / CASE_BOTTLES + i as u64);
        ops.push(Op::Pack {
            parent: case.clone(),
            children: chunk.iter().cloned().map(Child::Bottle).collect(),
        });
        cases.push(case);
    }
    let first_pallet = first / (CASE_BOTTLES * PALLET_CASES);
    for (i, chunk) in cases.chunks(PALLET_CASES as usize).enumerate() {
        ops.push(Op::Pack {
            parent: pallet(prefix, first_pallet + i as u64),
            children: chunk.iter().cloned().map(Child::Container).collect(),
        });
    }
    ops
}

/// Pallets per EPCIS document of the ingest: a pallet names 1,401 identifiers (600 bottles,
/// 100 cases with their 6 children, the pallet and its 100 cases), and a document at most
/// 10,000.
pub const EPCIS_DOCUMENT_PALLETS: u64 = 7;

/// When the workload's packing events happened (fixed, so documents are reproducible).
pub const EPCIS_EVENT_TIME: &str = "2026-11-26T10:00:00+08:00";

/// The EPCIS 2.0 document recording what `ops` do, as a packing line's EPCIS system sends
/// it: a commissioning ObjectEvent for each Commission, a packing AggregationEvent for each
/// Pack (other ops are left out). Identifiers are Digital Links on `id.gs1.org`.
pub fn epcis_document(ops: &[Op]) -> String {
    use serde_json::{json, Value};
    const HOST: &str = "id.gs1.org";
    let events: Vec<Value> = ops
        .iter()
        .filter_map(|op| match op {
            Op::Commission { items, lot } => {
                let mut event = json!({
                    "type": "ObjectEvent",
                    "eventTime": EPCIS_EVENT_TIME,
                    "eventTimeZoneOffset": "+08:00",
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "disposition": "active",
                    "epcList": items.iter().map(|i| i.digital_link(HOST)).collect::<Vec<_>>(),
                });
                if let Some(lot) = lot {
                    event["ilmd"] = json!({ crate::capture::LOT_NUMBER_FIELD: lot });
                }
                Some(event)
            }
            Op::Pack { parent, children } => Some(json!({
                "type": "AggregationEvent",
                "eventTime": EPCIS_EVENT_TIME,
                "eventTimeZoneOffset": "+08:00",
                "action": "ADD",
                "bizStep": "packing",
                "parentID": parent.code().digital_link(HOST),
                "childEPCs": children
                    .iter()
                    .map(|c| c.code().digital_link(HOST))
                    .collect::<Vec<_>>(),
            })),
            _ => None,
        })
        .collect();
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": EPCIS_EVENT_TIME,
        "epcisBody": { "eventList": events },
    })
    .to_string()
}
