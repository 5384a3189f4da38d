"""README's two commands are what a new user runs on a fresh clone, and CI runs them as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _two_commands() -> list[str]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_the_first_command_installs_what_the_tests_need() -> None:
    install, tests = _two_commands()
    assert install == "pip install -e '.[dev]' && recovery-monitor demo"  # `.` alone lacks pytest
    assert tests == "python3 -m pytest -q"
    dev = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("dev = [", 1)[1].split("]", 1)[0]
    assert '"pytest' in dev and '"hypothesis' in dev


def test_ci_runs_both_commands_as_written_in_a_new_virtualenv() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install, tests = _two_commands()
    venv = script.index("python3 -m venv")
    assert venv < script.index(f"\n{install}\n") < script.index(f"\n{tests}\n")
