// A field added after the derive listed the fields.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::add_field;

#[derive(SharedSafe)]
#[add_field]
#[repr(C)]
struct Message {
    words: [u64; 2],
}

fn main() {}
