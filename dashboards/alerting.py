"""Prevention-visit alerting as code: the rule group on `flag`, contact points and the notification policy.

One alert instance per athlete: A counts the athlete's `act` flags evaluated in the last 24 h (InfluxQL,
`GROUP BY "athlete"`), B reduces it to the last value, C fires when B > 0. The same rule is written to the file
provisioning (`alerting/*.yaml`) and published over the HTTP API by `recovery-monitor dashboards publish`.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import alerting as rules
from grafana_foundation_sdk.builders import expr
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import alerting as model

from dashboards.panels import ATHLETE_UID, NOT_MUTED
from dashboards.query import DATASOURCE_UID, Influx

ALERT_FOLDER_UID = "recovery-alerts"
ALERT_FOLDER_TITLE = "Recovery alerts"
"""Rules live in their own folder: file-provisioned rules find their folder by title, and sharing a title with
the dashboards' folder (created by uid) can duplicate it (grafana#125079)."""
RULE_GROUP = "prevention-visit"
RULE_GROUP_INTERVAL_S = 300
RULE_UID = "recovery-prevention-visit"
CONTACT_POINT = "therapists"
NOTIFY_LABEL = ("notify", "prevention-visit")
EXPR_UID = "__expr__"
LOOKBACK_S = 86_400

FLAG_QUERY = (
    f'SELECT count("value") AS "act_flags" FROM "flag" WHERE "severity" = \'act\' AND {NOT_MUTED} '
    'AND time > now() - 1d GROUP BY "athlete"'
)
"""Flags of the quiet window after a visit (`post_visit`) never notify. No `$` in the query: Grafana interpolates
environment variables in provisioned rule data (`$$` escapes), so the
window is written out instead of `$timeFilter`; it matches the rule's 24 h relative time range."""

SUMMARY = "Prevention visit recommended for athlete {{ $labels.athlete }}"
DESCRIPTION = (
    "{{ $labels.athlete }} has {{ $values.B.Value }} flag(s) of severity act today. Open the athlete detail "
    "dashboard for the values, thresholds and reasons, and plan a preventive visit."
)


def _sdk_json(builder: Any) -> dict[str, Any]:
    return json.loads(JSONEncoder().encode(builder.build()))


def prevention_rule(folder_uid: str = ALERT_FOLDER_UID) -> dict[str, Any]:
    """The rule as the provisioning HTTP API expects it (`ProvisionedAlertRule`)."""
    window = model.RelativeTimeRange(from_val=LOOKBACK_S, to=0)
    builder = (
        rules.Rule("Prevention visit recommended")
        .uid(RULE_UID)
        .org_id(1)
        .folder_uid(folder_uid)
        .rule_group(RULE_GROUP)
        .condition("C")
        .for_val("0s")
        .no_data_state("OK")
        .exec_err_state("Error")
        .labels({NOTIFY_LABEL[0]: NOTIFY_LABEL[1], "family": "flags"})
        .annotations(
            {
                "summary": SUMMARY,
                "description": DESCRIPTION,
                "__dashboardUid__": ATHLETE_UID,
            }
        )
        .with_query(
            rules.Query("A")
            .datasource_uid(DATASOURCE_UID)
            .relative_time_range(window)
            .model(Influx(FLAG_QUERY).ref_id("A"))
        )
        .with_query(
            rules.Query("B")
            .datasource_uid(EXPR_UID)
            .relative_time_range(model.RelativeTimeRange(from_val=0, to=0))
            .model(expr.TypeReduce().ref_id("B").expression("A").reducer("last"))
        )
        .with_query(
            rules.Query("C")
            .datasource_uid(EXPR_UID)
            .relative_time_range(model.RelativeTimeRange(from_val=0, to=0))
            .model(
                expr.TypeThreshold()
                .ref_id("C")
                .expression("B")
                .conditions([expr.ExprTypeThresholdConditions().evaluator(_greater_than(0))])
            )
        )
    )
    rule = _sdk_json(builder)
    for query in rule["data"]:  # Grafana fills these in when absent; sending them keeps GET == PUT
        query["model"].setdefault("intervalMs", 1000)
        query["model"].setdefault("maxDataPoints", 43200)
        query["model"].setdefault("datasource", {"type": "__expr__", "uid": EXPR_UID})
    return rule


def _greater_than(value: float) -> expr.ExprTypeThresholdConditionsEvaluator:
    return expr.ExprTypeThresholdConditionsEvaluator().type("gt").params([value])


def rule_group_body(folder_uid: str = ALERT_FOLDER_UID) -> dict[str, Any]:
    """The rule group for `PUT /api/v1/provisioning/folder/{uid}/rule-groups/{group}` (`AlertRuleGroup`)."""
    return {
        "title": RULE_GROUP,
        "folderUid": folder_uid,
        "interval": RULE_GROUP_INTERVAL_S,
        "rules": [prevention_rule(folder_uid)],
    }


def contact_point_receivers() -> list[dict[str, Any]]:
    """Email and webhook receivers of the `therapists` contact point, configured from the environment."""
    return [
        {
            "uid": "therapists-email",
            "type": "email",
            "settings": {"addresses": "${ALERT_EMAIL}", "singleEmail": True},
            "disableResolveMessage": False,
        },
        {
            "uid": "therapists-webhook",
            "type": "webhook",
            "settings": {"url": "${GRAFANA_ALERT_WEBHOOK_URL}", "httpMethod": "POST"},
            "disableResolveMessage": False,
        },
    ]


def notification_policy() -> dict[str, Any]:
    """The policy tree: alerts labelled notify=prevention-visit go to the therapists, once a day per athlete."""
    return {
        "receiver": CONTACT_POINT,
        "group_by": ["grafana_folder", "alertname"],
        "routes": [
            {
                "receiver": CONTACT_POINT,
                "object_matchers": [[NOTIFY_LABEL[0], "=", NOTIFY_LABEL[1]]],
                "group_by": ["alertname", "athlete"],
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "24h",
            }
        ],
    }


def file_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A `ProvisionedAlertRule` as a rule of a provisioning file (folder and group are given by the group)."""
    return {key: value for key, value in rule.items() if key not in ("folderUID", "ruleGroup", "orgID")}
