//! Read-only opens without `unsafe`: `Segment::open_read_only` takes the
//! types without interior mutability (plain data, `bool`, enums, the
//! fixed-capacity types), whose `&T` cannot write, and refuses, before any
//! system call, every type whose `&T` could store: atomics, `SeqLock`,
//! `ShmMutex` and the other synchronization types, `RelPtr`, alone or inside
//! a struct, an array or a `FixedVec` (std makes atomic operations on
//! read-only memory undefined behaviour, but for small `Relaxed` loads).

use shm_runtime::segment::Segment;
use shm_runtime::{ErrorKind, FixedString, FixedVec, RelPtr, SeqLock, SharedSafe, ShmMutex};
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
        let ok = segment.open_read_only::<Config>().is_ok_and(|c| {
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
    let _written = table.create_slice_from_fn(8, |i| i as u64 * 10).unwrap();
    assert_eq!(table.open_slice_read_only::<u64>().unwrap()[7], 70);
}

/// Opening `T` read-only is refused with `Unsupported` naming `part`, and
/// before any system call: the name does not even exist.
fn refused<T: SharedSafe>(part: &str) {
    let segment = Segment::posix(name("missing"));
    let Err(err) = segment.open_read_only::<T>() else {
        panic!("`{}` opened read-only", std::any::type_name::<T>())
    };
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let message = err.to_string();
    assert!(message.contains(part), "{message} does not name {part}");
    assert!(message.contains("open_read_only_unchecked"), "{message}");
    let Err(err) = segment.open_slice_read_only::<T>() else {
        panic!("a slice opened read-only")
    };
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
}

/// The behaviour: every type whose `&T` could store is refused, alone or
/// inside a struct, an array or a `FixedVec`, naming the part.
#[test]
#[cfg_attr(miri, ignore = "opens named segments")]
fn types_with_interior_mutability_are_refused_read_only() {
    refused::<AtomicU64>("AtomicU64");
    refused::<[AtomicU32; 4]>("AtomicU32");
    refused::<SeqLock<[u64; 3]>>("SeqLock");
    refused::<Telemetry>("AtomicU64");
    refused::<Jobs>("ShmMutex");
    refused::<[ShmMutex<u8>; 2]>("ShmMutex");
    refused::<FixedVec<AtomicU64, 4>>("AtomicU64");
    refused::<RelPtr<u64>>("RelPtr");
    refused::<shm_runtime::ShmQueue<u64, 4>>("ShmQueue");
}

/// The behaviour: writable, the same segment opens as before.
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
    let refused = segment.open_read_only::<Jobs>().err().map(|e| e.kind());
    assert_eq!(refused, Some(ErrorKind::Unsupported));
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
