//! A difference found between two descriptions: where ([`Difference`]), what
//! ([`DifferenceKind`]), and the sentence that says it.

use super::ValidityDesc;
use crate::layout::Access;
use std::fmt;

/// The first difference between two descriptions: where (a path of fields
/// and elements, `inner.flags[0]`) and what; see
/// [`Description::first_difference`]. `Display` says it in a sentence.
///
/// [`Description::first_difference`]: super::Description::first_difference
///
/// ```
/// use shm_runtime::layout::describe::{Description, DifferenceKind};
/// use shm_runtime::SharedSafe;
/// let stored = Description::of(<[u8; 4]>::LAYOUT)?;
/// let ours = Description::of(<[u8; 3]>::LAYOUT)?;
/// let diff = stored.first_difference(&ours).unwrap();
/// assert_eq!(diff.path(), "");
/// assert!(matches!(diff.kind(), DifferenceKind::Type { .. }));
/// assert_eq!(diff.to_string(), "the stored type is `[u8; 4]`; this program's is `[u8; 3]`");
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub(super) path: Vec<Step>,
    pub(super) kind: DifferenceKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Field(String),
    Index(u64),
}

/// What differs: see [`Difference`]. "Stored" is the description that
/// [`first_difference`](super::Description::first_difference) is called on (a
/// segment's), "ours" its argument (this program's type). Names of structs
/// and enums (`container`, `name`) are this program's.
///
/// ```
/// use shm_runtime::layout::describe::{Description, DifferenceKind};
/// use shm_runtime::SharedSafe;
/// let d = Description::of(u32::LAYOUT)?.first_difference(&Description::of(i32::LAYOUT)?);
/// assert!(matches!(d.unwrap().kind(), DifferenceKind::Type { stored, ours } if stored == "u32" && ours == "i32"));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DifferenceKind {
    /// The types differ as wholes (another kind of type, scalar, size or
    /// array length), at the root or in an array's elements.
    Type {
        /// The stored type.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// A field of the same name has another type or offset.
    Field {
        /// This program's struct or library type holding it.
        container: String,
        /// Its stored type.
        stored_type: String,
        /// Its stored offset.
        stored_offset: u64,
        /// Its type in this program.
        ours_type: String,
        /// Its offset in this program.
        ours_offset: u64,
    },
    /// A stored field that this program's type does not have.
    MissingField {
        /// This program's type.
        container: String,
        /// The field's type.
        ty: String,
        /// Its offset.
        offset: u64,
    },
    /// A field of this program's type that the stored one does not have.
    ExtraField {
        /// This program's type.
        container: String,
        /// The field's type.
        ty: String,
        /// Its offset.
        offset: u64,
    },
    /// A stored field that has another name in this program (the same type
    /// at the same offset).
    RenamedField {
        /// This program's type.
        container: String,
        /// Its name in this program.
        ours_name: String,
        /// Its type.
        ty: String,
        /// Its offset.
        offset: u64,
    },
    /// A field checked at open in one and by its protocol in the other.
    Access {
        /// This program's type.
        container: String,
        /// In the stored type.
        stored: Access,
        /// In this program's.
        ours: Access,
    },
    /// Another struct repr.
    StructRepr {
        /// This program's struct.
        name: String,
        /// The stored repr.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// Another size or alignment, with the same parts.
    Size {
        /// This program's type.
        name: String,
        /// The stored size.
        stored_size: u64,
        /// The stored alignment.
        stored_align: u64,
        /// This program's size.
        ours_size: u64,
        /// This program's alignment.
        ours_align: u64,
    },
    /// Another integer repr of an enum (`u8`, `i32`).
    EnumRepr {
        /// This program's enum.
        name: String,
        /// The stored repr.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// A variant of the same name with another discriminant.
    Discriminant {
        /// This program's enum.
        name: String,
        /// The variant.
        variant: String,
        /// Its stored discriminant.
        stored: String,
        /// Its discriminant in this program.
        ours: String,
    },
    /// A stored variant that this program's enum does not have.
    MissingVariant {
        /// This program's enum.
        name: String,
        /// The variant.
        variant: String,
        /// Its discriminant.
        value: String,
    },
    /// A variant of this program's enum that the stored one does not have.
    ExtraVariant {
        /// This program's enum.
        name: String,
        /// The variant.
        variant: String,
        /// Its discriminant.
        value: String,
    },
    /// A stored variant with another name in this program (the same
    /// discriminant at the same place).
    RenamedVariant {
        /// This program's enum.
        name: String,
        /// The stored name.
        variant: String,
        /// This program's name.
        ours_variant: String,
        /// The discriminant.
        value: String,
    },
    /// A library type of another protocol (or another version of it).
    Protocol {
        /// This program's type.
        name: String,
        /// The stored protocol.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// A parameter (a capacity) with another value, or only on one side.
    Param {
        /// This program's type.
        name: String,
        /// The parameter.
        param: String,
        /// Its stored value, if the stored type has it.
        stored: Option<u64>,
        /// Its value in this program, if this program's type has it.
        ours: Option<u64>,
    },
    /// The same fields or variants in another order.
    Order {
        /// This program's type.
        name: String,
        /// The first item out of place (`"variant `Busy`"`).
        item: String,
        /// Its index in the stored type.
        stored_place: usize,
        /// Its index in this program's.
        ours_place: usize,
    },
    /// A library type whose bytes are checked another way.
    Validity {
        /// This program's type.
        name: String,
        /// The stored way.
        stored: ValidityDesc,
        /// This program's.
        ours: ValidityDesc,
    },
}

impl Difference {
    /// Where: the fields and elements leading to the difference
    /// (`inner.flags[0]`; elements of an array differ alike, named by the
    /// first); empty for the described type itself.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct A { x: u32 }
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct B { y: u32 }
    /// let d = Description::of(A::LAYOUT)?.first_difference(&Description::of(B::LAYOUT)?);
    /// assert_eq!(d.unwrap().path(), "x");
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn path(&self) -> String {
        let mut path = String::new();
        for step in &self.path {
            match step {
                Step::Field(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        path
    }

    /// What differs.
    ///
    /// ```
    /// use shm_runtime::layout::describe::{Description, DifferenceKind};
    /// use shm_runtime::{FixedString, SharedSafe};
    /// let stored = Description::of(FixedString::<8>::LAYOUT)?;
    /// let ours = Description::of(FixedString::<16>::LAYOUT)?;
    /// let d = stored.first_difference(&ours).unwrap();
    /// assert!(matches!(d.kind(), DifferenceKind::Param { stored: Some(8), ours: Some(16), .. }));
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn kind(&self) -> &DifferenceKind {
        &self.kind
    }
}

fn says(access: Access) -> &'static str {
    match access {
        Access::Plain => "checked when a segment is opened",
        Access::Protocol => "checked by its protocol",
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if !matches!(
            self.kind,
            DifferenceKind::Type { .. }
                | DifferenceKind::Field { .. }
                | DifferenceKind::MissingField { .. }
                | DifferenceKind::ExtraField { .. }
                | DifferenceKind::RenamedField { .. }
                | DifferenceKind::Access { .. }
        ) && !path.is_empty()
        {
            write!(f, "in `{path}`, ")?;
        }
        match &self.kind {
            DifferenceKind::Type { stored, ours } if path.is_empty() => write!(
                f,
                "the stored type is `{stored}`; this program's is `{ours}`"
            ),
            DifferenceKind::Type { stored, ours } => {
                write!(f, "`{path}` is `{stored}`; this program's is `{ours}`")
            }
            DifferenceKind::Field {
                container,
                stored_type,
                stored_offset,
                ours_type,
                ours_offset,
            } => write!(
                f,
                "field `{path}` is `{stored_type}` at offset {stored_offset}; this program's \
                 `{container}` has `{ours_type}` at offset {ours_offset}"
            ),
            DifferenceKind::MissingField {
                container,
                ty,
                offset,
            } => write!(
                f,
                "field `{path}` (`{ty}` at offset {offset}) is not in this program's `{container}`"
            ),
            DifferenceKind::ExtraField {
                container,
                ty,
                offset,
            } => write!(
                f,
                "this program's `{container}` has a field `{path}` (`{ty}` at offset {offset}) \
                 that the stored type does not have"
            ),
            DifferenceKind::RenamedField {
                container,
                ours_name,
                ty,
                offset,
            } => write!(
                f,
                "field `{path}` (`{ty}` at offset {offset}) is named `{ours_name}` in this \
                 program's `{container}`"
            ),
            DifferenceKind::Access {
                container,
                stored,
                ours,
            } => write!(
                f,
                "field `{path}` is {}; in this program's `{container}` it is {}",
                says(*stored),
                says(*ours)
            ),
            DifferenceKind::StructRepr { name, stored, ours } => write!(
                f,
                "the stored struct is `{stored}`; this program's `{name}` is `{ours}`"
            ),
            DifferenceKind::Size {
                name,
                stored_size,
                stored_align,
                ours_size,
                ours_align,
            } => write!(
                f,
                "the stored type is {stored_size} bytes aligned to {stored_align}; this \
                 program's `{name}` is {ours_size} bytes aligned to {ours_align}"
            ),
            DifferenceKind::EnumRepr { name, stored, ours } => write!(
                f,
                "the stored enum has `repr({stored})`; this program's `{name}` has `repr({ours})`"
            ),
            DifferenceKind::Discriminant {
                name,
                variant,
                stored,
                ours,
            } => write!(
                f,
                "variant `{variant}` is {stored}; this program's `{name}` has `{variant} = {ours}`"
            ),
            DifferenceKind::MissingVariant {
                name,
                variant,
                value,
            } => write!(
                f,
                "variant `{variant}` (= {value}) is not in this program's `{name}`"
            ),
            DifferenceKind::ExtraVariant {
                name,
                variant,
                value,
            } => write!(
                f,
                "this program's `{name}` has a variant `{variant}` (= {value}) that the stored \
                 enum does not have"
            ),
            DifferenceKind::RenamedVariant {
                name,
                variant,
                ours_variant,
                value,
            } => write!(
                f,
                "variant `{variant}` (= {value}) is named `{ours_variant}` in this program's \
                 `{name}`"
            ),
            DifferenceKind::Protocol { name, stored, ours } => write!(
                f,
                "the stored type follows protocol `{stored}`; this program's `{name}` follows \
                 `{ours}`"
            ),
            DifferenceKind::Param {
                name,
                param,
                stored,
                ours,
            } => match (stored, ours) {
                (Some(s), Some(o)) => write!(
                    f,
                    "the stored `{name}` has {param} {s}; this program's has {param} {o}"
                ),
                (Some(s), None) => write!(
                    f,
                    "the stored `{name}` has {param} {s}, which this program's does not have"
                ),
                (None, Some(o)) => write!(
                    f,
                    "this program's `{name}` has {param} {o}, which the stored one does not have"
                ),
                (None, None) => write!(f, "`{name}` differs in {param}"),
            },
            DifferenceKind::Order {
                name,
                item,
                stored_place,
                ours_place,
            } => write!(
                f,
                "{item} is at index {stored_place} in the stored type and at index \
                 {ours_place} in this program's `{name}`"
            ),
            DifferenceKind::Validity { name, stored, ours } => write!(
                f,
                "the stored `{name}` {}; this program's {}",
                stored.says(),
                ours.says()
            ),
        }
    }
}
