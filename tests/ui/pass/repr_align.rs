// `repr(C, align(N))` is accepted, e.g. to keep a hot counter on its own
// cache line; the alignment is part of the fingerprint.
use shm_runtime::SharedSafe;
use std::sync::atomic::AtomicU64;

#[derive(SharedSafe)]
#[repr(C, align(64))]
struct CacheLine {
    counter: AtomicU64,
}

fn main() {
    assert_eq!(core::mem::align_of::<CacheLine>(), 64);
    let _ = CacheLine::FINGERPRINT;
}
