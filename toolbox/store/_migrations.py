"""Schema versions and the steps between them.

The version lives in the one-row table ``toolbox_schema``. Step ``k`` takes a
database from version ``k - 1`` to ``k``; every step's DDL is written out here
as it was at that version (never derived from :mod:`._schema`, which moves on),
so an old database upgrades the same way forever. All pending steps run in one
write transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL), so two processes opening a fresh store never both migrate it, and
a failed step leaves the database as it was.

To add tables (the model registry): append a step, bump
:data:`._schema.SCHEMA_VERSION`, describe the tables in :mod:`._schema`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

from ._errors import SchemaVersionError
from ._schema import SCHEMA_VERSION, schema_version

__all__ = ["STEPS", "current_version", "upgrade"]

#: pg_advisory_xact_lock key held while migrating ("tbschema" as a number)
_PG_LOCK = 0x7462736368656D61 & 0x7FFFFFFFFFFFFFFF


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _bigid() -> BigInteger:
    return BigInteger().with_variant(Integer(), "sqlite")


def _v1(conn: Connection) -> None:
    md = MetaData()
    Table("toolbox_schema", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("version", Integer, nullable=False))
    Table("experiments", md,
          Column("id", Integer, primary_key=True),
          Column("name", String(256), nullable=False, unique=True),
          Column("created_at", Double, nullable=False))
    Table("runs", md,
          Column("id", String(32), primary_key=True),
          Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False),
          Column("parent_id", String(32), ForeignKey("runs.id"), nullable=True),
          Column("name", String(256), nullable=False),
          Column("status", String(16), nullable=False),
          Column("start_time", Double, nullable=False),
          Column("end_time", Double, nullable=True),
          Column("host", String(256), nullable=False),
          Column("pid", Integer, nullable=False),
          Index("ix_runs_experiment_start", "experiment_id", "start_time"),
          Index("ix_runs_parent", "parent_id"),
          Index("ix_runs_status", "status"))
    for name in ("params", "tags"):
        Table(name, md,
              Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
              Column("key", String(256), primary_key=True),
              Column("value", Text, nullable=False))
    Table("metrics", md,
          Column("id", _bigid(), primary_key=True),
          Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
          Column("key", String(256), nullable=False),
          Column("value", Double, nullable=True),
          Column("step", BigInteger, nullable=False),
          Column("timestamp", Double, nullable=False),
          Index("ix_metrics_run_key_step", "run_id", "key", "step"))
    Table("artifacts", md,
          Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
          Column("path", String(1024), primary_key=True),
          Column("digest", String(64), nullable=False),
          Column("size", BigInteger, nullable=False),
          Column("created_at", Double, nullable=False))
    md.create_all(conn)


def _v2(conn: Connection) -> None:
    """latest_metrics: the last value of each metric of each run (search filters and orders on it)."""
    md = MetaData()
    Table("runs", md, Column("id", String(32), primary_key=True))  # referred to, not created
    latest = Table("latest_metrics", md,
                   Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
                   Column("key", String(256), primary_key=True),
                   Column("value", Double, nullable=True),
                   Column("step", BigInteger, nullable=False),
                   Column("timestamp", Double, nullable=False),
                   Index("ix_latest_metrics_key_value", "key", "value"))
    latest.create(conn)
    m = Table("metrics", md, Column("id"), Column("run_id"), Column("key"), Column("value"),
              Column("step"), Column("timestamp"))
    m2 = m.alias("m2")
    last_id = (select(m2.c.id).where(m2.c.run_id == m.c.run_id, m2.c.key == m.c.key)
               .order_by(m2.c.step.desc(), m2.c.timestamp.desc(), m2.c.id.desc()).limit(1)
               .scalar_subquery())
    conn.execute(insert(latest).from_select(
        ["run_id", "key", "value", "step", "timestamp"],
        select(m.c.run_id, m.c.key, m.c.value, m.c.step, m.c.timestamp).where(m.c.id == last_id)))


def _v3(conn: Connection) -> None:
    """The model registry: models, versions (semver precedence key), tags, metrics, lineage, stage holders,
    the holder event log, A/B tests and their records."""
    md = MetaData()
    bigid = _bigid()
    sort_key = String(200).with_variant(String(200, collation="C"), "postgresql")
    Table(
        "registry_models", md,
        Column("id", Integer, primary_key=True),
        Column("name", String(256), nullable=False, unique=True),
        Column("description", Text, nullable=True),
        Column("created_at", Double, nullable=False),
        Column("updated_at", Double, nullable=False),
    )
    Table(
        "registry_versions", md,
        Column("id", bigid, primary_key=True),
        Column("model_id", Integer, ForeignKey("registry_models.id"), nullable=False),
        Column("name", String(256), nullable=False),
        Column("version", String(128), nullable=False),
        Column("sort_key", sort_key, nullable=False),
        Column("major", BigInteger, nullable=False),
        Column("minor", BigInteger, nullable=False),
        Column("patch", BigInteger, nullable=False),
        Column("prerelease", String(128), nullable=True),
        Column("description", Text, nullable=True),
        Column("estimator", String(256), nullable=True),
        Column("signature", Text, nullable=False),
        Column("params", Text, nullable=False),
        Column("manifest", Text, nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("toolbox_version", String(64), nullable=False),
        Column("backend", String(64), nullable=True),
        Column("device", String(128), nullable=True),
        Column("dtype", String(32), nullable=True),
        Column("run_id", String(32), nullable=True),
        Column("data_fingerprint", String(64), nullable=True),
        Column("code_version", String(64), nullable=True),
        Column("created_by", String(256), nullable=False),
        Column("created_at", Double, nullable=False),
        UniqueConstraint("model_id", "version", name="uq_registry_versions_model_version"),
        UniqueConstraint("model_id", "sort_key", name="uq_registry_versions_model_precedence"),
        Index("ix_registry_versions_name_key", "name", "sort_key"),
        Index("ix_registry_versions_run", "run_id"),
        Index("ix_registry_versions_created", "created_at"),
    )
    Table(
        "registry_version_tags", md,
        Column("version_id", bigid, ForeignKey("registry_versions.id"), primary_key=True),
        Column("key", String(256), primary_key=True),
        Column("value", String(1000), nullable=False),
        Index("ix_registry_version_tags_key_value", "key", "value"),
    )
    Table(
        "registry_version_metrics", md,
        Column("version_id", bigid, ForeignKey("registry_versions.id"), primary_key=True),
        Column("key", String(256), primary_key=True),
        Column("value", Double, nullable=True),
        Index("ix_registry_version_metrics_key_value", "key", "value"),
    )
    Table(
        "registry_lineage", md,
        Column("child_id", bigid, ForeignKey("registry_versions.id"), primary_key=True),
        Column("parent_id", bigid, ForeignKey("registry_versions.id"), primary_key=True),
        Column("relation", String(64), nullable=False),
        Index("ix_registry_lineage_parent", "parent_id"),
    )
    Table(
        "registry_holders", md,
        Column("model_id", Integer, ForeignKey("registry_models.id"), primary_key=True),
        Column("kind", String(8), primary_key=True),
        Column("slot", String(256), primary_key=True),
        Column("version_id", bigid, ForeignKey("registry_versions.id"), nullable=False),
        Column("since", Double, nullable=False),
        Index("ix_registry_holders_version", "version_id"),
        Index("ix_registry_holders_kind_slot", "kind", "slot"),
    )
    Table(
        "registry_events", md,
        Column("id", bigid, primary_key=True),
        Column("model_id", Integer, ForeignKey("registry_models.id"), nullable=False),
        Column("kind", String(8), nullable=False),
        Column("slot", String(256), nullable=False),
        Column("action", String(16), nullable=False),
        Column("from_version_id", bigid, ForeignKey("registry_versions.id"), nullable=True),
        Column("to_version_id", bigid, ForeignKey("registry_versions.id"), nullable=True),
        Column("actor", String(256), nullable=False),
        Column("at", Double, nullable=False),
        Column("reason", Text, nullable=True),
        Index("ix_registry_events_slot", "model_id", "kind", "slot", "id"),
    )
    Table(
        "registry_ab_tests", md,
        Column("id", Integer, primary_key=True),
        Column("model_id", Integer, ForeignKey("registry_models.id"), nullable=False),
        Column("label", String(256), nullable=False),
        Column("key_name", String(256), nullable=False),
        Column("weights", Text, nullable=False),
        Column("shadow_version_id", bigid, ForeignKey("registry_versions.id"), nullable=True),
        Column("metric", String(32), nullable=False),
        Column("status", String(16), nullable=False),
        Column("winner_version_id", bigid, ForeignKey("registry_versions.id"), nullable=True),
        Column("created_at", Double, nullable=False),
        Column("updated_at", Double, nullable=False),
        UniqueConstraint("model_id", "label", name="uq_registry_ab_tests_model_label"),
    )
    Table(
        "registry_ab_records", md,
        Column("test_id", Integer, ForeignKey("registry_ab_tests.id"), primary_key=True),
        Column("key", String(256), primary_key=True),
        Column("variant_id", bigid, ForeignKey("registry_versions.id"), nullable=False),
        Column("prediction", Text, nullable=True),
        Column("shadow_prediction", Text, nullable=True),
        Column("score", Double, nullable=True),
        Column("shadow_score", Double, nullable=True),
        Column("predicted_at", Double, nullable=False),
        Column("outcome_at", Double, nullable=True),
        Index("ix_registry_ab_records_variant", "test_id", "variant_id"),
    )
    md.create_all(conn)


STEPS: list[Step] = [
    Step(1, "experiments, runs, params, tags, metrics, artifacts", _v1),
    Step(2, "latest_metrics (backfilled from metrics)", _v2),
    Step(3, "model registry: models, versions, tags, metrics, lineage, holders, events, A/B tests", _v3),
]
assert [s.version for s in STEPS] == list(range(1, SCHEMA_VERSION + 1))


def current_version(conn: Connection) -> int:
    """The database's schema version; 0 for an empty database."""
    if not inspect(conn).has_table("toolbox_schema"):
        return 0
    version = conn.execute(select(func.max(schema_version.c.version))).scalar()
    return int(version or 0)


def check_version(version: int, where: str) -> None:
    """Raise :class:`SchemaVersionError` when ``version`` is newer than this toolbox knows."""
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"The store {where} has schema version {version}, newer than version {SCHEMA_VERSION} that "
            "this toolbox knows: upgrade toolbox to use it (it was written by a newer release).")


def upgrade(conn: Connection, where: str, target: int = SCHEMA_VERSION) -> int:
    """Apply the pending steps up to ``target`` inside the caller's write transaction; return the version."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    version = current_version(conn)
    check_version(version, where)
    for step in STEPS[version:target]:
        step.apply(conn)
        if step.version == 1:
            conn.execute(insert(schema_version).values(id=1, version=1))
        else:
            conn.execute(update(schema_version).where(schema_version.c.id == 1).values(version=step.version))
        version = step.version
    return version
