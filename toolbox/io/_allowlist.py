"""What a model file may name: toolbox's estimators and a fixed list of helpers.

Loading looks every class or function name in a file up here and nowhere
else: it never imports a module a file names. Names are stable aliases, so
that moving a private class to another module keeps old files loading (edit
the table, keep the alias).
"""

from __future__ import annotations

import importlib
import types
from functools import cache
from typing import Any

import sklearn.base

__all__ = ["FAMILIES", "lookup", "name_of"]

#: toolbox's estimator families: ``toolbox.<family>.<Class>`` for every class in its ``__all__``.
FAMILIES = (
    "preprocessing", "impute", "linear_model", "discriminant_analysis", "naive_bayes", "cluster",
    "decomposition", "neighbors", "ensemble", "model_selection", "automl",
)

_HGB = "toolbox.ensemble._hist_gradient_boosting"

#: alias -> (module, attribute): scikit-learn composites whose steps are toolbox estimators.
COMPOSITES: dict[str, tuple[str, str]] = {
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline"),
    "sklearn.pipeline.FeatureUnion": ("sklearn.pipeline", "FeatureUnion"),
    "sklearn.compose.ColumnTransformer": ("sklearn.compose", "ColumnTransformer"),
    # only as ColumnTransformer's pass-through (func=None: the identity); see _encode
    "sklearn.preprocessing.FunctionTransformer": ("sklearn.preprocessing", "FunctionTransformer"),
}

#: alias -> (module, attribute): objects that fitted estimators hold.
OBJECTS: dict[str, tuple[str, str]] = {
    "toolbox.Origin": ("toolbox.backends._dispatch", "Origin"),
    "toolbox.Scorer": ("toolbox.model_selection._scoring", "_Scorer"),
    "hgb.Tree": (f"{_HGB}._tree", "Tree"),
    "hgb.Forest": (f"{_HGB}._predictor", "Forest"),
    "hgb.BinMapper": (f"{_HGB}._binning", "BinMapper"),
    "hgb.SquaredError": (f"{_HGB}._loss", "_SquaredError"),
    "hgb.AbsoluteError": (f"{_HGB}._loss", "_AbsoluteError"),
    "hgb.PinballLoss": (f"{_HGB}._loss", "_PinballLoss"),
    "hgb.PoissonLoss": (f"{_HGB}._loss", "_PoissonLoss"),
    "hgb.GammaLoss": (f"{_HGB}._loss", "_GammaLoss"),
    "hgb.BinomialLoss": (f"{_HGB}._loss", "_BinomialLoss"),
    "hgb.MultinomialLoss": (f"{_HGB}._loss", "_MultinomialLoss"),
    "sklearn.ColumnTransformer.RemainderColsList": ("sklearn.compose._column_transformer", "_RemainderColsList"),
}

#: alias -> (module, attribute): functions an estimator may hold (a search's default scorer).
FUNCTIONS: dict[str, tuple[str, str]] = {
    "toolbox.score_method": ("toolbox.model_selection._scoring", "_passthrough"),
}

#: NumPy bit generators a ``numpy.random.Generator`` in a file may use.
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _resolve(table: dict[str, tuple[str, str]], alias: str) -> Any:
    module, attr = table[alias]
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):  # a helper that this scikit-learn version does not have
        return None


@cache
def _reverse() -> dict[tuple[str, str], tuple[str, str]]:
    """(module, qualname) of every allowed class or function -> (kind, alias)."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, table in (("estimator", COMPOSITES), ("object", OBJECTS), ("function", FUNCTIONS)):
        for alias in table:
            obj = _resolve(table, alias)
            if obj is not None:
                out[(obj.__module__, obj.__qualname__)] = (kind, alias)
    return out


def name_of(obj: Any) -> tuple[str, str] | None:
    """``(kind, alias)`` of ``obj``'s class (or of the function ``obj``), or None if not allowed.

    ``kind`` is ``"estimator"``, ``"object"`` or ``"function"``.
    """
    target = obj if isinstance(obj, types.FunctionType) else type(obj)
    module = getattr(target, "__module__", "") or ""
    if target is not obj and module.startswith("toolbox."):
        family = module.split(".")[1]
        if family in FAMILIES:
            mod = importlib.import_module(f"toolbox.{family}")
            if target.__name__ in getattr(mod, "__all__", ()) and getattr(mod, target.__name__) is target:
                return "estimator", f"toolbox.{family}.{target.__name__}"
    return _reverse().get((module, getattr(target, "__qualname__", "")))


def lookup(kind: str, alias: Any) -> Any:
    """The class or function a file names as ``alias``, or None when it is not allowed.

    Only names from the tables above, and ``toolbox.<family>.<Class>`` for a
    class in a family's ``__all__`` that is a toolbox estimator, resolve.
    """
    if not isinstance(alias, str):
        return None
    if kind == "estimator":
        parts = alias.split(".")
        if len(parts) == 3 and parts[0] == "toolbox" and parts[1] in FAMILIES:
            try:
                mod = importlib.import_module(f"toolbox.{parts[1]}")
            except ImportError:  # a family this installation lacks (or whose extra is missing)
                return None
            if parts[2] in getattr(mod, "__all__", ()):
                cls = getattr(mod, parts[2])
                if isinstance(cls, type) and issubclass(cls, sklearn.base.BaseEstimator):
                    return cls
            return None
        return _resolve(COMPOSITES, alias) if alias in COMPOSITES else None
    table = {"object": OBJECTS, "function": FUNCTIONS}.get(kind)
    if table is None or alias not in table:
        return None
    return _resolve(table, alias)
