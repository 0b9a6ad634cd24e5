//! Helpers shared by the workspace's examples and integration tests.

use shm_runtime::SharedSafe;
use std::sync::atomic::AtomicU64;

/// A record of the classic `map_normalfile1.c` / `map_normalfile2.c`
/// example: `struct { char name[4]; int age; }`, the same layout in C and
/// Rust thanks to `repr(C)`.
#[derive(SharedSafe, Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct People {
    /// A NUL-terminated name of at most 3 bytes.
    pub name: [u8; 4],
    /// The age.
    pub age: i32,
}

impl People {
    /// The name up to its first NUL byte.
    pub fn name(&self) -> String {
        let end = self.name.iter().position(|b| *b == 0).unwrap_or(4);
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
}

/// The value every word of a [`Pattern`] holds once initialized.
pub const PATTERN_WORD: u64 = 0x5EED_F00D_CAFE_D00D;

/// A block large enough (8 KiB) that initializing it is observable: tests
/// check that no opener ever sees it half-written.
#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
pub struct Pattern {
    /// Every word is [`PATTERN_WORD`] once initialized.
    pub words: [u64; 1024],
    /// How many processes opened it.
    pub opened: AtomicU64,
}

impl Pattern {
    /// Whether every word holds [`PATTERN_WORD`].
    pub fn is_complete(&self) -> bool {
        self.words.iter().all(|w| *w == PATTERN_WORD)
    }
}
