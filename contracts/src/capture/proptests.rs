//! No JSON makes the mapping panic, and its answers are consistent: random JSON, random
//! documents built from the fields the mapping reads, and official examples mutated.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::examples::{example_paths, read_example};
use super::testkit::TestDirectory;
use super::*;
use crate::provenance::BATCH_CODES_MAX;

fn directory() -> TestDirectory {
    TestDirectory::new(&[
        ("urn:epc:id:pgln:9521234.00006", "distributor"),
        ("urn:epc:id:pgln:0614141.00777", "gs1-party"),
    ])
}

/// Maps `doc` and checks what must hold whatever the input.
fn exercise(doc: &Value) {
    let dir = directory();
    let results = map_events(doc, &dir);
    assert_eq!(results, map_events(doc, &dir), "deterministic");
    let whole = map_document(doc, &dir);
    match &results {
        Err(e) => {
            assert!(
                e.is_document_level(),
                "outer errors are document-level: {e}"
            );
            assert_eq!(whole.as_ref().err(), Some(e));
        }
        Ok(per_event) => {
            let first_error = per_event.iter().find_map(|r| r.as_ref().err());
            assert_eq!(whole.as_ref().err(), first_error);
            let hashes = jiu_epcis::document_event_hash_results(doc).expect("hashable");
            for (index, (result, hash)) in per_event.iter().zip(hashes).enumerate() {
                match result {
                    Ok(event) => {
                        assert_eq!(event.index, index);
                        assert_eq!(Ok(&event.hash_id), hash.as_ref());
                        if let Some(op) = &event.op {
                            let codes = op.codes().len();
                            assert!((1..=BATCH_CODES_MAX).contains(&codes), "{op:?}");
                        }
                    }
                    Err(e) => {
                        assert_eq!(e.event_index(), Some(index), "{e}");
                        assert!(e.to_string().starts_with(e.code()), "{e}");
                    }
                }
            }
        }
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            any::<String>(),
            "urn:epc:id:(sgtin|sscc|pgln|sgln|giai):[0-9]{0,13}[.][0-9A-Za-z.%]{0,22}",
            "https?://[a-z.]{0,12}/(01|00|414|417)/[0-9A-Za-z/%]{0,40}",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{0,18}(Z|[+-][0-9:]{0,6})?",
            "(ADD|OBSERVE|DELETE|shipping|packing|recalled|owning_party|[a-z_]{0,12})",
        ]
        .prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_owned()),
        Just("eventTime".to_owned()),
        Just("epcList".to_owned()),
        Just("parentID".to_owned()),
        Just("childEPCs".to_owned()),
        Just("bizStep".to_owned()),
        Just("destinationList".to_owned()),
        Just("persistentDisposition".to_owned()),
        Just("epcisBody".to_owned()),
        Just("eventList".to_owned()),
        Just("jiu:city".to_owned()),
        "[a-zA-Z:@]{0,10}",
    ];
    json_leaf().prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Identifiers the mapping reads: bottles and a case and a pallet in both spellings,
/// parties, and things that are not bottle codes.
fn identifier() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        "urn:epc:id:sgtin:9521234.054321.K7",
        "https://id.gs1.org/01/09521234543213/21/K8",
        "https://id.gs1.org/00/095212340000000013",
        "urn:epc:id:sgtin:9521234.054321.K7",
        "https://id.gs1.org/01/09521234543213/21/K7",
        "https://id.gs1.org/01/09521234543213/21/K8",
        "urn:epc:id:sgtin:9521234.154321.C1",
        "urn:epc:id:sscc:9521234.0000000001",
        "https://id.gs1.org/00/095212340000000013",
        "urn:epc:id:pgln:9521234.00006",
        "urn:epc:id:sgln:9521234.00008.0",
        "urn:epc:id:giai:4000001.12345",
        "https://id.gs1.org/01/09521234543214/21/bad-check",
    ])
    .prop_map(Value::from)
}

fn one_of(values: &'static [&'static str]) -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop::sample::select(values.to_vec()).prop_map(Value::from))
}

/// Mostly one of `good`, sometimes one of `bad` or absent: enough valid events to reach
/// the lifecycle rules, enough broken ones to reach every refusal.
fn mostly(
    good: &'static [&'static str],
    bad: &'static [&'static str],
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        30 => prop::sample::select(good.to_vec()).prop_map(|v| Some(Value::from(v))),
        1 => prop::sample::select(bad.to_vec()).prop_map(|v| Some(Value::from(v))),
        1 => Just(None),
    ]
}

/// (type, action, bizStep) triples the mapping table maps, and one it does not.
const SHAPES: [(&str, &str, &str); 14] = [
    ("ObjectEvent", "ADD", "encoding"),
    ("TransactionEvent", "ADD", "encoding"),
    ("ObjectEvent", "ADD", "commissioning"),
    ("AggregationEvent", "ADD", "packing"),
    ("AggregationEvent", "DELETE", "unpacking"),
    ("ObjectEvent", "OBSERVE", "shipping"),
    ("AggregationEvent", "OBSERVE", "shipping"),
    (
        "ObjectEvent",
        "OBSERVE",
        "https://ref.gs1.org/cbv/BizStep-void_shipping",
    ),
    (
        "AggregationEvent",
        "OBSERVE",
        "urn:epcglobal:cbv:bizstep:receiving",
    ),
    ("ObjectEvent", "OBSERVE", "retail_selling"),
    ("ObjectEvent", "DELETE", "destroying"),
    ("ObjectEvent", "DELETE", "decommissioning"),
    ("ObjectEvent", "OBSERVE", "inspecting"),
    ("ObjectEvent", "OBSERVE", "receiving"),
];

/// An event assembled from the fields the mapping reads, each present or not: mostly in a
/// shape the table maps, with fields drawn so that every rule and refusal is reached.
fn event() -> impl Strategy<Value = Value> {
    let random_shape = (
        mostly(
            &[
                "ObjectEvent",
                "AggregationEvent",
                "TransactionEvent",
                "TransformationEvent",
                "AssociationEvent",
                "example:Event",
            ],
            &["objectEvent"],
        ),
        mostly(&["ADD", "OBSERVE", "DELETE"], &["MOVE"]),
        one_of(&[
            "shipping",
            "packing",
            "retail_selling",
            "holding",
            "Shipping",
        ]),
    );
    let shape = prop_oneof![
        3 => prop::sample::select(SHAPES.to_vec()).prop_map(|(t, a, b)| {
            (Some(Value::from(t)), Some(Value::from(a)), Some(Value::from(b)))
        }),
        1 => random_shape,
    ];
    let what = (
        shape,
        mostly(
            &["2025-01-10T08:00:00+08:00", "9999-12-31T23:59:59Z"],
            &["2025-01-10T08:00:00"],
        ),
        mostly(&["+08:00"], &["+15:00", "Z"]),
    );
    let which = (
        prop::option::weighted(0.85, prop::collection::vec(identifier(), 1..4)),
        prop::option::weighted(0.7, identifier()),
        prop::option::weighted(0.7, prop::collection::vec(identifier(), 1..4)),
        prop::option::of(prop::collection::vec(
            (
                one_of(&["owning_party", "possessing_party", "location", "x:y"]),
                one_of(&[
                    "urn:epc:id:pgln:9521234.00006",
                    "https://id.gs1.org/417/9521234000068",
                    "urn:epc:id:pgln:9521234.00009",
                    "urn:epc:id:sgln:9521234.00008.0",
                ]),
            ),
            0..3,
        )),
    );
    let extra = (
        prop::option::weighted(
            0.2,
            prop::collection::vec(
                one_of(&[
                    "recalled",
                    "stolen",
                    "no_pedigree_match",
                    "completeness_verified",
                ]),
                0..3,
            ),
        ),
        (prop::bool::weighted(0.15), any::<bool>()),
        one_of(&["Shanghai", "", "urn:epc:id:sgln:9521234.00008.0"]),
        prop::option::of(identifier()),
        json_leaf(),
    );
    (what, which, extra).prop_map(|(what, which, extra)| {
        let ((event_type, action, biz_step), time, zone) = what;
        let (epcs, parent, children, destinations) = which;
        let (flags, (declared, set), city, location, noise) = extra;
        let mut e = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                e.insert(key.to_owned(), value);
            }
        };
        put("type", event_type);
        put("action", action);
        put("bizStep", biz_step);
        put("eventTime", time);
        put("eventTimeZoneOffset", zone);
        put("epcList", epcs.map(Value::from));
        put("parentID", parent);
        put("childEPCs", children.map(Value::from));
        put(
            "destinationList",
            destinations.map(|list| {
                list.into_iter()
                    .map(|(kind, id)| json!({"type": kind, "destination": id}))
                    .collect::<Vec<_>>()
                    .into()
            }),
        );
        put(
            "persistentDisposition",
            flags.map(|f| {
                let key = if set { "set" } else { "unset" };
                json!({ key: f.into_iter().flatten().collect::<Vec<_>>() })
            }),
        );
        put(
            "errorDeclaration",
            declared.then(|| json!({"declarationTime": "2025-01-11T00:00:00Z"})),
        );
        put("jiu:city", city);
        put("bizLocation", location.map(|id| json!({"id": id})));
        put("example:noise", Some(noise));
        Value::Object(e)
    })
}

fn document(events: Vec<Value>) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     {"jiu": jiu_epcis::JIU_NAMESPACE, "example": "https://example.com/"}],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-10T08:00:00Z",
        "epcisBody": {"eventList": events}
    })
}

fn examples() -> &'static [(PathBuf, Value)] {
    static EXAMPLES: OnceLock<Vec<(PathBuf, Value)>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        example_paths()
            .into_iter()
            .map(|p| {
                let doc = read_example(&p);
                (p, doc)
            })
            .collect()
    })
}

/// Apply mutation `choice` with `replacement` at the `target`-th node of `value` (pre-order).
fn mutate(value: &mut Value, target: &mut usize, choice: u8, replacement: &Value) -> bool {
    if *target == 0 {
        match choice % 3 {
            0 => *value = replacement.clone(),
            1 => match value {
                Value::String(s) => {
                    // The middle, moved back to a char boundary (strings may be non-ASCII).
                    let mid = (0..=s.len() / 2)
                        .rev()
                        .find(|i| s.is_char_boundary(*i))
                        .unwrap_or(0);
                    s.insert(mid, '.');
                }
                other => *other = Value::String(String::new()),
            },
            _ => match value {
                Value::Object(m) => {
                    let first = m.keys().next().cloned();
                    if let Some(k) = first {
                        m.remove(&k);
                    }
                }
                Value::Array(items) => {
                    items.pop();
                }
                other => *other = Value::Null,
            },
        }
        return true;
    }
    *target -= 1;
    match value {
        Value::Object(m) => m
            .values_mut()
            .any(|v| mutate(v, target, choice, replacement)),
        Value::Array(items) => items
            .iter_mut()
            .any(|v| mutate(v, target, choice, replacement)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn test_random_json_never_panics(value in json_value()) {
        exercise(&value);
        exercise(&document(vec![value]));
    }

    #[test]
    fn test_random_documents_never_panic(events in prop::collection::vec(event(), 0..6)) {
        exercise(&document(events));
    }

    #[test]
    fn test_mutated_examples_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<u16>(), any::<u8>(), json_value()), 1..6),
    ) {
        let examples = examples();
        let mut doc = examples[index.index(examples.len())].1.clone();
        for (target, choice, replacement) in mutations {
            let mut target = usize::from(target) % 200;
            mutate(&mut doc, &mut target, choice, &replacement);
        }
        exercise(&doc);
    }
}

#[test]
fn test_deep_nesting_is_refused_not_overflowed() {
    let mut value = Value::String("x".to_owned());
    for _ in 0..1_000 {
        value = json!({ "example:nest": value });
    }
    let doc = document(vec![json!({
        "type": "ObjectEvent", "action": "OBSERVE", "epcList": [],
        "eventTime": "2025-01-10T08:00:00Z", "eventTimeZoneOffset": "+00:00",
        "example:deep": value
    })]);
    let err = map_document(&doc, &directory()).expect_err("too deep");
    assert_eq!(err.code(), "EVENT_INVALID", "{err}");
}
