//! Reading a segment's header without knowing its type: for monitors and
//! cleanup tools such as `shm-tool`.
//!
//! [`inspect_posix`], [`inspect_file`], [`inspect_sysv`] and
//! [`inspect_sysv_id`] return a [`SegmentInfo`] (and
//! [`segment::list`](super::list) one for every object there is): the object's size, mode,
//! owner and times, and what its first bytes say ([`Contents`]): a header of
//! this library (its [`State`], creator, type name, fingerprint, sizes), or
//! an object of another program ([`Foreign`]).
//!
//! ```
//! use shm_runtime::segment::{inspect, Segment};
//! use shm_runtime::segment::inspect::{Contents, State};
//!
//! let name = format!("/shm-runtime-doc-inspect-{}", std::process::id());
//! let _table = Segment::posix(&name).remove_on_drop(true).create([0u32; 8])?;
//! let info = inspect::inspect_posix(&name)?;
//! let Contents::Segment(header) = &info.contents else { panic!("not ours") };
//! assert_eq!(header.state, State::Ready);
//! assert_eq!(header.creator_pid, std::process::id());
//! let payload = header.payload.as_ref().unwrap();
//! assert_eq!(payload.type_name, "[u32; 8]");
//! assert_eq!(payload.payload_bytes, 32);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # Never harmful
//!
//! Inspection only reads. It never opens for writing, never maps an object
//! with `mmap` (POSIX objects and files are read with `pread`, which returns
//! short reads past the end of a truncated file instead of raising
//! `SIGBUS`), and reads System V segments (which cannot shrink) through a
//! read-only attachment of exactly the size the kernel reports. It never
//! waits for a segment being initialized: it reports what it sees now.
//! Reading updates access times (and, for System V, the attach counters)
//! only. Objects of other programs are read, never interpreted further.
//!
//! The one method that changes anything is [`SegmentInfo::remove`], which
//! removes the name only while it still refers to the object inspected.
//!
//! # What can be known of a segment being written
//!
//! Fields other than the state word are final only once the segment is
//! [`Ready`](State::Ready). For a segment still initializing (or abandoned,
//! or being reclaimed) the type fields are those the creator wrote before it
//! died or gave up; they are reported when its magic is written, and may be
//! torn if a process is rewriting them at that instant.

mod info;
mod read;
mod segment_info;

pub use info::{
    Contents, CreatorStatus, Foreign, HeaderInfo, Location, MutexInfo, PayloadInfo, SegmentInfo,
    State,
};
pub use read::{inspect_file, inspect_posix, inspect_sysv, inspect_sysv_id};
