#!/usr/bin/env bash
# The test suite as an aarch64 Linux program, under qemu-user: links with
# Debian's gcc-aarch64-linux-gnu and its C library (libc6-dev-arm64-cross),
# runs each test binary with `qemu-aarch64 -L /usr/aarch64-linux-gnu` (the
# runner in .cargo/config.toml). Installs what is missing (apt-get, as root).
#
# Not part of .ci/run: emulated, the suite takes far longer than CI's budget
# allows (see the README's platform table). Programs that the tests spawn
# (shm-test-peer, shm-tool, shm-bench) are aarch64 binaries too: they run
# only where the kernel hands aarch64 binaries to qemu (binfmt_misc); where
# it does not, the tests that spawn them fail to start them (exit 127 or
# "Exec format error"), which says nothing of the library. Two more
# artefacts of the emulation: qemu-user runs a thread of its own, so the safe
# `process::fork` refuses (MultiThreaded) in the tests that call it, and it
# refuses MAP_HUGETLB with another error than the kernel's. The README's
# platform section gives the last measured counts.
#
# Usage: scripts/test-aarch64.sh [cargo test arguments...]
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
cargo test --workspace --target "$target" --no-fail-fast "$@"
