"""A stateful stand-in for the Grafana HTTP API routes `dashboards publish` uses, for pytest-httpserver.

It keeps folders, dashboards, alert rules, rule groups and annotations in memory and answers with the shapes of
Grafana's documented example responses, so a second publish sees what the first one wrote.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from werkzeug import Request, Response

API = "/api"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _missing(what: str) -> Response:
    return _json({"message": f"{what} not found"}, 404)


class FakeGrafana:
    """Routes → handlers over in-memory state; `token` is the only accepted bearer token."""

    def __init__(self, token: str, version: str = "12.1.1") -> None:
        self.token = token
        self.version = version
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self.groups: dict[tuple[str, str], dict[str, Any]] = {}
        self.annotations: dict[int, dict[str, Any]] = {}
        self.routes = [
            ("GET", r"/health", self.health),
            ("GET", r"/folders/(?P<uid>[^/]+)", self.get_folder),
            ("POST", r"/folders", self.create_folder),
            ("PUT", r"/folders/(?P<uid>[^/]+)", self.update_folder),
            ("GET", r"/dashboards/uid/(?P<uid>[^/]+)", self.get_dashboard),
            ("POST", r"/dashboards/db", self.save_dashboard),
            ("GET", r"/v1/provisioning/alert-rules/(?P<uid>[^/]+)", self.get_rule),
            ("POST", r"/v1/provisioning/alert-rules", self.create_rule),
            ("PUT", r"/v1/provisioning/alert-rules/(?P<uid>[^/]+)", self.update_rule),
            ("GET", r"/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>[^/]+)", self.get_group),
            ("PUT", r"/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>[^/]+)", self.put_group),
            ("GET", r"/annotations", self.find_annotations),
            ("POST", r"/annotations", self.create_annotation),
            ("PATCH", r"/annotations/(?P<id>\d+)", self.patch_annotation),
        ]

    def __call__(self, request: Request) -> Response:
        path = request.path.removeprefix(API)
        if path != "/health" and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"message": "Unauthorized"}, 401)
        for method, pattern, handler in self.routes:
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                return handler(request, **match.groupdict())
        return _json({"message": "Not found"}, 404)

    # -- handlers -------------------------------------------------------------------------------------------

    def health(self, request: Request) -> Response:
        return _json({"commit": "0123abc", "database": "ok", "version": self.version})

    def get_folder(self, request: Request, uid: str) -> Response:
        return _json(self.folders[uid]) if uid in self.folders else _missing("folder")

    def create_folder(self, request: Request) -> Response:
        body = request.get_json()
        if body["uid"] in self.folders:
            return _json({"message": "a folder with the same uid already exists"}, 409)
        folder = {"id": len(self.folders) + 1, "uid": body["uid"], "title": body["title"], "url": "/f", "version": 1}
        self.folders[body["uid"]] = folder
        return _json(folder)

    def update_folder(self, request: Request, uid: str) -> Response:
        if uid not in self.folders:
            return _missing("folder")
        folder = self.folders[uid]
        folder.update(title=request.get_json()["title"], version=folder["version"] + 1)
        return _json(folder)

    def get_dashboard(self, request: Request, uid: str) -> Response:
        if uid not in self.dashboards:
            return _missing("dashboard")
        return _json(copy.deepcopy(self.dashboards[uid]))

    def save_dashboard(self, request: Request) -> Response:
        body = request.get_json()
        dashboard = copy.deepcopy(body["dashboard"])
        uid = dashboard["uid"]
        previous = self.dashboards.get(uid, {}).get("dashboard", {})
        dashboard["id"] = previous.get("id", len(self.dashboards) + 1)
        dashboard["version"] = previous.get("version", 0) + 1
        self.dashboards[uid] = {"dashboard": dashboard, "meta": {"folderUid": body.get("folderUid", ""), "slug": uid}}
        reply = {
            "id": dashboard["id"],
            "uid": uid,
            "url": f"/d/{uid}",
            "status": "success",
            "title": dashboard["title"],
        }
        return _json({**reply, "version": dashboard["version"]})

    def get_rule(self, request: Request, uid: str) -> Response:
        return _json(self.rules[uid]) if uid in self.rules else _missing("rule")

    def create_rule(self, request: Request) -> Response:
        rule = {**request.get_json(), "id": len(self.rules) + 1, "provenance": ""}
        if rule["uid"] in self.rules:
            return _json({"message": "a rule with this UID already exists"}, 409)
        self.rules[rule["uid"]] = rule
        self.groups.setdefault((rule["folderUID"], rule["ruleGroup"]), {"interval": 60})
        return _json(rule, 201)

    def update_rule(self, request: Request, uid: str) -> Response:
        if uid not in self.rules:
            return _missing("rule")
        self.rules[uid] = {**request.get_json(), "id": self.rules[uid]["id"], "provenance": ""}
        return _json(self.rules[uid])

    def get_group(self, request: Request, folder: str, group: str) -> Response:
        if (folder, group) not in self.groups:
            return _missing("rule group")
        rules = [r for r in self.rules.values() if r["folderUID"] == folder and r["ruleGroup"] == group]
        body = {"title": group, "folderUid": folder, "interval": self.groups[folder, group]["interval"]}
        return _json({**body, "rules": rules})

    def put_group(self, request: Request, folder: str, group: str) -> Response:
        body = request.get_json()
        self.groups[folder, group] = {"interval": body["interval"]}
        for rule in body["rules"]:
            self.rules[rule["uid"]] = {**rule, "id": self.rules.get(rule["uid"], {}).get("id", 99), "provenance": ""}
        return self.get_group(request, folder, group)

    def find_annotations(self, request: Request) -> Response:
        tags = set(request.args.getlist("tags"))
        found = [a for a in self.annotations.values() if tags <= set(a["tags"])]
        return _json(sorted(found, key=lambda a: -a["time"]))

    def create_annotation(self, request: Request) -> Response:
        body = request.get_json()
        annotation_id = len(self.annotations) + 1
        self.annotations[annotation_id] = {"id": annotation_id, "dashboardUID": "", "panelId": 0, **body}
        return _json({"id": annotation_id, "message": "Annotation added"})

    def patch_annotation(self, request: Request, id: str) -> Response:
        annotation = self.annotations.get(int(id))
        if annotation is None:
            return _missing("annotation")
        annotation.update(request.get_json())
        return _json({"message": "Annotation patched"})
