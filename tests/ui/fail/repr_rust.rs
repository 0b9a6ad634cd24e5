// Rule 2: an explicit `repr(Rust)` is the unstable default layout.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(Rust)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
