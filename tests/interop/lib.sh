# Helpers for the interop scripts (sourced, not run). Each script calls `interop_init ROW "$@"`
# and then records one line per check with `cell`:
#   CELL|ROW|COLUMN|PASS|what     or     CELL|ROW|COLUMN|FAIL|what: why
# run-matrix.sh turns those lines into the matrix. Every peer process gets `timeout` and is
# killed by PID on exit; ports are ephemeral.
set -uo pipefail

interop_init() {
  ROW=$1
  bulwark=$(realpath "$2")
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  tmp=$(mktemp -d)
  pids=()
  failures=0
  trap interop_cleanup EXIT
  # A FIFO kept open for writing: peers that read commands from stdin (openssl s_server)
  # get one that never reaches EOF.
  mkfifo "$tmp/hold"
  exec 3<>"$tmp/hold"
  make_pki
}

interop_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  exec 3>&-
  rm -rf "$tmp"
}

# pass COLUMN WHAT / failed COLUMN WHAT WHY [LOG...]: records a check; a failure also shows
# the logs it names.
pass() { echo "CELL|$ROW|$1|PASS|$2"; }
failed() {
  local column=$1 what=$2 why=$3
  shift 3
  echo "CELL|$ROW|$column|FAIL|$what: $why"
  failures=$((failures + 1))
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    echo "----- $(basename "$f") -----"
    head -c 4000 "$f" | tr -c '[:print:]\n\t' '.'
    echo
  done
}

# interop_finish: the script's exit status.
interop_finish() {
  echo "$ROW: $failures failed"
  [[ $failures -eq 0 ]]
}

# A TCP port nobody listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start NAME SECONDS CMD...: runs CMD in the background (stdin: the hold FIFO), output in
# $tmp/NAME.out and $tmp/NAME.err; its PID in $last_pid.
start() {
  local name=$1 seconds=$2
  shift 2
  # Removed first, so that nobody reads the previous run's output while this one starts.
  rm -f "$tmp/$name.out" "$tmp/$name.err"
  timeout "$seconds" "$@" <"$tmp/hold" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  last_pid=$!
  pids+=("$last_pid")
}

# wait_for FILE PATTERN [SECONDS]: until FILE holds a line matching PATTERN.
wait_for() {
  local file=$1 pattern=$2 seconds=${3:-10} i
  for ((i = 0; i < seconds * 20; i++)); do
    grep -qa -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT (checked without
# connecting, so that no peer sees a stray connection).
wait_port() {
  local port=$1 seconds=${2:-10} i hex
  hex=$(printf '%04X' "$port")
  for ((i = 0; i < seconds * 20; i++)); do
    if grep -qE ":$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# stop PID: ends a peer we started (by its PID; `timeout` passes the SIGTERM on) and reaps it.
# A process still there 10 s after SIGTERM is a failure of its own, shown with where its
# threads wait, and is then killed (with its children), so that no test hangs on it.
stop() {
  kill "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
  local i c
  for ((i = 0; i < 200; i++)); do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
    sleep 0.05
  done
  failed stop "PID $1 still running 10 s after SIGTERM" "$(ps -o pid=,stat=,args= --ppid "$1" 2>/dev/null)"
  for c in $(pgrep -P "$1"); do
    echo "threads of $c: $(cat /proc/"$c"/task/*/wchan 2>/dev/null | tr '\0' ' ')"
    kill -9 "$c" 2>/dev/null
  done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

# Starts `bulwark listen 127.0.0.1:0 ARGS...` as NAME and sets $lport once it listens.
start_listen() {
  local name=$1
  shift
  start "$name" 60 "$bulwark" listen 127.0.0.1:0 "$@"
  listen_pid=$last_pid
  lport=
  if wait_for "$tmp/$name.err" '^listening on '; then
    lport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/$name.err")
  fi
  [[ -n $lport ]]
}

# Waits up to SECONDS for PID to exit; its status in $exit_status (124: still running, killed).
wait_exit() {
  local pid=$1 seconds=${2:-20} i
  for ((i = 0; i < seconds * 20; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      exit_status=$?
      return 0
    fi
    sleep 0.05
  done
  stop "$pid"
  exit_status=124
  return 1
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# The test PKI, made at test time: our CA (ECDSA P-256), a server certificate for localhost and
# 127.0.0.1 (ECDSA, and one RSA-2048), a client certificate, a second unrelated CA with its own
# server and client certificates, and broken server certificates made with the openssl CLI.
make_pki() {
  local pki=$tmp/pki
  mkdir -p "$pki"
  {
    "$bulwark" ca init "$pki/ca" --name "interop CA" &&
      "$bulwark" ca issue "$pki/ca" --name localhost --ip 127.0.0.1 --out "$pki/server" &&
      "$bulwark" ca issue "$pki/ca" --name localhost --ip 127.0.0.1 --key rsa-2048 \
        --out "$pki/server-rsa" &&
      "$bulwark" ca issue "$pki/ca" --name alice --client --out "$pki/alice" &&
      "$bulwark" ca init "$pki/other" --name "unrelated CA" &&
      "$bulwark" ca issue "$pki/other" --name localhost --ip 127.0.0.1 --out "$pki/stranger" &&
      "$bulwark" ca issue "$pki/other" --name mallory --client --out "$pki/mallory"
  } >"$tmp/pki.log" 2>&1 || {
    cat "$tmp/pki.log"
    echo "interop: cannot create the test PKI" >&2
    exit 1
  }
  CA=$pki/ca/ca.crt
  # Expired: valid for "-1 days" (notAfter before now), otherwise a good localhost certificate.
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/expired.key" \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "extendedKeyUsage=serverAuth" -out "$pki/expired.csr" >>"$tmp/pki.log" 2>&1
  openssl x509 -req -in "$pki/expired.csr" -CA "$CA" -CAkey "$pki/ca/ca.key" -days -1 \
    -copy_extensions copy -out "$pki/expired.crt" >>"$tmp/pki.log" 2>&1
  # Bad signature: the good server certificate with the last byte of its signature flipped.
  python3 - "$pki/server.crt" "$pki/badsig.crt" <<'EOF'
import base64, sys
pem = open(sys.argv[1]).read()
body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
der = bytearray(base64.b64decode(body))
der[-1] ^= 0x01
b64 = base64.b64encode(bytes(der)).decode()
lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) +
                             "\n-----END CERTIFICATE-----\n")
EOF
  cp "$pki/server.key" "$pki/badsig.key"
  [[ -s $pki/expired.crt && -s $pki/badsig.crt ]] || {
    cat "$tmp/pki.log"
    echo "interop: cannot create the broken certificates" >&2
    exit 1
  }
}

# 64 MiB of random bytes in $tmp/big (and its SHA-256 in $big_sha) for the bulk transfers.
make_big() {
  head -c 64M /dev/urandom >"$tmp/big"
  big_sha=$(sha "$tmp/big")
}

# run_bulwark NAME SECONDS ARGS... (stdin as given): runs bulwark in the foreground, output in
# $tmp/NAME.out / .err, exit status in $rc.
run_bulwark() {
  local name=$1 seconds=$2
  shift 2
  timeout "$seconds" "$bulwark" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  rc=$?
}
