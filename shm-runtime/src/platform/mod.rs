//! What differs between the Unixes this crate builds for, behind small
//! functions with one interface: the rest of the crate calls these and holds
//! no `cfg(target_os)` of its own for these concerns.
//!
//! | concern | Linux | FreeBSD | macOS |
//! |---|---|---|---|
//! | shared address waits ([`wait`]) | `futex` | `_umtx_op` | `os_sync_wait_on_address` (14.4+), else `__ulock_wait` |
//! | thread id ([`thread_id`]) | `gettid` (per PID namespace) | `thr_self` (system-wide, from 100000 up) | `pthread_threadid_np` (64-bit, system-wide) |
//! | process start time and state ([`process`]) | `/proc/<pid>/stat` (in `sync::owner`) | `sysctl(KERN_PROC_PID)` | `proc_pidinfo(PROC_PIDTBSDINFO)` |
//! | PID namespace ([`pid_namespace`]) | `/proc/self/ns/pid` | the jail id (pids are global, but a jail sees only its own) | none: a constant |
//! | `errno` ([`errno_location`]) | `__errno_location` | `__error` | `__error` |
//! | prefaulting ([`populate_flag`]) | `MAP_POPULATE` | `MAP_PREFAULT_READ` | `Unsupported` |
//! | huge pages ([`madv_hugepage`], [`map_hugetlb`]) | `MADV_HUGEPAGE`, `MAP_HUGETLB` | `Unsupported` (superpages are automatic) | `Unsupported` |
//! | reserving ([`reserve`]) | `posix_fallocate` | `posix_fallocate` | files: `F_PREALLOCATE`; shm objects need none (memory objects) |
//! | asymmetric fences between processes ([`barrier`]) | `membarrier` (4.16+) | none: full fences | none: full fences |
//! | POSIX shm names ([`SHM_NAME_MAX`]) | 255 bytes | 255 bytes (kept to Linux's) | 31 bytes (`PSHMNAMLEN`) |
//!
//! Only Linux runs here: the FreeBSD and macOS branches are written against
//! those systems' manuals and headers and checked by the compiler and
//! clippy, not run.

pub(crate) mod barrier;
pub(crate) mod wait;

use crate::error::{Error, ErrorKind, Result};

/// The calling thread's `errno`, to save and restore it in a signal
/// handler. `None` on a Unix this crate knows no `errno` symbol of.
pub(crate) fn errno_location() -> Option<*mut libc::c_int> {
    #[cfg(target_os = "linux")]
    // SAFETY: returns the address of this thread's errno; no preconditions.
    let at = Some(unsafe { libc::__errno_location() });
    #[cfg(any(target_os = "macos", target_os = "freebsd"))]
    // SAFETY: as above.
    let at = Some(unsafe { libc::__error() });
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
    let at = None;
    at
}

/// The `si_code` values of a `SIGBUS` that a truncated mapping raises: a
/// nonexistent physical address (`BUS_ADRERR`), and on the BSDs also an
/// object-specific error (`BUS_OBJERR`, what FreeBSD's `vm_fault` reports
/// for a page past the end of its object). The handler still checks the
/// object's size before it calls any fault a truncation.
pub(crate) fn is_truncation_code(code: libc::c_int) -> bool {
    #[cfg(target_os = "linux")]
    let truncation = code == libc::BUS_ADRERR;
    // <sys/signal.h> of FreeBSD and of macOS: BUS_ADRERR 2, BUS_OBJERR 3
    // (`libc` binds neither there).
    #[cfg(not(target_os = "linux"))]
    let truncation = code == 2 || code == 3;
    truncation
}

/// The OS id of the calling thread, for diagnostics (owner records): Linux
/// `gettid` (unique within the PID namespace, 22 bits at most), FreeBSD
/// `thr_self` (system-wide, from 100001 up), macOS `pthread_threadid_np`
/// (64 bits, system-wide, never reused while the system runs). 0 where the
/// system has none this crate knows.
pub(crate) fn thread_id() -> u64 {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u64;
    #[cfg(target_os = "freebsd")]
    let tid = {
        let mut tid: libc::c_long = 0;
        // SAFETY: `tid` is a valid out-pointer.
        unsafe { libc::thr_self(&mut tid) };
        tid as u64
    };
    #[cfg(target_os = "macos")]
    let tid = {
        let mut tid: u64 = 0;
        // SAFETY: a null thread means the calling one; `tid` is a valid
        // out-pointer.
        unsafe { libc::pthread_threadid_np(0, &mut tid) };
        tid
    };
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
    let tid = 0;
    tid
}

/// `shm_open(name, flags, mode)`: the mode is a `mode_t` on Linux and
/// FreeBSD and a variadic argument (promoted to `unsigned int`) on macOS.
///
/// # Safety
/// `name` points to a NUL-terminated string.
pub(crate) unsafe fn shm_open(
    name: *const libc::c_char,
    flags: libc::c_int,
    mode: u32,
) -> libc::c_int {
    #[cfg(target_os = "macos")]
    // SAFETY: the caller passes a NUL-terminated name.
    let fd = unsafe { libc::shm_open(name, flags, mode as libc::c_uint) };
    #[cfg(not(target_os = "macos"))]
    // SAFETY: as above.
    let fd = unsafe { libc::shm_open(name, flags, mode as libc::mode_t) };
    fd
}

/// The longest POSIX shared memory name, with its leading `/`: 255 bytes
/// on Linux (a file name in `/dev/shm`) and FreeBSD (which would take up to
/// `MAXPATHLEN`; names stay portable to Linux), 31 on macOS (`PSHMNAMLEN`:
/// a longer name fails there with `ENAMETOOLONG`).
#[cfg(not(target_os = "macos"))]
pub(crate) const SHM_NAME_MAX: usize = 255;
/// See the other definition.
#[cfg(target_os = "macos")]
pub(crate) const SHM_NAME_MAX: usize = 31;

/// The `mmap` flag that prefaults a mapping: Linux `MAP_POPULATE`; FreeBSD
/// `MAP_PREFAULT_READ` (maps the object's resident pages at once: a segment
/// another process filled; a new anonymous mapping still faults on first
/// touch); on macOS an [`Unsupported`](ErrorKind::Unsupported) error.
pub(crate) fn populate_flag(what: &str) -> Result<libc::c_int> {
    #[cfg(target_os = "linux")]
    let flag = Some(libc::MAP_POPULATE);
    #[cfg(target_os = "freebsd")]
    let flag = Some(libc::MAP_PREFAULT_READ);
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    let flag = None;
    flag.ok_or_else(|| unsupported(what, "prefaulting (`MAP_POPULATE`)", "Linux and FreeBSD"))
}

/// The `madvise` advice for transparent huge pages (Linux
/// `MADV_HUGEPAGE`); elsewhere an [`Unsupported`](ErrorKind::Unsupported)
/// error (FreeBSD promotes to superpages by itself; macOS has none for
/// user mappings).
pub(crate) fn madv_hugepage(what: &str) -> Result<libc::c_int> {
    #[cfg(target_os = "linux")]
    let advice = Some(libc::MADV_HUGEPAGE);
    #[cfg(not(target_os = "linux"))]
    let advice = None;
    advice.ok_or_else(|| unsupported(what, "transparent huge pages", "Linux"))
}

/// The `mmap` flag for explicit huge pages (Linux `MAP_HUGETLB`); elsewhere
/// an [`Unsupported`](ErrorKind::Unsupported) error.
pub(crate) fn map_hugetlb(what: &str) -> Result<libc::c_int> {
    #[cfg(target_os = "linux")]
    let flag = Some(libc::MAP_HUGETLB);
    #[cfg(not(target_os = "linux"))]
    let flag = None;
    flag.ok_or_else(|| unsupported(what, "explicit huge pages (`MAP_HUGETLB`)", "Linux"))
}

fn unsupported(what: &str, feature: &str, where_: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("mapping {what} with {feature}: supported on {where_} only"),
    )
}

/// Reserves the blocks of the first `len` bytes of `fd` (already sized):
/// `posix_fallocate` on Linux and FreeBSD. Returns 0 or an error number, as
/// `posix_fallocate` does; `EOPNOTSUPP` when the object cannot reserve.
///
/// macOS has no `posix_fallocate`. Its POSIX shared memory objects are
/// memory objects with no file system that could fill up (and `ftruncate`
/// sizes them once, for good): nothing to reserve, `EOPNOTSUPP`. A regular
/// file gets `fcntl(F_PREALLOCATE, F_ALLOCATEALL)` from its physical end.
pub(crate) fn reserve(fd: std::os::fd::BorrowedFd<'_>, len: libc::off_t) -> libc::c_int {
    use std::os::fd::AsRawFd;
    #[cfg(not(target_os = "macos"))]
    // SAFETY: `fd` is open; `posix_fallocate` allocates blocks for the
    // range and returns an error number instead of setting errno.
    let rc = unsafe { libc::posix_fallocate(fd.as_raw_fd(), 0, len) };
    #[cfg(target_os = "macos")]
    let rc = {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `fd` is open; `st` is a valid out-pointer.
        if unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } != 0 {
            return std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
        }
        // SAFETY: `fstat` succeeded.
        if unsafe { st.assume_init() }.st_mode & libc::S_IFMT != libc::S_IFREG {
            return libc::EOPNOTSUPP;
        }
        let mut store = libc::fstore_t {
            fst_flags: libc::F_ALLOCATEALL,
            fst_posmode: libc::F_PEOFPOSMODE,
            fst_offset: 0,
            fst_length: len,
            fst_bytesalloc: 0,
        };
        // SAFETY: `fd` is an open regular file; `store` is a valid fstore_t.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_PREALLOCATE, &mut store) } == -1 {
            return std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
        }
        0
    };
    rc
}

/// The number of threads of this process: `None` when the system cannot
/// tell (Linux reads `/proc` itself, in `process`).
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) fn thread_count() -> Option<usize> {
    #[cfg(target_os = "freebsd")]
    // SAFETY: getpid has no preconditions.
    let count = process::kinfo(unsafe { libc::getpid() })
        .and_then(|kp| usize::try_from(kp.ki_numthreads).ok());
    #[cfg(target_os = "macos")]
    let count = {
        // SAFETY: as above.
        let pid = unsafe { libc::getpid() };
        let mut info = std::mem::MaybeUninit::<libc::proc_taskinfo>::zeroed();
        let size = std::mem::size_of::<libc::proc_taskinfo>() as libc::c_int;
        // SAFETY: `info` is a writable buffer of `size` bytes.
        let n = unsafe {
            libc::proc_pidinfo(
                pid,
                libc::PROC_PIDTASKINFO,
                0,
                info.as_mut_ptr().cast(),
                size,
            )
        };
        // SAFETY: proc_pidinfo filled it (and zeroed bytes are valid).
        (n == size)
            .then(|| usize::try_from(unsafe { info.assume_init() }.pti_threadnum).ok())
            .flatten()
    };
    #[cfg(not(any(target_os = "macos", target_os = "freebsd")))]
    let count = None;
    count
}

/// 8 random bytes from the system (`getrandom`, `getentropy`), `None` when
/// it has none to give.
pub(crate) fn random_u64() -> Option<u64> {
    let mut bytes = [0u8; 8];
    #[cfg(target_os = "linux")]
    // SAFETY: writes at most 8 bytes into `bytes`.
    let ok = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) } == 8;
    #[cfg(any(target_os = "macos", target_os = "freebsd"))]
    // SAFETY: as above.
    let ok = unsafe { libc::getentropy(bytes.as_mut_ptr().cast(), bytes.len()) } == 0;
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
    let ok = false;
    ok.then(|| u64::from_ne_bytes(bytes))
}

/// This process's PID namespace, as `liveness::pid_namespace` keys it, on
/// the systems without `/proc/self/ns/pid`: FreeBSD's jail id plus 2 (a
/// jail sees only its own processes, so a pid is judged only between
/// processes of one jail); on macOS, which has no PID namespaces, the
/// constant 2. `None` when unknown.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pid_namespace() -> Option<u64> {
    #[cfg(target_os = "freebsd")]
    // SAFETY: getpid has no preconditions.
    let ns = process::kinfo(unsafe { libc::getpid() })
        .and_then(|kp| u64::try_from(kp.ki_jid).ok())
        .map(|jid| jid + 2);
    #[cfg(not(target_os = "freebsd"))]
    let ns = Some(2);
    ns
}

#[cfg(not(target_os = "linux"))]
pub(crate) mod process {
    //! What became of a process, on the systems without `/proc`.

    /// A process as the system describes it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum State {
        /// No process has this id.
        Gone,
        /// It ended and awaits being reaped (every thread of it ended).
        Zombie,
        /// It exists, started at this many milliseconds (since boot on
        /// FreeBSD; of the wall clock when it started, as the system
        /// recorded it then, on macOS: a value that never changes while
        /// the process lives).
        Alive(u64),
        /// It exists (or may), but its start could not be read.
        Unknown,
    }

    /// The state and start time of process `pid`.
    pub(crate) fn state(pid: u32) -> State {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return State::Gone;
        };
        if pid <= 0 {
            return State::Gone;
        }
        imp(pid)
    }

    #[cfg(target_os = "freebsd")]
    fn imp(pid: libc::pid_t) -> State {
        // `ki_start` is the process's start on the uptime clock plus the
        // boot time, which moves when the clock is set: subtract the boot
        // time read around it, so the value stays the same while the
        // process lives.
        for _ in 0..3 {
            let Some(before) = boot_time() else {
                return State::Unknown;
            };
            let Some(kp) = kinfo(pid) else {
                return if std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
                    State::Gone
                } else {
                    State::Unknown
                };
            };
            let same =
                |tv: libc::timeval| (tv.tv_sec, tv.tv_usec) == (before.tv_sec, before.tv_usec);
            if !boot_time().is_some_and(same) {
                continue;
            }
            if kp.ki_stat == libc::SZOMB {
                return State::Zombie;
            }
            let start = micros(&kp.ki_start) - micros(&before);
            return State::Alive(u64::try_from(start / 1000).unwrap_or(0));
        }
        State::Unknown
    }

    #[cfg(target_os = "freebsd")]
    #[allow(clippy::useless_conversion)] // time_t and suseconds_t vary by target
    fn micros(tv: &libc::timeval) -> i64 {
        i64::from(tv.tv_sec) * 1_000_000 + i64::from(tv.tv_usec)
    }

    /// `kern.boottime`.
    #[cfg(target_os = "freebsd")]
    fn boot_time() -> Option<libc::timeval> {
        let mut mib = [libc::CTL_KERN, libc::KERN_BOOTTIME];
        let mut tv = std::mem::MaybeUninit::<libc::timeval>::zeroed();
        let mut len = std::mem::size_of::<libc::timeval>();
        // SAFETY: `mib` names a sysctl whose value is a timeval; `tv` is a
        // writable buffer of `len` bytes.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                mib.len() as libc::c_uint,
                tv.as_mut_ptr().cast(),
                &mut len,
                std::ptr::null(),
                0,
            )
        };
        // SAFETY: filled by the kernel (and zeroed bytes are valid).
        (rc == 0 && len == std::mem::size_of::<libc::timeval>())
            .then(|| unsafe { tv.assume_init() })
    }

    /// `sysctl(CTL_KERN, KERN_PROC, KERN_PROC_PID, pid)`: `None` (with
    /// errno set, ESRCH for no such process) when it fails.
    #[cfg(target_os = "freebsd")]
    pub(crate) fn kinfo(pid: libc::pid_t) -> Option<libc::kinfo_proc> {
        let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
        let mut kp = std::mem::MaybeUninit::<libc::kinfo_proc>::zeroed();
        let mut len = std::mem::size_of::<libc::kinfo_proc>();
        // SAFETY: `mib` names the process's kinfo_proc; `kp` is a writable
        // buffer of `len` bytes.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                mib.len() as libc::c_uint,
                kp.as_mut_ptr().cast(),
                &mut len,
                std::ptr::null(),
                0,
            )
        };
        // SAFETY: filled by the kernel (and zeroed bytes are valid).
        (rc == 0 && len == std::mem::size_of::<libc::kinfo_proc>())
            .then(|| unsafe { kp.assume_init() })
    }

    #[cfg(target_os = "macos")]
    fn imp(pid: libc::pid_t) -> State {
        let mut info = std::mem::MaybeUninit::<libc::proc_bsdinfo>::zeroed();
        let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
        // SAFETY: `info` is a writable buffer of `size` bytes.
        // PROC_PIDTBSDINFO also describes zombies.
        let n = unsafe {
            libc::proc_pidinfo(
                pid,
                libc::PROC_PIDTBSDINFO,
                0,
                info.as_mut_ptr().cast(),
                size,
            )
        };
        if n != size {
            // SAFETY: signal 0 only checks that the process exists.
            let gone = unsafe { libc::kill(pid, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            return if gone { State::Gone } else { State::Unknown };
        }
        // SAFETY: filled by the kernel (and zeroed bytes are valid).
        let info = unsafe { info.assume_init() };
        if info.pbi_status == libc::SZOMB {
            return State::Zombie;
        }
        State::Alive(info.pbi_start_tvsec * 1000 + info.pbi_start_tvusec / 1000)
    }

    #[cfg(not(any(target_os = "freebsd", target_os = "macos")))]
    fn imp(_pid: libc::pid_t) -> State {
        State::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each thread has its own nonzero id (on the systems that have one).
    #[test]
    fn threads_have_distinct_ids() {
        let here = thread_id();
        let there = std::thread::spawn(thread_id).join().unwrap();
        if cfg!(any(
            target_os = "linux",
            target_os = "macos",
            target_os = "freebsd"
        )) {
            assert_ne!(here, 0);
            assert_ne!(there, 0);
        }
        assert_ne!(here, there);
        assert_eq!(here, thread_id());
    }

    /// The saved and restored errno is this thread's.
    #[test]
    fn errno_location_is_this_threads_errno() {
        let at = errno_location().expect("known on the tested systems");
        // SAFETY: this thread's errno, written and read by this thread.
        unsafe { *at = libc::EINTR };
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR)
        );
    }

    /// What Linux has is there; what it lacks elsewhere is a typed
    /// `Unsupported` error, never a compile error.
    #[test]
    fn mapping_features_are_flags_or_unsupported() {
        for result in [populate_flag("x"), madv_hugepage("x"), map_hugetlb("x")] {
            match result {
                Ok(flag) => assert_ne!(flag, 0),
                Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported),
            }
        }
        if cfg!(target_os = "linux") {
            assert!(populate_flag("x").is_ok() && map_hugetlb("x").is_ok());
            assert_eq!(SHM_NAME_MAX, 255);
        }
        assert!(
            is_truncation_code(2),
            "BUS_ADRERR is 2 on every system here"
        );
        assert!(!is_truncation_code(1), "BUS_ADRALN is no truncation");
    }

    #[test]
    #[cfg_attr(miri, ignore = "asks the kernel for random bytes")]
    fn random_words_come_from_the_system() {
        let (a, b) = (random_u64(), random_u64());
        assert!(a.is_some() && a != b, "two draws of 64 random bits differ");
    }
}
