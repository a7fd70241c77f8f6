#!/usr/bin/env bash
# The `bulwark ca` and `bulwark cert` subcommands, end to end. Usage: ca_cert.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check() {  # check DESCRIPTION COMMAND...: the command must succeed
  local what=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then pass=$((pass+1)); else
    echo "FAIL: $what"; cat "$tmp/out" "$tmp/err"; failures=$((failures+1)); fi
}
refuse() {  # refuse DESCRIPTION PATTERN COMMAND...: must fail with one stderr line matching
  local what=$1 pattern=$2; shift 2
  if "$@" >"$tmp/out" 2>"$tmp/err"; then
    echo "FAIL: $what (succeeded)"; failures=$((failures+1)); return
  fi
  if [[ $(wc -l <"$tmp/err") -ne 1 ]] || ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: $what (stderr should be one line matching '$pattern'):"; cat "$tmp/err"
    failures=$((failures+1)); return
  fi
  pass=$((pass+1))
}

check "version" "$bulwark" --version
grep -q '^bulwark [0-9]' "$tmp/out" || { echo "FAIL: --version output"; failures=$((failures+1)); }
check "help" "$bulwark" --help
check "ca help" "$bulwark" ca init --help

check "ca init" "$bulwark" ca init "$tmp/ca" --name "Test CA"
[[ $(stat -c %a "$tmp/ca/ca.key") == 600 ]] || { echo "FAIL: ca.key mode"; failures=$((failures+1)); }
grep -q -- "--cacert" "$tmp/out" || { echo "FAIL: ca init does not say how to trust the CA"; failures=$((failures+1)); }
refuse "ca init twice" "already exists" "$bulwark" ca init "$tmp/ca"

for key in ecdsa-p256 ecdsa-p384 rsa-2048 ed25519; do
  check "issue $key" "$bulwark" ca issue "$tmp/ca" --name localhost --ip 127.0.0.1 --key $key --out "$tmp/$key"
  check "verify $key" "$bulwark" cert verify "$tmp/$key.crt" --cacert "$tmp/ca/ca.crt" --name localhost
  # The key must match the certificate: openssl agrees on the public key.
  a=$(openssl x509 -in "$tmp/$key.crt" -noout -pubkey | sha256sum)
  b=$(openssl pkey -in "$tmp/$key.key" -pubout | sha256sum)
  [[ "$a" == "$b" ]] || { echo "FAIL: $key key does not match certificate"; failures=$((failures+1)); }
  # An independent verifier accepts what we issued.
  check "openssl verify $key" openssl verify -CAfile "$tmp/ca/ca.crt" -purpose sslserver "$tmp/$key.crt"
done
check "verify by IP" "$bulwark" cert verify "$tmp/ecdsa-p256.crt" --cacert "$tmp/ca/ca.crt" --name 127.0.0.1
refuse "wrong host" "cert_hostname_mismatch" "$bulwark" cert verify "$tmp/ecdsa-p256.crt" --cacert "$tmp/ca/ca.crt" --name www.example.org
refuse "wrong IP" "cert_hostname_mismatch" "$bulwark" cert verify "$tmp/ecdsa-p256.crt" --cacert "$tmp/ca/ca.crt" --name 127.0.0.2
refuse "unknown CA" "cert_unknown_ca" "$bulwark" cert verify "$tmp/ecdsa-p256.crt" --name localhost
refuse "expired at a later time" "cert_expired" "$bulwark" cert verify "$tmp/ecdsa-p256.crt" --cacert "$tmp/ca/ca.crt" --at 2099-01-01
refuse "not yet valid" "cert_not_yet_valid" "$bulwark" cert verify "$tmp/ecdsa-p256.crt" --cacert "$tmp/ca/ca.crt" --at 2001-01-01
refuse "server cert used as client" "cert_wrong_purpose" "$bulwark" cert verify "$tmp/ecdsa-p256.crt" --cacert "$tmp/ca/ca.crt" --purpose client

check "client certificate" "$bulwark" ca issue "$tmp/ca" --name alice --client --out "$tmp/alice"
check "client purpose" "$bulwark" cert verify "$tmp/alice.crt" --cacert "$tmp/ca/ca.crt" --purpose client
refuse "IP given as --name" "--ip" "$bulwark" ca issue "$tmp/ca" --name 10.0.0.1 --out "$tmp/x"
refuse "issue without a CA" "bulwark ca init" "$bulwark" ca issue "$tmp/nope" --name a --out "$tmp/y"
refuse "missing file" "io_error" "$bulwark" cert show "$tmp/does-not-exist.pem"
echo "garbage" >"$tmp/garbage.pem"
refuse "garbage file" "decode_failed" "$bulwark" cert show "$tmp/garbage.pem"

check "show json" "$bulwark" cert show --json "$tmp/ecdsa-p256.crt"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["dns_names"]==["localhost"], d; assert d[0]["ip_addresses"]==["127.0.0.1"], d; assert d[0]["key"]=="ec-p256", d' "$tmp/out" \
  || { echo "FAIL: show --json content"; failures=$((failures+1)); }
check "system store verifies a public root" "$bulwark" cert verify /etc/ssl/certs/ISRG_Root_X1.pem --purpose any

summary ca_cert
