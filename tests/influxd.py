"""A throw-away InfluxDB 1.x server for tests: generated config, free loopback ports, temporary directories."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

DEBIAN_INFLUXD = "/usr/bin/influxd"


def find_influxd() -> str | None:
    """The `influxd` binary on PATH, else Debian's /usr/bin/influxd, else None."""
    found = shutil.which("influxd")
    if found:
        return found
    return DEBIAN_INFLUXD if os.access(DEBIAN_INFLUXD, os.X_OK) else None


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class InfluxServer:
    """One `influxd` process; `stop()` and `start()` restart it on the same ports and data directories."""

    def __init__(self, binary: str, root: Path, *, auth_enabled: bool = False) -> None:
        self.binary = binary
        self.root = Path(root)
        self.auth_enabled = auth_enabled
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.config_path = self.root / "influxdb.conf"
        self.log_path = self.root / "influxd.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False
        atexit.register(self.stop)  # never leave an orphaned influxd behind, even if teardown is skipped

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP API, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _write_config(self) -> None:
        for name in ("meta", "data", "wal"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f"""# upstream spells it reporting-disabled; Debian's 1.6.7 renamed it reporting-enabled (default false)
reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:{self.rpc_port}"

[meta]
  dir = "{self.root / "meta"}"
  logging-enabled = false

[data]
  dir = "{self.root / "data"}"
  wal-dir = "{self.root / "wal"}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false

[http]
  bind-address = "127.0.0.1:{self.http_port}"
  auth-enabled = {"true" if self.auth_enabled else "false"}
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "error"
  suppress-logo = true
"""
        )

    def start(self, timeout_s: float = 20.0) -> None:
        """Start influxd (if not running) and wait until `/ping` answers.

        On the very first start a port taken in the meantime is replaced by fresh ones; later starts (restarts)
        always reuse the same ports and directories.
        """
        if self.running:
            return
        for attempt in range(1 if self._started else 3):
            self._write_config()
            if self._launch(timeout_s):
                self._started = True
                return
            if attempt == 2 or "address already in use" not in self.log_tail():
                break
            self.http_port, self.rpc_port = free_port(), free_port()
        raise RuntimeError(f"influxd did not start: {self.log_tail()}")

    def _launch(self, timeout_s: float) -> bool:
        """Run the binary; True once `/ping` answers, False if it exited (the log says why)."""
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "-config", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            try:
                if httpx.get(f"{self.http_url}/ping", timeout=1.0).status_code == 204:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"influxd did not answer /ping within {timeout_s:g} s: {self.log_tail()}")

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop influxd (SIGTERM, then SIGKILL) and wait for its ports to be released."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)

    def query(self, q: str, **params: str) -> dict:
        """POST an InfluxQL statement directly (no auth), for setup such as creating users."""
        response = httpx.post(f"{self.http_url}/query", params=params, data={"q": q}, timeout=10.0)
        response.raise_for_status()
        return response.json()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def close(self) -> None:
        """Stop the server and delete its directories."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
