//! Writing a [`TypeLayout`]'s description in the format: [`encode`].

use super::format::{
    scalar_code, HEADER_LEN, KIND_ARRAY, KIND_ENUM, KIND_LIBRARY, KIND_SCALAR, KIND_STRUCT, MAGIC,
    MAX_DEPTH, MAX_ITEMS, MAX_LEN, MAX_STR, MAX_TYPES, VERSION,
};
use super::{DescriptionError, Problem, ValidityDesc};
use crate::layout::{Access, Field, LayoutKind, TypeLayout};
use std::collections::HashMap;

/// Writes the description of `layout` in the [format](super#the-format-version-1).
///
/// # Errors
/// A layout beyond the [limits](super#limits) (a name longer than
/// [`MAX_STR`], nesting deeper than [`MAX_DEPTH`], ...): [`DescriptionError`]
/// without an offset.
///
/// ```
/// use shm_runtime::layout::describe;
/// use shm_runtime::SharedSafe;
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct Record { id: u64, flags: [u8; 8] }
///
/// let bytes = describe::encode(<[Record; 100_000]>::LAYOUT)?;
/// assert_eq!(&bytes[..4], b"SHMT");
/// assert!(bytes.len() < 256, "{} bytes", bytes.len());
/// # Ok::<(), describe::DescriptionError>(())
/// ```
pub fn encode(layout: &TypeLayout) -> Result<Vec<u8>, DescriptionError> {
    let mut encoder = Encoder {
        records: Vec::new(),
        count: 0,
        by_content: HashMap::new(),
        by_address: HashMap::new(),
    };
    let (_, height) = encoder.add(layout, 1)?;
    if height > MAX_DEPTH {
        return Err(DescriptionError::encoding(Problem::TooDeep {
            limit: MAX_DEPTH,
        }));
    }
    let len = HEADER_LEN + encoder.records.len();
    if len > MAX_LEN {
        return Err(DescriptionError::encoding(Problem::TooLong {
            len: len as u64,
        }));
    }
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&encoder.count.to_le_bytes());
    out.extend_from_slice(&encoder.records);
    Ok(out)
}

struct Encoder {
    records: Vec<u8>,
    count: u32,
    /// Records already written, by their bytes: equal types are stored once.
    by_content: HashMap<Vec<u8>, u32>,
    /// Layouts already visited (index, height), so that a layout reached
    /// along many paths is walked once.
    by_address: HashMap<usize, (u32, usize)>,
}

impl Encoder {
    /// Adds `layout` (at nesting `depth`) and what it is made of; returns
    /// its index and its height.
    fn add(&mut self, layout: &TypeLayout, depth: usize) -> Result<(u32, usize), DescriptionError> {
        if depth > MAX_DEPTH {
            return Err(DescriptionError::encoding(Problem::TooDeep {
                limit: MAX_DEPTH,
            }));
        }
        let address = layout as *const TypeLayout as usize;
        if let Some(&known) = self.by_address.get(&address) {
            return Ok(known);
        }
        let mut record = Vec::new();
        let mut height = 1;
        record.push(match layout.kind {
            LayoutKind::Scalar(_) => KIND_SCALAR,
            LayoutKind::Array { .. } => KIND_ARRAY,
            LayoutKind::Struct { .. } => KIND_STRUCT,
            LayoutKind::Enum { .. } => KIND_ENUM,
            LayoutKind::Library { .. } => KIND_LIBRARY,
        });
        put_str(&mut record, layout.name)?;
        record.extend_from_slice(&(layout.size as u64).to_le_bytes());
        record.extend_from_slice(&(layout.align as u64).to_le_bytes());
        match &layout.kind {
            LayoutKind::Scalar(scalar) => record.push(scalar_code(*scalar)),
            LayoutKind::Array { element, len } => {
                let (index, h) = self.add(element, depth + 1)?;
                height = height.max(h + 1);
                record.extend_from_slice(&index.to_le_bytes());
                record.extend_from_slice(&(*len as u64).to_le_bytes());
            }
            LayoutKind::Struct { repr, fields } => {
                put_str(&mut record, repr)?;
                height = height.max(self.put_fields(&mut record, fields, depth)? + 1);
            }
            LayoutKind::Enum { repr, variants } => {
                record.push(scalar_code(*repr));
                put_count(&mut record, variants.len(), "variants")?;
                for variant in *variants {
                    put_str(&mut record, variant.name)?;
                    record.extend_from_slice(&variant.value.to_le_bytes());
                }
            }
            LayoutKind::Library {
                protocol,
                params,
                fields,
                validity,
            } => {
                put_str(&mut record, protocol)?;
                record.push(ValidityDesc::of(validity).code());
                put_count(&mut record, params.len(), "parameters")?;
                for (name, value) in *params {
                    put_str(&mut record, name)?;
                    record.extend_from_slice(&value.to_le_bytes());
                }
                height = height.max(self.put_fields(&mut record, fields, depth)? + 1);
            }
        }
        let index = match self.by_content.get(&record) {
            Some(&index) => index,
            None => {
                if self.count as usize >= MAX_TYPES {
                    return Err(DescriptionError::encoding(Problem::TooMany {
                        what: "types",
                        count: self.count as u64 + 1,
                        limit: MAX_TYPES as u64,
                    }));
                }
                if self.records.len() + record.len() > MAX_LEN {
                    return Err(DescriptionError::encoding(Problem::TooLong {
                        len: (HEADER_LEN + self.records.len() + record.len()) as u64,
                    }));
                }
                let index = self.count;
                self.count += 1;
                self.records.extend_from_slice(&record);
                self.by_content.insert(record, index);
                index
            }
        };
        self.by_address.insert(address, (index, height));
        Ok((index, height))
    }

    /// Writes `fields` (their types first); returns their greatest height.
    fn put_fields(
        &mut self,
        record: &mut Vec<u8>,
        fields: &[Field],
        depth: usize,
    ) -> Result<usize, DescriptionError> {
        put_count(record, fields.len(), "fields")?;
        let mut height = 0;
        for field in fields {
            let (index, h) = self.add(field.layout, depth + 1)?;
            height = height.max(h);
            put_str(record, field.name)?;
            record.extend_from_slice(&(field.offset as u64).to_le_bytes());
            record.extend_from_slice(&index.to_le_bytes());
            record.push(match field.access {
                Access::Plain => 0,
                Access::Protocol => 1,
            });
        }
        Ok(height)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) -> Result<(), DescriptionError> {
    if s.len() > MAX_STR {
        return Err(DescriptionError::encoding(Problem::StringTooLong {
            len: s.len() as u64,
        }));
    }
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn put_count(out: &mut Vec<u8>, count: usize, what: &'static str) -> Result<(), DescriptionError> {
    if count > MAX_ITEMS {
        return Err(DescriptionError::encoding(Problem::TooMany {
            what,
            count: count as u64,
            limit: MAX_ITEMS as u64,
        }));
    }
    out.extend_from_slice(&(count as u32).to_le_bytes());
    Ok(())
}
