"""The SQL store (toolbox.store): engines, SQLite locking, migrations, artifact root, errors.

Every store test runs on SQLite (a temporary folder) and on PostgreSQL (a fresh
schema per test on the server named by ``TOOLBOX_TEST_POSTGRES_URL``; skipped
with a reason when it is unset or unreachable). ``scripts/postgres.sh`` starts
such a server; ``.ci/run`` always does.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from urllib.parse import quote

import pytest

pytest.importorskip("sqlalchemy")

from sqlalchemy import insert, inspect, select, update

from toolbox.store import (
    SchemaVersionError,
    StoreError,
    StoreReadOnlyError,
    StoreUnavailableError,
    open_store,
)
from toolbox.store import _schema as S
from toolbox.store._artifacts import ArtifactRoot

PG_ENV = "TOOLBOX_TEST_POSTGRES_URL"


def _pg_admin():
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server for the store tests "
                    "(start one with: export TOOLBOX_TEST_POSTGRES_URL=$(bash scripts/postgres.sh))")
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {str(exc).splitlines()[0]}")
    return url, conn


def pg_uri_with_schema(url: str, schema: str, extra: str = "") -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}{extra}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_uri(request, tmp_path):
    """A store location: a temporary SQLite folder, or a fresh schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield str(tmp_path / "store")
        return
    url, conn = _pg_admin()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield pg_uri_with_schema(url, schema)
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture
def sqlite_uri(tmp_path):
    return str(tmp_path / "store")


# --------------------------------------------------------------------------- #
# schema and migrations
# --------------------------------------------------------------------------- #
def test_open_creates_current_schema(store_uri, tmp_path):
    store = open_store(store_uri, tmp_path / "art")
    try:
        assert store.version() == S.SCHEMA_VERSION
        with store.read() as conn:
            names = set(inspect(conn).get_table_names())
        assert {"toolbox_schema", "experiments", "runs", "params", "tags", "metrics", "artifacts",
                "latest_metrics"} <= names
        again = open_store(store_uri, tmp_path / "art")  # opening again is a no-op
        assert again.version() == S.SCHEMA_VERSION
        again.close()
    finally:
        store.close()


def _reflect(store):
    with store.read() as conn:
        insp = inspect(conn)
        return {t: {c["name"]: c["nullable"] for c in insp.get_columns(t)}
                for t in insp.get_table_names()}


def test_upgraded_schema_matches_the_schema_module(store_uri, tmp_path):
    store = open_store(store_uri, tmp_path / "art", migrate=False)
    try:
        assert store.version() == 0
        assert store.upgrade(target=1) == 1
        assert store.upgrade() == S.SCHEMA_VERSION
        got = _reflect(store)
        for table in S.metadata.sorted_tables:
            assert table.name in got, f"migrations never create {table.name}"
            want = {c.name: c.nullable for c in table.columns}
            assert got[table.name] == want, f"{table.name}: migrated {got[table.name]} != schema {want}"
    finally:
        store.close()


def test_migration_1_to_2_backfills_latest_metrics(store_uri, tmp_path):
    store = open_store(store_uri, tmp_path / "art", migrate=False)
    try:
        store.upgrade(target=1)
        with store.write() as conn:
            conn.execute(insert(S.experiments).values(id=1, name="old", created_at=1.0))
            for rid in ("a" * 32, "b" * 32):
                conn.execute(insert(S.runs).values(id=rid, experiment_id=1, parent_id=None, name=rid[:4],
                                                   status="finished", start_time=1.0, end_time=2.0,
                                                   host="h", pid=1))
            rows = [("a" * 32, "loss", 3.0, 0, 1.0), ("a" * 32, "loss", 1.0, 2, 3.0),
                    ("a" * 32, "loss", 2.0, 1, 2.0), ("a" * 32, "acc", None, 0, 1.0),
                    ("b" * 32, "loss", 5.0, 0, 1.0), ("b" * 32, "loss", 4.0, 0, 2.0)]
            conn.execute(insert(S.metrics), [dict(zip(("run_id", "key", "value", "step", "timestamp"), r))
                                             for r in rows])
        assert store.version() == 1
        reopened = open_store(store_uri, tmp_path / "art")
        assert reopened.version() == S.SCHEMA_VERSION
        with reopened.read() as conn:
            latest = {(r.run_id, r.key): (r.value, r.step) for r in conn.execute(select(S.latest_metrics))}
        assert latest == {("a" * 32, "loss"): (1.0, 2), ("a" * 32, "acc"): (None, 0),
                          ("b" * 32, "loss"): (4.0, 0)}  # highest step, then latest time
        with reopened.read() as conn:
            assert conn.execute(select(S.metrics.c.id)).all().__len__() == 6  # nothing lost
        reopened.close()
    finally:
        store.close()


def test_newer_schema_is_refused(store_uri, tmp_path):
    store = open_store(store_uri, tmp_path / "art")
    with store.write() as conn:
        conn.execute(update(S.schema_version).values(version=S.SCHEMA_VERSION + 7))
    store.close()
    with pytest.raises(SchemaVersionError, match=rf"schema version {S.SCHEMA_VERSION + 7}.*upgrade toolbox"):
        open_store(store_uri, tmp_path / "art")


# --------------------------------------------------------------------------- #
# SQLite specifics: WAL, busy_timeout, BEGIN IMMEDIATE
# --------------------------------------------------------------------------- #
def test_sqlite_pragmas_and_immediate_writes(sqlite_uri):
    store = open_store(sqlite_uri)
    db = store.location.path
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    other = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        with store.write():
            # the write transaction took the write lock at BEGIN (IMMEDIATE), before writing anything
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
        with store.read():
            other.execute("BEGIN IMMEDIATE")  # a read does not block writers
            other.execute("ROLLBACK")
    finally:
        other.close()
        store.close()


def test_write_rolls_back_on_error(store_uri, tmp_path):
    store = open_store(store_uri, tmp_path / "art")
    try:
        with pytest.raises(RuntimeError, match="boom"), store.write() as conn:
            conn.execute(insert(S.experiments).values(name="gone", created_at=1.0))
            raise RuntimeError("boom")
        with store.read() as conn:
            assert conn.execute(select(S.experiments)).all() == []
    finally:
        store.close()


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #
def test_unreachable_postgresql_names_the_store():
    pytest.importorskip("psycopg")
    with pytest.raises(StoreUnavailableError, match=r"postgresql://u:\*\*\*@127\.0\.0\.1:9/db") as info:
        open_store("postgresql://u:secret@127.0.0.1:9/db")
    assert "secret" not in str(info.value)


def test_sqlite_under_a_file_is_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="store folder"):
        open_store(blocker / "sub")


def test_read_only_stores_refuse_writes_but_read(store_uri, tmp_path):
    store = open_store(store_uri, tmp_path / "art")
    with store.write() as conn:
        conn.execute(insert(S.experiments).values(name="kept", created_at=1.0))
    store.close()
    if store_uri.startswith("postgresql"):
        ro_uri = store_uri + quote(" -cdefault_transaction_read_only=on")
    else:
        ro_uri = f"sqlite:///{tmp_path / 'store' / 'toolbox.db'}?mode=ro"
    ro = open_store(ro_uri, tmp_path / "art")
    try:
        with ro.read() as conn:
            assert [r.name for r in conn.execute(select(S.experiments))] == ["kept"]
        with pytest.raises(StoreReadOnlyError, match="read-only"), ro.write() as conn:
            conn.execute(insert(S.experiments).values(name="new", created_at=2.0))
    finally:
        ro.close()


def test_bad_locations():
    with pytest.raises(ValueError, match="Unknown store scheme 'mysql'"):
        open_store("mysql://x/y")
    with pytest.raises(ValueError, match="in-memory"):
        open_store("sqlite://")
    with pytest.raises(ValueError, match="mode=ro"):
        open_store("sqlite:///x.db?cache=shared")


# --------------------------------------------------------------------------- #
# artifact root
# --------------------------------------------------------------------------- #
def test_artifacts_are_content_addressed_atomic_and_verified(tmp_path):
    root = ArtifactRoot(tmp_path / "art")
    src = tmp_path / "model.bin"
    src.write_bytes(b"\x00\x01" * 1000)
    digest, size = root.put_file(src)
    import hashlib

    assert digest == hashlib.sha256(src.read_bytes()).hexdigest() and size == 2000
    blob = root.path_of(digest)
    assert blob == tmp_path / "art" / "sha256" / digest[:2] / digest and blob.read_bytes() == src.read_bytes()
    copy = tmp_path / "same.bin"
    copy.write_bytes(src.read_bytes())
    assert root.put_file(copy) == (digest, size)  # the same content is stored once
    assert sorted(p.name for p in blob.parent.iterdir()) == [digest]  # no temporary file left behind
    out = root.export(digest, tmp_path / "out" / "m.bin")
    assert out.read_bytes() == src.read_bytes()
    blob.write_bytes(b"tampered")
    with pytest.raises(StoreError, match="corrupted"):
        root.open_verified(digest)
    with pytest.raises(FileNotFoundError, match="nope"):
        root.put_file(tmp_path / "nope")
    with pytest.raises(ValueError, match="sha256"):
        root.path_of("../../etc/passwd")
