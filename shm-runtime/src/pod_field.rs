//! [`PodField<T>`]: a foreign `bytemuck::Pod` type as a field of a shared struct.

use crate::layout::{TypeLayout, Validity};
use crate::SharedSafe;
use core::fmt;
use core::mem::{align_of, size_of};
use core::ops::{Deref, DerefMut};

/// A field holding a `bytemuck::Pod` type from another crate (a math
/// library's vector, a protocol header), which cannot implement
/// [`SharedSafe`] itself: the orphan rule forbids implementing this crate's
/// trait for another crate's type.
///
/// `#[repr(transparent)]`: the layout is exactly `T`'s. It dereferences to
/// `T` and is `Copy`, so mutating it needs `&mut` (a lock or an `unsafe`
/// escape hatch in shared memory), like any plain field.
///
/// ```
/// use shm_runtime::{PodField, SharedSafe};
/// use std::sync::atomic::AtomicU64;
///
/// // Pretend this comes from a math crate, which derives bytemuck's traits.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// #[repr(C)]
/// pub struct Vec3 { x: f32, y: f32, z: f32 }
/// // SAFETY: three `f32`s in `repr(C)`: no padding, any bit pattern is valid.
/// unsafe impl bytemuck::Zeroable for Vec3 {}
/// // SAFETY: as above; `Vec3` is `Copy + 'static` with no interior mutability.
/// unsafe impl bytemuck::Pod for Vec3 {}
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct Body {
///     position: PodField<Vec3>,
///     updates: AtomicU64,
/// }
///
/// let mut body = Body {
///     position: PodField::new(Vec3 { x: 1.0, y: 2.0, z: 3.0 }),
///     updates: AtomicU64::new(0),
/// };
/// body.position.x += 1.0; // through `DerefMut`
/// assert_eq!(body.position.get(), Vec3 { x: 2.0, y: 2.0, z: 3.0 });
/// ```
///
/// # What the fingerprint and the checks can see
///
/// `Pod` gives most of what `SharedSafe` asks: a fixed layout (`repr(C)`,
/// `repr(transparent)` or a primitive), no padding, no drop glue (it is
/// `Copy`), no interior mutability, and every bit pattern valid. It does not
/// exclude addresses: raw pointers are `Pod` when any crate in the build
/// enables bytemuck's `unsound_ptr_pod_impl` feature, and a hand-written
/// `Pod` impl may cover a struct with a pointer or a `usize` handle. Such a
/// field is not memory-unsafe here (any bit pattern is valid and a raw
/// pointer is only followed in `unsafe` code), but it means nothing in another
/// process: do not wrap types that hold addresses.
///
/// The fingerprint cannot see inside a foreign type: it records `T`'s size
/// and alignment only, so two `Pod` types of the same size and alignment
/// (`Vec3` and `[f32; 3]`) are not told apart. Because every bit pattern of a
/// `Pod` type is valid, such a mix-up yields wrong values, never undefined
/// behaviour.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct PodField<T: bytemuck::Pod>(T);

impl<T: bytemuck::Pod> PodField<T> {
    /// Wraps `value`.
    ///
    /// ```
    /// use shm_runtime::PodField;
    /// let field = PodField::new([1.0f32, 2.0]);
    /// assert_eq!(field[1], 2.0);
    /// ```
    pub const fn new(value: T) -> Self {
        PodField(value)
    }

    /// A copy of the value.
    ///
    /// ```
    /// use shm_runtime::PodField;
    /// let field = PodField::new(7u64);
    /// assert_eq!(field.get(), 7);
    /// ```
    pub fn get(&self) -> T {
        self.0
    }

    /// Replaces the value.
    ///
    /// ```
    /// use shm_runtime::PodField;
    /// let mut field = PodField::new(7u64);
    /// field.set(8);
    /// assert_eq!(field.get(), 8);
    /// ```
    pub fn set(&mut self, value: T) {
        self.0 = value;
    }

    /// Unwraps the value.
    ///
    /// ```
    /// use shm_runtime::PodField;
    /// assert_eq!(PodField::new(7u64).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: bytemuck::Pod> From<T> for PodField<T> {
    fn from(value: T) -> Self {
        PodField(value)
    }
}

impl<T: bytemuck::Pod> Deref for PodField<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: bytemuck::Pod> DerefMut for PodField<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: bytemuck::Pod + fmt::Debug> fmt::Debug for PodField<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

// SAFETY: `T: Pod` has a fixed layout (bytemuck requires `repr(C)`,
// `repr(transparent)` or a primitive), no drop glue (`Copy`) and no interior
// mutability, and `PodField` is `repr(transparent)` over it. Addresses are
// not excluded by `Pod` (see the type's docs): that residue is documented, and
// is not memory-unsafe since every bit pattern of `T` is valid. The
// fingerprint records what can be known of a foreign type: size and alignment.
unsafe impl<T: bytemuck::Pod> SharedSafe for PodField<T> {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "PodField",
        "PodField repr(transparent)",
        &[
            ("size", size_of::<T>() as u64),
            ("align", align_of::<T>() as u64),
        ],
        &[],
        // `T: Pod`: any bytes, no padding.
        Validity::AnyBits,
    );
}

// SAFETY: `repr(transparent)` over a `Pod` type, which is `Zeroable`.
unsafe impl<T: bytemuck::Pod> bytemuck::Zeroable for PodField<T> {}

// SAFETY: `repr(transparent)` over a `Pod` type: no padding, any bit pattern,
// `Copy + 'static`, no interior mutability.
unsafe impl<T: bytemuck::Pod> bytemuck::Pod for PodField<T> {}
