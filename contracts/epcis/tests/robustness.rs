//! No JSON input may panic the hasher: random values, and official documents with
//! random mutations (fields deleted, replaced by random JSON, strings perturbed).

use std::fs;

use jiu_epcis::{
    document_event_hashes, document_pre_hashes, event_hash_id, hash_id, pre_hash_string, Context,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

const VECTOR_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/epcis/event-hash"
);

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        // Strings biased towards the shapes the canonicaliser looks at.
        prop_oneof![
            any::<String>(),
            "[0-9.eE+_-]{0,12}",
            "urn:epc:(id|idpat|class):[a-z]{2,6}:[0-9]{0,13}[.][0-9.*%A-Fa-f!()]{0,25}",
            "https?://[a-z.]{0,12}/(01|00|414|8006|8010|gtin|22|10|21)/[0-9A-Za-z/%?#=]{0,40}",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{0,18}(Z|[+-][0-9:]{0,6})?",
            "[a-z]{1,8}:[A-Za-z_-]{0,12}",
        ]
        .prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_owned()),
        Just("eventTime".to_owned()),
        Just("epcList".to_owned()),
        Just("childEPCs".to_owned()),
        Just("quantity".to_owned()),
        Just("bizTransactionList".to_owned()),
        Just("sensorElementList".to_owned()),
        Just("sensorReport".to_owned()),
        Just("readPoint".to_owned()),
        Just("ex:field".to_owned()),
        "[a-zA-Z:{}/]{0,10}",
    ];
    json_leaf().prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn official_documents() -> Vec<Value> {
    let mut docs = Vec::new();
    let entries = fs::read_dir(VECTOR_DIR)
        .unwrap_or_else(|e| panic!("vectors not found at {VECTOR_DIR}: {e}"));
    let mut paths: Vec<_> = entries.map(|e| e.expect("dir entry").path()).collect();
    paths.sort();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonld"))
    {
        let text = fs::read_to_string(&path).expect("read vector");
        docs.push(serde_json::from_str(&text).expect("vector is JSON"));
    }
    assert!(!docs.is_empty(), "no JSON-LD vectors in {VECTOR_DIR}");
    docs
}

/// Apply mutation `choice` with `replacement` at the `target`-th node of `value` (pre-order).
fn mutate(value: &mut Value, target: &mut usize, choice: u8, replacement: &Value) -> bool {
    if *target == 0 {
        match choice % 3 {
            0 => *value = replacement.clone(),
            1 => {
                if let Value::String(s) = value {
                    let mid = (0..=s.len() / 2)
                        .rev()
                        .find(|i| s.is_char_boundary(*i))
                        .unwrap_or(0);
                    s.insert(mid, '.');
                } else {
                    *value = Value::String(String::new());
                }
            }
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

fn exercise(doc: &Value) {
    // Results may be errors; they must never be panics, and must agree with each other.
    if let (Ok(pre), Ok(hashes)) = (document_pre_hashes(doc), document_event_hashes(doc)) {
        assert_eq!(pre.iter().map(|p| hash_id(p)).collect::<Vec<_>>(), hashes);
    }
    let context = Context::new().with_prefix("ex", "https://ns.example.com/");
    let event_pre = pre_hash_string(doc, &context);
    assert_eq!(event_pre.map(|p| hash_id(&p)), event_hash_id(doc, &context));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn test_random_json_never_panics(value in json_value()) {
        exercise(&value);
        let doc = serde_json::json!({"@context": [{"ex": "https://ns.example.com/"}], "epcisBody": {"eventList": [value]}});
        exercise(&doc);
    }

    #[test]
    fn test_mutated_official_documents_never_panic(
        doc_index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<u16>(), any::<u8>(), json_value()), 1..6),
    ) {
        let docs = official_documents();
        let mut doc = docs[doc_index.index(docs.len())].clone();
        for (target, choice, replacement) in mutations {
            let mut target = usize::from(target) % 200;
            mutate(&mut doc, &mut target, choice, &replacement);
        }
        exercise(&doc);
    }
}

#[test]
fn test_deep_nesting_is_rejected_not_overflowed() {
    let mut value = Value::String("x".to_owned());
    for _ in 0..300 {
        let mut m = Map::new();
        m.insert("ex:nest".to_owned(), value);
        value = Value::Object(m);
    }
    let mut event = Map::new();
    event.insert("type".to_owned(), "ObjectEvent".into());
    event.insert("eventTime".to_owned(), "2020-01-01T00:00:00Z".into());
    event.insert("ex:deep".to_owned(), value);
    let err = pre_hash_string(&Value::Object(event), &Context::new()).expect_err("too deep");
    assert!(err.to_string().contains("deeper"), "{err}");
}
