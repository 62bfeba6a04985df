#!/usr/bin/env bash
# Soak (issue 14): ztel at 80 % of its measured maximum rate for a while, fed good traffic with
# churn and 1 % bad input of every DESIGN §6 class, its senders reconnecting each minute and a
# SIGHUP every five minutes; then checks that nothing was lost, that every bad input was counted
# as what it is, and that memory stopped growing.
#
#   perf/soak.sh [--duration SECS] [--shards N] [--rate EPS] [--churn N] [--devices N] [--debug]
#                [--no-rss-check] [--keep]
#
# 1. builds ztel and loadgen (release; --debug: the debug build, which CI's short soak uses to
#    check correctness under load without a release build);
# 2. makes a CA and a server certificate (openssl), a config with TCP, TLS and HTTP inputs that
#    admit 127.0.0.1 only, max_frame_bytes 8192, max_connections 32, idle_timeout_secs 5 and
#    256 MiB output files, and the file of frame-level bad input (perf/soak_mix.py);
# 3. unless --rate is given, measures the maximum rate of NSS over TCP and of LSS over TLS, each
#    alone on one connection, and soaks at 80 % of the mix's (3 NSS events to 1 LSS event);
# 4. for --duration seconds, in segments of a minute (each sender reconnects at every one, and a
#    new --seed keeps records from repeating), sends at that rate:
#    - 72 %: NSS web records over TCP, 24 %: LSS records over TLS, both --churn 5 over 10,000
#      devices (--churn, --devices);
#    - 4 %: the bad file over TCP: malformed JSON, non-UTF-8, oversize frames and lying octet
#      counts, 1 % of the frames each;
#    - a trickle of connection-level bad input (perf/soak_conns.py): truncated connections, slow
#      senders, refused addresses (from 127.0.0.2), TLS handshake failures, wrong HTTP keys, and a
#      connection flood in the middle of each minute;
#    samples ztel's RSS every 5 s, sends SIGHUP every 5 minutes (with a new server certificate;
#    a run under 10 minutes gets its first half-way),
#    prints a progress line every minute on stderr, and counts and deletes rotated output files
#    (an hour at full rate writes more than the disk holds);
# 5. when the senders are done and ztel's counters have settled, reads /metrics, drains ztel, and
#    checks (perf/soak_check.py): nothing lost (frames sent = frames + oversize), every good
#    frame a record, records + dead letters = frames, records written + duplicates = records, no
#    torn line, each bad class's counter equal to what was sent of it, every SIGHUP answered by a
#    reload, and RSS flat over the second half (the peak of its last quarter within 5 % of the
#    third quarter's; with fewer than 12 samples in the second half, i.e. under about 2.5
#    minutes, the check cannot judge and fails, unless --no-rss-check).
# It prints events sent and received, dead letters, rejects per class and RSS at 1, 5, 10, 30 and
# 60 minutes (those the run reaches), and a summary line `soak-result ok=yes|no …` on stdout.
# Exit status 0 only when every check holds. --keep keeps the work dir (in /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
# The helpers import soak_mix.py: no __pycache__ left in the tree.
export PYTHONDONTWRITEBYTECODE=1

DURATION=300
SHARDS=1
RATE=""
CHURN=5
DEVICES=10000
PROFILE=release
RSS_CHECK=yes
KEEP=no
SEGMENT=60
HUP_EVERY=300
IDLE=5
MAX_FRAME=8192
KEY=soak-http-key
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --shards) SHARDS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --churn) CHURN=$2; shift 2 ;;
        --devices) DEVICES=$2; shift 2 ;;
        --debug) PROFILE=debug; shift ;;
        --no-rss-check) RSS_CHECK=no; shift ;;
        --keep) KEEP=yes; shift ;;
        -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v openssl > /dev/null || { echo "soak.sh: openssl is needed for the TLS input" >&2; exit 2; }

if [ "$PROFILE" = release ]; then
    cargo build --release --locked -p ztel -p loadgen >&2
else
    cargo build --locked -p ztel -p loadgen >&2
fi
ZTEL=target/$PROFILE/ztel
LOADGEN=target/$PROFILE/loadgen
WORK=$(mktemp -d /tmp/ztel-soak.XXXXXX)
PID="" DRIVER="" SENDERS=""
cleanup() {
    for p in $SENDERS $DRIVER $PID; do kill "$p" 2>/dev/null || true; done
    [ "$KEEP" = yes ] || rm -rf "$WORK"
}
trap cleanup EXIT

# A CA, and a server certificate for localhost and 127.0.0.1 that a SIGHUP can replace.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=ztel soak CA" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2> /dev/null
new_certificate() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$WORK/next.key" -out "$WORK/next.csr" 2> /dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$WORK/san.ext"
    openssl x509 -req -in "$WORK/next.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
        -CAcreateserial -days 2 -extfile "$WORK/san.ext" -out "$WORK/next.pem" 2> /dev/null
    # Renamed into place, so that a reload never reads half a file.
    mv "$WORK/next.key" "$WORK/server.key"
    mv "$WORK/next.pem" "$WORK/server.pem"
}
new_certificate

cat > "$WORK/ztel.toml" <<EOF
shards = $SHARDS
data_dir = "$WORK/data"

[input.tcp]
address = "127.0.0.1:0"
allowed_ips = ["127.0.0.1/32"]

[input.udp]
address = ""

[input.tls]
address = "127.0.0.1:0"
cert = "$WORK/server.pem"
key = "$WORK/server.key"
allowed_ips = ["127.0.0.1/32"]

[input.http]
address = "127.0.0.1:0"
plain = true
keys = ["$KEY"]
allowed_ips = ["127.0.0.1/32"]

[limits]
max_frame_bytes = $MAX_FRAME
max_connections = 32
idle_timeout_secs = $IDLE

[output]
rotate_bytes = 268435456

[admin]
address = "127.0.0.1:0"
EOF
python3 perf/soak_mix.py "$WORK/bad.log" 400 "$MAX_FRAME"

$ZTEL serve --config "$WORK/ztel.toml" 2> "$WORK/ztel.err" &
PID=$!
for _ in $(seq 300); do grep -q "listening tcp" "$WORK/ztel.err" && break; sleep 0.1; done
listening() { grep -o "listening $1 [0-9.:]*" "$WORK/ztel.err" | awk '{print $3}'; }
TCP=$(listening tcp) TLS=$(listening tls) HTTP=$(listening http) ADMIN=$(listening admin)
[ -n "$TCP" ] || { cat "$WORK/ztel.err" >&2; echo "soak.sh: ztel did not start" >&2; exit 1; }

metrics() { curl -sf "http://$ADMIN/metrics"; }
# A counter summed over its series (shards, inputs): ztel exports no pre-summed series.
metric() {
    metrics | awk -v m="$1" '(index($1, m "{") == 1 || $1 == m) {s += $2} END {print s + 0}'
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
records_made() {
    metrics | awk '/^ztel_records_total[{ ]/ {s += $2} END {print s + 0}'
}
# An hour at full rate writes more records than the disk holds: rotated files (256 MiB) are
# counted, checked for a torn last line, and deleted as they appear.
ROTATED=0 TORN=0
collect_rotated() {
    local f
    for f in "$WORK"/data/connections-*.jsonl; do
        [ -e "$f" ] || continue
        ROTATED=$(( ROTATED + $(wc -l < "$f") ))
        [ -z "$(tail -c 1 "$f")" ] || TORN=$(( TORN + 1 ))  # $(…) drops a final LF
        rm -f "$f"
    done
    rm -f "$WORK"/data/dead-letter-*.jsonl
}
# Sets WRITTEN: record lines written since ztel started.
count_written() {
    collect_rotated
    WRITTEN=$(( ROTATED + $(cat "$WORK/data/connections.jsonl" 2> /dev/null | wc -l) ))
}

# The good mix's maximum, from each sender's alone (one connection, --rate max): an event of
# the mix costs 72/96 of an NSS event's time and 24/96 of an LSS one's.
eps_of() { sed -n 's/^loadgen-result .*eps=\([0-9.]*\).*/\1/p'; }
if [ -z "$RATE" ]; then
    NSS_PROBE=$([ "$PROFILE" = debug ] && echo 60000 || echo 300000)
    LSS_PROBE=$(( NSS_PROBE / 3 ))
    NSS_MAX=$($LOADGEN --target "$TCP" --source nss --rate max --count "$NSS_PROBE" --seed 99 \
        --quiet | eps_of)
    LSS_MAX=$($LOADGEN --target "$TLS" --proto tls --ca "$WORK/ca.pem" --source lss --rate max \
        --count "$LSS_PROBE" --seed 98 --quiet | eps_of)
    read -r MAX RATE < <(python3 -c "m = 1 / (0.75 / $NSS_MAX + 0.25 / $LSS_MAX); print(int(m), int(m * 0.8))")
    echo "soak: maximum rates measured: NSS over TCP $NSS_MAX, LSS over TLS $LSS_MAX events/s;" \
        "the mix's $MAX; soaking at $RATE" >&2
    # The probes' last frames may still be on their way: the soak counts from when all are in.
    PROBE=$(( NSS_PROBE + LSS_PROBE ))
    for _ in $(seq 600); do
        [ "$(metric ztel_frames_total)" = "$PROBE" ] && break
        sleep 0.1
    done
    [ "$(metric ztel_frames_total)" = "$PROBE" ] || { echo "soak.sh: the probes' frames never all arrived" >&2; exit 1; }
fi
NSS_RATE=$(( RATE * 72 / 100 )) LSS_RATE=$(( RATE * 24 / 100 )) BAD_RATE=$(( RATE * 4 / 100 ))
# Everything is measured as a difference over the soak itself (the rate probe came first),
# from when the probes' records are all written.
for _ in $(seq 600); do
    count_written
    [ "$WRITTEN" -ge $(( $(records_made) - $(metric ztel_duplicates_total) )) ] && break
    sleep 0.1
done
metrics > "$WORK/metrics-before.txt"
echo "$WRITTEN" > "$WORK/written-before"

python3 perf/soak_conns.py --tcp "$TCP" --tls "$TLS" --http "$HTTP" --admin "$ADMIN" --key "$KEY" \
    --idle "$IDLE" --tallies "$WORK/conns.json" 2> "$WORK/conns.err" &
DRIVER=$!
floods() { python3 -c "import json; print(json.load(open('$WORK/conns.json'))['floods'])" 2>/dev/null || echo 0; }

START=$SECONDS
# A run shorter than two reload periods still gets one SIGHUP, half-way.
NEXT_RSS=0 NEXT_HUP=$(( DURATION / 2 < HUP_EVERY ? DURATION / 2 : HUP_EVERY ))
NEXT_PROGRESS=60 HUPS=0
: > "$WORK/rss.tsv"
: > "$WORK/runs.tsv"
# What is due each second whatever else waits: RSS samples, SIGHUPs, progress lines.
tick() {
    local now=$(( SECONDS - START ))
    collect_rotated
    if [ "$now" -ge "$NEXT_RSS" ]; then
        echo "$now $(rss_kb)" >> "$WORK/rss.tsv"
        NEXT_RSS=$(( NEXT_RSS + 5 ))
    fi
    if [ "$now" -ge "$NEXT_HUP" ] && [ "$now" -lt "$DURATION" ]; then
        new_certificate
        kill -HUP "$PID"
        HUPS=$(( HUPS + 1 ))
        NEXT_HUP=$(( NEXT_HUP + HUP_EVERY ))
    fi
    if [ "$now" -ge "$NEXT_PROGRESS" ]; then
        metrics > "$WORK/metrics-now.txt" || true
        python3 perf/soak_check.py progress --work "$WORK" --elapsed "$now" \
            --duration "$DURATION" --sighups "$HUPS" >&2 || true
        NEXT_PROGRESS=$(( NEXT_PROGRESS + 60 ))
    fi
}
sending() { grep -q "events sent" "$1" 2> /dev/null; }

SEG=0
while [ $(( SECONDS - START )) -lt "$DURATION" ]; do
    SEG_START=$(( SECONDS - START ))
    LEN=$(( DURATION - SEG_START < SEGMENT ? DURATION - SEG_START : SEGMENT ))
    common=(--duration "$LEN" --churn "$CHURN" --devices "$DEVICES")
    $LOADGEN --target "$TCP" --source nss --rate "$NSS_RATE" "${common[@]}" --seed $(( 1000 + SEG )) \
        > "$WORK/$SEG-nss.out" 2> "$WORK/$SEG-nss.err" & NSS=$!
    $LOADGEN --target "$TLS" --proto tls --ca "$WORK/ca.pem" --source lss --rate "$LSS_RATE" \
        "${common[@]}" --seed $(( 2000 + SEG )) > "$WORK/$SEG-lss.out" 2> "$WORK/$SEG-lss.err" & LSS=$!
    $LOADGEN --target "$TCP" --source "$WORK/bad.log" --rate "$BAD_RATE" --duration "$LEN" \
        > "$WORK/$SEG-bad.out" 2> "$WORK/$SEG-bad.err" & BAD=$!
    SENDERS="$NSS $LSS $BAD"
    FLOODED=no
    while kill -0 $NSS 2> /dev/null || kill -0 $LSS 2> /dev/null || kill -0 $BAD 2> /dev/null; do
        tick
        # The flood takes every free connection for a moment: only while all three are sending.
        if [ $FLOODED = no ] && [ $(( SECONDS - START - SEG_START )) -ge $(( LEN / 2 )) ] \
            && sending "$WORK/$SEG-nss.err" && sending "$WORK/$SEG-lss.err" \
            && sending "$WORK/$SEG-bad.err"; then
            kill -USR1 "$DRIVER"
            FLOODED=yes
        fi
        sleep 1
    done
    for s in nss:$NSS lss:$LSS bad:$BAD; do
        status=0
        wait "${s#*:}" || status=$?
        echo "$SEG ${s%%:*} $status $WORK/$SEG-${s%%:*}.out" >> "$WORK/runs.tsv"
    done
    SENDERS=""
    [ $FLOODED = yes ] || kill -USR1 "$DRIVER"
    # The next senders connect only once this segment's flood is over.
    for _ in $(seq 60); do [ "$(floods)" -gt "$SEG" ] && break; tick; sleep 1; done
    SEG=$(( SEG + 1 ))
done

# The trickle ends with its current action (a slow sender takes idle_timeout_secs).
kill -TERM "$DRIVER"
while kill -0 "$DRIVER" 2> /dev/null; do tick; sleep 1; done
wait "$DRIVER" || echo "soak.sh: soak_conns.py failed: $(tail -3 "$WORK/conns.err")" >&2
DRIVER=""
# Settled: frames and oversize frames unchanged for 3 s in a row (at most 2 minutes).
last="" same=0
for _ in $(seq 120); do
    now_counts="$(metric ztel_frames_total) $(metric ztel_oversize_frames_total)"
    if [ "$now_counts" = "$last" ]; then same=$(( same + 1 )); else same=0; fi
    [ $same -ge 3 ] && break
    last=$now_counts
    tick
    sleep 1
done
metrics > "$WORK/metrics-after.txt"
echo "$(( SECONDS - START )) $(rss_kb)" >> "$WORK/rss.tsv"
kill -TERM "$PID"
wait "$PID" || true
PID=""
count_written
echo "$WRITTEN" > "$WORK/written-after"
echo "$TORN" > "$WORK/torn"
check=(--work "$WORK" --duration "$DURATION" --rate "$RATE" --sighups "$HUPS")
[ "$RSS_CHECK" = yes ] || check+=(--no-rss-check)
status=0
python3 perf/soak_check.py final "${check[@]}" || status=$?
[ "$KEEP" = yes ] && echo "soak: work dir kept: $WORK" >&2
exit $status
