#!/usr/bin/env bash
# `bulwark scan` as a command, on loopback: usage errors and an unreachable target (exit 2, 1);
# openssl s_server with default settings (nothing above LOW, exit 0; client-initiated
# renegotiation refused); openssl s_server configured weakly (TLS 1.0 to 1.2, every suite at
# security level 0, TLS 1.3 off, no EMS, legacy and client-initiated renegotiation, 1024-bit DH)
# where each weakness it has is found and what it lacks is not; a TLS 1.0-only s_server (the
# renegotiation probe, which needs TLS 1.2, says "not tested"); bulwark serve's defaults
# (nothing above LOW); a TLS 1.3-only s_server (certificate and ALPN through the engine);
# gnutls-serv with a weak priority string. Every --json document is checked against
# docs/scan-schema.json. Usage: scan.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
schema=$here/../../docs/scan-schema.json
# A small JSON-schema checker (the subset docs/scan-schema.json uses), python3 stdlib only.
cat >"$tmp/check_schema.py" <<'PY'
import json, re, sys
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
errors = []
def resolve(s):
    while "$ref" in s:
        s = schema["$defs"][s["$ref"].split("/")[-1]]
    return s
def check(s, v, path):
    s = resolve(s)
    t = s.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    if t == "integer" and not (isinstance(v, int) and not isinstance(v, bool)): errors.append(path + ": not an integer"); return
    if t == "number" and not (isinstance(v, (int, float)) and not isinstance(v, bool)): errors.append(path + ": not a number"); return
    if t in types and not isinstance(v, types[t]): errors.append(path + ": not " + t); return
    if "const" in s and v != s["const"]: errors.append(path + ": not " + repr(s["const"]))
    if "enum" in s and v not in s["enum"]: errors.append(path + ": %r not in enum" % (v,))
    if "pattern" in s and not re.search(s["pattern"], v): errors.append(path + ": %r does not match" % (v,))
    if "minimum" in s and v < s["minimum"]: errors.append(path + ": below minimum")
    if "maximum" in s and v > s["maximum"]: errors.append(path + ": above maximum")
    if t == "object":
        for k in s.get("required", []):
            if k not in v: errors.append(path + ": missing " + k)
        props = s.get("properties", {})
        for k, x in v.items():
            if k in props: check(props[k], x, path + "." + k)
            elif s.get("additionalProperties") is False: errors.append(path + ": unexpected " + k)
    if t == "array" and "items" in s:
        for i, x in enumerate(v): check(s["items"], x, "%s[%d]" % (path, i))
check(schema, doc, "$")
if errors:
    print("\n".join(errors[:20])); sys.exit(1)
PY
# scan WANT_STATUS DESCRIPTION ARGS...: bulwark scan ARGS, stdout in $tmp/out, stderr in $tmp/err.
scan() {
  local want=$1 what=$2
  shift 2
  local t0=$SECONDS
  timeout 60 "$bulwark" scan "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  rc=$?
  echo "  ($what: exit $rc, $((SECONDS - t0)) s)"
  if [[ $rc -ne $want ]]; then
    bad "$what (exit $rc, want $want)" "$tmp/out" "$tmp/err"
    return 1
  fi
  ok
  return 0
}
# The JSON of the last scan is valid against the schema.
valid_json() {
  python3 "$tmp/check_schema.py" "$schema" "$tmp/out" >"$tmp/schema.err" 2>&1 && ok ||
    bad "$1: JSON does not match docs/scan-schema.json" "$tmp/schema.err" "$tmp/out"
}
# sev ID: the severity of finding ID in the last JSON ("" when absent).
sev() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next((f["severity"] for f in d["findings"] if f["id"]==sys.argv[2]), ""))' "$tmp/out" "$1"
}
# expect ID SEVERITY WHAT
expect() {
  local got
  got=$(sev "$1")
  [[ $got == "$2" ]] && ok || bad "$3: $1 is '$got', want '$2'" "$tmp/out"
}
# nothing_above_low WHAT
nothing_above_low() {
  python3 - "$tmp/out" <<'PY' >"$tmp/above.txt" && ok || bad "$1: findings above LOW" "$tmp/above.txt"
import json, sys
d = json.load(open(sys.argv[1]))
hi = [f for f in d["findings"] if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL")]
for f in hi: print(f["id"], f["severity"], f["evidence"])
sys.exit(1 if hi else 0)
PY
}
offered() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next((str(p["offered"]).lower() for p in d["protocols"] if p["version"]==sys.argv[2]), ""))' "$tmp/out" "$1"
}

# --- PKI: a local CA and a localhost RSA certificate (RSA so that the weak suites work).
"$bulwark" ca init "$tmp/ca" --key rsa-2048 >/dev/null 2>"$tmp/ca.err" || bad "ca init" "$tmp/ca.err"
"$bulwark" ca issue "$tmp/ca" --name localhost --ip 127.0.0.1 --key rsa-2048 --out "$tmp/server" \
  >/dev/null 2>"$tmp/ca.err" || bad "ca issue" "$tmp/ca.err"
CA=$tmp/ca/ca.crt

# --- usage and reachability.
timeout 10 "$bulwark" scan --help >"$tmp/out" 2>&1 && grep -q -- '--checks' "$tmp/out" && ok || bad "--help" "$tmp/out"
scan 2 "unknown check" 127.0.0.1:1 --checks protocols,nonsense && grep -q 'unknown check: nonsense' "$tmp/err" && ok || bad "unknown check message" "$tmp/err"
scan 2 "bad port" 127.0.0.1:99999
dead=$(free_port)
scan 1 "nothing listening" "127.0.0.1:$dead" --timeout 1 && grep -q 'cannot connect' "$tmp/err" && ok || bad "refused message" "$tmp/err"

# --- openssl s_server, default settings.
port=$(free_port)
timeout 120 openssl s_server -accept "$port" -cert "$tmp/server.crt" -key "$tmp/server.key" -www -quiet \
  <&3 >"$tmp/ossl.out" 2>"$tmp/ossl.err" &
pids+=($!)
spid=$!
wait_port "$port" || bad "openssl s_server did not start" "$tmp/ossl.err"
if scan 0 "openssl s_server defaults" "127.0.0.1:$port" --cacert "$CA" --sni localhost --json; then
  valid_json "defaults"
  nothing_above_low "openssl defaults"
  [[ $(offered "TLS 1.3") == true ]] && ok || bad "defaults: TLS 1.3 not seen" "$tmp/out"
  [[ $(offered "TLS 1.2") == true ]] && ok || bad "defaults: TLS 1.2 not seen" "$tmp/out"
  [[ $(offered "SSL 2.0") == false ]] && ok || bad "defaults: SSL 2.0 reported" "$tmp/out"
  expect heartbleed OK "defaults"
  expect crime OK "defaults"
  expect renegotiation.secure OK "defaults"
  expect fallback_scsv OK "defaults"
  expect ems OK "defaults"
  expect certificate.trust OK "defaults"
  expect certificate.hostname OK "defaults"
  expect ccs_injection OK "defaults"
  # OpenSSL 3 refuses client-initiated renegotiation unless told otherwise.
  expect renegotiation.client OK "defaults"
  # OpenSSL 3's default groups, each accepted alone (TLS 1.3, HelloRetryRequest).
  grep -q '"id": "groups".*"evidence": "x25519, P-256, P-384, P-521, x448, ffdhe2048, ffdhe3072' "$tmp/out" &&
    ok || bad "defaults: groups" "$tmp/out"
  expect cipher.kinds INFO "defaults"
  grep -q 'got alert no_renegotiation (warning)' "$tmp/out" && ok || bad "defaults: no_renegotiation not seen" "$tmp/out"
  expect hsts LOW "defaults (s_server -www sends no HSTS)"
  grep -q '"id": "resumption".*TLS 1.3 session resumed on a second connection' "$tmp/out" && ok ||
    bad "defaults: TLS 1.3 resumption not seen" "$tmp/out"
  cp "$tmp/out" "$tmp/defaults.json"
fi
# The human table: sections, no colour when not a terminal, the grade and the time.
scan 0 "openssl s_server defaults, text" "127.0.0.1:$port" --cacert "$CA" --sni localhost --checks protocols,ciphers
grep -q '^Protocols' "$tmp/out" && grep -q 'TLS 1.3  offered' "$tmp/out" && grep -q '^Grade A' "$tmp/out" &&
  grep -q 'scan took' "$tmp/out" && ! grep -q $'\x1b' "$tmp/out" && ok || bad "text report" "$tmp/out"
# A wrong name is HIGH (exit 3).
scan 3 "wrong SNI" "127.0.0.1:$port" --cacert "$CA" --sni wrong.example --checks certificate --json &&
  expect certificate.hostname HIGH "wrong SNI"
# No --cacert: the local CA is unknown to the system store.
scan 3 "untrusted chain" "127.0.0.1:$port" --sni localhost --checks certificate --json &&
  expect certificate.trust HIGH "system store"
kill "$spid" 2>/dev/null

# --- openssl s_server, weak: TLS 1.0 to 1.2 (no TLS 1.3), every suite at security level 0,
# legacy and client-initiated renegotiation, no extended master secret (OpenSSL has no command
# option for that: a configuration file's system_default section), 1024-bit DH parameters.
# PKCS#3 parameters (a safe prime, a few seconds): s_server in OpenSSL 3.0 cannot load the X9.42
# ones `-dsaparam` writes and would quietly fall back to its automatic groups.
openssl dhparam -out "$tmp/dh1024.pem" 1024 2>/dev/null || bad "dhparam"
cat >"$tmp/no_ems.cnf" <<'CNF'
openssl_conf = conf
[conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = weak
[weak]
Options = -ExtendedMasterSecret
CNF
weak_args=(-cert "$tmp/server.crt" -key "$tmp/server.key" -www -quiet -no_tls1_3 -min_protocol TLSv1
  -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' -legacy_renegotiation -client_renegotiation
  -dhparam "$tmp/dh1024.pem")
port=$(free_port)
OPENSSL_CONF=$tmp/no_ems.cnf timeout 120 openssl s_server -accept "$port" "${weak_args[@]}" \
  <&3 >"$tmp/weak.out" 2>"$tmp/weak.err" &
pids+=($!)
spid=$!
wait_port "$port" || bad "weak openssl s_server did not start" "$tmp/weak.err"
if scan 4 "openssl s_server weak" "127.0.0.1:$port" --cacert "$CA" --sni localhost --json; then
  valid_json "weak"
  [[ $(offered "TLS 1.0") == true ]] && ok || bad "weak: TLS 1.0 not seen" "$tmp/out"
  [[ $(offered "TLS 1.1") == true ]] && ok || bad "weak: TLS 1.1 not seen" "$tmp/out"
  [[ $(offered "TLS 1.2") == true ]] && ok || bad "weak: TLS 1.2 not seen" "$tmp/out"
  [[ $(offered "TLS 1.3") == false ]] && ok || bad "weak: TLS 1.3 reported" "$tmp/out"
  expect protocol.tls10 MEDIUM "weak"
  expect protocol.tls11 MEDIUM "weak"
  expect protocol.tls13 LOW "weak"
  expect beast LOW "weak"
  expect cipher.anonymous HIGH "weak"
  expect cipher.null CRITICAL "weak"
  expect cipher.no_forward_secrecy LOW "weak"
  expect logjam MEDIUM "weak"
  grep -q 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256.*DHE 1024 bits' "$tmp/out" && ok || bad "weak: -dhparam not in use" "$tmp/out"
  expect ems LOW "weak"
  # Without EMS the engine's own handshake still reaches the HTTP server (s_server -www: no HSTS)
  # but does not resume (RFC 7627 §5.3).
  expect hsts LOW "weak"
  grep -q '"id": "resumption".*never resumed (RFC 7627' "$tmp/out" && ok || bad "weak: resumption without EMS" "$tmp/out"
  expect renegotiation.client MEDIUM "weak (-client_renegotiation)"
  grep -q 'was answered with a ServerHello' "$tmp/out" && ok || bad "weak: renegotiation evidence" "$tmp/out"
  grep -q '"id": "groups".*TLS 1.2.*x25519, P-256' "$tmp/out" && ok || bad "weak: TLS 1.2 groups" "$tmp/out"
  grep -q '"id": "cipher.kinds".*NULL [1-9]' "$tmp/out" && ok || bad "weak: suite kinds" "$tmp/out"
  # What this configuration lacks is not reported.
  expect protocol.modern "" "weak"
  expect protocol.sslv2 OK "weak"
  expect protocol.sslv3 OK "weak"
  expect heartbleed OK "weak"
  expect crime OK "weak"
  expect poodle OK "weak"
  expect cipher.export OK "weak"
  expect cipher.rc4 OK "weak"
  expect renegotiation.secure OK "weak (-legacy_renegotiation still answers RFC 5746)"
  expect fallback_scsv OK "weak"
  expect ccs_injection OK "weak"
  expect certificate.trust OK "weak"
  cp "$tmp/out" "$tmp/weak.json"
fi
kill "$spid" 2>/dev/null

# --- openssl s_server, TLS 1.0 only (the issue's `-tls1`): no TLS 1.2 or 1.3 is HIGH, and
# client-initiated renegotiation, which the probe tries over TLS 1.2, is "not tested" (INFO),
# never OK, although this server would renegotiate.
port=$(free_port)
timeout 120 openssl s_server -accept "$port" -cert "$tmp/server.crt" -key "$tmp/server.key" -www -quiet \
  -tls1 -cipher 'ALL:@SECLEVEL=0' -client_renegotiation <&3 >"$tmp/tls1.out" 2>"$tmp/tls1.err" &
pids+=($!)
spid=$!
wait_port "$port" || bad "TLS 1.0 openssl s_server did not start" "$tmp/tls1.err"
if scan 3 "openssl s_server TLS 1.0 only" "127.0.0.1:$port" --cacert "$CA" --sni localhost \
  --checks protocols,renegotiation --json; then
  valid_json "tls1"
  expect protocol.modern HIGH "TLS 1.0 only"
  expect renegotiation.client INFO "TLS 1.0 only"
  grep -q 'client-initiated renegotiation: not tested' "$tmp/out" && ok || bad "TLS 1.0 only: not tested" "$tmp/out"
fi
kill "$spid" 2>/dev/null

# --- LOGJAM with a well-known 1024-bit prime (RFC 5114's): HIGH, and the group is named.
openssl genpkey -genparam -algorithm DH -pkeyopt group:dh_1024_160 -out "$tmp/dh_common.pem" 2>/dev/null ||
  bad "genpkey dh_1024_160"
port=$(free_port)
timeout 120 openssl s_server -accept "$port" -cert "$tmp/server.crt" -key "$tmp/server.key" -www -quiet \
  -no_tls1_3 -cipher 'DHE:@SECLEVEL=0' -dhparam "$tmp/dh_common.pem" <&3 >"$tmp/dhc.out" 2>"$tmp/dhc.err" &
pids+=($!)
spid=$!
wait_port "$port" || bad "common-prime s_server did not start" "$tmp/dhc.err"
if scan 3 "common 1024-bit DH prime" "127.0.0.1:$port" --cacert "$CA" --sni localhost --checks ciphers --json; then
  expect logjam HIGH "common prime"
  grep -q 'DHE 1024 bits (dh_1024_160)' "$tmp/out" && ok || bad "common prime not named" "$tmp/out"
fi
kill "$spid" 2>/dev/null

# --- openssl s_server, TLS 1.3 only: the certificate is seen through bulwark's engine, ALPN too.
port=$(free_port)
timeout 120 openssl s_server -accept "$port" -cert "$tmp/server.crt" -key "$tmp/server.key" -www -quiet \
  -tls1_3 -alpn http/1.1 <&3 >"$tmp/tls13.out" 2>"$tmp/tls13.err" &
pids+=($!)
spid=$!
wait_port "$port" || bad "TLS 1.3 openssl s_server did not start" "$tmp/tls13.err"
if scan 0 "openssl s_server TLS 1.3 only" "127.0.0.1:$port" --cacert "$CA" --sni localhost --json; then
  valid_json "tls13"
  nothing_above_low "TLS 1.3 only"
  expect certificate.trust OK "TLS 1.3 only"
  grep -q 'TLS 1.3 handshake' "$tmp/out" && ok || bad "TLS 1.3 only: chain not from the engine" "$tmp/out"
  grep -q 'chose http/1.1' "$tmp/out" && ok || bad "TLS 1.3 only: ALPN" "$tmp/out"
  expect protocol.tls13 OK "TLS 1.3 only"
  expect heartbleed OK "TLS 1.3 only"
  expect renegotiation.client OK "TLS 1.3 only (RFC 8446 has no renegotiation)"
fi
kill "$spid" 2>/dev/null

# --- gnutls-serv with a weak priority string: TLS 1.0/1.1, RC4, 3DES, no EMS, no TLS 1.3.
port=$(free_port)
timeout 120 gnutls-serv --port "$port" --x509certfile "$tmp/server.crt" --x509keyfile "$tmp/server.key" \
  --priority 'NORMAL:-VERS-TLS1.3:+VERS-TLS1.0:+VERS-TLS1.1:+3DES-CBC:+ARCFOUR-128:%NO_SESSION_HASH' \
  <&3 >"$tmp/gnutls.out" 2>"$tmp/gnutls.err" &
pids+=($!)
spid=$!
wait_port "$port" || bad "gnutls-serv did not start" "$tmp/gnutls.err"
if scan 3 "gnutls-serv weak" "127.0.0.1:$port" --cacert "$CA" --sni localhost --json; then
  valid_json "gnutls"
  expect protocol.tls10 MEDIUM "gnutls"
  expect protocol.tls11 MEDIUM "gnutls"
  expect protocol.tls13 LOW "gnutls"
  expect cipher.rc4 HIGH "gnutls"
  expect sweet32 MEDIUM "gnutls"
  expect ems LOW "gnutls"
  expect fallback_scsv OK "gnutls"
  expect renegotiation.secure OK "gnutls"
  # gnutls-serv renegotiates whenever a client asks (checked by hand with openssl s_client's `R`).
  expect renegotiation.client MEDIUM "gnutls"
  expect cipher.export OK "gnutls"
  expect cipher.null OK "gnutls"
  expect protocol.sslv3 OK "gnutls"
  expect heartbleed OK "gnutls"
  expect crime OK "gnutls"
  expect ccs_injection OK "gnutls"
  grep -q 'DHE 2048 bits (ffdhe2048)' "$tmp/out" && ok || bad "gnutls: RFC 7919 group not named" "$tmp/out"
  expect logjam OK "gnutls"
fi
kill "$spid" 2>/dev/null

# --- HSTS: a python3 ssl server that sends Strict-Transport-Security.
port=$(free_port)
timeout 60 python3 -c '
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[3]))); s.listen(16)
while True:
    c, _ = s.accept(); c.settimeout(5)
    try:
        t = ctx.wrap_socket(c, server_side=True); t.recv(4096)
        t.sendall(b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=63072000; includeSubDomains\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        t.close()
    except Exception:
        c.close()
' "$tmp/server.crt" "$tmp/server.key" "$port" >"$tmp/py.out" 2>&1 &
pids+=($!)
spid=$!
wait_port "$port" || bad "python HSTS server did not start" "$tmp/py.out"
scan 0 "HSTS server" "127.0.0.1:$port" --cacert "$CA" --sni localhost --checks hsts --json &&
  expect hsts OK "HSTS server" &&
  { grep -q 'max-age=63072000' "$tmp/out" && ok || bad "HSTS evidence" "$tmp/out"; }
kill "$spid" 2>/dev/null

# --- bulwark serve, defaults: nothing above LOW.
export XDG_DATA_HOME=$tmp/xdg
mkdir -p "$tmp/www"
echo hello >"$tmp/www/index.html"
timeout 120 "$bulwark" serve --listen 127.0.0.1:0 "$tmp/www" >"$tmp/serve.out" 2>"$tmp/serve.err" &
spid=$!
pids+=("$spid")
sport=
for ((i = 0; i < 300; i++)); do
  sport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/serve.err" 2>/dev/null | head -1)
  [[ -n $sport ]] && break
  sleep 0.05
done
if [[ -z $sport ]]; then
  bad "bulwark serve did not start" "$tmp/serve.err"
elif scan 0 "bulwark serve defaults" "127.0.0.1:$sport" --cacert "$XDG_DATA_HOME/bulwark/ca.crt" --sni localhost --json; then
  valid_json "bulwark serve"
  nothing_above_low "bulwark serve"
  [[ $(offered "TLS 1.3") == true ]] && ok || bad "serve: TLS 1.3 not seen" "$tmp/out"
  expect protocol.tls10 OK "serve"
  expect certificate.trust OK "serve"
  expect renegotiation.client OK "serve"
  grep -q '"id": "groups".*"evidence": "x25519, P-256, P-384"' "$tmp/out" && ok || bad "serve: groups" "$tmp/out"
  grep -q 'got alert no_renegotiation (warning)' "$tmp/out" && ok || bad "serve: no_renegotiation not seen" "$tmp/out"
fi
kill "$spid" 2>/dev/null

summary scan
