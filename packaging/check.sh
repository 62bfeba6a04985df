#!/usr/bin/env bash
# Checks a ztel .deb: what it holds, then installs it and checks what it laid down: the config
# passes `ztel config check`, systemd-analyze verifies the unit unchanged, the service is not
# enabled, the installed ztel serves and ztel-loadgen runs; then purges it and checks that it is
# gone. test.sh runs it on a package of the dev build; by hand, on the release package:
#     cargo deb -p ztel && packaging/check.sh target/debian/ztel_*.deb
# Installing needs root (or sudo). Without either the contents are checked and the rest skips,
# unless CI is set: then it fails. It will not replace a ztel that is in use on this machine (its
# config edited, or its service enabled).
set -euo pipefail
deb=${1:?usage: packaging/check.sh FILE.deb}
fail() { echo "packaging/check.sh: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
[ -f "$deb" ] || fail "$deb: no such file"

# What the package holds: path and mode.
listing=$(dpkg-deb -c "$deb" | awk '{ sub(/^\./, "", $6); print $1, $6 }')
for want in \
    "-rwxr-xr-x /usr/bin/ztel" \
    "-rwxr-xr-x /usr/bin/ztel-loadgen" \
    "-rw-r--r-- /etc/ztel/ztel.toml" \
    "-rw-r--r-- /usr/lib/systemd/system/ztel.service" \
    "-rw-r--r-- /usr/share/doc/ztel/README.md" \
    "-rw-r--r-- /usr/share/doc/ztel/README.Debian" \
    "-rw-r--r-- /usr/share/doc/ztel/copyright"; do
    grep -qxF -- "$want" <<<"$listing" || fail "$deb lacks $want; it holds:"$'\n'"$listing"
done
# Upgrades must keep the operator's edits.
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/ztel/ztel.toml ] || fail "/etc/ztel/ztel.toml is not the conffile"
# Installed, never started: the default allow-lists admit loopback only (packaging/ztel.service).
if dpkg-deb -I "$deb" postinst | grep -Eq 'deb-systemd-invoke (start|restart) |systemctl .*(start|enable)'; then
    fail "the postinst starts or enables ztel.service"
fi
echo "packaging/check.sh: $deb holds what it should"

if ! as_root true 2>/dev/null; then
    [ -z "${CI:-}" ] || fail "installing needs root or sudo (CI is set, so this fails)"
    echo "packaging/check.sh: not root and no sudo: the install checks skip" >&2
    exit 0
fi
if dpkg-query -W -f='${db:Status-Status}' ztel 2>/dev/null | grep -qx installed; then
    if dpkg --verify ztel | grep -q ' c /etc/ztel/' \
        || [ -e /etc/systemd/system/multi-user.target.wants/ztel.service ]; then
        fail "ztel is installed here and in use (config edited or service enabled): not replacing it"
    fi
fi
tmp=$(mktemp -d)
serving=
cleanup() {
    [ -z "$serving" ] || kill "$serving" 2>/dev/null || true
    as_root dpkg --purge ztel >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
as_root env DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >/dev/null

/usr/bin/ztel config check /etc/ztel/ztel.toml >/dev/null || fail "the packaged config does not pass ztel config check"
# /lib/systemd/system is /usr/lib/systemd/system on merged-/usr systems (every Debian since 12).
# verify exits 0 on unknown keys and bad values, which it only reports: any word from it fails.
said=$(systemd-analyze verify /lib/systemd/system/ztel.service 2>&1) || fail "systemd-analyze verify: $said"
[ -z "$said" ] || fail "systemd-analyze verify: $said"
[ ! -e /etc/systemd/system/multi-user.target.wants/ztel.service ] || fail "installing enabled ztel.service"
/usr/bin/ztel-loadgen --help >/dev/null || fail "ztel-loadgen --help failed"

# The installed collector serves, on loopback ports of its own (1514 may be taken here).
/usr/bin/ztel serve --config /etc/ztel/ztel.toml --data-dir "$tmp/data" --shards 1 \
    --tcp 127.0.0.1:0 --udp 127.0.0.1:0 --admin 127.0.0.1:0 2>"$tmp/stderr" &
serving=$!
for _ in $(seq 200); do
    grep -q '^ztel: listening tcp ' "$tmp/stderr" && break
    kill -0 "$serving" 2>/dev/null || fail "the installed ztel serve exited: $(cat "$tmp/stderr")"
    sleep 0.05
done
grep -q '^ztel: listening tcp ' "$tmp/stderr" || fail "the installed ztel serve did not listen in 10 s: $(cat "$tmp/stderr")"
kill -TERM "$serving"
wait "$serving" || fail "the installed ztel serve did not drain cleanly: $(cat "$tmp/stderr")"
serving=

as_root dpkg --purge ztel >/dev/null
for gone in /usr/bin/ztel /usr/bin/ztel-loadgen /etc/ztel /usr/lib/systemd/system/ztel.service; do
    [ ! -e "$gone" ] || fail "$gone is still there after dpkg --purge"
done
echo "packaging/check.sh: installed, checked and purged $deb"
