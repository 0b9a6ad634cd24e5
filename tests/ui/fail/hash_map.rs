// Rule 1: a `HashMap` keeps its entries on one process's heap.
use shm_runtime::SharedSafe;
use std::collections::HashMap;

#[derive(SharedSafe)]
#[repr(C)]
struct Index {
    by_id: HashMap<u32, u64>,
}

fn main() {}
