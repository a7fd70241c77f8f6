#!/usr/bin/env bash
# Profile-guided optimisation, the training run (see docs/DECISIONS.md): runs the instrumented
# `bulwark` ($1) through the work it is built for, on 127.0.0.1 only, so that GCC's profile
# data says which code is hot. $2 is the BULWARK_PGO_DIR the binary was built with (the
# instrumented code writes there, whatever this script is told): cleared first, checked last.
# `make build` calls it between the instrumented build and the release build (~15 s).
#
#   bulwark serve with an ECDSA P-256 certificate, as a user runs it, and against it:
#     openssl s_time -new         full TLS 1.3 handshakes, no request (4 s)
#     openssl s_time -reuse       TLS 1.2 full and resumed handshakes, a GET each (1 s)
#     wrk, keep-alive             1 KiB files (3 s) and 1 MiB files (1 s)
#     curl                        small, missing and index files, one connection
#     bulwark get                 the client side: verification, resumption with --session
# The proportions matter: GCC optimises for size what the profile says is rarely run.
set -euo pipefail
bulwark=$1
data=$2
[[ -x $bulwark ]] || {
  echo "pgo-train: no instrumented binary at $bulwark" >&2
  exit 1
}
mkdir -p "$data"
rm -f "$data"/*.gcda

work=$(mktemp -d)
server=
cleanup() {
  if [[ -n $server ]]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 1048576 /dev/urandom >"$work/www/1m.bin"
echo '<!doctype html><title>bulwark</title><p>training' >"$work/www/index.html"

# Port 0: the kernel picks a free port, which serve reports on stderr ("listening on ...").
"$bulwark" serve "$work/www" --listen 127.0.0.1:0 --cert "$work/cert.pem" \
  --key "$work/key.pem" --workers 1 --handshake-rate 0 2>"$work/serve.err" &
server=$!
port=
for ((i = 0; i < 200; i++)); do
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.err" | head -1)
  [[ -z $port ]] && kill -0 "$server" 2>/dev/null || break
  sleep 0.05
done
[[ -n $port ]] || {
  echo "pgo-train: bulwark serve did not start: $(cat "$work/serve.err")" >&2
  exit 1
}

url=https://127.0.0.1:$port
timeout 30 openssl s_time -connect "127.0.0.1:$port" -new -time 4 >/dev/null 2>&1
timeout 30 openssl s_time -connect "127.0.0.1:$port" -reuse -tls1_2 -www /1k.bin -time 1 \
  >/dev/null 2>&1
timeout 30 wrk -t1 -c16 -d3s "$url/1k.bin" >/dev/null
timeout 30 wrk -t1 -c4 -d1s "$url/1m.bin" >/dev/null
urls=()
for ((i = 0; i < 20; i++)); do urls+=("$url/1k.bin" "$url/" "$url/missing"); done
timeout 60 curl -s --http1.1 --cacert "$work/cert.pem" "${urls[@]}" >/dev/null
for ((i = 0; i < 20; i++)); do
  timeout 30 "$bulwark" get -s --cacert "$work/cert.pem" --session "$work/session" \
    -o "$work/got" "$url/1k.bin"
done
cmp -s "$work/got" "$work/www/1k.bin" || {
  echo "pgo-train: bulwark get did not fetch the file it was asked for" >&2
  exit 1
}

# The profile is written when the server exits (gracefully, on SIGTERM).
kill -TERM "$server"
wait "$server" || {
  echo "pgo-train: bulwark serve did not exit cleanly: $(cat "$work/serve.err")" >&2
  exit 1
}
server=
count=$(find "$data" -name '*.gcda' | wc -l)
((count > 0)) || {
  echo "pgo-train: no profile data in $data" >&2
  exit 1
}
echo "pgo-train: profile of $count object files in $data"
