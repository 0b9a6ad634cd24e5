//! The soundness model, case by case: bytes that safe code (or a corrupted
//! disk) can forge are checked before any `&T` of them exists; a value torn
//! by a killed lock holder is never handed out as a `T`; values written into
//! shared memory carry no byte of the writer's stack; fingerprints keep
//! every bit of an enum's discriminant; a segment of an older header format
//! is `UnsupportedVersion`.
//!
//! Children are forked with `fork_unchecked` (the harness runs tests on
//! several threads); each touches only shared memory and this crate's
//! process-shared primitives, then `_exit`s.

use shm_runtime::layout::{LayoutKind, TypeLayout};
use shm_runtime::segment::Segment;
use shm_runtime::{init, process::Child};
use shm_runtime::{ErrorKind, FixedVec, Shared, SharedSafe, ShmMutex};
use shm_workspace::{exit_child, TempPath};
use std::mem::{offset_of, size_of, MaybeUninit};
use std::num::{NonZeroU128, NonZeroU32};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const JOIN: Duration = Duration::from_secs(60);
/// Where a segment's payload starts (the header is 256 bytes).
const PAYLOAD: u64 = 256;

/// A file segment in the temporary directory, removed when dropped (also
/// when the test fails).
struct TempSegment {
    path: TempPath,
}

impl TempSegment {
    fn new(tag: &str) -> TempSegment {
        TempSegment {
            path: TempPath::new(&format!("soundness-{tag}")),
        }
    }

    fn segment(&self) -> Segment {
        Segment::file(&self.path.0)
    }

    /// Writes `bytes` at `offset` of the file, as a program outside this
    /// library (or a failing disk) would.
    fn forge(&self, offset: u64, bytes: &[u8]) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.path.0)
            .unwrap();
        file.write_all_at(bytes, offset).unwrap();
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path.0).unwrap()
    }
}

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: every child here touches only shared memory and this crate's
    // process-shared primitives, then returns or `_exit`s.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

#[derive(SharedSafe, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
enum Mode {
    Idle = 0,
    Busy = 7,
}

#[derive(SharedSafe, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Inner {
    flags: [bool; 4],
    mode: Mode,
}

#[derive(SharedSafe, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Outer {
    id: NonZeroU32,
    inner: Inner,
    letter: char,
}

fn outer() -> Outer {
    Outer {
        id: NonZeroU32::new(9).unwrap(),
        inner: Inner {
            flags: [true, false, true, false],
            mode: Mode::Busy,
        },
        letter: 'é',
    }
}

fn open_error<T: SharedSafe>(segment: &Segment) -> shm_runtime::Error {
    match segment.open::<T>() {
        Ok(_) => panic!("a forged segment was opened"),
        Err(e) => e,
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn forged_bytes_are_refused_before_any_reference_exists() {
    let temp = TempSegment::new("forged");
    let created = temp.segment().create(outer()).unwrap();
    // A valid value opens.
    assert_eq!(*temp.segment().open::<Outer>().unwrap(), outer());

    let base = PAYLOAD + offset_of!(Outer, inner) as u64;
    let cases: [(u64, &[u8], &str); 5] = [
        (
            base + 2,
            &[2],
            "`inner.flags[2]` holds 0x02, which is not a valid `bool`",
        ),
        (
            base + offset_of!(Inner, mode) as u64,
            &[3],
            "`inner.mode` holds 0x03, which is not a valid `Mode`",
        ),
        (
            PAYLOAD,
            &0u32.to_ne_bytes(),
            "`id` holds 0x00, which is not a valid `NonZeroU32`",
        ),
        (
            PAYLOAD + offset_of!(Outer, letter) as u64,
            &0xD800u32.to_ne_bytes(),
            "`letter` holds 0xd800, which is not a valid `char`",
        ),
        (
            PAYLOAD + offset_of!(Outer, letter) as u64,
            &0x11_0000u32.to_ne_bytes(),
            "`letter` holds 0x110000, which is not a valid `char`",
        ),
    ];
    let good = temp.bytes();
    for (offset, bytes, message) in cases {
        temp.forge(offset, bytes);
        let err = open_error::<Outer>(&temp.segment());
        assert_eq!(err.kind(), ErrorKind::InvalidValue, "{err}");
        assert!(err.to_string().contains(message), "{err}");
        // Put the good bytes back for the next case.
        temp.forge(0, &good);
        assert!(temp.segment().open::<Outer>().is_ok());
    }
    drop(created);
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_forged_header_with_invalid_bools_is_refused() {
    // The attack of the soundness issue: a header copied from a genuine
    // `[bool; 4]` segment, followed by the bytes 2, 3, 4, 5, all written
    // with safe code (`std::fs::write`).
    let genuine = TempSegment::new("genuine");
    drop(genuine.segment().create([true; 4]).unwrap());
    let mut forged_bytes = genuine.bytes();
    forged_bytes[PAYLOAD as usize..PAYLOAD as usize + 4].copy_from_slice(&[2, 3, 4, 5]);
    let forged = TempSegment::new("forged-header");
    std::fs::write(&forged.path.0, &forged_bytes).unwrap();
    let err = open_error::<[bool; 4]>(&forged.segment());
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    assert!(err.to_string().contains("`[0]` holds 0x02"), "{err}");
    // The read-only open checks too.
    let err = forged.segment().read_only().open::<[u8; 4]>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType, "another type: {err}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn slice_elements_are_checked_and_named_by_index() {
    let temp = TempSegment::new("slice");
    let created = temp
        .segment()
        .create(init::from_fn(100, |i| i % 3 == 0))
        .unwrap();
    assert_eq!(temp.segment().open::<[bool]>().unwrap().len(), 100);
    temp.forge(PAYLOAD + 57, &[9]);
    let err = temp.segment().open::<[bool]>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    assert!(err.to_string().contains("`[57]` holds 0x09"), "{err}");
    drop(created);
}

#[test]
#[cfg_attr(miri, ignore)]
fn values_inside_locks_are_not_read_at_open() {
    // The value inside a mutex may be written by its holder while another
    // process opens the segment: opening must not read it (that would be a
    // data race), so a segment whose lock-guarded value is no valid `T`
    // still opens. It is checked when a lock is taken over from a dead
    // owner (below); bytes forged into it behind a consistent lock are
    // outside the protocol (see the README's soundness section).
    let temp = TempSegment::new("lock-value");
    let created = temp.segment().create(ShmMutex::new(true)).unwrap();
    let value_at = PAYLOAD + offset_of_value::<bool>() as u64;
    temp.forge(value_at, &[5]);
    assert!(temp.segment().open::<ShmMutex<bool>>().is_ok());
    // The plain parts around it are checked as usual.
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Guarded {
        lock: ShmMutex<bool>,
        ready: bool,
    }
    let temp = TempSegment::new("lock-and-plain");
    drop(
        temp.segment()
            .create(Guarded {
                lock: ShmMutex::new(false),
                ready: true,
            })
            .unwrap(),
    );
    temp.forge(PAYLOAD + offset_of!(Guarded, ready) as u64, &[2]);
    let err = open_error::<Guarded>(&temp.segment());
    assert!(err.to_string().contains("`ready` holds 0x02"), "{err}");
    drop(created);
}

/// Where `ShmMutex<T>` keeps its value, from its layout description.
fn offset_of_value<T: SharedSafe>() -> usize {
    let LayoutKind::Library { fields, .. } = ShmMutex::<T>::LAYOUT.kind else {
        panic!("ShmMutex is a library type");
    };
    fields.iter().find(|f| f.name == "value").unwrap().offset
}

/// A child locks `m`, leaves its value as no valid `T` (as a `SIGKILL`
/// between the two stores of a 16-byte value would), and dies holding it.
fn die_leaving_torn<T: SharedSafe>(m: &ShmMutex<T>, byte: u8) {
    let child = fork(|| {
        let guard = m.lock().unwrap_or_else(|_| exit_child(3));
        let value: *const T = &*guard;
        // SAFETY: this process holds the lock, and dies at once after
        // writing: no reference to the value is used after the write.
        unsafe {
            value
                .cast_mut()
                .cast::<u8>()
                .write_bytes(byte, size_of::<T>())
        };
        exit_child(0)
    });
    child.join(JOIN).unwrap();
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_torn_value_is_never_handed_out_by_any_lock_path() {
    let m = Shared::anonymous(ShmMutex::new(NonZeroU128::new(1 << 64).unwrap())).unwrap();

    // lock
    die_leaving_torn(&m, 0);
    let died = m.lock().unwrap_err();
    assert!(died.invalid().unwrap().to_string().contains("NonZeroU128"));
    assert!(died.get_ref().is_none());
    let torn = died.into_inner().unwrap_err();
    assert!(torn.bytes().iter().all(|b| unsafe { b.assume_init() } == 0));
    let guard = torn.reset(NonZeroU128::new(7).unwrap());
    assert_eq!(guard.get(), 7);
    drop(guard);
    assert_eq!(m.lock().unwrap().get(), 7, "reset marks it consistent");

    // try_lock
    die_leaving_torn(&m, 0);
    let mut spins = 0;
    let died = loop {
        match m.try_lock() {
            Err(shm_runtime::sync::TryLockError::OwnerDied(died)) => break died,
            Err(shm_runtime::sync::TryLockError::WouldBlock) if spins < 10_000 => {
                spins += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            other => panic!("try_lock: {other:?}"),
        }
    };
    assert!(died.into_inner().is_err());
    // (still inconsistent and torn: the next locker is told again)

    // lock_timeout
    let died = m.lock_timeout(JOIN).unwrap().unwrap_err();
    let mut died = died;
    assert!(died.get_mut().is_none());
    drop(
        died.into_inner()
            .unwrap_err()
            .reset(NonZeroU128::new(8).unwrap()),
    );

    // lock_or_repair: the repair closure never sees the torn value.
    die_leaving_torn(&m, 0);
    let repaired = m.lock_or_repair(
        |_| panic!("a torn value reached the repair closure"),
        || NonZeroU128::new(9).unwrap(),
    );
    assert_eq!(repaired.get(), 9);
    drop(repaired);
    assert!(!m.is_inconsistent());

    // lock_consistent: an error (saying the value is torn), no guard; the
    // mutex stays marked, and the torn value is still refused after it.
    die_leaving_torn(&m, 0);
    let err = m.lock_consistent().expect_err("an error");
    assert_eq!(err.kind(), shm_runtime::ErrorKind::OwnerDied, "{err}");
    assert!(err.to_string().contains("not even a valid value"), "{err}");
    assert!(m.is_inconsistent());
    assert!(m.lock().unwrap_err().into_inner().is_err(), "still torn");

    // lock_or_repair_timeout: as lock_or_repair, bounded.
    let repaired = m
        .lock_or_repair_timeout(
            JOIN,
            |_| panic!("a torn value reached the repair closure"),
            || NonZeroU128::new(10).unwrap(),
        )
        .unwrap();
    assert_eq!(repaired.get(), 10);
    drop(repaired);
    assert!(!m.is_inconsistent());
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_valid_value_after_an_owner_death_keeps_the_repair_path() {
    let m = Shared::anonymous(ShmMutex::new([Mode::Idle; 4])).unwrap();
    // 7 is `Mode::Busy`: the dead owner left valid (if unfinished) data.
    die_leaving_torn(&m, 7);
    let died = m.lock().unwrap_err();
    assert!(died.invalid().is_none());
    let guard = died.into_repaired(|v| v[0] = Mode::Idle, || panic!("not torn"));
    assert_eq!(*guard, [Mode::Idle, Mode::Busy, Mode::Busy, Mode::Busy]);
    drop(guard);
    // 1 is no `Mode`.
    die_leaving_torn(&m, 1);
    let torn = m.lock().unwrap_err().into_inner().unwrap_err();
    assert!(
        torn.invalid().to_string().contains("`[0]` holds 0x01"),
        "{}",
        torn.invalid()
    );
    drop(torn.reset([Mode::Busy; 4]));
    assert_eq!(*m.lock().unwrap(), [Mode::Busy; 4]);
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_condvar_relock_after_a_torn_death_gives_no_guard() {
    use shm_runtime::ShmCondvar;
    #[derive(SharedSafe, bytemuck::Zeroable)]
    #[repr(C)]
    struct Slot {
        flag: ShmMutex<Option32>,
        changed: ShmCondvar,
    }
    #[derive(SharedSafe, bytemuck::Zeroable, Clone, Copy, Debug)]
    #[repr(C)]
    struct Option32 {
        set: bool,
        value: u32,
    }
    let slot = Shared::<Slot>::anonymous(init::zeroed()).unwrap();
    let waiting = Shared::anonymous(AtomicBool::new(false)).unwrap();
    // Forked before the parent locks (no fork while a guard is held).
    let child = fork(|| {
        // Once the parent sleeps on the condvar, takes the lock the wait
        // released, tears the value and dies holding it.
        while !waiting.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        let g = slot.flag.lock().unwrap_or_else(|_| exit_child(3));
        let value: *const Option32 = &*g;
        // SAFETY: this process holds the lock and dies right after.
        unsafe { value.cast_mut().cast::<u8>().write(2) };
        slot.changed.notify_all();
        exit_child(0)
    });
    let guard = slot.flag.lock().unwrap();
    waiting.store(true, Ordering::Release);
    let died = match slot.changed.wait_timeout(guard, JOIN) {
        Ok(_) => panic!("the child died holding the lock"),
        Err(died) => died,
    };
    assert!(died.get_ref().is_none());
    let torn = died.into_inner().unwrap_err();
    assert!(torn.invalid().to_string().contains("`set` holds 0x02"));
    let (guard, _) = torn.reset(Option32 {
        set: false,
        value: 0,
    });
    assert!(!guard.set);
    drop(guard);
    child.join(JOIN).unwrap();
}

#[test]
#[cfg_attr(miri, ignore)]
fn writers_killed_at_random_never_leave_a_reachable_invalid_value() {
    // A writer alternates between two values whose halves, mixed, make
    // zero (an invalid `NonZeroU128`), and is SIGKILLed at random moments.
    // Whatever the compiler made of the 16-byte store, no lock path may
    // hand out a zero.
    const KILLS: usize = 100;
    let a = NonZeroU128::new(1 << 64).unwrap();
    let b = NonZeroU128::new(1).unwrap();
    let m = Shared::anonymous(ShmMutex::new(a)).unwrap();
    let (mut torn, mut valid) = (0, 0);
    for round in 0..KILLS {
        let mut child = fork(|| {
            let mut flip = false;
            loop {
                match m.lock() {
                    Ok(mut guard) => {
                        *guard = if flip { a } else { b };
                        flip = !flip;
                    }
                    Err(_) => exit_child(4),
                }
            }
        });
        std::thread::sleep(Duration::from_micros(200 + (round as u64 * 37) % 1500));
        // SIGKILL, then reaped.
        child.kill().unwrap();
        match m.lock_timeout(JOIN).unwrap() {
            Ok(guard) => assert!(*guard == a || *guard == b),
            Err(died) => match died.into_inner() {
                Ok(mut guard) => {
                    valid += 1;
                    assert!(*guard == a || *guard == b);
                    shm_runtime::ShmMutexGuard::mark_consistent(&mut guard);
                }
                Err(t) => {
                    torn += 1;
                    drop(t.reset(a));
                }
            },
        }
    }
    eprintln!("{KILLS} kills: {valid} died holding a valid value, {torn} left it torn");
}

#[test]
fn enum_fingerprints_keep_every_bit_of_the_discriminant() {
    #[derive(SharedSafe)]
    #[repr(u128)]
    enum Low {
        A = 1,
        B = 2,
    }
    #[derive(SharedSafe)]
    #[repr(u128)]
    enum High {
        A = 1 | (1 << 64),
        B = 2,
    }
    #[derive(SharedSafe)]
    #[repr(i128)]
    enum Negative {
        A = -1,
        B = 2,
    }
    #[derive(SharedSafe)]
    #[repr(i128)]
    enum Wide {
        A = u64::MAX as i128,
        B = 2,
    }
    let _ = (Low::A, Low::B, High::A, High::B);
    let _ = (Negative::A, Negative::B, Wide::A, Wide::B);
    assert_ne!(Low::FINGERPRINT, High::FINGERPRINT);
    // -1 and 2^64 - 1 agree in their low 64 bits.
    assert_ne!(Negative::FINGERPRINT, Wide::FINGERPRINT);
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_enum_differing_above_bit_63_does_not_open_as_the_other() {
    mod one {
        #[derive(shm_runtime::SharedSafe, Clone, Copy)]
        #[repr(u128)]
        pub enum Code {
            A = 1,
            B = 2,
        }
    }
    mod other {
        #[derive(shm_runtime::SharedSafe, Clone, Copy, Debug)]
        #[repr(u128)]
        pub enum Code {
            A = 1 | (1 << 64),
            B = 2,
        }
    }
    let _ = (one::Code::B, other::Code::B);
    let temp = TempSegment::new("enum128");
    let created = temp.segment().create(one::Code::A).unwrap();
    let err = temp.segment().open::<other::Code>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType);
    drop(created);
}

#[test]
#[cfg_attr(miri, ignore)]
fn segments_of_the_previous_header_format_are_unsupported_not_wrong() {
    let temp = TempSegment::new("format1");
    drop(temp.segment().create(5u64).unwrap());
    temp.forge(8, &1u32.to_ne_bytes());
    let err = temp.segment().open::<u64>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedVersion, "{err}");
    assert!(err.to_string().contains("older version"), "{err}");
}

#[derive(SharedSafe, Clone, Copy)]
#[repr(C)]
struct Padded {
    tag: u8,
    values: [u64; 8],
}

/// A `Padded` whose padding bytes hold 0xAA, as a dirty stack would.
fn dirty_padded() -> Padded {
    let mut value = MaybeUninit::<Padded>::uninit();
    // SAFETY: fills the whole value, then writes every field: a valid
    // `Padded` whose padding bytes (in practice) still hold 0xAA.
    unsafe {
        value
            .as_mut_ptr()
            .cast::<u8>()
            .write_bytes(0xAA, size_of::<Padded>());
        std::ptr::addr_of_mut!((*value.as_mut_ptr()).tag).write(1);
        std::ptr::addr_of_mut!((*value.as_mut_ptr()).values).write([2; 8]);
        value.assume_init()
    }
}

fn padding_of(bytes: &[u8]) -> &[u8] {
    &bytes[1..offset_of!(Padded, values)]
}

/// The padding between `tag` and `values`, zeroed: 7 bytes where a `u64`
/// is 8-aligned, 3 on i686 (where it is 4-aligned).
const NO_PADDING: &[u8] = &[0; offset_of!(Padded, values) - 1];

#[test]
#[cfg_attr(miri, ignore)]
fn values_land_in_shared_memory_with_zeroed_padding() {
    assert!(Padded::LAYOUT.has_padding());
    // create(value)
    let temp = TempSegment::new("padding");
    let created = temp.segment().create(dirty_padded()).unwrap();
    let bytes = temp.bytes();
    assert_eq!(padding_of(&bytes[PAYLOAD as usize..]), NO_PADDING);
    assert_eq!(bytes[PAYLOAD as usize], 1);
    drop(created);

    // slice constructors
    let temp = TempSegment::new("padding-slice");
    let created = temp
        .segment()
        .create(init::from_fn(3, |_| dirty_padded()))
        .unwrap();
    let bytes = temp.bytes();
    for i in 0..3 {
        let at = PAYLOAD as usize + i * size_of::<Padded>();
        assert_eq!(padding_of(&bytes[at..]), NO_PADDING, "element {i}");
    }
    drop(created);

    // FixedVec::push through a guard
    let temp = TempSegment::new("padding-vec");
    let created = temp
        .segment()
        .create(init::in_place(|_: &mut ShmMutex<FixedVec<Padded, 4>>| {}))
        .unwrap();
    created.lock().unwrap().push(dirty_padded());
    created.flush().unwrap();
    let bytes = temp.bytes();
    let LayoutKind::Library { fields, .. } = FixedVec::<Padded, 4>::LAYOUT.kind else {
        panic!("FixedVec is a library type");
    };
    let items = fields.iter().find(|f| f.name == "items").unwrap().offset;
    let at = PAYLOAD as usize + offset_of_value::<FixedVec<Padded, 4>>() + items;
    assert_eq!(bytes[at], 1);
    assert_eq!(padding_of(&bytes[at..]), NO_PADDING);
    drop(created);

    // Shared::anonymous, and `store` through a guard
    let shared = Shared::anonymous(ShmMutex::new(dirty_padded())).unwrap();
    let mut guard = shared.lock().unwrap();
    shm_runtime::layout::store(&mut *guard, dirty_padded());
    let value: *const Padded = &*guard;
    // SAFETY: the lock is held; the bytes were all written (zeroed padding).
    let bytes = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size_of::<Padded>()) };
    assert_eq!(padding_of(bytes), NO_PADDING);
}

/// A `SeqLock` of a padded type stores only the value's data bytes: the
/// padding of a value from a dirty stack never reaches shared memory.
#[test]
fn seqlock_writes_of_a_padded_value_leave_no_stack_bytes() {
    let lock = Shared::anonymous(shm_runtime::SeqLock::new(dirty_padded())).unwrap();
    let value = |lock: &shm_runtime::SeqLock<Padded>| {
        let base: *const shm_runtime::SeqLock<Padded> = lock;
        // SAFETY: the value follows the 16 bytes of the sequence and the
        // namespace word; no one writes the lock during the copy (this
        // thread is its only user), and shared memory bytes are initialized.
        unsafe { std::slice::from_raw_parts(base.cast::<u8>().add(16), size_of::<Padded>()) }
            .to_vec()
    };
    assert_eq!(padding_of(&value(&lock)), NO_PADDING, "created");
    lock.write(dirty_padded());
    assert_eq!(padding_of(&value(&lock)), NO_PADDING, "after write");
    lock.update(|v| *v = dirty_padded());
    assert_eq!(padding_of(&value(&lock)), NO_PADDING, "after update");
    let read = lock.read();
    assert_eq!((read.tag, read.values), (1, [2; 8]));
}

#[test]
fn layouts_describe_what_checks_need() {
    fn needs(layout: &TypeLayout) -> bool {
        layout.needs_check()
    }
    // Every bit pattern valid: nothing to check, at compile time.
    assert!(!needs(<[u64; 1 << 20]>::LAYOUT));
    assert!(!needs(<ShmMutex<bool>>::LAYOUT), "the value is the lock's");
    assert!(!needs(shm_runtime::FixedString::<7>::LAYOUT));
    assert!(!needs(<[AtomicU64; 4]>::LAYOUT));
    // Some bit pattern invalid.
    assert!(needs(<[bool; 1]>::LAYOUT));
    assert!(needs(AtomicBool::LAYOUT));
    assert!(needs(Outer::LAYOUT));
    assert!(needs(<FixedVec<Mode, 2>>::LAYOUT));
    assert!(!needs(<[bool; 0]>::LAYOUT));
}

#[test]
fn a_fixed_vec_checks_only_the_slots_it_holds() {
    let mut v = FixedVec::<bool, 4>::new();
    v.push(true);
    let mut bytes: [u8; size_of::<FixedVec<bool, 4>>()] = [0; size_of::<FixedVec<bool, 4>>()];
    // SAFETY: copies the vector's initialized bytes (it has no padding
    // after zeroed construction: a u32 and four bools).
    unsafe {
        std::ptr::copy_nonoverlapping(
            (&v as *const FixedVec<bool, 4>).cast::<u8>(),
            bytes.as_mut_ptr(),
            bytes.len(),
        )
    };
    let items = 4;
    bytes[items + 2] = 9; // beyond the length: not a value
    let aligned = Aligned(bytes);
    let check = |a: &Aligned| {
        // SAFETY: readable, aligned bytes that nobody writes.
        unsafe { FixedVec::<bool, 4>::LAYOUT.check(a.0.as_ptr()) }
    };
    assert!(check(&aligned).is_ok());
    let mut aligned = aligned;
    aligned.0[0] = 3; // length 3: slot 2 is now a value, and invalid
    let err = check(&aligned).unwrap_err();
    assert_eq!(err.path(), "items[2]");
}

#[repr(C, align(8))]
struct Aligned([u8; 8]);

#[test]
#[cfg_attr(miri, ignore)]
fn any_bit_pattern_payloads_open_whatever_their_bytes() {
    let temp = TempSegment::new("anybits");
    let created = temp.segment().create([0u64; 512]).unwrap();
    temp.forge(PAYLOAD, &[0xFF; 4096]);
    let opened = temp.segment().open::<[u64; 512]>().unwrap();
    assert!(opened.iter().all(|w| *w == u64::MAX));
    drop((opened, created));
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_seqlock_holding_forged_bytes_is_reported_not_read() {
    use shm_runtime::SeqLock;
    let temp = TempSegment::new("seqlock");
    let created = temp.segment().create(SeqLock::new(true)).unwrap();
    // The value sits after the two sequence words.
    temp.forge(PAYLOAD + 16, &[4]);
    let opened = temp.segment().open::<SeqLock<bool>>().unwrap();
    assert_eq!(opened.try_read(), None);
    let err = opened.read_timeout(Duration::from_millis(100)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue, "{err}");
    opened.write(false);
    assert!(!opened.read());
    drop((opened, created));
}

/// A hand-written `SharedSafe` type that says nothing about its validity:
/// the sound default, `Validity::Unknown`.
#[derive(Debug)]
#[repr(C)]
struct Opaque([u8; 8]);

// SAFETY: bytes only: no address, no drop glue, no interior mutability; its
// layout claims nothing about which bytes are valid.
unsafe impl SharedSafe for Opaque {
    const LAYOUT: &'static TypeLayout = &TypeLayout::opaque::<Opaque>(
        "Opaque",
        "test opaque v1",
        shm_runtime::layout::Validity::Unknown,
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_hand_written_impl_without_a_validity_check_is_refused_by_typed_opens() {
    let temp = TempSegment::new("opaque");
    let created = temp.segment().create(Opaque([1; 8])).unwrap();
    assert_eq!(created.0, [1; 8], "its creator has it: it made the value");
    let err = open_error::<Opaque>(&temp.segment());
    assert_eq!(err.kind(), ErrorKind::InvalidValue, "{err}");
    assert!(err.to_string().contains("no validity check"), "{err}");
    // Behind a lock whose owner died, only a reset is offered.
    let m = Shared::anonymous(ShmMutex::new(Opaque([2; 8]))).unwrap();
    die_leaving_torn(&m, 3);
    let torn = m.lock().unwrap_err().into_inner().unwrap_err();
    assert_eq!(torn.reset(Opaque([4; 8])).0, [4; 8]);
    drop(created);
}
