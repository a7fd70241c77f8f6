#!/usr/bin/env bash
# `bulwark serve DIR` as an HTTP server: files, index and listing, HEAD, 405, a 256 MiB download
# checksummed, Range (206/416) and conditional requests (304), 1,000 sequential requests on one
# kept-alive connection, pipelining, 1,000 concurrent connections, traversal attempts, and the
# access log.
# Usage: serve_http.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export XDG_DATA_HOME=$tmp/xdg
CA=$XDG_DATA_HOME/bulwark/ca.crt
ulimit -n 8192 2>/dev/null || true

# The site: a page, a 256 MiB file, a directory with an index, one without, a secret outside
# the root and a symlink to it.
root=$tmp/www
mkdir -p "$root/docs" "$root/listed"
echo '<h1>home</h1>' >"$root/index.html"
echo 'docs index' >"$root/docs/index.html"
echo 'plain text' >"$root/listed/notes.txt"
head -c 1000 /dev/urandom >"$root/small.bin"
head -c $((256 << 20)) /dev/urandom >"$root/big.bin"
echo 'root:x:0:0:secret' >"$tmp/secret.txt"
ln -s "$tmp/secret.txt" "$root/escape.txt"
ln -s "$tmp" "$root/escape-dir"

timeout 170 "$bulwark" serve "$root" --listen 127.0.0.1:0 --handshake-rate 0 --access-log "$tmp/access.log" \
  >"$tmp/serve.out" 2>"$tmp/serve.err" &
spid=$!
pids+=("$spid")
port=
for ((i = 0; i < 300; i++)); do
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/serve.err" 2>/dev/null | head -1)
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || {
  echo "FAIL: bulwark serve did not start"
  cat "$tmp/serve.err"
  exit 1
}
base=https://127.0.0.1:$port
get() { curl -sS --max-time 60 --cacert "$CA" "$@"; }
status() { get -o /dev/null -w '%{http_code}' "$@"; }

# --- files, index, listing, HEAD, methods -------------------------------------------------------
[[ $(get "$base/") == '<h1>home</h1>' ]] && ok || bad "GET / serves index.html"
[[ $(get "$base/docs/") == 'docs index' ]] && ok || bad "GET /docs/ serves its index.html"
get "$base/listed/" >"$tmp/listing"
grep -q 'notes.txt' "$tmp/listing" && ok || bad "a directory without index is listed" "$tmp/listing"
get -D "$tmp/h" -o /dev/null "$base/listed/notes.txt"
grep -qi '^content-type: text/plain' "$tmp/h" && ok || bad "text/plain for .txt" "$tmp/h"
get -I "$base/small.bin" >"$tmp/head"
grep -q '^HTTP/1.1 200' "$tmp/head" && grep -qi '^content-length: 1000' "$tmp/head" && ok ||
  bad "HEAD gives the length" "$tmp/head"
[[ $(status -X DELETE "$base/") == 405 ]] && ok || bad "DELETE is 405"
[[ $(status "$base/missing.html") == 404 ]] && ok || bad "missing file is 404"

# --- 256 MiB, checksummed -------------------------------------------------------------------
get "$base/big.bin" -o "$tmp/big.got" -w '%{speed_download}\n' >"$tmp/speed"
[[ $(sha256sum <"$tmp/big.got") == $(sha256sum <"$root/big.bin") ]] && ok ||
  bad "256 MiB download has the same SHA-256" "$tmp/speed"
rm -f "$tmp/big.got"

# --- Range and conditional requests -----------------------------------------------------------
[[ $(get -r 100-199 -o "$tmp/part" -w '%{http_code}' "$base/small.bin") == 206 ]] &&
  cmp -s "$tmp/part" <(tail -c +101 "$root/small.bin" | head -c 100) && ok || bad "Range 100-199 is 206 with those bytes"
[[ $(get -r -10 -o "$tmp/part" -w '%{http_code}' "$base/small.bin") == 206 ]] &&
  cmp -s "$tmp/part" <(tail -c 10 "$root/small.bin") && ok || bad "suffix Range -10 is the last 10 bytes"
[[ $(status -r 5000-6000 "$base/small.bin") == 416 ]] && ok || bad "Range past the end is 416"
get -D "$tmp/h" -o /dev/null "$base/small.bin"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p' "$tmp/h")
modified=$(sed -n 's/^[Ll]ast-[Mm]odified: *\(.*\)\r$/\1/p' "$tmp/h")
[[ -n $etag && -n $modified ]] && ok || bad "ETag and Last-Modified sent" "$tmp/h"
[[ $(status -H "If-None-Match: $etag" "$base/small.bin") == 304 ]] && ok || bad "If-None-Match is 304"
[[ $(status -H "If-Modified-Since: $modified" "$base/small.bin") == 304 ]] && ok || bad "If-Modified-Since is 304"
[[ $(status -H 'If-None-Match: "other"' "$base/small.bin") == 200 ]] && ok || bad "another ETag is 200"

# --- traversal: never outside the root ------------------------------------------------------
for path in /../secret.txt /..%2fsecret.txt /%2e%2e/secret.txt /docs/%2E%2E/%2e%2e/secret.txt \
  /escape.txt /escape-dir/secret.txt '/docs/..%5c..%5csecret.txt'; do
  code=$(get --path-as-is -o "$tmp/trav" -w '%{http_code}' "$base$path")
  if [[ $code != 200 ]] && ! grep -q 'root:x' "$tmp/trav"; then ok; else bad "traversal $path answered $code" "$tmp/trav"; fi
done

# --- keep-alive: 1,000 sequential requests on one connection ----------------------------------
for ((i = 0; i < 1000; i++)); do
  echo "url = \"$base/small.bin?n=$i\""
  echo 'output = "/dev/null"'
done >"$tmp/urls"
get -K "$tmp/urls" -w '%{http_code} %{num_connects}\n' >"$tmp/ka"
[[ $(grep -c '^200 ' "$tmp/ka") -eq 1000 ]] && [[ $(awk '{s += $2} END {print s}' "$tmp/ka") -eq 1 ]] && ok ||
  bad "1,000 requests, all 200, one connection ($(awk '{s += $2} END {print s}' "$tmp/ka") connects)"

# --- pipelining and 1,000 concurrent connections (python's ssl as the client) ---------------
timeout 60 python3 - "$port" "$CA" >"$tmp/py" 2>&1 <<'EOF'
import asyncio, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)

# Pipelining: three requests in one write, three responses in order.
with socket.create_connection(("127.0.0.1", port)) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET /docs/ HTTP/1.1\r\nHost: l\r\n\r\nHEAD / HTTP/1.1\r\nHost: l\r\n\r\n"
                  b"GET / HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n")
        data = b""
        s.settimeout(10)
        while True:
            try:
                chunk = s.recv(65536)
            except ssl.SSLZeroReturnError:
                break
            if not chunk:
                break
            data += chunk
statuses = data.count(b"HTTP/1.1 200 OK")
order = data.find(b"docs index") < data.rfind(b"<h1>home</h1>")
print("pipelined", statuses, order)
assert statuses == 3 and order and data.count(b"<h1>home</h1>") == 1

async def one(i):
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    return r, w

async def main():
    # Open 1,000 connections (in waves, so the accept backlog is not the test), hold them all,
    # then send a request on each and read every answer.
    conns = []
    for start in range(0, 1000, 100):
        conns += await asyncio.gather(*(one(i) for i in range(start, start + 100)))
    async def ask(rw):
        r, w = rw
        w.write(b"GET /listed/notes.txt HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n")
        body = await r.read()
        w.close()
        return body.startswith(b"HTTP/1.1 200 OK") and body.endswith(b"plain text\n")
    results = await asyncio.gather(*(ask(c) for c in conns))
    print("concurrent", len(conns), sum(results))
    assert len(conns) == 1000 and all(results)

asyncio.run(main())
EOF
grep -q '^pipelined 3 True' "$tmp/py" && ok || bad "3 pipelined requests answered in order" "$tmp/py"
grep -q '^concurrent 1000 1000' "$tmp/py" && ok || bad "1,000 concurrent connections served" "$tmp/py"

# --- access log -----------------------------------------------------------------------------
kill -TERM "$spid"
for ((i = 0; i < 200; i++)); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
wait "$spid"
st=$?
[[ $st -eq 0 ]] && ok || bad "SIGTERM: exit 0 (got $st)" "$tmp/serve.err"
grep -q '^127.0.0.1 - - \[.*\] "GET /small.bin?n=999 HTTP/1.1" 200 1000 "-" "curl/' "$tmp/access.log" && ok ||
  bad "access log in combined format" "$tmp/access.log"
[[ $(grep -c '"GET /listed/notes.txt HTTP/1.1" 200' "$tmp/access.log") -ge 1000 ]] && ok ||
  bad "every concurrent request logged"

summary serve_http
