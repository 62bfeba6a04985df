#!/usr/bin/env bash
# Builds and runs every test of the workspace. On a fresh Debian machine with Rust it first
# installs the two outside tools the tests compare against: promtool (Debian's prometheus
# package) checks /metrics, and HdrHistogram_py (PyPI hdrhistogram) reads the latency log.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never

if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
    else
        echo "test.sh: promtool missing and not root; the /metrics format check will be skipped" >&2
    fi
fi
if ! python3 -c 'import hdrh' 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check hdrhistogram \
        || echo "test.sh: could not install hdrhistogram; the hlog cross-check will be skipped" >&2
fi

cargo build --workspace --all-targets --locked
cargo test --workspace --locked
