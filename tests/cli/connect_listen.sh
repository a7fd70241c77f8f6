#!/usr/bin/env bash
# `bulwark connect` and `bulwark listen` as commands: help, usage errors, one-line failures
# with their exit statuses, clean close versus truncation, timeouts, signals, the key log.
# Usage: connect_listen.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# refuse STATUS PATTERN DESCRIPTION COMMAND...: exits with STATUS and prints exactly one stderr
# line matching PATTERN.
refuse() {
  local status=$1 pattern=$2 what=$3
  shift 3
  timeout 20 "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne $status ]] || [[ $(wc -l <"$tmp/err") -ne 1 ]] || ! grep -q -- "$pattern" "$tmp/err"
  then
    bad "$what (exit $rc, want $status; stderr must be one line matching '$pattern')" "$tmp/err"
  else
    ok
  fi
}
# listen_bg NAME ARGS...: bulwark listen 127.0.0.1:0 in the background; $lpid, $lport.
listen_bg() {
  local name=$1
  shift
  rm -f "$tmp/$name.err"
  timeout 60 "$bulwark" listen 127.0.0.1:0 "$@" <"$tmp/hold" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  lpid=$!
  pids+=("$lpid")
  lport=
  local i
  for ((i = 0; i < 200; i++)); do
    lport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/$name.err" 2>/dev/null)
    [[ -n $lport ]] && return 0
    sleep 0.05
  done
  return 1
}

"$bulwark" ca init "$tmp/ca" >/dev/null 2>&1 &&
  "$bulwark" ca issue "$tmp/ca" --name localhost --ip 127.0.0.1 --ip ::1 --out "$tmp/srv" >/dev/null &&
  "$bulwark" ca issue "$tmp/ca" --name localhost --out "$tmp/other" >/dev/null || {
  echo "FAIL: cannot make the test certificates"
  exit 1
}
CA=$tmp/ca/ca.crt
srv=(--cert "$tmp/srv.crt" --key "$tmp/srv.key")

# --- help ----------------------------------------------------------------------------------
for sub in connect listen; do
  if "$bulwark" $sub --help >"$tmp/out" 2>&1 && grep -q -- '--timeout' "$tmp/out"; then ok; else
    bad "$sub --help" "$tmp/out"
  fi
done
"$bulwark" --help >"$tmp/out" 2>&1
grep -q 'connect, listen' "$tmp/out" && ok || bad "top-level help names connect and listen" "$tmp/out"

# --- usage errors: exit 2 (ours) or CLI11's own status, never 0 ------------------------------
refuse 2 'TLS 1.0 is obsolete (RFC 8996)' "--tls-min 1.0" "$bulwark" connect 127.0.0.1:1 --tls-min 1.0
refuse 2 'TLS 1.1 is obsolete' "--tls-min 1.1" "$bulwark" listen 127.0.0.1:0 "${srv[@]}" --tls-min 1.1
refuse 2 '--tls-min is above --tls-max' "empty version range" \
  "$bulwark" connect 127.0.0.1:1 --tls-min 1.3 --tls-max 1.2
refuse 2 'none of the --ciphers suites exists' "TLS 1.3 suites with --tls-max 1.2" \
  "$bulwark" connect 127.0.0.1:1 --tls-max 1.2 --ciphers TLS_AES_128_GCM_SHA256
refuse 2 "unknown TLS version '1.4'" "--tls-max 1.4" "$bulwark" connect 127.0.0.1:1 --tls-max 1.4
refuse 2 "unknown cipher suite 'TLS_RC4'" "bad suite" "$bulwark" connect 127.0.0.1:1 --ciphers TLS_RC4
refuse 2 "unknown group 'ffdhe2048'" "bad group" "$bulwark" listen 127.0.0.1:0 "${srv[@]}" --groups ffdhe2048
refuse 2 '--cert and --key go together' "--cert alone" "$bulwark" connect 127.0.0.1:1 --cert "$tmp/srv.crt"
refuse 2 'contradict' "--insecure with --cacert" "$bulwark" connect 127.0.0.1:1 --insecure --cacert "$CA"
refuse 1 'has no :PORT' "no port" "$bulwark" connect example.org
refuse 1 'IPv6 address in brackets' "bare IPv6" "$bulwark" connect ::1:443
refuse 1 'the port is not 0..65535' "port out of range" "$bulwark" connect 127.0.0.1:70000
refuse 2 '--verify-client needs --client-ca' "--verify-client alone" \
  "$bulwark" listen 127.0.0.1:0 "${srv[@]}" --verify-client require
timeout 10 "$bulwark" listen 127.0.0.1:0 "${srv[@]}" --echo --respond "$tmp/srv.crt" </dev/null \
  >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc -ne 0 ]] && grep -q 'excludes' "$tmp/err" && ok || bad "--echo with --respond" "$tmp/err"
timeout 10 "$bulwark" listen 127.0.0.1:0 </dev/null >/dev/null 2>"$tmp/err"
[[ $? -ne 0 ]] && grep -q -- '--cert is required' "$tmp/err" && ok || bad "listen without --cert" "$tmp/err"

# --- files and sockets: exit 1, one line -----------------------------------------------------
refuse 1 'io_error' "missing certificate file" \
  "$bulwark" listen 127.0.0.1:0 --cert "$tmp/nope.crt" --key "$tmp/srv.key"
refuse 1 'does not belong to the certificate' "key of another certificate" \
  "$bulwark" listen 127.0.0.1:0 --cert "$tmp/srv.crt" --key "$tmp/other.key"
refuse 1 'io_error' "missing --cacert" "$bulwark" connect 127.0.0.1:1 --cacert "$tmp/nope.pem"
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
refuse 1 "cannot connect to 127.0.0.1:$closed_port: Connection refused — is the server running" \
  "nobody listening" "$bulwark" connect "127.0.0.1:$closed_port"
listen_bg busy "${srv[@]}"
refuse 1 'Address already in use' "port in use" "$bulwark" listen "127.0.0.1:$lport" "${srv[@]}"

# --- a conversation: echo, -v, clean close -------------------------------------------------
echo "ping over TLS" >"$tmp/msg"
timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" -v <"$tmp/msg" >"$tmp/c.out" 2>"$tmp/c.err"
rc=$?
# (the busy listener copies to stdout; the echo listener below answers)
[[ $rc -eq 0 ]] && grep -q '^resumed: no' "$tmp/c.err" &&
  grep -q '^verification: OK (chain and host name)' "$tmp/c.err" &&
  grep -q '^server certificate: CN=localhost' "$tmp/c.err" &&
  grep -q '^closed: cleanly' "$tmp/c.err" && ok || bad "connect -v: parameters, clean close" "$tmp/c.err"
sleep 0.2
cmp -s "$tmp/msg" "$tmp/busy.out" && ok || bad "listen copied the data to stdout" "$tmp/busy.out"
kill "$lpid"

listen_bg echo "${srv[@]}" --echo --once -v
timeout 20 "$bulwark" connect "localhost:$lport" --cacert "$CA" <"$tmp/msg" >"$tmp/c.out" 2>"$tmp/c.err"
rc=$?
wait_pid "$lpid" 10
[[ $rc -eq 0 && $st -eq 0 ]] && cmp -s "$tmp/msg" "$tmp/c.out" && [[ ! -s $tmp/c.err ]] &&
  grep -q 'closed cleanly' "$tmp/echo.err" && ok ||
  bad "--echo round trip (exit $rc / $st, quiet stderr)" "$tmp/c.err" "$tmp/echo.err"

# TLS 1.2 when both sides are limited to it; --key-update is refused there, in one line.
listen_bg v12 "${srv[@]}" --echo --once --tls-max 1.2
timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" -v --tls-max 1.2 <"$tmp/msg" \
  >"$tmp/c.out" 2>"$tmp/c.err"
rc=$?
wait_pid "$lpid" 10
[[ $rc -eq 0 && $st -eq 0 ]] && cmp -s "$tmp/msg" "$tmp/c.out" &&
  grep -q '^parameters: TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519$' "$tmp/c.err" &&
  grep -q '^extended_master_secret: yes' "$tmp/c.err" && ok || bad "TLS 1.2 echo" "$tmp/c.err" "$tmp/v12.err"
listen_bg v12 "${srv[@]}" --echo --once --tls-max 1.2
refuse 1 '--key-update needs TLS 1.3' "--key-update over TLS 1.2" \
  "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" --key-update
wait_pid "$lpid" 10

# IPv6.
rm -f "$tmp/v6.err"
timeout 20 "$bulwark" listen '[::1]:0' "${srv[@]}" --echo --once <"$tmp/hold" >/dev/null 2>"$tmp/v6.err" &
lpid=$!
pids+=("$lpid")
for ((i = 0; i < 100; i++)); do grep -q '^listening on' "$tmp/v6.err" 2>/dev/null && break; sleep 0.05; done
port6=$(sed -n 's/^listening on \[::1\]:\([0-9]*\)$/\1/p' "$tmp/v6.err")
timeout 20 "$bulwark" connect "[::1]:${port6:-1}" --cacert "$CA" <"$tmp/msg" >"$tmp/c.out" 2>"$tmp/c.err"
rc=$?
wait_pid "$lpid" 10
[[ $rc -eq 0 && $st -eq 0 ]] && cmp -s "$tmp/msg" "$tmp/c.out" && ok || bad "IPv6 [::1]" "$tmp/c.err" "$tmp/v6.err"

# --- connections are served concurrently, at most --max-connections at a time ---------------
# Client A stays connected (its stdin does not end) while client B comes and goes.
concurrency() {  # concurrency MAX: B's exit status in $st while A still holds its connection
  listen_bg conc "${srv[@]}" --echo --max-connections "$1"
  timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" <"$tmp/hold" >/dev/null 2>&1 &
  apid=$!
  pids+=("$apid")
  for ((i = 0; i < 100; i++)); do grep -q 'TLSv1.3' "$tmp/conc.err" && break; sleep 0.05; done
  timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" --timeout 2 <"$tmp/msg" \
    >"$tmp/b.out" 2>"$tmp/b.err" &
  bpid=$!
  pids+=("$bpid")
  wait_pid "$bpid" 5
  kill "$lpid" "$apid" 2>/dev/null
}
concurrency 64
[[ $st -eq 0 ]] && cmp -s "$tmp/msg" "$tmp/b.out" && ok || bad "two clients at once (exit $st)" "$tmp/b.err"
concurrency 1
[[ $st -eq 1 ]] && grep -q 'timed out: no handshake within 2 s' "$tmp/b.err" && ok ||
  bad "--max-connections 1: the second client waits (exit $st)" "$tmp/b.err"

# --- handshake failures name their cause ---------------------------------------------------
listen_bg hs "${srv[@]}" --groups secp384r1 --once
refuse 1 'handshake failed: the server sent alert handshake_failure — no parameters in common' \
  "no common group" "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" --groups x25519
wait_pid "$lpid" 10
[[ $st -eq 1 ]] && grep -q 'handshake failed: handshake_failure' "$tmp/hs.err" && ok ||
  bad "listen names the failed handshake (exit $st)" "$tmp/hs.err"
listen_bg name "${srv[@]}" --once
refuse 1 'server certificate does not match the host name.*sent alert bad_certificate — ' \
  "wrong name" "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" --sni www.example.org
wait_pid "$lpid" 10
grep -q 'the client sent alert bad_certificate' "$tmp/name.err" && ok ||
  bad "listen heard our bad_certificate alert" "$tmp/name.err"
listen_bg alpn "${srv[@]}" --once --alpn h2
refuse 1 'no_application_protocol' "no common ALPN protocol" \
  "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" --alpn http/1.1

# --- --quiet: no line per connection, failures still reported -----------------------------
listen_bg quiet "${srv[@]}" --quiet --max-connections 4 --alpn h2
echo ping | timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" --alpn h2 >/dev/null 2>&1
refuse 1 'no_application_protocol' "no common ALPN protocol with a --quiet listen" \
  "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" --alpn http/1.1
for ((i = 0; i < 100; i++)); do grep -q 'no_application_protocol' "$tmp/quiet.err" && break; sleep 0.05; done
# A handshake-only client that leaves without close_notify (as openssl s_time does): no line.
timeout 20 python3 -c '
import os, socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.set_alpn_protocols(["h2"])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
tls = ctx.wrap_socket(raw, server_hostname="localhost")
assert tls.version() == "TLSv1.3"
os.close(tls.detach())  # the TCP connection ends, no close_notify
' "$lport" "$CA"
quiet_client=$?
sleep 0.3
[[ $quiet_client -eq 0 ]] && ! grep -q 'TLSv1.3' "$tmp/quiet.err" &&
  grep -q 'no_application_protocol' "$tmp/quiet.err" && ! grep -q 'truncated' "$tmp/quiet.err" && ok ||
  bad "--quiet prints the failure only" "$tmp/quiet.err"
kill -TERM "$lpid"
wait_pid "$lpid" 10

# --- truncation is not a clean close --------------------------------------------------------
# The server dies (SIGKILL: no close_notify) while the client waits for data. (Started without
# `timeout`, whose PID would take the SIGKILL in its place.)
rm -f "$tmp/trunc.err"
"$bulwark" listen 127.0.0.1:0 "${srv[@]}" <"$tmp/hold" >/dev/null 2>"$tmp/trunc.err" &
lpid=$!
pids+=("$lpid")
for ((i = 0; i < 100; i++)); do grep -q '^listening on' "$tmp/trunc.err" 2>/dev/null && break; sleep 0.05; done
lport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/trunc.err")
timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" <"$tmp/hold" >/dev/null 2>"$tmp/c.err" &
cpid=$!
pids+=("$cpid")
for ((i = 0; i < 100; i++)); do grep -q 'TLSv1.3' "$tmp/trunc.err" && break; sleep 0.05; done
kill -9 "$lpid"
wait "$lpid" 2>/dev/null
wait_pid "$cpid" 10
[[ $st -eq 1 ]] && [[ $(wc -l <"$tmp/c.err") -eq 1 ]] &&
  grep -q 'truncated: the server closed the connection without close_notify' "$tmp/c.err" && ok ||
  bad "truncation reported (exit $st)" "$tmp/c.err"

# --- SIGTERM: listen sends close_notify to live clients and exits 0 -------------------------
listen_bg term "${srv[@]}"
timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" <"$tmp/hold" >/dev/null 2>"$tmp/c.err" &
cpid=$!
pids+=("$cpid")
for ((i = 0; i < 100; i++)); do grep -q 'TLSv1.3' "$tmp/term.err" && break; sleep 0.05; done
kill -TERM "$lpid"
wait_pid "$lpid" 10
lst=$st
wait_pid "$cpid" 10
[[ $lst -eq 0 && $st -eq 0 ]] && [[ ! -s $tmp/c.err ]] && ok ||
  bad "SIGTERM: close_notify to the client (listen exit $lst, connect exit $st)" "$tmp/c.err" \
    "$tmp/term.err"

# --- timeouts -------------------------------------------------------------------------------
# A TCP server that never says anything.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); time.sleep(15)' >"$tmp/mute.port" &
mpid=$!
pids+=("$mpid")
for ((i = 0; i < 100; i++)); do [[ -s $tmp/mute.port ]] && break; sleep 0.05; done
start=$SECONDS
refuse 1 'timed out: no handshake within 1 s' "handshake timeout" \
  "$bulwark" connect "127.0.0.1:$(cat "$tmp/mute.port")" --timeout 1
[[ $((SECONDS - start)) -le 5 ]] && ok || bad "the timeout took $((SECONDS - start)) s"
kill "$mpid" 2>/dev/null

# --- SSLKEYLOGFILE: appended lines in NSS format, mode 0600 ----------------------------------
listen_bg kl "${srv[@]}" --echo --once
SSLKEYLOGFILE=$tmp/keys timeout 20 "$bulwark" connect "127.0.0.1:$lport" --cacert "$CA" \
  <"$tmp/msg" >/dev/null 2>"$tmp/c.err"
rc=$?
[[ $rc -eq 0 ]] && [[ $(stat -c %a "$tmp/keys") == 600 ]] &&
  [[ $(grep -cE '^(CLIENT|SERVER)_(HANDSHAKE_)?TRAFFIC_SECRET(_0)? [0-9a-f]{64} [0-9a-f]{64}$' "$tmp/keys") -eq 4 ]] &&
  grep -qE '^EXPORTER_SECRET [0-9a-f]{64} [0-9a-f]{64}$' "$tmp/keys" &&
  grep -q 'WARNING: writing TLS secrets' "$tmp/c.err" && ok || bad "key log" "$tmp/keys" "$tmp/c.err"

summary connect_listen
