//! Truncation and corrupt headers: opening reads the header with `pread`,
//! never through a mapping that another process can shrink, so a segment
//! truncated while it is being opened is a typed error, not a `SIGBUS`; and
//! header bytes that describe no platform are a corrupt header.
//!
//! Children are forked with `fork_unchecked` (the harness runs tests on
//! several threads); each touches only this crate's API and its own files,
//! then `_exit`s.

use shm_runtime::process::Child;
use shm_runtime::segment::Segment;
use shm_runtime::ErrorKind;
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(60);

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        TempFile(
            std::env::temp_dir().join(format!("shmrt-truncation-{}-{tag}", std::process::id())),
        )
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: the children here use this crate's API and plain file I/O,
    // then `_exit`.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

fn exit_child(code: i32) -> ! {
    // SAFETY: ends this (child) process at once.
    unsafe { libc::_exit(code) }
}

#[test]
#[cfg_attr(miri, ignore)]
fn opening_while_another_process_truncates_is_never_a_signal() {
    const RUN: Duration = Duration::from_millis(1500);
    let temp = TempFile::new("loop");
    drop(Segment::file(&temp.0).create([7u64; 512]).unwrap());
    let good = std::fs::read(&temp.0).unwrap();

    let truncator = fork(|| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&temp.0)
            .unwrap_or_else(|_| exit_child(2));
        let start = Instant::now();
        while start.elapsed() < RUN {
            if file.set_len(0).is_err() || file.write_all_at(&good, 0).is_err() {
                exit_child(3);
            }
        }
        exit_child(0)
    });
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
    let temp = TempFile::new("corrupt");
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
