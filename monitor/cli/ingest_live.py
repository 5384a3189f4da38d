"""The live per-sensor view of `recovery-monitor ingest`: a rich Live table on stderr, only in a terminal.

One row per configured sensor, from what the gateway already tracks: its session state, the recorder's counters
and the arrival time of its last notification. Notifications per second are the counter's change over the last
`RATE_WINDOW_S` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from ingest.gateway.gateway import Gateway
from ingest.gateway.session import DeviceSession, DeviceState

REFRESH_S = 0.5
RATE_WINDOW_S = 5.0
LIVE_COLUMNS = ("athlete", "sensor", "profile", "state", "samples", "notifications/s", "last seen")
STATE_STYLES = {DeviceState.CONNECTED: "green", DeviceState.LOST: "red", DeviceState.RECONNECTING: "yellow"}


def last_seen(last_data_s: float, now_s: float) -> str:
    """`0.4 s ago`, `2 min ago`, or `never` (``last_data_s`` = 0: no notification yet; monotonic seconds)."""
    if last_data_s <= 0:
        return "never"
    age = max(now_s - last_data_s, 0.0)
    return f"{age:.1f} s ago" if age < 60 else f"{age / 60:.0f} min ago"


class DeviceBoard:
    """Rows of the live view; keeps the previous counters to compute rates."""

    def __init__(self) -> None:
        self._history: dict[str, deque[tuple[float, int]]] = {}

    def rate(self, key: str, now_s: float, notifications: int) -> float:
        """Notifications per second over the last `RATE_WINDOW_S` (0 until two refreshes were seen)."""
        history = self._history.setdefault(key, deque())
        history.append((now_s, notifications))
        while len(history) > 2 and now_s - history[1][0] >= RATE_WINDOW_S:
            history.popleft()
        then_s, then = history[0]
        return (notifications - then) / (now_s - then_s) if now_s > then_s else 0.0

    def rows(self, sessions: Sequence[DeviceSession], now_s: float) -> list[list[str]]:
        rows = []
        for session in sessions:
            spec, stats = session.spec, session.recorder.stats
            rate = self.rate(spec.key, now_s, stats.notifications)
            style = STATE_STYLES.get(session.state, "dim")
            rows.append(
                [
                    escape(spec.athlete),
                    escape(spec.key) + (f" ({spec.side})" if spec.side else ""),
                    spec.profile,
                    f"[{style}]{session.state}[/]",
                    f"{stats.samples:,}",
                    f"{rate:.1f}",
                    last_seen(session.last_data, now_s),
                ]
            )
        return rows

    def table(self, sessions: Sequence[DeviceSession], now_s: float) -> Table:
        connected = sum(s.state is DeviceState.CONNECTED for s in sessions)
        table = Table(title=f"Gateway: {connected}/{len(sessions)} sensors connected")
        for name in LIVE_COLUMNS:
            table.add_column(name, justify="right" if name in ("samples", "notifications/s") else "left")
        for row in self.rows(sessions, now_s):
            table.add_row(*row)
        return table

    async def show(self, gateway: Gateway, console: Console) -> None:
        """Refresh the view every `REFRESH_S` until cancelled (then it disappears; the final report follows)."""
        first = self.table(gateway.sessions, time.monotonic())
        with Live(first, console=console, auto_refresh=False, transient=True) as live:
            while True:
                await asyncio.sleep(REFRESH_S)
                live.update(self.table(gateway.sessions, time.monotonic()), refresh=True)


def live_console() -> Console | None:
    """The stderr console when it is a terminal, else None (no live view in pipes, files or CI logs)."""
    console = Console(stderr=True)
    return console if console.is_terminal else None
