// The derive picks a tailored message from a field type's *name*, but what it
// requires is always `SharedSafe`: a user type that happens to be called
// `Cell` or `Box` is accepted when it derives `SharedSafe`. A type with drop
// glue in its fields but no `Drop` impl of its own is not mistaken for one.
use shm_runtime::SharedSafe;

mod grid {
    use shm_runtime::SharedSafe;

    #[derive(SharedSafe)]
    #[repr(C)]
    pub struct Cell {
        pub value: u32,
    }

    #[derive(SharedSafe)]
    #[repr(C)]
    pub struct Box {
        pub cells: [Cell; 4],
    }
}

#[derive(SharedSafe)]
#[repr(C)]
struct Board {
    corner: grid::Cell,
    area: grid::Box,
}

fn main() {
    let _ = Board::FINGERPRINT;
}
