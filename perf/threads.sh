#!/usr/bin/env bash
# CPU per event of each of ztel's threads over one run: which thread a change made cheaper, and
# what [output.nats] adds to each (perf/nats.sh gives the whole process's median only).
#
#   perf/threads.sh [--nats] [--tls] [--shards N] [--count EVENTS] [--connections N]
#                   [--devices N] [--rate EPS] [--runs R] [--records PATH]
#                   [--loadgen "MORE LOADGEN FLAGS"]
#
# Starts ztel afresh (one shard unless --shards; with --nats also a local nats-server with JetStream on a
# temporary store), sends EVENTS synthetic NSS web records over TCP with loadgen, waits until every
# record is written to the records file (and, with --nats, acknowledged), and prints each thread's CPU
# seconds (utime + stime from /proc/PID/task/*/stat), microseconds per event, wake-ups (voluntary
# context switches) and minor page faults (memory the kernel handed over), then the total and
# events per CPU-second. --rate sends at EPS events a second instead of as fast as loadgen can,
# where the cost of each wake-up shows. --tls sends over the TLS input (LSS's 6514) instead of
# plain TCP, with a CA and certificate from perf/certs.sh. The binaries are
# $CARGO_TARGET_DIR/release/{ztel,loadgen} (target/ without it), or those in BIN=dir.
# --records PATH writes the records there instead of the data_dir's file, e.g. /dev/null: the
# aggregator's cost without the page cache's. On a VM whose host takes back the memory the guest
# frees, every page of a new file is a fault on the host, and that is most of the aggregator's
# write(2) (perf/README.md, "Where the time goes").
set -euo pipefail
cd "$(dirname "$0")/.."

NATS=
TLS=
SHARDS=1
MORE=
COUNT=400000
CONNECTIONS=2
DEVICES=1000
RUNS=1
RATE=max
RECORDS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --nats) NATS=1; shift ;;
        --tls) TLS=1; shift ;;
        --shards) SHARDS=$2; shift 2 ;;
        --loadgen) MORE=$2; shift 2 ;;
        --count) COUNT=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --devices) DEVICES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --records) RECORDS=(--records "$2"); shift 2 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "threads.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
for b in ztel loadgen; do
    [ -x "$BIN/$b" ] || { echo "threads.sh: no $BIN/$b (cargo build --release)" >&2; exit 1; }
done
if [ -n "$NATS" ] && ! command -v nats-server >/dev/null; then
    echo "threads.sh: nats-server is not installed (apt-get install nats-server)" >&2
    exit 1
fi
WORK=$(mktemp -d /tmp/ztel-threads.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 perf/perfhelp.py freeports 1; }
wait_for_line() { for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

run_one() {
    local dir=$WORK/run nats_pid=
    rm -rf "$dir"; mkdir -p "$dir"
    : > "$dir/ztel.toml"
    if [ -n "$NATS" ]; then
        local port; port=$(free_port)
        nats-server -js -a 127.0.0.1 -p "$port" -sd "$dir/nats" 2> "$dir/nats.log" &
        nats_pid=$!; PIDS+=("$nats_pid")
        wait_for_line "$dir/nats.log" "Server is ready" || { echo "threads.sh: nats-server did not start" >&2; exit 1; }
        printf '[output.nats]\nurl = "nats://127.0.0.1:%s"\n' "$port" > "$dir/ztel.toml"
    fi
    local input=tcp proto=(--proto tcp)
    if [ -n "$TLS" ]; then
        input=tls proto=(--proto tls --ca "$WORK/ca.pem")
        printf '[input.tls]\naddress = "127.0.0.1:0"\ncert = "%s"\nkey = "%s"\n' \
            "$WORK/server.pem" "$WORK/server.key" >> "$dir/ztel.toml"
    fi
    "$BIN/ztel" serve --config "$dir/ztel.toml" --tcp 127.0.0.1:0 --udp "" --admin 127.0.0.1:0 \
        --shards "$SHARDS" --data-dir "$dir/data" "${RECORDS[@]}" 2> "$dir/err" &
    local pid=$!; PIDS+=("$pid")
    # The TCP input is announced last, once every input and the admin endpoint listen.
    wait_for_line "$dir/err" "listening tcp" || { echo "threads.sh: ztel did not start" >&2; exit 1; }
    local addr admin
    addr=$(grep -o "listening $input [0-9.:]*" "$dir/err" | awk '{print $3}')
    admin=$(grep -o 'listening admin [0-9.:]*' "$dir/err" | awk '{print $3}')
    snap() {
        for t in /proc/"$pid"/task/*; do
            echo "$(cat "$t/comm")/${t##*/} $(awk '{print $14 + $15}' "$t/stat")" \
                "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")" \
                "$(awk '{print $10}' "$t/stat")"
        done | sort
    }
    snap > "$dir/before"
    "$BIN/loadgen" --target "$addr" "${proto[@]}" --source nss --rate "$RATE" --count "$COUNT" \
        --connections "$CONNECTIONS" --devices "$DEVICES" $MORE --quiet > /dev/null
    # Written: counted by the records' read-to-write latency (the file may have rotated).
    metric() { curl -s "http://$admin/metrics" | awk -v m="$1" '$1 == m {print int($2)}'; }
    for _ in $(seq 2400); do
        if [ "$(metric ztel_latency_read_to_write_seconds_count)" -ge "$COUNT" ]; then
            [ -z "$NATS" ] && break
            [ "$(metric ztel_nats_acknowledged_total)" -ge "$COUNT" ] && break
        fi
        sleep 0.05
    done
    snap > "$dir/after"
    kill -TERM "$pid"; wait "$pid" || true
    [ -z "$nats_pid" ] || { kill "$nats_pid"; wait "$nats_pid" || true; }
    local hz; hz=$(getconf CLK_TCK)
    # A thread started during the run (the records file's page-cache thread) counts from zero.
    join -a 2 -e 0 -o auto "$dir/before" "$dir/after" | awk -v n="$COUNT" -v hz="$hz" '
        # name, then CPU ticks, wake-ups and minor page faults before, then the same after.
        { d = ($5 - $2) / hz; total += d
          if (d >= 0.02) printf "%-18s %6.2f s %6.2f us/event %8d wake-ups %8d page faults\n", $1, d, d / n * 1e6, $6 - $3, $7 - $4 }
        END { printf "%-18s %6.2f s %6.2f us/event %9.0f events per CPU-second\n", "total", total, total / n * 1e6, (total ? n / total : 0) }'
}

[ -z "$TLS" ] || perf/certs.sh "$WORK"

for i in $(seq "$RUNS"); do
    echo "run $i: $([ -n "$NATS" ] && echo files and NATS || echo files alone), $COUNT events, rate $RATE$([ -n "$TLS" ] && echo ", over TLS")${RECORDS[1]:+, records to ${RECORDS[1]}}"
    run_one
done
