// Rule 1: `String` keeps its text on one process's heap.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct User {
    id: u32,
    name: String,
}

fn main() {}
