#!/usr/bin/env bash
# bulwark serve against nginx (Debian's), side by side in one run: same ECDSA P-256
# certificate, same files (1 KiB, 1 MiB), same number of workers, the same clients, measured
# alternately (nginx, bulwark, nginx, bulwark, ...). A program that prints figures, not a test.
#
#   bench/serve_vs_nginx.sh [BULWARK]       (default build/release/bulwark)
#   WORKERS=1 DURATION=8 ROUNDS=2 CONNECTIONS=32 IDLE=10000 bench/serve_vs_nginx.sh
#   HANDSHAKE_SLICES=8 HANDSHAKE_SECONDS=2 bench/serve_vs_nginx.sh
#
# Figures:
#   1 KiB / 1 MiB keep-alive requests/s     wrk, 1 thread, CONNECTIONS connections
#   full / resumed handshakes per server-CPU-second
#                                           openssl s_time -new (TLS 1.3) / -reuse -tls1_2, the server's
#                                           user+system CPU from /proc/PID/stat (nginx: master
#                                           and workers); full handshakes also for `bulwark
#                                           listen` (blocking threads, no event loop: ~7 system
#                                           calls per handshake), the bound for serve's loop.
#                                           Measured in HANDSHAKE_SLICES short slices that
#                                           rotate between the servers (the same server varies
#                                           by +-10 % from one slice to the next on this VM);
#                                           the figure is all handshakes over all CPU seconds;
#                                           beside them the floor (bench/socket_floor.cpp: no
#                                           TLS, the same sockets and public-key work, with a
#                                           stand-in client) and the transport alone
#   RSS per idle TLS connection             IDLE connections held open after their handshake
#                                           by bench/idle_connections.py; the server's RSS
#                                           growth divided by the connections held; then
#                                           the same after each connection downloaded
#                                           64 KiB (buffers must shrink when idle)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bulwark=$(realpath "${1:-$repo/build/release/bulwark}")
WORKERS=${WORKERS:-1}
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-2}
CONNECTIONS=${CONNECTIONS:-32}
IDLE=${IDLE:-10000}
HANDSHAKE_SECONDS=${HANDSHAKE_SECONDS:-2}
HANDSHAKE_SLICES=${HANDSHAKE_SLICES:-8}
work=$repo/build/bench-serve
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
needs serve_vs_nginx nginx wrk openssl python3
needs_program serve_vs_nginx "$bulwark" "make build"
socket_floor=$(dirname "$bulwark")/socket_floor
needs_program serve_vs_nginx "$socket_floor" "make build"
ulimit -n $((IDLE * 2 + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

rm -rf "$work"
mkdir -p "$work/www" "$work/nginx/logs"
chmod 755 "$work" "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c $((1 << 20)) /dev/urandom >"$work/www/1m.bin"
head -c $((64 << 10)) /dev/urandom >"$work/www/64k.bin"
chmod 644 "$work/www/"*
"$bulwark" ca init "$work/ca" >/dev/null
"$bulwark" ca issue "$work/ca" --name localhost --ip 127.0.0.1 --key ecdsa-p256 --out "$work/server" >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
bulwark_port=$(free_port)
listen_port=$(free_port)
floor_port=$(free_port)
transport_port=$(free_port)

cat >"$work/nginx/nginx.conf" <<EOF
worker_processes $WORKERS;
worker_rlimit_nofile $((IDLE * 2 + 1000));
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections $((IDLE + 1000)); }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  client_header_timeout 600s;
  default_type application/octet-stream;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/server.crt;
    ssl_certificate_key $work/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;
    root $work/www;
  }
}
EOF

server_pids=()
stop_servers() {
  local p
  for p in "${server_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${server_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  server_pids=()
}
trap stop_servers EXIT

wait_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "serve_vs_nginx: nothing listens on port $1" >&2
  return 1
}
# Both servers, fresh (the memory figures start each from a new process: an allocator that kept
# the memory of an earlier crowd would hide the next one's).
start_servers() {
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>>"$work/nginx/logs/error.log" &
  nginx_pid=$!
  server_pids+=("$nginx_pid")
  "$bulwark" serve "$work/www" --listen "127.0.0.1:$bulwark_port" --cert "$work/server.crt" \
    --key "$work/server.key" --workers "$WORKERS" --handshake-rate 0 \
    --max-connections $((IDLE + 1000)) --max-handshakes $((IDLE + 1000)) --idle-timeout 600 \
    --header-timeout 600 2>>"$work/bulwark.err" &
  bulwark_pid=$!
  server_pids+=("$bulwark_pid")
  "$bulwark" listen "127.0.0.1:$listen_port" --cert "$work/server.crt" --key "$work/server.key" \
    --groups x25519 --max-connections 64 --quiet 2>>"$work/listen.err" &
  listen_pid=$!
  server_pids+=("$listen_pid")
  "$socket_floor" server "$floor_port" 2>>"$work/floor.err" &
  floor_pid=$!
  server_pids+=("$floor_pid")
  "$socket_floor" server "$transport_port" --no-crypto 2>>"$work/floor.err" &
  transport_pid=$!
  server_pids+=("$transport_pid")
  wait_port "$nginx_port"
  wait_port "$bulwark_port"
  wait_port "$listen_port"
  wait_port "$floor_port"
  wait_port "$transport_port"
}
start_servers

# Every process of a server: nginx's master and its workers; bulwark's one process.
procs_of() {
  case $1 in
    nginx) echo "$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')" ;;
    listen) echo "$listen_pid" ;;
    floor) echo "$floor_pid" ;;
    transport) echo "$transport_pid" ;;
    *) echo "$bulwark_pid" ;;
  esac
}
port_of() {
  case $1 in
    nginx) echo "$nginx_port" ;;
    listen) echo "$listen_port" ;;
    floor) echo "$floor_port" ;;
    transport) echo "$transport_port" ;;
    *) echo "$bulwark_port" ;;
  esac
}
# User + system CPU ticks of a server's processes.
cpu_ticks() {
  local t=0 p
  for p in $(procs_of "$1"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}
rss_kib() {
  local t=0 p
  for p in $(procs_of "$1"); do
    t=$((t + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")))
  done
  echo "$t"
}
ticks_per_second=$(getconf CLK_TCK)

# wrk requests/s for PATH on SERVER.
requests_per_second() {
  # wrk sends the URL's host as SNI even for an IP address (RFC 6066 §3 forbids it); both
  # servers ignore it.
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "https://127.0.0.1:$(port_of "$1")$2" 2>&1 |
    awk '/^Requests\/sec:/ {print $2}'
}
# One slice of handshakes on SERVER with s_time MODE... (-new; -reuse -tls1_2: s_time reads no
# TLS 1.3 ticket, so it resumes TLS 1.2 sessions only), added to KEY's totals; the slice's
# handshakes per server-CPU-second are left in slice_rate (no subshell: the totals must stay).
# The floor servers speak no TLS: their client is socket_floor's own.
declare -A hs_count hs_ticks
handshake_slice() {
  local key=$1 server=$2 before after out n
  shift 2
  before=$(cpu_ticks "$server")
  case $server in
    floor | transport)
      timeout $((HANDSHAKE_SECONDS + 30)) "$socket_floor" client "$(port_of "$server")" \
        "$HANDSHAKE_SECONDS" >"$work/s_time.out" 2>&1 || true
      ;;
    *) s_time_to_file "$work/s_time.out" "$HANDSHAKE_SECONDS" -connect "127.0.0.1:$(port_of "$server")" "$@" ;;
  esac
  after=$(cpu_ticks "$server")
  out=$(<"$work/s_time.out")
  n=$(echo "$out" | awk '/connections in [0-9.]+ real seconds/ || /^[0-9]+ connections$/ {print $1; exit}')
  [[ -n $n && $after -gt $before ]] || {
    echo "serve_vs_nginx: s_time $* against $server failed: $out" >&2
    exit 1
  }
  hs_count[$key]=$((${hs_count[$key]:-0} + n))
  hs_ticks[$key]=$((${hs_ticks[$key]:-0} + after - before))
  slice_rate=$(awk -v n="$n" -v t=$((after - before)) -v hz="$ticks_per_second" 'BEGIN {printf "%.0f", n / (t / hz)}')
}
# All of KEY's handshakes over all the CPU seconds they took.
handshakes_per_cpu_second() {
  awk -v n="${hs_count[$1]:-0}" -v t="${hs_ticks[$1]:-0}" -v hz="$ticks_per_second" \
    'BEGIN {if (t > 0) printf "%.0f", n / (t / hz); else print 0}'
}
# idle_rss_per_connection SERVER [PATH]: with PATH, each connection first downloads it.
idle_rss_per_connection() {
  local before after up i request=()
  [[ -n ${2:-} ]] && request=(--request "$2")
  before=$(rss_kib "$1")
  rm -f "$work/ready.$1" "$work/stop.$1"
  python3 "$here/idle_connections.py" --port "$(port_of "$1")" --count "$IDLE" \
    --ready "$work/ready.$1" --stop "$work/stop.$1" "${request[@]}" >/dev/null 2>&1 &
  local client=$!
  for ((i = 0; i < 3000; i++)); do
    [[ -e "$work/ready.$1" ]] && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.1
  done
  up=$(cat "$work/ready.$1" 2>/dev/null || echo 0)
  sleep 1
  after=$(rss_kib "$1")
  touch "$work/stop.$1"
  wait "$client" || true
  echo "  $1: $up idle connections held${2:+ after GET $2}, RSS $before -> $after KiB" >&2
  awk -v a="$after" -v b="$before" -v n="$up" 'BEGIN {if (n > 0) printf "%.1f", (a - b) / n; else print 0}'
}

declare -A sum count
add() {
  sum[$1]=$(awk -v a="${sum[$1]:-0}" -v b="$2" 'BEGIN {print a + b}')
  count[$1]=$((${count[$1]:-0} + 1))
}
mean() { awk -v a="${sum[$1]:-0}" -v n="${count[$1]:-1}" 'BEGIN {printf "%.1f", a / n}'; }

echo "serve_vs_nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //') vs bulwark $("$bulwark" --version | awk '{print $2}')," \
  "$WORKERS worker(s), ECDSA P-256, wrk 1 thread x $CONNECTIONS connections x ${DURATION}s," \
  "$ROUNDS alternating rounds, handshakes in $HANDSHAKE_SLICES slices of ${HANDSHAKE_SECONDS}s, $(nproc) cores"
for ((round = 0; round < ROUNDS; round++)); do
  # Who goes first alternates between rounds.
  if ((round % 2 == 0)); then order=(nginx bulwark); else order=(bulwark nginx); fi
  for s in "${order[@]}"; do
    add "$s.1k" "$(requests_per_second "$s" /1k.bin)"
    add "$s.1m" "$(requests_per_second "$s" /1m.bin)"
  done
done
# Handshakes in short slices, each server in turn, the order rotating: a drift of the machine's
# speed falls on all servers alike. Each slice's bulwark/nginx ratio is kept to show the spread.
full_ratios=()
for ((slice = 0; slice < HANDSHAKE_SLICES; slice++)); do
  case $((slice % 3)) in
    0) order=(nginx bulwark listen floor transport) ;;
    1) order=(bulwark listen floor transport nginx) ;;
    *) order=(listen floor transport nginx bulwark) ;;
  esac
  declare -A rate=()
  for s in "${order[@]}"; do
    handshake_slice "$s.full" "$s" -new
    rate[$s]=$slice_rate
  done
  full_ratios+=("$(awk -v b="${rate[bulwark]}" -v n="${rate[nginx]}" 'BEGIN {printf "%.2f", b / n}')")
  if ((slice % 2 == 0)); then order=(nginx bulwark); else order=(bulwark nginx); fi
  for s in "${order[@]}"; do handshake_slice "$s.resumed" "$s" -reuse -tls1_2; done
done
for k in nginx.full bulwark.full listen.full floor.full transport.full nginx.resumed bulwark.resumed; do
  add "$k" "$(handshakes_per_cpu_second "$k")"
done
for s in nginx bulwark; do
  add "$s.idle" "$(idle_rss_per_connection "$s")"
done
stop_servers
start_servers
for s in nginx bulwark; do
  add "$s.idle_after" "$(idle_rss_per_connection "$s" /64k.bin)"
done

row() {  # row LABEL KEY HIGHER_IS_BETTER GOAL
  local n b
  n=$(mean "nginx.$2")
  b=$(mean "bulwark.$2")
  if [[ $3 == higher ]]; then
    ratio=$(awk -v n="$n" -v b="$b" 'BEGIN {if (n > 0) printf "%.2fx", b / n; else print "-"}')
  else
    ratio=$(awk -v n="$n" -v b="$b" 'BEGIN {if (b > 0) printf "%.2fx smaller", n / b; else print "-"}')
  fi
  printf '%-44s %12s %12s %16s   %s\n' "$1" "$n" "$b" "$ratio" "$4"
}
printf '\n%-44s %12s %12s %16s   %s\n' "" nginx bulwark "bulwark/nginx" goal
row "1 KiB keep-alive requests/s" 1k higher ">= 1.2x"
row "1 MiB keep-alive requests/s" 1m higher ">= 1x"
row "full TLS 1.3 handshakes / server-CPU-s" full higher ">= 2x"
for s in listen floor transport; do
  case $s in
    listen) label="  the same, bulwark listen (no event loop)" ;;
    floor) label="  floor: no TLS, sockets + public-key work" ;;
    *) label="  floor's sockets alone, no crypto" ;;
  esac
  printf '%-44s %12s %12s %16s   %s\n' "$label" "$(mean nginx.full)" "$(mean "$s.full")" \
    "$(awk -v n="$(mean nginx.full)" -v b="$(mean "$s.full")" \
      'BEGIN {if (n > 0) printf "%.2fx", b / n; else print "-"}')" ""
done
printf '%-44s %12s %12s %16s   %s\n' "  bulwark/nginx per slice, lowest - highest" "" "" \
  "$(printf '%s\n' "${full_ratios[@]}" | sort -n | sed -n '1p;$p' | paste -sd- | sed 's/-/x - /; s/$/x/')" ""
row "resumed TLS 1.2 handshakes / server-CPU-s" resumed higher ""
row "RSS KiB per idle TLS connection ($IDLE held)" idle lower "<= 10 KiB"
row "  the same after each downloaded 64 KiB" idle_after lower ""
echo "(floor rows: bench/socket_floor.cpp, no TLS server; its own client stands in for s_time)"
