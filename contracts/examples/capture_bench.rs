//! What one validator spends mapping an EPCIS packing document, the unit of the EPCIS
//! ingest benchmark: a commissioning ObjectEvent of 4,200 bottles and a packing
//! AggregationEvent per case and pallet (7 pallets, 708 events, 9,807 identifiers), as
//! `jiu demo --epcis` sends it (`provenance::workload::epcis_document`). Prints the time to
//! parse the JSON, to compute the events' CBV 2.0 hash IDs alone, and to map the document
//! (hashes included) to lifecycle ops.
//!
//! ```text
//! cargo run --release -p jiu-contracts --example capture_bench -- [documents]
//! ```
//! Default: 200 documents (840,000 bottles).

use std::time::{Duration, Instant};

use jiu_contracts::capture::map_document;
use jiu_contracts::gs1::Gtin;
use jiu_contracts::provenance::workload::{
    commission_and_pack, epcis_document, EPCIS_DOCUMENT_PALLETS, PALLET_BOTTLES,
};
use serde_json::Value;

/// The node's allocator, so allocation costs what it costs in `jiu`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn per_doc(total: Duration, docs: u64) -> f64 {
    total.as_secs_f64() * 1e3 / docs as f64
}

fn main() {
    let docs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let gtin = Gtin::parse("09506000134352").expect("a valid GTIN");
    let batch = EPCIS_DOCUMENT_PALLETS * PALLET_BOTTLES;
    let texts: Vec<String> = (0..docs)
        .map(|d| epcis_document(&commission_and_pack(gtin, 950_600_013, d * batch, batch)))
        .collect();
    let directory = std::collections::BTreeMap::new();
    let (mut parse, mut hash, mut map) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut events = 0;
    for text in &texts {
        let start = Instant::now();
        let value: Value = serde_json::from_str(text).expect("the document is JSON");
        parse += start.elapsed();
        let start = Instant::now();
        let hashes = jiu_epcis::document_event_hash_results(&value).expect("hashes");
        hash += start.elapsed();
        let start = Instant::now();
        let mapped = map_document(&value, &directory).expect("the document maps");
        map += start.elapsed();
        assert_eq!(hashes.len(), mapped.len());
        events += mapped.len();
    }
    println!(
        "{docs} documents of {batch} bottles ({} bytes, {} events each)",
        texts[0].len(),
        events / docs as usize
    );
    println!(
        "parse JSON        {:8.3} ms a document",
        per_doc(parse, docs)
    );
    println!(
        "event hash IDs    {:8.3} ms a document",
        per_doc(hash, docs)
    );
    println!(
        "map (with hashes) {:8.3} ms a document ({:.2} us a bottle)",
        per_doc(map, docs),
        map.as_secs_f64() * 1e6 / (docs * batch) as f64
    );
}
