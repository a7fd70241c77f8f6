#!/usr/bin/env bash
# Server CPU per full handshake over sockets: `bulwark listen` (and `bulwark serve --workers 1`)
# against `openssl s_server`, side by side in one run. A program that prints figures, not a test.
#
#   bench/listen_vs_s_server.sh [BULWARK]       (default build/release/bulwark)
#   ROUNDS=3 SECONDS_PER_RUN=8 TLS12=1 bench/listen_vs_s_server.sh build/stime/bulwark
#
# The same client for every server: `openssl s_time -new` (no -www: it handshakes, then closes
# the socket without a request and without close_notify), one connection at a time, no
# certificate verification, TLS_AES_128_GCM_SHA256 (TLS 1.3) or
# ECDHE-ECDSA-AES128-GCM-SHA256 (TLS 1.2, with -tls1_2), x25519 (s_time's first group and its
# only key share; each server is told x25519 too where it has an option for it). The same ECDSA
# P-256 certificate from `bulwark ca`. s_server runs with -www, so that it reads no commands
# from stdin, and -quiet, as listen runs with --quiet (no line per connection; both still
# report failures); the client sends no request, so it only handshakes. Both s_server and the
# bulwark servers send TLS 1.3 tickets after the handshake (their defaults).
#
# Per server and version: handshakes counted by s_time, the server's user+system CPU
# (/proc/PID/stat, every thread) before and after each run, CPU µs per handshake and the share
# of it spent in the kernel (system), handshakes per server-CPU-second, and the ratio of CPU per
# handshake to s_server's (issue #9's goal for `bulwark listen`: <= 0.4). Runs alternate servers
# over ROUNDS, the first server rotating.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bulwark=$(realpath "${1:-$repo/build/release/bulwark}")
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
TLS12=${TLS12:-1}
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
needs listen_vs_s_server openssl python3 timeout pgrep
needs_program listen_vs_s_server "$bulwark" "make build"

servers=(s_server listen serve)
versions=(1.3)
((TLS12)) && versions+=(1.2)
# Bound on every server's life: all runs plus start-up and probes.
server_seconds=$((ROUNDS * ${#servers[@]} * ${#versions[@]} * (SECONDS_PER_RUN + 15) + 120))

work=$(mktemp -d)
declare -A wrapper_pid server_pid port
stop_servers() {
  local s p i
  for s in "${!wrapper_pid[@]}"; do kill -TERM "${wrapper_pid[$s]}" 2>/dev/null || true; done
  for s in "${!wrapper_pid[@]}"; do
    p=${wrapper_pid[$s]}
    for ((i = 0; i < 40; i++)); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$p" 2>/dev/null; then
      [[ -n ${server_pid[$s]:-} ]] && kill -KILL "${server_pid[$s]}" 2>/dev/null
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop_servers EXIT

timeout 30 "$bulwark" ca init "$work/ca" >/dev/null
timeout 30 "$bulwark" ca issue "$work/ca" --name localhost --ip 127.0.0.1 --key ecdsa-p256 \
  --out "$work/server" >/dev/null
mkdir -p "$work/www"

free_port() {
  timeout 10 python3 -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_port PORT: until something listens on it (seen in /proc, without connecting: a probe
# connection would cost the server a failed handshake).
wait_port() {
  local hex i
  hex=$(printf '%04X' "$1")
  for ((i = 0; i < 200; i++)); do
    grep -qE ":$hex [0-9A-F]+:0000 0A " /proc/net/tcp 2>/dev/null && return 0
    sleep 0.05
  done
  echo "listen_vs_s_server: nothing listens on port $1" >&2
  return 1
}

# start NAME COMMAND...: runs it under `timeout` (the process measured is timeout's child).
start() {
  local name=$1 i
  shift
  timeout "$server_seconds" "$@" </dev/null >"$work/$name.out" 2>"$work/$name.err" &
  wrapper_pid[$name]=$!
  for ((i = 0; i < 100; i++)); do
    server_pid[$name]=$(pgrep -P "${wrapper_pid[$name]}" || true)
    [[ -n ${server_pid[$name]} ]] && break
    sleep 0.05
  done
  [[ -n ${server_pid[$name]} ]] || {
    echo "listen_vs_s_server: $name did not start" >&2
    exit 1
  }
}
for s in "${servers[@]}"; do port[$s]=$(free_port); done
cert=$work/server.crt
key=$work/server.key
start s_server openssl s_server -accept "127.0.0.1:${port[s_server]}" -cert "$cert" -key "$key" \
  -www -quiet -groups X25519
start listen "$bulwark" listen "127.0.0.1:${port[listen]}" --cert "$cert" --key "$key" \
  --groups x25519 --max-connections 64 --quiet
start serve "$bulwark" serve "$work/www" --listen "127.0.0.1:${port[serve]}" --cert "$cert" \
  --key "$key" --workers 1 --handshake-rate 0
for s in "${servers[@]}"; do wait_port "${port[$s]}"; done

client_options() {  # client_options VERSION
  if [[ $1 == 1.3 ]]; then
    echo "-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256"
  else
    echo "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256"
  fi
}

# What each server negotiates with the same client options, checked once before measuring.
probe() {  # probe SERVER VERSION
  local out
  # shellcheck disable=SC2046 # client_options is a word list
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:${port[$1]}" -brief \
    $(client_options "$2") </dev/null 2>&1 || true)
  local protocol suite group
  protocol=$(awk -F': ' '/^Protocol version/ {print $2}' <<<"$out")
  suite=$(awk -F': ' '/^Ciphersuite/ {print $2}' <<<"$out")
  group=$(awk -F': ' '/Temp Key/ {print $2}' <<<"$out")
  echo "  $1 TLS $2: ${protocol:-?} ${suite:-?} ${group:-?}"
  [[ $protocol == "TLSv$2" && -n $suite && $group == X25519* ]] || {
    echo "listen_vs_s_server: $1 did not negotiate TLS $2 with x25519:" >&2
    echo "$out" >&2
    exit 1
  }
}

# User and system CPU ticks of a server (every thread).
cpu_ticks() { awk '{print $14, $15}' "/proc/${server_pid[$1]}/stat"; }
ticks_per_second=$(getconf CLK_TCK)

declare -A handshakes ticks system_ticks
measure() {  # measure SERVER VERSION: adds s_time's handshakes and the server's CPU ticks
  local user_before system_before user_after system_after out n
  read -r user_before system_before < <(cpu_ticks "$1")
  # shellcheck disable=SC2046 # client_options is a word list
  s_time_to_file "$work/s_time.out" "$SECONDS_PER_RUN" -connect "127.0.0.1:${port[$1]}" -new \
    $(client_options "$2")
  # The server finishes the last connection's work (tickets, the close) after s_time ends.
  sleep 0.2
  read -r user_after system_after < <(cpu_ticks "$1")
  out=$(<"$work/s_time.out")
  n=$(awk '/connections in [0-9.]+ real seconds/ {print $1; exit}' <<<"$out")
  [[ -n $n && $n -gt 0 ]] || {
    echo "listen_vs_s_server: s_time against $1 (TLS $2) counted no handshake:" >&2
    echo "$out" >&2
    tail -5 "$work/$1.err" >&2
    exit 1
  }
  local system=$((system_after - system_before))
  local total=$((user_after - user_before + system))
  handshakes[$1.$2]=$((${handshakes[$1.$2]:-0} + n))
  ticks[$1.$2]=$((${ticks[$1.$2]:-0} + total))
  system_ticks[$1.$2]=$((${system_ticks[$1.$2]:-0} + system))
  echo "  round $((round + 1)) $1 TLS $2: $n handshakes, $total CPU ticks ($system system)" >&2
}

echo "listen_vs_s_server: $(openssl version | awk '{print $1, $2}') s_server vs bulwark" \
  "$("$bulwark" --version | awk '{print $2}') listen / serve --workers 1, ECDSA P-256, x25519," \
  "client openssl s_time -new, $ROUNDS alternating rounds x ${SECONDS_PER_RUN}s, $(nproc) cores"
for v in "${versions[@]}"; do
  for s in "${servers[@]}"; do probe "$s" "$v"; done
done
for ((round = 0; round < ROUNDS; round++)); do
  for v in "${versions[@]}"; do
    for ((i = 0; i < ${#servers[@]}; i++)); do
      # The first server rotates between rounds.
      measure "${servers[(i + round) % ${#servers[@]}]}" "$v"
    done
  done
done

# row SERVER LABEL VERSION GOAL: totals over the rounds; the ratio is CPU per handshake against
# s_server's.
row() {
  local n=${handshakes[$1.$3]} t=${ticks[$1.$3]} st=${system_ticks[$1.$3]}
  local base_n=${handshakes[s_server.$3]} base_t=${ticks[s_server.$3]}
  awk -v name="$2" -v v="$3" -v n="$n" -v t="$t" -v st="$st" -v hz="$ticks_per_second" \
    -v bn="$base_n" -v bt="$base_t" -v goal="$4" 'BEGIN {
      cpu = t / hz; us = n > 0 ? cpu * 1e6 / n : 0; per_s = cpu > 0 ? n / cpu : 0
      kernel_share = t > 0 ? 100 * st / t : 0
      base_us = bn > 0 ? (bt / hz) * 1e6 / bn : 0
      ratio = base_us > 0 ? sprintf("%.2fx", us / base_us) : "-"
      printf "%-22s %-5s %10d %9.2f %10.1f %7.0f%% %10.0f %12s   %s\n", \
        name, v, n, cpu, us, kernel_share, per_s, ratio, goal
    }'
}
printf '\n%-22s %-5s %10s %9s %10s %8s %10s %12s   %s\n' server TLS handshakes CPU-s \
  "CPU us/hs" system "hs/CPU-s" "vs s_server" goal
for v in "${versions[@]}"; do
  row s_server "openssl s_server" "$v" ""
  if [[ $v == 1.3 ]]; then goal="<= 0.4x"; else goal=""; fi
  row listen "bulwark listen" "$v" "$goal"
  row serve "bulwark serve -w 1" "$v" ""
done
