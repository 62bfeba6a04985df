"""The soak's connection-level bad input (DESIGN §6): a steady trickle of each class, one after
the other (never two at once, so that none takes another's place under max_connections), and a
connection flood whenever soak.sh asks for one with SIGUSR1 (it asks in the middle of a minute,
when loadgen's senders are connected, and waits for the flood to end before they reconnect).

    python3 perf/soak_conns.py --tcp ADDR --tls ADDR --http ADDR --admin ADDR --key KEY
        --idle SECS --tallies FILE [--cycle SECS]

Each cycle (at most one every --cycle seconds):
    truncated connection  two good records, then half of a third, then close
                          -> 2 records, a dead letter `truncated`
    refused address       a connection from 127.0.0.2, which allowed_ips does not admit
                          -> connections_refused
    TLS handshake failure plain bytes to the TLS input -> tls_handshake_failures
    wrong HTTP key        a POST with a wrong key (403) -> http_rejected_auth; then a POST of two
                          good records with the right key (200), so the HTTP input is seen working
    slow sender           half a record, then a byte now and then, until ztel cuts it off at
                          idle_timeout_secs -> idle_timeouts and a dead letter `truncated`
A flood opens mute connections until ztel closes some at once: those were over max_connections
(connections_over_limit); it closes the rest before idle_timeout_secs, so none is idle-timed-out,
and waits until ztel's connections_open is back where it was, so that nothing after it is
refused for the flood's sake.

Only what ztel was seen to do is counted, and only when nothing else can explain it: a TLS
failure when a TLS alert came back, a slow sender when it was cut off after idle_timeout_secs
(not at once, as over max_connections), a truncated connection when ztel kept it open, a good
record when its connection took it. FILE (JSON) is rewritten after every action; on SIGTERM the
script finishes the action under way (and its first cycle), writes FILE and exits.
"""
import argparse
import http.client
import json
import os
import select
import signal
import socket
import sys
import time
import urllib.request

from soak_mix import record

FLOOD_REFUSALS = 3  # over-limit connections wanted per flood
FLOOD_MOST = 400  # connections a flood opens at most

flags = {"flood": 0, "stop": False}
tallies = {
    "good_frames": 0,  # good records sent on connections that took them
    "truncated_connections": 0,
    "refused_address": 0,
    "tls_failures": 0,
    "wrong_key": 0,
    "good_posts": 0,
    "slow_senders": 0,
    "floods": 0,
    "over_limit": 0,
    "errors": [],
}
next_record = [0]


def good():
    next_record[0] += 1
    return record(next_record[0])


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def save(path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(tallies, f)
    os.replace(tmp, path)


def error(what):
    tallies["errors"].append(f"{time.strftime('%H:%M:%S')} {what}")
    print(f"soak_conns: {what}", file=sys.stderr)


def closed_by_peer(sock, wait):
    """Whether the peer closes `sock` within `wait` seconds (EOF or a reset)."""
    deadline = time.monotonic() + wait
    while True:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            if sock.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except BlockingIOError:
            continue


def open_connections(a):
    """ztel's connections_open gauge, summed over its series (shards and inputs)."""
    with urllib.request.urlopen(f"http://{a.admin}/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(("ztel_connections_open{", "ztel_connections_open ")))


def truncated_connection(a):
    with socket.create_connection(addr(a.tcp), timeout=10) as s:
        if closed_by_peer(s, 0.2):
            error("a truncated connection was refused before it sent anything")
            return
        cut = good()
        s.sendall(good() + b"\n" + good() + b"\n" + cut[: len(cut) // 2])
    tallies["good_frames"] += 2
    tallies["truncated_connections"] += 1


def refused_address(a):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.bind(("127.0.0.2", 0))
        s.connect(addr(a.tcp))
        if closed_by_peer(s, 10):
            tallies["refused_address"] += 1
        else:
            error("a connection from 127.0.0.2 was not refused")


def tls_failure(a):
    with socket.create_connection(addr(a.tls), timeout=10) as s:
        s.sendall(b"this is no TLS ClientHello\n")
        answer = b""
        while len(answer) < 64:
            try:
                chunk = s.recv(64)
            except (ConnectionResetError, BrokenPipeError):
                break
            if not chunk:
                break
            answer += chunk
        # A TLS alert record (content type 21) says the handshake failed; a bare close may be
        # a refusal over max_connections.
        if answer[:1] == b"\x15":
            tallies["tls_failures"] += 1
        else:
            error(f"plain bytes to the TLS input got {answer[:16]!r}, not a TLS alert")


def post(a, key, records):
    body = b"[" + b",".join(records) + b"]"
    conn = http.client.HTTPConnection(*addr(a.http), timeout=10)
    try:
        conn.request("POST", "/", body=body,
                     headers={"X-Ztel-Key": key, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wrong_key(a):
    status = post(a, "not-the-" + a.key, [good()])
    if status == 403:
        tallies["wrong_key"] += 1
    else:
        error(f"a wrong HTTP key got {status}, not 403")
    status = post(a, a.key, [good(), good()])
    if status == 200:
        tallies["good_frames"] += 2
        tallies["good_posts"] += 1
    else:
        error(f"a good HTTP batch got {status}, not 200")


def slow_sender(a):
    with socket.create_connection(addr(a.tcp), timeout=10) as s:
        s.sendall(good()[:80])
        began = time.monotonic()
        while time.monotonic() - began < 3 * a.idle:
            closed = closed_by_peer(s, a.idle / 5)
            if not closed:
                try:
                    s.sendall(b"x")
                except (ConnectionResetError, BrokenPipeError):
                    closed = True
            if closed:
                after = time.monotonic() - began
                if after >= 0.8 * a.idle:
                    tallies["slow_senders"] += 1
                else:
                    error(f"a slow sender was closed after {after:.1f} s, before the idle timeout")
                return
        error(f"a slow sender was not cut off in {3 * a.idle} s")


def flood(a):
    """Mute connections, a few at a time, until ztel closes FLOOD_REFUSALS of them at once."""
    before = open_connections(a)
    held, refused = [], 0
    deadline = time.monotonic() + 0.6 * a.idle
    try:
        while refused < FLOOD_REFUSALS and len(held) + refused < FLOOD_MOST:
            if time.monotonic() > deadline:
                break
            for _ in range(8):
                s = socket.create_connection(addr(a.tcp), timeout=10)
                s.setblocking(False)
                held.append(s)
            time.sleep(0.3)
            for s in [s for s in held if closed_by_peer(s, 0)]:
                held.remove(s)
                s.close()
                refused += 1
        # One last look: a refusal may have come since.
        time.sleep(0.3)
        refused += sum(1 for s in held if closed_by_peer(s, 0))
    finally:
        for s in held:
            s.close()
    settled = time.monotonic() + 30
    while open_connections(a) > before and time.monotonic() < settled:
        time.sleep(0.2)
    if open_connections(a) > before:
        error(f"30 s after a flood ztel still had more connections open than the {before:.0f} before it")
    tallies["floods"] += 1
    tallies["over_limit"] += refused
    if refused == 0:
        error(f"a flood of {len(held)} connections had none refused")


CYCLE = [truncated_connection, refused_address, tls_failure, wrong_key, slow_sender]


def act(a, action):
    try:
        action(a)
    except OSError as e:
        error(f"{action.__name__}: {e}")
    save(a.tallies)


def serve_floods(a):
    while flags["flood"] > 0:
        flags["flood"] -= 1
        act(a, flood)


def main():
    p = argparse.ArgumentParser()
    for flag in ["--tcp", "--tls", "--http", "--admin", "--key", "--tallies"]:
        p.add_argument(flag, required=True)
    p.add_argument("--idle", type=float, required=True)
    p.add_argument("--cycle", type=float, default=10.0)
    a = p.parse_args()
    signal.signal(signal.SIGUSR1, lambda *_: flags.update(flood=flags["flood"] + 1))
    signal.signal(signal.SIGTERM, lambda *_: flags.update(stop=True))
    save(a.tallies)
    first = True
    while first or not flags["stop"]:
        began = time.monotonic()
        for action in CYCLE:
            serve_floods(a)
            act(a, action)
        first = False
        while not flags["stop"] and time.monotonic() - began < a.cycle:
            serve_floods(a)
            time.sleep(0.05)
    serve_floods(a)
    save(a.tallies)


if __name__ == "__main__":
    main()
