"""One-hot encoding of categorical features."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_feature_names_in

from ..backends import (
    Compute,
    Origin,
    framework_of,
    get_framework,
    namespace_kind,
    origin_of,
    resolve,
    to_backend,
)
from ..backends._convert import as_host_array
from ..backends._sparse import is_sparse, sparse_kind
from ..backends.primitives import bincount, smallest_k
from ..base import (
    BaseEstimator,
    TransformerMixin,
    _check_feature_names,
    _check_no_inf,
    _to_compute,
    check_array,
    check_is_fitted,
)

__all__ = ["OneHotEncoder"]

#: the name scikit-learn gives the group of infrequent categories (feature names, inverse_transform)
INFREQUENT = "infrequent_sklearn"


def _host_compute() -> Compute:
    fw = get_framework("numpy")
    return Compute(fw.xp, "cpu", "numpy", fw)


def _is_scalar_nan(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, numbers.Integral) and x != x


def _host(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else np.asarray(to_backend(a, "numpy"))


def _numeric(dtype: Any) -> bool:
    return np.dtype(dtype).kind in "biuf"


# --------------------------------------------------------------------------- #
# host columns (strings, objects, pandas columns): one np.unique / searchsorted per column
# --------------------------------------------------------------------------- #


def _mixed_types_error(values: np.ndarray) -> TypeError:
    types = sorted({type(v).__qualname__ for v in values.tolist()})  # error path only
    return TypeError(f"Encoders require their input argument must be uniformly strings or numbers. Got {types}")


def _object_values(values: np.ndarray) -> np.ndarray:
    """A 1-D object array holding ``values`` (a list), never split into more dimensions."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _host_unique(col: np.ndarray, *, counts: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Sorted distinct values of a host column (missing values last: None, then NaN), with counts.

    Numbers, ``str_`` and ``bytes_`` columns: one ``np.unique``. Object columns: a hash set
    (``set(column)``, NumPy's iteration in C: no comparison sort of the samples), then the few
    distinct values sorted, as scikit-learn.
    """
    if col.dtype.kind != "O":  # numbers (np.unique keeps one NaN, last), str_ or bytes_
        if counts:
            return np.unique(col, return_counts=True)
        return np.unique(col), None
    try:
        distinct = set(col)
    except TypeError:
        raise _mixed_types_error(col) from None
    has_none = None in distinct
    has_nan = any(_is_scalar_nan(v) for v in distinct)  # over the distinct values only
    rest = [v for v in distinct if v is not None and not _is_scalar_nan(v)]
    try:
        uniq = sorted(rest)
    except TypeError:
        raise _mixed_types_error(col) from None
    uniq += [None] * has_none + [np.nan] * has_nan
    cats = _object_values(uniq)
    if not counts:
        return cats, None
    codes = _host_codes(col, cats)
    return cats, np.bincount(codes[codes >= 0], minlength=cats.shape[0]).astype(np.int64)


def _host_codes(col: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Index in ``cats`` of every value of ``col`` (int64), -1 for values not in ``cats``.

    Numbers: a ``searchsorted``; ``str_`` / ``bytes_`` against the same kind: a ``searchsorted``;
    objects: a hash lookup (``dict.get`` mapped over the column in C), then NaN among the values
    not found.
    """
    n = col.shape[0]
    if cats.shape[0] == 0:
        return np.full(n, -1, dtype=np.int64)
    if col.dtype.kind in "biuf" and cats.dtype.kind in "biuf":
        return _numeric_codes(col, cats, xp=np)
    if col.dtype.kind == cats.dtype.kind and col.dtype.kind in "US":  # no missing values in str_/bytes_
        return _sorted_lookup(col, cats, np.arange(cats.shape[0]))
    col_o = col.astype(object, copy=False)
    cats_o = cats.astype(object, copy=False)
    c_nan = np.asarray(cats_o != cats_o, dtype=bool)
    table = {v: i for v, i, nan in zip(cats_o.tolist(), range(cats_o.shape[0]), c_nan.tolist()) if not nan}
    try:
        found = np.frompyfunc(table.get, 1, 1)(col_o)  # None: not a category
    except TypeError:  # an unhashable value: not a category either
        found = np.frompyfunc(lambda v: table.get(v) if getattr(v, "__hash__", None) else None, 1, 1)(col_o)
    miss = np.equal(found, None)
    codes = np.where(miss, -1, found).astype(np.int64)
    if c_nan.any() and miss.any():
        where = np.flatnonzero(miss)
        sub = col_o[where]
        try:
            is_nan = np.asarray(sub != sub, dtype=bool)
        except TypeError:  # e.g. pandas' NA among the values: only the values not found are looked at
            is_nan = np.array([_is_scalar_nan(v) for v in sub.tolist()], dtype=bool)
        codes[where[is_nan]] = int(np.flatnonzero(c_nan)[0])
    return codes


def _sorted_lookup(values: np.ndarray, cats: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``index[position of v in cats]`` for each value (``cats`` distinct, in any order), else -1."""
    order = np.argsort(cats, kind="stable")
    sc = cats[order]
    pos = np.clip(np.searchsorted(sc, values), 0, sc.shape[0] - 1)
    hit = np.asarray(sc[pos] == values, dtype=bool)
    return np.where(hit, index[order[pos]], -1).astype(np.int64)


# --------------------------------------------------------------------------- #
# numeric arrays on any backend
# --------------------------------------------------------------------------- #


def _column_uniques(X: Any, *, xp: Any) -> list[Any]:
    """Sorted distinct values of each column of ``X`` (n, d), NaN once and last: a list of d 1-D arrays.

    One sort along axis 0, a comparison of neighbours, and the first
    ``max_k`` "new value" positions of each column (``smallest_k`` over
    static shapes); the per-column counts are the only host round trip.
    """
    n, d = X.shape
    if namespace_kind(xp) == "numpy":
        return [np.unique(X[:, j]) for j in range(d)]  # NaNs collapse into one, last
    if X.dtype in (getattr(xp, "uint16", None), getattr(xp, "uint32", None), getattr(xp, "uint64", None)) \
            and namespace_kind(xp) == "torch":
        # torch's CPU gather/scatter kernels have no uint16-64 versions: these (rare) columns are
        # sorted on the host (a counted transfer) and the categories moved back
        host = [np.unique(np.asarray(to_backend(X[:, j], "numpy"))) for j in range(d)]
        return [xp.asarray(to_backend(c, "torch", X.device)) for c in host]
    S = xp.sort(X, axis=0)  # NaN sorts last
    first = xp.ones((1, d), dtype=xp.bool, device=S.device)
    if n > 1:
        diff = S[1:, ...] != S[:-1, ...]
        if xp.isdtype(S.dtype, "real floating"):
            diff = diff & ~(xp.isnan(S[1:, ...]) & xp.isnan(S[:-1, ...]))
        new = xp.concat([first, diff], axis=0)
    else:
        new = first
    counts = [int(c) for c in np.asarray(to_backend(xp.sum(xp.astype(new, xp.int32), axis=0), "numpy"))]
    max_k = max(counts)
    rows = xp.arange(n, device=S.device)[:, None]
    key = xp.where(new, rows, xp.full_like(rows, n))  # (n, d): the row of each new value, else n
    first_rows, _ = smallest_k(key.T, max_k, xp=xp)  # (d, max_k): rows of the distinct values, ascending
    P = xp.take_along_axis(S.T, xp.clip(first_rows, 0, n - 1), axis=1)  # (d, max_k), padded
    return [P[j, :counts[j]] for j in range(d)]


def _common_dtype(a: Any, b: Any, *, xp: Any) -> Any:
    if a == b:
        return a
    a_float, b_float = xp.isdtype(a, "real floating"), xp.isdtype(b, "real floating")
    if a_float != b_float:  # the standard does not promote integers with floats
        return a if a_float else b
    return xp.result_type(a, b)


def _int_dtype(xp: Any, device: Any) -> Any:
    """The namespace's default integer dtype (int32 on JAX without x64)."""
    return xp.__array_namespace_info__().default_dtypes(device=device)["integral"]


def _dev_ints(a: Any, compute: Compute) -> Any:
    """A host integer array on ``compute``'s device, in its default integer dtype."""
    xp = compute.xp
    itype = _int_dtype(xp, compute.device)
    return xp.asarray(np.asarray(a).astype(np.int32 if itype == xp.int32 else np.int64), device=compute.device)


def _numeric_codes(col: Any, cats: Any, *, xp: Any) -> Any:
    """Index in sorted numeric ``cats`` (a NaN category last) of each value of ``col``; -1 if absent."""
    dtype = _common_dtype(col.dtype, cats.dtype, xp=xp)
    if namespace_kind(xp) == "torch" and dtype in (xp.bool, getattr(xp, "uint16", None),
                                                   getattr(xp, "uint32", None), getattr(xp, "uint64", None)):
        # torch's searchsorted has no bool / uint16-64 kernels: these (rare) columns are looked up
        # on the host (a counted transfer) and the codes moved back
        host = _numeric_codes(_host(col), _host(cats), xp=np)
        return xp.asarray(to_backend(host, "torch", col.device))
    c = cats if cats.dtype == dtype else xp.astype(cats, dtype)
    v = col if col.dtype == dtype else xp.astype(col, dtype)
    k = int(c.shape[0])
    floating = xp.isdtype(dtype, "real floating")
    nan_last = floating and bool(xp.isnan(c[-1]))
    m = k - 1 if nan_last else k
    itype = _int_dtype(xp, v.device)
    if xp.isdtype(dtype, "integral") and k:
        lo, hi = int(c[0]), int(c[-1])
        if hi - lo < max(4 * k, 1 << 16):  # a dense range of codes: one lookup table, no search
            lut = np.full(hi - lo + 1, -1, dtype=np.int64)
            lut[_host(c).astype(np.int64) - lo] = np.arange(k)
            inside = (v >= lo) & (v <= hi)
            pos = xp.astype(xp.clip(v, lo, hi) - lo, itype) if dtype != itype else xp.clip(v, lo, hi) - lo
            table = xp.asarray(lut.astype(np.int32 if itype == getattr(xp, "int32", None) else np.int64),
                               device=v.device)
            return xp.where(inside, xp.take(table, pos, axis=0), xp.full_like(pos, -1))
    minus = xp.full(v.shape, -1, dtype=itype, device=v.device)
    if m == 0:
        codes = minus
    else:
        cs = c[:m]
        if floating:
            v_nan = xp.isnan(v)
            v = xp.where(v_nan, cs[0], v)
        with warnings.catch_warnings():  # torch: a column of X is a strided view; the copy is fine
            warnings.filterwarnings("ignore", message=".*non-contiguous.*")
            pos = xp.clip(xp.searchsorted(cs, v), 0, m - 1)
        hit = xp.take(cs, pos, axis=0) == v
        if floating:
            hit = hit & ~v_nan
        codes = xp.where(hit, xp.astype(pos, itype), minus)
    if nan_last:
        codes = xp.where(xp.isnan(col if col.dtype == dtype else xp.astype(col, dtype)),
                         xp.full_like(codes, k - 1), codes)
    return codes


@dataclass
class _Data:
    """A validated ``X``: host ``columns`` (strings, objects, pandas) or one numeric array ``Xa`` on ``compute``."""

    columns: list[np.ndarray] | None
    Xa: Any
    compute: Compute
    origin: Origin
    n_samples: int
    n_features: int


def _pandas_column(s: Any) -> np.ndarray:
    """A pandas column as a 1-D NumPy array: its own dtype, pandas' NA as NaN."""
    import pandas as pd

    dt = s.dtype
    if isinstance(dt, np.dtype):
        arr = s.to_numpy()
    elif isinstance(dt, pd.CategoricalDtype):
        arr = np.asarray(s)  # missing values become NaN
    elif getattr(dt, "kind", "O") in "biuf":  # nullable numbers
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan) if s.hasnans else s.to_numpy(dtype=dt.numpy_dtype)
    else:
        arr = s.to_numpy(dtype=object)
    if arr.dtype.kind == "O":
        na = np.asarray(pd.isna(arr), dtype=bool) & ~np.equal(arr, None)
        if na.any():  # NaN, pd.NA, NaT: missing values, as NaN (on a copy)
            arr = arr.copy()
            arr[na] = np.nan
    return arr


def _shape_errors(shape: tuple[int, ...], name: str = "X") -> None:
    if len(shape) == 1:
        raise ValueError(
            f"Expected 2D array, got 1D array instead for {name} (shape {shape}). Reshape your data either "
            "using array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it "
            "contains a single sample."
        )
    if len(shape) != 2:
        raise ValueError(f"Found array with dim {len(shape)} for {name}. OneHotEncoder expected <= 2.")
    if shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is required by "
                         "OneHotEncoder.")
    if shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is required by "
                         "OneHotEncoder.")


def _check_host_inf(col: np.ndarray, j: int) -> None:
    if col.dtype.kind == "f" and np.isinf(col).any():
        raise ValueError(f"Input X contains infinity (column {j}): NaN marks missing values here, but "
                         "infinity is not allowed.")


class OneHotEncoder(TransformerMixin, BaseEstimator):
    """Encode categorical features as a one-hot numeric array (sparse CSR by default).

    Every value gets the index of its category (one ``searchsorted`` per
    feature), infrequent categories are grouped and dropped categories removed
    with one small lookup table, and the output holds one stored 1 per encoded
    value. Numeric arrays are encoded on their own backend and device; NumPy
    string or object arrays, lists of strings and pandas DataFrames (column by
    column, keeping each column's dtype) on the host. A drop-in for
    :class:`sklearn.preprocessing.OneHotEncoder`.

    Parameters
    ----------
    categories : 'auto' or list of array-like, default='auto'
        Categories of each feature: found in the data (sorted; None and then NaN
        last), or ``categories[i]`` for feature ``i`` (numeric categories must be
        sorted, NaN only last).
    drop : {'first', 'if_binary'} or array-like of shape (n_features,), default=None
        Drop one category per feature (``'first'``), only for features with two
        (grouped) categories (``'if_binary'``), or the category ``drop[i]`` of
        feature ``i``. With infrequent categories the dropping happens after the
        grouping; dropping an infrequent category explicitly is an error.
    sparse_output : bool, default=True
        ``True``: a CSR matrix with one stored 1 per encoded value (memory
        proportional to ``n_samples * n_features``): a SciPy ``csr_matrix`` for
        NumPy, list and pandas input (``csr_array`` under scikit-learn's
        ``sparse_interface="sparray"``; int32 indices when they fit), a torch
        sparse CSR tensor on the input's device for torch input. Backends
        without a sparse format toolbox computes on (JAX, CuPy,
        array_api_strict) get a dense array on the input's device.
        ``False``: a dense array on the input's backend and device.
    dtype : number type, default=np.float64
        Dtype of the output (float32 on devices without float64).
    handle_unknown : {'error', 'ignore', 'infrequent_if_exist', 'warn'}, default='error'
        Unknown categories at transform: raise a ValueError naming the column
        and the values; encode them as all zeros (``'ignore'``); encode them as
        the infrequent category of their feature, or as all zeros where it has
        none (``'infrequent_if_exist'``); or the same with a warning (``'warn'``).
    min_frequency : int or float, default=None
        Categories seen fewer than ``min_frequency`` times (an int), or in less
        than a fraction ``min_frequency`` of the samples (a float), are
        infrequent: grouped into one output column, the last of their feature.
    max_categories : int, default=None
        At most this many output columns per feature, the infrequent group
        included (the least frequent categories are grouped; ties keep the
        smaller category frequent).
    feature_name_combiner : 'concat' or callable, default='concat'
        ``callable(input_feature, category) -> str`` for :meth:`get_feature_names_out`.

    Attributes
    ----------
    categories_ : list of arrays
        Categories of each feature; numeric ones are arrays of the fitted data's
        library and device in the dtype of ``X``, others NumPy (object for lists,
        object columns and given string categories).
    drop_idx_ : ndarray of shape (n_features,) (object) or None
        Index in ``categories_[i]`` of the dropped category of feature ``i``, or None.
    infrequent_categories_ : list of arrays or None
        Only when ``min_frequency`` or ``max_categories`` is set: the infrequent
        categories of each feature (None where there are none).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Missing values (None, NaN, pandas' NA) are categories of their own, as in
    scikit-learn. :meth:`inverse_transform` of NumPy, list, pandas or SciPy
    sparse data returns what scikit-learn returns (an object array holding None
    for unknown categories and ``'infrequent_sklearn'`` for the infrequent
    group). For data on another backend it stays there when it can: an unknown
    category of numeric categories becomes NaN; a feature with infrequent
    categories makes the result a NumPy object array.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "categories": [StrOptions({"auto"}), list],
        "drop": [StrOptions({"first", "if_binary"}), "array-like", None],
        "dtype": "no_validation",
        "handle_unknown": [StrOptions({"error", "ignore", "infrequent_if_exist", "warn"})],
        "max_categories": [Interval(Integral, 1, None, closed="left"), None],
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "sparse_output": ["boolean"],
        "feature_name_combiner": [StrOptions({"concat"}), callable],
    }

    def __init__(self, *, categories: Any = "auto", drop: Any = None, sparse_output: bool = True,
                 dtype: Any = np.float64, handle_unknown: str = "error", min_frequency: Any = None,
                 max_categories: Any = None, feature_name_combiner: Any = "concat") -> None:
        self.categories = categories
        self.drop = drop
        self.sparse_output = sparse_output
        self.dtype = dtype
        self.handle_unknown = handle_unknown
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.feature_name_combiner = feature_name_combiner

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ #
    # input
    # ------------------------------------------------------------------ #

    def _prepare(self, X: Any, *, reset: bool, host: bool = False) -> _Data:
        """Validate ``X``: host columns, or (numeric arrays, unless ``host``) one array where it computes."""
        if is_sparse(X) or hasattr(X, "tocsr"):
            raise TypeError(
                "Sparse data was passed for X, but dense data is required. Use X.toarray() to convert to a "
                "dense array."
            )
        module = type(X).__module__
        if hasattr(X, "iloc") and getattr(X, "ndim", 0) != 2 and module.startswith("pandas"):
            raise ValueError(
                f"Expected a 2-dimensional container but got {type(X)} instead. Pass a DataFrame containing a "
                "single row (i.e. single sample) or a single column (i.e. single feature) instead."
            )
        _check_feature_names(self, X, reset=reset)
        columns = arr = None
        if hasattr(X, "iloc") and module.startswith("pandas"):
            _shape_errors(tuple(X.shape))
            columns = [_pandas_column(X.iloc[:, j]) for j in range(X.shape[1])]
        else:
            fw = framework_of(X)
            if fw is None:
                arr = as_host_array(X)
                if arr.dtype.kind in "US" and not hasattr(X, "dtype"):  # lists of str: objects, as scikit-learn
                    arr = np.asarray(X, dtype=object)
            elif isinstance(X, np.ndarray):
                arr = X
            if arr is not None and arr.dtype.kind not in "biuf":
                if arr.dtype.kind == "c":
                    raise ValueError(f"Complex data not supported: X has dtype {arr.dtype}.")
                _shape_errors(tuple(arr.shape))
                columns = [arr[:, j] for j in range(arr.shape[1])]
        if columns is not None:
            for j, col in enumerate(columns):
                _check_host_inf(col, j)
            data = _Data(columns, None, _host_compute(), Origin("numpy", "cpu"), int(columns[0].shape[0]),
                         len(columns))
        else:
            src = arr if arr is not None else X
            compute, origin = resolve(src), origin_of(src)
            Xa = check_array(_to_compute(src, compute, "X"), xp=compute.xp, device=compute.device, name="X",
                             estimator=self, cast_float=False)
            if compute.xp.isdtype(Xa.dtype, "real floating"):
                _check_no_inf(Xa, xp=compute.xp, name="X")
            data = _Data(None, Xa, compute, origin, int(Xa.shape[0]), int(Xa.shape[1]))
            if host:  # categories of strings: compare on the host
                H = _host(Xa)
                data = _Data([H[:, j] for j in range(H.shape[1])], None, _host_compute(), Origin("numpy", "cpu"),
                             data.n_samples, data.n_features)
        if reset:
            self.n_features_in_ = data.n_features
        elif data.n_features != self.n_features_in_:
            raise ValueError(
                f"X has {data.n_features} features, but OneHotEncoder is expecting {self.n_features_in_} "
                "features as input."
            )
        return data

    def _out_dtype(self, compute: Compute) -> Any:
        xp = compute.xp
        try:
            name = np.dtype(self.dtype).name
        except TypeError:
            return self.dtype  # already a dtype of the namespace (e.g. torch.float32)
        if name == "float64" and not compute.framework.supports_float64(compute.device):
            name = "float32"
        return getattr(xp, name)

    def to_backend(self, name: str, device: Any = None) -> OneHotEncoder:
        """Move numeric ``categories_`` to backend ``name`` on ``device`` (string categories stay on the host)."""
        check_is_fitted(self, "categories_")
        self.categories_ = [c if isinstance(c, np.ndarray) and not _numeric(c.dtype) else to_backend(c, name, device)
                            for c in self.categories_]
        return self

    def _host_categories(self) -> list[np.ndarray]:
        return [_host(c) for c in self.categories_]

    def _all_numeric_categories(self) -> bool:
        return all(not isinstance(c, np.ndarray) or _numeric(c.dtype) for c in self.categories_)

    # ------------------------------------------------------------------ #
    # codes: the category index of every value
    # ------------------------------------------------------------------ #

    def _codes(self, data: _Data, cats: list[Any]) -> Any:
        """(n_samples, n_features) int64 category indices, -1 for unknown values (host or on ``data.compute``)."""
        if data.columns is not None:
            return np.stack([_host_codes(col, _host(c)) for col, c in zip(data.columns, cats)], axis=1)
        xp, compute = data.compute.xp, data.compute
        cols = [_numeric_codes(data.Xa[:, j], compute.asarray(c), xp=xp) for j, c in enumerate(cats)]
        return xp.stack(cols, axis=1)

    def _unknown_values(self, data: _Data, codes: Any, j: int) -> list[Any]:
        """The distinct unknown values of column ``j`` (host; only on the error path)."""
        col = data.columns[j] if data.columns is not None else _host(data.Xa[:, j])
        bad = col[_host(codes[:, j]) < 0]
        if bad.dtype.kind != "O":
            return np.unique(bad).tolist()
        try:
            uniq, _ = _host_unique(bad, counts=False)
        except TypeError:  # values of several types: each once, in a stable order
            return sorted(set(bad.tolist()), key=lambda v: (type(v).__name__, str(v)))
        return uniq.tolist()

    # ------------------------------------------------------------------ #
    # fit
    # ------------------------------------------------------------------ #

    def fit(self, X: Any, y: Any = None) -> OneHotEncoder:
        """Find the categories of each feature of ``X`` (n_samples, n_features) and their grouping."""
        self._validate_params()
        self._infrequent_enabled = (self.max_categories is not None and self.max_categories >= 1) \
            or self.min_frequency is not None
        data = self._prepare(X, reset=True)
        d = data.n_features
        if self.categories != "auto" and len(self.categories) != d:
            raise ValueError("Shape mismatch: if categories is an array, it has to be of shape (n_features,).")
        counts: list[np.ndarray] | None = None
        if self.categories == "auto":
            if data.columns is not None:
                found = [_host_unique(col, counts=self._infrequent_enabled) for col in data.columns]
                cats = [c for c, _ in found]
                counts = [cnt for _, cnt in found] if self._infrequent_enabled else None
            elif self._infrequent_enabled and namespace_kind(data.compute.xp) == "numpy":
                found = [np.unique(data.Xa[:, j], return_counts=True) for j in range(d)]  # NaN once, last
                cats = [c for c, _ in found]
                counts = [cnt.astype(np.int64) for _, cnt in found]
            else:
                cats = _column_uniques(data.Xa, xp=data.compute.xp)
        else:
            cats = [self._given_categories(i, given, data) for i, given in enumerate(self.categories)]
        if (self.categories != "auto" and self.handle_unknown == "error") or (
                self._infrequent_enabled and counts is None):
            codes = self._codes(data, cats)
            if self.categories != "auto" and self.handle_unknown == "error":
                self._raise_unknown(data, codes, when="fit")
            if self._infrequent_enabled:
                counts = self._category_counts(codes, [int(c.shape[0]) for c in cats], data.compute,
                                               host=data.columns is not None)
        self.categories_ = cats
        self._host = data.columns is not None
        if self._infrequent_enabled:
            self._fit_infrequent_category_mapping(data.n_samples, counts)
        self._set_drop_idx()
        self._n_features_outs = self._compute_n_features_outs()
        self._plan = self._build_plan()
        return self

    def _given_categories(self, i: int, given: Any, data: _Data) -> Any:
        """``categories[i]`` checked as scikit-learn checks it, in the dtype of column ``i``."""
        if data.columns is not None:
            col = data.columns[i]
            col_dtype = object if col.dtype.kind == "U" else col.dtype
            col_kind = col.dtype.kind
        else:
            col_dtype = _host(data.Xa[:1, :1]).dtype
            col_kind = col_dtype.kind
        given_host = _host(given) if framework_of(given) is not None and not isinstance(given, list) else given
        try:
            cats = np.array(given_host, dtype=col_dtype)
        except (TypeError, ValueError):
            raise ValueError(
                f"In column {i}, the predefined categories {list(given_host)} do not fit the data's dtype "
                f"{np.dtype(col_dtype)}: X is numeric, the categories are not."
            ) from None
        if cats.ndim != 1:
            raise ValueError(f"In column {i}, the predefined categories must be a 1-D list.")
        if cats.size == 0:
            raise ValueError(f"In column {i}, the predefined categories are empty.")
        if cats.dtype == object and isinstance(cats[0], bytes) and col_kind != "S":
            first = data.columns[i][0] if data.columns is not None else np.float64(0)
            raise ValueError(
                f"In column {i}, the predefined categories have type 'bytes' which is incompatible with values of "
                f"type '{type(first).__name__}'."
            )
        if cats.dtype.kind == "O":
            nan = np.asarray(cats != cats, dtype=bool)
        elif cats.dtype.kind == "f":
            nan = np.isnan(cats)
        else:
            nan = np.zeros(cats.shape, dtype=bool)
        if nan[:-1].any():
            raise ValueError(
                f"Nan should be the last element in user provided categories, see categories {cats} in column #{i}"
            )
        if cats.size != len(_host_unique(cats, counts=False)[0]):
            raise ValueError(f"In column {i}, the predefined categories contain duplicate elements.")
        if col_kind not in "OUS":
            stop = -1 if nan[-1] else None
            if np.any(np.sort(cats)[:stop] != cats[:stop]):
                raise ValueError("Unsorted categories are not supported for numerical categories")
        if data.columns is not None:
            return cats
        return data.compute.asarray(cats)

    def _raise_unknown(self, data: _Data, codes: Any, *, when: str) -> None:
        bad = self._unknown_columns(codes, data)
        if bad:
            j = bad[0]
            raise ValueError(f"Found unknown categories {self._unknown_values(data, codes, j)} in column {j} "
                             f"during {when}")

    @staticmethod
    def _unknown_columns(codes: Any, data: _Data) -> list[int]:
        if data.columns is not None:
            return np.flatnonzero((codes < 0).any(axis=0)).tolist()
        xp = data.compute.xp
        return np.flatnonzero(_host(xp.any(codes < 0, axis=0))).tolist()

    @staticmethod
    def _category_counts(codes: Any, n_cats: list[int], compute: Compute, *, host: bool) -> list[np.ndarray]:
        """How often each category occurs: one bincount over all features (its own block each)."""
        starts = np.concatenate([[0], np.cumsum(n_cats)[:-1]]).astype(np.int64)
        total = int(sum(n_cats))
        if host:
            ids = np.where(codes >= 0, codes + starts[None, :], total).reshape(-1)
            flat = np.bincount(ids, minlength=total + 1)
        else:
            xp = compute.xp
            st = _dev_ints(starts, compute)
            ids = xp.reshape(xp.where(codes >= 0, codes + st[None, :], xp.full_like(codes, total)), (-1,))
            flat = _host(bincount(ids, length=total + 1, xp=xp))
        return [flat[s:s + k].astype(np.int64) for s, k in zip(starts.tolist(), n_cats)]

    # ------------------------------------------------------------------ #
    # infrequent categories and dropped categories (per-feature metadata, on the host)
    # ------------------------------------------------------------------ #

    def _identify_infrequent(self, category_count: np.ndarray, n_samples: int) -> np.ndarray | None:
        if isinstance(self.min_frequency, numbers.Integral):
            infrequent_mask = category_count < self.min_frequency
        elif isinstance(self.min_frequency, numbers.Real):
            infrequent_mask = category_count < n_samples * self.min_frequency
        else:
            infrequent_mask = np.zeros(category_count.shape[0], dtype=bool)
        n_current_features = category_count.size - infrequent_mask.sum() + 1
        if self.max_categories is not None and self.max_categories < n_current_features:
            frequent_category_count = self.max_categories - 1  # the infrequent group is one of them
            if frequent_category_count == 0:
                infrequent_mask[:] = True
            else:  # stable: among equal counts the later categories are infrequent
                smallest_levels = np.argsort(category_count, kind="mergesort")[:-frequent_category_count]
                infrequent_mask[smallest_levels] = True
        output = np.flatnonzero(infrequent_mask)
        return output if output.size > 0 else None

    def _fit_infrequent_category_mapping(self, n_samples: int, category_counts: list[np.ndarray]) -> None:
        """``_infrequent_indices`` and ``_default_to_infrequent_mappings`` (category index -> grouped index)."""
        self._infrequent_indices = [self._identify_infrequent(np.asarray(c), n_samples) for c in category_counts]
        self._default_to_infrequent_mappings = []
        for cats, infreq_idx in zip(self.categories_, self._infrequent_indices):
            if infreq_idx is None:
                self._default_to_infrequent_mappings.append(None)
                continue
            n_cats = int(cats.shape[0])
            mapping = np.empty(n_cats, dtype=np.int64)
            n_frequent = n_cats - infreq_idx.size
            mapping[infreq_idx] = n_frequent  # the group is the last column of its feature
            mapping[np.setdiff1d(np.arange(n_cats), infreq_idx)] = np.arange(n_frequent)
            self._default_to_infrequent_mappings.append(mapping)

    @property
    def infrequent_categories_(self) -> list[Any]:
        """Infrequent categories of each feature (None where there are none)."""
        infrequent_indices = self._infrequent_indices  # AttributeError when grouping is off, as scikit-learn
        out = []
        for cats, idx in zip(self.categories_, infrequent_indices):
            if idx is None:
                out.append(None)
            elif isinstance(cats, np.ndarray):
                out.append(cats[idx])
            else:
                fw = framework_of(cats)
                out.append(fw.xp.take(cats, to_backend(idx, fw.name, fw.device_of(cats)), axis=0))
        return out

    def _mappings(self) -> list[np.ndarray | None]:
        if getattr(self, "_infrequent_enabled", False):
            return list(self._default_to_infrequent_mappings)
        return [None] * len(self.categories_)

    def _map_drop_idx_to_infrequent(self, feature_idx: int, drop_idx: int) -> int:
        mapping = self._mappings()[feature_idx]
        if mapping is None:
            return drop_idx
        infrequent = self._infrequent_indices[feature_idx]
        if infrequent is not None and drop_idx in infrequent:
            value = self._host_categories()[feature_idx][drop_idx]
            value = value.item() if hasattr(value, "item") else value
            raise ValueError(f"Unable to drop category {value!r} from feature {feature_idx} because it is infrequent")
        return int(mapping[drop_idx])

    def _set_drop_idx(self) -> None:
        """``drop_idx_`` (in ``categories_``) and ``_drop_idx_after_grouping`` (in the grouped categories)."""
        n_features = len(self.categories_)
        mappings = self._mappings()
        if self.drop is None:
            after = None
        elif isinstance(self.drop, str):
            if self.drop == "first":
                after = np.zeros(n_features, dtype=object)
            else:  # if_binary, after grouping
                n_grouped = [int(c.shape[0]) if m is None else int(m.max()) + 1
                             for c, m in zip(self.categories_, mappings)]
                after = np.array([0 if k == 2 else None for k in n_grouped], dtype=object)
        else:
            drop = np.asarray(self.drop, dtype=object)
            if drop.ndim != 1 or len(drop) != n_features:
                raise ValueError(
                    f"`drop` should have length equal to the number of features ({n_features}), got "
                    f"{len(drop) if drop.ndim else 0}"
                )
            missing, indices = [], []
            for j, (value, cats) in enumerate(zip(drop.tolist(), self._host_categories())):
                if _is_scalar_nan(value):
                    last = cats[-1] if cats.size else None
                    found = [cats.size - 1] if cats.size and (last is not None and last != last) else []
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            eq = np.asarray(cats == value)
                        except (TypeError, ValueError):
                            eq = np.zeros(0, dtype=bool)
                    found = np.flatnonzero(eq).tolist() if eq.ndim == 1 else []
                if found:
                    indices.append(self._map_drop_idx_to_infrequent(j, found[0]))
                else:
                    missing.append((j, value))
            if missing:
                raise ValueError(
                    "The following categories were supposed to be dropped, but were not found in the training "
                    "data.\n" + "\n".join(f"Category: {v}, Feature: {j}" for j, v in missing)
                )
            after = np.array(indices, dtype=object)
        self._drop_idx_after_grouping = after
        if after is None or not getattr(self, "_infrequent_enabled", False):
            self.drop_idx_ = after
            return
        orig = []
        for j, g in enumerate(after.tolist()):
            m = mappings[j]
            orig.append(g if g is None or m is None else int(np.flatnonzero(m == g)[0]))
        self.drop_idx_ = np.asarray(orig, dtype=object)

    def _drop_after(self) -> Any:
        return getattr(self, "_drop_idx_after_grouping", self.drop_idx_)

    def _compute_n_features_outs(self) -> list[int]:
        out = []
        drop = self._drop_after()
        for j, (cats, m) in enumerate(zip(self.categories_, self._mappings())):
            k = int(cats.shape[0]) if m is None else int(m.max()) + 1
            out.append(k - int(drop is not None and drop[j] is not None))
        return out

    def _build_plan(self) -> dict[str, Any]:
        """Lookup tables (host): category index -> output column, and the infrequent column of each feature."""
        drop = self._drop_after()
        tables, infrequent_col, starts = [], [], []
        offset = start = 0
        for j, (cats, m) in enumerate(zip(self.categories_, self._mappings())):
            k = int(cats.shape[0])
            grouped = np.arange(k, dtype=np.int64) if m is None else np.asarray(m, dtype=np.int64)
            n_grouped = k if m is None else int(m.max()) + 1
            dj = None if drop is None else drop[j]
            out = grouped if dj is None else np.where(grouped == dj, -1, np.where(grouped > dj, grouped - 1, grouped))
            tables.append(np.where(out >= 0, out + offset, -1))
            g = n_grouped - 1  # the infrequent group's index, when there is one
            inf_col = -1
            if m is not None:
                inf_col = -1 if dj == g else (g - (dj is not None and g > dj)) + offset
            infrequent_col.append(inf_col)
            starts.append(start)
            start += k
            offset += n_grouped - (dj is not None)
        table = np.concatenate(tables) if tables else np.zeros(0, dtype=np.int64)
        return {"table": table.astype(np.int64), "starts": np.asarray(starts, dtype=np.int64),
                "infrequent_col": np.asarray(infrequent_col, dtype=np.int64), "n_out": int(offset)}

    def _get_plan(self) -> dict[str, Any]:
        plan = getattr(self, "_plan", None)
        if plan is None:  # a model saved before the plan existed
            plan = self._build_plan()
        return plan

    # ------------------------------------------------------------------ #
    # transform
    # ------------------------------------------------------------------ #

    def transform(self, X: Any) -> Any:
        """One-hot encode ``X`` (n_samples, n_features).

        Returns
        -------
        sparse matrix or array of shape (n_samples, n_output_columns), dtype ``self.dtype``
            ``sparse_output=True``: SciPy CSR (NumPy, list, pandas input), torch sparse CSR
            (torch input), else a dense array on the input's device. ``False``: dense, the
            input's library and device for numeric arrays, NumPy for the rest.
        """
        check_is_fitted(self, "categories_")
        transform_output = _get_output_config("transform", estimator=self)["dense"]
        if transform_output != "default" and self.sparse_output:
            cap = transform_output.capitalize()
            raise ValueError(
                f"{cap} output does not support sparse data. Set sparse_output=False to output "
                f"{transform_output} dataframes or disable {cap} output via"
                '` ohe.set_output(transform="default").'
            )
        if self.handle_unknown == "warn":
            warn_on_unknown, handle_unknown = True, "infrequent_if_exist"
        else:
            warn_on_unknown = self.drop is not None and self.handle_unknown in {"ignore", "infrequent_if_exist"}
            handle_unknown = self.handle_unknown
        data = self._prepare(X, reset=False, host=not self._all_numeric_categories())
        codes = self._codes(data, self.categories_)
        unknown = self._unknown_columns(codes, data)
        if unknown:
            if handle_unknown == "error":
                self._raise_unknown(data, codes, when="transform")
            if warn_on_unknown:
                what = "the infrequent category." if handle_unknown == "infrequent_if_exist" else "all zeros"
                warnings.warn(f"Found unknown categories in columns {unknown} during transform. These unknown "
                              f"categories will be encoded as {what}", UserWarning, stacklevel=2)
        plan = self._get_plan()
        unk = plan["infrequent_col"] if handle_unknown == "infrequent_if_exist" else \
            np.full(data.n_features, -1, dtype=np.int64)
        return self._encode(codes, data, plan, unk)

    def _encode(self, codes: Any, data: _Data, plan: dict[str, Any], unk: np.ndarray) -> Any:
        """Output column of every value -> the one-hot matrix (sparse or dense, per the rule above)."""
        n, n_out = data.n_samples, plan["n_out"]
        kind = "numpy" if data.columns is not None else namespace_kind(data.compute.xp)
        if kind == "numpy":
            codes = _host(codes)
            cols = np.where(codes >= 0, plan["table"][np.maximum(codes, 0) + plan["starts"][None, :]],
                            unk[None, :]) if plan["table"].size else np.full(codes.shape, -1, dtype=np.int64)
            keep = cols >= 0
            dtype = np.dtype(self.dtype)
            if not self.sparse_output:
                out = np.zeros((n, n_out), dtype=dtype)
                rows, feat = np.nonzero(keep)
                out[rows, cols[rows, feat]] = 1
                return out if data.columns is not None else self._output(out, data.origin)
            import scipy.sparse
            import sklearn

            nnz = int(keep.sum())
            itype = np.int32 if max(nnz, n_out) < 2**31 else np.int64
            indptr = np.zeros(n + 1, dtype=itype)
            np.cumsum(keep.sum(axis=1), out=indptr[1:])
            indices = cols[keep].astype(itype)
            cls = (scipy.sparse.csr_array if sklearn.get_config().get("sparse_interface") == "sparray"
                   else scipy.sparse.csr_matrix)
            return cls((np.ones(nnz, dtype=dtype), indices, indptr), shape=(n, n_out))
        compute = data.compute
        xp, dev = compute.xp, compute.device
        table = _dev_ints(plan["table"] if plan["table"].size else np.zeros(1, dtype=np.int64), compute)
        idx = xp.where(codes >= 0, codes, xp.zeros_like(codes)) + _dev_ints(plan["starts"], compute)[None, :]
        looked = xp.reshape(xp.take(table, xp.reshape(idx, (-1,)), axis=0), (n, data.n_features))
        cols = xp.where(codes >= 0, looked, xp.broadcast_to(_dev_ints(unk, compute)[None, :], looked.shape))
        if self.sparse_output and kind == "torch":
            import torch

            from ..backends._sparse import _torch_csr

            keep = cols >= 0
            indptr = torch.cat([torch.zeros(1, dtype=torch.int64, device=dev), torch.cumsum(keep.sum(dim=1), 0)])
            indices = cols[keep]
            values = torch.ones(indices.shape[0], dtype=self._out_dtype(compute), device=dev)
            return _torch_csr(indptr, indices, values, (n, n_out))
        # dense: column c is 1 where the value of its feature encodes to c
        feat = np.repeat(np.arange(data.n_features), np.asarray(self._n_out_per_feature(), dtype=np.int64))
        sel = xp.take(cols, _dev_ints(feat, compute), axis=1) if n_out else xp.zeros((n, 0), dtype=cols.dtype,
                                                                                       device=dev)
        E = sel == xp.arange(n_out, dtype=sel.dtype, device=dev)[None, :]
        return self._output(xp.astype(E, self._out_dtype(compute)), data.origin)

    def _n_out_per_feature(self) -> list[int]:
        outs = getattr(self, "_n_features_outs", None)
        return list(outs) if outs is not None else self._compute_n_features_outs()

    # ------------------------------------------------------------------ #
    # inverse
    # ------------------------------------------------------------------ #

    def _compute_transformed_categories(self, i: int, cats: np.ndarray, *, remove_dropped: bool = True) -> np.ndarray:
        """Output categories of feature ``i``: frequent ones, then ``'infrequent_sklearn'``; less the dropped one."""
        m = self._mappings()[i]
        if m is not None:
            cats = np.concatenate((cats[m < m.max()], np.array([INFREQUENT], dtype=object)))
        if remove_dropped:
            cats = self._remove_dropped_categories(cats, i)
        return cats

    def _remove_dropped_categories(self, cats: np.ndarray, i: int) -> np.ndarray:
        drop = self._drop_after()
        if drop is not None and drop[i] is not None:
            return np.delete(cats, drop[i])
        return cats

    def inverse_transform(self, X: Any) -> Any:
        """Categories from one-hot rows ``X`` (n_samples, n_output_columns), shape (n_samples, n_features).

        Each feature takes the category of its largest column (argmax); an all-zero group is
        the dropped category, or, when unknown categories were allowed, unknown: None
        (NaN in a numeric result on another backend). The infrequent group is
        ``'infrequent_sklearn'``.
        """
        check_is_fitted(self, "categories_")
        n_out = int(sum(self._n_out_per_feature()))
        if sparse_kind(X) == "torch":
            X = X.to_dense()
        if sparse_kind(X) == "scipy":
            Xh = X.tocsc()
            if Xh.shape[1] != n_out:
                raise ValueError(f"Shape of the passed X data is not correct. Expected {n_out} columns, got "
                                 f"{Xh.shape[1]}.")
            return self._inverse_host(Xh)
        if is_sparse(X):
            raise TypeError("inverse_transform takes a SciPy sparse matrix, a torch sparse tensor or a dense array.")
        compute = resolve(X)
        origin = origin_of(X)
        Xa = check_array(_to_compute(X, compute, "X"), xp=compute.xp, device=compute.device, name="X",
                         estimator=self)
        if Xa.shape[1] != n_out:
            raise ValueError(f"Shape of the passed X data is not correct. Expected {n_out} columns, got "
                             f"{Xa.shape[1]}.")
        host = namespace_kind(compute.xp) == "numpy" or not self._all_numeric_categories() or any(
            m is not None for m in self._mappings())
        if host:
            return self._inverse_host(_host(Xa))
        return self._output(self._inverse_device(Xa, compute), origin)

    def _ignore_unknown(self, i: int) -> bool:
        """Whether an all-zero group of feature ``i`` may be an unknown category (scikit-learn's rule)."""
        m = self._mappings()[i]
        return self.handle_unknown == "ignore" or (self.handle_unknown in ("infrequent_if_exist", "warn")
                                                   and m is None)

    def _all_zero_error(self, rows: np.ndarray) -> ValueError:
        return ValueError(f"Samples {rows} can not be inverted when drop=None and handle_unknown='error' because "
                          "they contain all zeros")

    def _inverse_host(self, X: Any) -> np.ndarray:
        """scikit-learn's inverse, one feature (a block of columns) at a time; ``X`` NumPy or SciPy sparse."""
        n = int(X.shape[0])
        cats = self._host_categories()
        drop = self._drop_after()
        transformed = [self._compute_transformed_categories(i, c, remove_dropped=False) for i, c in enumerate(cats)]
        dt = np.result_type(*[t.dtype for t in transformed])
        X_tr = np.empty((n, len(cats)), dtype=dt)
        found_unknown = {}
        j = 0
        for i, full in enumerate(transformed):
            kept = self._remove_dropped_categories(full, i)
            k = kept.shape[0]
            if k == 0:
                X_tr[:, i] = full[drop[i]]
                continue
            sub = X[:, j:j + k]
            labels = np.asarray(sub.argmax(axis=1)).ravel()
            X_tr[:, i] = kept[labels]
            zero = np.asarray(sub.sum(axis=1) == 0).ravel()
            j += k
            if not zero.any():
                continue
            di = None if drop is None else drop[i]
            if self._ignore_unknown(i):
                if di is None:
                    found_unknown[i] = zero
                else:
                    X_tr[zero, i] = full[di]
            else:
                if di is None:
                    raise self._all_zero_error(np.flatnonzero(zero))
                X_tr[zero, i] = full[di]
        if found_unknown:
            if X_tr.dtype != object:
                X_tr = X_tr.astype(object)
            for i, mask in found_unknown.items():
                X_tr[mask, i] = None
        return X_tr

    def _inverse_device(self, Xa: Any, compute: Compute) -> Any:
        """Numeric categories, no infrequent group: the inverse on ``X``'s backend (unknown -> NaN)."""
        xp = compute.xp
        n = int(Xa.shape[0])
        drop = self._drop_after()
        cols, unknown = [], []
        j = 0
        for i, c in enumerate(self.categories_):
            cats = compute.asarray(c)
            k_all = int(cats.shape[0])
            di = None if drop is None else drop[i]
            keep = np.delete(np.arange(k_all), di) if di is not None else np.arange(k_all)
            k = keep.shape[0]
            if k == 0:
                cols.append(xp.broadcast_to(cats[int(di):int(di) + 1], (n,)))
                unknown.append(None)
                continue
            kept = xp.take(cats, _dev_ints(keep, compute), axis=0)
            sub = Xa[:, j:j + k]
            j += k
            val = xp.take(kept, xp.argmax(sub, axis=1), axis=0)
            zero = xp.sum(sub, axis=1) == 0
            if di is not None:
                val = xp.where(zero, xp.broadcast_to(cats[int(di):int(di) + 1], val.shape), val)
                unknown.append(None)
            elif self._ignore_unknown(i):
                unknown.append(zero)
            else:
                if bool(xp.any(zero)):
                    raise self._all_zero_error(np.flatnonzero(_host(zero)))
                unknown.append(None)
            cols.append(val)
        dtype = cols[0].dtype
        for c in cols[1:]:
            dtype = _common_dtype(dtype, c.dtype, xp=xp)
        out = xp.stack([c if c.dtype == dtype else xp.astype(c, dtype) for c in cols], axis=1)
        masks = [m if m is not None else xp.zeros((n,), dtype=xp.bool, device=compute.device) for m in unknown]
        any_unknown = xp.stack(masks, axis=1)
        if bool(xp.any(any_unknown)):
            fdtype = dtype if xp.isdtype(dtype, "real floating") else Xa.dtype
            out = xp.astype(out, fdtype)
            out = xp.where(any_unknown, xp.full_like(out, float("nan")), out)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names ``"<feature>_<category>"`` (object array): the infrequent group as
        ``"<feature>_infrequent_sklearn"``, dropped categories left out."""
        check_is_fitted(self, "categories_")
        input_features = _check_feature_names_in(self, input_features)
        if self.feature_name_combiner == "concat":
            def combine(feature: str, category: Any) -> str:
                return feature + "_" + str(category)
        else:
            if not isinstance(self.feature_name_combiner("feature", "category"), str):
                raise TypeError(
                    "When `feature_name_combiner` is a callable, it should return a Python string. Got "
                    f"{type(self.feature_name_combiner('feature', 'category'))} instead."
                )
            combine = self.feature_name_combiner
        names = []
        for i, cats in enumerate(self._host_categories()):  # per-feature metadata
            names.extend(combine(input_features[i], t) for t in self._compute_transformed_categories(i, cats))
        return np.asarray(names, dtype=object)
