//! The derive in one screen: a telemetry block that may live in shared memory.
use shm_runtime::SharedSafe;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(SharedSafe)]
#[repr(C, align(64))]
struct Telemetry {
    requests: AtomicU64,
    errors: AtomicU64,
    latency_buckets: [AtomicU64; 8],
}

fn main() {
    let t = Telemetry {
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        latency_buckets: Default::default(),
    };
    t.requests.fetch_add(1, Ordering::Relaxed);
    println!(
        "Telemetry: {} bytes, fingerprint {}, requests {}",
        std::mem::size_of::<Telemetry>(),
        Telemetry::FINGERPRINT,
        t.requests.load(Ordering::Relaxed)
    );
}
