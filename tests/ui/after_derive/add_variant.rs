// A variant added after the derive listed the discriminants.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::add_variant;

#[derive(SharedSafe)]
#[add_variant]
#[repr(u8)]
enum Mode {
    Idle,
    Busy,
}

fn main() {}
