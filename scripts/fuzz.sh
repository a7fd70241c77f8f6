#!/usr/bin/env bash
# Runs libFuzzer targets for a bounded time each. Usage: fuzz.sh BUILD_DIR SECONDS [TARGET]
# Corpora grow in build/fuzz-corpus/<target> (seeded from fuzz/corpus/<target>); crashes are
# written to build/fuzz-crashes/ and fail the run.
set -euo pipefail
build=$1
seconds=${2:-15}
only=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
crashes="$root/build/fuzz-crashes"
mkdir -p "$crashes"
failed=0
ran=0
for bin in "$build"/fuzz_*; do
  [[ -x "$bin" ]] || continue
  name=$(basename "$bin")
  [[ -n "$only" && "$name" != "$only" ]] && continue
  corpus="$root/build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [[ -d "$root/fuzz/corpus/${name#fuzz_}" ]] && seeds=("$root/fuzz/corpus/${name#fuzz_}")
  log="$root/build/fuzz-$name.log"
  if timeout $((seconds + 60)) "$bin" "$corpus" "${seeds[@]}" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/$name-" -print_final_stats=1 \
      >"$log" 2>&1; then
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    echo "fuzz: $name ok (${seconds}s, ${execs:-?} runs, ${cov:-cov: ?})"
  else
    echo "fuzz: $name FAILED — see $log and $crashes"
    tail -30 "$log"
    failed=$((failed + 1))
  fi
  ran=$((ran + 1))
done
[[ $ran -gt 0 ]] || { echo "fuzz: no target matched"; exit 1; }
echo "fuzz: $((ran - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
