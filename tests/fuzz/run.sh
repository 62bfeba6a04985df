#!/usr/bin/env bash
# Runs every fuzz target of ztel for SECONDS each (default 20), one after the other, and prints
# per target the executions and coverage libFuzzer reports. Exit status: non-zero when a target
# crashed (or timed out, or ran out of memory), when the build failed, or when cargo-fuzz cannot
# be had and CI is set; 0 when cargo-fuzz cannot be had outside CI (after saying why).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]      (every target when none is named)
#   tests/fuzz/run.sh --replay                    (CI: every saved input once, no fuzzing)
#
# --replay builds the targets as plain debug binaries (debug assertions on, no sanitizer, no
# cargo-fuzz needed) and runs each over corpus/TARGET and regressions/TARGET once: seconds after
# the build. A target that panics on a saved input fails.
#
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, sancov passes) to rustc; with only a
# stable toolchain, RUSTC_BOOTSTRAP=1 lets rustc accept them.
#
# Per target, first every input in regressions/TARGET (inputs that once crashed) is replayed: one
# that still crashes fails the target. Then libFuzzer runs with the corpora work/TARGET (where it
# writes what it finds; ignored by git) and corpus/TARGET (the committed seeds, only read). A crash
# is saved in artifacts/TARGET/.
#
# FUZZ_SANITIZER=none builds the targets without AddressSanitizer (cargo fuzz build -s none):
# several times the executions per second, for the long runs; ztel's parsers are safe Rust, so
# what ASan would add is mostly its checks on the unsafe code of dependencies.
#
# FUZZ_FORK=1 runs libFuzzer with -fork=1 -ignore_crashes=1 (and timeouts, OOMs): fuzzing goes on
# after a crash, so that a long run is not stopped by a bug already known; every crash still fails
# the target and is saved.
set -uo pipefail

all_targets=(frame header zia zpa time flat kv csv leef cef percent window nats http)
fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$fuzz_dir/../.." && pwd)"
export CARGO_TERM_COLOR=never

if [ "${1:-}" = --replay ]; then
    cd "$fuzz_dir"
    # In the main workspace's target directory: the dependencies that the collector's own debug
    # build already compiled alike are reused (a build of its own took minutes in CI).
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
    cargo build --locked --bins || { echo "run.sh: FAILED: the fuzz targets do not build"; exit 1; }
    failed=()
    for t in "${all_targets[@]}"; do
        dirs=()
        for d in corpus/$t regressions/$t; do [ -d "$d" ] && dirs+=("$d"); done
        log="$(mktemp)"
        if "$CARGO_TARGET_DIR/debug/$t" -runs=0 "${dirs[@]}" >"$log" 2>&1; then
            echo "run.sh: $t: $(grep -c . < <(find "${dirs[@]}" -type f)) saved inputs, no crash"
        else
            failed+=("$t")
            echo "run.sh: $t: FAILED on a saved input:"
            grep -a -m 1 -A 8 -E "panicked at|ERROR: libFuzzer|==[0-9]+== ERROR" "$log" | sed 's/^/    /'
        fi
        rm -f "$log"
    done
    [ "${#failed[@]}" -eq 0 ] || { echo "run.sh: FAILED: ${failed[*]}"; exit 1; }
    exit 0
fi

secs="${1:-20}"
case "$secs" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
targets=("${all_targets[@]}")
if [ "$#" -gt 1 ]; then
    targets=("${@:2}")
    for t in "${targets[@]}"; do
        case " ${all_targets[*]} " in
            *" $t "*) ;;
            *) echo "$0: unknown target $t (targets: ${all_targets[*]})" >&2; exit 2 ;;
        esac
    done
fi

cd "$root"
export RUSTC_BOOTSTRAP=1

# cargo-fuzz missing and not installable: not a failure of ztel, but CI must not pass silently.
unavailable() {
    echo "run.sh: fuzzing skipped: $*"
    if [ -n "${CI:-}" ]; then
        echo "run.sh: CI is set, so this is a failure"
        exit 1
    fi
    exit 0
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: cargo-fuzz not found; installing it (cargo install --locked cargo-fuzz)"
    install_log="$(mktemp)"
    if ! cargo install --locked cargo-fuzz >"$install_log" 2>&1; then
        tail -n 5 "$install_log"
        unavailable "cargo install --locked cargo-fuzz failed (log above)"
    fi
    rm -f "$install_log"
    cargo fuzz --version >/dev/null 2>&1 \
        || unavailable "cargo-fuzz was installed but 'cargo fuzz' does not run (is ~/.cargo/bin on PATH?)"
fi
# libFuzzer itself is C++, built by libfuzzer-sys.
command -v c++ >/dev/null 2>&1 || command -v clang++ >/dev/null 2>&1 \
    || unavailable "no C++ compiler (c++ or clang++) to build libFuzzer"

echo "run.sh: $(cargo fuzz --version), $(rustc --version); building all targets"
start=$SECONDS
sanitizer=()
[ -n "${FUZZ_SANITIZER:-}" ] && sanitizer=(-s "$FUZZ_SANITIZER")
if ! cargo fuzz build --fuzz-dir tests/fuzz "${sanitizer[@]}"; then
    echo "run.sh: FAILED: the fuzz targets do not build"
    exit 1
fi
echo "run.sh: build took $((SECONDS - start)) s"

# cargo-fuzz passes no --target-dir of its own: with CARGO_TARGET_DIR set, cargo builds there.
bin_dir="${CARGO_TARGET_DIR:-$fuzz_dir/target}/$(rustc -vV | sed -n 's/^host: //p')/release"
fork_flags=()
if [ "${FUZZ_FORK:-0}" = 1 ]; then
    fork_flags=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

failed=()
summary=()
for t in "${targets[@]}"; do
    work="$fuzz_dir/work/$t"
    log="$fuzz_dir/work/$t.log"
    mkdir -p "$work" "$fuzz_dir/corpus/$t" "$fuzz_dir/regressions/$t" "$fuzz_dir/artifacts/$t"

    known=0
    for input in "$fuzz_dir/regressions/$t"/*; do
        [ -f "$input" ] || continue
        if ! "$bin_dir/$t" -runs=1 "$input" >"$log.replay" 2>&1; then
            known=$((known + 1))
            echo "run.sh: $t: regression ${input#"$root"/} still crashes:"
            grep -a -m 1 -A 1 -E "panicked at|ERROR: (libFuzzer|AddressSanitizer)" "$log.replay" | sed 's/^/    /'
        fi
    done
    rm -f "$log.replay"

    echo "run.sh: $t for ${secs} s${fork_flags:+ (fork mode)} (log: ${log#"$root"/})"
    # The binary that `cargo fuzz run` would start, with the arguments it would pass: built once
    # above, so that every target tests the same sources even if they change meanwhile.
    "$bin_dir/$t" -artifact_prefix="$fuzz_dir/artifacts/$t/" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${fork_flags[@]}" "$work" "$fuzz_dir/corpus/$t" >"$log" 2>&1
    rc=$?
    # Normal mode ends with "#N DONE cov: … ft: … corp: …" and the final stats; fork mode prints
    # "#N: cov: … ft: … corp: N … oom/timeout/crash: a/b/c …" lines.
    status="$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
    execs="$(awk '/stat::number_of_executed_units:/ {n = $2} END {print n}' "$log")"
    [ -n "$execs" ] || execs="$(printf '%s\n' "$status" | grep -oE '^#[0-9]+' | tr -d '#')"
    cov="$(printf '%s\n' "$status" | grep -oE 'cov: [0-9]+' | cut -d' ' -f2)"
    ft="$(printf '%s\n' "$status" | grep -oE 'ft: [0-9]+' | cut -d' ' -f2)"
    corp="$(printf '%s\n' "$status" | grep -oE 'corp: [0-9]+(/[0-9]+[a-zA-Z]*)?' | cut -d' ' -f2)"
    crashes="$(printf '%s\n' "$status" | grep -oE 'oom/timeout/crash: [0-9/]+' | cut -d' ' -f2)"
    line="$(printf '%-7s execs %-10s cov %-6s ft %-7s corpus %-12s' \
        "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")"
    [ -z "$crashes" ] || line="$line oom/timeout/crash $crashes"
    found=0
    if [ "$rc" -ne 0 ] || { [ -n "$crashes" ] && [ "$crashes" != 0/0/0 ]; }; then
        found=1
    fi
    if [ "$found" -eq 0 ] && [ "$known" -eq 0 ]; then
        echo "  $status"
        summary+=("$line ok")
        continue
    fi
    failed+=("$t")
    if [ "$found" -eq 1 ]; then
        summary+=("$line FAILED (exit $rc)")
        # The first panic or sanitizer report, and where the inputs were saved.
        grep -a -m 1 -A 12 -E "panicked at|ERROR: (libFuzzer|AddressSanitizer)|==[0-9]+== ERROR" "$log"
        grep -E 'Test unit written to|artifact_prefix' "$log" | tail -n 2
        echo "  reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz $t <artifact>"
    else
        summary+=("$line FAILED ($known regression(s) still crash)")
    fi
done

echo "run.sh: summary (${secs} s per target, total $((SECONDS - start)) s with the build)"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "run.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "run.sh: no crash in ${#targets[@]} targets"
