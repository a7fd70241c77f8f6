# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): `needs NAME TOOL...` stops the script
# NAME when a tool is missing, `needs_program NAME PATH HOW` when a program was not built.
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
