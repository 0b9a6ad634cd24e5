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

use crate::{Fingerprint, SharedSafe};
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

pub mod describe;

/// What a [`SharedSafe`] type is made of: see the [module documentation](self).
///
/// ```
/// use shm_runtime::SharedSafe;
/// assert_eq!(<[u16; 3]>::LAYOUT.size, 6);
/// assert_eq!(u64::LAYOUT.name, "u64");
/// ```
#[derive(Debug)]
pub struct TypeLayout {
    /// The type's name, without its module path (`"u32"`, `"Stats"`,
    /// `"ShmMutex"`); informational: two programs that name the same
    /// `repr(C)` struct differently still share a segment.
    pub name: &'static str,
    /// `size_of` the type.
    pub size: usize,
    /// `align_of` the type.
    pub align: usize,
    /// What it is made of.
    pub kind: LayoutKind,
}

/// The shape of a [`TypeLayout`].
///
/// ```
/// use shm_runtime::layout::LayoutKind;
/// use shm_runtime::SharedSafe;
/// let LayoutKind::Array { element, len } = <[u8; 4]>::LAYOUT.kind else { unreachable!() };
/// assert_eq!((element.name, len), ("u8", 4));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum LayoutKind {
    /// An integer, float, `bool`, `char`, `NonZero*`, atomic or `()`.
    Scalar(Scalar),
    /// `[element; len]`.
    Array {
        /// The element's layout.
        element: &'static TypeLayout,
        /// The number of elements.
        len: usize,
    },
    /// A `#[repr(C)]` or `#[repr(transparent)]` struct.
    Struct {
        /// The repr, as written (`"repr(C)"`, `"repr(C, align(64))"`).
        repr: &'static str,
        /// The fields in declaration order, which is offset order.
        fields: &'static [Field],
    },
    /// A fieldless enum with an integer repr.
    Enum {
        /// The discriminant's integer type (an unsigned or signed scalar).
        repr: Scalar,
        /// Every variant with its discriminant.
        variants: &'static [Variant],
    },
    /// A type of this crate (or a hand-written `SharedSafe` impl) that
    /// follows a protocol: a lock, a fixed-capacity container, a relative
    /// pointer.
    Library {
        /// The protocol's name and version (`"ShmMutex futex v4"`); a change
        /// of protocol changes the fingerprint.
        protocol: &'static str,
        /// Numbers that parametrize it (a capacity, a target's size).
        params: &'static [(&'static str, u64)],
        /// Its parts, in offset order; empty when opaque. When not empty they
        /// cover every byte that is not padding.
        fields: &'static [Field],
        /// How its bytes are checked.
        validity: Validity,
    },
}

/// A kind of scalar; its size is the [`TypeLayout`]'s.
///
/// ```
/// use shm_runtime::layout::{LayoutKind, Scalar};
/// use shm_runtime::SharedSafe;
/// assert!(matches!(char::LAYOUT.kind, LayoutKind::Scalar(Scalar::Char)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scalar {
    /// `u8` ... `u128`, `usize`: any bytes.
    Unsigned,
    /// `i8` ... `i128`, `isize`: any bytes.
    Signed,
    /// `f32`, `f64`: any bytes.
    Float,
    /// `bool`: 0 or 1.
    Bool,
    /// `char`: a Unicode scalar value.
    Char,
    /// `NonZeroU*`: not zero.
    NonZeroUnsigned,
    /// `NonZeroI*`: not zero.
    NonZeroSigned,
    /// `AtomicU*`: any bytes; accessed atomically.
    AtomicUnsigned,
    /// `AtomicI*`: any bytes; accessed atomically.
    AtomicSigned,
    /// `AtomicBool`: 0 or 1; accessed atomically.
    AtomicBool,
    /// `()` and other zero-sized markers.
    Unit,
}

impl Scalar {
    const fn code(self) -> u64 {
        self as u64
    }

    const fn needs_check(self) -> bool {
        matches!(
            self,
            Scalar::Bool
                | Scalar::Char
                | Scalar::NonZeroUnsigned
                | Scalar::NonZeroSigned
                | Scalar::AtomicBool
        )
    }
}

/// A named field of a struct or library type.
///
/// ```
/// use shm_runtime::layout::{Access, Field};
/// use shm_runtime::SharedSafe;
/// let f = Field::plain("hits", 8, u64::LAYOUT);
/// assert_eq!((f.name, f.offset, f.access), ("hits", 8, Access::Plain));
/// ```
#[derive(Debug)]
pub struct Field {
    /// Its name (`"0"`, `"1"` for tuple fields).
    pub name: &'static str,
    /// Its offset from the start of the containing type.
    pub offset: usize,
    /// Its type's layout.
    pub layout: &'static TypeLayout,
    /// Whether opening a segment checks it.
    pub access: Access,
}

impl Field {
    /// A field checked when a segment is opened.
    ///
    /// ```
    /// # use shm_runtime::{layout::Field, SharedSafe};
    /// assert_eq!(Field::plain("x", 0, u8::LAYOUT).offset, 0);
    /// ```
    pub const fn plain(name: &'static str, offset: usize, layout: &'static TypeLayout) -> Field {
        Field {
            name,
            offset,
            layout,
            access: Access::Plain,
        }
    }

    /// A field that others may legally be writing while a segment is opened
    /// (the value inside a lock), checked through its protocol instead.
    ///
    /// ```
    /// # use shm_runtime::{layout::{Access, Field}, SharedSafe};
    /// assert_eq!(Field::protected("value", 8, bool::LAYOUT).access, Access::Protocol);
    /// ```
    pub const fn protected(
        name: &'static str,
        offset: usize,
        layout: &'static TypeLayout,
    ) -> Field {
        Field {
            name,
            offset,
            layout,
            access: Access::Protocol,
        }
    }
}

/// When a field's bytes are checked.
///
/// ```
/// use shm_runtime::layout::Access;
/// assert_ne!(Access::Plain, Access::Protocol);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Written at creation (or atomically): checked by typed opens.
    Plain,
    /// Written under a protocol (a lock, a sequence counter) that others
    /// may be running while a segment is opened: never read at open; the
    /// protocol checks it (on locking after an owner's death, on a
    /// `SeqLock` read).
    Protocol,
}

/// A variant of a fieldless enum.
///
/// ```
/// use shm_runtime::layout::Variant;
/// let v = Variant { name: "Idle", value: 0 };
/// assert_eq!(v.name, "Idle");
/// ```
#[derive(Debug)]
pub struct Variant {
    /// Its name.
    pub name: &'static str,
    /// Its discriminant: the repr's bits, sign-extended for a signed repr
    /// (`-1i8` is `u128::MAX`).
    pub value: u128,
}

/// How a [library type](LayoutKind::Library)'s bytes are checked.
///
/// ```
/// use shm_runtime::layout::Validity;
/// assert!(matches!(Validity::AnyBits, Validity::AnyBits));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Validity {
    /// Check its [`Plain`](Access::Plain) fields.
    Fields,
    /// Any bytes are valid (it checks on use, or holds only such data).
    AnyBits,
    /// Nothing is known: typed opens of a segment holding it refuse, and a
    /// lock whose owner died offers only a reset. The sound default for a
    /// hand-written impl that does not say more.
    Unknown,
    /// A check of its own.
    ///
    /// The function gets a pointer to the value's first byte, aligned and
    /// readable for its size; its plain parts are not being written, its
    /// atomic parts may be (read them atomically).
    Custom(unsafe fn(*const u8) -> Result<(), InvalidValue>),
}

impl TypeLayout {
    /// The layout of a [library type](LayoutKind::Library) whose bytes are
    /// all checked by `validity` and not described further: the start of a
    /// hand-written `SharedSafe` impl.
    ///
    /// ```
    /// use shm_runtime::layout::{TypeLayout, Validity};
    /// use shm_runtime::{Fingerprint, SharedSafe};
    ///
    /// /// A C library's opaque handle table, any bytes valid.
    /// #[repr(C, align(8))]
    /// struct Table([u8; 64]);
    ///
    /// // SAFETY: bytes only, no drop glue, no interior mutability; any
    /// // bytes are a valid table.
    /// unsafe impl SharedSafe for Table {
    ///     const LAYOUT: &'static TypeLayout =
    ///         &TypeLayout::opaque::<Table>("Table", "vendor table v2", Validity::AnyBits);
    /// }
    /// assert!(!Table::LAYOUT.needs_check());
    /// ```
    pub const fn opaque<T>(
        name: &'static str,
        protocol: &'static str,
        validity: Validity,
    ) -> TypeLayout {
        TypeLayout::library::<T>(name, protocol, &[], &[], validity)
    }

    /// The layout of a [library type](LayoutKind::Library) `T` made of
    /// `fields` (in offset order, covering every byte that is not padding).
    ///
    /// ```
    /// use shm_runtime::layout::{Field, TypeLayout, Validity};
    /// use shm_runtime::SharedSafe;
    /// use std::sync::atomic::AtomicU32;
    ///
    /// #[repr(C)]
    /// struct Ticket { next: AtomicU32, serving: AtomicU32 }
    ///
    /// // SAFETY: two atomics: no address, no drop glue, atomic mutation; the
    /// // fields cover all eight bytes.
    /// unsafe impl SharedSafe for Ticket {
    ///     const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Ticket>(
    ///         "Ticket",
    ///         "ticket lock v1",
    ///         &[],
    ///         &[
    ///             Field::plain("next", 0, AtomicU32::LAYOUT),
    ///             Field::plain("serving", 4, AtomicU32::LAYOUT),
    ///         ],
    ///         Validity::Fields,
    ///     );
    /// }
    /// assert!(!Ticket::LAYOUT.has_padding());
    /// ```
    pub const fn library<T>(
        name: &'static str,
        protocol: &'static str,
        params: &'static [(&'static str, u64)],
        fields: &'static [Field],
        validity: Validity,
    ) -> TypeLayout {
        TypeLayout {
            name,
            size: core::mem::size_of::<T>(),
            align: core::mem::align_of::<T>(),
            kind: LayoutKind::Library {
                protocol,
                params,
                fields,
                validity,
            },
        }
    }

    /// Whether some bit pattern of this type is invalid, so that bytes from
    /// outside must be checked before they are used as a value. False for
    /// integers, floats, integer atomics and everything made only of them.
    ///
    /// ```
    /// use shm_runtime::SharedSafe;
    /// assert!(!<[u64; 1024]>::LAYOUT.needs_check());
    /// assert!(<[bool; 2]>::LAYOUT.needs_check());
    /// ```
    pub const fn needs_check(&self) -> bool {
        match &self.kind {
            LayoutKind::Scalar(scalar) => scalar.needs_check(),
            LayoutKind::Array { element, len } => *len > 0 && element.needs_check(),
            LayoutKind::Struct { fields, .. } => fields_need_check(fields),
            LayoutKind::Enum { .. } => true,
            LayoutKind::Library {
                fields, validity, ..
            } => match validity {
                Validity::Fields => fields_need_check(fields),
                Validity::AnyBits => false,
                Validity::Unknown | Validity::Custom(_) => true,
            },
        }
    }

    /// Whether the type has padding bytes, which a plain copy of a value
    /// leaves uninitialized; [`padding`](TypeLayout::padding) says where.
    ///
    /// ```
    /// use shm_runtime::SharedSafe;
    /// assert!(!<[u32; 3]>::LAYOUT.has_padding());
    /// ```
    pub const fn has_padding(&self) -> bool {
        match &self.kind {
            LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => false,
            LayoutKind::Array { element, .. } => element.has_padding(),
            LayoutKind::Struct { fields, .. } => fields_leave_gaps(fields, self.size),
            LayoutKind::Library { fields, .. } => {
                // An opaque type promises no padding (its impl's contract).
                !fields.is_empty() && fields_leave_gaps(fields, self.size)
            }
        }
    }

    /// Where the type's padding bytes are: each maximal range of bytes that
    /// belongs to no field, with the field (path) it follows. Empty when
    /// [`has_padding`](TypeLayout::has_padding) is false. For messages that
    /// refuse a padded type: [`Padding`]'s `Display` says where.
    ///
    /// ```
    /// use shm_runtime::{FixedString, SharedSafe};
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Entry { tag: u8, value: u32, name: FixedString<5> }
    ///
    /// let padding = Entry::LAYOUT.padding();
    /// let shown: Vec<String> = padding.iter().map(|p| p.to_string()).collect();
    /// assert_eq!(
    ///     shown,
    ///     [
    ///         "bytes 1..4 (3 bytes after `tag`)",
    ///         "bytes 17..20 (3 bytes after `name.bytes`)",
    ///     ]
    /// );
    /// assert!(u64::LAYOUT.padding().is_empty());
    /// ```
    pub fn padding(&self) -> Vec<Padding> {
        let mut found = Vec::new();
        let mut path = Vec::new();
        self.collect_padding(0, &mut path, &mut found);
        found
    }

    fn collect_padding(&self, at: usize, path: &mut Vec<PathPart>, found: &mut Vec<Padding>) {
        if !self.has_padding() {
            return;
        }
        match &self.kind {
            LayoutKind::Array { element, len } => {
                for i in 0..*len {
                    path.push(PathPart::Index(i));
                    element.collect_padding(at + i * element.size, path, found);
                    path.pop();
                }
            }
            LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
                let mut covered = 0;
                let mut last: Option<&'static str> = None;
                for field in *fields {
                    if field.layout.size == 0 {
                        continue;
                    }
                    if field.offset > covered {
                        found.push(Padding::new(
                            at + covered,
                            field.offset - covered,
                            path,
                            last,
                        ));
                    }
                    path.push(PathPart::Field(field.name));
                    field.layout.collect_padding(at + field.offset, path, found);
                    path.pop();
                    covered = covered.max(field.offset + field.layout.size);
                    last = Some(field.name);
                }
                if self.size > covered {
                    found.push(Padding::new(at + covered, self.size - covered, path, last));
                }
            }
            LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => {}
        }
    }

    /// Checks that the bytes at `value` are a valid value of this type.
    ///
    /// # Safety
    /// `value` is aligned for the type and readable for its size; no plain
    /// (non-atomic) part of it is written during the call.
    ///
    /// ```
    /// use shm_runtime::SharedSafe;
    /// let bytes = [0u8, 1, 2, 1];
    /// // SAFETY: four readable bytes, nobody writes them.
    /// let err = unsafe { <[bool; 4]>::LAYOUT.check(bytes.as_ptr()) }.unwrap_err();
    /// assert_eq!(err.to_string(), "`[2]` holds 0x02, which is not a valid `bool`");
    /// ```
    pub unsafe fn check(&self, value: *const u8) -> Result<(), InvalidValue> {
        if !self.needs_check() {
            return Ok(());
        }
        match &self.kind {
            // SAFETY: the caller's contract.
            LayoutKind::Scalar(scalar) => unsafe { check_scalar(*scalar, self, value) },
            LayoutKind::Array { element, len } => {
                for i in 0..*len {
                    // SAFETY: element `i` lies inside the array, aligned.
                    unsafe { element.check(value.add(i * element.size)) }
                        .map_err(|e| e.inside(PathPart::Index(i)))?;
                }
                Ok(())
            }
            // SAFETY: the caller's contract.
            LayoutKind::Struct { fields, .. } => unsafe { check_fields(fields, value) },
            LayoutKind::Enum { repr, variants } => {
                // SAFETY: the caller's contract: an integer of `self.size` bytes.
                let found = unsafe { read_int(value, self.size, *repr == Scalar::Signed) };
                let mut i = 0;
                while i < variants.len() {
                    if variants[i].value == found {
                        return Ok(());
                    }
                    i += 1;
                }
                Err(InvalidValue::new(found, self.name))
            }
            LayoutKind::Library {
                fields, validity, ..
            } => match validity {
                // SAFETY: the caller's contract.
                Validity::Fields => unsafe { check_fields(fields, value) },
                Validity::AnyBits => Ok(()),
                Validity::Unknown => Err(InvalidValue::unknown(self.name)),
                // SAFETY: the caller's contract is the function's.
                Validity::Custom(check) => unsafe { check(value) },
            },
        }
    }
}

const fn fields_need_check(fields: &[Field]) -> bool {
    let mut i = 0;
    while i < fields.len() {
        if matches!(fields[i].access, Access::Plain) && fields[i].layout.needs_check() {
            return true;
        }
        i += 1;
    }
    false
}

const fn fields_leave_gaps(fields: &[Field], size: usize) -> bool {
    let mut covered = 0;
    let mut i = 0;
    while i < fields.len() {
        let field = &fields[i];
        if field.layout.size == 0 {
            i += 1;
            continue;
        }
        if field.offset != covered || field.layout.has_padding() {
            return true;
        }
        covered = field.offset + field.layout.size;
        i += 1;
    }
    covered != size
}

/// # Safety
/// As for [`TypeLayout::check`], for every plain field.
unsafe fn check_fields(fields: &[Field], value: *const u8) -> Result<(), InvalidValue> {
    for field in fields {
        if field.access == Access::Plain {
            // SAFETY: the field lies inside the value at its offset, aligned.
            unsafe { field.layout.check(value.add(field.offset)) }
                .map_err(|e| e.inside(PathPart::Field(field.name)))?;
        }
    }
    Ok(())
}

/// Reads an integer of `size` bytes, sign-extended when `signed`.
///
/// # Safety
/// `value` is aligned for it and readable.
unsafe fn read_int(value: *const u8, size: usize, signed: bool) -> u128 {
    // SAFETY: the caller's contract, for each width.
    unsafe {
        match (size, signed) {
            (1, false) => value.read() as u128,
            (1, true) => value.cast::<i8>().read() as u128,
            (2, false) => value.cast::<u16>().read() as u128,
            (2, true) => value.cast::<i16>().read() as u128,
            (4, false) => value.cast::<u32>().read() as u128,
            (4, true) => value.cast::<i32>().read() as u128,
            (8, false) => value.cast::<u64>().read() as u128,
            (8, true) => value.cast::<i64>().read() as u128,
            (16, false) => value.cast::<u128>().read(),
            (16, true) => value.cast::<i128>().read() as u128,
            // Integers come in these sizes only; a layout claiming another
            // reads as a value no variant has (refused, never accepted).
            _ => u128::MAX,
        }
    }
}

/// # Safety
/// As for [`TypeLayout::check`].
unsafe fn check_scalar(
    scalar: Scalar,
    layout: &TypeLayout,
    value: *const u8,
) -> Result<(), InvalidValue> {
    // SAFETY (every read below): the caller's contract, for a value of
    // the layout's size and alignment.
    let invalid: Option<u128> = match scalar {
        Scalar::Bool => {
            // SAFETY: see above: one byte.
            let byte = unsafe { value.read() };
            (byte > 1).then_some(byte.into())
        }
        Scalar::AtomicBool => {
            // SAFETY: see above; an `AtomicBool` is one byte inside an
            // `UnsafeCell`, and others may store to it: loaded atomically.
            let byte = unsafe { &*value.cast::<AtomicU8>() }.load(Ordering::Relaxed);
            (byte > 1).then_some(byte.into())
        }
        Scalar::Char => {
            // SAFETY: see above: four aligned bytes.
            let word = unsafe { value.cast::<u32>().read() };
            char::from_u32(word).is_none().then_some(word.into())
        }
        Scalar::NonZeroUnsigned | Scalar::NonZeroSigned => {
            // SAFETY: see above: an integer of the layout's size.
            (unsafe { read_int(value, layout.size, false) } == 0).then_some(0)
        }
        _ => None,
    };
    match invalid {
        Some(found) => Err(InvalidValue::new(found, layout.name)),
        None => Ok(()),
    }
}

/// A range of padding bytes of a type (see [`TypeLayout::padding`]): bytes
/// that belong to no field, which a copy of a value leaves uninitialized.
///
/// ```
/// use shm_runtime::{FixedString, SharedSafe};
/// let padding = FixedString::<5>::LAYOUT.padding();
/// assert_eq!((padding[0].offset, padding[0].len), (9, 3));
/// assert_eq!(padding[0].after, "bytes");
/// assert_eq!(padding[0].to_string(), "bytes 9..12 (3 bytes after `bytes`)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Padding {
    /// Its first byte, from the start of the value.
    pub offset: usize,
    /// How many bytes.
    pub len: usize,
    /// The path of the field or element it follows (`"name.bytes"`,
    /// `"[2].tag"`); when it comes before the first field of a value, the
    /// path of that value (empty: the outermost one).
    pub after: String,
    /// Before the first field of the value `after` names.
    at_start: bool,
}

impl Padding {
    fn new(offset: usize, len: usize, path: &[PathPart], last: Option<&'static str>) -> Padding {
        let mut parts = path.to_vec();
        if let Some(name) = last {
            parts.push(PathPart::Field(name));
        }
        Padding {
            offset,
            len,
            after: path_string(&parts),
            at_start: last.is_none(),
        }
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.offset + self.len;
        let bytes = if self.len == 1 { "byte" } else { "bytes" };
        if self.len == 1 {
            write!(f, "byte {}", self.offset)?;
        } else {
            write!(f, "bytes {}..{end}", self.offset)?;
        }
        match (self.at_start, self.after.is_empty()) {
            (true, true) => write!(f, " ({} {bytes} at the start)", self.len),
            (true, false) => write!(
                f,
                " ({} {bytes} at the start of `{}`)",
                self.len, self.after
            ),
            (false, _) => write!(f, " ({} {bytes} after `{}`)", self.len, self.after),
        }
    }
}

/// Calls `run(start, end)` for every maximal range of a value's bytes that
/// are not padding, in increasing order (ranges that touch are merged): the
/// bytes a copy of a valid value may read. One range `(0, size)` for a type
/// without padding.
pub(crate) fn for_each_data_run(layout: &TypeLayout, mut run: impl FnMut(usize, usize)) {
    let mut pending: Option<(usize, usize)> = None;
    visit_data(layout, 0, &mut |start, end| match &mut pending {
        Some((_, pending_end)) if *pending_end == start => *pending_end = end,
        _ => {
            if let Some((s, e)) = pending.replace((start, end)) {
                run(s, e);
            }
        }
    });
    if let Some((s, e)) = pending {
        run(s, e);
    }
}

/// How many ranges of data bytes [`DataRuns`] holds.
pub(crate) const MAX_DATA_RUNS: usize = 16;

/// The ranges of a type's data bytes (the bytes that are not padding), as
/// [`for_each_data_run`] gives them, computed at compile time: up to
/// [`MAX_DATA_RUNS`]; `complete` is false when the type has more.
pub(crate) struct DataRuns {
    /// `(start, end)` of each range, in increasing order; the first `len`.
    pub(crate) runs: [(usize, usize); MAX_DATA_RUNS],
    pub(crate) len: usize,
    pub(crate) complete: bool,
}

impl DataRuns {
    pub(crate) const fn of(layout: &TypeLayout) -> DataRuns {
        let mut runs = DataRuns {
            runs: [(0, 0); MAX_DATA_RUNS],
            len: 0,
            complete: true,
        };
        runs.push_data(layout, 0);
        runs
    }

    const fn push_data(&mut self, layout: &TypeLayout, at: usize) {
        if !self.complete || layout.size == 0 {
            return;
        }
        if !layout.has_padding() {
            self.push(at, at + layout.size);
            return;
        }
        match &layout.kind {
            LayoutKind::Array { element, len } => {
                let mut i = 0;
                while i < *len && self.complete {
                    self.push_data(element, at + i * element.size);
                    i += 1;
                }
            }
            LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
                let mut i = 0;
                while i < fields.len() && self.complete {
                    self.push_data(fields[i].layout, at + fields[i].offset);
                    i += 1;
                }
            }
            // No padding (handled above).
            LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => {}
        }
    }

    const fn push(&mut self, start: usize, end: usize) {
        if self.len > 0 && self.runs[self.len - 1].1 == start {
            self.runs[self.len - 1].1 = end;
        } else if self.len == MAX_DATA_RUNS {
            self.complete = false;
        } else {
            self.runs[self.len] = (start, end);
            self.len += 1;
        }
    }
}

fn visit_data(layout: &TypeLayout, at: usize, visit: &mut impl FnMut(usize, usize)) {
    if layout.size == 0 {
        return;
    }
    if !layout.has_padding() {
        visit(at, at + layout.size);
        return;
    }
    match &layout.kind {
        LayoutKind::Array { element, len } => {
            for i in 0..*len {
                visit_data(element, at + i * element.size, visit);
            }
        }
        LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
            for field in *fields {
                visit_data(field.layout, at + field.offset, visit);
            }
        }
        // No padding (handled above).
        LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => {}
    }
}

/// Bytes that are not a valid value of their type: where, what was found,
/// and which type it should have been.
///
/// ```
/// use shm_runtime::SharedSafe;
/// let bytes = 0xD800u32.to_ne_bytes(); // a surrogate
/// // SAFETY: four readable bytes, aligned as `u32` is.
/// let aligned = u32::from_ne_bytes(bytes);
/// let err = unsafe { char::LAYOUT.check((&aligned as *const u32).cast()) }.unwrap_err();
/// assert_eq!(err.to_string(), "the value holds 0xd800, which is not a valid `char`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidValue {
    /// Outermost first.
    path: Vec<PathPart>,
    found: Option<u128>,
    expected: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PathPart {
    Field(&'static str),
    Index(usize),
}

impl InvalidValue {
    /// A value `found` that is not a valid `expected`.
    ///
    /// ```
    /// let e = shm_runtime::layout::InvalidValue::new(3, "Mode");
    /// assert_eq!(e.to_string(), "the value holds 0x03, which is not a valid `Mode`");
    /// ```
    pub fn new(found: u128, expected: &'static str) -> InvalidValue {
        InvalidValue {
            path: Vec::new(),
            found: Some(found),
            expected,
        }
    }

    fn unknown(expected: &'static str) -> InvalidValue {
        InvalidValue {
            path: Vec::new(),
            found: None,
            expected,
        }
    }

    fn inside(mut self, part: PathPart) -> InvalidValue {
        self.path.insert(0, part);
        self
    }

    /// The same error for the field `name` of a containing value: for a
    /// [`Validity::Custom`] check that walks its parts.
    ///
    /// ```
    /// let e = shm_runtime::layout::InvalidValue::new(2, "bool").in_field("flag");
    /// assert_eq!(e.to_string(), "`flag` holds 0x02, which is not a valid `bool`");
    /// ```
    pub fn in_field(self, name: &'static str) -> InvalidValue {
        self.inside(PathPart::Field(name))
    }

    /// The same error for element `index` of a containing array or list.
    ///
    /// ```
    /// let e = shm_runtime::layout::InvalidValue::new(2, "bool").at_index(7);
    /// assert_eq!(e.to_string(), "`[7]` holds 0x02, which is not a valid `bool`");
    /// ```
    pub fn at_index(self, index: usize) -> InvalidValue {
        self.inside(PathPart::Index(index))
    }

    /// Where, as `field.sub[3]` (empty: the value itself).
    ///
    /// ```
    /// let e = shm_runtime::layout::InvalidValue::new(2, "bool").at_index(1).in_field("flags");
    /// assert_eq!(e.path(), "flags[1]");
    /// ```
    pub fn path(&self) -> String {
        path_string(&self.path)
    }
}

/// A path of fields and indices as `field.sub[3]`.
fn path_string(parts: &[PathPart]) -> String {
    let mut path = String::new();
    for part in parts {
        match part {
            PathPart::Field(name) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
            }
            PathPart::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    path
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            f.write_str("the value")?;
        } else {
            write!(f, "`{path}`")?;
        }
        match self.found {
            Some(found) => write!(
                f,
                " holds {found:#04x}, which is not a valid `{}`",
                self.expected
            ),
            None => write!(
                f,
                " is a `{}`, whose layout has no validity check (`Validity::Unknown`)",
                self.expected
            ),
        }
    }
}

impl std::error::Error for InvalidValue {}

/// Checks that the `T` at `value` is valid; nothing to do (at compile time)
/// when every bit pattern of `T` is one.
///
/// # Safety
/// As for [`TypeLayout::check`].
#[inline]
pub(crate) unsafe fn check_value<T: SharedSafe>(value: *const T) -> Result<(), InvalidValue> {
    if const { !T::LAYOUT.needs_check() } {
        return Ok(());
    }
    // SAFETY: the caller's contract.
    unsafe { T::LAYOUT.check(value.cast()) }
}

/// Checks that `len` values of `T` from `first` on are valid (errors name
/// the index); nothing to do (at compile time) when every bit pattern of
/// `T` is one.
///
/// # Safety
/// As for [`TypeLayout::check`], for `len` consecutive values.
pub(crate) unsafe fn check_values<T: SharedSafe>(
    first: *const T,
    len: usize,
) -> Result<(), InvalidValue> {
    if const { !T::LAYOUT.needs_check() } {
        return Ok(());
    }
    for i in 0..len {
        // SAFETY: value `i` of the `len` the caller vouches for.
        unsafe { T::LAYOUT.check(first.add(i).cast()) }.map_err(|e| e.at_index(i))?;
    }
    Ok(())
}

/// Whether all-zero bytes are a valid `T`, deeply: for every part of it, at
/// every depth, [`Protocol`](Access::Protocol) fields (a lock's value)
/// included, and each part on its own. This is the answer the `SIGBUS`
/// handler needs: after a truncation it maps zeros under whatever reference
/// into the value is alive (a lock guard's `&mut T`, an item lent by a
/// queue's `pop_with`, an element of a `FixedVec`), so zeros must be valid
/// for each of them, not only for the value as a whole as a typed open
/// checks it. Conservative: every scalar leaf must accept zero (no
/// `NonZero*`), every enum must have a variant 0, a type without a known
/// check (`Validity::Unknown`) is refused, and a custom check must accept
/// zeros as well as every part it is made of.
pub(crate) fn zeros_are_valid<T: SharedSafe>() -> bool {
    if const { !T::LAYOUT.needs_check() && !has_protocol_parts(T::LAYOUT) } {
        return true;
    }
    layout_accepts_zeros(T::LAYOUT)
}

/// Whether a [`Protocol`](Access::Protocol) field lies anywhere in `layout`
/// (the fields that [`TypeLayout::needs_check`] does not look into).
pub(crate) const fn has_protocol_parts(layout: &TypeLayout) -> bool {
    match &layout.kind {
        LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => false,
        LayoutKind::Array { element, len } => *len > 0 && has_protocol_parts(element),
        LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
            let mut i = 0;
            while i < fields.len() {
                if matches!(fields[i].access, Access::Protocol)
                    || has_protocol_parts(fields[i].layout)
                {
                    return true;
                }
                i += 1;
            }
            false
        }
    }
}

/// [`zeros_are_valid`] for a layout.
fn layout_accepts_zeros(layout: &TypeLayout) -> bool {
    if layout.size == 0 {
        return true;
    }
    match &layout.kind {
        LayoutKind::Scalar(scalar) => {
            !matches!(scalar, Scalar::NonZeroUnsigned | Scalar::NonZeroSigned)
        }
        LayoutKind::Enum { variants, .. } => variants.iter().any(|v| v.value == 0),
        LayoutKind::Array { element, len } => *len == 0 || layout_accepts_zeros(element),
        LayoutKind::Struct { fields, .. } => fields.iter().all(|f| layout_accepts_zeros(f.layout)),
        LayoutKind::Library {
            fields, validity, ..
        } => {
            let parts = fields.iter().all(|f| layout_accepts_zeros(f.layout));
            match validity {
                Validity::Fields => parts,
                Validity::AnyBits => true,
                Validity::Unknown => false,
                Validity::Custom(check) => parts && custom_check_accepts_zeros(layout, *check),
            }
        }
    }
}

/// Runs a custom check on zeroed memory of `layout`'s size and alignment.
fn custom_check_accepts_zeros(
    layout: &TypeLayout,
    check: unsafe fn(*const u8) -> Result<(), InvalidValue>,
) -> bool {
    let Ok(memory) = std::alloc::Layout::from_size_align(layout.size, layout.align) else {
        return false;
    };
    // SAFETY: a non-zero size (checked by the caller); freed below with the
    // same layout.
    let zeros = unsafe { std::alloc::alloc_zeroed(memory) };
    if zeros.is_null() {
        return false;
    }
    // SAFETY: `layout.size` zeroed, aligned bytes that nobody else sees or
    // writes: what the check's contract asks.
    let valid = unsafe { check(zeros) }.is_ok();
    // SAFETY: allocated above with this layout.
    unsafe { std::alloc::dealloc(zeros, memory) };
    valid
}

/// Moves `value` to `dst` with its padding bytes zeroed, so that no byte of
/// this process's stack lands in shared memory.
///
/// # Safety
/// `dst` is valid for writes of a `T` and aligned; what it held is
/// overwritten without being dropped.
pub(crate) unsafe fn write_zero_padded<T: SharedSafe>(dst: *mut T, value: T) {
    if const { !T::LAYOUT.has_padding() } {
        // SAFETY: the caller's contract; without padding every byte written
        // is one of the value's.
        unsafe { dst.write(value) };
        return;
    }
    let value = core::mem::ManuallyDrop::new(value);
    // SAFETY: the caller's contract; the destination is zeroed, then every
    // byte that is not padding is copied from `value`, which lives until the
    // end of this function. `T` has no drop glue, so not dropping it is right.
    unsafe {
        dst.cast::<u8>().write_bytes(0, core::mem::size_of::<T>());
        copy_unpadded(
            T::LAYOUT,
            (&*value as *const T).cast::<u8>(),
            dst.cast::<u8>(),
        );
    }
}

/// Copies the bytes of a value that are not padding.
///
/// # Safety
/// `src` holds a value of `layout`'s type; `dst` is writable for its size;
/// they do not overlap.
unsafe fn copy_unpadded(layout: &TypeLayout, src: *const u8, dst: *mut u8) {
    if !layout.has_padding() {
        // SAFETY: the caller's contract; no padding: all bytes initialized.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, layout.size) };
        return;
    }
    match &layout.kind {
        LayoutKind::Array { element, len } => {
            for i in 0..*len {
                let at = i * element.size;
                // SAFETY: element `i` of both arrays.
                unsafe { copy_unpadded(element, src.add(at), dst.add(at)) };
            }
        }
        LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
            for field in *fields {
                // SAFETY: the field at its offset in both values.
                unsafe {
                    copy_unpadded(field.layout, src.add(field.offset), dst.add(field.offset))
                };
            }
        }
        // Scalars and enums have no padding (handled above).
        LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => {}
    }
}

/// Moves `value` into `place` with its padding bytes zeroed: what
/// `*place = value` does, except that the padding of `value` (bytes of this
/// process's stack, which every process mapping the memory can read) is not
/// copied. A plain assignment through a guard (`*guard = value`) copies the
/// padding as it is; use this where it matters.
///
/// ```
/// use shm_runtime::{Shared, SharedSafe, ShmMutex};
///
/// #[derive(SharedSafe, Clone, Copy)]
/// #[repr(C)]
/// struct Entry { tag: u8, value: u64 }
///
/// let table = Shared::anonymous(ShmMutex::new(Entry { tag: 0, value: 0 }))?;
/// let mut entry = table.lock().unwrap();
/// shm_runtime::layout::store(&mut *entry, Entry { tag: 1, value: 42 });
/// assert_eq!((entry.tag, entry.value), (1, 42));
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn store<T: SharedSafe>(place: &mut T, value: T) {
    // SAFETY: `place` is a valid, aligned, exclusive `T`; its old value
    // needs no drop (`SharedSafe` types have no drop glue).
    unsafe { write_zero_padded(place, value) }
}

impl Fingerprint {
    /// The fingerprint of a layout: a hash of everything in it but the
    /// names of structs and enums (informational), computed at compile time.
    ///
    /// ```
    /// use shm_runtime::{Fingerprint, SharedSafe};
    /// assert_eq!(u32::FINGERPRINT, Fingerprint::of_layout(u32::LAYOUT));
    /// assert_ne!(u32::FINGERPRINT, i32::FINGERPRINT);
    /// ```
    pub const fn of_layout(layout: &TypeLayout) -> Fingerprint {
        Fingerprint::from_state(hash_layout(crate::fingerprint::START, layout))
    }
}

use crate::fingerprint::{mix_str, mix_u128, mix_u64};

const fn hash_layout(state: u64, layout: &TypeLayout) -> u64 {
    let s = mix_u64(mix_u64(state, layout.size as u64), layout.align as u64);
    match &layout.kind {
        LayoutKind::Scalar(scalar) => {
            mix_str(mix_u64(mix_str(s, "scalar"), scalar.code()), layout.name)
        }
        LayoutKind::Array { element, len } => {
            mix_u64(hash_layout(mix_str(s, "array"), element), *len as u64)
        }
        LayoutKind::Struct { repr, fields } => {
            hash_fields(mix_str(mix_str(s, "struct"), repr), fields)
        }
        LayoutKind::Enum { repr, variants } => {
            let mut s = mix_u64(mix_str(s, "enum"), repr.code());
            s = mix_u64(s, variants.len() as u64);
            let mut i = 0;
            while i < variants.len() {
                s = mix_u128(mix_str(s, variants[i].name), variants[i].value);
                i += 1;
            }
            s
        }
        LayoutKind::Library {
            protocol,
            params,
            fields,
            validity,
        } => {
            let mut s = mix_str(mix_str(s, "library"), protocol);
            s = mix_u64(s, params.len() as u64);
            let mut i = 0;
            while i < params.len() {
                s = mix_u64(mix_str(s, params[i].0), params[i].1);
                i += 1;
            }
            let validity = match validity {
                Validity::Fields => 0,
                Validity::AnyBits => 1,
                Validity::Unknown => 2,
                Validity::Custom(_) => 3,
            };
            hash_fields(mix_u64(s, validity), fields)
        }
    }
}

const fn hash_fields(state: u64, fields: &[Field]) -> u64 {
    let mut s = mix_u64(state, fields.len() as u64);
    let mut i = 0;
    while i < fields.len() {
        let field = &fields[i];
        s = mix_u64(mix_str(s, field.name), field.offset as u64);
        s = mix_u64(s, matches!(field.access, Access::Protocol) as u64);
        s = hash_layout(s, field.layout);
        i += 1;
    }
    s
}

/// The library protocols (by name prefix) that are plain data, with no
/// interior mutability of their own: the fixed-capacity types and a
/// `PodField` (their parts are checked too: a `FixedVec` of atomics has
/// interior mutability). Not in it: `ShmMutex`, `ShmCondvar`, `ShmEvent`,
/// `ShmSemaphore`, `SeqLock` and `RelPtr` (atomics inside), and every
/// protocol this crate does not know.
const PLAIN_PROTOCOLS: &[&str] = &["FixedString ", "FixedVec ", "PodField "];

const fn starts_with(s: &str, prefix: &str) -> bool {
    let (s, prefix) = (s.as_bytes(), prefix.as_bytes());
    if s.len() < prefix.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if s[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl TypeLayout {
    /// Whether this type has interior mutability: an atomic, a lock, a
    /// `SeqLock`, a `RelPtr`, or a library type of a protocol this crate
    /// does not know, anywhere inside it. A `&T` of a type without it
    /// cannot write, so it may view a read-only mapping
    /// ([`Segment::read_only`](crate::segment::Segment::read_only)`.open()`
    /// takes exactly those types): std makes every atomic operation on
    /// read-only memory undefined behaviour but small `Relaxed` loads, and a
    /// `&AtomicU64` would let safe code store, `fetch_add` or load with
    /// `Acquire`.
    ///
    /// ```
    /// use shm_runtime::{FixedString, SeqLock, SharedSafe, ShmMutex};
    /// use std::sync::atomic::AtomicU32;
    /// assert!(!<[u32; 4]>::LAYOUT.has_interior_mutability());
    /// assert!(!<FixedString<16>>::LAYOUT.has_interior_mutability());
    /// assert!(<[AtomicU32; 4]>::LAYOUT.has_interior_mutability());
    /// assert!(<SeqLock<[u64; 2]>>::LAYOUT.has_interior_mutability());
    /// assert!(<ShmMutex<u64>>::LAYOUT.has_interior_mutability());
    /// ```
    pub const fn has_interior_mutability(&'static self) -> bool {
        self.interior_mutable_part().is_some()
    }

    /// The first part of this type (itself, or a field or element type)
    /// with interior mutability: see
    /// [`has_interior_mutability`](Self::has_interior_mutability).
    ///
    /// ```
    /// use shm_runtime::{SharedSafe, ShmMutex};
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Jobs {
    ///     count: u64,
    ///     queue: ShmMutex<[u32; 8]>,
    /// }
    /// assert_eq!(Jobs::LAYOUT.interior_mutable_part().map(|l| l.name), Some("ShmMutex"));
    /// ```
    pub const fn interior_mutable_part(&'static self) -> Option<&'static TypeLayout> {
        match &self.kind {
            LayoutKind::Scalar(
                Scalar::AtomicUnsigned | Scalar::AtomicSigned | Scalar::AtomicBool,
            ) => Some(self),
            LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => None,
            LayoutKind::Array { element, len } => {
                if *len == 0 {
                    None
                } else {
                    element.interior_mutable_part()
                }
            }
            LayoutKind::Struct { fields, .. } => fields_interior_mutable(fields),
            LayoutKind::Library {
                protocol, fields, ..
            } => {
                let mut i = 0;
                while i < PLAIN_PROTOCOLS.len() {
                    if starts_with(protocol, PLAIN_PROTOCOLS[i]) {
                        return fields_interior_mutable(fields);
                    }
                    i += 1;
                }
                Some(self)
            }
        }
    }
}

/// The first field, protected ones included (a `FixedVec`'s slots), with
/// interior mutability.
const fn fields_interior_mutable(fields: &'static [Field]) -> Option<&'static TypeLayout> {
    let mut i = 0;
    while i < fields.len() {
        if let Some(part) = fields[i].layout.interior_mutable_part() {
            return Some(part);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FixedString;

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
