//! What a description is made of: the table of types ([`Description`]),
//! each type's record ([`TypeDesc`]), its kind, fields, variants and
//! validity.

use crate::layout::{Access, Scalar, Validity};

/// How a [library type](KindDesc::Library)'s bytes are checked: a
/// [`Validity`] without the code of a custom check.
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc, ValidityDesc};
/// use shm_runtime::{FixedString, SharedSafe};
/// let d = Description::of(FixedString::<8>::LAYOUT)?;
/// let KindDesc::Library { validity, .. } = &d.get(d.root()).kind else { unreachable!() };
/// assert_eq!(*validity, ValidityDesc::AnyBits);
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidityDesc {
    /// Its [`Plain`](Access::Plain) fields are checked.
    Fields,
    /// Any bytes are valid.
    AnyBits,
    /// Nothing is known: typed opens refuse it.
    Unknown,
    /// A check of its own, which the description does not carry.
    Custom,
}

impl ValidityDesc {
    pub(super) fn of(validity: &Validity) -> ValidityDesc {
        match validity {
            Validity::Fields => ValidityDesc::Fields,
            Validity::AnyBits => ValidityDesc::AnyBits,
            Validity::Unknown => ValidityDesc::Unknown,
            Validity::Custom(_) => ValidityDesc::Custom,
        }
    }

    /// The format's code, which is also the fingerprint's.
    pub(super) fn code(self) -> u8 {
        match self {
            ValidityDesc::Fields => 0,
            ValidityDesc::AnyBits => 1,
            ValidityDesc::Unknown => 2,
            ValidityDesc::Custom => 3,
        }
    }

    pub(super) fn of_code(code: u8) -> Option<ValidityDesc> {
        Some(match code {
            0 => ValidityDesc::Fields,
            1 => ValidityDesc::AnyBits,
            2 => ValidityDesc::Unknown,
            3 => ValidityDesc::Custom,
            _ => return None,
        })
    }

    pub(super) fn says(self) -> &'static str {
        match self {
            ValidityDesc::Fields => "is checked by its fields",
            ValidityDesc::AnyBits => "accepts any bytes",
            ValidityDesc::Unknown => "cannot be checked",
            ValidityDesc::Custom => "has a check of its own",
        }
    }
}

/// The number of a type in a [`Description`]'s table.
///
/// ```
/// use shm_runtime::layout::describe::Description;
/// use shm_runtime::SharedSafe;
/// let d = Description::of(<[u8; 4]>::LAYOUT)?;
/// assert_eq!(d.root().index(), 1); // `u8` is type 0
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeId(pub(super) u32);

impl TypeId {
    /// Its place in [`Description::types`].
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(u32::LAYOUT)?;
    /// assert_eq!(d.root().index(), 0);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One type of a [`Description`]: what a [`TypeLayout`] says, owned.
///
/// [`TypeLayout`]: crate::layout::TypeLayout
///
/// ```
/// use shm_runtime::layout::describe::Description;
/// use shm_runtime::SharedSafe;
/// let d = Description::of(u16::LAYOUT)?;
/// let t = d.get(d.root());
/// assert_eq!((t.name.as_str(), t.size, t.align), ("u16", 2, 2));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeDesc {
    /// Its name (`"u32"`, `"Stats"`, `"array"`); informational.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its alignment in bytes.
    pub align: u64,
    /// What it is made of.
    pub kind: KindDesc,
}

/// What a [`TypeDesc`] is made of: a [`LayoutKind`], owned, with types
/// referenced by [`TypeId`].
///
/// [`LayoutKind`]: crate::layout::LayoutKind
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc};
/// use shm_runtime::SharedSafe;
/// let d = Description::of(<[u8; 4]>::LAYOUT)?;
/// let KindDesc::Array { element, len } = d.get(d.root()).kind else { unreachable!() };
/// assert_eq!((d.get(element).name.as_str(), len), ("u8", 4));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KindDesc {
    /// An integer, float, `bool`, `char`, `NonZero*`, atomic or `()`.
    Scalar(Scalar),
    /// `[element; len]`.
    Array {
        /// The element type.
        element: TypeId,
        /// The number of elements.
        len: u64,
    },
    /// A `repr(C)` or `repr(transparent)` struct.
    Struct {
        /// Its repr as written (`"repr(C)"`).
        repr: String,
        /// Its fields, in offset order.
        fields: Vec<FieldDesc>,
    },
    /// A fieldless enum.
    Enum {
        /// [`Scalar::Unsigned`] or [`Scalar::Signed`]: the discriminant's
        /// kind; its width is the type's size.
        repr: Scalar,
        /// Its variants in declaration order.
        variants: Vec<VariantDesc>,
    },
    /// A type of this crate or a hand-written impl; opaque when it has no
    /// fields.
    Library {
        /// The protocol's name and version (`"ShmMutex futex v5"`).
        protocol: String,
        /// Numbers that parametrize it (`("capacity", 8)`).
        params: Vec<(String, u64)>,
        /// Its parts, in offset order.
        fields: Vec<FieldDesc>,
        /// How its bytes are checked.
        validity: ValidityDesc,
    },
}

/// A field of a struct or library type in a [`Description`].
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc};
/// use shm_runtime::{FixedString, SharedSafe};
/// let d = Description::of(FixedString::<8>::LAYOUT)?;
/// let KindDesc::Library { fields, .. } = &d.get(d.root()).kind else { unreachable!() };
/// assert_eq!((fields[1].name.as_str(), fields[1].offset), ("bytes", 4));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldDesc {
    /// Its name.
    pub name: String,
    /// Its offset in the containing type.
    pub offset: u64,
    /// Its type.
    pub ty: TypeId,
    /// Whether opening a segment checks it.
    pub access: Access,
}

/// A variant of an enum in a [`Description`].
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc};
/// use shm_runtime::SharedSafe;
/// #[derive(SharedSafe)]
/// #[repr(i8)]
/// enum Level { Low = -1, High = 1 }
/// let d = Description::of(Level::LAYOUT)?;
/// let KindDesc::Enum { variants, .. } = &d.get(d.root()).kind else { unreachable!() };
/// assert_eq!((variants[0].name.as_str(), variants[0].value), ("Low", u128::MAX));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VariantDesc {
    /// Its name.
    pub name: String,
    /// Its discriminant, sign-extended for a signed repr.
    pub value: u128,
}

/// The description of a type, read from bytes or made from a
/// [`TypeLayout`]: a table of types in which each refers only to types
/// before it, the last being the described type. See the
/// [module documentation](super).
///
/// [`TypeLayout`]: crate::layout::TypeLayout
///
/// ```
/// use shm_runtime::layout::describe::Description;
/// use shm_runtime::SharedSafe;
/// let d = Description::of(<[[u16; 2]; 3]>::LAYOUT)?;
/// assert_eq!(d.types().len(), 3);
/// assert_eq!(d.type_name(d.root()), "[[u16; 2]; 3]");
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// Not empty; each refers to earlier ones only.
    pub(super) types: Vec<TypeDesc>,
}
