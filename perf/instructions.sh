#!/usr/bin/env bash
# Instructions per record on the shard path, counted by valgrind's callgrind: deterministic, so
# unlike timings it can compare two commits on a machine that other work keeps busy.
#
#   perf/instructions.sh                 # every input of benches/pipeline.rs
#   perf/instructions.sh nss_ztel lss    # some of them
#
# It runs the criterion bench binary in profile mode under callgrind, counting only inside the
# bench's `run_shard_path` (framing, parsing, records, a batch per 64 KiB read), and divides by the
# records it made: its calls times the bench's 1,000 lines. Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."

inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(nss_ztel nss_elastic nss_sekoia lss)
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

bench=$(cargo bench --bench pipeline --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "pipeline" and m.get("executable"):
        print(m["executable"])')
[ -x "$bench" ] || { echo "instructions.sh: could not build the pipeline bench" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-12s %14s %10s\n' input instructions records
for input in "${inputs[@]}"; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$input" \
        --toggle-collect='pipeline::run_shard_path' \
        "$bench" --bench "shard_path_events/$input" --profile-time 1 >/dev/null 2>&1
    python3 - "$out/$input" "$input" <<'PY'
import re, sys
data = open(sys.argv[1]).read()
total = int(re.search(r'^summary: (\d+)', data, re.M).group(1))
names = dict(re.findall(r'^c?fn=\((\d+)\) (.+)$', data, re.M))
path = {i for i, n in names.items() if n.endswith('run_shard_path')}
calls = sum(int(c) for i, c in re.findall(r'^cfn=\((\d+)\).*\ncalls=(\d+)', data, re.M) if i in path)
records = calls * 1000  # LINES in benches/pipeline.rs
print(f'{sys.argv[2]:<12} {total // max(records, 1):>14,} {records:>10,}')
PY
done
