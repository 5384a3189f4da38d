"""The check-in pages and their submissions.

An athlete's pages live under their link, `/checkin/TOKEN/` (menu), `morning`, `session`, `upload` and `days`; a
therapist opens any athlete's pages read-only under `/checkin/clinic/ID/…` with the clinic API's bearer token.
A submission is checked in this order, and the first failure answers with a page saying what to do: the link's
shape (403), the per-link rate (429, counted before the body is read), the body's size (413), then, with the store
to itself: the link (403), the form's one-time token (403: missing, forged, another link's, expired), the athlete
it names (403), whether it was already stored (409), its values (422, the form shown again with what was typed).
Only a submission that passed all of them writes, in one store call, and its form is then used up. Store calls run
in worker threads, one at a time (`SharedStore`), so checking a form and storing it are atomic among requests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ingest.ids import is_pseudonymous_id
from ingest.links import Link, looks_like_token, token_sha256
from ingest.store.base import Store
from ingest.wellness import WellnessError
from monitor.service.api.auth import REALM, TOKEN_ENV, BearerAuth
from monitor.service.api.body import read_capped
from monitor.service.api.errors import ApiError
from monitor.service.checkin.access import (
    BAD_LINK,
    FORM_KINDS,
    AccessError,
    Forms,
    LinkResolver,
    RateLimiter,
    Receipt,
)
from monitor.service.checkin.forms import MAX_FORM_BYTES, FormErrors, parse_morning, parse_rpe
from monitor.service.checkin.pages import PAGES, Settings, page_context, store_morning, store_rpe
from monitor.service.checkin.render import error_page, html
from monitor.service.checkin.upload import file_bytes, import_uploads, read_upload
from monitor.service.shared_store import SharedStore

T = TypeVar("T")
STORE_UNAVAILABLE = "The store is not reachable right now: nothing was stored. Try again soon."
DONE = {"morning": "Thank you: your morning check-in is stored.", "session": "Thank you: your session RPE is stored."}


class CheckinRoutes:
    """The pages over one store; ``auth`` is the clinic's token (None: no read-only clinic access)."""

    def __init__(
        self,
        stores: SharedStore,
        auth: BearerAuth | None,
        clock_ms: Callable[[], int],
        limiter: RateLimiter,
        settings: Settings,
    ) -> None:
        self.stores, self.auth, self.clock_ms = stores, auth, clock_ms
        self.limiter, self.settings = limiter, settings
        self.links = LinkResolver()
        self.forms = Forms(clock_ms)

    async def in_store(self, work: Callable[[Store], T]) -> T:
        """`work(store)` in a worker thread with the store to itself; StoreError → 503."""
        return await self.stores.run(work, lambda _: AccessError(503, STORE_UNAVAILABLE))

    # -- the athlete's link ------------------------------------------------------------------------------------

    async def link_page(self, request: Request) -> Response:
        token, name = request.path_params["token"], request.path_params.get("page", "")
        base = f"{request.scope.get('root_path', '')}/{token}"
        if name not in PAGES:
            return error_page(404, f"No page {name[:40]!r} here.", base=base)
        try:

            def build(store: Store) -> dict[str, Any]:
                link = self.links.resolve(store, token)
                return self._context(store, link.athlete, name, link)

            context = await self.in_store(build)
        except AccessError as exc:
            return error_page(exc.status, exc.message, base=None)
        done = DONE.get(request.query_params.get("done", ""))
        return html(f"{name or 'index'}.html", base=base, root=request.scope.get("root_path", ""), done=done, **context)

    def _context(self, store: Store, athlete: str, name: str, link: Link | None, **extra: Any) -> dict[str, Any]:
        context = page_context(store, athlete, name, self.clock_ms(), self.settings)
        kind = FORM_KINDS.get(name)
        token = self.forms.issue(link, kind) if link is not None and kind else None
        return {**context, "form_token": token, "readonly": link is None, "nav": name, **extra}

    async def link_submit(self, request: Request) -> Response:
        token, name = request.path_params["token"], request.path_params.get("page", "")
        root = request.scope.get("root_path", "")
        base = f"{root}/{token}"
        if name not in FORM_KINDS:
            return error_page(405, "Nothing can be sent to this page.", base=base)
        try:
            if not looks_like_token(token):
                raise AccessError(403, BAD_LINK)
            self.limiter.take(token_sha256(token))  # before the body is read: a flood costs little
            if name == "upload":
                link = await self.in_store(lambda store: self.links.resolve(store, token))
                return await self._upload(request, link, base, root)
            form = await _read_form(request)

            def write(store: Store) -> Receipt | tuple[Link, dict[str, str]]:
                """Everything in one turn with the store: the link, the form's token, its values, the write."""
                link = self.links.resolve(store, token)
                form_id = self._checked(link, FORM_KINDS[name], form)
                now_ms = self.clock_ms()
                try:
                    if name == "morning":
                        values = parse_morning(form, aftercare_asked="aftercare" in form)
                        receipt = store_morning(store, link.athlete, values, form_id, now_ms)
                    else:
                        receipt = store_rpe(store, link.athlete, parse_rpe(form), now_ms)
                except FormErrors as exc:
                    return link, exc.errors
                except WellnessError as exc:
                    return link, {"note": str(exc)}
                self.forms.mark_used(form_id, receipt)
                return receipt

            done = await self.in_store(write)
            if isinstance(done, tuple):
                return await self._again(done[0], name, base, root, done[1], form)
            return RedirectResponse(f"{base}/?done={name}", 303)
        except AccessError as exc:
            headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else {}
            if exc.status == 413:
                headers["Connection"] = "close"  # the rest of the body is not read
            return error_page(exc.status, exc.message, base=base if exc.status != 403 else None, headers=headers)

    def _checked(self, link: Link, kind: str, form: Mapping[str, str]) -> str:
        """The form's ID once its token, its athlete and its novelty are checked (AccessError otherwise)."""
        form_id = self.forms.check(link, kind, form.get("form_token"))
        if form.get("athlete", "") != link.athlete:
            raise AccessError(403, "This form names another athlete than this link's own: nothing was stored.")
        self.forms.check_unused(form_id)
        return form_id

    async def _again(
        self, link: Link, name: str, base: str, root: str, errors: dict[str, str], form: Mapping[str, str]
    ) -> Response:
        """The form again (status 422) with the problems and the values as sent; the form's token stays valid."""

        def build(store: Store) -> dict[str, Any]:
            sent = dict(form)
            return self._context(
                store, link.athlete, name, link, form_token=form.get("form_token"), errors=errors, sent=sent
            )

        context = await self.in_store(build)
        return html(f"{name}.html", 422, base=base, root=root, done=None, **context)

    async def _upload(self, request: Request, link: Link, base: str, root: str) -> Response:
        uploaded = await read_upload(request)
        form_id = self._checked(link, "upload", uploaded.fields)
        files = await file_bytes(uploaded)
        if not files:
            raise AccessError(422, "Choose at least one FIT file to send.")

        def write(store: Store) -> list[Any]:
            self.forms.check_unused(form_id)
            statuses = import_uploads(store, link.athlete, files)
            if any(s.status != "failed" for s in statuses):
                stored = sum(s.status == "imported" for s in statuses)
                self.forms.mark_used(form_id, Receipt("upload", self.clock_ms(), f"{stored} file(s) imported"))
            return statuses

        statuses = await self.in_store(write)
        all_failed = all(s.status == "failed" for s in statuses)
        status = (415 if all(s.detail.startswith("not a FIT") for s in statuses) else 422) if all_failed else 200

        def build(store: Store) -> dict[str, Any]:
            return self._context(store, link.athlete, "upload", link, statuses=statuses)

        context = await self.in_store(build)
        return html("upload.html", status, base=base, root=root, done=None, **context)

    # -- the clinic's read-only view ---------------------------------------------------------------------------

    def _clinic(self, request: Request) -> str:
        if self.auth is None:
            raise AccessError(503, f"Clinic access is off: start serve with {TOKEN_ENV} set.")
        if not self.auth.check(request.headers.get("authorization")):
            raise AccessError(401, "Send the clinic's token as Authorization: Bearer TOKEN.")
        athlete = request.path_params["athlete"]
        if not is_pseudonymous_id(athlete):
            raise AccessError(404, "No such athlete.")
        return athlete

    async def clinic_page(self, request: Request) -> Response:
        name = request.path_params.get("page", "")
        root = request.scope.get("root_path", "")
        try:
            athlete = self._clinic(request)
            if name not in PAGES:
                raise AccessError(404, f"No page {name[:40]!r} here.")

            def build(store: Store) -> dict[str, Any]:
                if athlete not in store.list_athletes():
                    raise AccessError(404, f"Athlete {athlete} has no data in the store.")
                return self._context(store, athlete, name, None)

            context = await self.in_store(build)
        except AccessError as exc:
            return _clinic_error(exc)
        base = f"{root}/clinic/{athlete}"
        return html(f"{name or 'index'}.html", base=base, root=root, done=None, **context)

    async def clinic_submit(self, request: Request) -> Response:
        try:
            self._clinic(request)
        except AccessError as exc:
            return _clinic_error(exc)
        return error_page(403, "The clinic's view is read-only: only the athlete's own link can send check-ins.")


def _clinic_error(exc: AccessError) -> Response:
    headers = {"WWW-Authenticate": f'Bearer realm="{REALM}"'} if exc.status == 401 else None
    return error_page(exc.status, exc.message, headers=headers)


async def _read_form(request: Request) -> Mapping[str, str]:
    """The URL-encoded form of a submission, at most `MAX_FORM_BYTES`; AccessError 413 or 422 otherwise."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise AccessError(422, "Send the page's form (application/x-www-form-urlencoded).")
    try:
        raw = await read_capped(request, MAX_FORM_BYTES)
    except ApiError:
        raise AccessError(413, "The form is too large.") from None
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise AccessError(422, "The form could not be read.") from None
    return dict(pairs)  # a repeated field: its last value
