"""Watch-file uploads: a multipart body capped while it streams, files checked by content, then the importer.

The cap (`MAX_UPLOAD_BYTES`, 25 MiB for the whole request) holds twice, as for the clinic API's bodies: a declared
`Content-Length` over it is refused before a byte is read, and a body without one is counted while it streams and
refused as soon as it passes the cap; parts are spooled to temporary files, never held whole in memory. A file is
a FIT file when its header says so (header size 12 or 14, `.FIT` at bytes 8–11), whatever its name; it then goes
through `ingest.importer.import_file`, exactly as `recovery-monitor import` would take it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from ingest.importer import DUPLICATE, FAILED, IMPORTED, import_file
from ingest.store.base import Store
from monitor.imported import after_import, earliest_written
from monitor.service.api.body import DRAIN_BYTES
from monitor.service.checkin.access import AccessError

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_FILES = 20
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (unzip it and send the .fit files)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"<", "a web page or XML (GPX/TCX are not supported)"),
)
NOT_FIT = "not a FIT file"


class _TooLarge(Exception):
    pass


def too_large() -> AccessError:
    return AccessError(
        413, f"The upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: nothing was stored. Send fewer files."
    )


@dataclass
class Uploaded:
    """What the request carried: its text fields and its files, spooled to disk."""

    fields: dict[str, str]
    files: list[tuple[str, UploadFile]]


async def read_upload(request: Request, limit: int = MAX_UPLOAD_BYTES) -> Uploaded:
    """The multipart form of ``request``; AccessError 413 past ``limit`` bytes, 422 for anything but a form with
    at most `MAX_FILES` files."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise AccessError(422, "Send the files with the page's upload form.")
    received = 0
    receive = request.receive  # the server's own; `capped` counts and stops what it hands to the parser

    async def capped() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise _TooLarge
        return message

    try:
        form = await Request(request.scope, capped).form(max_files=MAX_FILES, max_fields=50)
    except _TooLarge:
        await _drain(receive)
        raise too_large() from None
    except Exception as exc:  # Starlette's MultiPartException (too many files or fields, a malformed body)
        raise AccessError(422, f"The upload could not be read: {' '.join(str(exc).split())[:120]}") from None
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    files = [(k, v) for k, v in form.multi_items() if not isinstance(v, str) and k == "files" and v.filename]
    return Uploaded(fields, files)


async def _drain(receive: Callable[[], Awaitable[Message]]) -> None:
    """Read and drop at most `DRAIN_BYTES` more of the body, so that the 413 page reaches a client still sending
    (the clinic API's rule, monitor/service/api/body.py); the connection is then closed."""
    more, drained = True, 0
    while more and drained <= DRAIN_BYTES:
        message = await receive()
        drained += len(message.get("body", b""))
        more = bool(message.get("more_body", False))


def fit_problem(head: bytes) -> str | None:
    """Why a file starting with ``head`` (its first 14 bytes or more) is not a FIT file, or None when it is one."""
    if len(head) >= 12 and head[0] in (12, 14) and head[8:12] == b".FIT":
        return None
    looks = next((what for magic, what in _MAGIC if head.startswith(magic)), None)
    return f"{NOT_FIT}: it looks like {looks}" if looks else f"{NOT_FIT} (no FIT header)"


@dataclass(frozen=True)
class FileStatus:
    """One file's outcome in the page: its name as sent, `imported`, `duplicate` or `failed`, and a sentence."""

    name: str
    status: str
    detail: str


def _shown_name(upload: UploadFile, index: int) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (name or f"file {index + 1}")[:100]


def _summary(result_summary: dict[str, object]) -> str:
    sport = result_summary.get("sport") or "activity"
    start = str(result_summary.get("start") or "")[:16].replace("T", " ")
    duration = result_summary.get("duration_s")
    minutes = f", {float(duration) / 60:.0f} min" if isinstance(duration, int | float) else ""
    return f"{sport}{' ' + start + ' UTC' if start else ''}{minutes}"


def import_uploads(store: Store, athlete: str, uploads: list[tuple[str, bytes]]) -> list[FileStatus]:
    """Check and import each (shown name, bytes) for ``athlete``; the analysis is marked due from the earliest
    point written."""
    statuses: list[FileStatus] = []
    written: list[dict[str, int]] = []
    with tempfile.TemporaryDirectory(prefix="checkin-upload-") as folder:
        for i, (name, data) in enumerate(uploads):
            problem = fit_problem(data[:14])
            if problem is not None:
                statuses.append(FileStatus(name, FAILED, problem + "; nothing was stored"))
                continue
            path = Path(folder) / f"{i:02d}.fit"
            path.write_bytes(data)
            result = import_file(store, path, athlete)
            written.append(result.first_ms)
            if result.status == IMPORTED:
                statuses.append(FileStatus(name, IMPORTED, f"imported: {_summary(result.summary)}"))
            elif result.status == DUPLICATE:
                statuses.append(FileStatus(name, DUPLICATE, f"already imported: {_summary(result.summary)}"))
            else:
                statuses.append(FileStatus(name, FAILED, f"{result.error or result.status}; nothing was stored"))
    after_import(store, earliest_written(written))
    return statuses


async def file_bytes(uploaded: Uploaded) -> list[tuple[str, bytes]]:
    """(shown name, content) of each uploaded file, read from its spool."""
    out = []
    for i, (_, upload) in enumerate(uploaded.files):
        out.append((_shown_name(upload, i), await upload.read()))
        await upload.close()
    return out
