"""Column types of what the user passed, and the encoder that turns it into one numeric matrix.

:class:`TableEncoder` is the first step of every pipeline :func:`toolbox.fit`
returns. At ``fit`` it decides what each column is:

* **numeric** — kept (NaN marks missing values);
* **categorical** — pandas ``category`` / ``object`` / ``string`` / ``bool``
  columns, or those named in ``categorical_features``: encoded as integer
  codes ``0..k-1`` (NaN for missing and for categories unseen at ``fit``);
* **date** — ``datetime64`` columns: year, month, day, day of week, hour
  (when times vary) and a day ordinal;
* **dropped** — constant columns, ID-like columns (every value distinct: text,
  or integers that are monotonic or named like an id) and free text, each with
  its reason in :attr:`TableEncoder.dropped_`.

The output puts the categorical codes first, then numeric columns, then the
date parts, in the library and on the device of the input (NumPy for pandas),
so later steps know which columns are codes without looking again. Learning
categories needs no target: it is label-free, which is why the encoder can be
fitted on all rows; everything that looks at ``y`` is fitted on training folds
only (see :mod:`toolbox.automl._preprocess`).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np

from ..backends import float_dtype, framework_of, to_backend
from ..base import BaseEstimator, TransformerMixin, check_is_fitted

__all__ = ["TableEncoder", "is_frame"]

#: Minimum rows before an all-distinct column counts as an ID.
_ID_MIN_ROWS = 20
_ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key|index)$|^(id|uuid|guid)[_\s.-]", re.IGNORECASE)


def is_frame(X: Any) -> bool:
    return type(X).__module__.startswith("pandas") and hasattr(X, "columns")


def _as_frame(X: Any) -> Any:
    """NumPy object / string arrays become a DataFrame (columns ``x0..``); pandas stays as is."""
    import pandas as pd

    if is_frame(X):
        return X
    if type(X).__module__.startswith("pandas"):  # a Series
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D (rows x columns); got shape {arr.shape}.")
    return pd.DataFrame({f"x{j}": arr[:, j] for j in range(arr.shape[1])})


def _column_names(X: Any, d: int) -> list[str]:
    if is_frame(X):
        return [str(c) for c in X.columns]
    return [f"x{j}" for j in range(d)]


def _selected(categorical_features: Any, names: list[str]) -> set[int]:
    """Indices named by ``categorical_features`` (names, indices or a boolean mask)."""
    cf = categorical_features
    if cf is None or (isinstance(cf, str) and cf == "auto"):
        return set()
    arr = np.asarray(cf)
    if arr.ndim != 1:
        raise ValueError(f"categorical_features must be 'auto', None, a list of column names or indices, or a "
                         f"boolean mask; got {cf!r}.")
    if arr.size == 0:
        return set()
    d = len(names)
    if arr.dtype.kind == "b":
        if arr.shape[0] != d:
            raise ValueError(f"categorical_features as a boolean mask needs {d} entries; got {arr.shape[0]}.")
        return set(np.flatnonzero(arr).tolist())
    if arr.dtype.kind in "iu":
        bad = [int(i) for i in arr if not -d <= int(i) < d]
        if bad:
            raise ValueError(f"categorical_features indices {bad} are out of range for X with {d} columns.")
        return {int(i) % d for i in arr}
    lookup = {n: j for j, n in enumerate(names)}
    unknown = [str(c) for c in arr.tolist() if str(c) not in lookup]
    if unknown:
        raise ValueError(f"categorical_features names {unknown} are not columns of X.")
    return {lookup[str(c)] for c in arr.tolist()}


def _is_text(values: Any) -> bool:
    """Free text: long strings with several words, mostly distinct."""
    sample = values[:2000]
    strs = [v for v in sample if isinstance(v, str)]
    if len(strs) < max(1, len(sample) // 2):
        return False
    lengths = np.fromiter((len(s) for s in strs), dtype=np.int64)
    words = np.fromiter((len(s.split()) for s in strs), dtype=np.int64)
    distinct = len(set(strs)) / len(strs)
    return bool(distinct > 0.5 and (np.mean(words) >= 4 or np.mean(lengths) >= 40))


def _date_parts(s: Any, with_hour: bool | None = None) -> tuple[list[str], Any]:
    """(parts, float matrix) of a datetime Series: year, month, day, weekday, [hour], ordinal (days).

    ``with_hour=None`` adds the hour when the times of day vary.
    """
    import pandas as pd

    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    dt = s.dt
    parts = {"year": dt.year, "month": dt.month, "day": dt.day, "weekday": dt.day_of_week}
    if with_hour is None:
        with_hour = bool(((dt.hour + dt.minute + dt.second)[s.notna()] != 0).any())
    if with_hour:
        parts["hour"] = dt.hour + dt.minute / 60.0
    ordinal = (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    parts["ordinal"] = ordinal
    cols = [np.asarray(v.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64) for v in parts.values()]
    return list(parts), np.stack(cols, axis=1)


def _object_values(s: Any) -> tuple[np.ndarray, np.ndarray]:
    """(values as an object array with missing as None, missing mask) of a Series."""
    missing = s.isna().to_numpy()
    vals = s.astype(object).to_numpy()
    return vals, missing


def _label(v: Any) -> Any:
    """A category as stored: Python scalars; anything else as text."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    return str(v)


class TableEncoder(TransformerMixin, BaseEstimator):
    """Turn a DataFrame or array of mixed columns into one numeric matrix (see the module docstring).

    Parameters
    ----------
    categorical_features : "auto", None, list of names or indices, or boolean mask, default="auto"
        Columns to treat as categorical besides those whose dtype says so
        (pandas ``category`` / ``object`` / ``string`` / ``bool``).

    Attributes
    ----------
    columns_ : list of dict
        One per input column: ``name``, ``kind`` (``"numeric"``,
        ``"categorical"``, ``"date"`` or ``"dropped"``), and ``categories``
        (categorical), ``parts`` (date) or ``reason`` (dropped).
    dropped_ : list of dict
        ``{"name", "reason"}`` of every dropped column.
    n_categorical_ : int
        The first ``n_categorical_`` output columns are category codes.
    cardinalities_ : list of int
        Number of categories of each code column.
    output_names_ : list of str
    groups_ : list of int
        For each output column, the index of the input column it comes from.
    """

    def __init__(self, categorical_features: Any = "auto") -> None:
        self.categorical_features = categorical_features

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> TableEncoder:
        """Decide each column's kind and learn the categories of the categorical ones."""
        host = is_frame(X) or framework_of(X) is None or (isinstance(X, np.ndarray) and X.dtype.kind not in "biuf")
        if type(X).__module__.startswith("scipy.sparse") or hasattr(X, "tocsr"):
            raise TypeError("toolbox.fit needs dense X; sparse matrices are not supported (use X.toarray()).")
        self.input_kind_ = "frame" if host else "array"
        if host:
            self._fit_frame(_as_frame(X))
        else:
            self._fit_array(X)
        order = ([c for c in self.columns_ if c["kind"] == "categorical"]
                 + [c for c in self.columns_ if c["kind"] == "numeric"]
                 + [c for c in self.columns_ if c["kind"] == "date"])
        names, groups, cards = [], [], []
        for c in order:
            if c["kind"] == "date":
                names += [f"{c['name']}.{p}" for p in c["parts"]]
                groups += [c["index"]] * len(c["parts"])
            else:
                names.append(c["name"])
                groups.append(c["index"])
            if c["kind"] == "categorical":
                cards.append(len(c["categories"]))
        self.output_names_ = names
        self.groups_ = groups
        self.n_categorical_ = len(cards)
        self.cardinalities_ = cards
        self.dropped_ = [{"name": c["name"], "reason": c["reason"]} for c in self.columns_ if c["kind"] == "dropped"]
        texts = [c["name"] for c in self.columns_ if c["kind"] == "dropped" and c["reason"].startswith("free text")]
        if texts:
            warnings.warn(f"toolbox.fit drops free-text column(s) {texts}: text features are not supported yet.",
                          UserWarning, stacklevel=3)
        if not names:
            raise ValueError("No usable column is left in X: "
                             + "; ".join(f"{c['name']!r} {c['reason']}" for c in self.columns_) + ".")
        return self

    def _fit_frame(self, df: Any) -> None:
        import pandas as pd

        n = len(df)
        self.n_features_in_ = int(df.shape[1])
        self.feature_names_in_ = np.asarray([str(c) for c in df.columns], dtype=object)
        chosen = _selected(self.categorical_features, [str(c) for c in df.columns])
        cols: list[dict] = []
        bad: list[str] = []
        for j, name in enumerate(df.columns):
            s = df.iloc[:, j]
            dtype = s.dtype
            entry: dict[str, Any] = {"name": str(name), "index": j}
            kind = getattr(dtype, "kind", "O")
            if kind == "c":
                bad.append(f"{name!r} ({dtype})")
                continue
            try:
                nunique = int(s.nunique(dropna=True))
            except TypeError:  # unhashable values (lists, dicts)
                types = sorted({type(v).__name__ for v in s.dropna().iloc[:1000]})
                bad.append(f"{name!r} (objects of type {', '.join(types)})")
                continue
            if nunique <= 1:
                entry.update(kind="dropped", reason=("constant" if nunique == 1 else "empty (all values missing)"))
            elif pd.api.types.is_datetime64_any_dtype(dtype):
                entry.update(kind="date", parts=_date_parts(s)[0])
            elif pd.api.types.is_timedelta64_dtype(dtype):
                entry.update(kind="numeric", timedelta=True)
            elif isinstance(dtype, pd.CategoricalDtype) or kind == "b" or str(dtype) == "boolean" or j in chosen:
                cats = [_label(v) for v in (dtype.categories if isinstance(dtype, pd.CategoricalDtype)
                                            else pd.unique(s.dropna()))]
                try:
                    cats = sorted(cats) if not isinstance(dtype, pd.CategoricalDtype) else cats
                except TypeError:
                    cats = sorted(cats, key=str)
                if isinstance(dtype, pd.CategoricalDtype):
                    seen = set(_label(v) for v in pd.unique(s.dropna()))
                    cats = [c for c in cats if c in seen]
                entry.update(kind="categorical", categories=cats)
            elif kind in "iuf" or pd.api.types.is_numeric_dtype(dtype):
                if kind == "c":
                    bad.append(f"{name!r} ({dtype})")
                    continue
                whole = kind in "iu" or str(dtype).startswith(("Int", "UInt"))
                if whole and n >= _ID_MIN_ROWS and nunique == int(s.notna().sum()) and (
                        s.is_monotonic_increasing or s.is_monotonic_decreasing or _ID_NAME.search(str(name))):
                    entry.update(kind="dropped", reason="ID-like (every value distinct)")
                else:
                    entry.update(kind="numeric")
            elif kind == "O" or pd.api.types.is_string_dtype(dtype):
                vals, missing = _object_values(s)
                present = vals[~missing]
                types = {type(v) for v in present[:5000]}
                if any(t in (list, dict, tuple, set, bytes) for t in types):
                    bad.append(f"{name!r} (objects of type {sorted(t.__name__ for t in types)})")
                    continue
                if _is_text(present):
                    entry.update(kind="dropped", reason="free text (dropped: text features are not supported)")
                elif n >= _ID_MIN_ROWS and nunique == present.shape[0]:
                    entry.update(kind="dropped", reason="ID-like (every value distinct)")
                else:
                    labels = [_label(v) for v in pd.unique(present)]
                    try:
                        cats = sorted(labels)
                    except TypeError:
                        cats = sorted({str(v) for v in labels})
                        entry["as_text"] = True
                    entry.update(kind="categorical", categories=cats)
            else:
                bad.append(f"{name!r} ({dtype})")
                continue
            cols.append(entry)
        if bad:
            raise TypeError(f"toolbox.fit cannot use column(s) {', '.join(bad)}: supported are numbers, booleans, "
                            "categories, text labels and dates.")
        self.columns_ = cols

    def _fit_array(self, X: Any) -> None:
        fw = framework_of(X)
        xp = fw.xp
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (rows x columns); got shape {tuple(X.shape)}.")
        n, d = int(X.shape[0]), int(X.shape[1])
        if n == 0 or d == 0:
            raise ValueError(f"X is empty (shape {tuple(X.shape)}).")
        if xp.isdtype(X.dtype, "complex floating"):
            raise TypeError(f"toolbox.fit cannot use complex data (X has dtype {X.dtype}).")
        self.n_features_in_ = d
        names = _column_names(X, d)
        chosen = _selected(self.categorical_features, names)
        Xf = xp.astype(X, float_dtype(X, xp=xp, device=fw.device_of(X)))
        nan = xp.isnan(Xf)
        if bool(xp.any(xp.isinf(Xf))):
            raise ValueError("X contains infinite values; NaN marks missing values, but infinity is not allowed.")
        lo = xp.min(xp.where(nan, xp.asarray(float("inf"), dtype=Xf.dtype, device=Xf.device), Xf), axis=0)
        hi = xp.max(xp.where(nan, xp.asarray(-float("inf"), dtype=Xf.dtype, device=Xf.device), Xf), axis=0)
        const = np.asarray(to_backend(xp.astype(~(hi > lo), xp.int8), "numpy")).astype(bool)  # d flags
        allnan = np.asarray(to_backend(xp.astype(lo > hi, xp.int8), "numpy")).astype(bool)
        cols: list[dict] = []
        for j in range(d):
            entry: dict[str, Any] = {"name": names[j], "index": j}
            if const[j]:
                entry.update(kind="dropped", reason="empty (all values missing)" if allnan[j] else "constant")
            elif j in chosen:
                col = Xf[:, j]
                col = col[~xp.isnan(col)]
                cats = np.asarray(to_backend(xp.unique_values(col), "numpy")).tolist()  # k labels: metadata
                entry.update(kind="categorical", categories=[float(c) for c in cats])
            else:
                entry.update(kind="numeric")
            cols.append(entry)
        self.columns_ = cols

    # ------------------------------------------------------------ transform
    def transform(self, X: Any) -> Any:
        """The numeric matrix: codes of categorical columns, then numeric columns, then date parts."""
        check_is_fitted(self, "columns_")
        if self.input_kind_ == "frame":
            return self._transform_frame(X)
        if framework_of(X) is None or is_frame(X):
            raise TypeError("This model was fitted on an array; predict on an array of the same kind "
                            f"(got {type(X).__module__}.{type(X).__name__}).")
        return self._transform_array(X)

    def _transform_frame(self, X: Any) -> np.ndarray:
        import pandas as pd

        if not is_frame(X) and framework_of(X) is not None and not (isinstance(X, np.ndarray) and X.dtype.kind == "O"):
            X = np.asarray(to_backend(X, "numpy"))
        df = _as_frame(X)
        if df.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {df.shape[1]} columns, but the model was fitted on {self.n_features_in_}.")
        names = [str(c) for c in df.columns]
        fitted = list(self.feature_names_in_)
        if is_frame(X) and names != fitted and not all(n.startswith("x") for n in fitted):
            missing = [n for n in fitted if n not in names]
            raise ValueError(f"X's columns differ from those seen at fit (missing: {missing[:5]}).")
        n = len(df)
        out_cat, out_num, out_date = [], [], []
        for c in self.columns_:
            kind = c["kind"]
            if kind == "dropped":
                continue
            s = df.iloc[:, c["index"]]
            if kind == "categorical":
                cats = c["categories"]
                if c.get("as_text"):
                    vals = s.astype(object).where(s.notna(), None)
                    s = vals.map(lambda v: None if v is None else str(v))
                elif isinstance(s.dtype, pd.CategoricalDtype):
                    s = s.astype(object)
                index = pd.Index(cats, dtype=object)
                s = s.astype(object).where(s.isin(index))  # unseen categories: missing
                codes = pd.Categorical(s, categories=index).codes.astype(np.float64)
                codes[codes < 0] = np.nan
                out_cat.append(codes[:, None])
            elif kind == "numeric":
                if c.get("timedelta"):
                    v = (s / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64, na_value=np.nan)
                else:
                    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                out_num.append(v[:, None])
            else:
                s = pd.to_datetime(s, errors="coerce")
                out_date.append(_date_parts(s, with_hour="hour" in c["parts"])[1])
        blocks = out_cat + out_num + out_date
        M = np.concatenate(blocks, axis=1) if blocks else np.empty((n, 0))
        if np.isinf(M).any():
            raise ValueError("X contains infinite values; NaN marks missing values, but infinity is not allowed.")
        return M

    def _transform_array(self, X: Any) -> Any:
        fw = framework_of(X)
        xp = fw.xp
        if X.ndim != 2 or int(X.shape[1]) != self.n_features_in_:
            raise ValueError(f"X has shape {tuple(X.shape)}, but the model was fitted on {self.n_features_in_} "
                             "columns.")
        device = fw.device_of(X)
        Xf = xp.astype(X, float_dtype(X, xp=xp, device=device))
        cat = [c for c in self.columns_ if c["kind"] == "categorical"]
        num = [c["index"] for c in self.columns_ if c["kind"] == "numeric"]
        blocks = []
        for c in cat:  # one column per categorical feature: a handful, not a loop over data
            col = Xf[:, c["index"]]
            cats = xp.asarray(np.asarray(c["categories"], dtype=np.float64), dtype=Xf.dtype, device=device)
            pos = xp.searchsorted(cats, xp.where(xp.isnan(col), cats[0], col))
            pos = xp.minimum(pos, xp.asarray(int(cats.shape[0]) - 1, dtype=pos.dtype, device=device))
            found = (xp.take(cats, pos) == col)
            blocks.append(xp.where(found, xp.astype(pos, Xf.dtype),
                                   xp.asarray(float("nan"), dtype=Xf.dtype, device=device))[:, None])
        if num:
            from ._preprocess import as_index

            idx = as_index(num, xp, device)
            blocks.append(xp.take(Xf, idx, axis=1))
        if len(blocks) == 1:
            out = blocks[0]
        else:
            out = xp.concat(blocks, axis=1)
        if bool(xp.any(xp.isinf(out))):
            raise ValueError("X contains infinite values; NaN marks missing values, but infinity is not allowed.")
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (date parts as ``column.part``)."""
        check_is_fitted(self, "columns_")
        return np.asarray(self.output_names_, dtype=object)
