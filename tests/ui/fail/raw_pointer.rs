// Rule 1: a raw pointer is an address valid in one process only.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Node {
    value: u64,
    next: *mut Node,
}

fn main() {}
