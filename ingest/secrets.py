"""Secrets from the environment: a variable holding the secret, or ``<NAME>_FILE`` naming a file that holds it (a
Docker or systemd credential). The secret is never logged or put in an error; errors name the variable and file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class SecretError(ValueError):
    """An unreadable, undecodable or empty secret file, named with its variable (never the secret)."""


def secret_from_env(name: str, env: Mapping[str, str] = os.environ) -> tuple[str | None, str]:
    """(the secret, stripped, or None when neither ``name`` nor ``name_FILE`` is set; where it came from: ``name``
    or ``"name_FILE path"``). The variable wins over the file; a variable of only spaces counts as unset."""
    secret = (env.get(name) or "").strip()
    path = env.get(f"{name}_FILE")
    if secret or not path:
        return secret or None, name
    source = f"{name}_FILE {path}"
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"{source}: {getattr(exc, 'strerror', None) or exc}") from None
    if not secret:
        raise SecretError(f"{source}: the file is empty")
    return secret, source
