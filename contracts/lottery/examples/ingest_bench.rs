//! Times a whole lottery through the book: appending the entries in batches, uploading the
//! statuses, the commitments, the draw (prepared and inline), and counts the heap the book
//! holds at each stage. Figures, not assertions.
//!
//! ```text
//! cargo run --release -p jiu-lottery --example ingest_bench -- [--entries 3000000]
//!     [--batch 10000] [--pools 5000] [--quota 10] [--waitlist 20]
//! ```
//! Entries come from a fixed generator (splitmix64), spread over pools, 10% in tier 1, 2%
//! excluded; generating a batch is not timed. The heap figures come from a counting global
//! allocator (live bytes), not from RSS, so freed memory shows as freed. The seed check is a
//! stand-in that accepts any signature (a BLS verification is ~2 ms once per lottery).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiu_lottery::book::{Exclusion, PreparedDraw};
use jiu_lottery::encoding::seed_message;
use jiu_lottery::{
    Actor, Entry, LotteryBook, LotteryCtx, LotteryOp, LotteryRules, Pool, Rules, SeedVerifier,
};
use jiu_types::gs1::Gtin;
use jiu_types::{PublicKey, Role};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_mb() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / 1e6
}

struct AnySignature;

impl SeedVerifier for AnySignature {
    fn verify(&self, _message: &[u8], _signature: &[u8]) -> bool {
        true
    }
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

struct Args {
    entries: u64,
    batch: u64,
    pools: u32,
    quota: u32,
    waitlist: u32,
}

fn parse() -> Args {
    let mut args = Args {
        entries: 3_000_000,
        batch: 10_000,
        pools: 5_000,
        quota: 10,
        waitlist: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number: u64 = value.parse().unwrap_or_else(|_| panic!("{flag} {value}"));
        match flag.as_str() {
            "--entries" => args.entries = number,
            "--batch" => args.batch = number,
            "--pools" => args.pools = number as u32,
            "--quota" => args.quota = number as u32,
            "--waitlist" => args.waitlist = number as u32,
            _ => panic!("unknown flag {flag}"),
        }
    }
    args
}

const OPEN_MS: u64 = 1_767_225_600_000;
const WINDOW_MS: u64 = 3_600_000;
const CHAIN: &str = "jiu-bench";

fn operator() -> Actor {
    // The ed25519 base point: a valid key without a signing library.
    let mut key = [0x66u8; 32];
    key[0] = 0x58;
    Actor {
        org_id: "moutai".to_string(),
        role: Role::Producer,
        key: PublicKey(key),
    }
}

fn rules(args: &Args) -> LotteryRules {
    LotteryRules {
        draw: Rules {
            lottery_id: 20_260_101,
            open_at_ms: OPEN_MS,
            close_at_ms: OPEN_MS + WINDOW_MS,
            tier_count: 2,
            weight_max: 1,
            pools: (0..args.pools)
                .map(|pool_id| Pool {
                    pool_id,
                    quota: args.quota,
                    waitlist_size: args.waitlist,
                })
                .collect(),
        },
        product: Gtin::from_value(95_060_001_343_016).expect("valid GTIN"),
        grace_ms: 30_000,
        operator_keys: vec![operator().key],
        reason_codes_hash: [1; 32],
        algorithm_version: 1,
        claim_window_ms: 86_400_000,
    }
}

/// Batch `b` of `count` entries, the first being entry number `first`.
fn batch(mix: &mut Mix, args: &Args, b: u32, first: u64, count: u64) -> Vec<Entry> {
    (0..count)
        .map(|i| Entry {
            lottery_id: 20_260_101,
            pool_id: (mix.next() % u64::from(args.pools)) as u32,
            batch_no: b,
            index: i as u32,
            nullifier: mix.hash(),
            commitment: mix.hash(),
            received_at_ms: OPEN_MS + (first + i) * WINDOW_MS / args.entries,
            tier: u8::from(mix.next().is_multiple_of(10)),
            weight: 1,
        })
        .collect()
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Applies `op` at block time `time_ms`; returns how long it took.
fn apply(book: &mut LotteryBook, op: &LotteryOp, time_ms: u64, draws: &[PreparedDraw]) -> Duration {
    let ctx = LotteryCtx {
        time_ms,
        chain_id: CHAIN,
        seed_verifier: &AnySignature,
        prepared_draws: draws,
    };
    let started = Instant::now();
    let outcome = book.apply(op, &operator(), &ctx);
    let elapsed = started.elapsed();
    if let Err(error) = outcome {
        panic!("{} refused: {error}", op.kind());
    }
    elapsed
}

fn main() {
    let args = parse();
    let rules = rules(&args);
    let id = rules.lottery_id();
    let batches = args.entries.div_ceil(args.batch) as u32;
    println!(
        "ingest_bench: {} entries in {batches} batches of up to {}, {} pools, quota {} + waitlist {}, {} threads available",
        args.entries,
        args.batch,
        args.pools,
        args.quota,
        args.waitlist,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut book = LotteryBook::new();
    apply(
        &mut book,
        &LotteryOp::CreateLottery { rules },
        OPEN_MS - 1,
        &[],
    );
    let heap_empty = live_mb();

    let (mut mix, mut first) = (Mix(42), 0u64);
    let (mut total, mut generating, mut times) = (Duration::ZERO, Duration::ZERO, Vec::new());
    for b in 0..batches {
        let count = args.batch.min(args.entries - first);
        let started = Instant::now();
        let entries = batch(&mut mix, &args, b, first, count);
        generating += started.elapsed();
        let time_ms = entries.last().expect("not empty").received_at_ms;
        let op = LotteryOp::AppendBatch {
            lottery_id: id,
            batch_no: b,
            entries,
        };
        let elapsed = apply(&mut book, &op, time_ms, &[]);
        total += elapsed;
        times.push(elapsed);
        first += count;
    }
    times.sort();
    let record = book.lottery(id).expect("created");
    let heap_entries = live_mb() - heap_empty;
    println!(
        "append: {} entries in {:.2} s ({:.0} entries/s); per batch median {:.1} ms, max {:.1} ms (generating them: {:.2} s, not counted)",
        record.entries_count(),
        seconds(total),
        record.entries_count() as f64 / seconds(total),
        seconds(times[times.len() / 2]) * 1e3,
        seconds(times[times.len() - 1]) * 1e3,
        seconds(generating),
    );
    println!(
        "heap held by the book after the intake: {heap_entries:.0} MB ({:.0} bytes an entry); \
         of which entries {:.0} MB ({} bytes each)",
        heap_entries * 1e6 / args.entries as f64,
        args.entries as f64 * std::mem::size_of::<Entry>() as f64 / 1e6,
        std::mem::size_of::<Entry>()
    );

    let counts: Vec<u32> = record.batches().iter().map(|h| h.count).collect();
    let after_intake = OPEN_MS + WINDOW_MS + 30_001;
    let started = Instant::now();
    let mut excluded = 0;
    for (b, count) in (0u32..).zip(counts) {
        let exclusions: Vec<Exclusion> = (0..count)
            .filter(|_| mix.next().is_multiple_of(50))
            .map(|index| Exclusion {
                batch_no: b,
                index,
                reason_hash: [2; 32],
            })
            .collect();
        excluded += exclusions.len();
        let op = LotteryOp::AppendStatus {
            lottery_id: id,
            first_batch_no: b,
            batches: 1,
            exclusions,
        };
        apply(&mut book, &op, after_intake, &[]);
    }
    println!(
        "append status ({batches} ops, {excluded} excluded): {:.2} s",
        seconds(started.elapsed())
    );
    let record = book.lottery(id).expect("created");
    let (entries_root, status_root) = (record.entries_root(), record.uploaded_status_root());
    let commit = LotteryOp::CommitStatus {
        lottery_id: id,
        entries_count: record.entries_count(),
        entries_root,
        status_root,
    };
    let elapsed = apply(&mut book, &commit, after_intake, &[]);
    println!(
        "commit status: {:.1} ms; heap held after it (nullifier set dropped): {:.0} MB",
        seconds(elapsed) * 1e3,
        live_mb() - heap_empty
    );

    let record = book.lottery(id).expect("created");
    let message = seed_message(CHAIN, id, &record.rules_hash(), &entries_root, &status_root)
        .expect("valid chain id");
    let seed = LotteryOp::SubmitSeed {
        lottery_id: id,
        message,
        signature: vec![7; 48],
    };
    apply(&mut book, &seed, after_intake + 1, &[]);

    let started = Instant::now();
    let prepared = book.draw_job(id).expect("seeded").run();
    let drawn = started.elapsed();
    let results_root = prepared.result().results_root;
    println!(
        "draw (DrawJob::run, off the tx path): {:.3} s; results root {}",
        seconds(drawn),
        hex::encode(results_root)
    );
    let op = LotteryOp::CommitResults {
        lottery_id: id,
        results_root,
    };
    let mut inline = book.clone();
    let with_prepared = apply(
        &mut book,
        &op,
        after_intake + 2,
        std::slice::from_ref(&prepared),
    );
    let without = apply(&mut inline, &op, after_intake + 2, &[]);
    drop(inline);
    drop(prepared);
    println!(
        "commit results: {:.1} ms with the prepared draw, {:.3} s running it inline; \
         heap held after it (entries dropped): {:.1} MB",
        seconds(with_prepared) * 1e3,
        seconds(without),
        live_mb() - heap_empty
    );
}
