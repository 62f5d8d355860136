"""A small HTTP app that a real daprd delivers to: it records every request and answers as the
test tells it to (status and body per route)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body)


@dataclass
class DeliveryRecorder:
    """Routes: exact path -> callable(Received) -> (status, body)."""

    port: int
    routes: dict = field(default_factory=dict)
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "DeliveryRecorder":
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                with app.lock:
                    app.received.append(rec)
                    handler = app.routes.get(self.path.split("?")[0])
                status, payload = handler(rec) if handler else (404, b"")
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = _serve

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str, status: int = 200, body=b"", fn=None):
        with self.lock:
            self.routes[path] = fn or (lambda _rec: (status, body))

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.split("?")[0] == path]

    def clear(self):
        with self.lock:
            self.received.clear()
