//! The consumer page in a real browser: a 4-validator cluster finalizes a bottle's journey,
//! then headless Chromium opens the bottles' Digital Link addresses on a node and the test
//! reads what a person sees: the verdict sentence, the history, the alerts, and whether the
//! browser's own proof check passed. A proxy that alters the node's answers on the way shows
//! the page names the step that fails.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use jiu_contracts::gs1::{parse_code, Code, Sgtin};
use jiu_contracts::provenance::{Child, ContainerId, Flag, Op};
use jiu_contracts::{Payload, PublicKey, SignedTx, TxBody};
use jiu_tests::browser::{chromium, chromium_version, dump_dom, visible_text, Tamper, TamperProxy};
use jiu_tests::{serial, Cluster};
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);
const GTIN: &str = "09506000134352";
/// The lot the bottles were filled from.
const LOT: &str = "L2026-07";

fn org_key(cluster: &Cluster, org: &str) -> SigningKey {
    let path = cluster.net_dir().join("orgs").join(format!("{org}.json"));
    jiu_genesis::keys::read_key_file(&path).expect("org key")
}

fn sgtin(serial: &str) -> Sgtin {
    match parse_code(&format!("(01){GTIN}(21){serial}")) {
        Ok(Code::Item(sgtin)) => sgtin,
        other => panic!("test code {serial}: {other:?}"),
    }
}

fn case() -> ContainerId {
    ContainerId::Case(sgtin("CASE0001"))
}

/// Submits a provenance tx to node 0 and waits until the cluster finalizes it; returns the
/// height it was finalized at.
async fn finalize(
    cluster: &Cluster,
    key: &SigningKey,
    chain_id: &str,
    nonce: u64,
    payload: Payload,
) -> u64 {
    let body = TxBody {
        chain_id: chain_id.to_string(),
        signer: PublicKey::from_signing_key(key),
        nonce,
        expires_at_height: 500,
        payload,
    };
    let tx = SignedTx::sign(body, key);
    let (status, answer) = cluster
        .post(0, "/tx", &json!({ "tx": hex::encode(tx.encode()) }))
        .await;
    assert_eq!(status, 200, "submit refused: {answer}");
    let id = answer["tx_id"].as_str().expect("tx id");
    let status = cluster.wait_final(0, id).await;
    status["height"].as_u64().expect("height")
}

/// What a person sees on `url` once the page has run.
async fn page(url: String) -> String {
    let load = url.clone();
    let dom = tokio::task::spawn_blocking(move || dump_dom(&load))
        .await
        .expect("chromium task");
    let text = visible_text(&dom);
    eprintln!("--- {url}\n{text}");
    text
}

fn bottle_path(serial: &str) -> String {
    format!("/01/{GTIN}/21/{serial}")
}

fn assert_shows(text: &str, wanted: &[&str]) {
    for want in wanted {
        assert!(
            text.contains(want),
            "the page does not show {want:?}; it shows:\n{text}"
        );
    }
}

fn assert_hides(text: &str, unwanted: &[&str]) {
    for word in unwanted {
        assert!(
            !text.contains(word),
            "the page shows {word:?}; it shows:\n{text}"
        );
    }
}

fn iso_date(time_ms: u64) -> String {
    // Days since the epoch to a civil date (Howard Hinnant's algorithm), as the page shows it.
    let days = (time_ms / 86_400_000) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn flip_record_byte(answer: &mut Value) {
    let record = answer["proof"]["record_hex"].as_str().expect("record hex");
    let mut bytes = hex::decode(record).expect("hex");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    answer["proof"]["record_hex"] = json!(hex::encode(bytes));
}

fn flip_signature_byte(answer: &mut Value) {
    let signature = &mut answer["proof"]["certificate"]["signatures"][0]["signature"];
    let mut bytes = hex::decode(signature.as_str().expect("signature")).expect("hex");
    bytes[9] ^= 0x01;
    *signature = json!(hex::encode(bytes));
}

fn shift_block_time(answer: &mut Value) {
    let time = &mut answer["proof"]["header"]["time_ms"];
    *time = json!(time.as_u64().expect("time") + 1);
}

fn stronger_product(answer: &mut Value) {
    answer["product"]["abv_bp"] = json!(6000);
}

fn forget_recall(answer: &mut Value) {
    answer["proof"]["product"]["product"]["recalled_lots"] = json!([]);
    answer["verdict"] = json!("GENUINE_UNSOLD");
}

fn drop_product(answer: &mut Value) {
    answer["proof"]["product"] = Value::Null;
    answer["product"] = Value::Null;
    answer["verdict"] = json!("GENUINE_UNSOLD");
}

/// A product answer that hides the lot's recall, with the proven product left as it is.
fn hide_lot_recall(answer: &mut Value) {
    answer["lot"]["recalled"] = json!(false);
    answer["lot"]["recall"] = Value::Null;
}

/// An unregistered GTIN's answer whose first neighbouring leaf lost a byte's bit.
fn alter_absence_neighbour(answer: &mut Value) {
    let leaf = &mut answer["proof"]["absence"]["before"]["leaf_bytes"];
    let mut bytes = hex::decode(leaf.as_str().expect("leaf bytes")).expect("hex");
    bytes[12] ^= 0x01;
    *leaf = json!(hex::encode(bytes));
}

/// A product answer whose proven product, recalled lots and lot status all leave the
/// recall out.
fn forget_product_recall(answer: &mut Value) {
    answer["proof"]["product"]["product"]["recalled_lots"] = json!([]);
    answer["recalled_lots"] = json!([]);
    hide_lot_recall(answer);
}

fn hide_sale(answer: &mut Value) {
    answer["verdict"] = json!("GENUINE_UNSOLD");
    answer["state"] = json!("IN_STOCK");
    if let Some(object) = answer.as_object_mut() {
        object.remove("sale");
    }
}

/// Three bottles: 1 and 2 travel in a case from the producer through a distributor to the
/// store, which sells 2 in Guiyang; 3 stays with the producer and is recalled. Returns the
/// height of the sale.
async fn bottle_journey(cluster: &Cluster, chain_id: &str) -> u64 {
    let producer = org_key(cluster, "producer");
    let distributor = org_key(cluster, "distributor-1");
    let store = org_key(cluster, "store-1");
    let bottles = || vec![sgtin("B000001"), sgtin("B000002"), sgtin("B000003")];
    let in_case = || vec![Child::Container(case())];
    let steps: [(&SigningKey, Vec<Op>); 4] = [
        (
            &producer,
            vec![
                Op::Commission {
                    items: bottles(),
                    lot: Some(jiu_contracts::gs1::Lot::parse(LOT).expect("lot")),
                },
                Op::Pack {
                    parent: case(),
                    children: vec![
                        Child::Bottle(sgtin("B000001")),
                        Child::Bottle(sgtin("B000002")),
                    ],
                },
            ],
        ),
        (
            &producer,
            vec![
                Op::Ship {
                    roots: in_case(),
                    to: "distributor-1".into(),
                },
                Op::SetFlag {
                    items: vec![sgtin("B000003")],
                    flag: Flag::Recalled,
                },
            ],
        ),
        (
            &distributor,
            vec![
                Op::Receive { roots: in_case() },
                Op::Ship {
                    roots: in_case(),
                    to: "store-1".into(),
                },
            ],
        ),
        (
            &store,
            vec![
                Op::Receive { roots: in_case() },
                Op::Sell {
                    items: vec![sgtin("B000002")],
                    city: "Guiyang".into(),
                },
            ],
        ),
    ];
    // The product's master data, which the page shows once its proof checks out.
    let product = Payload::SetProduct {
        gtin: jiu_contracts::gs1::Gtin::parse("09506000134352").expect("gtin"),
        name: "Reserve Baijiu".into(),
        volume_ml: 500,
        abv_bp: 5300,
    };
    finalize(cluster, &producer, chain_id, 100, product).await;
    let mut sold_at = 0;
    for (nonce, (key, ops)) in steps.into_iter().enumerate() {
        let ops = Payload::Provenance { ops };
        sold_at = finalize(cluster, key, chain_id, nonce as u64, ops).await;
    }
    sold_at
}

/// Answers altered between the node and the browser: each must name its failing step.
async fn check_tampered_answers(node: &str) {
    let tampered: [(Tamper, &str, &[&str]); 5] = [
        (
            flip_record_byte,
            "B000001",
            &[
                "Proof failed at step 1: the bottle's record is in the chain's records tree",
                "the record bytes are not the ones in the tree: they were altered",
            ],
        ),
        (
            shift_block_time,
            "B000001",
            &["Proof failed at step 3: the block header hashes to the signed block id"],
        ),
        (
            flip_signature_byte,
            "B000001",
            &[
                "Proof failed at step 4: more than two thirds of the validators signed the block",
                "does not verify: forged or altered",
            ],
        ),
        (
            stronger_product,
            "B000001",
            &[
                "Proof failed at step 5",
                "the product shown is not the proven product",
            ],
        ),
        (
            hide_sale,
            "B000002",
            &[
                "Proof failed at step 5",
                "the node says GENUINE_UNSOLD, but the proven record says GENUINE_SOLD",
            ],
        ),
    ];
    for (tamper, serial, wanted) in tampered {
        let proxy = TamperProxy::start(node, tamper).await;
        let text = page(format!("{}{}", proxy.url, bottle_path(serial))).await;
        assert_shows(
            &text,
            &[
                "Cannot be trusted",
                "Do not rely on it.",
                "come from an answer that failed its proof check",
            ],
        );
        assert_shows(&text, wanted);
        assert_hides(&text, &["Proof verified"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_shows_verdicts_history_and_checks_proofs() {
    chromium(); // fails here, with the fix, on a machine without a browser
    eprintln!("browser: {}", chromium_version());
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 31600, 31700);
    // Node 3 serves its RPC over HTTPS (a phone's browser checks proofs only on a secure
    // page), with a self-signed certificate the browser is told to accept.
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("certificate");
    let cert = cluster.dir.path().join("rpc-cert.pem");
    let key = cluster.dir.path().join("rpc-key.pem");
    std::fs::write(&cert, made.cert.pem()).expect("write cert");
    std::fs::write(&key, made.key_pair.serialize_pem()).expect("write key");
    cluster.set_config(
        3,
        "rpc_tls_cert",
        &format!("{:?}", cert.display().to_string()),
    );
    cluster.set_config(
        3,
        "rpc_tls_key",
        &format!("{:?}", key.display().to_string()),
    );
    cluster.start_all();
    cluster.wait_height(0, 2, MINUTE).await;
    let status = cluster.get(0, "/status").await.expect("status");
    let chain_id = status["chain"]["chain_id"]
        .as_str()
        .expect("chain id")
        .to_string();
    let genesis_hash = status["chain"]["genesis_hash"]
        .as_str()
        .expect("genesis hash")
        .to_string();
    let from_file = jiu_genesis::Genesis::load(&cluster.net_dir().join("genesis.json"))
        .expect("genesis file")
        .hash_hex();
    assert_eq!(genesis_hash, from_file);

    let sold_at = bottle_journey(&cluster, &chain_id).await;
    let sale_block = cluster
        .get(0, &format!("/block/{sold_at}"))
        .await
        .expect("block");
    let sale_date = iso_date(
        sale_block["header"]["time_ms"]
            .as_u64()
            .expect("block time"),
    );
    let node = cluster.rpcs[1].clone();

    // (i) A genuine bottle in stock at the store.
    let text = page(format!("{node}{}", bottle_path("B000001"))).await;
    let genesis_words = format!("of the chain whose genesis hash is {genesis_hash}");
    assert_shows(
        &text,
        &[
            "Genuine. This bottle has not been sold yet.",
            "Product Reserve Baijiu",
            "Bottle 500 ml, 53.00% alcohol",
            "Producer Devnet Producer",
            &format!("Lot {LOT}"),
            "Now In stock",
            "Held by Devnet Store 1",
            "Filled, labelled and registered by Devnet Producer",
            "Packed by Devnet Producer",
            "Shipped by Devnet Producer to a licensed distributor, with the case it was in",
            "Received by a licensed distributor, with the case it was in",
            "Shipped by a licensed distributor to Devnet Store 1, with the case it was in",
            "Received by Devnet Store 1, with the case it was in",
            "Checked 1 time on this node",
            "Proof verified",
            "OK The bottle's record is in the chain's records tree",
            "OK The records tree is part of the signed block's state",
            "OK The block header hashes to the signed block id",
            "OK More than two thirds of the validators signed the block",
            "OK The verdict, state, lot and sale shown here match the proven record",
            &genesis_words,
        ],
    );
    assert!(
        text.contains("signed by 3 of 4 validators")
            || text.contains("signed by 4 of 4 validators"),
        "no quorum named: {text}"
    );
    assert_hides(
        &text,
        &[
            "Sold by",
            "Proof failed",
            "FAILED",
            "distributor-1",
            "Alerts",
        ],
    );

    // (i-a) The same page from the node that serves HTTPS: the browser checks the proof
    // there too.
    let https = cluster.rpcs[3].replace("http://", "https://");
    let text = page(format!("{https}{}", bottle_path("B000001"))).await;
    assert_shows(
        &text,
        &[
            "Genuine. This bottle has not been sold yet.",
            "Proof verified",
        ],
    );

    // (i-b) The same bottle through a label naming another lot: the page says why it is
    // suspect and still verifies the proof (it compares the lot in its own address).
    let text = page(format!("{node}/01/{GTIN}/10/L1999-01/21/B000001")).await;
    assert_shows(
        &text,
        &[
            "Suspect. This code was put on a bottle of another lot than the label says",
            "critical The lot on the label does not match the record",
            &format!("the code names lot L1999-01, but the chain recorded lot {LOT}"),
            "Proof verified",
            "OK The verdict, state, lot and sale shown here match the proven record",
        ],
    );
    // ... and through a label naming its own lot: genuine, as without one.
    let text = page(format!("{node}/01/{GTIN}/10/{LOT}/21/B000001")).await;
    assert_shows(
        &text,
        &[
            "Genuine. This bottle has not been sold yet.",
            "Proof verified",
        ],
    );
    assert_hides(&text, &["Alerts", "Proof failed"]);

    // (ii) The sold bottle, checked by a buyer about to pay: the query string reaches the node.
    let text = page(format!(
        "{node}{}?intent=pre_sale&city=Shanghai",
        bottle_path("B000002")
    ))
    .await;
    assert_shows(
        &text,
        &[
            &format!(
                "Genuine. This bottle was already sold on {sale_date} in Guiyang. If it is offered \
                 to you as new, do not buy it."
            ),
            "critical Already sold this bottle was already sold in Guiyang; do not buy it as new",
            &format!("Sold by Devnet Store 1 in Guiyang on {sale_date}."),
            "Received by Devnet Store 1, with the case it was in",
            "Sold by Devnet Store 1 in Guiyang",
            "from 1 city in the last 30 days",
            "Proof verified",
        ],
    );

    // (iii) The recalled bottle.
    let text = page(format!("{node}{}", bottle_path("B000003"))).await;
    assert_shows(
        &text,
        &[
            "Suspect. This bottle was recalled by its producer.",
            "critical Recalled by the producer",
            "Flags recalled",
            "Flagged by Devnet Producer",
            "Proof verified",
        ],
    );
    assert_hides(&text, &["Shipped"]);

    // (iv) A serial the chain never heard of: proven absent.
    let text = page(format!("{node}{}", bottle_path("B000099"))).await;
    assert_shows(
        &text,
        &[
            "Unknown. The chain has no record of this code.",
            "critical No record of this code",
            "the chain proves it holds no record of (01)09506000134352(21)B000099",
            "Proof verified",
        ],
    );

    // (v) A code that is not valid at all (wrong check digit).
    let text = page(format!("{node}/01/09506000134353/21/B000001")).await;
    assert_shows(
        &text,
        &[
            "This is not a valid bottle code. Scan it again.",
            "Nothing to prove",
        ],
    );
    assert_hides(&text, &["Proof verified"]);

    // (vi) Answers altered on their way to the browser.
    check_tampered_answers(&node).await;

    // (vii) A link may pin the chain (`#genesis=<hash>`, never sent to the node): another
    // chain's hash fails at the signatures, the right one passes.
    let other = "ab".repeat(32);
    let text = page(format!("{node}{}#genesis={other}", bottle_path("B000001"))).await;
    assert_shows(
        &text,
        &[
            "Proof failed at step 4",
            &format!("this link expects the chain with genesis hash {other}"),
        ],
    );
    let text = page(format!(
        "{node}{}#genesis={genesis_hash}",
        bottle_path("B000001")
    ))
    .await;
    assert_shows(&text, &["Proof verified", "the one this link expects"]);

    // (viii) The producer recalls the bottles' lot: the unsold bottle in the store is now
    // suspect, which the page proves from the product's recalled lots; a node hiding the
    // recall, or the product that lists it, is caught.
    let recall = Payload::RecallLot {
        gtin: jiu_contracts::gs1::Gtin::parse(GTIN).expect("gtin"),
        lot: jiu_contracts::gs1::Lot::parse(LOT).expect("lot"),
        recalled: true,
    };
    let recalled_at = finalize(
        &cluster,
        &org_key(&cluster, "producer"),
        &chain_id,
        101,
        recall,
    )
    .await;
    cluster.wait_height(1, recalled_at, MINUTE).await;
    let text = page(format!("{node}{}", bottle_path("B000001"))).await;
    assert_shows(
        &text,
        &[
            "Suspect. The producer recalled the lot this bottle was filled from.",
            "critical Recalled by the producer",
            &format!("lot {LOT} recalled by producer"),
            "Proof verified",
        ],
    );
    let hidden: [(Tamper, &str); 2] = [
        (
            forget_recall,
            "the product's path does not lead to the block's state root",
        ),
        (
            drop_product,
            "the node leaves out the product of a bottle of lot L2026-07, so its recall status is unproven",
        ),
    ];
    for (tamper, wanted) in hidden {
        let proxy = TamperProxy::start(&node, tamper).await;
        let text = page(format!("{}{}", proxy.url, bottle_path("B000001"))).await;
        assert_shows(
            &text,
            &["Cannot be trusted", "Proof failed at step 5", wanted],
        );
        assert_hides(&text, &["Proof verified"]);
    }

    // (ix) A label with GTIN and lot but no serial (a case label, or a bottle barcode
    // without one) and the product's own address: the page says whether the lot is
    // recalled and proves it from the product's entry in the signed state.
    let lot_answer = cluster
        .get(1, &format!("/01/{GTIN}/10/{LOT}"))
        .await
        .expect("lot answer");
    let recall_date = iso_date(
        lot_answer["lot"]["recall"]["since_ms"]
            .as_u64()
            .expect("recall time"),
    );
    let text = page(format!("{node}/01/{GTIN}/10/{LOT}")).await;
    assert_shows(
        &text,
        &[
            "Lot recalled",
            &format!(
                "The producer recalled lot {LOT} of Reserve Baijiu on {recall_date}. Do not drink \
                 bottles of this lot"
            ),
            "This lot",
            &format!("Lot {LOT} (recalled)"),
            &format!("Recalled by Devnet Producer on {recall_date}."),
            "Proof verified",
            "OK The product's entry is part of the signed block's state",
            "OK The block header hashes to the signed block id",
            "OK More than two thirds of the validators signed the block",
            "OK The product, its recalled lots and the lot's status shown here match the proven entry",
            "The proof covers the product, its recalled lots and the lot's status",
        ],
    );
    assert_hides(&text, &["Proof failed", "Lot not recalled"]);
    let text = page(format!("{node}/01/{GTIN}/10/L1999-01")).await;
    assert_shows(
        &text,
        &[
            "Lot not recalled",
            "The producer has not recalled lot L1999-01 of Reserve Baijiu.",
            "Lot L1999-01 (not recalled)",
            &format!("Lot {LOT} Recalled by Devnet Producer on {recall_date}."),
            "Proof verified",
        ],
    );
    let text = page(format!("{node}/01/{GTIN}")).await;
    assert_shows(
        &text,
        &[
            "Product on record",
            "Reserve Baijiu is registered by Devnet Producer. 1 lot of it is recalled (below).",
            "This product",
            "Bottle 500 ml, 53.00% alcohol",
            &format!("Lot {LOT} Recalled by Devnet Producer on {recall_date}."),
            "Proof verified",
        ],
    );
    // A product nobody registered: the page says so, and checks the proof that the
    // chain's registry has no such GTIN.
    let text = page(format!("{node}/01/09506000134369")).await;
    assert_shows(
        &text,
        &[
            "Product not on record",
            "No producer on this chain registered the product 09506000134369.",
            "The signed block's state has no product of this GTIN",
            "Proof verified",
        ],
    );
    assert_hides(&text, &["Could not check", "Product on record"]);
    // Lot answers altered on their way: each is caught at its step.
    let tampered: [(Tamper, &str); 3] = [
        (
            hide_lot_recall,
            "Proof failed at step 4: the product, its recalled lots and the lot's status shown \
             here match the proven entry",
        ),
        (
            forget_product_recall,
            "Proof failed at step 1: the product's entry is part of the signed block's state",
        ),
        (
            flip_signature_byte,
            "Proof failed at step 3: more than two thirds of the validators signed the block",
        ),
    ];
    for (tamper, wanted) in tampered {
        let proxy = TamperProxy::start(&node, tamper).await;
        let text = page(format!("{}/01/{GTIN}/10/{LOT}", proxy.url)).await;
        assert_shows(
            &text,
            &[
                "Cannot be trusted",
                "cannot tell whether this product or lot is recalled",
                "(The answer claimed: Lot ",
                wanted,
            ],
        );
        assert_hides(&text, &["Proof verified"]);
    }
    // The absence answer altered on its way: caught at its first step.
    let proxy = TamperProxy::start(&node, alter_absence_neighbour).await;
    let text = page(format!("{}/01/09506000134369", proxy.url)).await;
    assert_shows(
        &text,
        &["Proof failed at step 1: the signed block's state has no product of this gtin"],
    );
    assert_hides(&text, &["Proof verified"]);
    drop(proxy);
    // (x) The CLI reaches the HTTPS node too, trusting the certificate as a system CA
    // (`SSL_CERT_FILE`): a recall sent there is final, and the page shows it.
    let key_file = cluster.net_dir().join("orgs").join("producer.json");
    let output = tokio::process::Command::new(jiu_tests::jiu_bin())
        .args([
            "tx",
            "recall-lot",
            "--rpc",
            &https,
            "--gtin",
            GTIN,
            "--lot",
            "L-HTTPS",
        ])
        .arg("--key")
        .arg(&key_file)
        .arg("--wait")
        .env("SSL_CERT_FILE", &cert)
        .output()
        .await
        .expect("run jiu");
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && said.contains("finalized"),
        "{said}"
    );
    let text = page(format!("{https}/01/{GTIN}/10/L-HTTPS")).await;
    assert_shows(&text, &["Lot recalled", "Proof verified"]);

    let proxy = TamperProxy::start(&node, hide_lot_recall).await;
    let text = page(format!("{}/01/{GTIN}/10/{LOT}", proxy.url)).await;
    assert_shows(
        &text,
        &[&format!(
            "the node says lot {LOT} is not recalled, the proven product says it is"
        )],
    );
}
