//! A segment opened with another type than the one it was created with is
//! refused with `WrongType`, and the message names the first difference,
//! read from the layout description the segment stores (header format 4):
//! one test per kind of difference, for values, slices and `open_or_create`,
//! for POSIX, file and System V segments, and across processes. A stored
//! description that cannot be read falls back to the fingerprints and says
//! why; segments of the previous header format are `UnsupportedVersion`.

use shm_runtime::layout::describe::{Description, KindDesc};
use shm_runtime::segment::{Segment, SysvKey};
use shm_runtime::{init, ErrorKind, SharedSafe, ShmMutex};
use std::os::unix::fs::FileExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PEER: &str = env!("CARGO_BIN_EXE_shm-test-peer");
const HINT: &str = "(open it with the type it was created with, or remove it and create it anew)";

fn unique(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("/shmrt-wrongtype-{}-{n}-{tag}", std::process::id())
}

/// Removes a POSIX name on drop (also when the test fails).
struct Name(String);

impl Drop for Name {
    fn drop(&mut self) {
        let _ = Segment::posix(&self.0).remove();
    }
}

/// Creates a POSIX segment holding `stored`, opens it as `Ours` and returns
/// the name and the error's message (asserting it is `WrongType`).
fn mismatch<Stored: SharedSafe, Ours: SharedSafe>(tag: &str, stored: Stored) -> (String, String) {
    let name = Name(unique(tag));
    let created = Segment::posix(&name.0).create(stored).unwrap();
    let Err(err) = Segment::posix(&name.0).open::<Ours>() else {
        panic!("opened with another type");
    };
    assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
    drop(created);
    (name.0.clone(), err.to_string())
}

mod v1 {
    use shm_runtime::SharedSafe;

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Stats {
        pub hits: u64,
        pub errors: u32,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Job {
        pub id: u64,
        pub state: u32,
        pub retries: u32,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Point {
        pub x: u32,
        pub y: u32,
    }

    #[derive(SharedSafe, Debug, bytemuck::Zeroable)]
    #[repr(C)]
    pub struct Flags {
        pub flags: [u8; 4],
    }

    #[derive(SharedSafe, Clone, Copy, Debug)]
    #[repr(u8)]
    pub enum Mode {
        Idle = 0,
        Busy = 1,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Machine {
        pub mode: Mode,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Wrapper {
        pub value: u32,
    }

    #[derive(SharedSafe, Clone, Copy, Debug)]
    #[repr(C)]
    pub struct Flag {
        pub on: bool,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Inner {
        pub count: u32,
        pub flags: [Flag; 4],
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Outer {
        pub id: u64,
        pub inner: Inner,
    }
}

mod v2 {
    use shm_runtime::SharedSafe;

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Stats {
        pub hits: u64,
        pub errors: u64,
    }

    /// `v1::Job` without `retries`.
    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Job {
        pub id: u64,
        pub state: u32,
    }

    /// `v1::Point` with `y` renamed.
    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Point {
        pub x: u32,
        pub z: u32,
    }

    /// `v1::Point` with its fields swapped.
    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Swapped {
        pub y: u32,
        pub x: u32,
    }

    #[derive(SharedSafe, Debug, bytemuck::Zeroable)]
    #[repr(C)]
    pub struct Flags {
        pub flags: [u8; 8],
    }

    #[derive(SharedSafe, Clone, Copy, Debug)]
    #[repr(u8)]
    pub enum Mode {
        Idle = 0,
        Busy = 2,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Machine {
        pub mode: Mode,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(transparent)]
    pub struct Wrapper {
        pub value: u32,
    }

    #[derive(SharedSafe, Clone, Copy, Debug)]
    #[repr(C)]
    pub struct Flag {
        pub on: u8,
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Inner {
        pub count: u32,
        pub flags: [Flag; 4],
    }

    #[derive(SharedSafe, Debug)]
    #[repr(C)]
    pub struct Outer {
        pub id: u64,
        pub inner: Inner,
    }
}

/// The behaviour: a field of another type names the field, both types and
/// offsets (the example of the issue).
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_field_of_another_type_is_named() {
    let (name, message) = mismatch::<_, v2::Stats>("field", v1::Stats { hits: 1, errors: 2 });
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Stats` whose field `errors` is `u32` at offset 8; this \
             program's `Stats` has `u64` at offset 8 {HINT}"
        )
    );
}

/// The behaviour: a stored field that this program's type lacks is named.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_missing_field_is_named() {
    let stored = v1::Job {
        id: 1,
        state: 2,
        retries: 3,
    };
    let (name, message) = mismatch::<_, v2::Job>("missing", stored);
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Job` whose field `retries` (`u32` at offset 12) is not in \
             this program's `Job` {HINT}"
        )
    );
}

/// The behaviour: a field that only this program's type has is named.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn an_extra_field_is_named() {
    let (name, message) = mismatch::<_, v1::Job>("extra", v2::Job { id: 1, state: 2 });
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Job` but this program's `Job` has a field `retries` (`u32` \
             at offset 12) that the stored type does not have {HINT}"
        )
    );
}

/// The behaviour: a field of the same type and offset under another name
/// is reported as renamed.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_renamed_field_is_named() {
    let (name, message) = mismatch::<_, v2::Point>("renamed", v1::Point { x: 1, y: 2 });
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Point` whose field `y` (`u32` at offset 4) is named `z` in \
             this program's `Point` {HINT}"
        )
    );
}

/// The behaviour: the same fields in another order are reported by the
/// first field out of place.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn reordered_fields_are_named() {
    let (name, message) = mismatch::<_, v2::Swapped>("reordered", v1::Point { x: 1, y: 2 });
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Point` whose field `x` is `u32` at offset 0; this program's \
             `Swapped` has `u32` at offset 4 {HINT}"
        )
    );
}

/// The behaviour: an array of another length is named with both lengths.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn an_array_of_another_length_is_named() {
    let (name, message) = mismatch::<_, v2::Flags>("array", v1::Flags { flags: [0; 4] });
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Flags` whose field `flags` is `[u8; 4]` at offset 0; this \
             program's `Flags` has `[u8; 8]` at offset 0 {HINT}"
        )
    );
}

/// The behaviour: an enum variant with another discriminant is named with
/// both values.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn an_enum_discriminant_is_named() {
    let stored = v1::Machine {
        mode: v1::Mode::Busy,
    };
    let _ = (v1::Mode::Idle, v2::Mode::Idle, v2::Mode::Busy);
    let (name, message) = mismatch::<_, v2::Machine>("discriminant", stored);
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Machine` but in `mode`, variant `Busy` is 1; this program's \
             `Mode` has `Busy = 2` {HINT}"
        )
    );
}

/// The behaviour: a struct of another `repr` is named with both.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_struct_repr_is_named() {
    let (name, message) = mismatch::<_, v2::Wrapper>("repr", v1::Wrapper { value: 1 });
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Wrapper` but the stored struct is `repr(C)`; this program's \
             `Wrapper` is `repr(transparent)` {HINT}"
        )
    );
}

/// The behaviour: a difference deep inside nested structs and arrays is
/// named by its whole path.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_nested_difference_is_named_by_its_path() {
    let stored = v1::Outer {
        id: 1,
        inner: v1::Inner {
            count: 2,
            flags: [v1::Flag { on: true }; 4],
        },
    };
    let (name, message) = mismatch::<_, v2::Outer>("nested", stored);
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `Outer` whose field `inner.flags[0].on` is `bool` at offset \
             0; this program's `Flag` has `u8` at offset 0 {HINT}"
        )
    );
}

/// The behaviour: a library type with another type parameter names the
/// parameter's difference.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn a_library_type_parameter_is_named() {
    let (name, message) = mismatch::<_, ShmMutex<u64>>("mutex", ShmMutex::new(1u32));
    assert_eq!(
        message,
        format!(
            "segment `{name}` holds `ShmMutex` whose field `value` is `u32` at offset {at}; this \
             program's `ShmMutex` has `u64` at offset {at} {HINT}",
            at = mutex_value_offset::<ShmMutex<u64>>()
        )
    );
    assert_eq!(
        mutex_value_offset::<ShmMutex<u32>>(),
        mutex_value_offset::<ShmMutex<u64>>()
    );
}

/// The offset of a mutex's `value`, from its description (the field is
/// private).
fn mutex_value_offset<T: SharedSafe>() -> u64 {
    let d = Description::of(T::LAYOUT).unwrap();
    match &d.get(d.root()).kind {
        KindDesc::Library { fields, .. } => {
            fields.iter().find(|f| f.name == "value").unwrap().offset
        }
        other => panic!("a mutex is a library type, not {other:?}"),
    }
}

/// The behaviour: slices name the difference of their element type, with
/// their length, whether opened as a slice or as one value.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn slices_name_the_difference_of_their_elements() {
    let name = Name(unique("slice"));
    let _stored = Segment::posix(&name.0)
        .create(init::from_fn(3, |i| v1::Stats {
            hits: i as u64,
            errors: 0,
        }))
        .unwrap();
    let diff = "whose field `errors` is `u32` at offset 8; this program's `Stats` has `u64` at \
                offset 8";
    let expected = format!(
        "segment `{}` holds `[Stats]` (3 elements) {diff} {HINT}",
        name.0
    );
    let err = Segment::posix(&name.0).open::<[v2::Stats]>().unwrap_err();
    assert_eq!(
        (err.kind(), err.to_string()),
        (ErrorKind::WrongType, expected.clone())
    );
    let err = Segment::posix(&name.0)
        .read_only()
        .open::<[v2::Stats]>()
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.to_string()),
        (ErrorKind::WrongType, expected.clone())
    );
    let Err(err) = Segment::posix(&name.0).open::<v2::Stats>() else {
        panic!("a slice opened as one value of another type");
    };
    assert_eq!(
        (err.kind(), err.to_string()),
        (ErrorKind::WrongType, expected)
    );
}

/// The behaviour: `open_or_create` that finds a segment of another type
/// names the difference (and neither creates nor initializes anything).
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn open_or_create_names_the_difference() {
    let name = Name(unique("ooc"));
    let _stored = Segment::posix(&name.0)
        .create(v1::Point { x: 1, y: 2 })
        .unwrap();
    let Err(err) = Segment::posix(&name.0).open_or_create(v2::Point { x: 7, z: 8 }) else {
        panic!("opened with another type");
    };
    assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "segment `{}` holds `Point` whose field `y` (`u32` at offset 4) is named `z` in this \
             program's `Point` {HINT}",
            name.0
        )
    );
    let err = Segment::posix(&name.0)
        .open_or_create(init::zeroed_slice::<v1::Flags>(2))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("segment `{}` holds `Point` ", name.0)),
        "{err}"
    );
    // Nothing was initialized: the segment holds what its creator wrote.
    let stored = Segment::posix(&name.0).open::<v1::Point>().unwrap();
    assert_eq!((stored.x, stored.y), (1, 2));
}

/// The behaviour: file and System V segments store and report the
/// description as POSIX ones do.
#[test]
#[cfg_attr(miri, ignore = "maps named segments")]
fn file_and_sysv_segments_name_the_difference() {
    let path = shm_workspace::TempPath::new("wrongtype-file");
    let stored = v1::Stats { hits: 1, errors: 2 };
    let _file = Segment::file(&path.0)
        .remove_on_drop(true)
        .create(stored)
        .unwrap();
    let Err(err) = Segment::file(&path.0).open::<v2::Stats>() else {
        panic!("opened with another type");
    };
    assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "file `{}` holds `Stats` whose field `errors` is `u32` at offset 8; this program's \
             `Stats` has `u64` at offset 8 {HINT}",
            path.0.display()
        )
    );

    let key = SysvKey::new(0x5a00_0000 | ((std::process::id() as i32 & 0xfff) << 12) | 1);
    let _ = Segment::sysv(key).remove();
    let sysv = Segment::sysv(key).remove_on_drop(true);
    let _created = sysv.create(init::zeroed_slice::<v1::Flags>(2)).unwrap();
    let Err(err) = Segment::sysv(key).open::<[v2::Flags]>() else {
        panic!("opened with another type");
    };
    assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "System V segment {key} holds `[Flags]` (2 elements) whose field `flags` is \
             `[u8; 4]` at offset 0; this program's `Flags` has `[u8; 8]` at offset 0 {HINT}"
        )
    );
}

/// Runs the peer with `args`, killing it after 30 s; returns its one line
/// of output.
fn peer(args: &[&str]) -> String {
    let mut child = Command::new(PEER)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning shm-test-peer");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("waiting for the peer").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shm-test-peer {args:?} ran for more than 30 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    out.trim().to_owned()
}

/// `shm_workspace::People` with another type of `age`.
#[derive(SharedSafe, Debug)]
#[repr(C)]
struct People {
    name: [u8; 4],
    age: u32,
}

/// The behaviour: the description written by one process is read by
/// another: a segment the peer made, opened here with another type, and
/// one made here, opened by the peer with another type.
#[test]
#[cfg_attr(miri, ignore = "runs another process")]
fn the_difference_is_named_across_processes() {
    let name = Name(unique("peer"));
    let spec = format!("posix:{}", name.0);
    assert_eq!(peer(&["create", &spec, "u64", "7"]), "ok created");
    let Err(err) = Segment::posix(&name.0).open::<i64>() else {
        panic!("opened with another type");
    };
    assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "segment `{}` holds `u64` but the stored type is `u64`; this program's is `i64` \
             {HINT}",
            name.0
        )
    );
    Segment::posix(&name.0).remove().unwrap();

    let _people = Segment::posix(&name.0)
        .create(init::from_fn(2, |_| People {
            name: *b"ann\0",
            age: 30,
        }))
        .unwrap();
    assert_eq!(
        peer(&["open", &spec, "people"]),
        format!(
            "err WrongType: segment `{}` holds `[People]` (2 elements) whose field `age` is `u32` \
             at offset 4; this program's `People` has `i32` at offset 4 {HINT}",
            name.0
        )
    );
}

/// A file segment of `v1::Stats`, and the header fields that locate its
/// description block: (offset, length).
fn stats_file(tag: &str) -> (shm_workspace::TempPath, u64, u64) {
    let path = shm_workspace::TempPath::new(tag);
    drop(
        Segment::file(&path.0)
            .create(v1::Stats { hits: 1, errors: 2 })
            .unwrap(),
    );
    let bytes = std::fs::read(&path.0).unwrap();
    let len = u32::from_ne_bytes(bytes[220..224].try_into().unwrap()) as u64;
    let at = u64::from_ne_bytes(bytes[224..232].try_into().unwrap());
    let payload_end = 256 + std::mem::size_of::<v1::Stats>() as u64;
    assert_eq!(
        at,
        payload_end.next_multiple_of(8),
        "right after the payload, 8-aligned"
    );
    assert_eq!(bytes.len() as u64, at + len);
    (path, at, len)
}

/// The fingerprint message of a `v1::Stats` segment opened as `v2::Stats`,
/// with `why` the description could not be used.
fn fallback(what: &str, why: &str) -> String {
    format!(
        "{what} holds `{}` (fingerprint {}, {} bytes, align {}) but `Shared<{}>` (fingerprint \
         {}, {} bytes, align {}) was requested ({why}): open it with the type it was created \
         with, or remove it and create it anew",
        std::any::type_name::<v1::Stats>(),
        v1::Stats::FINGERPRINT,
        std::mem::size_of::<v1::Stats>(),
        std::mem::align_of::<v1::Stats>(),
        std::any::type_name::<v2::Stats>(),
        v2::Stats::FINGERPRINT,
        std::mem::size_of::<v2::Stats>(),
        std::mem::align_of::<v2::Stats>(),
    )
}

/// The behaviour: a stored description that is corrupt (checksum), that
/// does not decode (garbage with a matching checksum), or that was cut
/// off by a truncation still gives `WrongType` for another type, with
/// the fingerprints and the reason; the right type still opens a
/// corrupt description (it is not read then), and is `TooShort` once the
/// block is cut off.
#[test]
#[cfg_attr(miri, ignore = "maps file segments")]
fn an_unreadable_description_falls_back_to_the_fingerprints() {
    let (path, at, len) = stats_file("wrongtype-garbage");
    let what = format!("file `{}`", path.0.display());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap();
    let wrong = || match Segment::file(&path.0).open::<v2::Stats>() {
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::WrongType, "{err}");
            err.to_string()
        }
        Ok(_) => panic!("opened with another type"),
    };
    // One byte of the description's magic changed: the checksum differs.
    file.write_all_at(b"X", at).unwrap();
    assert_eq!(
        wrong(),
        fallback(
            &what,
            &format!(
                "its layout description cannot be read: {what} has a corrupt layout description \
                 (its checksum does not match the header's)"
            )
        )
    );
    assert_eq!(Segment::file(&path.0).open::<v1::Stats>().unwrap().hits, 1);
    // The same garbage with its checksum: it does not decode.
    let mut block = vec![0u8; len as usize];
    std::fs::File::open(&path.0)
        .unwrap()
        .read_exact_at(&mut block, at)
        .unwrap();
    file.write_all_at(&fnv1a(&block).to_ne_bytes(), 232)
        .unwrap();
    assert_eq!(
        wrong(),
        fallback(
            &what,
            &format!(
                "its layout description cannot be read: {what} has an unreadable layout \
                 description: invalid layout description at byte 0: {}",
                Description::decode(&block).unwrap_err().problem()
            )
        )
    );
    // Cut off: the block's end is past the end of the file.
    file.set_len(at + len - 1).unwrap();
    assert_eq!(
        wrong(),
        fallback(
            &what,
            &format!(
                "its layout description cannot be read: {what} is {} bytes long but its layout \
                 description ends at byte {}: it was truncated",
                at + len - 1,
                at + len
            )
        )
    );
    let err = Segment::file(&path.0).open::<v1::Stats>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
}

/// FNV-1a 64, the block checksum of the header's documentation.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// The behaviour: a segment whose header a program of the previous format
/// (3, without a description block) wrote is refused as
/// `UnsupportedVersion` (not `WrongType`, whatever type is asked for),
/// with a message that says to recreate it.
#[test]
#[cfg_attr(miri, ignore = "maps file segments")]
fn format_3_segments_are_unsupported_and_must_be_recreated() {
    let path = shm_workspace::TempPath::new("wrongtype-v3");
    // A format-3 header, field by field (see the header module's table).
    let mut bytes = vec![0u8; 256 + 8];
    let mut put = |at: usize, field: &[u8]| bytes[at..at + field.len()].copy_from_slice(field);
    put(0, b"SHMRTSEG");
    put(8, &3u32.to_ne_bytes());
    put(12, &256u32.to_ne_bytes());
    put(
        16,
        &((2u64 << 32) | u64::from(std::process::id())).to_ne_bytes(),
    );
    put(24, &u64::FINGERPRINT.as_u64().to_ne_bytes());
    put(32, &8u64.to_ne_bytes()); // size
    put(40, &(std::mem::align_of::<u64>() as u64).to_ne_bytes());
    put(48, &256u64.to_ne_bytes()); // payload offset
    put(56, &1u64.to_ne_bytes()); // one value
    put(64, &8u64.to_ne_bytes()); // payload bytes
    put(72, &1u32.to_ne_bytes()); // a single value
    put(
        76,
        &[
            std::mem::size_of::<usize>() as u8,
            if cfg!(target_endian = "little") { 1 } else { 2 },
        ],
    );
    put(78, &3u16.to_ne_bytes());
    put(80, b"u64");
    put(256, &5u64.to_ne_bytes());
    std::fs::write(&path.0, &bytes).unwrap();
    let what = format!("file `{}`", path.0.display());
    for err in [
        Segment::file(&path.0).open::<u64>().unwrap_err(),
        Segment::file(&path.0).open::<u32>().unwrap_err(),
        Segment::file(&path.0).open_or_create(1u64).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::UnsupportedVersion, "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "{what} has header format 3, made by an older version of shm-runtime; this \
                 version reads format 4 only (it stores no layout description of its type): \
                 remove it and recreate it with this version"
            )
        );
    }
}
