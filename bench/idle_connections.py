#!/usr/bin/env python3
"""Holds COUNT idle TLS connections to 127.0.0.1:PORT (handshake done, no request; or, with
--request PATH, after one keep-alive GET of PATH read to its end), for the
RSS-per-idle-connection figures of bench/serve_vs_nginx.sh. Writes the number of connections up
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
    parser.add_argument("--request", help="GET this path once on each connection first")
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
                reader, writer = await asyncio.open_connection("127.0.0.1", args.port, ssl=ctx)
                if args.request:
                    writer.write(f"GET {args.request} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                    length = 0
                    for line in head.decode("latin-1").split("\r\n")[1:]:
                        name, _, value = line.partition(":")
                        if name.strip().lower() == "content-length":
                            length = int(value.strip())
                    if not head.startswith(b"HTTP/1.1 200") or length == 0:
                        writer.close()
                        return
                    await asyncio.wait_for(reader.readexactly(length), 60)
                conns.append(writer)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                    asyncio.LimitOverrunError):
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
