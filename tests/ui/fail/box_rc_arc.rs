// Rule 1: `Box`, `Rc` and `Arc` point into one process's heap.
use shm_runtime::SharedSafe;
use std::rc::Rc;
use std::sync::Arc;

#[derive(SharedSafe)]
#[repr(C)]
struct Owners {
    boxed: Box<u64>,
    counted: Rc<u64>,
    shared: Arc<u64>,
}

fn main() {}
