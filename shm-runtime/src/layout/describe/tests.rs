use super::format::{HEADER_LEN, KIND_ARRAY, KIND_ENUM, KIND_LIBRARY, KIND_SCALAR, KIND_STRUCT};
use super::*;
use crate::layout::{Access, Field, LayoutKind, Scalar, TypeLayout, Validity};
use crate::{
    Error, ErrorKind, Fingerprint, FixedString, FixedVec, PodField, RelPtr, SeqLock, SharedSafe,
    ShmCondvar, ShmEvent, ShmMutex, ShmQueue, ShmSemaphore,
};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64};

// ---------------------------------------------------------------------------
// Helpers

/// Walks a description and a layout side by side and fails at the first
/// part in which they differ: the description says exactly what the layout
/// says.
fn assert_describes(d: &Description, id: TypeId, layout: &TypeLayout, path: &str) {
    let ty = d.get(id);
    assert_eq!(ty.name, layout.name, "name of `{path}`");
    assert_eq!(ty.size, layout.size as u64, "size of `{path}`");
    assert_eq!(ty.align, layout.align as u64, "align of `{path}`");
    match (&ty.kind, &layout.kind) {
        (KindDesc::Scalar(a), LayoutKind::Scalar(b)) => assert_eq!(a, b, "scalar `{path}`"),
        (KindDesc::Array { element, len }, LayoutKind::Array { element: e, len: l }) => {
            assert_eq!(*len, *l as u64, "length of `{path}`");
            assert_describes(d, *element, e, &format!("{path}[0]"));
        }
        (KindDesc::Struct { repr, fields }, LayoutKind::Struct { repr: r, fields: f }) => {
            assert_eq!(repr, r, "repr of `{path}`");
            assert_fields(d, fields, f, path);
        }
        (
            KindDesc::Enum { repr, variants },
            LayoutKind::Enum {
                repr: r,
                variants: v,
            },
        ) => {
            assert_eq!(repr, r, "repr of `{path}`");
            let got: Vec<(&str, u128)> = variants
                .iter()
                .map(|v| (v.name.as_str(), v.value))
                .collect();
            let want: Vec<(&str, u128)> = v.iter().map(|v| (v.name, v.value)).collect();
            assert_eq!(got, want, "variants of `{path}`");
        }
        (
            KindDesc::Library {
                protocol,
                params,
                fields,
                validity,
            },
            LayoutKind::Library {
                protocol: p,
                params: pa,
                fields: f,
                validity: v,
            },
        ) => {
            assert_eq!(protocol, p, "protocol of `{path}`");
            let want: Vec<(String, u64)> = pa.iter().map(|(n, v)| (n.to_string(), *v)).collect();
            assert_eq!(params, &want, "params of `{path}`");
            assert_eq!(*validity, ValidityDesc::of(v), "validity of `{path}`");
            assert_fields(d, fields, f, path);
        }
        (got, want) => panic!("`{path}` is {got:?}, not {want:?}"),
    }
}

fn assert_fields(d: &Description, got: &[FieldDesc], want: &[Field], path: &str) {
    assert_eq!(got.len(), want.len(), "fields of `{path}`");
    for (g, w) in got.iter().zip(want) {
        let path = if path.is_empty() {
            w.name.to_string()
        } else {
            format!("{path}.{}", w.name)
        };
        assert_eq!(g.name, w.name);
        assert_eq!(g.offset, w.offset as u64, "offset of `{path}`");
        assert_eq!(g.access, w.access, "access of `{path}`");
        assert_describes(d, g.ty, w.layout, &path);
    }
}

/// Encodes and decodes `layout`, and checks that the result describes it
/// exactly and has its fingerprint.
fn round_trip(layout: &TypeLayout) -> Description {
    let bytes = encode(layout).expect("encodes");
    let d = Description::decode(&bytes).expect("decodes");
    assert_describes(&d, d.root(), layout, "");
    assert_eq!(d.fingerprint(), Some(Fingerprint::of_layout(layout)));
    d
}

/// The root's fields as (name, offset, type, access).
fn fields_of(d: &Description) -> Vec<(String, u64, String, Access)> {
    let fields = match &d.get(d.root()).kind {
        KindDesc::Struct { fields, .. } | KindDesc::Library { fields, .. } => fields,
        other => panic!("not a struct: {other:?}"),
    };
    fields
        .iter()
        .map(|f| (f.name.clone(), f.offset, d.type_name(f.ty), f.access))
        .collect()
}

fn plain(name: &str, offset: u64, ty: &str) -> (String, u64, String, Access) {
    (name.into(), offset, ty.into(), Access::Plain)
}

fn protected(name: &str, offset: u64, ty: &str) -> (String, u64, String, Access) {
    (name.into(), offset, ty.into(), Access::Protocol)
}

/// The root's library parts: protocol, params, validity.
fn library_of(d: &Description) -> (String, Vec<(String, u64)>, ValidityDesc) {
    match &d.get(d.root()).kind {
        KindDesc::Library {
            protocol,
            params,
            validity,
            ..
        } => (protocol.clone(), params.clone(), *validity),
        other => panic!("not a library type: {other:?}"),
    }
}

fn params(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

/// The message of the first difference between the layouts.
fn difference(stored: &TypeLayout, ours: &TypeLayout) -> String {
    let d = round_trip(stored)
        .first_difference(&round_trip(ours))
        .expect("the layouts differ");
    d.to_string()
}

// ---------------------------------------------------------------------------
// Test types

/// 8, or 4 on 32-bit x86 (where the suite also runs).
const U64_ALIGN: u64 = core::mem::align_of::<u64>() as u64;

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Inner {
    flag: bool,
    value: u32,
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(u8)]
enum Mode {
    Idle = 0,
    Busy = 1,
    Done = 7,
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(i16)]
enum Level {
    Low = -2,
    High = 3,
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Outer {
    pair: [Inner; 2],
    mode: Mode,
    level: Level,
    tail: u64,
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Pair<T> {
    a: T,
    b: T,
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Both {
    small: Pair<u8>,
    big: Pair<u64>,
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Point {
    x: u32,
    y: u32,
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Record {
    id: u64,
    flags: [u8; 8],
}

#[derive(crate::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Wrap<T> {
    inner: T,
}

type W2<T> = Wrap<Wrap<T>>;
type W4<T> = W2<W2<T>>;
type W8<T> = W4<W4<T>>;
type W16<T> = W8<W8<T>>;
type W32<T> = W16<W16<T>>;

// ---------------------------------------------------------------------------
// Descriptions against hand-computed layouts

/// Nested structs, arrays and enums: every offset, size and discriminant
/// as computed by hand from the `repr(C)` rules.
#[test]
fn describe_nested_struct_array_and_enums() {
    let d = round_trip(Outer::LAYOUT);
    let root = d.get(d.root());
    // pair 0..16 (two 8-byte `Inner`s), mode 16, level 18 (aligned to 2),
    // tail at 20 aligned up to a `u64`'s alignment: 24 (4 on 32-bit x86,
    // where it is 20).
    let tail = if U64_ALIGN == 8 { 24 } else { 20 };
    assert_eq!(
        (root.name.as_str(), root.size, root.align),
        ("Outer", tail + 8, U64_ALIGN)
    );
    assert_eq!(
        fields_of(&d),
        [
            plain("pair", 0, "[Inner; 2]"),
            plain("mode", 16, "Mode"),
            plain("level", 18, "Level"),
            plain("tail", tail, "u64"),
        ]
    );
    let inner = d.types().iter().find(|t| t.name == "Inner").unwrap();
    let KindDesc::Struct { repr, fields } = &inner.kind else {
        panic!("{inner:?}")
    };
    assert_eq!((repr.as_str(), inner.size, inner.align), ("repr(C)", 8, 4));
    let inner_fields: Vec<(&str, u64)> =
        fields.iter().map(|f| (f.name.as_str(), f.offset)).collect();
    assert_eq!(inner_fields, [("flag", 0), ("value", 4)]);

    let mode = d.types().iter().find(|t| t.name == "Mode").unwrap();
    let KindDesc::Enum { repr, variants } = &mode.kind else {
        panic!("{mode:?}")
    };
    let shown: Vec<(&str, u128)> = variants
        .iter()
        .map(|v| (v.name.as_str(), v.value))
        .collect();
    assert_eq!((*repr, mode.size), (Scalar::Unsigned, 1));
    assert_eq!(shown, [("Idle", 0), ("Busy", 1), ("Done", 7)]);

    let level = d.types().iter().find(|t| t.name == "Level").unwrap();
    let KindDesc::Enum { repr, variants } = &level.kind else {
        panic!("{level:?}")
    };
    assert_eq!((*repr, level.size, level.align), (Scalar::Signed, 2, 2));
    assert_eq!(variants[0].value as i128, -2, "sign-extended");
    assert_eq!(variants[1].value, 3);
}

/// A generic struct instantiated twice is two types of the same name, each
/// with its own layout, both in the table.
#[test]
fn describe_generic_struct_instantiated_twice() {
    let d = round_trip(Both::LAYOUT);
    // `big` after the two bytes of `small`, aligned as a `u64`.
    assert_eq!(
        fields_of(&d),
        [plain("small", 0, "Pair"), plain("big", U64_ALIGN, "Pair")]
    );
    let pairs: Vec<(u64, u64)> = d
        .types()
        .iter()
        .filter(|t| t.name == "Pair")
        .map(|t| (t.size, t.align))
        .collect();
    assert_eq!(pairs, [(2, 1), (16, U64_ALIGN)]);
    assert_eq!(d.get(d.root()).size, U64_ALIGN + 16);
}

/// `ShmMutex<T>`: its words and the value at 40, read under its protocol.
#[test]
fn describe_shm_mutex() {
    let d = round_trip(<ShmMutex<u32>>::LAYOUT);
    let root = d.get(d.root());
    assert_eq!(
        (root.name.as_str(), root.size, root.align),
        ("ShmMutex", 48, 8)
    );
    assert_eq!(
        library_of(&d),
        ("ShmMutex futex v5".into(), vec![], ValidityDesc::Fields)
    );
    assert_eq!(
        fields_of(&d),
        [
            plain("lock", 0, "AtomicU64"),
            plain("inconsistent", 8, "AtomicU32"),
            plain("reserved", 12, "AtomicU32"),
            plain("owner", 16, "AtomicU64"),
            plain("owner_thread", 24, "AtomicU64"),
            plain("owner_ns", 32, "AtomicU64"),
            protected("value", 40, "u32"),
        ]
    );
}

/// `FixedString<N>` and `FixedVec<T, N>`: a length, then the bytes or
/// slots; the capacity as a parameter.
#[test]
fn describe_fixed_string_and_vec() {
    let d = round_trip(FixedString::<5>::LAYOUT);
    assert_eq!((d.get(d.root()).size, d.get(d.root()).align), (12, 4));
    assert_eq!(
        library_of(&d),
        (
            "FixedString utf8-prefix v1".into(),
            params(&[("capacity", 5)]),
            ValidityDesc::AnyBits
        )
    );
    assert_eq!(
        fields_of(&d),
        [plain("len", 0, "u32"), plain("bytes", 4, "[u8; 5]")]
    );

    // The slots after the length, aligned as a `u64` (8; 4 on 32-bit x86).
    let d = round_trip(<FixedVec<u64, 3>>::LAYOUT);
    assert_eq!(
        (d.get(d.root()).size, d.get(d.root()).align),
        (U64_ALIGN + 24, U64_ALIGN)
    );
    assert_eq!(
        library_of(&d),
        (
            "FixedVec clamped-len v1".into(),
            params(&[("capacity", 3)]),
            ValidityDesc::Custom
        )
    );
    assert_eq!(
        fields_of(&d),
        [
            plain("len", 0, "u32"),
            plain("items", U64_ALIGN, "[u64; 3]")
        ]
    );
}

/// `SeqLock<T>`, `RelPtr<T>` and `PodField<T>` (opaque: parameters only).
#[test]
fn describe_seqlock_relptr_and_podfield() {
    let d = round_trip(<SeqLock<[u32; 3]>>::LAYOUT);
    assert_eq!((d.get(d.root()).size, d.get(d.root()).align), (32, 8));
    assert_eq!(
        fields_of(&d),
        [
            plain("seq", 0, "AtomicU64"),
            plain("writers_ns", 8, "AtomicU64"),
            protected("value", 16, "[u32; 3]"),
        ]
    );

    let d = round_trip(<RelPtr<Inner>>::LAYOUT);
    assert_eq!(
        library_of(&d).1,
        params(&[("target size", 8), ("target align", 4)])
    );
    assert_eq!(fields_of(&d), [plain("offset", 0, "AtomicI64")]);

    let d = round_trip(<PodField<[u16; 3]>>::LAYOUT);
    assert_eq!(
        library_of(&d),
        (
            "PodField repr(transparent)".into(),
            params(&[("size", 6), ("align", 2)]),
            ValidityDesc::AnyBits
        )
    );
    assert!(fields_of(&d).is_empty(), "opaque");
    assert_eq!(d.types().len(), 1);
}

/// `ShmQueue<T, N>`: cache-line-separated counters, then the slots, each a
/// sequence word, a record word and the value under the protocol.
#[test]
fn describe_shm_queue() {
    let d = round_trip(<ShmQueue<u64, 2>>::LAYOUT);
    let root = d.get(d.root());
    // head, tail and the wait words each on a 64-byte line; 2 slots of 24
    // bytes from 192; 240 rounded up to the 64-byte alignment.
    assert_eq!((root.size, root.align), (256, 64));
    assert_eq!(library_of(&d).1, params(&[("capacity", 2)]));
    assert_eq!(
        fields_of(&d),
        [
            plain("head", 0, "AtomicU64"),
            plain("tail", 64, "AtomicU64"),
            plain("waits", 128, "queue waits"),
            plain("slots", 192, "[ShmQueue slot; 2]"),
        ]
    );
    let fields_named = |name: &str| -> Vec<(String, u64, Access)> {
        let ty = d.types().iter().find(|t| t.name == name).unwrap();
        let KindDesc::Library { fields, .. } = &ty.kind else {
            panic!("{ty:?}")
        };
        fields
            .iter()
            .map(|f| (f.name.clone(), f.offset, f.access))
            .collect()
    };
    let shown = |fields: &[(&str, u64, Access)]| -> Vec<(String, u64, Access)> {
        fields
            .iter()
            .map(|&(n, o, a)| (n.to_owned(), o, a))
            .collect()
    };
    assert_eq!(
        fields_named("queue waits"),
        shown(&[
            ("pop", 0, Access::Plain),
            ("push", 16, Access::Plain),
            ("users_ns", 32, Access::Plain)
        ])
    );
    assert_eq!(
        fields_named("queue sleepers"),
        shown(&[
            ("word", 0, Access::Plain),
            ("count", 4, Access::Plain),
            ("latest", 8, Access::Plain)
        ])
    );
    assert_eq!(
        fields_named("ShmQueue slot"),
        shown(&[
            ("word", 0, Access::Plain),
            ("record", 8, Access::Plain),
            ("value", 16, Access::Protocol)
        ])
    );
}

/// Every type of the crate and every scalar survives the round trip with
/// its fingerprint (what `round_trip` checks).
#[test]
fn every_crate_type_round_trips() {
    let layouts: &[&TypeLayout] = &[
        u8::LAYOUT,
        i128::LAYOUT,
        usize::LAYOUT,
        f64::LAYOUT,
        bool::LAYOUT,
        char::LAYOUT,
        <()>::LAYOUT,
        core::num::NonZeroU32::LAYOUT,
        core::num::NonZeroI8::LAYOUT,
        AtomicBool::LAYOUT,
        AtomicI32::LAYOUT,
        AtomicU64::LAYOUT,
        <core::marker::PhantomData<u8>>::LAYOUT,
        <[u8; 0]>::LAYOUT,
        <ShmMutex<Outer>>::LAYOUT,
        ShmCondvar::LAYOUT,
        ShmEvent::LAYOUT,
        ShmSemaphore::LAYOUT,
        <SeqLock<Inner>>::LAYOUT,
        <FixedVec<Inner, 4>>::LAYOUT,
        <FixedString<0>>::LAYOUT,
        <RelPtr<Outer>>::LAYOUT,
        <ShmQueue<Outer, 4>>::LAYOUT,
        <PodField<u64>>::LAYOUT,
    ];
    for layout in layouts {
        round_trip(layout);
    }
}

// ---------------------------------------------------------------------------
// Size

/// Each distinct type is stored once: an array of 100000 records costs what
/// an array of one does, 208 bytes by the table of the module docs (header
/// 16, `u64` 23, `u8` 22, `[u8; 8]` 36, `Record` 75, the outer array 36).
#[test]
fn size_does_not_grow_with_array_length() {
    let one = encode(<[Record; 1]>::LAYOUT).unwrap();
    let many = encode(<[Record; 100_000]>::LAYOUT).unwrap();
    assert_eq!(one.len(), 208);
    assert_eq!(many.len(), 208);
    let d = round_trip(<[Record; 100_000]>::LAYOUT);
    assert_eq!(d.types().len(), 5);
    assert_eq!(d.get(d.root()).size, 1_600_000);
}

/// A type whose every level holds the one below twice is one record per
/// level: the size is linear in the depth, not in the 2^10 leaves.
#[test]
fn shared_subtrees_are_stored_once() {
    type T4 = Pair<Pair<Pair<Pair<u8>>>>;
    type T10 = Pair<Pair<Pair<Pair<Pair<Pair<T4>>>>>>;
    let bytes = encode(T10::LAYOUT).unwrap();
    // Each `Pair` record: 1 + 2+4 + 16 + 2+7 + 4 + 2 × (2+1 + 8+4+1).
    assert_eq!(bytes.len(), 16 + 22 + 10 * 68);
    let d = round_trip(T10::LAYOUT);
    assert_eq!(d.get(d.root()).size, 1024);
}

/// The nesting limit holds in the encoder: 64 levels encode, 65 do not.
#[test]
fn encoder_refuses_nesting_beyond_the_limit() {
    // 63 wrappers around a `u8`: 64 levels.
    type Deepest = W32<W16<W8<W4<W2<Wrap<u8>>>>>>;
    round_trip(Deepest::LAYOUT);
    let err = encode(<Wrap<Deepest>>::LAYOUT).unwrap_err();
    assert_eq!(err.offset(), None);
    assert_eq!(err.problem(), &Problem::TooDeep { limit: MAX_DEPTH });
    assert_eq!(
        err.to_string(),
        "the layout cannot be described: types nested more than 64 levels deep"
    );
    assert_eq!(Error::from(err).kind(), ErrorKind::Unsupported);
}

/// A name beyond `MAX_STR` is refused by the encoder, not truncated.
#[test]
fn encoder_refuses_a_name_beyond_the_limit() {
    const LONG: &str = match core::str::from_utf8(&[b'x'; MAX_STR + 1]) {
        Ok(s) => s,
        Err(_) => panic!(),
    };
    const LAYOUT: TypeLayout = TypeLayout::opaque::<u32>(LONG, "v1", Validity::AnyBits);
    let err = encode(&LAYOUT).unwrap_err();
    assert_eq!(err.problem(), &Problem::StringTooLong { len: 1025 });
}

// ---------------------------------------------------------------------------
// Differences

mod v1 {
    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Stats {
        pub hits: u64,
        pub errors: u32,
        pub flags: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Xy {
        pub x: u32,
        pub y: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Abc {
        pub a: u32,
        pub b: u32,
        pub c: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Ac {
        pub a: u32,
        pub c: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Counter {
        pub errors: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Flags {
        pub count: u32,
        pub flags: [u8; 4],
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Flag {
        pub on: bool,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Middle {
        pub id: u16,
        pub flags: [Flag; 4],
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Nested {
        pub count: u32,
        pub inner: Middle,
    }

    #[derive(crate::SharedSafe)]
    #[repr(u8)]
    pub enum Mode {
        Idle = 0,
        Busy = 1,
        Done = 2,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Job {
        pub id: u32,
        pub mode: Mode,
    }

    #[derive(crate::SharedSafe)]
    #[repr(i8)]
    pub enum Level {
        Low = -1,
        High = 1,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Aligned {
        pub a: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Named {
        pub id: u32,
        pub name: crate::FixedString<8>,
    }
}

mod v2 {
    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Stats {
        pub hits: u64,
        pub errors: u64,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Xy {
        pub y: u32,
        pub x: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Abc {
        pub a: u32,
        pub c: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Ac {
        pub a: u32,
        pub b: u32,
        pub c: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Counter {
        pub faults: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Flags {
        pub count: u32,
        pub flags: [u8; 3],
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Flag {
        pub on: u8,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Middle {
        pub id: u16,
        pub flags: [Flag; 4],
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Nested {
        pub count: u32,
        pub inner: Middle,
    }

    #[derive(crate::SharedSafe)]
    #[repr(u8)]
    pub enum Mode {
        Idle = 0,
        Busy = 3,
        Done = 2,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Job {
        pub id: u32,
        pub mode: Mode,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C, align(8))]
    pub struct Aligned {
        pub a: u32,
    }

    #[derive(crate::SharedSafe)]
    #[repr(C)]
    pub struct Named {
        pub id: u32,
        pub name: crate::FixedString<16>,
    }

    pub mod repr16 {
        #[derive(crate::SharedSafe)]
        #[repr(u16)]
        pub enum Mode {
            Idle = 0,
            Busy = 1,
            Done = 2,
        }

        #[derive(crate::SharedSafe)]
        #[repr(C)]
        pub struct Job {
            pub id: u32,
            pub mode: Mode,
        }
    }

    pub mod fewer {
        #[derive(crate::SharedSafe)]
        #[repr(u8)]
        pub enum Mode {
            Idle = 0,
            Busy = 1,
        }

        #[derive(crate::SharedSafe)]
        #[repr(u8)]
        pub enum More {
            Idle = 0,
            Busy = 1,
            Done = 2,
            Failed = 3,
        }

        #[derive(crate::SharedSafe)]
        #[repr(u8)]
        pub enum Renamed {
            Idle = 0,
            Working = 1,
            Done = 2,
        }

        #[derive(crate::SharedSafe)]
        #[repr(u8)]
        pub enum Reordered {
            Busy = 1,
            Idle = 0,
            Done = 2,
        }

        #[derive(crate::SharedSafe)]
        #[repr(i8)]
        pub enum Level {
            Low = -2,
            High = 1,
        }
    }
}

/// The example: a field of the same name with another type.
#[test]
fn difference_field_type() {
    assert_eq!(
        difference(v1::Stats::LAYOUT, v2::Stats::LAYOUT),
        "field `errors` is `u32` at offset 8; this program's `Stats` has `u64` at offset 8"
    );
    // A generic struct instantiated with two types.
    assert_eq!(
        difference(<Pair<u8>>::LAYOUT, <Pair<u16>>::LAYOUT),
        "field `a` is `u8` at offset 0; this program's `Pair` has `u16` at offset 0"
    );
    // Inside a lock.
    assert_eq!(
        difference(<ShmMutex<u32>>::LAYOUT, <ShmMutex<u64>>::LAYOUT),
        "field `value` is `u32` at offset 40; this program's `ShmMutex` has `u64` at offset 40"
    );
}

/// Fields of the same name at other offsets (reordered).
#[test]
fn difference_field_offset() {
    assert_eq!(
        difference(v1::Xy::LAYOUT, v2::Xy::LAYOUT),
        "field `x` is `u32` at offset 0; this program's `Xy` has `u32` at offset 4"
    );
}

/// A stored field this program's type lacks, one only this program's has,
/// and one that has another name.
#[test]
fn difference_missing_extra_and_renamed_field() {
    assert_eq!(
        difference(v1::Abc::LAYOUT, v2::Abc::LAYOUT),
        "field `b` (`u32` at offset 4) is not in this program's `Abc`"
    );
    assert_eq!(
        difference(v1::Ac::LAYOUT, v2::Ac::LAYOUT),
        "this program's `Ac` has a field `b` (`u32` at offset 4) that the stored type does not \
         have"
    );
    assert_eq!(
        difference(v1::Counter::LAYOUT, v2::Counter::LAYOUT),
        "field `errors` (`u32` at offset 0) is named `faults` in this program's `Counter`"
    );
}

/// A changed array length, in a field and at the root.
#[test]
fn difference_array_length() {
    assert_eq!(
        difference(v1::Flags::LAYOUT, v2::Flags::LAYOUT),
        "field `flags` is `[u8; 4]` at offset 4; this program's `Flags` has `[u8; 3]` at offset 4"
    );
    assert_eq!(
        difference(<[Inner; 3]>::LAYOUT, <[Inner; 2]>::LAYOUT),
        "the stored type is `[Inner; 3]`; this program's is `[Inner; 2]`"
    );
}

/// A difference deep inside: a path through fields and array elements,
/// with the offset in the struct that holds the field.
#[test]
fn difference_nested_path() {
    let stored = round_trip(v1::Nested::LAYOUT);
    let diff = stored
        .first_difference(&round_trip(v2::Nested::LAYOUT))
        .unwrap();
    assert_eq!(diff.path(), "inner.flags[0].on");
    assert_eq!(
        diff.to_string(),
        "field `inner.flags[0].on` is `bool` at offset 0; this program's `Flag` has `u8` at \
         offset 0"
    );
}

/// Enums: another discriminant, repr, missing, extra, renamed or reordered
/// variant; signed discriminants shown signed.
#[test]
fn difference_enum() {
    assert_eq!(
        difference(v1::Job::LAYOUT, v2::Job::LAYOUT),
        "in `mode`, variant `Busy` is 1; this program's `Mode` has `Busy = 3`"
    );
    assert_eq!(
        difference(v1::Job::LAYOUT, v2::repr16::Job::LAYOUT),
        "in `mode`, the stored enum has `repr(u8)`; this program's `Mode` has `repr(u16)`"
    );
    assert_eq!(
        difference(v1::Mode::LAYOUT, v2::fewer::Mode::LAYOUT),
        "variant `Done` (= 2) is not in this program's `Mode`"
    );
    assert_eq!(
        difference(v1::Mode::LAYOUT, v2::fewer::More::LAYOUT),
        "this program's `More` has a variant `Failed` (= 3) that the stored enum does not have"
    );
    assert_eq!(
        difference(v1::Mode::LAYOUT, v2::fewer::Renamed::LAYOUT),
        "variant `Busy` (= 1) is named `Working` in this program's `Renamed`"
    );
    assert_eq!(
        difference(v1::Mode::LAYOUT, v2::fewer::Reordered::LAYOUT),
        "variant `Idle` is at index 0 in the stored type and at index 1 in this program's \
         `Reordered`"
    );
    assert_eq!(
        difference(v1::Level::LAYOUT, v2::fewer::Level::LAYOUT),
        "variant `Low` is -1; this program's `Level` has `Low = -2`"
    );
}

/// Another struct repr (an added alignment).
#[test]
fn difference_struct_repr() {
    assert_eq!(
        difference(v1::Aligned::LAYOUT, v2::Aligned::LAYOUT),
        "the stored struct is `repr(C)`; this program's `Aligned` is `repr(C, align(8))`"
    );
}

const LOCK_V1: TypeLayout = TypeLayout::library::<u32>(
    "Lock",
    "lock v1",
    &[("spins", 4)],
    &[Field::plain("word", 0, AtomicU32::LAYOUT)],
    Validity::Fields,
);
const LOCK_V2: TypeLayout = TypeLayout::library::<u32>(
    "Lock",
    "lock v2",
    &[("spins", 4)],
    &[Field::plain("word", 0, AtomicU32::LAYOUT)],
    Validity::Fields,
);
const LOCK_SPINS_8: TypeLayout = TypeLayout::library::<u32>(
    "Lock",
    "lock v1",
    &[("spins", 8)],
    &[Field::plain("word", 0, AtomicU32::LAYOUT)],
    Validity::Fields,
);
const LOCK_NO_SPINS: TypeLayout = TypeLayout::library::<u32>(
    "Lock",
    "lock v1",
    &[],
    &[Field::plain("word", 0, AtomicU32::LAYOUT)],
    Validity::Fields,
);
const LOCK_UNKNOWN: TypeLayout = TypeLayout::library::<u32>(
    "Lock",
    "lock v1",
    &[("spins", 4)],
    &[Field::plain("word", 0, AtomicU32::LAYOUT)],
    Validity::Unknown,
);
const LOCK_PROTECTED: TypeLayout = TypeLayout::library::<u32>(
    "Lock",
    "lock v1",
    &[("spins", 4)],
    &[Field::protected("word", 0, AtomicU32::LAYOUT)],
    Validity::Fields,
);
const OPAQUE_4: TypeLayout = TypeLayout::opaque::<u32>("Handle", "handle v1", Validity::AnyBits);
// `AtomicU64`: 8-aligned on 32-bit x86 too, where a `u64` is 4-aligned.
const OPAQUE_8: TypeLayout =
    TypeLayout::opaque::<AtomicU64>("Handle", "handle v1", Validity::AnyBits);
const HOLDER: TypeLayout = TypeLayout {
    name: "Holder",
    size: 8,
    align: 4,
    kind: LayoutKind::Struct {
        repr: "repr(C)",
        fields: &[
            Field::plain("id", 0, u32::LAYOUT),
            Field::plain("lock", 4, &LOCK_V1),
        ],
    },
};
const HOLDER_V2: TypeLayout = TypeLayout {
    name: "Holder",
    size: 8,
    align: 4,
    kind: LayoutKind::Struct {
        repr: "repr(C)",
        fields: &[
            Field::plain("id", 0, u32::LAYOUT),
            Field::plain("lock", 4, &LOCK_V2),
        ],
    },
};

/// Library types: another protocol, parameter, validity, access or size.
#[test]
fn difference_library() {
    assert_eq!(
        difference(&HOLDER, &HOLDER_V2),
        "in `lock`, the stored type follows protocol `lock v1`; this program's `Lock` follows \
         `lock v2`"
    );
    assert_eq!(
        difference(&LOCK_V1, &LOCK_SPINS_8),
        "the stored `Lock` has spins 4; this program's has spins 8"
    );
    assert_eq!(
        difference(&LOCK_V1, &LOCK_NO_SPINS),
        "the stored `Lock` has spins 4, which this program's does not have"
    );
    assert_eq!(
        difference(&LOCK_NO_SPINS, &LOCK_V1),
        "this program's `Lock` has spins 4, which the stored one does not have"
    );
    assert_eq!(
        difference(&LOCK_V1, &LOCK_UNKNOWN),
        "the stored `Lock` is checked by its fields; this program's cannot be checked"
    );
    assert_eq!(
        difference(&LOCK_V1, &LOCK_PROTECTED),
        "field `word` is checked when a segment is opened; in this program's `Lock` it is \
         checked by its protocol"
    );
    assert_eq!(
        difference(&OPAQUE_4, &OPAQUE_8),
        "the stored type is 4 bytes aligned to 4; this program's `Handle` is 8 bytes aligned to 8"
    );
    assert_eq!(
        difference(v1::Named::LAYOUT, v2::Named::LAYOUT),
        "in `name`, the stored `FixedString` has capacity 8; this program's has capacity 16"
    );
}

/// Over a set of types, a difference is found exactly when the fingerprints
/// differ; names of structs (informational) are not differences.
#[test]
fn a_difference_exactly_when_fingerprints_differ() {
    let layouts: &[&TypeLayout] = &[
        v1::Stats::LAYOUT,
        v2::Stats::LAYOUT,
        v1::Xy::LAYOUT,
        v2::Xy::LAYOUT,
        v1::Abc::LAYOUT,
        v2::Ac::LAYOUT,
        v1::Counter::LAYOUT,
        v2::Counter::LAYOUT,
        v1::Nested::LAYOUT,
        v2::Nested::LAYOUT,
        v1::Mode::LAYOUT,
        v2::fewer::Reordered::LAYOUT,
        v1::Aligned::LAYOUT,
        v2::Aligned::LAYOUT,
        <Wrap<u32>>::LAYOUT, // v1::Counter under other names
        <Pair<u32>>::LAYOUT,
        Point::LAYOUT, // v1::Xy under another name
        u32::LAYOUT,
        <ShmMutex<u32>>::LAYOUT,
        &LOCK_V1,
        &LOCK_PROTECTED,
        &OPAQUE_4,
    ];
    let described: Vec<(Description, Fingerprint)> = layouts
        .iter()
        .map(|l| (round_trip(l), Fingerprint::of_layout(l)))
        .collect();
    for ((s, s_print), stored) in described.iter().zip(layouts) {
        for ((o, o_print), ours) in described.iter().zip(layouts) {
            let diff = s.first_difference(o);
            assert_eq!(
                diff.is_none(),
                s_print == o_print,
                "`{}` against `{}`: {diff:?}",
                stored.name,
                ours.name
            );
        }
    }
    assert_eq!(
        round_trip(Point::LAYOUT).first_difference(&round_trip(v1::Xy::LAYOUT)),
        None
    );
    assert_eq!(Point::FINGERPRINT, v1::Xy::FINGERPRINT);
}

// ---------------------------------------------------------------------------
// Untrusted bytes

/// Writes description bytes by hand, right or wrong.
#[derive(Default)]
struct Raw {
    records: Vec<u8>,
    count: u32,
}

impl Raw {
    fn u8(&mut self, v: u8) -> &mut Raw {
        self.records.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Raw {
        self.records.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Raw {
        self.records.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Raw {
        self.records.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn str(&mut self, s: &str) -> &mut Raw {
        self.u16(s.len() as u16);
        self.records.extend_from_slice(s.as_bytes());
        self
    }
    /// Starts a record; returns its index.
    fn record(&mut self, kind: u8, name: &str, size: u64, align: u64) -> u32 {
        self.u8(kind).str(name).u64(size).u64(align);
        self.count += 1;
        self.count - 1
    }
    fn scalar(&mut self, name: &str, size: u64, code: u8) -> u32 {
        let index = self.record(KIND_SCALAR, name, size, size.max(1));
        self.u8(code);
        index
    }
    fn array(&mut self, element: u32, len: u64, size: u64, align: u64) -> u32 {
        let index = self.record(KIND_ARRAY, "array", size, align);
        self.u32(element).u64(len);
        index
    }
    /// A struct of `fields` (name, offset, type).
    fn strukt(&mut self, size: u64, align: u64, fields: &[(&str, u64, u32)]) -> u32 {
        let index = self.record(KIND_STRUCT, "S", size, align);
        self.str("repr(C)").u32(fields.len() as u32);
        for (name, offset, ty) in fields {
            self.str(name).u64(*offset).u32(*ty).u8(0);
        }
        index
    }
    fn bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&((HEADER_LEN + self.records.len()) as u32).to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.records);
        out
    }
    fn decode(&self) -> Result<Description, DescriptionError> {
        Description::decode(&self.bytes())
    }
}

/// A deterministic generator (xorshift64*), so that failures repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a decoded description promises, checked independently: types
/// refer backwards, fields lie inside their type in order, arrays are as
/// large as their elements say.
fn assert_consistent(d: &Description) {
    for (i, ty) in d.types().iter().enumerate() {
        assert!(ty.align.is_power_of_two());
        assert_eq!(ty.size % ty.align, 0);
        match &ty.kind {
            KindDesc::Array { element, len } => {
                assert!(element.index() < i);
                assert_eq!(d.get(*element).size.checked_mul(*len), Some(ty.size));
            }
            KindDesc::Struct { fields, .. } | KindDesc::Library { fields, .. } => {
                let mut end = 0;
                for f in fields {
                    assert!(f.ty.index() < i);
                    assert!(f.offset >= end);
                    end = f.offset + d.get(f.ty).size;
                    assert!(end <= ty.size);
                }
            }
            KindDesc::Scalar(_) | KindDesc::Enum { .. } => {}
        }
    }
    // Every reader of a description terminates on it.
    let _ = d.fingerprint();
    let _ = d.type_name(d.root());
    let _ = d.first_difference(d);
}

fn sample() -> Vec<u8> {
    encode(<ShmMutex<Outer>>::LAYOUT).unwrap()
}

/// Every proper prefix of a valid encoding is refused, also when its header
/// is patched to claim exactly the prefix's length (so that the reader runs
/// into the end inside a record), and the error names a byte inside it.
#[test]
fn every_prefix_is_refused() {
    let valid = sample();
    assert!(Description::decode(&valid).is_ok());
    // Under Miri, every fifth prefix (and the longest).
    let step = if cfg!(miri) { 5 } else { 1 };
    for n in (0..valid.len()).step_by(step).chain([valid.len() - 1]) {
        assert!(Description::decode(&valid[..n]).is_err(), "prefix of {n}");
        if n >= HEADER_LEN {
            let mut patched = valid[..n].to_vec();
            patched[8..12].copy_from_slice(&(n as u32).to_le_bytes());
            let err = Description::decode(&patched).unwrap_err();
            assert!(err.offset().unwrap() <= n, "{err} for {n} bytes");
        }
    }
}

/// Random bytes are refused: with no header, and after a valid header.
#[test]
fn random_bytes_are_refused() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let rounds = if cfg!(miri) { 50 } else { 5000 };
    let header = sample();
    for _ in 0..rounds {
        let len = rng.below(300) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(Description::decode(&bytes).is_err());
        if len >= HEADER_LEN {
            bytes[..8].copy_from_slice(&header[..8]);
            bytes[8..12].copy_from_slice(&(len as u32).to_le_bytes());
            bytes[12..16].copy_from_slice(&(1 + rng.below(8) as u32).to_le_bytes());
            assert!(Description::decode(&bytes).is_err());
        }
    }
}

/// Any single byte of a valid encoding changed (three ways) gives an error
/// or a description that keeps every promise: never a panic.
#[test]
fn mutated_encodings_never_panic() {
    let valid = sample();
    let original = Description::decode(&valid).unwrap();
    let step = if cfg!(miri) { 29 } else { 1 };
    let mut accepted = 0;
    for at in (0..valid.len()).step_by(step) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bytes = valid.clone();
            bytes[at] ^= flip;
            if let Ok(d) = Description::decode(&bytes) {
                assert_consistent(&d);
                let _ = d.first_difference(&original);
                let _ = original.first_difference(&d);
                accepted += 1;
            }
        }
    }
    // Changed names stay valid descriptions: the test saw some.
    assert!(accepted > 0);
}

/// Lengths and counts that claim gigabytes are refused before anything is
/// allocated for them.
#[test]
fn gigabyte_claims_are_refused() {
    // The header's length.
    let mut bytes = sample();
    bytes[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Description::decode(&bytes).unwrap_err();
    assert_eq!(
        (err.offset(), err.problem()),
        (
            Some(8),
            &Problem::TooLong {
                len: u32::MAX as u64
            }
        )
    );

    // The number of types.
    let mut bytes = sample();
    bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Description::decode(&bytes).unwrap_err();
    assert_eq!(err.offset(), Some(12));
    assert!(matches!(
        err.problem(),
        Problem::TooMany { what: "types", .. }
    ));

    // A count of types that the bytes cannot hold.
    let mut raw = Raw::default();
    raw.scalar("u8", 1, 1);
    raw.count = 1000;
    let err = raw.decode().unwrap_err();
    assert_eq!(
        err.problem(),
        &Problem::TooMany {
            what: "types",
            count: 1000,
            limit: 1
        }
    );

    // A string.
    let mut raw = Raw::default();
    raw.u8(KIND_SCALAR).u16(u16::MAX);
    raw.records.extend_from_slice(&[b'x'; 40]);
    raw.count = 1;
    let err = raw.decode().unwrap_err();
    assert_eq!(
        (err.offset(), err.problem()),
        (Some(17), &Problem::StringTooLong { len: 65535 })
    );

    // Fields: beyond the limit, and beyond the bytes left.
    for (count, limit) in [(u32::MAX, MAX_ITEMS as u64), (60_000, 0)] {
        let mut raw = Raw::default();
        raw.record(KIND_STRUCT, "S", 0, 1);
        raw.str("repr(C)").u32(count);
        let err = raw.decode().unwrap_err();
        assert_eq!(
            err.problem(),
            &Problem::TooMany {
                what: "fields",
                count: count as u64,
                limit
            }
        );
    }

    // An array of u64::MAX elements that claims a small size.
    let mut raw = Raw::default();
    let u8_ = raw.scalar("u8", 1, 1);
    raw.array(u8_, u64::MAX, 16, 1);
    let err = raw.decode().unwrap_err();
    assert!(matches!(err.problem(), Problem::Inconsistent(_)), "{err}");
    assert_eq!(err.offset(), Some(HEADER_LEN + 22));
}

/// A reference to the record itself, a later one or one out of range is
/// refused: the table has no cycle.
#[test]
fn cycles_and_out_of_range_references_are_refused() {
    let mut raw = Raw::default();
    raw.array(0, 1, 1, 1);
    let err = raw.decode().unwrap_err();
    assert_eq!(
        err.problem(),
        &Problem::BadReference {
            index: 0,
            record: 0
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid layout description at byte 40: type 0 refers to type 0, which is not before it"
    );

    let mut raw = Raw::default();
    raw.scalar("u8", 1, 1);
    raw.strukt(1, 1, &[("x", 0, 7)]);
    assert_eq!(
        raw.decode().unwrap_err().problem(),
        &Problem::BadReference {
            index: 7,
            record: 1
        }
    );
}

/// 64 levels of nesting decode, 65 do not.
#[test]
fn excessive_depth_is_refused() {
    let mut raw = Raw::default();
    let mut top = raw.scalar("u8", 1, 1);
    for _ in 1..MAX_DEPTH {
        top = raw.array(top, 1, 1, 1);
    }
    assert!(raw.decode().is_ok());
    raw.array(top, 1, 1, 1);
    let err = raw.decode().unwrap_err();
    assert_eq!(err.problem(), &Problem::TooDeep { limit: MAX_DEPTH });
}

/// A table whose every level refers twice to the one below (2^40 leaves)
/// decodes, is compared with itself at once, and has no fingerprint (the
/// walk would be too long) rather than a hang.
#[test]
fn hostile_sharing_is_bounded() {
    let mut raw = Raw::default();
    let mut top = raw.scalar("u8", 1, 1);
    for level in 0..40 {
        let half = 1u64 << level;
        top = raw.strukt(2 * half, 1, &[("a", 0, top), ("b", half, top)]);
    }
    let d = raw.decode().unwrap();
    assert_eq!(d.get(d.root()).size, 1 << 40);
    // A million hashing steps: too slow to interpret.
    if !cfg!(miri) {
        assert_eq!(d.fingerprint(), None);
    }
    assert_eq!(d.first_difference(&d), None);
}

/// Unknown codes, inconsistent sizes and offsets, duplicate names, flags,
/// trailing bytes: each refused with its own problem at its byte.
#[test]
fn malformed_records_are_refused() {
    let problem = |raw: &Raw| raw.decode().unwrap_err().problem().clone();

    let mut raw = Raw::default();
    raw.record(9, "x", 1, 1);
    assert_eq!(
        problem(&raw),
        Problem::UnknownCode {
            what: "kind",
            code: 9
        }
    );

    let mut raw = Raw::default();
    raw.scalar("x", 1, 42);
    assert_eq!(
        problem(&raw),
        Problem::UnknownCode {
            what: "scalar",
            code: 42
        }
    );

    let mut raw = Raw::default();
    raw.record(KIND_ENUM, "E", 1, 1);
    raw.u8(3).u32(0); // a float repr
    assert_eq!(
        problem(&raw),
        Problem::UnknownCode {
            what: "enum repr",
            code: 3
        }
    );

    let mut raw = Raw::default();
    raw.record(KIND_LIBRARY, "L", 0, 1);
    raw.str("p").u8(7).u32(0).u32(0);
    assert_eq!(
        problem(&raw),
        Problem::UnknownCode {
            what: "validity",
            code: 7
        }
    );

    let mut raw = Raw::default();
    let u8_ = raw.scalar("u8", 1, 1);
    raw.record(KIND_STRUCT, "S", 1, 1);
    raw.str("repr(C)").u32(1).str("x").u64(0).u32(u8_).u8(2);
    assert_eq!(
        problem(&raw),
        Problem::UnknownCode {
            what: "access",
            code: 2
        }
    );

    // A bool of 2 bytes, an alignment of 3, a size not a multiple of it.
    for (size, align) in [(2, 1), (1, 3), (3, 2)] {
        let mut raw = Raw::default();
        raw.record(KIND_SCALAR, "bool", size, align);
        raw.u8(4);
        assert!(matches!(problem(&raw), Problem::Inconsistent(_)));
    }

    let mut raw = Raw::default();
    let u32_ = raw.scalar("u32", 4, 1);
    raw.strukt(8, 4, &[("a", 0, u32_), ("b", 2, u32_)]);
    assert_eq!(
        problem(&raw),
        Problem::Inconsistent(
            "field `b` of `S` (`u32` at offset 2) overlaps the field before it".into()
        )
    );
    let mut raw = Raw::default();
    let u32_ = raw.scalar("u32", 4, 1);
    raw.strukt(8, 4, &[("a", 0, u32_), ("b", 6, u32_)]);
    assert_eq!(
        problem(&raw),
        Problem::Inconsistent("field `b` of `S` (`u32` at offset 6) ends beyond its type".into())
    );
    let mut raw = Raw::default();
    let u32_ = raw.scalar("u32", 4, 1);
    raw.strukt(12, 4, &[("a", 0, u32_), ("b", 6, u32_)]);
    assert_eq!(
        problem(&raw),
        Problem::Inconsistent(
            "field `b` of `S` (`u32` at offset 6) is not aligned for its type".into()
        )
    );
    let mut raw = Raw::default();
    let u32_ = raw.scalar("u32", 4, 1);
    raw.strukt(8, 4, &[("a", u64::MAX - 3, u32_)]);
    assert_eq!(
        problem(&raw),
        Problem::Inconsistent(format!(
            "field `a` of `S` (`u32` at offset {}) ends beyond its type",
            u64::MAX - 3
        ))
    );
    let mut raw = Raw::default();
    let u32_ = raw.scalar("u32", 4, 1);
    raw.strukt(8, 4, &[("a", 0, u32_), ("a", 4, u32_)]);
    assert_eq!(
        problem(&raw),
        Problem::DuplicateName {
            what: "field",
            name: "a".into()
        }
    );

    let mut raw = Raw::default();
    raw.record(KIND_SCALAR, "s", 1, 1);
    raw.u8(1);
    raw.records.extend_from_slice(&[0xff; 5]);
    let mut bytes = raw.bytes();
    assert_eq!(
        Description::decode(&bytes).unwrap_err(),
        DescriptionError::at(HEADER_LEN + 21, Problem::TrailingBytes { left: 5 })
    );
    bytes[6] = 1;
    assert_eq!(
        Description::decode(&bytes).unwrap_err(),
        DescriptionError::at(6, Problem::UnknownFlags(1))
    );
    let bytes = Raw::default().bytes();
    assert!(matches!(
        Description::decode(&bytes).unwrap_err().problem(),
        Problem::Inconsistent(_)
    ));
    let mut bad = Raw::default();
    bad.record(KIND_SCALAR, "\u{0}\u{0}", 1, 1);
    bad.u8(1);
    let mut bytes = bad.bytes();
    bytes[HEADER_LEN + 3] = 0xc3; // a lead byte without its continuation
    let err = Description::decode(&bytes).unwrap_err();
    assert_eq!(
        err,
        DescriptionError::at(HEADER_LEN + 3, Problem::InvalidUtf8)
    );
    assert_eq!(Error::from(err).kind(), ErrorKind::NotASegment);
}
