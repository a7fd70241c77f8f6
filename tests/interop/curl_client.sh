#!/usr/bin/env bash
# curl --tlsv1.3 -> bulwark listen --respond FILE (a canned HTTP/1.0 response sent after the
# request): suites, groups, HelloRetryRequest, client certificates, resumption, ALPN, an RSA
# server certificate, a 64 MiB download. Usage: curl_client.sh BULWARK
source "$(dirname "$0")/lib.sh"
interop_init "curl -> listen" "$@"
P=$tmp/pki
ecdsa=(--cert "$P/server.crt" --key "$P/server.key")

# response FILE BODY_FILE: an HTTP/1.0 response carrying BODY_FILE.
response() {
  printf 'HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' \
    "$(stat -c %s "$2")" >"$1"
  cat "$2" >>"$1"
}
echo "hello from bulwark listen" >"$tmp/body"
response "$tmp/resp" "$tmp/body"

# fetch NAME ARGS...: curl over TLS 1.3 to https://localhost:$lport/ trusting our CA; status
# in $crc, body in $tmp/NAME.body, verbose log in $tmp/NAME.err.
fetch() {
  local name=$1
  shift
  timeout 30 curl -sS -v --tlsv1.3 --cacert "$CA" -o "$tmp/$name.body" "$@" \
    "https://localhost:$lport/" >"$tmp/$name.out" 2>"$tmp/$name.err"
  crc=$?
}
conn_line() { grep '^bulwark listen: 127.0.0.1:[0-9]* TLSv1.3' "$tmp/l.err" | tail -1; }

# basic: the request reaches stdout, the response reaches curl.
start_listen l "${ecdsa[@]}" --once --respond "$tmp/resp"
fetch c
wait_exit "$listen_pid" 10
if [[ $crc -eq 0 && $exit_status -eq 0 ]] && cmp -s "$tmp/body" "$tmp/c.body" &&
  grep -q '^GET / HTTP/1.1' "$tmp/l.out" && conn_line | grep -q ' sni=localhost '; then
  pass basic "request to stdout, response to curl, clean close"
else
  failed basic "request to stdout, response to curl, clean close" \
    "curl=$crc listen=$exit_status" "$tmp/l.err" "$tmp/c.err"
fi

for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
  start_listen l "${ecdsa[@]}" --once --respond "$tmp/resp"
  fetch c --tls13-ciphers "$suite"
  wait_exit "$listen_pid" 10
  if [[ $crc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q " TLSv1.3 $suite " &&
    cmp -s "$tmp/body" "$tmp/c.body"; then
    pass suites "$suite"
  else
    failed suites "$suite" "curl=$crc listen=$exit_status" "$tmp/l.err" "$tmp/c.err"
  fi
done

for group in x25519:X25519 secp256r1:P-256 secp384r1:P-384; do
  ours=${group%%:*} theirs=${group##*:}
  start_listen l "${ecdsa[@]}" --once --respond "$tmp/resp"
  fetch c --curves "$theirs"
  wait_exit "$listen_pid" 10
  if [[ $crc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q " $ours sni=.*hello_retry=no"; then
    pass groups "$ours"
  else
    failed groups "$ours" "curl=$crc listen=$exit_status" "$tmp/l.err" "$tmp/c.err"
  fi
done

# HelloRetryRequest: curl (OpenSSL) sends a share for its first group only.
start_listen l "${ecdsa[@]}" --once --respond "$tmp/resp" --groups secp256r1
fetch c --curves X25519:P-256
wait_exit "$listen_pid" 10
if [[ $crc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' secp256r1 .*hello_retry=yes' &&
  cmp -s "$tmp/body" "$tmp/c.body"; then
  pass hrr "x25519 share, listen wants P-256"
else
  failed hrr "x25519 share, listen wants P-256" "curl=$crc listen=$exit_status" "$tmp/l.err" \
    "$tmp/c.err"
fi

start_listen l "${ecdsa[@]}" --once --respond "$tmp/resp" --client-ca "$CA"
fetch c --cert "$P/alice.crt" --key "$P/alice.key"
wait_exit "$listen_pid" 10
if [[ $crc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' client=CN=alice$'; then
  pass client-auth "alice's certificate accepted"
else
  failed client-auth "alice's certificate accepted" "curl=$crc listen=$exit_status" "$tmp/l.err" \
    "$tmp/c.err"
fi
start_listen l "${ecdsa[@]}" --once --respond "$tmp/resp" --client-ca "$CA"
fetch c
wait_exit "$listen_pid" 10
if [[ $crc -ne 0 && $exit_status -ne 0 ]] && grep -q 'sent alert certificate_required' "$tmp/l.err" &&
  grep -qi 'alert certificate required' "$tmp/c.err"; then
  pass client-auth "none sent: certificate_required"
else
  failed client-auth "none sent: certificate_required" "curl=$crc listen=$exit_status" \
    "$tmp/l.err" "$tmp/c.err"
fi

# Resumption: one curl, two URLs, two connections (HTTP/1.0 closes the first): the second
# resumes with our ticket.
start_listen l "${ecdsa[@]}" --respond "$tmp/resp"
timeout 30 curl -sS --tlsv1.3 --cacert "$CA" -o /dev/null -o /dev/null \
  "https://localhost:$lport/1" "https://localhost:$lport/2" >"$tmp/c.out" 2>"$tmp/c.err"
crc=$?
sleep 0.2
stop "$listen_pid"
if [[ $crc -eq 0 ]] && [[ $(grep -c 'resumed=no' "$tmp/l.err") -eq 1 ]] &&
  [[ $(grep -c 'resumed=yes' "$tmp/l.err") -eq 1 ]]; then
  pass resume "second URL resumed"
else
  failed resume "second URL resumed" "curl=$crc" "$tmp/l.err" "$tmp/c.err"
fi

start_listen l "${ecdsa[@]}" --once --respond "$tmp/resp" --alpn h2,http/1.1
fetch c --http1.1
wait_exit "$listen_pid" 10
if [[ $crc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' alpn=http/1.1 ' &&
  grep -qi 'ALPN.*accepted.*http/1.1' "$tmp/c.err"; then
  pass alpn "curl --http1.1: http/1.1"
else
  failed alpn "curl --http1.1: http/1.1" "curl=$crc listen=$exit_status" "$tmp/l.err" "$tmp/c.err"
fi

start_listen l --cert "$P/server-rsa.crt" --key "$P/server-rsa.key" --once --respond "$tmp/resp"
fetch c
wait_exit "$listen_pid" 10
if [[ $crc -eq 0 && $exit_status -eq 0 ]] && cmp -s "$tmp/body" "$tmp/c.body"; then
  pass rsa-cert "RSA-2048 certificate verified by curl"
else
  failed rsa-cert "RSA-2048 certificate verified by curl" "curl=$crc listen=$exit_status" \
    "$tmp/l.err" "$tmp/c.err"
fi

make_big
response "$tmp/bigresp" "$tmp/big"
start_listen l "${ecdsa[@]}" --once --respond "$tmp/bigresp"
fetch c
wait_exit "$listen_pid" 30
if [[ $crc -eq 0 && $exit_status -eq 0 ]] && [[ $(sha "$tmp/c.body") == "$big_sha" ]]; then
  pass 64MiB "64 MiB download, SHA-256 equal"
else
  failed 64MiB "64 MiB download, SHA-256 equal" "curl=$crc listen=$exit_status" "$tmp/l.err" \
    "$tmp/c.err"
fi

# TLS 1.2: ECDSA and RSA certificates, resumption across two URLs.
conn_line12() { grep '^bulwark listen: 127.0.0.1:[0-9]* TLSv1.2' "$tmp/l.err" | tail -1; }
for c in server:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 server-rsa:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; do
  cert=${c%%:*} ours=${c##*:}
  start_listen l --cert "$P/$cert.crt" --key "$P/$cert.key" --once --respond "$tmp/resp"
  timeout 30 curl -sS --tlsv1.2 --tls-max 1.2 --cacert "$CA" -o "$tmp/c.body" \
    "https://localhost:$lport/" >"$tmp/c.out" 2>"$tmp/c.err"
  crc=$?
  wait_exit "$listen_pid" 10
  if [[ $crc -eq 0 && $exit_status -eq 0 ]] && conn_line12 | grep -q " TLSv1.2 $ours " &&
    cmp -s "$tmp/body" "$tmp/c.body"; then
    pass tls1.2 "$ours"
  else
    failed tls1.2 "$ours" "curl=$crc listen=$exit_status" "$tmp/l.err" "$tmp/c.err"
  fi
done
start_listen l "${ecdsa[@]}" --respond "$tmp/resp"
timeout 30 curl -sS --tlsv1.2 --tls-max 1.2 --cacert "$CA" -o /dev/null -o /dev/null \
  "https://localhost:$lport/1" "https://localhost:$lport/2" >"$tmp/c.out" 2>"$tmp/c.err"
crc=$?
sleep 0.2
stop "$listen_pid"
if [[ $crc -eq 0 ]] && [[ $(grep -c 'TLSv1.2 .*resumed=yes' "$tmp/l.err") -eq 1 ]]; then
  pass tls1.2 "resumption"
else
  failed tls1.2 "resumption" "curl=$crc" "$tmp/l.err" "$tmp/c.err"
fi

interop_finish
