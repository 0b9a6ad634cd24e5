// `repr(transparent)` has the layout of its one non-zero-sized field.
use core::marker::PhantomData;
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(transparent)]
struct Meters(f64);

#[derive(SharedSafe)]
#[repr(transparent)]
struct Id<T: 'static> {
    raw: u64,
    kind: PhantomData<T>,
}

struct User;

fn main() {
    let _ = Meters::FINGERPRINT;
    let _ = Id::<User>::FINGERPRINT;
}
