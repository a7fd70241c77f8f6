#!/usr/bin/env python3
"""The THC handshake flood from one source address: THREADS loops, each opening a TCP
connection from SOURCE to 127.0.0.1:PORT, completing a full TLS handshake (no session reused)
and closing at once, as fast as it can, until --stop FILE exists or --seconds have passed.
Creates --ready FILE once every thread has made its first attempt (a flooder started at nice 19
on a busy machine may take seconds to get going), and writes its counts as one JSON object to
--out FILE (atomically, at the end):
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", required=True, help="loopback address to connect from")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60, help="upper bound of the run")
    parser.add_argument("--timeout", type=float, default=5)
    parser.add_argument("--ready", required=True, help="created once the flood runs")
    parser.add_argument("--stop", required=True, help="the run ends when this file exists")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # An attacker verifies nothing: the server's work is what counts.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    counts = {"completed": 0, "refused": 0, "unreachable": 0, "timed_out": 0}
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + args.seconds
    # Closing with a reset (SO_LINGER 0) leaves no TIME_WAIT behind: tens of thousands of
    # connections from one address would otherwise run out of ports.
    reset_on_close = struct.pack("ii", 1, 0)

    started = {"threads": 0, "all": threading.Event()}

    def stopped():
        return time.monotonic() >= deadline or os.path.exists(args.stop)

    def flood():
        local = dict.fromkeys(counts, 0)
        n = 0
        while True:
            if n == 1:
                with lock:
                    started["threads"] += 1
                    if started["threads"] == args.threads:
                        started["all"].set()
            # The stop file is looked at every 16 connections: a stat per handshake would
            # slow the flood down.
            if n % 16 == 0 and stopped():
                break
            n += 1
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset_on_close)
            sock.settimeout(args.timeout)
            try:
                sock.bind((args.source, 0))
                sock.connect(("127.0.0.1", args.port))
            except (socket.timeout, TimeoutError):
                local["timed_out"] += 1
                sock.close()
                continue
            except OSError:
                local["unreachable"] += 1
                sock.close()
                continue
            try:
                with ctx.wrap_socket(sock, do_handshake_on_connect=False) as tls:
                    tls.do_handshake()
                    local["completed"] += 1
            except (socket.timeout, TimeoutError):
                local["timed_out"] += 1
            except (ssl.SSLError, OSError):
                local["refused"] += 1
            finally:
                sock.close()
        with lock:
            for k, v in local.items():
                counts[k] += v

    threads = [threading.Thread(target=flood) for _ in range(args.threads)]
    for t in threads:
        t.start()
    while not started["all"].wait(timeout=0.1):
        if not any(t.is_alive() for t in threads):
            break
    else:
        with open(args.ready, "w"):
            pass
    for t in threads:
        t.join()
    counts["seconds"] = round(time.monotonic() - start, 3)
    with open(args.out + ".tmp", "w") as f:
        json.dump(counts, f)
        f.write("\n")
    os.rename(args.out + ".tmp", args.out)


main()
