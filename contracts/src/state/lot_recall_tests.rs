//! Lot-scope recall (section 7.2): the brand owner recalls a lot of its product, and every
//! bottle committed with that lot is treated as recalled by the lifecycle and the verdict,
//! while the bottles' own leaves stay as they were.

use super::*;
use crate::gs1::{parse_code, Gtin, Lot, Sgtin};
use crate::product::RECALLED_LOTS_MAX;
use crate::provenance::{judge_scan, AlertCode, Child, ContainerId, LifeState, Op, Verdict};
use crate::testkit::*;
use crate::tx::Payload;

const GTIN: &str = "09506000134352";

fn gtin() -> Gtin {
    Gtin::parse(GTIN).expect("gtin")
}

fn lot(text: &str) -> Lot {
    Lot::parse(text).expect("lot")
}

fn bottle(n: u64) -> Sgtin {
    match parse_code(&format!("(01){GTIN}(21)R{n:06}")) {
        Ok(Code::Item(sgtin)) => sgtin,
        other => panic!("test code: {other:?}"),
    }
}

fn case() -> ContainerId {
    match parse_code(&format!("(01){GTIN}(21)RCASE1")) {
        Ok(Code::Item(sgtin)) => ContainerId::Case(sgtin),
        other => panic!("test case code: {other:?}"),
    }
}

fn recall(text: &str, recalled: bool) -> Payload {
    Payload::RecallLot {
        gtin: gtin(),
        lot: lot(text),
        recalled,
    }
}

fn commission(ns: &[u64], lot_text: &str) -> Op {
    Op::Commission {
        items: ns.iter().map(|n| bottle(*n)).collect(),
        lot: Some(lot(lot_text)),
    }
}

fn provenance(ops: Vec<Op>) -> Payload {
    Payload::Provenance { ops }
}

/// Applies `payload` signed by `signer` in the current block; nonces never repeat.
struct Chain {
    state: State,
    nonce: u64,
}

impl Chain {
    fn new() -> Self {
        let mut state = genesis();
        state.begin_block(&ctx(1));
        Chain { state, nonce: 0 }
    }

    fn apply(&mut self, signer: u8, payload: Payload) -> Result<Receipt, TxError> {
        self.nonce += 1;
        let tx = signed(signer, self.nonce, payload).encode();
        admit(&mut self.state, &tx, &ctx(1))
    }

    /// Applies and checks that a refusal left the state root as it was.
    fn refused(&mut self, signer: u8, payload: Payload) -> &'static str {
        let root = self.state.root();
        let error = self.apply(signer, payload).expect_err("refused");
        assert_eq!(
            self.state.root(),
            root,
            "{error}: a refusal changes nothing"
        );
        error.code()
    }

    fn leaf(&self, n: u64) -> crate::provenance::RecordLeaf {
        self.state.record(&Code::Item(bottle(n))).expect("leaf")
    }
}

fn register(chain: &mut Chain) {
    let product = Payload::SetProduct {
        gtin: gtin(),
        name: "Demo Baijiu".into(),
        volume_ml: 500,
        abv_bp: 5300,
    };
    chain.apply(PRODUCER, product).expect("register");
}

#[test]
fn test_a_lot_is_recorded_only_under_a_registered_product() {
    let mut chain = Chain::new();
    assert_eq!(
        chain.refused(PRODUCER, provenance(vec![commission(&[1], "A")])),
        "LOT_WITHOUT_PRODUCT"
    );
    // Without a lot the GTIN stays open, as before the registry.
    let no_lot = Op::Commission {
        items: vec![bottle(1)],
        lot: None,
    };
    chain
        .apply(PRODUCER, provenance(vec![no_lot]))
        .expect("no lot");
    register(&mut chain);
    chain
        .apply(PRODUCER, provenance(vec![commission(&[2], "A")]))
        .expect("registered");
    assert_eq!(chain.leaf(2).bottle.expect("bottle").lot, Some(lot("A")));
}

#[test]
fn test_only_the_brand_owner_recalls_a_registered_lot() {
    let mut chain = Chain::new();
    assert_eq!(
        chain.refused(PRODUCER, recall("A", true)),
        "UNKNOWN_PRODUCT"
    );
    register(&mut chain);
    let rival = Payload::RegisterOrg {
        id: "rival".into(),
        name: "Rival Distillery".into(),
        role: Role::Producer,
        keys: vec![public_key(FREE)],
    };
    chain.apply(PRODUCER, rival).expect("rival");
    assert_eq!(chain.refused(FREE, recall("A", true)), "PRODUCT_OWNED");
    assert_eq!(
        chain.refused(DISTRIBUTOR, recall("A", true)),
        "UNAUTHORIZED"
    );
    assert_eq!(chain.refused(AUDITOR, recall("A", true)), "UNAUTHORIZED");
    assert_eq!(
        chain.refused(PRODUCER, recall("A", false)),
        "LOT_NOT_RECALLED"
    );

    let root = chain.state.root();
    let receipt = chain.apply(PRODUCER, recall("B", true)).expect("recall");
    assert!(matches!(
        &receipt.events[..],
        [Event::LotRecallSet { org_id, lot: l, recalled: true, .. }]
            if org_id == "producer" && *l == lot("B")
    ));
    assert_ne!(
        chain.state.root(),
        root,
        "the recall is in the product's leaf"
    );
    chain
        .apply(PRODUCER, recall("A", true))
        .expect("second lot");
    assert_eq!(
        chain.refused(PRODUCER, recall("A", true)),
        "LOT_ALREADY_RECALLED"
    );
    let product = chain.state.product(&gtin()).expect("product").clone();
    let lots: Vec<_> = product
        .recalled_lots
        .iter()
        .map(|r| r.lot.clone())
        .collect();
    assert_eq!(lots, [lot("A"), lot("B")], "kept in lot order");
    let recall_b = product.lot_recall(&lot("B")).expect("B");
    assert_eq!(
        (recall_b.by.as_str(), recall_b.since_ms),
        ("producer", ctx(1).time_ms)
    );

    // Amending the master data keeps the recalls; the registry restores with them.
    let amend = Payload::SetProduct {
        gtin: gtin(),
        name: "Demo Baijiu 2026".into(),
        volume_ml: 500,
        abv_bp: 5200,
    };
    chain.apply(PRODUCER, amend).expect("amend");
    let amended = chain.state.product(&gtin()).expect("product");
    assert_eq!(amended.recalled_lots, product.recalled_lots);
    let restored = State::decode_persistent(&chain.state.encode_persistent()).expect("restores");
    assert_eq!(restored.root(), chain.state.root());
    assert_eq!(restored.product(&gtin()), Some(amended));

    chain
        .apply(PRODUCER, recall("A", false))
        .expect("end recall");
    assert!(chain
        .state
        .product(&gtin())
        .and_then(|p| p.lot_recall(&lot("A")))
        .is_none());
}

#[test]
fn test_recalled_lots_are_bounded() {
    let mut chain = Chain::new();
    register(&mut chain);
    for n in 0..RECALLED_LOTS_MAX {
        chain
            .apply(PRODUCER, recall(&format!("L{n}"), true))
            .expect("within the bound");
    }
    assert_eq!(
        chain.refused(PRODUCER, recall("ONEMORE", true)),
        "TOO_MANY_RECALLED_LOTS"
    );
    chain
        .apply(PRODUCER, recall("L0", false))
        .expect("clear one");
    chain
        .apply(PRODUCER, recall("ONEMORE", true))
        .expect("room again");
}

#[test]
fn test_a_recalled_lot_stops_trade_and_goes_back_to_its_producer() {
    let mut chain = Chain::new();
    register(&mut chain);
    // Bottles 1 and 2 of lot A in a case; bottles 3 and 4 of lot B loose; all at the store.
    let setup = vec![
        commission(&[1, 2], "A"),
        commission(&[3, 4], "B"),
        Op::Pack {
            parent: case(),
            children: vec![Child::Bottle(bottle(1)), Child::Bottle(bottle(2))],
        },
        Op::Ship {
            roots: vec![
                Child::Container(case()),
                Child::Bottle(bottle(3)),
                Child::Bottle(bottle(4)),
            ],
            to: "store".into(),
        },
    ];
    chain.apply(PRODUCER, provenance(setup)).expect("setup");
    let receive = Op::Receive {
        roots: vec![
            Child::Container(case()),
            Child::Bottle(bottle(3)),
            Child::Bottle(bottle(4)),
        ],
    };
    chain
        .apply(STORE, provenance(vec![receive]))
        .expect("receive");
    let sell = |n: u64| {
        provenance(vec![Op::Sell {
            items: vec![bottle(n)],
            city: "Guiyang".into(),
        }])
    };
    chain.apply(STORE, sell(3)).expect("lot B sells");
    chain.apply(PRODUCER, recall("A", true)).expect("recall A");
    chain.apply(PRODUCER, recall("B", true)).expect("recall B");

    // A sale of a recalled lot's bottle is refused and recorded as a RECALLED alert; the
    // bottle's record stays as it was.
    let before = chain.leaf(1);
    let receipt = chain.apply(STORE, sell(1)).expect("recorded as an alert");
    let [Event::AlertRaised {
        reason_code, alert, ..
    }] = &receipt.events[..]
    else {
        panic!("expected one alert, got {:?}", receipt.events);
    };
    assert_eq!(
        (reason_code.as_str(), alert.code),
        ("LOT_RECALLED", AlertCode::Recalled)
    );
    let after = chain.leaf(1);
    assert_eq!(after.bottle, before.bottle);
    assert_eq!(after.alerts.total, 1);
    // A sale made before the recall cannot be undone into stock while the lot is recalled.
    let undo = provenance(vec![Op::UndoSale {
        items: vec![bottle(3)],
    }]);
    assert_eq!(chain.refused(STORE, undo), "LOT_RECALLED");
    // The case holds recalled bottles: it goes back to the producer, nowhere else.
    let ship = |to: &str| {
        provenance(vec![Op::Ship {
            roots: vec![Child::Container(case())],
            to: to.into(),
        }])
    };
    assert_eq!(
        chain.refused(STORE, ship("distributor")),
        "RECALLED_NOT_TO_PRODUCER"
    );
    chain
        .apply(STORE, ship("producer"))
        .expect("back to the producer");
    // Ending the recall of B lets its bottle trade again.
    chain
        .apply(PRODUCER, recall("B", false))
        .expect("end recall B");
    chain.apply(STORE, sell(4)).expect("lot B sells again");
    chain.state.check_invariants().expect("invariants");
}

#[test]
fn test_the_verdict_reads_the_lot_recall_from_the_product() {
    let mut chain = Chain::new();
    register(&mut chain);
    let setup = vec![commission(&[1], "A"), commission(&[2], "B")];
    chain.apply(PRODUCER, provenance(setup)).expect("setup");
    chain.apply(PRODUCER, recall("A", true)).expect("recall A");
    let product = chain.state.product(&gtin()).expect("product").clone();
    let recalled = chain.leaf(1);
    let (verdict, alerts) = judge_scan(Some(&recalled), None, Some(&product));
    assert_eq!(verdict, Verdict::Suspect);
    let alert = alerts
        .iter()
        .find(|a| a.code == AlertCode::Recalled)
        .expect("RECALLED");
    assert_eq!(alert.since_ms, Some(ctx(1).time_ms));
    assert!(alert.message.contains("lot A"), "{}", alert.message);
    // Without the product the recall cannot be seen: why an answer must carry it.
    assert_eq!(
        judge_scan(Some(&recalled), None, None).0,
        Verdict::GenuineUnsold
    );
    // Another lot of the same product is not recalled.
    let other = chain.leaf(2);
    assert_eq!(
        judge_scan(Some(&other), None, Some(&product)).0,
        Verdict::GenuineUnsold
    );
    // A bottle recalled by its own flag too gets one RECALLED alert.
    let flag = Op::SetFlag {
        items: vec![bottle(1)],
        flag: crate::provenance::Flag::Recalled,
    };
    chain.apply(PRODUCER, provenance(vec![flag])).expect("flag");
    let both = chain.leaf(1);
    let (_, alerts) = judge_scan(Some(&both), None, Some(&product));
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.code == AlertCode::Recalled)
            .count(),
        1
    );
    assert_eq!(both.bottle.expect("bottle").state, LifeState::Active);
}

/// An EPCIS document of `events`, as a capture payload.
fn capture(events: serde_json::Value) -> Payload {
    let doc = serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-11-28T08:00:00Z",
        "epcisBody": {"eventList": events}
    });
    Payload::Capture {
        document: doc.to_string(),
    }
}

/// The EPCIS form of a lot recall: an ObjectEvent setting (or unsetting) the `recalled`
/// disposition on LGTIN classes.
fn recall_event(classes: &[&str], key: &str) -> serde_json::Value {
    let quantities: Vec<_> = classes
        .iter()
        .map(|c| serde_json::json!({"epcClass": c}))
        .collect();
    serde_json::json!({
        "type": "ObjectEvent", "action": "OBSERVE",
        "eventTime": "2026-11-28T08:00:00Z", "eventTimeZoneOffset": "+08:00",
        "disposition": "recalled",
        "persistentDisposition": {key: ["recalled"]},
        "quantityList": quantities
    })
}

fn recalled_lots(chain: &Chain) -> Vec<Lot> {
    chain
        .state
        .product(&gtin())
        .expect("product")
        .recalled_lots
        .iter()
        .map(|r| r.lot.clone())
        .collect()
}

#[test]
fn test_an_epcis_document_recalls_lots_as_the_recall_tx_does() {
    let mut chain = Chain::new();
    register(&mut chain);
    chain
        .apply(PRODUCER, provenance(vec![commission(&[1], "A")]))
        .expect("bottle of lot A");
    // An LGTIN in EPC URN form (company prefix 9506000, item reference 013435) and one as
    // a Digital Link on the brand's own host: both name this product.
    let urn = "urn:epc:class:lgtin:9506000.013435.A";
    let link = format!("https://brand.example/01/{GTIN}/10/B");
    let receipt = chain
        .apply(
            PRODUCER,
            capture(serde_json::json!([recall_event(&[urn, &link], "set")])),
        )
        .expect("recall document");
    assert!(
        matches!(
            &receipt.events[..],
            [
                Event::LotRecallSet { lot: a, recalled: true, .. },
                Event::LotRecallSet { lot: b, recalled: true, .. },
                Event::EpcisCaptured { events: 1, ops: 0, .. },
            ] if *a == lot("A") && *b == lot("B")
        ),
        "{:?}",
        receipt.events
    );
    let captured = receipt.captured.expect("the receipt carries the document");
    assert_eq!(captured.lot_recalls().count(), 1);
    assert_eq!(recalled_lots(&chain), [lot("A"), lot("B")]);
    // The lifecycle sees it as it sees a recall tx: the bottle of lot A cannot be sold.
    let product = chain.state.product(&gtin()).expect("product").clone();
    assert_eq!(
        judge_scan(Some(&chain.leaf(1)), None, Some(&product)).0,
        Verdict::Suspect
    );
    // Unset ends the recall of one lot.
    chain
        .apply(
            PRODUCER,
            capture(serde_json::json!([recall_event(&[urn], "unset")])),
        )
        .expect("recall ended");
    assert_eq!(recalled_lots(&chain), [lot("B")]);
}

#[test]
fn test_a_recall_document_is_refused_whole_and_changes_nothing() {
    let mut chain = Chain::new();
    register(&mut chain);
    let a = format!("https://id.gs1.org/01/{GTIN}/10/A");
    let b = format!("https://id.gs1.org/01/{GTIN}/10/B");
    let unknown = "https://id.gs1.org/01/09506000134369/10/A";
    // The second lot of the document is already recalled: neither is.
    chain
        .apply(PRODUCER, recall("B", true))
        .expect("B recalled");
    let twice = capture(serde_json::json!([recall_event(&[&a, &b], "set")]));
    assert_eq!(chain.refused(PRODUCER, twice), "LOT_ALREADY_RECALLED");
    // Two events of one document recalling the same lot: the second finds it recalled.
    let same = capture(serde_json::json!([
        recall_event(&[&a], "set"),
        recall_event(&[&a], "set")
    ]));
    assert_eq!(chain.refused(PRODUCER, same), "LOT_ALREADY_RECALLED");
    let nobody = capture(serde_json::json!([recall_event(&[unknown], "set")]));
    assert_eq!(chain.refused(PRODUCER, nobody), "UNKNOWN_PRODUCT");
    // Only the brand owner recalls, whoever captures.
    let by_store = capture(serde_json::json!([recall_event(&[&a], "set")]));
    assert_eq!(chain.refused(STORE, by_store), "PRODUCT_OWNED");
    assert_eq!(recalled_lots(&chain), [lot("B")]);
}

#[test]
fn test_a_lot_recall_in_epcis_is_refused_in_shapes_it_cannot_mean() {
    let mut chain = Chain::new();
    register(&mut chain);
    let a = format!("https://id.gs1.org/01/{GTIN}/10/A");
    let product_class = format!("https://id.gs1.org/01/{GTIN}");
    let item = format!("https://id.gs1.org/01/{GTIN}/21/R000001");
    let mut with_items = recall_event(&[&a], "set");
    with_items["epcList"] = serde_json::json!([item]);
    let commissioning = serde_json::json!({
        "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
        "eventTime": "2026-11-28T07:00:00Z", "eventTimeZoneOffset": "+08:00",
        "epcList": [item]
    });
    let too_many: Vec<String> = (0..=RECALLED_LOTS_MAX)
        .map(|n| format!("https://id.gs1.org/01/{GTIN}/10/L{n}"))
        .collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    for (events, code, words) in [
        (
            serde_json::json!([recall_event(&[&product_class], "set")]),
            "EVENT_INVALID",
            "is not a product's lot (LGTIN)",
        ),
        (
            serde_json::json!([recall_event(&["urn:epc:class:lgtin:9506000.013435"], "set")]),
            "EVENT_INVALID",
            "is not a product's lot (LGTIN)",
        ),
        (
            serde_json::json!([with_items]),
            "EVENT_UNSUPPORTED",
            "recalls items (epcList) and lots (quantityList) in one event",
        ),
        (
            serde_json::json!([commissioning, recall_event(&[&a], "set")]),
            "EVENT_UNSUPPORTED",
            "a document recalls lots (event 1) or records lifecycle steps (event 0), not both",
        ),
        (
            serde_json::json!([recall_event(&too_many, "set")]),
            "EVENT_INVALID",
            "a lot recall names 1 to 64",
        ),
    ] {
        let root = chain.state.root();
        let error = chain.apply(PRODUCER, capture(events)).expect_err("refused");
        assert_eq!(chain.state.root(), root, "{error}: changes nothing");
        assert_eq!(error.code(), code, "{error}");
        assert!(error.to_string().contains(words), "{error}");
    }
    assert!(recalled_lots(&chain).is_empty());
}
