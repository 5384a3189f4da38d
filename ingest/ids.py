"""Pseudonymous identifiers: the one rule for athlete IDs (and other pseudonymous codes, such as a therapist's)."""

from __future__ import annotations

import re
from typing import TypeGuard

PSEUDONYM_RULE = "1-32 letters, digits, '_', '.' or '-', starting with a letter or digit"
PSEUDONYM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
"""The rule as a regular expression, also valid in JSON Schema (the clinic API's OpenAPI document)."""
_PSEUDONYM = re.compile(PSEUDONYM_PATTERN)


def is_pseudonymous_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a pseudonymous ID (e.g. `A01`, `T1`): see `PSEUDONYM_RULE`."""
    return isinstance(value, str) and _PSEUDONYM.fullmatch(value) is not None
