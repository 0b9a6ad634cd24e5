//! Raw mode's options: a view at an offset of a large object
//! (`Segment::offset`), zeroed exclusive creation of single values and
//! slices (`create_new`), and open-or-create (`create_missing`), for POSIX
//! objects, files and System V segments. Typed segments do not have these
//! options (a compile error, shown by the doc tests of `Segment::raw`).

use shm_runtime::segment::{Segment, SysvKey};
use shm_runtime::ErrorKind;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique POSIX name, file path and System V key; each removed by an
/// owner guard the caller keeps.
fn backends(tag: &str) -> Vec<Segment> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let key = 0x5400_0000 | ((pid as i32 & 0xfff) << 12) | (n as i32 & 0xfff);
    vec![
        Segment::posix(format!("/shmrt-rawopt-{tag}-{pid}-{n}")),
        Segment::file(std::env::temp_dir().join(format!("shmrt-rawopt-{tag}-{pid}-{n}"))),
        Segment::sysv(SysvKey::new(key)),
    ]
}

const PAGE_RECORDS: usize = 3 * 4096 / 8 + 5;

/// The behaviour: a raw view at an offset maps only the pages that hold
/// it (its mapping is far shorter than the object), reads and writes the
/// bytes at that offset of the object, and is refused when the offset is
/// misaligned for the type or the object is too short for the view there.
#[test]
#[cfg_attr(miri, ignore = "maps files")]
fn a_view_at_an_offset_maps_only_its_part_of_a_large_file() {
    let path = shm_workspace::TempPath::new("rawopt-offset");
    let records: Vec<u8> = (0..(16 * PAGE_RECORDS) as u64)
        .flat_map(u64::to_ne_bytes)
        .collect();
    std::fs::write(&path.0, &records).unwrap();
    let file = Segment::file(&path.0);
    let index = 4 * PAGE_RECORDS + 3; // not at a page boundary
    let record = file.raw().offset(8 * index as u64).open::<u64>().unwrap();
    assert_eq!(record.read(), index as u64);
    assert!(record.mapped_len() <= 2 * 4096, "{}", record.mapped_len());
    record.write(7);
    record.flush().unwrap();
    let mut back = [0u8; 8];
    std::fs::File::open(&path.0)
        .unwrap()
        .read_exact_at(&mut back, 8 * index as u64)
        .unwrap();
    assert_eq!(u64::from_ne_bytes(back), 7);
    // A slice from an offset, and all of the rest.
    let three = file
        .raw()
        .offset(8 * 10)
        .read_only()
        .len(3)
        .open::<[u64]>()
        .unwrap();
    assert_eq!(three.to_vec(), [10, 11, 12]);
    let tail = file
        .raw()
        .offset(8 * (16 * PAGE_RECORDS as u64 - 2))
        .open::<[u64]>()
        .unwrap();
    assert_eq!(
        tail.to_vec(),
        [16 * PAGE_RECORDS as u64 - 2, 16 * PAGE_RECORDS as u64 - 1]
    );
    // Refused: misaligned, and past the end.
    let err = file.raw().offset(2).open::<u64>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSize, "{err}");
    let err = file
        .raw()
        .offset(records.len() as u64 - 8)
        .open::<[u64; 2]>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
    assert!(err.to_string().contains("at offset"), "{err}");
}

/// The behaviour: `create_new` makes a zero-filled single value (or slice)
/// exclusively, exactly as long as offset plus view, for every backend; a
/// second one is `AlreadyExists`; peers open what it made.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn create_new_makes_zeroed_raw_values_exclusively() {
    for segment in backends("new") {
        let _owner = segment.owner();
        let making = segment.raw().create_new(true);
        let value = making.open::<[u32; 3]>().unwrap();
        assert_eq!(value.read(), [0; 3]);
        value.write([1, 2, 3]);
        assert_eq!(segment.raw().open::<[u32; 3]>().unwrap().read(), [1, 2, 3]);
        let err = making.open::<[u32; 3]>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        drop(value);
        segment.remove().unwrap();
        // At an offset: zeroes up to it, then the value.
        let slice = making
            .clone()
            .offset(4096 + 8)
            .len(2)
            .open::<[u64]>()
            .unwrap();
        assert_eq!(slice.to_vec(), [0, 0]);
        slice.set(1, 9).unwrap();
        let all = segment.raw().open::<[u64]>().unwrap();
        assert!(all.len() >= (4096 + 24) / 8, "{}", all.len());
        assert_eq!(all.get((4096 + 16) / 8), Some(9));
        drop((slice, all));
        segment.remove().unwrap();
    }
}

/// The behaviour: with `create_missing`, processes racing to open a raw
/// segment that does not exist all end up on one object (one creates it
/// zero-filled, the others open it): every increment lands in it.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn create_missing_is_open_or_create_for_raw_segments() {
    for segment in backends("missing") {
        let _owner = segment.owner();
        let shared = segment
            .raw()
            .create_missing(true)
            .open_timeout(Duration::from_secs(20))
            .len(16);
        let mut children = Vec::new();
        for _ in 0..4 {
            let in_child = || {
                let ok = shared
                    .open::<[u32]>()
                    .ok()
                    .and_then(|slots| {
                        slots
                            .atomic::<AtomicU32>(15)
                            .ok()?
                            .fetch_add(1, Ordering::AcqRel);
                        Some(())
                    })
                    .is_some();
                shm_workspace::exit_child(if ok { 0 } else { 1 })
            };
            // SAFETY: the child opens or creates a segment, adds, `_exit`s.
            children.push(unsafe { shm_workspace::fork_retrying(in_child) }.unwrap());
        }
        for mut child in children {
            let status = child
                .wait_timeout(Duration::from_secs(30))
                .unwrap()
                .unwrap();
            assert!(status.success(), "{status:?}");
        }
        let slots = segment.raw().len(16).open::<[u32]>().unwrap();
        assert_eq!(slots.get(15), Some(4));
        assert_eq!(slots.get(0), Some(0));
        // An existing object keeps its contents.
        assert_eq!(shared.open::<[u32]>().unwrap().get(15), Some(4));
        drop(slots);
        segment.remove().unwrap();
    }
}

/// The behaviour: the raw options that cannot apply to a view are refused
/// at open, before anything is created: a length for a single value, and
/// creation of a slice without a length (it takes its length from the
/// object). (Typed segments have no raw options at all: a compile error.)
#[test]
#[cfg_attr(miri, ignore = "names segments")]
fn raw_options_that_cannot_apply_are_refused() {
    let segment = backends("typed").remove(0);
    let _owner = segment.owner();
    let err = segment
        .raw()
        .create_new(true)
        .len(2)
        .open::<u64>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("`.len(2)`"), "{err}");
    let err = segment
        .raw()
        .create_missing(true)
        .open::<[u8]>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(segment.raw().open::<u8>().is_err(), "nothing was created");
}

/// The behaviour: a raw slice view without `len` maps every whole element
/// of the object from the offset, read-write and read-only alike (the
/// read-only view needs only read permission, and sees the writer's
/// stores), and refuses a size that is no whole number of elements, for
/// every backend.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_slice_without_len_maps_the_whole_object_in_either_access() {
    for segment in backends("whole") {
        let _owner = segment.owner();
        let made = segment
            .raw()
            .create(shm_runtime::init::from_fn(6, |i| i as u16 * 3))
            .unwrap();
        let reader = segment.raw().read_only();
        let all = reader.open::<[u16]>().unwrap();
        assert_eq!(all.to_vec(), [0, 3, 6, 9, 12, 15]);
        let from_two = reader.clone().offset(4).open::<[u16]>().unwrap();
        assert_eq!(from_two.get(0), Some(6));
        made.set(2, 99).unwrap();
        assert_eq!((all.get(2), from_two.get(0)), (Some(99), Some(99)));
        let err = reader.clone().offset(2).open::<[u32]>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSize, "{err}");
        drop((made, all, from_two));
        segment.remove().unwrap();
    }
}

/// The behaviour: an object truncated under a view at an offset is
/// survived like one under a view from offset 0: the lost pages read as
/// zeros instead of raising `SIGBUS` (the handler accounts for the offset
/// the mapping starts at).
#[test]
#[cfg_attr(miri, ignore = "maps files")]
fn truncation_under_a_view_at_an_offset_is_survived() {
    let path = shm_workspace::TempPath::new("rawopt-trunc");
    std::fs::write(&path.0, vec![0xabu8; 4 * 4096]).unwrap();
    let view = Segment::file(&path.0)
        .raw()
        .offset(3 * 4096 + 8)
        .read_only()
        .open::<u64>()
        .unwrap();
    assert_eq!(view.read(), u64::from_ne_bytes([0xab; 8]));
    // Two pages left: the object is longer than the view's offset within
    // its mapping, but the page mapped (the object's fourth) is gone.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap()
        .set_len(2 * 4096)
        .unwrap();
    assert_eq!(view.read(), 0);
}
