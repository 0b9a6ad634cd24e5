//! The [`Fingerprint`] of a layout, hashed at compile time.

use super::{Access, Field, LayoutKind, TypeLayout, Validity};
use crate::Fingerprint;

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
