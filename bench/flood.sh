#!/usr/bin/env bash
# The handshake-flood figures of one run (issue #8): tests/cli/flood.sh does the run (two
# flooders at nice 19 from 127.0.0.2 and 127.0.0.3, full TLS handshakes as fast as they can,
# while curl downloads a file sized for ~2.5 s from `bulwark serve`); this prints its figures
# and the test's verdict. A program that prints figures; the bounds are the test's.
#
#   bench/flood.sh [BULWARK]          (default build/release/bulwark)
#   WORKERS=2 THREADS=8 NICE=0 SERVE_ARGS="--handshake-rate 0" bench/flood.sh
#
# WORKERS: serve's event loops (1); THREADS: connections each flooder keeps going at once (4);
# NICE: the flooders' niceness (19: remote attackers; 0: they take their share of this
# machine's cores from the server and curl, a worst case that measures the scheduler too);
# SERVE_ARGS: more serve options, e.g. --handshake-rate 0 to see the flood with only the
# limit of handshakes in progress (--max-handshakes) standing in its way.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bulwark=$(realpath "${1:-$repo/build/release/bulwark}")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
needs_program flood "$bulwark" "make build"
figures=$(mktemp)
log=$(mktemp)
trap 'rm -f "$figures" "$log"' EXIT

FLOOD_WORKERS=${WORKERS:-1} FLOOD_THREADS=${THREADS:-4} FLOOD_NICE=${NICE:-19} FLOOD_SERVE_ARGS=${SERVE_ARGS:-} \
  FLOOD_FIGURES=$figures bash "$repo/tests/cli/flood.sh" "$bulwark" >"$log" 2>&1
status=$?
get() { sed -n "s/^$1=//p" "$figures"; }

echo "flood: bulwark $("$bulwark" --version | awk '{print $2}'), ${WORKERS:-1} worker(s)," \
  "2 flooders x ${THREADS:-4} threads at nice ${NICE:-19}, serve options: ${SERVE_ARGS:-(defaults)}," \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ! -s $figures ]]; then
  echo "flood: the run produced no figures" >&2
  cat "$log" >&2
  exit 1
fi
row() { printf '  %-50s %s\n' "$1" "$2"; }
row "download size" "$(get file_mib) MiB"
row "unloaded rate (before / after the flood)" "$(get unloaded_mbs_before) / $(get unloaded_mbs_after) MB/s"
row "rate under the flood" "$(get loaded_mbs) MB/s"
row "ratio (loaded / mean unloaded; test: >= 0.5)" "$(get ratio)"
row "flood handshakes completed, whole run" "$(get flood_handshakes) ($(get flood_handshakes_per_s)/s)"
row "flood handshakes completed, during the download" \
  "$(get flood_handshakes_during_download) ($(get flood_handshakes_per_s_during_download)/s)"
row "flood connections refused, whole run" "$(get refused)"
row "flood connections refused, during the download" "$(get flood_refused_during_download)"
row "flood connections unreachable / timed out" "$(get unreachable) / $(get timed_out)"
row "CPU during the download: server / flooders" \
  "$(get server_cpu_percent_during_download)% / $(get flooders_cpu_percent_during_download)% of a core"
row "limit lines logged" "$(get limit_lines)"
row "server RSS before the flood" "$(get rss_before_kib) KiB"
row "server RSS peak (sampled under the flood)" "$(get rss_flood_peak_kib) KiB"
row "server RSS high-water mark (VmHWM)" "$(get rss_hwm_kib) KiB"
grep -E '^(during|flooder|FAIL|flood:)' "$log" | sed 's/^/  /'
exit "$status"
