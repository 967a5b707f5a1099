"""``Store``: an engine at the current schema version plus an artifact root."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import _migrations
from ._artifacts import ArtifactRoot
from ._engine import Location, create_engine, parse_location, translate_errors
from ._errors import StoreReadOnlyError

__all__ = ["Store", "open_store"]

_OPEN: weakref.WeakSet[Store] = weakref.WeakSet()


class Store:
    """A database at the current schema version and an artifact root, shared by tracking and the registry.

    Use :func:`open_store`. ``write()`` is a short write transaction
    (``BEGIN IMMEDIATE`` on SQLite), ``read()`` a consistent read; both turn
    driver errors into :class:`~toolbox.store.StoreError` subclasses.
    """

    def __init__(self, location: Location, artifact_root: str | os.PathLike | None = None, *,
                 migrate: bool = True) -> None:
        self.location = location
        self.dialect = location.dialect
        self.artifacts = ArtifactRoot(artifact_root if artifact_root is not None else location.default_artifacts)
        self.engine = create_engine(location)
        _OPEN.add(self)
        if migrate:
            self.upgrade()

    def __repr__(self) -> str:
        return f"Store({self.location.display!r}, artifacts={str(self.artifacts.root)!r})"

    @property
    def display(self) -> str:
        """The location for messages (password hidden)."""
        return self.location.display

    # -- transactions --------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A write transaction (committed on exit, rolled back on an exception)."""
        with translate_errors(self.display), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        """A read-only snapshot (a deferred transaction on SQLite)."""
        with translate_errors(self.display), self.engine.connect() as conn:
            conn = conn.execution_options(toolbox_read=True)
            with conn.begin():
                yield conn

    def insert(self, table: Any) -> Any:
        """The dialect's ``INSERT`` construct for ``table`` (it has ``on_conflict_do_update/nothing``)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    # -- schema ---------------------------------------------------------------
    def version(self) -> int:
        """The database's schema version."""
        with self.read() as conn:
            return _migrations.current_version(conn)

    def upgrade(self, target: int | None = None) -> int:
        """Bring the schema to ``target`` (default: current); a no-op, without a write lock, when it is there."""
        from ._schema import SCHEMA_VERSION

        target = SCHEMA_VERSION if target is None else target
        version = self.version()
        _migrations.check_version(version, self.display)
        if version >= target:
            return version
        try:
            with self.write() as conn:
                return _migrations.upgrade(conn, self.display, target)
        except StoreReadOnlyError as exc:
            raise StoreReadOnlyError(f"{exc} (the schema needs upgrading from version {version} to {target}, "
                                     "which needs write access)") from exc

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_store(uri: str | os.PathLike, artifact_root: str | os.PathLike | None = None, *,
               migrate: bool = True) -> Store:
    """Open (creating and upgrading if needed) the store at ``uri``.

    Parameters
    ----------
    uri : str or path
        A folder, ``sqlite:///file.db`` or ``postgresql://user:pw@host:port/db``.
    artifact_root : str or path, optional
        Where artifacts go; default ``<folder>/artifacts`` (for PostgreSQL:
        ``./toolbox-runs/artifacts``).
    migrate : bool, default=True
        Upgrade an older schema (``False``: leave it, for migration tests).
    """
    return Store(parse_location(uri), Path(artifact_root) if artifact_root is not None else None,
                 migrate=migrate)


def _after_fork_in_child() -> None:
    # pooled connections belong to the parent: drop them without closing the parent's sockets or files
    for store in list(_OPEN):
        store.engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
