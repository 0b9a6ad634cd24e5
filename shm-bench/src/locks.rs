//! Lock + unlock: uncontended cost in one process, and contended throughput
//! of the process-shared locks with 2 and 4 processes.
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

/// Section 4a: uncontended lock + unlock.
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
    let std_mutex = std::sync::Mutex::new(0u64);
    let std_op = || *std_mutex.lock().expect("not poisoned") += 1;
    s.baseline(STD, outcome(measure_uncontended(&std_op, c)));
    s.vs(
        STD,
        "pthread robust process-shared (raw libc)",
        outcome(PthreadLock::new().and_then(|l| measure_uncontended(&|| l.op(), c))),
    );
    s.vs(
        STD,
        "raw_sync::locks::Mutex",
        outcome(RawSyncLock::new().and_then(|l| measure_uncontended(&|| l.op(), c))),
    );
    s.vs(
        STD,
        "ShmMutex<u64> in Shared<T>",
        outcome(shm_mutex().and_then(|m| measure_uncontended(&|| shm_op(&m), c))),
    );
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
    for procs in [2, 4] {
        let base = format!("pthread robust (raw libc), {procs} procs");
        let pthread =
            PthreadLock::new().and_then(|l| measure_contended(&|| l.op(), &|| l.count(), procs, c));
        s.baseline(base.clone(), outcome(pthread));
        let raw_sync =
            RawSyncLock::new().and_then(|l| measure_contended(&|| l.op(), &|| l.count(), procs, c));
        s.vs(
            &base,
            format!("raw_sync::locks::Mutex, {procs} procs"),
            outcome(raw_sync),
        );
        let ours = shm_mutex()
            .and_then(|m| measure_contended(&|| shm_op(&m), &|| shm_count(&m), procs, c));
        s.vs(
            &base,
            format!("ShmMutex<u64>, {procs} procs"),
            outcome(ours),
        );
    }
    s
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

/// The start and stop flags and each process's count of operations.
#[derive(SharedSafe)]
#[repr(C)]
struct Control {
    start: AtomicU32,
    stop: AtomicU32,
    counts: [AtomicU64; 8],
}

fn measure_contended(op: Op<'_>, count: Count<'_>, procs: usize, c: &Config) -> Res<Vec<f64>> {
    repeat(c.reps, || {
        let control = Shared::anonymous(Control {
            start: AtomicU32::new(0),
            stop: AtomicU32::new(0),
            counts: Default::default(),
        })?;
        let before = count();
        let children = (0..procs)
            .map(|k| {
                spawn(|| {
                    spin_until(|| control.start.load(Ordering::Acquire) == 1);
                    let mut n = 0u64;
                    while control.stop.load(Ordering::Relaxed) == 0 {
                        for _ in 0..32 {
                            op();
                        }
                        n += 32;
                    }
                    control.counts[k].store(n, Ordering::Release);
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
        let total: u64 = control
            .counts
            .iter()
            .map(|n| n.load(Ordering::Acquire))
            .sum();
        let grew = count() - before;
        if grew != total {
            return Err(format!("lock lost updates: counter grew by {grew}, ops {total}").into());
        }
        Ok(total as f64 / seconds / 1e6)
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

/// A robust, process-shared pthread mutex and a counter, in a raw shared
/// mapping: what C programs do.
#[repr(C)]
struct PthreadShared {
    mutex: UnsafeCell<libc::pthread_mutex_t>,
    counter: AtomicU64,
}

struct PthreadLock {
    map: RawMap,
}

impl PthreadLock {
    fn new() -> Res<PthreadLock> {
        let map = RawMap::new(size_of::<PthreadShared>(), 0)?;
        let shared = map.ptr().cast::<PthreadShared>();
        // SAFETY: the fresh mapping is page-aligned and large enough; the
        // attribute object is initialised before use and destroyed after,
        // and the mutex is initialised once, before any fork.
        unsafe {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
            let attr = attr.as_mut_ptr();
            if libc::pthread_mutexattr_init(attr) != 0
                || libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED) != 0
                || libc::pthread_mutexattr_setrobust(attr, libc::PTHREAD_MUTEX_ROBUST) != 0
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
