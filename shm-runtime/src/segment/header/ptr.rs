//! [`HeaderPtr`]: the header in a mapping, accessed through raw pointers:
//! claiming, recording the creator, writing the fields, publishing.

use super::creator::process_start;
use super::format::{
    checksum, floor_char_boundary, Header, FLAG_LINKED, FLAG_TIED, FORMAT_VERSION, HEADER_SIZE,
    MAGIC, NATIVE_ENDIAN, STATE_ABANDONED, STATE_CLAIMED, STATE_INITIALIZING, STATE_READY,
    STATE_RETIRED, TYPE_NAME_BYTES,
};
use super::layout::Layout;
use crate::liveness::pid_namespace;
use std::mem::size_of;
use std::ptr::{addr_of, addr_of_mut, NonNull};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// A pointer to the header at the start of a mapping of at least
/// [`HEADER_SIZE`] bytes, aligned to a page.
#[derive(Clone, Copy)]
pub(crate) struct HeaderPtr(NonNull<Header>);

impl HeaderPtr {
    /// # Safety
    /// `base` is page-aligned and points to at least `HEADER_SIZE` mapped,
    /// readable bytes that stay mapped while this value is used.
    pub(crate) unsafe fn new(base: NonNull<u8>) -> HeaderPtr {
        HeaderPtr(base.cast())
    }

    fn magic(&self) -> &AtomicU64 {
        // SAFETY: the header is mapped and aligned (constructor contract);
        // an atomic may be shared with concurrent writers of any process.
        unsafe { &*addr_of!((*self.0.as_ptr()).magic) }
    }

    fn version(&self) -> &AtomicU32 {
        // SAFETY: as for `magic`.
        unsafe { &*addr_of!((*self.0.as_ptr()).version) }
    }

    fn header_size(&self) -> &AtomicU32 {
        // SAFETY: as for `magic`.
        unsafe { &*addr_of!((*self.0.as_ptr()).header_size) }
    }

    fn state(&self) -> &AtomicU64 {
        // SAFETY: as for `magic`.
        unsafe { &*addr_of!((*self.0.as_ptr()).state) }
    }

    fn creator_pid_ns(&self) -> &AtomicU64 {
        // SAFETY: as for `magic`.
        unsafe { &*addr_of!((*self.0.as_ptr()).creator_pid_ns) }
    }

    fn creator_start(&self) -> &AtomicU64 {
        // SAFETY: as for `magic`.
        unsafe { &*addr_of!((*self.0.as_ptr()).creator_start) }
    }

    fn creator_ns_key(&self) -> &AtomicU64 {
        // SAFETY: as for `magic`.
        unsafe { &*addr_of!((*self.0.as_ptr()).creator_ns_key) }
    }

    fn flags(&self) -> &AtomicU32 {
        // SAFETY: as for `magic`.
        unsafe { &*addr_of!((*self.0.as_ptr()).flags) }
    }

    /// Records who just claimed the header (state "claimed" with `pid`):
    /// its PID namespace, its process start time and the namespaces that
    /// time is relative to, and whether the segment's lifetime is `tied` to
    /// it (`remove_on_drop`); then moves the state to "initializing" with a
    /// release compare-exchange, so that whoever sees that state sees this
    /// record. `false` (nothing is this process's any more) when another
    /// process took the header over meanwhile.
    ///
    /// `linked`: the segment has no name yet and gets it by a link once
    /// ready ([`FLAG_LINKED`]).
    pub(crate) fn set_creator(&self, pid: u32, tied: bool, linked: bool) -> bool {
        let (start, key) = process_start();
        self.creator_start().store(start, Ordering::Relaxed);
        self.creator_ns_key().store(key, Ordering::Relaxed);
        let flags = if tied { FLAG_TIED } else { 0 } | if linked { FLAG_LINKED } else { 0 };
        self.flags().store(flags, Ordering::Relaxed);
        self.creator_pid_ns()
            .store(pid_namespace(), Ordering::Relaxed);
        self.state()
            .compare_exchange(
                Self::word(STATE_CLAIMED, pid),
                Self::word(STATE_INITIALIZING, pid),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// The state word of a given state and creator pid.
    fn word(state: u64, pid: u32) -> u64 {
        (state << 32) | u64::from(pid)
    }

    /// Claims a fresh (all-zero) header for the creator `pid` (state
    /// "claimed"; [`set_creator`](Self::set_creator) follows): exactly one
    /// claimer wins.
    pub(crate) fn claim_fresh(&self, pid: u32) -> bool {
        self.state()
            .compare_exchange(
                0,
                Self::word(STATE_CLAIMED, pid),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Takes over a segment whose creator died or gave up, seen with state
    /// word `seen` (state "claimed"; [`set_creator`](Self::set_creator)
    /// follows): exactly one reclaimer wins. Never a retired one.
    pub(crate) fn reclaim(&self, seen: u64, pid: u32) -> bool {
        debug_assert_ne!(seen >> 32, STATE_RETIRED, "retired segments are replaced");
        self.state()
            .compare_exchange(
                seen,
                Self::word(STATE_CLAIMED, pid),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Retires a stale segment seen with state word `seen`, for the
    /// replacer `pid` that is about to remove its name: exactly one
    /// replacer wins, and nobody reclaims it in place afterwards.
    pub(crate) fn retire(&self, seen: u64, pid: u32) -> bool {
        self.state()
            .compare_exchange(
                seen,
                Self::word(STATE_RETIRED, pid),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Marks a claimed segment as given up by its creator `pid`, so that
    /// openers stop waiting for it and `open_or_create` may reclaim it.
    pub(crate) fn abandon(&self, pid: u32) {
        for state in [STATE_INITIALIZING, STATE_CLAIMED] {
            let gave_up = self.state().compare_exchange(
                Self::word(state, pid),
                Self::word(STATE_ABANDONED, pid),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            if gave_up.is_ok() {
                return;
            }
        }
    }

    /// Writes every field but the state word, for a payload of `len`
    /// elements of `layout`, and, with `block`, the description block after
    /// the payload (without, the caller writes the block, and the zero gap
    /// before it, by other means: `pwrite` to the descriptor).
    ///
    /// # Safety
    /// The caller claimed the header (it is in state "initializing" with the
    /// caller's pid), so no other process reads or writes its plain fields
    /// or the description block, and the mapping is writable and at least
    /// `layout.total_len(len)` bytes long (with `block`; else at least the
    /// header).
    pub(crate) unsafe fn write_fields(&self, layout: &Layout, len: usize, block: bool) {
        let h = self.0.as_ptr();
        let name = layout.type_name.as_bytes();
        let name_len = floor_char_boundary(layout.type_name, TYPE_NAME_BYTES);
        let mut type_name = [0u8; TYPE_NAME_BYTES];
        type_name[..name_len].copy_from_slice(&name[..name_len]);
        // SAFETY: the plain fields are ours alone (caller's contract) and
        // inside the mapped header; raw writes create no reference.
        unsafe {
            addr_of_mut!((*h).fingerprint).write(layout.fingerprint.as_u64());
            addr_of_mut!((*h).type_size).write(layout.size as u64);
            addr_of_mut!((*h).type_align).write(layout.align as u64);
            addr_of_mut!((*h).payload_offset).write(layout.payload_offset() as u64);
            addr_of_mut!((*h).payload_len).write(len as u64);
            addr_of_mut!((*h).payload_bytes).write((layout.size * len) as u64);
            addr_of_mut!((*h).payload_kind).write(layout.kind);
            addr_of_mut!((*h).pointer_width).write(size_of::<usize>() as u8);
            addr_of_mut!((*h).endian).write(NATIVE_ENDIAN);
            addr_of_mut!((*h).type_name_len).write(name_len as u16);
            addr_of_mut!((*h).type_name).write(type_name);
        }
        let (desc_at, desc_len) = layout.desc_block(len).expect("checked by `total_len`");
        let bytes = layout.description().unwrap_or(&[]);
        let payload_end = layout.payload_offset() + layout.size * len;
        // SAFETY: as above; the block (and the gap of at most 7 bytes before
        // it) lies inside the mapping, which holds `total_len(len)` bytes:
        // `desc_at + desc_len` (caller's contract), and is this process's
        // alone until it is published. Nothing else of the mapping is
        // referenced while these bytes are copied.
        unsafe {
            addr_of_mut!((*h).desc_len).write(desc_len as u32);
            addr_of_mut!((*h).desc_offset).write(desc_at as u64);
            addr_of_mut!((*h).desc_checksum).write(checksum(bytes));
            addr_of_mut!((*h).reserved).write([0; 16]);
            if block && desc_len != 0 {
                let base = h.cast::<u8>();
                base.add(payload_end).write_bytes(0, desc_at - payload_end);
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(desc_at), desc_len);
            }
        }
        self.header_size()
            .store(HEADER_SIZE as u32, Ordering::Relaxed);
        self.version().store(FORMAT_VERSION, Ordering::Relaxed);
        self.magic().store(MAGIC, Ordering::Release);
    }

    /// Publishes a fully initialized segment: every write before this call
    /// is visible to whoever then sees "ready". A compare-exchange from
    /// "initializing" by `pid`: `false` (nothing published) when another
    /// process retired or reclaimed the header meanwhile, whose state word
    /// is never overwritten.
    pub(crate) fn publish(&self, pid: u32) -> bool {
        self.state()
            .compare_exchange(
                Self::word(STATE_INITIALIZING, pid),
                Self::word(STATE_READY, pid),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::creator::Creator;
    use super::super::snapshot::Snapshot;
    use super::super::state::{classify, Poll};
    use super::*;

    /// A page-aligned, zeroed buffer standing in for a mapped header.
    #[repr(C, align(4096))]
    struct Page([u8; 4096]);

    fn header(page: &mut Page) -> HeaderPtr {
        // SAFETY: the page is aligned and outlives every use in the test.
        unsafe { HeaderPtr::new(NonNull::from(&mut page.0).cast()) }
    }

    fn word_of(header: &HeaderPtr) -> u64 {
        header.state().load(Ordering::Acquire)
    }

    /// The behaviour: a claim (fresh or reclaiming) reads "claimed" until
    /// the claimer recorded itself; only then can it publish; a header
    /// retired (or reclaimed) by another process meanwhile is never
    /// overwritten by the publish, and a retired one is never reclaimed.
    #[test]
    #[cfg_attr(miri, ignore = "reads /proc for this process's start time")]
    fn claims_record_before_initializing_and_publish_never_overwrites() {
        let mut page = Page([0; 4096]);
        let h = header(&mut page);
        let (me, other) = (std::process::id(), std::process::id() + 1);
        assert!(h.claim_fresh(me));
        let claimed = word_of(&h);
        assert_eq!(
            classify(0, claimed, || 0, || 0),
            Poll::Initializing {
                pid: me,
                word: claimed,
                recorded: false
            }
        );
        assert!(!h.publish(me), "not publishable before it is recorded");
        assert!(h.set_creator(me, true, false));
        let initializing = word_of(&h);
        assert_eq!(
            classify(0, initializing, || 0, || 0),
            Poll::Initializing {
                pid: me,
                word: initializing,
                recorded: true
            }
        );
        // Another process retires it (judging this one dead): the publish
        // fails and leaves "retired".
        assert!(h.retire(initializing, other));
        let retired = word_of(&h);
        assert!(!h.publish(me));
        assert_eq!(word_of(&h), retired);
        h.abandon(me);
        assert_eq!(word_of(&h), retired, "abandon leaves another's state");
        // A reclaimer of another's claim cannot record itself or publish
        // once a third process took the header over.
        let mut page = Page([0; 4096]);
        let h = header(&mut page);
        assert!(h.claim_fresh(other));
        assert!(h.reclaim(word_of(&h), me));
        assert!(!h.set_creator(other, false, false), "no longer its claim");
        assert!(h.set_creator(me, false, false));
        assert!(h.publish(me));
        assert_eq!(word_of(&h) >> 32, STATE_READY);
    }

    /// The behaviour: a pid is judged by a recorded start time only when
    /// the record is its own ("initializing", "ready"); while "claimed"
    /// (the record may be a dead predecessor's) and "retired" (the record
    /// is the dead creator's, the pid the replacer's), a live pid is alive
    /// whatever start time the header holds.
    #[test]
    #[cfg_attr(miri, ignore = "reads /proc to judge pids")]
    fn start_times_are_compared_only_with_their_own_pid() {
        let mut page = Page([0; 4096]);
        let h = header(&mut page);
        let me = std::process::id();
        assert!(h.claim_fresh(me));
        assert!(h.set_creator(me, true, false));
        if pid_namespace() == 0 {
            eprintln!("no PID namespace to record here: no pid can be judged");
            return;
        }
        let (start, key) = process_start();
        // Another process's start time (a dead predecessor's).
        h.creator_start()
            .store(start.wrapping_add(1), Ordering::Relaxed);
        // A retired header has its magic (which `classify` requires).
        h.magic().store(MAGIC, Ordering::Relaxed);
        h.version().store(FORMAT_VERSION, Ordering::Relaxed);
        let snapshot = |state: u64| {
            h.state()
                .store(HeaderPtr::word(state, me), Ordering::Relaxed);
            // SAFETY: the page's first HEADER_SIZE bytes are initialized,
            // and no other thread writes them.
            let bytes = unsafe { &*h.0.as_ptr().cast::<[u8; HEADER_SIZE]>() };
            Snapshot::decode(bytes)
        };
        for state in [STATE_CLAIMED, STATE_RETIRED] {
            assert_eq!(snapshot(state).creator(), Creator::Alive, "state {state}");
        }
        let expected = if start != 0 && key != 0 {
            Creator::Dead
        } else {
            Creator::Alive // start times unknown here: judged by pid
        };
        assert_eq!(snapshot(STATE_INITIALIZING).creator(), expected);
    }
}
