"""Writes the soak's bad input: frames of every bad kind, and with BAD_PERCENT = 100 nothing else
(loadgen's synthetic NSS source supplies the good records, with ids that do not repeat within
ztel's de-duplication window).

    python3 perf/soak_mix.py OUT LINES BAD_PERCENT
"""
import random
import sys

out, lines, bad = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = random.Random(7)
SITES = ["www.office.com", "mail.google.com", "github.com", "slack.com", "update.googleapis.com"]


def good(i):
    site = rng.choice(SITES)
    return (
        '{"sourcetype":"zscalernss-web","event":{"epochtime":"%d","recordid":"%d",'
        '"elogin":"user%d@corp.example","proto":"HTTPS","eurl":"%s/path/%d?q=%d",'
        '"ehost":"%s","action":"Allowed","reqmethod":"GET","respcode":"200",'
        '"reqsize":"%d","respsize":"%d","cip":"10.1.%d.%d","sip":"203.0.113.%d",'
        '"urlcat":"Web Search","deviceowner":"user%d","devicehostname":"LAPTOP-%04d",'
        '"eua":"Mozilla/5.0%%20(Windows%%20NT%%2010.0)","ereferer":"None","elocation":"HQ"}}'
        % (1763800000 + i // 100, 9000000000 + i, i % 500, site, i, i, site,
           200 + i % 3000, 500 + i % 90000, (i // 250) % 250, i % 250, i % 250,
           i % 500, i % 1000)
    ).encode()


BAD = [
    lambda i: b'{"sourcetype":"zscalernss-web","event":{"cip":"10.0.0.1"',  # truncated JSON
    lambda i: b"Mon Oct 02 16:21:40 UTC 2017 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|",  # not JSON
    lambda i: b'{"sourcetype":"zscalernss-fw","event":{"recordid":"%d"}}' % i,  # unknown type
    lambda i: b'{"sourcetype":"zscalernss-web","event":{"cip":"10.0.0.1","eurl":"a\xff"}}',  # UTF-8
]
# One oversize line (> 256 KiB, skipped and counted) every 10,000 lines keeps the file small.
OVERSIZE = b'{"pad":"' + b"x" * 300000 + b'"}\n'


with open(out, "wb") as f:
    for i in range(lines):
        if i % 10000 == 9999:
            f.write(OVERSIZE)
        elif rng.random() * 100 < bad:
            f.write(rng.choice(BAD)(i) + b"\n")
        else:
            f.write(good(i) + b"\n")
