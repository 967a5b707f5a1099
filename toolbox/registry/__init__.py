"""The model registry: semantic versions, stages with rollback, lineage, search, comparison and A/B routing.

>>> import toolbox.registry as registry
>>> mv = registry.register(model, "churn", bump="minor", metrics={"auc": 0.91}, tags={"team": "risk"}, data=X)
>>> registry.promote("churn", mv.version, "production", reason="beats 1.3.0 on the holdout")
>>> model = registry.load("churn", stage="production")          # or version="^1.4", alias="champion"
>>> registry.rollback("churn", "production")
>>> registry.search("tags.team = 'risk' and metrics.auc >= 0.9 and version ~ '^1'")

Versions, stage holders, the stage event log and A/B records live in the
tracking store (``./toolbox-runs/``, ``$TOOLBOX_TRACKING_URI``, or
:func:`set_store`); artifacts are model folders of :mod:`toolbox.io`, stored
content-addressed and verified on every load. See ``docs/registry.md``. Needs
``pip install 'toolbox[tracking]'``.
"""

from __future__ import annotations

from ..tracking import FilterSyntaxError
from ._ab import ABComparison, ABReport, ABTest, ABVariant
from ._api import (
    ab_test,
    compare,
    descendants,
    fsck,
    get_registry,
    get_version,
    history,
    lineage,
    list_models,
    load,
    promote,
    register,
    remove_alias,
    rollback,
    search,
    set_alias,
    set_store,
    version_at,
    versions,
)
from ._compare import Comparison
from ._errors import (
    ABTestError,
    ArtifactError,
    DuplicateVersionError,
    InvalidVersionError,
    ModelNotFoundError,
    RegistryError,
    SignatureMismatchError,
    StageError,
    VersionNotFoundError,
)
from ._fsck import FsckReport
from ._records import STAGES, Lineage, ModelVersion, RegisteredModel, StageEvent
from ._registry import Registry, RegistryInputError
from ._semver import Range, Version

__all__ = [
    "STAGES",
    "ABComparison",
    "ABReport",
    "ABTest",
    "ABTestError",
    "ABVariant",
    "ArtifactError",
    "Comparison",
    "DuplicateVersionError",
    "FilterSyntaxError",
    "FsckReport",
    "InvalidVersionError",
    "Lineage",
    "ModelNotFoundError",
    "ModelVersion",
    "Range",
    "RegisteredModel",
    "Registry",
    "RegistryError",
    "RegistryInputError",
    "SignatureMismatchError",
    "StageError",
    "StageEvent",
    "Version",
    "VersionNotFoundError",
    "ab_test",
    "compare",
    "descendants",
    "fsck",
    "get_registry",
    "get_version",
    "history",
    "lineage",
    "list_models",
    "load",
    "promote",
    "register",
    "remove_alias",
    "rollback",
    "search",
    "set_alias",
    "set_store",
    "version_at",
    "versions",
]
