"""Which task a target asks for, and why: binary, multiclass or regression.

:func:`detect_task` looks at ``y`` where it lives (a CUDA tensor stays on its
GPU: only counts and, for classification, the few class labels reach the host)
and returns the task with a sentence that says why, e.g. ``"y has 3 distinct
integer values out of 1,500 rows"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import framework_of

__all__ = ["TASKS", "TargetInfo", "as_target_array", "detect_task"]

TASKS = ("binary", "multiclass", "regression")

#: Whole-number targets with at most this many distinct values are classes (if every class is
#: also frequent enough on average, see :func:`detect_task`).
MAX_CLASSES_AUTO = 20


@dataclass
class TargetInfo:
    """What :func:`detect_task` found.

    ``y`` is the target as an array (its own library and device; NumPy for
    pandas, lists and text labels); ``n_distinct`` the number of distinct
    values; ``classes`` the sorted labels (NumPy) for classification, else None.
    """

    task: str
    reason: str
    y: Any
    n_distinct: int
    classes: np.ndarray | None


def _n(k: int) -> str:
    return f"{k:,}"


def as_target_array(y: Any) -> Any:
    """``y`` as an array: pandas and lists become NumPy (categoricals their labels, NA as NaN/None)."""
    if y is None:
        raise ValueError("toolbox.fit needs a target y; got None.")
    module = type(y).__module__
    if module.startswith("pandas"):
        if hasattr(y, "columns"):  # a one-column DataFrame
            if y.shape[1] != 1:
                raise ValueError(f"y must be one column; got a DataFrame with {y.shape[1]} columns "
                                 "(multi-output targets are not supported by toolbox.fit).")
            y = y.iloc[:, 0]
        dtype = y.dtype
        kind = getattr(dtype, "kind", "O")
        if str(dtype) == "category":
            return np.asarray(y.astype(object).where(y.notna(), None).to_numpy(), dtype=object)
        if kind in "biuf" and isinstance(dtype, np.dtype):
            return y.to_numpy()
        if kind in "biuf":  # nullable Int64 / Float64 / boolean
            if y.isna().any():
                return y.to_numpy(dtype=np.float64, na_value=np.nan)
            return y.to_numpy(dtype=np.bool_ if kind == "b" else np.float64 if kind == "f" else np.int64)
        return np.asarray(y.astype(object).where(y.notna(), None).to_numpy(), dtype=object)
    if framework_of(y) is None:
        y = np.asarray(y)
    return y


def _check_shape(y: Any, n_rows: int | None) -> Any:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one target per row); got shape {tuple(y.shape)} "
                         "(multi-output targets are not supported by toolbox.fit).")
    if n_rows is not None and int(y.shape[0]) != n_rows:
        raise ValueError(f"X and y have different lengths: X has {_n(n_rows)} rows, y has {_n(int(y.shape[0]))}.")
    return y


def _check_missing_host(y: np.ndarray) -> None:
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y)
    elif y.dtype.kind == "O":
        bad = np.array([v is None or (isinstance(v, float) and not np.isfinite(v)) for v in y], dtype=bool)
    else:
        return
    if bad.any():
        rows = np.flatnonzero(bad)
        kind = "missing or non-finite (NaN, inf, None)"
        raise ValueError(f"y has {_n(int(rows.size))} {kind} value(s), the first at row {int(rows[0])}: "
                         "drop those rows (or impute the target) before fitting.")


def _unique_host(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind == "O":
        try:
            return np.unique(y)
        except TypeError:  # mixed types (1 and "a"): compare as text
            return np.unique(y.astype(str))
    return np.unique(y)


def detect_task(y: Any, *, task: str = "auto", n_rows: int | None = None) -> TargetInfo:
    """Decide the task from ``y`` (or check the one asked for) and say why.

    Rules, in order: booleans, text and categorical labels are classes;
    whole numbers (integers, or floats that are all whole) with at most
    :data:`MAX_CLASSES_AUTO` distinct values and at least 5 rows per value on
    average are classes; every other numeric target is a regression. Two
    classes are ``"binary"``, more ``"multiclass"``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
    task : {"auto", "binary", "multiclass", "classification", "regression"}
    n_rows : int, optional
        Rows of X, checked against ``len(y)``.

    Raises
    ------
    ValueError
        NaN, inf or missing values in ``y``; a length other than X's; a single
        distinct value; a task that ``y`` cannot be (text labels for
        ``"regression"``, three classes for ``"binary"``).
    """
    if task not in ("auto", "classification", *TASKS):
        raise ValueError(f"task must be 'auto', 'binary', 'multiclass', 'classification' or 'regression'; "
                         f"got {task!r}.")
    y = _check_shape(as_target_array(y), n_rows)
    n = int(y.shape[0])
    fw = framework_of(y)
    host = isinstance(y, np.ndarray)
    if host:
        _check_missing_host(y)
        kind = y.dtype.kind
        if kind in "USO" or kind == "b":
            uniq = _unique_host(y)
            numeric, whole = False, False
        else:
            uniq = np.unique(y)
            numeric, whole = True, bool(np.all(uniq == np.round(uniq))) if kind == "f" else True
        k = int(uniq.shape[0])
        classes_of = lambda: uniq  # noqa: E731
    else:
        xp = fw.xp
        if xp.isdtype(y.dtype, "bool"):
            kind = "b"
        elif xp.isdtype(y.dtype, "integral"):
            kind = "i"
        elif xp.isdtype(y.dtype, "real floating"):
            kind = "f"
        else:
            raise ValueError(f"y has an unsupported dtype {y.dtype}; use numbers, booleans or text labels.")
        if kind == "f":
            finite = xp.isfinite(y)
            if not bool(xp.all(finite)):
                n_bad = int(xp.sum(xp.astype(~finite, xp.int32)))
                first = int(xp.argmax(xp.astype(~finite, xp.int32)))
                raise ValueError(f"y has {_n(n_bad)} missing or non-finite (NaN, inf) value(s), the first at "
                                 f"row {first}: drop those rows (or impute the target) before fitting.")
        uniq_dev = xp.unique_values(y)
        k = int(uniq_dev.shape[0])
        numeric = kind != "b"
        whole = kind in "iu" or (kind == "f" and bool(xp.all(uniq_dev == xp.round(uniq_dev))))

        def classes_of() -> np.ndarray:  # a few labels: metadata, not data
            from ..backends import to_backend

            return np.asarray(to_backend(uniq_dev, "numpy"))
    if k < 2:
        value = classes_of()[0] if k == 1 else None
        raise ValueError(f"y has a single distinct value ({value!r}) in {_n(n)} rows: there is nothing to learn.")

    rows = f"out of {_n(n)} rows"
    if task == "regression":
        if not numeric:
            raise ValueError(f"task='regression' needs a numeric y; y holds {'booleans' if kind == 'b' else 'text labels'}.")
        return TargetInfo("regression", f"task='regression' was given (y has {_n(k)} distinct values {rows})",
                          y, k, None)
    if task in ("binary", "multiclass", "classification"):
        if numeric and not whole:
            raise ValueError(f"task={task!r} needs class labels, but y holds non-integer numbers; "
                             "use task='regression' or 'auto'.")
        if task == "binary" and k != 2:
            raise ValueError(f"task='binary' needs exactly 2 classes; y has {_n(k)} distinct values.")
        chosen = "binary" if k == 2 else "multiclass"
        return TargetInfo(chosen, f"task={task!r} was given (y has {_n(k)} classes {rows})", y, k, classes_of())

    # auto
    if kind == "b":
        return TargetInfo("binary", f"y is boolean ({rows})", y, k, classes_of())
    if not numeric:
        what = "text labels" if kind in "US" or kind == "O" else "labels"
        chosen = "binary" if k == 2 else "multiclass"
        return TargetInfo(chosen, f"y holds {what} with {_n(k)} distinct values {rows}", y, k, classes_of())
    if whole and k == 2:
        return TargetInfo("binary", f"y has 2 distinct {'integer' if kind in 'iu' else 'whole-number'} values {rows}",
                          y, k, classes_of())
    if whole and k <= MAX_CLASSES_AUTO and n >= 5 * k:
        desc = "integer" if kind in "iu" else "whole-number float"
        return TargetInfo("multiclass", f"y has {_n(k)} distinct {desc} values {rows}", y, k, classes_of())
    if whole:
        reason = (f"y has {_n(k)} distinct whole-number values {rows}: more than {MAX_CLASSES_AUTO} "
                  "(or fewer than 5 rows per value), so it is treated as a quantity; pass "
                  "task='multiclass' to treat them as classes")
    else:
        reason = f"y holds non-integer numbers ({_n(k)} distinct values {rows})"
    return TargetInfo("regression", reason, y, k, None)
