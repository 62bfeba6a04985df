#!/usr/bin/env python3
"""Helpers for the perf/ scripts: the parts that are clumsy in bash.

  freeports N                  print N TCP ports on 127.0.0.1 that are free right now
  wait-listen PORT SECS        wait until something listens on 127.0.0.1:PORT (exit 1 on timeout)
  receive PORTFILE OUT         accept one TCP connection, write what it sends to OUT, exit when it closes
  measure ...                  run a sender against a running collector and measure it (see --help)
  check FILE KIND              are the collector's records what they should be (sampled)
  summarize CSV RUN_ID         medians and ratios of one run of compare.sh, as Markdown
  bench-exe NAME               build the criterion bench NAME (not run) and print its executable

Standard library only: it must run on a fresh Debian machine.
"""

import argparse
import csv
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# ports


def freeports(n):
    """Binds n ephemeral ports at once (so they differ), then releases them."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        ports = [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
    for p in ports:
        if listening(p):  # paranoia: something else grabbed it between bind and now
            sys.exit(f"port {p} is in use")
    print(" ".join(str(p) for p in ports))


def listening(port):
    """True when a socket is in LISTEN state on `port` (any address), from /proc/net/tcp{,6}."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state = parts[1], parts[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except FileNotFoundError:
            pass
    return False


def wait_listen(port, secs):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if listening(port):
            return 0
        time.sleep(0.05)
    return 1


# ---------------------------------------------------------------------------------------------
# the input file: whatever loadgen sends, byte for byte


def receive(portfile, out):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, portfile)
    srv.settimeout(120)
    conn, _ = srv.accept()
    srv.close()
    with conn, open(out, "wb") as f:
        while True:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            f.write(chunk)


# ---------------------------------------------------------------------------------------------
# one measurement


def cpu_seconds(pid):
    """utime + stime of the whole process (every thread, live or exited), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# How long loadgen says it was sending: first byte to last byte written to the socket.
SENDER_SECONDS = re.compile(r"loadgen-result\b.*\bseconds=([0-9.]+)")


def measure(a):
    """Starts the sender, follows the collector's output file until `expect` lines are there (or
    nothing more arrives for `settle` seconds after the sender is done, or `timeout`), then reads
    the collector's CPU time. Prints one `measure key=value ...` line."""
    cpu0 = cpu_seconds(a.pid)
    t_launch = time.time()
    log = open(a.sender_log, "wb")
    sender = subprocess.Popen(a.sender, stdout=log, stderr=subprocess.STDOUT)
    lines = 0
    pos = 0
    t_first_out = None
    t_last = None
    t_sender_end = None
    t_grew = time.monotonic()
    deadline = t_grew + a.timeout
    fd = None
    buf = bytearray(4 << 20)
    while True:
        if t_sender_end is None and sender.poll() is not None:
            t_sender_end = time.time()
        if fd is None and os.path.exists(a.out):
            fd = os.open(a.out, os.O_RDONLY)
        grew = False
        if fd is not None:
            while True:
                n = os.readv(fd, [buf])
                if n <= 0:
                    break
                lines += buf.count(b"\n", 0, n)
                pos += n
                grew = True
            if grew:
                t_last = time.time()
                t_grew = time.monotonic()
                if t_first_out is None:
                    t_first_out = t_last
        if lines >= a.expect:
            break
        now = time.monotonic()
        if now > deadline:
            break
        if t_sender_end is not None and now - t_grew > a.settle:
            break
        time.sleep(a.poll)
    cpu1 = cpu_seconds(a.pid)
    try:
        sender.wait(timeout=a.settle)
    except subprocess.TimeoutExpired:
        sender.kill()
        sender.wait()
    if t_sender_end is None:
        t_sender_end = time.time()
    log.close()
    if fd is not None:
        os.close(fd)
    # First byte. loadgen reports how long it was sending (it loads its whole input into memory
    # first, which is no part of the collector's work): its exit minus that, and never after the
    # first record was written. Other senders (loggen reads its file as it goes, and its own
    # timings are rounded to its 0.5 s stats period): their launch.
    with open(a.sender_log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    t_first = t_launch
    m = SENDER_SECONDS.search(text)
    if m:
        t_first = max(t_launch, t_sender_end - float(m.group(1)))
        if t_first_out is not None:
            t_first = min(t_first, t_first_out)
    wall = (t_last - t_first) if t_last else 0.0
    complete = int(lines >= a.expect)
    print(
        f"measure complete={complete} lines={lines} out_bytes={pos} wall={wall:.4f} "
        f"cpu={cpu1 - cpu0:.2f} sender_rc={sender.returncode}"
    )


IPV4 = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")


def check(path, kind, input_path=None):
    """Did the collector do the work, not just write lines? Looks at the first and last records
    of its output: a peer's 9 tab-separated fields (id, client IP, server IP, URL, request and
    response bytes, device, user, action), none empty, the IPs IPs and the sizes numbers (a peer
    whose JSON parse failed, or that parsed the wrong text, writes empty fields); raw lines that
    are lines of the input, header and all; ztel's ZIA web connection records. Prints "ok" or
    what is wrong; exit status 1 when wrong."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - (1 << 20)))
        tail = f.read()
    sample = head.split(b"\n")[:-1][:1000] + tail.split(b"\n")[1:-1][-1000:]
    if not sample:
        print("no whole record in the output")
        return 1
    sent = set()
    if kind == "raw":
        with open(input_path, "rb") as f:
            sent = {hash(line.rstrip(b"\n")) for line in f}
    for line in sample:
        text = line.decode("utf-8", "replace")
        if kind == "fields":
            values = text.split("\t")
            if (len(values) != 9 or any(v == "" for v in values)
                    or not all(IPV4.match(v) for v in values[1:3])
                    or not all(v.isdigit() for v in values[4:6])):
                print(f"a record lacks fields or has wrong ones (was the JSON parsed?): {text[:200]}")
                return 1
        elif kind == "raw":
            if hash(line) not in sent:
                print(f"not a line that was sent: {text[:200]}")
                return 1
        elif kind == "ztel":
            if '"kind":"zia.web"' not in text or '"src_ip":' not in text:
                print(f"not a ZIA web connection record: {text[:200]}")
                return 1
    print("ok")
    return 0


# ---------------------------------------------------------------------------------------------
# the report

PEERS = ["rsyslog-json", "syslog-ng-json", "rsyslog-raw"]


def fmt_int(x):
    return f"{x:,.0f}" if x is not None else "n/a"


def summarize(path, run_id):
    """Per line set, sender and collector, the medians of every run; then, per sender, a table
    without churn and one with: each collector's events per CPU-second and ztel's ratios to each
    peer, with issue 12's targets."""
    rows = [r for r in csv.DictReader(open(path)) if r["run_id"] == run_id]
    if not rows:
        sys.exit(f"no rows for run {run_id} in {path}")
    groups = {}
    for r in rows:
        groups.setdefault((r["set"], r["sender"], r["collector"]), []).append(r)
    sets = list(dict.fromkeys(r["set"] for r in rows))
    senders = list(dict.fromkeys(r["sender"] for r in rows))
    collectors = list(dict.fromkeys(r["collector"] for r in rows))
    per_record = {r["set"]: int(r["in_bytes"]) / int(r["events"]) for r in rows}
    med = {}
    # Per run, events per CPU-second: a ratio pairs each ztel measurement with the peer's of the
    # same run, taken seconds apart, since this machine's speed drifts by 2 to 3x over minutes.
    each = {}
    out = []
    out.append(
        "| line set | sender | collector | runs ok | events/s | MB/s | collector CPU s | "
        "events per CPU-second |"
    )
    out.append("|---|---|---|---|---:|---:|---:|---:|")
    for t in sets:
        for s in senders:
            for c in collectors:
                g = groups.get((t, s, c), [])
                ok = [r for r in g if r["complete"] == "1"]
                if ok:
                    n = int(ok[0]["events"])
                    walls = [float(r["wall"]) for r in ok if float(r["wall"]) > 0]
                    cpus = [float(r["cpu"]) for r in ok]
                    eps = statistics.median(n / w for w in walls) if walls else None
                    mbps = (
                        statistics.median(int(r["in_bytes"]) / 1e6 / float(r["wall"])
                                          for r in ok if float(r["wall"]) > 0)
                        if walls else None
                    )
                    # CPU time comes in clock ticks (10 ms): a run under one tick has no ratio.
                    epc = (statistics.median(n / x for x in cpus)
                           if all(x > 0 for x in cpus) else None)
                    if epc is not None:
                        med[(t, s, c)] = epc
                        each[(t, s, c)] = {r["run"]: n / float(r["cpu"]) for r in ok}
                    out.append(
                        f"| {t} | {s} | {c} | {len(ok)}/{len(g)} | {fmt_int(eps)} | "
                        f"{'n/a' if mbps is None else f'{mbps:.1f}'} | "
                        f"{statistics.median(cpus):.2f} | {fmt_int(epc)} |"
                    )
                else:
                    lost = max((int(r["events"]) - int(r["lines"]) for r in g), default=0)
                    out.append(
                        f"| {t} | {s} | {c} | 0/{len(g)} | n/a | n/a | n/a | "
                        f"n/a (up to {lost:,} lost) |"
                    )
    ztels = [c for c in collectors if c.startswith("ztel")]
    peers = [c for c in collectors if not c.startswith("ztel")]
    # The targets of issue 12: ≥ 1,000,000 events per collector CPU-second (600,000 with churn),
    # ≥ 20× rsyslog with mmjsonparse, ≥ 4× rsyslog with no parsing, in the same run.
    target = {"rsyslog-json": 20.0, "rsyslog-raw": 4.0}
    for s in senders:
        for churn, title, floor in [(False, "without churn", "1,000,000"),
                                    (True, "with churn", "600,000")]:
            chosen = [t for t in sets if ("-churn" in t) == churn]
            if not chosen:
                continue
            out.append("")
            out.append(
                f"Sender {s}, {title}: events per collector CPU-second, and ztel's divided by "
                f"each peer's (same bytes; the median of each run's own ratio, and their "
                f"range); targets in brackets:"
            )
            out.append("")
            heads = [c + (f" [≥ {floor}]" if c in ztels else "") for c in collectors]
            heads += [f"{z} ÷ {p}" + (f" [≥ {target[p]:.0f}×]" if p in target else "")
                      for z in ztels for p in peers]
            out.append("| line set | bytes/record | " + " | ".join(heads) + " |")
            out.append("|---|---:|" + "---:|" * len(heads))
            for t in chosen:
                cells = [fmt_int(med.get((t, s, c))) for c in collectors]
                for z in ztels:
                    for p in peers:
                        zr, pr = each.get((t, s, z), {}), each.get((t, s, p), {})
                        ratios = [zr[run] / pr[run] for run in zr if run in pr]
                        cells.append(f"{statistics.median(ratios):.1f}× ({min(ratios):.1f} to "
                                     f"{max(ratios):.1f})" if ratios else "n/a")
                out.append(f"| {t} | {per_record[t]:,.0f} | " + " | ".join(cells) + " |")
    print("\n".join(out))
    bad = [k for k in groups if not any(r["complete"] == "1" for r in groups[k])]
    return 1 if bad else 0


def bench_exe(name):
    """The executable `cargo bench --bench NAME --no-run` builds, from cargo's JSON messages."""
    out = subprocess.run(["cargo", "bench", "--bench", name, "--no-run", "--message-format=json"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    for line in out.stdout.splitlines():
        m = json.loads(line)
        if (m.get("reason") == "compiler-artifact" and m["target"]["name"] == name
                and m.get("executable")):
            print(m["executable"])
            return 0
    return 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("freeports")
    q.add_argument("n", type=int)
    q = sub.add_parser("wait-listen")
    q.add_argument("port", type=int)
    q.add_argument("secs", type=float)
    q = sub.add_parser("receive")
    q.add_argument("portfile")
    q.add_argument("out")
    q = sub.add_parser("measure")
    q.add_argument("--pid", type=int, required=True, help="the collector's pid")
    q.add_argument("--out", required=True, help="the collector's output file")
    q.add_argument("--expect", type=int, required=True, help="lines that mean done")
    q.add_argument("--timeout", type=float, default=600)
    q.add_argument("--settle", type=float, default=15, help="give up this long after the sender "
                   "is done and the output stopped growing")
    q.add_argument("--poll", type=float, default=0.005)
    q.add_argument("--sender-log", required=True)
    q.add_argument("sender", nargs=argparse.REMAINDER)
    q = sub.add_parser("check")
    q.add_argument("path")
    q.add_argument("kind", choices=["fields", "raw", "ztel"])
    q.add_argument("--input", help="the lines sent (raw)")
    q = sub.add_parser("bench-exe")
    q.add_argument("name")
    q = sub.add_parser("summarize")
    q.add_argument("csv")
    q.add_argument("run_id")
    a = p.parse_args()
    if a.cmd == "bench-exe":
        sys.exit(bench_exe(a.name))
    if a.cmd == "freeports":
        freeports(a.n)
    elif a.cmd == "wait-listen":
        sys.exit(wait_listen(a.port, a.secs))
    elif a.cmd == "receive":
        receive(a.portfile, a.out)
    elif a.cmd == "measure":
        if a.sender and a.sender[0] == "--":
            a.sender = a.sender[1:]
        measure(a)
    elif a.cmd == "check":
        if a.kind == "raw" and not a.input:
            p.error("check raw needs --input")
        sys.exit(check(a.path, a.kind, a.input))
    elif a.cmd == "summarize":
        sys.exit(summarize(a.csv, a.run_id))


if __name__ == "__main__":
    main()
