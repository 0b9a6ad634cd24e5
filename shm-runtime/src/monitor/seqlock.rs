//! [`ReadOnlySeqLock`]: a `SeqLock` in read-only memory, read by the
//! lock's loads-only copy path.

use crate::error::Result;
use crate::{SeqLock, SharedSafe};
use core::fmt;
use std::time::Duration;

/// A [`SeqLock<T>`] in read-only memory, from [`Monitor::seqlock`](crate::Monitor::seqlock): copies
/// of its value, made with relaxed loads and fences only.
///
/// A read-only reader cannot repair the lock after a writer died in the
/// middle of a write (only the next writer's
/// [`write`](SeqLock::write) can): then
/// [`read_timeout`](ReadOnlySeqLock::read_timeout) reports
/// [`OwnerDied`](crate::ErrorKind::OwnerDied) and [`try_read`](Self::try_read)
/// returns `None` until a writer does. There is no unbounded `read`: with a
/// dead writer in another PID namespace (whose death this process cannot
/// see) it would wait forever.
///
/// ```
/// use shm_runtime::{field, init, Segment, SeqLock, SharedSafe};
/// use std::time::Duration;
///
/// #[derive(SharedSafe, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Status { position: SeqLock<[f64; 2]> }
///
/// let name = format!("/shm-runtime-doc-monrsl-{}", std::process::id());
/// let status = Segment::posix(&name).remove_on_drop(true).create(init::zeroed::<Status>())?;
/// status.position.write([1.5, -2.0]);
/// let monitor = Segment::posix(&name).read_only().monitor::<Status>()?;
/// # #[cfg(target_pointer_width = "64")]
/// # {
/// let position = monitor.seqlock(field!(Status, position))?;
/// assert_eq!(position.read_timeout(Duration::from_secs(1))?, [1.5, -2.0]);
/// # }
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub struct ReadOnlySeqLock<'a, T> {
    // Never handed out: `&SeqLock` could write.
    pub(super) lock: &'a SeqLock<T>,
}

impl<T: SharedSafe + Copy> ReadOnlySeqLock<'_, T> {
    /// Copies the value out, retrying while writes overlap the copy, for at
    /// most `timeout`. As [`SeqLock::read_timeout`]:
    /// [`OwnerDied`](crate::ErrorKind::OwnerDied) when the writer died in the
    /// middle of its write, [`TimedOut`](crate::ErrorKind::TimedOut) when a write
    /// is still in progress after `timeout`,
    /// [`InvalidValue`](crate::ErrorKind::InvalidValue) when the bytes are no valid
    /// `T` (written outside the protocol), and
    /// [`Truncated`](crate::ErrorKind::Truncated) after the object was truncated.
    ///
    /// ```
    /// use shm_runtime::{volatile::Field, Segment, SeqLock};
    /// use std::time::Duration;
    /// let name = format!("/shm-runtime-doc-monrt-{}", std::process::id());
    /// let _lock = Segment::posix(&name).remove_on_drop(true).create(SeqLock::new(5u64))?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<SeqLock<u64>>()?;
    /// # #[cfg(target_pointer_width = "64")]
    /// assert_eq!(monitor.seqlock(Field::whole())?.read_timeout(Duration::from_millis(100))?, 5);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn read_timeout(&self, timeout: Duration) -> Result<T> {
        self.lock.load_timeout(timeout)
    }

    /// Copies the value out if no write overlapped the copy (and the copy
    /// is a valid `T`), else `None`. After the segment was truncated it
    /// reads the zero page that replaces the lost one: `Some` of an
    /// all-zero value when that is a valid `T` (check
    /// [`Monitor::is_truncated`](crate::Monitor::is_truncated), or use
    /// [`read_timeout`](Self::read_timeout), which reports
    /// [`Truncated`](crate::ErrorKind::Truncated)).
    ///
    /// ```
    /// use shm_runtime::{volatile::Field, Segment, SeqLock};
    /// let name = format!("/shm-runtime-doc-montry-{}", std::process::id());
    /// let _lock = Segment::posix(&name).remove_on_drop(true).create(SeqLock::new(5u64))?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<SeqLock<u64>>()?;
    /// # #[cfg(target_pointer_width = "64")]
    /// assert_eq!(monitor.seqlock(Field::whole())?.try_read(), Some(5));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_read(&self) -> Option<T> {
        self.lock.try_load()
    }
}

impl<T: SharedSafe + Copy + fmt::Debug> fmt::Debug for ReadOnlySeqLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOnlySeqLock")
            .field("value", &self.try_read())
            .finish()
    }
}
