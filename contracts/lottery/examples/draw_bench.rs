//! Times the draw over a generated lottery. Figures, not assertions.
//!
//! ```text
//! cargo run --release --example draw_bench -- [--entries 3000000] [--pools 5000]
//!     [--quota 10] [--waitlist 20] [--batches 360] [--weight-max 1] [--runs 3] [--roots]
//!     [--bundle]
//! ```
//! Entries are spread over pools and batches by a fixed generator (splitmix64), so every run
//! and machine draws the same lottery; 10% are in tier 1, 2% are excluded; with
//! `--weight-max w` weights are uniform in 1..=w. `--roots` also times the entries and status
//! roots; `--bundle` builds the proof trees and one applicant bundle and verifies it.

use std::time::{Duration, Instant};

use jiu_lottery::{
    draw, entries_root, seed_from_signature, status_root, verify_applicant, DrawResult, Entry,
    Hash, Pool, Prover, Rules, Status,
};

struct Args {
    entries: usize,
    pools: u32,
    quota: u32,
    waitlist: u32,
    batches: usize,
    weight_max: u16,
    runs: usize,
    roots: bool,
    bundle: bool,
}

fn parse() -> Args {
    let mut args = Args {
        entries: 3_000_000,
        pools: 5_000,
        quota: 10,
        waitlist: 20,
        batches: 360,
        weight_max: 1,
        runs: 3,
        roots: false,
        bundle: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--roots" || flag == "--bundle" {
            args.roots |= flag == "--roots";
            args.bundle |= flag == "--bundle";
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || {
            value
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("{flag} {value}"))
        };
        match flag.as_str() {
            "--entries" => args.entries = number(),
            "--pools" => args.pools = number() as u32,
            "--quota" => args.quota = number() as u32,
            "--waitlist" => args.waitlist = number() as u32,
            "--batches" => args.batches = number(),
            "--weight-max" => args.weight_max = number() as u16,
            "--runs" => args.runs = number(),
            _ => panic!("unknown flag {flag}"),
        }
    }
    args
}

/// splitmix64: a fixed, fast generator so the lottery is the same on every machine.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn hash(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        out
    }
}

fn generate(args: &Args) -> (Rules, Vec<Entry>, Vec<Status>) {
    let rules = Rules {
        lottery_id: 20_260_101,
        open_at_ms: 1_767_225_600_000,
        close_at_ms: 1_767_225_600_000 + 3_600_000,
        tier_count: 2,
        weight_max: args.weight_max,
        pools: (0..args.pools)
            .map(|pool_id| Pool {
                pool_id,
                quota: args.quota,
                waitlist_size: args.waitlist,
            })
            .collect(),
    };
    let per_batch = args.entries.div_ceil(args.batches.max(1)).max(1);
    let mut mix = Mix(42);
    let mut entries = Vec::with_capacity(args.entries);
    let mut status = Vec::with_capacity(args.entries);
    for i in 0..args.entries {
        let entry = Entry {
            lottery_id: rules.lottery_id,
            pool_id: (mix.next() % u64::from(args.pools)) as u32,
            batch_no: (i / per_batch) as u32,
            index: (i % per_batch) as u32,
            nullifier: mix.hash(),
            commitment: mix.hash(),
            received_at_ms: rules.open_at_ms + (i as u64 * 3_600_000) / args.entries as u64,
            tier: u8::from(mix.next().is_multiple_of(10)),
            weight: 1 + (mix.next() % u64::from(args.weight_max)) as u16,
        };
        let leaf = entry.leaf_hash();
        status.push(if mix.next().is_multiple_of(50) {
            Status::excluded(leaf, [1; 32])
        } else {
            Status::eligible(leaf)
        });
        entries.push(entry);
    }
    (rules, entries, status)
}

fn main() {
    let args = parse();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "draw_bench: {} entries, {} pools, quota {}, waitlist {}, {} batches, weight_max {}, {} threads available",
        args.entries, args.pools, args.quota, args.waitlist, args.batches, args.weight_max, threads
    );
    let started = Instant::now();
    let (rules, entries, status) = generate(&args);
    println!("generate: {:.2} s", started.elapsed().as_secs_f64());

    let seed = seed_from_signature(b"draw_bench threshold signature");
    let mut times: Vec<Duration> = Vec::with_capacity(args.runs);
    let mut root = None;
    let mut last = None;
    for run in 0..args.runs {
        let started = Instant::now();
        let result =
            draw(&rules, &entries, &status, &seed).expect("the generated lottery is valid");
        let elapsed = started.elapsed();
        let winners: usize = result.pools.iter().map(|p| p.winners.len()).sum();
        let waitlisted: usize = result.pools.iter().map(|p| p.waitlist.len()).sum();
        println!(
            "draw run {run}: {:.3} s ({winners} winners, {waitlisted} waitlisted, results root {})",
            elapsed.as_secs_f64(),
            hex::encode(result.results_root)
        );
        assert!(
            root.is_none_or(|r| r == result.results_root),
            "the draw is deterministic"
        );
        root = Some(result.results_root);
        last = Some(result);
        times.push(elapsed);
    }
    times.sort();
    if let (Some(best), Some(median)) = (times.first(), times.get(times.len() / 2)) {
        println!(
            "draw: best {:.3} s, median {:.3} s",
            best.as_secs_f64(),
            median.as_secs_f64()
        );
    }
    if let (true, Some(result)) = (args.bundle, &last) {
        bundle(&entries, &status, seed, result);
    }
    if args.roots {
        let started = Instant::now();
        let entries_root = entries_root(&entries).expect("valid");
        let entries_time = started.elapsed();
        let started = Instant::now();
        let status_root = status_root(&entries, &status).expect("valid");
        println!(
            "entries root {} in {:.3} s; status root {} in {:.3} s",
            hex::encode(entries_root),
            entries_time.as_secs_f64(),
            hex::encode(status_root),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Builds the proof trees, then the bundle of the first entry, and verifies it.
fn bundle(entries: &[Entry], status: &[Status], seed: Hash, result: &DrawResult) {
    let started = Instant::now();
    let prover =
        Prover::new(entries.to_vec(), status.to_vec(), seed, result.clone()).expect("valid");
    println!(
        "prover (both trees): {:.3} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let bundle = prover.bundle(entries[0].id()).expect("entry 0 exists");
    let built = started.elapsed();
    let started = Instant::now();
    let verdict = verify_applicant(&bundle);
    let verified = started.elapsed();
    let bytes = borsh::to_vec(&bundle).expect("encodes").len();
    println!(
        "bundle of {}: {bytes} bytes (borsh), {} ranked entries, built in {:.1} ms, \
         verified in {:.2} ms: {verdict:?}",
        entries[0].id(),
        bundle.ranked.len(),
        built.as_secs_f64() * 1e3,
        verified.as_secs_f64() * 1e3
    );
}
