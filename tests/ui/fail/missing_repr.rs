// Rule 2: without `#[repr(C)]` the compiler may lay out fields differently
// in each program.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
