#!/usr/bin/env bash
# What the NATS side needs of nats-server, for sizing it: one run of ztel with [output.nats]
# against a fresh local nats-server (JetStream, a temporary store), and what nats-server took
# for it: CPU per message, cores, and memory. nats-server keeps each message's Nats-Msg-Id for
# the stream's duplicate window (ztel's duplicate_window_secs, 900 s by default), so its memory
# grows with records a second × window; --window sets a short one to show the ids' share.
#
#   perf/nats-server.sh [--count EVENTS] [--window SECS] [--connections N] [--devices N]
#                       [--loadgen "MORE LOADGEN FLAGS"]
#
# loadgen sends COUNT NSS web records as fast as the collector takes them; the run ends when
# JetStream acknowledged them all. Prints one line:
#   nats-server-result messages=N window_s=W eps_wall=E server_cpu_us_per_msg=C server_cores=K
#     ztel_cpu_us_per_msg=Z rss_before_mb=A rss_after_mb=B rss_bytes_per_msg=R
# eps_wall is COUNT over loadgen's sending time plus the wait for the last acknowledgement.
# The binaries are $CARGO_TARGET_DIR/release/{ztel,loadgen} (target/ without it), or those in
# BIN=dir.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=800000
WINDOW=900
CONNECTIONS=2
DEVICES=1000
MORE=
while [ $# -gt 0 ]; do
    case "$1" in
        --count) COUNT=$2; shift 2 ;;
        --window) WINDOW=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --devices) DEVICES=$2; shift 2 ;;
        --loadgen) MORE=$2; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "nats-server.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
for b in ztel loadgen; do
    [ -x "$BIN/$b" ] || { echo "nats-server.sh: no $BIN/$b (cargo build --release)" >&2; exit 1; }
done
command -v nats-server >/dev/null \
    || { echo "nats-server.sh: nats-server is not installed (apt-get install nats-server)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/ztel-nats-server.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 perf/perfhelp.py freeports 1; }
wait_for_line() { for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

port=$(free_port)
nats-server -js -a 127.0.0.1 -p "$port" -sd "$WORK/nats" 2> "$WORK/nats.log" &
NATS_PID=$!; PIDS+=("$NATS_PID")
wait_for_line "$WORK/nats.log" "Server is ready" || { echo "nats-server.sh: nats-server did not start" >&2; exit 1; }
printf '[output.nats]\nurl = "nats://127.0.0.1:%s"\nduplicate_window_secs = %s\n' "$port" "$WINDOW" \
    > "$WORK/ztel.toml"
"$BIN/ztel" serve --config "$WORK/ztel.toml" --tcp 127.0.0.1:0 --udp "" --admin 127.0.0.1:0 \
    --shards 1 --data-dir "$WORK/data" --records /dev/null 2> "$WORK/err" &
ZTEL_PID=$!; PIDS=("$ZTEL_PID" "${PIDS[@]}")
wait_for_line "$WORK/err" "listening tcp" || { echo "nats-server.sh: ztel did not start" >&2; exit 1; }
addr=$(grep -o 'listening tcp [0-9.:]*' "$WORK/err" | awk '{print $3}')
admin=$(grep -o 'listening admin [0-9.:]*' "$WORK/err" | awk '{print $3}')

server_before=$(ticks "$NATS_PID"); ztel_before=$(ticks "$ZTEL_PID"); rss_before=$(rss_kb "$NATS_PID")
"$BIN/loadgen" --target "$addr" --proto tcp --source nss --rate max --count "$COUNT" \
    --connections "$CONNECTIONS" --devices "$DEVICES" $MORE --quiet > "$WORK/loadgen.out"
sent=$(date +%s.%N)
sending=$(grep -o 'loadgen-result events=[0-9]* bytes=[0-9]* seconds=[0-9.]*' "$WORK/loadgen.out" \
    | sed 's/.*seconds=//')
metric() { curl -s "http://$admin/metrics" | awk -v m="$1" '$1 == m {print int($2)}'; }
acked=0
for _ in $(seq 2400); do
    acked=$(metric ztel_nats_acknowledged_total)
    [ "${acked:-0}" -ge "$COUNT" ] && break
    sleep 0.05
done
ended=$(date +%s.%N)
[ "${acked:-0}" -ge "$COUNT" ] \
    || { echo "nats-server.sh: only ${acked:-0} of $COUNT acknowledged in 2 minutes" >&2; exit 1; }
server_after=$(ticks "$NATS_PID"); ztel_after=$(ticks "$ZTEL_PID"); rss_after=$(rss_kb "$NATS_PID")
python3 - <<PY
import os
hz = os.sysconf("SC_CLK_TCK")
count, wall = $COUNT, ${sending:-0} + $ended - $sent
server = ($server_after - $server_before) / hz
ztel = ($ztel_after - $ztel_before) / hz
print(f"nats-server-result messages={count} window_s=$WINDOW eps_wall={count / wall:.0f} "
      f"server_cpu_us_per_msg={server / count * 1e6:.1f} server_cores={server / wall:.2f} "
      f"ztel_cpu_us_per_msg={ztel / count * 1e6:.1f} rss_before_mb={$rss_before / 1024:.0f} "
      f"rss_after_mb={$rss_after / 1024:.0f} "
      f"rss_bytes_per_msg={($rss_after - $rss_before) * 1024 / count:.0f}")
PY
