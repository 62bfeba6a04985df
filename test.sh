#!/usr/bin/env bash
# Every test of the project, as CI runs it (`.ci/run` calls this):
#   1. the workspace's tests (unit, integration over real loopback sockets, loadgen's);
#   2. cargo clippy on every target, warnings as errors;
#   3. the criterion benches once each, in test mode, so that they cannot rot;
#   4. the Debian package, made from the debug build, checked, installed and purged
#      (packaging/check.sh);
#   5. every fuzz target over its saved regression inputs and seed corpus (no fuzzing run);
#   6. perf/soak.sh for a few seconds on the debug build: nothing lost under load, and every class
#      of bad input counted as what it is (too short to judge memory: --no-rss-check).
# On a fresh Debian machine with Rust it installs what the tests check against: promtool
# (Debian's prometheus) checks /metrics, HdrHistogram_py (PyPI hdrhistogram) reads the latency
# logs, nats-server (Debian's, with JetStream) receives [output.nats], tmux gives `ztel top` a
# terminal, systemd-analyze (Debian's systemd) checks the unit, cargo-deb makes the package.
# Under CI (the CI variable set) a check whose tool is missing fails instead of skipping.
# Long fuzzing, long soaks and the comparison with rsyslog and syslog-ng are run by hand:
# tests/fuzz/run.sh SECONDS, perf/soak.sh, perf/compare.sh (see perf/README.md).
# `./test.sh --fast` runs steps 1 to 3 only.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
started=$SECONDS
step() { echo "== test.sh: $* ($(( SECONDS - started )) s)"; }

# What the tests check against. Under CI a tool that cannot be had fails the run here; outside
# CI the tests that need it say they skip.
missing() {
    if [ -n "${CI:-}" ]; then
        echo "test.sh: $1 (CI is set, so this fails)" >&2
        exit 1
    fi
    echo "test.sh: $1; the tests that need it will skip" >&2
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
if ! command -v promtool >/dev/null; then
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; } \
        || missing "promtool (Debian's prometheus) is missing and could not be installed"
fi
if ! command -v openssl >/dev/null; then
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; } \
        || missing "openssl (the soak's TLS certificates) is missing and could not be installed"
fi
if ! command -v tmux >/dev/null; then
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; } \
        || missing "tmux (the terminal tests/top.rs runs ztel top in) is missing and could not be installed"
fi
if ! command -v systemd-analyze >/dev/null; then
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; } \
        || missing "systemd-analyze (Debian's systemd) is missing and could not be installed"
fi
if ! command -v nats-server >/dev/null; then
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null; } \
        || missing "nats-server (tests/nats/ runs [output.nats] against it) is missing and could not be installed"
fi
if ! python3 -c 'import hdrh' 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check hdrhistogram 2>/dev/null \
        || python3 -m pip install -q --disable-pip-version-check --break-system-packages hdrhistogram \
        || missing "Python's hdrh (pip install hdrhistogram) is missing and could not be installed"
fi

step "workspace tests"
cargo build --workspace --all-targets --locked
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Every test binary runs even when one fails, so that one failure does not hide another.
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log"
passed=$(awk '/^test result: ok\./ {s += $4} END {print s + 0}' "$log")
step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "benches, once each"
cargo test --locked -p ztel --bench pipeline --bench formats --bench admin --bench devices --bench window \
    --bench acks
if [ "${1:-}" = "--fast" ]; then
    step "done (fast)"
    echo "tests: $passed passed, 0 failed"
    exit 0
fi
step "Debian package"
# Made from the dev build above, not a fat-LTO release build (minutes on 2 cores), with fast
# compression: the files, the unit, the conffile and the maintainer scripts are the release
# package's. The package for users is `cargo deb -p ztel`. cargo-deb is pinned, since its
# support for the dev profile is deprecated; it compiles in about 3.5 CPU-minutes, once per
# machine, so it is installed here rather than for `--fast`.
if ! cargo deb --version >/dev/null 2>&1; then
    cargo install cargo-deb --locked --version 3.8.0 \
        || missing "cargo-deb is missing and could not be installed"
fi
if cargo deb --version >/dev/null 2>&1; then
    cargo deb -p ztel --profile dev --no-build --locked --fast --quiet -o target/debian/ztel-dev.deb
    packaging/check.sh target/debian/ztel-dev.deb
fi
step "fuzz targets over their saved inputs"
tests/fuzz/run.sh --replay
step "soak, short"
# Five seconds are too few RSS samples to judge memory by: the hour-long soak does that.
if command -v openssl >/dev/null; then
    perf/soak.sh --duration 5 --debug --no-rss-check
else
    echo "test.sh: no openssl: the short soak skips" >&2
fi
step "done"
echo "tests: $passed passed, 0 failed"
