// Rule 1: a lifetime parameter means the type borrows memory of one process.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct View<'a> {
    bytes: &'a [u8; 16],
}

fn main() {}
