// Fields reordered after the derive: same names and types, other offsets.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::reverse_fields;

#[derive(SharedSafe)]
#[reverse_fields]
#[repr(C)]
struct Message {
    tag: u8,
    value: u64,
}

fn main() {}
