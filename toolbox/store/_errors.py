"""Errors raised by the store; each message names the store (password masked) or the item."""

from __future__ import annotations

__all__ = [
    "FilterSyntaxError",
    "NotFoundError",
    "SchemaVersionError",
    "StoreError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
]


class StoreError(RuntimeError):
    """Base class of every store error."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or opened (no server, no such folder, bad URI)."""


class StoreReadOnlyError(StoreError):
    """The store refuses writes (a read-only file or folder, a read-only role)."""


class SchemaVersionError(StoreError):
    """The database has a schema newer than this toolbox knows (or an unknown one)."""


class NotFoundError(StoreError, KeyError):
    """An id or name that is not in the store (a run, an experiment, an artifact)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FilterSyntaxError(ValueError):
    """A search filter or ``order_by`` that does not parse; the message points at the problem and its position."""
