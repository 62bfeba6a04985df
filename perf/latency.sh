#!/usr/bin/env bash
# Read→sink latency of one ztel shard at half the maximum rate loadgen reaches against it.
#
#   perf/latency.sh [--duration SECS] [--runs N] [--rate EPS] [--source nss|lss] [--out DIR]
#                   [--bin DIR] [--rt] [--data-in DIR] [--records PATH]
#                   [--tls] [--rt-above-sender] [--loadgen "MORE LOADGEN FLAGS"]
#
# Measures the maximum (loadgen --rate max) once, then sends at half of it (or at --rate) for
# --duration seconds (open loop), --runs times (default 3), each against a fresh collector.
# Per run it prints p50, p99, p99.9 and max of every latency ztel measures, from its latency log
# (`ztel hist`): read_to_sink (the target), and where it goes: read_to_send (parsing and the read
# hold, on the shard), channel_wait, read_to_write (read→sink plus the sink's write pacing).
# It also prints ztel's CPU time (every thread, user + system, from start to the end of
# sending) per event sent: what a batch's fixed costs, traded against its hold, cost at this rate.
# Then the medians over the runs. The last run's log and its percentile plot (ztel hist --plot)
# go to --out (default perf/results). A line `latency-result …` sums it up.
# --bin DIR takes ztel and loadgen from DIR instead of building them (to measure an older build).
# --rt runs ztel and loadgen at real-time priority (chrt -f 1, needs root), so that on a machine
# busy with other work (builds) the figures are ztel's own and not the scheduler's queue.
# --rt-above-sender: as --rt, but ztel at priority 2 and loadgen at 1, so that a woken ztel thread
# preempts the sender at once. On a small box the sender takes the collector's cores; at the same
# real-time priority a woken thread (the aggregator, when a batch comes) waits until loadgen or
# the shard blocks, and that wait is the tail of channel_wait. With the sender on another box,
# as in a deployment, nothing of it is left: this measures that case on one box.
# --data-in DIR puts each collector's data_dir (its records file) under DIR, e.g. /dev/shm: at
# 300,000 events/s the records file grows by 300 MB/s, and once the kernel starts writing that
# back (after a few GB) the writeback takes CPU and the disk from the run. Each run's files are
# deleted and the page cache synced before the next run, and every run says how much the kernel
# wrote to disk meanwhile.
# --records PATH writes the records there instead of the data_dir's file, e.g. /dev/null: what
# read→sink is without the cost of the records file's memory. On a VM whose host backs guest
# memory lazily, writing gigabytes into fresh page cache or tmpfs costs several times what it
# does on bare metal (perf/README.md, Latency), and that cost is the aggregator's, in write(2).
# --loadgen "FLAGS" adds loadgen flags to every run (the maximum's too), e.g. realistic lines:
# --loadgen "--dialect sekoia --header 3164 --churn 4 --devices 10000".
# --tls sends over the TLS input (LSS's 6514) instead of plain TCP, with a CA and certificate
# from perf/certs.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=30
RUNS=3
RATE=
SOURCE=nss
OUT=perf/results
BIN=
RT=()
SENDER_RT=()
DATA_IN=
MORE=
RECORDS=()
TLS=
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --source) SOURCE=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --bin) BIN=$2; shift 2 ;;
        --rt) RT=(chrt -f 1); SENDER_RT=(chrt -f 1); shift ;;
        --rt-above-sender) RT=(chrt -f 2); SENDER_RT=(chrt -f 1); shift ;;
        --data-in) DATA_IN=$2; shift 2 ;;
        --records) RECORDS=(--records "$2"); shift 2 ;;
        --loadgen) MORE=$2; shift 2 ;;
        --tls) TLS=1; shift ;;
        -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "latency.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$BIN" ]; then
    cargo build --release --locked -p ztel -p loadgen >&2
    BIN=${CARGO_TARGET_DIR:-target}/release
fi
ZTEL=$BIN/ztel
LOADGEN=$BIN/loadgen
WORK=$(mktemp -d /tmp/ztel-latency.XXXXXX)
DATA=$WORK
if [ -n "$DATA_IN" ]; then DATA=$(mktemp -d "$DATA_IN/ztel-latency.XXXXXX"); fi
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK" "$DATA"
}
trap cleanup EXIT
cat > "$WORK/ztel.toml" <<TOML
[histograms]
interval_secs = 1
TOML
INPUT=tcp PROTO=(--proto tcp)
if [ -n "$TLS" ]; then
    perf/certs.sh "$WORK"
    INPUT=tls PROTO=(--proto tls --ca "$WORK/ca.pem")
    printf '[input.tls]\naddress = "127.0.0.1:0"\ncert = "%s"\nkey = "%s"\n' \
        "$WORK/server.pem" "$WORK/server.key" >> "$WORK/ztel.toml"
fi
start_ztel() {
    "${RT[@]}" "$ZTEL" serve --config "$WORK/ztel.toml" --tcp 127.0.0.1:0 --udp "" \
        --admin 127.0.0.1:0 --data-dir "$DATA/$1" --shards 1 "${RECORDS[@]}" 2> "$WORK/$1.err" &
    PID=$!
    # The TCP input is announced last, once every input and the admin endpoint listen.
    for _ in $(seq 100); do grep -q "listening tcp" "$WORK/$1.err" && break; sleep 0.1; done
    TARGET=$(grep -o "listening $INPUT [0-9.:]*" "$WORK/$1.err" | awk '{print $3}')
    ADMIN=$(grep -o 'listening admin [0-9.:]*' "$WORK/$1.err" | awk '{print $3}')
}
stop_ztel() {
    kill -TERM "$PID"
    wait "$PID" || true
    PID=
}
field() { sed -n "s/^loadgen-result.* $1=\([0-9.a-z\/]*\).*/\1/p" "$2"; }
# `ztel hist` output → "tag p50 p99 p99.9 max" lines, µs.
percentiles() {
    awk '/^tag: / { tag = $2 }
         tag != "" && $1 == "p50" { p50 = $2 } tag != "" && $1 == "p99" { p99 = $2 }
         tag != "" && $1 == "p99.9" { p999 = $2 }
         tag != "" && $1 == "max" { print tag, p50, p99, p999, $2; tag = "" }' "$1"
}

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)${RT:+; real-time priority ${RT[2]} for ztel, ${SENDER_RT[2]} for loadgen}" >&2
if [ -z "$RATE" ]; then
    start_ztel probe
    "${SENDER_RT[@]}" "$LOADGEN" --target "$TARGET" "${PROTO[@]}" --source "$SOURCE" --rate max \
        --count 1000000 $MORE \
        --quiet > "$WORK/max.out"
    stop_ztel
    MAX=$(field eps "$WORK/max.out")
    RATE=$(python3 -c "print(int(float('$MAX') / 2))")
    echo "maximum $MAX events/s; measuring at $RATE for $DURATION s, $RUNS runs" >&2
else
    MAX=n/a
    echo "measuring at $RATE events/s for $DURATION s, $RUNS runs" >&2
fi

mkdir -p "$OUT"
STAMP=$(date -u +%Y-%m-%d)
LOG="$OUT/$STAMP-latency-half-max-$SOURCE${TLS:+-tls}.hlog"
: > "$WORK/all.txt"
# CPU time (user + system, every thread) a process has used, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
: > "$WORK/cpu.txt"
: > "$WORK/steal.txt"
# KiB the kernel has written to block devices since boot.
written_kib() { awk '$1 == "pgpgout" { print $2 }' /proc/vmstat; }
# Every core's time since boot, in ticks: the time the hypervisor ran something else (steal),
# then all of it. On a VM, a run whose host took the cores in bursts has a tail of its own.
cpu_times() { awk '$1 == "cpu" { print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
steal_percent() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " "); all = y[2] - x[2]
        printf "%.1f", (all > 0 ? 100 * (y[1] - x[1]) / all : 0) }'
}
for run in $(seq "$RUNS"); do
    # What the run before wrote is neither deleted nor written back during this one.
    rm -rf "$DATA/probe" "$DATA/run$((run - 1))"
    sync
    # A fresh collector, so that its histograms hold only this run.
    start_ztel "run$run"
    before=$(written_kib)
    times_before=$(cpu_times)
    "${SENDER_RT[@]}" "$LOADGEN" --target "$TARGET" "${PROTO[@]}" --source "$SOURCE" --rate "$RATE" \
        --duration "$DURATION" \
        $MORE --admin "http://$ADMIN" --quiet > "$WORK/run$run.out" || true
    cpu=$(cpu_ticks "$PID")
    steal=$(steal_percent "$times_before" "$(cpu_times)")
    echo "$steal" >> "$WORK/steal.txt"
    stop_ztel
    sent=$(field events "$WORK/run$run.out")
    cpu_us=n/a
    if [ "${sent:-0}" -gt 0 ]; then
        cpu_us=$(awk -v t="$cpu" -v hz="$(getconf CLK_TCK)" -v n="$sent" \
            'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
        echo "$run cpu $cpu_us" >> "$WORK/cpu.txt"
    fi
    disk_mb=$((($(written_kib) - before) / 1024))
    "$ZTEL" hist "$DATA/run$run/latency.hlog" > "$WORK/hist$run.txt"
    echo "run $run: sent $sent lost $(field lost "$WORK/run$run.out")" \
        "send lateness p99 $(field lateness_p99_us "$WORK/run$run.out") µs;" \
        "ztel CPU $cpu_us µs per event;" \
        "the kernel wrote $disk_mb MB to disk meanwhile; steal $steal %" >&2
    percentiles "$WORK/hist$run.txt" | while read -r tag p50 p99 p999 max; do
        printf '  %-14s p50 %8s  p99 %8s  p99.9 %8s  max %8s µs\n' "$tag" "$p50" "$p99" "$p999" "$max" >&2
        echo "$run $tag $p50 $p99 $p999 $max" >> "$WORK/all.txt"
    done
    cp "$DATA/run$run/latency.hlog" "$LOG"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "medians of $RUNS runs (µs):" >&2
python3 - "$WORK/all.txt" > "$WORK/medians.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    _, tag, *values = line.split()
    rows.setdefault(tag, []).append([int(v) for v in values])
for tag, runs in rows.items():
    print(tag, *(int(statistics.median(column)) for column in zip(*runs)))
PY
while read -r tag p50 p99 p999 max; do
    printf '  %-14s p50 %8s  p99 %8s  p99.9 %8s  max %8s\n' "$tag" "$p50" "$p99" "$p999" "$max" >&2
done < "$WORK/medians.txt"
"$ZTEL" hist "$LOG" --plot "${LOG%.hlog}.svg" | tail -1 >&2
median() { awk -v tag="$1" -v col="$2" '$1 == tag { print $col }' "$WORK/medians.txt"; }
CPU_US=$(python3 - "$WORK/cpu.txt" <<'PY'
import statistics, sys
values = [float(line.split()[2]) for line in open(sys.argv[1])]
print(round(statistics.median(values), 2) if values else "n/a")
PY
)
echo "ztel CPU per event (median of $RUNS runs): $CPU_US µs" >&2
STEAL=$(python3 -c 'import statistics, sys; print(statistics.median(map(float, sys.argv[1:])))' \
    $(cat "$WORK/steal.txt"))
echo "steal, the hypervisor's share of the cores (median of $RUNS runs): $STEAL %" >&2
echo "latency-result source=$SOURCE${TLS:+ tls}${RT:+ rt=${RT[2]}/${SENDER_RT[2]}}${MORE:+ loadgen=\"$MORE\"}${RECORDS[1]:+ records=${RECORDS[1]}} max_eps=$MAX rate=$RATE duration=$DURATION runs=$RUNS" \
    "read_to_sink_p50_us=$(median read_to_sink 2) read_to_sink_p99_us=$(median read_to_sink 3)" \
    "read_to_sink_p999_us=$(median read_to_sink 4) read_to_write_p99_us=$(median read_to_write 3)" \
    "read_to_write_p999_us=$(median read_to_write 4) cpu_us_per_event=$CPU_US" \
    "steal_percent=$STEAL"
