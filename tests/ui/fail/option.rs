// Rule 2: `Option<T>` has no layout that separately compiled programs agree on.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Slot {
    value: Option<u64>,
}

fn main() {}
