//! Every official GS1 EPCIS 2.0 example document, mapped or refused with a precise code.
//! Reads the shared test data beside the repository, never a copy. The expected outcome of
//! each file was checked by reading the document (see the comment on each group).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::testkit::TestDirectory;
use super::*;

const GS1_JSON_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/epcis/gs1/JSON"
);

const LIQUOR_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/epcis/tests/fixtures/liquor-lifecycle.jsonld"
);

/// The party the GS1 "all possible fields" examples ship to, known to the test directory.
const GS1_PARTY: &str = "urn:epc:id:pgln:0614141.00777";

/// Outcome per file: `mapped` and each event's op (`-` for none), or the refusal as
/// `CODE event N field`.
const OUTCOMES: [(&str, &str); 47] = [
    // AssociationEvents never have a lifecycle effect (errorDeclaration in -g included).
    ("AssociationEvent/AssociationEvent-a.jsonld", "mapped -"),
    ("AssociationEvent/AssociationEvent-b.jsonld", "mapped -"),
    ("AssociationEvent/AssociationEvent-c.jsonld", "mapped -"),
    ("AssociationEvent/AssociationEvent-d.jsonld", "mapped -"),
    ("AssociationEvent/AssociationEvent-e.jsonld", "mapped -"),
    ("AssociationEvent/AssociationEvent-f.jsonld", "mapped -"),
    ("AssociationEvent/AssociationEvent-g.jsonld", "mapped -"),
    ("AssociationEvent/AssociationEvent-h.jsonld", "mapped -"),
    // Event 0 ships two bottles with no destinationList: a shipment must name its receiver.
    (
        "EPCISQueryDocument.jsonld",
        "EVENT_INVALID event 0 destinationList",
    ),
    // TransactionEvents at an extension step and at transporting: business links only.
    ("Example-TransactionEvents-2020_07_03y.jsonld", "mapped -,-"),
    (
        "Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld",
        "mapped -",
    ),
    (
        "Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld",
        "EVENT_INVALID event 0 destinationList",
    ),
    (
        "Example_9.6.1-ObjectEvent.jsonld",
        "EVENT_INVALID event 0 destinationList",
    ),
    (
        "Example_9.6.1-with-comment.jsonld",
        "EVENT_INVALID event 0 destinationList",
    ),
    // Receiving a class-level quantityList only: no instance to receive.
    (
        "Example_9.6.2-ObjectEvent.jsonld",
        "EVENT_INVALID event 0 epcList",
    ),
    // Receiving an aggregation receives its parent SSCC.
    ("Example_9.6.3-AggregationEvent.jsonld", "mapped receive"),
    // A TransformationEvent at commissioning: recorded, no lifecycle effect.
    ("Example_9.6.4-TransformationEvent.jsonld", "mapped -"),
    // Receiving 10 bottles (completeness_inferred is no flag), then inspecting.
    ("PersistentDisposition-example.jsonld", "mapped receive,-"),
    (
        "WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
        "EVENT_INVALID event 0 destinationList",
    ),
    (
        "WithDigitalLinkID/Example_9.6.2-ObjectEventWithDigitalLink.jsonld",
        "EVENT_INVALID event 0 epcList",
    ),
    (
        "WithDigitalLinkID/Example_9.6.3-AggregationEventWithDigitalLink.jsonld",
        "mapped receive",
    ),
    (
        "WithDigitalLinkID/Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
        "mapped -",
    ),
    (
        "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld",
        "mapped -,-",
    ),
    // The shipment declared in error is voided (no destination needed), then a receipt.
    (
        "WithErrorDeclaration/Example_9.6.1-ObjectEvent-with-error-declaration.jsonld",
        "mapped void_ship,receive",
    ),
    // A receipt declared in error: the ledger has no inverse of receive.
    (
        "WithFullCombinationOfFields/aggregation_event_all_possible_fields.jsonld",
        "EVENT_UNSUPPORTED event 0 errorDeclaration",
    ),
    (
        "WithFullCombinationOfFields/association_event_all_possible_fields.jsonld",
        "mapped -",
    ),
    (
        "WithFullCombinationOfFields/object_event_all_possible_fields.jsonld",
        "EVENT_UNSUPPORTED event 0 errorDeclaration",
    ),
    // A TransactionEvent at shipping links the shipment to its documents; moves nothing.
    (
        "WithFullCombinationOfFields/transaction_event_all_possible_fields.jsonld",
        "mapped -",
    ),
    (
        "WithFullCombinationOfFields/transformation_event_all_possible_fields.jsonld",
        "mapped -",
    ),
    // Sensor data: inspecting, sensor_reporting, a TransformationEvent; no lifecycle effect,
    // unparsable identifiers (GRAI, GIAI) included.
    ("WithSensorData/SensorDataExample1.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample10.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample11.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample12.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample13.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample14.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample15.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample16.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample17.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample1b.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample2.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample3.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample4.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample5.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample6.jsonld", "mapped -"),
    ("WithSensorData/SensorDataExample7.jsonld", "mapped -"),
    // Packing by class-level childQuantityList only: nothing to pack.
    (
        "WithSensorData/SensorDataExample8.jsonld",
        "EVENT_INVALID event 0 childEPCs",
    ),
    ("WithSensorData/SensorDataExample9.jsonld", "mapped -"),
];

fn gs1_dir() -> PathBuf {
    let dir = PathBuf::from(GS1_JSON_DIR);
    assert!(
        dir.is_dir(),
        "GS1 EPCIS examples not found at {GS1_JSON_DIR}: the shared test data must sit beside \
         the repository (<x>/main and <x>/shared)"
    );
    dir
}

/// Every `.jsonld` under `dir`, sorted, relative to `dir`.
pub(super) fn example_paths() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "jsonld") {
                out.push(path);
            }
        }
    }
    let dir = gs1_dir();
    let mut out = Vec::new();
    walk(&dir, &mut out);
    let mut rel: Vec<PathBuf> = out
        .into_iter()
        .map(|p| p.strip_prefix(&dir).expect("under dir").to_owned())
        .collect();
    rel.sort();
    rel
}

pub(super) fn read_example(rel: &Path) -> Value {
    read(&gs1_dir().join(rel))
}

fn read(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn directory() -> TestDirectory {
    TestDirectory::new(&[
        (GS1_PARTY, "gs1-party"),
        ("urn:epc:id:pgln:9520999.99999", "gs1-owner"),
        ("https://id.gs1.org/417/9521234000068", "distributor"),
    ])
}

fn op_name(op: &Option<Op>) -> String {
    match op {
        None => "-".to_owned(),
        Some(op) => serde_json::to_value(op)
            .ok()
            .and_then(|v| v.get("op").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned()),
    }
}

fn outcome(result: &Result<Vec<CapturedEvent>, CaptureError>) -> String {
    match result {
        Ok(events) => {
            let ops: Vec<String> = events.iter().map(|e| op_name(&e.op)).collect();
            format!("mapped {}", ops.join(","))
        }
        Err(CaptureError::Event { at, kind, .. }) => {
            format!("{} event {} {}", kind.code(), at.index, at.field)
        }
        Err(other) => other.code().to_owned(),
    }
}

#[test]
fn test_every_gs1_example_is_mapped_or_refused_precisely() {
    let paths = example_paths();
    let mut failures = Vec::new();
    for rel in &paths {
        let name = rel.to_string_lossy().into_owned();
        let result = map_document(&read_example(rel), &directory());
        let got = outcome(&result);
        match &result {
            Err(e) => println!("{name}: {got}\n    {e}"),
            Ok(_) => println!("{name}: {got}"),
        }
        match OUTCOMES.iter().find(|(n, _)| *n == name) {
            Some((_, want)) if *want == got => {}
            Some((_, want)) => failures.push(format!("{name}: got {got:?}, expected {want:?}")),
            None => failures.push(format!("{name}: not in the table (got {got:?})")),
        }
    }
    assert_eq!(
        paths.len(),
        OUTCOMES.len(),
        "files and table differ in size"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn test_gs1_shipments_with_a_destination_reach_the_directory() {
    // Example 9.6.1 ships without a destination. Given the destination its "all possible
    // fields" sibling uses, the shipment maps when the party is registered, else is refused.
    let with_destination = |party: &str| {
        let mut doc = read_example(Path::new("Example_9.6.1-ObjectEvent.jsonld"));
        doc["epcisBody"]["eventList"][0]["destinationList"] =
            json!([{"type": "owning_party", "destination": party}]);
        doc
    };
    let events = map_document(&with_destination(GS1_PARTY), &directory()).expect("mapped");
    match &events[0].op {
        Some(Op::Ship { roots, to }) => {
            assert_eq!(to, "gs1-party");
            assert_eq!(roots.len(), 2);
        }
        other => panic!("expected a shipment, got {other:?}"),
    }
    assert_eq!(op_name(&events[1].op), "receive");
    let err = map_document(
        &with_destination("urn:epc:id:pgln:0614141.00888"),
        &directory(),
    )
    .expect_err("unregistered");
    assert_eq!(err.code(), "UNKNOWN_PARTY");
    assert_eq!(err.event_index(), Some(0));
}

#[test]
fn test_liquor_lifecycle_fixture() {
    // Our own lifecycle sketch (also a hash vector): commission, pack, ship, then a sale
    // that also clears a recall in the same event.
    let doc = read(Path::new(LIQUOR_FIXTURE));
    let results = map_events(&doc, &directory()).expect("a readable document");
    let got: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(event) => op_name(&event.op),
            Err(e) => e.code().to_owned(),
        })
        .collect();
    assert_eq!(got, ["commission", "pack", "ship", "EVENT_UNSUPPORTED"]);
    let hashes = jiu_epcis::document_event_hashes(&doc).expect("hashes");
    for (result, hash) in results.iter().zip(&hashes) {
        if let Ok(event) = result {
            assert_eq!(&event.hash_id, hash);
        }
    }
}
