// The constructor that `field!` expands to trusts its offset, so it is
// `unsafe`: safe code cannot name the high half of an `AtomicU64` as a
// proven `AtomicU32` field.
use shm_runtime::volatile::Field;
use shm_runtime::SharedSafe;
use std::sync::atomic::{AtomicU32, AtomicU64};

#[derive(SharedSafe)]
#[repr(C)]
struct Stats {
    ticks: AtomicU64,
}

static OTHER: AtomicU32 = AtomicU32::new(0);

fn main() {
    let _half = Field::<Stats, AtomicU32>::__named(4, |_| &OTHER);
}
