#!/usr/bin/env bash
# Builds and runs every test of the workspace, then checks that the benchmarks still compile.
# Works on a fresh Debian machine with Rust: nothing else to install for these tests.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
cargo build --workspace --all-targets --locked
cargo test --workspace --locked
