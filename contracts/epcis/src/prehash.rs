//! The pre-hash string: canonical property order first, then everything else.
//!
//! 1. Fields named in [`EVENT_ORDER`] are emitted in that order as `name=value`, each
//!    structure followed by its own children in their sub-order. Repeated elements
//!    (several `epc`, several `sensorReport`) are sorted by their emitted text.
//!    User extensions (`{namespace/}local`) inside a structure follow its standard fields.
//! 2. An element is consumed once it and all its descendants were emitted. What is left
//!    (top-level user extensions, source/destination/bizTransaction lists, non-standard
//!    fields) is emitted generically: `name=value` plus children, sorted by text, except
//!    that a (type, value) pair keeps its order.
//!
//! `recordTime`, `eventID`, `type` and `errorDeclaration` never enter the hash.

use std::borrow::Cow;

use crate::canon;
use crate::tree::Node;
use crate::Problem;

/// One entry of a property order: an element name and the order of its children
/// (empty: the element is a leaf for ordering purposes).
pub(crate) struct Prop {
    name: &'static str,
    sub: &'static [Prop],
}

const fn leaf(name: &'static str) -> Prop {
    Prop { name, sub: &[] }
}

const EPC: &[Prop] = &[leaf("epc")];
const QUANTITY: &[Prop] = &[Prop {
    name: "quantityElement",
    sub: &[leaf("epcClass"), leaf("quantity"), leaf("uom")],
}];
const SENSOR_METADATA: &[Prop] = &[
    leaf("time"),
    leaf("startTime"),
    leaf("endTime"),
    leaf("deviceID"),
    leaf("deviceMetadata"),
    leaf("rawData"),
    leaf("dataProcessingMethod"),
    leaf("bizRules"),
];
const SENSOR_REPORT: &[Prop] = &[
    leaf("type"),
    leaf("exception"),
    leaf("deviceID"),
    leaf("deviceMetadata"),
    leaf("rawData"),
    leaf("dataProcessingMethod"),
    leaf("time"),
    leaf("microorganism"),
    leaf("chemicalSubstance"),
    leaf("value"),
    leaf("component"),
    leaf("stringValue"),
    leaf("booleanValue"),
    leaf("hexBinaryValue"),
    leaf("uriValue"),
    leaf("minValue"),
    leaf("maxValue"),
    leaf("meanValue"),
    leaf("sDev"),
    leaf("percRank"),
    leaf("percValue"),
    leaf("uom"),
    leaf("coordinateReferenceSystem"),
];
const SENSOR_ELEMENT: &[Prop] = &[Prop {
    name: "sensorElement",
    sub: &[
        Prop {
            name: "sensorMetadata",
            sub: SENSOR_METADATA,
        },
        Prop {
            name: "sensorReport",
            sub: SENSOR_REPORT,
        },
    ],
}];

/// The CBV 2.0 canonical property order of an event. Source, destination and
/// bizTransaction lists are absent on purpose: the reference lists them but never
/// matches them, so they always land in the generic part; we keep that behaviour.
pub(crate) const EVENT_ORDER: &[Prop] = &[
    leaf("eventTime"),
    leaf("eventTimeZoneOffset"),
    leaf("certificationInfo"),
    leaf("parentID"),
    Prop {
        name: "epcList",
        sub: EPC,
    },
    Prop {
        name: "inputEPCList",
        sub: EPC,
    },
    Prop {
        name: "childEPCs",
        sub: EPC,
    },
    Prop {
        name: "quantityList",
        sub: QUANTITY,
    },
    Prop {
        name: "childQuantityList",
        sub: QUANTITY,
    },
    Prop {
        name: "inputQuantityList",
        sub: QUANTITY,
    },
    Prop {
        name: "outputEPCList",
        sub: EPC,
    },
    Prop {
        name: "outputQuantityList",
        sub: QUANTITY,
    },
    leaf("action"),
    leaf("transformationID"),
    leaf("bizStep"),
    leaf("disposition"),
    Prop {
        name: "persistentDisposition",
        sub: &[leaf("set"), leaf("unset")],
    },
    Prop {
        name: "readPoint",
        sub: &[leaf("id")],
    },
    Prop {
        name: "bizLocation",
        sub: &[leaf("id")],
    },
    Prop {
        name: "sensorElementList",
        sub: SENSOR_ELEMENT,
    },
];

/// Top-level fields excluded from the hash.
const EXCLUDED: [&str; 4] = ["recordTime", "eventID", "type", "errorDeclaration"];

/// Names whose presence keeps a generic list in its given order.
const UNSORTED_MARKERS: [&str; 3] = ["bizTransaction", "source", "destination"];

/// Pre-hash string of an event of type `event_type` with (reshaped) children.
pub(crate) fn event(
    event_type: &str,
    mut children: Vec<Node>,
) -> Result<String, (String, Problem)> {
    let mut out = format!("eventType={event_type}");
    out.push_str(&ordered(&mut children, EVENT_ORDER)?);
    let rest: Vec<Node> = children
        .into_iter()
        .filter(|c| !EXCLUDED.contains(&c.name.as_str()))
        .collect();
    out.push_str(&generic(&rest));
    Ok(out)
}

/// Emit `children` named in `order`, consuming fully emitted ones.
fn ordered(children: &mut Vec<Node>, order: &[Prop]) -> Result<String, (String, Problem)> {
    let extensions = take_user_extensions(children);
    let mut out = String::new();
    let mut texts = Vec::new();
    for prop in order {
        if !children.iter().any(|c| c.name == prop.name) {
            continue;
        }
        for child in children.iter_mut().filter(|c| c.name == prop.name) {
            let text = element(child, prop.sub)?;
            if !text.is_empty() {
                texts.push(text);
            }
        }
        children.retain(|c| c.name != prop.name || !c.children.is_empty());
        texts.sort_unstable();
        for text in texts.drain(..) {
            out.push_str(&text);
        }
    }
    out.push_str(&generic(&extensions));
    Ok(out)
}

/// One ordered element: `name=value` then its children in `sub` order.
fn element(node: &mut Node, sub: &[Prop]) -> Result<String, (String, Problem)> {
    let grand = if sub.is_empty() {
        String::new()
    } else {
        ordered(&mut node.children, sub)
            .map_err(|(path, p)| (format!("{}.{path}", node.name), p))?
    };
    let raw = canon::trim(&node.value);
    let value: Option<Cow<'_, str>> = if raw.is_empty() {
        None
    } else if is_time(&node.name) {
        let utc =
            canon::timestamp(raw).ok_or_else(|| (node.name.clone(), Problem::BadTimestamp))?;
        Some(Cow::Owned(utc))
    } else {
        Some(canon::canonize(raw))
    };
    if value.is_none() && grand.is_empty() {
        return Ok(String::new());
    }
    // `name=value` then the children (no `=` without a value): one allocation per element.
    let value_len = value.as_ref().map_or(0, |v| v.len() + 1);
    let mut text = String::with_capacity(node.name.len() + value_len + grand.len());
    text.push_str(&node.name);
    if let Some(value) = value {
        text.push('=');
        text.push_str(&value);
    }
    text.push_str(&grand);
    Ok(text)
}

fn is_time(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.contains("time") && !lower.contains("offset")
}

/// Inside a structure (not at event level), remove and return the user extensions
/// (`{namespace/}local` names) so they follow the structure's standard fields.
fn take_user_extensions(children: &mut Vec<Node>) -> Vec<Node> {
    if children.len() <= 1
        || children
            .iter()
            .any(|c| c.name.contains("eventTime") || c.name.contains("action"))
    {
        return Vec::new();
    }
    let is_extension = |c: &Node| c.name.contains('{') && c.name.contains("/}");
    let extensions = children
        .iter()
        .filter(|c| is_extension(c))
        .cloned()
        .collect();
    children.retain(|c| !is_extension(c));
    extensions
}

/// Generic emission: each element as `name=value` plus its children, sorted by text
/// unless the list holds a (type, value) pair.
fn generic(children: &[Node]) -> String {
    let mut texts: Vec<String> = children
        .iter()
        .map(|c| {
            let raw = canon::trim(&c.value);
            let text = if raw.is_empty() {
                String::new()
            } else {
                format!("={}", canon::canonize(raw))
            };
            format!("{}{text}{}", c.name, generic(&c.children))
        })
        .collect();
    if texts.len() > 1
        && !children
            .iter()
            .any(|c| UNSORTED_MARKERS.contains(&c.name.as_str()))
    {
        texts.sort();
    }
    texts.concat()
}
