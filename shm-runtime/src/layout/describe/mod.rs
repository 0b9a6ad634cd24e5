//! A [`TypeLayout`] as bytes, and back: the layout description that a
//! segment can carry, so that a program (this library's tool, a Python or C
//! reader) that does not have the type can still read it, and a wrong-type
//! open can say what differs.
//!
//! [`TypeLayout`]: crate::layout::TypeLayout
//!
//! [`encode`] writes a layout; [`Description::decode`] reads one from bytes
//! that nobody vouches for (every length, count, index and offset is
//! checked, and the whole is bounded by the [limits](#limits)); a
//! [`Description`] is the owned result, and
//! [`first_difference`](Description::first_difference) names the first
//! thing in which two of them differ.
//!
//! ```
//! use shm_runtime::layout::describe::{self, Description};
//! use shm_runtime::SharedSafe;
//!
//! mod old {
//!     #[derive(shm_runtime::SharedSafe)]
//!     #[repr(C)]
//!     pub struct Stats { pub hits: u64, pub errors: u32 }
//! }
//! #[derive(SharedSafe)]
//! #[repr(C)]
//! struct Stats { hits: u64, errors: u64 }
//!
//! let bytes = describe::encode(old::Stats::LAYOUT)?;
//! let stored = Description::decode(&bytes)?;
//! let ours = Description::of(Stats::LAYOUT)?;
//! assert_eq!(stored.fingerprint(), Some(old::Stats::FINGERPRINT));
//! assert_eq!(
//!     stored.first_difference(&ours).unwrap().to_string(),
//!     "field `errors` is `u32` at offset 8; this program's `Stats` has `u64` at offset 8"
//! );
//! # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
//! ```
//!
//! # The format, version 1
//!
//! All integers are little-endian and unaligned. A *str* is a `u16` byte
//! length followed by that many bytes of UTF-8 (at most [`MAX_STR`]).
//!
//! The description starts with a header of 16 bytes:
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0 | 4 | magic: the bytes `SHMT` ([`MAGIC`]) |
//! | 4 | 2 | format version: 1 ([`VERSION`]) |
//! | 6 | 2 | flags: 0 (a reader refuses any other value) |
//! | 8 | 4 | total length in bytes, this header included (at most [`MAX_LEN`]) |
//! | 12 | 4 | number of type records that follow, 1 to [`MAX_TYPES`] |
//!
//! Then the type records, back to back, numbered from 0. A record refers to
//! other types by number, and only to records before it: the table has no
//! cycle, and the **last record is the described type**. Each distinct type
//! is stored once (the encoder merges records with equal bytes), so an
//! array of any length is one record, and a type used in many places costs
//! one record plus a 4-byte reference per use.
//!
//! Every record starts the same way:
//!
//! | size | field |
//! |-----:|-------|
//! | 1 | kind: 0 scalar, 1 array, 2 struct, 3 enum, 4 library type |
//! | str | the type's name (informational, not compared) |
//! | 8 | size in bytes (`size_of`) |
//! | 8 | alignment in bytes (`align_of`), a power of two |
//!
//! followed by the part of its kind:
//!
//! | kind | fields |
//! |------|--------|
//! | 0 scalar | `u8` scalar code (below) |
//! | 1 array | `u32` element type, `u64` length |
//! | 2 struct | str repr (`repr(C)`), `u32` field count, the *fields* |
//! | 3 enum | `u8` scalar code of its repr (1 unsigned, 2 signed), `u32` variant count, per variant: str name, `u128` discriminant (sign-extended for a signed repr) |
//! | 4 library | str protocol, `u8` validity (below), `u32` parameter count, per parameter: str name, `u64` value; `u32` field count, the *fields* |
//!
//! A *field* is: str name, `u64` offset, `u32` type, `u8` access (0: plain,
//! checked when a segment is opened; 1: written under the type's protocol,
//! checked by it). Fields come in offset order, do not overlap and lie
//! inside their type, each at an offset aligned for its type. A library
//! type with no fields is opaque: its parameters (a size, an alignment) are
//! all that is known of its bytes.
//!
//! Scalar codes: 0 `()` and zero-sized markers, 1 unsigned integer, 2 signed
//! integer, 3 float, 4 `bool`, 5 `char`, 6 `NonZeroU*`, 7 `NonZeroI*`, 8
//! `AtomicU*`, 9 `AtomicI*`, 10 `AtomicBool`; the width is the record's
//! size, and the scalar's name (`u64`, `usize`) is part of what is compared.
//!
//! Validity codes: 0 its plain fields are checked, 1 any bytes are valid,
//! 2 nothing is known (typed opens refuse it), 3 a check of its own (code
//! that a description cannot carry).
//!
//! # Size
//!
//! A record takes 19 bytes plus its name, plus: 1 (scalar); 12 (array);
//! 6 + repr + 15 + name per field (struct); 5 + 18 + name per variant (enum);
//! 11 + protocol + 10 + name per parameter + 15 + name per field (library).
//! The description is 16 bytes plus its distinct records: its size depends
//! on the number of distinct types and fields, never on array lengths or on
//! how often a type is used. `[Record; 100000]` is `Record`'s records plus
//! 36 bytes; a type whose every level holds its previous level twice is one
//! record per level.
//!
//! # Limits
//!
//! A description is at most [`MAX_LEN`] bytes, [`MAX_TYPES`] records,
//! [`MAX_ITEMS`] fields, variants or parameters per record, [`MAX_STR`] bytes
//! per name, and [`MAX_DEPTH`] levels of nesting (a scalar is one level, an
//! array of it two). [`encode`] refuses a layout beyond them, and
//! [`Description::decode`] refuses such bytes, as it refuses any byte that
//! does not follow this format, with a [`DescriptionError`] that says what
//! is wrong and at which byte. A decoded description is consistent: sizes
//! agree with array lengths and field offsets, alignments are powers of two,
//! names of fields, variants and parameters are unique in their type.

mod decode;
mod diff;
mod difference;
mod encode;
mod error;
mod format;
mod query;
mod types;

pub use difference::{Difference, DifferenceKind};
pub use encode::encode;
pub use error::{DescriptionError, Problem};
pub use format::{MAGIC, MAX_DEPTH, MAX_ITEMS, MAX_LEN, MAX_STR, MAX_TYPES, VERSION};
pub use types::{Description, FieldDesc, KindDesc, TypeDesc, TypeId, ValidityDesc, VariantDesc};

// Not in the loom build, whose queue is a model without a `SharedSafe` impl.
#[cfg(all(test, not(loom)))]
mod tests;
