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
    "NotFittedError",  # noqa: F822 (lazy, see __getattr__)
]


class BackendNotAvailableError(ImportError):
    """A backend's framework is not installed; the message names the pip install."""


class IllConditionedWarning(UserWarning):
    """A linear system was too ill-conditioned for Cholesky; a stable fallback was used."""


def __getattr__(name: str) -> Any:
    if name in ("NotFittedError", "ConvergenceWarning"):
        import sklearn.exceptions

        return getattr(sklearn.exceptions, name)
    raise AttributeError(f"module 'toolbox.exceptions' has no attribute {name!r}")
