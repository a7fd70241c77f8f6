#!/usr/bin/env bash
# `bulwark serve` as a TLS server: usage errors, the embedded local CA (created once, private
# modes, reused), curl over TLS 1.3 and 1.2, openssl s_client, two certificates chosen by the
# client's signature algorithms, HTTP/1.0 answered and closed, the slow-loris header timeout,
# the per-source handshake rate limit, and the graceful shutdown's close_notify.
# Usage: serve.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export XDG_DATA_HOME=$tmp/xdg
CA=$XDG_DATA_HOME/bulwark/ca.crt

# refuse STATUS PATTERN DESCRIPTION ARGS...: `bulwark serve ARGS` exits STATUS, one stderr line.
refuse() {
  local status=$1 pattern=$2 what=$3
  shift 3
  timeout 20 "$bulwark" serve "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne $status ]] || [[ $(wc -l <"$tmp/err") -ne 1 ]] || ! grep -q -- "$pattern" "$tmp/err"; then
    bad "$what (exit $rc, want $status; stderr must be one line matching '$pattern')" "$tmp/err"
  else
    ok
  fi
}

# --- help and usage errors -------------------------------------------------------------------
"$bulwark" serve --help >"$tmp/out" 2>&1
for opt in --listen --cert --key --chain --workers --tls-min --tls-max --alpn --client-ca \
  --verify-client --access-log --handshake-timeout --idle-timeout --header-timeout \
  --max-connections --max-handshakes; do
  grep -q -- "$opt" "$tmp/out" && ok || bad "serve --help lists $opt" "$tmp/out"
done
"$bulwark" ca init "$tmp/ca" >/dev/null 2>&1 &&
  "$bulwark" ca issue "$tmp/ca" --name localhost --ip 127.0.0.1 --out "$tmp/ec" >/dev/null &&
  "$bulwark" ca issue "$tmp/ca" --name localhost --ip 127.0.0.1 --key rsa-2048 --out "$tmp/rsa" >/dev/null || {
  echo "FAIL: cannot make the test certificates"
  exit 1
}
refuse 2 '--cert and --key go in pairs' "--cert without --key" --cert "$tmp/ec.crt"
refuse 2 '--chain must be given once per --cert' "one --chain for two --cert" \
  --cert "$tmp/ec.crt" --key "$tmp/ec.key" --cert "$tmp/rsa.crt" --key "$tmp/rsa.key" --chain "$tmp/ca/ca.crt"
refuse 2 'IPv6 address in brackets' "bare IPv6 listen address" --listen ::1:8443
refuse 2 'the port is not 0..65535' "bad port" --listen 127.0.0.1:99999
refuse 2 'TLS 1.1 is obsolete' "--tls-min 1.1" --tls-min 1.1
refuse 2 '--verify-client needs --client-ca' "--verify-client alone" --verify-client require
refuse 1 'does not belong to the certificate' "key of another certificate" \
  --cert "$tmp/ec.crt" --key "$tmp/rsa.key"
refuse 1 'cannot' "a directory that does not exist" "$tmp/nope" --cert "$tmp/ec.crt" --key "$tmp/ec.key"
[[ ! -e $XDG_DATA_HOME ]] && ok || bad "usage errors created no data directory"

# --- the embedded default: local CA created once, private, reused ------------------------------
if serve_bg default; then
  ok
  grep -q "created the local CA in $XDG_DATA_HOME/bulwark" "$tmp/default.err" && ok ||
    bad "first run says it created the CA" "$tmp/default.err"
  grep -q "curl --cacert $CA https://127.0.0.1:$sport/" "$tmp/default.err" && ok ||
    bad "prints a ready-to-paste curl line" "$tmp/default.err"
  for f in 'TLS           1.2 to 1.3' 'suites        TLS_AES_128_GCM_SHA256' 'groups        x25519' \
    'ALPN          http/1.1' 'certificate   localhost \[localhost, 127.0.0.1, ::1\] ec-p256, expires' \
    'workers       '; do
    grep -q "$f" "$tmp/default.err" && ok || bad "settings line '$f'" "$tmp/default.err"
  done
  [[ $(stat -c %a "$XDG_DATA_HOME/bulwark") == 700 ]] && ok || bad "data directory mode 0700"
  [[ $(stat -c %a "$XDG_DATA_HOME/bulwark/ca.key") == 600 &&
    $(stat -c %a "$XDG_DATA_HOME/bulwark/localhost.key") == 600 ]] && ok || bad "private keys mode 0600"
  # TLS 1.3 and TLS 1.2, verified against the printed CA, with the built-in page.
  curl -sS --max-time 10 --cacert "$CA" "https://127.0.0.1:$sport/" -o "$tmp/page13" \
    -w '%{http_code} %{ssl_verify_result}\n' >"$tmp/w" 2>"$tmp/cerr"
  [[ $(cat "$tmp/w") == "200 0" ]] && grep -q 'bulwark serve works' "$tmp/page13" && ok ||
    bad "curl TLS 1.3 gets the built-in page" "$tmp/w" "$tmp/cerr"
  curl -sS --max-time 10 --cacert "$CA" --tlsv1.2 --tls-max 1.2 -v "https://localhost:$sport/" \
    -o "$tmp/page12" 2>"$tmp/cerr"
  grep -q 'SSL connection using TLSv1.2' "$tmp/cerr" && cmp -s "$tmp/page12" "$tmp/page13" && ok ||
    bad "curl TLS 1.2 gets the same page" "$tmp/cerr"
  grep -q 'ALPN: server accepted http/1.1' "$tmp/cerr" && ok || bad "ALPN http/1.1" "$tmp/cerr"
  # openssl s_client: verified, answered.
  printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -connect "127.0.0.1:$sport" -CAfile "$CA" -verify_return_error \
      -verify_hostname localhost -ign_eof >"$tmp/sc" 2>&1
  grep -q 'Verify return code: 0 (ok)' "$tmp/sc" && grep -q '^HTTP/1.1 200 OK' "$tmp/sc" &&
    grep -q 'bulwark serve works' "$tmp/sc" && ok || bad "openssl s_client GET /" "$tmp/sc"
  # HTTP/1.0: answered, then the server closes (with close_notify) on its own.
  # (stdin stays open: only the server's close can end s_client within the wait)
  (printf 'GET / HTTP/1.0\r\n\r\n'; sleep 8) |
    timeout 10 openssl s_client -connect "127.0.0.1:$sport" -CAfile "$CA" -ign_eof >"$tmp/h10" 2>&1 &
  client=$!
  pids+=("$client")
  wait_pid "$client" 5
  grep -q '^HTTP/1.[01] 200 OK' "$tmp/h10" && grep -qi '^Connection: close' "$tmp/h10" &&
    grep -q '^closed$' "$tmp/h10" && [[ $st -eq 0 ]] && ok || bad "HTTP/1.0 GET answered and closed" "$tmp/h10"
  kill -TERM "$spid"
  wait_pid "$spid" 10
  [[ $st -eq 0 ]] && ok || bad "SIGTERM: exit 0 (got $st)" "$tmp/default.err"
  sha_ca=$(sha256sum <"$CA")
  sha_leaf=$(sha256sum <"$XDG_DATA_HOME/bulwark/localhost.crt")
  if serve_bg again; then
    ! grep -q 'created the local CA' "$tmp/again.err" && ! grep -q 'issued the localhost' "$tmp/again.err" &&
      [[ $(sha256sum <"$CA") == "$sha_ca" && $(sha256sum <"$XDG_DATA_HOME/bulwark/localhost.crt") == "$sha_leaf" ]] &&
      ok || bad "second run reuses the CA and the certificate" "$tmp/again.err"
    kill -TERM "$spid"
    wait_pid "$spid" 10
  else
    bad "second run starts" "$tmp/again.err"
  fi
else
  bad "serve starts with the embedded default" "$tmp/default.err"
fi

# --- two certificates, chosen by the client's signature algorithms ---------------------------
if serve_bg two --cert "$tmp/ec.crt" --key "$tmp/ec.key" --cert "$tmp/rsa.crt" --key "$tmp/rsa.key"; then
  grep -c '^  certificate ' "$tmp/two.err" | grep -qx 2 && ok || bad "two certificates listed" "$tmp/two.err"
  for v in -tls1_3 -tls1_2; do
    timeout 10 openssl s_client -connect "127.0.0.1:$sport" "$v" -CAfile "$tmp/ca/ca.crt" \
      -sigalgs RSA-PSS+SHA256 </dev/null >"$tmp/rsa.sc" 2>&1
    grep -q 'Peer signature type: RSA-PSS' "$tmp/rsa.sc" && grep -q 'Server public key is 2048 bit' "$tmp/rsa.sc" &&
      ok || bad "$v -sigalgs RSA-PSS+SHA256 gets the RSA certificate" "$tmp/rsa.sc"
    timeout 10 openssl s_client -connect "127.0.0.1:$sport" "$v" -CAfile "$tmp/ca/ca.crt" \
      -sigalgs ECDSA+SHA256 </dev/null >"$tmp/ec.sc" 2>&1
    grep -q 'Peer signature type: ECDSA' "$tmp/ec.sc" && grep -q 'Server public key is 256 bit' "$tmp/ec.sc" &&
      ok || bad "$v -sigalgs ECDSA+SHA256 gets the ECDSA certificate" "$tmp/ec.sc"
  done
  kill -TERM "$spid"
  wait_pid "$spid" 10
else
  bad "serve starts with two certificates" "$tmp/two.err"
fi

# --- slow-loris, graceful shutdown, rate limit ------------------------------------------------
if serve_bg limits --header-timeout 1 --idle-timeout 30 --handshake-rate 5; then
  # A request head that never ends is cut after --header-timeout (1 s), not --idle-timeout.
  timeout 20 python3 - "$sport" "$CA" >"$tmp/loris" 2>&1 <<'EOF'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        start = time.monotonic()
        s.settimeout(10)
        try:
            data = s.recv(100)
            how = "clean" if data == b"" else "data"
        except ssl.SSLZeroReturnError:
            how = "clean"
        took = time.monotonic() - start
        print(how, round(took, 2))
        sys.exit(0 if how == "clean" and 0.8 <= took < 4 else 1)
EOF
  [[ $? -eq 0 ]] && ok || bad "slow-loris head cut after --header-timeout with close_notify" "$tmp/loris"
  # Graceful shutdown: a connected s_client sees close_notify ("closed"), the server exits 0.
  (sleep 6) | timeout 10 openssl s_client -connect "127.0.0.1:$sport" -CAfile "$CA" >"$tmp/gs" 2>&1 &
  client=$!
  pids+=("$client")
  for ((i = 0; i < 100; i++)); do grep -qs 'Verify return code' "$tmp/gs" && break; sleep 0.05; done
  kill -TERM "$spid"
  wait_pid "$spid" 10
  [[ $st -eq 0 ]] && ok || bad "graceful shutdown exits 0 (got $st)" "$tmp/limits.err"
  wait_pid "$client" 10
  grep -q '^closed$' "$tmp/gs" && ok || bad "s_client saw close_notify at shutdown" "$tmp/gs"
  grep -q 'stopping: no new connections' "$tmp/limits.err" && ok || bad "says it is stopping" "$tmp/limits.err"
else
  bad "serve starts with limits" "$tmp/limits.err"
fi
# --handshake-rate 5 (bursts of 10): 30 quick connections from one address are not all served,
# and the limit is logged once.
if serve_bg rate --handshake-rate 5; then
  served=0
  for ((i = 0; i < 30; i++)); do
    curl -s --max-time 5 --cacert "$CA" "https://127.0.0.1:$sport/" -o /dev/null && served=$((served + 1))
  done
  [[ $served -ge 10 && $served -lt 30 ]] && ok || bad "rate limit: $served of 30 served" "$tmp/rate.err"
  [[ $(grep -c 'handshake rate limit reached by 127.0.0.1' "$tmp/rate.err") -eq 1 ]] && ok ||
    bad "rate limit logged once" "$tmp/rate.err"
  kill -TERM "$spid"
  wait_pid "$spid" 10
else
  bad "serve starts with --handshake-rate" "$tmp/rate.err"
fi

summary serve
