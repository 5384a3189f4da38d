"""The store layer: choose a backend from a URL.

- `sqlite:///relative/file.sqlite` or `sqlite:////absolute/file.sqlite` (the SQLAlchemy convention);
- `influxdb+http://HOST:PORT/DB[/RP]` or `influxdb+https://…`, with the token from `INFLUX_TOKEN` or the file
  named by `INFLUX_TOKEN_FILE`; credentials inside the URL are refused so they never reach logs or shells.
  InfluxDB 1.x with authentication enabled takes a user instead of a token: set `INFLUX_USERNAME`, and the token
  is then that user's password (sent with HTTP Basic auth, which 3.x also accepts).

Without `--store`, `RECOVERY_STORE` is used, else the embedded file in the user's data directory. Client tuning
is an `open_store` option (`retry=RetryBudget(...)`), so no caller needs to know which backend it got.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from platformdirs import user_data_dir

from ingest.secrets import SecretError, secret_from_env
from ingest.store.base import Frame, ManyFrame, PointBatch, RetryBudget, Store
from ingest.store.errors import StoreConfigError

__all__ = [
    "Frame",
    "ManyFrame",
    "PointBatch",
    "RetryBudget",
    "Store",
    "default_store_url",
    "open_store",
    "resolve_store_url",
]


def default_store_url() -> str:
    """The embedded store's default file, in the user's data directory."""
    return "sqlite:///" + str(Path(user_data_dir("recovery-monitor")) / "recovery.sqlite")


def resolve_store_url(url: str | None, env: Mapping[str, str] = os.environ) -> str:
    """The explicit URL, else `RECOVERY_STORE`, else the default embedded file."""
    return url or env.get("RECOVERY_STORE") or default_store_url()


def _influx_token(env: Mapping[str, str]) -> str | None:
    try:
        return secret_from_env("INFLUX_TOKEN", env)[0]
    except SecretError as exc:
        raise StoreConfigError(str(exc)) from None


def open_store(
    url: str | None = None, env: Mapping[str, str] = os.environ, *, retry: RetryBudget | None = None
) -> Store:
    """Open the store named by `url` (see the module docstring); ``retry`` bounds a networked backend's retries
    (default `RetryBudget()`; the embedded file ignores it)."""
    url = resolve_store_url(url, env)
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreConfigError(f"--store {url!r}: not a URL; use sqlite:///PATH or influxdb+http://HOST:PORT/DB")
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise StoreConfigError(f"--store {url!r}: expected sqlite:///PATH")
        from ingest.store.sqlite import SQLiteStore

        return SQLiteStore(rest[1:], url=url)
    if scheme in ("influxdb+http", "influxdb+https"):
        return _open_influx(url, scheme.removeprefix("influxdb+"), env, retry or RetryBudget())
    raise StoreConfigError(
        f"--store {url!r}: unknown scheme {scheme!r}; use sqlite:///PATH or influxdb+http(s)://HOST:PORT/DB"
    )


def _open_influx(url: str, http_scheme: str, env: Mapping[str, str], retry: RetryBudget) -> Store:
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise StoreConfigError(
            f"--store {parts.scheme}://{parts.hostname}…: credentials in the URL are refused; set INFLUX_TOKEN"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise StoreConfigError(f"--store {url!r}: {exc}") from exc
    if not parts.hostname:
        raise StoreConfigError(f"--store {url!r}: missing host")
    path = [p for p in parts.path.split("/") if p]
    if not 1 <= len(path) <= 2:
        raise StoreConfigError(f"--store {url!r}: expected /DATABASE or /DATABASE/RETENTION_POLICY after the host")
    from ingest.store.influx import InfluxStore

    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    token = _influx_token(env)
    userinfo = ""
    if env.get("INFLUX_USERNAME"):
        userinfo = quote(env["INFLUX_USERNAME"], safe="") + ":" + quote(token or "", safe="") + "@"
        token = None
    base_url = f"{http_scheme}://{userinfo}{host}" + (f":{port}" if port else "")
    return InfluxStore(
        base_url,
        path[0],
        retention_policy=path[1] if len(path) == 2 else None,
        token=token,
        url=url,
        timeout_s=retry.timeout_s,
        max_retries=retry.max_retries,
        backoff_base_s=retry.backoff_base_s,
        backoff_cap_s=retry.backoff_cap_s,
        max_total_s=retry.max_total_s,
    )
