#!/usr/bin/env bash
# openssl s_client -> bulwark listen: suites, groups, HelloRetryRequest, client certificates,
# resumption, KeyUpdate, ALPN, an RSA server certificate, IPv6, 64 MiB each way.
# Usage: openssl_client.sh BULWARK
source "$(dirname "$0")/lib.sh"
interop_init "openssl s_client -> listen" "$@"
P=$tmp/pki
ecdsa=(--cert "$P/server.crt" --key "$P/server.key")
echo "hello from s_client" >"$tmp/hello"

# s_client NAME ARGS... (stdin as given): TLS 1.3, verifying our chain; status in $src.
s_client() {
  local name=$1
  shift
  timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_3 -CAfile "$CA" \
    -verify_return_error "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  src=$?
}
# The listener's one line for the connection that just ran.
conn_line() { grep '^bulwark listen: 127.0.0.1:[0-9]* TLSv1.3' "$tmp/l.err" | tail -1; }
conn_line12() { grep '^bulwark listen: 127.0.0.1:[0-9]* TLSv1.2' "$tmp/l.err" | tail -1; }

# basic: data reaches stdout, clean close both ways, exit 0 for --once.
start_listen l "${ecdsa[@]}" --once
s_client s -no_ign_eof <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && cmp -s "$tmp/hello" "$tmp/l.out" &&
  grep -q 'Verify return code: 0 (ok)' "$tmp/s.out"; then
  pass basic "data to stdout, verified, clean close"
else
  failed basic "data to stdout, verified, clean close" "s_client=$src listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi

# SSLKEYLOGFILE: our lines are exactly the ones s_client writes for the same connection (so
# Wireshark can decrypt with either), and the file is private (mode 0600).
SSLKEYLOGFILE=$tmp/ours.keys start_listen l "${ecdsa[@]}" --once
s_client s -no_ign_eof -keylogfile "$tmp/theirs.keys" <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && [[ $(stat -c %a "$tmp/ours.keys") == 600 ]] &&
  [[ $(grep -c '^[A-Z_0]* [0-9a-f]\{64\} [0-9a-f]\{64,96\}$' "$tmp/ours.keys") -eq 5 ]] &&
  diff <(grep -v '^#' "$tmp/theirs.keys" | sort) <(sort "$tmp/ours.keys") >/dev/null &&
  grep -q 'WARNING: writing TLS secrets' "$tmp/l.err"; then
  pass basic "SSLKEYLOGFILE equals s_client's -keylogfile"
else
  failed basic "SSLKEYLOGFILE equals s_client's -keylogfile" "s_client=$src listen=$exit_status" \
    "$tmp/ours.keys" "$tmp/theirs.keys" "$tmp/l.err"
fi

# IPv6 loopback.
start "l6" 30 "$bulwark" listen '[::1]:0' "${ecdsa[@]}" --once
pid6=$last_pid
wait_for "$tmp/l6.err" '^listening on ' 10
port6=$(sed -n 's/^listening on \[::1\]:\([0-9]*\)$/\1/p' "$tmp/l6.err")
timeout 20 openssl s_client -connect "[::1]:${port6:-0}" -tls1_3 -CAfile "$CA" -no_ign_eof \
  <"$tmp/hello" >"$tmp/s6.out" 2>&1
src=$?
wait_exit "$pid6" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && cmp -s "$tmp/hello" "$tmp/l6.out"; then
  pass basic "IPv6 [::1]"
else
  failed basic "IPv6 [::1]" "s_client=$src listen=$exit_status" "$tmp/l6.err" "$tmp/s6.out"
fi

for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
  start_listen l "${ecdsa[@]}" --once
  s_client s -no_ign_eof -ciphersuites "$suite" <"$tmp/hello"
  wait_exit "$listen_pid" 10
  if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q " TLSv1.3 $suite " &&
    grep -q "Cipher is $suite" "$tmp/s.out"; then
    pass suites "$suite"
  else
    failed suites "$suite" "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/s.err"
  fi
done

for group in x25519:X25519 secp256r1:P-256 secp384r1:P-384; do
  ours=${group%%:*} theirs=${group##*:}
  start_listen l "${ecdsa[@]}" --once
  s_client s -no_ign_eof -groups "$theirs" <"$tmp/hello"
  wait_exit "$listen_pid" 10
  if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q " $ours sni=.*hello_retry=no"; then
    pass groups "$ours"
  else
    failed groups "$ours" "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/s.err"
  fi
done

# HelloRetryRequest: s_client sends a share for x25519 only; we accept only P-256.
start_listen l "${ecdsa[@]}" --once --groups secp256r1
s_client s -no_ign_eof -groups x25519:P-256 <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' secp256r1 .*hello_retry=yes' &&
  cmp -s "$tmp/hello" "$tmp/l.out"; then
  pass hrr "x25519 share, listen wants P-256"
else
  failed hrr "x25519 share, listen wants P-256" "s_client=$src listen=$exit_status" "$tmp/l.err" \
    "$tmp/s.err"
fi

# Client certificates: required and given; required and missing; from a CA we do not trust;
# optional and missing.
start_listen l "${ecdsa[@]}" --once --client-ca "$CA" --verify-client require
s_client s -no_ign_eof -cert "$P/alice.crt" -key "$P/alice.key" <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' client=CN=alice$'; then
  pass client-auth "required, alice's certificate accepted"
else
  failed client-auth "required, alice's certificate accepted" "s_client=$src listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi
start_listen l "${ecdsa[@]}" --once --client-ca "$CA" --verify-client require
# (s_client's handshake ends before our alert comes: it must stay to read it.)
{ echo hi; sleep 0.5; } | s_client s -no_ign_eof
wait_exit "$listen_pid" 10
if [[ $exit_status -ne 0 ]] &&
  grep -q 'certificate_required.*; sent alert certificate_required' "$tmp/l.err" &&
  grep -qa 'alert certificate required' "$tmp/s.err" "$tmp/s.out"; then
  pass client-auth "required, none sent: certificate_required"
else
  failed client-auth "required, none sent: certificate_required" "listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi
start_listen l "${ecdsa[@]}" --once --client-ca "$CA" --verify-client require
{ echo hi; sleep 0.5; } | s_client s -no_ign_eof -cert "$P/mallory.crt" -key "$P/mallory.key"
wait_exit "$listen_pid" 10
if [[ $exit_status -ne 0 ]] &&
  grep -q 'client certificate issued by an unknown CA (cert_unknown_ca.*; sent alert unknown_ca' \
    "$tmp/l.err" && grep -qa 'alert unknown ca' "$tmp/s.err" "$tmp/s.out"; then
  pass reject "client certificate from an unknown CA: unknown_ca"
else
  failed reject "client certificate from an unknown CA: unknown_ca" "listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi
start_listen l "${ecdsa[@]}" --once --client-ca "$CA" --verify-client optional
s_client s -no_ign_eof <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line | grep -q ' client=none$'; then
  pass client-auth "optional, none sent: accepted"
else
  failed client-auth "optional, none sent: accepted" "s_client=$src listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi

# Resumption: s_client keeps the ticket in a file and offers it on the next connection.
start_listen l "${ecdsa[@]}"
{ echo one; sleep 0.5; } | s_client s -no_ign_eof -sess_out "$tmp/sess"
{ echo two; sleep 0.3; } | s_client s2 -no_ign_eof -sess_in "$tmp/sess"
sleep 0.2
stop "$listen_pid"
if [[ $src -eq 0 ]] && grep -q '^Reused, TLSv1.3' "$tmp/s2.out" &&
  [[ $(grep -c 'resumed=yes' "$tmp/l.err") -eq 1 ]] && printf 'one\ntwo\n' | cmp -s - "$tmp/l.out"; then
  pass resume "-sess_out / -sess_in: Reused"
else
  failed resume "-sess_out / -sess_in: Reused" "s_client=$src" "$tmp/l.err" "$tmp/s2.out"
fi

# KeyUpdate: s_client's K command asks for our update too; data flows after it.
start_listen l "${ecdsa[@]}" --once --trace
{ echo before; sleep 1; echo K; sleep 1; echo after; sleep 0.5; } | s_client s -no_ign_eof
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && grep -q 'KEYUPDATE' "$tmp/s.err" "$tmp/s.out" &&
  grep -q '^trace\[#1 .*\]: <- key_update' "$tmp/l.err" &&
  grep -q '^trace\[#1 .*\]: -> key_update' "$tmp/l.err" &&
  printf 'before\nafter\n' | cmp -s - "$tmp/l.out"; then
  pass key-update "s_client K: both sides updated, data after it"
else
  failed key-update "s_client K: both sides updated, data after it" \
    "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/l.out" "$tmp/s.err"
fi

# ALPN: our preference among the client's offers.
start_listen l "${ecdsa[@]}" --once --alpn http/1.1,h2
s_client s -no_ign_eof -alpn h2,http/1.1 <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && grep -q '^ALPN protocol: http/1.1' "$tmp/s.out" &&
  conn_line | grep -q ' alpn=http/1.1 '; then
  pass alpn "http/1.1 chosen by listen"
else
  failed alpn "http/1.1 chosen by listen" "s_client=$src listen=$exit_status" "$tmp/l.err" \
    "$tmp/s.out"
fi

start_listen l --cert "$P/server-rsa.crt" --key "$P/server-rsa.key" --once
s_client s -no_ign_eof <"$tmp/hello"
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && grep -q 'Verify return code: 0 (ok)' "$tmp/s.out" &&
  grep -q '^Peer signature type: RSA-PSS' "$tmp/s.out"; then
  pass rsa-cert "RSA-2048 certificate, RSA-PSS signature"
else
  failed rsa-cert "RSA-2048 certificate, RSA-PSS signature" "s_client=$src listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.out"
fi

# 64 MiB each way: s_client -> listen (stdout), then listen --respond -> s_client.
make_big
start_listen l "${ecdsa[@]}" --once
s_client s -quiet -no_ign_eof -nocommands <"$tmp/big"
wait_exit "$listen_pid" 30
if [[ $src -eq 0 && $exit_status -eq 0 ]] && [[ $(sha "$tmp/l.out") == "$big_sha" ]]; then
  pass 64MiB "64 MiB s_client -> listen, SHA-256 equal"
else
  failed 64MiB "64 MiB s_client -> listen, SHA-256 equal" "s_client=$src listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi
start_listen l "${ecdsa[@]}" --once --respond "$tmp/big"
s_client s -quiet -ign_eof -nocommands <"$tmp/hello"
wait_exit "$listen_pid" 30
if [[ $src -eq 0 && $exit_status -eq 0 ]] && [[ $(sha "$tmp/s.out") == "$big_sha" ]]; then
  pass 64MiB "64 MiB listen -> s_client, SHA-256 equal"
else
  failed 64MiB "64 MiB listen -> s_client, SHA-256 equal" "s_client=$src listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi

# TLS 1.2: ECDSA and RSA certificates, ChaCha20, resumption (session id and ticket), a client
# certificate, 64 MiB.
for c in "server:ECDHE-ECDSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" \
  "server-rsa:ECDHE-RSA-AES256-GCM-SHA384:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" \
  "server:ECDHE-ECDSA-CHACHA20-POLY1305:TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"; do
  IFS=: read -r cert theirs ours <<<"$c"
  start_listen l --cert "$P/$cert.crt" --key "$P/$cert.key" --once
  timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 -cipher "$theirs" -CAfile "$CA" \
    -verify_return_error -no_ign_eof <"$tmp/hello" >"$tmp/s.out" 2>"$tmp/s.err"
  src=$?
  wait_exit "$listen_pid" 10
  if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line12 | grep -q " TLSv1.2 $ours " &&
    cmp -s "$tmp/hello" "$tmp/l.out" && grep -q 'Extended master secret: yes' "$tmp/s.out"; then
    pass tls1.2 "$ours"
  else
    failed tls1.2 "$ours" "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/s.err" "$tmp/s.out"
  fi
done
for how in "ticket:" "session id:-no_ticket"; do
  name=${how%%:*} flag=${how#*:}
  start_listen l "${ecdsa[@]}"
  { echo one; sleep 0.5; } | timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 \
    -CAfile "$CA" -no_ign_eof $flag -sess_out "$tmp/sess12" >"$tmp/s.out" 2>"$tmp/s.err"
  { echo two; sleep 0.3; } | timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 \
    -CAfile "$CA" -no_ign_eof $flag -sess_in "$tmp/sess12" >"$tmp/s2.out" 2>"$tmp/s2.err"
  src=$?
  sleep 0.2
  stop "$listen_pid"
  if [[ $src -eq 0 ]] && grep -q '^Reused, TLSv1.2' "$tmp/s2.out" &&
    [[ $(grep -c 'TLSv1.2 .*resumed=yes' "$tmp/l.err") -eq 1 ]]; then
    pass tls1.2 "resumption by $name"
  else
    failed tls1.2 "resumption by $name" "s_client=$src" "$tmp/l.err" "$tmp/s2.out"
  fi
done
start_listen l "${ecdsa[@]}" --once --client-ca "$CA"
timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 -CAfile "$CA" -no_ign_eof \
  -cert "$P/alice.crt" -key "$P/alice.key" <"$tmp/hello" >"$tmp/s.out" 2>"$tmp/s.err"
src=$?
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line12 | grep -q ' client=CN=alice$'; then
  pass tls1.2 "client certificate"
else
  failed tls1.2 "client certificate" "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/s.err"
fi
start_listen l "${ecdsa[@]}" --once
timeout 30 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 -CAfile "$CA" -quiet -no_ign_eof \
  -nocommands <"$tmp/big" >/dev/null 2>"$tmp/s.err"
src=$?
wait_exit "$listen_pid" 30
if [[ $src -eq 0 && $exit_status -eq 0 ]] && [[ $(sha "$tmp/l.out") == "$big_sha" ]]; then
  pass tls1.2 "64 MiB s_client -> listen"
else
  failed tls1.2 "64 MiB s_client -> listen" "s_client=$src listen=$exit_status" "$tmp/l.err" \
    "$tmp/s.err"
fi

# 0-RTT: s_client resumes with -early_data; listen --max-early-data accepts it, and the early
# bytes reach stdout before the rest. Without --max-early-data our tickets allow no 0-RTT, so
# s_client sends none. (Refused and replayed early data are covered by the unit tests.)
echo "early bytes" >"$tmp/ed"
for mode in accept refuse; do
  extra=()
  [[ $mode == accept ]] && extra=(--max-early-data 16384)
  start_listen l "${ecdsa[@]}" "${extra[@]}"
  { echo first; sleep 0.5; } | timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_3 \
    -CAfile "$CA" -sess_out "$tmp/sess.pem" >"$tmp/s1.out" 2>&1
  { echo second; sleep 0.5; } | timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_3 \
    -CAfile "$CA" -sess_in "$tmp/sess.pem" -early_data "$tmp/ed" >"$tmp/s2.out" 2>&1
  sleep 0.3
  stop "$listen_pid"
  if [[ $mode == accept ]]; then
    if grep -q 'Early data was accepted' "$tmp/s2.out" &&
      grep -q 'early_data=accepted' "$tmp/l.err" &&
      [[ $(tr '\n' ' ' <"$tmp/l.out") == "first early bytes second " ]]; then
      pass resume "0-RTT: s_client -early_data accepted"
    else
      failed resume "0-RTT: s_client -early_data accepted" "" "$tmp/l.err" "$tmp/l.out" \
        "$tmp/s2.out"
    fi
  else
    if grep -q 'Early data was not sent' "$tmp/s2.out" && grep -q 'Reused' "$tmp/s2.out" &&
      ! grep -q 'early bytes' "$tmp/l.out" && grep -q '^second$' "$tmp/l.out"; then
      pass resume "0-RTT off by default: tickets allow none"
    else
      failed resume "0-RTT off by default: tickets allow none" "" "$tmp/l.err" "$tmp/l.out" \
        "$tmp/s2.out"
    fi
  fi
done

# Renegotiation (the THC flood's lever) is never performed: s_client's `R` command asks for it,
# we answer with a no_renegotiation warning, and s_client gives up on its own.
start_listen l "${ecdsa[@]}" --once --echo
{ echo before; sleep 0.5; echo R; sleep 1; } | timeout 20 openssl s_client \
  -connect "127.0.0.1:$lport" -tls1_2 -CAfile "$CA" >"$tmp/s.out" 2>"$tmp/s.err"
wait_exit "$listen_pid" 10
if grep -q RENEGOTIATING "$tmp/s.err" && grep -q "no renegotiation" "$tmp/s.err" &&
  grep -q '^before$' "$tmp/s.out" && conn_line12 | grep -q 'resumed=no'; then
  pass tls1.2 "renegotiation (s_client R) refused"
else
  failed tls1.2 "renegotiation (s_client R) refused" "listen=$exit_status" "$tmp/l.err" \
    "$tmp/s.out" "$tmp/s.err"
fi

interop_finish
