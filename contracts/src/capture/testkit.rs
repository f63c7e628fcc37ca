//! Shared pieces of the capture tests: identifiers, a registry, document builders.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::*;
use crate::gs1::parse_code;
use crate::provenance::{Child, ContainerId};

pub(super) const B1: &str = "urn:epc:id:sgtin:9521234.054321.K7Q2M9X4T1";
pub(super) const B1_DL: &str = "https://id.gs1.org/01/09521234543213/21/K7Q2M9X4T1";
pub(super) const B2_DL: &str = "https://example.com/01/9521234543213/21/B2?tag=ab12";
pub(super) const CASE: &str = "urn:epc:id:sgtin:9521234.154321.C1";
pub(super) const PALLET: &str = "urn:epc:id:sscc:9521234.0000000001";
pub(super) const PALLET_DL: &str = "https://id.gs1.org/00/095212340000000013";
pub(super) const PRODUCER: &str = "urn:epc:id:pgln:9521234.00005";
pub(super) const DISTRIBUTOR: &str = "https://id.gs1.org/417/9521234000068";
pub(super) const STORE: &str = "urn:epc:id:pgln:9521234.00007";
pub(super) const STORE_SITE: &str = "urn:epc:id:sgln:9521234.00008.0";
pub(super) const STRANGER: &str = "urn:epc:id:pgln:9521234.00009";

/// A registry for tests: party ids to orgs, and the case SGTINs the ledger would know.
pub(super) struct TestDirectory {
    parties: BTreeMap<String, String>,
    pub cases: BTreeSet<Sgtin>,
    /// What the ledger would say each container holds.
    pub contents: BTreeMap<ContainerId, Vec<Child>>,
}

impl TestDirectory {
    pub fn new(parties: &[(&str, &str)]) -> Self {
        Self {
            parties: parties
                .iter()
                .map(|(id, org)| (jiu_epcis::canonical_uri(id), (*org).to_owned()))
                .collect(),
            cases: BTreeSet::new(),
            contents: BTreeMap::new(),
        }
    }
}

impl Directory for TestDirectory {
    fn org_of_party(&self, id: &str) -> Option<String> {
        self.parties.org_of_party(id)
    }

    fn is_case(&self, item: &Sgtin) -> bool {
        self.cases.contains(item)
    }

    fn contents(&self, container: &ContainerId) -> Option<Vec<Child>> {
        self.contents.get(container).cloned()
    }
}

/// Three orgs, the store also by its site's GLN.
pub(super) fn directory() -> TestDirectory {
    TestDirectory::new(&[
        (PRODUCER, "producer"),
        (DISTRIBUTOR, "distributor"),
        (STORE, "store"),
        (STORE_SITE, "store"),
    ])
}

pub(super) fn item(uri: &str) -> Sgtin {
    parse_code(uri)
        .ok()
        .and_then(|c| c.as_item().cloned())
        .expect("test SGTIN")
}

pub(super) fn pallet() -> ContainerId {
    match parse_code(PALLET) {
        Ok(Code::Logistic(sscc)) => ContainerId::Sscc(sscc),
        other => panic!("test SSCC: {other:?}"),
    }
}

pub(super) fn bottle(uri: &str) -> Child {
    Child::Bottle(item(uri))
}

/// A document around `events`, declaring the `jiu` namespace.
pub(super) fn document(events: Vec<Value>) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     {"jiu": jiu_epcis::JIU_NAMESPACE}],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-10T08:00:00Z",
        "epcisBody": {"eventList": events}
    })
}

/// An event: `fields` plus a time, unless `fields` sets its own.
pub(super) fn ev(fields: Value) -> Value {
    let mut event = json!({
        "eventTime": "2025-01-10T08:00:00+08:00", "eventTimeZoneOffset": "+08:00"
    });
    if let (Some(out), Value::Object(fields)) = (event.as_object_mut(), fields) {
        out.extend(fields);
    }
    event
}

pub(super) fn ship_to(kind: &str, destination: &str) -> Value {
    ev(json!({
        "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
        "epcList": [PALLET],
        "destinationList": [{"type": kind, "destination": destination}]
    }))
}

/// Maps a one-event document.
pub(super) fn map_one(event: Value) -> Result<Option<Op>, CaptureError> {
    map_document(&document(vec![event]), &directory()).map(|mut events| {
        assert_eq!(events.len(), 1);
        events.remove(0).op
    })
}
