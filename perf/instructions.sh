#!/usr/bin/env bash
# Instructions per record on the shard path, counted by valgrind's callgrind: deterministic, so
# unlike timings it can compare two commits on a machine that other work keeps busy.
#
#   perf/instructions.sh                          # every input of benches/pipeline.rs
#   perf/instructions.sh nss_ztel lss             # some of them
#   perf/instructions.sh --stages nss_sekoia      # and where they go, stage by stage
#
# It runs the criterion bench binary in profile mode under callgrind, counting only inside the
# bench's `run_shard_path` (framing, parsing, records, a batch per 64 KiB read), with a dump at each
# call: one call is the bench's 1,000 lines. The first call pays for warming buffers and caches, and
# how many calls fit in the profile time depends on the machine's load, so the figure is the median
# of the later calls, which does not. Needs valgrind (apt-get install valgrind).
#
# --stages counts again inside each stage's function alone (callgrind's --toggle-collect, one run
# each, about 5 s) and splits the record's instructions: the syslog header
# (`header::split_stacked`), reading the JSON (`json::flat::extract`, and `json::tape::extract`
# for frames the fast path declines), the record written (the `Writer`'s method of its kind), the
# payload's identity (xxh3-128), the event made from the fields (the rest of
# `decode::Readers::decode`), and framing, the batch and the device cache (the rest of the
# path). A function the compiler inlined counts as its caller's stage.
set -euo pipefail
cd "$(dirname "$0")/.."

stages=
inputs=()
for arg in "$@"; do
    case "$arg" in
        --stages) stages=1 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "instructions.sh: unknown option $arg" >&2; exit 2 ;;
        *) inputs+=("$arg") ;;
    esac
done
[ ${#inputs[@]} -gt 0 ] || inputs=(nss_ztel nss_elastic nss_sekoia lss)
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

bench=$(python3 perf/perfhelp.py bench-exe pipeline || true)
[ -x "$bench" ] || { echo "instructions.sh: could not build the pipeline bench" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# count INPUT FUNCTION: prints the instructions a record spent inside FUNCTION (a callgrind
# pattern) and how many calls of the bench that is the median of.
count() {
    local dir
    dir=$(mktemp -d "$out/run.XXXXXX")
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg" \
        --toggle-collect="$2" --dump-before='pipeline::run_shard_path' \
        "$bench" --bench "shard_path_events/$1" --profile-time 1 >/dev/null 2>&1
    python3 - "$dir" "$1" <<'PY'
import glob, re, statistics, sys
# cg.N holds the calls before the Nth; cg (the final dump) holds the last one. cg.1 is empty and
# cg.2 the warm-up call.
def summary(path):
    found = re.search(r'^summary: (\d+)', open(path).read(), re.M)
    return int(found.group(1)) if found else 0
dumps = sorted(glob.glob(sys.argv[1] + '/cg.*'), key=lambda p: int(p.rsplit('.', 1)[1]))
if len(dumps) < 2:
    sys.exit(f'{sys.argv[2]}: the bench made fewer than two calls under callgrind')
calls = [summary(p) for p in dumps[2:]] + [summary(sys.argv[1] + '/cg')]
lines = 1000  # LINES in benches/pipeline.rs
print(int(statistics.median(calls)) // lines, len(calls))
PY
}

printf '%-12s %14s %6s\n' input instructions calls
for input in "${inputs[@]}"; do
    read -r all calls < <(count "$input" 'pipeline::run_shard_path')
    printf '%-12s %14s %6s\n' "$input" "$(python3 -c "print(f'{$all:,}')")" "$calls"
    [ -n "$stages" ] || continue
    declare -A n=()
    for stage in decode header flat tape writer identity; do
        case $stage in
            decode) pattern='wire::decode::Readers::decode' ;;
            header) pattern='wire::header::split_stacked' ;;
            flat) pattern='wire::format::json::flat::extract' ;;
            tape) pattern='wire::format::json::tape::extract' ;;
            writer) pattern='*<impl wire::record::Writer>::*' ;;
            identity) pattern='xxhash_rust::xxh3::xxh3_128*' ;;
        esac
        read -r n[$stage] _ < <(count "$input" "$pattern")
    done
    python3 - "$all" "${n[decode]}" "${n[header]}" "$((n[flat] + n[tape]))" "${n[writer]}" \
        "${n[identity]}" <<'PY'
import sys
total, decode, header, reading, writer, identity = map(int, sys.argv[1:])
rows = [
    ('framing, batch, device cache', total - decode - identity),
    ('syslog header', header),
    ('reading the JSON', reading),
    ('the event from the fields', decode - header - reading - writer),
    ('writing the record', writer),
    ('identity (xxh3-128)', identity),
]
for name, n in rows:
    print(f'  {name:<30} {n:>8,} {100 * n / total:>5.1f} %')
PY
done
