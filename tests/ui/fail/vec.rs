// Rule 1: `Vec<T>` keeps its elements on one process's heap.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Queue {
    jobs: Vec<u64>,
}

fn main() {}
