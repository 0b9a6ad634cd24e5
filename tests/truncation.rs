//! Truncation and corrupt headers: opening reads the header with `pread`,
//! never through a mapping that another process can shrink, so a segment
//! truncated while it is being opened is a typed error, not a `SIGBUS`; and
//! header bytes that describe no platform are a corrupt header.
//!
//! Children are forked with `fork_unchecked` (the harness runs tests on
//! several threads); each touches only this crate's API and its own files,
//! then `_exit`s.

use shm_runtime::segment::Segment;
use shm_runtime::ErrorKind;
use shm_runtime::{init, process::Child};
use shm_workspace::{exit_child, TempPath};
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(60);

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: the children here use this crate's API and plain file I/O,
    // then `_exit`.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

#[test]
#[cfg_attr(miri, ignore)]
fn opening_while_another_process_truncates_is_never_a_signal() {
    const RUN: Duration = Duration::from_millis(1500);
    let temp = TempPath::new("loop");
    drop(Segment::file(&temp.0).create([7u64; 512]).unwrap());
    let good = std::fs::read(&temp.0).unwrap();

    let truncator = fork(|| shm_workspace::truncate_and_restore(&temp.0, &good, RUN));
    let openers: Vec<Child> = (0..2)
        .map(|_| {
            fork(|| {
                let segment = Segment::file(&temp.0).open_timeout(Duration::from_millis(20));
                let start = Instant::now();
                while start.elapsed() < RUN {
                    match segment.open::<[u64; 512]>() {
                        Ok(_) => {}
                        Err(e)
                            if matches!(
                                e.kind(),
                                ErrorKind::TooShort
                                    | ErrorKind::TimedOut
                                    | ErrorKind::NotASegment
                                    | ErrorKind::CreatorDied
                            ) => {}
                        Err(_) => exit_child(4),
                    }
                }
                exit_child(0)
            })
        })
        .collect();
    for (i, mut child) in openers.into_iter().chain([truncator]).enumerate() {
        let status = child
            .wait_timeout(JOIN)
            .unwrap()
            .expect("the child ends within its run time");
        assert_eq!(status.signal(), None, "child {i} was killed by a signal");
        assert!(status.success(), "child {i}: {status}");
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn header_bytes_that_describe_no_platform_are_a_corrupt_header() {
    const POINTER_WIDTH: u64 = 76;
    const BYTE_ORDER: u64 = 77;
    let temp = TempPath::new("corrupt");
    drop(Segment::file(&temp.0).create(5u64).unwrap());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&temp.0)
        .unwrap();
    let open = || Segment::file(&temp.0).open::<u64>().unwrap_err();

    // Damaged bytes: no platform has them.
    for width in [0u8, 3, 24, 187] {
        file.write_all_at(&[width], POINTER_WIDTH).unwrap();
        let err = open();
        assert_eq!(err.kind(), ErrorKind::NotASegment, "width {width}: {err}");
        assert!(err.to_string().contains("corrupt header"), "{err}");
    }
    file.write_all_at(&[std::mem::size_of::<usize>() as u8], POINTER_WIDTH)
        .unwrap();
    for order in [0u8, 3, 0xAB] {
        file.write_all_at(&[order], BYTE_ORDER).unwrap();
        let err = open();
        assert_eq!(
            err.kind(),
            ErrorKind::NotASegment,
            "byte order {order}: {err}"
        );
    }
    // Valid values of another platform: incompatible, named as such.
    let native = if cfg!(target_endian = "little") {
        1u8
    } else {
        2
    };
    file.write_all_at(&[3 - native], BYTE_ORDER).unwrap();
    let err = open();
    assert_eq!(err.kind(), ErrorKind::Incompatible, "{err}");
    file.write_all_at(&[native], BYTE_ORDER).unwrap();
    let other_width = if cfg!(target_pointer_width = "64") {
        4u8
    } else {
        8
    };
    file.write_all_at(&[other_width], POINTER_WIDTH).unwrap();
    let err = open();
    assert_eq!(err.kind(), ErrorKind::Incompatible, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{}-bit", other_width as u32 * 8)),
        "{err}"
    );
    // And back: it opens again.
    file.write_all_at(&[std::mem::size_of::<usize>() as u8], POINTER_WIDTH)
        .unwrap();
    assert_eq!(*Segment::file(&temp.0).open::<u64>().unwrap(), 5);
}

/// Entries of `dir` whose name contains `tag`.
fn entries_with(dir: &str, tag: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(tag))
        .collect()
}

/// Entries of `dir` that are creation locks.
fn creation_locks(dir: &str) -> Vec<String> {
    entries_with(dir, ".shmrt-create-")
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_creator_killed_at_any_step_leaves_nothing_half_made() {
    // Steps (see `__private::die_during_creation_at`): 1 object made, 2
    // sized, 3 header claimed, 4 header written, 5 payload written, 6 ready
    // but unnamed, 7 linked under its name.
    for backend in ["posix", "file"] {
        for step in 1..=7u32 {
            let tag = format!("shmrt-killed-{}-{backend}-{step}", std::process::id());
            let (segment, dir, leftover) = match backend {
                "posix" => (
                    Segment::posix(format!("/{tag}")),
                    "/dev/shm".to_owned(),
                    PathBuf::from(format!("/dev/shm/{tag}")),
                ),
                _ => {
                    let path = std::env::temp_dir().join(&tag);
                    (
                        Segment::file(&path),
                        std::env::temp_dir().to_string_lossy().into_owned(),
                        path,
                    )
                }
            };
            let _cleanup = TempPath(leftover);
            let child = fork(|| {
                shm_runtime::__private::die_during_creation_at(step);
                let made = segment.create([7u64; 512]);
                // Only reached if the step was never reached.
                exit_child(if made.is_ok() { 9 } else { 8 })
            });
            child.join(JOIN).unwrap();
            let start = Instant::now();
            let opened = segment
                .clone()
                .open_timeout(Duration::from_secs(2))
                .open::<[u64; 512]>();
            if step < 7 {
                // Nothing under the name: not found at once, never a wait
                // for a creator that is gone.
                let err = opened.unwrap_err();
                assert_eq!(
                    err.kind(),
                    ErrorKind::NotFound,
                    "{backend} step {step}: {err}"
                );
                assert!(
                    start.elapsed() < Duration::from_secs(1),
                    "{backend} step {step}"
                );
                assert_eq!(entries_with(&dir, &tag), Vec::<String>::new());
            } else {
                assert!(opened.unwrap().iter().all(|w| *w == 7), "{backend}");
                assert_eq!(entries_with(&dir, &tag), vec![tag.clone()]);
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_creator_killed_inside_open_or_create_blocks_nobody() {
    let tag = format!("shmrt-ooc-killed-{}", std::process::id());
    let segment = Segment::posix(format!("/{tag}")).open_timeout(Duration::from_secs(5));
    let _cleanup = TempPath(PathBuf::from(format!("/dev/shm/{tag}")));
    let locks_before = creation_locks("/dev/shm").len();
    for step in [1, 3, 5, 6] {
        let child = fork(|| {
            shm_runtime::__private::die_during_creation_at(step);
            let _ = segment.open_or_create(1u64);
            exit_child(9)
        });
        child.join(JOIN).unwrap();
        assert_eq!(
            segment.open::<u64>().unwrap_err().kind(),
            ErrorKind::NotFound,
            "step {step}"
        );
    }
    // The dead creators' lock is free: the next one creates at once, and
    // removes the lock file they left.
    let start = Instant::now();
    assert_eq!(*segment.open_or_create(2u64).unwrap(), 2);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(creation_locks("/dev/shm").len(), locks_before);
    assert_eq!(
        *segment.open_or_create(3u64).unwrap(),
        2,
        "opened, not made again"
    );
}

/// The 512-byte blocks a file occupies.
fn blocks(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().blocks()
}

#[test]
#[cfg_attr(miri, ignore)]
fn creation_reserves_the_pages_unless_told_not_to() {
    const LEN: usize = 4 << 20; // 4 MiB of u64
    let reserved = TempPath::new("reserved");
    let sparse = TempPath::new("sparse");
    let a = Segment::file(&reserved.0)
        .create(init::zeroed_slice::<u64>(LEN / 8))
        .unwrap();
    let b = Segment::file(&sparse.0)
        .reserve(false)
        .create(init::zeroed_slice::<u64>(LEN / 8))
        .unwrap();
    assert!(blocks(&reserved.0) * 512 >= LEN as u64, "reserved up front");
    assert!(
        blocks(&sparse.0) * 512 < (LEN / 4) as u64,
        "allocated as written"
    );
    assert_eq!((a.len(), b.len()), (LEN / 8, LEN / 8));
    assert!(b.iter().all(|w| *w == 0));
}
