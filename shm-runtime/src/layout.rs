//! The layout description of a [`SharedSafe`] type: one compile-time tree
//! from which its [`Fingerprint`], its validity check and its
//! padding-free copy all derive.
//!
//! Every `SharedSafe` type has a [`TypeLayout`]
//! ([`SharedSafe::LAYOUT`]): its name, size and alignment, and what it is
//! made of: a [scalar](Scalar), an array, a `repr(C)` struct of named fields
//! at offsets, a fieldless enum with its discriminants, or a type of this
//! crate (a [library type](LayoutKind::Library): a lock, a fixed-capacity
//! container) described by its protocol name and its parts.
//!
//! Three walks read it:
//! * [`Fingerprint::of_layout`] hashes it (at compile time), so a segment
//!   header can refuse another type;
//! * [`check`](TypeLayout::check) tells whether some bytes are a valid value
//!   (a `bool` is 0 or 1, a `char` a scalar value, a `NonZero*` not zero, an
//!   enum one of its discriminants), which typed opens run before any `&T`
//!   of a segment's bytes exists. A type whose every bit pattern is valid
//!   skips it at compile time ([`needs_check`](TypeLayout::needs_check));
//! * a value written into shared memory by this library lands with zeroed
//!   padding ([`has_padding`](TypeLayout::has_padding)): none of the
//!   creator's stack reaches another process.
//!
//! ```
//! use shm_runtime::layout::{LayoutKind, Scalar};
//! use shm_runtime::SharedSafe;
//!
//! #[derive(SharedSafe)]
//! #[repr(C)]
//! struct Flags {
//!     count: u32,
//!     active: bool,
//! }
//!
//! let layout = Flags::LAYOUT;
//! assert_eq!((layout.name, layout.size, layout.align), ("Flags", 8, 4));
//! let LayoutKind::Struct { fields, .. } = layout.kind else { unreachable!() };
//! assert_eq!(fields[1].name, "active");
//! assert_eq!(fields[1].offset, 4);
//! assert!(matches!(fields[1].layout.kind, LayoutKind::Scalar(Scalar::Bool)));
//! assert!(layout.needs_check()); // a `bool` may hold an invalid byte
//! assert!(layout.has_padding()); // three bytes after `active`
//! ```
//!
//! [`SharedSafe`]: crate::SharedSafe
//! [`SharedSafe::LAYOUT`]: crate::SharedSafe::LAYOUT
//! [`Fingerprint`]: crate::Fingerprint
//! [`Fingerprint::of_layout`]: crate::Fingerprint::of_layout

pub mod describe;
mod hash;
mod invalid;
mod padding;
mod tree;
mod typed;
mod validity;

pub use invalid::InvalidValue;
use invalid::{path_string, PathPart};
pub use padding::Padding;
pub(crate) use padding::{for_each_data_run, DataRuns};
// Named by seqlock's docs and tests.
#[allow(unused_imports)]
pub(crate) use padding::MAX_DATA_RUNS;
pub use tree::{Access, Field, LayoutKind, Scalar, TypeLayout, Validity, Variant};
pub use typed::store;
// The queue's item check (not built under the model checker) names it.
#[cfg(not(all(test, loom)))]
pub(crate) use typed::has_protocol_parts;
pub(crate) use typed::{check_value, check_values, write_zero_padded, zeros_are_valid};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FixedString;
    use crate::SharedSafe;

    #[derive(crate::SharedSafe, Clone, Copy)]
    #[repr(C)]
    struct Inner {
        flag: bool,
        value: u32,
    }

    #[derive(crate::SharedSafe, Clone, Copy)]
    #[repr(C)]
    struct Outer {
        pair: [Inner; 2],
        name: FixedString<6>,
        tail: u16,
        big: u64,
    }

    fn runs(layout: &TypeLayout) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        for_each_data_run(layout, |start, end| runs.push((start, end)));
        runs
    }

    /// Padding is found through arrays, structs and library types, and
    /// named by the field or element it follows.
    #[test]
    fn padding_says_where_it_is() {
        // pair: [0] 0..8 (flag 0, pad 1..4, value 4..8), [1] 8..16;
        // name 16..28 (len 16..20, bytes 20..26, pad 26..28); tail 28..30;
        // pad 30..32; big 32..40.
        let shown: Vec<String> = Outer::LAYOUT
            .padding()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "bytes 1..4 (3 bytes after `pair[0].flag`)",
                "bytes 9..12 (3 bytes after `pair[1].flag`)",
                "bytes 26..28 (2 bytes after `name.bytes`)",
                "bytes 30..32 (2 bytes after `tail`)",
            ]
        );
        let total: usize = Outer::LAYOUT.padding().iter().map(|p| p.len).sum();
        let data: usize = runs(Outer::LAYOUT).iter().map(|(s, e)| e - s).sum();
        assert_eq!(
            total + data,
            Outer::LAYOUT.size,
            "every byte is one or the other"
        );
        assert!(<[u64; 4]>::LAYOUT.padding().is_empty());
        assert!(FixedString::<8>::LAYOUT.padding().is_empty());
    }

    /// A single padding byte, and padding before a library type's first
    /// part, read well too.
    #[test]
    fn padding_of_one_byte_and_at_the_start() {
        let one = Padding::new(7, 1, &[], Some("x"));
        assert_eq!(one.to_string(), "byte 7 (1 byte after `x`)");
        let start = Padding::new(0, 4, &[PathPart::Field("lock")], None);
        assert_eq!(
            start.to_string(),
            "bytes 0..4 (4 bytes at the start of `lock`)"
        );
    }

    /// Data runs merge across fields and elements that touch, and skip
    /// every padding byte.
    #[test]
    fn data_runs_merge_touching_fields() {
        assert_eq!(
            runs(Outer::LAYOUT),
            [(0, 1), (4, 9), (12, 26), (28, 30), (32, 40)]
        );
        assert_eq!(runs(u64::LAYOUT), [(0, 8)]);
        assert_eq!(runs(<[Inner; 1]>::LAYOUT), [(0, 1), (4, 8)]);
        assert!(runs(<()>::LAYOUT).is_empty());
    }

    /// The compile-time ranges are the runtime walk's, up to their
    /// capacity; beyond it they say they are incomplete.
    #[test]
    fn compile_time_data_runs_agree_with_the_walk() {
        let outer = const { DataRuns::of(Outer::LAYOUT) };
        assert!(outer.complete);
        assert_eq!(outer.runs[..outer.len], runs(Outer::LAYOUT)[..]);
        let many = DataRuns::of(<[Inner; 20]>::LAYOUT);
        // A flag, then each value merged with the next flag.
        assert_eq!(runs(<[Inner; 20]>::LAYOUT).len(), 21);
        assert!(!many.complete, "21 ranges do not fit in {MAX_DATA_RUNS}");
        let few = DataRuns::of(<[Inner; 8]>::LAYOUT);
        assert!(few.complete);
        assert_eq!(few.runs[..few.len], runs(<[Inner; 8]>::LAYOUT)[..]);
    }
}
