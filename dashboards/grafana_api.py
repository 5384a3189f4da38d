"""A thin, typed adapter over grafana-client for the few Grafana HTTP API routes `dashboards publish` needs.

- Explicit timeouts (connect and read) on every request.
- Typed errors with one-line messages naming the Grafana URL and the problem, never the token:
  `GrafanaUnavailable` (cannot connect, timeout, 5xx), `GrafanaAuthError` (401/403), `GrafanaRequestError`
  (other rejections, or an answer that is not Grafana's JSON API).
- `None` for a 404 on reads, so callers can GET first and then create or update.
- Alert-rule writes carry `X-Disable-Provenance: true` so the rules stay editable in the UI.
- Annotations are posted as built here: grafana-client's `add_annotation` sends `panelId: null, timeEnd: null`,
  which strict schema validation rejects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import niquests
from grafana_client import GrafanaApi as _ClientApi
from grafana_client.client import (
    GrafanaBadInputError,
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
    TokenAuth,
)

T = TypeVar("T")

_MAX_MESSAGE = 200


class GrafanaError(Exception):
    """Any failure talking to Grafana; the message is one line and never contains the token."""


class GrafanaUnavailable(GrafanaError):
    """Grafana cannot be reached (connection refused, DNS, timeout) or answered with a server error."""


class GrafanaAuthError(GrafanaError):
    """Grafana rejected the credentials (401) or the token lacks a permission (403)."""


class GrafanaRequestError(GrafanaError):
    """Grafana rejected a request (4xx other than auth), or the URL does not serve Grafana's API."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _one_line(text: object) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _message(response: object) -> str:
    if isinstance(response, dict) and response.get("message"):
        return _one_line(response["message"])
    return _one_line(response) if response else "no details"


class GrafanaApi:
    """Grafana at `url` (e.g. `http://localhost:3000`, or with a sub-path) authenticated by a bearer token."""

    def __init__(
        self, url: str, token: str | None, *, connect_timeout_s: float = 5.0, read_timeout_s: float = 15.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GrafanaRequestError(f"--grafana-url {url!r}: expected http(s)://HOST[:PORT][/PATH]")
        if parts.username or parts.password:
            raise GrafanaRequestError(
                f"--grafana-url {parts.scheme}://{parts.hostname}…: credentials in the URL are refused; "
                "set GRAFANA_TOKEN"
            )
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.timeout_s = (connect_timeout_s, read_timeout_s)
        prefix = parts.path.strip("/")
        self._api = _ClientApi(
            auth=TokenAuth(token) if token else None,
            host=parts.hostname,
            port=parts.port,
            url_path_prefix=f"{prefix}/" if prefix else "",
            protocol=parts.scheme,
            timeout=self.timeout_s,
        )
        self._token = token

    def __repr__(self) -> str:
        return f"GrafanaApi({self.url!r}, token={'***' if self._token else None})"

    def close(self) -> None:
        """Release pooled connections."""
        self._api.client.s.close()

    # -- plumbing -------------------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _call(self, what: str, call: Callable[[], T], *, missing_ok: bool = False) -> T | None:
        """Run one grafana-client call, translating its exceptions; a 404 gives None when `missing_ok`."""
        where = f"Grafana {self.url}: {what}"
        try:
            result = call()
        except GrafanaTimeoutError:
            raise GrafanaUnavailable(f"{where}: timed out after {self.timeout_s[1]:g} s") from None
        except GrafanaUnauthorizedError:
            raise GrafanaAuthError(f"{where}: unauthorized (HTTP 401): check GRAFANA_TOKEN") from None
        except GrafanaBadInputError as exc:
            message = self._scrub(f"{where}: rejected (HTTP 400: {_message(exc.response)})")
            raise GrafanaRequestError(message, 400) from None
        except GrafanaServerError as exc:
            raise GrafanaUnavailable(self._scrub(f"{where}: server error ({exc.status_code})")) from None
        except GrafanaClientError as exc:
            if exc.status_code == 404 and missing_ok:
                return None
            if exc.status_code == 403:
                raise GrafanaAuthError(f"{where}: forbidden (HTTP 403): the token lacks a permission") from None
            detail = _message(exc.response)
            message = self._scrub(f"{where}: rejected (HTTP {exc.status_code}: {detail})")
            raise GrafanaRequestError(message, exc.status_code) from None
        except GrafanaException as exc:
            raise GrafanaUnavailable(self._scrub(f"{where}: {_one_line(exc.message)}")) from None
        except (niquests.exceptions.JSONDecodeError, ValueError):
            raise GrafanaRequestError(f"{where}: the answer is not JSON: is this Grafana's URL?") from None
        except niquests.exceptions.Timeout:
            raise GrafanaUnavailable(f"{where}: timed out after {self.timeout_s[1]:g} s") from None
        except niquests.exceptions.RequestException as exc:
            reason = re.sub(r"\[Errno -?\d+\]\s*", "", str(exc))
            kind = "connection refused" if "refused" in reason.lower() else f"cannot connect: {_one_line(reason)}"
            raise GrafanaUnavailable(self._scrub(f"{where}: {kind}")) from None
        if not isinstance(result, dict | list):
            raise GrafanaRequestError(f"{where}: unexpected answer {_one_line(result)!r}: is this Grafana's URL?")
        return result

    def _must(self, what: str, call: Callable[[], Any]) -> Any:
        result = self._call(what, call)
        assert result is not None
        return result

    # -- routes ---------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """`GET /api/health`: version and database state."""
        return self._must("health check", lambda: self._api.client.GET("/health"))

    def get_folder(self, uid: str) -> dict[str, Any] | None:
        return self._call(f"folder {uid}", lambda: self._api.folder.get_folder(quote(uid)), missing_ok=True)

    def create_folder(self, uid: str, title: str) -> dict[str, Any]:
        return self._must(f"create folder {uid}", lambda: self._api.folder.create_folder(title, uid=uid))

    def update_folder(self, uid: str, title: str, version: int) -> dict[str, Any]:
        return self._must(
            f"update folder {uid}", lambda: self._api.folder.update_folder(quote(uid), title=title, version=version)
        )

    def get_dashboard(self, uid: str) -> dict[str, Any] | None:
        return self._call(f"dashboard {uid}", lambda: self._api.dashboard.get_dashboard(quote(uid)), missing_ok=True)

    def save_dashboard(self, dashboard: dict[str, Any], folder_uid: str, message: str) -> dict[str, Any]:
        body = {"dashboard": dashboard, "folderUid": folder_uid, "overwrite": True, "message": message}
        return self._must(f"save dashboard {dashboard.get('uid')}", lambda: self._api.dashboard.update_dashboard(body))

    def get_alert_rule(self, uid: str) -> dict[str, Any] | None:
        prov = self._api.alertingprovisioning
        return self._call(f"alert rule {uid}", lambda: prov.get_alertrule(quote(uid)), missing_ok=True)

    def create_alert_rule(self, rule: dict[str, Any]) -> dict[str, Any]:
        prov = self._api.alertingprovisioning
        return self._must(
            f"create alert rule {rule.get('uid')}", lambda: prov.create_alertrule(rule, disable_provenance=True)
        )

    def update_alert_rule(self, uid: str, rule: dict[str, Any]) -> dict[str, Any]:
        prov = self._api.alertingprovisioning
        return self._must(
            f"update alert rule {uid}", lambda: prov.update_alertrule(quote(uid), rule, disable_provenance=True)
        )

    def get_rule_group(self, folder_uid: str, group: str) -> dict[str, Any] | None:
        prov = self._api.alertingprovisioning
        return self._call(
            f"rule group {group}", lambda: prov.get_rule_group(quote(folder_uid), quote(group)), missing_ok=True
        )

    def update_rule_group(self, folder_uid: str, group: str, body: dict[str, Any]) -> dict[str, Any]:
        prov = self._api.alertingprovisioning
        return self._must(
            f"update rule group {group}",
            lambda: prov.update_rule_group(quote(folder_uid), quote(group), body, disable_provenance=True),
        )

    def find_annotations(
        self, tags: Sequence[str], from_ms: int | None = None, to_ms: int | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Annotations carrying all `tags` (organisation-wide ones included), newest first."""
        params: list[tuple[str, str]] = [("type", "annotation"), ("limit", str(limit)), ("matchAny", "false")]
        params += [("tags", tag) for tag in tags]
        if from_ms is not None:
            params.append(("from", str(from_ms)))
        if to_ms is not None:
            params.append(("to", str(to_ms)))
        return self._must("find annotations", lambda: self._api.client.GET("/annotations", params=params))

    def create_annotation(self, body: dict[str, Any]) -> dict[str, Any]:
        clean = {key: value for key, value in body.items() if value is not None}
        return self._must("create annotation", lambda: self._api.client.POST("/annotations", json=clean))

    def patch_annotation(self, annotation_id: int, body: dict[str, Any]) -> dict[str, Any]:
        clean = {key: value for key, value in body.items() if value is not None}
        return self._must(
            f"update annotation {annotation_id}",
            lambda: self._api.client.PATCH(f"/annotations/{int(annotation_id)}", json=clean),
        )
