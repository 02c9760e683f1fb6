"""A tiny HTTP(S) server on a loopback address that records every request it gets.

Tests use it as the "internal" service an attack must never reach (assert `hits == []`), as an
image host a page may or may not load from, and as an upstream that answers a redirect. With TLS
it records the SNI name each handshake asked for.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass
class Hit:
    """One request: method, path with query, and its headers (lower-case names)."""

    method: str
    path: str
    headers: dict[str, str]
    peer: str


@dataclass
class Canned:
    """The answer to a path: status, headers and body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"{}"


class RecordingServer:
    """Serves `routes` (path without query → Canned; anything else: a PNG) and records hits."""

    def __init__(
        self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None, routes=None
    ) -> None:
        self.host = host
        self.routes: dict[str, Canned] = dict(routes or {})
        self.hits: list[Hit] = []
        self.sni: list[str | None] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                with owner._lock:
                    owner.hits.append(
                        Hit(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            self.client_address[0],
                        )
                    )
                canned = owner.routes.get(self.path.split("?", 1)[0]) or Canned(
                    headers={"content-type": "image/png"}, body=PNG
                )
                self.send_response(canned.status)
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = _answer

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:

            def record_sni(_sock, name, _ctx):
                with self._lock:
                    self.sni.append(name)

            tls.sni_callback = record_sni
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        """The paths (with query) requested so far."""
        with self._lock:
            return [h.path for h in self.hits]
