#!/usr/bin/env bash
# `bulwark get` against `bulwark serve`: a 256 MiB download checksummed (TLS 1.3) and a TLS 1.2
# one, the embedded local CA, ALPN, -I, --fail, Range, the directory redirect with -L, and
# session resumption with the server's tickets.
# Usage: get_serve.sh BULWARK
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The server's embedded local CA and localhost certificate live here.
export XDG_DATA_HOME=$tmp/xdg
CA=$XDG_DATA_HOME/bulwark/ca.crt

# get STATUS DESCRIPTION ARGS...: bulwark get ARGS, stdout in $tmp/out, stderr in $tmp/err.
get() {
  local want=$1 what=$2
  shift 2
  timeout 120 "$bulwark" get "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [[ $rc -ne $want ]]; then
    bad "$what (exit $rc, want $want)" "$tmp/err"
    return 1
  fi
  return 0
}
expect_err() {
  if grep -q -- "$1" "$tmp/err"; then ok; else bad "$2: stderr lacks '$1'" "$tmp/err"; fi
}

mkdir -p "$tmp/www/dir"
head -c $((256 << 20)) /dev/urandom >"$tmp/www/big.bin"
head -c $((16 << 20)) /dev/urandom >"$tmp/www/medium.bin"
echo "inside a directory" >"$tmp/www/dir/index.html"
echo "0123456789abcdefghij" >"$tmp/www/digits.txt"

serve_bg www "$tmp/www" || { bad "bulwark serve did not start" "$tmp/www.err"; exit 1; }
U="https://127.0.0.1:$sport"
[[ -f $CA ]] && ok || bad "serve created its local CA" "$tmp/www.err"

# 256 MiB over TLS 1.3, checksummed as it streams out of stdout.
want=$(sha256sum <"$tmp/www/big.bin" | cut -d' ' -f1)
# (pipefail: the assignment's status is bulwark's when it fails)
got=$(timeout 120 "$bulwark" get "$U/big.bin" --cacert "$CA" 2>"$tmp/err" | sha256sum | cut -d' ' -f1)
rc=$?
[[ $rc -eq 0 && $got == "$want" ]] && ok || bad "256 MiB download checksum (exit $rc)" "$tmp/err"
# The same to a file, with -v: TLS 1.3 and ALPN http/1.1.
if get 0 "256 MiB to -o with -v" "$U/big.bin" --cacert "$CA" -o "$tmp/big.out" -v; then
  [[ $(sha256sum <"$tmp/big.out" | cut -d' ' -f1) == "$want" ]] && ok || bad "256 MiB -o checksum"
  expect_err '^\* TLS: TLSv1.3 ' "TLS 1.3 with serve"
  expect_err '^\* ALPN: http/1.1' "ALPN http/1.1 with serve"
  expect_err '^< Content-Length: 268435456' "Content-Length of 256 MiB"
fi
rm -f "$tmp/big.out"
# TLS 1.2.
if get 0 "16 MiB over TLS 1.2" "$U/medium.bin" --cacert "$CA" --tls-max 1.2 -o "$tmp/medium.out" -v; then
  cmp -s "$tmp/medium.out" "$tmp/www/medium.bin" && ok || bad "TLS 1.2 download content"
  expect_err '^\* TLS: TLSv1.2 ' "TLS 1.2 with serve"
fi

# -I, --fail, Range, the directory redirect.
if get 0 "-I" "$U/digits.txt" --cacert "$CA" -I; then
  grep -q '^HTTP/1.1 200 OK' "$tmp/out" && grep -qi '^Content-Length: 21' "$tmp/out" && ok ||
    bad "-I head from serve" "$tmp/out"
fi
get 22 "--fail on 404" "$U/no-such-file" --cacert "$CA" --fail && expect_err 'HTTP 404' "--fail"
get 0 "Range" "$U/digits.txt" --cacert "$CA" -H 'Range: bytes=2-5' -v &&
  expect_err '^< HTTP/1.1 206 ' "Range: 206" && { [[ $(cat "$tmp/out") == 2345 ]] && ok || bad "Range bytes" "$tmp/out"; }
get 0 "-L into a directory" "$U/dir" --cacert "$CA" -L -v &&
  expect_err '^\* following the redirect (301)' "directory redirect" &&
  { grep -q 'inside a directory' "$tmp/out" && ok || bad "directory index after -L" "$tmp/out"; }

# Tickets: the second run resumes, TLS 1.3 and TLS 1.2.
for max in 1.3 1.2; do
  rm -f "$tmp/sess"
  get 0 "--session first (TLS $max)" "$U/digits.txt" --cacert "$CA" --tls-max "$max" --session "$tmp/sess" -v &&
    expect_err '^\* resumed: no' "first --session run (TLS $max)"
  get 0 "--session second (TLS $max)" "$U/digits.txt" --cacert "$CA" --tls-max "$max" --session "$tmp/sess" -v &&
    expect_err '^\* resumed: yes' "second --session run resumes (TLS $max)"
done

summary get_serve
