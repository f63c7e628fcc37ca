//! JSON event to the element tree the pre-hash is built from.
//!
//! The CBV algorithm is defined over the XML data model, so the JSON form is first
//! reshaped to it: list fields become a wrapper element holding one child per item
//! (`epcList` -> `epc`*, `childQuantityList` -> `quantityElement`*), CURIE keys are
//! expanded to `{namespace}local`, CURIE values to full IRIs, and bare CBV words in
//! CBV-typed fields to their Web URIs.

use serde_json::Value;

use crate::vocab::{self, Vocabulary};
use crate::{Context, Problem};

/// Nesting bound: deeper JSON is rejected rather than risking the stack.
pub const DEPTH_MAX: usize = 64;

/// Keys dropped at every level, as in the reference: comments, and `@xmlns...` namespace
/// declarations of JSON converted from XML (the reference reads those as prefixes; we
/// take prefixes from `@context` only).
fn is_dropped_key(key: &str) -> bool {
    matches!(key, "rdfs:comment" | "comment") || key.starts_with("@xmlns")
}

/// An element: name, text value (empty for structures) and child elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: String,
    pub value: String,
    pub children: Vec<Node>,
}

/// Where an object sits in an event, to know which fields are CBV-typed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Event,
    PersistentDisposition,
    BizTransaction,
    SourceOrDestination,
    ErrorDeclaration,
    SensorElement,
    SensorReport,
    Other,
}

/// A conversion failure: the dotted path of the offending field and what is wrong.
pub(crate) type Failure = (String, Problem);

/// Convert an event object to its element list, already reshaped to the XML model.
pub(crate) fn event_children(
    event: &serde_json::Map<String, Value>,
    context: &Context,
) -> Result<Vec<Node>, Failure> {
    let mut children = Vec::with_capacity(event.len());
    for (key, value) in event {
        if context.ignore_fields.contains(key) || key == "#text" || is_dropped_key(key) {
            continue;
        }
        push_field(&mut children, key, value, Place::Event, context, 1)?;
    }
    Ok(correct_children(children))
}

/// Append the element(s) for `key: value` of an object at `place`.
fn push_field(
    out: &mut Vec<Node>,
    key: &str,
    value: &Value,
    place: Place,
    context: &Context,
    depth: usize,
) -> Result<(), Failure> {
    if depth > DEPTH_MAX {
        return Err((key.to_owned(), Problem::TooDeep));
    }
    let name = context.expand_key(key);
    let child_place = child_place(place, key);
    match value {
        Value::Array(items) => {
            for item in items {
                let (value, children) = convert(item, child_place, place, key, context, depth + 1)
                    .map_err(|failure| under(key, failure))?;
                out.push(Node {
                    name: name.clone(),
                    value,
                    children,
                });
            }
        }
        _ => {
            let (value, children) = convert(value, child_place, place, key, context, depth + 1)
                .map_err(|failure| under(key, failure))?;
            out.push(Node {
                name,
                value,
                children,
            });
        }
    }
    Ok(())
}

/// Text value and children of one JSON value found under `key` of an object at `parent`.
fn convert(
    value: &Value,
    place: Place,
    parent: Place,
    key: &str,
    context: &Context,
    depth: usize,
) -> Result<(String, Vec<Node>), Failure> {
    if depth > DEPTH_MAX {
        return Err((String::new(), Problem::TooDeep));
    }
    Ok(match value {
        Value::Object(map) => {
            let mut children = Vec::with_capacity(map.len());
            let mut text = String::new();
            for (k, v) in map {
                if k == "#text" {
                    text = scalar_text(v);
                    continue;
                }
                if is_dropped_key(k) {
                    continue;
                }
                push_field(&mut children, k, v, place, context, depth + 1)?;
            }
            (text, children)
        }
        Value::Array(items) => {
            // A list directly inside a list: unnamed elements, as the reference does.
            let mut children = Vec::with_capacity(items.len());
            for item in items {
                let (value, grand) = convert(item, place, parent, key, context, depth + 1)?;
                children.push(Node {
                    name: String::new(),
                    value,
                    children: grand,
                });
            }
            (String::new(), children)
        }
        Value::String(s) => (string_value(s, parent, key, context), Vec::new()),
        other => (scalar_text(other), Vec::new()),
    })
}

/// Python `str()` of a JSON scalar, which is what the reference hashes.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// A string value: bare CBV words in CBV-typed fields become Web URIs (what JSON-LD
/// expansion with the EPCIS context yields); otherwise CURIEs with a declared prefix
/// become full IRIs.
fn string_value(s: &str, parent: Place, key: &str, context: &Context) -> String {
    if let Some(iri) = vocabulary(parent, key).and_then(|v| v.expand(s)) {
        return iri;
    }
    context.expand_value(s)
}

/// The bare-word vocabulary of field `key` in an object at `place`, if it has one.
fn vocabulary(place: Place, key: &str) -> Option<&'static Vocabulary> {
    Some(match (place, key) {
        (Place::Event, "bizStep") => &vocab::BIZ_STEP,
        (Place::Event, "disposition") | (Place::PersistentDisposition, "set" | "unset") => {
            &vocab::DISPOSITION
        }
        (Place::BizTransaction, "type") => &vocab::BIZ_TRANSACTION_TYPE,
        (Place::SourceOrDestination, "type") => &vocab::SOURCE_DESTINATION_TYPE,
        (Place::ErrorDeclaration, "reason") => &vocab::ERROR_REASON,
        (Place::SensorReport, "type") => &vocab::SENSOR_TYPE,
        (Place::SensorReport, "exception") => &vocab::SENSOR_EXCEPTION,
        (Place::SensorReport, "component") => &vocab::SENSOR_COMPONENT,
        _ => return None,
    })
}

fn child_place(parent: Place, key: &str) -> Place {
    match (parent, key) {
        (Place::Event, "persistentDisposition") => Place::PersistentDisposition,
        (Place::Event, "bizTransactionList") => Place::BizTransaction,
        (Place::Event, "sourceList" | "destinationList") => Place::SourceOrDestination,
        (Place::Event, "errorDeclaration") => Place::ErrorDeclaration,
        (Place::Event, "sensorElementList") => Place::SensorElement,
        (Place::SensorElement, "sensorReport") => Place::SensorReport,
        _ => Place::Other,
    }
}

/// Lists whose items are (type, value) pairs kept in that order, never sorted.
fn is_typed_pair_list(name: &str) -> bool {
    matches!(
        name,
        "sourceList" | "destinationList" | "bizTransactionList"
    )
}

/// Reshape one level to the XML model, then recurse (the reference's
/// `deep_structure_correction`).
fn correct_children(children: Vec<Node>) -> Vec<Node> {
    let mut kept = Vec::with_capacity(children.len());
    let mut lists: Vec<(String, Vec<Node>)> = Vec::new();
    let mut child_epcs = Vec::new();
    for child in children {
        if child.name.ends_with("List") {
            // The item takes the list's name without `List`; the node moves, it is not
            // copied (an `epcList` item per identifier: thousands in a packing document).
            let mut item = child;
            let item_len = item.name.len() - "List".len();
            match lists.iter_mut().find(|(n, _)| *n == item.name) {
                Some((_, items)) => {
                    item.name.truncate(item_len);
                    items.push(item);
                }
                None => {
                    let list_name = item.name.clone();
                    item.name.truncate(item_len);
                    lists.push((list_name, vec![item]));
                }
            }
        } else if child.name == "childEPCs" {
            child_epcs.push(Node {
                name: "epc".to_owned(),
                value: child.value,
                children: Vec::new(),
            });
        } else {
            kept.push(child);
        }
    }
    for (name, items) in lists {
        if is_typed_pair_list(&name) {
            let pairs = items
                .into_iter()
                .map(|item| typed_pair(item.children))
                .collect();
            kept.push(Node {
                name,
                value: String::new(),
                children: pairs,
            });
        } else {
            kept.push(Node {
                name,
                value: String::new(),
                children: items,
            });
        }
    }
    if !child_epcs.is_empty() {
        kept.push(Node {
            name: "childEPCs".to_owned(),
            value: String::new(),
            children: child_epcs,
        });
    }
    kept.into_iter()
        .map(|node| {
            if is_typed_pair_list(&node.name) {
                return node;
            }
            let children = correct_children(node.children);
            rename(Node { children, ..node })
        })
        .collect()
}

/// A source/destination/bizTransaction item as an unnamed group: `type` first, then the
/// rest in key order. The reference takes the first two keys in document order.
fn typed_pair(mut fields: Vec<Node>) -> Node {
    fields.sort_by_key(|f| f.name != "type");
    Node {
        name: String::new(),
        value: String::new(),
        children: fields,
    }
}

/// Element names that differ between the JSON and XML bindings.
fn rename(node: Node) -> Node {
    let name = match node.name.as_str() {
        "inputEPC" | "outputEPC" => "epc",
        "inputQuantity" | "outputQuantity" | "childQuantity" => "quantityElement",
        "quantity" if !node.children.is_empty() => "quantityElement",
        _ => return node,
    };
    Node {
        name: name.to_owned(),
        ..node
    }
}

/// Prefix a failure's field path with the enclosing key.
fn under(key: &str, (path, problem): Failure) -> Failure {
    if path.is_empty() {
        (key.to_owned(), problem)
    } else {
        (format!("{key}.{path}"), problem)
    }
}
