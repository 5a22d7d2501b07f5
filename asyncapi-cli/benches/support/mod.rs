//! What the benchmarks share.

use std::time::{Duration, Instant};

/// Runs `f` once to warm caches and the allocator, then `runs` times; returns the median and
/// the minimum.
pub fn measure(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[runs / 2], times[0])
}
