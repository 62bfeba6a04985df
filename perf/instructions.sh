#!/usr/bin/env bash
# Instructions per record on the shard path, counted by valgrind's callgrind: deterministic, so
# unlike timings it can compare two commits on a machine that other work keeps busy.
#
#   perf/instructions.sh                 # every input of benches/pipeline.rs
#   perf/instructions.sh nss_ztel lss    # some of them
#
# It runs the criterion bench binary in profile mode under callgrind, counting only inside the
# bench's `run_shard_path` (framing, parsing, records, a batch per 64 KiB read), with a dump at each
# call: one call is the bench's 1,000 lines. The first call pays for warming buffers and caches, and
# how many calls fit in the profile time depends on the machine's load, so the figure is the median
# of the later calls, which does not. Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."

inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(nss_ztel nss_elastic nss_sekoia lss)
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

bench=$(python3 perf/perfhelp.py bench-exe pipeline || true)
[ -x "$bench" ] || { echo "instructions.sh: could not build the pipeline bench" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-12s %14s %6s\n' input instructions calls
for input in "${inputs[@]}"; do
    mkdir "$out/$input"
    valgrind --tool=callgrind --callgrind-out-file="$out/$input/cg" \
        --toggle-collect='pipeline::run_shard_path' --dump-before='pipeline::run_shard_path' \
        "$bench" --bench "shard_path_events/$input" --profile-time 1 >/dev/null 2>&1
    python3 - "$out/$input" "$input" <<'PY'
import glob, re, statistics, sys
# cg.N holds the calls before the Nth; cg (the final dump) holds the last one. cg.1 is empty and
# cg.2 the warm-up call.
def summary(path):
    return int(re.search(r'^summary: (\d+)', open(path).read(), re.M).group(1))
dumps = sorted(glob.glob(sys.argv[1] + '/cg.*'), key=lambda p: int(p.rsplit('.', 1)[1]))
calls = [summary(p) for p in dumps[2:]] + [summary(sys.argv[1] + '/cg')]
if len(dumps) < 2:
    sys.exit(f'{sys.argv[2]}: the bench made fewer than two calls under callgrind')
lines = 1000  # LINES in benches/pipeline.rs
print(f'{sys.argv[2]:<12} {int(statistics.median(calls)) // lines:>14,} {len(calls):>6}')
PY
done
