//! Surviving truncation after open (the `SIGBUS` handler, see
//! `shm_runtime::sigbus`): a reader whose segment is truncated by another
//! process goes on, reading zeros, and is told; a program's own `SIGBUS`
//! handler is still called for its own faults; a full file system is still
//! reported (the process dies of `SIGBUS`), never hidden under zeros.
//!
//! Every scenario runs in a forked child, so that a signal that should not
//! have been survived kills the child, not the test harness; the parent
//! checks how the child ended.

use shm_runtime::segment::Segment;
use shm_runtime::ErrorKind;
use shm_runtime::{init, process::Child};
use shm_workspace::{exit_child, TempPath};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(60);

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: each child uses this crate's API, plain file I/O and libc
    // calls, then `_exit`s.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

/// Truncates the file at `path` to nothing, as another process could.
fn truncate(path: &std::path::Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

fn status_of(mut child: Child) -> ExitStatus {
    child
        .wait_timeout(JOIN)
        .unwrap()
        .expect("the child ends in time")
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_reader_survives_a_truncation_after_open_and_is_told() {
    const WORDS: usize = 8192; // 64 KiB: many pages
    let temp = TempPath::new("after-open");
    drop(Segment::file(&temp.0).create([7u64; WORDS]).unwrap());
    let path = temp.0.clone();
    let child = fork(|| {
        let view = Segment::file(&path).open::<[u64; WORDS]>().unwrap();
        if view[WORDS - 1] != 7 || view.is_truncated() {
            exit_child(2);
        }
        // Another process (here: this one, through the file) truncates it.
        truncate(&path);
        // Every lost page now reads as zeros, instead of a SIGBUS.
        let sum: u64 = view.iter().sum();
        if sum != 0 {
            exit_child(3);
        }
        if !view.is_truncated() {
            exit_child(4);
        }
        match view.flush() {
            Err(e) if e.kind() == ErrorKind::Truncated => {}
            _ => exit_child(5),
        }
        exit_child(0)
    });
    let status = status_of(child);
    assert_eq!(status.signal(), None, "killed by a signal");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn readers_survive_a_writer_truncating_in_a_loop() {
    const RUN: Duration = Duration::from_millis(1500);
    const WORDS: usize = 4096;
    let temp = TempPath::new("loop");
    drop(Segment::file(&temp.0).create([7u64; WORDS]).unwrap());
    let good = std::fs::read(&temp.0).unwrap();
    let path = temp.0.clone();
    let truncator = fork(|| shm_workspace::truncate_and_restore(&path, &good, RUN));
    let readers: Vec<Child> = (0..2)
        .map(|_| {
            fork(|| {
                let segment = Segment::file(&path).open_timeout(Duration::from_millis(20));
                let start = Instant::now();
                let (mut whole, mut truncated) = (0u64, 0u64);
                while start.elapsed() < RUN {
                    match segment.open::<[u64; WORDS]>() {
                        Ok(view) => {
                            // Each word is 7, or 0 once the pages were lost.
                            if view.iter().any(|w| *w != 7 && *w != 0) {
                                exit_child(5);
                            }
                            if view.is_truncated() {
                                truncated += 1;
                            } else {
                                whole += 1;
                            }
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                ErrorKind::TooShort
                                    | ErrorKind::TimedOut
                                    | ErrorKind::NotASegment
                                    | ErrorKind::Truncated
                            ) => {}
                        Err(_) => exit_child(4),
                    }
                }
                let line = format!("reader: {whole} whole views, {truncated} truncated\n");
                // SAFETY: writes a buffer to standard error.
                unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
                exit_child(0)
            })
        })
        .collect();
    for (i, child) in readers.into_iter().chain([truncator]).enumerate() {
        let status = status_of(child);
        assert_eq!(status.signal(), None, "child {i} was killed by a signal");
        assert_eq!(status.code(), Some(0), "child {i}: {status}");
    }
}

static OWN_HANDLER_CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

extern "C" fn own_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    OWN_HANDLER_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // The program's own recovery: here, ending with a code of its choice.
    // SAFETY: `_exit` is async-signal-safe.
    unsafe { libc::_exit(42) }
}

/// Maps `path` (truncated to nothing) by hand and touches it: a `SIGBUS`
/// that is the program's own, outside every mapping of this crate.
fn fault_outside_the_library(path: &std::path::Path) {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.set_len(4096).unwrap();
    // SAFETY: a new shared mapping of the file; touched once, below.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    assert_ne!(ptr, libc::MAP_FAILED);
    file.set_len(0).unwrap();
    // SAFETY: a read of the mapped page, which now lies past the end of
    // the file: the kernel raises SIGBUS (the point of the test).
    let _ = unsafe { std::ptr::read_volatile(ptr.cast::<u8>()) };
}

#[test]
#[cfg_attr(miri, ignore)]
fn the_programs_own_sigbus_handler_is_still_called_for_its_own_faults() {
    let temp = TempPath::new("own");
    let segment_file = TempPath::new("own-segment");
    let (path, seg_path) = (temp.0.clone(), segment_file.0.clone());
    let child = fork(|| {
        // The program's handler first, then this crate's (installed with
        // the first mapping of a segment), which chains to it.
        // SAFETY: installs a handler that only counts and `_exit`s.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = own_handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()),
                0
            );
        }
        let view = Segment::file(&seg_path).create(1u64).unwrap();
        assert!(shm_runtime::sigbus::installed());
        fault_outside_the_library(&path);
        drop(view);
        exit_child(0) // not reached: the own handler exits with 42
    });
    let status = status_of(child);
    assert_eq!(status.code(), Some(42), "{status}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_fault_outside_this_crates_mappings_still_kills_by_default() {
    let temp = TempPath::new("default");
    let segment_file = TempPath::new("default-segment");
    let (path, seg_path) = (temp.0.clone(), segment_file.0.clone());
    let child = fork(|| {
        let view = Segment::file(&seg_path).create(1u64).unwrap();
        fault_outside_the_library(&path);
        drop(view);
        exit_child(0)
    });
    let status = status_of(child);
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status}");
}

#[test]
#[cfg(target_os = "linux")] // a tmpfs mounted in a private mount namespace
#[cfg_attr(miri, ignore)]
fn a_full_file_system_is_reported_not_hidden_under_zeros() {
    // A tiny tmpfs in a mount namespace of the child's own (it disappears
    // with the child). A file on it, sized but not reserved, mapped through
    // a raw view of this crate: once the file system is full, writing a new
    // page cannot be backed, and the kernel raises SIGBUS inside the
    // crate's mapping, within the file's size. That is no truncation: the
    // process must die of it.
    let dir = std::env::temp_dir().join(format!("shmrt-sigbus-full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_for_child = dir.clone();
    let child = fork(move || {
        let dir = dir_for_child;
        let c_dir = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        // SAFETY: plain system calls on a directory of this test.
        let mounted = unsafe {
            libc::unshare(libc::CLONE_NEWNS) == 0
                && libc::mount(
                    c"none".as_ptr(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) == 0
                && libc::mount(
                    c"tmpfs".as_ptr(),
                    c_dir.as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    c"size=64k".as_ptr().cast(),
                ) == 0
        };
        if !mounted {
            exit_child(77); // no privilege to mount here: skipped
        }
        let sparse = dir.join("sparse");
        let file = std::fs::File::create(&sparse).unwrap();
        file.set_len(1 << 20).unwrap(); // 1 MiB on a 64 KiB file system
        let view = Segment::file(&sparse)
            .raw()
            .len(1 << 20)
            .open::<[u8]>()
            .unwrap();
        // Fill the file system.
        let _ = std::fs::write(dir.join("filler"), vec![1u8; 128 << 10]);
        for page in (0..(1 << 20)).step_by(4096) {
            let _ = view.set(page, 1);
        }
        exit_child(0) // a full file system hidden under zeros
    });
    let status = status_of(child);
    let _ = std::fs::remove_dir(&dir);
    if status.code() == Some(77) {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn locks_and_waits_in_a_truncated_mapping_report_it() {
    use shm_runtime::{SeqLock, ShmEvent, ShmMutex, ShmSemaphore};
    #[derive(shm_runtime::SharedSafe, bytemuck::Zeroable)]
    #[repr(C)]
    struct Sync {
        mutex: ShmMutex<u64>,
        event: ShmEvent,
        semaphore: ShmSemaphore,
        seqlock: SeqLock<u64>,
        // Pages of padding, so the locks sit past the first page.
        spare: [u64; 2048],
    }
    let temp = TempPath::new("sigbus-locks");
    drop(
        Segment::file(&temp.0)
            .create(init::in_place(|_: &mut Sync| {}))
            .unwrap(),
    );
    let path = temp.0.clone();
    let child = fork(|| {
        let view = Segment::file(&path).open::<Sync>().unwrap();
        let short = Duration::from_millis(10);
        if view.mutex.lock_timeout(short).is_err() {
            exit_child(2);
        }
        truncate(&path);
        // A read of the lost pages, survived: now truncated.
        if view.spare[2047] != 0 || !view.is_truncated() {
            exit_child(3);
        }
        let truncated = |r: Result<(), shm_runtime::Error>| matches!(r, Err(e) if e.kind() == ErrorKind::Truncated);
        if !truncated(view.mutex.lock_timeout(short).map(drop))
            || !truncated(
                view.mutex
                    .lock_or_repair_timeout(short, |_| {}, || 0)
                    .map(drop),
            )
            || !truncated(view.event.wait_timeout(short))
            || !truncated(view.semaphore.acquire_timeout(short))
            || !truncated(view.seqlock.read_timeout(short).map(drop))
        {
            exit_child(4);
        }
        exit_child(0)
    });
    let status = status_of(child);
    assert_eq!(status.signal(), None, "killed by a signal");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_child_forked_while_its_parent_installed_the_handler_installs_it_itself() {
    // `fork` by one thread while another installs the handler copies an
    // installation in progress, by a thread the child does not have,
    // before or after it set the disposition. (Found under qemu-user, where
    // the window is wide: the child waited for that thread for good.)
    for handler_set in [false, true] {
        let temp = TempPath::new(&format!("cut-install-{handler_set}"));
        let outside = TempPath::new(&format!("cut-install-outside-{handler_set}"));
        let (path, outside_path) = (temp.0.clone(), outside.0.clone());
        drop(Segment::file(&path).create([7u64; 1024]).unwrap());
        let child = fork(|| {
            shm_runtime::__private::sigbus_install_cut_by_fork(handler_set);
            if shm_runtime::sigbus::installed() {
                exit_child(2);
            }
            // Mapping a segment installs it, at once.
            let view = Segment::file(&path).open::<[u64; 1024]>().unwrap();
            if !shm_runtime::sigbus::installed() {
                exit_child(3);
            }
            // It repairs a truncation...
            truncate(&path);
            if view.iter().sum::<u64>() != 0 || !view.is_truncated() {
                exit_child(4);
            }
            // ...and passes any other fault to the disposition from before
            // it (here the default: death by SIGBUS), not to itself.
            fault_outside_the_library(&outside_path);
            exit_child(0)
        });
        let status = status_of(child);
        assert_eq!(
            status.signal(),
            Some(libc::SIGBUS),
            "handler set: {handler_set}: {status}"
        );
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_child_forked_while_its_parent_handled_a_fault_unmaps_without_waiting() {
    // `fork` by one thread while another is inside the handler copies the
    // mark that keeps a mapping from being unmapped under the handler: no
    // thread of the child will ever clear it.
    let temp = TempPath::new("cut-users");
    let path = temp.0.clone();
    drop(Segment::file(&path).create([7u64; 1024]).unwrap());
    let child = fork(|| {
        let view = Segment::file(&path).open::<[u64; 1024]>().unwrap();
        let other = Segment::file(&path).open::<[u64; 1024]>().unwrap();
        shm_runtime::__private::sigbus_users_cut_by_fork();
        // Unmapping does not wait for the parent's handler...
        drop(view);
        // ...and the handler still repairs this process's mappings.
        truncate(&path);
        if other.iter().sum::<u64>() != 0 || !other.is_truncated() {
            exit_child(3);
        }
        drop(other);
        exit_child(0)
    });
    let status = status_of(child);
    assert_eq!(status.signal(), None, "killed by a signal");
    assert_eq!(status.code(), Some(0), "{status}");
}
