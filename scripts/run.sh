#!/usr/bin/env bash
# `make run`: the main job. Until `bulwark serve` exists, it sets up the local CA and the
# localhost certificate the server will use, then shows and verifies them with bulwark.
set -euo pipefail
bulwark=${1:-build/release/bulwark}
data=${BULWARK_RUN_DIR:-build/run}

echo "== bulwark $("$bulwark" --version | awk '{print $2}'): local CA and localhost certificate in $data"
if [[ ! -f "$data/ca/ca.key" ]]; then
  "$bulwark" ca init "$data/ca" --name "bulwark local CA"
fi
"$bulwark" ca issue "$data/ca" --name localhost --ip 127.0.0.1 --ip ::1 --out "$data/localhost"
echo
echo "== the certificate"
"$bulwark" cert show "$data/localhost.crt"
echo
echo "== verified as a TLS client would (chain, validity, purpose, host name)"
"$bulwark" cert verify "$data/localhost.crt" --cacert "$data/ca/ca.crt" --name localhost
"$bulwark" cert verify "$data/localhost.crt" --cacert "$data/ca/ca.crt" --name 127.0.0.1
echo
echo "== and refused for another name, as every bulwark client will refuse it"
if "$bulwark" cert verify "$data/localhost.crt" --cacert "$data/ca/ca.crt" --name www.example.org; then
  echo "unexpected: a wrong host name was accepted" >&2
  exit 1
fi
echo
echo "== a TLS connection with that certificate: bulwark listen (echo) <-> bulwark connect"
log=$(mktemp)
"$bulwark" listen 127.0.0.1:0 --cert "$data/localhost.crt" --key "$data/localhost.key" --echo \
  --once --timeout 20 -v 2>"$log" >/dev/null &
listener=$!
trap 'kill "$listener" 2>/dev/null; rm -f "$log"' EXIT
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$log" | head -1)
  [[ -n "$port" ]] && break
  sleep 0.05
done
[[ -n "$port" ]] || { echo "bulwark listen did not start:" >&2; cat "$log" >&2; exit 1; }
echo "hello over TLS, verified end to end" |
  timeout 20 "$bulwark" connect "localhost:$port" --cacert "$data/ca/ca.crt" -v
wait "$listener" || true
sed 's/^/listen: /' "$log"
echo
echo "bulwark serve is not built yet: when it lands, 'make run' starts https://127.0.0.1:8443"
echo "with this certificate, and 'curl --cacert $data/ca/ca.crt https://127.0.0.1:8443/' fetches the page."
