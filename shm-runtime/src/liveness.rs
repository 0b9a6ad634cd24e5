//! Whether another process is alive, and whether its pid means anything here.

use std::sync::atomic::{AtomicU64, Ordering};

/// Whether process `pid` (of this PID namespace) still runs. A process that
/// ended and awaits being reaped (a zombie) does not: it never writes again,
/// and its pid cannot be reused until it is reaped. A process of another
/// user counts as running.
pub(crate) fn pid_alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        use crate::sync::owner::{me, status, Status};
        // `/proc` is consulted only when it names this process's threads as
        // the kernel does (see `owner::Me::start`).
        matches!(status(pid, me().start != 0), Status::Alive(_))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: signal 0 only checks that the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
}

/// The inode of this process's PID namespace (`/proc/self/ns/pid`). When it
/// cannot be read, a value unique to this process (`1 << 63 | pid`): two
/// processes whose namespaces are unknown must never look alike, since a pid
/// is judged only between processes of the same namespace. Never 0, which
/// callers use for "not recorded".
///
/// Cached in an atomic, not a `OnceLock`: a child forked while another
/// thread was filling a `OnceLock` would wait for it forever.
pub(crate) fn pid_namespace() -> u64 {
    static NS: AtomicU64 = AtomicU64::new(0);
    let cached = NS.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    let ns = std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|link| {
            let link = link.to_string_lossy().into_owned();
            let digits = link.strip_prefix("pid:[")?.strip_suffix(']')?;
            digits.parse::<u64>().ok()
        })
        .filter(|ns| *ns > 1 && *ns < 1 << 63)
        .unwrap_or((1 << 63) | u64::from(std::process::id()));
    NS.store(ns, Ordering::Relaxed);
    ns
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

    #[test]
    fn the_namespace_is_known_and_stable() {
        let ns = pid_namespace();
        assert_ne!(ns, 0);
        assert_eq!(ns, pid_namespace());
    }
}
