"""Publish dashboards, the prevention-visit rule and flag annotations to a running Grafana, idempotently.

Every object is read first (GET) and written only when missing (create) or different (update), so publishing
twice creates nothing new. Flag annotations are one region per flag episode (athlete, signal, first day), found
again by their `episode:` tag.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dashboards import alerting, catalog
from dashboards.flag_source import FlagEpisode, episodes
from dashboards.grafana_api import GrafanaApi
from dashboards.panels import FOLDER_TITLE, FOLDER_UID
from ingest.timeline import DAY_MS, ms_day

ANNOTATION_TAG = "recovery-flag"
MESSAGE = "published by recovery-monitor"
VOLATILE_DASHBOARD_KEYS = ("id", "version")

log = logging.getLogger("recovery-monitor.publish")


@dataclass
class PublishReport:
    """What a publish run did, per kind of object: created, updated or unchanged."""

    grafana_version: str | None = None
    actions: dict[str, Counter] = field(default_factory=dict)

    def count(self, kind: str, action: str) -> None:
        self.actions.setdefault(kind, Counter())[action] += 1

    def to_json(self) -> dict[str, Any]:
        return {"grafana_version": self.grafana_version, **{k: dict(v) for k, v in self.actions.items()}}

    def summary(self) -> str:
        parts = []
        for kind, counter in self.actions.items():
            done = ", ".join(f"{n} {action}" for action, n in sorted(counter.items()))
            parts.append(f"{kind}: {done}")
        return "; ".join(parts) or "nothing to publish"


def _without(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in keys}


def ensure_folder(api: GrafanaApi, uid: str, title: str, report: PublishReport) -> None:
    existing = api.get_folder(uid)
    if existing is None:
        api.create_folder(uid, title)
        report.count("folders", "created")
    elif existing.get("title") != title:
        api.update_folder(uid, title, int(existing.get("version") or 0))
        report.count("folders", "updated")
    else:
        report.count("folders", "unchanged")


def publish_dashboards(api: GrafanaApi, report: PublishReport) -> None:
    for data in catalog.build_all().values():
        existing = api.get_dashboard(data["uid"])
        remote = (existing or {}).get("dashboard") or {}
        remote_folder = ((existing or {}).get("meta") or {}).get("folderUid")
        same = _without(remote, VOLATILE_DASHBOARD_KEYS) == _without(data, VOLATILE_DASHBOARD_KEYS)
        if existing is not None and remote_folder == FOLDER_UID and same:
            report.count("dashboards", "unchanged")
            continue
        api.save_dashboard(_without(data, ("id",)), FOLDER_UID, MESSAGE)
        report.count("dashboards", "created" if existing is None else "updated")


def publish_alert_rules(api: GrafanaApi, report: PublishReport) -> None:
    rule = alerting.prevention_rule()
    existing = api.get_alert_rule(rule["uid"])
    if existing is None:
        api.create_alert_rule(rule)
        report.count("alert rules", "created")
    elif any(existing.get(key) != value for key, value in rule.items()):
        api.update_alert_rule(rule["uid"], rule)
        report.count("alert rules", "updated")
    else:
        report.count("alert rules", "unchanged")
    group = api.get_rule_group(alerting.ALERT_FOLDER_UID, alerting.RULE_GROUP)
    if group is None or group.get("interval") != alerting.RULE_GROUP_INTERVAL_S:
        api.update_rule_group(alerting.ALERT_FOLDER_UID, alerting.RULE_GROUP, alerting.rule_group_body())
        report.count("rule groups", "updated")
    else:
        report.count("rule groups", "unchanged")


def annotation_body(episode: FlagEpisode) -> dict[str, Any]:
    """One region from the episode's first day to the end of its last evaluated day."""
    since = ms_day(episode.start_ms).isoformat()
    return {
        "time": episode.start_ms,
        "timeEnd": episode.last_ms + DAY_MS,
        "tags": [
            ANNOTATION_TAG,
            f"athlete:{episode.athlete}",
            f"signal:{episode.signal}",
            f"severity:{episode.severity}",
            f"family:{episode.family}",
            f"episode:{episode.key}",
        ],
        "text": f"{episode.signal} ({episode.severity}) since {since}: {episode.reason}",
    }


def _episode_tag(annotation: dict[str, Any]) -> str | None:
    return next((tag for tag in annotation.get("tags") or [] if tag.startswith("episode:")), None)


def publish_annotations(api: GrafanaApi, flag_episodes: list[FlagEpisode], report: PublishReport) -> None:
    by_athlete: dict[str, list[FlagEpisode]] = {}
    for episode in flag_episodes:
        by_athlete.setdefault(episode.athlete, []).append(episode)
    for athlete, runs in sorted(by_athlete.items()):
        start = min(run.start_ms for run in runs) - DAY_MS
        existing = {
            _episode_tag(a): a for a in api.find_annotations([ANNOTATION_TAG, f"athlete:{athlete}"], from_ms=start)
        }
        for run in runs:
            body = annotation_body(run)
            found = existing.get(f"episode:{run.key}")
            if found is None:
                api.create_annotation(body)
                report.count("annotations", "created")
            elif any(found.get(key) != body[key] for key in ("time", "timeEnd", "text")) or sorted(
                found.get("tags") or []
            ) != sorted(body["tags"]):
                api.patch_annotation(int(found["id"]), body)
                report.count("annotations", "updated")
            else:
                report.count("annotations", "unchanged")


def publish(api: GrafanaApi, flag_episodes: list[FlagEpisode] | None = None) -> PublishReport:
    """Folders, dashboards, the prevention-visit rule group and (when given) one annotation per flag episode."""
    report = PublishReport()
    report.grafana_version = api.health().get("version")
    log.info("Grafana %s at %s", report.grafana_version, api.url)
    ensure_folder(api, FOLDER_UID, FOLDER_TITLE, report)
    ensure_folder(api, alerting.ALERT_FOLDER_UID, alerting.ALERT_FOLDER_TITLE, report)
    publish_dashboards(api, report)
    publish_alert_rules(api, report)
    if flag_episodes:
        publish_annotations(api, flag_episodes, report)
    return report


__all__ = ["PublishReport", "annotation_body", "episodes", "publish"]
