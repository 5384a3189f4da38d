"""Shared by the InfluxDB store tests: sample batches and a fault-injecting loopback proxy in front of influxd."""

from __future__ import annotations

import gzip
import itertools
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np

from ingest.store.base import PointBatch
from ingest.store.influx import InfluxStore

T0 = 1_700_000_000_000  # 2023-11-14, ms
TOKEN = "s3cret-token-value"


def hr_batch(athlete: str, n: int, start_ms: int = T0, step_ms: int = 1000, **tags: str) -> PointBatch:
    """n HR/RR samples of one athlete: `hr` integer bpm, `rr` float ms at 1/1024 s resolution."""
    k = np.arange(n)
    rr = np.round((800 + 40 * np.sin(k / 7)) * 1.024) / 1.024
    fields = {"hr": np.round(60_000 / rr).astype(np.int64), "rr": rr}
    return PointBatch("hr", {"athlete": athlete, **tags}, start_ms + k * step_ms, fields)


# -- fault-injecting proxy ---------------------------------------------------------------------------------------


@dataclass
class Fault:
    """What the proxy answers instead of forwarding: a status (with headers/body), or silence for `hang_s`."""

    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes  # decompressed
    outcome: str


class FaultProxy:
    """Loopback HTTP proxy to influxd; the first queued faults answer requests whose path starts with `target`."""

    def __init__(self, upstream: str, target: str = "/write") -> None:
        self.target = target
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._upstream = httpx.Client(base_url=upstream, timeout=30.0, trust_env=False)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy._handle(self)

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def writes(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.path.startswith("/write")]

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        headers = dict(request.headers.items())
        plain = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
        with self._lock:
            fault = self.faults.pop(0) if request.path.startswith(self.target) and self.faults else None
            outcome = "forwarded" if fault is None else f"hang {fault.hang_s}" if fault.hang_s else str(fault.status)
            self.seen.append(Seen(request.command, request.path, headers, plain, outcome))
        if fault is not None and fault.hang_s:
            self._closing.wait(fault.hang_s)
            request.close_connection = True
            return
        if fault is not None:
            status, reply_headers, reply = (
                fault.status,
                {"Content-Type": "application/json", **fault.headers},
                fault.body,
            )
        else:
            keep = {
                k: v for k, v in headers.items() if k.lower() in ("content-type", "content-encoding", "authorization")
            }
            response = self._upstream.request(request.command, request.path, content=body, headers=keep)
            skip = {"content-length", "content-encoding", "transfer-encoding", "connection"}
            status, reply = response.status_code, response.content
            reply_headers = {k: v for k, v in response.headers.items() if k.lower() not in skip}
        request.send_response(status)
        for key, value in reply_headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(reply)))
        request.end_headers()
        request.wfile.write(reply)

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._upstream.close()


_NUMBERS = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}_{next(_NUMBERS)}_{time.monotonic_ns() % 10**8}"


def proxied_store(proxy: FaultProxy, **options: float) -> InfluxStore:
    """A connected store that talks through the proxy, with fast retries unless told otherwise."""
    settings_ = {"backoff_base_s": 0.01, "backoff_cap_s": 0.05, "max_total_s": 20.0, **options}
    store = InfluxStore(proxy.url, unique("proxied"), token=TOKEN, **settings_)
    store.connect()
    return store
