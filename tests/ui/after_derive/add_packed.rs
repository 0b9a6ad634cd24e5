// `repr(packed)` added after the derive checked the repr.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::add_packed;

#[derive(SharedSafe)]
#[add_packed]
#[repr(C)]
struct Message {
    tag: u8,
    value: u64,
}

fn main() {}
