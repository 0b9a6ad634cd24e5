//! [`Creator`]: whether the process recorded in a header is alive, judged
//! by pid, PID namespace and process start time.

#[cfg(not(target_os = "linux"))]
use crate::liveness::pid_alive;
use crate::liveness::pid_namespace;

/// What is known of a creator pid recorded in a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Creator {
    /// The process runs (a zombie, dead but not yet reaped, does not).
    Alive,
    /// Recorded in this process's PID namespace, and gone.
    Dead,
    /// Recorded in another PID namespace (or before the namespace was
    /// recorded): its pid means nothing here.
    Unknown,
}

/// Whether creator `pid`, recorded with PID namespace `ns` (0: not yet
/// recorded), is alive, dead, or cannot be known from this process.
pub(crate) fn creator_status(pid: u32, ns: u64) -> Creator {
    creator_liveness(pid, ns, 0, 0)
}

/// Like [`creator_status`], also judging by the creator's recorded process
/// `start` time (0: unknown), relative to the namespaces of `key` (0:
/// unknown): a running process with the creator's pid but another start
/// time is a new process that reused the pid, and the creator is dead.
/// Start times are compared only when both were read in one PID and time
/// namespace; otherwise only the pid's existence is judged, so a reused pid
/// can make a dead creator look alive (never the reverse).
pub(crate) fn creator_liveness(pid: u32, ns: u64, start: u64, key: u64) -> Creator {
    if ns == 0 || ns != pid_namespace() {
        return Creator::Unknown;
    }
    #[cfg(target_os = "linux")]
    {
        use crate::sync::owner::{me, status, Status};
        let me = me();
        match status(pid, me.proc_ok) {
            Status::Gone | Status::Zombie => Creator::Dead,
            Status::Alive(Some(now))
                if start != 0
                    && key != 0
                    && me.starts_comparable
                    && key == me.ns
                    && u64::from(now) != start =>
            {
                Creator::Dead
            }
            Status::Alive(_) => Creator::Alive,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (start, key);
        if pid_alive(pid) {
            Creator::Alive
        } else {
            Creator::Dead
        }
    }
}

/// This process's start time and the key of the namespaces it is relative
/// to, as a header records them; `(0, 0)` where they cannot be known
/// comparably (no `/proc`, an unknown time namespace, other platforms).
pub(super) fn process_start() -> (u64, u64) {
    #[cfg(target_os = "linux")]
    {
        let me = crate::sync::owner::me();
        if me.starts_comparable {
            return (u64::from(me.process_start), me.ns);
        }
    }
    (0, 0)
}
