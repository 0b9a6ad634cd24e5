//! Surviving the truncation of a mapped POSIX object or file.
//!
//! Any process of the same user can shrink a segment's object (`ftruncate`)
//! while others map it; touching a page past the new end raises `SIGBUS`,
//! which kills the process. Like Linux compositors with their clients'
//! buffers (libwayland-server's `wl_shm_buffer_begin_access`), this crate
//! installs a `SIGBUS` handler that, for such a fault inside one of its
//! mappings, maps private zero pages over the lost range (`MAP_FIXED`),
//! marks the mapping truncated, and lets the program go on:
//!
//! * only a truncation is handled: `si_code == BUS_ADRERR` (on FreeBSD and
//!   macOS also `BUS_OBJERR`, which they report for a page past the end of
//!   its object) and the address
//!   past the object's current size (`fstat`, async-signal-safe). Any other
//!   `SIGBUS` (a full file system, an I/O error, a hardware memory error
//!   `BUS_MCEERR_*`, a fault outside this crate's mappings) goes to the
//!   handler that was installed before this one (std's stack-overflow
//!   handler, or the program's), or to the default action: never hidden
//!   under zeros. A fault that finds the object long enough again (a
//!   truncation undone at once) is retried, up to `MAX_RETRIES` (64) times in
//!   a row at one address (a writer that truncates and restores in a loop
//!   can undo each truncation before the handler looks; a full file system
//!   faults again every time and is passed on after those retries);
//! * the zero pages are private: the mapping no longer shares anything.
//!   Plain reads of it return zeros, writes stay in this process, and every
//!   checked operation on it ([`Shared::flush`](crate::Shared::flush),
//!   [`Shared::is_truncated`](crate::Shared::is_truncated)) reports
//!   [`Truncated`](crate::ErrorKind::Truncated);
//! * zero bytes must be a valid value of what is mapped there. For a typed
//!   view of a `T` some part of which takes no all-zero value (a
//!   `NonZeroU32`, an enum without a 0 variant, at any depth, the value of
//!   a lock or of a queue's slots included, since a reference into it may
//!   be alive), nothing sound is possible once its bytes are gone: the
//!   handler aborts the process with a message instead;
//! * the registry of mappings is lock-free (the handler only loads atomics
//!   and calls `fstat` and `mmap`), and a mapping leaves it before it is
//!   unmapped, waiting for any handler still using its entry: `MAP_FIXED`
//!   is never applied to a range that is no longer ours.
//!
//! The handler is installed with the first mapping of a POSIX object or
//! file (before an open checks the payload). It chains to the handler
//! installed before it. A program that installs its own `SIGBUS` handler
//! after that replaces this one: it should chain to the previous handler
//! (as this one does), or call [`disable`] before opening any segment, in
//! which case a truncation kills the process as it would without this
//! crate. C and Python peers get `SIGBUS` on their side all the same.
//!
//! System V segments cannot shrink, and anonymous mappings have no object:
//! neither is registered. Nor can a POSIX object on macOS, which sizes one
//! only once: there only files can be truncated under a mapping. (The
//! FreeBSD and macOS paths of the handler are compiled, not run.)

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use std::sync::Arc;

/// Entries per chunk of the registry; chunks are added, never freed.
const CHUNK: usize = 128;

const FREE: u32 = 0;
const CLAIMED: u32 = 1;
const ACTIVE: u32 = 2;
const RETIRING: u32 = 3;

/// One registered mapping.
struct Entry {
    state: AtomicU32,
    /// Handlers inside this entry now: `pid << 32 | count`, the count
    /// valid only in process `pid` (a child forked while a thread of its
    /// parent was inside copies a count that no thread of the child will
    /// ever lower).
    users: AtomicU64,
    start: AtomicUsize,
    len: AtomicUsize,
    /// The object's offset that `start` maps (a multiple of the page size).
    offset: AtomicUsize,
    /// A descriptor of the object, owned by the entry, for `fstat`.
    fd: AtomicI32,
    /// The page size the mapping uses.
    page: AtomicUsize,
    /// `PROT_*` of the mapping, which the zero pages get too.
    prot: AtomicI32,
    /// Whether zero bytes are valid for what is mapped (else: abort).
    zero_ok: AtomicBool,
    truncated: AtomicBool,
    /// The last address retried because the object was long enough again.
    retried: AtomicUsize,
    /// How many times in a row `retried` was.
    retries: AtomicU32,
}

/// How many times in a row a fault at one address that finds the object
/// long enough again is retried before it is passed on (see the module
/// docs): each retry is one fault and one `fstat`, so a full file system is
/// reported after some microseconds, while a truncation undone before the
/// handler looks would have to happen this many times in a row, at the
/// same address, to be mistaken for one.
const MAX_RETRIES: u32 = 64;

impl Entry {
    const fn new() -> Entry {
        Entry {
            state: AtomicU32::new(FREE),
            users: AtomicU64::new(0),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            offset: AtomicUsize::new(0),
            fd: AtomicI32::new(-1),
            page: AtomicUsize::new(0),
            prot: AtomicI32::new(0),
            zero_ok: AtomicBool::new(true),
            truncated: AtomicBool::new(false),
            retried: AtomicUsize::new(0),
            retries: AtomicU32::new(0),
        }
    }
}

struct Chunk {
    entries: [Entry; CHUNK],
    next: AtomicPtr<Chunk>,
}

/// The first chunk of the registry (null: none yet).
static HEAD: AtomicPtr<Chunk> = AtomicPtr::new(std::ptr::null_mut());

/// How many truncations this process survived: 0 in almost every program,
/// so that checking whether a lock's memory was truncated costs one load.
static TRUNCATIONS: AtomicUsize = AtomicUsize::new(0);

/// [`NOT_INSTALLED`], [`INSTALLED`], [`DISABLED`], or `pid << 2 |
/// INSTALLING` while process `pid` installs it. Not a `std::sync::Once`,
/// and the installer's pid is in the word, because of `fork`: a child
/// forked by another thread while a thread of its parent was installing
/// copies that state, and no thread of the child will ever finish it. A
/// state installing by another pid is such a copy: the child installs the
/// handler itself (`sigaction` is idempotent, and dispositions are copied by
/// `fork`, so it first looks whether the parent got as far as setting it).
static INSTALL: AtomicU64 = AtomicU64::new(NOT_INSTALLED);
const NOT_INSTALLED: u64 = 0;
const INSTALLED: u64 = 2;
const DISABLED: u64 = 3;
const INSTALLING: u64 = 1;

/// The `SIGBUS` disposition before ours, for chaining. Written by the one
/// installer, before the handler is set; read only by the handler.
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::zeroed();

/// Keeps the handler from being installed: call it before the first
/// segment is opened, in a program that must own `SIGBUS`. A truncated
/// segment then kills the process with `SIGBUS`, as it would without this
/// crate. Returns whether it took effect (false: already installed).
///
/// ```
/// // In a program with its own SIGBUS handling, first thing in main:
/// let _ = shm_runtime::sigbus::disable();
/// ```
pub fn disable() -> bool {
    INSTALL
        .compare_exchange(NOT_INSTALLED, DISABLED, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
        || INSTALL.load(Ordering::Acquire) == DISABLED
}

/// Whether the handler is installed in this process.
///
/// ```
/// let _ = shm_runtime::sigbus::installed();
/// ```
pub fn installed() -> bool {
    INSTALL.load(Ordering::Acquire) == INSTALLED
}

/// The state that says process `pid` is installing the handler.
fn installing(pid: u64) -> u64 {
    pid << 2 | INSTALLING
}

fn install() {
    if matches!(INSTALL.load(Ordering::Acquire), INSTALLED | DISABLED) {
        return;
    }
    let me = installing(this_process());
    let mut seen = INSTALL.load(Ordering::Acquire);
    loop {
        match seen {
            INSTALLED | DISABLED => return,
            // Another thread of this process installs it.
            s if s == me => {
                std::thread::yield_now();
                seen = INSTALL.load(Ordering::Acquire);
            }
            // Not installed, or being installed by the process this one
            // was forked from (a thread this process does not have).
            s => match INSTALL.compare_exchange(s, me, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => seen = now,
            },
        }
    }
    // SAFETY: `PREVIOUS` is written here only, by the one thread of this
    // process that holds the installing state, while the handler (its only
    // reader) is not set: when the disposition already is the handler, the
    // parent this process was forked from set it, after writing `PREVIOUS`,
    // which this process copied whole, and it is left alone. `sigaction`
    // with a valid new action, or none, and valid out-pointers.
    let set = unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut current) == 0 && {
            if current.sa_sigaction != handler as *const () as usize {
                std::ptr::addr_of_mut!(PREVIOUS).write(std::mem::MaybeUninit::new(current));
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
        }
    };
    INSTALL.store(
        if set { INSTALLED } else { NOT_INSTALLED },
        Ordering::Release,
    );
}

/// See [`crate::__private::sigbus_install_cut_by_fork`].
pub(crate) fn install_cut_by_fork(handler_set: bool) {
    install();
    if !handler_set {
        // SAFETY: the disposition from before this crate's, which `install`
        // recorded; `sigaction` with a valid action.
        unsafe {
            let previous = std::ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>();
            libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut());
        }
    }
    INSTALL.store(installing(parent_process()), Ordering::Release);
}

/// A mapping's place in the registry; leaving it (on drop) waits for any
/// handler still using it. Drop it before unmapping.
#[derive(Debug)]
pub(crate) struct Registration {
    entry: &'static Entry,
    /// Keeps the entry's descriptor open until the entry is free again
    /// (dropped after `Drop::drop` has retired the entry).
    _fd: Arc<OwnedFd>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("start", &self.start.load(Ordering::Relaxed))
            .field("len", &self.len.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Registers the mapping `start..start + len` of the object `fd` from its
/// byte `offset` on (a multiple of `page`), mapped with `prot` on pages of
/// `page` bytes. The registration keeps the descriptor open (a share of it,
/// not a duplicate: no system call) for the handler's `fstat`. `None` when
/// the handler is disabled.
pub(crate) fn register(
    start: usize,
    len: usize,
    fd: &Arc<OwnedFd>,
    offset: usize,
    prot: i32,
    page: usize,
) -> Option<Registration> {
    install();
    if !installed() {
        return None;
    }
    let entry = claim_entry();
    entry.start.store(start, Ordering::Relaxed);
    entry.len.store(len, Ordering::Relaxed);
    entry.offset.store(offset, Ordering::Relaxed);
    entry.fd.store(fd.as_raw_fd(), Ordering::Relaxed);
    entry.page.store(page, Ordering::Relaxed);
    entry.prot.store(prot, Ordering::Relaxed);
    entry.zero_ok.store(true, Ordering::Relaxed);
    entry.truncated.store(false, Ordering::Relaxed);
    entry.retried.store(0, Ordering::Relaxed);
    entry.retries.store(0, Ordering::Relaxed);
    // Publishes the fields to the handler, which loads the state first.
    entry.state.store(ACTIVE, Ordering::Release);
    Some(Registration {
        entry,
        _fd: Arc::clone(fd),
    })
}

/// Every entry of the registry, chunk by chunk from the head (loads only:
/// async-signal-safe).
fn entries() -> impl Iterator<Item = &'static Entry> {
    let mut chunk = HEAD.load(Ordering::Acquire);
    std::iter::from_fn(move || {
        // SAFETY: chunks are leaked, never freed: a non-null pointer read
        // from the list stays valid forever.
        let c: &'static Chunk = unsafe { chunk.as_ref() }?;
        chunk = c.next.load(Ordering::Acquire);
        Some(c)
    })
    .flat_map(|c| c.entries.iter())
}

/// A free entry, claimed; a new chunk when all are taken.
fn claim_entry() -> &'static Entry {
    loop {
        let free = entries().find(|entry| {
            entry
                .state
                .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        });
        if let Some(entry) = free {
            return entry;
        }
        // All taken: push a new chunk at the head.
        let new = Box::leak(Box::new(Chunk {
            entries: [const { Entry::new() }; CHUNK],
            next: AtomicPtr::new(HEAD.load(Ordering::Acquire)),
        }));
        let expected = new.next.load(Ordering::Relaxed);
        if HEAD
            .compare_exchange(expected, new, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Another thread pushed one first: ours joins behind it (a leak
            // of one chunk at worst, still reachable from the list).
            let mut head = HEAD.load(Ordering::Acquire);
            loop {
                new.next.store(head, Ordering::Release);
                match HEAD.compare_exchange(head, new, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => break,
                    Err(now) => head = now,
                }
            }
        }
    }
}

impl Registration {
    /// Whether a truncation replaced pages of this mapping.
    pub(crate) fn truncated(&self) -> bool {
        self.entry.truncated.load(Ordering::SeqCst)
    }

    /// Declares that zero bytes are no valid value of what is now viewed
    /// through this mapping: a truncation then aborts the process. Returns
    /// false if the mapping was truncated already (the caller must not hand
    /// out a reference then).
    pub(crate) fn forbid_zeros(&self) -> bool {
        self.entry.zero_ok.store(false, Ordering::SeqCst);
        !self.entry.truncated.load(Ordering::SeqCst)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let entry = self.entry;
        entry.state.store(RETIRING, Ordering::SeqCst);
        // A handler that saw ACTIVE has raised `users` before it checked the
        // state again: wait for it to leave.
        let me = this_process();
        while users_in(entry.users.load(Ordering::SeqCst), me) != 0 {
            std::hint::spin_loop();
        }
        // The descriptor is `_fd`'s, closed with its last share.
        entry.fd.store(-1, Ordering::Relaxed);
        entry.state.store(FREE, Ordering::Release);
    }
}

/// Whether the memory at `addr` belongs to a mapping that was truncated:
/// one load while no truncation ever happened in this process.
pub(crate) fn is_truncated_at(addr: usize) -> bool {
    if TRUNCATIONS.load(Ordering::Relaxed) == 0 {
        return false;
    }
    for entry in entries() {
        if entry.state.load(Ordering::Acquire) == ACTIVE {
            let start = entry.start.load(Ordering::Relaxed);
            let len = entry.len.load(Ordering::Relaxed);
            if addr >= start && addr - start < len {
                return entry.truncated.load(Ordering::SeqCst);
            }
        }
    }
    false
}

/// A [`Truncated`](crate::ErrorKind::Truncated) error if `value` lies in a
/// mapping that another process truncated: a lock or event there shares
/// nothing any more, so waiting on it would wait for nobody.
pub(crate) fn check_at<T>(value: &T, what: &str) -> crate::Result<()> {
    if is_truncated_at(value as *const T as usize) {
        return Err(truncated_error(what));
    }
    Ok(())
}

/// The error of an operation on a mapping that another process truncated.
pub(crate) fn truncated_error(what: &str) -> crate::Error {
    crate::Error::new(
        crate::ErrorKind::Truncated,
        format!(
            "{what}: another process truncated the segment under this mapping; its lost pages \
             now read as zeros and share nothing with other processes (open it again once it is \
             whole)"
        ),
    )
}

/// What the handler did with a fault.
enum Outcome {
    /// Repaired (or retried): return and let the access run again.
    Handled,
    /// Not ours to handle: chain.
    Chain,
    /// Ours, but zero bytes are no valid value there.
    Abort,
}

/// This process's pid, as `users` words hold it (`getpid` is
/// async-signal-safe).
fn this_process() -> u64 {
    // SAFETY: getpid has no preconditions.
    u64::from(unsafe { libc::getpid() }.unsigned_abs())
}

/// The pid of the process this one was forked from (for the test hooks).
fn parent_process() -> u64 {
    // SAFETY: getppid has no preconditions.
    u64::from(unsafe { libc::getppid() }.unsigned_abs())
}

/// The number of handlers of process `me` that a `users` word counts.
fn users_in(word: u64, me: u64) -> u64 {
    if word >> 32 == me {
        word & u64::from(u32::MAX)
    } else {
        0
    }
}

/// Counts one more handler of process `me` in `users`: a count of another
/// process (copied by `fork`) is replaced. Leaving is a `fetch_sub(1)`.
fn enter(users: &AtomicU64, me: u64) {
    let mut seen = users.load(Ordering::SeqCst);
    loop {
        let new = (me << 32) | (users_in(seen, me) + 1);
        match users.compare_exchange_weak(seen, new, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return,
            Err(now) => seen = now,
        }
    }
}

/// See [`crate::__private::sigbus_users_cut_by_fork`].
pub(crate) fn users_cut_by_fork() {
    let parent = parent_process();
    for entry in entries() {
        if entry.state.load(Ordering::Acquire) == ACTIVE {
            entry.users.store((parent << 32) | 1, Ordering::SeqCst);
        }
    }
}

/// The handler for a fault at `addr` inside a registered mapping.
///
/// # Safety
/// Only async-signal-safe calls (`fstat`, `mmap`) and atomics.
unsafe fn repair(addr: usize) -> Outcome {
    let me = this_process();
    for entry in entries() {
        if entry.state.load(Ordering::Acquire) != ACTIVE {
            continue;
        }
        enter(&entry.users, me);
        let outcome = if entry.state.load(Ordering::SeqCst) == ACTIVE {
            // SAFETY: the entry is active and held: its mapping is ours
            // until we leave it (`Registration::drop` waits).
            unsafe { repair_in(entry, addr) }
        } else {
            None
        };
        entry.users.fetch_sub(1, Ordering::SeqCst);
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
    Outcome::Chain
}

/// `None` if `addr` is not in `entry`'s mapping.
///
/// # Safety
/// The entry is active and held by the caller.
unsafe fn repair_in(entry: &Entry, addr: usize) -> Option<Outcome> {
    let start = entry.start.load(Ordering::Relaxed);
    let len = entry.len.load(Ordering::Relaxed);
    if addr < start || addr - start >= len {
        return None;
    }
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fstat` is async-signal-safe; the entry owns its descriptor
    // while active.
    if unsafe { libc::fstat(entry.fd.load(Ordering::Relaxed), st.as_mut_ptr()) } != 0 {
        return Some(Outcome::Chain);
    }
    // SAFETY: `fstat` succeeded.
    let size = usize::try_from(unsafe { st.assume_init() }.st_size).unwrap_or(usize::MAX);
    // What is left of the object from the mapping's start on.
    let size = size.saturating_sub(entry.offset.load(Ordering::Relaxed));
    if addr - start < size {
        // The object is long enough (again): a truncation undone at once is
        // retried, up to `MAX_RETRIES` times in a row at this address;
        // anything else (a full file system, an I/O error) faults each
        // time, and is not ours to hide.
        if entry.retried.swap(addr, Ordering::Relaxed) != addr {
            entry.retries.store(1, Ordering::Relaxed);
            return Some(Outcome::Handled);
        }
        if entry.retries.fetch_add(1, Ordering::Relaxed) + 1 >= MAX_RETRIES {
            entry.retried.store(0, Ordering::Relaxed);
            entry.retries.store(0, Ordering::Relaxed);
            return Some(Outcome::Chain);
        }
        return Some(Outcome::Handled);
    }
    if !entry.zero_ok.load(Ordering::SeqCst) {
        return Some(Outcome::Abort);
    }
    let page = entry.page.load(Ordering::Relaxed);
    // Every page from the first one past the object's end to the end of
    // the mapping is lost.
    let from = start + (size.div_ceil(page) * page).min(len);
    let from = from.min(addr - (addr - start) % page);
    // SAFETY: `from..start + len` lies inside this entry's mapping, which is
    // ours while the entry is held; private anonymous pages replace the
    // lost ones at the same addresses (`mmap` is async-signal-safe).
    let mapped = unsafe {
        libc::mmap(
            from as *mut libc::c_void,
            start + len - from,
            entry.prot.load(Ordering::Relaxed),
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    if mapped == libc::MAP_FAILED {
        return Some(Outcome::Chain);
    }
    entry.truncated.store(true, Ordering::SeqCst);
    TRUNCATIONS.fetch_add(1, Ordering::Relaxed);
    Some(Outcome::Handled)
}

extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an `SA_SIGINFO`
    // handler.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    if crate::platform::is_truncation_code(code) {
        // errno is saved and restored around the calls (the platform's
        // errno: `__errno_location` on Linux, `__error` on the BSDs).
        let errno_at = crate::platform::errno_location();
        // SAFETY: the address of this thread's errno, valid while it runs.
        let errno = errno_at.map(|at| unsafe { *at });
        // SAFETY: async-signal-safe work only.
        let outcome = unsafe { repair(addr) };
        if let (Some(at), Some(errno)) = (errno_at, errno) {
            // SAFETY: as above.
            unsafe { *at = errno };
        }
        match outcome {
            Outcome::Handled => return,
            Outcome::Chain => {}
            Outcome::Abort => {
                const MESSAGE: &[u8] = b"shm-runtime: a segment mapped by this process was \
                    truncated by another process under a live view of a type for which zero \
                    bytes are no valid value; nothing sound is possible: aborting\n";
                // SAFETY: `write` and `abort` are async-signal-safe.
                unsafe {
                    libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
                    libc::abort();
                }
            }
        }
    }
    // SAFETY: `PREVIOUS` was written before this handler was installed and
    // is never written again.
    let previous = unsafe { &*std::ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>() };
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        let chained: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            // SAFETY: an `SA_SIGINFO` action holds a function of this type.
            unsafe { std::mem::transmute(previous.sa_sigaction) };
        chained(signal, info, context);
    } else if previous.sa_sigaction == libc::SIG_DFL || previous.sa_sigaction == libc::SIG_IGN {
        // The default action, as if we were not here: the access faults
        // again when this returns, and the signal then kills the process.
        // SAFETY: `signal` (async-signal-safe) with a valid disposition.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    } else {
        let chained: extern "C" fn(libc::c_int) =
            // SAFETY: a plain action holds a function of this type.
            unsafe { std::mem::transmute(previous.sa_sigaction) };
        chained(signal);
    }
}
