//! Raw views (`Volatile<T>`) across processes: what a C or Python peer
//! writes at any time is read by volatile copies and shared through atomics,
//! and raw opens refuse segments of this library.
//!
//! The test harness runs tests on several threads, so children are forked
//! with `fork_unchecked` (through `shm_workspace::fork_retrying`): each child
//! only opens a segment (system calls and allocation), copies values in and
//! out of it and touches atomics, which that contract allows. Every child is
//! joined with a timeout (killed and reaped when it overruns, or when the
//! test fails first), and every segment is removed by a guard even when the
//! test panics.

use shm_runtime::segment::{Segment, SysvKey};
use shm_runtime::volatile::{AccessError, Field};
use shm_runtime::{field, init, process, ErrorKind, FixedString, SharedSafe};
use shm_workspace::People;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A segment of each backend, named for this test process, removed (and
/// checked gone) when the guard drops, even on panic.
struct Scratch {
    segment: Segment,
    leftover: Option<PathBuf>,
    sysv_key: Option<i32>,
}

impl Scratch {
    fn posix(tag: &str) -> Scratch {
        let name = format!(
            "/shmrt-raw-{}-{}-{tag}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Scratch {
            segment: Segment::posix(&name),
            leftover: Some(PathBuf::from(format!("/dev/shm{name}"))),
            sysv_key: None,
        }
    }

    fn file(tag: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!(
            "shmrt-raw-{}-{}-{tag}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        Scratch {
            segment: Segment::file(&path),
            leftover: Some(path),
            sysv_key: None,
        }
    }

    fn sysv() -> Scratch {
        let key = 0x5d00_0000
            | ((std::process::id() as i32 & 0xfff) << 12)
            | COUNTER.fetch_add(1, Ordering::Relaxed) as i32;
        Scratch {
            segment: Segment::sysv(SysvKey::new(key)),
            leftover: None,
            sysv_key: Some(key),
        }
    }

    /// One of each backend.
    fn all(tag: &str) -> [Scratch; 3] {
        [Scratch::posix(tag), Scratch::file(tag), Scratch::sysv()]
    }

    fn exists(&self) -> bool {
        if let Some(path) = &self.leftover {
            return std::fs::symlink_metadata(path).is_ok();
        }
        let key = self.sysv_key.expect("a System V key").to_string();
        std::fs::read_to_string("/proc/sysvipc/shm")
            .expect("reading /proc/sysvipc/shm")
            .lines()
            .skip(1)
            .any(|line| line.split_whitespace().next() == Some(&key))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.segment.remove();
        if !std::thread::panicking() {
            assert!(!self.exists(), "{} was left behind", self.segment);
        }
    }
}

/// Forks a child that runs `f`; see the module comment for why this is sound.
fn spawn(f: impl FnOnce()) -> process::Child {
    // SAFETY: every closure passed here opens a segment, copies values and
    // touches atomics, then returns (a panic's message goes to the harness's
    // per-thread capture buffer, a lock no other thread of the child holds).
    unsafe { shm_workspace::fork_retrying(f) }.expect("fork")
}

/// What a C peer shares: `struct { _Atomic uint64_t hits; _Atomic uint64_t
/// misses; }`. Plain integers here: the atomics are taken per field.
#[derive(SharedSafe, Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct CCounters {
    hits: u64,
    misses: u64,
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_reader_sees_every_store_of_a_writer_in_another_process() {
    const LAST: u64 = 200_000;
    for scratch in Scratch::all("spin") {
        let segment = scratch.segment.clone();
        let value = segment
            .clone()
            .remove_on_drop(true)
            .raw()
            .create(init::from_fn(1, |_| 0u64))
            .unwrap();
        let reading = shm_runtime::Shared::anonymous(AtomicU32::new(0)).unwrap();
        let writer = spawn(|| {
            // Another process, with a mapping of its own, as a C peer's.
            let shared = segment.raw().open::<u64>().expect("the writer opens it");
            // Starts once the reader spins, so that they overlap.
            let deadline = Instant::now() + LIMIT;
            while reading.load(Ordering::Acquire) == 0 && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            for i in 1..=LAST {
                shared.write(i);
            }
        });
        let start = Instant::now();
        let mut seen = 0;
        let mut changes = 0u64;
        // A spin loop on volatile reads: the load cannot be hoisted out of it.
        reading.store(1, Ordering::Release);
        while seen != LAST {
            let now = value.get(0).unwrap();
            // An aligned word is copied in one load on 64-bit targets: the
            // values seen only grow.
            #[cfg(target_pointer_width = "64")]
            assert!(now >= seen, "saw {now} after {seen}");
            if now != seen {
                changes += 1;
            }
            seen = now;
            assert!(
                start.elapsed() < LIMIT,
                "{}: saw {seen} of {LAST} within {LIMIT:?}",
                scratch.segment
            );
            std::hint::spin_loop();
        }
        writer.join(LIMIT).unwrap();
        assert!(changes >= 1);
        assert_eq!(value.read_at::<u64>(0), Ok(LAST));
        drop(value);
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_c_style_atomic_counter_reaches_the_exact_total() {
    const N: u64 = 50_000;
    for scratch in Scratch::all("counter") {
        let segment = scratch.segment.clone();
        // Made zeroed, as a C program would make it.
        let made = segment
            .clone()
            .remove_on_drop(true)
            .raw()
            .create(init::from_fn(1, |_| CCounters { hits: 0, misses: 0 }))
            .unwrap();
        let children: Vec<_> = (0..2)
            .map(|_| {
                let segment = segment.clone();
                spawn(move || {
                    let counters = segment.raw().open::<CCounters>().expect("opens it");
                    // No `unsafe`: the field is checked and aligned.
                    let hits = counters
                        .atomic_field::<AtomicU64>(field!(CCounters, hits))
                        .expect("an aligned u64 field");
                    for _ in 0..N {
                        hits.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        // This process counts misses in the same block meanwhile.
        let misses = made.atomic_field::<AtomicU64>(0, field!(CCounters, misses));
        let misses = misses.unwrap();
        for _ in 0..N {
            misses.fetch_add(1, Ordering::Relaxed);
        }
        for child in children {
            child.join(LIMIT).unwrap();
        }
        let total = made.get(0).unwrap();
        assert_eq!(
            (total.hits, total.misses),
            (2 * N, N),
            "{}",
            scratch.segment
        );
        let hits = made.atomic_field::<AtomicU64>(0, field!(CCounters, hits));
        assert_eq!(hits.unwrap().load(Ordering::Acquire), 2 * N);
        // A monitor that maps it read-only loads the same totals.
        let monitor = segment.raw().read_only().open::<CCounters>().unwrap();
        // (On 32-bit targets an 8-byte atomic load may write, so a
        // read-only mapping refuses it with a typed error.)
        match monitor.atomic_field::<AtomicU64>(field!(CCounters, hits)) {
            Ok(hits) => assert_eq!(hits.load_acquire(), 2 * N),
            Err(AccessError::ReadOnlyAtomicTooWide { size: 8, limit: 4 })
                if cfg!(target_pointer_width = "32") => {}
            Err(e) => panic!("{e}"),
        }
        assert_eq!(monitor.read_field(field!(CCounters, misses)), N);
        drop((made, monitor));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn raw_opens_refuse_typed_segments() {
    for scratch in Scratch::all("typed") {
        let segment = &scratch.segment;
        let typed = segment.clone().remove_on_drop(true).create(7u64).unwrap();
        let refusals = [
            segment.raw().open::<u64>().map(drop),
            segment.raw().read_only().open::<u64>().map(drop),
            segment.raw().len(8).open::<[u8]>().map(drop),
            segment.raw().read_only().len(8).open::<[u8]>().map(drop),
            segment.raw().open::<[u8]>().map(drop),
        ];
        for refused in refusals {
            let err = refused.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TypedSegment, "{err}");
            assert!(
                err.to_string().contains("open it with the typed `open`"),
                "{err}"
            );
        }
        // The typed open is the way in.
        assert_eq!(*segment.open::<u64>().unwrap(), 7);
        drop(typed);
    }
    // A header written on a machine of the other byte order is refused too.
    let scratch = Scratch::file("other-endian");
    let magic = u64::from_le_bytes(*b"SHMRTSEG").swap_bytes();
    let mut bytes = magic.to_ne_bytes().to_vec();
    bytes.resize(512, 0);
    std::fs::write(scratch.leftover.as_ref().unwrap(), &bytes).unwrap();
    let err = scratch.segment.raw().len(512).open::<[u8]>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypedSegment, "{err}");
    assert!(err.to_string().contains("other byte order"), "{err}");
    // A foreign object that starts otherwise is mapped as before.
    bytes[..8].copy_from_slice(b"SHMRTSEF");
    std::fs::write(scratch.leftover.as_ref().unwrap(), &bytes).unwrap();
    assert_eq!(
        scratch
            .segment
            .raw()
            .len(512)
            .open::<[u8]>()
            .unwrap()
            .to_vec(),
        bytes
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_raw_open_never_maps_a_typed_segment_being_made() {
    // Atomic publication (POSIX objects and files on Linux): while a typed
    // segment is being made it has no name, so a raw open of the name finds
    // nothing; once published it carries the header, and raw opens refuse it.
    let scratch = Scratch::posix("init");
    let segment = &scratch.segment;
    let table = segment
        .clone()
        .remove_on_drop(true)
        .create(init::in_place(|words: &mut [u64; 8]| {
            let err = segment.raw().len(8).open::<[u64]>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            words.fill(5);
        }))
        .unwrap();
    assert_eq!(*table, [5; 8]);
    let err = segment.raw().len(8).open::<[u64]>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypedSegment, "{err}");

    // Another process opening it raw all along, while this one holds the
    // `&mut T` for a while: it finds nothing, then a typed segment; never
    // a mapping.
    let typed = Scratch::file("init-other");
    let other = typed.segment.clone();
    let started = shm_runtime::Shared::anonymous(AtomicU32::new(0)).unwrap();
    let opener = spawn(|| {
        let deadline = Instant::now() + LIMIT;
        loop {
            match other.raw().len(1).open::<[u8]>() {
                Err(e) if e.kind() == ErrorKind::TypedSegment => break,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    started.store(1, Ordering::Release);
                }
                Ok(_) => panic!("a raw view of a segment being made"),
                Err(e) => panic!("unexpected: {e}"),
            }
            assert!(Instant::now() < deadline, "never published");
            std::thread::yield_now();
        }
    });
    let made = typed
        .segment
        .clone()
        .remove_on_drop(true)
        .create(init::in_place(|words: &mut [u64; 8]| {
            let deadline = Instant::now() + LIMIT;
            while started.load(Ordering::Acquire) == 0 {
                assert!(Instant::now() < deadline, "the opener never looked");
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(50));
            words.fill(1);
        }))
        .unwrap();
    opener.join(LIMIT).unwrap();
    assert_eq!(*made, [1; 8]);
    drop((made, table));
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_raw_open_during_in_place_initialization_is_refused() {
    // Where creation cannot publish atomically (System V, other platforms;
    // forced here), the creator stores the header's magic before it hands
    // out `&mut T`: from then on, a raw view of the name cannot be made.
    let scratch = Scratch::posix("in-place");
    let segment = scratch.segment.clone();
    let child = spawn(|| {
        shm_runtime::__private::publish_in_place(true);
        let table = segment
            .clone()
            .remove_on_drop(true)
            .create(init::in_place(|words: &mut [u64; 8]| {
                let err = segment.raw().len(8).open::<[u64]>().unwrap_err();
                assert_eq!(err.kind(), ErrorKind::TypedSegment, "{err}");
                words.fill(5);
            }))
            .unwrap();
        assert_eq!(*table, [5; 8]);
    });
    child.join(LIMIT).unwrap();
}

#[test]
#[cfg_attr(miri, ignore)]
fn read_only_views_read_and_load_but_cannot_write() {
    // That they have no writing method at all is checked at compile time:
    // see the `compile_fail` example of the `volatile` module.
    let scratch = Scratch::file("ro");
    let path = scratch.leftover.clone().unwrap();
    let mut bytes = Vec::new();
    for i in 0..3u8 {
        bytes.extend_from_slice(&[b'p' + i, 0, 0, 0]);
        bytes.extend_from_slice(&(40 + i32::from(i)).to_ne_bytes());
    }
    std::fs::write(&path, &bytes).unwrap();
    let people = scratch
        .segment
        .raw()
        .read_only()
        .len(3)
        .open::<[People]>()
        .unwrap();
    assert_eq!(people.len(), 3);
    assert_eq!(people.get(2).map(|p| p.name()), Some("r".to_owned()));
    assert_eq!(people.read_field(1, field!(People, age)), Some(41));
    let ages = people.iter().map(|p| p.age).collect::<Vec<_>>();
    assert_eq!(ages, [40, 41, 42]);
    let age = people.atomic_field::<AtomicI32>(2, field!(People, age));
    assert_eq!(age.unwrap().load(), 42);
    // A writer that changes the file is seen by the next copy.
    let writer = scratch.segment.raw().len(3).open::<[People]>().unwrap();
    writer.write_field(2, field!(People, age), 99).unwrap();
    assert_eq!(people.read_field(2, field!(People, age)), Some(99));
    let value = scratch.segment.raw().read_only().open::<People>().unwrap();
    assert_eq!(value.read().age, 40);
    // The read-only open needs read permission only.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o400)).unwrap();
    let readable = scratch
        .segment
        .raw()
        .read_only()
        .open::<[u8; 24]>()
        .unwrap();
    assert_eq!(readable.read()[0], b'p');
}

#[test]
#[cfg_attr(miri, ignore)]
fn out_of_range_and_misaligned_accesses_are_typed_errors() {
    let scratch = Scratch::posix("bounds");
    let words = scratch
        .segment
        .clone()
        .remove_on_drop(true)
        .raw()
        .create(init::from_fn(4, |i| i as u32))
        .unwrap();
    let oob = AccessError::IndexOutOfBounds {
        index: 4,
        count: 1,
        len: 4,
    };
    assert_eq!(words.get(4), None);
    assert_eq!(words.get(usize::MAX), None);
    assert_eq!(words.set(4, 9), Err(oob));
    assert_eq!(
        words.read_field(4, Field::<u32, u32>::new(0).unwrap()),
        None
    );
    let mut two = [7u32; 2];
    assert_eq!(
        words.read_slice(3, &mut two),
        Err(AccessError::IndexOutOfBounds {
            index: 3,
            count: 2,
            len: 4
        })
    );
    assert_eq!(two, [7, 7], "nothing copied");
    assert!(words.read_slice(usize::MAX, &mut two).is_err());
    assert!(words.write_slice(3, &[8, 8]).is_err());
    assert_eq!(words.to_vec(), [0, 1, 2, 3], "nothing written");
    // Byte offsets: bounds, then alignment.
    assert_eq!(
        words.read_at::<u64>(12),
        Err(AccessError::OutOfBounds {
            offset: 12,
            size: 8,
            len: 16
        })
    );
    assert!(matches!(
        words.read_at::<u8>(usize::MAX),
        Err(AccessError::OutOfBounds { .. })
    ));
    assert_eq!(
        words.read_at::<u32>(2),
        Err(AccessError::Misaligned {
            offset: 2,
            align: 4
        })
    );
    assert_eq!(
        words.write_at(1, 0u16),
        Err(AccessError::Misaligned {
            offset: 1,
            align: 2
        })
    );
    assert_eq!(words.read_at::<u16>(6), Ok(0));
    // Atomics: by offset, by element, by field.
    assert!(matches!(
        words.atomic_at::<AtomicU32>(16),
        Err(AccessError::OutOfBounds { .. })
    ));
    assert!(matches!(
        words.atomic_at::<AtomicU32>(2),
        Err(AccessError::Misaligned {
            offset: 2,
            align: 4
        })
    ));
    if std::mem::align_of::<AtomicU64>() == 8 {
        assert!(matches!(
            words.atomic_at::<AtomicU64>(4),
            Err(AccessError::Misaligned {
                offset: 4,
                align: 8
            })
        ));
    }
    assert_eq!(
        words.atomic::<AtomicU64>(0).unwrap_err(),
        AccessError::SizeMismatch {
            element: 4,
            atomic: 8
        }
    );
    assert_eq!(words.atomic::<AtomicU32>(4).unwrap_err(), oob);
    let whole = Field::<u32, u32>::new(0).unwrap();
    assert_eq!(words.atomic_field::<AtomicU32>(4, whole).unwrap_err(), oob);
    assert_eq!(
        words
            .atomic::<AtomicU32>(3)
            .unwrap()
            .load(Ordering::Relaxed),
        3
    );
    // Fields by offset are checked against their type once, when made.
    assert!(matches!(
        Field::<CCounters, u64>::new(16),
        Err(AccessError::OutOfBounds { .. })
    ));
    // Half a `u64`'s alignment: 4 (2 on i686, where a `u64` is 4-aligned).
    assert!(matches!(
        Field::<CCounters, u64>::new(std::mem::align_of::<u64>() / 2),
        Err(AccessError::Misaligned { .. })
    ));
    assert_eq!(
        Field::<CCounters, u64>::new(8).unwrap(),
        field!(CCounters, misses)
    );
    // The errors convert into the crate's error, for `?`.
    let err: shm_runtime::Error = words.read_at::<u64>(12).unwrap_err().into();
    assert_eq!(err.kind(), ErrorKind::InvalidSize);
    assert!(err.to_string().contains("offset 12"), "{err}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_fixed_string_is_read_from_a_copy() {
    let scratch = Scratch::file("text");
    let text = FixedString::<12>::try_from("héllo").unwrap();
    let name = scratch
        .segment
        .clone()
        .remove_on_drop(true)
        .raw()
        .create(init::from_fn(1, |_| text))
        .unwrap();
    let copy = name.get(0).unwrap();
    assert_eq!(copy.as_str(), "héllo");
    // The peer then breaks the UTF-8 (the second byte of `é`): the copy,
    // and the `&str` borrowed from it, do not change.
    let peer = scratch.segment.raw().len(16).open::<[u8]>().unwrap();
    peer.set(4 + 2, 0xff).unwrap();
    assert_eq!(copy.as_str(), "héllo");
    // A new copy shows the longest valid prefix.
    assert_eq!(name.get(0).unwrap().as_str(), "h");
}

#[test]
#[cfg_attr(miri, ignore)]
fn views_keep_their_mapping_flush_and_remove_on_drop() {
    let scratch = Scratch::file("life");
    let path = scratch.leftover.clone().unwrap();
    let data = scratch
        .segment
        .clone()
        .remove_on_drop(true)
        .raw()
        .create(init::from_fn(4, |i| i as u8))
        .unwrap();
    data.set(3, 30).unwrap();
    data.flush().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), [0, 1, 2, 30]);
    // The creating view removes the name when dropped; an opener's view
    // stays mapped after the name is gone.
    let opened = scratch.segment.raw().open::<[u8]>().unwrap();
    drop(data);
    assert!(!scratch.exists(), "the creating view removes the name");
    assert_eq!(opened.to_vec(), [0, 1, 2, 30]);
    opened.set(0, 5).unwrap();
    opened.flush_async().unwrap();
    assert_eq!(opened.get(0), Some(5));
    drop(opened);
    // Without remove_on_drop the segment outlives its view.
    let posix = Scratch::posix("keep");
    let kept = posix
        .segment
        .raw()
        .create(init::from_fn(2, |_| 1u16))
        .unwrap();
    drop(kept);
    assert!(posix.exists());
    assert_eq!(
        posix.segment.raw().open::<[u16]>().unwrap().to_vec(),
        [1, 1]
    );
}
