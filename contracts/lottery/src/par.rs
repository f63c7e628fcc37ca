//! Deterministic fork-join over contiguous chunks (std::thread::scope, no pool, no rayon).
//!
//! Outputs come back in chunk order and every caller combines them with an operation that
//! does not depend on where the chunks were cut, so the thread count never changes a result.

use std::ops::Range;

/// Inputs smaller than this run on the calling thread; spawning costs more than it saves.
const PARALLEL_ENTRIES_MIN: usize = 1 << 14;
/// Upper bound on threads, whatever the machine reports.
const THREADS_MAX: usize = 16;

/// The thread count for `n` items on this machine.
pub(crate) fn threads_for(n: usize) -> usize {
    if n < PARALLEL_ENTRIES_MIN {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |count| count.get().min(THREADS_MAX))
}

/// Splits `0..n` into `threads` contiguous ranges (the last ones may be empty).
fn ranges(n: usize, threads: usize) -> Vec<Range<usize>> {
    let threads = threads.max(1);
    let chunk = n.div_ceil(threads).max(1);
    (0..threads)
        .map(|t| (t * chunk).min(n)..((t + 1) * chunk).min(n))
        .collect()
}

/// Runs `work` on each chunk of `0..n`, one thread per chunk; results in chunk order. A
/// panic in a worker is a bug and is re-raised on the caller.
pub(crate) fn chunked<U: Send>(
    n: usize,
    threads: usize,
    work: impl Fn(Range<usize>) -> U + Sync,
) -> Vec<U> {
    let ranges = ranges(n, threads);
    if ranges.len() == 1 {
        return ranges.into_iter().map(work).collect();
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|range| scope.spawn(move || work(range)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// `out[i] = f(i)` for every `i`, computed in parallel chunks.
pub(crate) fn map_into<U: Send>(out: &mut [U], threads: usize, f: impl Fn(usize) -> U + Sync) {
    let n = out.len();
    let chunk = n.div_ceil(threads.max(1)).max(1);
    if threads <= 1 || n <= chunk {
        out.iter_mut()
            .enumerate()
            .for_each(|(i, slot)| *slot = f(i));
        return;
    }
    let f = &f;
    std::thread::scope(|scope| {
        for (c, part) in out.chunks_mut(chunk).enumerate() {
            scope.spawn(move || {
                for (i, slot) in part.iter_mut().enumerate() {
                    *slot = f(c * chunk + i);
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_ranges_cover_everything_once_in_order() {
        for n in [0, 1, 2, 7, 100] {
            for threads in 1..6 {
                let all: Vec<usize> = ranges(n, threads).into_iter().flatten().collect();
                assert_eq!(all, (0..n).collect::<Vec<_>>(), "n {n} threads {threads}");
            }
        }
    }

    #[test]
    fn test_chunked_and_map_into_match_sequential() {
        for threads in 1..5 {
            let sums = chunked(1000, threads, |range| range.sum::<usize>());
            assert_eq!(sums.iter().sum::<usize>(), 999 * 1000 / 2);
            let mut out = vec![0usize; 1001];
            map_into(&mut out, threads, |i| i * 3);
            assert!(out.iter().enumerate().all(|(i, v)| *v == i * 3));
        }
    }
}
