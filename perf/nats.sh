#!/usr/bin/env bash
# What [output.nats] costs: events per collector CPU-second with the JSON Lines files alone and
# with NATS JetStream as well (a local nats-server with JetStream on a temporary store), median
# of RUNS runs, the two interleaved run by run so that a busy machine weighs on both alike.
#
#   perf/nats.sh [--runs N] [--count EVENTS] [--connections N] [--devices N] [--no-build]
#                [--rate EVENTS_PER_S|max] [--records PATH] [--loadgen "MORE LOADGEN FLAGS"]
#                # e.g. --loadgen "--dialect sekoia --header 3164 --churn 4"
#
# The binaries are $CARGO_TARGET_DIR/release/{ztel,loadgen} (target/ without it); ZTEL=path
# measures another ztel build (an earlier commit's, for a before/after).
# Each run starts ztel afresh with one shard, sends COUNT NSS web records over TCP
# with loadgen (as fast as the collector takes them, or at --rate), and waits until every record
# is in the records file and, with NATS, acknowledged by JetStream (its spool empty); the
# collector's CPU time (utime + stime, every thread) is read then. nats-server's own CPU is not
# counted: it is another program, on a box of its own in a real set-up. On a small box it shares
# the cores with the collector and loadgen, and at full speed the collector's threads are then
# preempted (and lose their caches) far more with NATS than without; --rate below what the box
# can do shows the cost without that.
# --records PATH writes the records there in both modes, e.g. /dev/null: on a VM whose host takes
# back the memory the guest frees, the records file's new pages cost the aggregator 0.25 to 3 µs
# more an event, from one run to the next (perf/README.md), which hides what NATS adds.
# Result lines: `nats-result mode=files|nats runs=N eps_per_cpu_s=MEDIAN eps_wall=MEDIAN`, and
# the ratio with what NATS adds in µs of CPU an event (from the two medians): below full speed
# files alone pays more per event for its wake-ups, which lowers the ratio, not the extra.
# eps_wall is COUNT over loadgen's sending time plus the wait after it until the end condition
# above (every record written, and with NATS acknowledged): how fast each mode takes a feed
# (loadgen's time to make its lines is left out).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=5
COUNT=200000
CONNECTIONS=2
DEVICES=1000
NO_BUILD=
RATE=max
MORE=
RECORDS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --count) COUNT=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --devices) DEVICES=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        --rate) RATE=$2; shift 2 ;;
        --loadgen) MORE=$2; shift 2 ;;
        --records) RECORDS=(--records "$2"); shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "nats.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v nats-server >/dev/null || { echo "nats.sh: nats-server is not installed (apt-get install nats-server)" >&2; exit 1; }
TARGET=${CARGO_TARGET_DIR:-target}
[ -n "$NO_BUILD" ] || cargo build --release --locked -p ztel -p loadgen >&2
ZTEL=${ZTEL:-$TARGET/release/ztel}
LOADGEN=$TARGET/release/loadgen
WORK=$(mktemp -d /tmp/ztel-nats-perf.XXXXXX)
NATS_PID=
# nats-server's exit status (143, killed) must not stop the cleanup under `set -e`: it did, and
# every run left its stream store (gigabytes) in /tmp.
cleanup() {
    if [ -n "$NATS_PID" ]; then
        kill "$NATS_PID" 2>/dev/null || true
        wait "$NATS_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() { python3 perf/perfhelp.py freeports 1; }

NATS_PORT=$(free_port)
nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$WORK/nats" 2> "$WORK/nats.log" &
NATS_PID=$!
for _ in $(seq 100); do grep -q "Server is ready" "$WORK/nats.log" && break; sleep 0.1; done

# One run. Prints events per CPU-second and events a second (wall).
run_one() {
    local mode=$1 dir=$WORK/run
    rm -rf "$dir"; mkdir -p "$dir"
    # What the last run wrote (its records, the stream's store) goes to disk now, not as
    # writeback throttling this run's writes: with it pending, files alone spread 2x in a set.
    sync
    : > "$dir/ztel.toml"
    if [ "$mode" = nats ]; then
        # A stream of its own per run: every run publishes records JetStream has not seen.
        printf '[output.nats]\nurl = "nats://127.0.0.1:%s"\nstream = "PERF%s"\nsubject_prefix = "perf%s"\n' \
            "$NATS_PORT" "$RANDOM$RANDOM" "$RANDOM$RANDOM" > "$dir/ztel.toml"
    fi
    "$ZTEL" serve --config "$dir/ztel.toml" --tcp 127.0.0.1:0 --udp "" --admin 127.0.0.1:0 \
        --shards 1 --data-dir "$dir/data" "${RECORDS[@]}" 2> "$dir/err" &
    local pid=$!
    for _ in $(seq 200); do grep -q "listening tcp" "$dir/err" && break; sleep 0.05; done
    local addr admin
    addr=$(grep -o 'listening tcp [0-9.:]*' "$dir/err" | awk '{print $3}')
    admin=$(grep -o 'listening admin [0-9.:]*' "$dir/err" | awk '{print $3}')
    local before after
    before=$(ticks "$pid")
    "$LOADGEN" --target "$addr" --proto tcp --source nss --rate "$RATE" --count "$COUNT" \
        --connections "$CONNECTIONS" --devices "$DEVICES" $MORE --quiet > "$dir/out"
    local sent sending
    sent=$(date +%s.%N)
    sending=$(grep -o 'loadgen-result events=[0-9]* bytes=[0-9]* seconds=[0-9.]*' "$dir/out" \
        | sed 's/.*seconds=//')
    metric() { curl -s "http://$admin/metrics" | awk -v m="$1" '$1 == m {print int($2)}'; }
    for _ in $(seq 1200); do
        # Written: counted by the records' read-to-write latency (the file may have rotated).
        if [ "$(metric ztel_latency_read_to_write_seconds_count)" -ge "$COUNT" ]; then
            if [ "$mode" = files ]; then break; fi
            if [ "$(metric ztel_nats_acknowledged_total)" -ge "$COUNT" ] \
                && [ "$(metric ztel_nats_spool_records)" -eq 0 ]; then break; fi
        fi
        sleep 0.05
    done
    after=$(ticks "$pid")
    local ended
    ended=$(date +%s.%N)
    kill -TERM "$pid"; wait "$pid" || true
    python3 -c "import os; t=($after-$before)/os.sysconf('SC_CLK_TCK'); w=${sending:-0}+$ended-$sent
print($COUNT/t if t else 0, round($COUNT/w) if w > 0 else 0)"
}

for i in $(seq "$RUNS"); do
    for mode in files nats; do
        echo "$mode $(run_one "$mode")" >> "$WORK/results"
        echo "run $i: $(tail -n 1 "$WORK/results")" >&2
    done
done
python3 - "$WORK/results" "$RUNS" <<'PY'
import statistics, sys
rows, walls = {}, {}
for line in open(sys.argv[1]):
    mode, per_cpu, wall = line.split()
    rows.setdefault(mode, []).append(float(per_cpu))
    walls.setdefault(mode, []).append(float(wall))
med = {m: statistics.median(v) for m, v in rows.items()}
for m, v in rows.items():
    print(f"nats-result mode={m} runs={sys.argv[2]} eps_per_cpu_s={med[m]:.0f} "
          f"eps_wall={statistics.median(walls[m]):.0f} all={sorted(round(x) for x in v)} "
          f"wall={sorted(round(x) for x in walls[m])}")
if med.get("nats") and med.get("files"):
    print(f"nats-result cpu_per_event_with_nats={med['files'] / med['nats']:.3f}x files alone "
          f"extra_us_per_event={1e6 / med['nats'] - 1e6 / med['files']:.2f}")
PY
