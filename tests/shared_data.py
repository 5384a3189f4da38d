"""Where the real test data lives (`../shared/data`, beside the repository) and how a missing folder is handled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def require_shared(subdir: str = "", *, module_level: bool = False) -> Path:
    """The folder `../shared/data/<subdir>`; when it is missing, fail under CI=true and skip elsewhere."""
    path = SHARED_DATA / subdir
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test data missing: {path}", pytrace=False)
        pytest.skip(f"test data missing: {path}", allow_module_level=module_level)
    return path
