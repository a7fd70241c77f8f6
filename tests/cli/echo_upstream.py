#!/usr/bin/env python3
"""Test-only HTTP/1.1 upstream for tests/cli/proxy_rewrite.sh (not a product server).

Answers every request with a text body that echoes what arrived, one line each:
  conn=N            the number of the TCP connection (1, 2, ...): keep-alive is visible
  method=GET
  target=/a?b       the request target as received
  accept-encoding=  the Accept-Encoding field received ("-" when absent)
  framing=...       "length N", "chunked" or "none": how the request body was framed
  body=...          the request body (chunked coding removed)
Special paths:
  /chunked          the answer is sent in the chunked coding, in two chunks
  /gzip             the answer is gzip-compressed with Content-Encoding: gzip
  /truncate         Content-Length 1000, 10 bytes, then the TCP connection ends (no
                    close_notify)
  /silent-close     the connection is closed without any answer
With --cert and --key it speaks TLS; without, plain HTTP.
Usage: echo_upstream.py PORT [--cert FILE --key FILE]
"""
import argparse
import gzip
import http.server
import socket
import ssl
import threading

counter_lock = threading.Lock()
connections = 0


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        global connections
        super().setup()
        with counter_lock:
            connections += 1
            self.conn_number = connections

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return "chunked", data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is not None:
            return "length %s" % length, self.rfile.read(int(length))
        return "none", b""

    def cut(self):
        # The TCP connection ends (FIN) without TLS's close_notify: a truncation.
        raw = self.connection
        if isinstance(raw, ssl.SSLSocket):
            raw = socket.socket(fileno=raw.detach())
        raw.shutdown(socket.SHUT_RDWR)
        raw.close()
        self.close_connection = True

    def answer(self):
        framing, body = self.read_body()
        text = "conn=%d\nmethod=%s\ntarget=%s\naccept-encoding=%s\nframing=%s\nbody=%s\n" % (
            self.conn_number, self.command, self.path,
            self.headers.get("Accept-Encoding", "-"), framing,
            body.decode("utf-8", "replace"))
        payload = text.encode()
        path = self.path.split("?")[0]
        if path == "/silent-close":
            self.cut()
            return
        if path == "/truncate":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            self.wfile.flush()
            self.cut()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if path == "/gzip":
            payload = gzip.compress(payload)
            self.send_header("Content-Encoding", "gzip")
        if path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(payload) // 2
            for piece in (payload[:half], payload[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_HEAD = answer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Echo)
    server.daemon_threads = True
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
