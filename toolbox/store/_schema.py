"""The store's schema at its current version, as SQLAlchemy Core tables.

This module describes the tables as they are after every step of
:mod:`toolbox.store._migrations`; those steps, not this module, create them.
A component that needs more tables (the model registry) adds them here *and*
adds a migration step that creates them; ``tests/test_store_migrations.py``
checks that a database upgraded step by step matches this module.

Conventions: ids of runs are 32 hex digits (uuid4); times are seconds since
the epoch (float); a metric value of NULL is NaN (SQLite cannot store NaN,
and a NULL compares false like NaN does); ``±inf`` are stored as such.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["SCHEMA_VERSION", "metadata"]

#: The version this toolbox writes; a database at a higher version is refused.
SCHEMA_VERSION = 2

#: SQLite only makes an INTEGER PRIMARY KEY an alias of the rowid (autoincrementing).
_BIGID = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

schema_version = Table(
    "toolbox_schema", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)

experiments = Table(
    "experiments", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_at", Double, nullable=False),
)

runs = Table(
    "runs", metadata,
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
    Index("ix_runs_status", "status"),
)

params = Table(
    "params", metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

tags = Table(
    "tags", metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

metrics = Table(
    "metrics", metadata,
    Column("id", _BIGID, primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("key", String(256), nullable=False),
    Column("value", Double, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Double, nullable=False),
    Index("ix_metrics_run_key_step", "run_id", "key", "step"),
)

artifacts = Table(
    "artifacts", metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Double, nullable=False),
)

# version 2: the latest value of each metric of each run, kept by every metric write
latest_metrics = Table(
    "latest_metrics", metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Double, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Double, nullable=False),
    Index("ix_latest_metrics_key_value", "key", "value"),
)
