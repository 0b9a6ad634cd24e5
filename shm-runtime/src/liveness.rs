//! Whether another process is alive, and whether its pid means anything here.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether process `pid` (of this PID namespace) still runs. A process that
/// ended and awaits being reaped (a zombie) does not: it never writes again,
/// and its pid cannot be reused until it is reaped. A process of another
/// user counts as running.
pub(crate) fn pid_alive(pid: u32) -> bool {
    use crate::sync::owner::{me, status, Status};
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
    let generation = generation();
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

/// Which fork of this process this is (0 before any fork), so that a child
/// recomputes what it inherited.
fn generation() -> u64 {
    crate::sync::fork_generation()
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
