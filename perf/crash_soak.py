#!/usr/bin/env python3
"""kill -9 at random moments under load, then the sender's replay: every record must be in the
records files exactly once, rotated files included (the duplicate window and dedup.pending,
src/aggregate/dedup.rs). tests/crash.rs does one such round in CI; this does many, by hand.

    python3 perf/crash_soak.py [--rounds 20] [--records 300000] [--bin target/release]
                               [--data-in /tmp] [--seed N]

Each round: a fresh data_dir, ztel with two shards and output.rotate_bytes at its least (1 MiB,
so that a round rotates the records file dozens of times), the records sent on two connections,
and a SIGKILL after a random delay while they flow. Then a new ztel on the same data_dir, and the
replay of every record on one connection (NSS replays all since its last acknowledged minute: here
all of it). Once ztel has taken every frame it gets SIGTERM, and each record id is counted over
connections.jsonl and its rotated files. A round fails on a record missing or written twice; the
script exits 1 if any did. One line per round, then a summary.
"""
import argparse
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def line(i):
    """An NSS web record in ztel's feed format; the host changes with the id (many devices)."""
    return (
        '{"sourcetype":"zscalernss-web","event":{"epochtime":"%d","recordid":"%d",'
        '"login":"user%d@example.com","proto":"HTTPS","eurl":"www.example.com/p/%d",'
        '"action":"Allowed","reqmethod":"GET","respcode":"200","reqsize":"%d",'
        '"respsize":"%d","cip":"10.%d.%d.%d","sip":"203.0.%d.%d","urlcat":"Web Search",'
        '"deviceowner":"owner%d","devicehostname":"host-%05d"}}\n'
        % (1_700_000_000 + i, i, i % 7, i, 100 + 3 * i, 5000 + i, (i >> 16) & 255,
           (i >> 8) & 255, i & 255, (i >> 8) & 255, i & 255, i % 7, i % 5000)
    ).encode()


class Ztel:
    def __init__(self, binary, config, data):
        self.proc = subprocess.Popen(
            [binary, "serve", "--config", config, "--tcp", "127.0.0.1:0", "--udp", "",
             "--admin", "127.0.0.1:0", "--data-dir", data, "--shards", "2"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        self.addr = {}
        self.stderr = []
        deadline = time.monotonic() + 30
        while "tcp" not in self.addr:
            text = self.proc.stderr.readline()
            if not text or time.monotonic() > deadline:
                sys.exit("ztel did not start: " + "".join(self.stderr[-5:]) + text)
            self.stderr.append(text)
            found = re.search(r"listening (\w+) ([0-9.]+):(\d+)", text)
            if found:
                self.addr[found[1]] = (found[2], int(found[3]))
        # Drained, so that a chatty collector never blocks on its pipe.
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def frames(self):
        host, port = self.addr["admin"]
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as page:
            return sum(float(l.split()[-1]) for l in page.read().decode().splitlines()
                       if l.startswith("ztel_frames_total{"))


def send(addr, ids, sent):
    """Sends the records of `ids` in chunks; notes the last whole chunk sent; stops at an error."""
    try:
        with socket.create_connection(addr) as s:
            for at in range(0, len(ids), 500):
                chunk = ids[at:at + 500]
                s.sendall(b"".join(line(i) for i in chunk))
                sent.append(chunk[-1])
    except OSError:
        pass


def records_in(data):
    counts = {}
    for path in glob.glob(os.path.join(data, "connections*.jsonl")):
        with open(path, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    # Torn by the kill (cut off at the next start): not a record yet.
                    continue
                rid = int(json.loads(raw)["record_id"])
                counts[rid] = counts.get(rid, 0) + 1
    return counts


def one_round(args, n, rng, work):
    data = os.path.join(work, f"round{n}")
    config = os.path.join(work, "ztel.toml")
    ztel = Ztel(args.binary, config, data)
    halves = [[i for i in range(1, args.records + 1) if i % 2 == h] for h in (0, 1)]
    sent = [[], []]
    senders = [threading.Thread(target=send, args=(ztel.addr["tcp"], halves[h], sent[h]))
               for h in (0, 1)]
    for t in senders:
        t.start()
    delay = rng.uniform(0.05, args.kill_within)
    time.sleep(delay)
    ztel.proc.send_signal(signal.SIGKILL)
    ztel.proc.wait()
    for t in senders:
        t.join()
    at_kill = sum(records_in(data).values())
    torn_at_kill = any(not open(p, "rb").read().endswith(b"\n")
                       for p in glob.glob(os.path.join(data, "connections*.jsonl"))
                       if os.path.getsize(p) > 0)

    ztel = Ztel(args.binary, config, data)
    torn = [l.strip() for l in ztel.stderr if "torn line" in l]
    replay = threading.Thread(target=send, args=(ztel.addr["tcp"], list(range(1, args.records + 1)), []))
    replay.start()
    replay.join()
    deadline = time.monotonic() + 300
    while ztel.frames() < args.records:
        if time.monotonic() > deadline:
            sys.exit(f"round {n}: the replay never arrived whole")
        time.sleep(0.05)
    ztel.proc.send_signal(signal.SIGTERM)
    ztel.proc.wait(timeout=60)
    counts = records_in(data)
    missing = [i for i in range(1, args.records + 1) if i not in counts]
    twice = [i for i, c in counts.items() if c > 1]
    files = len(glob.glob(os.path.join(data, "connections*.jsonl")))
    ok = not missing and not twice and len(counts) == args.records
    print(f"round {n}: killed after {delay:.2f} s with {at_kill} records in {files} files"
          f"{', a torn line' if torn_at_kill else ''}{' (cut at start)' if torn else ''}; after the replay {sum(counts.values())} records,"
          f" {len(missing)} missing, {len(twice)} written twice: {'ok' if ok else 'FAILED'}",
          flush=True)
    if ok:
        shutil.rmtree(data)
    else:
        print(f"  kept {data}; missing {missing[:10]} twice {twice[:10]}", flush=True)
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--records", type=int, default=300_000)
    p.add_argument("--bin", default="target/release", help="folder with the ztel binary")
    p.add_argument("--data-in", default=tempfile.gettempdir())
    p.add_argument("--kill-within", type=float, default=0.5,
                   help="the kill comes after a delay drawn from 0.05 s to this")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    args.binary = os.path.join(args.bin, "ztel")
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="ztel-crash-soak.", dir=args.data_in)
    with open(os.path.join(work, "ztel.toml"), "w") as f:
        f.write("[output]\nrotate_bytes = 1048576\n")
    print(f"crash soak: {args.rounds} rounds of {args.records} records, seed {seed}, in {work}",
          flush=True)
    failed = sum(not one_round(args, n, rng, work) for n in range(1, args.rounds + 1))
    print(f"crash-soak-result rounds={args.rounds} records={args.records} failed={failed} seed={seed}")
    if not failed:
        shutil.rmtree(work)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
