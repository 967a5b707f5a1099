"""One-hot encoding of categorical features."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
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
from ..backends.primitives import smallest_k
from ..base import (
    BaseEstimator,
    TransformerMixin,
    _check_feature_names,
    _check_finite,
    _to_compute,
    check_array,
    check_is_fitted,
)

__all__ = ["OneHotEncoder"]


def _host_compute() -> Compute:
    fw = get_framework("numpy")
    return Compute(fw.xp, "cpu", "numpy", fw)


def _column_uniques(X: Any, *, xp: Any) -> list[Any]:
    """Sorted distinct values of each column of ``X`` (n, d): a list of d 1-D arrays.

    One sort along axis 0, a comparison of neighbours, and the first
    ``max_k`` "new value" positions of each column (``smallest_k`` over
    static shapes); the per-column counts are the only host round trip.
    """
    n, d = X.shape
    if X.dtype in (getattr(xp, "uint16", None), getattr(xp, "uint32", None), getattr(xp, "uint64", None)) \
            and namespace_kind(xp) == "torch":
        # torch's CPU gather/scatter kernels have no uint16-64 versions: these (rare) columns are
        # sorted on the host (a counted transfer) and the categories moved back
        host = [np.unique(np.asarray(to_backend(X[:, j], "numpy"))) for j in range(d)]
        return [xp.asarray(to_backend(c, "torch", X.device)) for c in host]
    S = xp.sort(X, axis=0)
    first = xp.ones((1, d), dtype=xp.bool, device=S.device)
    new = xp.concat([first, S[1:, ...] != S[:-1, ...]], axis=0) if n > 1 else first
    counts = [int(c) for c in np.asarray(to_backend(xp.sum(xp.astype(new, xp.int32), axis=0), "numpy"))]
    max_k = max(counts)
    rows = xp.arange(n, device=S.device)[:, None]
    key = xp.where(new, rows, xp.full_like(rows, n))  # (n, d): the row of each new value, else n
    first_rows, _ = smallest_k(key.T, max_k, xp=xp)  # (d, max_k): rows of the distinct values, ascending
    P = xp.take_along_axis(S.T, xp.clip(first_rows, 0, n - 1), axis=1)  # (d, max_k), padded
    return [P[j, :counts[j]] for j in range(d)]


def _object_column_uniques(X: np.ndarray) -> list[np.ndarray]:
    """Host version for string/object columns, with scikit-learn's error for mixed types."""
    out = []
    for j in range(X.shape[1]):  # each feature has its own category list
        try:
            out.append(np.unique(X[:, j]))
        except TypeError:
            types = sorted({type(v).__name__ for v in X[:, j].tolist()})
            raise TypeError(
                "Encoders require their input argument must be uniformly strings or numbers. "
                f"Got {types} in column {j}."
            ) from None
    return out


def _common_dtype(a: Any, b: Any, *, xp: Any) -> Any:
    if a == b:
        return a
    a_float, b_float = xp.isdtype(a, "real floating"), xp.isdtype(b, "real floating")
    if a_float != b_float:  # the standard does not promote integers with floats
        return a if a_float else b
    return xp.result_type(a, b)


class OneHotEncoder(TransformerMixin, BaseEstimator):
    """Encode categorical features as a one-hot numeric array (dense).

    Integer (or any numeric) category codes are encoded on the input's own
    backend and device: the categories of all features form one flat vector,
    and the output is a single comparison ``X[:, feature_of_column] ==
    category_of_column`` of shape (n_samples, n_output_columns). NumPy string
    or object arrays (and pandas DataFrames of them) are encoded on the host.
    A drop-in for :class:`sklearn.preprocessing.OneHotEncoder` (pass
    ``sparse_output=True`` for its default sparse output).

    Parameters
    ----------
    categories : 'auto' or list of array-like, default='auto'
        Categories of each feature: found in the data, or ``categories[i]``
        for feature ``i`` (numeric categories must be sorted).
    drop : {'first', 'if_binary'} or array-like of shape (n_features,), default=None
        Drop one category per feature (``'first'``), only for features with
        two categories (``'if_binary'``), or the category ``drop[i]`` of feature ``i``.
    sparse_output : bool, default=False
        ``True``: a sparse CSR result with one stored 1 per known value, built from each
        value's category index (memory proportional to ``n_samples * n_features``, never
        ``n_samples * n_output_columns``): SciPy ``csr_matrix`` for NumPy and string input
        (``csr_array`` under scikit-learn's ``sparse_interface="sparray"``), a torch sparse
        CSR tensor on the input's device for torch. The default is False (dense, on the
        input's backend), where scikit-learn's is True.
    dtype : number type, default=np.float64
        Dtype of the output (float32 on devices without float64).
    handle_unknown : {'error', 'ignore', 'infrequent_if_exist', 'warn'}, default='error'
        Unknown categories at transform: raise a ValueError naming the column
        and the values, or encode them as all zeros (``'warn'`` also warns;
        ``'infrequent_if_exist'`` is ``'ignore'``, there being no infrequent categories).
    min_frequency, max_categories : None
        Grouping of infrequent categories is not supported; must be None.
    feature_name_combiner : 'concat' or callable, default='concat'
        ``callable(input_feature, category) -> str`` for :meth:`get_feature_names_out`.

    Attributes
    ----------
    categories_ : list of arrays
        Sorted categories of each feature; arrays of the fitted data's library
        and device (NumPy for strings), in the dtype of ``X``.
    drop_idx_ : ndarray of shape (n_features,) (object) or None
        Index in ``categories_[i]`` of the dropped category of feature ``i``, or None.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Differences from scikit-learn: dense output only; missing values (NaN,
    None) are rejected rather than treated as a category; no infrequent
    categories. In :meth:`inverse_transform`, an all-zero group of a feature
    without a dropped category (an unknown category) becomes NaN for numeric
    categories (scikit-learn returns an object array holding None).
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "categories": [StrOptions({"auto"}), list],
        "drop": [StrOptions({"first", "if_binary"}), "array-like", None],
        "dtype": "no_validation",
        "handle_unknown": [StrOptions({"error", "ignore", "infrequent_if_exist", "warn"})],
        "max_categories": [Interval(Integral, 1, None, closed="left"), None],
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
            None,
        ],
        "sparse_output": ["boolean"],
        "feature_name_combiner": [StrOptions({"concat"}), callable],
    }

    def __init__(self, *, categories: Any = "auto", drop: Any = None, sparse_output: bool = False,
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
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ #
    # input
    # ------------------------------------------------------------------ #

    def _prepare(self, X: Any, *, reset: bool) -> tuple[Any, Compute, Origin, bool]:
        """Validated ``X``, where to compute, the caller's origin, and whether it is host (string) data."""
        if type(X).__module__.startswith("scipy.sparse") or hasattr(X, "tocsr"):
            raise TypeError(
                "Sparse data was passed for X, but dense data is required. Use X.toarray() to convert to a "
                "dense array."
            )
        _check_feature_names(self, X, reset=reset)
        fw = framework_of(X)
        host = None
        if fw is None or (isinstance(X, np.ndarray) and X.dtype.kind not in "biuf"):
            Xh = X if fw is not None else as_host_array(X)
            if Xh.dtype.kind in "OUS":
                if fw is None and Xh.dtype.kind in "US":  # lists of str: objects, as scikit-learn
                    Xh = Xh.astype(object)
                host = Xh
        if host is not None:
            compute, origin = _host_compute(), Origin("numpy", "cpu")
            Xa = check_array(host, xp=compute.xp, name="X", estimator=self, cast_float=False)
            if Xa.dtype.kind == "O":
                missing = np.array([v is None or (isinstance(v, float) and v != v) for v in Xa.ravel().tolist()])
                if missing.any():
                    first = int(np.flatnonzero(missing)[0])
                    raise ValueError(
                        f"Input X contains {int(missing.sum())} missing value(s) (None or NaN); the first is "
                        f"at row {first // Xa.shape[1]}, column {first % Xa.shape[1]}. OneHotEncoder does "
                        "not treat missing values as a category; impute them first."
                    )
        else:
            origin = origin_of(X)
            compute = resolve(X)
            Xa = _to_compute(X, compute, "X")
            Xa = check_array(Xa, xp=compute.xp, device=compute.device, name="X", estimator=self,
                             cast_float=False)
            if compute.xp.isdtype(Xa.dtype, "real floating"):
                _check_finite(Xa, xp=compute.xp, name="X")
        n_features = int(Xa.shape[1])
        if reset:
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but OneHotEncoder is expecting {self.n_features_in_} "
                "features as input."
            )
        return Xa, compute, origin, host is not None

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
        if not self._host:  # drop_idx_ is host metadata (an object array), as in scikit-learn
            self.categories_ = [to_backend(c, name, device) for c in self.categories_]
            self._flat = to_backend(self._flat, name, device)
        return self

    # ------------------------------------------------------------------ #
    # fit
    # ------------------------------------------------------------------ #

    def fit(self, X: Any, y: Any = None) -> OneHotEncoder:
        """Find the categories of each feature of ``X`` (n_samples, n_features)."""
        self._validate_params()
        if self.min_frequency is not None or self.max_categories is not None:
            raise ValueError(
                "min_frequency and max_categories (infrequent categories) are not supported by "
                "toolbox's OneHotEncoder; leave them as None."
            )
        Xa, compute, _, host = self._prepare(X, reset=True)
        xp = compute.xp
        d = int(Xa.shape[1])
        if self.categories == "auto":
            cats = _object_column_uniques(Xa) if host else _column_uniques(Xa, xp=xp)
        else:
            if len(self.categories) != d:
                raise ValueError("Shape mismatch: if categories is an array, it has to be of shape (n_features,).")
            cats = [self._given_categories(i, c, Xa, compute, host) for i, c in enumerate(self.categories)]
        self.categories_ = cats
        self._host = host
        self._n_cats = [int(c.shape[0]) for c in cats]
        self._flat = cats[0] if d == 1 else (np.concatenate(cats) if host else xp.concat(cats))
        self._feature_of = np.repeat(np.arange(d), self._n_cats)
        if self.categories != "auto" and self.handle_unknown == "error":
            self._check_unknown(Xa, compute, when="fit")
        self._set_drop_idx()
        return self

    def _given_categories(self, i: int, given: Any, Xa: Any, compute: Compute, host: bool) -> Any:
        if host:
            cats = np.array(given, dtype=object)
        else:
            cats = np.asarray(to_backend(given, "numpy")) if framework_of(given) else np.asarray(given)
            if cats.dtype.kind not in "biuf":
                raise ValueError(
                    f"In column {i}, the predefined categories {cats.tolist()} are not numeric, but X is."
                )
        if cats.ndim != 1 or cats.size == 0:
            raise ValueError(f"In column {i}, the predefined categories must be a non-empty 1-D list.")
        if len(set(cats.tolist())) != cats.size:
            raise ValueError(f"In column {i}, the predefined categories contain duplicate elements.")
        if host:
            return cats
        if np.any(np.sort(cats) != cats):
            raise ValueError("Unsorted categories are not supported for numerical categories")
        xp = compute.xp
        dtype = Xa.dtype if (cats.dtype.kind != "f" or xp.isdtype(Xa.dtype, "real floating")) else None
        out = compute.asarray(cats)
        return xp.astype(out, dtype) if dtype is not None and out.dtype != dtype else out

    def _set_drop_idx(self) -> None:
        n_cats = self._n_cats
        if self.drop is None:
            self.drop_idx_ = None
        elif isinstance(self.drop, str):
            if self.drop == "first":
                self.drop_idx_ = np.zeros(len(n_cats), dtype=object)
            else:  # if_binary
                self.drop_idx_ = np.array([0 if k == 2 else None for k in n_cats], dtype=object)
        else:
            drop = np.asarray(self.drop, dtype=object)
            if drop.ndim != 1 or len(drop) != len(n_cats):
                raise ValueError(
                    f"`drop` should have length equal to the number of features ({len(n_cats)}), got {len(drop)}"
                )
            idx, missing = [], []
            for j, (value, cats) in enumerate(zip(drop.tolist(), self.categories_)):
                host_cats = np.asarray(to_backend(cats, "numpy")).tolist()
                if value in host_cats:
                    idx.append(host_cats.index(value))
                else:
                    missing.append((j, value))
            if missing:
                raise ValueError(
                    "The following categories were supposed to be dropped, but were not found in the "
                    "training data.\n" + "\n".join(f"Category: {v}, Feature: {j}" for j, v in missing)
                )
            self.drop_idx_ = np.array(idx, dtype=object)
        starts = np.concatenate([[0], np.cumsum(n_cats)[:-1]]).astype(np.int64)
        keep = np.ones(int(sum(n_cats)), dtype=bool)
        if self.drop_idx_ is not None:
            for j, k in enumerate(self.drop_idx_.tolist()):  # per-feature metadata
                if k is not None:
                    keep[starts[j] + k] = False
        self._starts = starts
        self._keep = np.flatnonzero(keep)
        self._n_kept = [int(k - (self.drop_idx_ is not None and self.drop_idx_[j] is not None))
                        for j, k in enumerate(n_cats)]

    # ------------------------------------------------------------------ #
    # transform
    # ------------------------------------------------------------------ #

    def _match(self, Xa: Any, compute: Compute) -> Any:
        """Boolean (n_samples, n_categories_total): ``X[:, feature_of[c]] == categories_flat[c]``."""
        xp = compute.xp
        flat = self._flat if self._host else compute.asarray(self._flat)
        if self._host:
            return Xa[:, self._feature_of] == flat[None, :]
        dtype = _common_dtype(Xa.dtype, flat.dtype, xp=xp)
        Xc = Xa if Xa.dtype == dtype else xp.astype(Xa, dtype)
        flat = flat if flat.dtype == dtype else xp.astype(flat, dtype)
        feat = xp.asarray(self._feature_of, device=compute.device)
        return xp.take(Xc, feat, axis=1) == flat[None, :]

    def _unknown_columns(self, Xa: Any) -> dict[int, list[Any]]:
        """Unknown values of each column (host; only on the error/warning path)."""
        Xh = np.asarray(to_backend(Xa, "numpy"))
        out = {}
        for j, cats in enumerate(self.categories_):  # each feature has its own categories
            ch = np.asarray(to_backend(cats, "numpy")).tolist()
            cset = set(ch)
            diff = sorted({v for v in Xh[:, j].tolist() if v not in cset}, key=_sort_key)
            if diff:
                out[j] = diff
        return out

    def _check_unknown(self, Xa: Any, compute: Compute, *, when: str, E: Any = None) -> bool:
        """Raise (``handle_unknown='error'``) or report whether ``X`` holds unknown categories."""
        xp = compute.xp
        if E is None:
            E = self._match(Xa, compute)
        n, d = Xa.shape
        # Categories are distinct, so each known value matches exactly one column.
        if self._host:
            n_found = int(np.count_nonzero(E))
        else:
            n_found = int(xp.count_nonzero(E))
        if n_found == n * d:
            return False
        if self.handle_unknown == "error" or when == "fit":
            j, diff = next(iter(self._unknown_columns(Xa).items()))
            raise ValueError(f"Found unknown categories {diff} in column {j} during {when}")
        return True

    def transform(self, X: Any) -> Any:
        """One-hot encode ``X`` (n_samples, n_features).

        Returns
        -------
        array of shape (n_samples, n_output_columns), dtype ``self.dtype``
            Same library and device as numeric ``X``; NumPy for string input.
        """
        check_is_fitted(self, "categories_")
        Xa, compute, origin, host = self._prepare(X, reset=False)
        xp = compute.xp
        if host != self._host:
            fitted, given = ("strings", "numbers") if self._host else ("numbers", "strings")
            raise ValueError(
                f"OneHotEncoder was fitted on {fitted} but X holds {given}: every value is an unknown category."
            )
        if self.sparse_output:
            return self._sparse_transform(Xa, compute, origin)
        E = self._match(Xa, compute)
        unknown = self._check_unknown(Xa, compute, when="transform", E=E)
        if unknown and (self.handle_unknown == "warn" or self.drop_idx_ is not None):
            cols = sorted(self._unknown_columns(Xa))
            warnings.warn(
                f"Found unknown categories in columns {cols} during transform. These unknown "
                "categories will be encoded as all zeros",
                UserWarning,
                stacklevel=2,
            )
        if self._keep.shape[0] != E.shape[1]:
            E = E[:, self._keep] if self._host else xp.take(E, xp.asarray(self._keep, device=compute.device), axis=1)
        if self._host:
            return self._output(E.astype(np.dtype(self.dtype)), origin)
        return self._output(xp.astype(E, self._out_dtype(compute)), origin)

    def _codes(self, Xa: Any, compute: Compute) -> Any:
        """Category index of every value, (n_samples, n_features) int64, -1 for unknown values.

        One ``searchsorted`` per feature (each feature has its own categories; a
        loop over the few categorical columns, not over samples).
        """
        if self._host:
            xp, cols = np, []
            for j, cats in enumerate(self.categories_):
                order = np.argsort(cats, kind="stable")
                sc = cats[order]
                col = Xa[:, j]
                pos = np.clip(np.searchsorted(sc, col), 0, sc.shape[0] - 1)
                cols.append(np.where(sc[pos] == col, order[pos], -1))
            return np.stack(cols, axis=1).astype(np.int64)
        xp, cols = compute.xp, []
        for j, cats in enumerate(self.categories_):
            c = compute.asarray(cats)
            dtype = _common_dtype(Xa.dtype, c.dtype, xp=xp)
            c = c if c.dtype == dtype else xp.astype(c, dtype)
            col = Xa[:, j] if Xa.dtype == dtype else xp.astype(Xa[:, j], dtype)
            with warnings.catch_warnings():  # torch: a column of X is a strided view; the copy is fine
                warnings.filterwarnings("ignore", message=".*non-contiguous.*")
                pos = xp.clip(xp.searchsorted(c, col), 0, c.shape[0] - 1)
            cols.append(xp.where(xp.take(c, pos, axis=0) == col, xp.astype(pos, xp.int64),
                                 xp.full_like(xp.astype(pos, xp.int64), -1)))
        return xp.stack(cols, axis=1)

    def _sparse_transform(self, Xa: Any, compute: Compute, origin: Origin) -> Any:
        """``sparse_output=True``: CSR with one stored 1 per known, kept value (memory ~ n_samples * n_features).

        SciPy CSR for NumPy and string input (``csr_matrix``, or ``csr_array`` when scikit-learn's
        ``sparse_interface`` says so), a torch sparse CSR tensor on the input's device for torch.
        """
        codes = self._codes(Xa, compute)
        xp = np if self._host else compute.xp
        n, d = int(codes.shape[0]), int(codes.shape[1])
        known = codes >= 0
        if bool(xp.any(~known)):
            if self.handle_unknown == "error":
                j, diff = next(iter(self._unknown_columns(Xa).items()))
                raise ValueError(f"Found unknown categories {diff} in column {j} during transform")
            if self.handle_unknown == "warn" or self.drop_idx_ is not None:
                warnings.warn(
                    f"Found unknown categories in columns {sorted(self._unknown_columns(Xa))} during transform. "
                    "These unknown categories will be encoded as all zeros", UserWarning, stacklevel=3)
        total = int(sum(self._n_cats))
        colmap = np.full(total + 1, -1, dtype=np.int64)  # the last slot: unknown values
        colmap[self._keep] = np.arange(self._keep.shape[0])
        starts = np.asarray(self._starts, dtype=np.int64)
        if self._host or compute.framework.name == "numpy":
            codes = np.asarray(to_backend(codes, "numpy")) if not isinstance(codes, np.ndarray) else codes
            glob = np.where(codes >= 0, codes + starts[None, :], total)
            cols = colmap[glob].reshape(-1)
            keep = cols >= 0
            counts = keep.reshape(n, d).sum(axis=1)
            indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            indices = cols[keep]
            data = np.ones(indices.shape[0], dtype=np.dtype(self.dtype))
            import scipy.sparse
            import sklearn

            cls = (scipy.sparse.csr_array if sklearn.get_config().get("sparse_interface") == "sparray"
                   else scipy.sparse.csr_matrix)
            return cls((data, indices, indptr), shape=(n, int(self._keep.shape[0])))
        import torch

        from ..backends._sparse import _torch_csr

        dev = compute.device
        glob = torch.where(codes >= 0, codes + torch.as_tensor(starts, device=dev)[None, :],
                           torch.full_like(codes, total))
        cols = torch.as_tensor(colmap, device=dev)[glob].reshape(-1)
        keep = cols >= 0
        counts = keep.reshape(n, d).sum(dim=1)
        indptr = torch.cat([torch.zeros(1, dtype=torch.int64, device=dev), torch.cumsum(counts, 0)])
        indices = cols[keep]
        data = torch.ones(indices.shape[0], dtype=self._out_dtype(compute), device=dev)
        return _torch_csr(indptr, indices, data, (n, int(self._keep.shape[0])))

    # ------------------------------------------------------------------ #
    # inverse
    # ------------------------------------------------------------------ #

    def inverse_transform(self, X: Any) -> Any:
        """Categories from one-hot rows ``X`` (n_samples, n_output_columns), shape (n_samples, n_features).

        Each feature takes the category of its largest column (argmax); an
        all-zero group gives the dropped category, or, with
        ``handle_unknown='ignore'``, an unknown (None on the host, NaN for numeric categories).
        """
        check_is_fitted(self, "categories_")
        origin = origin_of(X)
        compute = resolve(X)
        Xa = check_array(_to_compute(X, compute, "X"), xp=compute.xp, device=compute.device, name="X",
                         estimator=self)
        xp = compute.xp
        n_out = int(self._keep.shape[0])
        if Xa.shape[1] != n_out:
            raise ValueError(f"Shape of the passed X data is not correct. Expected {n_out} columns, got {Xa.shape[1]}.")
        n, d = int(Xa.shape[0]), len(self._n_cats)
        n_kept = self._n_kept
        max_k = max(max(n_kept), 1)
        kept_starts = np.concatenate([[0], np.cumsum(n_kept)[:-1]]).astype(np.int64)
        offs = np.arange(max_k)
        pad = np.where(offs[None, :] < np.asarray(n_kept)[:, None], kept_starts[:, None] + offs[None, :], n_out)
        pad_idx = xp.asarray(pad.reshape(-1), device=compute.device)
        neg = xp.full((n, 1), -float("inf"), dtype=Xa.dtype, device=compute.device)
        zero = xp.zeros((n, 1), dtype=Xa.dtype, device=compute.device)
        G = xp.reshape(xp.take(xp.concat([Xa, neg], axis=1), pad_idx, axis=1), (n, d, max_k))
        loc = xp.argmax(G, axis=2)  # (n, d)
        sums = xp.sum(xp.reshape(xp.take(xp.concat([Xa, zero], axis=1), pad_idx, axis=1), (n, d, max_k)), axis=2)
        all_zero = sums == 0
        # position in the flat category vector of the chosen (kept) category of each feature
        kept_to_flat = self._keep
        flat_pos = xp.asarray(kept_starts, device=compute.device)[None, :] + loc
        flat_pos = xp.clip(flat_pos, 0, max(n_out - 1, 0))
        has_drop = np.array([self.drop_idx_ is not None and self.drop_idx_[j] is not None for j in range(d)])
        drop_flat = np.array([self._starts[j] + (self.drop_idx_[j] if has_drop[j] else 0) for j in range(d)],
                             dtype=np.int64)
        unknown_possible = self.handle_unknown != "error"
        if not unknown_possible and not has_drop.all():
            bad = all_zero[:, ~has_drop] if self._host else xp.take(
                all_zero, xp.asarray(np.flatnonzero(~has_drop), device=compute.device), axis=1)
            if bool(xp.any(bad)):
                rows = np.flatnonzero(np.asarray(to_backend(xp.any(bad, axis=1), "numpy")))
                raise ValueError(
                    f"Samples {rows} can not be inverted when drop=None and handle_unknown='error' "
                    "because they contain all zeros"
                )
        if self._host:
            flat = self._flat
            pos = np.asarray(to_backend(flat_pos, "numpy"))
            chosen = flat[kept_to_flat[pos]] if n_out else flat[np.broadcast_to(drop_flat, (n, d))]
            zeros = np.asarray(to_backend(all_zero, "numpy"))
            out = np.where(zeros & has_drop[None, :], flat[drop_flat][None, :], chosen)
            unknown = zeros & ~has_drop[None, :]
            if unknown.any():
                out = out.astype(object)
                out[unknown] = None
            return out
        flat = compute.asarray(self._flat)
        keep_map = xp.asarray(kept_to_flat if n_out else np.zeros(1, dtype=np.int64), device=compute.device)
        chosen_flat = xp.take(keep_map, xp.reshape(flat_pos, (-1,)), axis=0)
        chosen = xp.reshape(xp.take(flat, chosen_flat, axis=0), (n, d))
        drop_vals = xp.take(flat, xp.asarray(drop_flat, device=compute.device), axis=0)
        has_drop_x = xp.asarray(has_drop, device=compute.device)
        out = xp.where(all_zero & has_drop_x[None, :], drop_vals[None, :], chosen)
        unknown = all_zero & ~has_drop_x[None, :]
        if unknown_possible and bool(xp.any(unknown)):
            fdtype = Xa.dtype if xp.isdtype(Xa.dtype, "real floating") else xp.float32
            out = xp.where(unknown, xp.full_like(xp.astype(out, fdtype), float("nan")), xp.astype(out, fdtype))
        return self._output(out, origin)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names ``"<feature>_<category>"`` (object array), dropped categories left out."""
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
        for j, cats in enumerate(self.categories_):  # per-feature metadata
            host = np.asarray(to_backend(cats, "numpy"))
            for c, value in enumerate(host):
                if self.drop_idx_ is not None and self.drop_idx_[j] == c:
                    continue
                names.append(combine(input_features[j], value))
        return np.asarray(names, dtype=object)


def _sort_key(v: Any) -> Any:
    return (0, v) if isinstance(v, (int, float, np.number)) else (1, str(v))
