//! Restarting after a crash (`Segment::replace_stale`), waiting for a
//! segment's name to appear (`Segment::wait_for_creation`), and how
//! `open_or_create` tells what it did (`Shared::origin`).
//!
//! Children are forked (`fork_retrying`) and killed or reaped by their
//! `Child` handle; every segment has an owner guard, so it is removed even
//! when an assertion fails, and each test checks that nothing is left.

use shm_runtime::segment::{Origin, Segment, SysvKey};
use shm_runtime::{ErrorKind, Shared};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A POSIX name, a file and a System V key unique to this test process.
fn backends(tag: &str) -> Vec<(Segment, Leftover)> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let name = format!("/shmrt-restart-{tag}-{pid}-{n}");
    let path = std::env::temp_dir().join(format!("shmrt-restart-{tag}-{pid}-{n}"));
    let key = 0x5300_0000 | ((pid as i32 & 0xfff) << 12) | (n as i32 & 0xfff);
    vec![
        (
            Segment::posix(&name),
            Leftover::Path(format!("/dev/shm{name}").into()),
        ),
        (Segment::file(&path), Leftover::Path(path)),
        (Segment::sysv(SysvKey::new(key)), Leftover::SysV(key)),
    ]
}

enum Leftover {
    Path(std::path::PathBuf),
    SysV(i32),
}

impl Leftover {
    fn assert_gone(&self) {
        match self {
            Leftover::Path(path) => assert!(
                std::fs::symlink_metadata(path).is_err(),
                "{} was left behind",
                path.display()
            ),
            Leftover::SysV(key) => {
                let table = std::fs::read_to_string("/proc/sysvipc/shm").unwrap();
                assert!(
                    !table
                        .lines()
                        .skip(1)
                        .any(|l| l.split_whitespace().next() == Some(&key.to_string())),
                    "System V key {key} was left behind"
                );
            }
        }
    }
}

/// Waits (bounded) until `flag` reaches `value`.
fn wait_for(flag: &AtomicU32, value: u32, what: &str) {
    let start = Instant::now();
    while flag.load(Ordering::Acquire) < value {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Forks a child that creates `segment` with `remove_on_drop` holding
/// `value`, signals `ready`, and sleeps until it is killed; returns it once
/// the segment exists.
fn creator_child(
    segment: &Segment,
    value: u64,
    remove_on_drop: bool,
) -> shm_runtime::process::Child {
    let ready = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let in_child = || {
        let made = segment
            .clone()
            .remove_on_drop(remove_on_drop)
            .create(AtomicU64::new(value));
        match made {
            Ok(view) => {
                ready.store(1, Ordering::Release);
                if remove_on_drop {
                    // Killed with its view alive: nothing removes the name.
                    loop {
                        std::thread::sleep(Duration::from_secs(1));
                        let _ = &view;
                    }
                }
                std::mem::forget(view);
                shm_workspace::exit_child(0)
            }
            Err(_) => shm_workspace::exit_child(3),
        }
    };
    // SAFETY: the child only creates a segment, stores to an atomic and
    // sleeps or `_exit`s; glibc's allocator resets its locks in a child.
    let child = unsafe { shm_workspace::fork_retrying(in_child) }.unwrap();
    wait_for(&ready, 1, "the child creating its segment");
    child
}

/// The behaviour: a creator killed by `SIGKILL` leaves its `remove_on_drop`
/// segment behind; a restart without the opt-in gets `AlreadyExists` naming
/// `replace_stale`; with it, the restart replaces the segment (a fresh
/// value, origin `Reclaimed`), while a reader that mapped the old object
/// keeps reading and writing it, unlinked. For POSIX, files and System V.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn a_killed_creators_segment_is_replaced_on_restart_with_the_opt_in() {
    for (segment, leftover) in backends("kill") {
        let _owner = segment.owner();
        let mut child = creator_child(&segment, 41, true);
        let old = segment.open::<AtomicU64>().unwrap();
        assert_eq!(old.origin(), Origin::Opened);
        child.kill().unwrap();
        // Left behind, and a restart without the opt-in is refused, with
        // the option named.
        assert_eq!(old.load(Ordering::Relaxed), 41);
        let err = segment
            .clone()
            .remove_on_drop(true)
            .create(AtomicU64::new(0))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        assert!(err.to_string().contains("replace_stale(true)"), "{err}");
        assert!(err.to_string().contains("dead"), "{err}");
        // With it: a fresh segment.
        let restarted = segment.clone().remove_on_drop(true).replace_stale(true);
        let new = restarted.create(AtomicU64::new(7)).unwrap();
        assert_eq!(new.origin(), Origin::Reclaimed);
        assert_eq!(new.load(Ordering::Relaxed), 7);
        assert_eq!(
            segment.open::<AtomicU64>().unwrap().load(Ordering::Relaxed),
            7
        );
        // The old reader keeps the old object.
        assert_eq!(old.load(Ordering::Relaxed), 41);
        old.store(42, Ordering::Relaxed);
        assert_eq!(new.load(Ordering::Relaxed), 7);
        // This process lives: its segment is not replaced.
        let err = restarted.create(AtomicU64::new(8)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        assert!(err.to_string().contains("is alive"), "{err}");
        drop(new); // remove_on_drop
        drop(old);
        leftover.assert_gone();
    }
}

/// The behaviour: `open_or_create` with the opt-in replaces a stale segment
/// (even of another type) instead of opening it, and says so; without it,
/// it opens the old one.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn open_or_create_replaces_a_stale_segment_and_says_so() {
    for (segment, leftover) in backends("ooc") {
        let _owner = segment.owner();
        let mut child = creator_child(&segment, 5, true);
        child.kill().unwrap();
        let plain = segment.open_or_create(AtomicU64::new(0)).unwrap();
        assert_eq!(plain.origin(), Origin::Opened);
        assert_eq!(plain.load(Ordering::Relaxed), 5);
        let replacing = segment.clone().remove_on_drop(true).replace_stale(true);
        let fresh = replacing.open_or_create([9u32; 4]).unwrap();
        assert_eq!(fresh.origin(), Origin::Reclaimed);
        assert_eq!(*fresh, [9; 4]);
        assert_eq!(plain.load(Ordering::Relaxed), 5, "the old object stays");
        let again = replacing.open_or_create([0u32; 4]).unwrap();
        assert_eq!(again.origin(), Origin::Opened);
        drop((fresh, again, plain));
        leftover.assert_gone();
    }
}

/// The behaviour: never replaced are a segment whose creator is alive
/// (this process), and one made without `remove_on_drop` (meant to outlive
/// its creator) even once its creator is dead.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn live_creators_and_lasting_segments_are_never_replaced() {
    for (segment, leftover) in backends("live") {
        let _owner = segment.owner();
        let live = segment
            .clone()
            .remove_on_drop(true)
            .create(AtomicU64::new(1))
            .unwrap();
        let err = segment
            .clone()
            .replace_stale(true)
            .create(AtomicU64::new(2))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("alive"), "{err}");
        let opened = segment
            .clone()
            .replace_stale(true)
            .open_or_create(AtomicU64::new(3))
            .unwrap();
        assert_eq!(opened.origin(), Origin::Opened);
        assert_eq!(live.load(Ordering::Relaxed), 1);
        drop((live, opened));
        leftover.assert_gone();

        // Made to last, its creator dead (exited): not stale.
        let mut child = creator_child(&segment, 4, false);
        child
            .wait_timeout(Duration::from_secs(20))
            .unwrap()
            .unwrap();
        let err = segment
            .clone()
            .replace_stale(true)
            .create(AtomicU64::new(5))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("remove_on_drop"), "{err}");
        assert_eq!(
            segment.open::<AtomicU64>().unwrap().load(Ordering::Relaxed),
            4
        );
        segment.remove().unwrap();
        leftover.assert_gone();
    }
}

/// The behaviour: a creator is judged by its start time too, so a live
/// process that has the recorded pid but started at another time (the pid
/// was reused) does not keep a stale segment alive. Simulated by forging
/// the recorded start time of a segment this process made.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_reused_pid_does_not_keep_a_stale_segment_alive() {
    let path = shm_workspace::TempPath::new("restart-reuse");
    let segment = Segment::file(&path.0).remove_on_drop(true);
    let old = segment.create(AtomicU64::new(1)).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path.0)
        .unwrap();
    let mut start = [0u8; 8];
    file.read_exact_at(&mut start, 200).unwrap();
    let start = u64::from_ne_bytes(start);
    if start == 0 {
        eprintln!("start times are unknown here (no time namespace): nothing to judge");
        return;
    }
    let err = segment
        .clone()
        .replace_stale(true)
        .create(AtomicU64::new(2))
        .unwrap_err();
    assert!(err.to_string().contains("alive"), "{err}");
    // The recorded pid (ours) now "belongs to" a process started later.
    file.write_all_at(&(start + 1).to_ne_bytes(), 200).unwrap();
    let new = segment
        .clone()
        .replace_stale(true)
        .create(AtomicU64::new(2))
        .unwrap();
    assert_eq!(new.origin(), Origin::Reclaimed);
    assert_eq!(old.load(Ordering::Relaxed), 1);
    assert_eq!(new.load(Ordering::Relaxed), 2);
}

/// The behaviour: of several processes restarting at once, each replacing
/// the same stale segment, exactly one succeeds; the others get
/// `AlreadyExists` (the new segment's creator is alive).
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn concurrent_replacers_have_exactly_one_winner() {
    for (segment, leftover) in backends("race") {
        let _owner = segment.owner();
        let mut stale = creator_child(&segment, 1, true);
        stale.kill().unwrap();
        // [started, won, lost, release, failed otherwise]
        let board = Shared::anonymous([const { AtomicU32::new(0) }; 5]).unwrap();
        let mut children = Vec::new();
        for _ in 0..4 {
            let in_child = || {
                board[0].fetch_add(1, Ordering::AcqRel);
                while board[0].load(Ordering::Acquire) < 4 {
                    std::thread::yield_now();
                }
                let made = segment
                    .clone()
                    .remove_on_drop(true)
                    .replace_stale(true)
                    .open_timeout(Duration::from_secs(20))
                    .create(AtomicU64::new(u64::from(std::process::id())));
                match made {
                    Ok(view) => {
                        board[1].fetch_add(1, Ordering::AcqRel);
                        let start = Instant::now();
                        while board[3].load(Ordering::Acquire) == 0
                            && start.elapsed() < Duration::from_secs(30)
                        {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        drop(view); // removes the name
                        shm_workspace::exit_child(0)
                    }
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        board[2].fetch_add(1, Ordering::AcqRel);
                        shm_workspace::exit_child(0)
                    }
                    Err(_) => {
                        board[4].fetch_add(1, Ordering::AcqRel);
                        shm_workspace::exit_child(4)
                    }
                }
            };
            // SAFETY: as in `creator_child`.
            children.push(unsafe { shm_workspace::fork_retrying(in_child) }.unwrap());
        }
        let start = Instant::now();
        let done = || {
            (1..=2)
                .chain(4..5)
                .map(|i| board[i].load(Ordering::Acquire))
                .sum::<u32>()
        };
        while done() < 4 {
            assert!(start.elapsed() < Duration::from_secs(30), "replacers hung");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            board[4].load(Ordering::Acquire),
            0,
            "a replacer failed otherwise"
        );
        assert_eq!(
            board[1].load(Ordering::Acquire),
            1,
            "exactly one replacer wins"
        );
        board[3].store(1, Ordering::Release);
        for mut child in children {
            let status = child
                .wait_timeout(Duration::from_secs(30))
                .unwrap()
                .unwrap();
            assert!(status.success(), "{status:?}");
        }
        leftover.assert_gone();
    }
}

/// The behaviour: with `wait_for_creation`, an open waits for a segment
/// that another process creates later; without it a missing name is
/// `NotFound` at once; and a name that never appears is `TimedOut`, naming
/// the segment.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn opens_can_wait_for_a_segment_to_be_created() {
    for (segment, leftover) in backends("wait") {
        let _owner = segment.owner();
        let err = segment.open::<u64>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let in_child = || {
            std::thread::sleep(Duration::from_millis(150));
            match segment.create(77u64) {
                Ok(view) => {
                    std::mem::forget(view);
                    shm_workspace::exit_child(0)
                }
                Err(_) => shm_workspace::exit_child(3),
            }
        };
        // SAFETY: the child sleeps, creates a segment and `_exit`s.
        let mut child = unsafe { shm_workspace::fork_retrying(in_child) }.unwrap();
        let waiting = segment
            .clone()
            .wait_for_creation(true)
            .open_timeout(Duration::from_secs(20));
        let started = Instant::now();
        assert_eq!(*waiting.open::<u64>().unwrap(), 77);
        assert!(started.elapsed() >= Duration::from_millis(100));
        let status = child
            .wait_timeout(Duration::from_secs(20))
            .unwrap()
            .unwrap();
        assert!(status.success());
        segment.remove().unwrap();
        let err = waiting
            .clone()
            .open_timeout(Duration::from_millis(50))
            .open::<u64>()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(err.to_string().contains(&segment.to_string()), "{err}");
        assert!(err.to_string().contains("to be created"), "{err}");
        leftover.assert_gone();
    }
}

/// The pid of a child that has exited and been reaped: no process has it
/// (until the kernel reuses it, which a test cannot rule out but which
/// takes a full cycle of pids).
fn dead_pid() -> u32 {
    // SAFETY: the child `_exit`s at once.
    let child = unsafe { shm_workspace::fork_retrying(|| shm_workspace::exit_child(0)) }.unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    pid
}

/// The behaviour: a replacer that died after retiring a stale segment and
/// before removing its name leaves it "retired": plain opens report
/// `CreatorDied` (they never wait for it, nor reinitialize it in place under
/// the references of processes that still map it), and the next restart
/// with the opt-in replaces it.
#[test]
#[cfg_attr(miri, ignore = "forks and maps named segments")]
fn a_replacer_that_died_midway_leaves_a_segment_the_next_one_replaces() {
    let path = shm_workspace::TempPath::new("restart-retired");
    let segment = Segment::file(&path.0);
    let old = segment
        .clone()
        .remove_on_drop(true)
        .create(AtomicU64::new(1))
        .unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap();
    // State word: retired (4) by a dead process.
    let word = (4u64 << 32) | u64::from(dead_pid());
    file.write_all_at(&word.to_ne_bytes(), 16).unwrap();
    let err = segment.open::<AtomicU64>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CreatorDied, "{err}");
    assert!(err.to_string().contains("replace_stale(true)"), "{err}");
    let err = segment.open_or_create(AtomicU64::new(9)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CreatorDied, "{err}");
    assert_eq!(
        old.load(Ordering::Relaxed),
        1,
        "never reinitialized in place"
    );
    let new = segment
        .clone()
        .replace_stale(true)
        .remove_on_drop(true)
        .open_or_create(AtomicU64::new(2))
        .unwrap();
    assert_eq!(new.origin(), Origin::Reclaimed);
    assert_eq!(
        (old.load(Ordering::Relaxed), new.load(Ordering::Relaxed)),
        (1, 2)
    );
}

/// The behaviour: segments of format 2 (before the creator's start time
/// was recorded) are `UnsupportedVersion`, and never judged stale.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn format_2_segments_are_unsupported_and_not_replaced() {
    let path = shm_workspace::TempPath::new("restart-v2");
    let segment = Segment::file(&path.0);
    drop(segment.create(5u64).unwrap());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap();
    file.write_all_at(&2u32.to_ne_bytes(), 8).unwrap();
    let err = segment.open::<u64>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedVersion, "{err}");
    let err = segment
        .clone()
        .replace_stale(true)
        .create(6u64)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert!(err.to_string().contains("header format 2"), "{err}");
}

/// Lets a stopped child go on.
fn resume(pid: u32) {
    // SAFETY: signals a child of this test, which it has not reaped.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) }, 0);
}

/// The behaviour: a process that reclaims a segment whose creator died
/// initializing it, seen between its compare-exchange of the state word and
/// recording itself (so the header still holds the dead creator's start
/// time), is judged by its pid alone: alive, so a plain open and another
/// `open_or_create` wait for it (here until their timeout) instead of
/// reporting `CreatorDied` or reclaiming and initializing the payload a
/// second time; once it goes on, its value is the one everybody opens. For
/// POSIX, files (both initialized in place, as where no atomic publication
/// is possible) and System V.
#[test]
#[cfg_attr(miri, ignore = "forks, stops children and maps named segments")]
fn a_reclaimer_not_yet_recorded_is_waited_for_not_reclaimed_again() {
    for (segment, leftover) in backends("claim") {
        let _owner = segment.owner();
        // The first creator dies with its header written, not ready.
        let dying = || {
            shm_runtime::__private::publish_in_place(true);
            shm_runtime::__private::die_during_creation_at(4);
            let _ = segment.create(AtomicU64::new(1));
            shm_workspace::exit_child(3)
        };
        // SAFETY: the child creates a segment and `_exit`s.
        let child = unsafe { shm_workspace::fork_retrying(dying) }.unwrap();
        assert!(child.wait().unwrap().success(), "died at step 4");
        // The reclaimer stops right after its compare-exchange.
        let reclaiming = || {
            shm_runtime::__private::publish_in_place(true);
            shm_runtime::__private::stop_during_creation_at(1);
            let made = segment
                .clone()
                .open_timeout(Duration::from_secs(20))
                .open_or_create(AtomicU64::new(7));
            match made {
                Ok(view) if view.origin() == Origin::Reclaimed => {
                    std::mem::forget(view);
                    shm_workspace::exit_child(0)
                }
                _ => shm_workspace::exit_child(3),
            }
        };
        // SAFETY: the child opens or creates a segment and `_exit`s.
        let mut reclaimer = unsafe { shm_workspace::fork_retrying(reclaiming) }.unwrap();
        shm_workspace::wait_stopped(reclaimer.id(), "the reclaimer stopping after its claim");
        let pid = reclaimer.id();
        let short = segment.clone().open_timeout(Duration::from_millis(300));
        let err = short.open::<AtomicU64>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(
            err.to_string()
                .contains(&format!("its creator (pid {pid}) is still initializing")),
            "{err}"
        );
        let err = short.open_or_create(AtomicU64::new(9)).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::TimedOut,
            "not reclaimed again: {err}"
        );
        resume(pid);
        let status = reclaimer
            .wait_timeout(Duration::from_secs(20))
            .unwrap()
            .expect("the reclaimer ends");
        assert!(status.success(), "the reclaimer reclaimed it: {status:?}");
        let opened = segment.open::<AtomicU64>().unwrap();
        assert_eq!(opened.load(Ordering::Relaxed), 7);
        drop(opened);
        segment.remove().unwrap();
        leftover.assert_gone();
    }
}

/// The behaviour: a stale segment retired by a live replacer that has not
/// yet removed its name is judged by the replacer's pid (not by the dead
/// creator's start time): plain opens, waiting opens and other replacers
/// wait for it (here until their timeout) instead of failing with
/// `CreatorDied` or retiring it again; once the replacer goes on, its new
/// segment is the one opened. For POSIX, files and System V.
#[test]
#[cfg_attr(miri, ignore = "forks, stops children and maps named segments")]
fn a_live_replacer_is_waited_for() {
    for (segment, leftover) in backends("retire") {
        let _owner = segment.owner();
        let mut stale = creator_child(&segment, 1, true);
        stale.kill().unwrap();
        let replacing = || {
            shm_runtime::__private::stop_during_creation_at(2);
            let made = segment
                .clone()
                .remove_on_drop(true)
                .replace_stale(true)
                .open_timeout(Duration::from_secs(20))
                .open_or_create(AtomicU64::new(5));
            match made {
                Ok(view) if view.origin() == Origin::Reclaimed => {
                    std::mem::forget(view);
                    shm_workspace::exit_child(0)
                }
                _ => shm_workspace::exit_child(3),
            }
        };
        // SAFETY: the child opens or creates a segment and `_exit`s.
        let mut replacer = unsafe { shm_workspace::fork_retrying(replacing) }.unwrap();
        shm_workspace::wait_stopped(replacer.id(), "the replacer stopping after retiring");
        let pid = replacer.id();
        let short = segment.clone().open_timeout(Duration::from_millis(300));
        for open in [short.clone(), short.clone().wait_for_creation(true)] {
            let err = open.open::<AtomicU64>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
            assert!(
                err.to_string()
                    .contains(&format!("process {pid} is replacing it")),
                "{err}"
            );
        }
        let err = short
            .clone()
            .remove_on_drop(true)
            .replace_stale(true)
            .open_or_create(AtomicU64::new(9))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "not retired again: {err}");
        let err = short
            .clone()
            .replace_stale(true)
            .create(AtomicU64::new(9))
            .unwrap_err();
        // Refused, not replaced: it waits for the replacer's creation lock
        // where there is one, or judges the replacer alive.
        assert!(
            matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::AlreadyExists),
            "{err}"
        );
        resume(pid);
        let status = replacer
            .wait_timeout(Duration::from_secs(20))
            .unwrap()
            .expect("the replacer ends");
        assert!(status.success(), "the replacer replaced it: {status:?}");
        let opened = segment.open::<AtomicU64>().unwrap();
        assert_eq!(opened.load(Ordering::Relaxed), 5);
        drop(opened);
        segment.remove().unwrap();
        leftover.assert_gone();
    }
}
