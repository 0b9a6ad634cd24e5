// Unit structs and tuple structs are accepted; tuple fields are named `0`,
// `1`, ... in the fingerprint.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Marker;

#[derive(SharedSafe)]
#[repr(C)]
struct Empty {}

#[derive(SharedSafe)]
#[repr(C)]
struct Rgb(u8, u8, u8);

fn main() {
    assert_eq!(core::mem::size_of::<Marker>(), 0);
    assert_ne!(Marker::FINGERPRINT, Rgb::FINGERPRINT);
    let _ = Empty::FINGERPRINT;
}
