#!/usr/bin/env bash
# perf/compare.sh: ztel against rsyslog and syslog-ng on the same bytes, the same sender and the same
# machine, in one run. Reports events/s, MB/s, the collector's CPU seconds and events per collector
# CPU-second (median of --runs), and ztel's ratio to each peer, per line set. See perf/README.md.
#
#   perf/compare.sh [--events N] [--runs R] [--quick] [--senders "loggen loadgen"]
#                   [--collectors "rsyslog-json syslog-ng-json rsyslog-raw ztel-1 ztel-2"]
#                   [--sets "base ztel-none sekoia-3164-churn4 ..."] [--devices N]
#                   [--timeout SECS] [--no-install] [--no-save] [--keep]
#
# A line set is "base" (ztel's feed format, 1,000 devices, no header, no churn: the input of the
# first comparisons) or DIALECT-HEADER[-churnN]: NSS web lines in the ztel, elastic or sekoia
# template, behind no syslog header (none) or an RFC 3164 or 5424 one, over --devices devices
# (default 10000), a device taking a new IP or user every N of its records with -churnN.
# Default: base, then each dialect with none and 3164, without churn and with churn4.
#
# Debian 12, as root (it installs rsyslog and syslog-ng's libraries with apt-get when missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=$HERE/.cache
HELP=$HERE/perfhelp.py

EVENTS=500000
RUNS=3
QUICK=0
SETS=""
DEVICES=10000
SENDERS="loggen loadgen"
COLLECTORS="rsyslog-json syslog-ng-json rsyslog-raw ztel-1 ztel-2"
TIMEOUT=""
INSTALL=1
SAVE=1
KEEP=0

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --events) EVENTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --senders) SENDERS=$2; shift 2 ;;
    --collectors) COLLECTORS=$2; shift 2 ;;
    --sets) SETS=$2; shift 2 ;;
    --devices) DEVICES=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --no-save) SAVE=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
# --quick: the base set and one with a header and churn, so that the peers' header parsing runs
# too.
if [ "$QUICK" = 1 ]; then EVENTS=2000; RUNS=1; SAVE=0; SETS=${SETS:-base sekoia-3164-churn4}; fi
if [ -z "$SETS" ]; then
  SETS=base
  for churn in "" -churn4; do
    for dialect in ztel elastic sekoia; do
      for header in none 3164; do SETS="$SETS $dialect-$header$churn"; done
    done
  done
fi
case $EVENTS$RUNS$DEVICES in *[!0-9]*) echo "compare.sh: --events, --runs and --devices take whole numbers" >&2; exit 2 ;; esac
if [ "$EVENTS" -eq 0 ] || [ "$RUNS" -eq 0 ]; then echo "compare.sh: --events and --runs must be > 0" >&2; exit 2; fi
# Per measurement: start to last record. Generous: rsyslog with mmjsonparse does tens of
# thousands of events/s on a loaded 2-core machine.
TIMEOUT=${TIMEOUT:-$((60 + EVENTS / 2000))}

say() { printf '%s compare.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------------------------------------
# 1. What the peers need, from Debian.

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
  [ "$INSTALL" = 1 ] || die "missing $* (run without --no-install, as root, to install it)"
  if [ "$APT_UPDATED" = 0 ] && ! apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
    say "apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Unpacks a Debian package into $CACHE/NAME (without installing it: its package may conflict with
# the system's logger) and installs the shared libraries it depends on, which never conflict.
unpack_private() {
  local pkg=$1 dir=$CACHE/$1
  if [ ! -f "$dir/.unpacked" ]; then
    [ "$INSTALL" = 1 ] || die "$pkg is not unpacked in $dir (run without --no-install)"
    say "unpacking $pkg into ${dir#"$ROOT"/}"
    rm -rf "$dir" && mkdir -p "$dir/deb"
    if ! (cd "$dir/deb" && apt-get download "$pkg" >/dev/null 2>&1); then
      apt-get update -qq >/dev/null; APT_UPDATED=1
      (cd "$dir/deb" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
    fi
    dpkg-deb -x "$dir"/deb/*.deb "$dir"
    dpkg-deb -f "$dir"/deb/*.deb Version > "$dir/.version"
    dpkg-deb -f "$dir"/deb/*.deb Depends > "$dir/.depends"
    touch "$dir/.unpacked"
  fi
  # Depends: "libc6 (>= 2.34), libcap2 (>= 1:2.10), ..., sysvinit-utils (>= 3.05-4~) | lsb-base"
  local deps=() d
  for d in $(tr ',' '\n' < "$dir/.depends" | sed 's/|.*//; s/(.*)//; s/ //g' | grep '^lib'); do
    installed "$d" || deps+=("$d")
  done
  if [ ${#deps[@]} -gt 0 ]; then say "installing ${deps[*]}"; apt_install "${deps[@]}"; fi
}

# rsyslog: the system package (mmjsonparse.so ships in it), unless another system logger holds
# that role, in which case a private copy like syslog-ng's.
RSYSLOGD="" RSYSLOG_MODDIR=""
setup_rsyslog() {
  if ! command -v rsyslogd >/dev/null && ! installed rsyslog; then
    if installed syslog-ng-core; then
      unpack_private rsyslog
      RSYSLOGD=$CACHE/rsyslog/usr/sbin/rsyslogd
    else
      say "installing rsyslog"
      apt_install rsyslog
    fi
  fi
  RSYSLOGD=${RSYSLOGD:-$(command -v rsyslogd || echo /usr/sbin/rsyslogd)}
  local base=/
  case $RSYSLOGD in "$CACHE"/*) base=$CACHE/rsyslog/ ;; esac
  RSYSLOG_MODDIR=$(dirname "$(find "$base"usr/lib -name mmjsonparse.so -path '*rsyslog*' 2>/dev/null | head -1)")
  [ -f "$RSYSLOG_MODDIR/mmjsonparse.so" ] || die "no mmjsonparse.so for $RSYSLOGD"
  [ -f "$RSYSLOG_MODDIR/imptcp.so" ] || die "no imptcp.so in $RSYSLOG_MODDIR"
}

# syslog-ng: the system one if installed, else syslog-ng-core unpacked privately (it conflicts
# with rsyslog as a system logger). json-parser (libjson-plugin.so) and loggen both ship in
# syslog-ng-core.
SYSLOGNG="" SYSLOGNG_MODDIR="" SYSLOGNG_CONF_VERSION="" LOGGEN="" SNG_ENV=()
setup_syslog_ng() {
  local base=/
  if installed syslog-ng-core; then
    SYSLOGNG=$(command -v syslog-ng || echo /usr/sbin/syslog-ng)
    LOGGEN=$(command -v loggen || echo /usr/bin/loggen)
  else
    unpack_private syslog-ng-core
    base=$CACHE/syslog-ng-core/
    SYSLOGNG=${base}usr/sbin/syslog-ng
    LOGGEN=${base}usr/bin/loggen
    SNG_ENV=(LD_LIBRARY_PATH="${base}usr/lib/syslog-ng${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
             SYSLOGNG_PREFIX="${base}usr")
  fi
  SYSLOGNG_MODDIR=$(dirname "$(find "${base}usr/lib/syslog-ng" -name libjson-plugin.so 2>/dev/null | head -1)")
  [ -f "$SYSLOGNG_MODDIR/libjson-plugin.so" ] || die "no json-parser module (libjson-plugin.so) for $SYSLOGNG"
  [ -x "$LOGGEN" ] || die "no loggen at $LOGGEN"
  env "${SNG_ENV[@]}" "$SYSLOGNG" --version >/dev/null || die "$SYSLOGNG does not run"
  # The config's @version: this syslog-ng's own major.minor, so that it runs in its native mode.
  SYSLOGNG_CONF_VERSION=$(env "${SNG_ENV[@]}" "$SYSLOGNG" --version |
    sed -n 's/^Installer-Version: *\([0-9]*\.[0-9]*\).*/\1/p')
  SYSLOGNG_CONF_VERSION=${SYSLOGNG_CONF_VERSION:-3.38}
}

need_rsyslog=0 need_sng=0
for c in $COLLECTORS; do
  case $c in
    rsyslog-json|rsyslog-raw) need_rsyslog=1 ;;
    syslog-ng-json) need_sng=1 ;;
    ztel-[0-9]*) ;;
    *) die "unknown collector $c (rsyslog-json syslog-ng-json rsyslog-raw ztel-N)" ;;
  esac
done
for s in $SENDERS; do
  case $s in loggen) need_sng=1 ;; loadgen) ;; *) die "unknown sender $s (loggen loadgen)" ;; esac
done
command -v python3 >/dev/null || apt_install python3
mkdir -p "$CACHE"
[ "$need_rsyslog" = 1 ] && setup_rsyslog
[ "$need_sng" = 1 ] && setup_syslog_ng

# ------------------------------------------------------------------------------------------------
# 2. ztel and loadgen, release, once.

say "cargo build --release -p ztel -p loadgen"
(cd "$ROOT" && cargo build --release -q -p ztel -p loadgen) || die "cargo build failed"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
ZTEL=$TARGET_DIR/release/ztel
LOADGEN=$TARGET_DIR/release/loadgen
if [ ! -x "$ZTEL" ] || [ ! -x "$LOADGEN" ]; then die "no $ZTEL or $LOADGEN after the build"; fi

# ------------------------------------------------------------------------------------------------
# 3. One input file per line set: N synthetic NSS web records exactly as loadgen puts them on the
# wire.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ztel-perf.XXXXXX")
COLLECTOR_PID=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$COLLECTOR_PID" ] && kill -0 "$COLLECTOR_PID" 2>/dev/null; then
    kill -KILL "$COLLECTOR_PID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What a set's name says, in SET_DIALECT, SET_HEADER, SET_CHURN and SET_FLAGS (loadgen's).
parse_set() {
  local name=$1 rest
  SET_DIALECT=ztel SET_HEADER=none SET_CHURN=0 SET_FLAGS=()
  if [ "$name" = base ]; then return 0; fi
  IFS=- read -r SET_DIALECT SET_HEADER rest <<< "$name"
  case $SET_DIALECT in ztel|elastic|sekoia) ;; *) die "line set $name: no dialect ztel, elastic or sekoia" ;; esac
  case $SET_HEADER in none|3164|5424) ;; *) die "line set $name: no header none, 3164 or 5424" ;; esac
  case $rest in
    "") ;;
    churn[1-9]*) SET_CHURN=${rest#churn}; case $SET_CHURN in *[!0-9]*) die "line set $name: churnN takes a whole number" ;; esac ;;
    *) die "line set $name: $rest is not churnN" ;;
  esac
  SET_FLAGS=(--dialect "$SET_DIALECT" --header "$SET_HEADER" --devices "$DEVICES")
  if [ "$SET_CHURN" != 0 ]; then SET_FLAGS+=(--churn "$SET_CHURN"); fi
}
for set in $SETS; do parse_set "$set"; done

declare -A IN_BYTES=()
for set in $SETS; do
  parse_set "$set"
  input=$WORK/input-$set.log
  rm -f "$WORK/receive.port"
  python3 "$HELP" receive "$WORK/receive.port" "$input" &
  RECV_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/receive.port" ] && break; sleep 0.05; done
  [ -s "$WORK/receive.port" ] || die "the input receiver did not start"
  "$LOADGEN" --target "127.0.0.1:$(cat "$WORK/receive.port")" --proto tcp --source nss \
    --connections 1 --rate max --count "$EVENTS" "${SET_FLAGS[@]}" --quiet > "$WORK/generate.log" \
    || { cat "$WORK/generate.log" >&2; die "loadgen could not generate line set $set"; }
  wait "$RECV_PID" || die "the input receiver failed"
  lines=$(wc -l < "$input")
  IN_BYTES[$set]=$(stat -c %s "$input")
  [ "$lines" = "$EVENTS" ] || die "line set $set has $lines lines, expected $EVENTS"
  say "line set $set: $lines lines, ${IN_BYTES[$set]} bytes ($((IN_BYTES[$set] / lines)) bytes per record)"
done

# ------------------------------------------------------------------------------------------------
# 4. Collectors: each a foreground process of ours, its own config, pid file and work dir.

# The 9 fields every peer writes, by the dialect's names, in one order: record id (Elastic's
# template has none: its time), client IP, server IP, URL, request and response bytes, device,
# user, action. ztel writes its whole connection record.
fields_of() { # DIALECT
  case $1 in
    ztel) echo "recordid cip sip eurl reqsize respsize devicehostname elogin action" ;;
    elastic) echo "time cip sip eurl reqsize respsize devicehostname login action" ;;
    sekoia) echo "event_id ClientIP serverip url requestsize responsesize devicehostname user action" ;;
  esac
}

# start_COLLECTOR DIR PORT ...: sets COLLECTOR_PID and OUT. The peers are set up for the line
# set (parse_set): its dialect's field names, and its header parsed, the JSON after it.
start_rsyslog() { # DIR PORT MODE(json|raw)
  local dir=$1 port=$2 mode=$3 tpl f
  OUT=$dir/out.log
  if [ "$mode" = json ]; then
    tpl=""
    for f in $(fields_of "$SET_DIALECT"); do tpl="$tpl%\$!event!$f%\\t"; done
    tpl="${tpl%\\t}\\n"
  else
    tpl='%rawmsg%\n'
  fi
  {
    echo "global(workDirectory=\"$dir\")"
    echo 'module(load="imptcp")'
    [ "$mode" = json ] && echo 'module(load="mmjsonparse")'
    echo "template(name=\"out\" type=\"string\" string=\"$tpl\")"
    echo "input(type=\"imptcp\" address=\"127.0.0.1\" port=\"$port\" ruleset=\"nss\")"
    echo 'ruleset(name="nss") {'
    # A bare JSON line (no syslog header) is parsed whole, as the raw message; behind a header,
    # the message rsyslog's parser left after it. No @cee: cookie either way.
    if [ "$mode" = json ] && [ "$SET_HEADER" = none ]; then
      echo '  action(type="mmjsonparse" cookie="" useRawMsg="on")'
    elif [ "$mode" = json ]; then
      echo '  action(type="mmjsonparse" cookie="")'
    fi
    echo "  action(type=\"omfile\" file=\"$OUT\" template=\"out\" ioBufferSize=\"256k\")"
    echo '}'
  } > "$dir/rsyslog.conf"
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" -M "$RSYSLOG_MODDIR" \
    > "$dir/collector.log" 2>&1 &
  COLLECTOR_PID=$!
}

start_syslog_ng() { # DIR PORT
  local dir=$1 port=$2 tpl="" f flags="flags(no-parse)"
  OUT=$dir/out.log
  for f in $(fields_of "$SET_DIALECT"); do tpl="$tpl\${.json.event.$f}\\t"; done
  tpl="${tpl%\\t}\\n"
  # Behind a syslog header, syslog-ng parses it (RFC 3164, or 5424 with syslog-protocol) and
  # json-parser reads $MESSAGE, the JSON after it.
  case $SET_HEADER in 3164) flags="" ;; 5424) flags="flags(syslog-protocol)" ;; esac
  cat > "$dir/syslog-ng.conf" <<EOF
@version: $SYSLOGNG_CONF_VERSION
options { threaded(yes); use-dns(no); dns-cache(no); use-fqdn(no); keep-hostname(yes);
          chain-hostnames(no); stats-freq(0); log-fifo-size(100000); };
# flags(no-parse): a bare JSON line is \$MESSAGE whole; without it, parsed as RFC 3164.
source s_nss { network(ip("127.0.0.1") port($port) transport("tcp") $flags
                       log-iw-size(100000) max-connections(16)); };
parser p_json { json-parser(prefix(".json.")); };
destination d_out { file("$OUT" template("$tpl")); };
# flow-control: push back on the sender rather than drop when the file falls behind.
log { source(s_nss); parser(p_json); destination(d_out); flags(flow-control); };
EOF
  env "${SNG_ENV[@]}" "$SYSLOGNG" -F --no-caps --module-path="$SYSLOGNG_MODDIR" \
    -f "$dir/syslog-ng.conf" -R "$dir/syslog-ng.persist" -p "$dir/syslog-ng.pid" \
    -c "$dir/syslog-ng.ctl" > "$dir/collector.log" 2>&1 &
  COLLECTOR_PID=$!
}

start_ztel() { # DIR PORT APORT SHARDS
  local dir=$1 port=$2 aport=$3 shards=$4
  OUT=$dir/data/connections.jsonl
  "$ZTEL" serve --tcp "127.0.0.1:$port" --udp "" --admin "127.0.0.1:$aport" \
    --data-dir "$dir/data" --shards "$shards" > "$dir/collector.log" 2>&1 &
  COLLECTOR_PID=$!
}

# SIGTERM, then SIGKILL after 30 s. Sets STOP to how it ended (not in a subshell: only this shell
# can wait for its child).
stop_collector() {
  local pid=$1 rc=0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    STOP=killed
  else
    wait "$pid" 2>/dev/null || rc=$?
    if [ "$rc" = 0 ]; then STOP=clean; else STOP=exit-$rc; fi
  fi
}

sender_cmd() { # SENDER PORT: the command line, in SENDER_CMD
  case $1 in
    loggen) SENDER_CMD=(env "${SNG_ENV[@]}" "$LOGGEN" --inet --stream --active-connections 1
              --rate 2000000000 --interval 1000000 --number "$EVENTS"
              --read-file "$INPUT" --dont-parse --quiet 127.0.0.1 "$2") ;;
    loadgen) SENDER_CMD=("$LOADGEN" --target "127.0.0.1:$2" --proto tcp --source "$INPUT"
               --connections 1 --rate max --count "$EVENTS" --quiet) ;;
  esac
}

# ------------------------------------------------------------------------------------------------
# 5. Every collector with every sender on every line set, RUNS times, interleaved so that drift
# spreads evenly.

HOST=$(hostname -s 2>/dev/null || hostname)
DAY=$(date +%Y-%m-%d)
RUN_ID=$(date +%Y%m%dT%H%M%S)-$$
CSV=$WORK/results.csv
RESULTS_DIR=$HERE/results
HEADER="run_id,date,host,set,sender,collector,run,events,in_bytes,complete,lines,out_bytes,wall,cpu,sender_rc,stop"
echo "$HEADER" > "$CSV"

ZTEL_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src loadgen Cargo.toml Cargo.lock 2>/dev/null || ZTEL_REV="$ZTEL_REV+dirty"
say "$RUNS run(s) x line sets [$SETS] x senders [$SENDERS] x collectors [$COLLECTORS], $EVENTS events each, timeout ${TIMEOUT}s"

failed=0
for run in $(seq "$RUNS"); do
 for set in $SETS; do
  parse_set "$set"
  INPUT=$WORK/input-$set.log
  for sender in $SENDERS; do
    for collector in $COLLECTORS; do
      dir=$WORK/$run-$set-$sender-$collector
      mkdir -p "$dir"
      read -r PORT APORT <<< "$(python3 "$HELP" freeports 2)"
      case $collector in
        rsyslog-json) start_rsyslog "$dir" "$PORT" json ;;
        rsyslog-raw) start_rsyslog "$dir" "$PORT" raw ;;
        syslog-ng-json) start_syslog_ng "$dir" "$PORT" ;;
        ztel-*) start_ztel "$dir" "$PORT" "$APORT" "${collector#ztel-}" ;;
      esac
      if ! python3 "$HELP" wait-listen "$PORT" 20 || ! kill -0 "$COLLECTOR_PID" 2>/dev/null; then
        cat "$dir/collector.log" >&2 || true
        stop_collector "$COLLECTOR_PID"
        die "$collector did not start listening on 127.0.0.1:$PORT"
      fi
      sender_cmd "$sender" "$PORT"
      m=$(python3 "$HELP" measure --pid "$COLLECTOR_PID" --out "$OUT" --expect "$EVENTS" \
            --timeout "$TIMEOUT" --settle 10 --sender-log "$dir/sender.log" -- "${SENDER_CMD[@]}")
      stop_collector "$COLLECTOR_PID"
      COLLECTOR_PID=""
      # "measure complete=1 lines=... out_bytes=... wall=... cpu=... sender_rc=..."
      declare -A kv=()
      for pair in ${m#measure }; do kv[${pair%%=*}]=${pair#*=}; done
      # Lines are not enough: a peer whose JSON parse failed still writes one per event.
      if [ "${kv[complete]}" = 1 ]; then
        case $collector in
          rsyslog-json|syslog-ng-json) what=(fields) ;;
          rsyslog-raw) what=(raw --input "$INPUT") ;;
          ztel-*) what=(ztel) ;;
        esac
        if ! verdict=$(python3 "$HELP" check "$OUT" "${what[@]}"); then
          say "run $run $set $sender -> $collector: wrong output: $verdict"
          kv[complete]=0
        elif [ "${collector%%-*}" = ztel ] && [ -s "$dir/data/dead-letter.jsonl" ]; then
          say "run $run $set $sender -> $collector: dead letters: $(head -c 300 "$dir/data/dead-letter.jsonl")"
          kv[complete]=0
        fi
      fi
      echo "$RUN_ID,$DAY,$HOST,$set,$sender,$collector,$run,$EVENTS,${IN_BYTES[$set]},${kv[complete]},${kv[lines]},${kv[out_bytes]},${kv[wall]},${kv[cpu]},${kv[sender_rc]},$STOP" >> "$CSV"
      if [ "${kv[complete]}" = 1 ]; then
        say "run $run $set $sender -> $collector: ${kv[wall]} s wall, ${kv[cpu]} CPU s, stop $STOP"
      else
        failed=1
        say "run $run $set $sender -> $collector: INCOMPLETE, ${kv[lines]} of $EVENTS records (sender exit ${kv[sender_rc]}); logs in $dir"
        tail -5 "$dir/sender.log" "$dir/collector.log" >&2 || true
        KEEP=1
      fi
      unset kv
      [ "$KEEP" = 1 ] || rm -rf "$dir"
    done
  done
 done
done

# ------------------------------------------------------------------------------------------------
# 6. The table, and (unless --quick or --no-save) the results appended to perf/results/.

TABLE=$(python3 "$HELP" summarize "$CSV" "$RUN_ID") || true
SET_LIST=""
for set in $SETS; do
  SET_LIST="$SET_LIST${SET_LIST:+; }$set $((IN_BYTES[$set] / EVENTS)) B/record"
done
SET_LIST="$SET_LIST (base: ztel's feed format, 1,000 devices, no header; the others: DIALECT-HEADER over $DEVICES devices, -churnN a new IP or user every N records of a device)"
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
version_of() { "$@" 2>/dev/null | head -1 || echo unknown; }
RSYSLOG_V=$( [ -n "$RSYSLOGD" ] && version_of "$RSYSLOGD" -v | awk '{print "rsyslog " $2}' || echo "rsyslog not run")
SNG_V=$( [ -n "$SYSLOGNG" ] && version_of env "${SNG_ENV[@]}" "$SYSLOGNG" --version || echo "syslog-ng not run")
ELAPSED=$(( $(date +%s) - T_START ))
NOTE=""
if [ "$EVENTS" -lt 100000 ]; then
  NOTE=$'\n'"- note: under 100,000 events CPU time (counted in 10 ms ticks) and wall time are too short to mean anything: this run only shows that the pipeline works"
fi
REPORT=$(cat <<EOF
## $(date -u +'%Y-%m-%d %H:%M UTC') on $HOST

- machine: $(nproc) cores, $CPU_MODEL, Linux $(uname -r), $(awk '/^MemTotal:/{printf "%.0f", $2 / 1048576}' /proc/meminfo) GiB, Debian $(cat /etc/debian_version 2>/dev/null || echo '?'); load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end
- parameters: \`perf/compare.sh --events $EVENTS --runs $RUNS --senders "$SENDERS" --collectors "$COLLECTORS" --sets "$SETS" --devices $DEVICES\`; medians of $RUNS run(s); ${ELAPSED}s in all
- line sets: $SET_LIST
- versions: ztel $ZTEL_REV, $RSYSLOG_V, $SNG_V
- senders: loggen = syslog-ng's \`loggen --inet --stream --active-connections 1 --read-file FILE --dont-parse\` (one send() per line); loadgen = \`loadgen --source FILE --rate max --connections 1\` (large writes); both replay the same file, one TCP connection
- collectors: rsyslog-json = imptcp + mmjsonparse (the raw line, or the message after the header), 9 fields of the dialect to a file; syslog-ng-json = network(tcp) (no-parse, or its RFC 3164/5424 parser) + json-parser on \$MESSAGE, the same 9 fields; rsyslog-raw = imptcp, raw lines to a file; ztel-N = \`ztel serve --shards N\`, full connection records (JSON Lines) and the device registry$NOTE

$TABLE
EOF
)
echo
echo "$REPORT"
echo
if [ "$SAVE" = 1 ]; then
  mkdir -p "$RESULTS_DIR"
  md=$RESULTS_DIR/$DAY-$HOST.md
  csv=$RESULTS_DIR/$DAY-$HOST.csv
  # A file of the days before line sets has no set column: this run starts a new one.
  if [ -f "$csv" ] && [ "$(head -1 "$csv")" != "$HEADER" ]; then csv=$RESULTS_DIR/$DAY-$HOST-sets.csv; fi
  [ -f "$md" ] || printf '# perf/compare.sh results, %s, %s\n\n' "$DAY" "$HOST" > "$md"
  printf '%s\n\n' "$REPORT" >> "$md"
  [ -f "$csv" ] || echo "$HEADER" > "$csv"
  tail -n +2 "$CSV" >> "$csv"
  say "appended to ${md#"$ROOT"/} and ${csv#"$ROOT"/}"
fi
say "done in ${ELAPSED}s"
exit "$failed"
