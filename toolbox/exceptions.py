"""Exceptions and warnings raised by toolbox (layer 0).

``NotFittedError`` and ``ConvergenceWarning`` are scikit-learn's own classes,
re-exported (lazily, so this module imports only the standard library), so
code that catches scikit-learn's exceptions catches toolbox's too.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BackendNotAvailableError",
    "ConvergenceWarning",  # noqa: F822 (lazy, see __getattr__)
    "IllConditionedWarning",
    "ModelFileError",
    "NotFittedError",  # noqa: F822 (lazy, see __getattr__)
    "NotPersistableError",
]


class BackendNotAvailableError(ImportError):
    """A backend's framework is not installed; the message names the pip install."""


class IllConditionedWarning(UserWarning):
    """A linear system was too ill-conditioned for Cholesky; a stable fallback was used."""


class ModelFileError(ValueError):
    """A model file cannot be loaded: changed, truncated, foreign, or from a newer toolbox.

    The message names the file and what is wrong with it; ``path`` is the file
    (or model directory) concerned.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class NotPersistableError(TypeError):
    """An object cannot be written as a toolbox model file (a callable, a foreign class...).

    The message names where in the object the problem is (``Pipeline.steps[1]``, ``func``).
    """


def __getattr__(name: str) -> Any:
    if name in ("NotFittedError", "ConvergenceWarning"):
        import sklearn.exceptions

        return getattr(sklearn.exceptions, name)
    raise AttributeError(f"module 'toolbox.exceptions' has no attribute {name!r}")
