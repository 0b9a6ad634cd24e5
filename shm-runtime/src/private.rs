//! Items used by the code that `#[derive(SharedSafe)]` generates. Not public API.
//!
//! Each `assert_*` function requires `T: SharedSafe` through a hint trait
//! implemented for every `SharedSafe` type. The derive calls the one that fits
//! the syntax of a field's type; when the field is not `SharedSafe`, rustc
//! reports the hint trait's message, which explains that particular mistake.
#![allow(missing_docs)]

use crate::{Fingerprint, SharedSafe};
use core::marker::PhantomData;

macro_rules! hints {
    ($(
        $assert:ident, $hint:ident,
        message = $message:literal, label = $label:literal, note = $note:literal;
    )*) => {$(
        #[diagnostic::on_unimplemented(message = $message, label = $label, note = $note)]
        pub trait $hint: SharedSafe {}
        impl<T: SharedSafe> $hint for T {}
        #[inline(always)]
        pub const fn $assert<T: $hint>() {}
    )*};
}

hints! {
    assert_shared_safe, FieldIsSharedSafe,
        message = "`{Self}` cannot be placed in shared memory",
        label = "this field's type is not `SharedSafe`",
        note = "use integers, floats, `bool`, `char`, atomics, arrays, `FixedString<N>`, `FixedVec<T, N>`, `ShmMutex<T>`, `RelPtr<T>`, or a `#[repr(C)]` struct that derives `SharedSafe`; for a foreign `bytemuck::Pod` type use `PodField<T>`";
    assert_no_reference, FieldIsNotAReference,
        message = "a reference (`{Self}`) cannot be placed in shared memory",
        label = "a reference is an address valid in one process only",
        note = "store the value itself, an index into a shared array, or a `RelPtr<T>` (an offset valid in every process that maps the segment)";
    assert_no_raw_pointer, FieldIsNotAPointer,
        message = "a pointer (`{Self}`) cannot be placed in shared memory",
        label = "a pointer is an address valid in one process only",
        note = "use a `RelPtr<T>` (an offset from itself, valid in every process that maps the segment) or an index into a shared array";
    assert_no_trait_object, FieldIsNotATraitObject,
        message = "a trait object (`{Self}`) cannot be placed in shared memory",
        label = "a trait object holds a vtable pointer valid in one process only",
        note = "store a concrete `SharedSafe` type, or a `#[repr(u8)]` enum kind field and one field per kind";
    assert_no_fn_pointer, FieldIsNotAFnPointer,
        message = "a function pointer (`{Self}`) cannot be placed in shared memory",
        label = "a function's address differs between processes and programs",
        note = "store a `#[repr(u8)]` enum or an index into a table of functions that each process builds for itself";
    assert_no_tuple, FieldIsNotATuple,
        message = "a tuple (`{Self}`) cannot be placed in shared memory",
        label = "tuples have no stable layout",
        note = "use a `#[repr(C)]` struct that derives `SharedSafe`";
    assert_no_string, FieldIsNotAString,
        message = "`{Self}` cannot be placed in shared memory: it owns or borrows text through a pointer",
        label = "the text lives on one process's heap",
        note = "use `FixedString<N>` (UTF-8 text of at most N bytes, stored inline) or a `[u8; N]`";
    assert_no_vec, FieldIsNotAVec,
        message = "`{Self}` cannot be placed in shared memory: its elements live on one process's heap",
        label = "a heap pointer is valid in one process only",
        note = "use `FixedVec<T, N>` (up to N elements stored inline) or an array `[T; N]`";
    assert_no_box, FieldIsNotABox,
        message = "`{Self}` cannot be placed in shared memory: it points into one process's heap",
        label = "a heap pointer is valid in one process only",
        note = "store the value inline, or link values inside the segment with `RelPtr<T>`";
    assert_no_collection, FieldIsNotACollection,
        message = "`{Self}` cannot be placed in shared memory: its entries live on one process's heap",
        label = "a heap-allocated collection is valid in one process only",
        note = "use a fixed-capacity table: an array or `FixedVec<T, N>` of `#[repr(C)]` entries, guarded by an `ShmMutex`";
    assert_no_cell, FieldIsNotACell,
        message = "`{Self}` cannot be placed in shared memory: its mutation is not safe across processes",
        label = "interior mutability without synchronization between processes",
        note = "use an atomic (`AtomicU64`, `AtomicBool`, ...) or an `ShmMutex<T>`";
    assert_no_std_lock, FieldIsNotAStdLock,
        message = "`{Self}` cannot be placed in shared memory: it synchronizes threads of one process only",
        label = "a process-private lock never wakes another process",
        note = "use `ShmMutex<T>`, `ShmCondvar` or the other process-shared primitives of `shm_runtime::sync`";
    assert_no_option, FieldIsNotAnOption,
        message = "`{Self}` cannot be placed in shared memory: its layout is not fixed",
        label = "`Option` and `Result` have no stable layout between programs",
        note = "use a flag field (`bool` or a `#[repr(u8)]` enum) next to the value";
    assert_no_handle, FieldIsNotAHandle,
        message = "`{Self}` cannot be placed in shared memory: it is a handle owned by one process",
        label = "file descriptors and handles mean something in one process only",
        note = "store a name or a path (`FixedString<N>`) and open it in each process";
}

/// `FingerprintOf::<T>::FINGERPRINT` is `T::FINGERPRINT` when `T: SharedSafe`
/// and resolves to the fallback constant otherwise. The derive uses it for
/// concrete field types, which it asserts separately, so that a bad field is
/// reported once (by its assertion) rather than twice.
pub struct FingerprintOf<T: ?Sized>(PhantomData<T>);

impl<T: SharedSafe> FingerprintOf<T> {
    pub const FINGERPRINT: Fingerprint = T::FINGERPRINT;
}

pub trait FingerprintFallback {
    /// Never used in a program that compiles: the field's assertion failed.
    const FINGERPRINT: Fingerprint = Fingerprint::from_u64(0);
}

impl<T: ?Sized> FingerprintFallback for FingerprintOf<T> {}
