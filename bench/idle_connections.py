#!/usr/bin/env python3
"""Holds COUNT idle TLS connections to 127.0.0.1:PORT (handshake done, no request), for the
RSS-per-idle-connection figure of bench/serve_vs_nginx.sh. Writes the number of connections up
to --ready FILE, then waits until --stop FILE exists, then closes them all."""
import argparse
import asyncio
import os
import ssl


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--stop", required=True)
    args = parser.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # a benchmark of the server's memory, not of trust
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    gate = asyncio.Semaphore(200)
    conns = []

    async def one():
        async with gate:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", args.port, ssl=ctx)
                conns.append(writer)
            except OSError:
                pass

    await asyncio.gather(*(one() for _ in range(args.count)))
    with open(args.ready + ".tmp", "w") as f:
        f.write(f"{len(conns)}\n")
    os.rename(args.ready + ".tmp", args.ready)
    while not os.path.exists(args.stop):
        await asyncio.sleep(0.1)
    for w in conns:
        w.close()


asyncio.run(main())
