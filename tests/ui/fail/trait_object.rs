// Rule 1: a trait object carries a vtable pointer valid in one process only.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Plugin {
    handler: Box<dyn Fn(u32) -> u32>,
}

fn main() {}
