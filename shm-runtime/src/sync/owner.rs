//! Who holds an [`ShmMutex`](super::ShmMutex): this thread's identity (its
//! thread id and start time) and whether another thread is still alive.
//!
//! A thread id is only meaningful in one PID namespace, and only as long as
//! the thread lives: the kernel reuses it afterwards. So a holder is named by
//! its thread id *and* its start time (field 22 of `/proc/<tid>/stat`, in
//! clock ticks since boot): a thread with the same id but another start time
//! is a new thread, and the holder is dead.

use super::fork_generation;
use crate::liveness::pid_namespace;
use std::cell::Cell;
use std::io;

/// This thread, as it records itself in a mutex it locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Me {
    /// `gettid()`, in this process's PID namespace (below 2^22 on Linux).
    pub(crate) tid: u32,
    /// [`norm_start`] of this thread's start time; 0 when unknown (no
    /// `/proc`, or a `/proc` of another PID namespace, whose thread ids and
    /// start times cannot be compared with ours).
    pub(crate) start: u32,
    /// This process's PID namespace ([`pid_namespace`]).
    pub(crate) ns: u64,
    /// The fork generation this was computed in: a forked child's thread
    /// has another id.
    pub(crate) generation: u64,
}

/// What became of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// No thread has this id any more.
    Gone,
    /// It ended and only awaits being reaped (state `Z` or `X`): it never
    /// runs again.
    Zombie,
    /// It exists; its start time when `/proc` could tell (see [`Me::start`]).
    Alive(Option<u32>),
}

thread_local! {
    /// This thread's identity. A `Cell` of plain data: no lazy lock a forked
    /// child could inherit locked, no destructor.
    static ME: Cell<Me> = const {
        Cell::new(Me { tid: 0, start: 0, ns: 0, generation: u64::MAX })
    };
}

/// This thread's identity, computed once per thread (and again in a forked
/// child): a `gettid` and two reads of `/proc/thread-self`.
#[inline]
pub(crate) fn me() -> Me {
    let generation = fork_generation();
    let me = ME.with(Cell::get);
    if me.generation == generation {
        return me;
    }
    let me = compute(generation);
    ME.with(|cell| cell.set(me));
    me
}

#[cold]
fn compute(generation: u64) -> Me {
    // SAFETY: gettid and getpid have no preconditions.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
    // SAFETY: as above.
    let pid = unsafe { libc::getpid() } as u32;
    assert!(
        tid > 0 && tid <= super::mutex::TID,
        "thread id {tid} exceeds the 22 bits of Linux's PID_MAX_LIMIT"
    );
    // `/proc` is only trusted when it names this thread as gettid does:
    // a `/proc` mounted for another PID namespace would name other threads.
    let consistent = std::fs::read_link("/proc/thread-self")
        .is_ok_and(|link| link.as_os_str() == format!("{pid}/task/{tid}").as_str());
    let start = consistent
        .then(|| std::fs::read("/proc/thread-self/stat").ok())
        .flatten()
        .and_then(|stat| parse_stat(&stat))
        .filter(|(state, _)| !matches!(state, b'Z' | b'X' | b'x'))
        .map_or(0, |(_, start)| start);
    Me {
        tid,
        start,
        ns: pid_namespace(),
        generation,
    }
}

/// A start time in clock ticks, folded into 32 bits and never 0 (which
/// means "unknown"). Two threads with one id whose start times differ by
/// exactly a multiple of 2^32 ticks (16 months at 100 Hz) would compare
/// equal; the reuse of a thread id is detected in every other case.
fn norm_start(ticks: u64) -> u32 {
    (ticks as u32).max(1)
}

/// The state letter and the normalised start time in a `/proc/<tid>/stat`.
fn parse_stat(stat: &[u8]) -> Option<(u8, u32)> {
    // The command name (field 2) may hold spaces and parentheses: the
    // fields that follow start after its last ')'.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?; // field 3
    let start: u64 = fields.nth(18)?.parse().ok()?; // field 22
    Some((state, norm_start(start)))
}

/// Whether thread `tid` (of this PID namespace) still exists, and if so its
/// start time. `proc_ok`: this process's `/proc` names threads as `gettid`
/// does (see [`Me::start`]); without it only existence is known.
pub(crate) fn status(tid: u32, proc_ok: bool) -> Status {
    let exists = |tid: u32| {
        let Ok(tid) = libc::pid_t::try_from(tid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the thread's process exists;
        // nothing is sent. Any thread id works, not only process ids.
        let rc = unsafe { libc::kill(tid, 0) };
        // EPERM: it exists, but belongs to another user.
        rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    };
    if tid == 0 || !exists(tid) {
        return Status::Gone;
    }
    if !proc_ok {
        return Status::Alive(None);
    }
    match std::fs::read(format!("/proc/{tid}/stat")) {
        Ok(stat) => match parse_stat(&stat) {
            Some((b'Z' | b'X' | b'x', _)) => Status::Zombie,
            Some((_, start)) => Status::Alive(Some(start)),
            None => Status::Alive(None),
        },
        // It ended since `kill`, or `/proc` hides other users' processes
        // (`hidepid`): ask `kill` again.
        Err(_) if !exists(tid) => Status::Gone,
        Err(_) => Status::Alive(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_thread_knows_itself_and_is_alive() {
        let me = me();
        assert!(me.tid > 0);
        assert_ne!(me.start, 0, "/proc is available in the tests");
        assert_eq!(me, super::me());
        assert_eq!(status(me.tid, true), Status::Alive(Some(me.start)));
        // Another thread is another identity, alive while it runs.
        let (other, done) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let t = std::thread::spawn(move || {
            other.0.send(super::me()).unwrap();
            let _ = done.1.recv();
        });
        let them = other.1.recv().unwrap();
        assert_ne!(them.tid, me.tid);
        assert_eq!(status(them.tid, true), Status::Alive(Some(them.start)));
        drop(done.0);
        t.join().unwrap();
        // `join` returns once the thread cleared its id, slightly before
        // the kernel removes it.
        let mut waited = 0;
        while status(them.tid, true) != Status::Gone {
            assert!(waited < 10_000, "thread {} still exists", them.tid);
            std::thread::sleep(std::time::Duration::from_millis(1));
            waited += 1;
        }
    }

    #[test]
    fn nobody_has_thread_id_zero_or_beyond_the_limit() {
        assert_eq!(status(0, true), Status::Gone);
        assert_eq!(status((1 << 22) + 5, true), Status::Gone);
    }

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let line = b"42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                     123456 1000 10 18446744073709551615";
        assert_eq!(parse_stat(line), Some((b'S', 123456)));
        assert_eq!(parse_stat(b"garbage"), None);
        assert_eq!(norm_start(0), 1);
        assert_eq!(norm_start(1 << 32), 1);
    }
}
