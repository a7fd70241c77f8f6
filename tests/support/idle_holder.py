#!/usr/bin/env python3
"""Holds COUNT idle TLS connections to 127.0.0.1:PORT (handshake completed, nothing sent) for
tests/cli/idle_connections.sh. Blocking sockets on THREADS threads: each handshake runs inside
OpenSSL with the GIL released, several times cheaper in client CPU than asyncio's TLS, which
matters when 10,000 handshakes share 2 cores with the server. Writes "HELD FAILED FIRST-ERROR"
to --ready FILE (atomically) once every attempt is done, then waits until --stop FILE exists
(or --seconds have passed), then closes them all."""
import argparse
import os
import socket
import ssl
import threading
import time

from load_clients import unverified_client_context, write_atomically


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=60, help="per connect and handshake")
    parser.add_argument("--seconds", type=float, default=300, help="upper bound of the run")
    parser.add_argument("--ready", required=True)
    parser.add_argument("--stop", required=True)
    args = parser.parse_args()

    ctx = unverified_client_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    deadline = time.monotonic() + args.seconds
    lock = threading.Lock()
    held = []
    errors = []
    remaining = [args.count]

    def take_one():
        with lock:
            if remaining[0] == 0:
                return False
            remaining[0] -= 1
            return True

    def open_connections():
        while take_one():
            try:
                sock = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
                tls = ctx.wrap_socket(sock)
            except OSError as e:  # ssl.SSLError is an OSError
                with lock:
                    errors.append(repr(e))
                continue
            with lock:
                held.append(tls)

    threads = [threading.Thread(target=open_connections) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first_error = errors[0].replace(" ", "_") if errors else "-"
    write_atomically(args.ready, f"{len(held)} {len(errors)} {first_error}\n")
    while not os.path.exists(args.stop) and time.monotonic() < deadline:
        time.sleep(0.1)
    for tls in held:
        tls.close()


main()
