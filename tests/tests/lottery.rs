//! The reservation lottery on a real 4-node network: the operator's batches and statuses
//! finalize, the validators' seed shares are combined on chain, the validators commit the
//! draw's results, and every applicant's bundle checks offline against the genesis (each
//! tampered copy fails with its exact reason). An auditor re-derives every root from the
//! public dataset; a restarted node rebuilds the book from its log and serves the same
//! proofs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use jiu_contracts::gs1::Gtin;
use jiu_contracts::{sha256, Payload, PublicKey, SignedTx, TxBody};
use jiu_genesis::Genesis;
use jiu_lottery::book::Exclusion;
use jiu_lottery::rules::DRAW_ALGORITHM_VERSION;
use jiu_lottery::{Dataset, Entry, LotteryOp, LotteryRules, Pool, Rules, Status, Verdict};
use jiu_node::lottery_proof::{
    audit, verify_bundle_answer, verify_inclusion_answer, BundleAnswer, InclusionAnswer,
    LotteryAnswer,
};
use jiu_tests::{jiu_result, serial, Cluster};
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);
const ID: u64 = 7;
/// Entries per batch, and batches.
const BATCH: u32 = 12;
const BATCHES: u32 = 2;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

async fn sleep_until(ms: u64) {
    let now = now_ms();
    if ms > now {
        tokio::time::sleep(Duration::from_millis(ms - now)).await;
    }
}

fn org_key(cluster: &Cluster, org: &str) -> SigningKey {
    let path = cluster.net_dir().join("orgs").join(format!("{org}.json"));
    jiu_genesis::keys::read_key_file(&path).expect("org key")
}

struct Chain<'a> {
    cluster: &'a Cluster,
    chain_id: String,
    nonce: u64,
}

impl Chain<'_> {
    /// Signs and submits; returns the HTTP status and answer of `POST /tx`.
    async fn submit(&mut self, key: &SigningKey, op: LotteryOp) -> (u16, Value) {
        self.nonce += 1;
        let height = self.cluster.height(0).await.expect("height");
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            signer: PublicKey::from_signing_key(key),
            nonce: self.nonce,
            expires_at_height: height + 100,
            payload: Payload::Lottery { op },
        };
        let tx = SignedTx::sign(body, key);
        self.cluster
            .post(0, "/tx", &json!({ "tx": hex::encode(tx.encode()) }))
            .await
    }

    /// Submits and waits until finalized.
    async fn run(&mut self, key: &SigningKey, op: LotteryOp) -> Value {
        let kind = op.kind();
        let (status, answer) = self.submit(key, op).await;
        assert_eq!(status, 200, "{kind} refused: {answer}");
        let id = answer["tx_id"].as_str().expect("tx id");
        self.cluster.wait_final(0, id).await
    }
}

fn rules(open_at_ms: u64, operator: &SigningKey) -> LotteryRules {
    LotteryRules {
        draw: Rules {
            lottery_id: ID,
            open_at_ms,
            close_at_ms: open_at_ms + 8_000,
            tier_count: 2,
            weight_max: 2,
            pools: vec![
                Pool {
                    pool_id: 1,
                    quota: 2,
                    waitlist_size: 2,
                },
                Pool {
                    pool_id: 2,
                    quota: 1,
                    waitlist_size: 1,
                },
            ],
        },
        product: Gtin::parse("09506000134352").expect("demo GTIN"),
        grace_ms: 2_000,
        operator_keys: vec![PublicKey::from_signing_key(operator)],
        reason_codes_hash: sha256(&[b"reason codes v1"]),
        algorithm_version: DRAW_ALGORITHM_VERSION,
        claim_window_ms: 3_600_000,
    }
}

/// Entry `n` of the lottery at (batch, index): pools alternate, every fifth entry is in the
/// priority tier, every third holds two tickets.
fn entry(batch_no: u32, index: u32, received_at_ms: u64) -> Entry {
    let n = u64::from(batch_no * BATCH + index);
    Entry {
        lottery_id: ID,
        pool_id: 1 + (n % 2) as u32,
        batch_no,
        index,
        // A stand-in for HMAC(K, lottery || person's ID).
        nullifier: sha256(&[b"nullifier", &n.to_be_bytes()]),
        commitment: jiu_lottery::applicant_commitment(
            &sha256(&[b"salt", &n.to_be_bytes()]),
            format!("account-{n}").as_bytes(),
        ),
        received_at_ms,
        tier: u8::from(n % 5 != 0),
        weight: if n % 3 == 0 { 2 } else { 1 },
    }
}

fn write_json(cluster: &Cluster, name: &str, value: &impl serde::Serialize) -> String {
    let path = cluster.net_dir().join(name);
    std::fs::write(&path, serde_json::to_vec(value).expect("json")).expect("write");
    path.to_str().expect("utf-8").to_string()
}

/// The code of a failed bundle check.
fn bundle_code(genesis: &Genesis, answer: &BundleAnswer) -> Result<Verdict, &'static str> {
    verify_bundle_answer(genesis, answer)
        .map(|c| c.verdict)
        .map_err(|e| e.code())
}

#[tokio::test(flavor = "multi_thread")]
async fn n4_lottery_draw_is_proven_to_every_applicant() {
    let _serial = serial().await;
    let mut cluster = Cluster::new(4, 32200, 32300);
    cluster.start_all();
    cluster.wait_height(0, 2, MINUTE).await;
    let status = cluster.get(0, "/status").await.expect("status");
    let chain_id = status["chain"]["chain_id"]
        .as_str()
        .expect("chain")
        .to_string();
    let genesis = Genesis::load(&cluster.net_dir().join("genesis.json")).expect("genesis");
    let producer = org_key(&cluster, "producer");
    let operator = org_key(&cluster, "distributor-1");
    let mut chain = Chain {
        cluster: &cluster,
        chain_id,
        nonce: 0,
    };

    // Rules: created before the window opens.
    let open = now_ms() + 4_000;
    let rules = rules(open, &operator);
    let close = rules.draw.close_at_ms;
    chain
        .run(
            &producer,
            LotteryOp::CreateLottery {
                rules: rules.clone(),
            },
        )
        .await;

    // Intake: two batches inside the window.
    sleep_until(open + 300).await;
    let mut entries = Vec::new();
    for batch_no in 0..BATCHES {
        let received = now_ms().min(close);
        let batch: Vec<Entry> = (0..BATCH).map(|i| entry(batch_no, i, received)).collect();
        entries.extend(batch.clone());
        let done = chain
            .run(
                &operator,
                LotteryOp::AppendBatch {
                    lottery_id: ID,
                    batch_no,
                    entries: batch,
                },
            )
            .await;
        assert_eq!(
            done["events"][0]["event"]["type"], "batch_appended",
            "{done}"
        );
    }
    // A batch repeating a nullifier is refused at the door, with the book's code.
    let mut replayed = entry(BATCHES, 0, now_ms().min(close));
    replayed.nullifier = entries[3].nullifier;
    let (code, answer) = chain
        .submit(
            &operator,
            LotteryOp::AppendBatch {
                lottery_id: ID,
                batch_no: BATCHES,
                entries: vec![replayed],
            },
        )
        .await;
    assert_eq!(code, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "DUPLICATE_NULLIFIER", "{answer}");

    // Before the draw, an applicant proves their entry is in.
    let inclusion: InclusionAnswer = serde_json::from_value(
        cluster
            .get(2, &format!("/lottery/{ID}/entries/1/5"))
            .await
            .expect("inclusion"),
    )
    .expect("inclusion answer");
    assert_eq!(inclusion.entry, entries[(BATCH + 5) as usize]);
    verify_inclusion_answer(&genesis, &inclusion).expect("the entry is included");
    let mut forged = inclusion.clone();
    forged.entry.commitment = [9; 32];
    assert_eq!(
        verify_inclusion_answer(&genesis, &forged).map_err(|e| e.code()),
        Err("ENTRY_NOT_INCLUDED")
    );

    // After close + grace: a late batch is refused; statuses and the status commitment.
    sleep_until(close + rules.grace_ms + 1_500).await;
    let (code, answer) = chain
        .submit(
            &operator,
            LotteryOp::AppendBatch {
                lottery_id: ID,
                batch_no: BATCHES,
                entries: vec![entry(BATCHES, 0, close)],
            },
        )
        .await;
    assert_eq!(code, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "LATE_BATCH", "{answer}");
    let excluded = Exclusion {
        batch_no: 1,
        index: 4,
        reason_hash: sha256(&[b"duplicate account"]),
    };
    chain
        .run(
            &operator,
            LotteryOp::AppendStatus {
                lottery_id: ID,
                first_batch_no: 0,
                batches: BATCHES,
                exclusions: vec![excluded],
            },
        )
        .await;
    let status: Vec<Status> = entries
        .iter()
        .map(|e| {
            if (e.batch_no, e.index) == (excluded.batch_no, excluded.index) {
                Status::excluded(e.leaf_hash(), excluded.reason_hash)
            } else {
                Status::eligible(e.leaf_hash())
            }
        })
        .collect();
    let entries_root = jiu_lottery::entries_root(&entries).expect("entries root");
    let status_root = jiu_lottery::status_root(&entries, &status).expect("status root");
    chain
        .run(
            &operator,
            LotteryOp::CommitStatus {
                lottery_id: ID,
                entries_count: entries.len() as u64,
                entries_root,
                status_root,
            },
        )
        .await;

    // The validators sign seed shares, the chain combines them, the validators commit the
    // draw: nobody submits anything more.
    let mut drawn = None;
    for _ in 0..600 {
        let answer = cluster.get(1, &format!("/lottery/{ID}")).await;
        if let Some(answer) = answer.filter(|a| a["committed"]["stage"] == "drawn") {
            drawn = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drawn: LotteryAnswer = serde_json::from_value(drawn.unwrap_or_else(|| {
        panic!(
            "lottery not drawn within a minute; node 1 log:\n{}",
            cluster.log_tail(1)
        )
    }))
    .expect("lottery answer");
    let seed = drawn.committed["seed"].as_str().expect("seed").to_string();

    // The applicant's view: every bundle checks; the verdicts are the draw's, re-run here.
    let seed_bytes: [u8; 32] = hex::decode(&seed).expect("hex").try_into().expect("32");
    let result = jiu_lottery::draw(&rules.draw, &entries, &status, &seed_bytes).expect("own draw");
    assert_eq!(
        hex::encode(result.results_root),
        drawn.committed["results_root"].as_str().expect("root")
    );
    let mut winners = 0;
    let mut some_winner = None;
    let mut some_loser = None;
    for e in &entries {
        let path = format!("/lottery/{ID}/bundle/{}/{}", e.batch_no, e.index);
        let answer: BundleAnswer =
            serde_json::from_value(cluster.get(3, &path).await.expect("bundle")).expect("bundle");
        let verdict = bundle_code(&genesis, &answer).expect("bundle checks");
        let (_, pool) = result.pool(e.pool_id).expect("pool");
        let leaf = e.leaf_hash();
        let expected = if let Some(rank) = pool.winners.iter().position(|r| r.leaf_hash == leaf) {
            Verdict::Winner {
                rank: rank as u32 + 1,
            }
        } else if let Some(rank) = pool.waitlist.iter().position(|r| r.leaf_hash == leaf) {
            Verdict::Waitlisted {
                rank: rank as u32 + 1,
            }
        } else if (e.batch_no, e.index) == (excluded.batch_no, excluded.index) {
            Verdict::Ineligible {
                reason_hash: excluded.reason_hash,
            }
        } else {
            Verdict::NotWinner
        };
        assert_eq!(verdict, expected, "entry {:?}", e.id());
        match verdict {
            Verdict::Winner { .. } => {
                winners += 1;
                some_winner.get_or_insert(answer);
            }
            Verdict::NotWinner => {
                some_loser.get_or_insert(answer);
            }
            _ => {}
        }
    }
    assert_eq!(winners, 3, "quota 2 + 1");
    let winner = some_winner.expect("a winner");
    let loser = some_loser.expect("a loser");

    // The CLI says the same, from a saved file (JSON and borsh).
    let genesis_path = cluster.net_dir().join("genesis.json");
    let genesis_arg = genesis_path.to_str().expect("utf-8");
    let file = write_json(&cluster, "bundle-winner.json", &winner);
    let (ok, out) = jiu_result(&["lottery", "verify", &file, "--genesis", genesis_arg]);
    assert!(ok && out.contains("WINNER"), "{out}");
    let file = write_json(&cluster, "bundle-loser.json", &loser);
    let (ok, out) = jiu_result(&["lottery", "verify", &file, "--genesis", genesis_arg]);
    assert!(ok && out.contains("NOT A WINNER"), "{out}");
    let borsh_path = cluster.net_dir().join("bundle-winner.bin");
    let path = format!(
        "/lottery/{ID}/bundle/{}/{}?format=borsh",
        winner.bundle.entry.batch_no, winner.bundle.entry.index
    );
    let url = format!("http://127.0.0.1:{}{path}", 32300);
    let bytes = reqwest::get(&url)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    std::fs::write(&borsh_path, &bytes).expect("write");
    let (ok, out) = jiu_result(&[
        "lottery",
        "verify",
        borsh_path.to_str().expect("utf-8"),
        "--genesis",
        genesis_arg,
    ]);
    assert!(ok && out.contains("WINNER"), "{out}");

    // Tampered copies fail, each with its own reason.
    let mut t = winner.clone();
    t.bundle.commitments.results_root[0] ^= 1;
    assert_eq!(bundle_code(&genesis, &t), Err("COMMITMENT_MISMATCH"));
    let mut t = winner.clone();
    t.seed.signature[10] ^= 1;
    assert_eq!(bundle_code(&genesis, &t), Err("BAD_SEED_SIGNATURE"));
    let mut t = winner.clone();
    t.seed.message[40] ^= 1;
    assert_eq!(bundle_code(&genesis, &t), Err("SEED_MESSAGE_MISMATCH"));
    let mut t = winner.clone();
    let last = t.proof.leaf.len() - 1;
    t.proof.leaf[last] ^= 1;
    assert_eq!(bundle_code(&genesis, &t), Err("LOTTERY_NOT_PROVEN"));
    let mut t = winner.clone();
    t.proof.header.state_root[0] ^= 1;
    assert_eq!(bundle_code(&genesis, &t), Err("HEADER_TAMPERED"));
    let mut t = winner.clone();
    t.proof.certificate.signatures.truncate(2);
    assert_eq!(bundle_code(&genesis, &t), Err("INSUFFICIENT_SIGNATURES"));
    // A loser who edits their bundle to claim the win is caught by the bundle itself.
    let mut t = loser.clone();
    let last = t.bundle.ranked.len() - 1;
    t.bundle.ranked.swap(0, last);
    assert!(
        matches!(bundle_code(&genesis, &t), Ok(Verdict::Fraud(_))),
        "a reordered list is not a valid outcome"
    );
    let file = write_json(&cluster, "bundle-tampered.json", &{
        let mut t = winner.clone();
        t.seed.signature[10] ^= 1;
        t
    });
    let (ok, out) = jiu_result(&["lottery", "verify", &file, "--genesis", genesis_arg]);
    assert!(!ok && out.contains("BAD_SEED_SIGNATURE"), "{out}");

    // The auditor: every root re-derived from the public dataset.
    let dataset_url = format!("http://127.0.0.1:{}/lottery/{ID}/dataset", 32302);
    let bytes = reqwest::get(&dataset_url)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    let dataset = Dataset::decode(&bytes).expect("dataset");
    assert_eq!(dataset.entries, entries);
    let report = audit(&genesis, &drawn, &dataset, &mut |_| {}).expect("audit passes");
    assert_eq!(report.entries, entries.len() as u64);
    assert_eq!(report.winners, 3);
    let mut forged = dataset.clone();
    forged.entries[0].tier ^= 1;
    assert_eq!(
        audit(&genesis, &drawn, &forged, &mut |_| {}).map_err(|e| e.code()),
        Err("COMMITMENT_MISMATCH")
    );
    let mut hidden = dataset.clone();
    hidden.exclusions.clear();
    assert_eq!(
        audit(&genesis, &drawn, &hidden, &mut |_| {}).map_err(|e| e.code()),
        Err("COMMITMENT_MISMATCH"),
        "dropping an exclusion changes the status root"
    );
    let (ok, out) = jiu_result(&[
        "lottery",
        "audit",
        "--rpc",
        "http://127.0.0.1:32301",
        "--lottery",
        &ID.to_string(),
        "--genesis",
        genesis_arg,
    ]);
    assert!(ok && out.contains("AUDIT PASSED"), "{out}");
    // The independent Python re-implementation, from the same exported data.
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lottery_audit.py");
    match std::process::Command::new("python3")
        .arg(&script)
        .args([
            "--rpc",
            "http://127.0.0.1:32302",
            "--lottery",
            &ID.to_string(),
        ])
        .output()
    {
        Ok(run) => {
            let out = String::from_utf8_lossy(&run.stdout);
            assert!(run.status.success(), "the Python audit disagrees: {out}");
            assert!(
                out.contains(&hex::encode(result.results_root)),
                "the Python audit names another results root: {out}"
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("note: python3 is not on PATH; skipping the Python audit");
        }
        Err(e) => panic!("could not run python3: {e}"),
    }

    // Every node has the same lottery leaf.
    let leaf = |a: &Value| a["proof"]["leaf"].clone();
    let height = cluster.height(0).await.expect("height");
    for i in 0..4 {
        cluster.wait_height(i, height, MINUTE).await;
    }
    let mut leaves = Vec::new();
    for i in 0..4 {
        leaves.push(leaf(
            &cluster
                .get(i, &format!("/lottery/{ID}"))
                .await
                .expect("lottery"),
        ));
    }
    assert!(leaves.windows(2).all(|w| w[0] == w[1]), "{leaves:?}");

    // A restarted node replays the book from its log and serves the same bundle.
    cluster.terminate(3);
    cluster.start(3);
    let height = cluster.height(0).await.expect("height");
    cluster.wait_height(3, height + 1, MINUTE).await;
    let path = format!(
        "/lottery/{ID}/bundle/{}/{}",
        winner.bundle.entry.batch_no, winner.bundle.entry.index
    );
    let mut again = None;
    for _ in 0..300 {
        let answer = cluster.get(3, &path).await;
        if let Some(answer) = answer.filter(|a| a.get("bundle").is_some()) {
            again = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again: BundleAnswer =
        serde_json::from_value(again.unwrap_or_else(|| {
            panic!("restarted node serves no bundle:\n{}", cluster.log_tail(3))
        }))
        .expect("bundle");
    assert_eq!(again.bundle, winner.bundle);
    assert!(matches!(
        bundle_code(&genesis, &again),
        Ok(Verdict::Winner { .. })
    ));
    assert_eq!(
        leaf(
            &cluster
                .get(3, &format!("/lottery/{ID}"))
                .await
                .expect("lottery")
        ),
        leaves[0]
    );
}
