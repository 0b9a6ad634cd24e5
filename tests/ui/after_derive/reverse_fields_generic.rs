// Fields of a generic struct reordered after the derive: its layout is
// checked for each instantiation that reaches shared memory (here
// `Shared::anonymous`), since the offsets depend on `T`.
use shm_runtime::{Shared, SharedSafe};
use shm_test_attr_macros::reverse_fields;

#[derive(SharedSafe)]
#[reverse_fields]
#[repr(C)]
struct Tagged<T> {
    tag: u8,
    value: T,
}

fn main() {
    let _ = Shared::anonymous(Tagged { tag: 1, value: 2u64 });
}
