"""A small client of the live-sync server (Centrifugo's JSON protocol over WebSocket), as the
dashboard page speaks it: connect with a platform token, subscribe to a channel (optionally
recovering from a position), read publications. By default to the stack's server; `url` and
`origin` name another (the chart's, as rendered)."""

from __future__ import annotations

import json
import time

from websockets.sync.client import connect as ws_connect

from support.stack import ENV

URL = f"ws://127.0.0.1:{ENV['CENTRIFUGO_PORT']}/connection/websocket"


class Live:
    """One connection. `connect()` answers the connect reply (`{"connect": ...}` or
    `{"error": ...}`); `subscribe()` the subscribe reply; `publications()` what arrives."""

    def __init__(self, token: str | None, url: str = URL, origin: str | None = None):
        self._opened = ws_connect(url, origin=origin, open_timeout=10)
        self.ws = self._opened.__enter__()
        self.token = token
        self.next_id = 0
        self.pushes: list[dict] = []

    def _send(self, msg: dict) -> None:
        self.ws.send(json.dumps(msg))

    def _messages(self, timeout: float):
        """Every message until `timeout` seconds pass without one; answers server pings."""
        try:
            raw = self.ws.recv(timeout=timeout)
        except TimeoutError:
            return
        for line in str(raw).splitlines():
            if not line.strip():
                continue
            msg = json.loads(line)
            if not msg:
                self._send({})  # ping -> pong
                continue
            yield msg

    def command(self, **body) -> dict:
        self.next_id += 1
        self._send({"id": self.next_id, **body})
        deadline = time.time() + 10
        while time.time() < deadline:
            for msg in self._messages(deadline - time.time()):
                if msg.get("id") == self.next_id:
                    return msg
                if "push" in msg:
                    self.pushes.append(msg["push"])
        raise TimeoutError(f"no reply to {body}")

    def connect(self) -> dict:
        return self.command(connect={"token": self.token, "name": "tests"} if self.token else {})

    def subscribe(self, channel: str, **recover) -> dict:
        return self.command(subscribe={"channel": channel, **recover})

    def publications(self, want: int, timeout: float = 10.0) -> list[dict]:
        """The data of publications received, waiting until `want` arrived or `timeout` passed."""
        deadline = time.time() + timeout
        while time.time() < deadline and len([p for p in self.pushes if "pub" in p]) < want:
            for msg in self._messages(max(0.05, deadline - time.time())):
                if "push" in msg:
                    self.pushes.append(msg["push"])
        return [p["pub"] for p in self.pushes if "pub" in p]

    def close(self) -> None:
        self._opened.__exit__(None, None, None)

    def __enter__(self) -> "Live":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
