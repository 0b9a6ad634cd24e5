//! The layout fingerprint of derived types: equal for the same layout,
//! different as soon as a program would read the memory differently.
//!
//! The types below are declared only to be fingerprinted, never built.
#![allow(dead_code)]

use shm_runtime::{Fingerprint, SharedSafe};

/// The fingerprint of `T`, so that the assertions read like sentences.
fn fp<T: SharedSafe>() -> Fingerprint {
    T::FINGERPRINT
}

mod base {
    use shm_runtime::SharedSafe;

    #[derive(SharedSafe)]
    #[repr(C)]
    pub struct Record {
        pub id: u32,
        pub flags: u32,
        pub name: [u8; 16],
    }

    #[derive(SharedSafe)]
    #[repr(C)]
    pub struct Outer {
        pub header: u64,
        pub record: Record,
    }

    #[derive(SharedSafe)]
    #[repr(u8)]
    pub enum State {
        Idle = 0,
        Busy = 1,
    }
}

/// The same declarations, written again elsewhere (as another program would).
mod same {
    use shm_runtime::SharedSafe;

    #[derive(SharedSafe)]
    #[repr(C)]
    pub struct Record {
        pub id: u32,
        pub flags: u32,
        pub name: [u8; 16],
    }

    #[derive(SharedSafe)]
    #[repr(C)]
    pub struct Outer {
        pub header: u64,
        pub record: Record,
    }

    #[derive(SharedSafe)]
    #[repr(u8)]
    pub enum State {
        Idle = 0,
        Busy = 1,
    }
}

#[test]
fn identical_layouts_have_equal_fingerprints() {
    assert_eq!(fp::<base::Record>(), fp::<same::Record>());
    assert_eq!(fp::<base::Outer>(), fp::<same::Outer>());
    assert_eq!(fp::<base::State>(), fp::<same::State>());
}

#[test]
fn the_type_name_is_not_part_of_the_fingerprint() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Renamed {
        id: u32,
        flags: u32,
        name: [u8; 16],
    }
    assert_eq!(fp::<Renamed>(), fp::<base::Record>());
}

#[test]
fn swapped_field_order_changes_the_fingerprint() {
    // Same size, same field types: only the order (hence the offsets) differs.
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Record {
        flags: u32,
        id: u32,
        name: [u8; 16],
    }
    assert_ne!(fp::<Record>(), fp::<base::Record>());
}

#[test]
fn renamed_field_changes_the_fingerprint() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Record {
        id: u32,
        options: u32,
        name: [u8; 16],
    }
    assert_ne!(fp::<Record>(), fp::<base::Record>());
}

#[test]
fn changed_field_type_changes_the_fingerprint() {
    // `u32` and `i32` have the same size and alignment.
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Record {
        id: i32,
        flags: u32,
        name: [u8; 16],
    }
    assert_ne!(fp::<Record>(), fp::<base::Record>());
}

#[test]
fn changed_array_length_changes_the_fingerprint() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Record {
        id: u32,
        flags: u32,
        name: [u8; 15],
    }
    assert_ne!(fp::<Record>(), fp::<base::Record>());
}

#[test]
fn alignment_changes_the_fingerprint() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Plain {
        a: [u64; 2],
    }
    #[derive(SharedSafe)]
    #[repr(C, align(16))]
    struct Aligned {
        a: [u64; 2],
    }
    // Same size (16), same field, same offset: only the alignment differs.
    assert_eq!(
        core::mem::size_of::<Plain>(),
        core::mem::size_of::<Aligned>()
    );
    assert_ne!(fp::<Plain>(), fp::<Aligned>());
}

#[test]
fn transparent_and_c_differ_even_when_layouts_coincide() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct C {
        value: u64,
    }
    #[derive(SharedSafe)]
    #[repr(transparent)]
    struct Transparent {
        value: u64,
    }
    assert_eq!(
        core::mem::size_of::<C>(),
        core::mem::size_of::<Transparent>()
    );
    assert_eq!(
        core::mem::align_of::<C>(),
        core::mem::align_of::<Transparent>()
    );
    assert_ne!(fp::<C>(), fp::<Transparent>());
}

#[test]
fn a_change_in_a_nested_struct_changes_the_outer_fingerprint() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Record {
        id: u32,
        flags: i32, // was u32
        name: [u8; 16],
    }
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Outer {
        header: u64,
        record: Record,
    }
    assert_eq!(
        core::mem::size_of::<Outer>(),
        core::mem::size_of::<base::Outer>()
    );
    assert_ne!(fp::<Outer>(), fp::<base::Outer>());
}

#[test]
fn a_changed_discriminant_changes_the_enum_fingerprint() {
    #[derive(SharedSafe)]
    #[repr(u8)]
    enum State {
        Idle = 0,
        Busy = 2,
    }
    assert_ne!(fp::<State>(), fp::<base::State>());
}

#[test]
fn enum_fingerprint_depends_on_variant_names_and_repr() {
    #[derive(SharedSafe)]
    #[repr(u8)]
    enum Renamed {
        Idle = 0,
        Working = 1,
    }
    #[derive(SharedSafe)]
    #[repr(u16)]
    enum Wider {
        Idle = 0,
        Busy = 1,
    }
    assert_ne!(fp::<Renamed>(), fp::<base::State>());
    assert_ne!(fp::<Wider>(), fp::<base::State>());
}

#[test]
fn a_generic_struct_is_fingerprinted_per_instantiation() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Pair<T> {
        a: T,
        b: T,
    }
    #[derive(SharedSafe)]
    #[repr(C)]
    struct PairOfU32 {
        a: u32,
        b: u32,
    }
    assert_ne!(fp::<Pair<u32>>(), fp::<Pair<u64>>());
    assert_ne!(fp::<Pair<u32>>(), fp::<Pair<i32>>());
    assert_eq!(fp::<Pair<u32>>(), fp::<Pair<u32>>());
    // A generic instantiation and the concrete struct with the same layout agree.
    assert_eq!(fp::<Pair<u32>>(), fp::<PairOfU32>());
}

#[test]
fn fingerprints_are_usable_in_const_context() {
    const RECORD: Fingerprint = <base::Record as SharedSafe>::FINGERPRINT;
    assert_eq!(RECORD, fp::<same::Record>());
    assert_eq!(Fingerprint::from_u64(RECORD.as_u64()), RECORD);
}
