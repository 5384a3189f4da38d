"""The HTTP side of `serve`: an ASGI app (Starlette, see monitor/service/app.py) on uvicorn in a background thread.

The listening socket is bound in the caller's thread, so a bad `--listen` fails at once with one clear line and
port 0 gives a known port before the first request. uvicorn then runs in its own thread with its own event loop;
it installs no signal handlers (`serve` owns SIGINT/SIGTERM). `start()` returns once uvicorn accepts connections;
`close()` stops accepting, lets running requests finish (at most `shutdown_timeout_s`) and joins the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger("recovery-monitor.http")


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`) → (host, port)."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8787")
    return host, int(port)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (IPv6 when the host has a colon); OSError naming `--listen`.

    The socket names its protocol (IPPROTO_TCP) so that asyncio sets TCP_NODELAY on each accepted connection, as
    it does for sockets it creates itself; without it every response waits ~40 ms for a delayed ACK (Nagle)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(f"--listen {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(False)
    return sock


class _Uvicorn(uvicorn.Server):
    """uvicorn that tells a thread when it accepts connections and never touches signal handlers."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.accepting = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.accepting.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """Serves the ASGI `app` on `host:port` (port 0: any free port, then `.port`) until `close()`."""

    def __init__(
        self,
        host: str,
        port: int,
        app: ASGIApp,
        *,
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: int = 5,
    ) -> None:
        self._socket = bind(host, port)
        self.host, self.port = host, int(self._socket.getsockname()[1])
        self.startup_timeout_s = startup_timeout_s
        config = uvicorn.Config(
            app,
            lifespan="off",
            loop="asyncio",
            http="h11",
            log_config=None,  # the CLI configures logging; uvicorn's own loggers propagate to it
            access_log=False,  # paths carry athlete IDs; requests are not logged
            server_header=False,
            timeout_graceful_shutdown=shutdown_timeout_s,  # whole seconds
        )
        self._server = _Uvicorn(config)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # SystemExit from a failed startup too: report it to start()
            self._error = exc
            log.error("HTTP server stopped: %s", exc)
        finally:
            self._server.accepting.set()  # wake start() if the server died before accepting

    def start(self) -> WebServer:
        """Run the server thread; return once it accepts connections (RuntimeError when it cannot start)."""
        self._thread.start()
        if not self._server.accepting.wait(self.startup_timeout_s) or self._error or not self._server.started:
            self.close()
            raise RuntimeError(f"HTTP server on {self.url} did not start: {self._error or 'timed out'}")
        log.info("listening on %s (health check %s/healthz)", self.url, self.url)
        return self

    def close(self) -> None:
        """Stop accepting, finish running requests (bounded by the shutdown timeout), join the thread."""
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=(self._server.config.timeout_graceful_shutdown or 5.0) + 1.0)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout=2.0)
        self._socket.close()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
