"""The soak's frame-level bad input (DESIGN §6), and the good NSS records its helpers send.

    python3 perf/soak_mix.py OUT LINES MAX_FRAME_BYTES

writes OUT: LINES lines (a multiple of 4) that cycle through the four frame-level classes, for
loadgen to replay on a connection of its own (loadgen adds each line's LF):

    malformed_json     an NSS record cut short                  -> dead letter malformed_json
    non_utf8           an NSS record with bytes that are no UTF-8 -> dead letter invalid_utf8
    oversize           a line over MAX_FRAME_BYTES               -> oversize_frames, skipped
    lying_octet_count  "N record" with N short of the record by its last 2 bytes: the count's
                       N bytes are one frame (malformed_json) and the rest up to the LF (`}}`)
                       another (unknown_format)

Line i of the file is of class i % 4, and loadgen starts each run at line 0 and loops, so the
first E events of a run hold `per_class(E)` of each (soak_check.py counts with it).
"""
import sys

CLASSES = ["malformed_json", "non_utf8", "oversize", "lying_octet_count"]
# What each class leaves in ztel's counters, per line sent (soak_check.py checks them).
COUNTERS = {
    "malformed_json": {"dead_malformed_json": 1},
    "non_utf8": {"dead_invalid_utf8": 1},
    "oversize": {"oversize_frames": 1},
    "lying_octet_count": {"dead_malformed_json": 1, "dead_unknown_format": 1},
}
# Frames ztel sees per line sent: an oversize line is skipped, not a frame; a lying count makes
# two.
FRAMES = {"malformed_json": 1, "non_utf8": 1, "oversize": 0, "lying_octet_count": 2}

SITES = ["www.office.com", "mail.google.com", "github.com", "slack.com", "update.googleapis.com"]


def record(i, host_prefix="SOAK-PC"):
    """A good NSS web record in ztel's feed format, its record id unique for each `i` (and far
    from loadgen's, which start at 7.3e18)."""
    site = SITES[i % len(SITES)]
    return (
        '{"sourcetype":"zscalernss-web","event":{"epochtime":"%d","recordid":"%d",'
        '"elogin":"soak%d@corp.example","proto":"HTTPS","eurl":"%s/path/%d",'
        '"ehost":"%s","action":"Allowed","reqmethod":"GET","respcode":"200",'
        '"reqsize":"%d","respsize":"%d","cip":"10.250.%d.%d","sip":"203.0.113.%d",'
        '"urlcat":"Web Search","deviceowner":"soak%d","devicehostname":"%s-%04d",'
        '"eua":"Mozilla/5.0%%20(Windows%%20NT%%2010.0)","ereferer":"None","elocation":"HQ"}}'
        % (1763800000 + i // 100, 9000000000 + i, i % 50, site, i, site,
           200 + i % 3000, 500 + i % 90000, (i // 250) % 250, i % 250, i % 250,
           i % 50, host_prefix, i % 200)
    ).encode()


def bad_line(cls, i, max_frame):
    rec = record(i, "SOAK-BAD")
    if cls == "malformed_json":
        return rec[: len(rec) // 2]
    if cls == "non_utf8":
        return rec.replace(b'"eurl":"', b'"eurl":"\xff\xfe', 1)
    if cls == "oversize":
        return b'{"sourcetype":"zscalernss-web","pad":"' + b"x" * (max_frame + 1000) + b'"}'
    if cls == "lying_octet_count":
        return b"%d " % (len(rec) - 2) + rec
    raise ValueError(cls)


def per_class(events):
    """How many lines of each class the first `events` lines of a run are."""
    return {c: (events - k + len(CLASSES) - 1) // len(CLASSES) for k, c in enumerate(CLASSES)}


def main():
    out, lines, max_frame = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if lines % len(CLASSES):
        sys.exit(f"soak_mix.py: LINES must be a multiple of {len(CLASSES)}")
    with open(out, "wb") as f:
        for i in range(lines):
            f.write(bad_line(CLASSES[i % len(CLASSES)], i, max_frame) + b"\n")


if __name__ == "__main__":
    main()
