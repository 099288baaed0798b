//! Independent backtests (comparison variants, sweep points) spread over cores.
//!
//! Each job runs alone on one thread from start to end and shares nothing with the
//! others, so its result is the one a serial run gives; results come back in the jobs'
//! order whatever order they finish in, so every file written from them is
//! byte-identical to a serial run's. Threads take the next job from a shared counter
//! (a slow job does not hold back a core) and live in a `std::thread::scope`, so jobs
//! may borrow from the caller.

use std::{
    num::NonZeroUsize,
    sync::atomic::{AtomicUsize, Ordering},
};

/// The number of cores this process may use (1 when unknown).
pub fn available_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// `f` over every item, on up to `jobs` threads; the results in the items' order.
///
/// With `jobs` ≤ 1 (or one item) everything runs on the calling thread.
///
/// # Examples
/// ```
/// use tickpipe::backtest::parallel_map;
/// let squares = parallel_map(&[1, 2, 3, 4, 5], 3, |_, x| x * x);
/// assert_eq!(squares, vec![1, 4, 9, 16, 25]);
/// ```
///
/// # Panics
/// When `f` panics on any item (the panic is carried to the caller).
pub fn parallel_map<T, R, F>(items: &[T], jobs: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &T) -> R + Sync,
{
    let threads = jobs.min(items.len());
    if threads <= 1 {
        return items.iter().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        // Relaxed: the counter only hands out indices; the results
                        // travel back through `join`, which synchronises.
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(i, item)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(mine) => mine,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    debug_assert_eq!(done.len(), items.len());
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_on_any_number_of_threads() {
        let items: Vec<u64> = (0..97).collect();
        let serial = parallel_map(&items, 1, |i, x| (i as u64) * 1000 + x * x);
        for jobs in [2, 3, 8, 200] {
            assert_eq!(
                parallel_map(&items, jobs, |i, x| (i as u64) * 1000 + x * x),
                serial
            );
        }
        assert!(parallel_map(&[] as &[u8], 4, |_, x| *x).is_empty());
    }
}
