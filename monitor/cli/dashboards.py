"""`recovery-monitor dashboards build|provision|publish`: Grafana dashboards and alerts as code."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

from monitor.cli.common import CliError, add_store_option

TOKEN_ENV = "GRAFANA_TOKEN"
TOKEN_FILE_ENV = "GRAFANA_TOKEN_FILE"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "dashboards",
        help="build the Grafana dashboards and provisioning files, or publish them to a running Grafana",
        description="Dashboards, alert rules and provisioning for Grafana, generated from dashboards/*.py.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    build = actions.add_parser("build", help="write one JSON file per dashboard")
    build.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the dashboard JSON files")
    build.set_defaults(run=run_build)

    provision = actions.add_parser(
        "provision", help="write Grafana's provisioning tree (datasource, dashboards, alerting)"
    )
    provision.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="provisioning root, e.g. dashboards/provisioning"
    )
    provision.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files differ from what would be written"
    )
    provision.set_defaults(run=run_provision)

    publish = actions.add_parser(
        "publish",
        help="upsert folders, dashboards and the prevention-visit alert rule, and annotate new flags",
        description=f"Publishes to Grafana over its HTTP API with a service-account token from ${TOKEN_ENV} (or the "
        f"file named by ${TOKEN_FILE_ENV}). Objects are read first and written only when missing or different.",
    )
    publish.add_argument("--grafana-url", required=True, metavar="URL", help="e.g. http://localhost:3000")
    add_store_option(publish)
    publish.add_argument(
        "--days", type=int, default=90, metavar="N", help="annotate flags of the last N days (default 90)"
    )
    publish.add_argument("--no-annotations", action="store_true", help="skip reading flags and annotating them")
    publish.add_argument("--timeout", type=float, default=15.0, metavar="S", help="read timeout, s (default 15)")
    publish.add_argument("--json", action="store_true", help="print one JSON document instead of a summary line")
    publish.set_defaults(run=run_publish)


def run_build(args: argparse.Namespace) -> int:
    from dashboards.catalog import write_dashboards

    for path in write_dashboards(args.out):
        print(path)
    return 0


def run_provision(args: argparse.Namespace) -> int:
    from dashboards.provisioning import differences, write_provisioning

    if args.check:
        problems = differences(args.out)
        for problem in problems:
            print(problem)
        if problems:
            print(f"run: recovery-monitor dashboards provision --out {args.out}")
        return 1 if problems else 0
    written = write_provisioning(args.out)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


def grafana_token(env: os._Environ[str] | dict[str, str] = os.environ) -> str:
    """The service-account token from GRAFANA_TOKEN or GRAFANA_TOKEN_FILE (never printed)."""
    from ingest.secrets import SecretError, secret_from_env

    try:
        token, _ = secret_from_env(TOKEN_ENV, env)
    except SecretError as exc:
        raise CliError(str(exc)) from None
    if not token:
        raise CliError(f"set {TOKEN_ENV} to a Grafana service-account token (Editor role) to publish")
    return token


def run_publish(args: argparse.Namespace) -> int:
    from dashboards.flag_source import episodes, read_flags
    from dashboards.grafana_api import GrafanaApi, GrafanaError
    from dashboards.publish import publish
    from ingest.timeline import DAY_MS

    if args.days < 1:
        raise CliError(f"--days must be ≥ 1 (got {args.days})")
    flag_episodes = None
    if not args.no_annotations:
        from ingest.store import open_store

        store = open_store(args.store)
        try:
            since_ms = int(time.time() * 1000) - args.days * DAY_MS
            flag_episodes = episodes(read_flags(store, start_ms=since_ms))
        finally:
            store.close()
    try:
        api = GrafanaApi(args.grafana_url, grafana_token(), read_timeout_s=args.timeout)
        try:
            report = publish(api, flag_episodes)
        finally:
            api.close()
    except GrafanaError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps({"published_at": dt.datetime.now(dt.UTC).isoformat(), **report.to_json()}, indent=2))
    else:
        print(f"Grafana {report.grafana_version} at {api.url}: {report.summary()}")
    return 0
