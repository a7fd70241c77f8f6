# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): `needs NAME TOOL...` stops the script
# NAME when a tool is missing, `needs_program NAME PATH HOW` when a program was not built,
# `s_time_to_file` runs the handshake client of the socket benchmarks.
needs() {
  local name=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || {
      echo "$name: $tool is missing (scripts/bootstrap.sh installs it)" >&2
      exit 1
    }
  done
}
needs_program() {
  [[ -x $2 ]] || {
    echo "$1: no $2 ($3)" >&2
    exit 1
  }
}
# s_time_to_file OUT SECONDS ARG...: `openssl s_time ARG... -time SECONDS`, its output in the
# file OUT, not a pipe: s_time writes a '*' per connection, and a reader woken for each one
# preempted the measured server in a quarter to a third of its handshakes. Bounded to
# SECONDS + 30; never fails (the caller reads OUT for the count).
s_time_to_file() {
  local out=$1 seconds=$2
  shift 2
  timeout $((seconds + 30)) openssl s_time "$@" -time "$seconds" >"$out" 2>&1 || true
}
