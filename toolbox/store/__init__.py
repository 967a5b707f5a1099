"""The SQL store shared by tracking and the model registry (layer 2).

One schema (SQLAlchemy Core, :mod:`toolbox.store._schema`) with tested
migrations, served from an embedded SQLite database (WAL, ``busy_timeout``,
every write in ``BEGIN IMMEDIATE``) or from PostgreSQL by URL, plus a
content-addressed artifact root. SQLAlchemy is imported at first use, never at
``import toolbox``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._errors import NotFoundError, SchemaVersionError, StoreError, StoreReadOnlyError, StoreUnavailableError

__all__ = [
    "NotFoundError",
    "SchemaVersionError",
    "StoreError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "open_store",
]


if TYPE_CHECKING:
    from ._store import Store


def open_store(uri: str | os.PathLike, artifact_root: str | os.PathLike | None = None, *,
               migrate: bool = True) -> Store:
    """Open (creating and upgrading if needed) the store at ``uri`` (a folder, ``sqlite:///``, ``postgresql://``).

    ``artifact_root`` defaults to ``<folder>/artifacts``; ``migrate=False``
    leaves an older schema as it is. SQLAlchemy is imported here, not before.
    """
    from ._store import open_store as _open

    return _open(uri, artifact_root, migrate=migrate)
