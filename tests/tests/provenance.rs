//! Provenance on a real 4-node network: lifecycle txs finalize, every node answers the same
//! verify answer, the answer's proof checks offline (and each tampered copy fails with its
//! exact reason), and a restarted node rebuilds the same records from its database.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use jiu_contracts::gs1::{parse_code, Code, Sgtin};
use jiu_contracts::provenance::{Child, ContainerId, Flag, Op};
use jiu_contracts::{Payload, PublicKey, SignedTx, TxBody};
use jiu_tests::{jiu_result, serial, Cluster};
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);

fn org_key(cluster: &Cluster, org: &str) -> SigningKey {
    let path = cluster.net_dir().join("orgs").join(format!("{org}.json"));
    jiu_genesis::keys::read_key_file(&path).expect("org key")
}

fn bottle(serial: &str) -> Sgtin {
    match parse_code(&format!("(01)09506000134352(21){serial}")) {
        Ok(Code::Item(sgtin)) => sgtin,
        other => panic!("test code: {other:?}"),
    }
}

fn case(serial: &str) -> ContainerId {
    ContainerId::Case(bottle(serial))
}

struct Chain<'a> {
    cluster: &'a Cluster,
    chain_id: String,
    nonce: u64,
}

impl Chain<'_> {
    /// Signs `ops` with `key`, submits to node 0, waits until finalized; returns the status.
    async fn run(&mut self, key: &SigningKey, ops: Vec<Op>) -> Value {
        self.submit(key, Payload::Provenance { ops }).await
    }

    async fn submit(&mut self, key: &SigningKey, payload: Payload) -> Value {
        self.nonce += 1;
        let height = self.cluster.height(0).await.expect("height");
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            signer: PublicKey::from_signing_key(key),
            nonce: self.nonce,
            expires_at_height: height + 100,
            payload,
        };
        let tx = SignedTx::sign(body, key);
        let (status, answer) = self
            .cluster
            .post(0, "/tx", &json!({ "tx": hex::encode(tx.encode()) }))
            .await;
        assert_eq!(status, 200, "submit refused: {answer}");
        let id = answer["tx_id"].as_str().expect("tx id");
        self.cluster.wait_final(0, id).await
    }
}

fn verify_offline(cluster: &Cluster, answer: &Value, name: &str) -> (bool, String) {
    let path = cluster.net_dir().join(format!("{name}.json"));
    std::fs::write(&path, answer.to_string()).expect("write answer");
    let genesis = cluster.net_dir().join("genesis.json");
    jiu_result(&[
        "verify",
        "--offline",
        path.to_str().expect("utf-8"),
        "--genesis",
        genesis.to_str().expect("utf-8"),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn n4_provenance_verify_answers_are_proven() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 31800, 31900);
    cluster.start_all();
    cluster.wait_height(0, 2, MINUTE).await;
    let status = cluster.get(0, "/status").await.expect("status");
    let chain_id = status["chain"]["chain_id"]
        .as_str()
        .expect("chain")
        .to_string();
    let producer = org_key(&cluster, "producer");
    let store = org_key(&cluster, "store-1");
    let mut chain = Chain {
        cluster: &cluster,
        chain_id,
        nonce: 0,
    };

    // The product's master data, then three bottles commissioned into a case, shipped to
    // the store, received; one sold and one recalled.
    let product = Payload::SetProduct {
        gtin: jiu_contracts::gs1::Gtin::parse("09506000134352").expect("gtin"),
        name: "Reserve Baijiu".into(),
        volume_ml: 500,
        abv_bp: 5300,
    };
    chain.submit(&producer, product).await;
    let bottles = ["P1", "P2", "P3"].map(bottle);
    chain
        .run(
            &producer,
            vec![
                Op::Commission {
                    items: bottles.to_vec(),
                    lot: None,
                },
                Op::Pack {
                    parent: case("CASE1"),
                    children: bottles.iter().cloned().map(Child::Bottle).collect(),
                },
                Op::Ship {
                    roots: vec![Child::Container(case("CASE1"))],
                    to: "store-1".into(),
                },
            ],
        )
        .await;
    chain
        .run(
            &store,
            vec![Op::Receive {
                roots: vec![Child::Container(case("CASE1"))],
            }],
        )
        .await;
    chain
        .run(
            &store,
            vec![Op::Sell {
                items: vec![bottles[0].clone()],
                city: "Guiyang".into(),
            }],
        )
        .await;
    chain
        .run(
            &producer,
            vec![Op::SetFlag {
                items: vec![bottles[2].clone()],
                flag: Flag::Recalled,
            }],
        )
        .await;
    // A second sale of P1 is recorded as an alert, not refused.
    let second = chain
        .run(
            &store,
            vec![Op::Sell {
                items: vec![bottles[0].clone()],
                city: "Shanghai".into(),
            }],
        )
        .await;
    assert_eq!(second["events"][0]["type"], "alert_raised", "{second}");

    // A diversion: CASE2 is shipped to store-1 and distributor-1 tries to receive it. The
    // alert is on the case; the bottles' answers show it, with the case's proof.
    let more = ["P4", "P5"].map(bottle);
    chain
        .run(
            &producer,
            vec![
                Op::Commission {
                    items: more.to_vec(),
                    lot: Some(jiu_contracts::gs1::Lot::parse("L2026B").expect("lot")),
                },
                Op::Pack {
                    parent: case("CASE2"),
                    children: more.iter().cloned().map(Child::Bottle).collect(),
                },
                Op::Ship {
                    roots: vec![Child::Container(case("CASE2"))],
                    to: "store-1".into(),
                },
            ],
        )
        .await;
    let distributor = org_key(&cluster, "distributor-1");
    let diverted = chain
        .run(
            &distributor,
            vec![Op::Receive {
                roots: vec![Child::Container(case("CASE2"))],
            }],
        )
        .await;
    assert_eq!(
        diverted["events"][0]["reason_code"], "DIVERTED",
        "{diverted}"
    );

    // Every node gives the same verdicts; node 2's answers are checked offline.
    let expect = [
        ("/verify/(01)09506000134352(21)P1", "SUSPECT"),
        ("/01/09506000134352/21/P2", "GENUINE_UNSOLD"),
        ("/verify/urn:epc:id:sgtin:9506000.013435.P3", "SUSPECT"),
        ("/verify/(01)09506000134352(21)NOPE", "UNKNOWN"),
    ];
    let tip = cluster.height(0).await.expect("height");
    for node in 1..4 {
        cluster.wait_height(node, tip, MINUTE).await;
    }
    for (path, verdict) in expect {
        let answer = cluster.get(2, path).await.expect("answer");
        assert_eq!(answer["verdict"], verdict, "{path}: {answer}");
        let (ok, out) = verify_offline(&cluster, &answer, "answer");
        assert!(ok, "{path}: offline check failed: {out}");
    }
    let p2 = cluster
        .get(1, "/01/09506000134352/21/P2")
        .await
        .expect("p2");
    assert_eq!(p2["state"], "IN_STOCK");
    assert_eq!(p2["custodian"]["name"], "Devnet Store 1", "{p2}");
    assert_eq!(p2["product"]["name"], "Reserve Baijiu", "{p2}");
    assert_eq!(
        (&p2["product"]["volume_ml"], &p2["product"]["abv_bp"]),
        (&json!(500), &json!(5300))
    );
    assert_eq!(p2["proof"]["product"]["product"]["brand_owner"], "producer");
    let ops: Vec<&str> = p2["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["op"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ops,
        ["commission", "pack", "ship", "receive"],
        "the bottle's history includes its case's shipment: {p2}"
    );
    let p1 = cluster
        .get(0, "/01/09506000134352/21/P1")
        .await
        .expect("p1");
    assert_eq!(p1["state"], "SOLD");
    assert_eq!(p1["sale"]["city"], "Guiyang");
    let codes: Vec<&str> = p1["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes, ["ALREADY_SOLD"], "{p1}");

    // NFC taps (the devnet's nodes hold the tag master keys): a fresh tap, the same URL
    // again, and a forged MAC, which makes the verdict SUSPECT; that escalation is
    // node-local and the offline check accepts it because the TAG_INVALID alert explains it.
    let tap = |counter: u32| -> String {
        let text = std::fs::read_to_string(cluster.net_dir().join("sun_keys.json")).expect("keys");
        let file: Value = serde_json::from_str(&text).expect("json");
        let key =
            |name: &str| jiu_sun::AesKey::from_hex(file[name].as_str().expect("hex")).expect("key");
        let keys = jiu_sun::DiversifiedKeys::new(
            key("meta_read_master"),
            key("file_read_master"),
            jiu_sun::MetaReadKeying::Shared,
        );
        let t = jiu_sun::simulate_tap(&keys, &[4, 1, 2, 3, 4, 5, 6], counter, [0; 5], b"")
            .expect("tap");
        format!(
            "/01/09506000134352/21/P2?picc={}&cmac={}",
            t.picc_hex, t.cmac_hex
        )
    };
    let fresh = cluster.get(1, &tap(3)).await.expect("tap");
    assert_eq!(fresh["tag"]["status"], "ok", "{fresh}");
    assert_eq!(fresh["verdict"], "GENUINE_UNSOLD");
    let replay = cluster.get(1, &tap(3)).await.expect("tap");
    assert_eq!(replay["tag"]["status"], "replay", "{replay}");
    let forged_url = {
        let url = tap(4);
        let last = url.chars().last().expect("char");
        format!(
            "{}{}",
            &url[..url.len() - 1],
            if last == '0' { '1' } else { '0' }
        )
    };
    let forged = cluster.get(1, &forged_url).await.expect("tap");
    assert_eq!(forged["tag"]["status"], "invalid", "{forged}");
    assert_eq!(forged["verdict"], "SUSPECT");
    let (ok, out) = verify_offline(&cluster, &forged, "forged-tap");
    assert!(ok, "a node-local escalation is not tampering: {out}");

    let p4 = cluster
        .get(0, "/01/09506000134352/21/P4")
        .await
        .expect("p4");
    assert_eq!(
        p4["verdict"], "GENUINE_UNSOLD",
        "a warning, not a verdict: {p4}"
    );
    assert_eq!(p4["alerts"][0]["code"], "DIVERTED", "{p4}");
    assert_eq!(p4["alerts"][0]["severity"], "warning");
    assert_eq!(p4["proof"]["containers"].as_array().map(Vec::len), Some(1));
    let (ok, out) = verify_offline(&cluster, &p4, "p4");
    assert!(ok, "{out}");
    let mut forged_case = p4.clone();
    let hex_text = forged_case["proof"]["containers"][0]["record_hex"]
        .as_str()
        .expect("hex")
        .to_string();
    let flipped: String = hex_text
        .char_indices()
        .map(|(i, c)| {
            if i == hex_text.len() - 4 {
                if c == '0' {
                    '1'
                } else {
                    '0'
                }
            } else {
                c
            }
        })
        .collect();
    forged_case["proof"]["containers"][0]["record_hex"] = json!(flipped);
    let (ok, out) = verify_offline(&cluster, &forged_case, "p4-forged");
    assert!(!ok && out.contains("container"), "{out}");

    // The lot: shown as commissioned, compared with a lot the label names, proven offline.
    assert_eq!(p4["lot"], "L2026B", "{p4}");
    let same_lot = cluster
        .get(2, "/01/09506000134352/10/L2026B/21/P4")
        .await
        .expect("p4 with its lot");
    assert_eq!(same_lot["verdict"], "GENUINE_UNSOLD", "{same_lot}");
    // The lot address's linkset sends a verifier to an answer that compares the lot too.
    let links = cluster
        .get(2, "/01/09506000134352/10/L2026B/21/P4?linkType=linkset")
        .await
        .expect("linkset of the lot address");
    let verify_href = links["linkset"][0]["https://ref.gs1.org/voc/verificationService"][0]["href"]
        .as_str()
        .unwrap_or_default();
    assert!(
        verify_href.ends_with(
            "/verify/https%3A%2F%2Fid.gs1.org%2F01%2F09506000134352%2F10%2FL2026B%2F21%2FP4"
        ),
        "{links}"
    );
    let other_lot = cluster
        .get(2, "/01/09506000134352/10/L2025X/21/P4")
        .await
        .expect("p4 with another lot");
    assert_eq!(other_lot["verdict"], "SUSPECT", "{other_lot}");
    let mismatch = other_lot["alerts"]
        .as_array()
        .and_then(|alerts| alerts.iter().find(|a| a["code"] == "ATTRIBUTE_MISMATCH"))
        .unwrap_or_else(|| panic!("no ATTRIBUTE_MISMATCH: {other_lot}"));
    assert_eq!(mismatch["severity"], "critical");
    let (ok, out) = verify_offline(&cluster, &same_lot, "p4-same-lot");
    assert!(ok && !out.contains("ATTRIBUTE_MISMATCH"), "{out}");
    // The offline check names what made the verdict: the mismatch it recomputed.
    let (ok, out) = verify_offline(&cluster, &other_lot, "p4-other-lot");
    assert!(ok && out.contains("alerts ATTRIBUTE_MISMATCH"), "{out}");
    // A node hiding the mismatch, showing another lot, or swapping the scanned code is caught.
    type Lie<'a> = &'a dyn Fn(&mut Value);
    let lot_lies: [(&str, Lie<'_>); 4] = [
        ("hidden mismatch", &|a| {
            a["verdict"] = json!("GENUINE_UNSOLD")
        }),
        ("other lot shown", &|a| a["lot"] = json!("L2025X")),
        ("scan unreadable", &|a| {
            a["query"]["code"] = json!("not a code")
        }),
        ("scan swapped", &|a| {
            a["query"]["code"] = json!("https://id.gs1.org/01/09506000134352/10/L2025X/21/P5")
        }),
    ];
    for (what, lie) in lot_lies {
        let mut copy = other_lot.clone();
        lie(&mut copy);
        let (ok, out) = verify_offline(&cluster, &copy, "lot-lie");
        assert!(!ok && out.contains("ANSWER_TAMPERED"), "{what}: {out}");
    }

    // The producer recalls lot L2026B: P4's answer turns SUSPECT with RECALLED, proven by the
    // product's recalled lots. A node that drops the product (so the recall cannot be seen)
    // or its recall is caught.
    let recalled = chain
        .submit(
            &producer,
            Payload::RecallLot {
                gtin: jiu_contracts::gs1::Gtin::parse("09506000134352").expect("gtin"),
                lot: jiu_contracts::gs1::Lot::parse("L2026B").expect("lot"),
                recalled: true,
            },
        )
        .await;
    assert_eq!(
        recalled["events"][0]["type"], "lot_recall_set",
        "{recalled}"
    );
    let tip = cluster.height(0).await.expect("height");
    cluster.wait_height(2, tip, MINUTE).await;
    let p4_recalled = cluster
        .get(2, "/01/09506000134352/21/P4")
        .await
        .expect("p4 recalled");
    assert_eq!(p4_recalled["verdict"], "SUSPECT", "{p4_recalled}");
    assert!(
        p4_recalled["alerts"].as_array().is_some_and(|alerts| alerts
            .iter()
            .any(|a| a["code"] == "RECALLED" && a["severity"] == "critical")),
        "{p4_recalled}"
    );
    let (ok, out) = verify_offline(&cluster, &p4_recalled, "p4-recalled");
    assert!(ok && out.contains("alerts RECALLED"), "{out}");
    let recall_lies: [(&str, &str, Lie<'_>); 3] = [
        ("product dropped", "ANSWER_TAMPERED", &|a| {
            a["proof"]["product"] = Value::Null;
            a["product"] = Value::Null;
        }),
        ("recall removed", "PRODUCT_TAMPERED", &|a| {
            a["proof"]["product"]["product"]["recalled_lots"] = json!([]);
        }),
        ("recall hidden", "ANSWER_TAMPERED", &|a| {
            a["verdict"] = json!("GENUINE_UNSOLD")
        }),
    ];
    for (what, code, lie) in recall_lies {
        let mut copy = p4_recalled.clone();
        lie(&mut copy);
        let (ok, out) = verify_offline(&cluster, &copy, "recall-lie");
        assert!(!ok && out.contains(code), "{what}: {out}");
    }

    // The lot's own address (a case label: GTIN and lot, no serial) says it is recalled,
    // proven by the product's leaf; the product's address lists the recalls.
    let lot_answer = cluster
        .get(2, "/01/09506000134352/10/L2026B")
        .await
        .expect("lot answer");
    assert_eq!(lot_answer["lot"]["recalled"], true, "{lot_answer}");
    assert_eq!(
        lot_answer["lot"]["recall"]["by"], "producer",
        "{lot_answer}"
    );
    let (ok, out) = verify_offline(&cluster, &lot_answer, "lot-answer");
    assert!(ok && out.contains("lot L2026B is RECALLED"), "{out}");
    let other = cluster
        .get(2, "/01/09506000134352/10/L2026A")
        .await
        .expect("another lot");
    assert_eq!(other["lot"]["recalled"], false, "{other}");
    let (ok, out) = verify_offline(&cluster, &other, "other-lot-answer");
    assert!(ok && out.contains("lot L2026A is not recalled"), "{out}");
    let product = cluster
        .get(2, "/01/09506000134352")
        .await
        .expect("product answer");
    assert_eq!(product["recalled_lots"][0]["lot"], "L2026B", "{product}");
    let (ok, out) = verify_offline(&cluster, &product, "product-answer");
    assert!(ok && out.contains("lots under recall: L2026B"), "{out}");
    let product_lies: [(&str, &str, Lie<'_>); 4] = [
        ("recall hidden", "ANSWER_TAMPERED", &|a| {
            a["lot"]["recalled"] = json!(false);
            a["lot"]["recall"] = Value::Null;
        }),
        ("recall dropped from the leaf", "PRODUCT_TAMPERED", &|a| {
            a["proof"]["product"]["product"]["recalled_lots"] = json!([]);
            a["recalled_lots"] = json!([]);
            a["lot"]["recalled"] = json!(false);
            a["lot"]["recall"] = Value::Null;
        }),
        ("another lot asked", "ANSWER_TAMPERED", &|a| {
            a["query"]["lot"] = json!("L2026A")
        }),
        ("stronger", "ANSWER_TAMPERED", &|a| {
            a["product"]["abv_bp"] = json!(6000)
        }),
    ];
    for (what, code, lie) in product_lies {
        let mut copy = lot_answer.clone();
        lie(&mut copy);
        let (ok, out) = verify_offline(&cluster, &copy, "product-lie");
        assert!(!ok && out.contains(code), "{what}: {out}");
    }
    // Where the recalled lot's bottles are (a partner's query): both bottles of L2026B, in
    // the case shipped to store-1.
    let partner = reqwest::Client::new();
    let census = |path: &str| {
        partner
            .get(format!("{}{path}", cluster.rpcs[2]))
            .bearer_auth("devnet-partner-token")
            .send()
    };
    let response = census("/lots/09506000134352/L2026B").await.expect("census");
    assert_eq!(response.status(), 200);
    let lot_census: Value = response.json().await.expect("json");
    assert_eq!(lot_census["bottles"], 2, "{lot_census}");
    assert_eq!(lot_census["recalled"], true, "{lot_census}");
    let held: u64 = lot_census["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| h["unsold"].as_u64().expect("unsold"))
        .sum();
    assert_eq!(held, 2, "{lot_census}");
    for (path, status, code) in [
        ("/lots/09506000134352/L1999", 404, "UNKNOWN_LOT"),
        ("/lots/09506000134353/L2026B", 400, "INVALID_CODE"),
        ("/lots/09506000134352/bad%20lot", 400, "INVALID_CODE"),
    ] {
        let response = census(path).await.expect("census");
        assert_eq!(response.status().as_u16(), status, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
    }
    let (got, body) = cluster.get_status(2, "/lots/09506000134352/L2026B").await;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    // A GTIN nobody registered: 404, with the proof that no product of it is on chain,
    // which the CLI checks; the proof does not carry over to another (registered) GTIN.
    let (got, unregistered) = cluster.get_status(2, "/01/09506000134369").await;
    assert_eq!(
        (got, unregistered["error"]["code"].as_str()),
        (404, Some("UNKNOWN_PRODUCT")),
        "{unregistered}"
    );
    let (ok, out) = verify_offline(&cluster, &unregistered, "unregistered-answer");
    assert!(
        ok && out.contains("no product is registered under GTIN 09506000134369"),
        "{out}"
    );
    let absence_lies: [(&str, &str, Lie<'_>); 3] = [
        (
            "a registered GTIN claimed absent",
            "ABSENCE_NOT_PROVEN",
            &|a| {
                a["query"]["gtin"] = json!("09506000134352");
                a["gtin"] = json!("09506000134352");
            },
        ),
        ("another GTIN shown", "ANSWER_TAMPERED", &|a| {
            a["gtin"] = json!("09506000134376")
        }),
        ("a neighbour altered", "ABSENCE_NOT_PROVEN", &|a| {
            let bytes = a["proof"]["absence"]["before"]["leaf_bytes"]
                .as_str()
                .unwrap_or("")
                .replacen('0', "1", 1);
            a["proof"]["absence"]["before"]["leaf_bytes"] = json!(bytes);
        }),
    ];
    for (what, code, lie) in absence_lies {
        let mut copy = unregistered.clone();
        lie(&mut copy);
        let (ok, out) = verify_offline(&cluster, &copy, "absence-lie");
        assert!(!ok && out.contains(code), "{what}: {out}");
    }
    for (path, status, code) in [
        ("/01/09506000134353", 400, "INVALID_CODE"),
        ("/01/09506000134352/10/bad%20lot", 400, "INVALID_CODE"),
    ] {
        let (got, body) = cluster.get_status(2, path).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
    }

    // Tampered copies fail, each with its reason.
    let tamper = |f: &dyn Fn(&mut Value)| {
        let mut copy = p2.clone();
        f(&mut copy);
        copy
    };
    let flip_hex = |text: &str, at: usize| -> String {
        let mut chars: Vec<char> = text.chars().collect();
        chars[at] = if chars[at] == '0' { '1' } else { '0' };
        chars.into_iter().collect()
    };
    let record_hex = p2["proof"]["record_hex"]
        .as_str()
        .expect("record")
        .to_string();
    let cases: Vec<(&str, Value)> = vec![
        (
            "ANSWER_TAMPERED",
            tamper(&|a| a["verdict"] = json!("GENUINE_SOLD")),
        ),
        ("ANSWER_TAMPERED", tamper(&|a| a["state"] = json!("SOLD"))),
        (
            // A stronger product shown than the chain registered.
            "ANSWER_TAMPERED",
            tamper(&|a| a["product"]["abv_bp"] = json!(6000)),
        ),
        (
            // The same lie in the proven product too: its leaf no longer hashes to the root.
            "PRODUCT_TAMPERED",
            tamper(&|a| {
                a["product"]["name"] = json!("Grand Cru");
                a["proof"]["product"]["product"]["name"] = json!("Grand Cru");
            }),
        ),
        (
            // A byte inside the custodian's org id: the bytes decode, the hash does not match.
            "RECORD_TAMPERED",
            tamper(&|a| {
                let at = record_hex.len() - 4;
                a["proof"]["record_hex"] = json!(flip_hex(&record_hex, at));
            }),
        ),
        (
            "FORGED_SIGNATURE",
            tamper(&|a| {
                let sig = a["proof"]["certificate"]["signatures"][0]["signature"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                a["proof"]["certificate"]["signatures"][0]["signature"] = json!(flip_hex(&sig, 3));
            }),
        ),
        (
            "INSUFFICIENT_SIGNATURES",
            tamper(&|a| {
                let sigs = a["proof"]["certificate"]["signatures"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                a["proof"]["certificate"]["signatures"] = json!(sigs[..2]);
            }),
        ),
        (
            "HEADER_TAMPERED",
            tamper(&|a| {
                let root = a["proof"]["header"]["state_root"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                a["proof"]["header"]["state_root"] = json!(flip_hex(&root, 0));
            }),
        ),
    ];
    for (code, answer) in cases {
        let (ok, out) = verify_offline(&cluster, &answer, "tampered");
        assert!(!ok, "a tampered answer ({code}) passed: {out}");
        assert!(out.contains(code), "expected {code}, got: {out}");
    }

    // A node restarted from its database rebuilds the same records and proves the same.
    cluster.terminate(3);
    cluster.start(3);
    let tip = cluster.height(0).await.expect("height");
    cluster.wait_height(3, tip, MINUTE).await;
    let again = cluster
        .get(3, "/01/09506000134352/21/P2")
        .await
        .expect("p2 again");
    assert_eq!(again["proof"]["record_hex"], p2["proof"]["record_hex"]);
    let (ok, out) = verify_offline(&cluster, &again, "restarted");
    assert!(ok, "after restart: {out}");
}
