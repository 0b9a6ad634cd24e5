//! [`InvalidValue`]: bytes that are no valid value of a type, and where in
//! the value they lie.

use core::fmt;

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
pub(super) enum PathPart {
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

    pub(super) fn unknown(expected: &'static str) -> InvalidValue {
        InvalidValue {
            path: Vec::new(),
            found: None,
            expected,
        }
    }

    pub(super) fn inside(mut self, part: PathPart) -> InvalidValue {
        self.path.insert(0, part);
        self
    }

    /// The same error for the field `name` of a containing value: for a
    /// [`Validity::Custom`](super::Validity::Custom) check that walks its parts.
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
pub(super) fn path_string(parts: &[PathPart]) -> String {
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
