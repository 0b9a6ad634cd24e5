//! The layout tree itself: [`TypeLayout`] and what it is made of
//! ([`LayoutKind`], [`Scalar`], [`Field`], [`Access`], [`Variant`],
//! [`Validity`]), the constructors hand-written impls use, and the
//! questions answered at compile time (whether a check or a padding-free
//! copy is needed, interior mutability).

use super::InvalidValue;

/// What a [`SharedSafe`](crate::SharedSafe) type is made of: see the [module
/// documentation](crate::layout).
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
    pub(super) const fn code(self) -> u64 {
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
