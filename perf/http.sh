#!/usr/bin/env bash
# The Cloud NSS path (input.http) under loadgen --proto http: events/s and events per collector
# CPU-second, median of RUNS runs, for each ztel binary given, interleaved run by run so that a
# busy machine weighs on all of them alike.
#
#   perf/http.sh [--runs N] [--count EVENTS] [--batch N] [--connections N] [ZTEL_BINARY...]
#
# Without a binary it builds and measures target/release/ztel. The same loadgen
# (target/release/loadgen) sends to every binary: NSS web records in JSON arrays of --batch
# records over --connections keep-alive connections, as fast as the collector answers.
# A result line per binary: `http-result ztel=PATH runs=N eps=MEDIAN eps_per_cpu_s=MEDIAN`.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=5
COUNT=300000
BATCH=100
CONNECTIONS=2
BINARIES=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --count) COUNT=$2; shift 2 ;;
        --batch) BATCH=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "http.sh: unknown option $1" >&2; exit 2 ;;
        *) BINARIES+=("$1"); shift ;;
    esac
done
cargo build --release --locked -p ztel -p loadgen >&2
[ "${#BINARIES[@]}" -gt 0 ] || BINARIES=(target/release/ztel)
LOADGEN=target/release/loadgen
WORK=$(mktemp -d /tmp/ztel-http.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One run: start the binary, send, read its CPU ticks, drain. Prints "eps events_per_cpu_s".
run_one() {
    local ztel=$1 dir=$WORK/run
    rm -rf "$dir"; mkdir -p "$dir"
    printf '[input.http]\nplain = true\nkeys = ["bench"]\n' > "$dir/ztel.toml"
    "$ztel" serve --config "$dir/ztel.toml" --tcp "" --udp "" --admin "" --shards 1 \
        --http 127.0.0.1:0 --data-dir "$dir/data" 2> "$dir/err" &
    local pid=$!
    for _ in $(seq 200); do grep -q "listening http" "$dir/err" && break; sleep 0.05; done
    local addr
    addr=$(grep -o 'listening http [0-9.:]*' "$dir/err" | awk '{print $3}')
    local before after
    before=$(ticks "$pid")
    "$LOADGEN" --target "$addr" --proto http --http-key bench --source nss --rate max \
        --count "$COUNT" --batch "$BATCH" --connections "$CONNECTIONS" --quiet > "$dir/out"
    after=$(ticks "$pid")
    kill -TERM "$pid"; wait "$pid" || true
    local eps
    eps=$(sed -n 's/^loadgen-result.* eps=\([0-9.]*\).*/\1/p' "$dir/out")
    python3 -c "import os; t=($after-$before)/os.sysconf('SC_CLK_TCK'); print($eps, $COUNT/t if t else 0)"
}

for i in $(seq "$RUNS"); do
    for z in "${BINARIES[@]}"; do
        echo "$z $(run_one "$z")" >> "$WORK/results"
        echo "run $i: $z $(tail -n 1 "$WORK/results" | cut -d' ' -f2-)" >&2
    done
done
python3 - "$WORK/results" "$RUNS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    z, eps, per_cpu = line.split()
    rows.setdefault(z, []).append((float(eps), float(per_cpu)))
for z, r in rows.items():
    eps = statistics.median(x for x, _ in r)
    cpu = statistics.median(y for _, y in r)
    print(f"http-result ztel={z} runs={sys.argv[2]} eps={eps:.0f} eps_per_cpu_s={cpu:.0f}")
PY
