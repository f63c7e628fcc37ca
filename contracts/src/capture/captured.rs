//! What a captured event records, and what an event borrows from its document and the
//! registry (cases packed earlier, location master data, namespace prefixes).

use serde_json::json;

use super::testkit::*;
use super::*;
use crate::provenance::{Child, ContainerId};

#[test]
fn test_captured_event_fields() {
    let doc = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISQueryDocument", "schemaVersion": "2.0",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {
            "eventList": [
                {"type": "AggregationEvent", "action": "OBSERVE",
                 "bizStep": "urn:epcglobal:cbv:bizstep:receiving",
                 "disposition": "https://ref.gs1.org/cbv/Disp-in_progress",
                 "eventID": "urn:uuid:2b1c0d4e-0000-4000-8000-000000000001",
                 "eventTime": "2025-01-12T09:00:00.123-06:00", "eventTimeZoneOffset": "-06:00",
                 "parentID": PALLET, "childEPCs": [B1, "urn:epc:id:giai:4000001.12345"],
                 "readPoint": {"id": "urn:epc:id:sgln:9521234.00008.7"},
                 "bizLocation": {"id": STORE_SITE}}
            ]}}}
    });
    let events = map_document(&doc, &directory()).expect("mapped");
    let hashes = jiu_epcis::document_event_hashes(&doc).expect("hashed");
    let event = &events[0];
    assert_eq!(event.index, 0);
    assert_eq!(event.event_type, "AggregationEvent");
    assert_eq!(event.hash_id, hashes[0]);
    assert_eq!(
        event.event_id.as_deref(),
        Some("urn:uuid:2b1c0d4e-0000-4000-8000-000000000001")
    );
    // 2025-01-12T15:00:00.123Z
    assert_eq!(event.event_time_ms, 1_736_694_000_123);
    assert_eq!(event.event_time_zone_offset_min, -360);
    assert_eq!(event.action.as_deref(), Some("OBSERVE"));
    assert_eq!(event.biz_step.as_deref(), Some("receiving"));
    assert_eq!(event.disposition.as_deref(), Some("in_progress"));
    assert_eq!(
        event.read_point.as_deref(),
        Some("https://id.gs1.org/414/9521234000082/254/7")
    );
    assert_eq!(
        event.biz_location.as_deref(),
        Some("https://id.gs1.org/414/9521234000082")
    );
    let epcs: Vec<(EpcRole, &str, bool)> = event
        .epcs
        .iter()
        .map(|e| (e.role, e.canonical.as_str(), e.code.is_some()))
        .collect();
    assert_eq!(
        epcs,
        [
            (EpcRole::Parent, PALLET_DL, true),
            (EpcRole::Child, B1_DL, true),
            (
                EpcRole::Child,
                "https://id.gs1.org/8004/400000112345",
                false
            ),
        ]
    );
    assert_eq!(
        event.op,
        Some(Op::Receive {
            roots: vec![Child::Container(pallet())]
        })
    );
}

#[test]
fn test_a_case_packed_earlier_in_the_document_is_a_container() {
    let doc = document(vec![
        ev(
            json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                  "parentID": CASE, "childEPCs": [B1]}),
        ),
        ev(
            json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                  "parentID": PALLET, "childEPCs": [CASE]}),
        ),
        ev(
            json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                  "epcList": [CASE],
                  "destinationList": [{"type": "owning_party", "destination": STORE}]}),
        ),
    ]);
    let case = Child::Container(ContainerId::Case(item(CASE)));
    let ops: Vec<Option<Op>> = map_document(&doc, &directory())
        .expect("mapped")
        .into_iter()
        .map(|e| e.op)
        .collect();
    assert_eq!(
        ops[1],
        Some(Op::Pack {
            parent: pallet(),
            children: vec![case.clone()]
        })
    );
    assert_eq!(
        ops[2],
        Some(Op::Ship {
            roots: vec![case],
            to: "store".into()
        })
    );
    // Without the packing, the directory decides.
    let alone = document(vec![ev(
        json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving",
               "epcList": [CASE]}),
    )]);
    let mut dir = directory();
    assert_eq!(
        map_document(&alone, &dir).expect("mapped")[0].op,
        Some(Op::Receive {
            roots: vec![bottle(CASE)]
        })
    );
    dir.cases.insert(item(CASE));
    assert_eq!(
        map_document(&alone, &dir).expect("mapped")[0].op,
        Some(Op::Receive {
            roots: vec![Child::Container(ContainerId::Case(item(CASE)))]
        })
    );
}

/// An unpacking AggregationEvent without `childEPCs` unpacks what the directory says the
/// container holds; after a packing or unpacking of the same container earlier in the
/// document (whose effect the directory cannot know yet) it is refused, and the events
/// around it are unaffected.
#[test]
fn test_unpack_all_lists_the_directorys_contents() {
    let unpack_all = || {
        ev(
            json!({"type": "AggregationEvent", "action": "DELETE", "bizStep": "unpacking",
                  "parentID": PALLET}),
        )
    };
    let held = vec![Child::Container(ContainerId::Case(item(CASE))), bottle(B1)];
    let mut dir = directory();
    dir.contents.insert(pallet(), held.clone());
    let mapped = map_document(&document(vec![unpack_all()]), &dir).expect("mapped");
    assert_eq!(
        mapped[0].op,
        Some(Op::Unpack {
            parent: pallet(),
            children: held
        })
    );
    for earlier in [
        json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
               "parentID": PALLET, "childEPCs": [B1_DL]}),
        json!({"type": "AggregationEvent", "action": "DELETE", "bizStep": "unpacking",
               "parentID": PALLET, "childEPCs": [B1_DL]}),
    ] {
        let doc = document(vec![ev(earlier), unpack_all()]);
        let results = map_events(&doc, &dir).expect("a document-level success");
        assert!(results[0].is_ok(), "{:?}", results[0]);
        let error = results[1].as_ref().expect_err("refused");
        assert_eq!(error.code(), "EVENT_UNSUPPORTED");
        assert!(error.to_string().contains("childEPCs"), "{error}");
    }
}

#[test]
fn test_sale_city_from_location_master_data() {
    let mut doc = document(vec![ev(
        json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
               "epcList": [B1], "bizLocation": {"id": "https://id.gs1.org/414/9521234000082"}}),
    )]);
    doc["epcisHeader"] = json!({"epcisMasterData": {"vocabularyList": [
        {"type": "urn:epcglobal:epcis:vtype:ReadPoint", "vocabularyElementList": [
            {"id": STORE_SITE, "attributes": [{"id": "cbvmda:city", "attribute": "Wrong"}]}]},
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [
            {"id": "urn:epc:id:sgln:9521234.00005.0",
             "attributes": [{"id": "cbvmda:city", "attribute": "Renhuai"}]},
            {"id": STORE_SITE, "attributes": [
                {"id": "cbvmda:name", "attribute": "Store 7"},
                {"id": "urn:epcglobal:cbv:mda:city", "attribute": "Guiyang"}]}]}
    ]}});
    let ops = map_document(&doc, &directory()).expect("mapped");
    assert_eq!(
        ops[0].op,
        Some(Op::Sell {
            items: vec![item(B1)],
            city: "Guiyang".into()
        })
    );
}

#[test]
fn test_undeclared_prefix_is_not_the_city_field() {
    // `shop:city` with `shop` bound elsewhere is someone else's field: fall back.
    let mut doc = document(vec![ev(
        json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
               "epcList": [B1], "shop:city": "Elsewhere", "bizLocation": {"id": STORE_SITE}}),
    )]);
    doc["@context"][1]["shop"] = json!("https://shop.example.com/");
    let ops = map_document(&doc, &directory()).expect("mapped");
    assert_eq!(
        ops[0].op,
        Some(Op::Sell {
            items: vec![item(B1)],
            city: "https://id.gs1.org/414/9521234000082".into()
        })
    );
}

#[test]
fn test_jiu_city_without_its_prefix_is_refused() {
    let mut doc = document(vec![ev(
        json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
               "epcList": [B1], "jiu:city": "Shanghai", "bizLocation": {"id": STORE_SITE}}),
    )]);
    doc["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]);
    let err = map_document(&doc, &directory()).expect_err("undeclared prefix");
    assert_eq!(err.code(), "EVENT_INVALID");
    assert!(err.to_string().contains("jiu:city"), "{err}");
}
