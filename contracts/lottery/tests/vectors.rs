//! The cross-implementation test vectors in `tests/vectors/lottery/vectors.json`.
//!
//! The file holds a few small lotteries (inputs: rules, threshold-signature bytes, entries
//! in a shuffled order, status records) and everything derived from them (leaf bytes and
//! hashes, batch roots, roots, scores, per-pool winners and waitlists, pool leaves, results
//! root). This test recomputes the derived part from the file's inputs with this crate and
//! requires the whole document to match, so any change to an encoding or to the draw shows
//! up here; `scripts/lottery_reference.py` recomputes the same from the same file.
//!
//! A deliberate format change: `JIU_LOTTERY_WRITE_VECTORS=1 cargo test --test vectors`, then
//! review the diff and update `docs/lottery-spec.md`.

use std::path::PathBuf;

use jiu_lottery::{
    draw, entry_tree, seed_from_signature, status_tree, Entry, Hash, Pool, Rules, Status,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const FORMAT: &str = "jiu-lottery-vectors/v1";

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/lottery/vectors.json")
}

/// One lottery's inputs.
struct Case {
    name: String,
    rules: Rules,
    signature: Vec<u8>,
    entries: Vec<Entry>,
    status: Vec<Status>,
}

fn bytes(label: &str, i: u64) -> Hash {
    Sha256::new()
        .chain_update(label)
        .chain_update(i.to_be_bytes())
        .finalize()
        .into()
}

fn pool(pool_id: u32, quota: u32, waitlist_size: u32) -> Pool {
    Pool {
        pool_id,
        quota,
        waitlist_size,
    }
}

/// Entries over `batch_lens` batches; `shape(i)` gives (pool_id, tier, weight, eligible).
fn case(
    name: &str,
    rules: Rules,
    batch_lens: &[u32],
    shape: impl Fn(u64) -> (u32, u8, u16, bool),
) -> Case {
    let mut entries = Vec::new();
    let mut status = Vec::new();
    let mut i = 0u64;
    for (batch_no, len) in batch_lens.iter().enumerate() {
        for index in 0..*len {
            let (pool_id, tier, weight, eligible) = shape(i);
            let entry = Entry {
                lottery_id: rules.lottery_id,
                pool_id,
                batch_no: batch_no as u32,
                index,
                nullifier: bytes(&format!("{name}/nullifier"), i),
                commitment: bytes(&format!("{name}/commitment"), i),
                received_at_ms: rules.open_at_ms + 1_000 * i + i % 7,
                tier,
                weight,
            };
            let leaf = entry.leaf_hash();
            status.push(match eligible {
                true => Status::eligible(leaf),
                false => Status::excluded(leaf, bytes("reason", i % 2)),
            });
            entries.push(entry);
            i += 1;
        }
    }
    // Store a shuffled order: implementations must sort by (batch, index) themselves.
    let mut pairs: Vec<(Entry, Status)> = entries.into_iter().zip(status).collect();
    pairs.sort_by_key(|(e, _)| bytes("order", u64::from(e.batch_no) << 32 | u64::from(e.index)));
    let (entries, status) = pairs.into_iter().unzip();
    Case {
        name: name.into(),
        signature: format!("threshold signature for {name}").into_bytes(),
        rules,
        entries,
        status,
    }
}

fn rules(lottery_id: u64, pools: Vec<Pool>, tier_count: u8, weight_max: u16) -> Rules {
    Rules {
        lottery_id,
        open_at_ms: 1_767_225_600_000,
        close_at_ms: 1_767_229_200_000,
        tier_count,
        weight_max,
        pools,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("basic", rules(1, vec![pool(1, 3, 2)], 1, 1), &[7, 5], |i| {
            (1, 0, 1, i != 4 && i != 9)
        }),
        // Pool 11 has no entries, pool 12 no slots, pool 500 more slots than entries;
        // tiers 0..3, weights 1..=4, every fifth entry excluded.
        case(
            "tiers-weights-pools",
            rules(
                2,
                vec![
                    pool(7, 2, 1),
                    pool(10, 3, 2),
                    pool(11, 1, 1),
                    pool(12, 0, 0),
                    pool(500, 10, 5),
                ],
                3,
                4,
            ),
            &[20, 13, 7],
            |i| {
                let pool_id = match i % 10 {
                    0 => 500,
                    1..=3 => 7,
                    4 => 12,
                    _ => 10,
                };
                let tier = (bytes("tier", i)[0] % 3) as u8;
                let weight = 1 + u16::from(bytes("weight", i)[0] % 4);
                (pool_id, tier, weight, i % 5 != 2)
            },
        ),
        case(
            "single-entry",
            rules(3, vec![pool(0, 1, 0)], 1, 1),
            &[1],
            |_| (0, 0, 1, true),
        ),
        case(
            "no-entries",
            rules(4, vec![pool(5, 1, 1)], 1, 1),
            &[],
            |_| (5, 0, 1, true),
        ),
    ]
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

/// The whole document for `cases`: inputs as given, everything else recomputed.
fn document(cases: &[Case]) -> Value {
    let lotteries: Vec<Value> = cases.iter().map(lottery_document).collect();
    json!({ "format": FORMAT, "lotteries": lotteries })
}

fn lottery_document(case: &Case) -> Value {
    let seed = seed_from_signature(&case.signature);
    let entry_tree = entry_tree(&case.entries).expect("vector entries are valid");
    let status_tree = status_tree(&case.entries, &case.status).expect("vector status is valid");
    let result = draw(&case.rules, &case.entries, &case.status, &seed).expect("vectors draw");
    let per_entry: Vec<Value> = case
        .entries
        .iter()
        .zip(&case.status)
        .map(|(entry, status)| {
            let leaf = entry.leaf_hash();
            let score = status
                .eligible
                .then(|| hex::encode(entry.score(&seed, &leaf).expect("weight >= 1")));
            json!({
                "leaf_bytes": hex::encode(entry.leaf_bytes()),
                "leaf_hash": hex::encode(leaf),
                "status_hash": hex::encode(status.hash()),
                "score": score,
            })
        })
        .collect();
    let pools: Vec<Value> = result
        .pools
        .iter()
        .map(|p| {
            let ids = |list: &[jiu_lottery::Ranked]| -> Vec<Value> {
                list.iter()
                    .map(|r| json!([r.id.batch_no, r.id.index]))
                    .collect()
            };
            let summary = p.summary(result.lottery_id);
            json!({
                "pool_id": p.pool_id,
                "entries_count": p.entries_count,
                "eligible_count": p.eligible_count,
                "winners": ids(&p.winners),
                "waitlist": ids(&p.waitlist),
                "ranked_hash": hex::encode(summary.ranked_hash),
                "leaf_hash": hex::encode(summary.leaf_hash()),
            })
        })
        .collect();
    json!({
        "name": case.name,
        "rules": case.rules,
        "signature": hex::encode(&case.signature),
        "entries": case.entries,
        "status": case.status.iter().map(|s| json!({
            "eligible": s.eligible,
            "reason_hash": hex::encode(s.reason_hash),
        })).collect::<Vec<_>>(),
        "expected": {
            "seed": hex::encode(seed),
            "entries": per_entry,
            "batch_roots": hexes(entry_tree.batch_roots()),
            "entries_root": hex::encode(entry_tree.root()),
            "status_batch_roots": hexes(status_tree.batch_roots()),
            "status_root": hex::encode(status_tree.root()),
            "pools": pools,
            "results_root": hex::encode(result.results_root),
        },
    })
}

/// Reads the inputs of every lottery in `file`.
fn parse_cases(file: &Value) -> Vec<Case> {
    let lotteries = file["lotteries"].as_array().expect("lotteries is a list");
    lotteries
        .iter()
        .map(|l| {
            let entries: Vec<Entry> =
                serde_json::from_value(l["entries"].clone()).expect("entries parse");
            let status = l["status"]
                .as_array()
                .expect("status is a list")
                .iter()
                .zip(&entries)
                .map(|(s, e)| Status {
                    leaf_hash: e.leaf_hash(),
                    eligible: s["eligible"].as_bool().expect("eligible is a bool"),
                    reason_hash: hex::decode(s["reason_hash"].as_str().expect("hex"))
                        .expect("hex")
                        .try_into()
                        .expect("32 bytes"),
                })
                .collect();
            Case {
                name: l["name"].as_str().expect("name").into(),
                rules: serde_json::from_value(l["rules"].clone()).expect("rules parse"),
                signature: hex::decode(l["signature"].as_str().expect("hex")).expect("hex"),
                entries,
                status,
            }
        })
        .collect()
}

#[test]
fn test_vectors_file_matches_the_implementation() {
    let path = vectors_path();
    let generated = document(&cases());
    if std::env::var_os("JIU_LOTTERY_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&generated).expect("serializes") + "\n";
        std::fs::write(&path, text).expect("vectors file is writable");
        println!("wrote {}", path.display());
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; generate it with JIU_LOTTERY_WRITE_VECTORS=1",
            path.display()
        )
    });
    let file: Value = serde_json::from_str(&text).expect("vectors file is JSON");
    assert_eq!(file["format"], FORMAT);
    // Derived values recomputed from the file's own inputs must equal the file.
    assert!(
        document(&parse_cases(&file)) == file,
        "the vectors file disagrees with the implementation: a format change? regenerate \
         with JIU_LOTTERY_WRITE_VECTORS=1 and review the diff"
    );
    // And the file holds exactly the cases defined above.
    assert!(
        generated == file,
        "the vector cases changed; regenerate the file"
    );
}

#[test]
fn test_vectors_cover_the_required_situations() {
    let file = document(&cases());
    let lotteries = file["lotteries"].as_array().expect("list");
    let pools: Vec<&Value> = lotteries
        .iter()
        .flat_map(|l| l["expected"]["pools"].as_array().expect("list"))
        .collect();
    let count = |v: &Value| v.as_array().expect("list").len() as u64;
    let slots = |l: &Value, pool_id: &Value| -> u64 {
        l["rules"]["pools"]
            .as_array()
            .expect("list")
            .iter()
            .find(|p| &p["pool_id"] == pool_id)
            .map(|p| p["quota"].as_u64().expect("number"))
            .expect("pool in rules")
    };
    let more_slots_than_entries = lotteries.iter().any(|l| {
        l["expected"]["pools"]
            .as_array()
            .expect("list")
            .iter()
            .any(|p| {
                let eligible = p["eligible_count"].as_u64().expect("number");
                eligible > 0
                    && slots(l, &p["pool_id"]) > eligible
                    && count(&p["winners"]) == eligible
            })
    });
    assert!(
        more_slots_than_entries,
        "a pool with more winners' slots than entries"
    );
    assert!(
        pools.iter().any(|p| count(&p["waitlist"]) > 0),
        "a waitlist"
    );
    assert!(pools.iter().filter(|p| count(&p["winners"]) > 0).count() >= 3);
    let entries: Vec<&Value> = lotteries
        .iter()
        .flat_map(|l| l["entries"].as_array().expect("list"))
        .collect();
    assert!(
        entries.iter().any(|e| e["tier"].as_u64() > Some(0)),
        "tiers"
    );
    assert!(
        entries.iter().any(|e| e["weight"].as_u64() > Some(1)),
        "weights"
    );
    let status: Vec<&Value> = lotteries
        .iter()
        .flat_map(|l| l["status"].as_array().expect("list"))
        .collect();
    assert!(
        status.iter().any(|s| s["eligible"] == false),
        "excluded entries"
    );
}
