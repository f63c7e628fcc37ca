//! Sparse Merkle tree figures: batch insert and root, proof generation and verification.
//!
//! Inserts `keys` keys in batches of `batch` the way the node does for a block: clone the
//! state (a candidate block), write the batch with `apply_batch` (or `insert` one key at a
//! time with mode `insert`), compute the root, keep the clone. Mode `inplace` writes the
//! tree itself, no clone sharing its nodes: nothing is copied or freed, which bounds what
//! any other memory layout of the persistent tree could save. Then proves and verifies
//! 10,000 keys, half present and half absent. Single-threaded.
//!
//! ```text
//! nice -n 19 env CARGO_TARGET_DIR=/work/main/target-smt \
//!     cargo run --release -p jiu-contracts --example smt_bench -- [keys] [batch] [batch|insert|inplace]
//! ```
//! Defaults: 1,000,000 keys, batches of 10,000, mode `batch`.

use std::time::{Duration, Instant};

use jiu_contracts::smt::{verify, Smt};
use jiu_contracts::{sha256, Hash};

const PROBES: usize = 10_000;

/// The node's allocator: run with `MIMALLOC_PURGE_DELAY=-1`, as the node sets it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn key(i: usize) -> Hash {
    sha256(&[b"key", &(i as u64).to_le_bytes()])
}

fn value(i: usize) -> Hash {
    sha256(&[b"value", &(i as u64).to_le_bytes()])
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Time this thread has spent on a CPU (Linux only; zero elsewhere). On a busy machine it
/// separates our work from time spent waiting for a core.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Peak resident memory of this process, from /proc (Linux only).
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| {
        args.get(i).map_or(default, |arg| {
            arg.parse().expect("[keys] [batch] are numbers")
        })
    };
    let keys = number(0, 1_000_000);
    let batch = number(1, 10_000).max(1);
    let one_by_one = args.get(2).is_some_and(|mode| mode == "insert");
    let in_place = args.get(2).is_some_and(|mode| mode == "inplace");
    let mode = if one_by_one {
        "insert"
    } else if in_place {
        "in place"
    } else {
        "apply_batch"
    };
    println!("smt_bench: {keys} keys in batches of {batch}, {mode}");
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "keys", "clone+wr", "root", "drop old", "total ms", "cpu ms"
    );

    let mut smt = Smt::new();
    let (mut worst, mut sum, mut cpu_sum) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let batches = keys.div_ceil(batch);
    for b in 0..batches {
        let entries: Vec<(Hash, Hash)> = (b * batch..keys.min((b + 1) * batch))
            .map(|i| (key(i), value(i)))
            .collect();
        let cpu_started = thread_cpu();
        let started = Instant::now();
        let mut candidate = if in_place {
            std::mem::take(&mut smt)
        } else {
            smt.clone()
        };
        if one_by_one {
            for (k, v) in entries {
                candidate.insert(k, v);
            }
        } else {
            candidate.apply_batch(entries.into_iter().map(|(k, v)| (k, Some(v))));
        }
        let written = started.elapsed();
        std::hint::black_box(candidate.root());
        let rooted = started.elapsed();
        smt = candidate;
        let total = started.elapsed();
        let cpu = thread_cpu() - cpu_started;
        worst = worst.max(total);
        sum += total;
        cpu_sum += cpu;
        if (b + 1) % (batches / 10).max(1) == 0 || b + 1 == batches {
            println!(
                "{:>10} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2}",
                smt.len(),
                ms(written),
                ms(rooted - written),
                ms(total - rooted),
                ms(total),
                ms(cpu)
            );
        }
    }
    println!(
        "batches: {batches}, mean {:.2} ms (on cpu {:.2} ms), worst {:.2} ms, all {:.2} s",
        ms(sum) / batches as f64,
        ms(cpu_sum) / batches as f64,
        ms(worst),
        sum.as_secs_f64()
    );

    let root = smt.root();
    let probes: Vec<(Hash, Option<Hash>)> = (0..PROBES)
        .map(|j| match j % 2 {
            0 => {
                let i = j * (keys / PROBES).max(1) % keys.max(1);
                (key(i), Some(value(i)))
            }
            _ => (key(keys + j), None),
        })
        .collect();
    let started = Instant::now();
    let proofs: Vec<_> = probes.iter().map(|(k, _)| smt.prove(k)).collect();
    let proved = started.elapsed();
    let started = Instant::now();
    for ((k, v), proof) in probes.iter().zip(&proofs) {
        verify(root, *k, *v, proof).expect("an honest proof verifies");
    }
    let verified = started.elapsed();
    let bytes: usize = proofs
        .iter()
        .map(|p| borsh::to_vec(p).expect("encodes").len())
        .sum();
    let siblings_max = proofs.iter().map(|p| p.siblings.len()).max().unwrap_or(0);
    println!(
        "prove: {:.2} us/proof, verify: {:.2} us/proof, borsh size: mean {} B, siblings max {}",
        ms(proved) * 1e3 / PROBES as f64,
        ms(verified) * 1e3 / PROBES as f64,
        bytes / PROBES,
        siblings_max
    );
    let started = Instant::now();
    let copy = std::hint::black_box(smt.clone());
    println!("clone: {:.3} us", ms(started.elapsed()) * 1e3);
    drop(copy);
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS: {mib} MiB");
    }
}
