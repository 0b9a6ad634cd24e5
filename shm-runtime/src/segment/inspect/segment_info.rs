//! [`SegmentInfo`]'s judgements and actions: its header, whether it is
//! foreign or stale, its problem, its stored layout description, removing
//! it, and scanning it for mutexes.

use super::info::{Contents, CreatorStatus, HeaderInfo, Location, MutexInfo, SegmentInfo, State};
use super::read::open;
use crate::error::{Error, ErrorKind, Result};
use crate::layout::describe::Description;
use crate::segment::header;
use crate::segment::sysv;
use crate::segment::target::Target;
use crate::Fingerprint;
use std::time::{Duration, SystemTime};

impl SegmentInfo {
    /// The header, if this is a segment of this library.
    ///
    /// ```
    /// use shm_runtime::segment::inspect;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-hdr-{}", std::process::id()));
    /// std::fs::write(&path, b"not a segment")?;
    /// let info = inspect::inspect_file(&path)?;
    /// assert!(info.header().is_none() && info.is_foreign());
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(&self) -> Option<&HeaderInfo> {
        match &self.contents {
            Contents::Segment(header) => Some(header),
            _ => None,
        }
    }

    /// Whether it is not a segment of this library (or cannot be read to
    /// tell).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-fgn-{}", std::process::id()));
    /// std::fs::write(&path, [0xabu8; 300])?;
    /// assert!(inspect::inspect_file(&path)?.is_foreign());
    /// std::fs::remove_file(&path)?;
    /// let _v = Segment::file(&path).remove_on_drop(true).create(1u8)?;
    /// assert!(!inspect::inspect_file(&path)?.is_foreign());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_foreign(&self) -> bool {
        self.header().is_none() && !matches!(self.contents, Contents::CreationLock { .. })
    }

    /// Whether it is a segment of this library that no process will ever
    /// finish: abandoned by its creator, or still initializing while its
    /// creator is dead. (`open_or_create` would reclaim it; `open` fails with
    /// [`CreatorDied`](ErrorKind::CreatorDied).)
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let name = format!("/shm-runtime-doc-stale-{}", std::process::id());
    /// let _v = Segment::posix(&name).remove_on_drop(true).create(0u32)?;
    /// // Ready, and its creator (this process) alive:
    /// assert!(!inspect::inspect_posix(&name)?.is_stale());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn is_stale(&self) -> bool {
        if let Contents::CreationLock { held } = self.contents {
            return !held;
        }
        self.header().is_some_and(|h| {
            h.state == State::Abandoned
                || (h.state == State::Initializing && h.creator == CreatorStatus::Dead)
        })
    }

    /// How long ago its status last changed (see [`changed`](Self::changed)).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// use std::time::Duration;
    /// let name = format!("/shm-runtime-doc-age-{}", std::process::id());
    /// let _v = Segment::posix(&name).remove_on_drop(true).create(0u32)?;
    /// let age = inspect::inspect_posix(&name)?.age().unwrap();
    /// assert!(age < Duration::from_secs(3600)); // made just now
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn age(&self) -> Option<Duration> {
        self.changed
            .map(|t| SystemTime::now().duration_since(t).unwrap_or_default())
    }

    /// What is wrong with a header of this library that says "ready": the
    /// object is shorter than the payload it describes (truncated), its
    /// sizes disagree, or it was made on another platform. `None` if
    /// nothing is (or it is not ready, or not of this library).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-prob-{}", std::process::id()));
    /// let _v = Segment::file(&path).remove_on_drop(true).create([0u64; 512])?;
    /// assert_eq!(inspect::inspect_file(&path)?.problem(), None);
    /// // Cut short behind the library's back:
    /// std::fs::OpenOptions::new().write(true).open(&path)?.set_len(1024)?;
    /// let problem = inspect::inspect_file(&path)?.problem().unwrap();
    /// assert!(problem.starts_with("truncated"), "{problem}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn problem(&self) -> Option<String> {
        self.problem_kind().map(|(_, why)| why)
    }

    /// [`problem`](Self::problem), with the kind of error it amounts to.
    fn problem_kind(&self) -> Option<(ErrorKind, String)> {
        let header = self.header().filter(|h| h.state == State::Ready)?;
        let payload = header.payload.as_ref()?;
        let width = size_of::<usize>() as u8;
        let little = cfg!(target_endian = "little");
        if payload.pointer_width != width || payload.little_endian != Some(little) {
            let why = format!(
                "made on a {}-bit {} machine, this is a {}-bit one",
                u32::from(payload.pointer_width) * 8,
                match payload.little_endian {
                    Some(true) => "little-endian",
                    Some(false) => "big-endian",
                    None => "unknown-endian",
                },
                usize::BITS
            );
            return Some((ErrorKind::Incompatible, why));
        }
        if payload.type_size.checked_mul(payload.len) != Some(payload.payload_bytes)
            || (!payload.slice && payload.len != 1)
            || payload
                .payload_offset
                .checked_add(payload.payload_bytes)
                .is_none()
        {
            let why = "inconsistent sizes in the header: corrupt".to_owned();
            return Some((ErrorKind::NotASegment, why));
        }
        // The description block lies right after the payload (format 4).
        let (at, len) = (payload.description_offset, payload.description_len);
        let after = payload.end().checked_add(7).map(|e| e & !7);
        if (len == 0 && at != 0)
            || (len != 0 && (Some(at) != after || len > crate::layout::describe::MAX_LEN as u64))
        {
            let why = "inconsistent description block in the header: corrupt".to_owned();
            return Some((ErrorKind::NotASegment, why));
        }
        // The description block follows the payload (format 4).
        let end = payload.end().max(
            payload
                .description_offset
                .saturating_add(payload.description_len),
        );
        if end > self.object_size {
            let why = format!(
                "truncated: {} bytes long, the header describes {end}",
                self.object_size,
            );
            return Some((ErrorKind::TooShort, why));
        }
        None
    }

    /// The [layout description](crate::layout::describe) the segment stores
    /// of its payload type (the element type of a slice), read without the
    /// type: with it and the payload's place
    /// ([`PayloadInfo::payload_offset`](super::PayloadInfo::payload_offset),
    /// [`payload_bytes`](super::PayloadInfo::payload_bytes),
    /// [`len`](super::PayloadInfo::len)), a reader can map the payload and
    /// decode its values.
    ///
    /// The segment is reopened and its header read again (an error if the
    /// name now refers to another object, or holds another type); the
    /// block is read with `pread` (System V: from a read-only attachment),
    /// never through a mapping that a truncation could turn into `SIGBUS`,
    /// after its offset and length are checked against the header's
    /// payload fields and the object's size, and its checksum against the
    /// header's; its bytes are then decoded as the untrusted input they
    /// are ([`Description::decode`]).
    ///
    /// Errors: [`NotASegment`](ErrorKind::NotASegment) (not a segment of
    /// this library, or a corrupt header or block),
    /// [`TooShort`](ErrorKind::TooShort) (truncated),
    /// [`UnsupportedVersion`](ErrorKind::UnsupportedVersion) (a header
    /// format before 4, which stores no description, or a description
    /// format this version does not read), [`Unsupported`](ErrorKind::Unsupported)
    /// (its creator stored none: its type was beyond the format's
    /// [limits](crate::layout::describe#limits)),
    /// [`NotFound`](ErrorKind::NotFound) (removed or replaced since it was
    /// inspected), [`TimedOut`](ErrorKind::TimedOut) (not ready: its
    /// creator is still writing it, or died doing so; this never waits), and
    /// those of [`problem`](Self::problem).
    ///
    /// ```
    /// use shm_runtime::layout::describe::KindDesc;
    /// use shm_runtime::segment::{inspect, Segment};
    /// use shm_runtime::SharedSafe;
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Stats { hits: u64, errors: u32 }
    ///
    /// let name = format!("/shm-runtime-doc-idesc-{}", std::process::id());
    /// let _stats = Segment::posix(&name).remove_on_drop(true).create(Stats { hits: 1, errors: 0 })?;
    /// let info = inspect::inspect_posix(&name)?;
    /// let description = info.description()?;
    /// let root = description.get(description.root());
    /// assert_eq!(root.name, "Stats");
    /// let KindDesc::Struct { fields, .. } = &root.kind else { panic!("a struct") };
    /// let names: Vec<_> = fields.iter().map(|f| (f.name.as_str(), f.offset)).collect();
    /// assert_eq!(names, [("hits", 0), ("errors", 8)]);
    /// assert_eq!(description.fingerprint(), Some(Stats::FINGERPRINT));
    /// // The payload, to read the values from:
    /// let payload = info.header().unwrap().payload.as_ref().unwrap();
    /// let size = std::mem::size_of::<Stats>() as u64;
    /// assert_eq!((payload.payload_offset, payload.payload_bytes), (256, size));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn description(&self) -> Result<Description> {
        let what = self.what();
        let Some(header) = self.header() else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "reading the layout description of {what}: it is not a segment of this library"
                ),
            ));
        };
        if let Some((kind, why)) = self.problem_kind() {
            return Err(Error::new(
                kind,
                format!("reading the layout description of {what}: {why}"),
            ));
        }
        if header.format_version != header::FORMAT_VERSION {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion,
                format!(
                    "{what} has header format {}, which stores no layout description (format {} \
                     does): recreate it with this version",
                    header.format_version,
                    header::FORMAT_VERSION
                ),
            ));
        }
        let (source, again) = open(&self.location)?;
        if again.identity != self.identity {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("reading the layout description of {what}: it was replaced since it was inspected"),
            ));
        }
        let Some(source) = source else {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("reading the layout description of {what}: it cannot be read"),
            ));
        };
        let reader = source.reader();
        let snap = reader.header()?.ok_or_else(|| {
            Error::new(
                ErrorKind::TooShort,
                format!("reading the layout description of {what}: it was truncated"),
            )
        })?;
        let inspected = header.payload.as_ref().map(|p| p.fingerprint.as_u64());
        if !snap.magic_written || inspected != Some(snap.fingerprint) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "reading the layout description of {what}: it was initialized anew since it \
                     was inspected"
                ),
            ));
        }
        if !matches!(snap.poll, header::Poll::Ready) {
            // Until "ready", the creator may still be writing the block.
            return Err(Error::new(
                ErrorKind::TimedOut,
                format!(
                    "reading the layout description of {what}: it is not ready (its creator is                      still initializing it, or died doing so)"
                ),
            ));
        }
        let description = snap.description(&reader, again.object_size, &what)?;
        let after = reader.header()?;
        if after.as_ref().map(|a| a.state_word) != Some(snap.state_word) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "reading the layout description of {what}: it was retired or initialized                      anew while it was read"
                ),
            ));
        }
        if description.fingerprint() != Some(Fingerprint::from_u64(snap.fingerprint)) {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "{what} has a corrupt layout description (it does not describe the type of \
                     the header's fingerprint)"
                ),
            ));
        }
        Ok(description)
    }

    /// Removes the name (`shm_unlink`, `unlink`, `IPC_RMID`), only while it
    /// still refers to the object inspected: if it was removed and the name
    /// reused since, the new object is left alone and this returns `Ok`.
    /// Processes that mapped it keep their mappings.
    ///
    /// It cannot know whether the object changed state since it was
    /// inspected (a stale segment reclaimed by `open_or_create` meanwhile):
    /// callers that remove by state should inspect again just before.
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let name = format!("/shm-runtime-doc-irm-{}", std::process::id());
    /// Segment::posix(&name).create(1u8)?;
    /// inspect::inspect_posix(&name)?.remove()?;
    /// assert!(inspect::inspect_posix(&name).is_err());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn remove(&self) -> Result<()> {
        let target = match &self.location {
            Location::Posix(name) => {
                let c_name = crate::segment::posix::validate_os_name(name)?;
                return match self.identity {
                    Some(identity) => {
                        crate::segment::posix::unlink_if(&c_name, identity, &self.what())
                    }
                    None => Err(self.unknown_identity()),
                };
            }
            Location::File(path) => Target::File(path.clone()),
            Location::SysV { shmid, .. } => {
                return sysv::remove_id(*shmid, &self.what());
            }
        };
        match self.identity {
            Some(identity) => target.remove(Some(identity)),
            None => Err(self.unknown_identity()),
        }
    }

    fn unknown_identity(&self) -> Error {
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "removing {}: it could not be opened, so which object the name refers \
                 to is unknown; remove it by name",
                self.what()
            ),
        )
    }

    /// Scans the payload of a segment of this library for
    /// [`ShmMutex`](crate::ShmMutex)es and reports each one found with its
    /// holder.
    ///
    /// This is a heuristic: the segment records its type's name, not where
    /// mutexes lie in it, so every 8-byte-aligned offset is tested for the
    /// signature of an `ShmMutex` that was used: a PID-namespace record
    /// (this process's namespace, "several", or a value in the range the
    /// kernel gives namespace inodes), an inconsistency flag of 0 or 1, and
    /// a holder record that is empty or names the lock word. Other data
    /// could match by chance, and a mutex never locked (all zero) is not
    /// found. The segment is reopened: an error if the name now refers to
    /// another object, and an error (of the kind the problem amounts to)
    /// if the header has a [`problem`](Self::problem).
    ///
    /// A holder is judged as the mutex itself judges it (see
    /// [`MutexInfo::holder_alive`]): only when every process that locked
    /// the mutex ran in this process's PID namespace.
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// use shm_runtime::ShmMutex;
    /// let name = format!("/shm-runtime-doc-scan-{}", std::process::id());
    /// let m = Segment::posix(&name).remove_on_drop(true).create(ShmMutex::new(0u64))?;
    /// let guard = m.lock().unwrap();
    /// let found = inspect::inspect_posix(&name)?.scan_mutexes()?;
    /// assert_eq!(found.len(), 1);
    /// assert_eq!(found[0].offset, 0);
    /// assert_eq!(found[0].holder_alive, Some(true)); // this thread
    /// # drop(guard);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn scan_mutexes(&self) -> Result<Vec<MutexInfo>> {
        use crate::sync::mutex::{probe, PROBE_ALIGN, PROBE_LEN};
        let what = self.what();
        let Some(header) = self.header() else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("scanning {what} for mutexes: it is not a segment of this library"),
            ));
        };
        if let Some((kind, why)) = self.problem_kind() {
            return Err(Error::new(
                kind,
                format!("scanning {what} for mutexes: {why}"),
            ));
        }
        let Some(payload) = &header.payload else {
            return Ok(Vec::new());
        };
        let (reader, again) = open(&self.location)?;
        if again.identity != self.identity {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("scanning {what}: it was replaced since it was inspected"),
            ));
        }
        let Some(reader) = reader else {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("scanning {what}: it cannot be read"),
            ));
        };
        // A header that is not "ready" has no `problem`: every bound is
        // checked here (`end` saturates).
        let start = payload.payload_offset;
        let end = payload.end().min(again.object_size);
        let probe_len = PROBE_LEN as u64;
        let mut found = Vec::new();
        const CHUNK: u64 = 1 << 20;
        let mut buf = vec![0u8; CHUNK as usize + PROBE_LEN];
        let mut at = start;
        while at.checked_add(probe_len).is_some_and(|e| e <= end) {
            let want = (end - at).min(buf.len() as u64) as usize;
            let got = reader.reader().read_at(at, &mut buf[..want])?;
            let mut i = 0;
            while i + PROBE_LEN <= got && i < CHUNK as usize {
                if let Some(p) = probe(&buf[i..]) {
                    found.push(MutexInfo {
                        offset: at - start + i as u64,
                        holder_tid: p.holder_tid,
                        holder_alive: p.holder_alive,
                        owner_died: p.holder_alive == Some(false),
                        inconsistent: p.inconsistent,
                    });
                }
                i += PROBE_ALIGN;
            }
            if got < want {
                break; // truncated under us
            }
            let Some(next) = at.checked_add(CHUNK) else {
                break;
            };
            at = next;
        }
        Ok(found)
    }

    fn what(&self) -> String {
        match &self.location {
            Location::Posix(name) => {
                format!("segment `{}`", crate::segment::posix::escape_name(name))
            }
            Location::File(path) => format!("file `{}`", path.display()),
            Location::SysV { key, shmid } => format!("System V segment {key} (shmid {shmid})"),
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::super::read::{inspect_file, inspect_sysv};
    use super::*;
    use crate::init;
    use crate::segment::header::HEADER_SIZE;
    use crate::segment::sysv::SysvKey;
    use crate::segment::Segment;
    use std::os::unix::fs::FileExt;

    /// A file segment of an `ShmMutex<u64>` whose header then says its
    /// payload lies at `payload_offset`.
    fn corrupt(tag: &str, payload_offset: u64) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "shm-runtime-test-scan-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        drop(
            Segment::file(&path)
                .create(crate::ShmMutex::new(0u64))
                .unwrap(),
        );
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        // `Header::payload_offset`: after magic, version, header size,
        // state, fingerprint, type size and align.
        file.write_all_at(&payload_offset.to_ne_bytes(), 48)
            .unwrap();
        path
    }

    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn scanning_a_header_with_an_absurd_payload_offset_fails_cleanly() {
        for (tag, offset) in [("max", u64::MAX), ("near", u64::MAX - 20), ("far", 1 << 40)] {
            let path = corrupt(tag, offset);
            let info = inspect_file(&path).unwrap();
            let header = info.header().expect("still a header of this library");
            assert_eq!(header.payload.as_ref().unwrap().payload_offset, offset);
            assert!(info.problem().is_some());
            let err = info.scan_mutexes().unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::NotASegment | ErrorKind::TooShort),
                "{err}"
            );
            std::fs::remove_file(&path).unwrap();
        }
    }

    /// A file segment of `[u64; 4]`, and its description block's offset
    /// and length (header fields 224 and 220).
    fn described(tag: &str) -> (std::path::PathBuf, u64, u64) {
        let path = std::env::temp_dir().join(format!(
            "shm-runtime-test-desc-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        drop(Segment::file(&path).create([7u64; 4]).unwrap());
        let info = inspect_file(&path).unwrap();
        let payload = info.header().unwrap().payload.clone().unwrap();
        (path, payload.description_offset, payload.description_len)
    }

    /// The behaviour: the stored description reads back as the type's own,
    /// right after the payload, for files and System V segments alike.
    #[test]
    #[cfg_attr(miri, ignore = "maps segments")]
    fn the_stored_description_is_the_types() {
        use crate::layout::describe::Description;
        use crate::SharedSafe;
        let (path, at, len) = described("ok");
        let info = inspect_file(&path).unwrap();
        let payload = info.header().unwrap().payload.clone().unwrap();
        assert_eq!(at, (payload.end() + 7) & !7);
        assert_eq!(info.object_size, at + len);
        let ours = Description::of(<[u64; 4]>::LAYOUT).unwrap();
        assert_eq!(info.description().unwrap(), ours);
        std::fs::remove_file(&path).unwrap();

        let key = SysvKey::new(0x5b00_0000 | ((std::process::id() as i32 & 0xfff) << 12) | 1);
        let _ = Segment::sysv(key).remove();
        let _v = Segment::sysv(key)
            .remove_on_drop(true)
            .create(init::zeroed_slice::<u16>(5))
            .unwrap();
        let info = inspect_sysv(key).unwrap();
        let description = info.description().unwrap();
        assert_eq!(description, Description::of(u16::LAYOUT).unwrap());
    }

    /// The behaviour: a garbage block (with or without a matching checksum)
    /// and a block whose header fields point elsewhere are typed errors.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn a_garbage_description_is_a_typed_error() {
        let (path, at, len) = described("garbage");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let garbage = vec![0xa5u8; len as usize];
        file.write_all_at(&garbage, at).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotASegment, "{err}");
        assert!(err.to_string().contains("checksum"), "{err}");
        file.write_all_at(&header::checksum(&garbage).to_ne_bytes(), 232)
            .unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotASegment, "{err}");
        assert!(
            err.to_string()
                .contains("unreadable layout description: invalid layout description at byte 0"),
            "{err}"
        );
        // An offset that is not right after the payload, and one far away.
        for offset in [at + 8, 1 << 40, u64::MAX - 3] {
            file.write_all_at(&offset.to_ne_bytes(), 224).unwrap();
            let err = inspect_file(&path).unwrap().description().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotASegment, "{offset}: {err}");
        }
        // A length beyond the format's limit.
        file.write_all_at(&at.to_ne_bytes(), 224).unwrap();
        file.write_all_at(&u32::MAX.to_ne_bytes(), 220).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::NotASegment | ErrorKind::TooShort),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
    }

    /// The behaviour: a file truncated inside (or before) its description
    /// block is `TooShort`, read with `pread` (no `SIGBUS`), and so is one
    /// truncated between inspecting and reading the block.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn a_truncated_description_is_a_typed_error() {
        let (path, at, len) = described("truncated");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let inspected = inspect_file(&path).unwrap();
        file.set_len(at + len / 2).unwrap();
        // Inspected whole, truncated before the block is read.
        let err = inspected.description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
        // Inspected truncated.
        let info = inspect_file(&path).unwrap();
        assert!(info.problem().unwrap().starts_with("truncated"));
        let err = info.description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
        file.set_len(HEADER_SIZE as u64 + 1).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    /// The behaviour: a segment that is not ready (its creator may still be
    /// writing the block) has no description to read yet; once ready again,
    /// it does.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn a_segment_not_ready_has_no_description_yet() {
        use std::os::unix::fs::FileExt;
        let (path, _, _) = described("not-ready");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let ready = std::fs::read(&path).unwrap()[16..24].to_vec();
        let initializing = (1u64 << 32) | u64::from(std::process::id());
        file.write_all_at(&initializing.to_ne_bytes(), 16).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains("not ready"), "{err}");
        file.write_all_at(&ready, 16).unwrap();
        assert!(inspect_file(&path).unwrap().description().is_ok());
        std::fs::remove_file(&path).unwrap();
    }

    /// The behaviour: a header of format 3 stores no description:
    /// `UnsupportedVersion`.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn format_3_has_no_description() {
        let (path, _, _) = described("v3");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&3u32.to_ne_bytes(), 8).unwrap();
        file.write_all_at(&[0u8; 36], 220).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedVersion, "{err}");
        std::fs::remove_file(&path).unwrap();
    }
}
