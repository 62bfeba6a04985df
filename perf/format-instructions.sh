#!/usr/bin/env bash
# Instructions per byte of each feed format's decoding, against JSON's, counted by valgrind's
# callgrind: deterministic, unlike the timings of `cargo bench --bench formats`, which a busy
# machine spreads by ±25 %. DESIGN and issue 11 want every format within 1.5x of JSON per byte.
#
#   perf/format-instructions.sh               # json leef cef kv csv
#   perf/format-instructions.sh json kv       # some of them
#
# It runs the formats bench binary in profile mode under callgrind, counting only inside
# criterion's timed loop (`Bencher::iter`), and divides by the frames it decoded (calls of
# `Readers::decode`) and by the bytes per frame the bench reports. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

formats=("$@")
[ ${#formats[@]} -gt 0 ] || formats=(json leef cef kv csv)
command -v valgrind >/dev/null || { echo "format-instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

bench=$(python3 perf/perfhelp.py bench-exe formats || true)
[ -x "$bench" ] || { echo "format-instructions.sh: could not build the formats bench" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for format in json "${formats[@]}"; do
    [ -e "$out/$format" ] && continue
    valgrind --tool=callgrind --callgrind-out-file="$out/$format" \
        --toggle-collect='criterion::bencher::Bencher*iter*' \
        "$bench" --bench "format_bytes/$format" --profile-time 1 >/dev/null 2>"$out/$format.err"
done
python3 - "$out" "${formats[@]}" <<'PY'
import re, sys
out, formats = sys.argv[1], sys.argv[2:]
def per_byte(name):
    data = open(f'{out}/{name}').read()
    total = int(re.search(r'^summary: (\d+)', data, re.M).group(1))
    fns = dict(re.findall(r'^c?fn=\((\d+)\) (.+)$', data, re.M))
    ids = {i for i, n in fns.items() if n.startswith('wire::decode::Readers::decode')}
    frames = sum(int(c) for i, c in re.findall(r'^cfn=\((\d+)\).*\ncalls=(\d+)', data, re.M) if i in ids)
    m = re.search(rf'format {name}: (\d+) lines, (\d+) bytes', open(f'{out}/{name}.err').read())
    lines, size = int(m.group(1)), int(m.group(2))
    return total / max(frames, 1), size / lines
json_i, json_b = per_byte('json')
print(f'{"format":<8} {"instr/frame":>12} {"bytes/frame":>12} {"instr/byte":>11} {"vs JSON":>8}')
for name in formats:
    i, b = per_byte(name)
    print(f'{name:<8} {i:>12,.0f} {b:>12,.0f} {i / b:>11.2f} {(i / b) / (json_i / json_b):>7.2f}x')
PY
