// Rule 1: `AtomicPtr<T>` is an atomic, but of an address valid in one process only.
use shm_runtime::SharedSafe;
use std::sync::atomic::AtomicPtr;

#[derive(SharedSafe)]
#[repr(C)]
struct Stack {
    head: AtomicPtr<u64>,
}

fn main() {}
