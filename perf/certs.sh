#!/usr/bin/env bash
# Makes a throwaway CA and a server certificate for localhost and 127.0.0.1 signed by it, for the
# TLS input of a perf run: DIR/ca.pem (what loadgen --ca trusts), DIR/server.pem and
# DIR/server.key (what [input.tls] cert and key name). Valid for a day.
#
#   perf/certs.sh DIR
set -euo pipefail
DIR=${1:?usage: perf/certs.sh DIR}
command -v openssl > /dev/null ||
    { echo "certs.sh: openssl is needed (apt-get install openssl)" >&2; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=ztel perf CA" -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
    -keyout "$DIR/server.key" -out "$DIR/server.csr" 2> /dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$DIR/san.ext"
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
    -CAcreateserial -days 1 -extfile "$DIR/san.ext" -out "$DIR/server.pem" 2> /dev/null
