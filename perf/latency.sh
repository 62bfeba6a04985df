#!/usr/bin/env bash
# Read→sink latency of one ztel shard at half the maximum rate loadgen reaches against it.
#
#   perf/latency.sh [--duration SECS] [--source nss|lss] [--out DIR]
#
# Measures the maximum (loadgen --rate max), then sends at half of it for --duration seconds
# (open loop), and reports ztel's read→sink percentiles from /metrics, loadgen's send lateness,
# and writes the latency log and its percentile plot (ztel hist --plot) into --out
# (default perf/results). A line `latency-result …` sums it up.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=30
SOURCE=nss
OUT=perf/results
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --source) SOURCE=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "latency.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
cargo build --release --locked -p ztel -p loadgen >&2
WORK=$(mktemp -d /tmp/ztel-latency.XXXXXX)
cat > "$WORK/ztel.toml" <<TOML
[histograms]
interval_secs = 1
TOML
start_ztel() {
    target/release/ztel serve --config "$WORK/ztel.toml" --tcp 127.0.0.1:0 --udp "" \
        --admin 127.0.0.1:0 --data-dir "$WORK/$1" --shards 1 2> "$WORK/$1.err" &
    PID=$!
    for _ in $(seq 100); do grep -q "listening tcp" "$WORK/$1.err" && break; sleep 0.1; done
    TCP=$(grep -o 'listening tcp [0-9.:]*' "$WORK/$1.err" | awk '{print $3}')
    ADMIN=$(grep -o 'listening admin [0-9.:]*' "$WORK/$1.err" | awk '{print $3}')
}
field() { sed -n "s/^loadgen-result.* $1=\([0-9.a-z\/]*\).*/\1/p" "$2"; }

start_ztel probe
target/release/loadgen --target "$TCP" --source "$SOURCE" --rate max --count 1000000 --quiet > "$WORK/max.out"
kill -TERM "$PID"; wait "$PID" || true
MAX=$(field eps "$WORK/max.out")
RATE=$(python3 -c "print(int(float('$MAX') / 2))")
echo "maximum $MAX events/s; measuring at $RATE for $DURATION s" >&2

# A fresh collector, so that its histograms hold only the half-rate run.
start_ztel run
target/release/loadgen --target "$TCP" --source "$SOURCE" --rate "$RATE" --duration "$DURATION" \
    --admin "http://$ADMIN" --hist "$WORK/send.hlog" --quiet > "$WORK/run.out" || true
kill -TERM "$PID"; wait "$PID" || true
mkdir -p "$OUT"
STAMP=$(date -u +%Y-%m-%d)
cp "$WORK/run/latency.hlog" "$OUT/$STAMP-latency-half-max-$SOURCE.hlog"
target/release/ztel hist "$OUT/$STAMP-latency-half-max-$SOURCE.hlog" \
    --plot "$OUT/$STAMP-latency-half-max-$SOURCE.svg" | tee "$WORK/hist.txt" >&2
echo "latency-result source=$SOURCE max_eps=$MAX rate=$RATE duration=$DURATION" \
    "sent=$(field events "$WORK/run.out") lost=$(field lost "$WORK/run.out")" \
    "ztel_p50_us=$(field ztel_p50_us "$WORK/run.out") ztel_p99_us=$(field ztel_p99_us "$WORK/run.out")" \
    "ztel_p999_us=$(field ztel_p999_us "$WORK/run.out")" \
    "send_lateness_p99_us=$(field lateness_p99_us "$WORK/run.out")"
rm -rf "$WORK"
