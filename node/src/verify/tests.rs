//! Answers over a small ledger: verdicts, views, proofs and their offline checks.

use jiu_contracts::gs1::{parse_code, Sgtin};
use jiu_contracts::provenance::{Child, ContainerId, Flag, Op};
use jiu_contracts::{Hash, Payload};

use super::*;
use crate::testchain::Chain;

fn bottle(serial: &str) -> Sgtin {
    match parse_code(&format!("(01)09506000134352(21){serial}")) {
        Ok(Code::Item(sgtin)) => sgtin,
        other => panic!("test code: {other:?}"),
    }
}

fn case(serial: &str) -> ContainerId {
    ContainerId::Case(bottle(serial))
}

/// Bottles in cases in a pallet, shipped through a distributor to a store; one case
/// unpacked and a bottle sold, one flagged, one case left packed.
fn chain() -> Chain {
    let mut chain = Chain::new();
    // A lot is recorded only under a registered product.
    chain.block_of(
        "producer",
        Payload::SetProduct {
            gtin: jiu_contracts::gs1::Gtin::parse("09506000134352").expect("gtin"),
            name: "Verify Baijiu".into(),
            volume_ml: 500,
            abv_bp: 5300,
        },
    );
    let items: Vec<Sgtin> = ["B1", "B2", "B3", "B4", "B5"].map(bottle).to_vec();
    let pallet = case("PAL1");
    chain.block(
        "producer",
        vec![
            Op::Commission {
                items: items.clone(),
                lot: Some(jiu_contracts::gs1::Lot::parse("L1").expect("lot")),
            },
            Op::Pack {
                parent: case("CASE1"),
                children: items[..3].iter().cloned().map(Child::Bottle).collect(),
            },
            Op::Pack {
                parent: case("CASE2"),
                children: items[3..].iter().cloned().map(Child::Bottle).collect(),
            },
            Op::Pack {
                parent: pallet.clone(),
                children: vec![
                    Child::Container(case("CASE1")),
                    Child::Container(case("CASE2")),
                ],
            },
            Op::Ship {
                roots: vec![Child::Container(pallet.clone())],
                to: "distributor-1".into(),
            },
        ],
    );
    chain.block(
        "distributor-1",
        vec![
            Op::Receive {
                roots: vec![Child::Container(pallet.clone())],
            },
            Op::Ship {
                roots: vec![Child::Container(pallet.clone())],
                to: "store-1".into(),
            },
        ],
    );
    chain.block(
        "store-1",
        vec![
            Op::Receive {
                roots: vec![Child::Container(pallet.clone())],
            },
            Op::Unpack {
                parent: pallet.clone(),
                children: vec![Child::Container(case("CASE1"))],
            },
            Op::Unpack {
                parent: case("CASE1"),
                children: items[..2].iter().cloned().map(Child::Bottle).collect(),
            },
            Op::Sell {
                items: vec![items[0].clone()],
                city: "Lyon".into(),
            },
        ],
    );
    chain.block(
        "producer",
        vec![Op::SetFlag {
            items: vec![items[1].clone()],
            flag: Flag::Recalled,
        }],
    );
    // The pallet, with CASE2 still in it, goes back to the distributor, and the producer
    // tries to receive it: not shipped to it, so refused with a DIVERTED alert on the
    // pallet, which the bottles inside show as a warning.
    chain.block(
        "store-1",
        vec![Op::Ship {
            roots: vec![Child::Container(pallet.clone())],
            to: "distributor-1".into(),
        }],
    );
    chain.block(
        "producer",
        vec![Op::Receive {
            roots: vec![Child::Container(pallet)],
        }],
    );
    chain
}

/// The answer to `code` for `viewer` at the chain's tip (a fresh scan book, client 1), as
/// the RPC sends it.
fn answer_bytes(chain: &Chain, code: &str, viewer: Viewer) -> Vec<u8> {
    let tags = crate::tags::TagBook::new(None, chain.db.clone());
    answer(
        &chain.committed(),
        &chain.db,
        &ScanBook::default(),
        &tags,
        code,
        &VerifyQuery::default(),
        viewer,
        Some(1),
        5_000,
    )
}

/// [`answer_bytes`] read back as JSON.
fn ask(chain: &Chain, code: &str, viewer: Viewer) -> serde_json::Value {
    serde_json::from_slice(&answer_bytes(chain, code, viewer)).expect("JSON")
}

/// Every answer of the scenario, serialized as the RPC sends it.
fn answers(chain: &Chain) -> Vec<String> {
    let committed = chain.committed();
    let scans = ScanBook::default();
    let tags = crate::tags::TagBook::new(None, chain.db.clone());
    let codes = [
        "(01)09506000134352(21)B1",
        "https://id.gs1.org/01/09506000134352/21/B2",
        "(01)09506000134352(21)B3",
        "(01)09506000134352(21)B4",
        "urn:epc:id:sgtin:9506000.013435.B5",
        "(01)09506000134352(21)CASE1",
        "(01)09506000134352(21)CASE2",
        "(01)09506000134352(21)PAL1",
        "(01)09506000134352(21)NOPE",
        "not a code",
    ];
    let queries = [
        VerifyQuery::default(),
        VerifyQuery {
            intent: Some("pre_sale".into()),
            city: Some("Paris".into()),
            ..Default::default()
        },
        VerifyQuery {
            picc: Some("00".into()),
            cmac: Some("00".into()),
            ..Default::default()
        },
    ];
    let mut out = Vec::new();
    for code in codes {
        for query in &queries {
            for viewer in [Viewer::Public, Viewer::Partner] {
                let answer = answer(
                    &committed,
                    &chain.db,
                    &scans,
                    &tags,
                    code,
                    query,
                    viewer,
                    Some(1),
                    5_000,
                );
                out.push(String::from_utf8(answer).expect("utf-8"));
            }
        }
    }
    out
}

#[test]
fn test_scan_book_counts_up_to_its_bound() {
    let book = ScanBook::with_codes_max(128);
    let keys: Vec<Hash> = (0u32..2_000)
        .map(|n| jiu_contracts::sha256(&[&n.to_be_bytes()]))
        .collect();
    for (n, key) in keys.iter().enumerate() {
        book.record(*key, n as u64, Some("SHA"), 1);
    }
    let counted: Vec<&Hash> = keys
        .iter()
        .filter(|k| book.record(**k, 10_000, None, 1).count == 2)
        .collect();
    // Each of the 64 shards counts 2 codes: 128 in all, as keys spread over shards.
    assert_eq!(counted.len(), 128, "the bound holds");
    let first = book.record(*counted[0], 10_001, Some("PEK"), 2);
    assert_eq!(
        (first.count, first.cities_30d),
        (3, 2),
        "a counted code keeps counting"
    );
    let uncounted = keys.iter().find(|k| !counted.contains(k)).expect("some");
    assert_eq!(book.record(*uncounted, 10_002, None, 1).count, 0);
}

/// The city rule counts clients: one client naming three cities holds one (its last), so
/// a single caller cannot make a genuine bottle look seen in three cities; three clients
/// can. Addresses are told apart (an IPv6 client by its /64), never stored.
#[test]
fn test_scan_cities_count_one_per_client() {
    use std::net::IpAddr;
    let book = ScanBook::default();
    let key = jiu_contracts::sha256(&[b"bottle"]);
    let ip = |s: &str| Some(s.parse::<IpAddr>().expect("address"));
    let one = book.client_id(ip("203.0.113.7"));
    for (t, city) in ["SHA", "PEK", "CTU"].iter().enumerate() {
        book.record(key, 1_000 + t as u64, Some(city), one);
    }
    let stats = book.record(key, 2_000, None, one);
    assert_eq!(
        (stats.count, stats.cities_30d),
        (4, 1),
        "one client, one city"
    );
    for (client, city) in [("198.51.100.1", "PEK"), ("2001:db8:1:2::5", "SHA")] {
        book.record(key, 3_000, Some(city), book.client_id(ip(client)));
    }
    let stats = book.record(key, 3_001, None, one);
    assert_eq!(stats.cities_30d, 3, "three clients, three cities");
    assert_eq!(
        book.client_id(ip("2001:db8:1:2::5")),
        book.client_id(ip("2001:db8:1:2:aaaa::9")),
        "one /64"
    );
    assert_ne!(
        book.client_id(ip("203.0.113.7")),
        book.client_id(ip("203.0.113.8"))
    );
    assert_eq!(
        book.client_id(ip("::ffff:203.0.113.7")),
        one,
        "an IPv4-mapped address is the IPv4 client"
    );
    assert_ne!(book.client_id(None), one);
    // Past the 30-day window a city no longer counts.
    let later = book.record(key, 3_001 + SCAN_WINDOW_MS + 1, Some("SZX"), one);
    assert_eq!(later.cities_30d, 1);
}

#[test]
fn test_answers_keep_sorted_keys() {
    // The answer was once a `serde_json::Value`, whose objects sort their keys: the
    // views must write the same bytes, which a round trip through a `Value` shows.
    let chain = chain();
    for answer in answers(&chain) {
        let value: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(value.to_string(), answer);
    }
}

#[test]
fn test_answer_shows_container_lines_and_hides_distributors() {
    let chain = chain();
    let ask = |viewer| ask(&chain, "(01)09506000134352(21)B4", viewer);
    let public = ask(Viewer::Public);
    let history = public["history"].as_array().expect("history");
    let pallet = "https://id.gs1.org/01/09506000134352/21/PAL1";
    assert!(history.iter().any(|l| l["via"] == pallet), "{history:?}");
    assert!(history.iter().all(|l| l.get("tx_id").is_none()));
    assert!(history
        .iter()
        .all(|l| l["by"]["role"] != "distributor" && l["by"].get("org_id").is_none()));
    assert_eq!(public["scan_stats"]["count"], 1);
    assert!(public["proof"]["record_hex"].is_string());
    let partner = ask(Viewer::Partner);
    let lines = partner["history"].as_array().expect("history");
    let via: BTreeSet<_> = lines.iter().filter_map(|l| l["via"].as_str()).collect();
    assert_eq!(via.len(), 2, "lines of the case and the pallet: {lines:?}");
    assert!(lines
        .iter()
        .all(|l| l["tx_id"].as_str().map(str::len) == Some(64)));
    assert!(partner.get("scan_stats").is_none());
}

#[test]
fn test_a_lot_on_the_label_is_compared_with_the_commissioned_one() {
    let chain = chain();
    let ask = |code: &str| ask(&chain, code, Viewer::Public);
    let mismatches = |answer: &serde_json::Value| -> Vec<serde_json::Value> {
        answer["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["code"] == "ATTRIBUTE_MISMATCH")
            .cloned()
            .collect()
    };
    // B4: commissioned in lot L1, in a pallet with a diversion warning: genuine.
    for code in [
        "(01)09506000134352(21)B4",
        "https://id.gs1.org/01/09506000134352/10/L1/21/B4",
    ] {
        let answer = ask(code);
        let diverted = answer["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["code"] == "DIVERTED" && a["severity"] == "warning");
        assert!(diverted, "{code}: {answer}");
        assert_eq!(answer["lot"], "L1", "{code}: {answer}");
        assert_eq!(answer["verdict"], "GENUINE_UNSOLD", "{code}: {answer}");
        assert!(mismatches(&answer).is_empty(), "{code}: {answer}");
    }
    let other = ask("(01)09506000134352(10)L2(21)B4");
    assert_eq!(other["verdict"], "SUSPECT", "{other}");
    assert_eq!(other["code"], "https://id.gs1.org/01/09506000134352/21/B4");
    let found = mismatches(&other);
    assert_eq!(found.len(), 1, "{other}");
    assert_eq!(found[0]["severity"], "critical");
    let message = found[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("L2") && message.contains("L1"),
        "{message}"
    );
    // A lot on a sold or recalled bottle's label: still compared; the verdict stays SUSPECT.
    let recalled = ask("(01)09506000134352(10)L2(21)B2");
    assert_eq!(recalled["verdict"], "SUSPECT");
    assert_eq!(mismatches(&recalled).len(), 1, "{recalled}");
}

#[test]
fn test_a_recalled_lot_makes_its_bottles_suspect() {
    let mut chain = chain();
    chain.block_of(
        "producer",
        Payload::RecallLot {
            gtin: jiu_contracts::gs1::Gtin::parse("09506000134352").expect("gtin"),
            lot: jiu_contracts::gs1::Lot::parse("L1").expect("lot"),
            recalled: true,
        },
    );
    let bytes = answer_bytes(&chain, "(01)09506000134352(21)B4", Viewer::Public);
    let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(answer["verdict"], "SUSPECT", "{answer}");
    let recalled: Vec<_> = answer["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["code"] == "RECALLED")
        .collect();
    assert_eq!(recalled.len(), 1, "{answer}");
    assert_eq!(recalled[0]["severity"], "critical");
    assert_eq!(recalled[0]["since_ms"], chain.parent.time_ms, "{answer}");
    // The product's recalled lots travel with the answer, in key order.
    let lots = &answer["proof"]["product"]["product"]["recalled_lots"];
    assert_eq!(lots[0]["lot"], "L1", "{answer}");
    assert!(
        answer.to_string().as_bytes() == &bytes[..],
        "the answer's keys are not in key order"
    );
}

#[test]
fn test_product_answer_names_the_lots_under_recall() {
    let mut chain = chain();
    let gtin = jiu_contracts::gs1::Gtin::parse("09506000134352").expect("gtin");
    for lot in ["L1", "L0"] {
        chain.block_of(
            "producer",
            Payload::RecallLot {
                gtin,
                lot: jiu_contracts::gs1::Lot::parse(lot).expect("lot"),
                recalled: true,
            },
        );
    }
    let committed = chain.committed();
    let read = |lot: Option<&str>| {
        let bytes = product_answer(&committed, "09506000134352", lot).expect("answer");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert!(
            value.to_string().as_bytes() == &bytes[..],
            "keys not in key order"
        );
        value
    };
    let whole = read(None);
    assert_eq!(whole["kind"], "product");
    assert_eq!(whole["product"]["name"], "Verify Baijiu");
    let lots: Vec<&str> = whole["recalled_lots"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["lot"].as_str())
        .collect();
    assert_eq!(lots, ["L0", "L1"], "in lot order");
    assert!(whole.get("lot").is_none(), "{whole}");
    assert_eq!(whole["proof"]["height"], chain.parent.height);
    let recalled = read(Some("L1"));
    assert_eq!(recalled["lot"]["recalled"], true, "{recalled}");
    assert_eq!(recalled["lot"]["recall"]["by"], "producer");
    let fine = read(Some("L2"));
    assert_eq!(fine["lot"]["recalled"], false, "{fine}");
    assert!(fine["lot"]["recall"].is_null());
    // Refusals: a bad GTIN or lot, and a GTIN nobody registered.
    let refused = |gtin: &str, lot: Option<&str>| {
        product_answer(&committed, gtin, lot)
            .expect_err("refused")
            .code()
    };
    assert_eq!(refused("09506000134353", None), "INVALID_CODE");
    assert_eq!(refused("09506000134352", Some("bad lot")), "INVALID_CODE");
    assert_eq!(refused("09506000134369", None), "UNKNOWN_PRODUCT");
}

/// A tx that named a code in several ops stores one history row for the code; a container's
/// row that starts before the bottle went in is read from the op after the packing.
#[test]
fn test_history_reads_one_row_per_code_and_tx() {
    let chain = chain();
    let rows = |serial: &str| crate::history::stored_rows(&chain.db, &Code::Item(bottle(serial)));
    // Height 1 registers the product. B4: commissioned and packed by the tx at height 2,
    // nothing else of its own.
    assert_eq!(rows("B4"), vec![(2, 0)]);
    // CASE2: packed (as parent), then into the pallet (as child), in that same tx.
    assert_eq!(rows("CASE2"), vec![(2, 0)]);
    // PAL1: packed and shipped at height 2, received and shipped at 3, ...
    assert_eq!(rows("PAL1")[..2], [(2, 0), (3, 0)]);
    let history = history_of(&chain.db, &Code::Item(bottle("B4"))).expect("history");
    let lines: Vec<(u64, u32, &str, Option<&str>)> = history
        .iter()
        .map(|e| (e.height, e.op_index, e.op.as_str(), e.via.as_deref()))
        .take(5)
        .collect();
    let case2 = Some("https://id.gs1.org/01/09506000134352/21/CASE2");
    let pallet = Some("https://id.gs1.org/01/09506000134352/21/PAL1");
    assert_eq!(
        lines,
        vec![
            (2, 0, "commission", None),
            (2, 2, "pack", None),
            (2, 3, "pack", case2),
            (2, 4, "ship", pallet),
            (3, 0, "receive", pallet),
        ],
        "{history:#?}"
    );
}
