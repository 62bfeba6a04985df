#!/usr/bin/env bash
# One hot connection on 1 and 2 shards (DESIGN §4 "Hot connections"): how the parsing CPU splits
# between the shards, and what one connection reaches in wall events/s.
#
#   perf/hot.sh [--count N] [--runs R] [--shards "1 2"] [--no-build] [-- LOADGEN-ARGS…]
#
# Each run starts `ztel serve --shards S` afresh, sends --count synthetic NSS web records
# (default: the Sekoia/Splunk dialect behind an RFC 3164 header, 10,000 devices) over ONE loadgen
# connection at --rate max, waits until /metrics counts every record, and reads each shard
# thread's CPU time (utime + stime of /proc/PID/task/TID, by thread name) and the process's.
# Per run it prints a line `hot-result shards=S run=R wall_eps=… cpu_s=… eps_per_cpu_s=…
# shard0_cpu=… shard1_cpu=… shard0_share=… handoffs=…`, then the medians per shard count.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=300000
RUNS=3
SHARDS="1 2"
BUILD=1
EXTRA=(--source nss --dialect sekoia --devices 10000)
while [ $# -gt 0 ]; do
    case "$1" in
        --count) COUNT=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --shards) SHARDS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "hot.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
TARGET=${CARGO_TARGET_DIR:-target}
if [ "$BUILD" = 1 ]; then
    cargo build --release --locked -p ztel -p loadgen >&2
fi
ZTEL=$TARGET/release/ztel
LOADGEN=$TARGET/release/loadgen
WORK=$(mktemp -d /tmp/ztel-hot.XXXXXX)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Per-thread CPU seconds of PID as "name=seconds" lines, and the process total as total=….
cpu() {
    python3 - "$1" <<'PY'
import os, sys
pid = sys.argv[1]
tck = os.sysconf("SC_CLK_TCK")
def stat(path):
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tck
# glommio names a helper thread after its executor too: a name's threads are summed.
by_name = {}
for tid in os.listdir(f"/proc/{pid}/task"):
    try:
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            name = f.read().strip()
        by_name[name] = by_name.get(name, 0) + stat(f"/proc/{pid}/task/{tid}/stat")
    except OSError:
        pass
for name, seconds in by_name.items():
    print(f"{name}={seconds:.2f}")
print(f"total={stat(f'/proc/{pid}/stat'):.2f}")
PY
}
metric() { curl -s "http://$ADMIN/metrics" | awk -v n="$1" '$1 ~ "^"n"[{ ]" || $1 == n {s += $2} END {printf "%d\n", s}'; }

RESULTS=$WORK/results
for shards in $SHARDS; do
    for run in $(seq "$RUNS"); do
        dir=$WORK/s$shards-r$run
        "$ZTEL" serve --tcp 127.0.0.1:0 --udp "" --admin 127.0.0.1:0 --data-dir "$dir" \
            --shards "$shards" 2> "$WORK/ztel.err" &
        PID=$!
        for _ in $(seq 200); do grep -q "listening admin" "$WORK/ztel.err" && break; sleep 0.05; done
        TCP=$(grep -o 'listening tcp [0-9.:]*' "$WORK/ztel.err" | awk '{print $3}')
        ADMIN=$(grep -o 'listening admin [0-9.:]*' "$WORK/ztel.err" | awk '{print $3}')
        start=$(date +%s.%N)
        "$LOADGEN" --target "$TCP" --count "$COUNT" --connections 1 --rate max --quiet \
            "${EXTRA[@]}" > "$WORK/loadgen.out"
        for _ in $(seq 1200); do
            [ "$(metric ztel_records_total)" -ge "$COUNT" ] && break
            sleep 0.05
        done
        end=$(date +%s.%N)
        made=$(metric ztel_records_total)
        handoffs=$(metric ztel_handoffs_total)
        cpus=$(cpu "$PID")
        kill "$PID"; wait "$PID" || true; PID=
        [ "$made" -ge "$COUNT" ] || { echo "hot.sh: only $made of $COUNT records made" >&2; exit 1; }
        python3 - "$shards" "$run" "$COUNT" "$start" "$end" "$handoffs" "$cpus" >> "$RESULTS" <<'PY'
import sys
shards, run, count, start, end, handoffs, cpus = sys.argv[1:]
t = dict(l.split("=") for l in cpus.splitlines())
total = float(t["total"])
shard = [float(t.get(f"shard-{i:02}", 0)) for i in range(int(shards))]
wall = float(end) - float(start)
line = f"hot-result shards={shards} run={run} wall_eps={int(count) / wall:.0f} cpu_s={total:.2f} eps_per_cpu_s={int(count) / total:.0f}"
for i, s in enumerate(shard):
    line += f" shard{i}_cpu={s:.2f}"
if len(shard) > 1 and sum(shard) > 0:
    line += f" shard0_share={shard[0] / sum(shard):.3f}"
line += f" handoffs={handoffs}"
print(line)
PY
        tail -1 "$RESULTS"
    done
done
python3 - "$RESULTS" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=") for p in line.split()[1:])
    rows.setdefault(kv["shards"], []).append(kv)
for shards, runs in rows.items():
    med = lambda k: statistics.median(float(r[k]) for r in runs if k in r)
    line = f"hot-median shards={shards} runs={len(runs)} wall_eps={med('wall_eps'):.0f} eps_per_cpu_s={med('eps_per_cpu_s'):.0f}"
    if "shard0_share" in runs[0]:
        line += f" shard0_share={med('shard0_share'):.3f}"
    print(line)
PY
