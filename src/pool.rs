//! The thread pool: [`par_map`] spreads independent work (reading, parsing and judging one
//! host, rendering one batch of rows) over all cores and keeps the results in the items' order;
//! [`pipelined`] makes windows of such work one after another while the calling thread takes
//! in (merges, writes) the window before.
//!
//! It is `std::thread::scope` with a shared counter rather than rayon: the work items are few
//! (one per host) and of similar size, so a counter that hands out the next index balances them
//! as well as work stealing would, in thirty lines and without a dependency.
//!
//! A thread started to work beside a parent that goes on working (the socket reader of a host
//! run, the second half of a large topology's YAML, a large value freed aside) goes through
//! [`spawn`] or [`spawn_scoped`], which make sure it runs beside the parent rather than after
//! it (see [`leave`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{JoinHandle, Scope, ScopedJoinHandle};

use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

/// The CPU the calling thread runs on, or `usize::MAX` when the kernel does not say. glibc's,
/// not rustix's: rustix finds `getcpu` in the vDSO by walking the auxiliary vector, which
/// faults under valgrind (the tool the instruction counts in BENCHMARKS.md come from).
fn sched_getcpu() -> usize {
    // SAFETY: sched_getcpu takes no arguments and only returns a number (or -1).
    usize::try_from(unsafe { libc::sched_getcpu() }).unwrap_or(usize::MAX)
}

/// Starts `f` on a thread of its own that runs beside the calling thread (see [`leave`]).
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    let handle = std::thread::spawn(beside(f));
    std::thread::yield_now();
    handle
}

/// [`spawn`] in a scope: the thread may borrow what outlives `scope`.
pub fn spawn_scoped<'scope, T: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> ScopedJoinHandle<'scope, T> {
    let handle = scope.spawn(beside(f));
    std::thread::yield_now();
    handle
}

/// `f`, to run on a thread started from the calling one: it first [`leave`]s the caller's CPU.
fn beside<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let from = sched_getcpu();
    move || {
        leave(from);
        f()
    }
}

/// Run first on a thread started from CPU `from` by a parent that goes on working: when the
/// thread finds itself on that same CPU, it moves to another one the process may use, then
/// allows every one of them again.
///
/// Why: such a thread is started to run at the same time as its parent, but where it first
/// runs is the scheduler's choice. Some kernels place a new thread on its parent's CPU and
/// leave it there until load balancing moves it, milliseconds later; the 2-CPU Firecracker
/// guests twlint is developed and benchmarked on do (`kernel.sched_vcpu_pack`), and a host
/// run's socket reader ran only once the main thread waited for it. So [`spawn`]'s parent
/// yields right after starting the thread, the thread gets to run, and moves itself. Where the
/// kernel placed it elsewhere this costs one `getcpu`. The targets rotate over the other
/// allowed CPUs. Affinity is only used to place the thread: the set the process had (`taskset`
/// included) is restored at once, and any failure leaves the thread where it is.
///
/// A pool's workers ([`par_map`]) and [`pipelined`]'s maker are not moved: the workers' parent
/// waits for them, so its CPU is free, and the maker mostly waits for its workers. Moving them
/// too was measured on 10,000 dumps: no faster with the workers moved, 5 to 15% slower with the
/// maker moved as well.
fn leave(from: usize) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if from == usize::MAX || sched_getcpu() != from {
        return;
    }
    let Ok(allowed) = sched_getaffinity(None) else {
        return;
    };
    let others: Vec<usize> = (0..CpuSet::MAX_CPU)
        .filter(|&c| c != from && allowed.is_set(c))
        .collect();
    if others.is_empty() {
        return;
    }
    let mut only = CpuSet::new();
    only.set(others[NEXT.fetch_add(1, Ordering::Relaxed) % others.len()]);
    if sched_setaffinity(None, &only).is_ok() {
        let _ = sched_setaffinity(None, &allowed);
    }
}

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
    let started = std::thread::Builder::new().spawn(beside(move || drop(value)));
    if started.is_ok() {
        std::thread::yield_now();
    }
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
    fn a_thread_started_beside_its_parent_keeps_every_cpu_the_process_may_use() {
        let mine = sched_getaffinity(None).expect("this thread's CPUs");
        for _ in 0..8 {
            let (theirs, value) = spawn(|| (sched_getaffinity(None).expect("its CPUs"), 42))
                .join()
                .unwrap();
            assert_eq!(value, 42);
            assert_eq!(theirs, mine, "moved to a CPU, then allowed them all again");
            let scoped = std::thread::scope(|s| {
                spawn_scoped(s, || sched_getaffinity(None).expect("its CPUs"))
                    .join()
                    .unwrap()
            });
            assert_eq!(scoped, mine);
        }
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
