#!/usr/bin/env bash
# Soak: ztel at 80 % of its measured maximum rate for a while, fed a mix of good and bad NSS
# input, then check that nothing was lost and that memory stopped growing.
#
#   perf/soak.sh [--duration SECS] [--shards N] [--bad-percent P] [--rate EPS] [--debug]
#
# 1. builds ztel and loadgen (release; --debug: the debug build, which CI's short soak uses to
#    check correctness under load without a release build);
# 2. writes a file of bad frames (truncated JSON, not JSON, an unknown sourcetype, invalid UTF-8,
#    an oversize line now and then);
# 3. measures the maximum rate one run of loadgen reaches (unless --rate is given);
# 4. for --duration seconds sends at 80 % of it: synthetic NSS records (their ids do not repeat
#    within ztel's de-duplication window) plus P % of the rate from the bad file, on a second
#    connection; it samples ztel's RSS every 5 s;
# 5. checks sent = frames + oversize skipped (nothing lost), records written + duplicates +
#    dead letters = frames, and that RSS over the second half grew by less than 5 %.
# Exit status 0 only when every check holds. A summary line `soak-result …` is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=300
SHARDS=1
BAD=5
RATE=""
PROFILE=release
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --shards) SHARDS=$2; shift 2 ;;
        --bad-percent) BAD=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --debug) PROFILE=debug; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ "$PROFILE" = release ]; then
    cargo build --release --locked -p ztel -p loadgen >&2
else
    cargo build --locked -p ztel -p loadgen >&2
fi
ZTEL=target/$PROFILE/ztel
LOADGEN=target/$PROFILE/loadgen
WORK=$(mktemp -d /tmp/ztel-soak.XXXXXX)
trap 'kill "$PID" 2>/dev/null || true' EXIT

python3 perf/soak_mix.py "$WORK/bad.log" 20000 100

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
    PROBE=$([ "$PROFILE" = debug ] && echo 100000 || echo 400000)
    MAX=$($LOADGEN --target "$TCP" --source nss --rate max --count $PROBE --seed 99 --quiet \
        | sed -n 's/^loadgen-result .*eps=\([0-9.]*\).*/\1/p')
    RATE=$(python3 -c "print(int(float('$MAX') * 0.8))")
    echo "maximum rate measured: $MAX events/s; soaking at $RATE" >&2
    # The probe's last frames may still be on their way: the soak counts from when all are in.
    for _ in $(seq 600); do
        [ "$(metric ztel_frames_total)" = "$PROBE" ] && break
        sleep 0.1
    done
    [ "$(metric ztel_frames_total)" = "$PROBE" ] || { echo "soak.sh: the probe's frames never all arrived" >&2; exit 1; }
fi
# Everything is measured as a difference over the soak itself (the rate probe came first).
declare -A BEFORE
COUNTERS="frames oversize_frames records_zia_web dead_letters duplicates"
for c in $COUNTERS; do BEFORE[$c]=$(metric "ztel_${c}_total"); done
# Records may span rotated files (connections-<time>.jsonl).
written() { cat "$WORK"/data/connections*.jsonl | wc -l; }
WRITTEN_BEFORE=$(written)
RSS_START=$(rss_kb)

BAD_RATE=$(( RATE * BAD / 100 ))
GOOD_RATE=$(( RATE - BAD_RATE ))
$LOADGEN --target "$TCP" --source nss --rate "$GOOD_RATE" --duration "$DURATION" --quiet \
    > "$WORK/good.out" 2> "$WORK/good.err" &
LG=$!
if [ "$BAD_RATE" -gt 0 ]; then
    $LOADGEN --target "$TCP" --source "$WORK/bad.log" --rate "$BAD_RATE" --duration "$DURATION" \
        --quiet > "$WORK/bad.out" 2> "$WORK/bad.err" &
    LG_BAD=$!
fi
: > "$WORK/rss"
while kill -0 "$LG" 2>/dev/null; do echo "$(date +%s) $(rss_kb)" >> "$WORK/rss"; sleep 5; done
wait "$LG" || true
[ -n "${LG_BAD:-}" ] && { wait "$LG_BAD" || true; }
RSS_END=$(rss_kb)

sent() { sed -n 's/^loadgen-result.* events=\([0-9]*\).*/\1/p' "$1" 2>/dev/null | grep . || echo 0; }
SENT=$(( $(sent "$WORK/good.out") + $(sent "$WORK/bad.out") ))
kill -TERM "$PID"; wait "$PID" || true
trap - EXIT
# After the drain every count is final: read them from the drained line's totals.
DRAINED=$(grep '^ztel: drained:' "$WORK/ztel.err")
total() { echo "$DRAINED" | grep -o " $1=[0-9]*" | cut -d= -f2 | grep . || echo 0; }
delta() { echo $(( $(total "$1") - ${BEFORE[$1]:-0} )); }
FRAMES=$(delta frames); OVERSIZE=$(delta oversize_frames); RECORDS=$(delta records_zia_web)
DEAD=$(delta dead_letters); DUPS=$(delta duplicates)
WRITTEN=$(( $(written) - WRITTEN_BEFORE ))
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
[ $(( WRITTEN + DUPS )) -eq "$RECORDS" ] || OK=no
[ $(( RECORDS + DEAD )) -eq "$FRAMES" ] || OK=no
python3 -c "import sys; sys.exit(0 if float('$GROWTH') < 5 else 1)" || OK=no
echo "soak-result ok=$OK duration=$DURATION rate=$RATE sent=$SENT frames=$FRAMES oversize=$OVERSIZE lost=$LOST records=$RECORDS written=$WRITTEN duplicates=$DUPS dead_letters=$DEAD bad_rate=$BAD_RATE rss_start_kb=$RSS_START rss_end_kb=$RSS_END rss_growth_second_half_pct=$GROWTH"
rm -rf "$WORK"
[ "$OK" = yes ]
