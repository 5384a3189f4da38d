"""Squad configuration (TOML): which sensor belongs to which pseudonymous athlete, and gateway settings.

Example::

    [gateway]
    id = "pitch-1"              # tag of the gateway's telemetry
    adapter_slots = 7            # connection slots per adapter
    watchdog_periods = 3         # no sample within 3 × the expected period → reconnect
    connect_timeout_s = 20
    spool = "gateway-spool.sqlite"
    spool_max_mb = 512

    [[device]]
    athlete = "A01"
    profile = "heart_rate"       # heart_rate | rsc | cycling_power | pmd_acc | pmd_ecg | muscle_load
    address = "C0:00:00:00:01:01"

    [[device]]
    athlete = "A01"
    profile = "muscle_load"
    name = "MLP-01L"             # or a glob such as "MLP-01*" (the first matching sensor is bound)
    side = "left"                # left | right (pods, optional for others)
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.gateway.profiles import PROFILES
from ingest.ids import PSEUDONYM_RULE, is_pseudonymous_id

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")
_GATEWAY_KEYS = {
    "id",
    "adapter_slots",
    "adapters",
    "watchdog_periods",
    "watchdog_min_s",
    "connect_timeout_s",
    "connect_attempts",
    "spool",
    "spool_max_mb",
    "spool_fsync",
    "telemetry_interval_s",
    "backoff_max_s",
}
_DEVICE_KEYS = {"athlete", "profile", "address", "name", "side", "label", "adapter", "period_s"}


class ConfigError(ValueError):
    """The squad configuration is invalid; the message names the file, the entry and the problem."""


@dataclass(frozen=True)
class DeviceSpec:
    """One configured sensor."""

    athlete: str
    profile: str
    address: str | None = None
    name: str | None = None
    side: str | None = None
    label: str | None = None
    adapter: str | None = None
    period_s: float | None = None

    @property
    def key(self) -> str:
        """A stable label for logs, the ``device`` tag and reports."""
        return self.label or self.name or self.address or "?"

    def matches(self, address: str, name: str | None) -> bool:
        """True when an advertiser with ``address`` and ``name`` is this sensor."""
        if self.address is not None:
            return address.upper() == self.address.upper()
        return name is not None and self.name is not None and fnmatch.fnmatchcase(name, self.name)


@dataclass(frozen=True)
class GatewaySettings:
    """The ``[gateway]`` table."""

    id: str = "gateway"
    adapter_slots: int = 7
    adapters: tuple[str, ...] = ("default",)
    watchdog_periods: float = 3.0
    watchdog_min_s: float = 2.0
    connect_timeout_s: float = 20.0
    connect_attempts: int = 4
    spool: str | None = None
    spool_max_mb: float = 512.0
    spool_fsync: str = "normal"
    telemetry_interval_s: float = 5.0
    backoff_max_s: float = 30.0


@dataclass(frozen=True)
class SquadConfig:
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    devices: tuple[DeviceSpec, ...] = ()


def load_config(path: str | Path) -> SquadConfig:
    """Read and validate a squad TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<config>") -> SquadConfig:
    """Parse and validate squad TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    unknown = set(raw) - {"gateway", "device"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {sorted(unknown)}; expected [gateway] and [[device]]")
    gateway = _gateway(raw.get("gateway", {}), source)
    entries = raw.get("device", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: no [[device]] entries")
    devices = tuple(_device(entry, f"{source}: device #{index + 1}") for index, entry in enumerate(entries))
    seen: dict[tuple[str, str], int] = {}
    for index, device in enumerate(devices):
        identity = ("address", device.address.upper()) if device.address else ("name", device.name or "")
        if identity in seen:
            raise ConfigError(
                f"{source}: device #{index + 1} repeats the {identity[0]} of device #{seen[identity] + 1}"
            )
        seen[identity] = index
        if device.adapter is not None and device.adapter not in gateway.adapters:
            raise ConfigError(f"{source}: device #{index + 1}: adapter {device.adapter!r} is not in {gateway.adapters}")
    return SquadConfig(gateway, devices)


def _gateway(table: Any, source: str) -> GatewaySettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [gateway] must be a table")
    unknown = set(table) - _GATEWAY_KEYS
    if unknown:
        raise ConfigError(f"{source}: [gateway] has unknown key(s) {sorted(unknown)}")
    values = dict(table)
    if "adapters" in values:
        adapters = values["adapters"]
        if not isinstance(adapters, list) or not adapters or not all(isinstance(a, str) and a for a in adapters):
            raise ConfigError(f"{source}: [gateway] adapters must be a non-empty list of names")
        values["adapters"] = tuple(adapters)
    numeric = {
        "adapter_slots": (1, 1000),
        "watchdog_periods": (1.0, 100.0),
        "watchdog_min_s": (0.1, 600.0),
        "connect_timeout_s": (0.1, 120.0),
        "connect_attempts": (1, 20),
        "spool_max_mb": (0.01, 1e6),
        "telemetry_interval_s": (0.1, 3600.0),
        "backoff_max_s": (0.1, 3600.0),
    }
    for key, (low, high) in numeric.items():
        if key in values:
            value = values[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise ConfigError(f"{source}: [gateway] {key} = {value!r}: expected a number in {low}-{high}")
    if values.get("spool_fsync", "normal") not in ("normal", "full"):
        raise ConfigError(f"{source}: [gateway] spool_fsync must be 'normal' or 'full'")
    for key in ("id", "spool"):
        if key in values and (not isinstance(values[key], str) or not values[key]):
            raise ConfigError(f"{source}: [gateway] {key} must be a non-empty string")
    return GatewaySettings(**values)


def _device(entry: Any, where: str) -> DeviceSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(entry) - _DEVICE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
    athlete = entry.get("athlete")
    if not is_pseudonymous_id(athlete):
        raise ConfigError(f"{where}: athlete {athlete!r} must be a pseudonymous ID ({PSEUDONYM_RULE})")
    profile = entry.get("profile")
    if profile not in PROFILES:
        raise ConfigError(f"{where}: profile {profile!r} is not one of {sorted(PROFILES)}")
    address, name = entry.get("address"), entry.get("name")
    if (address is None) == (name is None):
        raise ConfigError(f"{where}: give exactly one of address or name")
    if address is not None and (not isinstance(address, str) or not _ADDRESS.match(address)):
        raise ConfigError(f"{where}: address {address!r} is not a Bluetooth address (AA:BB:CC:DD:EE:FF)")
    if name is not None and (not isinstance(name, str) or not name):
        raise ConfigError(f"{where}: name must be a non-empty string or glob")
    side = entry.get("side")
    if side not in (None, "left", "right"):
        raise ConfigError(f"{where}: side {side!r} must be 'left' or 'right'")
    if profile == "muscle_load" and side is None:
        raise ConfigError(f"{where}: a muscle_load pod needs side = 'left' or 'right'")
    period = entry.get("period_s")
    if period is not None and (isinstance(period, bool) or not isinstance(period, int | float) or period <= 0):
        raise ConfigError(f"{where}: period_s must be a positive number")
    label, adapter = entry.get("label"), entry.get("adapter")
    for key, value in (("label", label), ("adapter", adapter)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    return DeviceSpec(athlete, profile, address, name, side, label, adapter, None if period is None else float(period))
