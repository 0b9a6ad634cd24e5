//! Asymmetric memory barriers between processes: a cheap side that is only
//! a compiler fence, and an expensive side that makes every running thread
//! of every registered process execute a full fence (Linux's
//! `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`).
//!
//! A store followed by a load of another location (a publisher that stores
//! an item, then looks for sleepers; a sleeper that registers, then looks
//! for the item) needs a full fence on both sides, or one of them may miss
//! the other. When one side runs on every operation and the other rarely,
//! the fence can be moved: the frequent side keeps only a compiler fence
//! (so the compiler keeps its store before its load), and the rare side
//! forces a fence into every thread of the frequent side's process at the
//! instant it calls [`heavy`]. Then each frequent thread's store and load
//! fall either both after that fence (its load sees what the rare side
//! stored before calling [`heavy`]) or with the store before it (the rare
//! side's load after [`heavy`] sees the store): one of the two always sees
//! the other, as with two full fences.
//!
//! Only a process that [`register`]ed may take the cheap side, and only
//! Linux has the call: elsewhere (and under Miri) [`register`] says `false`
//! and both sides fence fully, as they would without this module.

/// Registers this process to receive the barriers that [`heavy`] sends:
/// `true` if it is registered, so that its threads may take the cheap side.
/// The registration is kept by a forked child (its memory is a copy of the
/// parent's) and lost at `exec`; calling again is harmless.
///
/// `false` on a system without the call, on a Linux before 4.16 or one
/// built without it, and where a sandbox forbids it (seccomp).
pub(crate) fn register() -> bool {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        // SAFETY: `membarrier` with a registration command takes no
        // pointers; it only marks this process for later barriers.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
                0,
                0,
            )
        };
        rc == 0
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        false
    }
}

/// The expensive side: when it returns, every thread of every registered
/// process that was running executed a full fence (and one that was not
/// running will pass through the kernel, which fences, before it runs
/// again), after what this thread did before the call. `true` when that
/// holds; `false` if the system refused the call while other processes may
/// have registered (a sandbox that forbids it to this process only): then
/// their cheap sides are not covered. Where no process can register (no
/// such call on this system, or a kernel without the command, which
/// `MEMBARRIER_CMD_QUERY` tells once per process) nobody takes the cheap
/// side and there is nothing to cover: `true`.
///
/// It costs a system call and an interrupt of each CPU running a
/// registered process (about 12 µs on a 2-CPU virtual machine). It
/// interrupts every registered process of the system, this crate's or not
/// (liburcu registers for the same barriers).
pub(crate) fn heavy() -> bool {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        // SAFETY: `membarrier` with a barrier command takes no pointers;
        // it only interrupts other CPUs to run a fence.
        let rc =
            unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) };
        rc == 0 || !kernel_has_barrier()
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        true
    }
}

/// Whether this kernel has the global expedited barrier, so that other
/// processes may have registered for it: asked once per process
/// (`MEMBARRIER_CMD_QUERY`). No `membarrier` at all (`ENOSYS`), or a mask
/// without the command: `false`. A refused query (a sandbox) cannot tell:
/// `true`, the cautious answer.
#[cfg(all(target_os = "linux", not(miri)))]
fn kernel_has_barrier() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    // 0: not asked yet; 1: it may have it; 2: it has not.
    static HAS: AtomicU8 = AtomicU8::new(0);
    match HAS.load(Ordering::Relaxed) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    // SAFETY: the query command takes no pointers and changes nothing.
    let mask = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0) };
    let has = if mask >= 0 {
        mask & libc::c_long::from(MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0
    } else {
        std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
    };
    HAS.store(if has { 1 } else { 2 }, Ordering::Relaxed);
    has
}

/// `<linux/membarrier.h>` (not bound by `libc`).
#[cfg(all(target_os = "linux", not(miri)))]
const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
#[cfg(all(target_os = "linux", not(miri)))]
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: libc::c_int = 1 << 1;
#[cfg(all(target_os = "linux", not(miri)))]
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: libc::c_int = 1 << 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore)]
    fn a_registered_process_can_send_barriers_and_a_refusal_says_why() {
        if register() {
            assert!(register(), "registering again is harmless");
            #[cfg(all(target_os = "linux", not(miri)))]
            assert!(
                kernel_has_barrier(),
                "a kernel that registered has the barrier"
            );
            assert!(heavy(), "a registered process's barrier is complete");
        } else {
            // No call (another system), or Linux refused it: no such
            // command (ENOSYS, EINVAL: an old kernel, an emulator) or a
            // sandbox (EPERM). The barrier then covers nobody's cheap side
            // on this process's behalf, and says so where it matters.
            let errno = std::io::Error::last_os_error().raw_os_error();
            assert!(
                !cfg!(target_os = "linux")
                    || matches!(errno, Some(libc::ENOSYS | libc::EINVAL | libc::EPERM)),
                "membarrier refused with {errno:?}"
            );
        }
    }

    /// The store-buffering litmus test, `rounds` times: one thread stores
    /// `x` then loads `y` with only a compiler fence between, the other
    /// stores `y`, then runs `between`, then loads `x`. The count of rounds
    /// in which both loads saw 0 (each missed the other's store).
    fn both_missed(rounds: u32, between: fn()) -> u32 {
        // A pseudo-random spin of 0 to 63 pauses, so that the two threads'
        // stores fall at every distance from each other, some within the
        // time a store waits in its buffer.
        fn delay(seed: u32) {
            let mut h = seed.wrapping_mul(0x9e37_79b9);
            h ^= h >> 15;
            for _ in 0..(h % 64) {
                std::hint::spin_loop();
            }
        }
        use std::sync::atomic::{compiler_fence, AtomicU32, AtomicU64, Ordering::*};
        #[repr(align(128))]
        struct Line(AtomicU64);
        let (x, y) = (Line(AtomicU64::new(0)), Line(AtomicU64::new(0)));
        let (go, done) = (AtomicU32::new(0), AtomicU32::new(0));
        let seen_y = AtomicU64::new(0);
        let mut missed = 0;
        std::thread::scope(|s| {
            s.spawn(|| {
                for round in 1..=rounds {
                    while go.load(Acquire) != round {
                        std::hint::spin_loop();
                    }
                    delay(round);
                    x.0.store(1, Relaxed);
                    compiler_fence(SeqCst);
                    seen_y.store(y.0.load(Relaxed), Relaxed);
                    done.store(round, Release);
                }
            });
            for round in 1..=rounds {
                x.0.store(0, Relaxed);
                y.0.store(0, Relaxed);
                go.store(round, Release);
                delay(round.rotate_left(16));
                y.0.store(1, Relaxed);
                between();
                let seen_x = x.0.load(Relaxed);
                while done.load(Acquire) != round {
                    std::hint::spin_loop();
                }
                if seen_x == 0 && seen_y.load(Relaxed) == 0 {
                    missed += 1;
                }
            }
        });
        missed
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn the_heavy_side_orders_the_light_sides_store_before_its_load() {
        // With `heavy` between the second thread's store and load, the
        // light thread's store and load (a compiler fence apart) can no
        // longer both miss: either its load follows the barrier and sees
        // `y`, or its store precedes it and is seen. With a full fence on
        // the second thread only, both may miss (the light thread's store
        // waits in its store buffer while its load runs): the control,
        // printed, since how often the hardware shows it varies (never,
        // under an emulator that runs threads in order).
        if !register() {
            return;
        }
        let control = both_missed(20_000, || {
            std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst)
        });
        let with_barrier = both_missed(20_000, || assert!(heavy()));
        println!("both missed: {control} of 20000 rounds with one fence, {with_barrier} with the barrier");
        assert_eq!(
            with_barrier, 0,
            "the barrier let both threads miss each other's store"
        );
    }
}
