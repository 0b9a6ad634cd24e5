//! SeqLock across processes: a writer process keeps updating a struct whose
//! fields must always be equal; reader processes check millions of reads.
//!
//! Children are forked with `fork_unchecked` (the harness is multi-threaded)
//! and touch only shared memory and shm_runtime's primitives.

use shm_runtime::{init, process::Child};
use shm_runtime::{SeqLock, Shared, SharedSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(120);

fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` ends this (child) process immediately.
    unsafe { libc::_exit(code) }
}

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: the children below touch only shared memory and shm_runtime's
    // process-shared primitives, then return or _exit.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

/// 8 words plus an odd tail: several words and bytes to tear.
#[derive(Clone, Copy, Debug, SharedSafe, bytemuck::NoUninit, bytemuck::Zeroable)]
#[repr(C)]
struct Sample {
    words: [u64; 8],
    tail: [u8; 5],
    _pad: [u8; 3],
}

impl Sample {
    fn new(i: u64) -> Sample {
        Sample {
            words: [i; 8],
            tail: [i as u8; 5],
            _pad: [0; 3],
        }
    }

    fn consistent(&self) -> bool {
        self.words.iter().all(|w| *w == self.words[0])
            && self.tail.iter().all(|b| *b == self.words[0] as u8)
    }
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Board {
    sample: SeqLock<Sample>,
    stop: AtomicBool,
    reads: AtomicU64,
    changes_seen: AtomicU64,
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_seqlock_readers_never_see_a_torn_value() {
    const READERS: usize = 2;
    const READS_PER_READER: u64 = 1_500_000;
    let board = Shared::<Board>::anonymous(init::zeroed()).unwrap();
    let start = Instant::now();
    let writer = fork(|| {
        let mut i = 0u64;
        while !board.stop.load(Ordering::Relaxed) {
            i += 1;
            if i & 1 == 0 {
                board.sample.write(Sample::new(i));
            } else {
                board.sample.update(|s| *s = Sample::new(s.words[0] + 1));
            }
            // Leave the readers some windows between writes, as real
            // writers do; reads still overlap writes all the time.
            for _ in 0..200 {
                std::hint::spin_loop();
            }
        }
    });
    let readers: Vec<Child> = (0..READERS)
        .map(|_| {
            fork(|| {
                let mut last = 0;
                let mut changes = 0;
                for _ in 0..READS_PER_READER {
                    let sample = board.sample.read();
                    if !sample.consistent() {
                        exit_child(2);
                    }
                    if sample.words[0] != last {
                        changes += 1;
                        last = sample.words[0];
                    }
                }
                board.reads.fetch_add(READS_PER_READER, Ordering::Relaxed);
                board.changes_seen.fetch_add(changes, Ordering::Relaxed);
            })
        })
        .collect();
    let results: Vec<_> = readers.into_iter().map(|r| r.join(JOIN)).collect();
    board.stop.store(true, Ordering::Relaxed);
    writer.join(JOIN).unwrap();
    for result in results {
        result.unwrap();
    }
    assert_eq!(
        board.reads.load(Ordering::Relaxed),
        READERS as u64 * READS_PER_READER
    );
    assert!(board.sample.read().consistent());
    eprintln!(
        "seqlock: {} reads, {} changes seen, in {:?}",
        board.reads.load(Ordering::Relaxed),
        board.changes_seen.load(Ordering::Relaxed),
        start.elapsed()
    );
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Stalled {
    sample: SeqLock<Sample>,
    writing: AtomicBool,
}

/// Forks a writer that stops in the middle of an `update` (after changing
/// the first word of its private copy) and returns once it is there.
fn stalled_writer(shared: &Shared<Stalled>) -> Child {
    let child = fork(|| {
        shared.sample.update(|v| {
            // Half a write: what a crash mid-write would leave behind.
            v.words[0] = 999;
            shared.writing.store(true, Ordering::Release);
            loop {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
    });
    let start = Instant::now();
    while !shared.writing.load(Ordering::Acquire) {
        assert!(start.elapsed() < JOIN, "child never started writing");
        std::thread::yield_now();
    }
    child
}

/// A writer SIGKILLed in the middle of a write: readers are told the writer
/// died (never shown its half-written value), and the next `write` takes the
/// write over and repairs the lock. Repeated, to cover several kill points.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_seqlock_a_dead_writer_is_reported_and_repaired_by_the_next_write() {
    for round in 1..=5u64 {
        let shared = Shared::<Stalled>::anonymous(init::zeroed()).unwrap();
        shared.sample.write(Sample::new(round));
        let mut child = stalled_writer(&shared);

        // While the writer lives, a bounded read times out.
        let err = shared
            .sample
            .read_timeout(Duration::from_millis(50))
            .unwrap_err();
        assert_eq!(err.kind(), shm_runtime::ErrorKind::TimedOut, "{err}");

        child.kill().unwrap();
        assert!(shared.sample.try_read().is_none(), "round {round}");
        let err = shared
            .sample
            .read_timeout(Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(err.kind(), shm_runtime::ErrorKind::OwnerDied, "{err}");
        assert!(err.to_string().contains("died"), "{err}");

        shared.sample.write(Sample::new(round + 100));
        let value = shared.sample.read_timeout(Duration::from_secs(1)).unwrap();
        assert!(value.consistent());
        assert_eq!(value.words[0], round + 100);
        // And the lock works normally again, for updates too.
        shared.sample.update(|v| *v = Sample::new(v.words[0] + 1));
        assert_eq!(shared.sample.read().words[0], round + 101);
    }
}

/// A writer killed mid-write and not yet reaped (a zombie) is dead too: the
/// next `write` repairs the lock without waiting for the parent to reap it.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_seqlock_a_zombie_writer_is_taken_over() {
    let shared = Shared::<Stalled>::anonymous(init::zeroed()).unwrap();
    shared.sample.write(Sample::new(1));
    let child = stalled_writer(&shared);
    // Killed, but not reaped: `child` still owns the zombie.
    // SAFETY: signals our own, unreaped child.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) },
        0
    );
    let err = shared
        .sample
        .read_timeout(Duration::from_secs(10))
        .unwrap_err();
    assert_eq!(err.kind(), shm_runtime::ErrorKind::OwnerDied, "{err}");
    shared.sample.write(Sample::new(2));
    assert_eq!(shared.sample.read().words[0], 2);
    drop(child); // reaps it
}

/// A record with padding (after `tag`, inside `name`, at the end): what
/// `SeqLock` took only once it copied data bytes alone.
#[derive(Clone, Copy, Debug, PartialEq, SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Record {
    tag: u8,
    count: u64,
    name: shm_runtime::FixedString<5>,
    odd: bool,
}

impl Record {
    fn new(i: u64) -> Record {
        let mut name = shm_runtime::FixedString::new();
        name.push_str(&format!("{:05}", i % 100_000));
        Record {
            tag: i as u8,
            count: i,
            name,
            odd: i % 2 == 1,
        }
    }
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Records {
    record: SeqLock<Record>,
    stop: AtomicBool,
}

/// A writer process keeps replacing a padded record while a reader process
/// checks that every read is one record the writer wrote whole.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_seqlock_a_padded_record_is_never_torn_across_processes() {
    const READS: u64 = 300_000;
    let shared = Shared::<Records>::anonymous(init::zeroed()).unwrap();
    shared.record.write(Record::new(1));
    let writer = fork(|| {
        let mut i = 1u64;
        while !shared.stop.load(Ordering::Relaxed) {
            i += 1;
            if i.is_multiple_of(3) {
                shared.record.update(|r| *r = Record::new(r.count + 1));
                i += 1;
            } else {
                shared.record.write(Record::new(i));
            }
        }
    });
    let reader = fork(|| {
        let mut last = 0;
        for _ in 0..READS {
            let r = shared.record.read();
            if r != Record::new(r.count) || r.count < last {
                exit_child(2);
            }
            last = r.count;
        }
    });
    let read = reader.join(JOIN);
    shared.stop.store(true, Ordering::Relaxed);
    writer.join(JOIN).unwrap();
    read.unwrap();
    let r = shared.record.read();
    assert_eq!(r, Record::new(r.count));
    assert!(r.count > 1, "the writer wrote");
}
