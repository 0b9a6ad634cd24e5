//! `shm-tool header`: the C definitions it prints for live segments compile
//! with `gcc -std=c11 -Wall -Werror` (their `_Static_assert`s hold), also
//! as 32-bit code (`-m32`, where gcc aligns a `uint64_t` member to 4: the
//! header's `alignas` keeps the segment's layout), and a C program that maps
//! the segment with them prints the values the Rust side wrote. Run as an
//! i686 build (CI does), the segments are a 32-bit program's and the C
//! program is built with `-m32`.

#[path = "../../tests/fixtures/telemetry.rs"]
mod telemetry;

use shm_runtime::init;
use shm_runtime::segment::Segment;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicU32;
use telemetry::Limits;

const TOOL: &str = env!("CARGO_BIN_EXE_shm-tool");

/// A directory removed on drop, even when the test fails.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("shm-tool-cheader-{}-{what}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The flags that compile C for this test's target: a 32-bit build's
/// segments have a 32-bit layout (a `u64` member aligned to 4), for `-m32`
/// code; the headers' asserts refuse them in 64-bit code.
fn native() -> &'static [&'static str] {
    if cfg!(target_pointer_width = "32") {
        &["-m32"]
    } else {
        &[]
    }
}

fn gcc() -> bool {
    Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `gcc -m32` can build programs here (Debian's gcc-N-multilib).
fn gcc_m32(dir: &Path) -> bool {
    let src = dir.join("probe.c");
    std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
    Command::new("gcc")
        .args(["-m32", "-o"])
        .arg(dir.join("probe"))
        .arg(&src)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A directory for a test that compiles C, when gcc (with `-m32` in a
/// 32-bit build) is installed; else `None`, having said that the test is
/// skipped.
fn gcc_dir(what: &str) -> Option<TempDir> {
    let dir = TempDir::new(what);
    if !gcc() || (cfg!(target_pointer_width = "32") && !gcc_m32(&dir.0)) {
        eprintln!("SKIPPED: gcc (with -m32 for a 32-bit build) is not installed");
        return None;
    }
    Some(dir)
}

fn header(args: &[&str]) -> String {
    let out = Command::new(TOOL)
        .arg("header")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shm-tool header {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Compiles `program` (which includes "segment.h", written from `header`)
/// with the flags given; returns the binary's path, or panics with gcc's
/// message.
fn compile(dir: &Path, header: &str, program: &str, flags: &[&str]) -> PathBuf {
    std::fs::write(dir.join("segment.h"), header).unwrap();
    let src = dir.join("main.c");
    std::fs::write(&src, program).unwrap();
    let bin = dir.join(format!("main{}", flags.join("").replace('-', "_")));
    let out = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-psabi"])
        .args(flags)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcc {flags:?} failed:\n{}\n--- header:\n{header}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

const PROGRAM: &str = r#"
#include "segment.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    int fd = shm_open(argv[1], O_RDONLY, 0);
    if (fd < 0) { perror("shm_open"); return 3; }
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < SHM_PAYLOAD_OFFSET + SHM_PAYLOAD_BYTES) return 4;
    const unsigned char *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 5; }
    const uint64_t *state = (const uint64_t *)(base + 16);
    const uint64_t *fingerprint = (const uint64_t *)(base + 24);
    if ((*state >> 32) != 2 || *fingerprint != SHM_FINGERPRINT) return 6;
    const shm_payload_t *t = (const shm_payload_t *)(base + SHM_PAYLOAD_OFFSET);
    printf("version=%u ratio=%.2f\n", t->version, t->ratio);
    printf("hits=%llu errors=%u\n", (unsigned long long)t->stats.hits, t->stats.errors);
    printf("neg=%d flags[2]=%u\n", t->neg, t->inner.flags[2]);
    printf("grid=%u,%u,%u,%u\n", t->inner.grid[0][0], t->inner.grid[0][1],
           t->inner.grid[1][0], t->inner.grid[1][1]);
    printf("mode=%s on=%d letter=U+%04X\n", t->inner.mode == Mode_Busy ? "Busy"
           : t->inner.mode == Mode_Idle ? "Idle" : "?", t->inner.on, t->inner.letter);
    printf("requests[2]=%u total=%llu healthy=%d\n",
           atomic_load_explicit(&t->requests[2], memory_order_relaxed),
           (unsigned long long)atomic_load_explicit(&t->total, memory_order_relaxed),
           atomic_load_explicit(&t->healthy, memory_order_relaxed));
    printf("title=%.*s\n", (int)t->title.len, (const char *)t->title.bytes);
    printf("items=");
    for (uint32_t i = 0; i < t->items.len && i < 4; i++) printf("%s%u", i ? "," : "", t->items.items[i]);
    printf("\nguarded=%u\n", t->guarded.value);
    printf("pod=%02x%02x%02x\n", t->pod._shm_bytes[0], t->pod._shm_bytes[1], t->pod._shm_bytes[2]);
    printf("int=%d\n", t->int_);
    return 0;
}
"#;

#[test]
#[cfg_attr(miri, ignore = "maps a named segment, runs the tool and gcc")]
fn the_generated_header_compiles_and_reads_the_live_segment() {
    let Some(dir) = gcc_dir("telemetry") else {
        return;
    };
    let name = format!("/shm-tool-cheader-{}", std::process::id());
    // Values set at creation and after it (tests/fixtures/telemetry.rs),
    // which the C program prints.
    let _t = telemetry::create(&name);

    let text = header(&[&name]);
    for expected in [
        "struct Telemetry {",
        "_Static_assert(offsetof(struct Telemetry, total) ==",
        "_Atomic uint64_t total;",
        "#define Mode_Idle (-1)",
        "#define Mode_Busy (7)",
        "typedef struct Telemetry shm_payload_t;",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
    assert!(
        !text.contains(" unit"),
        "a zero-sized field has no member:\n{text}"
    );
    let bin = compile(&dir.0, &text, PROGRAM, native());
    let out = Command::new(&bin).arg(&name).output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "version=3 ratio=0.25\nhits=1099511627776 errors=2\nneg=-300 flags[2]=30\n\
         grid=1,2,3,4\nmode=Busy on=1 letter=U+00E9\n\
         requests[2]=5 total=123456789012 healthy=1\ntitle=hello, py\nitems=7,8,9\n\
         guarded=11\npod=010203\nint=-4\n"
    );
    // A 64-bit segment's header as 32-bit code: its asserts still hold
    // (alignas keeps the 8-aligned members where the segment has them).
    if native().is_empty() && gcc_m32(&dir.0) {
        compile(&dir.0, &text, PROGRAM, &["-m32"]);
    } else if native().is_empty() {
        eprintln!("note: gcc -m32 is not available; the 32-bit compile is not tested");
    }
}

/// A slice segment's element type, and a segment that is one atomic.
#[test]
#[cfg_attr(miri, ignore = "maps named segments, runs the tool and gcc")]
fn slices_and_scalar_payloads_have_a_payload_type() {
    let Some(dir) = gcc_dir("slices") else {
        return;
    };
    let name = format!("/shm-tool-cheader-slice-{}", std::process::id());
    let _slice = Segment::posix(&name)
        .remove_on_drop(true)
        .create(init::from_fn(5, |i| Limits {
            max_jobs: i as u32,
            max_bytes: 10 * i as u64,
        }))
        .unwrap();
    let text = header(&[&name]);
    assert!(text.contains("#define SHM_PAYLOAD_ELEMENTS 5u"), "{text}");
    let program = r#"
#include "segment.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
int main(int argc, char **argv) {
    (void)argc;
    int fd = shm_open(argv[1], O_RDONLY, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < SHM_PAYLOAD_OFFSET + SHM_PAYLOAD_BYTES) return 3;
    const unsigned char *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return 4;
    const shm_payload_t *e = (const shm_payload_t *)(base + SHM_PAYLOAD_OFFSET);
    for (unsigned i = 0; i < SHM_PAYLOAD_ELEMENTS; i++)
        printf("%u:%llu ", e[i].max_jobs, (unsigned long long)e[i].max_bytes);
    return 0;
}
"#;
    let bin = compile(&dir.0, &text, program, native());
    let out = Command::new(&bin).arg(&name).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "0:0 1:10 2:20 3:30 4:40 "
    );

    let atomic = format!("/shm-tool-cheader-atomic-{}", std::process::id());
    let _a = Segment::posix(&atomic)
        .remove_on_drop(true)
        .create(AtomicU32::new(1))
        .unwrap();
    let text = header(&[&atomic]);
    assert!(
        text.contains("typedef _Atomic uint32_t shm_payload_t;"),
        "{text}"
    );
    compile(
        &dir.0,
        &text,
        "#include \"segment.h\"\nint main(void) { return 0; }\n",
        &[],
    );
}
