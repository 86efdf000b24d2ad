//! The thread pool: [`par_map`] spreads independent work (reading, parsing and judging one
//! host, rendering one batch of rows) over all cores and keeps the results in the items' order;
//! [`pipelined`] makes windows of such work one after another while the calling thread takes
//! in (merges, writes) the window before.
//!
//! It is `std::thread::scope` with a shared counter rather than rayon: the work items are few
//! (one per host) and of similar size, so a counter that hands out the next index balances them
//! as well as work stealing would, in thirty lines and without a dependency.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Worker threads for `n` independent items: one per core, never more than there are items.
fn workers(n: usize) -> usize {
    if n <= 1 {
        return 1;
    }
    cores().min(n)
}

/// The cores this process may use, asked once: `available_parallelism` reads the cgroup's CPU
/// quota from /proc and /sys on every call (three files opened and read), and a fleet run
/// maps a host's few items on every host (strace: 9 opens per dump of a human fleet run).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |c| c.get()))
}

/// Applies `f` to every item on all cores and returns the results in the items' order.
///
/// A panic in `f` is re-raised on the calling thread as it was, so a bug is reported the same
/// way with one host or a thousand.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = workers(items.len());
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            let done = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            for (i, r) in done {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter()
        .map(|r| r.expect("every index is handed out exactly once"))
        .collect()
}

/// [`par_map`] when there are at least `min` items, else on the calling thread: for items of a
/// few microseconds each (a topology's links), starting threads costs more than a handful of
/// them take, and on a loaded machine a new thread may wait to be scheduled.
pub fn par_map_from<T: Sync, R: Send>(
    min: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    if items.len() < min {
        return items.iter().map(f).collect();
    }
    par_map(items, f)
}

/// Makes each of `windows` in turn with `make` (which may itself use the pool) and hands the
/// results to `take` on the calling thread, in order: a window is made while `take` consumes
/// the one before, so the cores do not wait while one thread merges or writes. Stops at
/// `take`'s first error. A panic in `make` is re-raised as it was.
pub fn pipelined<W: Send, R: Send, E>(
    mut windows: impl Iterator<Item = W>,
    make: impl Fn(W) -> R + Sync,
    mut take: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let Some(first) = windows.next() else {
        return Ok(());
    };
    let mut made = make(first);
    loop {
        let next = windows.next();
        let (taken, next) = std::thread::scope(|s| {
            let making = next.map(|w| s.spawn(|| make(w)));
            let taken = take(made);
            let next = making.map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            (taken, next)
        });
        taken?;
        match next {
            Some(r) => made = r,
            None => return Ok(()),
        }
    }
}

/// Drops `value` on a thread of its own, so that the caller goes on while its memory is
/// freed: a large topology's YAML tree or its nodes' states take milliseconds to free, on the
/// one thread the steps before and after judging run on. Dropped in place when no thread can
/// be started.
pub fn drop_aside<T: Send + 'static>(value: T) {
    // The closure, value and all, is dropped here when the thread cannot be started.
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_takes_every_window_in_order_and_stops_at_an_error() {
        let items: Vec<u32> = (0..1000).collect();
        let mut taken = Vec::new();
        let done: Result<(), ()> = pipelined(
            items.chunks(7),
            |w| w.iter().map(|x| x * 2).collect::<Vec<_>>(),
            |r| {
                taken.extend(r);
                Ok(())
            },
        );
        assert_eq!(done, Ok(()));
        assert_eq!(taken, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let mut calls = 0;
        let done = pipelined(
            items.chunks(10),
            |w| w[0],
            |first| {
                calls += 1;
                if first == 30 {
                    Err(first)
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!((done, calls), (Err(30), 4));
        let none: Result<(), ()> = pipelined(items[..0].chunks(3), |w| w.len(), |_| unreachable!());
        assert_eq!(none, Ok(()));
    }

    #[test]
    fn par_map_keeps_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        let out = par_map(&items, |&i| {
            // Uneven work, so threads finish out of order.
            (0..(i % 7) * 1000).fold(i, |a, b| a.wrapping_add(b % 3))
                - (0..(i % 7) * 1000).fold(0, |a, b| a + b % 3)
        });
        assert_eq!(out, items);
        assert!(par_map(&[] as &[u8], |&b| b).is_empty());
        // Below the threshold on the calling thread, at or above it on all cores: the same.
        for min in [0, 999, 1000, 1001] {
            assert_eq!(
                par_map_from(min, &items, |&i| i * 3),
                par_map(&items, |&i| i * 3)
            );
        }
    }

    #[test]
    #[should_panic(expected = "boom on 13")]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<u32> = (0..64).collect();
        par_map(&items, |&i| {
            if i == 13 {
                panic!("boom on {i}");
            }
            i
        });
    }
}
