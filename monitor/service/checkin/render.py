"""HTML of the check-in pages: Jinja2 templates with autoescaping on, and the headers every page carries.

Every value a page shows goes through autoescaping (a note, a sport, a file name), so nothing an athlete or a file
sends can become markup. Pages forbid inline scripts and styles, framing and referrers (the link's token is in
the URL), and are never cached.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response

PREFIX = "/checkin"
"""Where `serve` mounts the check-in pages."""
HERE = Path(__file__).resolve().parent
STATIC = {"checkin.css": "text/css; charset=utf-8", "checkin.js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def html(template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    """The page ``template`` rendered with ``context``, with the security headers."""
    body = _ENV.get_template(template).render(**context)
    return HTMLResponse(body, status, headers={**SECURITY_HEADERS, **(headers or {})})


def error_page(
    status: int, message: str, *, base: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A page saying what went wrong in one sentence (``base``: the link's pages, for the way back)."""
    titles = {401: "Sign-in needed", 403: "Not allowed", 404: "Not found", 409: "Already sent", 413: "Too large"}
    titles |= {415: "Wrong file type", 422: "Please check", 429: "Slow down", 503: "Not available"}
    title = titles.get(status, "Error")
    context: dict[str, Any] = {"base": base, "root": PREFIX, "nav": None, "readonly": False, "done": None, "errors": {}}
    return html("error.html", status, headers, title=title, message=message, **context)


@functools.cache
def _static_body(name: str) -> bytes:
    return (HERE / "static" / name).read_bytes()


def static_file(name: str) -> Response:
    """A file of static/ (CSS, the body-map script), cacheable for an hour."""
    if name not in STATIC:
        return error_page(404, "No such file.")
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(_static_body(name), 200, media_type=STATIC[name], headers=headers)
