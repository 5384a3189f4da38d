"""The CLI starts at once: building the parser (what `--help` and every command do first) imports no heavy package.

Each command imports what it needs when it runs (monitor/cli/main.py). Timings are in bench/cli.py, not here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from monitor.cli import hrv, import_files, ingest_cmd
from monitor.cli.main import COMMAND_MODULES, build_parser

HEAVY = ("scipy", "bumble", "bleak", "rich", "numpy", "garmin_fit_sdk", "grafana_foundation_sdk", "httpx")

PROBE = f"""
import json, sys
import monitor.cli.main as m
m.build_parser()
print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in {set(HEAVY)!r})))
"""


def _imported_by(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_building_the_parser_imports_no_heavy_package() -> None:
    assert _imported_by(PROBE) == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The probe can fail: a command module importing numpy at the top would be caught."""
    assert "numpy" in _imported_by("import numpy\n" + PROBE)


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_each_command_module_is_light(name: str) -> None:
    code = f"import json, sys, monitor.cli.{name}\n" + PROBE.split("m.build_parser()", 1)[1]
    assert _imported_by(code) == []


def test_every_subcommand_is_in_the_parser() -> None:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    names = {"demo", "scan", "ingest", "import", "athlete", "rpe", "rest", "visit", "analyze", "response", "hrv"}
    names |= {"dashboards", "report", "serve"}
    assert set(commands.choices) == names


def test_help_constants_match_the_modules_they_stand_for() -> None:
    """Choices and help texts written out in the light command modules equal the heavy modules' values."""
    from ingest.importer import supported_suffixes
    from ingest.virtual.chaos import CHAOS_KINDS
    from monitor.hrv import CORRECTIONS, DEFAULT_CORRECTION

    assert hrv.CORRECTIONS == CORRECTIONS
    assert hrv.DEFAULT_CORRECTION == DEFAULT_CORRECTION
    assert supported_suffixes() == import_files.SUFFIXES
    assert ingest_cmd.CHAOS_KINDS == CHAOS_KINDS
