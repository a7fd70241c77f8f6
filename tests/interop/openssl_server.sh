#!/usr/bin/env bash
# bulwark connect -> openssl s_server: suites, groups, HelloRetryRequest, client certificates,
# resumption, KeyUpdate, ALPN, an RSA server certificate, 64 MiB, and the certificate checks
# that must make the client refuse. Usage: openssl_server.sh BULWARK
source "$(dirname "$0")/lib.sh"
interop_init "connect -> openssl s_server" "$@"
P=$tmp/pki
printf 'GET / HTTP/1.0\r\n\r\n' >"$tmp/get"

# s_server NAME ARGS...: openssl s_server (TLS 1.3, or $s_version) on a free port $sport; PID in
# $server_pid.
s_server() {
  local name=$1
  shift
  sport=$(free_port)
  start "$name" 60 openssl s_server -accept "127.0.0.1:$sport" "${s_version:--tls1_3}" "$@"
  server_pid=$last_pid
  wait_port "$sport"
}
ecdsa=(-cert "$P/server.crt" -key "$P/server.key")

# basic: SNI + DNS name verification, an HTTP exchange through -www.
s_server www "${ecdsa[@]}" -www -naccept 1
run_bulwark c 20 connect "localhost:$sport" --cacert "$CA" <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -qa 'New, TLSv1.3' "$tmp/c.out"; then
  pass basic "GET through s_server -www"
else
  failed basic "GET through s_server -www" "rc=$rc" "$tmp/c.err" "$tmp/c.out" "$tmp/www.err"
fi
stop "$server_pid"

# Every suite: both sides agree on it.
for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
  s_server www "${ecdsa[@]}" -www -naccept 1 -ciphersuites "$suite"
  run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --ciphers "$suite" -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.3 $suite " "$tmp/c.err" &&
    grep -qa "Cipher is $suite" "$tmp/c.out"; then
    pass suites "$suite"
  else
    failed suites "$suite" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
  fi
  stop "$server_pid"
done

# Every group, offered alone.
for group in x25519:X25519 secp256r1:P-256 secp384r1:P-384; do
  ours=${group%%:*} theirs=${group##*:}
  s_server www "${ecdsa[@]}" -www -naccept 1 -groups "$theirs"
  run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --groups "$ours" -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.3 .* $ours$" "$tmp/c.err" &&
    grep -q '^hello_retry: no' "$tmp/c.err"; then
    pass groups "$ours"
  else
    failed groups "$ours" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
  fi
  stop "$server_pid"
done

# HelloRetryRequest: our first share is x25519, the server accepts only P-256.
s_server www "${ecdsa[@]}" -www -naccept 1 -groups P-256
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --groups x25519,secp256r1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^hello_retry: yes' "$tmp/c.err" &&
  grep -q '^parameters: TLSv1.3 .* secp256r1$' "$tmp/c.err"; then
  pass hrr "x25519 share, server wants P-256"
else
  failed hrr "x25519 share, server wants P-256" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"

# Client certificate: s_server -Verify 1 requires one and checks it against our CA.
s_server auth "${ecdsa[@]}" -Verify 1 -CAfile "$CA" -verify_return_error -naccept 1
echo "from alice" >"$tmp/msg"
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --cert "$P/alice.crt" \
  --key "$P/alice.key" <"$tmp/msg"
if [[ $rc -eq 0 ]] && wait_for "$tmp/auth.out" 'from alice' 5 &&
  grep -qa 'CN *= *alice' "$tmp/auth.out" "$tmp/auth.err"; then
  pass client-auth "certificate sent and accepted"
else
  failed client-auth "certificate sent and accepted" "rc=$rc" "$tmp/c.err" "$tmp/auth.out" \
    "$tmp/auth.err"
fi
stop "$server_pid"
s_server auth "${ecdsa[@]}" -Verify 1 -CAfile "$CA" -verify_return_error -naccept 1
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" <"$tmp/msg"
if [[ $rc -ne 0 ]] && [[ $(wc -l <"$tmp/c.err") -eq 1 ]] &&
  grep -q 'the server sent alert certificate_required — .*--cert' "$tmp/c.err"; then
  pass client-auth "no certificate: certificate_required named"
else
  failed client-auth "no certificate: certificate_required named" "rc=$rc" "$tmp/c.err" \
    "$tmp/auth.err"
fi
stop "$server_pid"

# Resumption: the second connection uses a ticket from the first.
s_server www "${ecdsa[@]}" -www -naccept 2
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --reconnect 1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && [[ $(grep -c '^resumed: ' "$tmp/c.err") -eq 2 ]] &&
  [[ $(grep '^resumed: ' "$tmp/c.err" | tail -1) == 'resumed: yes' ]] &&
  grep -qa 'Reused, TLSv1.3' "$tmp/c.out"; then
  pass resume "--reconnect 1: resumed, server says Reused"
else
  failed resume "--reconnect 1: resumed, server says Reused" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"

# 0-RTT: the second connection sends its request as early data, which s_server accepts and
# prints under "Early data received"; nothing is sent twice.
s_server early "${ecdsa[@]}" -early_data -naccept 2
echo "early request" >"$tmp/early"
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --reconnect 1 --early-data -v \
  --timeout 3 <"$tmp/early"
sleep 0.3
if [[ $(grep '^early_data: ' "$tmp/c.err" | tail -1) == 'early_data: accepted' ]] &&
  grep -q 'Early data received' "$tmp/early.out" &&
  [[ $(grep -c '^early request$' "$tmp/early.out") -eq 2 ]]; then
  pass resume "0-RTT early data accepted by s_server"
else
  failed resume "0-RTT early data accepted by s_server" "rc=$rc" "$tmp/c.err" "$tmp/early.out"
fi
stop "$server_pid"

# KeyUpdate: we update and request the server's update. s_server -rev answers each line
# reversed: OpenSSL sends its requested KeyUpdate before that write, so the reply and the
# server's close_notify arrive under its new key.
s_server ku "${ecdsa[@]}" -msg -rev -naccept 1
printf 'after key update\n' >"$tmp/msg"
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --key-update --trace <"$tmp/msg"
if [[ $rc -eq 0 ]] && grep -q '^etadpu yek retfa' "$tmp/c.out" &&
  grep -q '^trace: -> key_update' "$tmp/c.err" && grep -q '^trace: <- key_update' "$tmp/c.err" &&
  grep -qa '<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate' "$tmp/ku.out" &&
  grep -qa '>>> TLS 1.3, Handshake \[length 0005\], KeyUpdate' "$tmp/ku.out"; then
  pass key-update "--key-update: both sides updated, data after it"
else
  failed key-update "--key-update: both sides updated, data after it" "rc=$rc" "$tmp/c.err" \
    "$tmp/c.out"
fi
stop "$server_pid"

# ALPN: the server's choice from our list is reported.
s_server www "${ecdsa[@]}" -www -naccept 1 -alpn h2,http/1.1
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --alpn foo,http/1.1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^alpn: http/1.1$' "$tmp/c.err"; then
  pass alpn "http/1.1 chosen"
else
  failed alpn "http/1.1 chosen" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"

# RSA-2048 server certificate (RSA-PSS signatures in TLS 1.3).
s_server www -cert "$P/server-rsa.crt" -key "$P/server-rsa.key" -www -naccept 1
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" -v <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^verification: OK' "$tmp/c.err"; then
  pass rsa-cert "RSA-2048 chain verified"
else
  failed rsa-cert "RSA-2048 chain verified" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"

# 64 MiB from us to the server, compared by SHA-256 (s_server -quiet writes only the data).
make_big
s_server bulk "${ecdsa[@]}" -quiet -naccept 1
run_bulwark c 60 connect "127.0.0.1:$sport" --cacert "$CA" <"$tmp/big"
wait_exit "$server_pid" 20
if [[ $rc -eq 0 ]] && [[ $(sha "$tmp/bulk.out") == "$big_sha" ]]; then
  pass 64MiB "64 MiB to s_server, SHA-256 equal"
else
  failed 64MiB "64 MiB to s_server, SHA-256 equal" "rc=$rc size=$(stat -c %s "$tmp/bulk.out")" \
    "$tmp/c.err" "$tmp/bulk.err"
fi

# Certificates we must refuse, each with its own message, and the alert we sent must reach the
# server (s_server logs "SSL alert number N").
refuse_cert() {  # refuse_cert WHAT CERT KEY PATTERN ALERT_NUMBER [CONNECT_ARGS...]
  local what=$1 cert=$2 key=$3 pattern=$4 alert=$5
  shift 5
  s_server bad -cert "$cert" -key "$key" -www -naccept 1
  run_bulwark c 20 connect "127.0.0.1:$sport" "$@" <"$tmp/get"
  wait_exit "$server_pid" 5
  if [[ $rc -ne 0 ]] && [[ $(wc -l <"$tmp/c.err") -eq 1 ]] && grep -q -- "$pattern" "$tmp/c.err" &&
    grep -qa "SSL alert number $alert" "$tmp/bad.out" "$tmp/bad.err"; then
    pass reject "$what"
  else
    failed reject "$what" "rc=$rc" "$tmp/c.err" "$tmp/bad.out" "$tmp/bad.err"
  fi
  stop "$server_pid"
}
refuse_cert "expired: certificate_expired" "$P/expired.crt" "$P/expired.key" \
  'server certificate expired (cert_expired.*; sent alert certificate_expired — renew' 45 \
  --cacert "$CA"
refuse_cert "unknown CA: unknown_ca" "$P/stranger.crt" "$P/stranger.key" \
  'server certificate issued by an unknown CA (cert_unknown_ca.*; sent alert unknown_ca — .*--cacert' \
  48 --cacert "$CA"
refuse_cert "system store does not know our CA: unknown_ca" "$P/server.crt" "$P/server.key" \
  'server certificate issued by an unknown CA (cert_unknown_ca' 48
refuse_cert "wrong name: bad_certificate" "$P/server.crt" "$P/server.key" \
  'server certificate does not match the host name (cert_hostname_mismatch.*; sent alert bad_certificate — .*--sni' \
  42 --cacert "$CA" --sni www.example.org
refuse_cert "bad signature: bad_certificate" "$P/badsig.crt" "$P/badsig.key" \
  'server certificate has a bad signature (cert_bad_signature.*; sent alert bad_certificate' 42 \
  --cacert "$CA"

# --insecure skips all of that, and says so loudly.
s_server www -cert "$P/expired.crt" -key "$P/expired.key" -www -naccept 1
run_bulwark c 20 connect "127.0.0.1:$sport" --insecure -v <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q 'WARNING: --insecure' "$tmp/c.err" &&
  grep -q '^verification: DISABLED' "$tmp/c.err"; then
  pass reject "--insecure accepts, with a warning"
else
  failed reject "--insecure accepts, with a warning" "rc=$rc" "$tmp/c.err"
fi
stop "$server_pid"

# TLS 1.2 (the server allows nothing newer): ECDSA and RSA certificates, ChaCha20, session
# resumption, a client certificate.
s_version=-tls1_2
for c in "server:ECDHE-ECDSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" \
  "server-rsa:ECDHE-RSA-AES256-GCM-SHA384:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" \
  "server:ECDHE-ECDSA-CHACHA20-POLY1305:TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"; do
  IFS=: read -r cert theirs ours <<<"$c"
  s_server www -cert "$P/$cert.crt" -key "$P/$cert.key" -www -naccept 1 -cipher "$theirs"
  run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.2 $ours x25519$" "$tmp/c.err" &&
    grep -q '^extended_master_secret: yes' "$tmp/c.err" && grep -qa 'New, TLSv1.2' "$tmp/c.out"; then
    pass tls1.2 "$ours"
  else
    failed tls1.2 "$ours" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
  fi
  stop "$server_pid"
done
s_server www "${ecdsa[@]}" -www -naccept 2
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --reconnect 1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && [[ $(grep '^resumed: ' "$tmp/c.err" | tail -1) == 'resumed: yes' ]] &&
  grep -qa 'Reused, TLSv1.2' "$tmp/c.out"; then
  pass tls1.2 "resumption"
else
  failed tls1.2 "resumption" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"
s_server auth "${ecdsa[@]}" -Verify 1 -CAfile "$CA" -verify_return_error -naccept 1
echo "from alice" >"$tmp/msg"
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --cert "$P/alice.crt" \
  --key "$P/alice.key" <"$tmp/msg"
if [[ $rc -eq 0 ]] && wait_for "$tmp/auth.out" 'from alice' 5 &&
  grep -qa 'CN *= *alice' "$tmp/auth.out" "$tmp/auth.err"; then
  pass tls1.2 "client certificate"
else
  failed tls1.2 "client certificate" "rc=$rc" "$tmp/c.err" "$tmp/auth.out" "$tmp/auth.err"
fi
stop "$server_pid"

interop_finish
