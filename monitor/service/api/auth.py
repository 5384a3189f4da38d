"""The clinic's bearer token: read once from the environment, kept only as its SHA-256, checked in constant time.

`CLINIC_API_TOKEN` holds the token, or `CLINIC_API_TOKEN_FILE` names a file holding it (a Docker or systemd
secret); surrounding whitespace is ignored. Without either, the clinic API is off (it answers 503). The token
itself is never logged, stored or echoed: `BearerAuth` hashes a presented token and compares the digests with
`hmac.compare_digest`, so neither the comparison time nor any log tells how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from ingest.secrets import SecretError, secret_from_env

TOKEN_ENV = "CLINIC_API_TOKEN"
TOKEN_FILE_ENV = "CLINIC_API_TOKEN_FILE"
MIN_TOKEN_CHARS = 16
REALM = "recovery-monitor clinic API"


class TokenConfigError(ValueError):
    """The configured token cannot be used (unreadable file, empty, too short); one line, without the token."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_digest(env: Mapping[str, str] = os.environ) -> bytes | None:
    """SHA-256 of the clinic token from `CLINIC_API_TOKEN` or the file named by `CLINIC_API_TOKEN_FILE`;
    None when neither is set. `TokenConfigError` for an unreadable file or a token under 16 characters."""
    try:
        token, source = secret_from_env(TOKEN_ENV, env)
    except SecretError as exc:
        raise TokenConfigError(str(exc)) from None
    if not token:
        return None
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise TokenConfigError(
            f"{source}: the clinic token must be at least {MIN_TOKEN_CHARS} characters without spaces "
            '(e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return _digest(token)


class BearerAuth:
    """Checks `Authorization: Bearer TOKEN` headers against one token's SHA-256 digest."""

    def __init__(self, digest: bytes) -> None:
        if len(digest) != hashlib.sha256().digest_size:
            raise ValueError("BearerAuth takes the SHA-256 digest of the token, not the token")
        self._digest = digest

    @classmethod
    def for_token(cls, token: str) -> BearerAuth:
        return cls(_digest(token))

    def check(self, authorization: str | None) -> bool:
        """Whether the header carries the token (scheme case-insensitive, as RFC 9110 says)."""
        scheme, _, presented = (authorization or "").strip().partition(" ")
        presented = presented.strip()
        if scheme.lower() != "bearer" or not presented:
            return False
        return hmac.compare_digest(_digest(presented), self._digest)

    def challenge(self, error: str | None) -> str:
        """The `WWW-Authenticate` value of a 401 (RFC 6750): `error="invalid_token"` when a token was sent."""
        return f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
