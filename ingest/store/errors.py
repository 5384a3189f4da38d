"""Typed errors of the store layer. Every message is one line that names the input and the problem."""


class StoreError(Exception):
    """Base class of every store failure."""


class StoreConfigError(StoreError):
    """The store URL or its settings are invalid."""


class StoreUnavailable(StoreError):
    """The store cannot be reached, or kept failing after retries (timeouts, 5xx)."""


class StoreAuthError(StoreError):
    """The store refused the credentials (HTTP 401/403)."""


class StoreRequestError(StoreError):
    """The store rejected a request it will never accept as sent (HTTP 4xx other than 401/403/429)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EncodeError(StoreError, ValueError):
    """A value the store cannot hold: NaN or infinity in a float field (every backend), or what line protocol
    cannot carry (a newline in a name, ...). No point of the batch holding it is written."""
