//! Mappings: page size, mapping options, and the owned mapping that every
//! [`Shared`](crate::Shared) view sits on.

use crate::error::{Error, ErrorKind, Result};
use std::any::Any;
// The error of a truncated mapping is the SIGBUS handler's (below this
// file); the name stays here for the callers that say `map::`.
pub(crate) use crate::sigbus::truncated_error;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The size of a memory page in bytes, from `sysconf(_SC_PAGESIZE)`.
///
/// ```
/// let page = shm_runtime::page_size();
/// assert!(page.is_power_of_two() && page >= 4096);
/// ```
pub fn page_size() -> usize {
    // An atomic, not a `OnceLock`: a child forked while another thread was
    // filling a `OnceLock` would wait for it forever.
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let cached = PAGE.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .unwrap_or(4096);
    PAGE.store(size, Ordering::Relaxed);
    size
}

/// `len` rounded up to a whole number of `unit`s (a power of two), or `None`
/// on overflow.
pub(crate) fn round_up(len: usize, unit: usize) -> Option<usize> {
    debug_assert!(unit.is_power_of_two());
    Some(len.checked_add(unit - 1)? & !(unit - 1))
}

/// The size of an explicit huge page (`Hugepagesize` in `/proc/meminfo`),
/// 2 MiB when it cannot be read.
fn huge_page_size() -> usize {
    // An atomic rather than a `OnceLock`, as for `page_size`.
    static HUGE: AtomicUsize = AtomicUsize::new(0);
    let cached = HUGE.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    let size = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("Hugepagesize:"))?;
            let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
            kib.checked_mul(1024)
        })
        .filter(|size| *size > 0)
        .unwrap_or(2 << 20);
    HUGE.store(size, Ordering::Relaxed);
    size
}

/// Whether and how a mapping uses huge pages.
///
/// ```
/// use shm_runtime::{HugePages, MapOptions};
/// let options = MapOptions::new().huge_pages(HugePages::Transparent);
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HugePages {
    /// Ordinary pages (the default).
    #[default]
    Off,
    /// Ask the kernel for transparent huge pages (`madvise(MADV_HUGEPAGE)`).
    /// An error when the kernel has no transparent huge page support.
    Transparent,
    /// Explicit huge pages (`MAP_HUGETLB`); the size is rounded up to whole
    /// huge pages. An error of kind [`OutOfMemory`](ErrorKind::OutOfMemory)
    /// when none are reserved (`/proc/sys/vm/nr_hugepages`).
    Explicit,
    /// Explicit huge pages when reserved, else transparent ones when the
    /// kernel has them, else ordinary pages: never an error of its own.
    Prefer,
}

/// Options for new mappings: prefaulting, huge pages, locking in memory.
///
/// ```
/// use shm_runtime::{init, MapOptions, Shared};
/// use std::sync::atomic::AtomicU64;
///
/// let counters: Shared<[AtomicU64]> = MapOptions::new()
///     .prefault(true)
///     .anonymous(init::zeroed_slice(1024))?;
/// assert_eq!(counters.len(), 1024);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapOptions {
    pub(crate) prefault: bool,
    pub(crate) huge_pages: HugePages,
    pub(crate) lock: bool,
}

impl MapOptions {
    /// Default options: no prefault, ordinary pages, not locked.
    ///
    /// ```
    /// use shm_runtime::{HugePages, MapOptions};
    /// assert_eq!(MapOptions::new(), MapOptions::default());
    /// let counter = MapOptions::new().anonymous(0u64)?;
    /// assert_eq!(*counter, 0);
    /// # let _ = HugePages::Off;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn new() -> MapOptions {
        MapOptions::default()
    }

    /// Touch every page at creation (`MAP_POPULATE`, or `MADV_WILLNEED` for
    /// huge pages), so that first accesses do not fault.
    ///
    /// ```
    /// use shm_runtime::{init, MapOptions};
    /// // A latency-sensitive table: every page faulted in up front.
    /// let table = MapOptions::new().prefault(true).anonymous(init::zeroed_slice::<u64>(1 << 16))?;
    /// assert_eq!(table[65535], 0);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn prefault(mut self, prefault: bool) -> MapOptions {
        self.prefault = prefault;
        self
    }

    /// Use huge pages; see [`HugePages`].
    ///
    /// ```
    /// use shm_runtime::{init, HugePages, MapOptions};
    /// // Huge pages where the system has them, ordinary pages otherwise.
    /// let big = MapOptions::new()
    ///     .huge_pages(HugePages::Prefer)
    ///     .anonymous(init::zeroed_slice::<u8>(4 << 20))?;
    /// assert_eq!(big.len(), 4 << 20);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn huge_pages(mut self, huge_pages: HugePages) -> MapOptions {
        self.huge_pages = huge_pages;
        self
    }

    /// Lock the pages in memory (`mlock`): they are never swapped out. Fails
    /// with [`OutOfMemory`](ErrorKind::OutOfMemory) beyond `RLIMIT_MEMLOCK`.
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, MapOptions};
    /// match MapOptions::new().lock_in_memory(true).anonymous([0u8; 4096]) {
    ///     Ok(locked) => assert_eq!(locked[0], 0),
    ///     // Beyond this process's RLIMIT_MEMLOCK.
    ///     Err(e) => assert_eq!(e.kind(), ErrorKind::OutOfMemory),
    /// }
    /// ```
    pub fn lock_in_memory(mut self, lock: bool) -> MapOptions {
        self.lock = lock;
        self
    }
}

/// How a mapping is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    /// `munmap(ptr, len)`: anonymous memory.
    Munmap,
    /// `munmap(ptr, len)` of a mapping of a file or POSIX shared memory
    /// object, which `msync` can flush.
    MunmapFile,
    /// `shmdt(ptr)`: an attached System V segment.
    Shmdt,
    /// `std::alloc::dealloc(ptr, len, align)`: Miri's stand-in for an
    /// anonymous mapping (see `Mapping::miri_anonymous`).
    #[cfg(miri)]
    Dealloc {
        /// The alignment it was allocated with.
        align: usize,
    },
}

/// An owned range of mapped memory, released on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    release: Release,
    /// Its entry in the `SIGBUS` handler's registry (POSIX objects and
    /// files): left before the memory is unmapped.
    registration: Option<crate::sigbus::Registration>,
    // Dropped after the memory is released (fields drop after `Drop::drop`):
    // whatever the mapping's maker wants to outlive the memory (a segment
    // removes its name there, with `remove_on_drop`). Opaque: a mapping
    // knows nothing of names.
    owner: Option<Box<dyn Any + Send + Sync>>,
}

// SAFETY: a mapping is plain memory owned by this value; unmapping it from
// another thread is fine.
unsafe impl Send for Mapping {}
// SAFETY: `Mapping` exposes only its address and length through `&self`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// A new zero-filled shared anonymous mapping of at least `len` bytes,
    /// inherited by children after `fork`. `what` names it in errors.
    // Under Miri the code after the `return` is compiled but never run.
    #[cfg_attr(miri, allow(unreachable_code))]
    pub(crate) fn anonymous(len: usize, options: &MapOptions, what: &str) -> Result<Mapping> {
        let page = page_size();
        let len = round_up(len.max(1), page).ok_or_else(|| too_large(len, what))?;
        #[cfg(miri)]
        return Mapping::miri_anonymous(len, page, options, what);
        let base = libc::MAP_SHARED | libc::MAP_ANONYMOUS;
        let populate = if options.prefault {
            crate::platform::populate_flag(what)?
        } else {
            0
        };
        let mapping = match options.huge_pages {
            HugePages::Off => Mapping::map(len, base | populate, what)?,
            HugePages::Transparent => {
                let mapping = Mapping::map(len, base, what)?;
                mapping.advise(
                    crate::platform::madv_hugepage(what)?,
                    "transparent huge pages",
                    what,
                )?;
                mapping.prefault_if(options, what)?;
                mapping
            }
            HugePages::Explicit => Mapping::map_huge(len, base | populate, what)?,
            HugePages::Prefer => match Mapping::map_huge(len, base | populate, what) {
                Ok(mapping) => mapping,
                Err(_) => {
                    let mapping = Mapping::map(len, base, what)?;
                    // Best effort: without THP support the mapping stays on
                    // ordinary pages, which `Prefer` accepts.
                    if let Ok(advice) = crate::platform::madv_hugepage(what) {
                        let _ = mapping.advise(advice, "transparent huge pages", what);
                    }
                    mapping.prefault_if(options, what)?;
                    mapping
                }
            },
        };
        if options.lock {
            mapping.lock(what)?;
        }
        Ok(mapping)
    }

    /// Miri's stand-in for [`anonymous`](Mapping::anonymous): Miri runs no
    /// `mmap(MAP_SHARED)` (nor `fork`), and within one interpreted process
    /// ordinary zeroed memory, page-aligned and `len` bytes long (whole
    /// pages), behaves as an anonymous mapping does. The options that
    /// concern the kernel's paging: `prefault` and `lock_in_memory` change
    /// no contents and have nothing to act on in the interpreter, so they
    /// are no-ops; `HugePages::Prefer` falls back to ordinary pages as its
    /// contract allows; `HugePages::Transparent` and `Explicit`, which report
    /// a kernel that lacks them, are `Unsupported`. Sizes the interpreter
    /// could not hold (beyond 4 GiB) are `OutOfMemory`, as `mmap` refuses
    /// what the machine cannot back, instead of aborting the interpreter.
    #[cfg(miri)]
    fn miri_anonymous(
        len: usize,
        page: usize,
        options: &MapOptions,
        what: &str,
    ) -> Result<Mapping> {
        match options.huge_pages {
            HugePages::Off | HugePages::Prefer => {}
            HugePages::Transparent | HugePages::Explicit => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("mapping {what} on huge pages: not available under Miri"),
                ))
            }
        }
        if len as u64 > 1 << 32 {
            return Err(Error::new(
                ErrorKind::OutOfMemory,
                format!("mapping {len} bytes for {what}: more than Miri is given to hold"),
            ));
        }
        let layout =
            std::alloc::Layout::from_size_align(len, page).map_err(|_| too_large(len, what))?;
        // SAFETY: `layout` has a non-zero size (`len` is at least one page).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).ok_or_else(|| {
            Error::new(
                ErrorKind::OutOfMemory,
                format!("allocating {len} bytes for {what}"),
            )
        })?;
        Ok(Mapping {
            ptr,
            len,
            release: Release::Dealloc { align: page },
            registration: None,
            owner: None,
        })
    }

    fn map_huge(len: usize, flags: libc::c_int, what: &str) -> Result<Mapping> {
        let len = round_up(len, huge_page_size()).ok_or_else(|| too_large(len, what))?;
        Mapping::map(len, flags | crate::platform::map_hugetlb(what)?, what).map_err(|e| {
            match e.kind() {
                ErrorKind::OutOfMemory => Error::new(
                    ErrorKind::OutOfMemory,
                    format!(
                        "mapping {what} on explicit huge pages: none free (reserve some in \
                     /proc/sys/vm/nr_hugepages, or use HugePages::Prefer)"
                    ),
                ),
                _ => e,
            }
        })
    }

    fn map(len: usize, flags: libc::c_int, what: &str) -> Result<Mapping> {
        // SAFETY: a new anonymous mapping at an address the kernel chooses
        // touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::last_os(format!("mapping {len} bytes for {what}")));
        }
        Ok(Mapping {
            ptr: NonNull::new(ptr.cast()).expect("mmap never returns null on success"),
            len,
            release: Release::Munmap,
            registration: None,
            owner: None,
        })
    }

    /// Maps `len` bytes of the file or shared memory object `fd` from
    /// `offset` (a multiple of the page size) on (`MAP_SHARED`), readable,
    /// and writable when `writable`. The caller has checked that the object
    /// is at least `offset + len` bytes long: pages past its end would raise
    /// `SIGBUS` when touched.
    pub(crate) fn from_fd(
        fd: &Arc<OwnedFd>,
        offset: usize,
        len: usize,
        writable: bool,
        options: &MapOptions,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Mapping> {
        let len = len.max(1);
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let populate = if options.prefault {
            crate::platform::populate_flag(&what.to_string())?
        } else {
            0
        };
        let file_offset =
            libc::off_t::try_from(offset).map_err(|_| too_large(offset, &what.to_string()))?;
        if options.huge_pages == HugePages::Explicit {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "mapping {what} on explicit huge pages: a named or file segment uses the \
                     pages of its file system (put the file on a hugetlbfs mount instead, or \
                     use HugePages::Transparent or Prefer)"
                ),
            ));
        }
        // SAFETY: a new shared mapping of `fd` at an address the kernel
        // chooses touches no existing memory of this process.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED | populate,
                fd.as_raw_fd(),
                file_offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::last_os(format!("mapping {len} bytes of {what}")));
        }
        // Registered before anything reads the mapping (an open checks the
        // payload next): from now on a truncation by another process is
        // survived, not a `SIGBUS` that kills this one.
        let registration = crate::sigbus::register(
            ptr as usize,
            round_up(len, page_size()).unwrap_or(len),
            fd,
            offset,
            prot,
            page_size(),
        );
        let mapping = Mapping {
            ptr: NonNull::new(ptr.cast()).expect("mmap never returns null on success"),
            len,
            release: Release::MunmapFile,
            registration,
            owner: None,
        };
        mapping.finish_options(options, what)?;
        Ok(mapping)
    }

    /// Attaches the System V segment `shmid` (of `len` bytes, as `IPC_STAT`
    /// reported), read-only unless `writable`.
    pub(crate) fn attach_sysv(
        shmid: libc::c_int,
        len: usize,
        writable: bool,
        options: &MapOptions,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Mapping> {
        let flags = if writable { 0 } else { libc::SHM_RDONLY };
        // SAFETY: attaching at an address the kernel chooses touches no
        // existing memory of this process.
        let ptr = unsafe { libc::shmat(shmid, std::ptr::null(), flags) };
        if ptr as isize == -1 {
            return Err(Error::last_os(format!("attaching {what}")));
        }
        let mapping = Mapping {
            ptr: NonNull::new(ptr.cast()).expect("shmat never returns null on success"),
            len: len.max(1),
            release: Release::Shmdt,
            registration: None,
            owner: None,
        };
        if options.huge_pages == HugePages::Explicit {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "mapping {what} on explicit huge pages: not supported for System V segments"
                ),
            ));
        }
        mapping.finish_options(options, what)?;
        Ok(mapping)
    }

    fn finish_options(
        &self,
        options: &MapOptions,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<()> {
        match options.huge_pages {
            HugePages::Transparent => {
                let what = &what.to_string();
                self.advise(
                    crate::platform::madv_hugepage(what)?,
                    "transparent huge pages",
                    what,
                )?
            }
            HugePages::Prefer => {
                // Best effort, as for anonymous mappings.
                let what = &what.to_string();
                if let Ok(advice) = crate::platform::madv_hugepage(what) {
                    let _ = self.advise(advice, "transparent huge pages", what);
                }
            }
            HugePages::Off | HugePages::Explicit => {}
        }
        if options.prefault && self.release == Release::Shmdt {
            self.advise(libc::MADV_WILLNEED, "prefaulting", &what.to_string())?;
        }
        if options.lock {
            self.lock(&what.to_string())?;
        }
        Ok(())
    }

    /// Keeps `owner` until this mapping is dropped, and drops it after the
    /// memory is released (a segment's name remover, say).
    pub(crate) fn set_owner(&mut self, owner: impl Any + Send + Sync) {
        self.owner = Some(Box::new(owner));
    }

    /// Writes modified pages back to the file: `msync` with `MS_SYNC` (waits
    /// for the write) or `MS_ASYNC` (schedules it). Anonymous and System V
    /// memory has no file behind it: nothing to do.
    pub(crate) fn flush(&self, wait: bool, what: &str) -> Result<()> {
        if self.release != Release::MunmapFile {
            return Ok(());
        }
        self.check_not_truncated(what)?;
        let flags = if wait { libc::MS_SYNC } else { libc::MS_ASYNC };
        // SAFETY: the range is exactly this live, page-aligned mapping;
        // `msync` does not change its contents.
        if unsafe { libc::msync(self.ptr.as_ptr().cast(), self.len, flags) } != 0 {
            return Err(Error::last_os(format!("flushing {what} to its file")));
        }
        Ok(())
    }

    fn advise(&self, advice: libc::c_int, purpose: &str, what: &str) -> Result<()> {
        // SAFETY: the range is exactly this live mapping; advice changes
        // paging behaviour, not contents (no MADV_DONTNEED/FREE is passed).
        let rc = unsafe { libc::madvise(self.ptr.as_ptr().cast(), self.len, advice) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            let kind = if err.raw_os_error() == Some(libc::EINVAL) {
                ErrorKind::Unsupported
            } else {
                ErrorKind::Os
            };
            return Err(Error::os_with_kind(
                kind,
                format!("asking for {purpose} for {what}"),
                err,
            ));
        }
        Ok(())
    }

    fn prefault_if(&self, options: &MapOptions, what: &str) -> Result<()> {
        if options.prefault {
            self.advise(libc::MADV_WILLNEED, "prefaulting", what)?;
            // MADV_WILLNEED only schedules reads for anonymous memory: touch
            // one byte per page so every page is really present.
            let page = page_size();
            for offset in (0..self.len).step_by(page) {
                // SAFETY: `offset < len`, inside this mapping; a volatile
                // read of a zero-filled page does not race with anyone since
                // the mapping is not shared yet.
                unsafe { std::ptr::read_volatile(self.ptr.as_ptr().add(offset)) };
            }
        }
        Ok(())
    }

    fn lock(&self, what: &str) -> Result<()> {
        // SAFETY: locks the pages of this live mapping; no memory changes.
        if unsafe { libc::mlock(self.ptr.as_ptr().cast(), self.len) } != 0 {
            let err = io::Error::last_os_error();
            return Err(Error::os_with_kind(
                ErrorKind::OutOfMemory,
                format!(
                    "locking {} bytes of {what} in memory (see RLIMIT_MEMLOCK)",
                    self.len
                ),
                err,
            ));
        }
        Ok(())
    }

    /// The first byte of the mapping.
    pub(crate) fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    /// The mapped length in bytes (whole pages).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether another process truncated the object and this mapping's
    /// lost pages were replaced by private zero pages (see [`crate::sigbus`]).
    pub(crate) fn truncated(&self) -> bool {
        self.registration.as_ref().is_some_and(|r| r.truncated())
    }

    /// A [`Truncated`](ErrorKind::Truncated) error if [`truncated`](Self::truncated).
    pub(crate) fn check_not_truncated(&self, what: &str) -> Result<()> {
        if self.truncated() {
            return Err(truncated_error(what));
        }
        Ok(())
    }

    /// Declares that zero bytes are no valid value of what is viewed through
    /// this mapping from now on; false if it was truncated already.
    pub(crate) fn forbid_zeros(&self) -> bool {
        self.registration.as_ref().is_none_or(|r| r.forbid_zeros())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Out of the registry first: the handler never maps over a range
        // that is no longer ours.
        drop(self.registration.take());
        match self.release {
            Release::Munmap | Release::MunmapFile => {
                // SAFETY: `ptr..ptr+len` is a mapping this value owns; every
                // reference into it borrows the `Shared` that owns this value,
                // so none outlives it.
                unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
            }
            Release::Shmdt => {
                // SAFETY: `ptr` is the address `shmat` returned for this
                // value, attached once; no reference into it outlives it, as
                // above.
                unsafe { libc::shmdt(self.ptr.as_ptr().cast()) };
            }
            #[cfg(miri)]
            Release::Dealloc { align } => {
                // SAFETY: `ptr` was allocated by `miri_anonymous` with this
                // size and alignment (a valid layout, checked there), and no
                // reference into it outlives this value, as above.
                unsafe {
                    std::alloc::dealloc(
                        self.ptr.as_ptr(),
                        std::alloc::Layout::from_size_align_unchecked(self.len, align),
                    )
                };
            }
        }
    }
}

pub(crate) fn too_large(len: usize, what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidSize,
        format!("mapping {what}: {len} bytes is more than the address space can hold"),
    )
}
