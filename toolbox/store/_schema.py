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
    UniqueConstraint,
)

__all__ = ["SCHEMA_VERSION", "metadata"]

#: The version this toolbox writes; a database at a higher version is refused.
SCHEMA_VERSION = 3

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

# version 3: the model registry (toolbox.registry). Versions are semantic; ``sort_key`` encodes a
# version's precedence (semver 2.0.0) so that comparing keys as bytes compares versions (collation
# "C" on PostgreSQL). ``registry_holders`` has one row per (model, stage or alias): at most one holder
# is a primary key, not a convention. ``registry_events`` is the append-only log of holder changes.
_SORT_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")

registry_models = Table(
    "registry_models", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
)

registry_versions = Table(
    "registry_versions", metadata,
    Column("id", _BIGID, primary_key=True),
    Column("model_id", Integer, ForeignKey("registry_models.id"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("version", String(128), nullable=False),
    Column("sort_key", _SORT_KEY, nullable=False),
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

registry_version_tags = Table(
    "registry_version_tags", metadata,
    Column("version_id", _BIGID, ForeignKey("registry_versions.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", String(1000), nullable=False),
    Index("ix_registry_version_tags_key_value", "key", "value"),
)

registry_version_metrics = Table(
    "registry_version_metrics", metadata,
    Column("version_id", _BIGID, ForeignKey("registry_versions.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Double, nullable=True),
    Index("ix_registry_version_metrics_key_value", "key", "value"),
)

registry_lineage = Table(
    "registry_lineage", metadata,
    Column("child_id", _BIGID, ForeignKey("registry_versions.id"), primary_key=True),
    Column("parent_id", _BIGID, ForeignKey("registry_versions.id"), primary_key=True),
    Column("relation", String(64), nullable=False),
    Index("ix_registry_lineage_parent", "parent_id"),
)

registry_holders = Table(
    "registry_holders", metadata,
    Column("model_id", Integer, ForeignKey("registry_models.id"), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("slot", String(256), primary_key=True),
    Column("version_id", _BIGID, ForeignKey("registry_versions.id"), nullable=False),
    Column("since", Double, nullable=False),
    Index("ix_registry_holders_version", "version_id"),
    Index("ix_registry_holders_kind_slot", "kind", "slot"),
)

registry_events = Table(
    "registry_events", metadata,
    Column("id", _BIGID, primary_key=True),
    Column("model_id", Integer, ForeignKey("registry_models.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("slot", String(256), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_version_id", _BIGID, ForeignKey("registry_versions.id"), nullable=True),
    Column("to_version_id", _BIGID, ForeignKey("registry_versions.id"), nullable=True),
    Column("actor", String(256), nullable=False),
    Column("at", Double, nullable=False),
    Column("reason", Text, nullable=True),
    Index("ix_registry_events_slot", "model_id", "kind", "slot", "id"),
)

registry_ab_tests = Table(
    "registry_ab_tests", metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("registry_models.id"), nullable=False),
    Column("label", String(256), nullable=False),
    Column("key_name", String(256), nullable=False),
    Column("weights", Text, nullable=False),
    Column("shadow_version_id", _BIGID, ForeignKey("registry_versions.id"), nullable=True),
    Column("metric", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("winner_version_id", _BIGID, ForeignKey("registry_versions.id"), nullable=True),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    UniqueConstraint("model_id", "label", name="uq_registry_ab_tests_model_label"),
)

registry_ab_records = Table(
    "registry_ab_records", metadata,
    Column("test_id", Integer, ForeignKey("registry_ab_tests.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("variant_id", _BIGID, ForeignKey("registry_versions.id"), nullable=False),
    Column("prediction", Text, nullable=True),
    Column("shadow_prediction", Text, nullable=True),
    Column("score", Double, nullable=True),
    Column("shadow_score", Double, nullable=True),
    Column("predicted_at", Double, nullable=False),
    Column("outcome_at", Double, nullable=True),
    Index("ix_registry_ab_records_variant", "test_id", "variant_id"),
)
