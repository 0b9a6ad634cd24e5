//! Named segments: the cost of a full create + map + unmap + unlink cycle,
//! and of open + map + unmap of an existing segment.
//!
//! Every variant writes one word into the mapping (as any initialisation
//! would), so the first page is faulted in each time. All names start with
//! `/shm-bench-<pid>-`; whatever the outcome, the section ends by removing
//! every segment of this process that is left in /dev/shm.

use crate::report::Section;
use crate::sys::{os_error, repeat, Res};
use crate::{outcome, Config};
use shm_runtime::{init, segment::Segment};
use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const CREATE_RAW: &str = "create+map+unmap+unlink: raw libc";
const OPEN_RAW: &str = "open+map+unmap: raw libc";
const CREATE_RAW_RESERVED: &str = "create+map+unmap+unlink: raw libc + posix_fallocate";

/// Runs the section.
pub fn run(c: &Config) -> Section {
    let mut s = Section::new(
        "segment_lifecycle",
        format!(
            "5. Named segment of {} KiB ({} cycles per repetition)",
            c.segment_len >> 10,
            c.segment_ops
        ),
        "us/cycle",
        false,
    );
    s.baseline(CREATE_RAW, outcome(cycles(c, "cr", raw_create)));
    s.vs(
        CREATE_RAW,
        "create+map+unmap+unlink: shared_memory::ShmemConf",
        outcome(cycles(c, "cs", shared_memory_create)),
    );
    s.vs(
        CREATE_RAW,
        "create+map+unmap+unlink: shm_runtime Segment::posix",
        outcome(cycles(c, "cm", ours_create)),
    )
    .note = Some(
        "also writes and checks a header, fchmods, and reserves the pages (posix_fallocate)".into(),
    );
    s.vs(
        CREATE_RAW,
        "create+map+unmap+unlink: shm_runtime reserve(false)",
        outcome(cycles(c, "cu", ours_create_unreserved)),
    )
    .note = Some("the same without reserving the pages: the work the raw row does".into());
    s.baseline(
        CREATE_RAW_RESERVED,
        outcome(cycles(c, "cf", raw_create_reserved)),
    )
    .note = Some(
        "raw libc that also reserves the pages (posix_fallocate), as the library's default does"
            .into(),
    );
    s.vs(
        CREATE_RAW_RESERVED,
        "create+map+unmap+unlink: shm_runtime Segment::posix, again",
        outcome(cycles(c, "cm2", ours_create)),
    )
    .note = Some(
        "the default create again, against the reserving floor (its header adds one page to \
         reserve)"
            .into(),
    );
    s.baseline(OPEN_RAW, outcome(open_cycles(c, "or", raw_leave, raw_open)));
    s.vs(
        OPEN_RAW,
        "open+map+unmap: shared_memory::ShmemConf",
        outcome(open_cycles(c, "os", raw_leave, shared_memory_open)),
    );
    s.vs(
        OPEN_RAW,
        "open+map+unmap: shm_runtime Segment::posix",
        outcome(open_cycles(c, "om", ours_leave, ours_open)),
    )
    .note = Some("also checks owner, size and the header (type fingerprint, ready state)".into());
    s.vs(
        OPEN_RAW,
        "open+map+unmap: shm_runtime, payload validated",
        outcome(open_cycles(c, "ov", checked_leave, checked_open)),
    )
    .note = Some(
        "a slice of 16-byte records holding a bool and an enum: the open reads every record \
         (and faults in every page) to check them; integer and atomic payloads skip this"
            .into(),
    );
    remove_leftovers();
    s
}

/// Runs the section on create cost against segment size.
pub fn create_sizes(c: &Config) -> Section {
    let mut s = Section::new(
        "segment_create_sizes",
        "5b. Create+map+touch one page+unmap+unlink of a POSIX slice segment, by size".to_owned(),
        "ms/cycle",
        false,
    );
    for &len in c.create_sizes {
        let size = if len >= 1 << 30 {
            format!("{} GiB", len >> 30)
        } else if len >= 1 << 20 {
            format!("{} MiB", len >> 20)
        } else {
            format!("{} KiB", len >> 10)
        };
        // Fewer repetitions where one takes a tenth of a second.
        let reps = if len >= 256 << 20 { 3 } else { c.reps };
        let base = format!("{size}: raw shm_open+ftruncate+mmap");
        let timed = |tag: &str, op: fn(&str, usize) -> Res<()>| {
            let name = name(tag);
            repeat(reps, || {
                let start = Instant::now();
                op(&name, len)?;
                Ok(start.elapsed().as_secs_f64() * 1e3)
            })
        };
        s.baseline(base.clone(), outcome(timed("zr", raw_create)));
        s.vs(
            &base,
            format!("{size}: Segment reserve(true) (default)"),
            outcome(timed("zt", ours_create)),
        )
        .note = (len == c.create_sizes[0]).then(|| {
            "reserve(true): posix_fallocate allocates and zeroes every page up front".into()
        });
        s.vs(
            &base,
            format!("{size}: Segment reserve(false)"),
            outcome(timed("zf", ours_create_unreserved)),
        )
        .note = (len == c.create_sizes[0]).then(|| {
            "reserve(false): pages allocated when first written (a full /dev/shm then SIGBUSes \
             the writer)"
                .into()
        });
    }
    remove_leftovers();
    s
}

fn prefix() -> String {
    format!("shm-bench-{}-", std::process::id())
}

fn name(tag: &str) -> String {
    format!("/{}{tag}", prefix())
}

/// Unlinks every segment whose name this process would use.
pub fn remove_leftovers() {
    let prefix = prefix();
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        if file.starts_with(&prefix) {
            if let Ok(name) = CString::new(format!("/{file}")) {
                // SAFETY: unlinks a name; no memory is involved.
                unsafe { libc::shm_unlink(name.as_ptr()) };
            }
        }
    }
}

/// Times `c.segment_ops` calls of `op` on one name (each call leaves no
/// segment behind), in microseconds per call.
fn cycles(c: &Config, tag: &str, op: fn(&str, usize) -> Res<()>) -> Res<Vec<f64>> {
    let name = name(tag);
    repeat(c.reps, || {
        let start = Instant::now();
        for _ in 0..c.segment_ops {
            op(&name, c.segment_len)?;
        }
        Ok(start.elapsed().as_secs_f64() * 1e6 / c.segment_ops as f64)
    })
}

/// Creates one segment with `create` (which leaves it in place), then
/// times opening it with `op`.
fn open_cycles(
    c: &Config,
    tag: &str,
    create: fn(&str, usize) -> Res<()>,
    op: fn(&str, usize) -> Res<()>,
) -> Res<Vec<f64>> {
    let name = name(tag);
    let cname = CString::new(name.clone())?;
    let result = create(&name, c.segment_len).and_then(|()| cycles(c, tag, op));
    // SAFETY: unlinks a name; no memory is involved.
    unsafe { libc::shm_unlink(cname.as_ptr()) };
    result
}

/// `shm_open(O_CREAT | O_EXCL)` + `ftruncate`; unlinks again on failure.
fn raw_create_fd(name: &CString, len: usize) -> Res<libc::c_int> {
    // SAFETY: `name` is a NUL-terminated string; the call creates a file.
    let fd = unsafe {
        libc::shm_open(
            name.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
            0o600,
        )
    };
    if fd < 0 {
        return Err(os_error("shm_open(O_CREAT|O_EXCL)"));
    }
    // SAFETY: `fd` is the descriptor just opened.
    if unsafe { libc::ftruncate(fd, len as libc::off_t) } != 0 {
        let err = os_error("ftruncate");
        // SAFETY: closes and unlinks what was just created.
        unsafe {
            libc::close(fd);
            libc::shm_unlink(name.as_ptr());
        }
        return Err(err);
    }
    Ok(fd)
}

/// Maps `len` bytes of `fd`, writes the first word, unmaps, closes `fd`.
fn map_touch_unmap(fd: libc::c_int, len: usize) -> Res<()> {
    // SAFETY: a new shared mapping of an open descriptor at an address the
    // kernel picks; the descriptor is closed once mapped (the mapping
    // keeps the file).
    let p = unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        );
        libc::close(fd);
        p
    };
    if p == libc::MAP_FAILED {
        return Err(os_error("mmap"));
    }
    // SAFETY: the mapping is at least one page, page-aligned, and ours; it
    // is unmapped right after the write.
    unsafe {
        std::ptr::write_volatile(p.cast::<u64>(), 1);
        libc::munmap(p, len);
    }
    Ok(())
}

fn raw_create(name: &str, len: usize) -> Res<()> {
    let cname = CString::new(name)?;
    let fd = raw_create_fd(&cname, len)?;
    let mapped = map_touch_unmap(fd, len);
    // SAFETY: unlinks a name; no memory is involved.
    let rc = unsafe { libc::shm_unlink(cname.as_ptr()) };
    mapped?;
    if rc != 0 {
        return Err(os_error("shm_unlink"));
    }
    Ok(())
}

/// Like [`raw_create`], reserving the pages as this library does by default.
fn raw_create_reserved(name: &str, len: usize) -> Res<()> {
    let cname = CString::new(name)?;
    let fd = raw_create_fd(&cname, len)?;
    // SAFETY: `fd` is the descriptor just created and sized to `len`.
    let rc = unsafe { libc::posix_fallocate(fd, 0, len as libc::off_t) };
    let mapped = if rc == 0 {
        map_touch_unmap(fd, len)
    } else {
        // SAFETY: closes the descriptor just created.
        unsafe { libc::close(fd) };
        Err(format!("posix_fallocate: {}", std::io::Error::from_raw_os_error(rc)).into())
    };
    // SAFETY: unlinks a name; no memory is involved.
    unsafe { libc::shm_unlink(cname.as_ptr()) };
    mapped
}

/// Creates a segment with raw libc calls and leaves it in place.
fn raw_leave(name: &str, len: usize) -> Res<()> {
    let fd = raw_create_fd(&CString::new(name)?, len)?;
    // SAFETY: closes the descriptor just created; the segment stays.
    unsafe { libc::close(fd) };
    Ok(())
}

fn raw_open(name: &str, len: usize) -> Res<()> {
    let cname = CString::new(name)?;
    // SAFETY: `cname` is NUL-terminated; opens an existing segment.
    let fd = unsafe { libc::shm_open(cname.as_ptr(), libc::O_RDWR, 0) };
    if fd < 0 {
        return Err(os_error("shm_open"));
    }
    // Like the peers, learn the size from the segment itself.
    // SAFETY: `st` is a valid out-pointer for fstat on an open descriptor.
    let size = unsafe {
        let mut st = std::mem::zeroed::<libc::stat>();
        if libc::fstat(fd, &mut st) != 0 {
            libc::close(fd);
            return Err(os_error("fstat"));
        }
        st.st_size as usize
    };
    if size < len {
        // SAFETY: closes the descriptor opened above.
        unsafe { libc::close(fd) };
        return Err(format!("segment is {size} bytes, expected {len}").into());
    }
    map_touch_unmap(fd, len)
}

fn shared_memory_create(name: &str, len: usize) -> Res<()> {
    // The owner's drop unmaps and unlinks.
    let shmem = shared_memory::ShmemConf::new()
        .size(len)
        .os_id(name)
        .create()?;
    // SAFETY: the crate's mapping is at least `len` bytes, page-aligned.
    unsafe { std::ptr::write_volatile(shmem.as_ptr().cast::<u64>(), 1) };
    Ok(())
}

fn shared_memory_open(name: &str, _len: usize) -> Res<()> {
    // Not the owner: drop unmaps only.
    let shmem = shared_memory::ShmemConf::new().os_id(name).open()?;
    // SAFETY: as above; the segment holds at least one page.
    unsafe { std::ptr::write_volatile(shmem.as_ptr().cast::<u64>(), 1) };
    Ok(())
}

/// A record with invalid bit patterns (a `bool`, an enum), which a typed
/// open checks one by one.
#[derive(shm_runtime::SharedSafe, Clone, Copy)]
#[repr(C)]
struct Checked {
    active: bool,
    mode: Mode,
    spare: [u8; 6],
    value: u64,
}

#[derive(shm_runtime::SharedSafe, Clone, Copy)]
#[repr(u8)]
enum Mode {
    Idle = 0,
    Busy = 1,
}

fn checked_leave(name: &str, len: usize) -> Res<()> {
    let records = len / size_of::<Checked>();
    Segment::posix(name).create(init::from_fn(records, |i| Checked {
        active: i % 2 == 0,
        mode: if i % 3 == 0 { Mode::Busy } else { Mode::Idle },
        spare: [0; 6],
        value: i as u64,
    }))?;
    Ok(())
}

fn checked_open(name: &str, len: usize) -> Res<()> {
    let view = Segment::posix(name).open::<[Checked]>()?;
    if view.len() != len / size_of::<Checked>() || view[0].value != 0 {
        return Err(format!("segment holds {} records", view.len()).into());
    }
    Ok(())
}

/// The payload of our segments: `len` bytes of atomic words.
fn words(len: usize) -> usize {
    len / size_of::<AtomicU64>()
}

fn ours_create(name: &str, len: usize) -> Res<()> {
    let segment = Segment::posix(name);
    let view = segment.create(init::zeroed_slice::<AtomicU64>(words(len)))?;
    view[0].store(1, Ordering::Relaxed);
    drop(view);
    segment.remove()?;
    Ok(())
}

fn ours_create_unreserved(name: &str, len: usize) -> Res<()> {
    let segment = Segment::posix(name).reserve(false);
    let view = segment.create(init::zeroed_slice::<AtomicU64>(words(len)))?;
    view[0].store(1, Ordering::Relaxed);
    drop(view);
    segment.remove()?;
    Ok(())
}

/// Creates a segment with this crate and leaves it in place.
fn ours_leave(name: &str, len: usize) -> Res<()> {
    Segment::posix(name).create(init::zeroed_slice::<AtomicU64>(words(len)))?;
    Ok(())
}

fn ours_open(name: &str, len: usize) -> Res<()> {
    let view = Segment::posix(name).open::<[AtomicU64]>()?;
    if view.len() != words(len) {
        return Err(format!("segment holds {} words", view.len()).into());
    }
    view[0].store(1, Ordering::Relaxed);
    Ok(())
}
