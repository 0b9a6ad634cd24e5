// Rule 1: `NonNull<T>` is a raw pointer that is never null: still an address.
use core::ptr::NonNull;
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Slot {
    data: NonNull<u64>,
}

fn main() {}
