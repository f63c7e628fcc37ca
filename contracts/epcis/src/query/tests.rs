use serde_json::{json, Value};

use super::*;

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn query(pairs: &[(&str, &str)]) -> Query {
    Query::from_params(&params(pairs)).expect("valid query")
}

fn refusal(pairs: &[(&str, &str)]) -> QueryError {
    Query::from_params(&params(pairs)).expect_err("invalid query")
}

fn shipping() -> Value {
    json!({
        "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
        "disposition": "in_transit",
        "eventTime": "2025-01-12T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "recordTime": "2025-01-12T01:00:05Z",
        "eventID": "ni:///sha-256;aa?ver=CBV2.0",
        "epcList": ["urn:epc:id:sgtin:9521234.054321.K7Q2M9X4T1", "urn:epc:id:sscc:9521234.0000000001"],
        "readPoint": {"id": "urn:epc:id:sgln:9521234.00005.0"},
        "bizLocation": {"id": "https://id.gs1.org/414/9521234000051"}
    })
}

fn packing() -> Value {
    json!({
        "type": "AggregationEvent", "action": "ADD",
        "bizStep": "urn:epcglobal:cbv:bizstep:packing",
        "eventTime": "2025-01-10T08:05:00+08:00", "eventTimeZoneOffset": "+08:00",
        "parentID": "https://id.gs1.org/00/095212340000000013",
        "childEPCs": ["https://id.gs1.org/01/09521234543213/21/K7Q2M9X4T1"]
    })
}

fn transformation() -> Value {
    json!({
        "type": "TransformationEvent",
        "eventTime": "2025-01-09T08:00:00Z", "eventTimeZoneOffset": "+00:00",
        "inputEPCList": ["urn:epc:id:sgtin:9521234.054321.IN1"],
        "outputEPCList": ["urn:epc:id:sgtin:9521234.054321.OUT1"]
    })
}

/// Query parameters, and whether the query matches the shipping, the packing and the
/// transformation.
type FilterCase<'a> = (&'a [(&'a str, &'a str)], bool, bool, bool);

#[test]
fn test_filters_step_table() {
    let table: &[FilterCase<'_>] = &[
        (&[], true, true, true),
        (&[("eventType", "ObjectEvent")], true, false, false),
        (
            &[("eventType", "AggregationEvent|TransformationEvent")],
            false,
            true,
            true,
        ),
        (&[("EQ_action", "OBSERVE")], true, false, false),
        (&[("EQ_action", "ADD|DELETE")], false, true, false),
        (&[("EQ_bizStep", "shipping")], true, false, false),
        (
            &[("EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-packing")],
            false,
            true,
            false,
        ),
        (&[("EQ_bizStep", "packing|shipping")], true, true, false),
        (&[("EQ_disposition", "in_transit")], true, false, false),
        (
            &[("EQ_readPoint", "https://id.gs1.org/414/9521234000051")],
            true,
            false,
            false,
        ),
        (
            &[("EQ_bizLocation", "urn:epc:id:sgln:9521234.00005.0")],
            true,
            false,
            false,
        ),
        (
            &[("EQ_eventID", "ni:///sha-256;aa?ver=CBV2.0")],
            true,
            false,
            false,
        ),
        // Both spellings of the bottle find the shipping (epcList) and the packing (childEPCs).
        (
            &[(
                "MATCH_epc",
                "https://id.gs1.org/01/09521234543213/21/K7Q2M9X4T1",
            )],
            true,
            true,
            false,
        ),
        (
            &[("MATCH_epc", "urn:epc:id:sgtin:9521234.054321.K7Q2M9X4T1")],
            true,
            true,
            false,
        ),
        (
            &[("MATCH_epc", "urn:epc:idpat:sgtin:9521234.054321.*")],
            true,
            true,
            false,
        ),
        (
            &[("MATCH_epc", "urn:epc:idpat:sgtin:9521234.054322.*")],
            false,
            false,
            false,
        ),
        // The parent is not in epcList/childEPCs, so MATCH_epc misses it; MATCH_parentID finds it.
        (
            &[("MATCH_epc", "urn:epc:id:sscc:9521234.0000000001")],
            true,
            false,
            false,
        ),
        (
            &[("MATCH_parentID", "urn:epc:id:sscc:9521234.0000000001")],
            false,
            true,
            false,
        ),
        (
            &[("MATCH_anyEPC", "urn:epc:id:sscc:9521234.0000000001")],
            true,
            true,
            false,
        ),
        (
            &[("MATCH_inputEPC", "urn:epc:id:sgtin:9521234.054321.IN1")],
            false,
            false,
            true,
        ),
        (
            &[("MATCH_outputEPC", "urn:epc:id:sgtin:9521234.054321.IN1")],
            false,
            false,
            false,
        ),
        (
            &[(
                "MATCH_anyEPC",
                "https://id.gs1.org/01/09521234543213/21/OUT1",
            )],
            false,
            false,
            true,
        ),
        (
            &[("GE_eventTime", "2025-01-12T01:00:00Z")],
            true,
            false,
            false,
        ),
        // 2025-01-10T08:05+08:00 is 00:05Z: LT is strict.
        (
            &[("LT_eventTime", "2025-01-10T00:05:00Z")],
            false,
            false,
            true,
        ),
        (
            &[("LT_eventTime", "2025-01-10T00:05:00.001Z")],
            false,
            true,
            true,
        ),
        // Only the shipping has a recordTime; a time filter needs the field.
        (
            &[("GE_recordTime", "2025-01-01T00:00:00Z")],
            true,
            false,
            false,
        ),
        (
            &[("EQ_bizStep", "shipping"), ("EQ_action", "ADD")],
            false,
            false,
            false,
        ),
    ];
    let events = [shipping(), packing(), transformation()];
    for (pairs, want_s, want_p, want_t) in table {
        let q = query(pairs);
        let got: Vec<bool> = events.iter().map(|e| q.matches(e)).collect();
        assert_eq!(got, vec![*want_s, *want_p, *want_t], "query {pairs:?}");
    }
}

#[test]
fn test_refusals_name_the_parameter() {
    let table: &[(&[(&str, &str)], QueryError)] = &[
        (
            &[("EQ_colour", "red")],
            QueryError::UnsupportedParameter("EQ_colour".into()),
        ),
        (
            &[("WD_readPoint", "urn:epc:id:sgln:9521234.00005.0")],
            QueryError::UnsupportedParameter("WD_readPoint".into()),
        ),
        (
            &[("maxEventCount", "5")],
            QueryError::UnsupportedParameter("maxEventCount".into()),
        ),
        (
            &[("colour", "red")],
            QueryError::UnknownParameter("colour".into()),
        ),
        (
            &[("EQ_bizStep", "shipping"), ("EQ_bizStep", "receiving")],
            QueryError::RepeatedParameter("EQ_bizStep".into()),
        ),
    ];
    for (pairs, want) in table {
        assert_eq!(&refusal(pairs), want, "{pairs:?}");
    }
    let bad_value = [
        ("GE_eventTime", "2025-01-12"),
        ("LT_recordTime", "2025-01-12T00:00:00"),
        ("EQ_action", "MOVE"),
        ("EQ_action", "OBSERVE|"),
        ("EQ_bizStep", "Shipping"),
        ("EQ_disposition", "in transit"),
        ("MATCH_epc", "urn:epc:idpat:sgtin:9521234.*.*"),
        ("MATCH_anyEPC", "urn:epc:idpat:sscc:9521234.*"),
        ("orderBy", "bizStep"),
        ("orderDirection", "UP"),
        ("perPage", "0"),
        ("perPage", "-1"),
        ("perPage", "ten"),
        ("eventType", ""),
    ];
    for (name, value) in bad_value {
        match refusal(&[(name, value)]) {
            QueryError::BadValue { name: got, .. } => assert_eq!(got, name, "{value:?}"),
            other => panic!("{name}={value:?}: {other:?}"),
        }
    }
    let err = refusal(&[("GE_eventTime", "yesterday")]);
    assert_eq!(err.exception(), "epcisException:QueryParameterException");
    assert_eq!(err.problem()["status"], 400);
    assert!(err.problem()["detail"]
        .as_str()
        .is_some_and(|d| d.contains("GE_eventTime") && d.contains("yesterday")));
}

#[test]
fn test_per_page_default_and_cap() {
    assert_eq!(query(&[]).per_page(), PER_PAGE_DEFAULT);
    assert_eq!(query(&[("perPage", "5")]).per_page(), 5);
    assert_eq!(query(&[("perPage", "1000")]).per_page(), PER_PAGE_MAX);
    assert_eq!(query(&[("perPage", "1001")]).per_page(), PER_PAGE_MAX);
    assert_eq!(
        query(&[("perPage", "99999999999999999999999")]).per_page(),
        PER_PAGE_MAX
    );
}

fn numbered(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut e = shipping();
            // Times go down as i goes up, except i = 3 which has none.
            e["eventTime"] = json!(format!("2025-01-{:02}T00:00:00Z", 28 - i));
            if let (3, Some(fields)) = (i, e.as_object_mut()) {
                fields.remove("eventTime");
            }
            e["eventID"] = json!(format!("e{i}"));
            e
        })
        .collect()
}

fn ids(page: &Page<'_>) -> Vec<String> {
    page.events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn test_paging_walks_every_event_once() {
    let events = numbered(7);
    let mut pairs = vec![("perPage".to_owned(), "3".to_owned())];
    let mut seen = Vec::new();
    for _ in 0..5 {
        let q = Query::from_params(&pairs).expect("valid");
        let page = q.select(&events);
        seen.extend(ids(&page));
        match page.next_page_token {
            Some(token) => {
                pairs.retain(|(k, _)| k != "nextPageToken");
                pairs.push(("nextPageToken".to_owned(), token));
            }
            None => break,
        }
    }
    let want: Vec<String> = (0..7).map(|i| format!("e{i}")).collect();
    assert_eq!(seen, want, "capture order without orderBy");
}

#[test]
fn test_order_by_event_time_puts_missing_times_last() {
    let events = numbered(5);
    let asc = query(&[("orderBy", "eventTime"), ("orderDirection", "ASC")]);
    assert_eq!(ids(&asc.select(&events)), ["e4", "e2", "e1", "e0", "e3"]);
    let desc = query(&[("orderBy", "eventTime")]);
    assert_eq!(ids(&desc.select(&events)), ["e0", "e1", "e2", "e4", "e3"]);
}

#[test]
fn test_page_token_is_bound_to_the_query() {
    let events = numbered(4);
    let q = query(&[("EQ_bizStep", "shipping"), ("perPage", "2")]);
    let token = q.select(&events).next_page_token.expect("a second page");
    // Same filters, another page size: accepted.
    let next = query(&[
        ("perPage", "1"),
        ("EQ_bizStep", "shipping"),
        ("nextPageToken", &token),
    ]);
    assert_eq!(ids(&next.select(&events)), ["e2"]);
    // Other filters: refused.
    assert_eq!(
        refusal(&[("EQ_bizStep", "receiving"), ("nextPageToken", &token)]),
        QueryError::BadPageToken
    );
    for forged in [
        "",
        "2",
        ".",
        "x.y",
        "-1.abc",
        "99999999999999999.0000000000000000",
    ] {
        assert_eq!(
            refusal(&[("nextPageToken", forged)]),
            QueryError::BadPageToken,
            "{forged:?}"
        );
    }
    // A token past the end gives an empty last page.
    let far = token.replacen('2', "9", 1);
    let q = query(&[("EQ_bizStep", "shipping"), ("nextPageToken", &far)]);
    let page = q.select(&events);
    assert!(page.events.is_empty() && page.next_page_token.is_none());
}

#[test]
fn test_query_document_shape() {
    let events = [shipping(), packing()];
    let doc = query_document(&events, Some("2.abc"));
    assert_eq!(doc["type"], "EPCISQueryDocument");
    assert_eq!(doc["schemaVersion"], "2.0");
    let results = &doc["epcisBody"]["queryResults"];
    assert_eq!(results["queryName"], QUERY_NAME);
    assert_eq!(results["resultsBody"]["eventList"][1], packing());
    assert_eq!(results["jiu:nextPageToken"], "2.abc");
    assert_eq!(doc["@context"][1]["jiu"], JIU_NAMESPACE);
    let last = query_document(&events, None);
    assert!(last["epcisBody"]["queryResults"]
        .get("jiu:nextPageToken")
        .is_none());
}

#[test]
fn test_malformed_events_never_match_a_filter_on_the_bad_field() {
    let q = query(&[("MATCH_anyEPC", "urn:epc:id:sscc:9521234.0000000001")]);
    for event in [
        json!(null),
        json!([1]),
        json!({"parentID": 5}),
        json!({"epcList": "urn:epc:id:sscc:9521234.0000000001"}),
        json!({"epcList": [null, 3]}),
    ] {
        assert!(!q.matches(&event), "{event}");
    }
    assert!(query(&[]).matches(&json!({})));
    assert!(!query(&[("GE_eventTime", "2025-01-01T00:00:00Z")]).matches(&json!({"eventTime": 5})));
}

/// Class-level events: a lot recalled (quantityList), a case of any lot packed
/// (childQuantityList of the GTIN class), a lot blended into another (input and output).
fn class_events() -> [Value; 3] {
    let at = |mut e: Value| {
        e["eventTime"] = json!("2025-01-10T08:00:00Z");
        e["eventTimeZoneOffset"] = json!("+00:00");
        e
    };
    [
        at(json!({
            "type": "ObjectEvent", "action": "OBSERVE", "disposition": "recalled",
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L1"}]
        })),
        at(json!({
            "type": "AggregationEvent", "action": "ADD",
            "parentID": "https://id.gs1.org/00/095212340000000013",
            "childQuantityList": [{"epcClass": "https://id.gs1.org/01/09521234543213",
                                   "quantity": 6}]
        })),
        at(json!({
            "type": "TransformationEvent",
            "inputQuantityList": [{"epcClass": "https://example.com/01/09521234543213/10/L2",
                                   "quantity": 100, "uom": "LTR"}],
            "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L3"}]
        })),
    ]
}

#[test]
fn test_class_filters_step_table() {
    let table: &[FilterCase<'_>] = &[
        // Either spelling of lot L1.
        (
            &[("MATCH_epcClass", "urn:epc:class:lgtin:9521234.054321.L1")],
            true,
            false,
            false,
        ),
        (
            &[(
                "MATCH_epcClass",
                "https://id.gs1.org/01/09521234543213/10/L1",
            )],
            true,
            false,
            false,
        ),
        // The GTIN's class itself is a class of its own, not every lot.
        (
            &[("MATCH_epcClass", "https://id.gs1.org/01/09521234543213")],
            false,
            true,
            false,
        ),
        // A pattern over the GTIN: its class and each of its lots.
        (
            &[("MATCH_anyEPCClass", "urn:epc:idpat:sgtin:9521234.054321.*")],
            true,
            true,
            true,
        ),
        (
            &[("MATCH_anyEPCClass", "urn:epc:idpat:sgtin:9521234.054322.*")],
            false,
            false,
            false,
        ),
        (
            &[(
                "MATCH_inputEPCClass",
                "urn:epc:class:lgtin:9521234.054321.L2",
            )],
            false,
            false,
            true,
        ),
        (
            &[(
                "MATCH_outputEPCClass",
                "urn:epc:class:lgtin:9521234.054321.L2",
            )],
            false,
            false,
            false,
        ),
        (
            &[("MATCH_anyEPCClass", "urn:epc:class:lgtin:9521234.054321.L3")],
            false,
            false,
            true,
        ),
        // Instance filters do not look at classes, nor class filters at instances.
        (
            &[("MATCH_anyEPC", "urn:epc:class:lgtin:9521234.054321.L1")],
            false,
            false,
            false,
        ),
    ];
    let events = class_events();
    for (pairs, want_r, want_p, want_t) in table {
        let q = query(pairs);
        let got: Vec<bool> = events.iter().map(|e| q.matches(e)).collect();
        assert_eq!(got, [*want_r, *want_p, *want_t], "{pairs:?}");
    }
    // The instance events have no class: a class filter excludes them.
    let q = query(&[("MATCH_anyEPCClass", "urn:epc:idpat:sgtin:9521234.054321.*")]);
    assert!(!q.matches(&shipping()) && !q.matches(&packing()));
    assert!(matches!(
        refusal(&[("MATCH_epcClass", "urn:epc:idpat:sscc:9521234.*")]),
        QueryError::BadValue { .. }
    ));
}
