//! A struct with `FixedString`, `FixedVec`, `RelPtr` and `PodField` fields,
//! shared between a parent and a forked child through `Shared<T>`.
//!
//! The harness runs tests on threads, so the child is started with
//! `process::fork_unchecked`: it touches only shared memory and atomics (and
//! panics into the harness's per-thread capture buffer if a check fails).
//! The parent joins it with a timeout, so a stuck child fails the test.

use shm_runtime::{init, FixedString, FixedVec, PodField, RelPtr, Shared, SharedSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// A foreign `Pod` type, as a math crate would define it.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Vec3 {
    x: f32,
    y: f32,
    z: f32,
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Team {
    title: FixedString<32>,
    members: FixedVec<FixedString<16>, 8>,
    scores: FixedVec<AtomicU32, 8>,
    captain: RelPtr<FixedString<16>>,
    origin: PodField<Vec3>,
}

/// Handshake between the two processes, in a mapping of its own so that the
/// child may hold `&mut Team` while the parent keeps reading the flags.
#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Flags {
    child_counted: AtomicU32,
    parent_done: AtomicU32,
}

fn wait_until(cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LIMIT, "not reached within {LIMIT:?}");
        std::thread::yield_now();
    }
}

const ROUNDS: u32 = 10_000;

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn fixed_types_are_shared_with_a_forked_child() {
    let mut team = Shared::anonymous(init::in_place(|team: &mut Team| {
        team.title.push_str("Analytical Engines");
        for name in ["ada", "charles", "grace"] {
            team.members.push(name.parse().unwrap());
            team.scores.push(AtomicU32::new(0));
        }
        team.captain.set(&team.members[0]);
        team.origin.set(Vec3 {
            x: 1.0,
            y: 2.0,
            z: 3.0,
        });
    }))
    .unwrap();
    let flags = Shared::<Flags>::anonymous(init::zeroed()).unwrap();

    let in_child = || {
        // 1. The child sees what the parent wrote.
        assert_eq!(team.title, "Analytical Engines");
        assert_eq!(team.members.len(), 3);
        assert!(team
            .members
            .iter()
            .map(|m| m.as_str())
            .eq(["ada", "charles", "grace"]));
        let captain = team.captain.get_in(&team.members).unwrap();
        assert_eq!(captain, "ada");
        assert_eq!(
            team.origin.get(),
            Vec3 {
                x: 1.0,
                y: 2.0,
                z: 3.0
            }
        );

        // 2. Both processes count in the same atomics at once.
        for _ in 0..ROUNDS {
            for score in team.scores.iter() {
                score.fetch_add(1, Ordering::Relaxed);
            }
        }
        flags.child_counted.store(1, Ordering::Release);

        // 3. Once the parent has stopped touching `team`, the child
        //    edits the fixed-capacity fields in place.
        wait_until(|| flags.parent_done.load(Ordering::Acquire) == 1);
        // SAFETY: the parent no longer reads or writes `team` until it
        // has joined this child (it only reads `flags`), and this
        // process uses no other reference to it meanwhile.
        let team = unsafe { team.get_mut_unchecked() };
        team.title.clear();
        team.title.push_str("Compilers");
        let removed = team.members.remove(1);
        assert_eq!(removed, "charles");
        team.members.push(FixedString::try_from("hopper").unwrap());
        assert!(team.members.try_push("x".parse().unwrap()).is_ok());
        team.scores.swap_remove(0);
        team.captain.set(&team.members[1]); // "grace"
        team.origin.z = -3.0;
    };
    // SAFETY: the child touches only the two shared mappings (reads, atomics,
    // and writes through `get_mut_unchecked` under the contract argued
    // there), and allocates nothing unless a check fails.
    let mut child = unsafe { shm_workspace::fork_retrying(in_child) }.unwrap();

    for _ in 0..ROUNDS {
        for score in team.scores.iter() {
            score.fetch_add(1, Ordering::Relaxed);
        }
    }
    // Wait for the child, failing at once if it exits early (a failed check).
    let start = Instant::now();
    while flags.child_counted.load(Ordering::Acquire) == 0 {
        if let Some(status) = child.wait_timeout(Duration::ZERO).unwrap() {
            panic!("the child exited before counting: {status}");
        }
        assert!(
            start.elapsed() < LIMIT,
            "the child did not count within {LIMIT:?}"
        );
        std::thread::yield_now();
    }
    let scores: Vec<u32> = team
        .scores
        .iter()
        .map(|s| s.load(Ordering::Relaxed))
        .collect();
    assert_eq!(scores, [2 * ROUNDS; 3]);
    flags.parent_done.store(1, Ordering::Release);
    child.join(LIMIT).unwrap();

    // The parent sees the child's edits, through its own view.
    // SAFETY: the child has exited; no other process maps `team` any more.
    let team = unsafe { team.get_mut_unchecked() };
    assert_eq!(team.title, "Compilers");
    assert!(team
        .members
        .iter()
        .map(|m| m.as_str())
        .eq(["ada", "grace", "hopper", "x"]));
    assert_eq!(team.scores.len(), 2);
    assert_eq!(team.captain.get_in(&team.members).unwrap(), "grace");
    assert_eq!(team.captain.index_in(&team.members), Some(1));
    assert_eq!(team.origin.z, -3.0);
    // And may go on editing.
    team.members.clear();
    assert!(team.captain.get_in(&team.members).is_none());
}
