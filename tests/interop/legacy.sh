#!/usr/bin/env bash
# The TLS 1.2 legacy policy against real peers, both directions: every legacy suite (ECDHE
# with AES-CBC and ECDSA or RSA certificates, RSA key transport with GCM and CBC, DHE_RSA with
# the RFC 7919 groups) between `bulwark connect --legacy` and `openssl s_server -tls1_2
# -cipher X`, and between `openssl s_client -tls1_2 -cipher X` and `bulwark listen --legacy`;
# resumption and 64 MiB with a CBC suite; DHE groups chosen by RFC 7919 and a small prime
# refused; refusal without --legacy; gnutls-cli and gnutls-serv on CBC and DHE.
# Usage: legacy.sh BULWARK
source "$(dirname "$0")/lib.sh"
interop_init "connect --legacy -> openssl s_server" "$@"
P=$tmp/pki
printf 'GET / HTTP/1.0\r\n\r\n' >"$tmp/get"
echo "hello over a legacy suite" >"$tmp/hello"

# OpenSSL name : IANA name : certificate, for every legacy suite.
suites=(
  "ECDHE-ECDSA-AES128-SHA:TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:server"
  "ECDHE-ECDSA-AES256-SHA:TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:server"
  "ECDHE-ECDSA-AES128-SHA256:TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:server"
  "ECDHE-ECDSA-AES256-SHA384:TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384:server"
  "ECDHE-RSA-AES128-SHA:TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:server-rsa"
  "ECDHE-RSA-AES256-SHA:TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:server-rsa"
  "ECDHE-RSA-AES128-SHA256:TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:server-rsa"
  "ECDHE-RSA-AES256-SHA384:TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384:server-rsa"
  "AES128-GCM-SHA256:TLS_RSA_WITH_AES_128_GCM_SHA256:server-rsa"
  "AES256-GCM-SHA384:TLS_RSA_WITH_AES_256_GCM_SHA384:server-rsa"
  "AES128-SHA:TLS_RSA_WITH_AES_128_CBC_SHA:server-rsa"
  "AES256-SHA:TLS_RSA_WITH_AES_256_CBC_SHA:server-rsa"
  "AES128-SHA256:TLS_RSA_WITH_AES_128_CBC_SHA256:server-rsa"
  "AES256-SHA256:TLS_RSA_WITH_AES_256_CBC_SHA256:server-rsa"
  "DHE-RSA-AES128-GCM-SHA256:TLS_DHE_RSA_WITH_AES_128_GCM_SHA256:server-rsa"
  "DHE-RSA-AES256-GCM-SHA384:TLS_DHE_RSA_WITH_AES_256_GCM_SHA384:server-rsa"
)

# The key exchange word of our `parameters:` line for a suite: the ECDHE group we offer first,
# RSA key transport, or "dhe" for s_server's automatic DH group (OpenSSL 3.0 picks a 2048-bit
# group of its own, not an RFC 7919 one, for a 2048-bit RSA key).
kx_word() {
  case $1 in
    TLS_ECDHE_*) echo x25519 ;;
    TLS_RSA_*) echo rsa_key_transport ;;
    TLS_DHE_*) echo dhe ;;
  esac
}

# s_server NAME ARGS...: openssl s_server -tls1_2 on a free port $sport; PID in $server_pid.
s_server() {
  local name=$1
  shift
  sport=$(free_port)
  start "$name" 60 openssl s_server -accept "127.0.0.1:$sport" -tls1_2 "$@"
  server_pid=$last_pid
  wait_port "$sport"
}

# ---- connect --legacy -> s_server -cipher X ----------------------------------------------------
for entry in "${suites[@]}"; do
  IFS=: read -r theirs ours cert <<<"$entry"
  s_server www -cert "$P/$cert.crt" -key "$P/$cert.key" -www -naccept 1 -cipher "$theirs"
  run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --legacy -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.2 $ours $(kx_word "$ours")$" "$tmp/c.err" &&
    grep -q '^extended_master_secret: yes' "$tmp/c.err" &&
    grep -qa "^New, .*, Cipher is $theirs\$" "$tmp/c.out" &&
    grep -qa 'Protocol  : TLSv1.2' "$tmp/c.out" &&
    grep -q 'WARNING: --legacy' "$tmp/c.err"; then
    pass legacy "$ours"
  else
    failed legacy "$ours" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
  fi
  stop "$server_pid"
done

# --ciphers names one legacy suite: only it is offered (s_server would take any of ours).
s_server www -cert "$P/server-rsa.crt" -key "$P/server-rsa.key" -www -naccept 1 -cipher ALL
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --legacy -v \
  --ciphers TLS_RSA_WITH_AES_256_CBC_SHA256 <"$tmp/get"
if [[ $rc -eq 0 ]] && grep -q '^parameters: TLSv1.2 TLS_RSA_WITH_AES_256_CBC_SHA256 ' "$tmp/c.err"; then
  pass legacy "--ciphers with one legacy suite"
else
  failed legacy "--ciphers with one legacy suite" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"

# Resumption with a CBC suite (session ticket from s_server).
s_server www -cert "$P/server-rsa.crt" -key "$P/server-rsa.key" -www -naccept 2 \
  -cipher ECDHE-RSA-AES256-SHA384
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --legacy --reconnect 1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && [[ $(grep '^resumed: ' "$tmp/c.err" | tail -1) == 'resumed: yes' ]] &&
  grep -qa 'Reused, .*, Cipher is ECDHE-RSA-AES256-SHA384' "$tmp/c.out"; then
  pass legacy "CBC resumption"
else
  failed legacy "CBC resumption" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"

# 64 MiB through a CBC suite, compared by SHA-256.
make_big
s_server bulk -cert "$P/server-rsa.crt" -key "$P/server-rsa.key" -quiet -naccept 1 -cipher AES128-SHA
run_bulwark c 90 connect "127.0.0.1:$sport" --cacert "$CA" --legacy <"$tmp/big"
wait_exit "$server_pid" 20
if [[ $rc -eq 0 ]] && [[ $(sha "$tmp/bulk.out") == "$big_sha" ]]; then
  pass legacy "64 MiB over TLS_RSA_WITH_AES_128_CBC_SHA"
else
  failed legacy "64 MiB over TLS_RSA_WITH_AES_128_CBC_SHA" "rc=$rc" "$tmp/c.err" "$tmp/bulk.err"
fi

# DHE groups: the server's RFC 7919 group by name, its own 2048-bit group, and a 1536-bit one
# (which s_server accepts only at security level 0) that we refuse (Logjam) with
# insufficient_security.
for g in "ffdhe3072:ffdhe3072" "modp_2048:dhe" "modp_1536:refused"; do
  theirs=${g%%:*} expect=${g##*:}
  openssl genpkey -genparam -algorithm DH -pkeyopt "group:$theirs" -out "$tmp/$theirs.pem" \
    2>>"$tmp/pki.log"
  s_server dh -cert "$P/server-rsa.crt" -key "$P/server-rsa.key" -www -naccept 1 \
    -cipher 'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' -dhparam "$tmp/$theirs.pem"
  run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --legacy -v <"$tmp/get"
  if [[ $expect == refused ]]; then
    wait_exit "$server_pid" 5
    if [[ $rc -ne 0 ]] &&
      grep -q "handshake failed: insufficient_security: the server's DH prime has 1536 bits.*sent alert insufficient_security" "$tmp/c.err" &&
      grep -qa 'SSL alert number 71' "$tmp/dh.out" "$tmp/dh.err"; then
      pass legacy "DHE $theirs (1536 bits) refused: insufficient_security"
    else
      failed legacy "DHE $theirs (1536 bits) refused: insufficient_security" "rc=$rc" "$tmp/c.err" \
        "$tmp/dh.err"
    fi
  elif [[ $rc -eq 0 ]] &&
    grep -q "^parameters: TLSv1.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 $expect$" "$tmp/c.err"; then
    pass legacy "DHE with s_server -dhparam $theirs"
  else
    failed legacy "DHE with s_server -dhparam $theirs" "rc=$rc" "$tmp/c.err" "$tmp/dh.err"
  fi
  stop "$server_pid"
done

# Without --legacy: nothing in common with a CBC-only server, and the remedy names --legacy;
# a legacy suite in --ciphers is a usage error.
s_server www -cert "$P/server-rsa.crt" -key "$P/server-rsa.key" -www -naccept 1 -cipher AES128-SHA
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --tls-max 1.2 <"$tmp/get"
if [[ $rc -ne 0 ]] && grep -q 'sent alert handshake_failure — .*--legacy' "$tmp/c.err" &&
  ! grep -q 'WARNING: --legacy' "$tmp/c.err"; then
  pass legacy "without --legacy: handshake_failure, remedy names --legacy"
else
  failed legacy "without --legacy: handshake_failure, remedy names --legacy" "rc=$rc" "$tmp/c.err"
fi
stop "$server_pid"
run_bulwark c 20 connect "127.0.0.1:1" --ciphers TLS_RSA_WITH_AES_128_CBC_SHA <"$tmp/get"
if [[ $rc -eq 2 ]] && grep -q 'TLS_RSA_WITH_AES_128_CBC_SHA is a legacy suite: add --legacy' "$tmp/c.err"; then
  pass legacy "legacy suite in --ciphers needs --legacy"
else
  failed legacy "legacy suite in --ciphers needs --legacy" "rc=$rc" "$tmp/c.err"
fi

# RFC 7627: a server without the extended master secret (OpenSSL with -ExtendedMasterSecret in
# its configuration): refused by default, accepted with --legacy (RFC 5246 §8.1 master secret),
# and its session is not offered again (RFC 7627 §5.3).
cat >"$tmp/no-ems.cnf" <<'CNF'
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = sys
[sys]
Options = -ExtendedMasterSecret
CNF
OPENSSL_CONF=$tmp/no-ems.cnf s_server www -cert "$P/server.crt" -key "$P/server.key" -www -naccept 1
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --tls-max 1.2 <"$tmp/get"
if [[ $rc -ne 0 ]] && grep -q 'the server does not use the extended master secret' "$tmp/c.err"; then
  pass legacy "server without EMS refused by default"
else
  failed legacy "server without EMS refused by default" "rc=$rc" "$tmp/c.err" "$tmp/www.err"
fi
stop "$server_pid"
OPENSSL_CONF=$tmp/no-ems.cnf s_server www -cert "$P/server.crt" -key "$P/server.key" -www -naccept 2
run_bulwark c 20 connect "127.0.0.1:$sport" --cacert "$CA" --legacy --reconnect 1 -v <"$tmp/get"
if [[ $rc -eq 0 ]] && [[ $(grep -c '^extended_master_secret: no' "$tmp/c.err") -eq 2 ]] &&
  [[ $(grep -c '^resumed: no' "$tmp/c.err") -eq 2 ]] &&
  [[ $(grep -ac '^New, TLSv1.2' "$tmp/c.out") -eq 2 ]]; then
  pass legacy "--legacy: server without EMS, session not resumed"
else
  failed legacy "--legacy: server without EMS, session not resumed" "rc=$rc" "$tmp/c.err" \
    "$tmp/www.err"
fi
stop "$server_pid"

# ---- s_client -cipher X -> listen --legacy -----------------------------------------------------
ROW="openssl s_client -> listen --legacy"
conn_line12() { grep '^bulwark listen: 127.0.0.1:[0-9]* TLSv1.2' "$tmp/l.err" | tail -1; }
for entry in "${suites[@]}"; do
  IFS=: read -r theirs ours cert <<<"$entry"
  start_listen l --cert "$P/$cert.crt" --key "$P/$cert.key" --legacy --once
  timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 -cipher "$theirs" -CAfile "$CA" \
    -verify_return_error -no_ign_eof <"$tmp/hello" >"$tmp/s.out" 2>"$tmp/s.err"
  src=$?
  wait_exit "$listen_pid" 10
  if [[ $src -eq 0 && $exit_status -eq 0 ]] && conn_line12 | grep -q " TLSv1.2 $ours " &&
    cmp -s "$tmp/hello" "$tmp/l.out" && grep -q 'Extended master secret: yes' "$tmp/s.out" &&
    grep -q "Cipher is $theirs\$" "$tmp/s.out" && grep -q 'WARNING: --legacy' "$tmp/l.err"; then
    pass legacy "$ours"
  else
    failed legacy "$ours" "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/s.err" "$tmp/s.out"
  fi
done

# RFC 7919 §4: a client that names no FFDHE group (OpenSSL 3.0 lists them for TLS 1.3 only)
# gets our first, ffdhe2048. (gnutls-cli below names one.)
start_listen l --cert "$P/server-rsa.crt" --key "$P/server-rsa.key" --legacy --once
timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 -cipher DHE-RSA-AES256-GCM-SHA384 \
  -groups P-256 -CAfile "$CA" -verify_return_error -no_ign_eof <"$tmp/hello" >"$tmp/s.out" \
  2>"$tmp/s.err"
src=$?
wait_exit "$listen_pid" 10
if [[ $src -eq 0 && $exit_status -eq 0 ]] &&
  conn_line12 | grep -q " TLSv1.2 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 ffdhe2048 "; then
  pass legacy "DHE, no FFDHE group named: ffdhe2048"
else
  failed legacy "DHE, no FFDHE group named: ffdhe2048" "s_client=$src listen=$exit_status" \
    "$tmp/l.err" "$tmp/s.err"
fi

# Resumption with a CBC suite, by ticket and by session id.
for how in "ticket:" "session id:-no_ticket"; do
  name=${how%%:*} flag=${how#*:}
  start_listen l --cert "$P/server.crt" --key "$P/server.key" --legacy
  { echo one; sleep 0.5; } | timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 \
    -cipher ECDHE-ECDSA-AES128-SHA256 -CAfile "$CA" -no_ign_eof $flag -sess_out "$tmp/sess" \
    >"$tmp/s.out" 2>"$tmp/s.err"
  { echo two; sleep 0.3; } | timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 \
    -cipher ECDHE-ECDSA-AES128-SHA256 -CAfile "$CA" -no_ign_eof $flag -sess_in "$tmp/sess" \
    >"$tmp/s2.out" 2>"$tmp/s2.err"
  src=$?
  sleep 0.2
  stop "$listen_pid"
  if [[ $src -eq 0 ]] && grep -q '^Reused, .*, Cipher is ECDHE-ECDSA-AES128-SHA256' "$tmp/s2.out" &&
    [[ $(grep -c 'TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 .*resumed=yes' "$tmp/l.err") -eq 1 ]]; then
    pass legacy "CBC resumption by $name"
  else
    failed legacy "CBC resumption by $name" "s_client=$src" "$tmp/l.err" "$tmp/s2.out"
  fi
done

# 64 MiB from s_client through CBC with HMAC-SHA384 (every record opened in constant time).
start_listen l --cert "$P/server.crt" --key "$P/server.key" --legacy --once
timeout 60 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 -cipher ECDHE-ECDSA-AES256-SHA384 \
  -CAfile "$CA" -quiet -no_ign_eof -nocommands <"$tmp/big" >/dev/null 2>"$tmp/s.err"
src=$?
wait_exit "$listen_pid" 30
if [[ $src -eq 0 && $exit_status -eq 0 ]] && [[ $(sha "$tmp/l.out") == "$big_sha" ]]; then
  pass legacy "64 MiB over TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"
else
  failed legacy "64 MiB over TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" \
    "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/s.err"
fi

# A client without the extended master secret: refused by default, served with --legacy.
for mode in default legacy; do
  flags=(--once)
  [[ $mode == legacy ]] && flags+=(--legacy)
  start_listen l --cert "$P/server.crt" --key "$P/server.key" "${flags[@]}"
  OPENSSL_CONF=$tmp/no-ems.cnf timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 \
    -CAfile "$CA" -verify_return_error -no_ign_eof <"$tmp/hello" >"$tmp/s.out" 2>"$tmp/s.err"
  src=$?
  wait_exit "$listen_pid" 10
  if [[ $mode == default ]]; then
    if [[ $src -ne 0 ]] &&
      grep -q 'the client does not offer the extended master secret' "$tmp/l.err"; then
      pass legacy "client without EMS refused by default"
    else
      failed legacy "client without EMS refused by default" "s_client=$src" "$tmp/l.err" "$tmp/s.err"
    fi
  elif [[ $src -eq 0 && $exit_status -eq 0 ]] && cmp -s "$tmp/hello" "$tmp/l.out" &&
    grep -q 'Extended master secret: no' "$tmp/s.out"; then
    pass legacy "--legacy: client without EMS served"
  else
    failed legacy "--legacy: client without EMS served" "s_client=$src listen=$exit_status" \
      "$tmp/l.err" "$tmp/s.err" "$tmp/s.out"
  fi
done

# Without --legacy the server refuses a client with only legacy suites.
start_listen l --cert "$P/server-rsa.crt" --key "$P/server-rsa.key" --once
timeout 20 openssl s_client -connect "127.0.0.1:$lport" -tls1_2 -cipher AES128-SHA:DHE-RSA-AES128-GCM-SHA256 \
  -CAfile "$CA" -no_ign_eof <"$tmp/hello" >"$tmp/s.out" 2>"$tmp/s.err"
src=$?
wait_exit "$listen_pid" 10
if [[ $src -ne 0 ]] && grep -qa 'alert handshake failure' "$tmp/s.err" "$tmp/s.out" &&
  grep -q 'handshake failed: handshake_failure' "$tmp/l.err"; then
  pass legacy "listen without --legacy refuses a legacy-only client"
else
  failed legacy "listen without --legacy refuses a legacy-only client" \
    "s_client=$src listen=$exit_status" "$tmp/l.err" "$tmp/s.err"
fi

# ---- gnutls, both ways -----------------------------------------------------------------------
ROW="gnutls-cli -> listen --legacy"
tls12='NORMAL:-VERS-ALL:+VERS-TLS1.2'
# CIPHER | MAC | KX | more priority | our suite and key exchange word. gnutls-cli names its
# FFDHE groups in TLS 1.2 (RFC 7919), so the DHE cell shows the server taking the client's.
for c in "AES-128-CBC|SHA1|RSA||TLS_RSA_WITH_AES_128_CBC_SHA rsa_key_transport" \
  "AES-256-CBC|SHA384|ECDHE-RSA||TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 x25519" \
  "AES-128-GCM|AEAD|DHE-RSA|-GROUP-ALL:+GROUP-FFDHE3072|TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 ffdhe3072"; do
  IFS='|' read -r cipher mac kx extra ours <<<"$c"
  start_listen l --cert "$P/server-rsa.crt" --key "$P/server-rsa.key" --legacy --once
  timeout 20 gnutls-cli --x509cafile "$CA" -p "$lport" \
    --priority "$tls12:-CIPHER-ALL:+$cipher:-MAC-ALL:+$mac:-KX-ALL:+$kx${extra:+:$extra}" localhost \
    <"$tmp/hello" >"$tmp/g.out" 2>"$tmp/g.err"
  gsrc=$?
  wait_exit "$listen_pid" 10
  if [[ $gsrc -eq 0 && $exit_status -eq 0 ]] && conn_line12 | grep -q " TLSv1.2 $ours " &&
    cmp -s "$tmp/hello" "$tmp/l.out"; then
    pass legacy "${ours% *}"
  else
    failed legacy "${ours% *}" "gnutls-cli=$gsrc listen=$exit_status" "$tmp/l.err" "$tmp/g.out" \
      "$tmp/g.err"
  fi
done

ROW="connect --legacy -> gnutls-serv"
for c in "AES-256-CBC:SHA1:ECDHE-ECDSA:server:TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" \
  "AES-256-CBC:SHA256:RSA:server-rsa:TLS_RSA_WITH_AES_256_CBC_SHA256" \
  "AES-256-GCM:AEAD:DHE-RSA:server-rsa:TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"; do
  IFS=: read -r cipher mac kx cert ours <<<"$c"
  gport=$(free_port)
  start gs 60 gnutls-serv -p "$gport" --http --x509certfile "$P/$cert.crt" \
    --x509keyfile "$P/$cert.key" --priority "$tls12:-CIPHER-ALL:+$cipher:-MAC-ALL:+$mac:-KX-ALL:+$kx"
  gs_pid=$last_pid
  wait_port "$gport"
  # gnutls-serv stops at our close_notify: keep reading until it has answered.
  run_bulwark c 20 connect --ign-eof "localhost:$gport" --cacert "$CA" --legacy -v <"$tmp/get"
  if [[ $rc -eq 0 ]] && grep -q "^parameters: TLSv1.2 $ours " "$tmp/c.err" &&
    grep -qa 'TLS1.2' "$tmp/c.out"; then
    pass legacy "$ours"
  else
    failed legacy "$ours" "rc=$rc" "$tmp/c.err" "$tmp/gs.err"
  fi
  stop "$gs_pid"
done

interop_finish
