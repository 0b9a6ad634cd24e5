//! A whole segment mapped without knowing its type, for `dump`: read-only
//! (`PROT_READ`, `SHM_RDONLY`), or read-write for `dump --lock` only.
//!
//! The size is checked with `fstat` before mapping and before every
//! snapshot. A truncation after that check would raise `SIGBUS` on the next
//! access; the tool's handler (installed once, for the one view a run
//! maps) replaces a lost page of the view with a private zero page, records
//! the truncation and lets the load run again: the snapshot then reads
//! zeros, and [`View::check`] turns it into an error. A fault outside
//! the view goes to the disposition that was there before.

use crate::Target;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The view's address range, for the handler (0: none).
static START: AtomicUsize = AtomicUsize::new(0);
static LEN: AtomicUsize = AtomicUsize::new(0);
/// Whether a page of the view was lost.
static TRUNCATED: AtomicBool = AtomicBool::new(false);
/// The disposition before ours. Written once, before the handler is
/// installed; read by the handler only.
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::zeroed();
static INSTALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an `SA_SIGINFO`
    // handler; `si_addr` is the faulting address for `SIGBUS`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let addr = unsafe { (*info).si_addr() } as usize;
    // SAFETY: as above.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let addr = unsafe { (*info).si_addr } as usize;
    let start = START.load(Ordering::Relaxed);
    let len = LEN.load(Ordering::Relaxed);
    if start != 0 && addr >= start && addr < start + len {
        // SAFETY: `sysconf` is async-signal-safe.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let at = addr & !(page - 1);
        // SAFETY: replaces one page of our own mapping (inside the view's
        // range) by an anonymous zero page, read-only: the faulting load
        // then reads zeros. `mmap` is a system call, safe in a handler.
        unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        TRUNCATED.store(true, Ordering::Relaxed);
        return;
    }
    // Not ours: the previous disposition handles the fault when it
    // happens again, on return.
    // SAFETY: `PREVIOUS` was written before this handler was installed
    // and is never written again; `sigaction` is async-signal-safe.
    unsafe {
        let previous = std::ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>();
        libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut());
    }
}

fn install() {
    if INSTALLED.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: `PREVIOUS` is written here only, once, before the handler
    // that reads it exists; `sigaction` with a valid action and out-pointer.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        let previous = std::ptr::addr_of_mut!(PREVIOUS).cast::<libc::sigaction>();
        libc::sigaction(libc::SIGBUS, &action, previous);
    }
}

/// Where the mapping came from, to check its size again and unmap it.
enum Backing {
    /// A POSIX object or a file (`mmap`).
    Fd(OwnedFd),
    /// A System V attachment (`shmat`; such a segment never shrinks).
    SysV,
}

/// A segment mapped whole from its byte 0.
pub struct View {
    ptr: *mut u8,
    len: usize,
    backing: Backing,
}

fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

impl View {
    /// Maps `target` whole, read-only unless `writable`; refuses an object
    /// shorter than `need` bytes (checked with `fstat` before mapping).
    pub fn open(target: &Target, writable: bool, need: u64, what: &str) -> Result<View, String> {
        let flags = if writable {
            libc::O_RDWR
        } else {
            libc::O_RDONLY
        };
        let fd = match target {
            Target::Posix(name) => {
                let c = CString::new(name.as_bytes())
                    .map_err(|_| format!("{what}: the name holds a NUL byte"))?;
                // SAFETY: a NUL-terminated name; no mode needed without O_CREAT.
                let fd = unsafe { libc::shm_open(c.as_ptr(), flags | libc::O_CLOEXEC, 0) };
                if fd < 0 {
                    return Err(os_error(&format!("opening {what}")));
                }
                // SAFETY: a descriptor this function just opened and owns.
                Some(unsafe { OwnedFd::from_raw_fd(fd) })
            }
            Target::File(path) => {
                let c = CString::new(path.as_os_str().as_bytes())
                    .map_err(|_| format!("{what}: the path holds a NUL byte"))?;
                // SAFETY: a NUL-terminated path.
                let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
                if fd < 0 {
                    return Err(os_error(&format!("opening {what}")));
                }
                // SAFETY: as above.
                Some(unsafe { OwnedFd::from_raw_fd(fd) })
            }
            Target::SysvKey(_) | Target::ShmId(_) => None,
        };
        let (ptr, len, backing) = match fd {
            Some(fd) => {
                let size = fd_size(&fd, what)?;
                if size < need {
                    return Err(format!(
                        "{what} is {size} bytes long, shorter than the {need} bytes its header \
                         describes: truncated"
                    ));
                }
                let len = usize::try_from(size)
                    .map_err(|_| format!("{what}: {size} bytes do not fit in memory"))?;
                let prot = if writable {
                    libc::PROT_READ | libc::PROT_WRITE
                } else {
                    libc::PROT_READ
                };
                // SAFETY: a new shared mapping of `len` bytes of an open
                // object at an address the kernel chooses.
                let ptr = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        len.max(1),
                        prot,
                        libc::MAP_SHARED,
                        fd.as_raw_fd(),
                        0,
                    )
                };
                if ptr == libc::MAP_FAILED {
                    return Err(os_error(&format!("mapping {what}")));
                }
                (ptr.cast::<u8>(), len, Backing::Fd(fd))
            }
            None => {
                let id = match target {
                    Target::SysvKey(key) => {
                        // SAFETY: looks up an existing segment; no creation.
                        let id = unsafe { libc::shmget(libc::key_t::from(key.get()), 0, 0) };
                        if id < 0 {
                            return Err(os_error(&format!("finding {what}")));
                        }
                        id
                    }
                    Target::ShmId(id) => *id,
                    _ => unreachable!("file-backed targets have a descriptor"),
                };
                // SAFETY: `shmid_ds` is plain data; IPC_STAT fills it.
                let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
                // SAFETY: a valid out-pointer.
                if unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) } != 0 {
                    return Err(os_error(&format!("reading the size of {what}")));
                }
                let len = ds.shm_segsz as usize;
                if (len as u64) < need {
                    return Err(format!(
                        "{what} is {len} bytes long, shorter than the {need} bytes its header \
                         describes"
                    ));
                }
                let flags = if writable { 0 } else { libc::SHM_RDONLY };
                // SAFETY: attaches the segment at an address the kernel chooses.
                let ptr = unsafe { libc::shmat(id, std::ptr::null(), flags) };
                if ptr as isize == -1 {
                    return Err(os_error(&format!("attaching {what}")));
                }
                (ptr.cast::<u8>(), len, Backing::SysV)
            }
        };
        install();
        TRUNCATED.store(false, Ordering::Relaxed);
        LEN.store(len, Ordering::Relaxed);
        START.store(ptr as usize, Ordering::Release);
        Ok(View { ptr, len, backing })
    }

    /// The first byte of the mapping.
    pub fn ptr(&self) -> *const u8 {
        self.ptr
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// An error if the object is now shorter than `need` bytes (checked
    /// before a snapshot), or if a page was lost since [`View::open`] (a
    /// snapshot read zeros instead).
    pub fn check(&self, need: u64, what: &str) -> Result<(), String> {
        if TRUNCATED.load(Ordering::Relaxed) {
            return Err(format!(
                "{what} was truncated while it was read (the lost pages read as zeros)"
            ));
        }
        if let Backing::Fd(fd) = &self.backing {
            let size = fd_size(fd, what)?;
            if size < need {
                return Err(format!(
                    "{what} is now {size} bytes long, shorter than the {need} bytes its header \
                     describes: truncated"
                ));
            }
        }
        Ok(())
    }
}

fn fd_size(fd: &OwnedFd, what: &str) -> Result<u64, String> {
    // SAFETY: `stat` is plain data, filled by `fstat` on an open descriptor.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(os_error(&format!("reading the size of {what}")));
    }
    Ok(st.st_size as u64)
}

impl Drop for View {
    fn drop(&mut self) {
        START.store(0, Ordering::Release);
        // SAFETY: unmaps (detaches) the mapping this view made, which no
        // reference outlives (the dump borrows the view).
        unsafe {
            match self.backing {
                Backing::Fd(_) => {
                    libc::munmap(self.ptr.cast(), self.len.max(1));
                }
                Backing::SysV => {
                    libc::shmdt(self.ptr.cast());
                }
            }
        }
    }
}
