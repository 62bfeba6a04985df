#!/usr/bin/env bash
# Soak: ztel at 80 % of its measured maximum rate for a while, fed a mix of good and bad NSS
# input, then check that nothing was lost and that memory stopped growing.
#
#   perf/soak.sh [--duration SECS] [--shards N] [--bad-percent P] [--rate EPS]
#
# 1. builds ztel and loadgen (release);
# 2. writes a mix file: synthetic NSS web records with distinct record ids, and P % bad frames
#    (truncated JSON, not JSON, an unknown sourcetype, invalid UTF-8, an oversize line);
# 3. measures the maximum rate one run of loadgen reaches (unless --rate is given);
# 4. replays the mix at 80 % of it for --duration seconds, sampling ztel's RSS every 5 s;
# 5. checks sent = frames + oversize skipped (nothing lost), records written + duplicates +
#    dead letters = frames, and that RSS over the second half grew by less than 5 %.
# Exit status 0 only when every check holds. A summary line `soak-result …` is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=300
SHARDS=1
BAD=5
RATE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --shards) SHARDS=$2; shift 2 ;;
        --bad-percent) BAD=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

cargo build --release --locked -p ztel -p loadgen >&2
ZTEL=target/release/ztel
LOADGEN=target/release/loadgen
WORK=$(mktemp -d /tmp/ztel-soak.XXXXXX)
trap 'kill "$PID" 2>/dev/null || true' EXIT

python3 perf/soak_mix.py "$WORK/mix.log" 200000 "$BAD"
LINES=$(wc -l < "$WORK/mix.log")

$ZTEL serve --tcp 127.0.0.1:0 --udp "" --admin 127.0.0.1:0 --data-dir "$WORK/data" \
    --shards "$SHARDS" 2> "$WORK/ztel.err" &
PID=$!
for _ in $(seq 100); do grep -q "listening tcp" "$WORK/ztel.err" && break; sleep 0.1; done
TCP=$(grep -o 'listening tcp [0-9.:]*' "$WORK/ztel.err" | awk '{print $3}')
ADMIN=$(grep -o 'listening admin [0-9.:]*' "$WORK/ztel.err" | awk '{print $3}')

metric() { # the shard="all" value of a counter
    curl -s "http://$ADMIN/metrics" | awk -v m="$1{shard=\"all\"}" '$1 == m {print $2}'
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }

if [ -z "$RATE" ]; then
    MAX=$($LOADGEN --target "$TCP" --source "$WORK/mix.log" --rate max --count 400000 --quiet \
        | sed -n 's/^loadgen-result .*eps=\([0-9.]*\).*/\1/p')
    RATE=$(python3 -c "print(int(float('$MAX') * 0.8))")
    echo "maximum rate measured: $MAX events/s; soaking at $RATE" >&2
fi
BEFORE_FRAMES=$(metric ztel_frames_total)
BEFORE_OVERSIZE=$(metric ztel_oversize_frames_total)
RSS_START=$(rss_kb)

$LOADGEN --target "$TCP" --source "$WORK/mix.log" --rate "$RATE" --duration "$DURATION" \
    --admin "http://$ADMIN" > "$WORK/loadgen.out" 2> "$WORK/loadgen.err" &
LG=$!
: > "$WORK/rss"
while kill -0 "$LG" 2>/dev/null; do echo "$(date +%s) $(rss_kb)" >> "$WORK/rss"; sleep 5; done
wait "$LG" || true
RSS_END=$(rss_kb)

SENT=$(sed -n 's/^loadgen-result .*[ ]events=\([0-9]*\).*/\1/p' "$WORK/loadgen.out")
FRAMES=$(( $(metric ztel_frames_total) - BEFORE_FRAMES ))
OVERSIZE=$(( $(metric ztel_oversize_frames_total) - BEFORE_OVERSIZE ))
kill -TERM "$PID"; wait "$PID" || true
trap - EXIT
DRAINED=$(grep '^ztel: drained:' "$WORK/ztel.err")
count() { echo "$DRAINED" | grep -o "$1=[0-9]*" | cut -d= -f2 || echo 0; }
RECORDS=$(count records_zia_web); DEAD=$(count dead_letters); DUPS=$(count duplicates)
WRITTEN=$(wc -l < "$WORK/data/connections.jsonl")
LOST=$(( SENT - FRAMES - OVERSIZE ))
GROWTH=$(python3 - "$WORK/rss" <<'PY'
import sys
rows = [int(l.split()[1]) for l in open(sys.argv[1]) if len(l.split()) == 2]
half = rows[len(rows) // 2:] or rows
print(f"{(max(half) - half[0]) * 100.0 / max(half[0], 1):.1f}")
PY
)
OK=yes
[ "$LOST" -eq 0 ] || OK=no
[ $(( WRITTEN + ${DUPS:-0} )) -eq "${RECORDS:-0}" ] || OK=no
python3 -c "import sys; sys.exit(0 if float('$GROWTH') < 5 else 1)" || OK=no
echo "soak-result ok=$OK duration=$DURATION rate=$RATE sent=$SENT frames=$FRAMES oversize=$OVERSIZE lost=$LOST records=$RECORDS written=$WRITTEN duplicates=${DUPS:-0} dead_letters=${DEAD:-0} mix_lines=$LINES rss_start_kb=$RSS_START rss_end_kb=$RSS_END rss_growth_second_half_pct=$GROWTH"
rm -rf "$WORK"
[ "$OK" = yes ]
