//! The verbs of [`Segment`]: `create`, `open` and `open_or_create`, one
//! impl block per access (read-write, [`read_only`](Segment::read_only)
//! with its `monitor`, [`raw`](Segment::raw)), as thin generic methods over
//! the internal create, open and reclaim functions of the sibling files;
//! and the compile-time refusal of a read-only `&T` that could store.
//!
//! The table of what each access offers is in the
//! [module documentation](super#the-surface).

use super::options::{Raw, Segment};
use super::view::layout_of;
use crate::error::Result;
use crate::init::{sealed, Elem, FromFn, Init, Payload};
use crate::volatile::{Access, ReadOnly, ReadWrite, Volatile};
use crate::{Monitor, Shared, SharedSafe};

/// Typed, read-write: the segments of this library, with a checked header.
impl Segment<ReadWrite> {
    /// Creates the segment exclusively holding what `init` makes: a value
    /// moved in, or one of the [`init`](crate::init) initializers (zeroed,
    /// built in place, a slice). [`AlreadyExists`](crate::ErrorKind::AlreadyExists)
    /// if the name is taken (see [`replace_stale`](Self::replace_stale)).
    /// Nothing is published before `init` has run: openers wait; if it
    /// panics, the name is removed and waiting openers get
    /// [`CreatorDied`](crate::ErrorKind::CreatorDied).
    ///
    /// A value passes through the stack; for large types use
    /// [`init::zeroed`](crate::init::zeroed) or
    /// [`init::in_place`](crate::init::in_place).
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment, ErrorKind};
    /// use std::sync::atomic::AtomicU32;
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-create-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let flag = segment.create(AtomicU32::new(1))?;
    /// let again = segment.create(AtomicU32::new(2)).unwrap_err();
    /// assert_eq!(again.kind(), ErrorKind::AlreadyExists);
    /// # drop(flag);
    ///
    /// let slices = Segment::posix(format!("/shm-runtime-doc-cslice-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let squares = slices.create(init::from_fn(10, |i| (i * i) as u64))?;
    /// assert_eq!(squares[9], 81);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create<T: ?Sized + Payload>(&self, init: impl Init<T>) -> Result<Shared<T>> {
        let len = sealed::InitSealed::len(&init);
        let view = self.create_layout(&layout_of::<T>(), len, |payload| {
            // SAFETY: `create_layout` hands over the payload zero-filled,
            // aligned for the elements, `len` of them long, and private to
            // this process until it is published after this returns.
            unsafe { sealed::InitSealed::write(init, payload.cast()) }
        })?;
        // SAFETY: the payload holds what `init` made (written, or zero bytes
        // valid for its `ZeroInit` types).
        unsafe { self.view_of(view) }
    }

    /// Opens the existing segment as a `T`, or as a slice with `T = [U]`
    /// (of the length it was created with), after checking its header (see
    /// [what opening checks](super#what-opening-checks)); waits up to
    /// [`open_timeout`](Self::open_timeout) for a segment still being
    /// initialized.
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-open-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let value = segment.create(7i64)?;
    /// assert_eq!(*segment.open::<i64>()?, 7);
    /// let wrong = segment.open::<u64>().unwrap_err();
    /// assert_eq!(wrong.kind(), ErrorKind::WrongType);
    /// assert!(wrong.to_string().contains("holds `i64`"));
    /// # drop(value);
    ///
    /// let bytes = Segment::posix(format!("/shm-runtime-doc-oslice-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let created = bytes.create(init::from_fn(3, |i| i as u8))?;
    /// assert_eq!(&*bytes.open::<[u8]>()?, &[0, 1, 2]);
    /// # drop(created);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open<T: ?Sized + Payload>(&self) -> Result<Shared<T>> {
        let view = self.open_layout(&layout_of::<T>(), true)?;
        self.checked_view(view)
    }

    /// Opens the segment, or creates it with `init` if it does not exist:
    /// of any number of processes racing, exactly one creates it and the
    /// others wait until it is ready. A segment whose creator died while
    /// initializing it is reclaimed (see the
    /// [module documentation](super#reclaiming-a-segment-whose-creator-died)),
    /// and so is a stale one with [`replace_stale`](Self::replace_stale).
    /// `init` writes only in the process that creates or reclaims it (an
    /// existing slice keeps its own length, which may differ from
    /// `init`'s); the view's [`origin`](crate::Shared::origin) tells which path was
    /// taken.
    ///
    /// A value passed as `init` is built before the call, whichever path is
    /// taken: `SharedSafe` types have no `Drop`, so one that is not written
    /// costs only its construction. Pass
    /// [`init::in_place`](crate::init::in_place) for a value expensive to
    /// build: its closure runs only in the process that creates the
    /// segment.
    ///
    /// ```
    /// use shm_runtime::segment::{Origin, Segment};
    /// use shm_runtime::init;
    /// use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-ooc-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let a = segment.open_or_create(AtomicU64::new(10))?; // creates
    /// let b = segment.open_or_create(AtomicU64::new(99))?; // opens
    /// assert_eq!((a.origin(), b.origin()), (Origin::Created, Origin::Opened));
    /// b.fetch_add(1, Ordering::Relaxed);
    /// assert_eq!(a.load(Ordering::Relaxed), 11);
    ///
    /// let slots = Segment::posix(format!("/shm-runtime-doc-oocs-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let c = slots.open_or_create(init::zeroed_slice::<AtomicU32>(64))?; // creates
    /// let d = slots.open_or_create(init::zeroed_slice::<AtomicU32>(8))?; // opens: 64 long
    /// assert_eq!((c.len(), d.len()), (64, 64));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_or_create<T: ?Sized + Payload>(&self, init: impl Init<T>) -> Result<Shared<T>> {
        let len = sealed::InitSealed::len(&init);
        let view = self.open_or_create_layout(&layout_of::<T>(), len, |payload| {
            // SAFETY: as in `create`: zero-filled (fresh, or zeroed on
            // reclaim), aligned, `len` elements, private until published.
            unsafe { sealed::InitSealed::write(init, payload.cast()) }
        })?;
        self.checked_view(view)
    }
}

/// Typed, read-only: a monitor that may only read, and cannot corrupt what
/// it watches (see [read-only views](super#read-only-views)).
impl Segment<ReadOnly> {
    /// Opens the existing segment read-only as a `T` (or a slice, `T =
    /// [U]`), for types without interior mutability
    /// ([`TypeLayout::has_interior_mutability`](crate::layout::TypeLayout::has_interior_mutability)):
    /// plain data, the fixed-capacity types, and structs and arrays of them.
    ///
    /// A type with an atomic, a lock or a [`SeqLock`](crate::SeqLock) is a
    /// compile error (its `&T` has methods that store, and an atomic or lock
    /// operation on read-only memory is undefined behaviour): read its
    /// atomics and `SeqLock`s through [`monitor`](Self::monitor), open it
    /// writable, or see [`open_unchecked`](Self::open_unchecked). The error
    /// is raised when the call is compiled to code (`cargo build`, `cargo
    /// test`), not by `cargo check`.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use shm_runtime::{init, FixedString, SharedSafe};
    ///
    /// #[derive(SharedSafe, Clone, Copy)]
    /// #[repr(C)]
    /// struct Config {
    ///     workers: u32,
    ///     verbose: bool,
    ///     name: FixedString<16>,
    /// }
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-ro-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let _made = segment.create(Config { workers: 4, verbose: false, name: "api".parse()? })?;
    /// // A reader with read permission only: no `unsafe`.
    /// let config = segment.read_only().open::<Config>()?;
    /// assert_eq!((config.workers, config.name.as_str()), (4, "api"));
    ///
    /// let table = Segment::posix(format!("/shm-runtime-doc-ros-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let _made = table.create(init::from_fn(4, |i| i as u32 * 10))?;
    /// assert_eq!(table.read_only().open::<[u32]>()?[3], 30);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Atomics could be stored to through `&T`: refused when compiled.
    ///
    /// ```compile_fail
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::AtomicU64;
    /// let counters = Segment::posix("/counters").read_only().open::<[AtomicU64; 4]>();
    /// ```
    pub fn open<T: ?Sized + Payload>(&self) -> Result<Shared<T>> {
        const {
            if let Some(part) = <Elem<T> as SharedSafe>::LAYOUT.interior_mutable_part() {
                refuse_read_only(part)
            }
        };
        let view = self.open_layout(&layout_of::<T>(), false)?;
        self.checked_view(view)
    }

    /// Opens the existing segment read-only, for any `SharedSafe` type (or
    /// slice of one): a monitor reading another process's atomic counters,
    /// for instance.
    ///
    /// # Safety
    /// Nothing may write through the returned view: no atomic store,
    /// `fetch_*`, `swap` or compare-exchange, no lock taken. The memory is
    /// mapped `PROT_READ` (`SHM_RDONLY`), so such a write raises `SIGSEGV`.
    ///
    /// The only atomic operations allowed are those std allows on
    /// read-only memory ("Atomic accesses to read-only memory" in
    /// `std::sync::atomic`): `Relaxed` loads of at most 8 bytes on 64-bit
    /// targets (x86-64, AArch64, RISC-V 64, PowerPC 64, s390x, LoongArch 64)
    /// and of at most 4 bytes on 32-bit ones (x86, ARM). Any other ordering,
    /// a wider load, a compare-exchange that would fail, and every
    /// operation of a type this crate builds on atomics (a
    /// [`SeqLock`](crate::SeqLock) read loads with an acquire ordering) is
    /// undefined behaviour on such a mapping, whatever the hardware does
    /// with it: 128-bit loads and lock-based fallbacks do write.
    ///
    /// For such types, read through [`monitor`](Self::monitor), which needs
    /// no `unsafe`, or open the segment writable ([`Segment::open`]) even to
    /// read it.
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment};
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-rou-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let slots = segment.create(init::zeroed_slice::<AtomicU64>(4))?;
    /// slots[3].store(7, Ordering::Relaxed);
    /// let reader = segment.read_only();
    /// // SAFETY: the monitor only makes `Relaxed` loads of 8 bytes.
    /// let monitor = unsafe { reader.open_unchecked::<[AtomicU64]>()? };
    /// assert_eq!(monitor[3].load(Ordering::Relaxed), 7);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub unsafe fn open_unchecked<T: ?Sized + Payload>(&self) -> Result<Shared<T>> {
        let view = self.open_layout(&layout_of::<T>(), false)?;
        self.checked_view(view)
    }

    /// Opens the existing segment read-only as a [`Monitor`], for any
    /// `SharedSafe` type or slice (`T = [U]`): atomics,
    /// [`SeqLock`](crate::SeqLock)s, plain fields, and structs and arrays of
    /// them. The same header checks, waits and errors as
    /// [`open`](Self::open). The monitor hands out no reference into the
    /// mapping: it loads atomics (relaxed, as std allows on read-only
    /// memory), reads `SeqLock`s and copies plain fields, each named with
    /// [`field!`](crate::field!). Locks (`ShmMutex` and the others, whose
    /// readers write) cannot be read through it. The payload is not checked
    /// on open: every read checks what it returns. See the
    /// [`monitor`](crate::monitor) module.
    ///
    /// ```
    /// use shm_runtime::{field, init, volatile::Field, Segment, SharedSafe};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// #[derive(SharedSafe, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Stats { started: u32, requests: AtomicU32 }
    ///
    /// let name = format!("/shm-runtime-doc-om-{}", std::process::id());
    /// let segment = Segment::posix(&name).remove_on_drop(true);
    /// let stats = segment.create(init::in_place(|s: &mut Stats| s.started = 1))?;
    /// stats.requests.fetch_add(3, Ordering::Relaxed);
    /// // A process with read permission only: no `unsafe`.
    /// let monitor = Segment::posix(&name).read_only().monitor::<Stats>()?;
    /// assert_eq!(monitor.atomic(field!(Stats, requests))?.load(), 3);
    /// assert_eq!(monitor.read(field!(Stats, started))?, 1);
    ///
    /// // A slice: a monitor of every worker's slot.
    /// let slots_name = format!("/shm-runtime-doc-oms-{}", std::process::id());
    /// let slots = Segment::posix(&slots_name)
    ///     .remove_on_drop(true)
    ///     .create(init::zeroed_slice::<AtomicU32>(4))?;
    /// slots[2].store(7, Ordering::Relaxed);
    /// let monitor = Segment::posix(&slots_name).read_only().monitor::<[AtomicU32]>()?;
    /// let loads = (0..monitor.len())
    ///     .map(|i| Ok(monitor.get(i).unwrap().atomic(Field::whole())?.load()))
    ///     .collect::<Result<Vec<u32>, shm_runtime::volatile::AccessError>>()?;
    /// assert_eq!(loads, [0, 0, 7, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn monitor<T: ?Sized + Payload>(&self) -> Result<Monitor<T>> {
        let view = self.open_layout(&layout_of::<T>(), false)?;
        // SAFETY: the payload lies inside the mapping at `offset`, aligned
        // for the elements (page-aligned base, offset a multiple of the
        // alignment).
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<Elem<T>>();
        let ptr = <T as sealed::PayloadSealed>::from_parts(first, view.len);
        // SAFETY: the header proved a published payload of this layout
        // there (`view.len` elements for a slice), mapped read-only and
        // within the object.
        Ok(unsafe { Monitor::from_mapping(view.mapping, ptr) })
    }
}

/// The compile-time refusal of a read-only open of a type that holds
/// `part` (an atomic, a lock...), naming it and the way to read it: the
/// message is assembled in a buffer, as a `const` panic takes one `&str`.
const fn refuse_read_only(part: &crate::layout::TypeLayout) -> ! {
    let monitored =
        matches!(part.kind, crate::layout::LayoutKind::Scalar(_)) || const_eq(part.name, "SeqLock");
    let hint = if monitored {
        "read it without `unsafe` through `read_only().monitor()`"
    } else {
        "its readers write too"
    };
    let pieces = [
        "a read-only segment cannot be opened as a type that holds `",
        part.name,
        "`: its `&T` has methods that store (an atomic or lock operation on read-only memory \
         is undefined behaviour); ",
        hint,
        "; or open the segment writable (or, for `Relaxed` loads only, read-only with \
         `unsafe` `open_unchecked`)",
    ];
    let mut buf = [0u8; 1024];
    let mut len = 0;
    let mut i = 0;
    while i < pieces.len() {
        let bytes = pieces[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() && len < buf.len() {
            buf[len] = bytes[j];
            len += 1;
            j += 1;
        }
        i += 1;
    }
    match std::str::from_utf8(buf.split_at(len).0) {
        Ok(message) => panic!("{}", message),
        Err(_) => panic!("a read-only segment cannot be opened as a type with interior mutability"),
    }
}

/// `a == b`, in a `const` context.
const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Raw, read-write: objects without header, which this process may write
/// and create.
impl Segment<Raw> {
    /// Creates an object without header, exclusively, holding exactly
    /// `len` elements, element `i` being `element(i)`
    /// ([`init::from_fn(len, element)`](crate::init::from_fn)): the layout a
    /// C, C++ or Python program expects. Where the object can be published
    /// atomically (POSIX objects and files on Linux), it gets its name only
    /// once every element is written, so those programs never see it
    /// half-written; elsewhere (System V, other platforms) they cannot tell
    /// whether it is: start them after this returns. Padding bytes are
    /// written as zeros: nothing of this process's stack lands in the
    /// object. (A zero-filled object is made by `open` with
    /// [`create_new`](Self::create_new).)
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawc-{}", std::process::id()));
    /// let data = Segment::file(&path)
    ///     .raw()
    ///     .remove_on_drop(true)
    ///     .create(init::from_fn(3, |i| i as u16))?;
    /// data.flush()?;
    /// assert_eq!(std::fs::read(&path)?.len(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create<T, F>(&self, init: FromFn<T, F>) -> Result<Volatile<[T]>>
    where
        T: SharedSafe + bytemuck::AnyBitPattern,
        F: FnMut(usize) -> T,
    {
        self.create_raw(init)
    }
}

/// Raw, either access: where the view lies, how long it is, and `open`.
impl<A: Access> Segment<Raw<A>> {
    /// Maps the object as a `T`, or a slice with `T = [U]` (see
    /// [`len`](Self::len)), from the [`offset`](Self::offset), for volatile
    /// access (see [raw mode](super#raw-mode)); with
    /// [`create_new`](Segment::<Raw>::create_new) or
    /// [`create_missing`](Segment::<Raw>::create_missing), creates it
    /// zero-filled. Refuses an object shorter than the view
    /// ([`TooShort`](crate::ErrorKind::TooShort)), and one that starts with this
    /// library's header ([`TypedSegment`](crate::ErrorKind::TypedSegment)): open
    /// those typed. The view is a `Volatile<T>`, or a `Volatile<T,
    /// ReadOnly>` from a read-only segment, which has no method that writes.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-raws-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3, 4])?;
    /// assert_eq!(Segment::file(&path).raw().len(4).open::<[u8]>()?.to_vec(), [1, 2, 3, 4]);
    /// let err = Segment::file(&path).raw().len(5).open::<[u8]>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TooShort);
    /// let first = Segment::file(&path).raw().read_only().open::<u8>()?;
    /// assert_eq!(first.read(), 1);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open<T>(&self) -> Result<Volatile<T, A>>
    where
        T: ?Sized + Payload,
        Elem<T>: bytemuck::AnyBitPattern,
    {
        self.open_raw_payload::<T, A>()
    }
}
