// `field!` names a field by its own type: a `Deref` of the field's type
// cannot make it a field of the deref target (a plain `u64` read over two
// `AtomicU32`s would be a data race in a monitor).
use shm_runtime::volatile::Field;
use shm_runtime::{field, SharedSafe};
use std::ops::Deref;
use std::sync::atomic::{AtomicU32, AtomicU64};

#[derive(SharedSafe)]
#[repr(C)]
struct Halves {
    lo: AtomicU32,
    hi: AtomicU32,
}

static ELSEWHERE: u64 = 0;

impl Deref for Halves {
    type Target = u64;
    fn deref(&self) -> &u64 {
        &ELSEWHERE
    }
}

#[derive(SharedSafe)]
#[repr(C)]
struct Stats {
    halves: Halves,
    ticks: AtomicU64,
}

fn main() {
    let _plain: Field<Stats, u64> = field!(Stats, halves);
}
