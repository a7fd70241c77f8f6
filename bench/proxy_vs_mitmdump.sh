#!/usr/bin/env bash
# bulwark proxy against mitmdump (Debian's mitmproxy) and against no proxy at all, in one run:
# the same `bulwark serve` upstream (a 1 KiB file), the same load client (proxy_load, built
# next to bulwark), the same connections. A program that prints figures, not a test.
#
#   bench/proxy_vs_mitmdump.sh [BULWARK [PROXY_LOAD]]    (default build/release/bulwark and
#                                                         the proxy_load beside it)
#   DURATION=10 CONNECTIONS=32 ROUNDS=1 WORKERS=1 bench/proxy_vs_mitmdump.sh
#
# Each round measures, alternating who goes first between rounds:
#   1 connection    requests/s and latency (p50/p90/p99 of single requests on a warm
#                   connection); added latency = a proxy's p50 minus the direct p50
#   CONNECTIONS     requests/s with that many keep-alive connections, and the CPU time per
#                   request of each proxy and of the upstream (user + system from
#                   /proc/PID/stat over the run, in clock ticks: run for seconds, not less)
# Both proxies verify the upstream against its CA and present a leaf minted by their own CA,
# which the client verifies (SNI localhost). One worker each: bulwark proxy --workers 1,
# mitmdump is one Python process.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bulwark=$(realpath "${1:-$repo/build/release/bulwark}")
load=$(realpath "${2:-$(dirname "$bulwark")/proxy_load}")
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-1}
WORKERS=${WORKERS:-1}
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
needs proxy_vs_mitmdump mitmdump python3
for program in "$bulwark" "$load"; do
  needs_program proxy_vs_mitmdump "$program" "build bulwark and proxy_load in Release"
done

work=$(mktemp -d /tmp/proxy_vs_mitmdump.XXXXXX)
pids=()
# Stops every process we started, by PID (SIGTERM, then SIGKILL after 5 s), and removes the
# temporary directory.
cleanup() {
  local p i
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# fail MESSAGE [LOG...]: says why, shows the logs, exits (cleanup runs).
fail() {
  echo "proxy_vs_mitmdump: $1" >&2
  shift
  local f
  for f in "$@"; do [[ -f $f ]] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_listening PORT PID LOG: until something listens on PORT (seen in /proc, without
# connecting), at most 20 s, failing early if PID exits.
wait_listening() {
  local hex i
  hex=$(printf '%04X' "$1")
  for ((i = 0; i < 400; i++)); do
    grep -qE ":$hex [0-9A-F]+:0000 0A " /proc/net/tcp 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || fail "the process for port $1 exited" "$3"
    sleep 0.05
  done
  fail "nothing listens on port $1 after 20 s" "$3"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# The upstream: bulwark serve with a localhost certificate from its own CA.
mkdir -p "$work/www" "$work/mitmproxy"
head -c 1024 /dev/urandom >"$work/www/1k"
"$bulwark" ca init "$work/upstream-ca" >/dev/null
"$bulwark" ca issue "$work/upstream-ca" --name localhost --key ecdsa-p256 --out "$work/upstream" >/dev/null
"$bulwark" ca init "$work/proxy-ca" >/dev/null
upstream_port=$(free_port)
"$bulwark" serve "$work/www" --listen "127.0.0.1:$upstream_port" --cert "$work/upstream.crt" \
  --key "$work/upstream.key" --workers "$WORKERS" --handshake-rate 0 --idle-timeout 600 \
  2>"$work/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
wait_listening "$upstream_port" "$serve_pid" "$work/serve.log"

bulwark_port=$(free_port)
"$bulwark" proxy --listen "127.0.0.1:$bulwark_port" --ca "$work/proxy-ca" \
  --upstream-cacert "$work/upstream-ca/ca.crt" --workers "$WORKERS" --idle-timeout 600 \
  2>"$work/bulwark-proxy.log" &
bulwark_pid=$!
pids+=("$bulwark_pid")
wait_listening "$bulwark_port" "$bulwark_pid" "$work/bulwark-proxy.log"

# mitmdump: quiet, no flow output, its CA created in its own confdir, the upstream verified
# against the upstream's CA (mitmproxy 8 verifies upstream certificates by default).
mitmdump_port=$(free_port)
mitmdump -q --listen-host 127.0.0.1 --listen-port "$mitmdump_port" \
  --set confdir="$work/mitmproxy" --set flow_detail=0 --set termlog_verbosity=error \
  --set ssl_verify_upstream_trusted_ca="$work/upstream-ca/ca.crt" \
  >"$work/mitmdump.log" 2>&1 &
mitmdump_pid=$!
pids+=("$mitmdump_pid")
wait_listening "$mitmdump_port" "$mitmdump_pid" "$work/mitmdump.log"
[[ -s $work/mitmproxy/mitmproxy-ca-cert.pem ]] || fail "mitmdump made no CA" "$work/mitmdump.log"

url="https://localhost:$upstream_port/1k"
declare -A proxy_port=([bulwark]=$bulwark_port [mitmdump]=$mitmdump_port)
declare -A proxy_pid=([bulwark]=$bulwark_pid [mitmdump]=$mitmdump_pid)
declare -A client_ca=([direct]="$work/upstream-ca/ca.crt" [bulwark]="$work/proxy-ca/ca.crt"
  [mitmdump]="$work/mitmproxy/mitmproxy-ca-cert.pem")

declare -A sum count
add() {
  sum[$1]=$(awk -v a="${sum[$1]:-0}" -v b="$2" 'BEGIN {print a + b}')
  count[$1]=$((${count[$1]:-0} + 1))
}
# mean KEY [DECIMALS]: the mean of the figures added under KEY (default 3 decimals).
mean() {
  awk -v a="${sum[$1]:-0}" -v n="${count[$1]:-0}" -v d="${2:-3}" \
    'BEGIN {if (n > 0) printf "%.*f", d, a / n; else print "-"}'
}
field() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<"$1"; }

# cpu_us_per_request TICKS REQUESTS. The connection setup (handshakes, one warm-up request per
# connection) is in the ticks too: a slight overestimate.
cpu_us_per_request() {
  awk -v t="$1" -v hz="$ticks_per_second" -v n="$2" 'BEGIN {printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}'
}

# measure PATH CONNECTIONS: one proxy_load run; adds its figures under PATH.CONNECTIONS.
measure() {
  local path=$1 connections=$2 out before after upstream_before upstream_after requests
  local args=(--url "$url" --cacert "${client_ca[$path]}" --connections "$connections"
    --duration "$DURATION" --expect-bytes 1024)
  [[ $path == direct ]] || args+=(--proxy "127.0.0.1:${proxy_port[$path]}")
  [[ $path == direct ]] || before=$(cpu_ticks "${proxy_pid[$path]}")
  upstream_before=$(cpu_ticks "$serve_pid")
  echo "== $path, $connections connection(s)"
  if ! out=$(timeout $((DURATION + 120)) "$load" "${args[@]}" 2>&1); then
    echo "$out"
    fail "proxy_load failed for $path" "$work/serve.log" "$work/bulwark-proxy.log" "$work/mitmdump.log"
  fi
  upstream_after=$(cpu_ticks "$serve_pid")
  echo "$out"
  local result
  result=$(grep '^result ' <<<"$out")
  requests=$(field "$result" requests)
  add "$path.$connections.rps" "$(field "$result" requests_per_second)"
  add "$path.$connections.p50" "$(field "$result" p50_ms)"
  add "$path.$connections.p90" "$(field "$result" p90_ms)"
  add "$path.$connections.p99" "$(field "$result" p99_ms)"
  add "$path.errors" "$(field "$result" errors)"
  if [[ $path != direct ]]; then
    after=$(cpu_ticks "${proxy_pid[$path]}")
    add "$path.$connections.cpu_us" "$(cpu_us_per_request $((after - before)) "$requests")"
  fi
  add "$path.$connections.upstream_cpu_us" \
    "$(cpu_us_per_request $((upstream_after - upstream_before)) "$requests")"
}

echo "proxy_vs_mitmdump: bulwark $("$bulwark" --version | awk '{print $2}') vs" \
  "$(mitmdump --version 2>/dev/null | awk '/^Mitmproxy:/ {print "mitmproxy " $2}') vs direct;" \
  "upstream bulwark serve (1 KiB file), $WORKERS worker(s) per server/proxy;" \
  "proxy_load x 1 and x $CONNECTIONS connections x ${DURATION}s, $ROUNDS round(s), $(nproc) cores"
for ((round = 0; round < ROUNDS; round++)); do
  if ((round % 2 == 0)); then order=(direct bulwark mitmdump); else order=(mitmdump bulwark direct); fi
  for path in "${order[@]}"; do measure "$path" 1; done
  for path in "${order[@]}"; do measure "$path" "$CONNECTIONS"; done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.1fx", a / b; else print "-"}'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
row() { printf '%-42s %10s %10s %10s %18s   %s\n' "$@"; }
c=$CONNECTIONS
echo
row "" direct bulwark mitmdump bulwark/mitmdump goal
row "requests/s, $c connections" "$(mean "direct.$c.rps" 0)" "$(mean "bulwark.$c.rps" 0)" \
  "$(mean "mitmdump.$c.rps" 0)" "$(ratio "$(mean "bulwark.$c.rps" 0)" "$(mean "mitmdump.$c.rps" 0)")" ">= 20x"
row "requests/s, 1 connection" "$(mean direct.1.rps 0)" "$(mean bulwark.1.rps 0)" \
  "$(mean mitmdump.1.rps 0)" "$(ratio "$(mean bulwark.1.rps 0)" "$(mean mitmdump.1.rps 0)")" ""
for p in p50 p90 p99; do
  row "latency $p ms, 1 connection" "$(mean direct.1.$p)" "$(mean bulwark.1.$p)" "$(mean mitmdump.1.$p)" "" ""
done
row "added p50 latency over direct ms" "" \
  "$(minus "$(mean bulwark.1.p50)" "$(mean direct.1.p50)")" \
  "$(minus "$(mean mitmdump.1.p50)" "$(mean direct.1.p50)")" "" "< 1 ms (bulwark)"
row "latency p50 ms, $c connections" "$(mean "direct.$c.p50")" "$(mean "bulwark.$c.p50")" "$(mean "mitmdump.$c.p50")" "" ""
row "proxy CPU us per request, $c connections" "" "$(mean "bulwark.$c.cpu_us" 1)" \
  "$(mean "mitmdump.$c.cpu_us" 1)" "$(ratio "$(mean "mitmdump.$c.cpu_us" 1)" "$(mean "bulwark.$c.cpu_us" 1)") less" ""
row "upstream CPU us per request, $c connections" "$(mean "direct.$c.upstream_cpu_us" 1)" \
  "$(mean "bulwark.$c.upstream_cpu_us" 1)" "$(mean "mitmdump.$c.upstream_cpu_us" 1)" "" ""
row "failed requests, all runs" "${sum[direct.errors]}" "${sum[bulwark.errors]}" "${sum[mitmdump.errors]}" "" ""
