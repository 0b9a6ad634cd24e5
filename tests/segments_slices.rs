//! `open_or_create` for slice segments: of several processes racing, exactly
//! one creates and initializes; the others wait and see the whole slice.
//!
//! Children are forked with `fork_unchecked` (the harness is multi-threaded);
//! they touch only shared memory and segments, and are joined with a timeout.

use shm_runtime::{init, Segment, Shared};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Removes the segment when the test ends, even when it fails.
struct Remove(String);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = shm_runtime::segment::unlink(&self.0);
    }
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn racing_slice_open_or_create_has_exactly_one_creator() {
    const PROCESSES: usize = 8;
    const LEN: usize = 100_000;
    for round in 0..3 {
        let name = format!("/shm-slices-race-{}-{round}", std::process::id());
        let _remove = Remove(name.clone());
        let creators = Shared::anonymous(AtomicU32::new(0)).unwrap();
        let good = Shared::anonymous(AtomicU32::new(0)).unwrap();
        let children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                let child = || {
                    let slice = Segment::posix(&name)
                        .open_or_create(init::from_fn(LEN, |i| {
                            if i == 0 {
                                creators.fetch_add(1, Ordering::SeqCst);
                            }
                            AtomicU64::new(i as u64 * 7)
                        }))
                        .expect("open_or_create(init::from_fn(..))");
                    let whole = slice.len() == LEN
                        && slice
                            .iter()
                            .enumerate()
                            .all(|(i, x)| x.load(Ordering::Relaxed) == i as u64 * 7);
                    if whole {
                        good.fetch_add(1, Ordering::SeqCst);
                    }
                };
                // SAFETY: the child touches only shared memory and segments.
                unsafe { shm_workspace::fork_retrying(child) }.unwrap()
            })
            .collect();
        for child in children {
            child.join(LIMIT).unwrap();
        }
        assert_eq!(creators.load(Ordering::SeqCst), 1, "round {round}");
        assert_eq!(
            good.load(Ordering::SeqCst),
            PROCESSES as u32,
            "round {round}"
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn an_existing_slice_keeps_its_length_and_a_value_segment_is_refused() {
    let name = format!("/shm-slices-len-{}", std::process::id());
    let _remove = Remove(name.clone());
    let first = Segment::posix(&name)
        .open_or_create(init::zeroed_slice::<u32>(10))
        .unwrap();
    let second = Segment::posix(&name)
        .open_or_create(init::zeroed_slice::<u32>(99))
        .unwrap();
    assert_eq!((first.len(), second.len()), (10, 10));
    let err = Segment::posix(&name).open_or_create(0u32).unwrap_err();
    assert_eq!(err.kind(), shm_runtime::ErrorKind::WrongType, "{err}");
}
