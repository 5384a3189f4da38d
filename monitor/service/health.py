"""The health endpoint of `serve`: `GET /healthz` (or `/health`) answers the monitor's status as JSON.

A stdlib `ThreadingHTTPServer` in a daemon thread; 200 while the last analysis run succeeded, else 503.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HEALTH_PATHS = ("/healthz", "/health")

log = logging.getLogger("recovery-monitor.health")

StatusProvider = Callable[[], tuple[int, dict[str, Any]]]


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`) → (host, port)."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8787")
    return host, int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "recovery-monitor"
    sys_version = ""

    def _answer(self, with_body: bool) -> None:
        if self.path.split("?", 1)[0] in HEALTH_PATHS:
            status, body = self.server.provider()
        else:
            status, body = 404, {"status": "not found", "paths": list(HEALTH_PATHS)}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], provider: StatusProvider) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.provider = provider


class HealthServer:
    """Serves `provider()` → (status code, JSON body) on `host:port` until `close()`."""

    def __init__(self, host: str, port: int, provider: StatusProvider) -> None:
        try:
            self._server = _Server((host, port), provider)
        except OSError as exc:
            raise OSError(f"--listen {host}:{port}: {exc.strerror or exc}") from None
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health check on http://%s:%d/healthz", self.host, self.port)
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
