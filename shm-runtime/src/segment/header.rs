//! The header at offset 0 of every named, file and System V segment.
//!
//! ```text
//! offset size field
//!      0    8 magic            b"SHMRTSEG" read as a native u64 (atomic)
//!      8    4 format version   FORMAT_VERSION (atomic); see the table below
//!     12    4 header size      256 (atomic)
//!     16    8 state word       (state << 32) | creator pid (atomic)
//!                              state: 0 uninitialized, 1 initializing,
//!                                     2 ready, 3 abandoned, 4 retired
//!                                     (being replaced, since format 3),
//!                                     5 claimed (its claimer not yet
//!                                     recorded at 192..220, since
//!                                     format 3)
//!     24    8 fingerprint      the payload type's layout fingerprint
//!     32    8 type size        size_of::<T>()
//!     40    8 type align       align_of::<T>()
//!     48    8 payload offset   max(256, align_of::<T>())
//!     56    8 payload length   element count (1 for a single value)
//!     64    8 payload bytes    type size * payload length
//!     72    4 payload kind     1 single value, 2 slice
//!     76    1 pointer width    size_of::<usize>()
//!     77    1 byte order       1 little endian, 2 big endian
//!     78    2 type name length bytes used in the next field
//!     80  112 type name        std::any::type_name::<T>(), truncated
//!    192    8 creator pid ns   inode of the creator's PID namespace, 0 while
//!                              unknown (atomic)
//!    200    8 creator start    the creator's process start time, in clock
//!                              ticks since boot folded into 32 bits, 0 when
//!                              unknown (atomic; since format 3)
//!    208    8 creator ns key   the creator's PID and time namespaces, to
//!                              which that start time is relative, 0 when
//!                              unknown (atomic; since format 3)
//!    216    4 flags            bit 0: the segment's lifetime is tied to its
//!                              creator (made with `remove_on_drop`), so it is
//!                              stale once the creator is dead (atomic; since
//!                              format 3); bit 1: published by link (the
//!                              header was complete and "ready" before the
//!                              segment had its name, so one read of the
//!                              whole header is consistent; since format 4)
//!    220    4 description len  bytes of the layout description block, 0 when
//!                              the segment stores none (since format 4)
//!    224    8 description off  where the block starts, in bytes from the
//!                              start of the object: 0 when there is none,
//!                              else round_up(payload offset + payload bytes,
//!                              8) (since format 4)
//!    232    8 description sum  FNV-1a 64 of the block's bytes (since
//!                              format 4)
//!    240   16 reserved         zero
//! ```
//!
//! All fields are in the creator's byte order (field 77; readers refuse the
//! other one) and at their natural alignment.
//!
//! # The layout description block (format 4)
//!
//! A segment stores the [layout description](crate::layout::describe) of
//! its payload type (the element type of a slice) after the payload:
//!
//! ```text
//! 0                256 (or align)          payload end  desc off        desc off + desc len
//! | header          | payload              | 0..7 zero  | description   |
//! ```
//!
//! - The payload offset is header field 48, as in every format:
//!   `max(256, type align)`. The payload is `payload bytes` (field 64) long.
//! - The description starts at `round_up(payload offset + payload bytes, 8)`
//!   (field 224) and is `description len` (field 220) bytes long, at most
//!   [`MAX_LEN`](crate::layout::describe::MAX_LEN) (1 MiB). The object is at
//!   least `description off + description len` bytes long; the bytes between
//!   the payload's end and the description are zero.
//! - Its checksum (field 232) is FNV-1a 64 over exactly its bytes:
//!   start from `0xcbf29ce484222325`; for each byte, `h ^= byte; h =
//!   h * 0x100000001b3 (mod 2^64)`.
//! - Its bytes follow the description format of
//!   [`describe`](crate::layout::describe#the-format-version-1) (little-endian
//!   whatever the header's byte order), and are untrusted: a reader checks
//!   `description off == round_up(payload offset + payload bytes, 8)`,
//!   `description len <= 1 MiB`, that the object holds the block, and the
//!   checksum, before decoding it with every bound checked.
//! - `description len == 0` (and `description off == 0`): no description
//!   is stored (its creator's type was beyond the format's
//!   [limits](crate::layout::describe#limits)).
//!
//! The description is written with the other fields, before "ready"; like
//! them it is final once the state word says "ready". Opening a segment
//! reads it only when the fingerprint differs (to say what differs): the
//! common open never reads or decodes it.
//!
//! The magic, version, header size and state word are atomics: openers read
//! them while the creator may still be writing.
//!
//! The creator's record (PID namespace, start time, namespace key, flags at
//! 192..220) belongs to the pid of the state word only in the states
//! "initializing" and "ready": a claimer (of a fresh header, or reclaiming
//! one whose creator died or gave up) compare-exchanges the state word to
//! "claimed" with its pid, writes its record, and only then moves "claimed"
//! to "initializing" (a release compare-exchange), so that a reader never
//! judges a pid by the start time of another process (the previous,
//! possibly dead, creator whose record is still there). In "claimed",
//! "abandoned" and "retired" the state word's pid is judged by its existence
//! alone (a retired segment's record is still its dead creator's, not its
//! replacer's). Every other field is written
//! by the creator between claiming the state word (uninitialized ->
//! initializing, a compare-exchange) and publishing "ready" (a release
//! store), and read by openers only after an acquire load saw "ready". The
//! header is therefore only ever accessed through raw pointers, never through
//! a `&Header` that would claim the non-atomic fields are not being written.
//!
//! # Format versions
//!
//! A segment of another version is refused with
//! [`UnsupportedVersion`](crate::ErrorKind::UnsupportedVersion) (never
//! `WrongType` or `NotASegment`): older ones ask to be recreated, newer ones
//! for an upgrade.
//!
//! | version | changes | written by |
//! |---|---|---|
//! | 1 | the first format | shm-runtime 0.1 until the soundness rework |
//! | 2 | same header fields; the fingerprint is computed from the type's layout description ([`crate::layout`]): 128-bit enum discriminants are hashed whole, library types by their protocol; payloads are checked for valid values at open | shm-runtime 0.1 since the soundness rework |
//! | 3 | the creator's process start time and namespace key (offsets 200, 208) and the flags word (216, bit 0: tied to its creator) in what were reserved bytes, so that a segment left behind by a dead creator is told from one whose creator's pid was reused ([`Segment::replace_stale`](super::Segment::replace_stale)); the states 4 retired and 5 claimed | shm-runtime 0.1 since stale segments are replaced |
//! | 4 | the layout description block after the payload, located by the fields at 220 (length), 224 (offset) and 232 (checksum) in what were reserved bytes ([above](#the-layout-description-block-format-4)); a wrong-type open names the first difference; bit 1 of the flags (published by link), which lets an opener read the header in one `pread` | shm-runtime 0.1 since segments describe their type |

use crate::error::{Error, ErrorKind, Result};
use crate::layout::describe::{self, Description};
use crate::layout::TypeLayout;
#[cfg(not(target_os = "linux"))]
use crate::liveness::pid_alive;
pub(crate) use crate::liveness::pid_namespace;
use crate::Fingerprint;
use std::cell::OnceCell;
use std::mem::{align_of, offset_of, size_of};
use std::ptr::{addr_of, addr_of_mut, NonNull};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `b"SHMRTSEG"` as a native-endian word: a segment made on a machine of the
/// other byte order reads as its byte swap.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"SHMRTSEG");
/// The header format this version writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 4;
/// The size of the header in bytes; payloads start at or after it.
pub(crate) const HEADER_SIZE: usize = 256;
const TYPE_NAME_BYTES: usize = 112;

const STATE_UNINIT: u64 = 0;
const STATE_INITIALIZING: u64 = 1;
const STATE_READY: u64 = 2;
const STATE_ABANDONED: u64 = 3;
const STATE_RETIRED: u64 = 4;
const STATE_CLAIMED: u64 = 5;

pub(crate) const KIND_VALUE: u32 = 1;
pub(crate) const KIND_SLICE: u32 = 2;

const LITTLE_ENDIAN: u8 = 1;
const BIG_ENDIAN: u8 = 2;
const NATIVE_ENDIAN: u8 = if cfg!(target_endian = "little") {
    LITTLE_ENDIAN
} else {
    BIG_ENDIAN
};

#[repr(C)]
struct Header {
    magic: AtomicU64,
    version: AtomicU32,
    header_size: AtomicU32,
    state: AtomicU64,
    fingerprint: u64,
    type_size: u64,
    type_align: u64,
    payload_offset: u64,
    payload_len: u64,
    payload_bytes: u64,
    payload_kind: u32,
    pointer_width: u8,
    endian: u8,
    type_name_len: u16,
    type_name: [u8; TYPE_NAME_BYTES],
    creator_pid_ns: AtomicU64,
    creator_start: AtomicU64,
    creator_ns_key: AtomicU64,
    flags: AtomicU32,
    desc_len: u32,
    desc_offset: u64,
    desc_checksum: u64,
    reserved: [u8; 16],
}

const _: () = {
    assert!(size_of::<Header>() == HEADER_SIZE);
    assert!(align_of::<Header>() <= 8);
    assert!(offset_of!(Header, state) == 16);
    assert!(offset_of!(Header, payload_kind) == 72);
    assert!(offset_of!(Header, type_name) == 80);
    assert!(offset_of!(Header, creator_pid_ns) == 192);
    assert!(offset_of!(Header, creator_start) == 200);
    assert!(offset_of!(Header, creator_ns_key) == 208);
    assert!(offset_of!(Header, flags) == 216);
    assert!(offset_of!(Header, desc_len) == 220);
    assert!(offset_of!(Header, desc_offset) == 224);
    assert!(offset_of!(Header, desc_checksum) == 232);
    assert!(offset_of!(Header, reserved) == 240);
};

/// The checksum of a description block: FNV-1a 64.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Where a description block of `desc_len` bytes starts after a payload
/// ending at `payload_end`; `None` on overflow.
fn desc_offset_after(payload_end: u64) -> Option<u64> {
    payload_end.checked_add(7).map(|e| e & !7)
}

/// Flag bit: the segment's lifetime is tied to its creator's (it was made
/// with `remove_on_drop`).
pub(crate) const FLAG_TIED: u32 = 1;
/// Flag bit: the segment was published by link (made without a name,
/// marked "ready", then linked under its name), so every header field was
/// written before any opener could find it: an opener may read the whole
/// header in one `pread` instead of the state word, a fence, then the rest.
pub(crate) const FLAG_LINKED: u32 = 2;

/// Where the header's bytes come from, for the reads made after the state
/// prefix (the description block): `pread` of a descriptor or loads from a
/// System V attachment, never a mapping that a truncation turns into
/// `SIGBUS`. Implemented by the segment reader, which sits above this file.
pub(crate) trait ReadAt {
    /// Reads up to `buf.len()` bytes at `offset`; fewer at the end of the
    /// object.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize>;
}

/// What a segment's payload is: the type and whether it is one value or a
/// slice.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub(crate) fingerprint: Fingerprint,
    pub(crate) type_name: &'static str,
    pub(crate) size: usize,
    pub(crate) align: usize,
    pub(crate) kind: u32,
    /// The type's layout, described into the segment when it is created.
    pub(crate) type_layout: &'static TypeLayout,
    /// Its encoded description, made on the first creation that needs it
    /// (never by an open); `None` when the type is beyond the format's
    /// limits (the segment then stores no description).
    description: OnceCell<Option<Vec<u8>>>,
}

impl Layout {
    pub(crate) fn value<T: crate::SharedSafe>() -> Layout {
        Layout {
            fingerprint: T::FINGERPRINT,
            type_name: std::any::type_name::<T>(),
            size: size_of::<T>(),
            align: align_of::<T>(),
            kind: KIND_VALUE,
            type_layout: T::LAYOUT,
            description: OnceCell::new(),
        }
    }

    pub(crate) fn slice<T: crate::SharedSafe>() -> Layout {
        Layout {
            kind: KIND_SLICE,
            ..Layout::value::<T>()
        }
    }

    /// Where the payload starts: after the header, aligned for the type.
    pub(crate) fn payload_offset(&self) -> usize {
        HEADER_SIZE.max(self.align)
    }

    /// The encoded description of the type, stored after the payload (one
    /// encode per `Layout`, on first use).
    pub(crate) fn description(&self) -> Option<&[u8]> {
        self.description
            .get_or_init(|| {
                describe::encode(self.type_layout)
                    .ok()
                    .filter(|bytes| bytes.len() <= describe::MAX_LEN)
            })
            .as_deref()
    }

    /// Where the description block of a payload of `len` elements starts,
    /// and how long it is: `(0, 0)` when none is stored; `None` on
    /// overflow.
    fn desc_block(&self, len: usize) -> Option<(usize, usize)> {
        let Some(bytes) = self.description() else {
            return Some((0, 0));
        };
        let end = self
            .size
            .checked_mul(len)?
            .checked_add(self.payload_offset())?;
        let at = desc_offset_after(end as u64)?;
        Some((usize::try_from(at).ok()?, bytes.len()))
    }

    /// Header, `len` elements and the description block, or `None` on
    /// overflow.
    pub(crate) fn total_len(&self, len: usize) -> Option<usize> {
        let payload_end = self
            .size
            .checked_mul(len)?
            .checked_add(self.payload_offset())?;
        let end = match self.desc_block(len)? {
            (0, 0) => payload_end,
            (at, desc_len) => at.checked_add(desc_len)?,
        };
        Some(end).filter(|total| *total <= isize::MAX as usize)
    }

    /// How the requested view reads in messages: `Shared<T>` or `Shared<[T]>`.
    pub(crate) fn requested(&self) -> String {
        if self.kind == KIND_SLICE {
            format!("`Shared<[{}]>`", self.type_name)
        } else {
            format!("`Shared<{}>`", self.type_name)
        }
    }
}

/// The state of a segment as one load of its header sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Poll {
    /// All zero: the creator has not claimed it yet.
    Uninit,
    /// The creator `pid` is writing it; `word` is the state word seen.
    /// `recorded`: the creator's record (start time, namespaces) is its own
    /// (state "initializing"); `false` while it has only claimed the header
    /// (state "claimed"), when the record may still be a previous
    /// creator's.
    Initializing { pid: u32, word: u64, recorded: bool },
    /// Published: every field and the payload may be read.
    Ready,
    /// The creator `pid` gave up (its initializer panicked or failed).
    Abandoned { pid: u32, word: u64 },
    /// A ready segment whose creator died, being replaced by `pid`, which
    /// is about to remove its name: never initialized again in place
    /// (processes that mapped it may still hold references to it).
    Retired { pid: u32, word: u64 },
    /// Not a header of this library.
    Garbage,
    /// A header of a newer format version.
    Newer(u32),
    /// A ready header of an older format version, which this version no
    /// longer reads (its fingerprints were computed another way).
    Older(u32),
    /// A header written with the other byte order.
    OtherEndian,
}

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
    /// elements of `layout`, and the description block after the payload.
    ///
    /// # Safety
    /// The caller claimed the header (it is in state "initializing" with the
    /// caller's pid), so no other process reads or writes its plain fields
    /// or the description block, and the mapping is writable and at least
    /// `layout.total_len(len)` bytes long.
    pub(crate) unsafe fn write_fields(&self, layout: &Layout, len: usize) {
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
            if desc_len != 0 {
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

/// What an older header format lacks, for the message that refuses it.
pub(crate) fn older_format_differs(version: u32) -> &'static str {
    match version {
        1 => "its type fingerprints are computed differently",
        2 => "it records no creator start time, and it stores no layout description",
        _ => "it stores no layout description of its type",
    }
}

/// The state of a header from its magic and state word; `version` and
/// `header_size` are read only when the magic says the creator wrote them.
fn classify(
    magic: u64,
    word: u64,
    version: impl Fn() -> u32,
    header_size: impl Fn() -> u32,
) -> Poll {
    let (state, pid) = (word >> 32, word as u32);
    if magic == MAGIC.swap_bytes() {
        return Poll::OtherEndian;
    }
    if magic != 0 && magic != MAGIC {
        return Poll::Garbage;
    }
    if magic == MAGIC {
        let version = version();
        if version > FORMAT_VERSION {
            return Poll::Newer(version);
        }
    }
    match state {
        STATE_UNINIT if word == 0 => Poll::Uninit,
        STATE_INITIALIZING if pid != 0 => Poll::Initializing {
            pid,
            word,
            recorded: true,
        },
        STATE_CLAIMED if pid != 0 => Poll::Initializing {
            pid,
            word,
            recorded: false,
        },
        STATE_READY if magic == MAGIC => {
            let version = version();
            if (1..FORMAT_VERSION).contains(&version) {
                Poll::Older(version)
            } else if version != FORMAT_VERSION || (header_size() as usize) < HEADER_SIZE {
                Poll::Garbage
            } else {
                Poll::Ready
            }
        }
        STATE_ABANDONED if pid != 0 => Poll::Abandoned { pid, word },
        STATE_RETIRED if pid != 0 && magic == MAGIC => Poll::Retired { pid, word },
        _ => Poll::Garbage,
    }
}

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
fn process_start() -> (u64, u64) {
    #[cfg(target_os = "linux")]
    {
        let me = crate::sync::owner::me();
        if me.starts_comparable {
            return (u64::from(me.process_start), me.ns);
        }
    }
    (0, 0)
}

/// The bytes of the header up to and including the state word: a reader
/// copies these first, then (after an acquire fence) the rest, so that a
/// state word that says "ready" guarantees the fields read after it.
pub(crate) const STATE_PREFIX: usize = offset_of!(Header, state) + size_of::<u64>();

/// Every field of a header, decoded from a copy of its bytes (for
/// inspection tools: nothing here is checked against a type).
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    pub(crate) poll: Poll,
    pub(crate) magic_written: bool,
    pub(crate) version: u32,
    pub(crate) state_word: u64,
    pub(crate) fingerprint: u64,
    pub(crate) type_size: u64,
    pub(crate) type_align: u64,
    pub(crate) payload_offset: u64,
    pub(crate) payload_len: u64,
    pub(crate) payload_bytes: u64,
    pub(crate) slice: bool,
    pub(crate) pointer_width: u8,
    /// `Some(true)` little endian, `Some(false)` big endian, `None` unknown.
    pub(crate) little_endian: Option<bool>,
    pub(crate) type_name: String,
    pub(crate) creator_pid_ns: u64,
    /// The creator's process start time (0: unknown; format 3).
    pub(crate) creator_start: u64,
    /// The namespaces that start time is relative to (0: unknown).
    pub(crate) creator_ns_key: u64,
    /// The flags word ([`FLAG_TIED`]).
    pub(crate) flags: u32,
    /// The description block's length (0: none; format 4).
    pub(crate) desc_len: u32,
    /// Where it starts (0: none).
    pub(crate) desc_offset: u64,
    /// Its FNV-1a 64 checksum.
    pub(crate) desc_checksum: u64,
}

impl Snapshot {
    /// Decodes a copy of the first [`HEADER_SIZE`] bytes of an object, in
    /// this machine's byte order.
    pub(crate) fn decode(bytes: &[u8; HEADER_SIZE]) -> Snapshot {
        fn at<const N: usize>(bytes: &[u8; HEADER_SIZE], offset: usize) -> [u8; N] {
            bytes[offset..offset + N].try_into().expect("N bytes")
        }
        let u64_at = |o| u64::from_ne_bytes(at(bytes, o));
        let u32_at = |o| u32::from_ne_bytes(at(bytes, o));
        let magic = u64_at(offset_of!(Header, magic));
        let word = u64_at(offset_of!(Header, state));
        let version = u32_at(offset_of!(Header, version));
        let header_size = u32_at(offset_of!(Header, header_size));
        let name_len = (u16::from_ne_bytes(at(bytes, offset_of!(Header, type_name_len))) as usize)
            .min(TYPE_NAME_BYTES);
        let name_at = offset_of!(Header, type_name);
        Snapshot {
            poll: classify(magic, word, || version, || header_size),
            magic_written: magic == MAGIC,
            version,
            state_word: word,
            fingerprint: u64_at(offset_of!(Header, fingerprint)),
            type_size: u64_at(offset_of!(Header, type_size)),
            type_align: u64_at(offset_of!(Header, type_align)),
            payload_offset: u64_at(offset_of!(Header, payload_offset)),
            payload_len: u64_at(offset_of!(Header, payload_len)),
            payload_bytes: u64_at(offset_of!(Header, payload_bytes)),
            slice: u32_at(offset_of!(Header, payload_kind)) == KIND_SLICE,
            pointer_width: bytes[offset_of!(Header, pointer_width)],
            little_endian: match bytes[offset_of!(Header, endian)] {
                LITTLE_ENDIAN => Some(true),
                BIG_ENDIAN => Some(false),
                _ => None,
            },
            type_name: String::from_utf8_lossy(&bytes[name_at..name_at + name_len]).into_owned(),
            creator_pid_ns: u64_at(offset_of!(Header, creator_pid_ns)),
            creator_start: u64_at(offset_of!(Header, creator_start)),
            creator_ns_key: u64_at(offset_of!(Header, creator_ns_key)),
            flags: u32_at(offset_of!(Header, flags)),
            desc_len: u32_at(offset_of!(Header, desc_len)),
            desc_offset: u64_at(offset_of!(Header, desc_offset)),
            desc_checksum: u64_at(offset_of!(Header, desc_checksum)),
        }
    }

    /// Where the description block lies, checked against the header's
    /// payload fields and the object's size: `Ok(None)` when the segment
    /// stores none; [`NotASegment`](ErrorKind::NotASegment) for fields that
    /// contradict each other, [`TooShort`](ErrorKind::TooShort) when the
    /// object ends before the block does.
    pub(crate) fn desc_block(&self, object_size: u64, what: &str) -> Result<Option<(u64, usize)>> {
        let corrupt = |why: &str| {
            Error::new(
                ErrorKind::NotASegment,
                format!("{what} has a corrupt header ({why})"),
            )
        };
        if self.desc_len == 0 {
            if self.desc_offset != 0 {
                return Err(corrupt(
                    "a layout description of 0 bytes at a nonzero offset",
                ));
            }
            return Ok(None);
        }
        let len = self.desc_len as usize;
        if len > describe::MAX_LEN {
            return Err(corrupt(&format!(
                "a layout description of {len} bytes, more than the {} a description may have",
                describe::MAX_LEN
            )));
        }
        let expected = self
            .payload_offset
            .checked_add(self.payload_bytes)
            .filter(|end| *end >= HEADER_SIZE as u64)
            .and_then(desc_offset_after);
        if expected != Some(self.desc_offset) {
            return Err(corrupt(&format!(
                "its layout description is at offset {}, not right after its payload",
                self.desc_offset
            )));
        }
        let Some(end) = self.desc_offset.checked_add(len as u64) else {
            return Err(corrupt(
                "its layout description ends past any object's size",
            ));
        };
        if end > object_size {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {object_size} bytes long but its layout description ends at byte \
                     {end}: it was truncated"
                ),
            ));
        }
        Ok(Some((self.desc_offset, len)))
    }

    /// The stored description block's bytes, read with `reader` (never
    /// through a mapping a truncation could turn into `SIGBUS`) after
    /// [`desc_block`](Self::desc_block)'s checks, and checked against the
    /// header's checksum; `Ok(None)` when the segment stores none. The bytes
    /// are not decoded.
    pub(crate) fn read_description(
        &self,
        reader: &impl ReadAt,
        object_size: u64,
        what: &str,
    ) -> Result<Option<Vec<u8>>> {
        let Some((at, len)) = self.desc_block(object_size, what)? else {
            return Ok(None);
        };
        let mut bytes = vec![0u8; len];
        if reader.read_at(at, &mut bytes)? < len {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!("{what} was truncated while its layout description was read"),
            ));
        }
        if checksum(&bytes) != self.desc_checksum {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "{what} has a corrupt layout description (its checksum does not match the \
                     header's)"
                ),
            ));
        }
        Ok(Some(bytes))
    }

    /// The stored description, read and decoded (see
    /// [`read_description`](Self::read_description)), or why it cannot be.
    pub(crate) fn description(
        &self,
        reader: &impl ReadAt,
        object_size: u64,
        what: &str,
    ) -> Result<Description> {
        let Some(bytes) = self.read_description(reader, object_size, what)? else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{what} stores no layout description (its type was beyond the format's limits)"
                ),
            ));
        };
        decode(&bytes, what)
    }

    /// The message of a wrong-type open: the first difference between the
    /// stored description and `layout`'s, or (when the stored description
    /// cannot be read, decoded or compared) the fingerprints, sizes and the
    /// reason.
    fn wrong_type_message(
        &self,
        layout: &Layout,
        reader: &impl ReadAt,
        object_size: u64,
        what: &str,
        held: &str,
    ) -> String {
        let hint = "open it with the type it was created with, or remove it and create it anew";
        let compared = self
            .read_description(reader, object_size, what)
            .and_then(|bytes| bytes.map(|b| decode(&b, what)).transpose())
            .map_err(|e| format!("its layout description cannot be read: {e}"))
            .and_then(|stored| {
                let stored = stored.ok_or("it stores no layout description")?;
                if stored.fingerprint() != Some(Fingerprint::from_u64(self.fingerprint)) {
                    return Err("its layout description does not match its fingerprint".to_owned());
                }
                let ours = Description::of(layout.type_layout)
                    .map_err(|e| format!("this program's type cannot be described: {e}"))?;
                match stored.first_difference(&ours) {
                    Some(diff) => Ok((stored.type_name(stored.root()), diff.to_string())),
                    None => Err("its layout description is this program's type's".to_owned()),
                }
            });
        match compared {
            Ok((name, diff)) => {
                let held = if self.slice {
                    format!("`[{name}]` ({} elements)", self.payload_len)
                } else {
                    format!("`{name}`")
                };
                let joined = if diff.starts_with("field ") || diff.starts_with("variant ") {
                    format!("whose {diff}")
                } else {
                    format!("but {diff}")
                };
                format!("{what} holds {held} {joined} ({hint})")
            }
            Err(why) => format!(
                "{what} holds {held} (fingerprint {}, {} bytes, align {}) but {} (fingerprint {}, \
                 {} bytes, align {}) was requested ({why}): {hint}",
                Fingerprint::from_u64(self.fingerprint),
                self.type_size,
                self.type_align,
                layout.requested(),
                layout.fingerprint,
                layout.size,
                layout.align,
            ),
        }
    }

    /// Whether the process of the state word's pid (the creator, the last
    /// reclaimer, or the replacer of a retired segment) is alive: judged by
    /// pid, PID namespace and start time where the record is that pid's own
    /// (states "initializing" and "ready"), by the pid's existence alone
    /// otherwise (a record left by another process is never compared with
    /// this pid).
    pub(crate) fn creator(&self) -> Creator {
        match self.poll {
            Poll::Ready | Poll::Initializing { recorded: true, .. } => creator_liveness(
                self.creator_pid(),
                self.creator_pid_ns,
                self.creator_start,
                self.creator_ns_key,
            ),
            _ => creator_status(self.creator_pid(), self.creator_pid_ns),
        }
    }

    /// Whether the segment was made with `remove_on_drop`: its lifetime is
    /// its creator's.
    pub(crate) fn tied_to_creator(&self) -> bool {
        self.flags & FLAG_TIED != 0
    }

    /// Whether the segment was published by link ([`FLAG_LINKED`]) and is
    /// ready: then a single read of the whole header is consistent.
    pub(crate) fn ready_by_link(&self) -> bool {
        matches!(self.poll, Poll::Ready) && self.flags & FLAG_LINKED != 0
    }

    /// The creator pid of the state word (0 when none was recorded).
    pub(crate) fn creator_pid(&self) -> u32 {
        self.state_word as u32
    }

    /// Checks a ready header against the requested `layout` and the object's
    /// size in bytes; returns the payload's offset and element count. A
    /// byte-order or pointer-width byte that describes no platform is a
    /// corrupt header ([`NotASegment`](ErrorKind::NotASegment)); only valid
    /// values describe another platform
    /// ([`Incompatible`](ErrorKind::Incompatible)).
    ///
    /// A wrong type's error names the first difference, read from the
    /// stored description with `reader` (only then is the description
    /// read).
    pub(crate) fn validate(
        &self,
        layout: &Layout,
        object_size: usize,
        what: &str,
        reader: &impl ReadAt,
    ) -> Result<(usize, usize)> {
        let (fingerprint, size, align, offset, len, bytes, width) = (
            self.fingerprint,
            self.type_size,
            self.type_align,
            self.payload_offset,
            self.payload_len,
            self.payload_bytes,
            self.pointer_width,
        );
        let kind = if self.slice { KIND_SLICE } else { KIND_VALUE };
        let name = &self.type_name;
        let Some(little) = self.little_endian else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("{what} has a corrupt header (its byte-order field is no byte order)"),
            ));
        };
        if !matches!(width, 2 | 4 | 8 | 16) {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("{what} has a corrupt header (a pointer width of {width} bytes)"),
            ));
        }
        let endian = if little { LITTLE_ENDIAN } else { BIG_ENDIAN };
        if endian != NATIVE_ENDIAN || width as usize != size_of::<usize>() {
            return Err(Error::new(
                ErrorKind::Incompatible,
                format!(
                    "{what} was made on a {}-bit {} machine, this is a {}-bit {} one: \
                     share it only between programs built for the same platform",
                    u32::from(width) * 8,
                    if endian == LITTLE_ENDIAN {
                        "little-endian"
                    } else {
                        "big-endian"
                    },
                    usize::BITS,
                    if NATIVE_ENDIAN == LITTLE_ENDIAN {
                        "little-endian"
                    } else {
                        "big-endian"
                    },
                ),
            ));
        }
        let held = if kind == KIND_SLICE {
            format!("`[{name}]` ({len} elements)")
        } else {
            format!("`{name}`")
        };
        let same_type = fingerprint == layout.fingerprint.as_u64()
            && size == layout.size as u64
            && align == layout.align as u64;
        if same_type && kind != layout.kind {
            let (holds, open_with) = if kind == KIND_SLICE {
                (format!("a slice {held}"), "`open::<[T]>()`")
            } else {
                (format!("one {held}, not a slice"), "`open::<T>()`")
            };
            return Err(Error::new(
                ErrorKind::WrongType,
                format!("{what} holds {holds}: open it with {open_with}"),
            ));
        }
        if !same_type || kind != layout.kind {
            return Err(Error::new(
                ErrorKind::WrongType,
                self.wrong_type_message(layout, reader, object_size as u64, what, &held),
            ));
        }
        let end = size
            .checked_mul(len)
            .filter(|b| *b == bytes)
            .and_then(|b| b.checked_add(offset));
        let Some(end) = end.filter(|_| offset as usize == layout.payload_offset()) else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("{what} has an inconsistent header (payload of {held}): it is corrupt"),
            ));
        };
        // The description block, checked by its fields alone (never read
        // here): the object must hold it.
        // (The object's size is compared below, with the payload's.)
        let end = match self.desc_block(u64::MAX, what)? {
            Some((at, desc_len)) => at + desc_len as u64,
            None => end,
        };
        if kind == KIND_VALUE && len != 1 {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "{what} has an inconsistent header ({len} values of {held}): it is corrupt"
                ),
            ));
        }
        if end > object_size as u64 {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {object_size} bytes long but its header describes {end} bytes \
                     ({held}): it was truncated; remove it and create it anew"
                ),
            ));
        }
        Ok((offset as usize, len as usize))
    }
}

/// Decodes a stored description's bytes: its errors name the segment.
fn decode(bytes: &[u8], what: &str) -> Result<Description> {
    Description::decode(bytes).map_err(|e| {
        let kind = Error::from(e.clone()).kind();
        Error::new(
            kind,
            format!("{what} has an unreadable layout description: {e}"),
        )
    })
}

/// The largest index `<= max` that is a char boundary of `s` (so a truncated
/// type name stays valid UTF-8).
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_spells_the_library() {
        assert_eq!(&MAGIC.to_le_bytes(), b"SHMRTSEG");
    }

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

    /// A snapshot of a header whose payload ends at `payload_end` and whose
    /// description block fields say `(desc_offset, desc_len)`.
    fn with_block(payload_end: u64, desc_offset: u64, desc_len: u32) -> Snapshot {
        let mut bytes = [0u8; HEADER_SIZE];
        let mut put = |at: usize, field: &[u8]| bytes[at..at + field.len()].copy_from_slice(field);
        put(offset_of!(Header, payload_offset), &256u64.to_ne_bytes());
        put(
            offset_of!(Header, payload_bytes),
            &(payload_end - 256).to_ne_bytes(),
        );
        put(offset_of!(Header, desc_offset), &desc_offset.to_ne_bytes());
        put(offset_of!(Header, desc_len), &desc_len.to_ne_bytes());
        Snapshot::decode(&bytes)
    }

    /// The behaviour: the description block's fields are checked against
    /// the payload's and the object's size, with no overflow for hostile
    /// values: right after the payload (8-aligned), at most `MAX_LEN`
    /// bytes, inside the object; none stored is `(0, 0)` only.
    #[test]
    fn description_blocks_are_bounded() {
        let kind =
            |s: Snapshot, size: u64| s.desc_block(size, "segment `/t`").map_err(|e| e.kind());
        assert_eq!(kind(with_block(300, 304, 40), 344), Ok(Some((304, 40))));
        assert_eq!(kind(with_block(300, 0, 0), 300), Ok(None));
        assert_eq!(
            kind(with_block(300, 304, 40), 343),
            Err(ErrorKind::TooShort)
        );
        for (end, at, len) in [
            (300, 300, 40),                     // not 8-aligned
            (300, 312, 40),                     // not right after the payload
            (300, 8, 40),                       // inside the header
            (300, 304, 0),                      // no block at an offset
            (300, 304, u32::MAX),               // beyond MAX_LEN
            (u64::MAX - 10, u64::MAX - 7, 100), // ends past u64::MAX
            (u64::MAX - 3, 0, 1),               // the payload end does not round up
        ] {
            assert_eq!(
                kind(with_block(end, at, len), u64::MAX),
                Err(ErrorKind::NotASegment),
                "{end} {at} {len}"
            );
        }
    }

    /// The behaviour: the checksum is FNV-1a 64 (as the module documents
    /// for readers in other languages).
    #[test]
    fn the_checksum_is_fnv1a_64() {
        assert_eq!(checksum(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(checksum(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(checksum(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn truncated_names_stay_utf8() {
        let s = "ab\u{e9}";
        assert_eq!(floor_char_boundary(s, 3), 2);
        assert_eq!(floor_char_boundary(s, 10), 4);
    }
}
