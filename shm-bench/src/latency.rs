//! Round-trip latency between a parent and a forked child: spinning on
//! atomics in shared memory (several mappings) against pipes and sockets,
//! then blocking wake-ups (futex, eventfd, pipes, this crate's primitives).
//!
//! One child per variant runs all repetitions; the parent times each
//! repetition of `n` round trips and reports nanoseconds per round trip.

use crate::report::Section;
use crate::sys::{
    eventfd, eventfd_read, eventfd_write, futex_wait, futex_wake, join, ns_since, pipe, repeat,
    spawn, spin_until, RawMap, Res,
};
use crate::{outcome, Config};
use shm_runtime::{Shared, SharedSafe, ShmCondvar, ShmEvent, ShmMutex, ShmSemaphore};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

/// Two counters on separate cache lines: the parent bumps `ping`, the child
/// answers by copying it to `pong`.
#[derive(SharedSafe)]
#[repr(C)]
pub struct PingPong {
    pub(crate) ping: AtomicU64,
    _pad: [u64; 15],
    pub(crate) pong: AtomicU64,
    _pad2: [u64; 15],
}

impl PingPong {
    /// Both counters at zero.
    pub fn new() -> PingPong {
        PingPong {
            ping: AtomicU64::new(0),
            _pad: [0; 15],
            pong: AtomicU64::new(0),
            _pad2: [0; 15],
        }
    }
}

/// The same with 32-bit words, for futexes.
#[derive(SharedSafe)]
#[repr(C)]
pub struct FutexPair {
    ping: AtomicU32,
    _pad: [u32; 31],
    pong: AtomicU32,
    _pad2: [u32; 31],
}

const SPIN_BASE: &str = "spin: raw mmap";

/// Section 2: spinning on atomics, against pipes and sockets.
pub fn spin(c: &Config) -> Section {
    let mut s = Section::new(
        "spin_latency",
        format!(
            "2. Round trip between two processes, spinning ({} round trips per repetition)",
            c.spin_round_trips
        ),
        "ns/round-trip",
        false,
    );
    let n = c.spin_round_trips;
    s.baseline(SPIN_BASE, outcome(spin_raw(c)));
    s.vs(
        SPIN_BASE,
        "spin: Shared<PingPong>",
        outcome(
            Shared::anonymous(PingPong::new())
                .map_err(Into::into)
                .and_then(|pp| spin_rounds(&pp, n, c.reps)),
        ),
    );
    s.vs(
        SPIN_BASE,
        "spin: shared_memory crate mapping",
        outcome(spin_shared_memory(c)),
    );
    s.vs(
        SPIN_BASE,
        "pipe pair (1 byte)",
        outcome(pipe_rounds(n, c.reps)),
    );
    s.vs(
        SPIN_BASE,
        "UnixStream::pair (1 byte)",
        outcome(socket_rounds(n, c.reps)),
    );
    s
}

const BLOCK_BASE: &str = "raw futex (shared, no PRIVATE flag)";

/// Section 3: blocking wake-ups.
pub fn blocking(c: &Config) -> Section {
    let mut s = Section::new(
        "blocking_latency",
        format!(
            "3. Round trip between two processes, blocking wake-ups ({} round trips per repetition)",
            c.block_round_trips
        ),
        "ns/round-trip",
        false,
    );
    let n = c.block_round_trips;
    s.baseline(BLOCK_BASE, outcome(futex_rounds(n, c.reps)));
    s.vs(
        BLOCK_BASE,
        "eventfd pair",
        outcome(eventfd_rounds(n, c.reps)),
    );
    s.vs(
        BLOCK_BASE,
        "pipe pair (1 byte)",
        outcome(pipe_rounds(n, c.reps)),
    );
    s.vs(
        BLOCK_BASE,
        "UnixStream::pair (1 byte)",
        outcome(socket_rounds(n, c.reps)),
    );
    s.vs(
        BLOCK_BASE,
        "ShmEvent pair (spins briefly, then futex)",
        outcome(event_rounds(n, c.reps)),
    );
    s.vs(
        BLOCK_BASE,
        "ShmSemaphore pair (spins briefly, then futex)",
        outcome(semaphore_rounds(n, c.reps)),
    );
    s.vs(
        BLOCK_BASE,
        "ShmMutex + ShmCondvar",
        outcome(condvar_rounds(n, c.reps)),
    );
    s
}

/// `n` spinning round trips per repetition through `pp`, which the child
/// inherits across `fork`.
pub fn spin_rounds(pp: &PingPong, n: usize, reps: usize) -> Res<Vec<f64>> {
    round_trips(
        n,
        reps,
        |i| {
            spin_until(|| pp.ping.load(Ordering::Acquire) == i);
            pp.pong.store(i, Ordering::Release);
        },
        |i| {
            pp.ping.store(i, Ordering::Release);
            spin_until(|| pp.pong.load(Ordering::Acquire) == i);
            Ok(())
        },
    )
}

/// The harness of every round-trip measurement: a forked child answers
/// `(reps + 1) * n` rounds (`child_round(i)` for i = 1, 2, ...), while the
/// parent times `n` rounds per repetition (`parent_round(i)`, numbered the
/// same way) after one warm-up repetition. The queue section uses it too.
pub(crate) fn round_trips(
    n: usize,
    reps: usize,
    mut child_round: impl FnMut(u64),
    mut parent_round: impl FnMut(u64) -> Res<()>,
) -> Res<Vec<f64>> {
    let total = ((reps + 1) * n) as u64;
    let child = spawn(move || {
        for i in 1..=total {
            child_round(i);
        }
    })?;
    let mut i = 0u64;
    let samples = repeat(reps, || {
        let start = Instant::now();
        for _ in 0..n {
            i += 1;
            parent_round(i)?;
        }
        Ok(ns_since(start) / n as f64)
    })?;
    join(child)?;
    Ok(samples)
}

fn spin_raw(c: &Config) -> Res<Vec<f64>> {
    let map = RawMap::new(size_of::<PingPong>(), 0)?;
    let p = map.ptr().cast::<PingPong>();
    // SAFETY: the fresh mapping is page-aligned, large enough and private
    // until the fork below; after this write it holds a valid PingPong,
    // which is only accessed through atomics while `map` lives.
    let pp = unsafe {
        p.write(PingPong::new());
        &*p
    };
    spin_rounds(pp, c.spin_round_trips, c.reps)
}

fn spin_shared_memory(c: &Config) -> Res<Vec<f64>> {
    let shmem = shared_memory::ShmemConf::new()
        .size(size_of::<PingPong>())
        .create()?;
    let p = shmem.as_ptr().cast::<PingPong>();
    // SAFETY: as in `spin_raw`: the crate's fresh mapping is page-aligned
    // and large enough, and `shmem` (which unlinks and unmaps on drop)
    // outlives every use of the reference.
    let pp = unsafe {
        p.write(PingPong::new());
        &*p
    };
    spin_rounds(pp, c.spin_round_trips, c.reps)
}

/// One-byte round trips over byte streams: the parent writes to `parent.0`
/// and reads `parent.1`; the child reads `child_ends.0` and echoes to
/// `child_ends.1`. The parent's copies
/// of the child's ends are closed after the fork, so a dead child shows as
/// end-of-file rather than a hang.
fn stream_rounds<S: Read + Write, T: Read + Write>(
    mut parent: (S, T),
    child_ends: (S, T),
    n: usize,
    reps: usize,
) -> Res<Vec<f64>> {
    let (mut from_parent, mut to_parent) = child_ends;
    round_trips(
        n,
        reps,
        move |_| {
            let mut byte = [0u8];
            from_parent.read_exact(&mut byte).expect("read from parent");
            to_parent.write_all(&byte).expect("write to parent");
        },
        |_| {
            let mut byte = [7u8];
            parent.0.write_all(&byte)?;
            parent.1.read_exact(&mut byte)?;
            Ok(())
        },
    )
}

fn pipe_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let (down_r, down_w) = pipe()?;
    let (up_r, up_w) = pipe()?;
    // The parent writes down and reads up; the child reads down, writes up.
    stream_rounds((down_w, up_r), (down_r, up_w), n, reps)
}

fn socket_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let (parent_end, child_end) = UnixStream::pair()?;
    let parent = (parent_end.try_clone()?, parent_end);
    let child = (child_end.try_clone()?, child_end);
    stream_rounds(parent, child, n, reps)
}

fn futex_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let map = RawMap::new(size_of::<FutexPair>(), 0)?;
    let p = map.ptr().cast::<FutexPair>();
    // SAFETY: a fresh, page-aligned, zero-filled mapping large enough for
    // a FutexPair (all-zero is a valid one: four arrays and atomics of 0);
    // it is only accessed through atomics and futex calls while `map` lives.
    let pair = unsafe { &*p };
    // Round numbers fit the `u32` words: at most (reps + 1) * n rounds.
    let wait_for = |word: &AtomicU32, i: u32| loop {
        let v = word.load(Ordering::Acquire);
        if v == i {
            break;
        }
        futex_wait(word, v);
    };
    round_trips(
        n,
        reps,
        |i| {
            wait_for(&pair.ping, i as u32);
            pair.pong.store(i as u32, Ordering::Release);
            futex_wake(&pair.pong, 1);
        },
        |i| {
            pair.ping.store(i as u32, Ordering::Release);
            futex_wake(&pair.ping, 1);
            wait_for(&pair.pong, i as u32);
            Ok(())
        },
    )
}

fn eventfd_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let down = eventfd()?;
    let up = eventfd()?;
    round_trips(
        n,
        reps,
        |_| {
            eventfd_read(&down).expect("eventfd read");
            eventfd_write(&up, 1).expect("eventfd write");
        },
        |_| {
            eventfd_write(&down, 1)?;
            eventfd_read(&up)?;
            Ok(())
        },
    )
}

/// Two events on separate cache lines: `down` wakes the child, `up` the
/// parent.
#[derive(SharedSafe)]
#[repr(C)]
struct EventPair {
    down: ShmEvent,
    _pad: [u32; 31],
    up: ShmEvent,
    _pad2: [u32; 31],
}

fn event_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let pair = Shared::anonymous(EventPair {
        down: ShmEvent::new(),
        _pad: [0; 31],
        up: ShmEvent::new(),
        _pad2: [0; 31],
    })?;
    // Each side resets the event it waited for before it sets the other,
    // so the next `set` always finds it reset.
    round_trips(
        n,
        reps,
        |_| {
            pair.down.wait();
            pair.down.reset();
            pair.up.set();
        },
        |_| {
            pair.down.set();
            pair.up.wait();
            pair.up.reset();
            Ok(())
        },
    )
}

/// Two semaphores with no permits: releasing one wakes the other side.
#[derive(SharedSafe)]
#[repr(C)]
struct SemaphorePair {
    down: ShmSemaphore,
    _pad: [u32; 31],
    up: ShmSemaphore,
    _pad2: [u32; 31],
}

fn semaphore_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let pair = Shared::anonymous(SemaphorePair {
        down: ShmSemaphore::new(0),
        _pad: [0; 31],
        up: ShmSemaphore::new(0),
        _pad2: [0; 31],
    })?;
    round_trips(
        n,
        reps,
        |_| {
            pair.down.acquire();
            pair.up.release();
        },
        |_| {
            pair.down.release();
            pair.up.acquire();
            Ok(())
        },
    )
}

/// A turn counter under a mutex, and a condvar: odd turns are the child's.
#[derive(SharedSafe)]
#[repr(C)]
struct Turns {
    turn: ShmMutex<u64>,
    changed: ShmCondvar,
}

fn condvar_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let turns = Shared::anonymous(Turns {
        turn: ShmMutex::new(0),
        changed: ShmCondvar::new(),
    })?;
    // Round i: the parent sets the turn to 2i - 1, the child answers 2i.
    round_trips(
        n,
        reps,
        |i| {
            let guard = turns.turn.lock().expect("child lock");
            let mut guard = turns
                .changed
                .wait_while(guard, |t| *t != 2 * i - 1)
                .expect("child wait");
            *guard = 2 * i;
            drop(guard);
            turns.changed.notify_one();
        },
        |i| {
            let mut guard = turns
                .turn
                .lock()
                .map_err(|_| "a peer died holding the lock")?;
            *guard = 2 * i - 1;
            turns.changed.notify_one();
            let guard = turns
                .changed
                .wait_while(guard, |t| *t != 2 * i)
                .map_err(|_| "a peer died holding the lock")?;
            drop(guard);
            Ok(())
        },
    )
}
