// The enum's repr widened after the derive read it.
use shm_runtime::SharedSafe;
use shm_test_attr_macros::widen_repr;

#[derive(SharedSafe)]
#[widen_repr]
#[repr(u8)]
enum Mode {
    Idle,
    Busy,
}

fn main() {}
