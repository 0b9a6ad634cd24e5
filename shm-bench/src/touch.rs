//! First touch: the time to create a shared anonymous mapping and write one
//! byte in every (4 KiB) page of it, with the mapping options of
//! `MapOptions`. The unmap happens after the clock stops.
//!
//! Whether huge pages were really used depends on the kernel's settings
//! (`/sys/kernel/mm/transparent_hugepage/shmem_enabled`, reserved
//! `nr_hugepages`), so each row notes how much of the mapping the kernel
//! mapped with huge pages (`ShmemPmdMapped` in `/proc/self/smaps`).

use crate::report::Section;
use crate::sys::{repeat, RawMap, Res};
use crate::{outcome, Config};
use shm_runtime::{init, page_size, HugePages, MapOptions, Shared};
use std::time::Instant;

const DEFAULT: &str = "Shared<[u8]>, MapOptions::new()";

/// Runs the section.
pub fn run(c: &Config) -> Section {
    let mut s = Section::new(
        "first_touch",
        format!(
            "7. Create a {} MiB mapping and touch every page once",
            c.touch_bytes >> 20
        ),
        "ms",
        false,
    );
    let variants: [(&str, MapOptions); 5] = [
        (DEFAULT, MapOptions::new()),
        ("prefault(true)", MapOptions::new().prefault(true)),
        (
            "HugePages::Transparent",
            MapOptions::new().huge_pages(HugePages::Transparent),
        ),
        (
            "HugePages::Transparent + prefault(true)",
            MapOptions::new()
                .huge_pages(HugePages::Transparent)
                .prefault(true),
        ),
        (
            "HugePages::Prefer",
            MapOptions::new().huge_pages(HugePages::Prefer),
        ),
    ];
    for (name, options) in variants {
        let (result, huge) = with_options(c, options);
        let row = if name == DEFAULT {
            s.baseline(name, outcome(result))
        } else {
            s.vs(DEFAULT, name, outcome(result))
        };
        row.note = huge;
    }
    let (result, huge) = raw(c);
    s.vs(DEFAULT, "raw libc::mmap", outcome(result)).note = huge;
    s
}

/// Writes one byte in every page of `len` bytes at `p`.
///
/// # Safety
/// `p..p+len` is a writable mapping that no reference covers.
unsafe fn touch(p: *mut u8, len: usize) {
    for offset in (0..len).step_by(page_size()) {
        // SAFETY: `offset < len`, inside the mapping (caller's promise).
        unsafe { std::ptr::write_volatile(p.add(offset), 1) };
    }
}

fn with_options(c: &Config, options: MapOptions) -> (Res<Vec<f64>>, Option<String>) {
    let mut huge = None;
    let result = repeat(c.reps, || {
        let start = Instant::now();
        let map: Shared<[u8]> = options.anonymous(init::zeroed_slice(c.touch_bytes))?;
        // SAFETY: the new mapping is ours and we never form a `&[u8]` to it.
        unsafe { touch(map.as_mut_ptr().cast(), c.touch_bytes) };
        let ms = start.elapsed().as_secs_f64() * 1e3;
        huge = huge_note(map.as_mut_ptr().cast::<u8>() as usize, c.touch_bytes);
        Ok(ms)
    });
    (result, huge)
}

fn raw(c: &Config) -> (Res<Vec<f64>>, Option<String>) {
    let mut huge = None;
    let result = repeat(c.reps, || {
        let start = Instant::now();
        let map = RawMap::new(c.touch_bytes, 0)?;
        // SAFETY: the new mapping is ours and nothing else refers to it.
        unsafe { touch(map.ptr(), c.touch_bytes) };
        let ms = start.elapsed().as_secs_f64() * 1e3;
        huge = huge_note(map.ptr() as usize, c.touch_bytes);
        Ok(ms)
    });
    (result, huge)
}

/// "N of M MiB on huge pages", from the smaps entry that starts at `addr`.
fn huge_note(addr: usize, len: usize) -> Option<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let head = format!("{addr:x}-");
    let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head));
    lines.next()?;
    let kib: u64 = lines
        .take_while(|l| !l.split_whitespace().next().unwrap_or("").contains('-'))
        .find_map(|l| l.strip_prefix("ShmemPmdMapped:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!(
        "{} of {} MiB mapped with huge pages",
        kib >> 10,
        len >> 20
    ))
}
