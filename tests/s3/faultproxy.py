#!/usr/bin/python3
"""A fault-injecting HTTP proxy for Mox's S3 tests: forwards to an upstream S3 endpoint and,
on command, answers 503 SlowDown, resets connections, or stops mid-download.

Commands are requests to /__fault__/... (no bucket name can contain '_'):
  /__fault__/503/N     the next N requests are answered 503 SlowDown
  /__fault__/reset/N   the next N requests are dropped with a TCP reset, unanswered
  /__fault__/cut/B     GET bodies are relayed for B more bytes in all, then the connection
                       is reset and the proxy exits (the server is gone)
  /__fault__/stats     JSON: how many faults were injected and requests forwarded
"""
import argparse
import http.server
import json
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sigproxy import forward, serve  # noqa: E402

lock = threading.Lock()
state = {"503": 0, "reset": 0, "cut": None}
stats = {"503": 0, "reset": 0, "forwarded": 0}


def reset(handler):
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None

    def log_message(self, fmt, *args):
        pass

    def control(self):
        parts = self.path.strip("/").split("/")
        with lock:
            if parts[1] in ("503", "reset"):
                state[parts[1]] = int(parts[2])
            elif parts[1] == "cut":
                state["cut"] = int(parts[2])
            payload = json.dumps(stats).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def handle_any(self):
        if self.path.startswith("/__fault__/"):
            return self.control()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            fault = next((f for f in ("reset", "503") if state[f] > 0), None)
            if fault:
                state[fault] -= 1
                stats[fault] += 1
            cut = state["cut"] if self.command == "GET" else None
            stats["forwarded"] += fault is None
        if fault == "reset":
            return reset(self)
        if fault == "503":
            payload = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return
        sent = forward(self, self.upstream, body, cut_after=cut)
        if sent is None:
            reset(self)
            os._exit(0)  # the server stops: later connections are refused
        if cut is not None:
            with lock:
                state["cut"] -= sent

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="host:port to forward to")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port listened on to this file")
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    Handler.upstream = (host, int(port))
    serve(Handler, args.port, args.port_file)


if __name__ == "__main__":
    main()
