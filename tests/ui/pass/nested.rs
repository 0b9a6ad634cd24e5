// Derived structs nest: a field may be any `SharedSafe` type, arrays included.
use shm_runtime::SharedSafe;
use std::sync::atomic::AtomicU64;

#[derive(SharedSafe)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Segment {
    from: Point,
    to: Point,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Drawing {
    count: AtomicU64,
    segments: [Segment; 4],
}

fn main() {
    let _ = Drawing::FINGERPRINT;
}
