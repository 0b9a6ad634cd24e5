// Rule 3: a shared value is never dropped (no process owns it), so a type
// with a `Drop` impl is refused rather than having its `drop` silently skipped.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Lease {
    holder: u32,
}

impl Drop for Lease {
    fn drop(&mut self) {}
}

fn main() {}
