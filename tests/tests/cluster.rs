//! Multi-process scenarios: 4 validators on 127.0.0.1 finalize signed transactions, agree
//! block by block, survive kill -9, refuse a node that is not in the genesis, and serve one
//! that their config lists as a follower.

use std::collections::BTreeSet;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use jiu_contracts::{sha256, Payload, PublicKey, SignedTx, TxBody};
use jiu_tests::{jiu_result, serial, Cluster};
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);

fn org_key(cluster: &Cluster, org: &str) -> SigningKey {
    let path = cluster.net_dir().join("orgs").join(format!("{org}.json"));
    jiu_genesis::keys::read_key_file(&path).expect("org key")
}

fn anchor(key: &SigningKey, chain_id: &str, nonce: u64, expires: u64, record: &str) -> SignedTx {
    let body = TxBody {
        chain_id: chain_id.to_string(),
        signer: PublicKey::from_signing_key(key),
        nonce,
        expires_at_height: expires,
        payload: Payload::Anchor {
            record_hash: sha256(&[record.as_bytes()]),
            data: Vec::new(),
        },
    };
    SignedTx::sign(body, key)
}

fn tx_json(tx: &SignedTx) -> Value {
    json!({ "tx": hex::encode(tx.encode()) })
}

async fn submit_ok(cluster: &Cluster, node: usize, tx: &SignedTx) -> String {
    let (status, body) = cluster.post(node, "/tx", &tx_json(tx)).await;
    assert_eq!(status, 200, "submit refused: {body}");
    body["tx_id"].as_str().expect("tx id").to_string()
}

async fn submit_err(cluster: &Cluster, node: usize, body: &Value) -> (u16, String) {
    let (status, answer) = cluster.post(node, "/tx", body).await;
    let code = answer["error"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_string();
    (status, code)
}

async fn tx_status(cluster: &Cluster, node: usize, tx: &SignedTx) -> Value {
    let id = hex::encode(tx.id());
    cluster
        .get(node, &format!("/tx/{id}"))
        .await
        .expect("tx status")
}

async fn validator_addresses(cluster: &Cluster) -> BTreeSet<String> {
    let status = cluster.get(0, "/status").await.expect("status");
    status["validators"]
        .as_array()
        .expect("validators")
        .iter()
        .map(|v| v["address"].as_str().expect("address").to_string())
        .collect()
}

/// Checks that nodes agree on heights 1..=height and every certificate is a quorum of
/// genesis validators.
async fn assert_same_chain(cluster: &Cluster, nodes: &[usize], height: u64) {
    let validators = validator_addresses(cluster).await;
    for h in 1..=height {
        let mut ids = BTreeSet::new();
        let mut roots = BTreeSet::new();
        for &i in nodes {
            let block = cluster.get(i, &format!("/block/{h}")).await.expect("block");
            ids.insert(block["block_id"].to_string());
            roots.insert(block["header"]["state_root"].to_string());
            let signers: BTreeSet<String> = block["certificate"]["signatures"]
                .as_array()
                .expect("signatures")
                .iter()
                .map(|s| s["address"].as_str().expect("address").to_string())
                .collect();
            assert!(
                signers.is_subset(&validators),
                "height {h}: non-validator signed"
            );
            assert!(
                signers.len() * 3 > validators.len() * 2,
                "height {h}: {} signatures is not a quorum of {}",
                signers.len(),
                validators.len()
            );
            assert_eq!(block["certificate"]["block_id"], block["block_id"]);
        }
        assert_eq!(ids.len(), 1, "nodes disagree on block {h}: {ids:?}");
        assert_eq!(
            roots.len(),
            1,
            "nodes disagree on state root {h}: {roots:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_finalizes_signed_txs_with_identical_blocks() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 31000, 31100);
    cluster.start_all();
    cluster.wait_height(0, 2, MINUTE).await;
    let status = cluster.get(0, "/status").await.expect("status");
    let chain_id = status["chain"]["chain_id"]
        .as_str()
        .expect("chain id")
        .to_string();
    let producer = org_key(&cluster, "producer");
    let store = org_key(&cluster, "store-1");

    let mut ids = Vec::new();
    let mut txs = Vec::new();
    for n in 0..8u64 {
        let key = if n % 2 == 0 { &producer } else { &store };
        let tx = anchor(key, &chain_id, n, 500, &format!("record-{n}"));
        ids.push(submit_ok(&cluster, (n % 4) as usize, &tx).await);
        txs.push(tx);
    }

    // Bad input gets a typed error and is never admitted.
    let mut forged = anchor(&producer, &chain_id, 100, 500, "forged");
    forged.signature[0] ^= 1;
    assert_eq!(
        submit_err(&cluster, 0, &tx_json(&forged)).await,
        (400, "BAD_SIGNATURE".into())
    );
    let other_chain = anchor(&producer, "other-chain", 101, 500, "x");
    assert_eq!(
        submit_err(&cluster, 1, &tx_json(&other_chain)).await,
        (400, "WRONG_CHAIN_ID".into())
    );
    let stranger = SigningKey::from_bytes(&[42; 32]);
    let unknown = anchor(&stranger, &chain_id, 102, 500, "x");
    assert_eq!(
        submit_err(&cluster, 2, &tx_json(&unknown)).await,
        (400, "UNKNOWN_SIGNER".into())
    );
    let auditor = org_key(&cluster, "auditor-1");
    let wrong_role = anchor(&auditor, &chain_id, 103, 500, "x");
    assert_eq!(
        submit_err(&cluster, 3, &tx_json(&wrong_role)).await,
        (400, "UNAUTHORIZED".into())
    );
    // One byte over the tx limit: the body fits, the decoded tx does not.
    let over_tx_limit = json!({ "tx": "00".repeat(jiu_contracts::TX_BYTES_MAX + 1) });
    assert_eq!(
        submit_err(&cluster, 0, &over_tx_limit).await,
        (400, "OVERSIZED".into())
    );
    // A body over the RPC's limit is refused before it is read.
    let big = json!({ "tx": "00".repeat(jiu_contracts::TX_BYTES_MAX + 4096) });
    assert_eq!(
        submit_err(&cluster, 0, &big).await,
        (413, "OVERSIZED".into())
    );
    let (status, body) = cluster.post(0, "/tx", &json!("not an object")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("MALFORMED_JSON"))
    );
    let expired = anchor(&producer, &chain_id, 104, 1, "late");
    assert_eq!(
        submit_err(&cluster, 0, &tx_json(&expired)).await,
        (400, "EXPIRED".into())
    );

    for i in 0..4 {
        cluster.wait_height(i, 20, 2 * MINUTE).await;
    }
    assert_same_chain(&cluster, &[0, 1, 2, 3], 20).await;

    for id in &ids {
        let mut heights = BTreeSet::new();
        for i in 0..4 {
            let status = cluster
                .get(i, &format!("/tx/{id}"))
                .await
                .expect("tx status");
            assert_eq!(status["status"], "finalized", "node {i}: {status}");
            heights.insert(status["height"].as_u64().expect("height"));
        }
        assert_eq!(heights.len(), 1, "tx {id} finalized at different heights");
    }
    // A block answer checks out offline against the genesis alone, and tampering is caught.
    let finalized_at = cluster
        .get(0, &format!("/tx/{}", ids[0]))
        .await
        .expect("tx")["height"]
        .as_u64()
        .expect("height");
    let answer = cluster
        .get(1, &format!("/block/{finalized_at}"))
        .await
        .expect("block");
    assert!(!answer["txs"].as_array().expect("txs").is_empty());
    let genesis = cluster.net_dir().join("genesis.json");
    let check = |answer: &Value| {
        let file = cluster.dir.path().join("answer.json");
        std::fs::write(&file, answer.to_string()).expect("write answer");
        jiu_tests::jiu_result(&[
            "verify",
            "block",
            file.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
        ])
    };
    let (ok, out) = check(&answer);
    assert!(ok, "genuine block refused: {out}");
    let mut tampered = answer.clone();
    tampered["txs"][0]["body"]["nonce"] = json!(999_999);
    let (ok, out) = check(&tampered);
    assert!(!ok && out.contains("transactions hash to"), "{out}");
    let mut forged_cert = answer.clone();
    let sig = forged_cert["certificate"]["signatures"][0]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    forged_cert["certificate"]["signatures"][0]["signature"] =
        json!(format!("{flipped}{}", &sig[1..]));
    let (ok, out) = check(&forged_cert);
    assert!(!ok && out.contains("does not verify"), "{out}");
    let mut thin = answer.clone();
    thin["certificate"]["signatures"]
        .as_array_mut()
        .unwrap()
        .truncate(2);
    let (ok, out) = check(&thin);
    assert!(!ok && out.contains("more than two thirds"), "{out}");

    // The same transaction again is a replay.
    assert_eq!(
        submit_err(&cluster, 2, &tx_json(&txs[0])).await,
        (400, "REPLAYED".into())
    );
    assert_eq!(tx_status(&cluster, 0, &forged).await["status"], "unknown");
    let metrics = cluster.get(0, "/health").await.expect("health");
    assert_eq!(metrics["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_kill9_node_restarts_and_catches_up() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 31200, 31300);
    cluster.start_all();
    cluster.wait_height(3, 5, MINUTE).await;
    cluster.kill9(3);
    let before = cluster.height(0).await.expect("height");
    // Three of four validators are more than two thirds: the chain goes on.
    cluster.wait_height(0, before + 8, 2 * MINUTE).await;
    cluster.start(3);
    let target = cluster.height(0).await.expect("height") + 2;
    cluster.wait_height(3, target, 2 * MINUTE).await;
    assert_same_chain(&cluster, &[0, 3], target).await;
    // A graceful stop and restart loses nothing either.
    cluster.terminate(1);
    let now = cluster.height(0).await.expect("height");
    cluster.wait_height(0, now + 3, 2 * MINUTE).await;
    cluster.start(1);
    let target = cluster.height(0).await.expect("height") + 2;
    cluster.wait_height(1, target, 2 * MINUTE).await;
    assert_same_chain(&cluster, &[0, 1, 3], target).await;
    // And the restarted nodes take part again: the chain still advances with node 0 down.
    cluster.kill9(0);
    let now = cluster.height(3).await.expect("height");
    cluster.wait_height(3, now + 5, 2 * MINUTE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_outside_genesis_cannot_take_part() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 31400, 31500);
    cluster.start_all();
    cluster.add_outsider("outsider", 31450, 31550);
    cluster.start(4);
    cluster.wait_height(0, 10, 2 * MINUTE).await;
    let outsider_status = cluster.get(4, "/status").await.expect("outsider answers");
    let outsider_address = outsider_status["node"]["address"]
        .as_str()
        .unwrap()
        .to_string();
    // Blocks are public (any client may GET /block/{h}); what a node outside the genesis
    // must never do is take part: no vote of it counts, it is in no certificate, it proposes
    // nothing and admits no tx. The pinned-peer transport drops it, but in the moment before
    // (longer on a loaded machine) value sync may hand it a few blocks: if it holds any,
    // they are the validators' own, signed by validators only.
    let outsider_height = outsider_status["latest"]["height"].as_u64().unwrap_or(0);
    if outsider_height > 0 {
        assert_same_chain(&cluster, &[0, 4], outsider_height.min(10)).await;
    }
    let validators = validator_addresses(&cluster).await;
    assert!(!validators.contains(&outsider_address));
    // It refuses transactions it could never propose, with a typed error.
    let chain_id = outsider_status["chain"]["chain_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tx = anchor(
        &org_key(&cluster, "producer"),
        &chain_id,
        1,
        500,
        "to a follower",
    );
    assert_eq!(
        submit_err(&cluster, 4, &tx_json(&tx)).await,
        (503, "NOT_A_VALIDATOR".into())
    );
    assert_same_chain(&cluster, &[0, 1], 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_listed_in_peers_follows_and_answers_with_proofs() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 32400, 32500);
    let (follower, peer) = cluster.add_outsider("store-node", 32450, 32550);
    // Two of the four validators serve it: it hears their consensus messages and fetches
    // decided blocks from them by value sync. It lists them, so it dials only them; the
    // other two would drop its connections.
    cluster.set_list(0, "peers", &[&peer]);
    cluster.set_list(1, "peers", &[&peer]);
    for validator in 0..4 {
        cluster.start(validator);
    }
    cluster.wait_height(0, 2, MINUTE).await;
    let mut serving = Vec::new();
    for validator in 0..2 {
        let status = cluster.get(validator, "/status").await.expect("status");
        let id = status["node"]["peer_id"]
            .as_str()
            .expect("peer id")
            .to_string();
        serving.push(format!("/ip4/127.0.0.1/tcp/{}/p2p/{id}", 32400 + validator));
    }
    cluster.set_list(follower, "peers", &[&serving[0], &serving[1]]);
    // It hands transactions to validator 1 when the first validator it lists (nothing
    // listens there) does not answer.
    cluster.set_list(
        follower,
        "submit_to",
        &["http://127.0.0.1:9", &cluster.rpcs[1].clone()],
    );
    cluster.start(follower);
    cluster.wait_height(follower, 1, MINUTE).await;
    let status = cluster
        .get(follower, "/status")
        .await
        .expect("follower answers");
    assert_eq!(status["node"]["role"], "follower", "{status}");
    let validator = cluster.get(2, "/status").await.expect("status");
    assert_eq!(validator["node"]["role"], "validator", "{validator}");
    let chain_id = status["chain"]["chain_id"].as_str().unwrap().to_string();
    let producer = org_key(&cluster, "producer");

    let id = submit_ok(&cluster, 0, &anchor(&producer, &chain_id, 1, 500, "seen")).await;
    let done = cluster.wait_final(0, &id).await;
    let height = done["height"].as_u64().expect("height");
    let seen = cluster.wait_final(follower, &id).await;
    assert_eq!(seen["height"], done["height"], "{seen}");
    // The same blocks, each with a certificate of genesis validators only.
    assert_same_chain(&cluster, &[0, follower], height).await;
    let address = status["node"]["address"].as_str().unwrap();
    assert!(!validator_addresses(&cluster).await.contains(address));

    // Connected to the two validators that list it, not to the two that do not (counts
    // are sampled each second: wait for them).
    let nodes = &cluster;
    let peers = |node: usize| async move {
        nodes.get(node, "/status").await.expect("status")["peers"].as_u64()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut counts = (None, None, None);
    while std::time::Instant::now() < deadline {
        counts = (peers(follower).await, peers(0).await, peers(2).await);
        if counts == (Some(2), Some(4), Some(3)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        counts,
        (Some(2), Some(4), Some(3)),
        "peers of the follower, node 0, node 2"
    );
    // Listing its validators, it never dialled the others (each would refuse it).
    let follower_id = status["node"]["peer_id"].as_str().expect("peer id");
    let log = std::fs::read_to_string(cluster.homes[2].join("node.log")).expect("log");
    assert!(!log.contains(follower_id), "node 2 saw the follower");

    // A point of sale submits to the store's node, which checks the tx and hands it on.
    let tx = anchor(&producer, &chain_id, 2, 500, "to a follower");
    let id = submit_ok(&cluster, follower, &tx).await;
    let status = cluster
        .get(follower, &format!("/tx/{id}"))
        .await
        .expect("tx");
    assert!(
        ["forwarded", "finalized"].contains(&status["status"].as_str().unwrap_or("")),
        "{status}"
    );
    let done = cluster.wait_final(follower, &id).await;
    assert_eq!(cluster.wait_final(1, &id).await["height"], done["height"]);
    // A bad tx is refused by the follower itself, with the validator's typed error, and
    // never handed on: a forged signature, and the same tx again (its nonce is used).
    let mut forged = anchor(&producer, &chain_id, 3, 500, "forged");
    forged.signature[0] ^= 1;
    assert_eq!(
        submit_err(&cluster, follower, &tx_json(&forged)).await,
        (400, "BAD_SIGNATURE".into())
    );
    let status = tx_status(&cluster, 1, &forged).await;
    assert_eq!(status["status"], "unknown", "{status}");
    assert_eq!(
        submit_err(&cluster, follower, &tx_json(&tx)).await,
        (400, "REPLAYED".into())
    );
    // A batch: each tx gets its own result, the good one the validator's tx id.
    let good = anchor(&producer, &chain_id, 4, 500, "in a batch");
    let (code, body) = cluster
        .post(
            follower,
            "/txs",
            &json!({ "txs": [hex::encode(good.encode()), "zz"] }),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["results"][0]["tx_id"],
        hex::encode(good.id()),
        "{body}"
    );
    assert_eq!(body["results"][1]["error"]["code"], "MALFORMED", "{body}");
    cluster.wait_final(follower, &hex::encode(good.id())).await;

    // Its verify answers carry proofs a client checks against the genesis alone.
    let answer = cluster
        .get(follower, "/verify/(01)09506000134352(21)NOPE")
        .await
        .expect("verify answer");
    assert_eq!(answer["verdict"], "UNKNOWN", "{answer}");
    let file = cluster.dir.path().join("follower-answer.json");
    std::fs::write(&file, answer.to_string()).expect("write answer");
    let genesis = cluster.net_dir().join("genesis.json");
    let (ok, out) = jiu_result(&[
        "verify",
        "--offline",
        file.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert!(ok, "offline check of the follower's answer failed: {out}");

    // It keeps following: a later tx reaches it too.
    let id = submit_ok(&cluster, 1, &anchor(&producer, &chain_id, 5, 500, "later")).await;
    let done = cluster.wait_final(1, &id).await;
    assert_eq!(
        cluster.wait_final(follower, &id).await["height"],
        done["height"]
    );
}
