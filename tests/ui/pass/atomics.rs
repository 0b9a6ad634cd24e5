// Atomics (but not `AtomicPtr`) and arrays of them are process-safe.
use shm_runtime::SharedSafe;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize};

#[derive(SharedSafe)]
#[repr(C)]
struct Stats {
    ready: AtomicBool,
    generation: AtomicU32,
    balance: AtomicI64,
    histogram: [AtomicU64; 16],
    grid: [[AtomicUsize; 4]; 4],
}

fn main() {
    let _ = Stats::FINGERPRINT;
}
