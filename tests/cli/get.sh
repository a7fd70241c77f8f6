#!/usr/bin/env bash
# `bulwark get` as a command: downloads from openssl s_server -WWW (TLS 1.3 and 1.2, 64 MiB
# checksummed), -o/-O/-I/-H/-L, --session resumption, --resolve, --cacert, the man-in-the-middle
# experiment, --insecure, truncation (no close_notify), connect failures, --max-time, --fail,
# plain http://, IPv6, and every exit status on the way. A small python3 `ssl` server plays the
# misbehaving HTTPS servers (it never sends close_notify, as Python's ssl module does not).
# Usage: get.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# get STATUS DESCRIPTION ARGS...: runs bulwark get ARGS (stdout in $tmp/out, stderr in
# $tmp/err) and checks its exit status; returns 1 (after reporting) when it differs.
get() {
  local want=$1 what=$2
  shift 2
  timeout 60 "$bulwark" get "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [[ $rc -ne $want ]]; then
    bad "$what (exit $rc, want $want)" "$tmp/err"
    return 1
  fi
  return 0
}
# expect_err PATTERN DESCRIPTION: stderr of the last get matches PATTERN.
expect_err() {
  if grep -q -- "$1" "$tmp/err"; then ok; else bad "$2: stderr lacks '$1'" "$tmp/err"; fi
}
# one_line DESCRIPTION: the last get's stderr is exactly one line.
one_line() {
  if [[ $(wc -l <"$tmp/err") -eq 1 ]]; then ok; else bad "$1: stderr is not one line" "$tmp/err"; fi
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- PKI and content -----------------------------------------------------------------------
"$bulwark" ca init "$tmp/ca" >/dev/null 2>&1 &&
  "$bulwark" ca issue "$tmp/ca" --name localhost --ip 127.0.0.1 --ip ::1 --out "$tmp/srv" >/dev/null &&
  "$bulwark" ca issue "$tmp/ca" --name www.example.org --out "$tmp/mitm" >/dev/null || {
  echo "FAIL: cannot make the test certificates"
  exit 1
}
CA=$tmp/ca/ca.crt
mkdir -p "$tmp/www/sub"
head -c $((64 << 20)) /dev/urandom >"$tmp/www/big.bin"
head -c 100000 /dev/urandom >"$tmp/www/small.bin"
echo "hello from the test server" >"$tmp/www/small.txt"
cp "$tmp/www/small.txt" "$tmp/www/sub/index.txt"

# s_server NAME CERT ARGS...: openssl s_server -WWW serving $tmp/www on a free port $sport.
s_server() {  # s_server NAME CERT [ARGS...]: on $PORT, else a free port; $sport, $spid
  local name=$1 cert=$2
  shift 2
  sport=${PORT:-$(free_port)}
  (cd "$tmp/www" && exec timeout -k 3 120 openssl s_server -quiet -WWW -accept "127.0.0.1:$sport" \
    -cert "$tmp/$cert.crt" -key "$tmp/$cert.key" "$@") <"$tmp/hold" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  spid=$!
  pids+=("$spid")
  wait_port "$sport" || bad "s_server $name did not start" "$tmp/$name.err"
}

# --- help and usage errors (status 2) ------------------------------------------------------
if "$bulwark" get --help >"$tmp/out" 2>&1 && grep -q -- '--max-time' "$tmp/out" &&
  grep -q '  60  the server.s certificate did not verify' "$tmp/out" &&
  grep -q '  56  truncation' "$tmp/out"; then ok; else bad "get --help lists options and exit statuses" "$tmp/out"; fi
get 2 "malformed URL" 'https://[::1/' && expect_err "no ']'" "malformed URL"
get 2 "credentials in the URL" https://user:pw@example.org/ &&
  expect_err 'credentials in a URL are not supported' "credentials in the URL"
get 2 "unsupported scheme" ftp://example.org/ && expect_err "unsupported URL scheme 'ftp'" "ftp"
get 2 "bad -H" https://127.0.0.1:1/ -H 'X-Bad: a'$'\r''Injected: 1' &&
  expect_err 'control characters' "bad -H"
get 2 "bad --resolve" https://127.0.0.1:1/ --resolve example.org:443 && expect_err 'HOST:PORT:ADDR' "bad --resolve"
get 2 "--insecure with --cacert" https://127.0.0.1:1/ --insecure --cacert "$CA" && expect_err 'contradict' "--insecure --cacert"
get 2 "--cert without --key" https://127.0.0.1:1/ --cert "$tmp/srv.crt" && expect_err 'go together' "--cert alone"
get 2 "-o with -O" https://127.0.0.1:1/x -o a -O && expect_err 'exclude each other' "-o -O"
get 2 "-O without a file name" https://127.0.0.1:1/ -O && expect_err 'names no file' "-O /"
get 2 "--tls-min 1.0" https://127.0.0.1:1/ --tls-min 1.0 && expect_err 'RFC 8996' "--tls-min 1.0"
get 77 "missing --cacert" https://127.0.0.1:1/ --cacert "$tmp/nope.pem" && one_line "missing --cacert"

# --- downloads from openssl s_server -WWW, TLS 1.3 and 1.2 ------------------------------------
big_sha=$(sha "$tmp/www/big.bin")
for version in -tls1_3 -tls1_2; do
  s_server "www$version" srv "$version"
  if get 0 "64 MiB over $version to -o" "https://127.0.0.1:$sport/big.bin" --cacert "$CA" -o "$tmp/big.out" -v; then
    [[ $(sha "$tmp/big.out") == "$big_sha" ]] && ok || bad "64 MiB over $version: checksum differs"
    want=TLSv1.3
    [[ $version == -tls1_2 ]] && want=TLSv1.2
    expect_err "^\* TLS: $want " "-v names the version ($version)"
    expect_err '^\* verification: OK (chain and host name)' "-v verification ($version)"
    expect_err '^\*    names: DNS:localhost, IP:127.0.0.1, IP:::1' "-v shows the SANs ($version)"
    expect_err '^\*    valid: .* to .*Z$' "-v shows the validity ($version)"
    expect_err '^> GET /big.bin HTTP/1.1' "-v shows the request ($version)"
    expect_err '^< HTTP/1.0 200 ok' "-v shows the response head ($version)"
  fi
  if get 0 "small file to stdout over $version" "https://localhost:$sport/small.bin" --cacert "$CA"; then
    cmp -s "$tmp/out" "$tmp/www/small.bin" && ok || bad "stdout content over $version"
    [[ ! -s $tmp/err ]] && ok || bad "a quiet success prints nothing on stderr ($version)" "$tmp/err"
  fi
  # --session: the second and third runs resume with what the previous one saved.
  rm -f "$tmp/sess"
  get 0 "--session first run ($version)" "https://localhost:$sport/small.txt" --cacert "$CA" --session "$tmp/sess" -v &&
    expect_err '^\* resumed: no' "--session first run ($version)"
  [[ -f $tmp/sess && $(stat -c %a "$tmp/sess") == 600 ]] && ok || bad "--session file has mode 0600 ($version)"
  for run in 2 3; do
    get 0 "--session run $run ($version)" "https://localhost:$sport/small.txt" --cacert "$CA" --session "$tmp/sess" -v &&
      expect_err '^\* resumed: yes' "--session run $run resumes ($version)"
  done
  cmp -s "$tmp/out" "$tmp/www/small.txt" && ok || bad "resumed download content ($version)"
  kill "$spid"
done
# A damaged session file is not fatal: a full handshake, then a fresh file that resumes.
s_server sess srv
get 0 "--session to damage" "https://localhost:$sport/small.txt" --cacert "$CA" --session "$tmp/sess"
# Flip every bit of byte 40 (writing a fixed value left the file intact when it held that value).
byte=$(od -An -tu1 -j40 -N1 "$tmp/sess" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 0xff)))" | dd of="$tmp/sess" bs=1 seek=40 conv=notrunc 2>/dev/null
get 0 "damaged --session file" "https://localhost:$sport/small.txt" --cacert "$CA" --session "$tmp/sess" -v &&
  expect_err 'checksum mismatch (starting a new session)' "damaged --session file" &&
  expect_err '^\* resumed: no' "damaged --session file: full handshake"
get 0 "--session after a damaged file" "https://localhost:$sport/small.txt" --cacert "$CA" --session "$tmp/sess" -v &&
  expect_err '^\* resumed: yes' "the file saved after a damaged one resumes"
# A file that is not a session file is left alone, never overwritten.
echo "precious notes" >"$tmp/notes"
get 0 "--session on a foreign file" "https://localhost:$sport/small.txt" --cacert "$CA" --session "$tmp/notes" &&
  expect_err 'not a bulwark session file (left untouched)' "--session on a foreign file"
[[ $(cat "$tmp/notes") == "precious notes" ]] && ok || bad "a foreign --session file was overwritten"

# --trace: the handshake as a flow with directions, sizes and timings.
get 0 "--trace" "https://localhost:$sport/small.txt" --cacert "$CA" --trace &&
  expect_err '^trace: *[0-9.]* ms  client -> server  client_hello  *[0-9]* bytes' "--trace client_hello" &&
  expect_err '^trace: *[0-9.]* ms  client <- server  server_hello' "--trace server_hello" &&
  expect_err 'client <- server  finished' "--trace server finished"

# -O: the URL's file name, in the current directory.
(cd "$tmp" && timeout 30 "$bulwark" get "https://localhost:$sport/small.bin" --cacert "$CA" -O) 2>"$tmp/err"
cmp -s "$tmp/small.bin" "$tmp/www/small.bin" && ok || bad "-O writes the remote name" "$tmp/err"
# -o into a directory that does not exist: the write status.
get 23 "-o into a missing directory" "https://localhost:$sport/small.bin" --cacert "$CA" -o "$tmp/no/such/dir/f" &&
  one_line "-o missing directory"

# --cacert is what makes the local CA trusted: the system store does not know it.
get 60 "local CA without --cacert" "https://localhost:$sport/small.txt" &&
  expect_err 'issued by an unknown CA' "no --cacert" && one_line "no --cacert"
# --insecure accepts it, and says so every time (also with -s).
for quiet in "" -s; do
  get 0 "--insecure $quiet" "https://localhost:$sport/small.txt" --insecure $quiet &&
    expect_err 'WARNING: --insecure' "--insecure $quiet warns"
done
cmp -s "$tmp/out" "$tmp/www/small.txt" && ok || bad "--insecure download content"
# Nobody listening: the connect status, naming host and port.
closed=$(free_port)
get 7 "wrong port" "https://127.0.0.1:$closed/" --cacert "$CA" &&
  expect_err "cannot connect to 127.0.0.1:$closed: Connection refused" "wrong port" && one_line "wrong port"
get 6 "unknown host" "https://no-such-host.invalid/" --connect-timeout 10 &&
  expect_err "cannot resolve host 'no-such-host.invalid'" "unknown host"
kill "$spid"

# --- the man-in-the-middle experiment ------------------------------------------------------
# A server with a valid certificate for www.example.org, reached as www.facebook.com. (--resolve
# applies to HOST:PORT as in curl, so the URL names the server's port.)
s_server mitm mitm
get 0 "--resolve to the right name" "https://www.example.org:$sport/small.txt" \
  --resolve "www.example.org:$sport:127.0.0.1" --cacert "$CA" -v &&
  expect_err "connected to www.example.org (127.0.0.1) port $sport" "--resolve connects to ADDR"
cmp -s "$tmp/out" "$tmp/www/small.txt" && ok || bad "--resolve download content"
if get 60 "man in the middle" "https://www.facebook.com:$sport/" --resolve "www.facebook.com:$sport:127.0.0.1" --cacert "$CA"; then
  expect_err 'does not match the host name' "MITM: names the failed check"
  expect_err 'host "www.facebook.com" does not match the certificate (DNS:www.example.org)' \
    "MITM: names the names the certificate is valid for"
  one_line "MITM"
  [[ ! -s $tmp/out ]] && ok || bad "MITM: nothing on stdout"
fi
# The same through -o: no file appears.
get 60 "man in the middle with -o" "https://www.facebook.com:$sport/" --resolve "www.facebook.com:$sport:127.0.0.1" --cacert "$CA" -o "$tmp/mitm-download"
[[ -z $(compgen -G "$tmp/mitm-download*") ]] && ok || bad "MITM: no output file, not even a temporary one"
# An override for another port is reported, not silently ignored.
get 6 "--resolve for another port" "https://www.facebook.com/" --resolve "www.facebook.com:$sport:127.0.0.1" --connect-timeout 10 &&
  expect_err "applies to port $sport only, and the URL uses port 443" "--resolve port mismatch"
kill "$spid"
# The seeds' literal form: https://www.facebook.com/ on port 443, mapped to the impostor on
# 127.0.0.1:443 (tests run as root, as CI does; a busy port 443 fails this, never skips it).
PORT=443 s_server mitm443 mitm
if get 60 "man in the middle on 443" "https://www.facebook.com/" --resolve "www.facebook.com:443:127.0.0.1" --cacert "$CA"; then
  expect_err 'host "www.facebook.com" does not match the certificate (DNS:www.example.org)' \
    "MITM on 443: names the names the certificate is valid for"
fi
kill "$spid"

# --- misbehaving servers (python3 ssl) -------------------------------------------------------
cat >"$tmp/server.py" <<'EOF'
import http.server, os, socket, ssl, sys
root, cert, key, family = sys.argv[1:5]
tls = sys.argv[5] == "tls"

class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *a, **kw):
        super().__init__(*a, directory=root, **kw)

    def log_message(self, *args):
        pass

    def raw(self, data, close=True):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def redirect(self, status, location):
        self.raw(f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())

    def do_GET(self):
        p = self.path
        host = self.headers.get("Host", "")
        if p == "/chunked":
            self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     b"6;ext=1\r\nhello \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n")
        elif p == "/truncated":
            # Promises 1000 bytes, sends 100, ends TCP without close_notify.
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n" + b"x" * 100)
        elif p == "/until-close":
            self.raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe end is unknowable")
        elif p == "/redirect":
            self.redirect(302, "/small.txt")
        elif p == "/redirect-relative":
            self.redirect(301, "sub/../sub/index.txt")
        elif p == "/loop":
            self.redirect(302, "/loop")
        elif p == "/downgrade":
            self.redirect(302, "http://127.0.0.1:1/")
        elif p == "/same-origin":
            self.redirect(307, "/headers")
        elif p == "/other-origin":
            # Another host name for the same server: another origin.
            port = self.server.server_address[1]
            self.redirect(302, f"https://localhost:{port}/headers")
        elif p == "/headers":
            body = "".join(f"{k}: {v}\n" for k, v in self.headers.items()).encode()
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        elif p == "/missing":
            self.send_error(404, "Not Found")
        else:
            super().do_GET()

class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if family == "6" else socket.AF_INET

server = Server(("::1" if family == "6" else "127.0.0.1", 0), Handler)
if tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
EOF
# py_server NAME FAMILY(4|6) tls|plain: sets $pport.
py_server() {
  timeout -k 3 120 python3 "$tmp/server.py" "$tmp/www" "$tmp/srv.crt" "$tmp/srv.key" "$2" "$3" \
    >"$tmp/$1.port" 2>"$tmp/$1.err" &
  pids+=($!)
  pport=
  local i
  for ((i = 0; i < 200; i++)); do
    pport=$(head -n1 "$tmp/$1.port" 2>/dev/null)
    [[ -n $pport ]] && return 0
    sleep 0.05
  done
  bad "python server $1 did not start" "$tmp/$1.err"
}
py_server py 4 tls
U="https://127.0.0.1:$pport"

# Truncation: a Content-Length not reached, or a close-delimited body, ended without
# close_notify.
if get 56 "Content-Length not reached, no close_notify" "$U/truncated" --cacert "$CA" -o "$tmp/trunc.out"; then
  expect_err 'after 100 of 1000 body bytes: possible truncation attack' "truncation message"
  one_line "truncation"
  [[ -z $(compgen -G "$tmp/trunc.out*") ]] && ok || bad "a truncated download leaves no output file"
fi
get 56 "close-delimited body without close_notify" "$U/until-close" --cacert "$CA" &&
  expect_err 'only close_notify could say the body was complete: possible truncation attack' "until-close"
# Chunked with an extension and a trailer.
get 0 "chunked body" "$U/chunked" --cacert "$CA" && { [[ $(cat "$tmp/out") == "hello world!" ]] && ok || bad "chunked content" "$tmp/out"; }

# -I: the head, no body.
if get 0 "-I" "$U/small.bin" --cacert "$CA" -I; then
  grep -q '^HTTP/1.1 200 OK' "$tmp/out" && grep -q '^Content-Length: 100000' "$tmp/out" && ok ||
    bad "-I prints the head" "$tmp/out"
  [[ $(wc -c <"$tmp/out") -lt 1000 ]] && ok || bad "-I prints no body"
fi
# --fail: 404 is status 22 and writes nothing; without it, the error page is the output.
get 22 "--fail on 404" "$U/missing" --cacert "$CA" --fail &&
  expect_err 'the server answered HTTP 404 (--fail)' "--fail" && one_line "--fail"
[[ ! -s $tmp/out ]] && ok || bad "--fail writes no body" "$tmp/out"
get 0 "404 without --fail" "$U/missing" --cacert "$CA" && { grep -q '404' "$tmp/out" && ok || bad "404 page" "$tmp/out"; }

# Redirects.
get 0 "302 without -L" "$U/redirect" --cacert "$CA" && { [[ ! -s $tmp/out ]] && ok || bad "302 body" "$tmp/out"; }
get 0 "-L" "$U/redirect" --cacert "$CA" -L && { cmp -s "$tmp/out" "$tmp/www/small.txt" && ok || bad "-L content" "$tmp/out"; }
get 0 "-L relative Location" "$U/redirect-relative" --cacert "$CA" -L -v &&
  expect_err "following the redirect (301) to $U/sub/index.txt" "relative Location resolved"
get 47 "-L loop" "$U/loop" --cacert "$CA" -L && expect_err 'too many redirects: 10 followed' "redirect loop"
get 47 "--max-redirs 0" "$U/redirect" --cacert "$CA" -L --max-redirs 0 && expect_err 'too many redirects: 0' "--max-redirs 0"
get 1 "https to http redirect" "$U/downgrade" --cacert "$CA" -L &&
  expect_err 'refusing the redirect from .* to http://127.0.0.1:1/: it would continue without TLS' "downgrade"
# -H: fields added, defaults removed; credentials follow a redirect within the origin only.
if get 0 "-H" "$U/headers" --cacert "$CA" -H 'X-Test: one two' -H 'Accept:' -H 'User-Agent: tester/1'; then
  grep -q '^X-Test: one two$' "$tmp/out" && grep -q '^User-Agent: tester/1$' "$tmp/out" &&
    ! grep -qi '^Accept:' "$tmp/out" && ok || bad "-H fields" "$tmp/out"
fi
get 0 "same-origin redirect keeps Authorization" "$U/same-origin" --cacert "$CA" -L -H 'Authorization: Bearer s3cret' &&
  { grep -q 'Authorization: Bearer s3cret' "$tmp/out" && ok || bad "same-origin Authorization" "$tmp/out"; }
get 0 "cross-origin redirect drops Authorization" "$U/other-origin" --cacert "$CA" -L -H 'Authorization: Bearer s3cret' &&
  { grep -q '^Host: localhost:' "$tmp/out" && ! grep -q 's3cret' "$tmp/out" && ok || bad "cross-origin Authorization" "$tmp/out"; }

# --max-time against a server that accepts TCP and never answers.
silent=$(free_port)
timeout -k 3 60 python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(60)' "$silent" \
  </dev/null >/dev/null 2>&1 &
pids+=($!)
wait_port "$silent"
start=$SECONDS
get 28 "--max-time against a silent server" "https://127.0.0.1:$silent/" --cacert "$CA" --max-time 1 &&
  expect_err 'did not finish within the transfer time limit (1 s)' "--max-time message" && one_line "--max-time"
((SECONDS - start < 10)) && ok || bad "--max-time took $((SECONDS - start)) s"
get 28 "--connect-timeout against a silent server" "https://127.0.0.1:$silent/" --cacert "$CA" --connect-timeout 0.5 &&
  expect_err 'connect time limit (0.5 s)' "--connect-timeout message"

# SIGINT during a transfer: status 130, and no output file (not even a temporary one).
timeout 30 "$bulwark" get "https://127.0.0.1:$silent/" --cacert "$CA" -o "$tmp/interrupted" \
  </dev/null >/dev/null 2>"$tmp/err" &
gpid=$!
pids+=("$gpid")
sleep 0.5
kill -INT "$gpid"
wait "$gpid"
rc=$?
[[ $rc -eq 130 ]] && grep -q 'interrupted' "$tmp/err" && ok || bad "SIGINT: exit $rc, want 130" "$tmp/err"
[[ -z $(compgen -G "$tmp/interrupted*") ]] && ok || bad "SIGINT leaves no output file"

# IPv6 literal URL.
py_server py6 6 tls
get 0 "IPv6 literal" "https://[::1]:$pport/small.txt" --cacert "$CA" -v &&
  expect_err "connected to ::1 (::1) port $pport" "IPv6 connect" &&
  { cmp -s "$tmp/out" "$tmp/www/small.txt" && ok || bad "IPv6 content"; }

# Plain http:// works too, without TLS.
py_server plain 4 plain
get 0 "plain http" "http://127.0.0.1:$pport/small.bin" && { cmp -s "$tmp/out" "$tmp/www/small.bin" && ok || bad "http content"; }

summary get
