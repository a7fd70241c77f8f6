#!/usr/bin/env bash
# Runs every interop script against BULWARK and prints the matrix: one row per peer and
# direction, one column per feature; a cell reads "3/3" (checks passed / run), "FAIL 1/3", or
# "-" where the row has no such check. Exits non-zero if any check or script failed.
# Usage: run-matrix.sh BULWARK [SCRIPT...]   (default: every tests/interop/*.sh but helpers)
set -uo pipefail
[[ $# -ge 1 ]] || {
  echo "usage: $0 BULWARK [SCRIPT...]" >&2
  exit 2
}
bulwark=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
scripts=("$@")
if [[ ${#scripts[@]} -eq 0 ]]; then
  for s in "$here"/*.sh; do
    case $(basename "$s") in lib.sh | run-matrix.sh) continue ;; esac
    scripts+=("$s")
  done
fi

results=$(mktemp)
logs=$(mktemp -d)
trap 'rm -rf "$results" "$logs"' EXIT
broken=()
start=$SECONDS
for s in "${scripts[@]}"; do
  name=$(basename "$s" .sh)
  t0=$SECONDS
  bash "$s" "$bulwark" >"$logs/$name.log" 2>&1
  status=$?
  grep '^CELL|' "$logs/$name.log" >>"$results"
  printf '%-18s %3ds  exit %d\n' "$name" $((SECONDS - t0)) "$status" >&2
  # A script that failed without a failing check (a crash, a missing peer) fails the run too.
  if [[ $status -ne 0 ]]; then
    broken+=("$name")
    if ! grep -q '^CELL|.*|FAIL|' "$logs/$name.log"; then
      echo "---- $name failed outside its checks:" >&2
      tail -20 "$logs/$name.log" >&2
    fi
  fi
done

python3 - "$results" <<'EOF'
import sys
columns = ["basic", "suites", "groups", "hrr", "client-auth", "resume", "key-update", "alpn",
           "rsa-cert", "64MiB", "reject", "tls1.2"]
rows, cells, failures = [], {}, []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    _, row, column, status, what = line.rstrip("\n").split("|", 4)
    if row not in rows:
        rows.append(row)
    if column not in columns:
        columns.append(column)
    ok, total = cells.get((row, column), (0, 0))
    cells[(row, column)] = (ok + (status == "PASS"), total + 1)
    if status != "PASS":
        failures.append(f"{row} / {column}: {what}")
width = max([len(r) for r in rows] + [4])
widths = [max(len(c), 8) for c in columns]
print(" | ".join(["peer".ljust(width)] + [c.ljust(w) for c, w in zip(columns, widths)]))
print("-+-".join(["-" * width] + ["-" * w for w in widths]))
for r in rows:
    out = [r.ljust(width)]
    for c, w in zip(columns, widths):
        if (r, c) not in cells:
            out.append("-".ljust(w))
            continue
        ok, total = cells[(r, c)]
        text = f"{ok}/{total}" if ok == total else f"FAIL {ok}/{total}"
        out.append(text.ljust(w))
    print(" | ".join(out))
total = sum(t for _, t in cells.values())
passed = sum(o for o, _ in cells.values())
print(f"\n{passed}/{total} checks passed")
for f in failures:
    print("FAILED:", f)
sys.exit(1 if failures else 0)
EOF
table=$?
echo "total time: $((SECONDS - start)) s"
if [[ ${#broken[@]} -ne 0 ]]; then
  for name in "${broken[@]}"; do
    echo "---- log of $name ----"
    grep -v '^CELL|.*|PASS|' "$logs/$name.log" | head -c 20000
  done
fi
[[ $table -eq 0 && ${#broken[@]} -eq 0 ]]
