"""Plain records returned by registry reads: models, versions, stage events, lineage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["STAGES", "Lineage", "ModelVersion", "RegisteredModel", "StageEvent"]

#: The lifecycle stages, in order; each is held by at most one version of a model at a time.
STAGES = ("dev", "staging", "production", "archived")


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model, with its metadata and lineage.

    ``signature`` holds ``n_features``, ``feature_names``, ``dtype`` and
    ``classes`` (``None`` where the model has none); ``sha256`` is the digest
    of the artifact's manifest, which lists the sha256 of every file of the
    model folder; ``parents`` are ``(name, version, relation)``.
    """

    name: str
    version: str
    description: str | None
    estimator: str | None
    signature: dict[str, Any]
    params: dict[str, Any]
    tags: dict[str, str]
    metrics: dict[str, float]
    stage: str | None
    aliases: tuple[str, ...]
    sha256: str
    size: int
    toolbox_version: str
    backend: str | None
    device: str | None
    dtype: str | None
    run_id: str | None
    data_fingerprint: str | None
    code_version: str | None
    parents: tuple[tuple[str, str, str], ...]
    created_by: str
    created_at: float
    id: int = field(default=0, repr=False, compare=False)

    @property
    def ref(self) -> str:
        """``name:version``."""
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class RegisteredModel:
    """A model name: its latest version, number of versions, stage holders and aliases."""

    name: str
    description: str | None
    created_at: float
    updated_at: float
    n_versions: int
    latest: str | None
    stages: dict[str, str]
    aliases: dict[str, str]


@dataclass(frozen=True)
class StageEvent:
    """One change of a stage or alias holder (append-only): ``from_version`` → ``to_version``.

    ``action`` is ``promote`` (by :func:`promote`), ``rollback``, ``vacate``
    (the holder moved to another stage), ``alias`` or ``unalias``; a version of
    ``None`` means the slot was empty before (or after).
    """

    id: int
    name: str
    kind: str
    slot: str
    action: str
    from_version: str | None
    to_version: str | None
    actor: str
    at: float
    reason: str | None


@dataclass(frozen=True)
class Lineage:
    """Where a version came from (``upstream``) or what came from it (``descendants``).

    ``versions`` are ``(name, version, relation, depth)``: depth 1 for direct
    parents or children; ``run_id``, ``data_fingerprint`` and
    ``code_version`` are those of the version asked about; ``run`` is the
    tracking record of that run when the store still has it.
    """

    name: str
    version: str
    direction: str
    versions: tuple[tuple[str, str, str, int], ...]
    run_id: str | None
    data_fingerprint: str | None
    code_version: str | None
    run: Any = None
