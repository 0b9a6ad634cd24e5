//! The entry points the rest of the crate calls with a type `T:
//! SharedSafe`: check a value in place, tell whether zero bytes are one,
//! write a value with zeroed padding.

use super::{Access, InvalidValue, LayoutKind, Scalar, TypeLayout, Validity};
use crate::SharedSafe;

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
