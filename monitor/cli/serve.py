"""`recovery-monitor serve`: the long-running monitor (analysis, prevention-visit alerts, Grafana annotations)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from monitor.cli.common import CliError, add_store_option

WEBHOOK_ENV = "ALERT_WEBHOOK_URL"
WEBHOOK_TOKEN_ENV = "ALERT_WEBHOOK_TOKEN"
GRAFANA_URL_ENV = "GRAFANA_URL"
GRAFANA_PUBLIC_URL_ENV = "GRAFANA_PUBLIC_URL"

if TYPE_CHECKING:
    from monitor.service.api.auth import BearerAuth

log = logging.getLogger("recovery-monitor.serve")


def default_state_path() -> Path:
    return Path(user_data_dir("recovery-monitor")) / "serve-state.json"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the monitor: scheduled analysis, one webhook alert per prevention-visit episode, health check, "
        "clinic visit API, athlete check-in pages",
        description="Polls the store, analyses every athlete when new sessions or visits arrive (and daily), sends one "
        "webhook alert per athlete and prevention-visit episode, one event when the episode ends (treated by a visit, "
        "resolved or expired) and one after-care reminder per visit (docs/episodes.md), annotates flags in Grafana "
        "(with GRAFANA_TOKEN), answers GET /healthz, serves the athletes' check-in pages under /checkin (personal "
        "links: `athlete link`) and, with CLINIC_API_TOKEN (or CLINIC_API_TOKEN_FILE) set, the clinic visit API under "
        "/api/v1 (OpenAPI document at /api/v1/openapi.json) and the clinic's read-only view of the check-in pages. "
        "Stops cleanly on SIGINT/SIGTERM.",
    )
    add_store_option(parser)
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8787",
        metavar="HOST:PORT",
        help="HTTP address of the health check, the clinic API and the check-in pages; [::1]:PORT for IPv6 "
        "(default %(default)s)",
    )
    parser.add_argument("--interval", type=float, default=60.0, metavar="S", help="poll every S s (default 60)")
    parser.add_argument(
        "--rerun", type=float, default=3600.0, metavar="S", help="analyse at least every S s (default 3600)"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help='run one cycle, print it as JSON and exit (cron, tests): exit 0 and "ok": true only when the '
        'analysis ran, every alert was delivered and the annotations were published, else exit 1 and "ok": false',
    )
    parser.add_argument(
        "--webhook-url",
        metavar="URL",
        help=f"receiver of the alerts (default ${WEBHOOK_ENV}; optional bearer token in ${WEBHOOK_TOKEN_ENV})",
    )
    parser.add_argument("--webhook-timeout", type=float, default=10.0, metavar="S", help="read timeout (default 10)")
    parser.add_argument("--webhook-retries", type=int, default=4, metavar="N", help="retries per alert (default 4)")
    parser.add_argument(
        "--grafana-url",
        metavar="URL",
        help=f"Grafana for flag annotations (default ${GRAFANA_URL_ENV}; needs GRAFANA_TOKEN)",
    )
    parser.add_argument(
        "--grafana-public-url",
        metavar="URL",
        help=f"Grafana as the clinic reaches it, for dashboard links (default ${GRAFANA_PUBLIC_URL_ENV}, "
        "else --grafana-url)",
    )
    parser.add_argument(
        "--state", type=Path, metavar="FILE", help=f"episode state file (default {default_state_path()})"
    )
    parser.add_argument(
        "--episode-end-days",
        type=int,
        default=3,
        metavar="N",
        help="an episode ends (resolved) after N days without recommendation (default 3)",
    )
    parser.add_argument(
        "--window-days", type=int, default=14, metavar="N", help="days (re)written by each analysis (default 14)"
    )
    parser.add_argument(
        "--thresholds",
        metavar="FILE",
        help="TOML file overriding the default thresholds, the quiet hours after a visit, the episode expiry and "
        "the after-care advice ([idn])",
    )
    parser.add_argument(
        "--store-timeout", type=float, default=60.0, metavar="S", help="give up on the store after S s (default 60)"
    )
    parser.set_defaults(run=run)


def _grafana(args: argparse.Namespace):
    """The Grafana adapter when a URL and a token are given, else None (a URL alone only feeds the links)."""
    from dashboards.grafana_api import GrafanaApi, GrafanaError
    from monitor.cli.dashboards import TOKEN_ENV, TOKEN_FILE_ENV, grafana_token

    if not args.grafana_url:
        return None
    if not (os.environ.get(TOKEN_ENV) or os.environ.get(TOKEN_FILE_ENV)):
        log.warning("--grafana-url without %s: flag annotations are not published", TOKEN_ENV)
        return None
    try:
        return GrafanaApi(args.grafana_url, grafana_token())
    except GrafanaError as exc:
        raise CliError(str(exc)) from None


def _clinic_auth() -> BearerAuth | None:
    """The clinic API's token check, or None (the API answers 503) when no token is configured."""
    from monitor.service.api.auth import TOKEN_ENV, TOKEN_FILE_ENV, BearerAuth, TokenConfigError, token_digest

    try:
        digest = token_digest()
    except TokenConfigError as exc:
        raise CliError(str(exc)) from None
    if digest is None:
        log.warning("clinic API off: set %s or %s to record visits over HTTP", TOKEN_ENV, TOKEN_FILE_ENV)
        return None
    log.info("clinic API on /api/v1 (OpenAPI document at /api/v1/openapi.json)")
    return BearerAuth(digest)


def run(args: argparse.Namespace) -> int:
    from monitor.alerts import EpisodeState, StateError, WebhookSender
    from monitor.service.api import clinic_api_mount
    from monitor.service.app import build_app
    from monitor.service.checkin import checkin_mount
    from monitor.service.checkin.pages import Settings
    from monitor.service.monitor import Monitor, ServeConfig
    from monitor.service.server import WebServer, parse_listen
    from monitor.service.shared_store import SharedStore

    for noisy in ("httpx", "httpcore"):  # httpx logs each request's full URL; a webhook path is often a secret
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)  # its start/stop lines; errors still show
    args.grafana_url = args.grafana_url or os.environ.get(GRAFANA_URL_ENV) or None
    public_url = args.grafana_public_url or os.environ.get(GRAFANA_PUBLIC_URL_ENV) or args.grafana_url
    webhook_url = args.webhook_url or os.environ.get(WEBHOOK_ENV) or None
    if args.webhook_retries < 0 or args.webhook_timeout <= 0:
        raise CliError("--webhook-retries must be ≥ 0 and --webhook-timeout positive")
    from monitor.thresholds import load_thresholds

    idn = load_thresholds(args.thresholds).idn  # a bad file fails now, not in every cycle
    config = ServeConfig(
        store_url=args.store,
        interval_s=args.interval,
        rerun_s=args.rerun,
        window_days=args.window_days,
        end_after_days=args.episode_end_days,
        store_timeout_s=args.store_timeout,
        dashboard_url=public_url,
        thresholds_path=args.thresholds,
    )
    listen = None if args.once else parse_listen(args.listen)
    auth = None if args.once else _clinic_auth()  # a bad token fails before anything is opened
    stop = threading.Event()
    try:
        state = EpisodeState(args.state or default_state_path())
    except StateError as exc:
        raise CliError(str(exc)) from None
    sender = grafana = http = stores = None
    try:
        if webhook_url:
            sender = WebhookSender(
                webhook_url,
                token=os.environ.get(WEBHOOK_TOKEN_ENV) or None,
                read_timeout_s=args.webhook_timeout,
                retries=args.webhook_retries,
                sleep=stop.wait,
                should_stop=stop.is_set,
            )
        grafana = _grafana(args)
        monitor = Monitor(config, state, sender=sender, grafana=grafana)
        if args.once:
            report = monitor.tick(force=True)
            assert report is not None
            print(json.dumps(report.to_json(), indent=2))
            return 0 if report.ok else 1
        assert listen is not None
        stores = SharedStore(args.store, timeout_s=min(args.store_timeout, 10.0))
        settings = Settings(aftercare_hours=idn.quiet_hours, aftercare_advice=idn.aftercare_advice)
        mounts = [clinic_api_mount(stores, auth, on_visit=monitor.wake), checkin_mount(stores, auth, settings=settings)]
        http = WebServer(*listen, build_app(monitor.health, mounts)).start()
        with StopOnSignals(stop):
            monitor.run(stop)
        log.info("stopped")
        return 0
    finally:
        for resource in (http, stores, sender, grafana, state):
            if resource is not None:
                resource.close()


class StopOnSignals:
    """Within the block, SIGINT and SIGTERM set `stop` (main thread only); the previous handlers come back after."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        self.stop.set()

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._handle)

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
