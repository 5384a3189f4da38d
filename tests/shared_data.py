"""Where the real test data lives (`../shared/data`, beside the repository); what a missing prerequisite does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def skip_or_fail(reason: str, *, ci_reason: str | None = None, module_level: bool = False) -> NoReturn:
    """A missing prerequisite: fail under CI=true (with `ci_reason`, else `reason`), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(ci_reason or reason, pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)


def require_shared(subdir: str = "", *, module_level: bool = False) -> Path:
    """The folder `../shared/data/<subdir>`; when it is missing, fail under CI=true and skip elsewhere."""
    path = SHARED_DATA / subdir
    if not path.is_dir():
        skip_or_fail(f"test data missing: {path}", module_level=module_level)
    return path
