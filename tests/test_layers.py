"""The import-linter contracts cover every module: a new module cannot slip past the layering by not being listed.

`lint-imports` (run by .ci/run) checks the contracts in pyproject.toml; this test checks that the analytics contract
names every analytics module of `monitor/` and that every `ingest` module is either one the analytics may use
(store interface, data model, timeline) or forbidden to them.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import pytest

import ingest
import monitor

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
ANALYTICS = next(c for c in CONTRACTS if c["name"].startswith("analytics import only"))
WIRING = ("monitor.cli", "monitor.service", "monitor.alerts", "monitor.__main__")
"""monitor/ modules that are not analytics: the CLI, the service, the webhook sender and the entry point."""
ANALYTICS_MAY_USE = {
    "ingest",
    "ingest.store",
    "ingest.store.base",
    "ingest.store.errors",
    "ingest.model",
    "ingest.analysis_due",
    "ingest.ids",
    "ingest.regions",
    "ingest.schema",
    "ingest.visits",
    "ingest.wellness",
    "ingest.timeline",
}
"""The store interface, the data model (with the accessors of its records) and the timeline."""


def modules(package: object) -> list[str]:
    path, name = package.__path__, package.__name__  # type: ignore[attr-defined]
    return [m.name for m in pkgutil.walk_packages(path, name + ".")]


def under(module: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", [m for m in modules(monitor) if not under(m, WIRING)])
def test_every_analytics_module_is_in_the_contract(module: str) -> None:
    assert module in ANALYTICS["source_modules"], f"{module}: add it to the analytics contract in pyproject.toml"


@pytest.mark.parametrize("module", modules(ingest))
def test_every_ingest_module_is_allowed_or_forbidden_to_the_analytics(module: str) -> None:
    forbidden = under(module, ANALYTICS["forbidden_modules"])
    assert forbidden != (module in ANALYTICS_MAY_USE), f"{module}: decide whether the analytics may import it"


def test_the_wiring_modules_exist() -> None:
    """A renamed CLI or service package would silently widen the analytics set above."""
    names = set(modules(monitor))
    assert all(name in names for name in WIRING)


def test_readme_lists_every_contract() -> None:
    """README's architecture section names each enforced contract (line breaks and list marks aside)."""
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Architecture", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(section.split())
    for contract in CONTRACTS:
        assert contract["name"] in flat, f"README's architecture section does not name: {contract['name']}"
