// The repr may be spelled `r#repr`, split over several attributes, or
// combined in one list; the derive reads them all.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[r#repr(C)]
struct Raw {
    a: u32,
}

#[derive(SharedSafe)]
#[repr(C)]
#[repr(align(16))]
struct Split {
    a: u32,
}

#[derive(SharedSafe)]
#[repr(C, align(16))]
struct Combined {
    a: u32,
}

#[derive(SharedSafe)]
#[repr(align(8))]
#[repr(u16)]
enum Kind {
    A,
    B,
}

fn main() {
    assert_eq!(core::mem::align_of::<Split>(), 16);
    // Split over two attributes or in one list: the same layout, the same
    // fingerprint (the type's name is not part of it).
    assert_eq!(Split::FINGERPRINT, Combined::FINGERPRINT);
    let _ = (Raw::FINGERPRINT, Kind::A, Kind::B, Kind::FINGERPRINT);
}
