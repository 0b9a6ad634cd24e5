//! Field access: the same summing loop through `Shared<T>` and through a raw
//! `libc::mmap` pointer. `Shared` dereferences to a plain `&[T]`, so both
//! loops should compile to the same code (zero cost).

use crate::report::Section;
use crate::sys::{ns_since, RawMap, Res};
use crate::{outcome, Config};
use shm_runtime::{init, Shared};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const RAW_U64: &str = "u64: raw mmap pointer";
const RAW_ATOMIC: &str = "AtomicU64 Relaxed: raw mmap pointer";

/// One timed pass over the data a variant owns: nanoseconds per element.
type Pass = Box<dyn Fn() -> Res<f64>>;

/// Runs the section. The variants' repetitions are interleaved (each
/// repetition runs every variant once, in a rotating order), so that a
/// neighbour's burst of memory traffic hits all of them alike.
pub fn run(c: &Config) -> Section {
    let mut s = Section::new(
        "field_access",
        format!(
            "1. Field access: sum over {} elements ({} KiB)",
            c.access_len,
            (c.access_len * 8) >> 10
        ),
        "ns/element",
        false,
    );
    let n = c.access_len;
    let variants: [(&str, &str, Res<Pass>); 4] = [
        (RAW_U64, RAW_U64, raw_u64(n)),
        ("u64: Shared<[u64]>", RAW_U64, shared_u64(n)),
        (RAW_ATOMIC, RAW_ATOMIC, raw_atomic(n)),
        (
            "AtomicU64 Relaxed: Shared<[AtomicU64]>",
            RAW_ATOMIC,
            shared_atomic(n),
        ),
    ];
    let mut results: Vec<Res<Vec<f64>>> = variants
        .iter()
        .map(|v| match &v.2 {
            Ok(_) => Ok(Vec::new()),
            Err(e) => Err(e.to_string().into()),
        })
        .collect();
    // Repetition 0 is the warm-up.
    for rep in 0..=c.reps {
        // Rotate the order too, so no variant always runs first.
        for k in 0..variants.len() {
            let i = (rep + k) % variants.len();
            let (variant, result) = (&variants[i], &mut results[i]);
            let (Ok(pass), Ok(samples)) = (&variant.2, &mut *result) else {
                continue;
            };
            match pass() {
                Ok(ns) if rep > 0 => samples.push(ns),
                Ok(_) => {}
                Err(e) => *result = Err(e),
            }
        }
    }
    for (variant, result) in variants.iter().zip(results) {
        if variant.0 == variant.1 {
            s.baseline(variant.0, outcome(result));
        } else {
            s.vs(variant.1, variant.0, outcome(result));
        }
    }
    s
}

fn expected_sum(n: usize) -> u64 {
    let n = n as u64;
    n.wrapping_mul(n.wrapping_sub(1)) / 2
}

fn check(sum: u64, n: usize) -> Res<()> {
    if sum != expected_sum(n) {
        return Err(format!("wrong sum {sum}, expected {}", expected_sum(n)).into());
    }
    Ok(())
}

/// A raw shared mapping holding `0, 1, ..., n-1`.
fn raw_filled(n: usize) -> Res<RawMap> {
    let map = RawMap::new(n * 8, 0)?;
    let p = map.ptr().cast::<u64>();
    for i in 0..n {
        // SAFETY: `i < n` and the mapping holds `n` page-aligned u64s that
        // nobody else sees yet.
        unsafe { p.add(i).write(i as u64) };
    }
    Ok(map)
}

/// Times one pass summing `slice` through `load`, checks the sum, and
/// returns nanoseconds per element. Every row runs this same loop: only the
/// way to the memory differs.
#[inline(always)]
fn timed_sum<T>(slice: &[T], load: impl Fn(&T) -> u64) -> Res<f64> {
    let start = Instant::now();
    let sum = slice.iter().fold(0u64, |sum, x| sum.wrapping_add(load(x)));
    let ns = ns_since(start);
    check(black_box(sum), slice.len())?;
    Ok(ns / slice.len() as f64)
}

fn raw_u64(n: usize) -> Res<Pass> {
    let map = raw_filled(n)?;
    Ok(Box::new(move || {
        let p = black_box(map.ptr().cast::<u64>().cast_const());
        // SAFETY: the live mapping holds `n` initialized, aligned u64s that
        // nothing writes while the slice lives.
        let slice = unsafe { std::slice::from_raw_parts(p, n) };
        timed_sum(slice, |x| *x)
    }))
}

fn shared_u64(n: usize) -> Res<Pass> {
    let data = Shared::<[u64]>::anonymous(init::from_fn(n, |i| i as u64))?;
    Ok(Box::new(move || timed_sum(black_box(&*data), |x| *x)))
}

fn raw_atomic(n: usize) -> Res<Pass> {
    let map = raw_filled(n)?;
    Ok(Box::new(move || {
        let p = black_box(map.ptr().cast::<AtomicU64>().cast_const());
        // SAFETY: the live mapping holds `n` aligned u64s, only ever accessed
        // atomically from here on (`AtomicU64` has the layout of `u64`).
        let slice = unsafe { std::slice::from_raw_parts(p, n) };
        timed_sum(slice, |x| x.load(Ordering::Relaxed))
    }))
}

fn shared_atomic(n: usize) -> Res<Pass> {
    let data = Shared::<[AtomicU64]>::anonymous(init::from_fn(n, |i| AtomicU64::new(i as u64)))?;
    Ok(Box::new(move || {
        timed_sum(black_box(&*data), |x| x.load(Ordering::Relaxed))
    }))
}
