//! Step table: small hand-written events and documents, and the refusal each gets.

use serde_json::{json, Value};

use super::testkit::*;
use super::*;

#[test]
fn test_refused_events_name_code_and_field() {
    let too_long = "x".repeat(crate::provenance::CITY_CHARS_MAX + 1);
    let declared = json!({"declarationTime": "2025-01-11T00:00:00Z"});
    let table: Vec<(&str, Value, &str, &str)> = vec![
        (
            "packing without parentID",
            ev(
                json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                      "childEPCs": [B1]}),
            ),
            "EVENT_INVALID",
            "parentID",
        ),
        (
            "packing class-level quantities only",
            ev(
                json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                      "parentID": PALLET,
                      "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L1",
                                             "quantity": 6}]}),
            ),
            "EVENT_INVALID",
            "childEPCs",
        ),
        (
            "packing in an ObjectEvent",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "packing",
                      "epcList": [B1]}),
            ),
            "EVENT_INVALID",
            "action",
        ),
        (
            "commissioning with OBSERVE",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "commissioning",
                      "epcList": [B1]}),
            ),
            "EVENT_INVALID",
            "action",
        ),
        (
            "commissioning with a lot number that is not a string",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "epcList": [B1], "ilmd": {"cbvmda:lotNumber": 7}}),
            ),
            "EVENT_INVALID",
            "ilmd.cbvmda:lotNumber",
        ),
        (
            "commissioning with a lot outside GS1's character set",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "epcList": [B1], "ilmd": {"cbvmda:lotNumber": "L 1"}}),
            ),
            "EVENT_INVALID",
            "ilmd.cbvmda:lotNumber",
        ),
        (
            "commissioning with two lot numbers",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "epcList": [B1], "ilmd": {"cbvmda:lotNumber": "A",
                                                "urn:epcglobal:cbv:mda:lotNumber": "B"}}),
            ),
            "EVENT_INVALID",
            "ilmd.cbvmda:lotNumber",
        ),
        (
            "commissioning with ilmd that is not an object",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "epcList": [B1], "ilmd": "L1"}),
            ),
            "EVENT_INVALID",
            "ilmd",
        ),
        (
            "shipping without destination",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                      "epcList": [B1]}),
            ),
            "EVENT_INVALID",
            "destinationList",
        ),
        (
            "shipping with only a source",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                      "epcList": [B1],
                      "sourceList": [{"type": "owning_party", "source": PRODUCER}]}),
            ),
            "EVENT_INVALID",
            "destinationList",
        ),
        (
            "shipping to an unregistered party",
            ship_to("owning_party", STRANGER),
            "UNKNOWN_PARTY",
            "destinationList[0]",
        ),
        (
            "shipping to two owners",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                      "epcList": [B1],
                      "destinationList": [{"type": "owning_party", "destination": STORE},
                                          {"type": "owning_party", "destination": DISTRIBUTOR}]}),
            ),
            "EVENT_INVALID",
            "destinationList",
        ),
        (
            "a destination without its id",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                      "epcList": [B1], "destinationList": [{"type": "owning_party"}]}),
            ),
            "EVENT_INVALID",
            "destinationList[0]",
        ),
        (
            "a wrong check digit",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "epcList": [B1, "https://id.gs1.org/01/09521234543214/21/X"]}),
            ),
            "INVALID_CODE",
            "epcList[1]",
        ),
        (
            "commissioning a GIAI",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "epcList": ["urn:epc:id:giai:4000001.12345"]}),
            ),
            "INVALID_CODE",
            "epcList[0]",
        ),
        (
            "selling a pallet",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [PALLET], "jiu:city": "Shanghai"}),
            ),
            "INVALID_CODE",
            "epcList[0]",
        ),
        (
            "shipping a party",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                      "epcList": [PRODUCER],
                      "destinationList": [{"type": "owning_party", "destination": STORE}]}),
            ),
            "INVALID_CODE",
            "epcList[0]",
        ),
        (
            "selling nowhere",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1]}),
            ),
            "EVENT_INVALID",
            "bizLocation",
        ),
        (
            "a city too long",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1], "jiu:city": too_long}),
            ),
            "EVENT_INVALID",
            "jiu:city",
        ),
        (
            "a city that is not text",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1], "jiu:city": 21}),
            ),
            "EVENT_INVALID",
            "jiu:city",
        ),
        (
            "unpacking everything from a container the chain does not hold",
            ev(
                json!({"type": "AggregationEvent", "action": "DELETE", "bizStep": "unpacking",
                      "parentID": PALLET}),
            ),
            "EVENT_INVALID",
            "parentID",
        ),
        (
            "a receipt declared in error",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving",
                      "epcList": [B1], "errorDeclaration": declared.clone()}),
            ),
            "EVENT_UNSUPPORTED",
            "errorDeclaration",
        ),
        (
            "a flag change declared in error",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "persistentDisposition": {"set": ["recalled"]},
                      "errorDeclaration": declared}),
            ),
            "EVENT_UNSUPPORTED",
            "errorDeclaration",
        ),
        (
            "an error declaration without its time",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1], "errorDeclaration": {"reason": "did_not_occur"}}),
            ),
            "EVENT_INVALID",
            "errorDeclaration",
        ),
        (
            "two flags in one event",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "persistentDisposition": {"set": ["recalled"], "unset": ["stolen"]}}),
            ),
            "EVENT_UNSUPPORTED",
            "persistentDisposition",
        ),
        (
            "a sale and a flag in one event",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1], "jiu:city": "Shanghai",
                      "persistentDisposition": {"set": ["damaged"]}}),
            ),
            "EVENT_UNSUPPORTED",
            "persistentDisposition",
        ),
        (
            "a flag on an aggregation",
            ev(
                json!({"type": "AggregationEvent", "action": "OBSERVE", "parentID": PALLET,
                      "persistentDisposition": {"set": ["recalled"]}}),
            ),
            "EVENT_UNSUPPORTED",
            "persistentDisposition",
        ),
        (
            "a misspelt bizStep",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "Shipping",
                      "epcList": [B1]}),
            ),
            "EVENT_INVALID",
            "bizStep",
        ),
        (
            "a bare non-CBV persistent disposition",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "persistentDisposition": {"set": ["quarantined"]}}),
            ),
            "EVENT_INVALID",
            "persistentDisposition.set[0]",
        ),
        (
            "a misspelt type",
            ev(json!({"type": "objectEvent", "action": "OBSERVE", "epcList": [B1]})),
            "EVENT_INVALID",
            "type",
        ),
        (
            "no time zone offset",
            json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                   "eventTime": "2025-01-10T08:00:00Z"}),
            "EVENT_INVALID",
            "eventTimeZoneOffset",
        ),
        (
            "a local time",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "eventTime": "2025-01-10T08:00:00"}),
            ),
            "EVENT_INVALID",
            "eventTime",
        ),
        (
            "an unknown action",
            ev(json!({"type": "ObjectEvent", "action": "MOVE", "epcList": [B1]})),
            "EVENT_INVALID",
            "action",
        ),
        (
            "no action",
            ev(json!({"type": "ObjectEvent", "bizStep": "inspecting", "epcList": [B1]})),
            "EVENT_INVALID",
            "action",
        ),
        (
            "an epcList that is not a list",
            ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": B1})),
            "EVENT_INVALID",
            "epcList",
        ),
        (
            "an epcList entry that is not a string",
            ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1, 7]})),
            "EVENT_INVALID",
            "epcList[1]",
        ),
        (
            "a readPoint without id",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "readPoint": {"name": "gate"}}),
            ),
            "EVENT_INVALID",
            "readPoint",
        ),
        (
            "a malformed sensor time, caught by the hasher",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "sensorElementList": [{"sensorMetadata": {"time": "noon"}}]}),
            ),
            "EVENT_INVALID",
            "sensorElementList.sensorElement.sensorMetadata.time",
        ),
    ];
    for (name, event, code, field) in table {
        match map_one(event) {
            Err(CaptureError::Event { at, kind, reason }) => {
                assert_eq!(kind.code(), code, "{name}: {reason}");
                assert_eq!(at.field, field, "{name}: {reason}");
                assert_eq!(at.index, 0, "{name}");
            }
            other => panic!("{name}: expected {code}, got {other:?}"),
        }
    }
}

#[test]
fn test_messages_name_event_field_and_reason() {
    let doc = document(vec![
        ev(
            json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
                  "epcList": [B1]}),
        ),
        ship_to("owning_party", STRANGER),
        ev(
            json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                  "epcList": [B1, "https://id.gs1.org/01/09521234543214/21/X"]}),
        ),
        ev(
            json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                  "childEPCs": [B1]}),
        ),
    ]);
    let results = map_events(&doc, &directory()).expect("a readable document");
    let messages: Vec<String> = results
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into()))
        .collect();
    assert_eq!(
        messages,
        [
            "ok",
            "UNKNOWN_PARTY: event 1 (ObjectEvent) destinationList[0]: destination \
             urn:epc:id:pgln:9521234.00009 is not a registered org",
            "INVALID_CODE: event 2 (ObjectEvent) epcList[1]: \
             https://id.gs1.org/01/09521234543214/21/X: (01) check digit is 4, expected 3",
            "EVENT_INVALID: event 3 (AggregationEvent) parentID: packing needs a parentID",
        ]
    );
    // Consensus sees the first refusal.
    let first = map_document(&doc, &directory()).expect_err("refused");
    assert_eq!(first.event_index(), Some(1));
    assert!(!first.is_document_level());
}

#[test]
fn test_document_refusals() {
    let ok_event = ev(json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1]}));
    let without = |key: &str| {
        let mut doc = document(vec![ok_event.clone()]);
        if let Some(fields) = doc.as_object_mut() {
            fields.remove(key);
        }
        doc
    };
    let no_context = without("@context");
    let no_version = without("schemaVersion");
    let mut old_version = document(vec![ok_event.clone()]);
    old_version["schemaVersion"] = json!("1.2");
    let mut lone_event = document(vec![]);
    lone_event["epcisBody"] = json!({"event": ok_event.clone()});
    let mut not_a_list = document(vec![]);
    not_a_list["epcisBody"]["eventList"] = json!({"0": ok_event.clone()});
    let mut query_with_event_list = document(vec![ok_event.clone()]);
    query_with_event_list["type"] = json!("EPCISQueryDocument");
    let many_events = document(vec![json!({}); EVENTS_MAX + 1]);
    let many_codes = document(vec![
        ev(json!({"type": "ObjectEvent", "action": "OBSERVE",
                  "epcList": vec![B1; DOCUMENT_CODES_MAX]})),
        ev(json!({"type": "AggregationEvent", "action": "OBSERVE", "parentID": PALLET})),
    ]);
    let table: Vec<(&str, Value, &str)> = vec![
        ("an array", json!([ok_event.clone()]), "NOT_EPCIS_DOCUMENT"),
        ("a lone event", ok_event.clone(), "NOT_EPCIS_DOCUMENT"),
        ("no @context", no_context, "NOT_EPCIS_DOCUMENT"),
        ("no schemaVersion", no_version, "NOT_EPCIS_DOCUMENT"),
        ("EPCIS 1.2", old_version, "UNSUPPORTED_SCHEMA_VERSION"),
        ("epcisBody.event", lone_event, "NOT_EPCIS_DOCUMENT"),
        ("eventList not a list", not_a_list, "NOT_EPCIS_DOCUMENT"),
        (
            "a query document with an eventList",
            query_with_event_list,
            "NOT_EPCIS_DOCUMENT",
        ),
        ("too many events", many_events, "TOO_MANY_EVENTS"),
        ("too many codes", many_codes, "TOO_MANY_CODES"),
    ];
    for (name, doc, code) in table {
        let err = map_events(&doc, &directory()).expect_err(name);
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(err.is_document_level(), "{name}");
        assert!(err.to_string().starts_with(code), "{name}: {err}");
    }
}
