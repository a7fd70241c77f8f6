#!/usr/bin/env bash
# `bulwark proxy` with curl as the client: through the proxy to a `bulwark serve` upstream and
# to an `openssl s_server -WWW` upstream (content identical, keep-alive, the certificate curl
# sees issued by the proxy CA for the upstream's names); upstream verification (wrong name,
# unknown CA -> 502 with the reason in the body and the log; --upstream-insecure); passthrough
# (curl sees the upstream's own certificate); a plain-HTTP absolute-form request; 200
# concurrent CONNECT tunnels with keep-alive requests; the limits on tunnels in their
# handshakes (503) and on new connections per source, each logged once.
# Usage: proxy.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export XDG_DATA_HOME=$tmp/xdg

# The upstream CA and its localhost certificate; the proxy's own CA.
"$bulwark" ca init "$tmp/up" --name "upstream test CA" >/dev/null 2>&1 || bad "ca init up"
"$bulwark" ca init "$tmp/pca" --name "proxy test CA" >/dev/null 2>&1 || bad "ca init pca"
"$bulwark" ca issue "$tmp/up" --name localhost --out "$tmp/srv" >/dev/null 2>&1 || bad "ca issue"
mkdir -p "$tmp/www"
echo "hello through the proxy" >"$tmp/www/index.html"
head -c 3000000 /dev/urandom >"$tmp/www/big.bin"
echo "small" >"$tmp/www/small.txt"

# --- upstreams -------------------------------------------------------------------------------
sport=$(free_port)
timeout -k 3 110 "$bulwark" serve "$tmp/www" --listen "127.0.0.1:$sport" --cert "$tmp/srv.crt" \
  --key "$tmp/srv.key" --handshake-rate 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
wait_port "$sport" || bad "bulwark serve did not start" "$tmp/serve.err"
oport=$(free_port)
(cd "$tmp/www" && exec timeout -k 3 110 openssl s_server -quiet -WWW -accept "127.0.0.1:$oport" \
  -cert "$tmp/srv.crt" -key "$tmp/srv.key") <"$tmp/hold" >"$tmp/ossl.out" 2>"$tmp/ossl.err" &
pids+=($!)
wait_port "$oport" || bad "openssl s_server did not start" "$tmp/ossl.err"
hport=$(free_port)
(cd "$tmp/www" && exec timeout -k 3 110 python3 -m http.server --bind 127.0.0.1 "$hport") \
  >"$tmp/http.out" 2>&1 &
pids+=($!)
wait_port "$hport" || bad "python http.server did not start" "$tmp/http.out"


# --- verified interception -------------------------------------------------------------------
proxy_bg main --upstream-cacert "$tmp/up/ca.crt"
grep -q "curl --cacert $tmp/pca/ca.crt" "$tmp/main.err" && ok || bad "proxy says how to trust its CA" "$tmp/main.err"

for up in "serve:$sport" "s_server:$oport"; do
  name=${up%%:*}
  port=${up##*:}
  # Two downloads on one curl: the second reuses the tunnel (keep-alive).
  if pcurl "https://localhost:$port/big.bin" "https://localhost:$port/index.html" \
    -o "$tmp/$name.big" -o "$tmp/$name.index" -v 2>"$tmp/$name.v" &&
    cmp -s "$tmp/$name.big" "$tmp/www/big.bin" && cmp -s "$tmp/$name.index" "$tmp/www/index.html"; then
    ok
  else
    bad "$name: content through the proxy" "$tmp/$name.v" "$tmp/main.err"
  fi
  grep -q 'issuer: CN=proxy test CA' "$tmp/$name.v" && ok || bad "$name: minted by the proxy CA" "$tmp/$name.v"
  grep -q 'subjectAltName: host "localhost" matched' "$tmp/$name.v" && ok ||
    bad "$name: minted for the upstream's name" "$tmp/$name.v"
  # openssl s_server -WWW answers HTTP/1.0 and closes; bulwark serve keeps the connection.
  if [[ $name == serve ]]; then
    grep -q "Re-using existing connection" "$tmp/$name.v" && ok || bad "$name: keep-alive" "$tmp/$name.v"
  fi
done

# --- refused upstreams: 502 with the reason in the body and in the log -------------------------
# raw_connect AUTHORITY: what the proxy answers a CONNECT (curl does not print a refusal's body).
raw_connect() {
  timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (sys.argv[2], sys.argv[2])).encode())
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
sys.stdout.write(data.decode())' "$pport" "$1"
}
pcurl "https://127.0.0.1:$sport/" -o /dev/null 2>"$tmp/wrong.err"
st=$?
[[ $st -eq 56 ]] && grep -q "CONNECT tunnel failed, response 502" "$tmp/wrong.err" && ok ||
  bad "wrong name: curl sees 502 (status $st)" "$tmp/wrong.err"
raw_connect "127.0.0.1:$sport" >"$tmp/wrong.raw"
grep -q '^HTTP/1.1 502 Bad Gateway' "$tmp/wrong.raw" && grep -q 'cert_hostname_mismatch' "$tmp/wrong.raw" && ok ||
  bad "wrong name: 502 body names the reason" "$tmp/wrong.raw"
grep -q '502 .*cert_hostname_mismatch' "$tmp/main.err" && ok || bad "wrong name: logged" "$tmp/main.err"

# Unknown CA: the system store does not know the upstream CA.
proxy_bg system
raw_connect "localhost:$sport" >"$tmp/unknown.raw"
grep -q '^HTTP/1.1 502' "$tmp/unknown.raw" && grep -q 'cert_unknown_ca' "$tmp/unknown.raw" && ok ||
  bad "unknown CA: 502 naming it" "$tmp/unknown.raw" "$tmp/system.err"

# A closed port: 502 naming the connection failure.
dead=$(free_port)
raw_connect "localhost:$dead" >"$tmp/dead.raw"
grep -q '^HTTP/1.1 502' "$tmp/dead.raw" && grep -q 'cannot connect' "$tmp/dead.raw" && ok ||
  bad "closed port: 502" "$tmp/dead.raw"

# --upstream-insecure is the explicit way round: the minted leaf then names what curl asked for.
proxy_bg insecure --upstream-insecure
grep -q 'DISABLED' "$tmp/insecure.err" && ok || bad "--upstream-insecure is announced" "$tmp/insecure.err"
if pcurl "https://127.0.0.1:$sport/index.html" -o "$tmp/insecure.index" 2>"$tmp/insecure.curl" &&
  cmp -s "$tmp/insecure.index" "$tmp/www/index.html"; then ok; else
  bad "--upstream-insecure: wrong-name upstream reached" "$tmp/insecure.curl" "$tmp/insecure.err"
fi

# --- passthrough: curl sees the upstream's own certificate -----------------------------------
proxy_bg pass --upstream-cacert "$tmp/up/ca.crt" --passthrough localhost
if curl -sS --max-time 20 -x "http://127.0.0.1:$pport" --cacert "$tmp/up/ca.crt" -v \
  "https://localhost:$sport/index.html" -o "$tmp/pass.index" 2>"$tmp/pass.v" &&
  cmp -s "$tmp/pass.index" "$tmp/www/index.html" && grep -q 'issuer: CN=upstream test CA' "$tmp/pass.v"; then
  ok
else
  bad "passthrough shows the upstream certificate" "$tmp/pass.v" "$tmp/pass.err"
fi

# --- plain HTTP in absolute form ---------------------------------------------------------------
if curl -sS --max-time 20 -x "http://127.0.0.1:$pport" "http://127.0.0.1:$hport/small.txt" \
  -o "$tmp/plain.txt" 2>"$tmp/plain.err" && cmp -s "$tmp/plain.txt" "$tmp/www/small.txt"; then ok; else
  bad "plain http:// through the proxy" "$tmp/plain.err" "$tmp/pass.err"
fi

# --- 200 concurrent CONNECT tunnels, two keep-alive requests each ------------------------------
urls=()
for ((i = 0; i < 400; i++)); do urls+=(-o /dev/null "https://localhost:$sport/small.txt?n=$i"); done
pport_main=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/main.err" | head -1)
curl -s --max-time 60 -x "http://127.0.0.1:$pport_main" --cacert "$tmp/pca/ca.crt" \
  --parallel --parallel-immediate --parallel-max 200 -w '%{http_code} %{num_connects} %{size_download}\n' \
  "${urls[@]}" >"$tmp/many.out" 2>"$tmp/many.err"
codes=$(grep -c '^200 ' "$tmp/many.out")
fresh=$(awk '$2 == 1' "$tmp/many.out" | wc -l)
sizes=$(awk '$3 != 6' "$tmp/many.out" | wc -l)
if [[ $codes -eq 400 && $sizes -eq 0 && $fresh -ge 150 && $fresh -lt 400 ]]; then ok; else
  echo "200 OK: $codes, new tunnels: $fresh, wrong sizes: $sizes"
  bad "200 concurrent tunnels" "$tmp/many.out" "$tmp/main.err"
fi

# --- limits: tunnels in their handshakes, and new connections per source; each logged once ---
proxy_bg limits --upstream-cacert "$tmp/up/ca.crt" --max-handshakes 1 --connection-rate 5 \
  --handshake-timeout 4
# An upstream that accepts and never answers holds the only handshake place until the limit.
silent=$(free_port)
timeout -k 3 60 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])' "$silent" >/dev/null 2>&1 &
pids+=($!)
wait_port "$silent" || bad "silent upstream did not start"
pcurl "https://localhost:$silent/" -o /dev/null 2>"$tmp/held.err" &
held_curl=$!
sleep 1
pcurl "https://localhost:$sport/index.html" -o /dev/null 2>"$tmp/busy.err"
if grep -q 'response 503' "$tmp/busy.err" &&
  [[ $(grep -c 'handshake limit reached (1 tunnels' "$tmp/limits.err") -eq 1 ]]; then ok; else
  bad "a second tunnel while one is in its handshake: 503, logged once" "$tmp/busy.err" "$tmp/limits.err"
fi
wait "$held_curl"
grep -q 'response 504' "$tmp/held.err" && ok || bad "the silent upstream: 504 after the handshake limit" "$tmp/held.err"
# 25 new connections at once from one address: the bucket holds 10, refills 5 a second.
served=0
for ((i = 0; i < 25; i++)); do
  curl -s --max-time 5 -x "http://127.0.0.1:$pport" "http://127.0.0.1:$hport/small.txt" \
    -o /dev/null -w '%{http_code}\n' >>"$tmp/rate.out" 2>/dev/null
done
served=$(grep -c '^200$' "$tmp/rate.out")
if [[ $served -ge 8 && $served -le 20 ]] &&
  [[ $(grep -c 'connection rate limit reached by 127.0.0.1 (5 new connections/s' "$tmp/limits.err") -eq 1 ]]; then
  ok
else
  echo "served $served of 25"
  bad "per-source connection rate: some refused, logged once" "$tmp/rate.out" "$tmp/limits.err"
fi

summary proxy.sh
