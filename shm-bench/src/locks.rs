//! Lock + unlock: uncontended cost in one process, contended throughput of
//! the process-shared locks with 2 and 4 processes (with the spread of the
//! per-process operation counts), and, in a separate pass, the longest wait
//! for the lock under contention.
//!
//! Every variant is an `op` closure that locks, increments a counter kept
//! in the shared memory with a relaxed load and store (a lost update would
//! reveal a broken lock), and unlocks; and a `count` closure that reads the
//! counter. The contended runs check that the counter grew by exactly the
//! number of operations the processes report.

use crate::report::Section;
use crate::sys::{join, os_error, repeat, spawn, spin_until, RawMap, Res};
use crate::{outcome, Config};
use shm_runtime::{Shared, SharedSafe, ShmMutex};
use std::cell::UnsafeCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Locks, bumps the counter, unlocks.
type Op<'a> = &'a dyn Fn();
/// Reads the counter.
type Count<'a> = &'a dyn Fn() -> u64;

const STD: &str = "std::sync::Mutex (one process only)";
const ROBUST: &str = "pthread robust process-shared (raw libc)";
const PLAIN: &str = "pthread non-robust process-shared (raw libc)";
const RAW_SYNC: &str = "raw_sync::locks::Mutex (non-robust pthread)";
const OURS: &str = "ShmMutex<u64> in Shared<T>";

/// The process-shared locks, each with its op and count, measured by `f`
/// into one outcome each: robust pthread, non-robust pthread, raw_sync,
/// ShmMutex.
fn each_lock<R>(mut f: impl FnMut(Op<'_>, Count<'_>) -> Res<R>) -> [(&'static str, Res<R>); 4] {
    let robust = PthreadLock::new(true).and_then(|l| f(&|| l.op(), &|| l.count()));
    let plain = PthreadLock::new(false).and_then(|l| f(&|| l.op(), &|| l.count()));
    let raw_sync = RawSyncLock::new().and_then(|l| f(&|| l.op(), &|| l.count()));
    let ours = shm_mutex().and_then(|m| f(&|| shm_op(&m), &|| shm_count(&m)));
    [
        (ROBUST, robust),
        (PLAIN, plain),
        (RAW_SYNC, raw_sync),
        (OURS, ours),
    ]
}

/// Adds to the note of the row named `ours` its ratio to each of `others`.
fn note_ratios(s: &mut Section, ours: &str, others: &[&str]) {
    let Some(value) = s.median_of(ours) else {
        return;
    };
    let ratios: Vec<String> = others
        .iter()
        .filter_map(|o| {
            let base = s.median_of(o)?;
            (base > 0.0).then(|| format!("{:.2}x {o}", value / base))
        })
        .collect();
    if let Some(row) = s.rows.iter_mut().find(|r| r.name == ours) {
        let ratios = format!("median vs {}", ratios.join(", "));
        row.note = Some(match row.note.take() {
            Some(note) => format!("{note}; {ratios}"),
            None => ratios,
        });
    }
}

/// Section 4a: uncontended lock+unlock.
pub fn uncontended(c: &Config) -> Section {
    let mut s = Section::new(
        "lock_uncontended",
        format!(
            "4a. Uncontended lock+unlock ({} per repetition)",
            c.lock_ops
        ),
        "ns/lock+unlock",
        false,
    );
    s.about(
        "Rows compare the same work in one process, one thread: lock, bump a counter in the \
         lock's memory, unlock. Baseline: a robust process-shared pthread mutex (what C \
         programs use for locks that survive a crashed holder); the non-robust pthread rows \
         (raw libc, and raw_sync's wrapper of it, what Boost.Interprocess uses on Linux) \
         detect no dead holder; std's mutex is process-private (a reference only).",
    );
    let mut first = true;
    for (name, result) in each_lock(|op, _| measure_uncontended(op, c)) {
        if first {
            s.baseline(name, outcome(result));
            first = false;
        } else {
            s.vs(ROBUST, name, outcome(result));
        }
    }
    let std_mutex = std::sync::Mutex::new(0u64);
    let std_op = || *std_mutex.lock().expect("not poisoned") += 1;
    s.vs(ROBUST, STD, outcome(measure_uncontended(&std_op, c)));
    note_ratios(&mut s, OURS, &[PLAIN, RAW_SYNC]);
    s
}

/// Section 4b: contended throughput.
pub fn contended(c: &Config) -> Section {
    let mut s = Section::new(
        "lock_contended",
        format!(
            "4b. Contended lock+unlock, total over all processes ({} ms windows)",
            c.contended_ms
        ),
        "M lock+unlock/s",
        true,
    );
    s.about(
        "Rows compare the same work with the same number of processes: each process locks, \
         bumps the shared counter and unlocks in a loop for the window; the figure is the total \
         of all processes per second. Baseline per process count: a robust process-shared \
         pthread mutex. Each row's note gives the spread of the per-process operation counts \
         (max/min within one window: 1.00 is perfectly even; a lock that lets its holder take \
         it again while others sleep is fast and uneven).",
    );
    for procs in [2, 4] {
        let base = format!("{ROBUST}, {procs} procs");
        let mut first = true;
        for (name, result) in each_lock(|op, count| measure_contended(op, count, procs, c)) {
            let name = format!("{name}, {procs} procs");
            let (samples, note) = match result {
                Ok((rates, spreads)) => (Ok(rates), Some(spread_note(&spreads))),
                Err(e) => (Err(e), None),
            };
            let row = if first {
                first = false;
                s.baseline(&base, outcome(samples))
            } else {
                s.vs(&base, name, outcome(samples))
            };
            row.note = note;
        }
    }
    for procs in [2, 4] {
        let others = [PLAIN, RAW_SYNC].map(|o| format!("{o}, {procs} procs"));
        let ours = format!("{OURS}, {procs} procs");
        note_ratios(&mut s, &ours, &[&others[0], &others[1]]);
    }
    s
}

/// Section 4c: the longest wait for the lock under contention.
pub fn wait(c: &Config) -> Section {
    let mut s = Section::new(
        "lock_wait",
        format!(
            "4c. Longest lock+unlock call under contention ({} ms windows)",
            c.contended_ms
        ),
        "us (longest call)",
        false,
    );
    s.about(
        "Rows compare the same contended loop as 4b, in a separate pass (reading the clock \
         around every call would perturb the throughput figures): each process times every \
         lock+bump+unlock call, and the figure is the longest call seen by any process in the \
         window, which is the longest wait for the lock (the critical section is one add). \
         Baseline per process count: a robust process-shared pthread mutex.",
    );
    for procs in [2, 4] {
        let base = format!("{ROBUST}, {procs} procs");
        let mut first = true;
        for (name, result) in each_lock(|op, count| measure_wait(op, count, procs, c)) {
            if first {
                first = false;
                s.baseline(&base, outcome(result));
            } else {
                s.vs(&base, format!("{name}, {procs} procs"), outcome(result));
            }
        }
    }
    s
}

/// The per-process spread of one row: median and worst over the windows.
fn spread_note(spreads: &[f64]) -> String {
    let worst = spreads.iter().copied().fold(f64::NAN, f64::max);
    match crate::report::median(spreads) {
        Some(median) => format!("per-process ops max/min: median {median:.2}, worst {worst:.2}"),
        None => "no spread".to_string(),
    }
}

fn measure_uncontended(op: Op<'_>, c: &Config) -> Res<Vec<f64>> {
    let op = black_box(op);
    repeat(c.reps, || {
        let start = Instant::now();
        for _ in 0..c.lock_ops {
            op();
        }
        Ok(start.elapsed().as_nanos() as f64 / c.lock_ops as f64)
    })
}

/// The start and stop flags, each process's count of operations and its
/// longest call (in nanoseconds).
#[derive(SharedSafe)]
#[repr(C)]
struct Control {
    start: AtomicU32,
    stop: AtomicU32,
    counts: [AtomicU64; 8],
    longest: [AtomicU64; 8],
}

/// One contended window: `procs` processes run `op` until told to stop
/// (timing each call when `timed`). Returns the seconds the window lasted
/// and, per process, its operation count and longest call in nanoseconds.
fn window(
    op: Op<'_>,
    count: Count<'_>,
    procs: usize,
    timed: bool,
    c: &Config,
) -> Res<(f64, Vec<(u64, u64)>)> {
    let control = Shared::anonymous(Control {
        start: AtomicU32::new(0),
        stop: AtomicU32::new(0),
        counts: Default::default(),
        longest: Default::default(),
    })?;
    let before = count();
    let children = (0..procs)
        .map(|k| {
            spawn(|| {
                spin_until(|| control.start.load(Ordering::Acquire) == 1);
                let mut n = 0u64;
                let mut longest = 0u64;
                while control.stop.load(Ordering::Relaxed) == 0 {
                    if timed {
                        for _ in 0..32 {
                            let t = Instant::now();
                            op();
                            longest = longest.max(t.elapsed().as_nanos() as u64);
                        }
                    } else {
                        for _ in 0..32 {
                            op();
                        }
                    }
                    n += 32;
                }
                control.counts[k].store(n, Ordering::Release);
                control.longest[k].store(longest, Ordering::Release);
            })
        })
        .collect::<Res<Vec<_>>>()?;
    let start = Instant::now();
    control.start.store(1, Ordering::Release);
    std::thread::sleep(Duration::from_millis(c.contended_ms));
    control.stop.store(1, Ordering::Release);
    let seconds = start.elapsed().as_secs_f64();
    for child in children {
        join(child)?;
    }
    let per_process: Vec<(u64, u64)> = (0..procs)
        .map(|k| {
            (
                control.counts[k].load(Ordering::Acquire),
                control.longest[k].load(Ordering::Acquire),
            )
        })
        .collect();
    let total: u64 = per_process.iter().map(|p| p.0).sum();
    let grew = count() - before;
    if grew != total {
        return Err(format!("lock lost updates: counter grew by {grew}, ops {total}").into());
    }
    Ok((seconds, per_process))
}

/// Throughput in M ops/s per window, and the per-process spread (max/min
/// of the counts) per window.
fn measure_contended(
    op: Op<'_>,
    count: Count<'_>,
    procs: usize,
    c: &Config,
) -> Res<(Vec<f64>, Vec<f64>)> {
    let mut spreads = Vec::new();
    let rates = repeat(c.reps, || {
        let (seconds, per_process) = window(op, count, procs, false, c)?;
        let total: u64 = per_process.iter().map(|p| p.0).sum();
        let max = per_process.iter().map(|p| p.0).max().unwrap_or(0);
        let min = per_process.iter().map(|p| p.0).min().unwrap_or(0);
        spreads.push(max as f64 / min.max(1) as f64);
        Ok(total as f64 / seconds / 1e6)
    })?;
    // The warm-up window's spread is not reported either.
    spreads.remove(0);
    Ok((rates, spreads))
}

/// The longest call of any process, in microseconds, per window.
fn measure_wait(op: Op<'_>, count: Count<'_>, procs: usize, c: &Config) -> Res<Vec<f64>> {
    repeat(c.reps, || {
        let (_, per_process) = window(op, count, procs, true, c)?;
        let longest = per_process.iter().map(|p| p.1).max().unwrap_or(0);
        Ok(longest as f64 / 1e3)
    })
}

/// This crate's mutex guarding the counter, in an anonymous `Shared<T>`.
fn shm_mutex() -> Res<Shared<ShmMutex<u64>>> {
    Ok(Shared::anonymous(ShmMutex::new(0))?)
}

fn shm_op(m: &ShmMutex<u64>) {
    let mut guard = m.lock().expect("no process died holding the lock");
    *guard += 1;
}

fn shm_count(m: &ShmMutex<u64>) -> u64 {
    *m.lock().expect("no process died holding the lock")
}

/// A process-shared pthread mutex (robust or not) and a counter, in a raw
/// shared mapping: what C programs do.
#[repr(C)]
struct PthreadShared {
    mutex: UnsafeCell<libc::pthread_mutex_t>,
    counter: AtomicU64,
}

struct PthreadLock {
    map: RawMap,
}

impl PthreadLock {
    fn new(robust: bool) -> Res<PthreadLock> {
        let map = RawMap::new(size_of::<PthreadShared>(), 0)?;
        let robustness = if robust {
            libc::PTHREAD_MUTEX_ROBUST
        } else {
            libc::PTHREAD_MUTEX_STALLED
        };
        let shared = map.ptr().cast::<PthreadShared>();
        // SAFETY: the fresh mapping is page-aligned and large enough; the
        // attribute object is initialised before use and destroyed after,
        // and the mutex is initialised once, before any fork.
        unsafe {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
            let attr = attr.as_mut_ptr();
            if libc::pthread_mutexattr_init(attr) != 0
                || libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED) != 0
                || libc::pthread_mutexattr_setrobust(attr, robustness) != 0
            {
                return Err(os_error("pthread mutex attributes"));
            }
            let rc =
                libc::pthread_mutex_init(UnsafeCell::raw_get(&raw const (*shared).mutex), attr);
            libc::pthread_mutexattr_destroy(attr);
            if rc != 0 {
                return Err(format!("pthread_mutex_init: error {rc}").into());
            }
        }
        Ok(PthreadLock { map })
    }

    fn shared(&self) -> &PthreadShared {
        // SAFETY: initialised in `new`; the mutex is only used through the
        // pthread API and the counter atomically, for as long as `map` lives.
        unsafe { &*self.map.ptr().cast::<PthreadShared>() }
    }

    fn op(&self) {
        let shared = self.shared();
        let m = shared.mutex.get();
        // SAFETY: an initialised process-shared mutex in a live mapping.
        let rc = unsafe { libc::pthread_mutex_lock(m) };
        if rc == libc::EOWNERDEAD {
            // SAFETY: we hold the lock after EOWNERDEAD.
            unsafe { libc::pthread_mutex_consistent(m) };
        } else {
            assert_eq!(rc, 0, "pthread_mutex_lock");
        }
        let n = shared.counter.load(Ordering::Relaxed);
        shared.counter.store(n + 1, Ordering::Relaxed);
        // SAFETY: this thread holds the lock.
        unsafe { libc::pthread_mutex_unlock(m) };
    }

    fn count(&self) -> u64 {
        self.shared().counter.load(Ordering::Acquire)
    }
}

/// raw_sync's mutex (a process-shared, non-robust pthread mutex) guarding a
/// counter, both in a raw shared mapping.
struct RawSyncLock {
    lock: Box<dyn raw_sync::locks::LockImpl>,
    // Declared after `lock`, which points into it.
    map: RawMap,
}

impl RawSyncLock {
    /// Where the counter lives in the mapping, past the lock.
    const COUNTER: usize = 128;

    fn new() -> Res<RawSyncLock> {
        use raw_sync::locks::LockInit;
        let map = RawMap::new(4096, 0)?;
        // SAFETY: the lock gets the start of a fresh page-aligned mapping
        // (`size_of` is far below COUNTER), and the data pointer is the
        // aligned, zeroed counter at COUNTER; both live as long as `map`.
        let (lock, used) =
            unsafe { raw_sync::locks::Mutex::new(map.ptr(), map.ptr().add(Self::COUNTER))? };
        if used > Self::COUNTER {
            return Err(format!("raw_sync mutex needs {used} bytes").into());
        }
        Ok(RawSyncLock { lock, map })
    }

    /// The counter: the data pointer given to the lock.
    fn counter(&self) -> &AtomicU64 {
        // SAFETY: an aligned, zero-initialised u64 inside the mapping, which
        // lives as long as `self` and is only accessed atomically.
        unsafe { AtomicU64::from_ptr(self.map.ptr().add(Self::COUNTER).cast()) }
    }

    fn op(&self) {
        let _guard = self.lock.lock().expect("raw_sync lock");
        let counter = self.counter();
        let n = counter.load(Ordering::Relaxed);
        counter.store(n + 1, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.counter().load(Ordering::Acquire)
    }
}
