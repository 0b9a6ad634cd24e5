//! Where a name is taken: `open_or_create` (open what exists, else create
//! under the creation lock, reclaiming a segment whose creator died
//! initializing it), and `replace_stale`'s take-over of a stale segment,
//! with the errors that say why one was not replaced.

use super::create::{
    claim_step, initialize, stop_step, taken_over, InitGuard, Initialized, STOP_RETIRED,
};
use super::header::{HeaderPtr, Layout, HEADER_SIZE};
use super::object::{Object, Stat};
use super::open::{staleness, Backoff, Find, Found};
use super::options::Segment;
use super::publish;
use super::view::{check_align, View};
use crate::error::{Error, ErrorKind, Result};
use crate::map::Mapping;
use crate::shared::Origin;
use std::ptr::NonNull;
use std::time::Instant;

/// Opening or creating, reclaiming and replacing.
impl<A> Segment<A> {
    /// The creation lock of this segment's name, where creation publishes
    /// by a link (see `publish`); `None` elsewhere, where the header's
    /// compare-exchanges alone decide.
    pub(super) fn creation_lock(&self, deadline: Instant) -> Result<Option<publish::CreationLock>> {
        match self.publish_paths() {
            Some((dir, path, _)) => {
                publish::CreationLock::acquire(&dir, &path, deadline, &self.what()).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Takes a stale segment's name over, to create it anew: retires it
    /// (a compare-exchange of the state word it was judged by, so that of
    /// several replacers exactly one wins) and removes its name. `Ok` also
    /// when the name vanished meanwhile; an
    /// [`AlreadyExists`](crate::ErrorKind::AlreadyExists) error saying why when
    /// it is not stale, or another process is replacing it.
    pub(super) fn take_over(&self) -> Result<()> {
        let what = self.what();
        let (object, stat) = match self.open_object(true) {
            Ok(opened) => opened,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        // Another replacer may remove the object at any step (a System V
        // segment then cannot be attached): its name is free, create it.
        let gone = |e: Error| match object.stat(&what) {
            Ok(now) if now.linked => Err(e),
            _ => Ok(()),
        };
        let snapshot = match self.read_header(&object, &stat) {
            Ok(snapshot) => snapshot,
            Err(e) => return gone(e),
        };
        let seen = snapshot
            .as_ref()
            .ok_or_else(|| "it is shorter than a header of this library".to_owned())
            .and_then(staleness)
            .map_err(|why| self.exists_error(&why))?;
        // The header's page, writable (System V: the whole segment).
        let mapping = match object.map(HEADER_SIZE, true, &self.map_options, &what) {
            Ok(mapping) => mapping,
            Err(e) => return gone(e),
        };
        // SAFETY: page-aligned, at least `HEADER_SIZE` bytes, mapped while
        // `mapping` lives.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        if !header.retire(seen, std::process::id()) {
            return Err(self.exists_error(
                "another process is replacing it or took it over since it was judged stale",
            ));
        }
        stop_step(STOP_RETIRED);
        match self.target.remove(Some(stat.identity)) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The [`AlreadyExists`](crate::ErrorKind::AlreadyExists) error of a create
    /// that found the name taken, saying why it was not replaced.
    fn exists_error(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::AlreadyExists,
            format!("creating {}: it exists already, and {why}", self.what()),
        )
    }

    /// The error of a create without [`replace_stale`](Self::replace_stale)
    /// that found the name taken: it says whether the segment is stale, and
    /// names the option that would replace it.
    pub(super) fn exists_without_replace(&self, error: Error) -> Error {
        let judged = self.open_object(false).and_then(|(object, stat)| {
            Ok(self
                .read_header(&object, &stat)?
                .map(|snapshot| (staleness(&snapshot), snapshot.creator_pid())))
        });
        let what = self.what();
        let message = match judged {
            Ok(Some((Ok(_), pid))) => format!(
                "creating {what}: it exists already, left behind by its creator (pid {pid}), \
                 which is dead: create with `Segment::replace_stale(true)` to replace it, or \
                 remove it"
            ),
            Ok(Some((Err(why), _))) => format!(
                "creating {what}: it exists already (open it, or remove it first; \
                 `Segment::replace_stale(true)` would not replace it: {why})"
            ),
            _ => return error,
        };
        Error::new(ErrorKind::AlreadyExists, message)
    }

    pub(super) fn open_or_create_layout(
        &self,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        check_align(layout, &what)?;
        // Only sized here (not described: an open never encodes the
        // description); `create_object` below gets the full length.
        let _ = self.payload_end(layout, len)?;
        let deadline = self.deadline();
        let mut backoff = Backoff::new(deadline);
        let gave_up = || {
            Error::new(
                ErrorKind::TimedOut,
                format!(
                    "opening or creating {what}: gave up after {:?} of races with other \
                     processes creating and removing it",
                    self.open_timeout
                ),
            )
        };
        // `init` runs at most once: every path that calls it returns.
        let mut init = Some(init);
        // Whether this process retired a stale segment of the name.
        let mut replaced = false;
        let locks = self.publish_paths().is_some();
        loop {
            // The name usually exists: open it without any lock (a stale
            // one is replaced under the lock, where there is one).
            if let Some(view) =
                self.open_existing(layout, len, deadline, &mut init, !locks, &mut replaced)?
            {
                return Ok(view);
            }
            // Only one process at a time creates (where creation publishes
            // by a link; elsewhere the header's claim decides). Under the
            // lock, the previous holder may have just created it.
            let _lock = match self.creation_lock(deadline)? {
                Some(lock) => {
                    if let Some(view) =
                        self.open_existing(layout, len, deadline, &mut init, true, &mut replaced)?
                    {
                        return Ok(view);
                    }
                    Some(lock)
                }
                None => None,
            };
            let origin = if replaced {
                Origin::Reclaimed
            } else {
                Origin::Created
            };
            match self.create_object(self.total_len(layout, len)?) {
                Ok(created) => {
                    let init = init.take().expect("init runs once");
                    let mut pending = match self.init_created(created, layout, len, init)? {
                        Initialized::Named(mut view) => {
                            view.origin = origin;
                            return Ok(view);
                        }
                        Initialized::Pending(pending) => pending,
                    };
                    pending.view.origin = origin;
                    // Ready, not yet under its name. Only a plain `create`
                    // (which takes no lock) can have taken the name since:
                    // then open that one; should it vanish again, link ours.
                    loop {
                        match self.publish(&pending) {
                            Ok(()) => return Ok(pending.view),
                            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                            Err(e) => return Err(e),
                        }
                        match self.find(layout, true, deadline, Find::OrCreate) {
                            Ok(Found::Ready(view)) => return Ok(view),
                            Ok(Found::Abandoned { pid, .. }) => return Err(self.creator_died(pid)),
                            Ok(Found::Stale) => unreachable!("not asked for"),
                            Err(e) if e.kind() == ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                        if !backoff.wait() {
                            return Err(gave_up());
                        }
                    }
                }
                // Created under its name by another process meanwhile.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            if !backoff.wait() {
                return Err(gave_up());
            }
        }
    }

    /// Opens the segment if it exists (`None` if it does not), reclaiming
    /// it with `init` from a creator that died initializing it in place.
    /// With [`replace_stale`](Self::replace_stale), a stale segment is
    /// retired and its name removed when `may_replace` (under the creation
    /// lock, or where there is none; else it is left for the call under the
    /// lock): then `*replaced` and `None`, so that the caller creates anew.
    fn open_existing(
        &self,
        layout: &Layout,
        len: usize,
        deadline: Instant,
        init: &mut Option<impl FnOnce(NonNull<u8>)>,
        may_replace: bool,
        replaced: &mut bool,
    ) -> Result<Option<View>> {
        let how = if self.replace_stale {
            Find::OrReplace
        } else {
            Find::OrCreate
        };
        match self.find(layout, true, deadline, how) {
            Ok(Found::Ready(view)) => Ok(Some(view)),
            Ok(Found::Stale) if !may_replace => Ok(None),
            Ok(Found::Stale) => match self.take_over() {
                Ok(()) => {
                    *replaced = true;
                    Ok(None)
                }
                // Another process replaced it first: open or create again.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(e),
            },
            Ok(Found::Abandoned {
                object,
                stat,
                mapping,
                seen,
                ..
            }) => {
                // SAFETY: `find` mapped at least the header, page-aligned.
                let header = unsafe { HeaderPtr::new(mapping.ptr()) };
                let pid = std::process::id();
                if header.reclaim(seen, pid) {
                    claim_step();
                    if header.set_creator(pid, self.remove_on_drop, false) {
                        let init = init.take().expect("init runs once");
                        return self
                            .init_reclaimed(object, stat, mapping, layout, len, init)
                            .map(Some);
                    }
                }
                // Another process reclaimed it first (or took it over from
                // this one, judging it dead): wait for it.
                match self.find(layout, true, deadline, Find::OrCreate) {
                    Ok(Found::Ready(view)) => Ok(Some(view)),
                    Ok(Found::Abandoned { pid, .. }) => Err(self.creator_died(pid)),
                    Ok(Found::Stale) => unreachable!("not asked for"),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
            // Not there (or removed since we saw it): create it.
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Re-initializes a segment this process reclaimed from a dead creator.
    fn init_reclaimed(
        &self,
        object: Object,
        stat: Stat,
        mapping: Mapping,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        let pid = std::process::id();
        let total = self.total_len(layout, len)?;
        let mapping = if stat.size < total {
            // SAFETY: `mapping` covers the header, page-aligned.
            let old = unsafe { HeaderPtr::new(mapping.ptr()) };
            let grown = object
                .grow(total, self.reserve, &what)
                .and_then(|()| object.map(total, true, &self.map_options, &what));
            match grown {
                Ok(new) => new,
                Err(e) => {
                    old.abandon(pid);
                    return Err(e);
                }
            }
        } else {
            mapping
        };
        // SAFETY: page-aligned, at least `total >= HEADER_SIZE` bytes.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        let guard = InitGuard {
            target: &self.target,
            remove: None,
            header: Some(header),
            pid,
        };
        let by_fd = self.description_fd(&object);
        // SAFETY: this process reclaimed the header with a compare-exchange;
        // `initialize` zeroes the payload the dead creator left; `by_fd` is
        // the mapped object's descriptor.
        let published = unsafe {
            initialize(
                header, &mapping, by_fd, layout, len, pid, false, &what, init,
            )
        }?;
        guard.disarm();
        if !published {
            return Err(taken_over(&what));
        }
        Ok(View {
            mapping,
            offset: layout.payload_offset(),
            len,
            identity: stat.identity,
            origin: Origin::Reclaimed,
        })
    }
}
