"""A missing prerequisite fails under CI=true and skips elsewhere: the helpers, and no test that skips another way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shared_data
from shared_data import require_shared, skip_or_fail

TESTS = Path(__file__).resolve().parent
SILENT_SKIP = re.compile(r"mark\.skipif|mark\.skip\(|pytest\.skip\(|importorskip\(")
SHARED_PATH = re.compile(r"""/\s*["']shared["']""")  # a path to ../shared built by hand, not through shared_data


def test_no_test_skips_silently_or_builds_its_own_shared_path():
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(TESTS.glob("*.py"))
        if path.name not in ("shared_data.py", Path(__file__).name)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SILENT_SKIP.search(line) or SHARED_PATH.search(line)
    ]
    assert not offenders, "use shared_data.require_shared / skip_or_fail:\n" + "\n".join(offenders)


def test_the_guard_sees_the_patterns_it_forbids():
    assert SILENT_SKIP.search('@pytest.mark.skipif(not PMDATA.is_dir(), reason="x")')
    assert SILENT_SKIP.search('    pytest.skip("no data")')
    assert SHARED_PATH.search('SPEC = REPO.parent / "shared" / "grafana" / "openapi3.json"')
    assert not SHARED_PATH.search('SPEC = SHARED_DATA.parent / "grafana" / "openapi3.json"')


def test_missing_shared_data_fails_under_ci_and_skips_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_data, "SHARED_DATA", tmp_path / "absent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"test data missing: .*absent/pmdata"):
        require_shared("pmdata")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_shared("pmdata")
    (tmp_path / "absent" / "pmdata").mkdir(parents=True)
    assert require_shared("pmdata") == tmp_path / "absent" / "pmdata"


def test_skip_or_fail_uses_the_ci_reason_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"install it in \.ci/run"):
        skip_or_fail("not installed", ci_reason="install it in .ci/run")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        skip_or_fail("not installed", ci_reason="install it in .ci/run")
