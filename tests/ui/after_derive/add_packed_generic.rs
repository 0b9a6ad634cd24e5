// `repr(packed)` added to a generic struct: checked where it is used.
use shm_runtime::{Shared, SharedSafe};
use shm_test_attr_macros::add_packed;

#[derive(SharedSafe)]
#[add_packed]
#[repr(C)]
struct Pair<T> {
    tag: u8,
    value: T,
}

fn main() {
    let _ = Shared::anonymous(Pair { tag: 1, value: 2u64 });
}
