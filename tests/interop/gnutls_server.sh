#!/usr/bin/env bash
# bulwark connect -> gnutls-serv: suites, groups, HelloRetryRequest, client certificates,
# resumption, KeyUpdate, ALPN, an RSA server certificate, 64 MiB. Usage: gnutls_server.sh BULWARK
source "$(dirname "$0")/lib.sh"
interop_init "connect -> gnutls-serv" "$@"
P=$tmp/pki
printf 'GET / HTTP/1.0\r\n\r\n' >"$tmp/get"
tls13='NORMAL:-VERS-ALL:+VERS-TLS1.3'

# g_serv NAME ARGS...: gnutls-serv on a free port $sport; PID in $server_pid. It serves HTTP
# (a page describing the session) unless given --echo.
g_serv() {
  local name=$1
  shift
  sport=$(free_port)
  start "$name" 60 gnutls-serv -p "$sport" "$@"
  server_pid=$last_pid
  wait_port "$sport"
}
ecdsa=(--x509certfile "$P/server.crt" --x509keyfile "$P/server.key")

g_serv http "${ecdsa[@]}" --priority "$tls13"
run_bulwark c 20 connect --ign-eof "localhost:$sport" --cacert "$CA" <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -qa 'TLS1.3' "$tmp/c.out"; then
  pass basic "GET from gnutls-serv's HTTP page"
else
  failed basic "GET from gnutls-serv's HTTP page" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"

for suite in TLS_AES_128_GCM_SHA256:AES-128-GCM TLS_AES_256_GCM_SHA384:AES-256-GCM \
  TLS_CHACHA20_POLY1305_SHA256:CHACHA20-POLY1305; do
  ours=${suite%%:*} theirs=${suite##*:}
  g_serv http "${ecdsa[@]}" --priority "$tls13:-CIPHER-ALL:+$theirs"
  run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.3 $ours " "$tmp/c.err"; then
    pass suites "$ours"
  else
    failed suites "$ours" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
  fi
  stop "$server_pid"
done

for group in x25519:X25519 secp256r1:SECP256R1 secp384r1:SECP384R1; do
  ours=${group%%:*} theirs=${group##*:}
  g_serv http "${ecdsa[@]}" --priority "$tls13:-GROUP-ALL:+GROUP-$theirs"
  run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" --groups "$ours" -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.3 .* $ours$" "$tmp/c.err" &&
    grep -q '^hello_retry: no' "$tmp/c.err"; then
    pass groups "$ours"
  else
    failed groups "$ours" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
  fi
  stop "$server_pid"
done

g_serv http "${ecdsa[@]}" --priority "$tls13:-GROUP-ALL:+GROUP-SECP256R1"
run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" --groups x25519,secp256r1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^hello_retry: yes' "$tmp/c.err" &&
  grep -q '^parameters: TLSv1.3 .* secp256r1$' "$tmp/c.err"; then
  pass hrr "x25519 share, server wants P-256"
else
  failed hrr "x25519 share, server wants P-256" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"

# Client certificates: required and verified against our CA; required and missing.
g_serv http "${ecdsa[@]}" --priority "$tls13" --require-client-cert --verify-client-cert \
  --x509cafile "$CA"
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --cert "$P/alice.crt" \
  --key "$P/alice.key" <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -qa 'CN=alice' "$tmp/c.out"; then
  pass client-auth "certificate sent, verified, shown on the page"
else
  failed client-auth "certificate sent, verified, shown on the page" "rc=$rc" "$tmp/c.err" \
    "$tmp/http.err"
fi
stop "$server_pid"
g_serv http "${ecdsa[@]}" --priority "$tls13" --require-client-cert --verify-client-cert \
  --x509cafile "$CA"
run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" <"$tmp/get"
if [[ $rc -ne 0 ]] && [[ $(wc -l <"$tmp/c.err") -eq 1 ]] &&
  grep -q 'the server sent alert certificate_required' "$tmp/c.err"; then
  pass client-auth "none sent: certificate_required named"
else
  failed client-auth "none sent: certificate_required named" "rc=$rc" "$tmp/c.err" \
    "$tmp/http.err"
fi
stop "$server_pid"

g_serv http "${ecdsa[@]}" --priority "$tls13"
run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" --reconnect 1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && [[ $(grep -c '^resumed: ' "$tmp/c.err") -eq 2 ]] &&
  [[ $(grep '^resumed: ' "$tmp/c.err" | tail -1) == 'resumed: yes' ]]; then
  pass resume "--reconnect 1: resumed"
else
  failed resume "--reconnect 1: resumed" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"

# KeyUpdate against the echo server: the echo comes back after both sides updated.
g_serv echo "${ecdsa[@]}" --priority "$tls13" --echo
echo "after key update" >"$tmp/msg"
{ cat "$tmp/msg"; sleep 0.5; } | timeout 20 "$bulwark" connect "127.0.0.1:$sport" --cacert "$CA" \
  --key-update --trace >"$tmp/c.out" 2>"$tmp/c.err"
rc=$?
if [[ $rc -eq 0 ]] && cmp -s "$tmp/msg" "$tmp/c.out" && grep -q '^trace: -> key_update' "$tmp/c.err" &&
  grep -q '^trace: <- key_update' "$tmp/c.err"; then
  pass key-update "--key-update: both sides updated, echo after it"
else
  failed key-update "--key-update: both sides updated, echo after it" "rc=$rc" "$tmp/c.err" \
    "$tmp/c.out" "$tmp/echo.out"
fi
stop "$server_pid"

g_serv http "${ecdsa[@]}" --priority "$tls13" --alpn h2 --alpn http/1.1
run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" --alpn foo,http/1.1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^alpn: http/1.1$' "$tmp/c.err"; then
  pass alpn "http/1.1 chosen"
else
  failed alpn "http/1.1 chosen" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"

g_serv http --x509certfile "$P/server-rsa.crt" --x509keyfile "$P/server-rsa.key" --priority "$tls13"
run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" -v <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^verification: OK' "$tmp/c.err"; then
  pass rsa-cert "RSA-2048 chain verified"
else
  failed rsa-cert "RSA-2048 chain verified" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"

# 64 MiB from gnutls-serv: its HTTP mode sends a file (--httpdata) after the headers.
# (--ign-eof everywhere here: gnutls-serv stops sending at our close_notify, so we keep our
# side open until it has answered.)
make_big
g_serv http "${ecdsa[@]}" --priority "$tls13" --httpdata "$tmp/big"
run_bulwark c 60 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -qa '^Content-Length: 67108864' "$tmp/c.out" &&
  [[ $(tail -c 67108864 "$tmp/c.out" | sha256sum | cut -d' ' -f1) == "$big_sha" ]]; then
  pass 64MiB "64 MiB from gnutls-serv, SHA-256 equal"
else
  failed 64MiB "64 MiB from gnutls-serv, SHA-256 equal" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"

# TLS 1.2 (the server allows nothing newer): ECDSA and RSA certificates, resumption, a client
# certificate.
tls12='NORMAL:-VERS-ALL:+VERS-TLS1.2'
for c in server:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 server-rsa:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; do
  cert=${c%%:*} ours=${c##*:}
  g_serv http --x509certfile "$P/$cert.crt" --x509keyfile "$P/$cert.key" --priority "$tls12"
  run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.2 $ours x25519$" "$tmp/c.err" &&
    grep -q '^extended_master_secret: yes' "$tmp/c.err" && grep -qa 'TLS1.2' "$tmp/c.out"; then
    pass tls1.2 "$ours"
  else
    failed tls1.2 "$ours" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
  fi
  stop "$server_pid"
done
g_serv http "${ecdsa[@]}" --priority "$tls12"
run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" --reconnect 1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && [[ $(grep '^resumed: ' "$tmp/c.err" | tail -1) == 'resumed: yes' ]]; then
  pass tls1.2 "resumption"
else
  failed tls1.2 "resumption" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"
g_serv http "${ecdsa[@]}" --priority "$tls12" --require-client-cert --verify-client-cert \
  --x509cafile "$CA"
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --cert "$P/alice.crt" \
  --key "$P/alice.key" <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -qa 'CN=alice' "$tmp/c.out"; then
  pass tls1.2 "client certificate"
else
  failed tls1.2 "client certificate" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"
# Heartbeat (RFC 6520): negotiated with gnutls-serv --heartbeat; one request, the reply
# carries our payload.
g_serv http "${ecdsa[@]}" --priority "$tls12" --heartbeat
run_bulwark c 20 connect --ign-eof "127.0.0.1:$sport" --cacert "$CA" --heartbeat <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^heartbeat: reply received, payload matches$' "$tmp/c.err"; then
  pass tls1.2 "heartbeat request answered"
else
  failed tls1.2 "heartbeat request answered" "rc=$rc" "$tmp/c.err" "$tmp/http.err"
fi
stop "$server_pid"

interop_finish
