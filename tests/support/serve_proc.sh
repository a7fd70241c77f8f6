# For the command tests that watch the `bulwark serve` process itself (tests/cli/flood.sh,
# tests/cli/idle_connections.sh), sourced after tests/cli/lib.sh. Not a test itself.

# A command built with AddressSanitizer (`make sanitize`) runs several times slower, and its
# memory figures are ASan's (shadow memory, redzones, a quarantine of freed blocks), not the
# server's: the tests then hold fewer connections and leave the memory bounds to LeakSanitizer,
# whose report at exit makes the exit status that stop_server checks non-zero.
sanitized=false
grep -qa __asan_init "$bulwark" && sanitized=true

# serve_or_end NAME ARGS...: serve_bg NAME ARGS; when it does not start, the test fails and
# ends here. Sets $server: the server's own PID ($spid is that of `timeout`, its parent),
# whose /proc entry holds the memory figures and which takes the SIGTERM (see stop_server).
serve_or_end() {
  local name=$1 i
  server=
  if serve_bg "$@"; then
    for ((i = 0; i < 40; i++)); do
      server=$(pgrep -P "$spid" | head -1)
      [[ -n $server ]] && break
      sleep 0.05
    done
  fi
  if [[ -z $server ]]; then
    bad "serve starts" "$tmp/$name.err"
    summary "$(basename "$0" .sh)"
    exit
  fi
  ok
}
# rss_of PID FIELD: a figure of /proc/PID/status in KiB (VmRSS, VmHWM), empty once it is gone.
rss_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
# cpu_ticks PID...: user + system CPU of the processes so far, in clock ticks (getconf CLK_TCK).
cpu_ticks() {
  local p t=0
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
# measuring_alone / measuring_done: around the part of a test that measures (flood.sh's three
# downloads) or loads the machine (idle_connections.sh's 10,000 handshakes), so that ctest -j
# does not run those parts of the two at once (one would measure the other). An exclusive
# flock on a file shared by every build directory; waits at most 100 s, then goes on anyway
# (the figures then say what they measured).
measuring_alone() {
  exec {measuring_fd}>"${TMPDIR:-/tmp}/bulwark-measuring.lock"
  flock -w 100 "$measuring_fd" || echo "(measuring while another test does: its lock was held 100 s)"
}
measuring_done() { exec {measuring_fd}>&-; }
# stop_server NAME: SIGTERM to the server, which must exit 0 within 15 s. To the server itself:
# `timeout` would send it twice (to its child and to its process group), and a second one that
# arrives after the server has finished and restored the default action kills it (status 143).
stop_server() {
  kill -TERM "$server"
  wait_pid "$spid" 15
  [[ $st -eq 0 ]] && ok || bad "SIGTERM: exit 0 (got $st)" "$tmp/$1.err"
}
