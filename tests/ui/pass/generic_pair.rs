// A generic struct is `SharedSafe` exactly when its field types are.
use shm_runtime::SharedSafe;
use std::sync::atomic::AtomicU32;

#[derive(SharedSafe)]
#[repr(C)]
struct Pair<T> {
    a: T,
    b: T,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Ring<T, const N: usize> {
    head: AtomicU32,
    slots: [T; N],
}

// Bounds and a where clause (with its trailing comma) are kept on the impl.
#[derive(SharedSafe)]
#[repr(C)]
struct Bounded<T: Copy, const N: usize>
where
    T: Default,
{
    items: [T; N],
    len: u32,
}

fn require<T: SharedSafe>() {}

fn main() {
    require::<Pair<u32>>();
    require::<Pair<[u8; 3]>>();
    require::<Pair<Pair<f64>>>();
    require::<Ring<u64, 8>>();
    require::<Bounded<u16, 4>>();
    assert_ne!(Pair::<u32>::FINGERPRINT, Pair::<u64>::FINGERPRINT);
}
