//! How a new POSIX or file segment gets its name on Linux: made unnamed,
//! initialized, then linked under its name (by its descriptor, or by its
//! `/proc/self/fd` path where the kernel refuses that), and what a creation
//! that fails at the link or at writing the layout description leaves
//! behind: nothing.
//!
//! The test hooks are process-wide, so each case runs in a forked child
//! (`fork_retrying`), reaped with a timeout; every segment has an owner
//! guard in the parent, so it is removed even when an assertion fails, and
//! each test checks that nothing is left.
#![cfg(target_os = "linux")]

use shm_runtime::segment::{Segment, SysvKey};
use shm_runtime::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A POSIX name and a file, unique to this test process: each with the
/// directory its name lives in and its entry's name there.
fn backends(tag: &str) -> Vec<(Segment, PathBuf, String)> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let entry = format!("shmrt-publish-{tag}-{}-{n}", std::process::id());
    let tmp = std::env::temp_dir();
    vec![
        (
            Segment::posix(format!("/{entry}")),
            PathBuf::from("/dev/shm"),
            entry.clone(),
        ),
        (Segment::file(tmp.join(&entry)), tmp, entry),
    ]
}

/// The entries of `dir` whose names contain `entry` (the segment itself,
/// and anything made for it: a creation lock, a temporary name).
fn entries_of(dir: &std::path::Path, entry: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(entry))
        .collect();
    found.sort();
    found
}

/// Forks a child that runs `body` and `_exit`s with the code it returns.
fn child(body: impl FnOnce() -> i32) -> shm_runtime::process::Child {
    // SAFETY: the child only sets test hooks, creates a segment and
    // `_exit`s; glibc's allocator resets its locks in a child.
    unsafe { shm_workspace::fork_retrying(|| shm_workspace::exit_child(body())) }.unwrap()
}

/// Waits (bounded) for `child` to end and returns its exit code.
fn exit_code(mut child: shm_runtime::process::Child) -> Option<i32> {
    child
        .wait_timeout(Duration::from_secs(20))
        .unwrap()
        .expect("the child ends")
        .code()
}

/// The behaviour: both ways of linking a ready segment under its name (by
/// its descriptor, and by its `/proc/self/fd` path, the fallback) publish
/// it with its value, exclusively: a second creation of the name is
/// `AlreadyExists` by either way, and the directory holds the segment's
/// name and nothing else. For POSIX and files.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn either_link_publishes_the_segment_exclusively() {
    for by_proc_fd in [false, true] {
        for (segment, dir, entry) in backends("link") {
            let _owner = segment.owner();
            let create = |value: u64| {
                let segment = segment.clone();
                child(move || {
                    shm_runtime::__private::link_by_proc_fd(by_proc_fd);
                    match segment.create(AtomicU64::new(value)) {
                        Ok(view) => {
                            std::mem::forget(view);
                            0
                        }
                        Err(e) if e.kind() == ErrorKind::AlreadyExists => 4,
                        Err(_) => 3,
                    }
                })
            };
            assert_eq!(exit_code(create(17)), Some(0), "{segment:?} {by_proc_fd}");
            let opened = segment.open::<AtomicU64>().unwrap();
            assert_eq!(opened.load(Ordering::Relaxed), 17);
            assert_eq!(exit_code(create(18)), Some(4), "exclusive: {by_proc_fd}");
            assert_eq!(opened.load(Ordering::Relaxed), 17, "not overwritten");
            drop(opened);
            assert_eq!(entries_of(&dir, &entry), std::slice::from_ref(&entry));
            segment.remove().unwrap();
            assert_eq!(entries_of(&dir, &entry), Vec::<String>::new());
        }
    }
}

/// The behaviour: a name that another process takes after a creator
/// checked it and before the creator links its ready segment makes that
/// creation fail with `AlreadyExists` ("it exists already"), by either way
/// of linking; the other process's segment keeps its value, and nothing of
/// the failed creation is left in the directory (its object had no name
/// and is freed with its descriptor). For POSIX and files.
#[test]
#[cfg_attr(miri, ignore = "forks, stops children and maps named segments")]
fn a_name_taken_before_the_link_is_already_exists_and_leaves_nothing() {
    for by_proc_fd in [false, true] {
        for (segment, dir, entry) in backends("race") {
            let _owner = segment.owner();
            let racing = {
                let segment = segment.clone();
                child(move || {
                    shm_runtime::__private::link_by_proc_fd(by_proc_fd);
                    // Stops right after claiming its (still unnamed) header.
                    shm_runtime::__private::stop_during_creation_at(1);
                    match segment.create(AtomicU64::new(1)) {
                        Err(e)
                            if e.kind() == ErrorKind::AlreadyExists
                                && e.to_string().contains("it exists already") =>
                        {
                            0
                        }
                        Err(_) => 3,
                        Ok(view) => {
                            std::mem::forget(view);
                            4
                        }
                    }
                })
            };
            shm_workspace::wait_stopped(racing.id(), "the creator stopping after its claim");
            assert_eq!(
                entries_of(&dir, &entry),
                Vec::<String>::new(),
                "no name before the link"
            );
            let ours = segment.create(AtomicU64::new(2)).unwrap();
            // SAFETY: signals a child of this test, which it has not reaped.
            assert_eq!(
                unsafe { libc::kill(racing.id() as libc::pid_t, libc::SIGCONT) },
                0
            );
            assert_eq!(exit_code(racing), Some(0), "{segment:?} {by_proc_fd}");
            assert_eq!(ours.load(Ordering::Relaxed), 2);
            let opened = segment.open::<AtomicU64>().unwrap();
            assert_eq!(opened.load(Ordering::Relaxed), 2, "ours is the one named");
            drop((ours, opened));
            assert_eq!(entries_of(&dir, &entry), std::slice::from_ref(&entry));
            segment.remove().unwrap();
            assert_eq!(entries_of(&dir, &entry), Vec::<String>::new());
        }
    }
}

/// The behaviour: when the layout description block cannot be written
/// (here `ENOSPC`, as on a full `/dev/shm` or disk, injected into its
/// `pwrite`), creation fails with `OutOfMemory` saying what it was writing,
/// whether it publishes by a link or under its name first (in place), and
/// leaves nothing: no name in the directory, and an open finds none. A
/// System V segment, whose block is written through its attachment, is
/// created as usual under the same hook.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn a_description_that_cannot_be_written_fails_and_leaves_nothing() {
    for in_place in [false, true] {
        for (segment, dir, entry) in backends("nospace") {
            let _owner = segment.owner();
            let failing = {
                let segment = segment.clone();
                child(move || {
                    shm_runtime::__private::publish_in_place(in_place);
                    shm_runtime::__private::fail_description_write(true);
                    match segment.reserve(false).create(AtomicU64::new(1)) {
                        Err(e)
                            if e.kind() == ErrorKind::OutOfMemory
                                && e.to_string().contains("writing the layout description") =>
                        {
                            0
                        }
                        Err(_) => 3,
                        Ok(view) => {
                            std::mem::forget(view);
                            4
                        }
                    }
                })
            };
            assert_eq!(exit_code(failing), Some(0), "{segment:?} {in_place}");
            assert_eq!(entries_of(&dir, &entry), Vec::<String>::new());
            let err = segment.open::<AtomicU64>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        }
    }
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let key = 0x5600_0000 | ((std::process::id() as i32 & 0xfff) << 12) | (n as i32 & 0xfff);
    let segment = Segment::sysv(SysvKey::new(key));
    let _owner = segment.owner();
    let creating = {
        let segment = segment.clone();
        child(move || {
            shm_runtime::__private::fail_description_write(true);
            match segment.create(AtomicU64::new(5)) {
                Ok(view) => {
                    std::mem::forget(view);
                    0
                }
                Err(_) => 3,
            }
        })
    };
    assert_eq!(exit_code(creating), Some(0));
    assert_eq!(
        segment.open::<AtomicU64>().unwrap().load(Ordering::Relaxed),
        5
    );
    segment.remove().unwrap();
}
