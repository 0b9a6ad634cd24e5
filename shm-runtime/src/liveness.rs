//! Who am I, and is that process alive: this thread's identity as a lock
//! or a queue records it (holder token, process id, process start time,
//! namespaces; the OS thread id for diagnostics), which fork of its process
//! this is, and whether another process is still alive.
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

use crate::platform;
use crate::process::{self, ThreadSlot};
use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest holder token ([`ThreadSlot::token`]) a lock word can record:
/// 20 bits (the lock word's layout is `sync::robust`'s).
pub(crate) const MAX_TOKEN: u32 = (1 << 20) - 1;

/// This thread, as it records itself in a mutex it locks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Me {
    /// This thread's holder token ([`ThreadSlot::token`]): unique among the
    /// live threads of this process, and never given to another thread
    /// while a guard of this one may live (at most [`MAX_TOKEN`]).
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
        token <= MAX_TOKEN,
        "more than {} threads of this process have used ShmMutex at once",
        MAX_TOKEN
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

/// How many times this process's ancestors forked to make it: a guard
/// remembers the generation of the process that locked, so a copy of it in
/// a forked child knows it owns nothing.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The fork generation of this process (see [`FORK_GENERATION`]). The fork
/// handler is registered before the first guard exists, so every `fork`
/// that could copy a guard (`fork(2)` through the C library) bumps it.
#[inline]
pub(crate) fn fork_generation() -> u64 {
    if FORK_HANDLER.load(Ordering::Acquire) != REGISTERED {
        register_fork_handler();
    }
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// The fork generation, without making sure the fork handler is registered:
/// for a guard, which exists only once [`me`] registered it.
#[inline]
pub(crate) fn registered_fork_generation() -> u64 {
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// 0: no fork handler yet; [`REGISTERED`]; else `pid << 1` of the process
/// registering it. Not a `std::sync::Once`: a child forked (by another
/// thread) while its parent was registering would wait forever for a thread
/// it does not have; here it sees a foreign pid and registers for itself.
static FORK_HANDLER: AtomicU64 = AtomicU64::new(0);
const REGISTERED: u64 = 1;

#[cold]
fn register_fork_handler() {
    // SAFETY: getpid has no preconditions.
    let me = (unsafe { libc::getpid() } as u64) << 1;
    let mut seen = FORK_HANDLER.load(Ordering::Acquire);
    while seen != REGISTERED {
        if seen == me {
            // Another thread of this process is registering it.
            std::thread::yield_now();
            seen = FORK_HANDLER.load(Ordering::Acquire);
            continue;
        }
        match FORK_HANDLER.compare_exchange(seen, me, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                // SAFETY: registers a handler that only increments an atomic,
                // which is valid in the child of a multi-threaded fork. (A
                // child that takes over from its parent may register it
                // twice: generations then step by two, which is as good.)
                let rc = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
                assert_eq!(rc, 0, "pthread_atfork failed: out of memory");
                FORK_HANDLER.store(REGISTERED, Ordering::Release);
                return;
            }
            Err(now) => seen = now,
        }
    }
}

/// Whether process `pid` (of this PID namespace) still runs. A process that
/// ended and awaits being reaped (a zombie) does not: it never writes again,
/// and its pid cannot be reused until it is reaped. A process of another
/// user counts as running.
pub(crate) fn pid_alive(pid: u32) -> bool {
    // `/proc` (elsewhere: `sysctl`, `proc_pidinfo`) is consulted only when
    // it names this process's threads as the kernel does (see
    // `owner::Me::proc_ok`).
    match status(pid, me().proc_ok) {
        Status::Alive(_) => true,
        Status::Gone => false,
        // A main thread that ended on its own (`pthread_exit`) shows as a
        // zombie on Linux while the other threads of its process run on.
        #[cfg(target_os = "linux")]
        Status::Zombie => other_thread_runs(pid),
        // Elsewhere a process is a zombie once all its threads ended.
        #[cfg(not(target_os = "linux"))]
        Status::Zombie => false,
    }
}

/// Whether a thread other than the (zombie) leader of process `pid` runs.
#[cfg(target_os = "linux")]
fn other_thread_runs(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        let name = task.file_name();
        if name.to_str() == Some(pid.to_string().as_str()) {
            return false;
        }
        std::fs::read(task.path().join("stat")).is_ok_and(|stat| {
            // The state follows the command name's last ')'.
            let state = stat
                .iter()
                .rposition(|&b| b == b')')
                .and_then(|close| stat.get(close + 2).copied());
            !matches!(state, Some(b'Z' | b'X' | b'x') | None)
        })
    })
}

/// The inode of this process's PID namespace (`/proc/self/ns/pid`; on
/// FreeBSD its jail, on macOS, which has no PID namespaces, a constant: see
/// [`platform::pid_namespace`](crate::platform::pid_namespace)). When it
/// cannot be read, a random value with the top bit set, drawn anew in every
/// process: a namespace that is unknown must never look like another one,
/// since a pid is judged only between processes of the same namespace.
/// Never 0, which callers use for "not recorded".
///
/// Computed again in a forked child (which may live in another namespace:
/// `unshare(CLONE_NEWPID)` moves the children, not the caller), and cached
/// in a thread-local `Cell` rather than a `OnceLock`, which a child forked
/// while another thread was filling it would wait for forever.
pub(crate) fn pid_namespace() -> u64 {
    thread_local! {
        /// (fork generation, namespace) of the last computation.
        static NS: Cell<(u64, u64)> = const { Cell::new((u64::MAX, 0)) };
    }
    let generation = fork_generation();
    let (seen, ns) = NS.with(Cell::get);
    if seen == generation && ns != 0 {
        return ns;
    }
    #[cfg(target_os = "linux")]
    let ns = std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|link| {
            let link = link.to_string_lossy().into_owned();
            let digits = link.strip_prefix("pid:[")?.strip_suffix(']')?;
            digits.parse::<u64>().ok()
        });
    #[cfg(not(target_os = "linux"))]
    let ns = crate::platform::pid_namespace();
    let ns = ns
        .filter(|ns| *ns > 1 && *ns < 1 << 63)
        .unwrap_or_else(|| unknown_namespace(generation));
    NS.with(|cell| cell.set((generation, ns)));
    ns
}

/// The stand-in for an unreadable namespace: random, with the top bit set,
/// one value per process and fork generation (agreed on by its threads
/// through a compare-and-swap), so that it matches no other process.
fn unknown_namespace(generation: u64) -> u64 {
    static UNKNOWN: AtomicU64 = AtomicU64::new(0);
    const LOW: u64 = (1 << 48) - 1;
    let tag = (generation & 0x7fff) << 48;
    loop {
        let current = UNKNOWN.load(Ordering::Acquire);
        if current != 0 && current & (0x7fff << 48) == tag {
            return current;
        }
        let new = (1 << 63) | tag | (random_u64() & LOW).max(1);
        if UNKNOWN
            .compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return new;
        }
    }
}

/// 64 random bits from the kernel (or, failing that, from the clock, the
/// pid and an address: enough that two processes do not collide).
fn random_u64() -> u64 {
    if let Some(random) = crate::platform::random_u64() {
        return random;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32) ^ (&nanos as *const u64 as usize as u64)
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

    #[test]
    fn this_process_is_alive_and_pid_zero_is_nobody() {
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(0));
        assert!(!pid_alive(u32::MAX));
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_zombie_is_not_alive() {
        // `true` exits at once; until it is reaped it is a zombie.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = std::time::Instant::now();
        while pid_alive(pid) {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "an exited, unreaped child still counts as alive"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // Not reaped yet: the kernel still knows the pid.
        // SAFETY: signal 0 only checks existence.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, 0) }, 0);
        assert!(child.wait().unwrap().success());
        assert!(!pid_alive(pid));
    }

    /// A process whose main thread ended (`SYS_exit` of that thread alone)
    /// while another thread runs shows a zombie leader: it still runs.
    #[cfg(target_os = "linux")]
    #[test]
    #[cfg_attr(miri, ignore = "forks")]
    fn a_process_whose_main_thread_exited_still_runs() {
        let child_body = || {
            std::thread::spawn(|| loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            });
            // SAFETY: ends this thread only; the process lives on in the
            // thread spawned above.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
        };
        // SAFETY: the child only spawns a thread and ends its own thread;
        // it takes no lock another thread of this test process may hold
        // (glibc's allocator resets its locks in a forked child).
        // Other tests of this binary hold guards for moments, which refuse
        // forks (`ForkWhileLocked`): try again, within bounds.
        let start = std::time::Instant::now();
        let mut child = loop {
            // SAFETY: as argued above.
            match unsafe { crate::process::fork_unchecked(child_body) } {
                Err(e)
                    if e.kind() == crate::ErrorKind::ForkWhileLocked
                        && start.elapsed() < std::time::Duration::from_secs(30) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                forked => break forked.unwrap(),
            }
        };
        let pid = child.id();
        // Wait until the leader is a zombie.
        let start = std::time::Instant::now();
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            if stat
                .rsplit_once(')')
                .unwrap()
                .1
                .trim_start()
                .starts_with('Z')
            {
                break;
            }
            assert!(start.elapsed() < std::time::Duration::from_secs(10));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(pid_alive(pid), "a process with a running thread is alive");
        child.kill().unwrap();
        assert!(!pid_alive(pid));
    }

    #[test]
    fn the_namespace_is_known_and_stable() {
        let ns = pid_namespace();
        assert_ne!(ns, 0);
        assert_eq!(ns, pid_namespace());
    }
}
