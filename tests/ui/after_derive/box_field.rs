// A field wrapped in a `Box` after the derive saw `[u64; 2]`: a `&Box<T>`
// dereferences to `&T`, so a check that allowed coercions would pass.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::box_first_field;

#[derive(SharedSafe)]
#[box_first_field]
#[repr(C)]
struct Message {
    words: [u64; 2],
}

fn main() {}
