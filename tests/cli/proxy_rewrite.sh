#!/usr/bin/env bash
# `bulwark proxy` as an HTTP-aware relay, with curl as the client and tests/cli/echo_upstream.py
# (an HTTPS server that echoes each request) as the upstream: --replace on the request target,
# the request body (Content-Length and chunked) and the response body (Content-Length and
# chunked), a gzip response left alone and Accept-Encoding not forwarded, --log-flows lines
# checked field by field with python3's json, keep-alive (N requests on one client connection:
# N flow lines, one upstream connection), plain http:// keep-alive, an upstream that cuts a
# response (the client sees an error, not a hang) or closes without one (502), and an
# upstream with an expired certificate (502 naming it; --upstream-insecure the way round).
# Usage: proxy_rewrite.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export XDG_DATA_HOME=$tmp/xdg

"$bulwark" ca init "$tmp/up" --name "upstream test CA" >/dev/null 2>&1 || bad "ca init up"
"$bulwark" ca init "$tmp/pca" --name "proxy test CA" >/dev/null 2>&1 || bad "ca init pca"
"$bulwark" ca issue "$tmp/up" --name localhost --out "$tmp/srv" >/dev/null 2>&1 || bad "ca issue"

# echo_bg NAME ARGS...: the echo upstream on a free port ($eport).
echo_bg() {
  local name=$1
  shift
  eport=$(free_port)
  timeout -k 3 110 python3 "$here/echo_upstream.py" "$eport" "$@" >"$tmp/$name.out" 2>&1 &
  pids+=($!)
  wait_port "$eport" || bad "echo upstream $name did not start" "$tmp/$name.out"
}
echo_bg tls --cert "$tmp/srv.crt" --key "$tmp/srv.key"
tport=$eport
echo_bg plain
hport=$eport

# has FILE TEXT DESCRIPTION: FILE holds the line TEXT.
has() { grep -qxF -- "$2" "$1" && ok || bad "$3 (no line '$2')" "$1"; }

# --- rewriting -------------------------------------------------------------------------------
# '|' separates the second rule's parts, so its TO may hold ':'.
proxy_bg rw --upstream-cacert "$tmp/up/ca.crt" --log-flows "$tmp/rw.flows" \
  --replace 'request:cats:dogs' --replace 'response|method=|METHOD:'
base="https://localhost:$tport"

pcurl "$base/search?q=cats" -o "$tmp/q.body" 2>"$tmp/q.err" || bad "request rewrite: curl" "$tmp/q.err"
has "$tmp/q.body" "target=/search?q=dogs" "the upstream echoes the rewritten query"
has "$tmp/q.body" "METHOD:GET" "the response body is rewritten"

pcurl "$base/post" --data-binary "I like cats and cats" -o "$tmp/p.body" 2>"$tmp/p.err" ||
  bad "request body rewrite: curl" "$tmp/p.err"
has "$tmp/p.body" "body=I like dogs and dogs" "the request body is rewritten"
has "$tmp/p.body" "framing=length 20" "the request's Content-Length is recomputed"

printf 'chunked cats' >"$tmp/chunked.in"
pcurl "$base/post" -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/chunked.in" \
  -o "$tmp/c.body" 2>"$tmp/c.err" || bad "chunked request: curl" "$tmp/c.err"
has "$tmp/c.body" "body=chunked dogs" "a chunked request body is rewritten"
has "$tmp/c.body" "framing=length 12" "a rewritten chunked request goes with a Content-Length"

pcurl "$base/chunked?x=cats" -D "$tmp/ch.head" -o "$tmp/ch.body" 2>"$tmp/ch.err" ||
  bad "chunked response: curl" "$tmp/ch.err"
has "$tmp/ch.body" "METHOD:GET" "a chunked response body is rewritten"
grep -qi '^content-length:' "$tmp/ch.head" && ok ||
  bad "a rewritten chunked response carries a Content-Length" "$tmp/ch.head"

pcurl --compressed "$base/gzip" -o "$tmp/gz.body" 2>"$tmp/gz.err" || bad "gzip: curl" "$tmp/gz.err"
has "$tmp/gz.body" "method=GET" "a gzip response passes unchanged"
has "$tmp/gz.body" "accept-encoding=-" "Accept-Encoding is not forwarded when response rules exist"

# --- the flow log, field by field --------------------------------------------------------------
python3 - "$tmp/rw.flows" "$tport" >"$tmp/flows.check" 2>&1 <<'EOF' && ok || bad "flow log fields" "$tmp/flows.check" "$tmp/rw.flows"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
port = sys.argv[2]
flows = [json.loads(l) for l in lines]
assert len(flows) == 5, "%d flow lines" % len(flows)
first = flows[0]
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"]), first["time"]
assert re.fullmatch(r"127\.0\.0\.1:\d+", first["client"]), first["client"]
assert first["method"] == "GET"
assert first["url"] == "https://localhost:%s/search?q=dogs" % port, first["url"]
assert first["status"] == 200
assert first["request_bytes"] == 0
assert first["response_bytes"] > 0
assert first["tls_version"] == "TLS 1.3", first["tls_version"]
assert first["tls_suite"].startswith("TLS_"), first["tls_suite"]
assert first["upstream_connect_ms"] > 0
assert 0 < first["first_byte_ms"] <= first["total_ms"]
assert first["replacements"] == 2, first["replacements"]
assert first["notes"] == []
post = flows[1]
assert post["method"] == "POST" and post["request_bytes"] == 20, post
assert post["replacements"] == 3, post
gz = flows[4]
assert gz["url"].endswith("/gzip")
assert gz["notes"] == ["replace skipped: content-encoding gzip"], gz["notes"]
assert gz["replacements"] == 0
print("ok")
EOF

# --- keep-alive: N requests on one connection, N flow lines, one upstream connection ----------
proxy_bg ka --upstream-cacert "$tmp/up/ca.crt" --log-flows "$tmp/ka.flows"
pcurl -v "$base/a" "$base/b" "$base/c" "$base/d" -o "$tmp/ka1" -o "$tmp/ka2" -o "$tmp/ka3" \
  -o "$tmp/ka4" 2>"$tmp/ka.v" || bad "keep-alive: curl" "$tmp/ka.v"
[[ $(grep -c "Re-using existing connection" "$tmp/ka.v") -eq 3 ]] && ok ||
  bad "keep-alive: one client connection" "$tmp/ka.v"
[[ $(cat "$tmp/ka1" "$tmp/ka2" "$tmp/ka3" "$tmp/ka4" | grep '^conn=' | sort -u | wc -l) -eq 1 ]] && ok ||
  bad "keep-alive: one upstream connection" "$tmp/ka1" "$tmp/ka4"
python3 - "$tmp/ka.flows" >"$tmp/ka.check" 2>&1 <<'EOF' && ok || bad "keep-alive flow lines" "$tmp/ka.check" "$tmp/ka.flows"
import json, sys
flows = [json.loads(l) for l in open(sys.argv[1])]
assert [f["url"].rsplit("/", 1)[1] for f in flows] == ["a", "b", "c", "d"], flows
assert flows[0]["upstream_connect_ms"] is not None
assert all(f["upstream_connect_ms"] is None for f in flows[1:]), "one upstream handshake"
assert len({f["client"] for f in flows}) == 1
print("ok")
EOF

# --- plain http:// with keep-alive -------------------------------------------------------------
curl -sS --max-time 20 -x "http://127.0.0.1:$pport" -v "http://127.0.0.1:$hport/x?cats" \
  "http://127.0.0.1:$hport/y" -o "$tmp/h1" -o "$tmp/h2" 2>"$tmp/h.v" || bad "plain: curl" "$tmp/h.v"
has "$tmp/h1" "target=/x?cats" "plain: origin-form target upstream"
grep -q "Re-using existing connection" "$tmp/h.v" && ok || bad "plain: keep-alive" "$tmp/h.v"
[[ $(cat "$tmp/h1" "$tmp/h2" | grep '^conn=' | sort -u | wc -l) -eq 1 ]] && ok ||
  bad "plain: one upstream connection" "$tmp/h1" "$tmp/h2"
tail -1 "$tmp/ka.flows" | grep -q "\"url\":\"http://127.0.0.1:$hport/y\"" && ok ||
  bad "plain: flow line" "$tmp/ka.flows"

# --- upstream failures: an error, never a hang --------------------------------------------------
started=$SECONDS
pcurl "$base/truncate" -o /dev/null 2>"$tmp/trunc.err"
st=$?
[[ $st -ne 0 && $((SECONDS - started)) -lt 15 ]] && ok ||
  bad "a cut response is an error for the client (status $st)" "$tmp/trunc.err"
tail -1 "$tmp/ka.flows" | grep -q 'response body: ' && ok || bad "a cut response is in the flow log" "$tmp/ka.flows"
code=$(pcurl "$base/silent-close" -o "$tmp/silent.body" -w '%{http_code}' 2>"$tmp/silent.err")
[[ $code == 502 ]] && grep -q 'no response' "$tmp/silent.body" && ok ||
  bad "no response from the upstream: 502 ($code)" "$tmp/silent.body" "$tmp/silent.err"

# --- an expired upstream certificate: refused with its reason; --upstream-insecure -----------
python3 - "$tmp/up/ca.crt" "$tmp/up/ca.key" "$tmp/expired" <<'EOF' || bad "expired certificate"
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
ca_cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
ca_key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256()))
open(sys.argv[3] + ".crt", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(sys.argv[3] + ".key", "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
EOF
echo_bg expired --cert "$tmp/expired.crt" --key "$tmp/expired.key"
xport=$eport
pcurl "https://localhost:$xport/" -o /dev/null 2>"$tmp/exp.err"
grep -q "CONNECT tunnel failed, response 502" "$tmp/exp.err" && ok || bad "expired: curl sees 502" "$tmp/exp.err"
grep -q '502 .*cert_expired' "$tmp/ka.err" && ok || bad "expired: the reason is logged" "$tmp/ka.err"
proxy_bg insecure --upstream-insecure
pcurl "https://localhost:$xport/ok" -o "$tmp/insecure.body" 2>"$tmp/insecure.err" &&
  grep -qxF "target=/ok" "$tmp/insecure.body" && ok ||
  bad "expired: --upstream-insecure is the way round" "$tmp/insecure.err" "$tmp/insecure.err"

summary proxy_rewrite.sh
