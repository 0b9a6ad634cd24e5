// Rule 2: tuples are `repr(Rust)`: their layout is not fixed.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Point {
    xy: (f64, f64),
}

fn main() {}
