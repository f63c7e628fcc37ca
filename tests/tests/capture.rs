//! EPCIS 2.0 capture and query on a real 4-node network: a liquor document captured through
//! `POST /capture` changes the records and is queryable on every node; every official GS1
//! example document is either captured or refused with a precise code (never a generic 400).

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiu_tests::{serial, Cluster};
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);
const TOKEN: &str = "devnet-partner-token";

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/epcis/gs1")
}

/// Turns on schema validation in every node of `cluster` (before it starts).
fn with_schema(cluster: &Cluster) {
    let schema = testdata().join("schema/EPCIS-JSON-Schema.json");
    let schema = schema
        .canonicalize()
        .expect("shared testdata is beside the repo");
    for home in &cluster.homes {
        let path = home.join("config.toml");
        let mut text = std::fs::read_to_string(&path).expect("config");
        text.push_str(&format!(
            "epcis_schema = {:?}\n",
            schema.display().to_string()
        ));
        std::fs::write(&path, text).expect("config");
    }
}

async fn capture(cluster: &Cluster, node: usize, doc: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/capture", cluster.rpcs[node]))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/ld+json")
        .body(doc.to_string())
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_job(cluster: &Cluster, id: &str) -> Value {
    wait_job_on(cluster, 0, id).await
}

async fn wait_job_on(cluster: &Cluster, node: usize, id: &str) -> Value {
    for _ in 0..600 {
        if let Some(job) = cluster.get(node, &format!("/capture/{id}")).await {
            if job["running"] == false {
                return job;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("capture {id} did not finish");
}

fn liquor_document() -> String {
    let event = |extra: Value| {
        let mut e =
            json!({ "eventTime": "2026-11-26T10:00:00+08:00", "eventTimeZoneOffset": "+08:00" });
        for (k, v) in extra.as_object().expect("object") {
            e[k] = v.clone();
        }
        e
    };
    let bottle = |s: &str| format!("https://id.gs1.org/01/09506000134352/21/{s}");
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-26T10:00:00Z",
        "epcisBody": { "eventList": [
            event(json!({ "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                "disposition": "active", "epcList": [bottle("CAP1"), bottle("CAP2")] })),
            event(json!({ "type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                "parentID": bottle("CAPCASE"), "childEPCs": [bottle("CAP1"), bottle("CAP2")] })),
            event(json!({ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                "disposition": "in_transit", "epcList": [bottle("CAPCASE")],
                "destinationList": [{ "type": "owning_party",
                    "destination": "https://id.gs1.org/417/9506000000039" }] })),
        ]}
    })
    .to_string()
}

/// Every `.jsonld` file under `dir`, sorted.
fn documents(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(documents(&path));
        } else if path.extension().is_some_and(|e| e == "jsonld") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn n4_epcis_capture_and_query() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 32000, 32100);
    with_schema(&cluster);
    cluster.start_all();
    cluster.wait_height(0, 2, MINUTE).await;

    // A liquor document: commission, pack, ship to store-1 (named by its PGLN).
    let (status, answer) = capture(&cluster, 0, &liquor_document()).await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["captureID"].as_str().expect("id").to_string();
    let job = wait_job(&cluster, &id).await;
    assert_eq!(job["success"], true, "{job}");
    let tip = cluster.height(0).await.expect("height");
    // Nodes 2 and 3 are read below: both must have the capture's block.
    cluster.wait_height(2, tip, MINUTE).await;
    cluster.wait_height(3, tip, MINUTE).await;
    let bottle = cluster
        .get(3, "/01/09506000134352/21/CAP1")
        .await
        .expect("verify");
    assert_eq!(bottle["state"], "IN_TRANSIT", "{bottle}");
    // The events are stored on every node, with their CBV hash IDs, and queryable.
    let by_epc = cluster
        .get(3, "/epcs/urn:epc:id:sgtin:9506000.013435.CAP2/events")
        .await
        .expect("query");
    let events = by_epc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .expect("events");
    assert_eq!(
        events.len(),
        2,
        "commissioning and packing name CAP2: {by_epc}"
    );
    assert!(events.iter().all(|e| e["eventID"]
        .as_str()
        .is_some_and(|id| id.starts_with("ni:///sha-256;"))));
    let shipping = cluster
        .get(2, "/events?EQ_bizStep=shipping&eventType=ObjectEvent")
        .await
        .expect("query");
    assert_eq!(
        shipping["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // The same document again is refused by the lifecycle (the bottles are in transit):
    // nothing is applied twice.
    let (status, again) = capture(&cluster, 0, &liquor_document()).await;
    assert_eq!(status, 400, "{again}");
    assert_eq!(again["error"]["code"], "WRONG_STATE", "{again}");
    // Unpack-all (AggregationEvent DELETE without childEPCs) unpacks what the case holds.
    let bottle = |s: &str| format!("https://id.gs1.org/01/09506000134352/21/{s}");
    let at = json!({ "eventTime": "2026-11-26T11:00:00+08:00", "eventTimeZoneOffset": "+08:00" });
    let doc = |events: Vec<Value>| {
        let events: Vec<Value> = events
            .into_iter()
            .map(|mut e| {
                e["eventTime"] = at["eventTime"].clone();
                e["eventTimeZoneOffset"] = at["eventTimeZoneOffset"].clone();
                e
            })
            .collect();
        json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-26T11:00:00Z", "epcisBody": { "eventList": events }
        })
        .to_string()
    };
    let packed = doc(vec![
        json!({ "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
            "epcList": [bottle("CAP3"), bottle("CAP4")] }),
        json!({ "type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
            "parentID": bottle("CAPCASE2"), "childEPCs": [bottle("CAP3"), bottle("CAP4")] }),
    ]);
    let unpack_all = doc(vec![
        json!({ "type": "AggregationEvent", "action": "DELETE",
        "bizStep": "unpacking", "parentID": bottle("CAPCASE2") }),
    ]);
    for text in [&packed, &unpack_all] {
        let (status, answer) = capture(&cluster, 0, text).await;
        assert_eq!(status, 202, "{answer}");
        let job = wait_job(&cluster, answer["captureID"].as_str().expect("id")).await;
        assert_eq!(job["success"], true, "{job}");
    }
    let unpacked = cluster
        .get(0, "/01/09506000134352/21/CAP4")
        .await
        .expect("verify");
    assert!(unpacked["in_container"].is_null(), "{unpacked}");
    let ops: Vec<&str> = unpacked["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|line| line["op"].as_str())
        .collect();
    assert_eq!(ops, ["commission", "pack", "unpack"], "{unpacked}");
    // Again: the case now holds nothing, refused before anything is signed.
    let (status, again) = capture(&cluster, 0, &unpack_all).await;
    assert_eq!(status, 400, "{again}");
    assert_eq!(again["error"]["code"], "CAPTURE_INVALID", "{again}");
    assert_eq!(
        again["error"]["details"][0]["code"], "EVENT_INVALID",
        "{again}"
    );

    // A lot recall in EPCIS: the recalled disposition set on an LGTIN class. Every node's
    // product answer then names the lot as recalled, and the event is queryable. A lot is
    // recalled under a registered product only, by its brand owner (node 0's org).
    let producer_key = cluster.net_dir().join("orgs").join("producer.json");
    let registered = jiu_tests::jiu(&[
        "tx",
        "product",
        "--rpc",
        &cluster.rpcs[0],
        "--key",
        producer_key.to_str().expect("utf-8 path"),
        "--gtin",
        "09506000134352",
        "--name",
        "Reserve Baijiu",
        "--volume-ml",
        "500",
        "--abv",
        "53",
        "--wait",
    ]);
    assert!(registered.contains("final"), "{registered}");
    let recall = doc(vec![json!({ "type": "ObjectEvent", "action": "OBSERVE",
        "disposition": "recalled", "persistentDisposition": { "set": ["recalled"] },
        "quantityList": [{ "epcClass": "urn:epc:class:lgtin:9506000.013435.LCAP" }] })]);
    let (status, answer) = capture(&cluster, 0, &recall).await;
    assert_eq!(status, 202, "{answer}");
    let job = wait_job(&cluster, answer["captureID"].as_str().expect("id")).await;
    assert_eq!(job["success"], true, "{job}");
    let tip = cluster.height(0).await.expect("height");
    cluster.wait_height(3, tip, MINUTE).await;
    let lot = cluster
        .get(3, "/01/09506000134352/10/LCAP")
        .await
        .expect("lot answer");
    assert_eq!(lot["lot"]["recalled"], true, "{lot}");
    let recalled = cluster
        .get(3, "/events?EQ_disposition=recalled")
        .await
        .expect("query");
    assert_eq!(
        recalled["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{recalled}"
    );
    // ... and by its class, in the other spelling (a Digital Link of the lot).
    let by_class = cluster
        .get(
            3,
            "/events?MATCH_epcClass=https%3A%2F%2Fid.gs1.org%2F01%2F09506000134352%2F10%2FLCAP",
        )
        .await
        .expect("query");
    assert_eq!(
        by_class["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{by_class}"
    );
    // The same recall again: the lot is already recalled, refused before anything is signed.
    let (status, again) = capture(&cluster, 0, &recall).await;
    assert_eq!(status, 400, "{again}");
    assert_eq!(again["error"]["code"], "LOT_ALREADY_RECALLED", "{again}");

    // The Digital Link address as a GS1 resolver: the linkset, each link answering what it
    // says, one link by type, the description file, and CORS for browsers elsewhere.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let rpc = cluster.rpcs[0].clone();
    let address = format!("{rpc}/01/09506000134352/21/CAP1");
    let response = client
        .get(format!("{address}?linkType=linkset"))
        .send()
        .await
        .expect("linkset");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/linkset+json"
    );
    let link = response.headers()["link"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        link.contains(&format!("<{address}?linkType=linkset>; rel=\"linkset\"")),
        "{link}"
    );
    let set: Value = response.json().await.expect("JSON");
    let context = &set["linkset"][0];
    assert_eq!(context["anchor"], address.as_str(), "{set}");
    let href = |relation: &str| {
        context[format!("https://ref.gs1.org/voc/{relation}")][0]["href"]
            .as_str()
            .unwrap_or_else(|| panic!("no {relation} link: {set}"))
            .to_owned()
    };
    assert_eq!(href("defaultLink"), address);
    let json_at = |url: String| {
        let client = client.clone();
        async move {
            let response = client.get(&url).send().await.expect("answer");
            assert_eq!(response.status(), 200, "{url}");
            response.json::<Value>().await.expect("JSON")
        }
    };
    let verified = json_at(href("verificationService")).await;
    assert_eq!(verified["state"], "IN_TRANSIT", "{verified}");
    assert!(verified["proof"].is_object(), "{verified}");
    let traced = json_at(href("epcis")).await;
    assert_eq!(
        traced["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{traced}"
    );
    let redirect = client
        .get(format!("{address}?linkType=gs1:epcis&intent=check"))
        .send()
        .await
        .expect("redirect");
    assert_eq!(redirect.status(), 307);
    assert_eq!(
        redirect.headers()["location"],
        format!("{}?intent=check", href("epcis")).as_str()
    );
    let unknown = json_at(format!("{address}?linkType=gs1:recipeInfo")).await;
    assert_eq!(
        unknown["state"], "IN_TRANSIT",
        "an unknown link type gets the default"
    );
    let bad = client
        .get(format!("{rpc}/01/09506000134353/21/CAP1?linkType=linkset"))
        .send()
        .await
        .expect("answer");
    assert_eq!(bad.status(), 400, "a wrong check digit");
    // Segments arrive decoded: a serial holding `/` is the same bottle, written again as
    // the Digital Link writes it; a control character in the GTIN is an invalid code, not
    // a header the server cannot write.
    let slashed = json_at(format!("{rpc}/01/09506000134352/21/X%2F1?linkType=linkset")).await;
    assert_eq!(
        slashed["linkset"][0]["anchor"],
        format!("{rpc}/01/09506000134352/21/X%2F1").as_str(),
        "{slashed}"
    );
    let garbled = json_at(format!("{rpc}/01/%7F9506000134352/21/B1")).await;
    assert_eq!(garbled["verdict"], "INVALID_CODE", "{garbled}");
    let description = json_at(format!("{rpc}/.well-known/gs1resolver")).await;
    assert_eq!(description["resolverRoot"], rpc.as_str(), "{description}");
    assert_eq!(description["supportedPrimaryKeys"], json!(["01"]));
    let preflight = client
        .request(reqwest::Method::OPTIONS, &address)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let cross = client
        .get(&address)
        .header("origin", "https://shop.example")
        .send()
        .await
        .expect("answer");
    assert_eq!(cross.headers()["access-control-allow-origin"], "*");

    // Scan statistics count clients, not requests: one client naming three cities holds
    // one; three clients (loopback addresses of their own) make MULTI_SCAN critical.
    let from = |ip: &str| {
        reqwest::Client::builder()
            .local_address(ip.parse::<std::net::IpAddr>().ok())
            .build()
            .expect("client")
    };
    let check = |client: reqwest::Client, city: &str| {
        let url = format!("{rpc}/01/09506000134352/21/CAP3?city={city}");
        async move {
            let response = client.get(url).send().await.expect("answer");
            response.json::<Value>().await.expect("JSON")
        }
    };
    let one = from("127.0.0.1");
    for city in ["SHA", "PEK", "CTU", "CTU"] {
        let answer = check(one.clone(), city).await;
        assert_eq!(answer["scan_stats"]["cities_30d"], 1, "{answer}");
        assert_eq!(answer["verdict"], "GENUINE_UNSOLD", "{answer}");
    }
    let two = check(from("127.0.0.2"), "SHA").await;
    assert_eq!(two["scan_stats"]["cities_30d"], 2, "{two}");
    let three = check(from("127.0.0.3"), "PEK").await;
    assert_eq!(three["scan_stats"]["cities_30d"], 3, "{three}");
    assert_eq!(three["verdict"], "SUSPECT", "{three}");

    // A HEAD request checks nothing and is not counted.
    let cap2 = format!("{rpc}/01/09506000134352/21/CAP2");
    for _ in 0..2 {
        let head = client.head(&cap2).send().await.expect("HEAD");
        assert_eq!(head.status(), 200);
        assert!(head.headers().contains_key("link"));
    }
    let checked = json_at(cap2).await;
    assert_eq!(checked["scan_stats"]["count"], 1, "{checked}");

    // Bad requests: no token, a bad query parameter.
    let (status, _) = cluster.post(0, "/capture", &json!({})).await;
    assert_eq!(status, 401);
    let bad = cluster
        .get(0, "/events?EQ_color=red")
        .await
        .expect("answer");
    assert_eq!(
        bad["error"]["code"], "epcisException:QueryParameterException",
        "{bad}"
    );

    // Every official GS1 example: captured, or refused with a precise code.
    let precise = [
        "SCHEMA_INVALID",
        "CAPTURE_INVALID",
        "NOT_EPCIS_DOCUMENT",
        "UNSUPPORTED_SCHEMA_VERSION",
        "TOO_MANY_EVENTS",
        "TOO_MANY_CODES",
    ];
    let files = documents(&testdata().join("JSON"));
    assert!(files.len() >= 40, "the GS1 examples are missing");
    let mut captured = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let (status, answer) = capture(&cluster, 0, &text).await;
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        match status {
            202 => {
                let job = wait_job(&cluster, answer["captureID"].as_str().expect("id")).await;
                println!("{name}: captured, success {}", job["success"]);
                captured += 1;
            }
            400 => {
                let code = answer["error"]["code"].as_str().unwrap_or("");
                assert!(
                    precise.contains(&code)
                        || code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                    "{name}: imprecise refusal {answer}"
                );
                assert_ne!(code, "MALFORMED_JSON", "{name}: {answer}");
                if code == "CAPTURE_INVALID" {
                    let details = answer["error"]["details"].as_array().expect("details");
                    assert!(!details.is_empty(), "{name}: {answer}");
                    for d in details {
                        assert!(d["event"].is_u64() && d["code"].is_string(), "{name}: {d}");
                    }
                }
                println!("{name}: refused {code}: {}", answer["error"]["message"]);
            }
            other => panic!("{name}: unexpected status {other}: {answer}"),
        }
    }
    assert!(captured > 0, "no official example was captured");
}

/// A store's follower captures with its org key and hands the signed capture to a
/// validator; the job is followed on the follower until the block reaches it.
#[tokio::test(flavor = "multi_thread")]
async fn follower_hands_captures_to_a_validator() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 32600, 32700);
    let (follower, peer) = cluster.add_outsider("store-node", 32650, 32750);
    for validator in 0..4 {
        cluster.set_list(validator, "peers", &[&peer]);
    }
    let key = cluster.net_dir().join("orgs/producer.json");
    cluster.set_config(
        follower,
        "capture_key",
        &format!("{:?}", key.display().to_string()),
    );
    cluster.set_list(follower, "rpc_partner_tokens", &[TOKEN]);
    cluster.set_list(follower, "submit_to", &[&cluster.rpcs[2].clone()]);
    cluster.start_all();
    cluster.wait_height(follower, 2, MINUTE).await;

    let (status, answer) = capture(&cluster, follower, &liquor_document()).await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["captureID"].as_str().expect("id").to_string();
    let job = wait_job_on(&cluster, follower, &id).await;
    assert_eq!(job["success"], true, "{job}");
    // Finalized by the validators, at the height the follower reports.
    let tx = cluster.get(2, &format!("/tx/{id}")).await.expect("tx");
    assert_eq!(
        (&tx["status"], &tx["height"]),
        (&json!("finalized"), &job["height"])
    );
    let bottle = cluster
        .get(follower, "/01/09506000134352/21/CAP1")
        .await
        .expect("verify");
    assert_eq!(bottle["state"], "IN_TRANSIT", "{bottle}");
    // Refused by the lifecycle on the follower itself (the bottles are in transit), with
    // the validator's code, and not handed on.
    let (status, again) = capture(&cluster, follower, &liquor_document()).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (400, Some("WRONG_STATE")),
        "{again}"
    );
}
