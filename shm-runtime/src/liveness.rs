//! Whether another process is alive, and whether its pid means anything here.

use std::sync::atomic::{AtomicU64, Ordering};

/// Whether process `pid` exists (`kill(pid, 0)`: only `ESRCH` means gone; a
/// process of another user, or a zombie not yet reaped, still exists).
pub(crate) fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
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
    fn the_namespace_is_known_and_stable() {
        let ns = pid_namespace();
        assert_ne!(ns, 0);
        assert_eq!(ns, pid_namespace());
    }
}
