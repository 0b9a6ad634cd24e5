//! Who holds an [`ShmMutex`](super::ShmMutex): this thread's identity
//! (holder token, process id, process start time, namespaces; the OS
//! thread id for diagnostics) and whether another process is still alive.
//!
//! A process id is only meaningful in one PID namespace, and only as long as
//! the process lives: the kernel reuses it afterwards. So a holder's process
//! is named by its pid *and* its start time (field 22 of `/proc/<pid>/stat`,
//! in clock ticks since boot): a process with the same pid but another start
//! time is a new process, and the holder is dead. Start times are read
//! relative to the reader's *time* namespace (its boot-time offset), so they
//! are compared only between processes of one time namespace: both
//! namespaces are part of [`Me::ns`].
//!
//! # Other systems
//!
//! The scheme needs of a system a pid that fits 32 bits, a process start
//! time, and a key for the set of processes whose pids mean the same thing
//! ([`crate::platform`] supplies them):
//!
//! * FreeBSD: pids below 100000 (`kern.pid_max`, 99999 at most), start times
//!   from `sysctl(KERN_PROC_PID)` (`ki_start` less the boot time, in
//!   milliseconds of uptime), no PID namespaces but jails, which see only
//!   their own processes: the key is the jail id (a lock shared between
//!   jails is judged by nobody, as one shared between PID namespaces).
//! * macOS: pids below 100000 (`PID_MAX` 99999), start times from
//!   `proc_pidinfo(PROC_PIDTBSDINFO)` (the wall-clock time recorded at fork,
//!   in milliseconds), no PID namespaces at all: the key is a constant.
//!   Neither has time namespaces: start times are always comparable.
//!
//! The OS thread id ([`Me::tid`]) is recorded for diagnostics only, in a
//! 64-bit owner record: Linux `gettid` (22 bits), FreeBSD `thr_self` (from
//! 100001 up, 32 bits), macOS `pthread_threadid_np` (64 bits, system-wide)
//! all fit whole. (`MutexInfo::holder_tid`, a `u32`, shows its low 32 bits
//! on macOS.) The lock word itself holds the pid and a per-process token,
//! never a thread id, so it is the same on every system.

use super::fork_generation;
use crate::liveness::pid_namespace;
use crate::platform;
use crate::process::{self, ThreadSlot};
use std::cell::Cell;
use std::io;

/// This thread, as it records itself in a mutex it locks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Me {
    /// This thread's holder token ([`ThreadSlot::token`]): unique among the
    /// live threads of this process, and never given to another thread
    /// while a guard of this one may live (below 2^20: see
    /// `mutex::TOKEN`).
    pub(crate) token: u32,
    /// `getpid()`: this thread's process, in this process's PID namespace.
    pub(crate) pid: u32,
    /// The OS thread id ([`platform::thread_id`]: `gettid()` on Linux),
    /// recorded for diagnostics
    /// only: nothing is judged by it.
    pub(crate) tid: u64,
    /// [`norm_start`] of this process's start time (its leader's); 0 when
    /// unknown (no `/proc`, or a `/proc` of another PID namespace).
    pub(crate) process_start: u32,
    /// Whether start times of other processes may be compared with the
    /// ones this process reads: its time namespace is known.
    pub(crate) starts_comparable: bool,
    /// Whether this process's `/proc` names its threads as the kernel's
    /// calls do (see [`status`]); elsewhere, whether the system told this
    /// process's own start time (then it can tell others').
    pub(crate) proc_ok: bool,
    /// This process's PID and time namespaces ([`namespace_key`]).
    pub(crate) ns: u64,
    /// The fork generation this was computed in: a forked child has
    /// another pid.
    pub(crate) generation: u64,
    /// This thread's slot: its token and its fork barrier count.
    pub(crate) slot: &'static ThreadSlot,
}

impl Me {
    /// The lock word's pid half and token, as this thread writes them.
    #[inline]
    pub(crate) fn ids(&self) -> u64 {
        (u64::from(self.pid) << 32) | u64::from(self.token)
    }
}

/// What became of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// No process (nor thread) has this id any more.
    Gone,
    /// It ended as a whole and only awaits being reaped (its leader is in
    /// state `Z` or `X`, and no other thread of it remains): it never runs
    /// again.
    Zombie,
    /// It exists; its start time when `/proc` could tell (see [`Me::proc_ok`]).
    /// A process whose main thread ended while other threads run is alive.
    Alive(Option<u32>),
}

thread_local! {
    /// This thread's identity. A `Cell` of plain data: no lazy lock a forked
    /// child could inherit locked, no destructor.
    static ME: Cell<Option<Me>> = const { Cell::new(None) };
}

/// This thread's identity, computed once per thread (and again in a forked
/// child, or once the thread's slot was handed on as it ends): a `gettid`,
/// a `getpid` and a few reads of `/proc`.
#[inline]
pub(crate) fn me() -> Me {
    let generation = fork_generation();
    let slot = process::thread_slot();
    if let Some(me) = ME.with(Cell::get) {
        if me.generation == generation && std::ptr::eq(me.slot, slot) {
            return me;
        }
    }
    let me = compute(generation, slot);
    ME.with(|cell| cell.set(Some(me)));
    me
}

#[cold]
fn compute(generation: u64, slot: &'static ThreadSlot) -> Me {
    let tid = platform::thread_id();
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u32;
    let token = slot.token();
    assert!(
        token <= super::mutex::TOKEN,
        "more than {} threads of this process have used ShmMutex at once",
        super::mutex::TOKEN
    );
    #[cfg(miri)]
    miri_threads::register(tid as u32);
    #[cfg(not(target_os = "linux"))]
    {
        // No `/proc`, no time namespaces: the system's own records.
        let process_start = match platform::process::state(pid) {
            platform::process::State::Alive(start) => norm_start(start),
            _ => 0,
        };
        Me {
            token,
            pid,
            tid,
            process_start,
            starts_comparable: process_start != 0,
            proc_ok: process_start != 0,
            ns: namespace_key(pid_namespace(), Some(NO_TIME_NAMESPACE)),
            generation,
            slot,
        }
    }
    #[cfg(target_os = "linux")]
    {
        // `/proc` is only trusted when it names this thread as gettid does:
        // a `/proc` mounted for another PID namespace would name other threads.
        // Under Miri it names the interpreter's own threads, whose ids may match
        // an interpreted thread's (`getpid() + index`) by chance: never trusted.
        let proc_ok = !cfg!(miri)
            && std::fs::read_link("/proc/thread-self")
                .is_ok_and(|link| link.as_os_str() == format!("{pid}/task/{tid}").as_str());
        let process_start = proc_ok
            .then(|| std::fs::read(stat_path(pid)).ok())
            .flatten()
            .and_then(|stat| parse_stat(&stat))
            .map_or(0, |(_, start)| start);
        // Start times of other processes are compared with ours only within one
        // time namespace: unknown, never.
        let time_ns = proc_ok.then(time_namespace).flatten();
        Me {
            token,
            pid,
            tid,
            process_start,
            starts_comparable: time_ns.is_some() && process_start != 0,
            proc_ok,
            ns: namespace_key(pid_namespace(), time_ns),
            generation,
            slot,
        }
    }
}

/// The time namespace of the systems that have none (FreeBSD, macOS): one
/// constant, so start times are compared between all processes whose pids
/// are comparable.
#[cfg(not(target_os = "linux"))]
const NO_TIME_NAMESPACE: u64 = 1;

/// The inode of this process's time namespace (`/proc/self/ns/time`):
/// `None` when unknown (a kernel before 5.6 has none).
#[cfg(target_os = "linux")]
fn time_namespace() -> Option<u64> {
    let link = std::fs::read_link("/proc/self/ns/time").ok()?;
    let link = link.to_str()?;
    let digits = link.strip_prefix("time:[")?.strip_suffix(']')?;
    digits.parse::<u64>().ok().filter(|&ns| ns != 0)
}

/// One number for a PID namespace and a time namespace (`None`: unknown),
/// as recorded in `ShmMutex::owner_ns`: pids are judged only between
/// lockers with equal keys, and start times compared only when both
/// namespaces are equal and known. Namespace inodes fit in 32 bits: the key
/// is then both, side by side (time in the high half, 0 when unknown).
/// Otherwise (an unknown PID namespace is a value unique to its process) a
/// mix of both with bit 63 set. Never 0 ("not recorded") nor `u64::MAX`
/// ("several").
pub(crate) fn namespace_key(pid_ns: u64, time_ns: Option<u64>) -> u64 {
    let time_ns = time_ns.unwrap_or(0);
    let key = if pid_ns <= u64::from(u32::MAX) && time_ns <= u64::from(u32::MAX) {
        (time_ns << 32) | pid_ns
    } else {
        (1 << 63) | (pid_ns ^ time_ns.rotate_left(32) ^ (time_ns >> 7))
    };
    if key == 0 || key == u64::MAX {
        // Only for nonsensical inodes: unique to this process, never equal
        // to another's.
        (1 << 63) | u64::from(std::process::id())
    } else {
        key
    }
}

/// A start time in clock ticks (on FreeBSD and macOS: milliseconds), folded
/// into 32 bits and never 0 (which means "unknown"). Two processes with one
/// pid whose start times differ by exactly a multiple of 2^32 ticks (16
/// months at 100 Hz; 49.7 days in milliseconds) would compare equal; the
/// reuse of a pid is detected in every other case.
fn norm_start(ticks: u64) -> u32 {
    (ticks as u32).max(1)
}

/// Where the state and start time of process `pid` are read: the stat of
/// its leader thread, `/proc/<pid>/task/<pid>/stat`, which says what
/// `/proc/<pid>/stat` does (the leader's state, the process's start time).
/// Not the shorter path, which qemu-user (running an aarch64 build of this
/// crate here) fakes for its own process, with a start time per thread.
#[cfg(target_os = "linux")]
fn stat_path(pid: u32) -> String {
    format!("/proc/{pid}/task/{pid}/stat")
}

/// The state letter and the normalised start time in a `/proc/<tid>/stat`.
#[cfg(target_os = "linux")]
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

/// Whether process `pid` (of this PID namespace) still runs, and if so its
/// start time. `proc_ok`: this process's `/proc` names threads as `getpid`
/// does (see [`Me::proc_ok`]); without it only existence is known.
///
/// A process is a zombie only *as a whole*: a main thread that ended (say,
/// by `pthread_exit`) while others run shows state `Z` too, and its
/// process lives on.
#[cfg(not(target_os = "linux"))]
pub(crate) fn status(pid: u32, proc_ok: bool) -> Status {
    use platform::process::{state, State};
    if pid == 0 || !thread_exists(pid) {
        return Status::Gone;
    }
    if !proc_ok {
        return Status::Alive(None);
    }
    // On FreeBSD and macOS a process is a zombie only once all its threads
    // ended.
    match state(pid) {
        State::Gone => Status::Gone,
        State::Zombie => Status::Zombie,
        State::Alive(start) => Status::Alive(Some(norm_start(start))),
        State::Unknown => Status::Alive(None),
    }
}

/// See the other definition: Linux, with `/proc`.
#[cfg(target_os = "linux")]
pub(crate) fn status(pid: u32, proc_ok: bool) -> Status {
    let exists = thread_exists;
    if pid == 0 || !exists(pid) {
        return Status::Gone;
    }
    if !proc_ok {
        return Status::Alive(None);
    }
    match std::fs::read(stat_path(pid)) {
        Ok(stat) => match parse_stat(&stat) {
            Some((b'Z' | b'X' | b'x', start)) => {
                if other_threads(pid) {
                    Status::Alive(Some(start))
                } else {
                    Status::Zombie
                }
            }
            Some((_, start)) => Status::Alive(Some(start)),
            None => Status::Alive(None),
        },
        // It ended since `kill`, or `/proc` hides other users' processes
        // (`hidepid`): ask `kill` again.
        Err(_) if !exists(pid) => Status::Gone,
        Err(_) => Status::Alive(None),
    }
}

/// Whether process `pid` has a thread other than its leader (or cannot
/// tell: then it may).
#[cfg(target_os = "linux")]
fn other_threads(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        // It was reaped meanwhile (then no), or `/proc` hides it.
        return std::fs::metadata(format!("/proc/{pid}")).is_ok();
    };
    let leader = pid.to_string();
    tasks
        .filter_map(|entry| entry.ok())
        .any(|entry| entry.file_name().to_str() != Some(leader.as_str()))
}

/// Whether thread `tid` (of this PID namespace) still exists.
// Under Miri the code after the `return` is compiled but never run.
#[cfg_attr(miri, allow(unreachable_code))]
pub(crate) fn thread_exists(tid: u32) -> bool {
    let Ok(tid) = libc::pid_t::try_from(tid) else {
        return false;
    };
    if tid <= 0 {
        return false;
    }
    #[cfg(miri)]
    return miri_threads::running(tid as u32);
    // SAFETY: signal 0 only checks that the thread's process exists;
    // nothing is sent. Any thread id works, not only process ids.
    let rc = unsafe { libc::kill(tid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Miri runs no `kill`, so [`thread_exists`] asks this instead. The
/// interpreted program is the only process Miri knows: its pid exists, and
/// of its threads (ids `getpid() + index`, never reused) those that called
/// [`me`] and have not ended. A thread that never called `me` never held a
/// lock, so no lock word names it.
#[cfg(miri)]
mod miri_threads {
    use std::cell::Cell;
    use std::sync::Mutex;

    /// The ids of the running threads that called `me`.
    static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

    /// Listed in `RUNNING` from its creation until it is dropped, with its
    /// thread's locals when the thread ends.
    struct Running(u32);

    impl Drop for Running {
        fn drop(&mut self) {
            let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = running.iter().position(|&t| t == self.0) {
                running.swap_remove(i);
            }
        }
    }

    thread_local! {
        static THIS: Cell<Option<Running>> = const { Cell::new(None) };
    }

    pub(super) fn register(tid: u32) {
        RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(tid);
        THIS.with(|this| this.set(Some(Running(tid))));
    }

    pub(super) fn running(tid: u32) -> bool {
        tid == std::process::id()
            || RUNNING
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&tid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    #[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
    fn this_thread_knows_itself_and_is_alive() {
        let me = me();
        assert!(me.tid > 0 && me.token > 0);
        assert!(me.proc_ok, "/proc is available in the tests");
        assert_ne!(me.process_start, 0);
        assert_eq!(me.ids(), super::me().ids());
        assert_eq!(status(me.pid, true), Status::Alive(Some(me.process_start)));
        // Another thread is another identity, alive while it runs.
        let (other, done) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let t = std::thread::spawn(move || {
            other.0.send(super::me()).unwrap();
            let _ = done.1.recv();
        });
        let them = other.1.recv().unwrap();
        assert_ne!(them.tid, me.tid);
        assert_ne!(them.token, me.token);
        assert_eq!(them.pid, me.pid);
        assert!(thread_exists(them.tid as u32));
        drop(done.0);
        t.join().unwrap();
        // `join` returns once the thread cleared its id, slightly before
        // the kernel removes it.
        let mut waited = 0;
        while thread_exists(them.tid as u32) {
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
    #[cfg(target_os = "linux")]
    fn stat_lines_with_odd_command_names_parse() {
        let line = b"42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                     123456 1000 10 18446744073709551615";
        assert_eq!(parse_stat(line), Some((b'S', 123456)));
        assert_eq!(parse_stat(b"garbage"), None);
        assert_eq!(norm_start(0), 1);
        assert_eq!(norm_start(1 << 32), 1);
    }
}
