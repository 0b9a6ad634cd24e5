//! `Shared<T>` over anonymous mappings, shared with forked children.
//!
//! The test harness runs tests on several threads, so children are started
//! with `process::fork_unchecked`: each child only touches atomics in shared
//! memory (no printing, no locks), which its contract allows. Every child is
//! joined with a timeout (killed and reaped if it overruns).

use shm_runtime::{init, process, ErrorKind, HugePages, MapOptions, Shared, SharedSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// Forks a child that runs `f`; see the module comment for why this is sound.
fn spawn(f: impl FnOnce()) -> process::Child {
    // SAFETY: every closure passed here touches only shared atomics and
    // returns (or panics, whose message goes to the harness's per-thread
    // capture buffer, a lock no other thread of the child can hold).
    unsafe { shm_workspace::fork_retrying(f) }.expect("fork")
}

/// Spins until `cond` holds, failing after `LIMIT` instead of hanging.
fn wait_until(cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < LIMIT,
            "condition not reached within {LIMIT:?}"
        );
        std::thread::yield_now();
    }
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Mailbox {
    to_child: AtomicU64,
    to_parent: AtomicU64,
    child_saw: AtomicBool,
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn child_and_parent_see_each_others_writes() {
    let mailbox = Shared::<Mailbox>::anonymous(init::zeroed()).unwrap();
    let child = spawn(|| {
        mailbox.to_parent.store(0xC0FFEE, Ordering::Release);
        wait_until(|| mailbox.to_child.load(Ordering::Acquire) == 0xBEEF);
        mailbox.child_saw.store(true, Ordering::Release);
    });
    wait_until(|| mailbox.to_parent.load(Ordering::Acquire) == 0xC0FFEE);
    mailbox.to_child.store(0xBEEF, Ordering::Release);
    child.join(LIMIT).unwrap();
    assert!(mailbox.child_saw.load(Ordering::Acquire));
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn n_children_times_m_increments_is_exact_every_time() {
    const N: u64 = 4;
    const M: u64 = 50_000;
    for round in 0..3 {
        let counter = Shared::anonymous(AtomicU64::new(0)).unwrap();
        let children: Vec<_> = (0..N)
            .map(|_| {
                spawn(|| {
                    for _ in 0..M {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for child in children {
            child.join(LIMIT).unwrap();
        }
        assert_eq!(counter.load(Ordering::Relaxed), N * M, "round {round}");
    }
}

#[test]
fn quarter_gib_slices_are_correct_at_both_ends() {
    // 1 MiB under Miri, which interprets every write.
    const LEN: usize = if cfg!(miri) { 1 << 20 } else { 256 << 20 } / 8;
    let zeroed = Shared::<[u64]>::anonymous(init::zeroed_slice(LEN)).unwrap();
    assert_eq!(zeroed.len(), LEN);
    assert_eq!((zeroed[0], zeroed[LEN / 2], zeroed[LEN - 1]), (0, 0, 0));
    drop(zeroed);

    let built = Shared::<[u64]>::anonymous(init::from_fn(LEN, |i| i as u64 * 3)).unwrap();
    assert_eq!(built[0], 0);
    assert_eq!(built[1], 3);
    assert_eq!(built[LEN - 1], (LEN as u64 - 1) * 3);
    assert_eq!(built.iter().step_by(4099).map(|&x| x % 3).max(), Some(0));
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn a_shared_slice_of_atomics_is_shared_with_a_child() {
    let slots = Shared::<[AtomicU32]>::anonymous(init::zeroed_slice(1000)).unwrap();
    spawn(|| {
        for (i, slot) in slots.iter().enumerate() {
            slot.store(i as u32 + 1, Ordering::Relaxed);
        }
    })
    .join(LIMIT)
    .unwrap();
    assert!(slots
        .iter()
        .enumerate()
        .all(|(i, s)| s.load(Ordering::Relaxed) == i as u32 + 1));
}

/// Whether `/proc/self/maps` has a mapping of exactly `start..end`.
fn is_mapped(start: usize, end: usize) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().any(|line| {
        let range = line.split(' ').next().unwrap();
        let (s, e) = range.split_once('-').unwrap();
        usize::from_str_radix(s, 16).unwrap() == start
            && usize::from_str_radix(e, 16).unwrap() == end
    })
}

#[test]
#[cfg_attr(miri, ignore = "reads the kernel mappings in /proc/self/maps")]
fn drop_unmaps() {
    let shared = Shared::<[u8; 12345]>::anonymous(init::zeroed()).unwrap();
    let start = shared.as_mut_ptr() as usize;
    let end = start + shared.mapped_len();
    assert_eq!(
        shared.mapped_len(),
        12345usize.next_multiple_of(shm_runtime::page_size())
    );
    assert!(
        is_mapped(start, end),
        "{start:#x}-{end:#x} should be in /proc/self/maps"
    );
    drop(shared);
    // Other tests map memory concurrently, but none of exactly this size.
    assert!(
        !is_mapped(start, end),
        "{start:#x}-{end:#x} should be gone after drop"
    );
}

#[test]
fn mapping_options_give_working_memory() {
    let options = [
        MapOptions::new().prefault(true),
        MapOptions::new()
            .huge_pages(HugePages::Prefer)
            .prefault(true),
        MapOptions::new().lock_in_memory(true),
    ];
    // Fewer pages under Miri, which interprets every write.
    const LEN: usize = if cfg!(miri) { 1 << 14 } else { 1 << 20 };
    for options in options {
        let s = options.anonymous(init::from_fn(LEN, |i| i as u32)).unwrap();
        assert_eq!(s[LEN - 1], LEN as u32 - 1, "{options:?}");
    }
}

fn free_huge_pages() -> u64 {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("HugePages_Free:"))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[test]
#[cfg_attr(miri, ignore = "needs the kernel huge pages")]
fn explicit_huge_pages_fail_clearly_when_none_are_reserved() {
    let result = MapOptions::new()
        .huge_pages(HugePages::Explicit)
        .anonymous(init::zeroed_slice::<u8>(1 << 20));
    if free_huge_pages() == 0 {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfMemory);
        assert!(err.to_string().contains("nr_hugepages"), "{err}");
    } else {
        assert_eq!(result.unwrap().len(), 1 << 20);
    }
}

#[derive(SharedSafe, Debug)]
#[repr(C, align(65536))]
struct OverAligned {
    x: u8,
}

#[test]
fn alignment_beyond_a_page_is_an_error_not_ub() {
    let err = Shared::anonymous(OverAligned { x: 1 }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSize);
    assert!(err.to_string().contains("alignment 65536"), "{err}");
}

#[test]
fn oversized_slices_are_an_error() {
    let err = Shared::<[u64]>::anonymous(init::zeroed_slice(usize::MAX / 2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSize);
    // 2^60 bytes: a valid size no machine can back. (A 32-bit address space
    // has no such size: the first case covers it there.)
    #[cfg(target_pointer_width = "64")]
    {
        let err = Shared::<[u8]>::anonymous(init::zeroed_slice(1 << 60)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfMemory, "{err}");
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
fn safe_fork_refuses_a_multi_threaded_process() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || rx.recv());
    let err = process::fork(|| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MultiThreaded);
    tx.send(()).unwrap();
    other.join().unwrap().unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn a_panicking_child_reports_failure_and_a_stuck_one_is_killed() {
    let err = spawn(|| panic!("deliberate")).join(LIMIT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChildFailed);
    assert!(err.to_string().contains("101"), "{err}");

    let start = Instant::now();
    let err = spawn(|| loop {
        std::hint::spin_loop()
    })
    .join(Duration::from_millis(200))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() < LIMIT);
}

/// A panic payload whose `Drop` panics again must not unwind the child back
/// into the caller's code (which would run the parent's destructors there).
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn a_child_never_unwinds_into_the_caller() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("a payload that panics when dropped");
        }
    }
    let flag = Shared::anonymous(AtomicU32::new(0)).unwrap();
    struct SetOnDrop<'a>(&'a AtomicU32);
    impl Drop for SetOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(1, Ordering::SeqCst);
        }
    }
    {
        // Were the child to unwind out of `fork_unchecked`, it would run
        // this destructor (in the child), setting the shared flag.
        let _caller_state = SetOnDrop(&flag);
        let err = spawn(|| std::panic::panic_any(Bomb))
            .join(LIMIT)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ChildFailed);
        assert!(err.to_string().contains("101"), "{err}");
        assert_eq!(
            flag.load(Ordering::SeqCst),
            0,
            "the child ran the caller's destructor"
        );
    }
    assert_eq!(flag.load(Ordering::SeqCst), 1);
}
