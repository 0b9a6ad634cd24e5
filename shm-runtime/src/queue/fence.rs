//! How a push or pop orders the store that publishes an item (or frees a
//! slot) with its look for sleepers: with full fences, or with a compiler
//! fence and a process-wide barrier on the sleepers' side.

#[cfg(not(all(test, loom)))]
use crate::platform::barrier;
#[cfg(not(all(test, loom)))]
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

/// How a push or pop orders its publishing store (or its release of a
/// slot) with its look for sleepers, the one place of the fast path that
/// needs a store ordered before a later load of another word.
///
/// A sleeper registers (`sleepers += 1`), then looks at the slot once more
/// before it sleeps; a publisher stores the slot, then looks at `sleepers`.
/// Unless both pairs are fenced, each may miss the other's store and the
/// sleeper sleep through the item (until its slice ends, see [`MAX_SLICE`](super::MAX_SLICE)).
/// [`Full`](Barrier::Full): the publisher's store and load are `SeqCst`, as
/// is the sleeper's side. [`Light`](Barrier::Light): the publisher's store
/// is `Release` and its load `Relaxed`, with a compiler fence between them,
/// and the sleeper makes up for the missing fence: after registering it
/// makes every thread of every light process execute a full fence
/// ([`barrier::heavy`]), so each light publisher's store and load either
/// both follow that fence (its load sees the registration) or its store
/// precedes it (the sleeper's look sees the store). That moves the cost of
/// the fence (a locked instruction on every operation) to the sleepers, who
/// are about to make a system call anyway.
///
/// A process is light once it registered for those barriers (Linux 4.16 and
/// later, see [`light`]); any other uses full fences, which pair with
/// either kind of sleeper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(all(test, loom), allow(dead_code))] // the models publish with `Full`
pub(super) enum Barrier {
    /// `SeqCst` on both sides.
    Full,
    /// A compiler fence here, a process-wide barrier on the sleeper's side.
    Light,
}

impl Barrier {
    /// The ordering of the publishing (or releasing) store.
    #[inline(always)]
    pub(super) fn store(self) -> Ordering {
        match self {
            Barrier::Full => Ordering::SeqCst,
            Barrier::Light => Ordering::Release,
        }
    }

    /// The ordering of the load of the sleepers that follows the store,
    /// after the compiler fence that a light side needs (the hardware may
    /// still run the load first: the sleeper's barrier covers that).
    #[inline(always)]
    #[cfg_attr(all(test, loom), allow(dead_code))] // `notify` is not modelled
    pub(super) fn load_after_store(self) -> Ordering {
        match self {
            Barrier::Full => Ordering::SeqCst,
            Barrier::Light => {
                std::sync::atomic::compiler_fence(Ordering::SeqCst);
                Ordering::Relaxed
            }
        }
    }
}

/// The barrier this process publishes with, in fork generation
/// `generation`: [`Barrier::Light`] once it registered for process-wide
/// barriers (checked once per process and fork generation: the child of a
/// `fork` registers again, which is harmless, since the kernel copies the
/// registration), else [`Barrier::Full`]. Under the model checker, always
/// full (it models fences, not the kernel's barrier): not built there.
#[cfg(not(all(test, loom)))]
#[inline(always)]
pub(super) fn light(generation: u64) -> Barrier {
    // `(generation + 1) << 1 | registered`; 0 before the first check.
    static CHECKED: AtomicU64 = AtomicU64::new(0);
    // `Acquire`: pairs with the `Release` below, after the registration
    // returned (the kernel's state is what matters; this keeps the order
    // explicit for the threads that did not register themselves).
    let seen = CHECKED.load(Ordering::Acquire);
    if seen >> 1 == generation.wrapping_add(1) {
        return if seen & 1 == 1 {
            Barrier::Light
        } else {
            Barrier::Full
        };
    }
    register_light(&CHECKED, generation)
}

#[cfg(not(all(test, loom)))]
#[cold]
#[inline(never)]
fn register_light(checked: &AtomicU64, generation: u64) -> Barrier {
    let registered = barrier::register();
    checked.store(
        (generation.wrapping_add(1) << 1) | u64::from(registered),
        Ordering::Release,
    );
    if registered {
        Barrier::Light
    } else {
        Barrier::Full
    }
}
