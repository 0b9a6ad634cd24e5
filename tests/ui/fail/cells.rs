// Rule 4: `Cell`, `RefCell` and `UnsafeCell` allow mutation through `&T`
// without any synchronization between processes.
use shm_runtime::SharedSafe;
use std::cell::{Cell, RefCell, UnsafeCell};

#[derive(SharedSafe)]
#[repr(C)]
struct Counters {
    a: Cell<u64>,
    b: RefCell<u64>,
    c: UnsafeCell<u64>,
}

fn main() {}
