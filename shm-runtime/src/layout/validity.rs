//! Whether some bytes are a valid value of a layout:
//! [`TypeLayout::check`], field by field and scalar by scalar.

use super::{Access, Field, InvalidValue, LayoutKind, PathPart, Scalar, TypeLayout, Validity};
use core::sync::atomic::{AtomicU8, Ordering};

impl TypeLayout {
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
