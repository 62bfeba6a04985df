#!/usr/bin/env bash
# What the kernel alone costs per event, before any collector's work: the floor under issue 12's
# 1,000,000 events per collector CPU-second (1 µs an event, every thread).
#
#   perf/floor.sh [--count EVENTS] [--runs R] [--record-bytes N] [--loadgen "MORE LOADGEN FLAGS"]
#                 # e.g. --loadgen "--dialect sekoia --header 3164 --churn 4 --devices 10000"
#
# Two measurements, median of R runs each (default 3):
# - receive: loadgen sends EVENTS NSS web lines over one TCP connection on loopback, as to ztel;
#   a receiver that only reads them (256 KiB `recv_into` calls into one buffer, nothing else)
#   takes what any collector's socket reads take: the kernel's receive path and its copy.
# - write: as many records of --record-bytes (default 700, about what ztel writes per NSS web
#   line) are written to a file in a temp dir in 256 KiB writes, keeping the last 64 MiB cached,
#   as ztel's records sink writes them: the page cache's copy, and its pages.
# Each prints the process's CPU (user + system) per event in µs. The receiver is Python: its
# own cost is about a microsecond a read (`reads=` says how many there were).
# The binaries are $CARGO_TARGET_DIR/release/loadgen (target/ without it), or BIN=dir's.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=1000000
RUNS=3
RECORD=700
MORE=
while [ $# -gt 0 ]; do
    case "$1" in
        --count) COUNT=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --record-bytes) RECORD=$2; shift 2 ;;
        --loadgen) MORE=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "floor.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
LOADGEN=${BIN:-${CARGO_TARGET_DIR:-target}/release}/loadgen
if [ ! -x "$LOADGEN" ]; then
    echo "floor.sh: no loadgen at $LOADGEN (cargo build --release -p loadgen)" >&2
    exit 1
fi
WORK=$(mktemp -d /tmp/ztel-floor.XXXXXX)
recv=
# A receiver left waiting (loadgen failed) must not outlive the script.
trap 'if [ -n "$recv" ]; then kill "$recv" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT

for i in $(seq "$RUNS"); do
    # Receive: the receiver prints its port, then its CPU per event once the sender is done.
    python3 -u - "$COUNT" > "$WORK/recv" <<'PY' &
import os, socket, sys
count = int(sys.argv[1])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
buf = bytearray(256 << 10)
received = reads = 0
start = os.times()
while True:
    n = conn.recv_into(buf)
    if n == 0:
        break
    received += n
    reads += 1
end = os.times()
cpu = (end.user - start.user) + (end.system - start.system)
# The sender sent `count` lines (loadgen stops with an error otherwise).
print(f"receive lines={count} bytes={received} reads={reads} cpu_s={cpu:.3f}",
      f"us_per_event={cpu / count * 1e6:.3f}")
PY
    recv=$!
    for _ in $(seq 100); do [ -s "$WORK/recv" ] && break; sleep 0.05; done
    port=$(head -1 "$WORK/recv")
    # shellcheck disable=SC2086
    "$LOADGEN" --target "127.0.0.1:$port" --proto tcp --source nss --rate max --count "$COUNT" \
        --connections 1 $MORE --quiet > /dev/null
    wait "$recv"
    tail -1 "$WORK/recv" | tee -a "$WORK/results"

    # Write: the same number of records to a fresh file.
    python3 - "$COUNT" "$RECORD" "$WORK/records.jsonl" <<'PY' | tee -a "$WORK/results"
import os, sys
count, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
line = b"x" * (size - 1) + b"\n"
chunk = line * max(1, (256 << 10) // size)
per_chunk = len(chunk) // size
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
start = os.times()
written = 0
end_at = 0
while written < count:
    n = min(per_chunk, count - written)
    end_at += os.write(fd, chunk[: n * size])
    written += n
    # As ztel's records sink does (src/sink/pagecache.rs): every 8 MiB, what lies more than
    # 64 MiB behind the end leaves the page cache (its writeback started by the call before),
    # so that the writes reuse pages rather than take fresh ones.
    if end_at % (8 << 20) < n * size and end_at > (64 << 20):
        os.posix_fadvise(fd, 0, end_at - (64 << 20), os.POSIX_FADV_DONTNEED)
end = os.times()
os.close(fd)
os.unlink(path)
cpu = (end.user - start.user) + (end.system - start.system)
print(f"write lines={written} cpu_s={cpu:.3f} us_per_event={cpu / written * 1e6:.3f}")
PY
done

python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    what, *fields = line.split()
    rows.setdefault(what, []).append(float(dict(f.split("=") for f in fields)["us_per_event"]))
for what, v in rows.items():
    median = statistics.median(v)
    print(f"floor-result {what} runs={len(v)} us_per_event={median:.3f} all={sorted(v)}")
PY
