#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) of bulwark's TLS engine next to libssl's, for
# the server side of one full TLS 1.3 handshake (ECDSA P-256, x25519, client verifies), of one
# resumed one (psk_dhe_ke), and for 1 MiB of bulk data (16 KiB and 1 KiB writes,
# TLS_AES_128_GCM_SHA256, sealing and opening; also for the raw EVP AEAD, bench_tls's
# ceiling). Unlike timings these hardly move between runs, so progress shows without noise.
#
#   bench/callgrind.sh [BENCH_TLS]         # default build/release/bench_tls
#   HANDSHAKES=20 BULK_MIB=1 TOP=25 bench/callgrind.sh build/perf/bench_tls
#
# Each case is one `bench_tls --instructions WHAT WHO` run under callgrind with
# --collect-atstart=no: the program toggles collection on around the counted calls only,
# after an uncounted warm-up, so process start, key generation and one-time fetches are left
# out. With TOP=N the N functions of largest inclusive cost of each case are printed too
# (callgrind_annotate); the files stay in OUT (default build/callgrind).
set -euo pipefail

bench=${1:-build/release/bench_tls}
handshakes=${HANDSHAKES:-20}
bulk_mib=${BULK_MIB:-1}
top=${TOP:-0}
out=${OUT:-build/callgrind}

command -v valgrind >/dev/null || {
  echo "callgrind.sh: valgrind is missing (scripts/bootstrap.sh installs it)" >&2
  exit 1
}
[[ -x $bench ]] || {
  echo "callgrind.sh: no bench_tls at $bench (build it with -DBULWARK_BENCH=ON)" >&2
  exit 1
}
mkdir -p "$out"

# Prints the instructions collected in one case: the `totals:` line of its output file.
count() {
  local what=$1 who=$2 file="$out/$1-$2.out"
  valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$file" \
    "$bench" --instructions "$what" "$who" --handshakes "$handshakes" \
    --bulk-mib "$bulk_mib" >"$out/$what-$who.log" 2>&1 || {
    echo "callgrind.sh: $what $who failed, see $out/$what-$who.log" >&2
    exit 1
  }
  grep -q '^collected: ' "$out/$what-$who.log" || {
    echo "callgrind.sh: $what $who collected nothing, see $out/$what-$who.log" >&2
    exit 1
  }
  local total
  total=$(awk '/^totals:/ {print $2}' "$file")
  [[ -n $total && $total -gt 0 ]] || {
    echo "callgrind.sh: no instruction total in $file" >&2
    exit 1
  }
  echo "$total"
}

printf 'callgrind instruction counts (Ir), %s, %s\n' "$bench" "$(valgrind --version)"
printf '%-44s %14s %14s %9s\n' "" "bulwark" "libssl" "ratio"
for what in full resumed bulk bulk1k; do
  bw=$(count "$what" bulwark)
  ls=$(count "$what" libssl)
  case $what in
  full) label="full TLS 1.3 server handshake (ECDSA)"; units=$handshakes ;;
  resumed) label="resumed TLS 1.3 server handshake (psk_dhe)"; units=$handshakes ;;
  bulk) label="$bulk_mib MiB bulk, 16 KiB writes (seal + open)"; units=1 ;;
  bulk1k) label="$bulk_mib MiB bulk, 1 KiB writes (seal + open)"; units=1 ;;
  esac
  # Per handshake for the handshake cases; ratio < 1 means bulwark executes fewer.
  awk -v l="$label" -v b="$bw" -v s="$ls" -v n="$units" \
    'BEGIN { printf "%-44s %14.0f %14.0f %8.2fx\n", l, b / n, s / n, b / s }'
  if ((top > 0)); then
    for who in bulwark libssl; do
      echo "  top $top inclusive, $what $who (of all $handshakes handshakes):"
      callgrind_annotate --inclusive=yes --threshold=100 "$out/$what-$who.out" 2>/dev/null |
        awk -v n="$top" '/^ *[0-9,]+ \(/ && shown < n { print "    " $0; ++shown }'
    done
  fi
done
# The bulk cases once more for the raw EVP AEAD (the ceiling of bench_tls 4): the same
# records sealed and opened with a kept EVP_CIPHER_CTX, no record layer.
for what in bulk bulk1k; do
  raw=$(count "$what" raw)
  bw=$(awk '/^totals:/ {print $2}' "$out/$what-bulwark.out")
  size=$([[ $what == bulk ]] && echo 16 || echo 1)
  awk -v l="raw EVP AEAD (ceiling), $size KiB records" -v b="$bw" -v r="$raw" \
    'BEGIN { printf "%-44s %14s %14.0f %8.2fx\n", l, "", r, b / r }'
done
echo "(Ir per handshake, server side only; bulk counts both ends; ratio = bulwark / libssl,"
echo " or bulwark / raw EVP for the ceiling rows)"
