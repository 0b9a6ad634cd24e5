// A field's type rewritten after the derive saw `[usize; 2]` (laid out as a `&str` is, on every target): a reference
// would reach another process. The derive's checks see the final type.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::retype_first_field;

#[derive(SharedSafe)]
#[retype_first_field]
#[repr(C)]
struct Message {
    words: [usize; 2],
}

fn main() {}
