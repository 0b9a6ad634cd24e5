//! Opening: the object found by name (waited for with
//! `wait_for_creation`), its owner checked, its header read without a
//! mapping and waited for until ready, judged stale or abandoned, and
//! validated against the requested layout before anything is mapped.

use super::header::{self, Layout, Poll, HEADER_SIZE};
use super::object::{self, Object, Stat};
use super::options::Segment;
use super::reader::Reader;
use super::target::Resolved;
use super::view::{check_align, View};
use super::{file, posix, sysv};
use crate::error::{Error, ErrorKind, Result};
use crate::map::Mapping;
use crate::shared::Origin;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// What [`Segment::find`] found.
pub(super) enum Found {
    /// A valid, ready segment of the requested type.
    Ready(View),
    /// With [`Segment::replace_stale`], when asked: a stale segment (see
    /// [`staleness`]), of any type, to replace.
    Stale,
    /// A segment whose creator died or gave up, seen with state word `seen`.
    Abandoned {
        object: Object,
        stat: Stat,
        mapping: Mapping,
        seen: u64,
        pid: u32,
    },
}

/// What [`Segment::find`] is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Find {
    /// A plain open: waits for a missing name with `wait_for_creation`.
    Open,
    /// `open_or_create`: a missing name is `NotFound` at once.
    OrCreate,
    /// `open_or_create` with `replace_stale`: also reports stale segments.
    OrReplace,
}

/// Whether a segment whose header reads `snapshot` is stale: `Ok` with the
/// state word it was judged by, or why not. Stale are a ready segment made
/// with `remove_on_drop` whose creator is dead (pid, PID namespace and start
/// time, see [`header::creator_liveness`]), and one whose creator (or
/// replacer) died before it was ready or while replacing it, or gave up. A
/// pid is compared only with its own start time (see
/// [`header::Snapshot::creator`]): a retired segment's replacer, and a
/// claimer that has not yet recorded itself, by their pid's existence.
pub(super) fn staleness(snapshot: &header::Snapshot) -> std::result::Result<u64, String> {
    let pid = snapshot.creator_pid();
    let judged = |word: u64| match snapshot.creator() {
        header::Creator::Dead => Ok(word),
        header::Creator::Alive => Err(format!("its creator (pid {pid}) is alive")),
        header::Creator::Unknown => Err(format!(
            "its creator (pid {pid}) ran in another PID namespace, or did not record its \
             own, so whether it lives cannot be known here"
        )),
    };
    match snapshot.poll {
        Poll::Ready if !snapshot.tied_to_creator() => Err(
            "it was made without `remove_on_drop`, so it is meant to outlive its creator"
                .to_owned(),
        ),
        Poll::Ready => judged(snapshot.state_word),
        Poll::Initializing { word, .. } | Poll::Retired { word, .. } => judged(word),
        Poll::Abandoned { word, .. } => Ok(word),
        Poll::Older(version) | Poll::Newer(version) => Err(format!(
            "it has header format {version}, not {}: remove it",
            header::FORMAT_VERSION
        )),
        Poll::Uninit | Poll::Garbage | Poll::OtherEndian => {
            Err("it is not a segment of this library that can be judged: remove it".to_owned())
        }
    }
}

/// Bounded exponential back-off until a deadline.
pub(super) struct Backoff {
    deadline: Instant,
    pause: Duration,
}

impl Backoff {
    pub(super) fn new(deadline: Instant) -> Backoff {
        Backoff {
            deadline,
            pause: Duration::from_micros(20),
        }
    }

    /// Sleeps a little; `false` once the deadline has passed.
    pub(super) fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        std::thread::sleep(self.pause.min(self.deadline - now));
        self.pause = (self.pause * 2).min(Duration::from_millis(10));
        true
    }
}

/// Finding and opening an existing typed segment.
impl<A> Segment<A> {
    fn check_owner(&self, stat: &Stat) -> Result<()> {
        // SAFETY: `geteuid` has no preconditions.
        let me = unsafe { libc::geteuid() };
        if self.allow_foreign_owner || stat.uid == me {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::ForeignOwner,
            format!(
                "{} belongs to uid {}, not to this process's uid {me}: another user may have \
                 created it to read or feed your data; remove it, or call \
                 `.allow_foreign_owner(true)` if sharing between users is intended",
                self.what(),
                stat.uid
            ),
        ))
    }

    /// Opens the existing object and checks its owner; with
    /// [`wait_for_creation`](Self::wait_for_creation) and a `deadline`,
    /// waits for a missing name to appear until then.
    pub(super) fn open_object_until(
        &self,
        writable: bool,
        deadline: Option<Instant>,
    ) -> Result<(Object, Stat)> {
        let Some(deadline) = deadline.filter(|_| self.wait_for_creation) else {
            return self.open_object(writable);
        };
        let mut backoff = Backoff::new(deadline);
        loop {
            match self.open_object(writable) {
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    if !backoff.wait() {
                        return Err(Error::new(
                            ErrorKind::TimedOut,
                            format!(
                                "waited {:?} for {} to be created, but no process created it \
                                 (wait longer with `Segment::open_timeout`)",
                                self.open_timeout,
                                self.what()
                            ),
                        ));
                    }
                }
                other => return other,
            }
        }
    }

    /// Opens the existing object and checks its owner.
    pub(super) fn open_object(&self, writable: bool) -> Result<(Object, Stat)> {
        let what = self.what();
        let (object, stat) = match self.target.resolve()? {
            Resolved::Posix(name) => {
                let fd = posix::open(&name, writable, &what)?;
                let stat = object::fstat(&fd, &what)?;
                (Object::Fd(fd.into()), stat)
            }
            Resolved::File(path) => {
                let fd = file::open(&path, writable, &what)?;
                let stat = object::fstat(&fd, &what)?;
                (Object::Fd(fd.into()), stat)
            }
            Resolved::SysV(key) => {
                let id = sysv::open(key, &what)?;
                (Object::SysV(id), sysv::stat(id, &what)?)
            }
        };
        self.check_owner(&stat)?;
        Ok((object, stat))
    }

    fn removed_while_waiting(&self) -> Error {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "opening {}: it was removed while this process waited for it to be ready \
                 (its creator failed, or another process removed it)",
                self.what()
            ),
        )
    }

    pub(super) fn creator_died(&self, pid: u32) -> Error {
        Error::new(
            ErrorKind::CreatorDied,
            format!(
                "{}: its creator (pid {pid}) died or gave up while initializing it, so it holds \
                 no valid value; `open_or_create` reclaims it, or remove it and create it anew",
                self.what()
            ),
        )
    }

    /// Opens the segment and waits until it is ready (or abandoned), then
    /// validates the header against `layout`.
    ///
    /// The header of a POSIX object or file is read with `pread`, never
    /// through a mapping: another process may truncate it at any moment, and
    /// a read merely comes back short. System V segments cannot shrink:
    /// read from their attachment.
    ///
    /// `how` says whether a missing name is waited for (plain opens with
    /// [`wait_for_creation`](Self::wait_for_creation)) and whether a stale
    /// segment is reported as [`Found::Stale`] (`open_or_create` with
    /// [`replace_stale`](Self::replace_stale)).
    pub(super) fn find(
        &self,
        layout: &Layout,
        writable: bool,
        deadline: Instant,
        how: Find,
    ) -> Result<Found> {
        let what = self.what();
        check_align(layout, &what)?;
        let wait_name = (how == Find::Open).then_some(deadline);
        let (object, mut stat) = self.open_object_until(writable, wait_name)?;
        // A System V segment cannot shrink: its header is read from an
        // attachment of its full size. A POSIX object or file is read with
        // `pread` and mapped only after the checks: reading its header
        // through a mapping would make every open rely on the SIGBUS
        // handler's repair of a truncation (measured: 10% of an open), which
        // emulators such as qemu-user do not reproduce.
        let attached = match &object {
            Object::SysV(_) if stat.size >= HEADER_SIZE => {
                match object.map(stat.size, writable, &self.map_options, &what) {
                    Ok(mapping) => Some(mapping),
                    // Removed since it was opened: as if never found.
                    Err(_) if object.stat(&what).is_err() => {
                        return Err(self.removed_while_waiting())
                    }
                    Err(e) => return Err(e),
                }
            }
            _ => None,
        };
        let reader = match (&object, &attached) {
            (Object::Fd(fd), _) => Reader::Fd(fd.as_fd()),
            (Object::SysV(_), Some(mapping)) => Reader::SysV(mapping),
            (Object::SysV(_), None) => {
                return Err(Error::new(
                    ErrorKind::TooShort,
                    format!(
                        "{what} is {} bytes long, shorter than the {HEADER_SIZE}-byte header of \
                         this library: a program without this library made it (map those with \
                         `.raw().open()`)",
                        stat.size
                    ),
                ))
            }
        };
        let mut backoff = Backoff::new(deadline);
        let snapshot = loop {
            let snapshot = if stat.size < HEADER_SIZE {
                None
            } else {
                reader.header()?
            };
            let waiting_for = match snapshot.as_ref().map(|s| s.poll) {
                // Empty (a creator between creating and sizing it), or
                // truncated since the `fstat`: look again.
                None if stat.size == 0 || stat.size >= HEADER_SIZE => {
                    if !backoff.wait() {
                        return Err(Error::new(
                            ErrorKind::TimedOut,
                            format!(
                                "{what} stayed empty for {:?}: its creator may have died before \
                                 sizing it, or a program without this library made it; remove it",
                                self.open_timeout
                            ),
                        ));
                    }
                    stat = object.stat(&what)?;
                    if !stat.linked {
                        return Err(self.removed_while_waiting());
                    }
                    continue;
                }
                None => {
                    return Err(Error::new(
                        ErrorKind::TooShort,
                        format!(
                            "{what} is {} bytes long, shorter than the {HEADER_SIZE}-byte header \
                             of this library: it was truncated, or a program without this \
                             library made it (map those with `.raw().open()`)",
                            stat.size
                        ),
                    ));
                }
                Some(Poll::Ready) => {
                    let snapshot = snapshot.expect("read");
                    if how == Find::OrReplace && staleness(&snapshot).is_ok() {
                        return Ok(Found::Stale);
                    }
                    break snapshot;
                }
                Some(Poll::Retired { pid, .. }) => {
                    let snapshot = snapshot.as_ref().expect("read");
                    if staleness(snapshot).is_ok() {
                        if how == Find::OrReplace {
                            return Ok(Found::Stale);
                        }
                        return Err(Error::new(
                            ErrorKind::CreatorDied,
                            format!(
                                "{what}: its creator died, and process {pid} died while \
                                 replacing it; create it with `.replace_stale(true)`, or remove \
                                 it"
                            ),
                        ));
                    }
                    format!("process {pid} is replacing it (its creator died)")
                }
                Some(Poll::Uninit) => "it is still uninitialized (all zero): if no process is \
                     creating it, its creator died before claiming it or it is not a segment \
                     of this library; remove it"
                    .to_owned(),
                Some(Poll::Initializing { pid, word, .. }) => {
                    let dead = snapshot
                        .as_ref()
                        .is_some_and(|s| s.creator() == header::Creator::Dead);
                    if dead {
                        return self.abandoned(object, stat, writable, word, pid);
                    }
                    format!("its creator (pid {pid}) is still initializing it")
                }
                Some(Poll::Abandoned { pid, word }) => {
                    return self.abandoned(object, stat, writable, word, pid)
                }
                Some(Poll::Garbage) => {
                    return Err(Error::new(
                        ErrorKind::NotASegment,
                        format!(
                            "{what} is not a segment of this library (no valid header): another \
                             program made it (map it with `.raw().open()`), or it is corrupt"
                        ),
                    ))
                }
                Some(Poll::Newer(version)) => {
                    return Err(Error::new(
                        ErrorKind::UnsupportedVersion,
                        format!(
                            "{what} has header format {version}, newer than the format {} this \
                             version of shm-runtime reads: upgrade this program",
                            header::FORMAT_VERSION
                        ),
                    ))
                }
                Some(Poll::Older(version)) => {
                    return Err(Error::new(
                        ErrorKind::UnsupportedVersion,
                        format!(
                            "{what} has header format {version}, made by an older version of \
                             shm-runtime; this version reads format {} only ({}): remove it and \
                             recreate it with this version",
                            header::FORMAT_VERSION,
                            header::older_format_differs(version)
                        ),
                    ))
                }
                Some(Poll::OtherEndian) => {
                    return Err(Error::new(
                        ErrorKind::Incompatible,
                        format!("{what} was made on a machine of the other byte order"),
                    ))
                }
            };
            if !backoff.wait() {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "waited {:?} for {what} to be ready, but {waiting_for} (wait longer \
                         with `Segment::open_timeout`)",
                        self.open_timeout
                    ),
                ));
            }
            // A creator that fails removes the name: stop waiting for it.
            stat = object.stat(&what)?;
            if !stat.linked {
                return Err(self.removed_while_waiting());
            }
        };
        let (offset, len) = snapshot.validate(layout, stat.size, &what, &reader)?;
        // Mapped only now, after every check; `validate` proved the object
        // holds the header and the whole payload.
        let mapping = match attached {
            Some(mapping) => mapping,
            None => object.map(stat.size, writable, &self.map_options, &what)?,
        };
        Ok(Found::Ready(View {
            mapping,
            offset,
            len,
            identity: stat.identity,
            origin: Origin::Opened,
        }))
    }

    /// A segment whose creator died or gave up: mapped, so that
    /// `open_or_create` can reclaim its header with a compare-exchange.
    pub(super) fn abandoned(
        &self,
        object: Object,
        stat: Stat,
        writable: bool,
        seen: u64,
        pid: u32,
    ) -> Result<Found> {
        let mapping = object.map(stat.size, writable, &self.map_options, &self.what())?;
        Ok(Found::Abandoned {
            object,
            stat,
            mapping,
            seen,
            pid,
        })
    }

    pub(super) fn open_layout(&self, layout: &Layout, writable: bool) -> Result<View> {
        let deadline = self.deadline();
        let mut backoff = Backoff::new(deadline);
        loop {
            match self.find(layout, writable, deadline, Find::Open) {
                Ok(Found::Ready(view)) => return Ok(view),
                Ok(Found::Abandoned { pid, .. }) => return Err(self.creator_died(pid)),
                Ok(Found::Stale) => unreachable!("only `Find::OrReplace` reports stale segments"),
                // Removed while this process waited for it to be ready (its
                // creator failed, or it was being replaced): with
                // `wait_for_creation`, wait for the name again.
                Err(e)
                    if e.kind() == ErrorKind::NotFound
                        && self.wait_for_creation
                        && backoff.wait() => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The header of an open object (`None` when it is shorter than one),
    /// read without a mapping that a truncation could turn into `SIGBUS`.
    pub(super) fn read_header(
        &self,
        object: &Object,
        stat: &Stat,
    ) -> Result<Option<header::Snapshot>> {
        if stat.size < HEADER_SIZE {
            return Ok(None);
        }
        match object {
            Object::Fd(fd) => Reader::Fd(fd.as_fd()).header(),
            Object::SysV(_) => {
                let mapping = object.map(stat.size, false, &self.map_options, &self.what())?;
                Reader::SysV(&mapping).header()
            }
        }
    }
}
