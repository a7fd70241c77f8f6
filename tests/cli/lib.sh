# Shared by the command tests (tests/cli/*.sh), sourced right after `set -uo pipefail`; the
# test's first argument is the bulwark binary. Gives: $bulwark, a private $tmp removed on exit,
# $pids (background processes stopped on exit), fd 3 holding the FIFO $tmp/hold open for
# writing (servers such as openssl s_server read commands from stdin and must not see EOF),
# ok/bad counters, and helpers to wait for ports and processes. Not a test itself.
bulwark=$(realpath "$1")
tmp=$(mktemp -d)
pids=()
failures=0
pass=0

# Stops PID and its children: `timeout` passes SIGTERM on to the command it runs, but a
# SIGKILL would orphan that command (holding ctest's output pipe open).
stop_tree() {
  kill -TERM "$1" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 20; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  pkill -9 -P "$1" 2>/dev/null
  kill -9 "$1" 2>/dev/null
}
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_tree "$p"; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  exec 3>&-
  rm -rf "$tmp"
}
trap cleanup EXIT
mkfifo "$tmp/hold"
exec 3<>"$tmp/hold"

ok() { pass=$((pass + 1)); }
# bad DESCRIPTION [FILE...]: a failure, with the start of each file that exists.
bad() {
  echo "FAIL: $1"
  shift
  local f
  for f in "$@"; do [[ -f $f ]] && { echo "--- $(basename "$f")"; head -c 4000 "$f"; echo; }; done
  failures=$((failures + 1))
}
# summary NAME: the counts, and the exit status of the test.
summary() {
  echo "$1: $pass passed, $failures failed"
  [[ $failures -eq 0 ]]
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT: until something listens on it (checked in /proc, without connecting).
wait_port() {
  local hex i
  hex=$(printf '%04X' "$1")
  for ((i = 0; i < 200; i++)); do
    grep -qE ":$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
# wait_pid PID SECONDS: its exit status in $st (124 when it had to be stopped).
wait_pid() {
  local i
  for ((i = 0; i < $2 * 20; i++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      st=$?
      return
    fi
    sleep 0.05
  done
  stop_tree "$1"
  wait "$1" 2>/dev/null
  st=124
}
# serve_bg NAME ARGS...: `bulwark serve --listen 127.0.0.1:0 ARGS` in the background (at most
# $SERVE_SECONDS, default 300); $spid and $sport, or status 1 when it did not start.
serve_bg() {
  local name=$1 i
  shift
  rm -f "$tmp/$name.err"
  # --foreground: a SIGTERM sent to timeout reaches the server once (without it timeout also
  # signals its process group, and a second SIGTERM can end a server that already stopped).
  timeout --foreground -k 3 "${SERVE_SECONDS:-300}" "$bulwark" serve --listen 127.0.0.1:0 "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  spid=$!
  pids+=("$spid")
  sport=
  for ((i = 0; i < 300; i++)); do
    sport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/$name.err" 2>/dev/null | head -1)
    [[ -n $sport ]] && return 0
    kill -0 "$spid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# proxy_bg NAME ARGS...: bulwark proxy with the CA in $tmp/pca on a free port ($pport), its
# stderr in $tmp/NAME.err; pcurl ARGS...: curl through it, trusting that CA.
proxy_bg() {
  local name=$1
  shift
  pport=$(free_port)
  timeout -k 3 110 "$bulwark" proxy --listen "127.0.0.1:$pport" --ca "$tmp/pca" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  wait_port "$pport" || bad "proxy $name did not start" "$tmp/$name.err"
}
pcurl() { curl -sS --max-time 20 -x "http://127.0.0.1:$pport" --cacert "$tmp/pca/ca.crt" "$@"; }
