"""What perf/soak.sh concludes from its work dir: the progress line it prints every minute, and
the final checks, report and `soak-result` line.

    python3 perf/soak_check.py progress --work DIR --elapsed SECS --duration SECS --sighups N
    python3 perf/soak_check.py final --work DIR --duration SECS --rate EPS --sighups N
                                     [--no-rss-check]

The work dir holds: metrics-before.txt, metrics-now.txt and metrics-after.txt (/metrics at the
soak's start, lately and once settled), ztel.err (its `drained:` line and reload lines), runs.tsv
(`SEGMENT SENDER STATUS STDOUT` per loadgen run), conns.json (soak_conns.py's tallies), rss.tsv
(`SECONDS KB` every 5 s), written-before and written-after (record lines written since ztel
started, rotated files included), torn (rotated records files that did not end with a LF).
"""
import argparse
import glob
import json
import os
import re
import sys

from soak_mix import CLASSES, COUNTERS, FRAMES, per_class

CHECKPOINTS_MIN = [1, 5, 10, 30, 60]
RSS_MIN_SAMPLES = 12  # in the second half: a minute of samples
RSS_MAX_GROWTH_PCT = 5.0

# Connection-level classes: (name in the report, soak_conns.py tally, counter, what it is).
CONNECTION_CLASSES = [
    ("truncated_connection", "truncated_connections", None, "cut by a close"),
    ("slow_sender", "slow_senders", "idle_timeouts", "idle timeout"),
    ("connection_flood", "over_limit", "connections_over_limit", "max_connections"),
    ("refused_address", "refused_address", "connections_refused", "from 127.0.0.2"),
    ("tls_handshake_failure", "tls_failures", "tls_handshake_failures", "plain bytes"),
    ("wrong_http_key", "wrong_key", "http_rejected_auth", "403"),
]


def parse_metrics(path):
    """Counters summed over their series (shards and inputs); dead letters by reason as
    `dead_REASON`, records by kind as `records_KIND` and of every kind as `records`."""
    sums = {}
    if not os.path.exists(path):
        return sums
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name_labels, _, value = line.rpartition(" ")
        name, _, labels = name_labels.partition("{")
        try:
            v = float(value)
        except ValueError:
            continue
        if name == "ztel_dead_letters_by_reason_total":
            m = re.search(r'reason="([^"]*)"', labels)
            key = f"dead_{m.group(1)}" if m else "dead_"
        elif name == "ztel_records_total":
            sums["records"] = sums.get("records", 0) + v
            m = re.search(r'kind="([^"]*)"', labels)
            key = "records_" + (m.group(1).replace(".", "_") if m else "")
        elif name.startswith("ztel_") and name.endswith("_total"):
            key = name[len("ztel_"):-len("_total")]
        else:
            continue
        sums[key] = sums.get(key, 0) + v
    return {k: int(v) for k, v in sums.items()}


def drained(work):
    """The totals of ztel's `drained:` line (counts since it started)."""
    totals = {}
    for line in open(os.path.join(work, "ztel.err"), errors="replace"):
        if line.startswith("ztel: drained:"):
            for k, v in re.findall(r"(\w+)=(\d+)", line):
                totals[k] = int(v)
            totals["records"] = sum(v for k, v in totals.items() if k.startswith("records_"))
    return totals


def runs(work):
    """Per loadgen run: (segment, sender, exit status, events sent)."""
    out = []
    path = os.path.join(work, "runs.tsv")
    for line in open(path) if os.path.exists(path) else []:
        seg, sender, status, stdout = line.split()
        m = re.search(r"^loadgen-result .*?\bevents=(\d+)", open(stdout).read(), re.M)
        out.append((int(seg), sender, int(status), int(m.group(1)) if m else 0))
    return out


def tallies(work):
    try:
        return json.load(open(os.path.join(work, "conns.json")))
    except (OSError, ValueError):
        return {}


def rss(work):
    rows = []
    for line in open(os.path.join(work, "rss.tsv")):
        parts = line.split()
        if len(parts) == 2:
            rows.append((int(parts[0]), int(parts[1])))
    return rows


def sent(work):
    """What was sent, by what it should become."""
    s = {"nss": 0, "lss": 0, "bad": 0, "failed_runs": []}
    classes = dict.fromkeys(CLASSES, 0)
    for seg, sender, status, events in runs(work):
        s[sender] += events
        if sender == "bad":
            for c, n in per_class(events).items():
                classes[c] += n
        if status != 0:
            s["failed_runs"].append(f"{sender}#{seg}")
    t = tallies(work)
    s["classes"] = classes
    s["conns"] = t
    s["good"] = s["nss"] + s["lss"] + t.get("good_frames", 0)
    cut = t.get("truncated_connections", 0) + t.get("slow_senders", 0)
    # Frames as sent: a lying octet count's line is one, a cut frame is one.
    s["total"] = s["good"] + s["bad"] + cut
    s["frames"] = s["good"] + cut + sum(FRAMES[c] * n for c, n in classes.items())
    s["oversize"] = classes["oversize"]
    return s


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items()}


def mb(kb):
    return f"{kb / 1024:.1f} MB"


def sending_now(work):
    """Events the loadgen runs still under way have sent so far (their last progress line)."""
    done = {(seg, sender) for seg, sender, _, _ in runs(work)}
    total = 0
    for path in glob.glob(os.path.join(work, "*-*.err")):
        seg, _, sender = os.path.basename(path)[: -len(".err")].partition("-")
        if not seg.isdigit() or (int(seg), sender) in done:
            continue
        counts = re.findall(r"^loadgen: .*? (\d+) events sent", open(path).read(), re.M)
        total += int(counts[-1]) if counts else 0
    return total


def progress(a):
    got = delta(parse_metrics(os.path.join(a.work, "metrics-now.txt")),
                parse_metrics(os.path.join(a.work, "metrics-before.txt")))
    s = sent(a.work)
    t = s["conns"]
    rows = rss(a.work)
    print(f"soak: {a.elapsed / 60:.1f}/{a.duration / 60:.1f} min: sent "
          f"{s['total'] + sending_now(a.work)}; received frames {got.get('frames', 0)}, "
          f"records {got.get('records', 0)}, "
          f"dead letters {got.get('dead_letters', 0)}, oversize {got.get('oversize_frames', 0)}, "
          f"duplicates {got.get('duplicates', 0)}; trickle: {t.get('truncated_connections', 0)} "
          f"truncated, {t.get('slow_senders', 0)} slow, {t.get('over_limit', 0)} over the limit, "
          f"{t.get('refused_address', 0)} refused, {t.get('tls_failures', 0)} TLS, "
          f"{t.get('wrong_key', 0)} wrong keys; {a.sighups} SIGHUP; "
          f"RSS {mb(rows[-1][1]) if rows else '?'}")


def rss_verdict(rows, check):
    """(ok, note, growth): the second half's last quarter's peak against its first quarter's."""
    if not rows:
        return (not check, "no RSS sample", None)
    end = rows[-1][0]
    second = [kb for t, kb in rows if t >= end / 2]
    if len(second) < RSS_MIN_SAMPLES:
        note = (f"{len(second)} RSS samples in the second half, fewer than {RSS_MIN_SAMPLES}: "
                f"too short to judge")
        return (not check, note + ("" if check else " (--no-rss-check)"), None)
    third, fourth = second[: len(second) // 2], second[len(second) // 2:]
    growth = (max(fourth) - max(third)) * 100.0 / max(max(third), 1)
    ok = growth < RSS_MAX_GROWTH_PCT or not check
    note = (f"second half: {len(second)} samples, peak {mb(max(third))} then {mb(max(fourth))} "
            f"({growth:+.1f} %, limit {RSS_MAX_GROWTH_PCT} %)")
    return (ok, note, growth)


def checkpoints(rows):
    """RSS at the fixed checkpoints the run reached (the first sample at or after each), and at
    the end."""
    out = []
    for minutes in CHECKPOINTS_MIN:
        at = [kb for t, kb in rows if t >= minutes * 60]
        if at:
            out.append((f"{minutes}min", at[0]))
    if rows:
        out.append(("end", rows[-1][1]))
    return out


def final(a):
    w = a.work
    before = parse_metrics(os.path.join(w, "metrics-before.txt"))
    got = delta(parse_metrics(os.path.join(w, "metrics-after.txt")), before)
    end = drained(w)
    s = sent(w)
    t = s["conns"]
    written = int(open(os.path.join(w, "written-after")).read()) - int(
        open(os.path.join(w, "written-before")).read())
    failures = []

    def check(name, ok, detail):
        if not ok:
            failures.append(name)
            print(f"soak: FAILED {name}: {detail}", file=sys.stderr)

    if not end:
        check("drain", False, "no `drained:` line from ztel")
    # After the drain every count is final; /metrics, read once settled, must agree with it.
    final_counts = {k: end.get(k, 0) - before.get(k, 0) for k in
                    ["frames", "oversize_frames", "dead_letters", "records", "duplicates"]}
    for k, v in final_counts.items():
        check(f"metrics_{k}", got.get(k, 0) == v, f"/metrics says {got.get(k, 0)}, the drain {v}")
    frames, oversize = final_counts["frames"], final_counts["oversize_frames"]
    dead, records, dups = final_counts["dead_letters"], final_counts["records"], \
        final_counts["duplicates"]
    lost = s["frames"] + s["oversize"] - frames - oversize
    check("lost", lost == 0, f"{lost} frames sent were neither framed nor skipped as oversize")
    check("records", records == s["good"], f"{records} records of {s['good']} good frames sent")
    check("dead_letters", records + dead == frames, f"{records} records + {dead} dead letters "
          f"!= {frames} frames")
    check("written", written + dups == records, f"{written} written + {dups} duplicates "
          f"!= {records} records")
    reasons = {k: v for k, v in got.items() if k.startswith("dead_") and k != "dead_letters"}
    reasons = {k: v for k, v in reasons.items() if not k.startswith("dead_letters_")}
    check("dead_by_reason", sum(reasons.values()) == dead,
          f"dead letters by reason add up to {sum(reasons.values())}, not {dead}")

    # Each class: what was sent of it against its counter.
    want = {}
    for c, n in s["classes"].items():
        for counter, per in COUNTERS[c].items():
            want[counter] = want.get(counter, 0) + per * n
    want["dead_truncated"] = t.get("truncated_connections", 0) + t.get("slow_senders", 0)
    for name, tally, counter, _ in CONNECTION_CLASSES:
        if counter:
            want[counter] = t.get(tally, 0)
    for counter, n in sorted(want.items()):
        check(counter, got.get(counter, 0) == n, f"counted {got.get(counter, 0)}, sent {n}")
    for counter, n in sorted(reasons.items()):
        if counter not in want and n:
            check(counter, False, f"{n} dead letters of a reason nothing was sent for")
    sent_of = dict(s["classes"])
    for name, tally, _, _ in CONNECTION_CLASSES:
        sent_of[name] = t.get(tally, 0)
    for name, n in sent_of.items():
        check(f"sent_{name}", n > 0, "none sent: the soak did not cover this class")
    for e in t.get("errors", []):
        check("trickle", False, e)
    for r in s["failed_runs"]:
        check("loadgen", False, f"the loadgen run {r} failed")
    torn_path = os.path.join(w, "torn")
    torn = int(open(torn_path).read()) if os.path.exists(torn_path) else 0
    check("torn", torn == 0, f"{torn} rotated records files did not end with a whole line")
    reloads = sum(1 for line in open(os.path.join(w, "ztel.err"), errors="replace")
                  if "ztel: reloaded" in line)
    check("sighup", reloads == a.sighups, f"{a.sighups} SIGHUPs sent, {reloads} reloads")

    rows = rss(w)
    rss_ok, rss_note, growth = rss_verdict(rows, not a.no_rss_check)
    check("rss", rss_ok, rss_note)
    points = checkpoints(rows)

    print(f"soak: sent {s['total']} frames: {s['nss']} NSS, {s['lss']} LSS, {s['bad']} bad, "
          f"{t.get('good_frames', 0)} good and "
          f"{t.get('truncated_connections', 0) + t.get('slow_senders', 0)} cut by the trickle; "
          f"received {frames} frames + {oversize} oversize skipped; lost {lost}", file=sys.stderr)
    print(f"soak: {records} records ({written} written, {dups} duplicates), {dead} dead letters "
          f"({got.get('dead_letters_unkept', 0)} not kept past a batch's cap)", file=sys.stderr)
    print("soak: bad input        sent  counted as", file=sys.stderr)
    for c in CLASSES:
        counted = ", ".join(f"{k}={got.get(k, 0)}" for k in COUNTERS[c])
        print(f"soak:   {c:<22}{s['classes'][c]:>6}  {counted}", file=sys.stderr)
    for name, tally, counter, what in CONNECTION_CLASSES:
        counted = f"{counter}={got.get(counter, 0)}" if counter else ""
        if name in ("truncated_connection", "slow_sender"):
            counted = ", ".join(filter(None, [counted, "dead_truncated (both) "
                                              f"{got.get('dead_truncated', 0)}"]))
        print(f"soak:   {name:<22}{t.get(tally, 0):>6}  {counted} ({what})", file=sys.stderr)
    print("soak: RSS " + ", ".join(f"{p} {mb(kb)}" for p, kb in points) + f"; {rss_note}",
          file=sys.stderr)

    fields = {
        "ok": "no" if failures else "yes",
        "duration": a.duration, "rate": a.rate, "segments": len({r[0] for r in runs(w)}),
        "sent": s["total"], "frames": frames, "oversize": oversize, "lost": lost,
        "records": records, "written": written, "duplicates": dups, "dead_letters": dead,
        "dead_letters_unkept": got.get("dead_letters_unkept", 0),
    }
    for c in CLASSES:
        fields[f"sent_{c}"] = s["classes"][c]
    for name, tally, _, _ in CONNECTION_CLASSES:
        fields[f"sent_{name}"] = t.get(tally, 0)
    for counter in sorted(want):
        fields[f"counted_{counter}"] = got.get(counter, 0)
    fields["sighups"] = a.sighups
    fields["reloads"] = reloads
    for p, kb in points:
        fields[f"rss_{p}_kb"] = kb
    fields["rss_samples"] = len(rows)
    fields["rss_growth_second_half_pct"] = "n/a" if growth is None else f"{growth:.1f}"
    if failures:
        fields["failed"] = ",".join(dict.fromkeys(failures))
    print("soak-result " + " ".join(f"{k}={v}" for k, v in fields.items()))
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["progress", "final"])
    p.add_argument("--work", required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--sighups", type=int, default=0)
    p.add_argument("--elapsed", type=int, default=0)
    p.add_argument("--rate", default="")
    p.add_argument("--no-rss-check", action="store_true")
    a = p.parse_args()
    if a.mode == "progress":
        progress(a)
        return 0
    return final(a)


if __name__ == "__main__":
    sys.exit(main())
