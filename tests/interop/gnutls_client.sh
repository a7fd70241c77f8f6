#!/usr/bin/env bash
# gnutls-cli -> bulwark listen: suites, groups, HelloRetryRequest, client certificates,
# resumption, ALPN, an RSA server certificate, 64 MiB each way. (gnutls-cli has no command to
# send a KeyUpdate; the other rows cover it.) Usage: gnutls_client.sh BULWARK
source "$(dirname "$0")/lib.sh"
interop_init "gnutls-cli -> listen" "$@"
P=$tmp/pki
ecdsa=(--cert "$P/server.crt" --key "$P/server.key")
echo "hello from gnutls-cli" >"$tmp/hello"
tls13='NORMAL:-VERS-ALL:+VERS-TLS1.3'

# g_cli NAME ARGS... (stdin as given): gnutls-cli to localhost:$lport verifying our chain;
# status in $gsrc. It sends stdin, then close_notify at its end.
g_cli() {
  local name=$1
  shift
  timeout 20 gnutls-cli --x509cafile "$CA" -p "$lport" "$@" localhost >"$tmp/$name.out" 2>"$tmp/$name.err"
  gsrc=$?
}
conn_line() { grep '^bulwark listen: 127.0.0.1:[0-9]* TLSv1.3' "$tmp/l.err" | tail -1; }

start_listen l "${ecdsa[@]}" --once
g_cli g --priority "$tls13" <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && cmp -s "$tmp/hello" "$tmp/l.out" &&
  conn_line | grep -q ' sni=localhost '; then
  pass basic "data to stdout, SNI, clean close"
else
  failed basic "data to stdout, SNI, clean close" "gnutls-cli=$gsrc listen=$exit_status" \
    "$tmp/l.err" "$tmp/g.out" "$tmp/g.err"
fi

for suite in TLS_AES_128_GCM_SHA256:AES-128-GCM TLS_AES_256_GCM_SHA384:AES-256-GCM \
  TLS_CHACHA20_POLY1305_SHA256:CHACHA20-POLY1305; do
  ours=${suite%%:*} theirs=${suite##*:}
  start_listen l "${ecdsa[@]}" --once
  g_cli g --priority "$tls13:-CIPHER-ALL:+$theirs" <"$tmp/hello"
  wait_exit "$listen_pid" 10
  if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q " TLSv1.3 $ours " &&
    grep -q "^- Description: (TLS1.3-X.509)-.*-($theirs)" "$tmp/g.out"; then
    pass suites "$ours"
  else
    failed suites "$ours" "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" "$tmp/g.out"
  fi
done

for group in x25519:X25519 secp256r1:SECP256R1 secp384r1:SECP384R1; do
  ours=${group%%:*} theirs=${group##*:}
  start_listen l "${ecdsa[@]}" --once
  g_cli g --priority "$tls13:-GROUP-ALL:+GROUP-$theirs" <"$tmp/hello"
  wait_exit "$listen_pid" 10
  if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q " $ours sni=.*hello_retry=no" &&
    grep -q "(ECDHE-$theirs)" "$tmp/g.out"; then
    pass groups "$ours"
  else
    failed groups "$ours" "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" "$tmp/g.out"
  fi
done

# HelloRetryRequest: gnutls-cli sends shares for its first two groups (x25519, P-384); we accept
# only P-256.
start_listen l "${ecdsa[@]}" --once --groups secp256r1
g_cli g --priority "$tls13:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP384R1:+GROUP-SECP256R1" <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' secp256r1 .*hello_retry=yes' &&
  cmp -s "$tmp/hello" "$tmp/l.out"; then
  pass hrr "x25519 + P-384 shares, listen wants P-256"
else
  failed hrr "x25519 + P-384 shares, listen wants P-256" "gnutls-cli=$gsrc listen=$exit_status" \
    "$tmp/l.err" "$tmp/g.out"
fi

start_listen l "${ecdsa[@]}" --once --client-ca "$CA" --verify-client require
g_cli g --priority "$tls13" --x509certfile "$P/alice.crt" --x509keyfile "$P/alice.key" <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' client=CN=alice$'; then
  pass client-auth "required, alice's certificate accepted"
else
  failed client-auth "required, alice's certificate accepted" \
    "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" "$tmp/g.out"
fi
start_listen l "${ecdsa[@]}" --once --client-ca "$CA" --verify-client require
{ cat "$tmp/hello"; sleep 0.5; } | g_cli g --priority "$tls13"
wait_exit "$listen_pid" 10
if [[ $exit_status -ne 0 ]] && grep -q 'sent alert certificate_required' "$tmp/l.err" &&
  grep -qai 'certificate.*required' "$tmp/g.out" "$tmp/g.err"; then
  pass client-auth "required, none sent: certificate_required"
else
  failed client-auth "required, none sent: certificate_required" "listen=$exit_status" \
    "$tmp/l.err" "$tmp/g.out" "$tmp/g.err"
fi

# Resumption: gnutls-cli --resume connects twice, the second time with our ticket.
start_listen l "${ecdsa[@]}"
g_cli g --priority "$tls13" --resume <"$tmp/hello"
sleep 0.2
stop "$listen_pid"
if [[ $gsrc -eq 0 ]] && grep -q '^\*\*\* This is a resumed session' "$tmp/g.out" &&
  [[ $(grep -c 'resumed=yes' "$tmp/l.err") -eq 1 ]]; then
  pass resume "--resume: resumed session"
else
  failed resume "--resume: resumed session" "gnutls-cli=$gsrc" "$tmp/l.err" "$tmp/g.out"
fi

start_listen l "${ecdsa[@]}" --once --alpn http/1.1,h2
g_cli g --priority "$tls13" --alpn h2 --alpn http/1.1 <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && grep -q '^- Application protocol: http/1.1' "$tmp/g.out" &&
  conn_line | grep -q ' alpn=http/1.1 '; then
  pass alpn "http/1.1 chosen by listen"
else
  failed alpn "http/1.1 chosen by listen" "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" \
    "$tmp/g.out"
fi

start_listen l --cert "$P/server-rsa.crt" --key "$P/server-rsa.key" --once
g_cli g --priority "$tls13" <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && grep -q '(RSA-PSS-RSAE-SHA' "$tmp/g.out"; then
  pass rsa-cert "RSA-2048 certificate, RSA-PSS signature"
else
  failed rsa-cert "RSA-2048 certificate, RSA-PSS signature" "gnutls-cli=$gsrc listen=$exit_status" \
    "$tmp/l.err" "$tmp/g.out"
fi

make_big
start_listen l "${ecdsa[@]}" --once
g_cli g --priority "$tls13" <"$tmp/big"
wait_exit "$listen_pid" 30
if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && [[ $(sha "$tmp/l.out") == "$big_sha" ]]; then
  pass 64MiB "64 MiB gnutls-cli -> listen, SHA-256 equal"
else
  failed 64MiB "64 MiB gnutls-cli -> listen, SHA-256 equal" "gnutls-cli=$gsrc listen=$exit_status" \
    "$tmp/l.err" "$tmp/g.err"
fi
# The other way, 1 MiB (gnutls-cli's own loop reads only ~2 MB/s: the 64 MiB download is in
# the curl and s_client rows). --respond sends the file after gnutls-cli's first data, then
# close_notify; gnutls-cli stays until then (its stdin, a FIFO we hold open, does not end).
# gnutls-cli then closes TCP without a close_notify of its own: listen must call that
# truncation, not a clean close.
head -c 1M "$tmp/big" >"$tmp/mib"
start_listen l "${ecdsa[@]}" --once --respond "$tmp/mib"
mkfifo "$tmp/gin"
exec 4<>"$tmp/gin"
cat "$tmp/hello" >&4
g_cli g --priority "$tls13" --logfile "$tmp/g.log" <"$tmp/gin"
exec 4>&-
wait_exit "$listen_pid" 10
if [[ $gsrc -eq 0 ]] && cmp -s "$tmp/mib" "$tmp/g.out" && [[ $exit_status -eq 1 ]] &&
  grep -q 'truncated: the client closed the connection without close_notify' "$tmp/l.err"; then
  pass basic "--respond 1 MiB; peer's missing close_notify reported as truncation"
else
  failed basic "--respond 1 MiB; peer's missing close_notify reported as truncation" \
    "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" "$tmp/g.log"
fi

# TLS 1.2: ECDSA and RSA certificates, resumption, a client certificate.
tls12='NORMAL:-VERS-ALL:+VERS-TLS1.2'
conn_line12() { grep '^bulwark listen: 127.0.0.1:[0-9]* TLSv1.2' "$tmp/l.err" | tail -1; }
for c in server:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 server-rsa:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; do
  cert=${c%%:*} ours=${c##*:}
  start_listen l --cert "$P/$cert.crt" --key "$P/$cert.key" --once
  g_cli g --priority "$tls12" <"$tmp/hello"
  wait_exit "$listen_pid" 10
  if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && conn_line12 | grep -q " TLSv1.2 $ours " &&
    cmp -s "$tmp/hello" "$tmp/l.out"; then
    pass tls1.2 "$ours"
  else
    failed tls1.2 "$ours" "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" "$tmp/g.out"
  fi
done
start_listen l "${ecdsa[@]}"
g_cli g --priority "$tls12" --resume <"$tmp/hello"
sleep 0.2
stop "$listen_pid"
if [[ $gsrc -eq 0 ]] && grep -q '^\*\*\* This is a resumed session' "$tmp/g.out" &&
  [[ $(grep -c 'TLSv1.2 .*resumed=yes' "$tmp/l.err") -eq 1 ]]; then
  pass tls1.2 "resumption"
else
  failed tls1.2 "resumption" "gnutls-cli=$gsrc" "$tmp/l.err" "$tmp/g.out"
fi
start_listen l "${ecdsa[@]}" --once --client-ca "$CA"
g_cli g --priority "$tls12" --x509certfile "$P/alice.crt" --x509keyfile "$P/alice.key" <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && conn_line12 | grep -q ' client=CN=alice$'; then
  pass tls1.2 "client certificate"
else
  failed tls1.2 "client certificate" "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" "$tmp/g.out"
fi

interop_finish
