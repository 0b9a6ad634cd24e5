// `repr(align(64))` added after the derive computed the size and alignment.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::add_align;

#[derive(SharedSafe)]
#[add_align]
#[repr(C)]
struct Message {
    value: u64,
}

fn main() {}
