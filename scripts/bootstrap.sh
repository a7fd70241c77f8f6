#!/usr/bin/env bash
# Installs every Debian package that bulwark's build, tests and test peers need.
# Idempotent: installs only what is missing, prints nothing when there is nothing to do.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ clang make ccache pkg-config clang-format
  libssl-dev libboost-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # sanitizer and fuzzer runtimes for clang
  libclang-rt-14-dev
  # test peers and tools the tests drive
  openssl gnutls-bin curl python3 procps ca-certificates python3-cryptography
  # the anchors of bench/serve_vs_nginx.sh (`make bench`)
  nginx wrk
  # instruction counts of bench/callgrind.sh (valgrind/callgrind.h for bench_tls too)
  valgrind
  # the anchor of bench/proxy_vs_mitmdump.sh
  mitmproxy
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "bootstrap: need root to install packages (run as root or install sudo)" >&2
    exit 1
  }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Installing nginx would start it as a system service (on port 80): the benchmark runs its own
# nginx with its own configuration instead. A policy-rc.d that answers 101 tells invoke-rc.d
# not to start services; ours is temporary and only made when there is none.
policy=/usr/sbin/policy-rc.d
made_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  made_policy=true
fi
remove_policy() { if $made_policy; then "${sudo[@]}" rm -f "$policy"; fi; }
trap remove_policy EXIT
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
