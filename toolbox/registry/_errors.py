"""Typed registry errors; each message names the model, the version (where there is one) and the problem.

Every one is a :class:`toolbox.store.StoreError` (so ``except StoreError``
catches store and registry failures alike) and, where the caller gave a bad
value, also a ``ValueError`` (or ``KeyError`` for something that is not there).
"""

from __future__ import annotations

from ..store import NotFoundError, StoreError

__all__ = [
    "ABTestError",
    "ArtifactError",
    "DuplicateVersionError",
    "InvalidVersionError",
    "ModelNotFoundError",
    "RegistryError",
    "SignatureMismatchError",
    "StageError",
    "VersionNotFoundError",
]


class RegistryError(StoreError):
    """Base class: ``model`` and ``version`` say what it is about (``None`` where it is not one version)."""

    def __init__(self, message: str, *, model: str | None = None, version: str | None = None) -> None:
        super().__init__(message)
        self.model, self.version = model, version

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidVersionError(RegistryError, ValueError):
    """Not a semantic version or range, or a bad ``bump``."""


class DuplicateVersionError(RegistryError, ValueError):
    """The version (or one of the same precedence) is already registered under that name."""


class ModelNotFoundError(RegistryError, NotFoundError):
    """No model of that name is registered."""


class VersionNotFoundError(RegistryError, NotFoundError):
    """No such version (or nothing matches the range, or no version holds the stage or alias)."""


class StageError(RegistryError, ValueError):
    """A stage outside ``dev``, ``staging``, ``production``, ``archived``, a bad alias, or no previous holder."""


class ArtifactError(RegistryError):
    """A version's artifact is missing, changed or truncated (its sha256 does not match)."""


class SignatureMismatchError(RegistryError, ValueError):
    """Data given to ``compare`` or an A/B test does not fit a version's input signature."""


class ABTestError(RegistryError, ValueError):
    """Bad A/B weights (not summing to 1, unknown versions), unknown keys, or a concluded test."""
