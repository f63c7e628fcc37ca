//! Step table: small hand-written events and the op each maps to, or none.

use serde_json::{json, Value};

use super::testkit::*;
use super::*;
use crate::provenance::{Child, ContainerId, Flag};

#[test]
fn test_lifecycle_steps_map_to_ops() {
    let sell = |city: &str| Op::Sell {
        items: vec![item(B1)],
        city: city.to_owned(),
    };
    let table: Vec<(&str, Value, Op)> = vec![
        (
            "encoding in an ObjectEvent",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "encoding",
                      "disposition": "encoded", "epcList": [B1]}),
            ),
            Op::Issue {
                items: vec![item(B1)],
            },
        ),
        (
            "encoding in a TransactionEvent (CBV's preferred form)",
            ev(
                json!({"type": "TransactionEvent", "action": "ADD", "bizStep": "encoding",
                      "bizTransactionList": [{"type": "po", "bizTransaction": "urn:x:po:1"}],
                      "epcList": [B1]}),
            ),
            Op::Issue {
                items: vec![item(B1)],
            },
        ),
        (
            "commissioning, URN and Digital Link on any host",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "disposition": "active", "epcList": [B1, B2_DL],
                      "ilmd": {"jiu:lot": "L1"}}),
            ),
            Op::Commission {
                items: vec![item(B1), item(B2_DL)],
                lot: None,
            },
        ),
        (
            "commissioning with a lot (ilmd cbvmda:lotNumber, GS1's standard context)",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "disposition": "active", "epcList": [B1],
                      "ilmd": {"cbvmda:lotNumber": "L2026-A", "cbvmda:bestBeforeDate": "2046-01-01"}}),
            ),
            Op::Commission {
                items: vec![item(B1)],
                lot: Some(crate::gs1::Lot::parse("L2026-A").expect("a lot")),
            },
        ),
        (
            "commissioning with a lot under the full CBV master data IRI",
            ev(
                json!({"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                      "epcList": [B1], "ilmd": {"urn:epcglobal:cbv:mda:lotNumber": "7"}}),
            ),
            Op::Commission {
                items: vec![item(B1)],
                lot: Some(crate::gs1::Lot::parse("7").expect("a lot")),
            },
        ),
        (
            "packing into a pallet",
            ev(
                json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                      "parentID": PALLET_DL, "childEPCs": [B1, B2_DL]}),
            ),
            Op::Pack {
                parent: pallet(),
                children: vec![bottle(B1), bottle(B2_DL)],
            },
        ),
        (
            "packing into a case SGTIN",
            ev(
                json!({"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                      "parentID": CASE, "childEPCs": [B1]}),
            ),
            Op::Pack {
                parent: ContainerId::Case(item(CASE)),
                children: vec![bottle(B1)],
            },
        ),
        (
            "unpacking",
            ev(json!({"type": "AggregationEvent", "action": "DELETE",
                      "bizStep": "urn:epcglobal:cbv:bizstep:unpacking",
                      "parentID": PALLET, "childEPCs": [B1]})),
            Op::Unpack {
                parent: pallet(),
                children: vec![bottle(B1)],
            },
        ),
        (
            "shipping to the owning party",
            ship_to("owning_party", DISTRIBUTOR),
            Op::Ship {
                roots: vec![Child::Container(pallet())],
                to: "distributor".into(),
            },
        ),
        (
            "shipping to a possessing party in another spelling",
            ship_to(
                "urn:epcglobal:cbv:sdt:possessing_party",
                "urn:epc:id:pgln:9521234.00006",
            ),
            Op::Ship {
                roots: vec![Child::Container(pallet())],
                to: "distributor".into(),
            },
        ),
        (
            "shipping to a location only",
            ship_to(
                "https://ref.gs1.org/cbv/SDT-location",
                "https://id.gs1.org/414/9521234000082",
            ),
            Op::Ship {
                roots: vec![Child::Container(pallet())],
                to: "store".into(),
            },
        ),
        (
            "owning party wins over possessing party and location",
            ev(json!({"type": "ObjectEvent", "action": "OBSERVE",
                      "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping",
                      "epcList": [B1],
                      "destinationList": [
                          {"type": "location", "destination": STORE_SITE},
                          {"type": "possessing_party", "destination": STRANGER},
                          {"type": "owning_party", "destination": STORE}]})),
            Op::Ship {
                roots: vec![bottle(B1)],
                to: "store".into(),
            },
        ),
        (
            "shipping an aggregation ships its parent",
            ev(
                json!({"type": "AggregationEvent", "action": "OBSERVE", "bizStep": "shipping",
                      "parentID": PALLET, "childEPCs": [B1],
                      "destinationList": [{"type": "owning_party", "destination": DISTRIBUTOR}]}),
            ),
            Op::Ship {
                roots: vec![Child::Container(pallet())],
                to: "distributor".into(),
            },
        ),
        (
            "void shipping",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "void_shipping",
                      "epcList": [PALLET_DL]}),
            ),
            Op::VoidShip {
                roots: vec![Child::Container(pallet())],
            },
        ),
        (
            "receiving items",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving",
                      "disposition": "in_progress", "epcList": [B1]}),
            ),
            Op::Receive {
                roots: vec![bottle(B1)],
            },
        ),
        (
            "receiving an aggregation receives its parent",
            ev(
                json!({"type": "AggregationEvent", "action": "OBSERVE", "bizStep": "receiving",
                      "parentID": PALLET, "childEPCs": [B1]}),
            ),
            Op::Receive {
                roots: vec![Child::Container(pallet())],
            },
        ),
        (
            "selling, city from jiu:city",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "disposition": "retail_sold", "epcList": [B1],
                      "bizLocation": {"id": STORE_SITE}, "jiu:city": "Shanghai"}),
            ),
            sell("Shanghai"),
        ),
        (
            "selling, city as a full-IRI key",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1], "urn:jiu:epcis:city": "Chengdu"}),
            ),
            sell("Chengdu"),
        ),
        (
            "selling, city falls back to the bizLocation",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1], "bizLocation": {"id": STORE_SITE}}),
            ),
            sell("https://id.gs1.org/414/9521234000082"),
        ),
        (
            "error declaration on a sale undoes it",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
                      "epcList": [B1], "bizLocation": {"id": STORE_SITE},
                      "errorDeclaration": {"declarationTime": "2025-01-11T00:00:00Z",
                                           "reason": "did_not_occur"}}),
            ),
            Op::UndoSale {
                items: vec![item(B1)],
            },
        ),
        (
            "error declaration on a shipment voids it, destination or not",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                      "epcList": [PALLET],
                      "errorDeclaration": {"declarationTime": "2025-01-11T00:00:00Z",
                                           "reason": "incorrect_data"}}),
            ),
            Op::VoidShip {
                roots: vec![Child::Container(pallet())],
            },
        ),
        (
            "hold: no_pedigree_match while holding",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "holding",
                      "epcList": [B1], "persistentDisposition": {"set": ["no_pedigree_match"]}}),
            ),
            Op::SetFlag {
                items: vec![item(B1)],
                flag: Flag::Hold,
            },
        ),
        (
            "recall cleared, no bizStep",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "persistentDisposition": {"unset": ["recalled"]}}),
            ),
            Op::ClearFlag {
                items: vec![item(B1)],
                flag: Flag::Recalled,
            },
        ),
        (
            "stolen, URN spelling, beside a non-flag disposition",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
                      "epcList": [B1],
                      "persistentDisposition": {"set": ["urn:epcglobal:cbv:disp:stolen",
                                                        "completeness_verified"]}}),
            ),
            Op::SetFlag {
                items: vec![item(B1)],
                flag: Flag::Stolen,
            },
        ),
        (
            "damaged",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "persistentDisposition": {"set": ["damaged"]}}),
            ),
            Op::SetFlag {
                items: vec![item(B1)],
                flag: Flag::Damaged,
            },
        ),
        (
            "opened: container_open",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "persistentDisposition": {"set": ["https://ref.gs1.org/cbv/Disp-container_open"]}}),
            ),
            Op::SetFlag {
                items: vec![item(B1)],
                flag: Flag::Opened,
            },
        ),
        (
            "destroying with DELETE",
            ev(
                json!({"type": "ObjectEvent", "action": "DELETE", "bizStep": "destroying",
                      "disposition": "destroyed", "epcList": [B1]}),
            ),
            Op::Destroy {
                items: vec![item(B1)],
            },
        ),
        (
            "destroying with OBSERVE",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "destroying",
                      "epcList": [B1]}),
            ),
            Op::Destroy {
                items: vec![item(B1)],
            },
        ),
        (
            "decommissioning",
            ev(
                json!({"type": "ObjectEvent", "action": "DELETE", "bizStep": "decommissioning",
                      "disposition": "inactive", "epcList": [B1]}),
            ),
            Op::Void {
                items: vec![(item(B1), None)],
            },
        ),
    ];
    for (name, event, want) in table {
        match map_one(event) {
            Ok(Some(op)) => assert_eq!(op, want, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn test_events_without_lifecycle_effect_map_to_none() {
    let table: Vec<(&str, Value)> = vec![
        (
            "inspecting",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
                      "epcList": [B1]}),
            ),
        ),
        (
            "no bizStep, a non-flag persistent disposition",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": [B1],
                      "persistentDisposition": {"set": ["completeness_verified"],
                                                "unset": ["completeness_inferred"]}}),
            ),
        ),
        (
            "sensor reporting on an unparsable identifier",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "sensor_reporting",
                      "epcList": ["https://id.example.com/8003/040123450007718765"]}),
            ),
        ),
        (
            "a plain 'recalled' disposition is a status, not a flag",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "holding",
                      "disposition": "recalled", "epcList": [B1]}),
            ),
        ),
        (
            "an extension bizStep",
            ev(json!({"type": "ObjectEvent", "action": "OBSERVE",
                      "bizStep": "https://example.com/steps/tasting", "epcList": [B1]})),
        ),
        (
            "a TransformationEvent, even at commissioning",
            ev(
                json!({"type": "TransformationEvent", "bizStep": "commissioning",
                      "inputEPCList": [B1], "outputEPCList": [B2_DL]}),
            ),
        ),
        (
            "an AssociationEvent",
            ev(
                json!({"type": "AssociationEvent", "action": "ADD", "bizStep": "assembling",
                      "parentID": "urn:epc:id:grai:4012345.55555.987",
                      "childEPCs": ["urn:epc:id:giai:4000001.12345"]}),
            ),
        ),
        (
            "a TransactionEvent at shipping links a business transaction",
            ev(
                json!({"type": "TransactionEvent", "action": "ADD", "bizStep": "shipping",
                      "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:x:asn:1"}],
                      "epcList": [B1]}),
            ),
        ),
        (
            "an extension event type",
            ev(json!({"type": "https://example.com/TastingEvent", "bizStep": "shipping"})),
        ),
        (
            "an error declaration on an event without lifecycle effect",
            ev(
                json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
                      "epcList": [B1],
                      "errorDeclaration": {"declarationTime": "2025-01-11T00:00:00Z"}}),
            ),
        ),
    ];
    for (name, event) in table {
        assert_eq!(map_one(event), Ok(None), "{name}");
    }
}
