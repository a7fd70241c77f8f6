#!/usr/bin/env bash
# `make run`: the main job. Starts `bulwark serve` with its embedded default: the local CA and
# a localhost / 127.0.0.1 / ::1 certificate kept in $XDG_DATA_HOME/bulwark (created on the
# first run), serving the built-in page on https://127.0.0.1:8443/ until Ctrl-C.
set -euo pipefail
bulwark=${1:-build/release/bulwark}
data=${XDG_DATA_HOME:-$HOME/.local/share}/bulwark

echo "== bulwark $("$bulwark" --version | awk '{print $2}')"
echo "bulwark serve keeps a local CA and a localhost certificate in $data"
echo "(created on the first run, private keys mode 0600; reused afterwards, the certificate"
echo "re-issued when it is within 7 days of expiry)."
echo
echo "Starting: $bulwark serve --listen 127.0.0.1:8443"
echo "It prints its TLS settings, the CA file and a ready-to-paste curl line; then, in another"
echo "terminal:"
echo "  curl --cacert $data/ca.crt https://127.0.0.1:8443/"
echo "  $bulwark cert verify $data/localhost.crt --cacert $data/ca.crt --name 127.0.0.1"
echo "Ctrl-C (or SIGTERM) stops it gracefully: close_notify to every client, then exit 0."
echo "Serve a directory instead: $bulwark serve DIR (see docs/USAGE.md)."
echo
exec "$bulwark" serve --listen 127.0.0.1:8443
