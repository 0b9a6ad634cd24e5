// Rule 1: a type alias cannot hide a pointer; the field's *type* is checked,
// not its spelling, so the error still points at the field (with the general
// message, since the derive cannot see through the alias).
use shm_runtime::SharedSafe;

type Handle = *const u8;

#[derive(SharedSafe)]
#[repr(C)]
struct Table {
    rows: u32,
    data: Handle,
}

fn main() {}
