//! Read-only opens without `unsafe`: `Segment::read_only().open()` takes the
//! types without interior mutability (plain data, `bool`, enums, the
//! fixed-capacity types), whose `&T` cannot write, and refuses, at compile
//! time, every type whose `&T` could store: atomics, `SeqLock`, `ShmMutex`
//! and the other synchronization types, `RelPtr`, alone or inside a struct,
//! an array or a `FixedVec` (std makes atomic operations on read-only memory
//! undefined behaviour, but for small `Relaxed` loads). The refusals are the
//! compile-fail case `tests/ui/fail/read_only_interior_mutability.rs`, whose
//! expected messages name each part; the property they test is
//! `interior_mutability_follows_the_layout` below.

use shm_runtime::{init, segment::Segment};
use shm_runtime::{FixedString, FixedVec, SeqLock, SharedSafe, ShmMutex};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

#[derive(SharedSafe, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
enum Mode {
    Idle = 0,
    Serving = 1,
}

#[derive(SharedSafe, Clone, Copy)]
#[repr(C)]
struct Config {
    workers: u32,
    verbose: bool,
    mode: Mode,
    ports: FixedVec<u16, 5>,
    label: FixedString<13>,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Telemetry {
    samples: AtomicU64,
    position: SeqLock<[u64; 3]>,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Jobs {
    count: u64,
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

fn config() -> Config {
    let mut ports = FixedVec::new();
    ports.push(8080);
    ports.push(8443);
    Config {
        workers: 4,
        verbose: true,
        mode: Mode::Serving,
        ports,
        label: FixedString::try_from("pump 7").unwrap(),
    }
}

/// The behaviour: a reader in another process opens plain data (with a
/// `bool`, an enum, a `FixedVec` and a `FixedString`) read-only, with no
/// `unsafe`, and reads what the creator wrote.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn a_reader_opens_plain_data_read_only() {
    let segment = Segment::posix(name("plain")).remove_on_drop(true);
    let _made = segment.create(config()).unwrap();
    let reader = || {
        let ok = segment.read_only().open::<Config>().is_ok_and(|c| {
            c.workers == 4
                && c.verbose
                && c.mode == Mode::Serving
                && c.ports.as_slice() == [8080, 8443]
                && c.label.as_str() == "pump 7"
        });
        shm_workspace::exit_child(if ok { 0 } else { 1 })
    };
    // SAFETY: the child opens a segment, reads and `_exit`s.
    let mut child = unsafe { shm_workspace::fork_retrying(reader) }.unwrap();
    let status = child
        .wait_timeout(Duration::from_secs(30))
        .unwrap()
        .unwrap();
    assert!(status.success(), "the reader read wrong values: {status:?}");
    // A slice of plain records too.
    let table = Segment::posix(name("table")).remove_on_drop(true);
    let _written = table.create(init::from_fn(8, |i| i as u64 * 10)).unwrap();
    assert_eq!(table.read_only().open::<[u64]>().unwrap()[7], 70);
}

/// The behaviour: a type refused read-only (at compile time) opens
/// writable as before.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn refused_types_still_open_writable() {
    let segment = Segment::posix(name("mutex")).remove_on_drop(true);
    let _jobs = segment
        .create(Jobs {
            count: 0,
            queue: ShmMutex::new([0; 8]),
        })
        .unwrap();
    assert_eq!(
        *segment.open::<Jobs>().unwrap().queue.lock().unwrap(),
        [0; 8]
    );
}

/// The behaviour: the property read-only opens check, from the layout
/// description.
#[test]
fn interior_mutability_follows_the_layout() {
    use shm_runtime::{ShmCondvar, ShmEvent, ShmSemaphore};
    assert!(!Config::LAYOUT.has_interior_mutability());
    assert!(!<FixedVec<u16, 5>>::LAYOUT.has_interior_mutability());
    assert!(!<[bool; 3]>::LAYOUT.has_interior_mutability());
    assert!(!<FixedString<7>>::LAYOUT.has_interior_mutability());
    assert!(<SeqLock<[u64; 4]>>::LAYOUT.has_interior_mutability());
    assert!(<FixedVec<AtomicU32, 2>>::LAYOUT.has_interior_mutability());
    assert!(Jobs::LAYOUT.has_interior_mutability());
    assert!(ShmCondvar::LAYOUT.has_interior_mutability());
    assert!(ShmEvent::LAYOUT.has_interior_mutability());
    assert!(ShmSemaphore::LAYOUT.has_interior_mutability());
    assert!(<[ShmMutex<u8>; 2]>::LAYOUT.has_interior_mutability());
    assert_eq!(
        Jobs::LAYOUT.interior_mutable_part().map(|l| l.name),
        Some("ShmMutex")
    );
}
