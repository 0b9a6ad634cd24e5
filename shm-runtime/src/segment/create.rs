//! Creation: an object made exclusively (unnamed, then linked where the
//! platform allows), sized and reserved, its header claimed, its payload
//! initialized and the header published; the guard that abandons and
//! removes it on failure, and the test hooks that stop or end a creator at
//! each step.

use super::header::{HeaderPtr, Layout};
use super::object::{self, Identity, Object, Stat};
use super::options::Segment;
use super::publish::{self, Link};
use super::target::{Resolved, Target};
use super::view::{check_align, View};
use super::{file, posix, sysv};
use crate::error::{Error, ErrorKind, Result};
use crate::map::Mapping;
use crate::shared::Origin;
use std::borrow::Cow;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::ptr::NonNull;

/// An object [`Segment::create_object`] made, sized and reserved.
pub(super) struct Created {
    pub(super) object: Object,
    pub(super) stat: Stat,
    /// Where to link it once ready; `None` when it has its name already.
    pub(super) link: Option<Link>,
}

/// What [`Segment::init_created`] made of a [`Created`] object.
pub(super) enum Initialized {
    /// Ready under its name.
    Named(View),
    /// Ready, to be given its name by [`Segment::publish`].
    Pending(Pending),
}

/// A ready segment without its name yet.
pub(super) struct Pending {
    pub(super) view: View,
    /// Kept open: the link names the object by its descriptor.
    pub(super) object: Object,
    pub(super) link: Link,
}

/// During initialization: on failure or panic, marks the header abandoned
/// (openers stop waiting) and removes the name of a segment this process
/// created.
pub(super) struct InitGuard<'a> {
    pub(super) target: &'a Target,
    pub(super) remove: Option<Identity>,
    pub(super) header: Option<HeaderPtr>,
    pub(super) pid: u32,
}

impl InitGuard<'_> {
    pub(super) fn disarm(mut self) {
        self.remove = None;
        self.header = None;
    }
}

impl Drop for InitGuard<'_> {
    fn drop(&mut self) {
        if let Some(header) = self.header {
            header.abandon(self.pid);
        }
        if let Some(identity) = self.remove {
            let _ = self.target.remove(Some(identity));
        }
    }
}

/// Creating a typed segment.
impl<A> Segment<A> {
    /// Creates the object exclusively, sized `len` bytes and reserved:
    /// without a name, to be published once ready, where the platform
    /// allows (see `publish`), else under its name.
    pub(super) fn create_object(&self, len: usize) -> Result<Created> {
        let what = self.what();
        let sized =
            |fd: std::os::fd::OwnedFd, mut stat: Stat, link: Option<Link>| -> Result<Created> {
                creation_step(1);
                object::size_and_reserve(&fd, len, self.reserve, &what)?;
                creation_step(2);
                // The `fstat` of the new, empty object, sized since.
                stat.size = len;
                Ok(Created {
                    object: Object::Fd(fd.into()),
                    stat,
                    link,
                })
            };
        let unnamed = |dir: &[u8], path: Cow<'_, [u8]>, durable: bool| -> Result<Option<Created>> {
            let Some((fd, stat, link)) =
                publish::create_unnamed(dir, path, self.mode, durable, &what)?
            else {
                return Ok(None);
            };
            if link.name_exists() {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("creating {what}: it exists already (open it, or remove it first)"),
                ));
            }
            sized(fd, stat, Some(link)).map(Some)
        };
        let resolved = self.target.resolve()?;
        if let Some((dir, path, durable)) = self.publish_paths() {
            if let Some(created) = unnamed(&dir, path, durable)? {
                return Ok(created);
            }
        }
        match resolved {
            Resolved::Posix(name) => {
                let (fd, stat) = posix::create(&name, self.mode, &what)?;
                sized(fd, stat, None).inspect_err(|_| {
                    let _ = posix::unlink_c(&name, &what);
                })
            }
            Resolved::File(path) => {
                let (fd, stat) = file::create(&path, self.mode, &what)?;
                sized(fd, stat, None).inspect_err(|_| {
                    let _ = file::unlink_c(&path, &what);
                })
            }
            Resolved::SysV(key) => {
                let id = sysv::create(key, len, self.mode, &what)?;
                sysv::stat(id, &what)
                    .map(|stat| Created {
                        object: Object::SysV(id),
                        stat,
                        link: None,
                    })
                    .inspect_err(|_| {
                        let _ = sysv::remove_id(id, &what);
                    })
            }
        }
    }

    /// Gives a pending segment its name; on failure it stays pending (an
    /// existing name: [`AlreadyExists`](crate::ErrorKind::AlreadyExists)).
    pub(super) fn publish(&self, pending: &Pending) -> Result<()> {
        creation_step(6);
        let Object::Fd(fd) = &pending.object else {
            unreachable!("only descriptors are published by a link")
        };
        pending.link.publish(fd, &self.what())?;
        creation_step(7);
        Ok(())
    }

    /// Creates the segment exclusively for `len` elements of `layout` and
    /// initializes it: `init` gets the (zero-filled, aligned, private)
    /// payload.
    pub(super) fn create_layout(
        &self,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        check_align(layout, &what)?;
        let total = self.total_len(layout, len)?;
        let mut origin = Origin::Created;
        let mut _lock = None;
        let created = match self.create_object(total) {
            Ok(created) => created,
            Err(e) if e.kind() == ErrorKind::AlreadyExists && !self.replace_stale => {
                return Err(self.exists_without_replace(e))
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                // Serialized with other replacers and `open_or_create`
                // where a lock exists; the retiring compare-exchange decides
                // everywhere.
                _lock = self.creation_lock(self.deadline())?;
                self.take_over()?;
                origin = Origin::Reclaimed;
                self.create_object(total)?
            }
            Err(e) => return Err(e),
        };
        let mut view = match self.init_created(created, layout, len, init)? {
            Initialized::Named(view) => view,
            Initialized::Pending(pending) => {
                self.publish(&pending)?;
                pending.view
            }
        };
        view.origin = origin;
        Ok(view)
    }

    /// The end of a payload of `len` elements: an error if it does not fit
    /// in the address space (checked before an open, without describing the
    /// type).
    pub(super) fn payload_end(&self, layout: &Layout, len: usize) -> Result<usize> {
        layout
            .size
            .checked_mul(len)
            .and_then(|b| b.checked_add(layout.payload_offset()))
            .filter(|end| *end <= isize::MAX as usize)
            .ok_or_else(|| self.too_large(layout, len))
    }

    fn too_large(&self, layout: &Layout, len: usize) -> Error {
        Error::new(
            ErrorKind::InvalidSize,
            format!(
                "{}: {len} elements of `{}` do not fit in the address space",
                self.what(),
                layout.type_name
            ),
        )
    }

    /// The object's length for `len` elements of `layout`: header, payload
    /// and description block.
    pub(super) fn total_len(&self, layout: &Layout, len: usize) -> Result<usize> {
        layout
            .total_len(len)
            .ok_or_else(|| self.too_large(layout, len))
    }

    /// Maps, claims, initializes and marks ready an object this process
    /// just created (zero-filled by the system): published already when it
    /// was created under its name, else pending its link.
    pub(super) fn init_created(
        &self,
        created: Created,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<Initialized> {
        let Created { object, stat, link } = created;
        let named = link.is_none();
        let what = self.what();
        let total = self.total_len(layout, len)?;
        let mapping = match object.map(total, true, &self.map_options, &what) {
            Ok(mapping) => mapping,
            Err(e) => {
                if named {
                    let _ = self.target.remove(Some(stat.identity));
                }
                return Err(e);
            }
        };
        let pid = std::process::id();
        // SAFETY: the mapping is page-aligned and `total >= HEADER_SIZE`
        // bytes long; it lives until the end of this function at least.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        // Declared after `mapping`, so dropped before it.
        let mut guard = InitGuard {
            target: &self.target,
            remove: named.then_some(stat.identity),
            header: None,
            pid,
        };
        if !header.claim_fresh(pid) {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("creating {what}: another process wrote into it before it was claimed"),
            ));
        }
        claim_step();
        if !header.set_creator(pid, self.remove_on_drop, !named) {
            // Judged dead by another process, which took the header over.
            guard.disarm();
            return Err(taken_over(&what));
        }
        creation_step(3);
        guard.header = Some(header);
        let by_fd = self.description_fd(&object);
        // SAFETY: this process claimed the header; the payload is fresh;
        // `by_fd` is the mapped object's descriptor.
        let published =
            unsafe { initialize(header, &mapping, by_fd, layout, len, pid, true, &what, init) }?;
        guard.disarm();
        if !published {
            return Err(taken_over(&what));
        }
        let view = View {
            mapping,
            offset: layout.payload_offset(),
            len,
            identity: stat.identity,
            origin: Origin::Created,
        };
        Ok(match link {
            None => Initialized::Named(view),
            Some(link) => Initialized::Pending(Pending { view, object, link }),
        })
    }

    /// The descriptor to write the description block of a new segment of
    /// `object` to, with `pwrite`: POSIX objects and files (System V has
    /// none; macOS does not read or write POSIX objects, only maps them).
    pub(super) fn description_fd<'o>(&self, object: &'o Object) -> Option<BorrowedFd<'o>> {
        match object {
            #[cfg(target_os = "macos")]
            Object::Fd(_) if matches!(self.target, Target::Posix(_)) => None,
            Object::Fd(fd) => Some(fd.as_fd()),
            Object::SysV(_) => None,
        }
    }

    /// Where creation can publish by a link: the directory for the unnamed
    /// object, the name's full path, and whether it must be made durable
    /// (borrowed from the target where it can be: a file's path).
    pub(super) fn publish_paths(&self) -> Option<PublishPaths<'_>> {
        use std::os::unix::ffi::OsStrExt;
        if IN_PLACE.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        match &self.target {
            Target::Posix(name) if publish::dev_shm_is_tmpfs() && name.len() > 1 => {
                const DIR: &[u8] = b"/dev/shm";
                // Room for the NUL that makes it a C string.
                let mut path = Vec::with_capacity(DIR.len() + name.len() + 1);
                path.extend_from_slice(DIR);
                path.extend_from_slice(name.as_bytes());
                Some((Cow::Borrowed(DIR), Cow::Owned(path), false))
            }
            Target::File(path) => {
                let dir = match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => Path::new("."),
                };
                Some((
                    Cow::Borrowed(dir.as_os_str().as_bytes()),
                    Cow::Borrowed(path.as_os_str().as_bytes()),
                    true,
                ))
            }
            _ => None,
        }
    }
}

/// [`Segment::publish_paths`]: the directory, the name's full path, and
/// whether the link must be made durable.
pub(super) type PublishPaths<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>, bool);

/// Writes the header fields and the payload of a claimed segment, then
/// publishes it: `false` when another process took the header over
/// meanwhile (judging this one dead), so that nothing was published and
/// the payload must not be handed out. The description block after the
/// payload is written with `pwrite` to `by_fd` when given (so that its page
/// is neither faulted in nor mapped by this process for nothing), else
/// through the mapping; an error (a full `/dev/shm` or disk) before `init`
/// runs, with nothing published.
///
/// # Safety
/// This process claimed the header (state "initializing" with `pid`); the
/// mapping is writable and holds the header and `len` elements of `layout`
/// and the description block; `by_fd` is the descriptor of the mapped
/// object; the payload (and the gap after it) is zero-filled when `fresh`.
#[allow(clippy::too_many_arguments)] // one call site each in create and reclaim
pub(super) unsafe fn initialize(
    header: HeaderPtr,
    mapping: &Mapping,
    by_fd: Option<BorrowedFd<'_>>,
    layout: &Layout,
    len: usize,
    pid: u32,
    fresh: bool,
    what: &(impl std::fmt::Display + ?Sized),
    init: impl FnOnce(NonNull<u8>),
) -> Result<bool> {
    // SAFETY: claimed by this process (caller's contract); without `by_fd`
    // the mapping holds the block.
    unsafe { header.write_fields(layout, len, by_fd.is_none()) };
    if let Some(fd) = by_fd {
        if !write_description(fd, layout, len, fresh, what)? {
            // An object that refuses `write(2)` (hugetlbfs): the block goes
            // through the mapping, as without a descriptor.
            // SAFETY: as above; the mapping holds the block.
            unsafe { header.write_fields(layout, len, true) };
        }
    }
    creation_step(4);
    // SAFETY: the payload offset lies inside the mapping.
    let payload = unsafe { mapping.ptr().add(layout.payload_offset()) };
    if !fresh {
        // SAFETY: `len` elements of the payload lie inside the writable
        // mapping, and no other process reads them before publication.
        unsafe { payload.as_ptr().write_bytes(0, layout.size * len) };
    }
    init(payload);
    creation_step(5);
    Ok(header.publish(pid))
}

/// Writes the description block of a payload of `len` elements of
/// `layout` with `pwrite` at its offset, and the zero gap before it unless
/// the object is `fresh` (zero-filled by the system). Its bytes and
/// checksum are those `write_fields` records in the header. `Ok(false)`:
/// the object refuses `write(2)` (a hugetlbfs file), nothing was written,
/// write the block through the mapping.
fn write_description(
    fd: BorrowedFd<'_>,
    layout: &Layout,
    len: usize,
    fresh: bool,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<bool> {
    let (at, desc_len) = layout.desc_block(len).expect("checked by `total_len`");
    if desc_len == 0 {
        return Ok(true);
    }
    let bytes = layout.description().unwrap_or(&[]);
    let payload_end = layout.payload_offset() + layout.size * len;
    if !fresh
        && at > payload_end
        && !pwrite_all(fd, &[0u8; 8][..at - payload_end], payload_end, what)?
    {
        return Ok(false);
    }
    pwrite_all(fd, bytes, at, what)
}

/// `pwrite` of all of `bytes` at `offset`, resumed after a short write or
/// a signal: an error says what failed (`ENOSPC`: no room left for it).
/// `Ok(false)` when the object refuses writes altogether (`EINVAL`, as
/// hugetlbfs does, `EOPNOTSUPP`, `ENODEV`, `ESPIPE`) before any byte was
/// written.
fn pwrite_all(
    fd: BorrowedFd<'_>,
    bytes: &[u8],
    offset: usize,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<bool> {
    let mut done = 0;
    while done < bytes.len() {
        let written = if FAIL_DESCRIPTION.load(std::sync::atomic::Ordering::Relaxed) {
            Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
        } else {
            let at = libc::off_t::try_from(offset + done).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidSize,
                    format!("writing the layout description of {what}: offset too large"),
                )
            })?;
            // SAFETY: `fd` is open; the range `done..` of `bytes` is
            // readable for its length.
            let n = unsafe {
                libc::pwrite(
                    fd.as_raw_fd(),
                    bytes[done..].as_ptr().cast(),
                    bytes.len() - done,
                    at,
                )
            };
            usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
        };
        match written {
            Ok(0) => {
                return Err(Error::new(
                    ErrorKind::OutOfMemory,
                    format!(
                        "writing the layout description of {what}: {done} of {} bytes written \
                         (is /dev/shm or the disk full?)",
                        bytes.len()
                    ),
                ))
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if done == 0
                    && matches!(
                        e.raw_os_error(),
                        Some(libc::EINVAL | libc::EOPNOTSUPP | libc::ENODEV | libc::ESPIPE)
                    ) =>
            {
                return Ok(false)
            }
            Err(e) => {
                return Err(Error::os(
                    format!(
                        "writing the layout description of {what} (is /dev/shm or the disk \
                         full?)"
                    ),
                    e,
                ))
            }
        }
    }
    Ok(true)
}

/// See [`crate::__private::fail_description_write`].
static FAIL_DESCRIPTION: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// See [`crate::__private::fail_description_write`].
#[doc(hidden)]
pub fn fail_description_write(on: bool) {
    FAIL_DESCRIPTION.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The error of a creator whose header another process took over (retired
/// or reclaimed, having judged this process dead) before it was published.
pub(super) fn taken_over(what: &(impl std::fmt::Display + ?Sized)) -> Error {
    Error::new(
        ErrorKind::AlreadyExists,
        format!(
            "creating {what}: another process took it over before it was ready, judging this \
             one dead (were its pid or PID namespace misjudged?); open it again"
        ),
    )
}

/// The test hook of [`crate::__private::stop_during_creation_at`]: 0, or
/// the point at which this process stops itself.
static STOP_AT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// [`crate::__private::stop_during_creation_at`]: a header claimed or
/// reclaimed, its claimer not yet recorded.
const STOP_CLAIMED: u32 = 1;

/// [`crate::__private::stop_during_creation_at`]: a stale segment retired,
/// its name not yet removed.
pub(super) const STOP_RETIRED: u32 = 2;

/// Stops this process with `SIGSTOP` (until a `SIGCONT`) if a test asked
/// for it at `point`.
pub(super) fn stop_step(point: u32) {
    if STOP_AT.load(std::sync::atomic::Ordering::Relaxed) == point {
        // SAFETY: raising a signal has no memory-safety preconditions.
        unsafe { libc::raise(libc::SIGSTOP) };
    }
}

/// The point between claiming a header and recording the claimer.
pub(super) fn claim_step() {
    stop_step(STOP_CLAIMED);
}

/// See [`crate::__private::stop_during_creation_at`].
#[doc(hidden)]
pub fn stop_during_creation_at(point: u32) {
    STOP_AT.store(point, std::sync::atomic::Ordering::Relaxed);
}

/// The test hook of [`crate::__private::die_during_creation_at`]: 0, or the
/// step of creation at which this process ends itself.
static DIE_AT_STEP: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Ends this process at once (as a `SIGKILL` would: no unwinding, no
/// destructor) if a test asked for it at `step`. Steps: 1 object made, 2
/// sized and reserved, 3 header claimed, 4 header written, 5 payload
/// initialized, 6 marked ready (not yet linked), 7 linked.
fn creation_step(step: u32) {
    if DIE_AT_STEP.load(std::sync::atomic::Ordering::Relaxed) == step {
        // SAFETY: `_exit` ends the process without running any Rust code.
        unsafe { libc::_exit(0) }
    }
}

/// See [`crate::__private::publish_in_place`].
static IN_PLACE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// See [`crate::__private::publish_in_place`].
#[doc(hidden)]
pub fn publish_in_place(on: bool) {
    IN_PLACE.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// See [`crate::__private::die_during_creation_at`].
#[doc(hidden)]
pub fn die_during_creation_at(step: u32) {
    DIE_AT_STEP.store(step, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};

    #[test]
    #[cfg_attr(miri, ignore = "memfd_create")]
    fn an_object_that_refuses_writes_is_told_apart_from_a_full_one() {
        // A hugetlbfs file (here a huge-page memfd, which needs no huge page
        // to exist) refuses `pwrite` with EINVAL: `pwrite_all` says "write
        // through the mapping" instead of failing the creation; an ordinary
        // memfd takes the bytes.
        // SAFETY: a NUL-terminated name; creates a new descriptor.
        let raw =
            unsafe { libc::memfd_create(c"shm-runtime-test-huge".as_ptr(), libc::MFD_HUGETLB) };
        if raw < 0 {
            // No huge page support in this kernel: nothing to tell apart.
            return;
        }
        // SAFETY: `raw` was just opened and is owned here.
        let huge = unsafe { OwnedFd::from_raw_fd(raw) };
        assert!(
            !pwrite_all(huge.as_fd(), b"block", 0, "a test file").unwrap(),
            "hugetlbfs refuses the write: the block goes through the mapping"
        );
        // SAFETY: as above.
        let raw = unsafe { libc::memfd_create(c"shm-runtime-test-plain".as_ptr(), 0) };
        assert!(raw >= 0);
        // SAFETY: as above.
        let plain = unsafe { OwnedFd::from_raw_fd(raw) };
        assert!(pwrite_all(plain.as_fd(), b"block", 8, "a test file").unwrap());
        let mut back = [0u8; 5];
        // SAFETY: `back` is writable for its length; `plain` is open.
        let n = unsafe { libc::pread(plain.as_fd().as_raw_fd(), back.as_mut_ptr().cast(), 5, 8) };
        assert_eq!((n, &back), (5, b"block"));
    }
}
