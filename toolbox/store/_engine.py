"""Engines from URIs: SQLite (WAL, busy_timeout, BEGIN IMMEDIATE for writes) or PostgreSQL (psycopg 3).

Accepted locations:

* a folder (``./toolbox-runs``): the database ``<folder>/toolbox.db`` and the
  artifacts ``<folder>/artifacts``;
* ``sqlite:///path/to/file.db`` (artifacts beside it, in ``artifacts/``;
  ``?mode=ro`` opens it read-only);
* ``postgresql://user:password@host:port/db`` (``postgres://`` and
  ``postgresql+psycopg://`` too; libpq options such as
  ``?options=-csearch_path%3Dteam`` pass through), with the artifact root given
  separately (a shared filesystem path).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import StoreError, StoreReadOnlyError, StoreUnavailableError

__all__ = ["Location", "create_engine", "parse_location", "translate_errors"]

#: How long a SQLite writer waits for the lock before failing (milliseconds).
BUSY_TIMEOUT_MS = 60_000

_EXTRA = "pip install 'toolbox[tracking]'"


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"The tracking store needs SQLAlchemy 2; install it with: {_EXTRA}") from exc
    return sqlalchemy


@dataclass(frozen=True)
class Location:
    """A parsed store location: ``dialect`` is ``"sqlite"`` or ``"postgresql"``."""

    dialect: str
    url: str  # the SQLAlchemy URL (with password)
    display: str  # for messages (password hidden)
    path: Path | None  # the SQLite database file
    default_artifacts: Path


def parse_location(uri: str | os.PathLike) -> Location:
    """Parse a folder, ``sqlite:///file`` or ``postgresql://`` location (see the module docstring)."""
    text = os.fspath(uri).strip()
    if not text:
        raise ValueError("The store location is empty; give a folder, sqlite:///file.db or postgresql://...")
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        sa = _sqlalchemy()
        try:
            url = sa.engine.make_url("postgresql+psycopg://" + text.split("://", 1)[1])
        except Exception as exc:
            raise ValueError(f"Cannot parse the PostgreSQL URL {text!r}: {exc}") from None
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"A postgresql:// store needs psycopg 3; install it with: {_EXTRA}") from exc
        display = url.render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://")
        return Location("postgresql", url.render_as_string(hide_password=False), display, None,
                        Path("toolbox-runs") / "artifacts")
    if scheme == "sqlite":
        rest, _, query = text.split("://", 1)[1].partition("?")
        if query and query != "mode=ro":
            raise ValueError(f"{text!r}: the only option of a sqlite:/// location is ?mode=ro (read-only).")
        if not rest.startswith("/") or rest in ("/", "/:memory:"):
            raise ValueError(f"{text!r}: give a database file, sqlite:///relative.db or sqlite:////abs/path.db "
                             "(an in-memory database cannot be shared by the background writer).")
        path = Path(rest[1:]).expanduser()
    elif scheme:
        raise ValueError(f"Unknown store scheme {scheme!r} in {text!r}: use a folder, sqlite:///file.db or "
                         "postgresql://user@host/db.")
    else:
        p = Path(text).expanduser()
        path = p if p.suffix in (".db", ".sqlite", ".sqlite3") else p / "toolbox.db"
        query = ""
    path = path.resolve()
    if query:  # read-only: SQLite's URI form
        return Location("sqlite", f"sqlite:///file:{path}?mode=ro&uri=true", f"{path} (read-only)", path,
                        path.parent / "artifacts")
    return Location("sqlite", f"sqlite:///{path}", str(path), path, path.parent / "artifacts")


def _sqlite_engine(loc: Location) -> Any:
    sa = _sqlalchemy()
    assert loc.path is not None
    if not loc.path.parent.is_dir():
        try:
            loc.path.parent.mkdir(parents=True, exist_ok=True)
        except PermissionError as exc:
            raise StoreReadOnlyError(f"Cannot create the store folder {str(loc.path.parent)!r}: {exc}") from exc
        except OSError as exc:
            raise StoreUnavailableError(f"Cannot create the store folder {str(loc.path.parent)!r}: {exc}") from exc
    engine = sa.create_engine(loc.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                     "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver emits no BEGIN of its own; "begin" below does
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across a process crash
            cur.execute("PRAGMA case_sensitive_like = ON")  # LIKE as on PostgreSQL (ILIKE ignores case)
            mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                try:
                    cur.execute("PRAGMA journal_mode = WAL")
                except Exception:  # a read-only file: reads still work, writes fail with a clear error
                    pass
        finally:
            cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read = conn.get_execution_options().get("toolbox_read", False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine


def create_engine(loc: Location) -> Any:
    """A SQLAlchemy engine for ``loc``; nothing is connected yet."""
    if loc.dialect == "sqlite":
        return _sqlite_engine(loc)
    sa = _sqlalchemy()
    return sa.create_engine(loc.url, pool_pre_ping=True, pool_size=2, max_overflow=4,
                            connect_args={"connect_timeout": 10, "application_name": "toolbox"})


_READ_ONLY_HINTS = ("readonly", "read-only", "read only", "permission denied", "attempt to write")
_UNAVAILABLE_HINTS = ("unable to open", "connection", "could not connect", "does not exist", "timeout expired",
                      "no such host", "name or service", "server closed", "refused", "disk i/o error")


@contextlib.contextmanager
def translate_errors(display: str) -> Iterator[None]:
    """Turn driver errors into :class:`StoreError` subclasses naming the store."""
    sa = _sqlalchemy()
    try:
        yield
    except sa.exc.DBAPIError as exc:
        msg = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() \
            else type(exc).__name__
        low = msg.lower()
        if any(h in low for h in _READ_ONLY_HINTS):
            raise StoreReadOnlyError(f"The store {display} is read-only: {msg}") from exc
        if isinstance(exc, sa.exc.OperationalError) and any(h in low for h in _UNAVAILABLE_HINTS):
            raise StoreUnavailableError(f"Cannot reach the store {display}: {msg}") from exc
        raise StoreError(f"Store {display}: {msg}") from exc
