#!/usr/bin/env bash
# Memory and restart time with a large device registry (issue 12: ≤ 256 MB RSS with 1,000,000
# devices; restart to listening in ≤ 2 s with that registry).
#
#   perf/devices.sh [--devices N] [--count N] [--bin DIR]
#
# Starts `ztel serve` (one shard), sends --count synthetic NSS records over --devices devices
# with loadgen (defaults: 12,000,000 over 1,300,000 ids, which reach 1,020,249 distinct devices,
# over the target's million; loadgen's draws repeat ids, and 1,000,000 over 1,000,000 reach only
# 632,098), waits until every device is saved, and reads VmRSS from /proc. Then stops it,
# starts it again on the same data_dir and times start → "listening tcp" (the registry is loaded
# before anything listens), and reads VmRSS again. --bin: where ztel and loadgen are (default:
# a release build of this tree). A line `devices-result …` sums it up.
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICES=1300000
COUNT=12000000
BIN=
while [ $# -gt 0 ]; do
    case "$1" in
        --devices) DEVICES=$2; shift 2 ;;
        --count) COUNT=$2; shift 2 ;;
        --bin) BIN=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "devices.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$BIN" ]; then
    cargo build --release --locked -p ztel -p loadgen >&2
    BIN=${CARGO_TARGET_DIR:-target}/release
fi
WORK=$(mktemp -d /tmp/ztel-devices.XXXXXX)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
: > "$WORK/ztel.toml"
start_ztel() {
    START=$(date +%s%N)
    "$BIN/ztel" serve --config "$WORK/ztel.toml" --tcp 127.0.0.1:0 --udp "" \
        --admin 127.0.0.1:0 --data-dir "$WORK/data" --shards 1 2> "$WORK/$1.err" &
    PID=$!
    until grep -qs "listening tcp" "$WORK/$1.err"; do
        kill -0 "$PID" || { cat "$WORK/$1.err" >&2; exit 1; }
        sleep 0.01
    done
    # TCP is said last, when everything is up; the loop polls every 10 ms.
    LISTENING_MS=$(( ($(date +%s%N) - START) / 1000000 ))
    TCP=$(grep -o 'listening tcp [0-9.:]*' "$WORK/$1.err" | awk '{print $3}')
    ADMIN=$(grep -o 'listening admin [0-9.:]*' "$WORK/$1.err" | awk '{print $3}')
}
metric() { curl -s "http://$ADMIN/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# A metric summed over its labels.
total() { curl -s "http://$ADMIN/metrics" | awk -v n="$1" '$1 ~ "^"n"[{ ]" || $1 == n {s += $2} END {printf "%d\n", s}'; }
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$PID/status"; }

start_ztel first
"$BIN/loadgen" --target "$TCP" --source nss --devices "$DEVICES" --count "$COUNT" --quiet \
    > "$WORK/load.out"
# Every record handled and every device saved. loadgen is done when the kernel has its last
# bytes, not when ztel has read them; "no device unsaved" alone can hold while a batch is still
# on its way to the aggregator.
for _ in $(seq 600); do
    [ "$(total ztel_records_total)" -ge "$COUNT" ] && [ "$(metric ztel_devices_unsaved)" = "0" ] \
        && [ -n "$(metric ztel_devices)" ] && break
    sleep 0.2
done
[ "$(total ztel_records_total)" -ge "$COUNT" ] \
    || echo "devices.sh: only $(total ztel_records_total) of $COUNT records after 120 s" >&2
sleep 1
KNOWN=$(metric ztel_devices)
REGISTRY_MB=$(( $(metric ztel_registry_bytes) / 1048576 ))  # as VmRSS: MiB
RSS_SERVING=$(rss_mb)
kill -TERM "$PID"; wait "$PID" || true
STORE_MB=$(du -m "$WORK/data/devices.redb" | cut -f1)

start_ztel again
RESTART_MS=$LISTENING_MS
sleep 1
RSS_RESTARTED=$(rss_mb)
LOADED=$(metric ztel_devices)
kill -TERM "$PID"; wait "$PID" || true
echo "devices-result devices=$KNOWN rss_serving_mb=$RSS_SERVING registry_mb=$REGISTRY_MB" \
    "store_mb=$STORE_MB" \
    "restart_to_listening_ms=$RESTART_MS rss_restarted_mb=$RSS_RESTARTED loaded=$LOADED"
