//! Monitors (`Segment::read_only().monitor()`): a process that maps a segment
//! read-only reads another process's atomics and `SeqLock` through the
//! typed view, without `unsafe` and without a reference into the mapping.
//! The mapping really is read-only; a writer that dies mid-write is
//! reported, not waited for; a truncation is survived and told; wrong types,
//! atomics too wide for the target and locks are refused (the last at
//! compile time, with writes: `tests/ui/monitor/`; a read-only `open` of
//! atomics or a `SeqLock` is refused pointing to the monitor:
//! `tests/ui/fail/read_only_open_points_to_monitor.rs`, built by
//! `tests/derive_ui.rs` since the refusal is raised at code generation).
//!
//! Children are forked with `fork_unchecked` (through
//! `shm_workspace::fork_retrying`): each touches only shared memory, this
//! crate's primitives and plain file I/O, then `_exit`s. Every wait is
//! bounded; segments are removed on drop, also when a test fails, and a
//! child still running when its test fails is killed and reaped with its
//! `Child`.

use shm_runtime::process::Child;
use shm_runtime::volatile::{AccessError, Field, READ_ONLY_ATOMIC_LIMIT};
use shm_runtime::{field, init, ErrorKind, Segment, SeqLock, SharedSafe};
use shm_workspace::{exit_child, TempPath};
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(60);

/// Whether this target may load 8-byte atomics (an `AtomicU64`, a
/// `SeqLock`'s words) from read-only memory: 64-bit targets.
fn wide() -> bool {
    std::mem::size_of::<AtomicU64>() <= READ_ONLY_ATOMIC_LIMIT
}

fn name(tag: &str) -> String {
    format!("/shm-monitor-{tag}-{}", std::process::id())
}

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: each child touches only shared memory, this crate's
    // primitives and plain file I/O, then returns or `_exit`s.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

/// A value with a check word: a copy torn between two writes does not
/// match it.
#[derive(Clone, Copy, Debug, PartialEq, SharedSafe, bytemuck::NoUninit, bytemuck::Zeroable)]
#[repr(C)]
struct Sample {
    seq: u64,
    words: [u64; 4],
    check: u64,
}

impl Sample {
    fn new(seq: u64) -> Sample {
        let words = [seq, seq.wrapping_mul(3), !seq, seq.rotate_left(17)];
        Sample {
            seq,
            words,
            check: Sample::fold(seq, &words),
        }
    }

    fn fold(seq: u64, words: &[u64; 4]) -> u64 {
        words.iter().fold(seq ^ 0x9E37_79B9_7F4A_7C15, |h, w| {
            (h ^ w).wrapping_mul(0x100_0000_01B3)
        })
    }

    fn is_whole(&self) -> bool {
        self.check == Sample::fold(self.seq, &self.words)
    }
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Telemetry {
    version: u32,
    ticks: AtomicU32,
    per_worker: [AtomicU32; 4],
    total: AtomicU64,
    running: AtomicBool,
    done: AtomicBool,
    sample: SeqLock<Sample>,
}

/// A writer process updates the atomics and the `SeqLock` while this
/// process reads them through a monitor: every load is monotonic, every
/// `SeqLock` copy is whole, a copy of write `i` is followed by a tick count
/// of at least `i` (the copy synchronizes with the writer, as an acquire
/// read does), and the final values are exact. Where 8-byte atomics cannot
/// be loaded read-only (32-bit), the `AtomicU64` and the `SeqLock` are
/// refused with typed errors and the 4-byte atomics still work.
#[test]
#[cfg_attr(miri, ignore = "forks and maps a named segment")]
fn a_monitor_reads_a_writer_process_consistently() {
    const WRITES: u32 = 100_000;
    let name = name("live");
    let segment = Segment::posix(&name).remove_on_drop(true);
    let telemetry = segment
        .create(init::in_place(|t: &mut Telemetry| {
            t.version = 5;
            t.sample = SeqLock::new(Sample::new(0));
        }))
        .unwrap();
    let writer = fork(|| {
        // Starts once the monitor reads (bounded: the parent may fail).
        let start = Instant::now();
        while !telemetry.running.load(Ordering::Acquire) {
            if start.elapsed() > JOIN {
                exit_child(2);
            }
            std::thread::yield_now();
        }
        for i in 1..=WRITES {
            telemetry.ticks.fetch_add(1, Ordering::Release);
            telemetry.per_worker[i as usize % 4].fetch_add(1, Ordering::Relaxed);
            telemetry.total.fetch_add(u64::from(i), Ordering::Relaxed);
            telemetry.sample.write(Sample::new(u64::from(i)));
        }
        telemetry.done.store(true, Ordering::Release);
    });

    let monitor = Segment::posix(&name)
        .read_only()
        .monitor::<Telemetry>()
        .expect("a monitor opens");
    assert_eq!(monitor.read(field!(Telemetry, version)), Ok(5));
    let ticks = monitor.atomic(field!(Telemetry, ticks)).unwrap();
    let done = monitor.atomic(field!(Telemetry, done)).unwrap();
    let workers = field!(Telemetry, per_worker);
    let total = monitor.atomic(field!(Telemetry, total));
    let sample = monitor.seqlock(field!(Telemetry, sample));
    if !wide() {
        assert_eq!(
            *total.as_ref().unwrap_err(),
            AccessError::ReadOnlyAtomicTooWide {
                size: 8,
                limit: READ_ONLY_ATOMIC_LIMIT
            }
        );
        assert_eq!(sample.as_ref().unwrap_err().kind(), ErrorKind::Unsupported);
    }
    let (total, sample) = (total.ok(), sample.ok());
    // Through the writable view of this (creating) process: go.
    telemetry.running.store(true, Ordering::Release);

    let deadline = Instant::now() + JOIN;
    let (mut last_ticks, mut last_total, mut last_seq, mut copies) = (0, 0, 0, 0u64);
    loop {
        let finished = done.load_acquire();
        if let Some(sample) = &sample {
            let copy = sample
                .read_timeout(Duration::from_secs(10))
                .expect("a live writer's SeqLock reads");
            assert!(copy.is_whole(), "torn copy: {copy:?}");
            assert!(copy.seq >= last_seq, "{} after {last_seq}", copy.seq);
            last_seq = copy.seq;
            copies += 1;
        }
        let now = ticks.load_acquire();
        assert!(
            now >= last_ticks,
            "ticks went back: {now} after {last_ticks}"
        );
        assert!(
            u64::from(now) >= last_seq,
            "write {last_seq} seen before its tick ({now})"
        );
        last_ticks = now;
        if let Some(total) = &total {
            let now = total.load();
            assert!(
                now >= last_total,
                "total went back: {now} after {last_total}"
            );
            last_total = now;
        }
        if finished {
            break;
        }
        assert!(Instant::now() < deadline, "the writer never finished");
    }
    writer.join(JOIN).expect("the writer succeeds");

    assert_eq!(ticks.load(), WRITES);
    let per_worker: u32 = (0..workers.len())
        .map(|i| monitor.atomic(workers.index(i).unwrap()).unwrap().load())
        .sum();
    assert_eq!(per_worker, WRITES);
    if let (Some(total), Some(sample)) = (total, sample) {
        let n = u64::from(WRITES);
        assert_eq!(total.load(), n * (n + 1) / 2);
        assert_eq!(sample.try_read(), Some(Sample::new(n)));
        assert!(copies > 0);
    }
    eprintln!("monitor: {copies} SeqLock copies, {last_ticks} ticks");
}

/// The header is checked as for every typed open: another type is
/// `WrongType`, a missing name `NotFound`.
#[test]
#[cfg_attr(miri, ignore = "maps a named segment")]
fn a_monitor_of_the_wrong_type_is_refused() {
    let name = name("type");
    let _made = Segment::posix(&name)
        .remove_on_drop(true)
        .create(init::zeroed::<Telemetry>())
        .unwrap();
    let err = Segment::posix(&name)
        .read_only()
        .monitor::<[AtomicU64; 8]>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
    assert!(err.to_string().contains("Telemetry"), "{err}");
    let err = Segment::posix(name_of_nothing())
        .read_only()
        .monitor::<Telemetry>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

fn name_of_nothing() -> String {
    name("nothing")
}

/// The permissions of the mapping that holds `addr`, from
/// `/proc/self/maps` (`r--s`, `rw-s`, ...).
fn permissions_at(addr: usize) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    for line in maps.lines() {
        let mut parts = line.split_whitespace();
        let (Some(range), Some(perms)) = (parts.next(), parts.next()) else {
            continue;
        };
        let (start, end) = range.split_once('-').expect("a range");
        let start = usize::from_str_radix(start, 16).unwrap();
        let end = usize::from_str_radix(end, 16).unwrap();
        if (start..end).contains(&addr) {
            return perms.to_owned();
        }
    }
    panic!("no mapping holds {addr:#x}");
}

/// A monitor's memory is mapped shared and read-only (`r--s`), unlike the
/// writer's (`rw-s`): no write through it can reach the segment.
#[test]
#[cfg_attr(miri, ignore = "maps a named segment, reads /proc")]
fn the_monitor_mapping_is_read_only() {
    let name = name("perms");
    let writer = Segment::posix(&name)
        .remove_on_drop(true)
        .create(init::zeroed_slice::<AtomicU32>(4))
        .unwrap();
    assert_eq!(
        permissions_at(writer.as_ptr() as *const u8 as usize),
        "rw-s"
    );
    let value = Segment::posix(&name)
        .read_only()
        .monitor::<[AtomicU32]>()
        .unwrap();
    assert_eq!(value.len(), 4);
    assert_eq!(permissions_at(value.as_ptr() as *const u8 as usize), "r--s");
    let file = TempPath::new("monitor-perms");
    drop(Segment::file(&file.0).create(AtomicU32::new(1)).unwrap());
    let monitor = Segment::file(&file.0)
        .read_only()
        .monitor::<AtomicU32>()
        .unwrap();
    assert_eq!(permissions_at(monitor.as_ptr() as usize), "r--s");
    assert_eq!(monitor.atomic(Field::whole()).unwrap().load(), 1);
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Stalled {
    sample: SeqLock<Sample>,
    writing: AtomicBool,
}

/// A writer killed in the middle of a `SeqLock` write: while it lives the
/// monitor's bounded read times out; once it is dead the read reports
/// `OwnerDied` at once (well within its timeout) and `try_read` gives
/// nothing: the half-written value is never shown. The monitor cannot
/// repair the lock; the next writer's `write` does, and the monitor reads
/// its value.
#[test]
#[cfg_attr(miri, ignore = "forks and maps a named segment")]
fn a_writer_dead_mid_write_is_reported_to_the_monitor() {
    let name = name("dead");
    let shared = Segment::posix(&name)
        .remove_on_drop(true)
        .create(init::zeroed::<Stalled>())
        .unwrap();
    shared.sample.write(Sample::new(1));
    let monitor = Segment::posix(&name)
        .read_only()
        .monitor::<Stalled>()
        .unwrap();
    let sample = match monitor.seqlock(field!(Stalled, sample)) {
        Ok(sample) => sample,
        Err(err) => {
            assert!(!wide(), "{err}");
            assert_eq!(err.kind(), ErrorKind::Unsupported);
            return;
        }
    };
    assert_eq!(sample.try_read(), Some(Sample::new(1)));
    let mut child = fork(|| {
        shared.sample.update(|v| {
            // Half a write: what a crash mid-write leaves behind.
            v.words[0] = 999;
            shared.writing.store(true, Ordering::Release);
            loop {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
    });
    let start = Instant::now();
    while !shared.writing.load(Ordering::Acquire) {
        assert!(start.elapsed() < JOIN, "the child never started writing");
        std::thread::yield_now();
    }
    let err = sample.read_timeout(Duration::from_millis(50)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");

    child.kill().unwrap();
    assert_eq!(sample.try_read(), None);
    let start = Instant::now();
    let err = sample.read_timeout(Duration::from_secs(30)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OwnerDied, "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "waited the whole timeout"
    );
    // Still dead for the monitor: only a writer repairs.
    assert_eq!(
        sample
            .read_timeout(Duration::from_secs(1))
            .unwrap_err()
            .kind(),
        ErrorKind::OwnerDied
    );
    shared.sample.write(Sample::new(2));
    assert_eq!(
        sample.read_timeout(Duration::from_secs(1)).unwrap(),
        Sample::new(2)
    );
}

/// A monitor whose file is truncated by another process survives, as the
/// other read paths do: atomic loads and plain reads return zeros,
/// `is_truncated` tells, and a `SeqLock` read reports `Truncated`. Run in
/// a forked child, so that a `SIGBUS` not survived kills the child, not the
/// test harness.
#[test]
#[cfg_attr(miri, ignore = "forks, maps a file and truncates it")]
fn a_monitor_survives_a_truncation_and_is_told() {
    let temp = TempPath::new("monitor-truncated");
    let made = Segment::file(&temp.0)
        .create(init::in_place(|t: &mut Telemetry| t.version = 9))
        .unwrap();
    made.ticks.store(3, Ordering::Relaxed);
    made.sample.write(Sample::new(4));
    drop(made);
    let path = temp.0.clone();
    let mut child = fork(|| {
        let monitor = Segment::file(&path)
            .read_only()
            .monitor::<Telemetry>()
            .unwrap();
        let ticks = monitor.atomic(field!(Telemetry, ticks)).unwrap();
        let sample = monitor.seqlock(field!(Telemetry, sample)).ok();
        let sample_ok = sample
            .as_ref()
            .is_none_or(|s| s.try_read() == Some(Sample::new(4)));
        if ticks.load() != 3 || !sample_ok || monitor.is_truncated() {
            exit_child(2);
        }
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_len(0))
            .unwrap_or_else(|_| exit_child(3));
        if ticks.load() != 0 || monitor.read(field!(Telemetry, version)) != Ok(0) {
            exit_child(4);
        }
        if !monitor.is_truncated() {
            exit_child(5);
        }
        if let Some(sample) = sample {
            match sample.read_timeout(Duration::from_secs(1)) {
                Err(e) if e.kind() == ErrorKind::Truncated => {}
                _ => exit_child(6),
            }
        }
        exit_child(0)
    });
    let status = child
        .wait_timeout(JOIN)
        .unwrap()
        .expect("the child ends in time");
    assert_eq!(status.signal(), None, "killed by a signal");
    assert_eq!(status.code(), Some(0), "{status}");
}

/// No projection exists for a lock, and a monitor has no method that
/// writes: both are compile errors (`tests/ui/monitor/`).
#[test]
#[cfg_attr(miri, ignore = "runs trybuild (the compiler)")]
fn locks_and_writes_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/monitor/*.rs");
}

/// The `stats_monitor` example reads another process's counters through a
/// monitor (or, on 32-bit targets, reports that 8-byte atomics cannot be
/// loaded read-only).
#[test]
#[cfg_attr(miri, ignore = "runs an example program")]
fn the_stats_monitor_example_reads_counters() {
    let name = name("example");
    let counters = Segment::posix(&name)
        .remove_on_drop(true)
        .create(init::zeroed::<[AtomicU64; 4]>())
        .unwrap();
    for (i, counter) in counters.iter().enumerate() {
        counter.store(i as u64 + 1, Ordering::Relaxed);
    }
    let output = shm_workspace::run_example("stats_monitor", &[&name], JOIN);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    if wide() {
        assert!(output.status.success(), "{stderr}");
        assert_eq!(stdout.trim(), format!("{name}: [1, 2, 3, 4]"));
    } else {
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        assert!(stderr.contains("Unsupported"), "{stderr}");
    }
}

#[derive(SharedSafe, Clone, Copy, PartialEq, Debug)]
#[repr(u8)]
enum Mode {
    Idle,
    Busy,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Panel {
    mode: Mode,
    armed: bool,
    label: shm_runtime::FixedString<13>,
    ticks: AtomicU32,
}

/// Plain fields whose type has invalid bit patterns (an enum, a `bool`, a
/// `FixedString`) are read through a monitor by a checked copy: the values
/// the creator wrote come back; after a peer wrote bytes outside the
/// protocol (here a raw view, as a C program would) the copy is refused
/// with `InvalidValue` naming the type and the bad byte, never returned;
/// the other fields still read.
#[test]
#[cfg_attr(miri, ignore = "maps a named segment")]
fn checked_reads_return_valid_plain_fields_and_refuse_foreign_bytes() {
    let name = name("checked");
    let _panel = Segment::posix(&name)
        .remove_on_drop(true)
        .create(Panel {
            mode: Mode::Busy,
            armed: true,
            label: "pump-2".try_into().unwrap(),
            ticks: AtomicU32::new(0),
        })
        .unwrap();
    let monitor = Segment::posix(&name)
        .read_only()
        .monitor::<Panel>()
        .unwrap();
    assert_eq!(
        monitor.read_checked(field!(Panel, mode)).unwrap(),
        Mode::Busy
    );
    assert!(monitor.read_checked(field!(Panel, armed)).unwrap());
    assert_eq!(
        monitor.read_checked(field!(Panel, label)).unwrap().as_str(),
        "pump-2"
    );

    // A peer without the library's types stores a 2 into the `bool` and a 7
    // into the enum, by writing the object's bytes (the payload starts after
    // the 256-byte header; the raw views of this library refuse typed
    // segments, a C program would not).
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/dev/shm{name}"))
        .unwrap();
    let payload = 256;
    file.write_at(&[2], (payload + std::mem::offset_of!(Panel, armed)) as u64)
        .unwrap();
    file.write_at(&[7], (payload + std::mem::offset_of!(Panel, mode)) as u64)
        .unwrap();
    let err = monitor.read_checked(field!(Panel, armed)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue, "{err}");
    assert!(err.to_string().contains("0x02"), "{err}");
    assert!(err.to_string().contains("`bool`"), "{err}");
    let err = monitor.read_checked(field!(Panel, mode)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue, "{err}");
    assert!(err.to_string().contains("Mode"), "{err}");
    assert_eq!(
        monitor.read_checked(field!(Panel, label)).unwrap().as_str(),
        "pump-2",
        "the other fields still read"
    );
    // A field known by offset only is not proven to hold its type.
    let err = monitor
        .read_checked(Field::<Panel, bool>::new(1).unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
}

#[derive(SharedSafe)]
#[repr(C)]
struct Gauge {
    level: std::num::NonZeroU8,
    ticks: AtomicU32,
}

/// After another process truncated the segment, a checked read of a field
/// for which zeros are no valid value reads the zero page that replaced
/// the lost one: it is reported as `Truncated`, not as a peer's invalid
/// bytes (in a child: the truncation is survived, never a `SIGBUS`).
#[test]
#[cfg_attr(miri, ignore = "forks, maps a file and truncates it")]
fn a_checked_read_after_a_truncation_says_truncated() {
    let temp = TempPath::new("monitor-checked-truncated");
    let made = Segment::file(&temp.0)
        .create(Gauge {
            level: std::num::NonZeroU8::new(5).unwrap(),
            ticks: AtomicU32::new(0),
        })
        .unwrap();
    drop(made);
    let path = temp.0.clone();
    let mut child = fork(|| {
        let monitor = Segment::file(&path).read_only().monitor::<Gauge>().unwrap();
        if monitor
            .read_checked(field!(Gauge, level))
            .map(|l| l.get())
            .ok()
            != Some(5)
        {
            exit_child(2);
        }
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_len(0))
            .unwrap_or_else(|_| exit_child(3));
        match monitor.read_checked(field!(Gauge, level)) {
            Err(e) if e.kind() == ErrorKind::Truncated => exit_child(0),
            Err(_) => exit_child(4),
            Ok(_) => exit_child(5),
        }
    });
    let status = child
        .wait_timeout(JOIN)
        .unwrap()
        .expect("the child ends in time");
    assert_eq!(status.signal(), None, "killed by a signal");
    assert_eq!(status.code(), Some(0), "{status}");
}
