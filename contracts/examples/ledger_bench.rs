//! Lifecycle figures at scale, as one validator executes them: provenance txs that commission
//! 9,600 bottles and pack them (cases of 6, pallets of 100 cases) applied to the state, the
//! state root after each, then record proofs. Prints time per tx and the process's resident
//! memory, to size a node for N bottles.
//!
//! ```text
//! cargo run --release -p jiu-contracts --example ledger_bench -- [bottles]
//! ```
//! Default: 1,000,000 bottles.

use std::time::Instant;

use ed25519_dalek::SigningKey;
use jiu_contracts::gs1::{Code, Gtin};
use jiu_contracts::provenance::workload::{bottle, commission_and_pack, TX_BOTTLES};
use jiu_contracts::{BlockCtx, Org, Payload, PublicKey, Role, SignedTx, State, TxBody};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let bottles: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let key = SigningKey::from_bytes(&[7; 32]);
    let producer = Org {
        id: "producer".into(),
        name: "Producer".into(),
        role: Role::Producer,
        keys: vec![PublicKey::from_signing_key(&key)],
        active: true,
        pgln: None,
    };
    let mut state = State::new(vec![producer]).expect("genesis");
    let gtin = Gtin::parse("09506000134352").expect("gtin");
    let per_tx = TX_BOTTLES;
    let started = Instant::now();
    let mut worst_ms = 0f64;
    let rss_before = rss_mib();
    for (height, first) in (0..bottles).step_by(per_tx as usize).enumerate() {
        let ops = commission_and_pack(gtin, 950_600_013, first, per_tx.min(bottles - first));
        let body = TxBody {
            chain_id: "bench".into(),
            signer: PublicKey::from_signing_key(&key),
            nonce: height as u64,
            expires_at_height: height as u64 + 10,
            payload: Payload::Provenance { ops },
        };
        let tx = SignedTx::sign(body, &key);
        let bytes = tx.encode().len();
        let tx = tx.verify().expect("signed");
        let ctx = BlockCtx {
            height: height as u64 + 1,
            time_ms: 1_000 * height as u64,
        };
        let t = Instant::now();
        let mut next = state.clone();
        next.begin_block(&ctx);
        next.apply(&tx, &ctx).expect("applies");
        next.end_block();
        let _root = next.root();
        let _dirty = next.take_dirty();
        state = next;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        worst_ms = worst_ms.max(ms);
        if height % 100 == 0 {
            println!(
                "{:>10} bottles  tx {:>7} bytes  {:>7.1} ms  rss {:>8.0} MiB",
                first + per_tx,
                bytes,
                ms,
                rss_mib()
            );
        }
    }
    let total = started.elapsed();
    println!(
        "applied {bottles} bottles in {:.1} s ({:.0} bottles/s), worst tx {:.0} ms, rss +{:.0} MiB ({:.0} B/bottle)",
        total.as_secs_f64(),
        bottles as f64 / total.as_secs_f64(),
        worst_ms,
        rss_mib() - rss_before,
        (rss_mib() - rss_before) * 1024.0 * 1024.0 / bottles as f64
    );
    let t = Instant::now();
    let probes = 10_000u64;
    let mut size = 0;
    for i in 0..probes {
        let code = Code::Item(bottle(gtin, (i * 7919) % bottles));
        let leaf = state.record(&code).expect("record");
        let proof = state.prove_record(&code);
        size += leaf.encode().len() + proof.smt.siblings.len() * 32;
    }
    let elapsed = t.elapsed();
    println!(
        "record + proof: {:.1} us each, {} B average (leaf + SMT siblings)",
        elapsed.as_secs_f64() * 1e6 / probes as f64,
        size / probes as usize
    );
}
