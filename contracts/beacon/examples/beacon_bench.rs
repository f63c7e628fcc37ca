//! Times the beacon: the in-process genesis ceremony, and the per-lottery signing path.
//! Figures, not assertions.
//!
//! ```text
//! cargo run --release -p jiu-beacon --example beacon_bench -- [--sizes 4,7,10] [--runs 3]
//! ```
//! The ceremony time is for all `n` participants on one thread (the devnet case); a real
//! validator does about `1/n` of it, plus network waits. `combine` verifies each of the `t`
//! partials it is given, interpolates, and verifies the result.

use std::time::{Duration, Instant};

use jiu_beacon::{
    combine, partial_sign, run_local_ceremony, threshold, verify, verify_partial, SeedMessage,
};
use rand_chacha_10::ChaCha20Rng;
use rand_core_10::SeedableRng;

struct Args {
    sizes: Vec<u32>,
    runs: u32,
}

fn parse() -> Args {
    let mut args = Args {
        sizes: vec![4, 7, 10],
        runs: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => {
                args.sizes = value
                    .split(',')
                    .map(|n| n.parse().expect("--sizes takes numbers"))
                    .collect();
            }
            "--runs" => args.runs = value.parse().expect("--runs takes a number"),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Mean time of `op` over `iterations` calls.
fn per_op(iterations: u32, mut op: impl FnMut(u32)) -> Duration {
    let start = Instant::now();
    for i in 0..iterations {
        op(i);
    }
    start.elapsed() / iterations
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let args = parse();
    let message = SeedMessage::new("jiu-devnet", 42, [1; 32], [2; 32], [3; 32]).unwrap();
    println!("| n | t | ceremony (all n, median of {}) | partial_sign | verify_partial | combine (t partials) | verify |", args.runs);
    println!("|---|---|---|---|---|---|---|");
    for &n in &args.sizes {
        let t = threshold(n);
        let mut times = Vec::new();
        let mut local = None;
        for run in 0..args.runs {
            let mut rng = ChaCha20Rng::from_seed([run as u8; 32]);
            let start = Instant::now();
            local = Some(run_local_ceremony(n, t, &mut rng).expect("ceremony"));
            times.push(start.elapsed());
        }
        let local = local.expect("at least one run");
        let public = &local.output.public;
        let shares = &local.shares;
        let partials: Vec<_> = shares.iter().map(|s| partial_sign(s, &message)).collect();
        let sign = per_op(200, |i| {
            std::hint::black_box(partial_sign(&shares[i as usize % shares.len()], &message));
        });
        let check = per_op(200, |i| {
            verify_partial(public, &message, &partials[i as usize % partials.len()])
                .expect("valid partial");
        });
        let quorum = &partials[..t as usize];
        let combined = combine(public, &message, quorum).expect("combine");
        let join = per_op(20, |_| {
            std::hint::black_box(combine(public, &message, quorum).expect("combine"));
        });
        let final_check = per_op(200, |_| {
            verify(public.group_key(), &message, &combined).expect("valid signature");
        });
        println!(
            "| {n} | {t} | {} | {} | {} | {} | {} |",
            ms(median(times)),
            ms(sign),
            ms(check),
            ms(join),
            ms(final_check)
        );
    }
}
