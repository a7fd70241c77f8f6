#!/usr/bin/env bash
# Runs libFuzzer targets for a bounded time each. Usage: fuzz.sh BUILD_DIR SECONDS [TARGET]
# Corpora grow in build/fuzz-corpus/<target> (seeded from fuzz/corpus/<target>); crashes are
# written to build/fuzz-crashes/ and fail the run. Before fuzzing, every input kept under
# fuzz/regressions/<target>/ (past crashes) is replayed once and must pass. At the end a table
# gives, per target: wall and CPU seconds, runs, coverage (cov:), features (ft:) and corpus size.
set -euo pipefail
build=$1
seconds=${2:-15}
only=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
crashes="$root/build/fuzz-crashes"
mkdir -p "$crashes"
failed=0
ran=0
rows=()

# CPU seconds (user + system) used so far by this shell's waited-for children, into cpu_now:
# the second line of `times` ("1m2.500s 0m0.300s"). `times` must run in this shell, not in a
# command substitution's subshell (whose children are not the fuzzers).
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
children_cpu() {
  times >"$times_file"
  cpu_now=$(tail -1 "$times_file" | awk '{
    t = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
    printf "%.2f", t }')
}

for bin in "$build"/fuzz_*; do
  [[ -x "$bin" && -f "$bin" ]] || continue
  name=$(basename "$bin")
  [[ -n "$only" && "$name" != "$only" ]] && continue
  ran=$((ran + 1))
  log="$root/build/fuzz-$name.log"

  regressions="$root/fuzz/regressions/${name#fuzz_}"
  if [[ -d "$regressions" ]] && compgen -G "$regressions/*" >/dev/null; then
    if ! timeout 300 "$bin" -runs=1 "$regressions"/* >"$log" 2>&1; then
      echo "fuzz: $name FAILED a regression input under $regressions — see $log"
      tail -30 "$log"
      failed=$((failed + 1))
      rows+=("$name|regression|-|-|-|-|-")
      continue
    fi
  fi

  corpus="$root/build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [[ -d "$root/fuzz/corpus/${name#fuzz_}" ]] && seeds=("$root/fuzz/corpus/${name#fuzz_}")
  children_cpu
  cpu_before=$cpu_now
  start=$(date +%s)
  status=ok
  if ! timeout $((seconds + 60)) "$bin" "$corpus" "${seeds[@]}" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/$name-" -print_final_stats=1 \
      >"$log" 2>&1; then
    status=FAILED
  fi
  wall=$(($(date +%s) - start))
  children_cpu
  cpu=$(awk -v a="$cpu_now" -v b="$cpu_before" 'BEGIN { printf "%.1f", a - b }')
  # libFuzzer's last status line ("#N DONE cov: C ft: F corp: K/SIZE ...") and final stats.
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  corp=$(grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' <<<"$last" | cut -d' ' -f2 || true)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  rows+=("$name|$status|$wall|$cpu|${execs:-?}|${cov:-?}|${ft:-?}|${corp:-?}")
  if [[ $status == ok ]]; then
    echo "fuzz: $name ok (${wall}s, ${execs:-?} runs, cov: ${cov:-?})"
  else
    echo "fuzz: $name FAILED — see $log and $crashes"
    tail -30 "$log"
    failed=$((failed + 1))
  fi
done
[[ $ran -gt 0 ]] || { echo "fuzz: no target matched"; exit 1; }

echo
printf '| %-24s | %-6s | %7s | %7s | %10s | %6s | %7s | %-14s |\n' \
  target result seconds cpu-s runs cov ft corpus
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..26})" "--------" \
  "---------" "---------" "------------" "--------" "---------" "----------------"
for row in "${rows[@]}"; do
  IFS='|' read -r n st w c r cv f cp <<<"$row"
  printf '| %-24s | %-6s | %7s | %7s | %10s | %6s | %7s | %-14s |\n' \
    "$n" "$st" "$w" "$c" "$r" "$cv" "$f" "${cp:--}"
done
echo
echo "fuzz: $((ran - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
