//! Read-only monitors without `unsafe`: `Segment::open_read_only` takes the
//! types whose reads never write (atomics, `SeqLock`, fixed-capacity types,
//! plain data) and refuses the ones whose use writes (`ShmMutex`), and a
//! store through a read-only view ends the process with `SIGSEGV` without
//! changing the memory.

use shm_runtime::segment::Segment;
use shm_runtime::{ErrorKind, FixedString, SeqLock, SharedSafe, ShmMutex};
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

#[derive(SharedSafe)]
#[repr(C)]
struct Telemetry {
    samples: AtomicU64,
    errors: [AtomicU32; 4],
    position: SeqLock<[u64; 3]>,
    label: FixedString<13>,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Jobs {
    count: AtomicU64,
    queue: ShmMutex<[u32; 8]>,
}

fn name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "/shmrt-ro-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The behaviour: a monitor in another process opens a struct of atomics,
/// a `SeqLock` and a `FixedString` read-only with no `unsafe`, and reads
/// what the publisher writes, before and after it opened.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn a_monitor_reads_atomics_and_a_seqlock_read_only() {
    let segment = Segment::posix(name("monitor")).remove_on_drop(true);
    let publisher = segment
        .create(Telemetry {
            samples: AtomicU64::new(3),
            errors: [const { AtomicU32::new(0) }; 4],
            position: SeqLock::new([1, 2, 3]),
            label: FixedString::try_from("pump 7").unwrap(),
        })
        .unwrap();
    publisher.errors[2].store(5, Ordering::Release);
    let go = shm_runtime::Shared::anonymous(AtomicU32::new(0)).unwrap();
    let monitor_child = || {
        let ok = (|| {
            let monitor = segment.open_read_only::<Telemetry>().ok()?;
            let first = monitor.samples.load(Ordering::Acquire) == 3
                && monitor.errors[2].load(Ordering::Acquire) == 5
                && monitor.position.read() == [1, 2, 3]
                && monitor.label.as_str() == "pump 7";
            go.store(1, Ordering::Release);
            // Then the publisher writes again; the monitor sees it.
            let start = std::time::Instant::now();
            while monitor.samples.load(Ordering::Acquire) != 4 {
                if start.elapsed() > Duration::from_secs(20) {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Some(first && monitor.position.read() == [4, 5, 6])
        })();
        shm_workspace::exit_child(if ok == Some(true) { 0 } else { 1 })
    };
    // SAFETY: the child opens a segment, loads, sleeps and `_exit`s.
    let mut child = unsafe { shm_workspace::fork_retrying(monitor_child) }.unwrap();
    let start = std::time::Instant::now();
    while go.load(Ordering::Acquire) == 0 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(1));
    }
    publisher.position.write([4, 5, 6]);
    publisher.samples.store(4, Ordering::Release);
    let status = child
        .wait_timeout(Duration::from_secs(30))
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "the monitor read wrong values: {status:?}"
    );
    // A slice of atomics too.
    let slots = Segment::posix(name("slots")).remove_on_drop(true);
    let written = slots.create_slice_zeroed::<AtomicU64>(8).unwrap();
    written[7].store(70, Ordering::Relaxed);
    let read = slots.open_slice_read_only::<AtomicU64>().unwrap();
    assert_eq!(read[7].load(Ordering::Relaxed), 70);
}

/// The behaviour: opening a segment that holds an `ShmMutex` (alone or in
/// a struct) read-only is refused, before anything is mapped, with
/// `Unsupported` naming the mutex and the writable alternative.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_mutex_is_refused_read_only_with_a_clear_error() {
    let segment = Segment::posix(name("mutex")).remove_on_drop(true);
    let jobs = segment
        .create(Jobs {
            count: AtomicU64::new(0),
            queue: ShmMutex::new([0; 8]),
        })
        .unwrap();
    let Err(err) = segment.open_read_only::<Jobs>() else {
        panic!("a mutex opened read-only")
    };
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let message = err.to_string();
    assert!(message.contains("`ShmMutex`"), "{message}");
    assert!(message.contains("open it writable"), "{message}");
    assert!(message.contains(&segment.to_string()), "{message}");
    let mutexes = Segment::posix(name("mutexes")).remove_on_drop(true);
    let _held = mutexes.create_slice_zeroed::<ShmMutex<u64>>(2).unwrap();
    let Err(err) = mutexes.open_slice_read_only::<ShmMutex<u64>>() else {
        panic!("mutexes opened read-only")
    };
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    // Writable, it opens.
    assert_eq!(
        *segment.open::<Jobs>().unwrap().queue.lock().unwrap(),
        [0; 8]
    );
    drop(jobs);
}

/// The behaviour: a store through a read-only view ends the storing
/// process with `SIGSEGV` at that store; the memory keeps its value.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn a_store_through_a_read_only_view_faults_and_changes_nothing() {
    let segment = Segment::posix(name("store")).remove_on_drop(true);
    let counter = segment.create(AtomicU64::new(11)).unwrap();
    let storing_child = || {
        if let Ok(view) = segment.open_read_only::<AtomicU64>() {
            view.store(99, Ordering::Relaxed);
        }
        shm_workspace::exit_child(0)
    };
    // SAFETY: the child opens a segment and stores; it `_exit`s otherwise.
    let mut child = unsafe { shm_workspace::fork_retrying(storing_child) }.unwrap();
    let status = child
        .wait_timeout(Duration::from_secs(30))
        .unwrap()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status:?}");
    assert_eq!(counter.load(Ordering::Relaxed), 11);
}

/// The behaviour: the property read-only opens check, from the layout
/// description: plain data, atomics, `SeqLock` and fixed-capacity types
/// read without writing; the locks, condition variables, events and
/// semaphores do not, alone or inside a struct or array.
#[test]
fn reads_never_write_follows_the_layout() {
    use shm_runtime::{FixedVec, ShmCondvar, ShmEvent, ShmSemaphore};
    assert!(Telemetry::LAYOUT.reads_never_write());
    assert!(<FixedVec<u16, 5>>::LAYOUT.reads_never_write());
    assert!(<[bool; 3]>::LAYOUT.reads_never_write());
    assert!(<SeqLock<[u64; 4]>>::LAYOUT.reads_never_write());
    assert!(!Jobs::LAYOUT.reads_never_write());
    assert!(!ShmCondvar::LAYOUT.reads_never_write());
    assert!(!ShmEvent::LAYOUT.reads_never_write());
    assert!(!ShmSemaphore::LAYOUT.reads_never_write());
    assert!(!<[ShmMutex<u8>; 2]>::LAYOUT.reads_never_write());
    assert_eq!(
        Jobs::LAYOUT.first_writer().map(|l| l.name),
        Some("ShmMutex")
    );
}
