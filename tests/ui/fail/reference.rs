// Rule 1: a reference is an address valid in one process only.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Config {
    name: &'static str,
}

fn main() {}
