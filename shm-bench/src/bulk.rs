//! Bulk transfer: moving `bulk_bytes` from a child to its parent through a
//! ring of shared buffers, through a pipe, and (the hardware limit) a plain
//! `memcpy` of the same amount inside one process.
//!
//! Ring: the child copies each chunk from a private buffer into the next
//! free slot of a `Shared<[u8]>` ring and publishes it by bumping
//! `produced`; the parent waits for it, copies it out into a private
//! buffer and bumps `consumed`, which frees the slot. Each chunk carries
//! its sequence number in its first word, which the parent checks.

use crate::report::Section;
use crate::sys::{join, pipe, repeat, spawn, spin_until, Res};
use crate::{outcome, Config};
use shm_runtime::{init, Shared, SharedSafe};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const MEMCPY: &str = "memcpy in one process (hardware limit)";

/// Runs the section.
pub fn run(c: &Config) -> Section {
    let mut s = Section::new(
        "bulk_transfer",
        format!(
            "6. Bulk transfer of {} MiB ({} KiB chunks, ring of {} slots)",
            c.bulk_bytes >> 20,
            c.chunk >> 10,
            c.slots
        ),
        "GiB/s",
        true,
    );
    s.baseline(MEMCPY, outcome(memcpy(c)));
    s.vs(
        MEMCPY,
        "Shared<[u8]> ring, child -> parent",
        outcome(ring(c)),
    )
    .note = Some(format!(
        "two copies per byte, one in each process, on two cores, through a {} MiB ring \
         that stays in cache; the memcpy streams {} MiB from and to memory on one core",
        (c.slots * c.chunk) >> 20,
        c.bulk_bytes >> 20
    ));
    s.vs(MEMCPY, "pipe, child -> parent", outcome(through_pipe(c)));
    s
}

fn gib_per_s(bytes: usize, start: Instant) -> f64 {
    bytes as f64 / (1u64 << 30) as f64 / start.elapsed().as_secs_f64()
}

/// A private buffer of `len` non-zero bytes (so no page stays shared with
/// the zero page).
fn filled(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 + 1).collect()
}

fn memcpy(c: &Config) -> Res<Vec<f64>> {
    let src = filled(c.bulk_bytes);
    let mut dst = vec![0u8; c.bulk_bytes];
    repeat(c.reps, || {
        let start = Instant::now();
        for (d, s) in dst.chunks_mut(c.chunk).zip(src.chunks(c.chunk)) {
            d.copy_from_slice(std::hint::black_box(s));
        }
        std::hint::black_box(&mut dst);
        Ok(gib_per_s(c.bulk_bytes, start))
    })
}

/// The ring's counters, on separate cache lines.
#[derive(SharedSafe)]
#[repr(C)]
struct RingControl {
    produced: AtomicU64,
    _pad: [u64; 15],
    consumed: AtomicU64,
    _pad2: [u64; 15],
}

fn ring(c: &Config) -> Res<Vec<f64>> {
    let chunks = (c.bulk_bytes / c.chunk) as u64;
    let total = chunks * (c.reps as u64 + 1);
    let control = Shared::anonymous(RingControl {
        produced: AtomicU64::new(0),
        _pad: [0; 15],
        consumed: AtomicU64::new(0),
        _pad2: [0; 15],
    })?;
    let slots = Shared::<[u8]>::anonymous(init::zeroed_slice(c.slots * c.chunk))?;
    // The slots are only ever accessed through this raw pointer (never
    // through `&[u8]`), each slot by one process at a time, as the counters
    // hand it over.
    let base = slots.as_mut_ptr().cast::<u8>();
    let (chunk, nslots) = (c.chunk, c.slots as u64);
    let child = spawn(|| {
        let src = filled(chunk);
        for seq in 0..total {
            spin_until(|| control.consumed.load(Ordering::Acquire) + nslots > seq);
            // SAFETY: slot `seq % nslots` is free: the parent consumed the
            // chunk that used it before (checked above) and will not touch
            // it again until `produced` passes `seq`. Source and slot are
            // `chunk` bytes and do not overlap.
            unsafe {
                let slot = base.add((seq % nslots) as usize * chunk);
                std::ptr::copy_nonoverlapping(src.as_ptr(), slot, chunk);
                slot.cast::<u64>().write_unaligned(seq);
            }
            control.produced.store(seq + 1, Ordering::Release);
        }
    })?;
    let mut dst = vec![0u8; chunk];
    let mut seq = 0u64;
    let samples = repeat(c.reps, || {
        let start = Instant::now();
        for _ in 0..chunks {
            spin_until(|| control.produced.load(Ordering::Acquire) > seq);
            // SAFETY: the child published slot `seq % nslots` (acquired
            // above) and will not write it again before `consumed` passes
            // `seq`; `dst` is a private buffer of `chunk` bytes.
            unsafe {
                let slot = base.add((seq % nslots) as usize * chunk);
                std::ptr::copy_nonoverlapping(slot, dst.as_mut_ptr(), chunk);
            }
            control.consumed.store(seq + 1, Ordering::Release);
            let got = u64::from_ne_bytes(dst[..8].try_into().expect("8 bytes"));
            if got != seq {
                return Err(format!("ring chunk {seq} holds sequence number {got}").into());
            }
            seq += 1;
        }
        Ok(gib_per_s(c.bulk_bytes, start))
    })?;
    join(child)?;
    Ok(samples)
}

fn through_pipe(c: &Config) -> Res<Vec<f64>> {
    let chunks = c.bulk_bytes / c.chunk;
    let total = chunks * (c.reps + 1);
    let (mut reader, writer) = pipe()?;
    let chunk = c.chunk;
    let child = spawn(move || {
        let mut writer = writer;
        let src = filled(chunk);
        for _ in 0..total {
            writer.write_all(&src).expect("write to pipe");
        }
    })?;
    // The parent's copy of the write end was closed with the child closure:
    // a dead child shows as end-of-file.
    let mut dst = vec![0u8; chunk];
    let samples = repeat(c.reps, || {
        let start = Instant::now();
        for _ in 0..chunks {
            reader.read_exact(&mut dst)?;
        }
        Ok(gib_per_s(c.bulk_bytes, start))
    })?;
    join(child)?;
    Ok(samples)
}
