//! The [`SharedSafe`] trait: the compile-time proof that a type may live in
//! memory shared between processes.

use crate::layout::{LayoutKind, Scalar, TypeLayout};
use crate::Fingerprint;
use core::marker::PhantomData;
use core::num::{
    NonZeroI128, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI8, NonZeroIsize, NonZeroU128,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU8, NonZeroUsize,
};
use core::sync::atomic::{
    AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32,
    AtomicU64, AtomicU8, AtomicUsize,
};

/// A type whose values may live in memory shared between processes.
///
/// Implement it with `#[derive(SharedSafe)]`, which checks every rule below
/// at compile time; hand-written implementations are for types whose
/// invariants the derive cannot see, and must uphold the same contract.
///
/// ```
/// use shm_runtime::SharedSafe;
/// use std::sync::atomic::AtomicU64;
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct Stats {
///     requests: AtomicU64,
///     errors: AtomicU64,
///     histogram: [AtomicU64; 16],
/// }
/// ```
///
/// # Safety
///
/// A type implementing `SharedSafe` promises that:
///
/// 1. **It holds no process-local address.** No reference, raw pointer,
///    `NonNull`, `AtomicPtr`, function pointer, trait object, heap handle
///    (`Box`, `Vec`, `String`, `Rc`, `Arc`, collections), file descriptor or
///    anything containing one: such a value means something in one process only.
/// 2. **Its layout is fixed.** It is a primitive, an array of `SharedSafe`, a
///    type of this crate, or a `#[repr(C)]` / `#[repr(transparent)]` type
///    whose fields are all `SharedSafe`, so separately compiled programs agree
///    on it. `repr(packed)` is excluded: misaligned atomics are undefined
///    behaviour.
/// 3. **It has no drop glue.** No process owns a shared value, so it is
///    never dropped in place (`core::mem::needs_drop::<Self>()` is false).
/// 4. **Every mutation through `&Self` is process-safe**: atomics and this
///    crate's locks only. `Cell`, `RefCell`, `UnsafeCell` and `std::sync`
///    locks (whose futex is private to one process) are excluded.
/// 5. **[`LAYOUT`](SharedSafe::LAYOUT) describes it truthfully**: its size
///    and alignment are the type's; every field, element and discriminant
///    it lists is where it says; its validity check accepts only bytes that
///    are a valid value ([`Validity::Unknown`](crate::layout::Validity::Unknown)
///    accepts none, and is the sound choice when in doubt); a library type
///    with fields lists every byte that is not padding, and an opaque one
///    has no padding. [`FINGERPRINT`](SharedSafe::FINGERPRINT) is derived
///    from it: leave its default.
///
/// The derive writes both for a struct or enum, and binds them to the type
/// the compiler finally builds (an attribute macro written after the derive
/// cannot change a field behind its back). A hand-written impl starts from
/// [`TypeLayout::opaque`] or lists its fields.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be placed in shared memory",
    label = "`{Self}` is not `SharedSafe`",
    note = "shared memory holds plain data with a fixed layout: integers, floats, `bool`, `char`, atomics (not `AtomicPtr`), arrays of them, and `#[repr(C)]` structs that `#[derive(SharedSafe)]`",
    note = "instead of `String` use `FixedString<N>`, of `Vec<T>` use `FixedVec<T, N>` or an array, of a pointer `RelPtr<T>`, of a lock `ShmMutex<T>`, of `Option<T>` a flag field"
)]
pub unsafe trait SharedSafe: Sized + 'static {
    /// The description of this type's layout: see [`crate::layout`].
    const LAYOUT: &'static TypeLayout;

    /// The structural fingerprint of this type's layout, as segment headers
    /// store it: [`Fingerprint::of_layout`] of [`LAYOUT`](Self::LAYOUT).
    const FINGERPRINT: Fingerprint = Fingerprint::of_layout(Self::LAYOUT);
}

/// A type whose all-zero bytes are a valid value, so that a segment or a
/// mapping of it can be created zero-filled (by the kernel, without building
/// the value on the stack): every [`bytemuck::Zeroable`] type, and nothing
/// else. It exists for the error message: a type that lacks `Zeroable` is
/// told how to get it.
///
/// ```
/// use shm_runtime::{init, Shared, SharedSafe};
/// use std::sync::atomic::AtomicU64;
///
/// #[derive(SharedSafe, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Table {
///     hits: [AtomicU64; 512],
/// }
///
/// let table = Shared::<Table>::anonymous(init::zeroed())?;
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be created zero-filled: it does not implement `bytemuck::Zeroable`",
    label = "needs `bytemuck::Zeroable`",
    note = "add `bytemuck::Zeroable` to its derives, next to `SharedSafe` (bytemuck's `derive` \
            feature), if all-zero bytes are a valid value of it; else create it from a value"
)]
pub trait ZeroInit: bytemuck::Zeroable {}

impl<T: bytemuck::Zeroable> ZeroInit for T {}

macro_rules! primitive {
    ($scalar:ident: $($t:ty),* $(,)?) => {$(
        // SAFETY: a primitive holds no address, has a fixed layout, no drop
        // glue and no interior mutability; its scalar kind names exactly its
        // invalid bit patterns.
        unsafe impl SharedSafe for $t {
            const LAYOUT: &'static TypeLayout = &TypeLayout {
                name: stringify!($t),
                size: core::mem::size_of::<$t>(),
                align: core::mem::align_of::<$t>(),
                kind: LayoutKind::Scalar(Scalar::$scalar),
            };
        }
    )*};
}

primitive!(Unsigned: u8, u16, u32, u64, u128, usize);
primitive!(Signed: i8, i16, i32, i64, i128, isize);
primitive!(Float: f32, f64);
primitive!(Bool: bool);
primitive!(Char: char);
primitive!(Unit: ());
primitive!(
    NonZeroUnsigned: NonZeroU8,
    NonZeroU16,
    NonZeroU32,
    NonZeroU64,
    NonZeroU128,
    NonZeroUsize,
);
primitive!(
    NonZeroSigned: NonZeroI8,
    NonZeroI16,
    NonZeroI32,
    NonZeroI64,
    NonZeroI128,
    NonZeroIsize,
);

// SAFETY for the atomics: an atomic integer is an integer in a fixed layout
// whose mutation through `&Self` is a hardware atomic operation, valid across
// processes that map the same memory (lock-free on every supported target).
primitive!(AtomicBool: AtomicBool);
primitive!(AtomicUnsigned: AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize);
primitive!(AtomicSigned: AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize);

// SAFETY: an array of `SharedSafe` elements holds what its elements hold, has
// the fixed layout of N consecutive elements and no drop glue of its own.
unsafe impl<T: SharedSafe, const N: usize> SharedSafe for [T; N] {
    const LAYOUT: &'static TypeLayout = &TypeLayout {
        name: "array",
        size: core::mem::size_of::<Self>(),
        align: core::mem::align_of::<Self>(),
        kind: LayoutKind::Array {
            element: T::LAYOUT,
            len: N,
        },
    };
}

// SAFETY: `PhantomData` is zero-sized: it holds nothing at all.
unsafe impl<T: ?Sized + 'static> SharedSafe for PhantomData<T> {
    const LAYOUT: &'static TypeLayout = &TypeLayout {
        name: "PhantomData",
        size: 0,
        align: 1,
        kind: LayoutKind::Scalar(Scalar::Unit),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_have_distinct_fingerprints() {
        let all = [
            u8::FINGERPRINT,
            i8::FINGERPRINT,
            u32::FINGERPRINT,
            i32::FINGERPRINT,
            f32::FINGERPRINT,
            char::FINGERPRINT,
            AtomicU32::FINGERPRINT,
            NonZeroU32::FINGERPRINT,
            bool::FINGERPRINT,
            AtomicBool::FINGERPRINT,
            <()>::FINGERPRINT,
            PhantomData::<u8>::FINGERPRINT,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn array_fingerprint_depends_on_element_and_length() {
        assert_eq!(<[u32; 4]>::FINGERPRINT, <[u32; 4]>::FINGERPRINT);
        assert_ne!(<[u32; 4]>::FINGERPRINT, <[u32; 3]>::FINGERPRINT);
        assert_ne!(<[u32; 4]>::FINGERPRINT, <[i32; 4]>::FINGERPRINT);
        assert_ne!(<[[u8; 2]; 3]>::FINGERPRINT, <[[u8; 3]; 2]>::FINGERPRINT);
        assert_ne!(<[u32; 1]>::FINGERPRINT, u32::FINGERPRINT);
    }
}
