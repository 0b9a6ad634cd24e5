//! Every bounded wait returns a timeout error instead of hanging, also when
//! the holder is another process.
//!
//! Children are forked with `fork_unchecked` (the harness is multi-threaded)
//! and touch only shared memory and shm_runtime's primitives.

use shm_runtime::{init, process::Child};
use shm_runtime::{ErrorKind, Shared, SharedSafe, ShmCondvar, ShmEvent, ShmMutex, ShmSemaphore};
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(50);

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: the children below touch only shared memory and shm_runtime's
    // process-shared primitives.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

fn assert_bounded(start: Instant) {
    let elapsed = start.elapsed();
    assert!(elapsed >= SHORT, "returned early: {elapsed:?}");
    assert!(
        elapsed < SHORT + Duration::from_secs(5),
        "too late: {elapsed:?}"
    );
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Held {
    mutex: ShmMutex<u32>,
    holding: ShmEvent,
    release: ShmEvent,
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_timeout_lock_timeout_on_a_mutex_held_by_another_process() {
    let held = Shared::<Held>::anonymous(init::zeroed()).unwrap();
    drop(held.mutex.lock().unwrap());
    let child = fork(|| {
        let _guard = held.mutex.lock();
        held.holding.set();
        let _ = held.release.wait_timeout(Duration::from_secs(60));
    });
    held.holding.wait_timeout(Duration::from_secs(30)).unwrap();
    let start = Instant::now();
    let err = held.mutex.lock_timeout(SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_bounded(start);
    held.release.set();
    child.join(Duration::from_secs(60)).unwrap();
    assert!(held.mutex.lock_timeout(SHORT).unwrap().is_ok());
}

#[test]
fn sync_timeout_condvar_wait_timeout() {
    let mutex = Shared::anonymous(ShmMutex::new(0u8)).unwrap();
    let cv = Shared::anonymous(ShmCondvar::new()).unwrap();
    let start = Instant::now();
    let (guard, result) = cv.wait_timeout(mutex.lock().unwrap(), SHORT).unwrap();
    assert!(result.timed_out());
    assert_bounded(start);
    drop(guard);
    let start = Instant::now();
    let (_guard, result) = cv
        .wait_timeout_while(mutex.lock().unwrap(), SHORT, |v| *v == 0)
        .unwrap();
    assert!(result.timed_out());
    assert_bounded(start);
}

#[test]
fn sync_timeout_event_wait_timeout() {
    let event = Shared::anonymous(ShmEvent::new()).unwrap();
    let start = Instant::now();
    assert_eq!(
        event.wait_timeout(SHORT).unwrap_err().kind(),
        ErrorKind::TimedOut
    );
    assert_bounded(start);
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_timeout_semaphore_acquire_timeout() {
    let sem = Shared::anonymous(ShmSemaphore::new(1)).unwrap();
    // Another process takes the only permit and never gives it back.
    fork(|| sem.acquire())
        .join(Duration::from_secs(30))
        .unwrap();
    let start = Instant::now();
    let err = sem.acquire_timeout(SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_bounded(start);
}

/// `lock_or_repair_timeout` on a mutex that a live process holds times out
/// within its bound, running neither closure.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_timeout_lock_or_repair_timeout_on_a_mutex_held_by_another_process() {
    let held = Shared::<Held>::anonymous(init::zeroed()).unwrap();
    drop(held.mutex.lock().unwrap());
    let child = fork(|| {
        let _guard = held.mutex.lock();
        held.holding.set();
        let _ = held.release.wait_timeout(Duration::from_secs(60));
    });
    held.holding.wait_timeout(Duration::from_secs(30)).unwrap();
    let start = Instant::now();
    let err = held
        .mutex
        .lock_or_repair_timeout(
            SHORT,
            |_| panic!("nothing to repair"),
            || panic!("nothing to reset"),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_bounded(start);
    held.release.set();
    child.join(Duration::from_secs(60)).unwrap();
    let guard = held
        .mutex
        .lock_or_repair_timeout(SHORT, |_| panic!("consistent"), || 0)
        .unwrap();
    assert_eq!(*guard, 0);
}
