//! FixedString, FixedVec, RelPtr and PodField: every method and error, and
//! RelPtr across two mappings of the same memory.

use shm_runtime::{CapacityError, FixedString, FixedVec, PodField, RelPtr, SharedSafe};
use std::cell::UnsafeCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn fs<const N: usize>(text: &str) -> FixedString<N> {
    FixedString::try_from(text).unwrap()
}

// ---------------------------------------------------------------- FixedString

#[test]
fn string_new_is_empty_with_capacity_n() {
    let s = FixedString::<10>::new();
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
    assert_eq!(s.capacity(), 10);
    assert_eq!(s.as_str(), "");
    assert_eq!(FixedString::<10>::default(), s);
    assert_eq!(FixedString::<0>::new().capacity(), 0);
}

#[test]
fn string_try_push_str_is_all_or_nothing() {
    let mut s = FixedString::<5>::new();
    s.try_push_str("abc").unwrap();
    let err = s.try_push_str("def").unwrap_err();
    assert_eq!((err.required(), err.capacity()), (6, 5));
    assert_eq!(s, "abc");
    s.try_push_str("de").unwrap(); // exactly full
    assert_eq!(s, "abcde");
    assert_eq!(s.len(), 5);
    assert!(s.try_push_str("").is_ok());
    assert!(s.try_push_str("f").is_err());
}

#[test]
fn string_push_str_and_push_append() {
    let mut s = FixedString::<8>::new();
    s.push_str("ab");
    s.push('c');
    s.push('é');
    assert_eq!(s, "abcé");
    assert_eq!(s.len(), 5);
}

#[test]
#[should_panic(
    expected = "FixedString<2>::push_str: capacity exceeded: 3 bytes needed, capacity is 2"
)]
fn string_push_str_panics_when_full() {
    FixedString::<2>::new().push_str("abc");
}

#[test]
#[should_panic(expected = "FixedString<1>::push")]
fn string_push_panics_when_full() {
    FixedString::<1>::new().push('é');
}

#[test]
fn string_utf8_boundaries_at_capacity() {
    // A char is never split: it fits entirely or not at all.
    assert!(FixedString::<3>::try_from("€").is_ok()); // 3 bytes
    assert!(FixedString::<2>::try_from("€").is_err());
    assert!(FixedString::<2>::try_from("aé").is_err()); // 3 bytes
    let mut s = fs::<4>("a");
    let err = s.try_push('😀').unwrap_err(); // 4 bytes
    assert_eq!(err.required(), 5);
    assert_eq!(err.into_inner(), '😀');
    assert_eq!(s, "a");
    s.try_push('€').unwrap();
    assert_eq!(s.len(), 4);
    assert_eq!(FixedString::<4>::try_from("😀").unwrap().chars().count(), 1);
}

#[test]
fn string_try_from_and_parse() {
    let s: FixedString<5> = "hello".parse().unwrap();
    assert_eq!(s, "hello");
    let err = "hello!".parse::<FixedString<5>>().unwrap_err();
    assert_eq!((err.required(), err.capacity()), (6, 5));
    assert_eq!(FixedString::<5>::try_from("").unwrap(), "");
}

#[test]
fn string_pop_truncate_clear() {
    let mut s = fs::<16>("añ€😀");
    assert_eq!(s.pop(), Some('😀'));
    assert_eq!(s.pop(), Some('€'));
    assert_eq!(s, "añ");
    s.truncate(10); // longer: nothing
    assert_eq!(s, "añ");
    s.truncate(1);
    assert_eq!(s, "a");
    s.clear();
    assert!(s.is_empty());
    assert_eq!(s.pop(), None);
}

#[test]
#[should_panic(expected = "not a char boundary")]
fn string_truncate_inside_a_char_panics() {
    fs::<8>("é").truncate(1);
}

#[test]
fn string_deref_as_ref_and_bytes() {
    let s = fs::<16>("Hello, world");
    assert!(s.contains("world"));
    assert_eq!(s.to_uppercase(), "HELLO, WORLD");
    assert_eq!(s.as_bytes(), b"Hello, world");
    let r: &str = s.as_ref();
    let b: &[u8] = s.as_ref();
    assert_eq!((r, b), ("Hello, world", &b"Hello, world"[..]));
}

#[test]
fn string_display_and_debug_are_those_of_str() {
    let s = fs::<16>("a\"b\n\té");
    assert_eq!(format!("{s}"), format!("{}", "a\"b\n\té"));
    assert_eq!(format!("{s:?}"), format!("{:?}", "a\"b\n\té"));
    assert_eq!(format!("[{:>6}]", fs::<4>("ab")), "[    ab]");
}

#[test]
fn string_equality_both_ways_and_across_capacities() {
    let s = fs::<8>("abc");
    assert!(s == "abc");
    assert!("abc" == s);
    assert!(*"abc" == s);
    assert!(s == *"abc");
    assert!(s != "abd");
    assert!("ab" != s);
    assert_eq!(s, fs::<3>("abc"));
    assert_ne!(s, fs::<16>("abcd"));
}

#[test]
fn string_ordering_and_hash_equal_those_of_str() {
    let words = [
        "", "a", "ab", "b", "B", "é", "e\u{301}", "zz", "a\0", "😀", "€",
    ];
    for a in words {
        let fa = fs::<8>(a);
        assert_eq!(hash_of(&fa), hash_of(a), "{a:?}");
        for b in words {
            let fb = fs::<8>(b);
            assert_eq!(fa.cmp(&fb), a.cmp(b), "{a:?} vs {b:?}");
            assert_eq!(fa.partial_cmp(&fs::<12>(b)), a.partial_cmp(b));
            assert_eq!(fa == fb, a == b);
        }
    }
    let mut sorted: Vec<FixedString<8>> = words.iter().map(|w| fs(w)).collect();
    sorted.sort();
    let mut expected = words.to_vec();
    expected.sort();
    assert!(sorted.iter().zip(&expected).all(|(f, s)| f == s));
}

#[test]
fn string_keys_can_be_looked_up_by_str() {
    let mut ages: HashMap<FixedString<8>, u32> = HashMap::new();
    ages.insert(fs("ada"), 36);
    assert_eq!(ages.get("ada"), Some(&36));
    let set: HashSet<FixedString<4>> = ["x", "y", "x"].iter().map(|w| fs(w)).collect();
    assert_eq!(set.len(), 2);
    assert!(set.contains("y"));
}

#[test]
fn string_is_copy_and_clone() {
    let a = fs::<8>("copy");
    let b = a; // Copy
    #[allow(clippy::clone_on_copy)]
    let c = a.clone();
    assert_eq!((a, b), (c, c));
}

#[test]
fn string_fmt_write() {
    let mut s = FixedString::<8>::new();
    write!(s, "{}-{}", 12, 34).unwrap();
    assert_eq!(s, "12-34");
    let n = std::hint::black_box(567);
    assert!(write!(s, "-{n}").is_err());
    assert_eq!(s, "12-34-"); // pieces are all or nothing; earlier pieces stay
}

#[test]
fn capacity_error_is_an_error_with_a_message() {
    let err: CapacityError = FixedString::<2>::try_from("abc").unwrap_err();
    assert_eq!(
        err.to_string(),
        "capacity exceeded: 3 bytes needed, capacity is 2"
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert!(boxed.to_string().contains("capacity"));
    assert!(format!("{err:?}").starts_with("CapacityError"));
    assert_eq!(err.value(), &());
}

#[test]
fn string_fingerprint_depends_on_capacity() {
    assert_eq!(FixedString::<8>::FINGERPRINT, FixedString::<8>::FINGERPRINT);
    assert_ne!(FixedString::<8>::FINGERPRINT, FixedString::<9>::FINGERPRINT);
    assert_ne!(FixedString::<8>::FINGERPRINT, <[u8; 8]>::FINGERPRINT);
    assert_ne!(
        FixedString::<8>::FINGERPRINT,
        FixedVec::<u8, 8>::FINGERPRINT
    );
    assert_eq!(std::mem::size_of::<FixedString<8>>(), 12);
    assert_eq!(std::mem::align_of::<FixedString<8>>(), 4);
}

// ------------------------------------------------------------------- FixedVec

fn fv<const N: usize>(items: &[u32]) -> FixedVec<u32, N> {
    FixedVec::try_from_slice(items).unwrap()
}

#[test]
fn vec_new_len_capacity() {
    let v = FixedVec::<u32, 3>::new();
    assert!(v.is_empty() && !v.is_full());
    assert_eq!((v.len(), v.capacity()), (0, 3));
    assert_eq!(v, FixedVec::<u32, 3>::default());
    let z = FixedVec::<u32, 0>::new();
    assert!(z.is_empty() && z.is_full());
}

#[test]
fn vec_push_pop_and_capacity_error_gives_the_value_back() {
    let mut v = FixedVec::<u32, 2>::new();
    v.push(1);
    assert!(v.try_push(2).is_ok());
    assert!(v.is_full());
    let err = v.try_push(3).unwrap_err();
    assert_eq!((err.required(), err.capacity()), (3, 2));
    assert_eq!(
        err.to_string(),
        "capacity exceeded: 3 elements needed, capacity is 2"
    );
    assert_eq!(err.into_inner(), 3);
    assert_eq!(v, [1, 2]);
    assert_eq!(v.pop(), Some(2));
    assert_eq!(v.pop(), Some(1));
    assert_eq!(v.pop(), None);
    assert_eq!(
        FixedVec::<u32, 0>::new()
            .try_push(9)
            .unwrap_err()
            .into_inner(),
        9
    );
}

#[test]
#[should_panic(expected = "FixedVec<_, 1>::push: capacity exceeded")]
fn vec_push_panics_when_full() {
    let mut v = fv::<1>(&[1]);
    v.push(2);
}

#[test]
fn vec_insert_remove_swap_remove() {
    let mut v = fv::<5>(&[1, 3]);
    v.insert(1, 2);
    v.insert(3, 4); // at the end
    v.try_insert(0, 0).unwrap();
    assert_eq!(v, [0, 1, 2, 3, 4]);
    assert_eq!(v.try_insert(2, 9).unwrap_err().into_inner(), 9);
    assert_eq!(v, [0, 1, 2, 3, 4]);
    assert_eq!(v.remove(1), 1);
    assert_eq!(v, [0, 2, 3, 4]);
    assert_eq!(v.remove(3), 4);
    assert_eq!(v.swap_remove(0), 0);
    assert_eq!(v, [3, 2]);
    assert_eq!(v.swap_remove(1), 2);
    assert_eq!(v, [3]);
}

#[test]
#[should_panic(expected = "index 3 is out of bounds (len 2)")]
fn vec_insert_past_the_end_panics() {
    fv::<5>(&[1, 2]).insert(3, 0);
}

#[test]
#[should_panic(expected = "FixedVec<_, 2>::insert: capacity exceeded")]
fn vec_insert_when_full_panics() {
    fv::<2>(&[1, 2]).insert(0, 0);
}

#[test]
#[should_panic(expected = "index 2 is out of bounds (len 2)")]
fn vec_remove_out_of_bounds_panics() {
    fv::<5>(&[1, 2]).remove(2);
}

#[test]
#[should_panic(expected = "out of bounds")]
fn vec_swap_remove_out_of_bounds_panics() {
    FixedVec::<u32, 5>::new().swap_remove(0);
}

#[test]
fn vec_truncate_clear() {
    let mut v = fv::<4>(&[1, 2, 3]);
    v.truncate(5);
    assert_eq!(v.len(), 3);
    v.truncate(1);
    assert_eq!(v, [1]);
    v.clear();
    assert!(v.is_empty());
}

#[test]
fn vec_slices_and_deref() {
    let mut v = fv::<4>(&[3, 1, 2]);
    v.sort(); // through DerefMut
    assert_eq!(v.as_slice(), &[1, 2, 3]);
    v.as_mut_slice()[0] = 10;
    v[1] = 20;
    assert_eq!(v.iter().sum::<u32>(), 33);
    assert_eq!(&v[1..], &[20, 3]);
    let r: &[u32] = v.as_ref();
    assert_eq!(r.len(), 3);
    let m: &mut [u32] = v.as_mut();
    m[2] = 30;
    assert_eq!(v, [10, 20, 30]);
}

#[test]
fn vec_iteration() {
    let mut v = fv::<4>(&[1, 2, 3]);
    let mut seen = vec![];
    for x in &v {
        seen.push(*x);
    }
    for x in &mut v {
        *x *= 10;
    }
    assert_eq!(seen, [1, 2, 3]);
    assert_eq!(v.iter().copied().collect::<Vec<_>>(), [10, 20, 30]);
    let mut it = v.into_iter();
    assert_eq!(it.size_hint(), (3, Some(3)));
    assert_eq!(it.next_back(), Some(30));
    assert_eq!(it.as_slice(), &[10, 20]);
    assert_eq!(format!("{it:?}"), "IntoIter([10, 20])");
    assert_eq!(it.len(), 2);
    assert_eq!(it.collect::<Vec<_>>(), [10, 20]);
}

#[test]
fn vec_from_slice_and_extend() {
    let v = FixedVec::<u32, 3>::try_from_slice(&[1, 2, 3]).unwrap();
    assert_eq!(v, [1, 2, 3]);
    let err = FixedVec::<u32, 3>::try_from_slice(&[1, 2, 3, 4]).unwrap_err();
    assert_eq!((err.required(), err.capacity()), (4, 3));
    let v: FixedVec<u32, 3> = (&[7u32][..]).try_into().unwrap();
    assert_eq!(v, [7]);
    let mut v = fv::<3>(&[1]);
    assert!(v.try_extend_from_slice(&[2, 3, 4]).is_err());
    assert_eq!(v, [1]); // unchanged
    v.try_extend_from_slice(&[2, 3]).unwrap();
    assert_eq!(v, [1, 2, 3]);
}

#[test]
fn vec_debug_eq_ord_hash_clone_copy() {
    let v = fv::<4>(&[1, 2]);
    assert_eq!(format!("{v:?}"), "[1, 2]");
    assert_eq!(v, fv::<8>(&[1, 2]));
    assert_ne!(v, fv::<4>(&[1, 2, 3]));
    assert!(v == [1, 2][..]);
    #[allow(clippy::op_ref)] // the `PartialEq<&[U]>` impl is under test
    let equal_to_ref = v == &[1, 2][..];
    assert!(equal_to_ref);
    assert!(fv::<4>(&[1, 2]) < fv::<4>(&[1, 3]));
    assert!(fv::<4>(&[1]) < fv::<4>(&[1, 0]));
    assert_eq!(hash_of(&v), hash_of(&[1u32, 2][..]));
    let copy = v;
    #[allow(clippy::clone_on_copy)]
    let clone = v.clone();
    assert_eq!(copy, clone);
}

#[test]
fn vec_of_atomics_is_shared_through_a_shared_reference() {
    let mut v = FixedVec::<AtomicU32, 4>::new();
    for i in 0..3 {
        v.push(AtomicU32::new(i));
    }
    let shared: &FixedVec<AtomicU32, 4> = &v;
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..1000 {
                    shared[1].fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(v[1].load(Ordering::Relaxed), 4001);
    let removed = v.remove(0);
    assert_eq!(removed.into_inner(), 0);
    assert_eq!(v.pop().unwrap().into_inner(), 2);
    assert_eq!(format!("{v:?}"), "[4001]");
    let values: Vec<u32> = v.into_iter().map(AtomicU32::into_inner).collect();
    assert_eq!(values, [4001]);
}

#[test]
fn vec_of_fixed_strings() {
    let mut names = FixedVec::<FixedString<8>, 2>::new();
    names.push(fs("ada"));
    names.push(fs("grace"));
    assert!(names.iter().any(|n| n == "grace"));
    assert_eq!(format!("{names:?}"), r#"["ada", "grace"]"#);
}

#[test]
fn vec_fingerprint_depends_on_element_and_capacity() {
    let fp = FixedVec::<u32, 4>::FINGERPRINT;
    assert_eq!(fp, FixedVec::<u32, 4>::FINGERPRINT);
    assert_ne!(fp, FixedVec::<u32, 5>::FINGERPRINT);
    assert_ne!(fp, FixedVec::<i32, 4>::FINGERPRINT);
    assert_ne!(fp, FixedVec::<AtomicU32, 4>::FINGERPRINT);
    assert_ne!(fp, <[u32; 4]>::FINGERPRINT);
}

// --------------------------------------------------------------------- RelPtr

#[derive(SharedSafe)]
#[repr(C)]
struct Node {
    value: AtomicU64,
    next: RelPtr<Node>,
}

impl Node {
    fn new(value: u64) -> Node {
        Node {
            value: AtomicU64::new(value),
            next: RelPtr::null(),
        }
    }
}

#[test]
fn rel_ptr_null_set_get() {
    let pool = [10u32, 20, 30];
    let p = RelPtr::<u32>::null();
    assert!(p.is_null());
    assert_eq!(p.offset(), None);
    assert_eq!(p.get_in(&pool), None);
    assert_eq!(format!("{p:?}"), "RelPtr(null)");
    for (i, value) in pool.iter().enumerate() {
        p.set(value);
        assert!(!p.is_null());
        assert_eq!(p.index_in(&pool), Some(i));
        assert!(std::ptr::eq(p.get_in(&pool).unwrap(), value));
        // SAFETY: `p` points at an element of `pool`, alive and unchanged.
        assert_eq!(unsafe { p.get() }, Some(value));
    }
    p.set_null();
    assert!(p.is_null());
    // SAFETY: null: nothing is dereferenced.
    assert_eq!(unsafe { p.get() }, None);
    assert!(RelPtr::<u32>::default().is_null());
}

#[test]
fn rel_ptr_can_point_at_itself() {
    let node = Node::new(7);
    node.next.set(&node); // `next` is at offset 8 of the node
    assert_eq!(node.next.offset(), Some(-8));
    assert_eq!(format!("{:?}", node.next), "RelPtr(-8)");
    let only = std::slice::from_ref(&node);
    let mut link = &node.next;
    for _ in 0..3 {
        let next = link.get_in(only).unwrap();
        assert!(std::ptr::eq(next, &node));
        link = &next.next;
    }

    #[derive(SharedSafe)]
    #[repr(C)]
    struct Head {
        first: RelPtr<Head>,
    }
    let head = Head {
        first: RelPtr::null(),
    };
    head.first.set(&head); // distance 0: representable, not null
    assert!(!head.first.is_null());
    assert_eq!(head.first.offset(), Some(0));
    assert!(std::ptr::eq(
        head.first.get_in(std::slice::from_ref(&head)).unwrap(),
        &head
    ));
}

#[test]
fn rel_ptr_outside_the_pool_is_refused() {
    let pool = [[0u8; 2]; 4];
    let p = RelPtr::<[u8; 2]>::null();
    p.set(&pool[3]);
    assert_eq!(p.index_in(&pool), Some(3));
    assert_eq!(p.get_in(&pool[..3]), None); // one past the end of the sub-pool
    assert_eq!(p.get_in(&pool[..0]), None);
    p.set(&pool[0]);
    assert_eq!(p.get_in(&pool[1..]), None); // before the pool
                                            // Between two elements: a `[u8; 2]` made of the halves of two elements.
    let bytes: &[u8; 8] = bytemuck::cast_ref(&pool);
    let straddling: &[u8; 2] = bytes[1..3].try_into().unwrap();
    p.set(straddling);
    assert_eq!(p.index_in(&pool), None);
    let elsewhere = [0u8; 2];
    p.set(&elsewhere);
    assert_eq!(p.get_in(&pool), None);
}

#[test]
fn rel_ptr_in_bytes_checks_bounds_and_alignment() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Table {
        link: RelPtr<u32>,
        values: [u32; 4],
    }
    let table = Table {
        link: RelPtr::null(),
        values: [10, 20, 30, 40],
    };
    // SAFETY: `Table` is 24 bytes without padding. Each slice is made after
    // the last `set` (an atomic store) it observes, and dropped before the next.
    let bytes = || unsafe { std::slice::from_raw_parts(&table as *const Table as *const u8, 24) };
    assert_eq!(table.link.get_in_bytes(bytes()), None); // null
    table.link.set(&table.values[3]);
    assert_eq!(table.link.get_in_bytes(bytes()), Some(&40));
    assert_eq!(table.link.get_in_bytes(&bytes()[..23]), None); // last byte outside
    assert_eq!(table.link.get_in_bytes(&bytes()[21..]), None); // region starts after the target
    assert_eq!(table.link.get_in_bytes(&bytes()[20..]), Some(&40));
}

/// A `RelPtr<u32>` at offset 0 of 32 bytes whose offset field holds what a
/// buggy or foreign process wrote there.
///
/// The bytes sit in an `UnsafeCell`: a `RelPtr` is an atomic (an
/// `UnsafeCell` itself), and a reference to one may only be made from memory
/// that allows interior mutability, as shared memory does. Made from a
/// `&[u8; 32]`, which promises that its bytes never change, it would be
/// undefined behaviour (Miri flags it), even if nothing is ever stored.
#[repr(C, align(8))]
struct Corrupt(UnsafeCell<[u8; 32]>);

impl Corrupt {
    fn new(stored: i64) -> Corrupt {
        let mut bytes = [0; 32];
        bytes[..8].copy_from_slice(&stored.to_ne_bytes());
        bytes[12..16].copy_from_slice(&0xABCD_u32.to_ne_bytes());
        Corrupt(UnsafeCell::new(bytes))
    }

    /// The 32 bytes, as a process reading the segment as plain bytes sees
    /// them.
    fn bytes(&self) -> &[u8; 32] {
        // SAFETY: nothing writes to the cell while `self` is borrowed: the
        // tests only load from the `RelPtr` view of it.
        unsafe { &*self.0.get() }
    }

    fn rel_ptr(&self) -> &RelPtr<u32> {
        // SAFETY: a `RelPtr` is an `AtomicI64`, valid with any 8 bytes; the
        // buffer is 8-aligned; the pointer comes from the `UnsafeCell`, so
        // the `RelPtr`'s own interior mutability is allowed (and unused: it
        // is only loaded from while the bytes are borrowed).
        unsafe { &*self.0.get().cast::<RelPtr<u32>>() }
    }
}

#[test]
fn rel_ptr_with_a_corrupt_offset_never_resolves_outside_its_bounds() {
    let ok = Corrupt::new(12 - 1); // target: bytes 12..16
    assert_eq!(ok.rel_ptr().offset(), Some(12));
    assert_eq!(ok.rel_ptr().get_in_bytes(ok.bytes()), Some(&0xABCD));
    assert_eq!(ok.rel_ptr().get_in_bytes(&ok.bytes()[..15]), None);

    let misaligned = Corrupt::new(10 - 1); // bytes 10..14: inside, misaligned
    assert_eq!(misaligned.rel_ptr().get_in_bytes(misaligned.bytes()), None);

    let pool = [1u32, 2, 3];
    for stored in [i64::MIN, i64::MAX, -1, 1, 1 << 40, -(1 << 40), 28, 29, 32] {
        let bad = Corrupt::new(stored);
        let p = bad.rel_ptr();
        assert!(!p.is_null());
        assert_eq!(p.get_in(&pool), None, "{stored}");
        if stored != -1 {
            // -1 points at the RelPtr itself: bytes 0..4, inside the region.
            assert_eq!(p.get_in_bytes(bad.bytes()), None, "{stored}");
        }
    }
}

#[test]
fn rel_ptr_fingerprint_depends_on_the_target_layout_and_allows_recursion() {
    assert_ne!(RelPtr::<u32>::FINGERPRINT, RelPtr::<u64>::FINGERPRINT);
    assert_ne!(RelPtr::<u32>::FINGERPRINT, AtomicU64::FINGERPRINT);
    assert_ne!(RelPtr::<u32>::FINGERPRINT, i64::FINGERPRINT);
    assert_eq!(RelPtr::<Node>::FINGERPRINT, RelPtr::<Node>::FINGERPRINT);
    assert_ne!(Node::FINGERPRINT, RelPtr::<Node>::FINGERPRINT);
    assert_eq!(std::mem::size_of::<RelPtr<Node>>(), 8);
}

/// Two views of one memfd at different addresses.
#[cfg(target_os = "linux")]
struct TwoViews {
    fd: libc::c_int,
    len: usize,
    a: *mut u8,
    b: *mut u8,
}

#[cfg(target_os = "linux")]
impl TwoViews {
    fn new(len: usize) -> TwoViews {
        // SAFETY: plain system calls with valid arguments; every result is
        // checked before use.
        unsafe {
            let fd = libc::memfd_create(c"rel-ptr-test".as_ptr(), libc::MFD_CLOEXEC);
            assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
            assert_eq!(libc::ftruncate(fd, len as libc::off_t), 0);
            let map = || {
                let p = libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    fd,
                    0,
                );
                assert_ne!(p, libc::MAP_FAILED, "{}", std::io::Error::last_os_error());
                p.cast::<u8>()
            };
            let (a, b) = (map(), map());
            assert_ne!(a, b);
            TwoViews { fd, len, a, b }
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for TwoViews {
    fn drop(&mut self) {
        // SAFETY: both mappings and the fd were created in `new`, and no
        // reference into them outlives the test that owns `self`.
        unsafe {
            libc::munmap(self.a.cast(), self.len);
            libc::munmap(self.b.cast(), self.len);
            libc::close(self.fd);
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "maps a memfd twice")]
fn rel_ptr_resolves_to_the_same_target_through_two_mappings() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Arena {
        head: RelPtr<Node>,
        nodes: [Node; 8],
    }

    let views = TwoViews::new(4096);
    assert!(std::mem::size_of::<Arena>() <= 4096);
    // SAFETY: each view is page-aligned and 4096 bytes long, more than an
    // `Arena`; the memory is zero-filled, and all-zero bytes are a valid
    // `Arena` (atomics at 0, null `RelPtr`s); it is only mutated through
    // atomics, which both views see as the same memory.
    let (a, b) = unsafe { (&*views.a.cast::<Arena>(), &*views.b.cast::<Arena>()) };
    assert!(b.head.is_null());

    // Build head -> 3 -> 5 -> 0 through view A.
    for (i, node) in a.nodes.iter().enumerate() {
        node.value.store(100 + i as u64, Ordering::Relaxed);
    }
    a.head.set(&a.nodes[3]);
    a.nodes[3].next.set(&a.nodes[5]);
    a.nodes[5].next.set(&a.nodes[0]);

    // Follow it through view B: the same logical nodes, at B's addresses.
    let walk = |arena: &Arena| {
        let mut seen = vec![];
        let mut link = &arena.head;
        while let Some(node) = link.get_in(&arena.nodes) {
            let index = link.index_in(&arena.nodes).unwrap();
            assert!(std::ptr::eq(node, &arena.nodes[index]));
            seen.push((index, node.value.load(Ordering::Relaxed)));
            link = &node.next;
        }
        seen
    };
    assert_eq!(walk(b), [(3, 103), (5, 105), (0, 100)]);
    assert!(std::ptr::eq(b.head.get_in(&b.nodes).unwrap(), &b.nodes[3]));
    // SAFETY: `b.head` was set to a node of the same arena, which stays mapped
    // while `views` lives.
    let first = unsafe { b.head.get() }.unwrap();
    assert!(std::ptr::eq(first, &b.nodes[3]));

    // A RelPtr of one view never resolves into the other view's pool.
    assert!(b.head.get_in(&a.nodes).is_none());
    assert!(a.head.get_in(&b.nodes).is_none());

    // And the other way round: set through B, read through A.
    b.nodes[0].next.set(&b.nodes[7]);
    b.nodes[7].value.store(777, Ordering::Relaxed);
    assert_eq!(walk(a), [(3, 103), (5, 105), (0, 100), (7, 777)]);
    b.head.set_null();
    assert!(walk(a).is_empty());
}

// ------------------------------------------------------------------- PodField

/// Stands for a foreign type (a math library's vector), which could not
/// implement `SharedSafe` here if it really were in another crate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
struct Vec3 {
    x: f32,
    y: f32,
    z: f32,
}
// SAFETY: three `f32`s in `repr(C)`: no padding, every bit pattern valid.
unsafe impl bytemuck::Zeroable for Vec3 {}
// SAFETY: as above; `Copy + 'static`, no interior mutability.
unsafe impl bytemuck::Pod for Vec3 {}

#[derive(SharedSafe)]
#[repr(C)]
struct Body {
    name: FixedString<12>,
    position: PodField<Vec3>,
    velocity: PodField<Vec3>,
    steps: AtomicU32,
}

#[test]
fn pod_field_in_a_derived_struct() {
    let mut body = Body {
        name: fs("probe"),
        position: PodField::new(Vec3::default()),
        velocity: Vec3 {
            x: 1.0,
            y: 0.5,
            z: 0.0,
        }
        .into(),
        steps: AtomicU32::new(0),
    };
    for _ in 0..2 {
        let v = body.velocity.get();
        body.position.x += v.x; // DerefMut
        body.position.y += v.y;
        body.steps.fetch_add(1, Ordering::Relaxed);
    }
    assert_eq!(
        *body.position,
        Vec3 {
            x: 2.0,
            y: 1.0,
            z: 0.0
        }
    );
    body.velocity.set(Vec3::default());
    assert_eq!(body.velocity.into_inner(), Vec3::default());
    assert_eq!(
        format!("{:?}", body.position),
        "Vec3 { x: 2.0, y: 1.0, z: 0.0 }"
    );
    assert_eq!(std::mem::size_of::<PodField<Vec3>>(), 12);
    assert_ne!(Body::FINGERPRINT, u64::FINGERPRINT);
}

#[test]
fn pod_field_fingerprint_sees_size_and_alignment_only() {
    assert_ne!(PodField::<u32>::FINGERPRINT, PodField::<u64>::FINGERPRINT);
    assert_ne!(
        PodField::<[u8; 4]>::FINGERPRINT,
        PodField::<u32>::FINGERPRINT
    ); // align
    assert_ne!(PodField::<u32>::FINGERPRINT, u32::FINGERPRINT);
    // The documented limit: a foreign type is opaque.
    assert_eq!(
        PodField::<Vec3>::FINGERPRINT,
        PodField::<[f32; 3]>::FINGERPRINT
    );
}

// --------------------------------------------------- all together, and layout

#[test]
fn a_derived_struct_fingerprint_follows_the_capacities() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct A {
        name: FixedString<16>,
        items: FixedVec<u32, 4>,
    }
    #[derive(SharedSafe)]
    #[repr(C)]
    struct B {
        name: FixedString<17>,
        items: FixedVec<u32, 4>,
    }
    #[derive(SharedSafe)]
    #[repr(C)]
    struct C {
        name: FixedString<16>,
        items: FixedVec<u32, 5>,
    }
    // Same field names and types as `A`, in the same module: same fingerprint.
    mod again {
        use shm_runtime::{FixedString, FixedVec, SharedSafe};
        #[derive(SharedSafe)]
        #[repr(C)]
        pub struct A {
            name: FixedString<16>,
            items: FixedVec<u32, 4>,
        }
    }
    assert_eq!(A::FINGERPRINT, again::A::FINGERPRINT);
    assert_ne!(A::FINGERPRINT, B::FINGERPRINT);
    assert_ne!(A::FINGERPRINT, C::FINGERPRINT);
}

#[test]
fn retain_keeps_order_and_works_for_atomics() {
    let mut v = FixedVec::<AtomicU32, 8>::new();
    for i in 0..8 {
        v.push(AtomicU32::new(i));
    }
    v.retain(|x| x.load(Ordering::Relaxed) % 3 != 0);
    let left: Vec<u32> = v.iter().map(|x| x.load(Ordering::Relaxed)).collect();
    assert_eq!(left, [1, 2, 4, 5, 7]);
    v.retain(|_| false);
    assert!(v.is_empty());
}
