#!/usr/bin/env python3
"""The THC handshake flood from one source address: THREADS loops, each opening a TCP
connection from SOURCE to 127.0.0.1:PORT, completing a full TLS handshake (no session reused)
and closing at once, as fast as it can, until --stop FILE exists or --seconds have passed.

--progress FILE: every 0.2 s, "COMPLETED REFUSED" so far (replaced atomically), so that a test
can wait until the flood is real (a flooder at nice 19 on a busy machine may take seconds to
get going) and count what happened in a window. --out FILE, at the end: one JSON object,
  completed   handshakes completed (the server signed and did a key exchange for each)
  refused     connections the server closed or reset before the handshake completed
  unreachable connections that never opened (backlog full, no port left)
  timed_out   connect or handshake over --timeout seconds
  seconds     how long it ran
The per-source limit of `bulwark serve` tells sources apart by address, so two flooders on
127.0.0.2 and 127.0.0.3 are two attackers to it."""
import argparse
import json
import os
import socket
import ssl
import struct
import threading
import time

from load_clients import unverified_client_context, write_atomically

OUTCOMES = ("completed", "refused", "unreachable", "timed_out")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", required=True, help="loopback address to connect from")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60, help="upper bound of the run")
    parser.add_argument("--timeout", type=float, default=5)
    parser.add_argument("--stop", required=True, help="the run ends when this file exists")
    parser.add_argument("--progress", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    # An attacker verifies nothing: the server's work is what counts.
    ctx = unverified_client_context()
    start = time.monotonic()
    deadline = start + args.seconds
    # Closing with a reset (SO_LINGER 0) leaves no TIME_WAIT behind: tens of thousands of
    # connections from one address would otherwise run out of ports.
    reset_on_close = struct.pack("ii", 1, 0)
    done = threading.Event()
    # One tally per thread, each written by its thread only and summed by the main thread.
    tallies = [dict.fromkeys(OUTCOMES, 0) for _ in range(args.threads)]

    def attempt():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset_on_close)
        sock.settimeout(args.timeout)
        try:
            sock.bind((args.source, 0))
            sock.connect(("127.0.0.1", args.port))
        except (socket.timeout, TimeoutError):
            sock.close()
            return "timed_out"
        except OSError:
            sock.close()
            return "unreachable"
        try:
            with ctx.wrap_socket(sock, do_handshake_on_connect=False) as tls:
                tls.do_handshake()
            return "completed"
        except (socket.timeout, TimeoutError):
            return "timed_out"
        except (ssl.SSLError, OSError):
            return "refused"
        finally:
            sock.close()

    def flood(tally):
        while not done.is_set():
            tally[attempt()] += 1

    def total():
        return {k: sum(t[k] for t in tallies) for k in OUTCOMES}

    threads = [threading.Thread(target=flood, args=(t,)) for t in tallies]
    for t in threads:
        t.start()
    while not (os.path.exists(args.stop) or time.monotonic() >= deadline):
        now = total()
        write_atomically(args.progress, f"{now['completed']} {now['refused']}\n")
        time.sleep(0.2)
    done.set()
    for t in threads:
        t.join()
    result = total()
    result["seconds"] = round(time.monotonic() - start, 3)
    write_atomically(args.out, json.dumps(result) + "\n")


main()
