//! Reading untrusted bytes into a checked [`Description`]:
//! [`Description::decode`] and [`Description::of`].

use super::format::{
    scalar_of_code, KIND_ARRAY, KIND_ENUM, KIND_LIBRARY, KIND_SCALAR, KIND_STRUCT, MAGIC,
    MAX_ALIGN, MAX_DEPTH, MAX_ITEMS, MAX_LEN, MAX_SIZE, MAX_STR, MAX_TYPES, MIN_FIELD, MIN_PARAM,
    MIN_RECORD, MIN_VARIANT, VERSION,
};
use super::{encode, DescriptionError, Problem};
use super::{Description, FieldDesc, KindDesc, TypeDesc, TypeId, ValidityDesc, VariantDesc};
use crate::layout::{Access, Scalar, TypeLayout};
use std::collections::HashSet;

/// Reads untrusted bytes, never past their end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DescriptionError> {
        if n > self.left() {
            return Err(DescriptionError::at(
                self.at,
                Problem::Truncated {
                    what,
                    needed: n as u64,
                    left: self.left() as u64,
                },
            ));
        }
        let taken = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DescriptionError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DescriptionError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DescriptionError> {
        self.array(what).map(u16::from_le_bytes)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DescriptionError> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, DescriptionError> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn u128(&mut self, what: &'static str) -> Result<u128, DescriptionError> {
        self.array(what).map(u128::from_le_bytes)
    }

    fn str(&mut self, what: &'static str) -> Result<String, DescriptionError> {
        let start = self.at;
        let len = self.u16(what)? as usize;
        if len > MAX_STR {
            return Err(DescriptionError::at(
                start,
                Problem::StringTooLong { len: len as u64 },
            ));
        }
        let bytes = self.take(len, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(DescriptionError::at(start + 2, Problem::InvalidUtf8)),
        }
    }

    /// A count of items of at least `min_size` bytes each: refused before
    /// anything is allocated for them when it exceeds the limit or what
    /// the bytes left can hold.
    fn count(
        &mut self,
        what: &'static str,
        min_size: usize,
        limit: usize,
    ) -> Result<usize, DescriptionError> {
        let start = self.at;
        let count = self.u32(what)? as usize;
        if count > limit {
            return Err(DescriptionError::at(
                start,
                Problem::TooMany {
                    what,
                    count: count as u64,
                    limit: limit as u64,
                },
            ));
        }
        let room = self.left() / min_size;
        if count > room {
            return Err(DescriptionError::at(
                start,
                Problem::TooMany {
                    what,
                    count: count as u64,
                    limit: room as u64,
                },
            ));
        }
        Ok(count)
    }

    /// A reference from record `record` to an earlier one.
    fn reference(&mut self, record: usize) -> Result<TypeId, DescriptionError> {
        let start = self.at;
        let index = self.u32("a type reference")?;
        if index as usize >= record {
            return Err(DescriptionError::at(
                start,
                Problem::BadReference {
                    index,
                    record: record as u32,
                },
            ));
        }
        Ok(TypeId(index))
    }

    fn fields(&mut self, record: usize) -> Result<Vec<FieldDesc>, DescriptionError> {
        let count = self.count("fields", MIN_FIELD, MAX_ITEMS)?;
        let mut fields = Vec::new();
        for _ in 0..count {
            let name = self.str("a field name")?;
            let offset = self.u64("a field offset")?;
            let ty = self.reference(record)?;
            let at = self.at;
            let access = match self.u8("a field access")? {
                0 => Access::Plain,
                1 => Access::Protocol,
                code => {
                    return Err(DescriptionError::at(
                        at,
                        Problem::UnknownCode {
                            what: "access",
                            code,
                        },
                    ))
                }
            };
            fields.push(FieldDesc {
                name,
                offset,
                ty,
                access,
            });
        }
        Ok(fields)
    }
}

impl Description {
    /// The description of `layout`: what [`decode`](Self::decode) reads
    /// from [`encode`]'s bytes.
    ///
    /// # Errors
    /// As [`encode`]: a layout beyond the [limits](super#limits).
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(<[u32; 8]>::LAYOUT)?;
    /// assert_eq!(d.get(d.root()).size, 32);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn of(layout: &TypeLayout) -> Result<Description, DescriptionError> {
        Description::decode(&encode(layout)?)
    }

    /// Reads a description from bytes that nobody vouches for: exactly one
    /// description, as [`encode`] writes it (the header's length is the
    /// length of `bytes`).
    ///
    /// Reading is bounded: no recursion, every index refers to an earlier
    /// record, every count is checked against the [limits](super#limits)
    /// and the bytes left before anything is allocated for it, and memory
    /// use is proportional to `bytes.len()` (at most [`MAX_LEN`]).
    ///
    /// # Errors
    /// Bytes that do not follow the format or are not consistent: a
    /// [`DescriptionError`] with the offset of the first wrong byte.
    ///
    /// ```
    /// use shm_runtime::layout::describe::{self, Description, Problem};
    /// use shm_runtime::SharedSafe;
    ///
    /// let bytes = describe::encode(<[u8; 4]>::LAYOUT)?;
    /// assert_eq!(Description::decode(&bytes)?, Description::of(<[u8; 4]>::LAYOUT)?);
    ///
    /// let err = Description::decode(&bytes[..bytes.len() - 1]).unwrap_err();
    /// assert!(matches!(err.problem(), Problem::LengthMismatch { .. }));
    /// # Ok::<(), describe::DescriptionError>(())
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Description, DescriptionError> {
        let mut r = Reader { bytes, at: 0 };
        if r.array::<4>("the magic")? != MAGIC {
            return Err(DescriptionError::at(0, Problem::BadMagic));
        }
        let version = r.u16("the version")?;
        if version != VERSION {
            return Err(DescriptionError::at(
                4,
                Problem::UnsupportedVersion(version),
            ));
        }
        let flags = r.u16("the flags")?;
        if flags != 0 {
            return Err(DescriptionError::at(6, Problem::UnknownFlags(flags)));
        }
        let claimed = r.u32("the length")? as u64;
        if claimed > MAX_LEN as u64 {
            return Err(DescriptionError::at(8, Problem::TooLong { len: claimed }));
        }
        if claimed != bytes.len() as u64 {
            return Err(DescriptionError::at(
                8,
                Problem::LengthMismatch {
                    claimed,
                    actual: bytes.len() as u64,
                },
            ));
        }
        let count = r.count("types", MIN_RECORD, MAX_TYPES)?;
        if count == 0 {
            return Err(DescriptionError::at(
                12,
                Problem::Inconsistent("no type records".into()),
            ));
        }
        let mut types: Vec<TypeDesc> = Vec::new();
        let mut heights: Vec<usize> = Vec::new();
        for record in 0..count {
            let start = r.at;
            let kind = r.u8("a record kind")?;
            let name = r.str("a type name")?;
            let size = r.u64("a type size")?;
            let align = r.u64("a type alignment")?;
            let kind = match kind {
                KIND_SCALAR => {
                    let at = r.at;
                    let code = r.u8("a scalar code")?;
                    KindDesc::Scalar(scalar_of_code(code).ok_or_else(|| {
                        DescriptionError::at(
                            at,
                            Problem::UnknownCode {
                                what: "scalar",
                                code,
                            },
                        )
                    })?)
                }
                KIND_ARRAY => KindDesc::Array {
                    element: r.reference(record)?,
                    len: r.u64("an array length")?,
                },
                KIND_STRUCT => KindDesc::Struct {
                    repr: r.str("a repr")?,
                    fields: r.fields(record)?,
                },
                KIND_ENUM => {
                    let at = r.at;
                    let code = r.u8("an enum repr")?;
                    let repr = match scalar_of_code(code) {
                        Some(repr @ (Scalar::Unsigned | Scalar::Signed)) => repr,
                        _ => {
                            return Err(DescriptionError::at(
                                at,
                                Problem::UnknownCode {
                                    what: "enum repr",
                                    code,
                                },
                            ))
                        }
                    };
                    let count = r.count("variants", MIN_VARIANT, MAX_ITEMS)?;
                    let mut variants = Vec::new();
                    for _ in 0..count {
                        variants.push(VariantDesc {
                            name: r.str("a variant name")?,
                            value: r.u128("a discriminant")?,
                        });
                    }
                    KindDesc::Enum { repr, variants }
                }
                KIND_LIBRARY => {
                    let protocol = r.str("a protocol")?;
                    let at = r.at;
                    let code = r.u8("a validity")?;
                    let validity = ValidityDesc::of_code(code).ok_or_else(|| {
                        DescriptionError::at(
                            at,
                            Problem::UnknownCode {
                                what: "validity",
                                code,
                            },
                        )
                    })?;
                    let count = r.count("parameters", MIN_PARAM, MAX_ITEMS)?;
                    let mut params = Vec::new();
                    for _ in 0..count {
                        params.push((r.str("a parameter name")?, r.u64("a parameter")?));
                    }
                    KindDesc::Library {
                        protocol,
                        params,
                        fields: r.fields(record)?,
                        validity,
                    }
                }
                code => {
                    return Err(DescriptionError::at(
                        start,
                        Problem::UnknownCode { what: "kind", code },
                    ))
                }
            };
            let ty = TypeDesc {
                name,
                size,
                align,
                kind,
            };
            check_record(&types, &ty).map_err(|problem| DescriptionError::at(start, problem))?;
            let height = 1 + children(&ty.kind)
                .map(|child| heights[child.index()])
                .max()
                .unwrap_or(0);
            if height > MAX_DEPTH {
                return Err(DescriptionError::at(
                    start,
                    Problem::TooDeep { limit: MAX_DEPTH },
                ));
            }
            heights.push(height);
            types.push(ty);
        }
        if r.left() > 0 {
            return Err(DescriptionError::at(
                r.at,
                Problem::TrailingBytes {
                    left: r.left() as u64,
                },
            ));
        }
        Ok(Description { types })
    }
}

/// The types a kind refers to.
fn children(kind: &KindDesc) -> impl Iterator<Item = TypeId> + '_ {
    let (element, fields): (Option<TypeId>, &[FieldDesc]) = match kind {
        KindDesc::Array { element, .. } => (Some(*element), &[]),
        KindDesc::Struct { fields, .. } | KindDesc::Library { fields, .. } => (None, fields),
        KindDesc::Scalar(_) | KindDesc::Enum { .. } => (None, &[]),
    };
    element.into_iter().chain(fields.iter().map(|f| f.ty))
}

/// Checks that a record agrees with itself and the records before it
/// (which it refers to, already checked).
fn check_record(types: &[TypeDesc], ty: &TypeDesc) -> Result<(), Problem> {
    let bad = |what: String| Err(Problem::Inconsistent(what));
    if !ty.align.is_power_of_two() || ty.align > MAX_ALIGN {
        return bad(format!(
            "`{}` has alignment {}, not a power of two up to 2^29",
            ty.name, ty.align
        ));
    }
    if ty.size > MAX_SIZE || ty.size % ty.align != 0 {
        return bad(format!(
            "`{}` has size {}, not a multiple of its alignment {} below 2^63",
            ty.name, ty.size, ty.align
        ));
    }
    match &ty.kind {
        KindDesc::Scalar(scalar) => {
            let sizes: &[u64] = match scalar {
                Scalar::Unit => &[0],
                Scalar::Bool | Scalar::AtomicBool => &[1],
                Scalar::Char => &[4],
                Scalar::Float => &[2, 4, 8, 16],
                Scalar::AtomicUnsigned | Scalar::AtomicSigned => &[1, 2, 4, 8, 16],
                Scalar::Unsigned
                | Scalar::Signed
                | Scalar::NonZeroUnsigned
                | Scalar::NonZeroSigned => &[1, 2, 4, 8, 16],
            };
            if !sizes.contains(&ty.size) || ty.align > ty.size.max(1) {
                return bad(format!(
                    "the scalar `{}` has size {} and alignment {}",
                    ty.name, ty.size, ty.align
                ));
            }
        }
        KindDesc::Array { element, len } => {
            let element = &types[element.index()];
            if element.size.checked_mul(*len) != Some(ty.size) || element.align != ty.align {
                return bad(format!(
                    "an array of {len} `{}` ({} bytes, aligned to {}) claims size {} and alignment {}",
                    element.name, element.size, element.align, ty.size, ty.align
                ));
            }
        }
        KindDesc::Struct { fields, .. } => check_fields(types, ty, fields)?,
        KindDesc::Enum { variants, .. } => {
            if ty.size == 0 {
                return bad(format!("the enum `{}` has size 0", ty.name));
            }
            let mut names = HashSet::new();
            let mut values = HashSet::new();
            for variant in variants {
                if !names.insert(variant.name.as_str()) {
                    return Err(Problem::DuplicateName {
                        what: "variant",
                        name: variant.name.clone(),
                    });
                }
                if !values.insert(variant.value) {
                    return bad(format!(
                        "two variants of `{}` have discriminant {}",
                        ty.name, variant.value
                    ));
                }
            }
        }
        KindDesc::Library { params, fields, .. } => {
            let mut names = HashSet::new();
            for (name, _) in params {
                if !names.insert(name.as_str()) {
                    return Err(Problem::DuplicateName {
                        what: "parameter",
                        name: name.clone(),
                    });
                }
            }
            check_fields(types, ty, fields)?;
        }
    }
    Ok(())
}

fn check_fields(types: &[TypeDesc], ty: &TypeDesc, fields: &[FieldDesc]) -> Result<(), Problem> {
    let mut names = HashSet::new();
    let mut end = 0;
    for field in fields {
        if !names.insert(field.name.as_str()) {
            return Err(Problem::DuplicateName {
                what: "field",
                name: field.name.clone(),
            });
        }
        let field_ty = &types[field.ty.index()];
        let field_end = field.offset.checked_add(field_ty.size);
        let problem = if field.offset < end {
            "overlaps the field before it"
        } else if field_end.is_none_or(|e| e > ty.size) {
            "ends beyond its type"
        } else if field.offset % field_ty.align != 0 || field_ty.align > ty.align {
            "is not aligned for its type"
        } else {
            end = field_end.unwrap_or(0);
            continue;
        };
        return Err(Problem::Inconsistent(format!(
            "field `{}` of `{}` (`{}` at offset {}) {problem}",
            field.name, ty.name, field_ty.name, field.offset
        )));
    }
    Ok(())
}
