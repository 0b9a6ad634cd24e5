//! The header's "published by link" flag (bit 1 of the flags word at offset
//! 216, format 4): set exactly when a segment got its name only once it was
//! ready, which is what lets an opener read the whole header in one `pread`.
//! One test in this binary: it switches the process-wide in-place hook.

#![cfg(target_os = "linux")]

use shm_runtime::segment::Segment;

const FLAGS_AT: usize = 216;
const FLAG_TIED: u32 = 1;
const FLAG_LINKED: u32 = 2;

/// The flags word of the POSIX object `name`, read from its tmpfs file.
fn flags_of(name: &str) -> u32 {
    let bytes = std::fs::read(format!("/dev/shm{name}")).unwrap();
    u32::from_ne_bytes(bytes[FLAGS_AT..FLAGS_AT + 4].try_into().unwrap())
}

#[test]
#[cfg_attr(miri, ignore = "maps segments")]
fn the_linked_flag_says_how_the_segment_was_published() {
    let linked = format!("/shmrt-flags-linked-{}", std::process::id());
    let in_place = format!("/shmrt-flags-in-place-{}", std::process::id());
    let a = Segment::posix(&linked)
        .remove_on_drop(true)
        .create(7u64)
        .unwrap();
    assert_eq!(flags_of(&linked), FLAG_TIED | FLAG_LINKED);

    shm_runtime::__private::publish_in_place(true);
    let made = Segment::posix(&in_place).remove_on_drop(true).create(9u64);
    shm_runtime::__private::publish_in_place(false);
    let b = made.unwrap();
    assert_eq!(flags_of(&in_place), FLAG_TIED, "named before it was ready");

    // Both open, by their one-read and two-read paths, with the same checks.
    assert_eq!(*Segment::posix(&linked).open::<u64>().unwrap(), 7);
    assert_eq!(*Segment::posix(&in_place).open::<u64>().unwrap(), 9);
    let wrong = Segment::posix(&linked).open::<u32>().unwrap_err();
    assert_eq!(wrong.kind(), shm_runtime::ErrorKind::WrongType, "{wrong}");
    drop((a, b));
}
