// Rule 4: `std::sync::Mutex` waits on a process-private futex: it never wakes
// a waiter in another process.
use shm_runtime::SharedSafe;
use std::sync::Mutex;

#[derive(SharedSafe)]
#[repr(C)]
struct Jobs {
    next: Mutex<u64>,
}

fn main() {}
