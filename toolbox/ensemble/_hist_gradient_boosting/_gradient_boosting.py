"""HistGradientBoostingRegressor and HistGradientBoostingClassifier: the boosting loop.

One pipeline, split by stage as scikit-learn's ``_hist_gradient_boosting``:
``_binning`` (quantile bins, uint8 codes on the data's device) -> ``_loss``
(gradients and hessians) -> a grower (``_grower_numba`` on NumPy with numba,
``_grower_host`` on NumPy without, ``_grower_array`` on every Array API
library) -> ``_predictor`` (flat trees,
all rows at once). The data stay where they are: on a GPU the codes,
gradients, raw predictions and leaf ids live on the device, and each tree
comes to the host once, as a few KB of node arrays.
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ... import _hooks
from ..._config import use_backend
from ..._labels import encode_labels
from ...backends import Compute, framework_of, get_framework, primitives, to_backend
from ...backends._dispatch import _numba_installed, namespace_kind, numba_active
from ...base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    check_is_fitted,
    validate_data,
)
from ._binning import BinMapper
from ._loss import get_loss
from ._predictor import Forest
from ._tree import GrowerParams, Tree, TreeView

__all__ = ["HistGradientBoostingClassifier", "HistGradientBoostingRegressor"]

#: Rows of the training subsample used to score a non-loss ``scoring`` (scikit-learn's size).
_SMALL_TRAIN = 10_000


def _host(x: Any) -> np.ndarray:
    return np.asarray(to_backend(x, "numpy")) if framework_of(x) is not None else np.asarray(x)


def _on_cpu(compute: Compute) -> bool:
    return compute.framework.name in ("torch", "jax") and compute.framework.is_host(compute.device)


def _wide_float(xp: Any, device: Any) -> Any:
    """float64 where ``device`` holds it, else float32."""
    return xp.float64 if "float64" in xp.__array_namespace_info__().dtypes(device=device) else xp.float32


# scikit-learn's loss objects (sklearn._loss.loss), accepted as ``loss=`` like its own estimators do
_SKLEARN_LOSSES = {"HalfSquaredError": "squared_error", "AbsoluteError": "absolute_error",
                   "HalfPoissonLoss": "poisson", "HalfGammaLoss": "gamma", "PinballLoss": "quantile",
                   "HalfBinomialLoss": "log_loss", "HalfMultinomialLoss": "log_loss"}


def _loss_name(loss: Any) -> Any:
    """The name of ``loss``: a string as given, or the name of one of scikit-learn's loss objects."""
    if isinstance(loss, str):
        return loss
    mro = [c.__name__ for c in type(loss).__mro__ if c.__module__.startswith("sklearn._loss")]
    return next((_SKLEARN_LOSSES[name] for name in mro if name in _SKLEARN_LOSSES), loss)


def _check_finite_labels(y: Any) -> None:
    """Raise a clear error for NaN / infinite class labels (floating ``y`` only)."""
    if isinstance(y, np.ndarray):
        if y.dtype.kind != "f" or np.all(np.isfinite(y)):
            return
    else:
        xp = framework_of(y).xp
        if not xp.isdtype(y.dtype, "real floating") or bool(xp.all(xp.isfinite(y))):
            return
    yh = _host(y)  # only on failure: where the first bad label is
    raise ValueError(f"Input y contains {int(np.isnan(yh).sum())} NaN and {int(np.isinf(yh).sum())} infinite "
                     f"value(s); the first is at index {int(np.flatnonzero(~np.isfinite(yh))[0])}. Class labels "
                     "must be finite.")


def _any_missing(Xb: Any, missing_bin: int, *, xp: Any) -> np.ndarray:
    """Which columns of the codes ``Xb`` (n, d) hold the missing-values bin: (d,) uint8 on the host.

    In row chunks, so the comparison's temporary stays small.
    """
    n, d = int(Xb.shape[0]), int(Xb.shape[1])
    step = primitives.chunk_rows(n, d, budget=8 * 2**20)
    seen = None
    for a in range(0, n, step):
        part = xp.any(Xb[a:min(n, a + step), ...] == missing_bin, axis=0)
        seen = part if seen is None else seen | part
    return _host(seen).astype(np.uint8)


def _host_view(x: Any) -> np.ndarray:
    """A NumPy view of an array in CPU memory (torch, JAX: no copy)."""
    if namespace_kind(framework_of(x).xp) == "torch":
        return x.detach().numpy()
    return np.asarray(x)


# --------------------------------------------------------------------------- #
# categorical features
# --------------------------------------------------------------------------- #


def _pandas_categoricals(X: Any) -> tuple[Any, np.ndarray | None, list[Any] | None]:
    """Replace pandas ``category`` columns by their codes (NaN for missing); return the mask and categories."""
    if not (type(X).__module__.startswith("pandas") and hasattr(X, "dtypes")):
        return X, None, None
    import pandas as pd

    mask = np.asarray([isinstance(dt, pd.CategoricalDtype) for dt in X.dtypes], dtype=bool)
    if not mask.any():
        return X, mask, None
    cats = [X.iloc[:, j].cat.categories if m else None for j, m in enumerate(mask)]
    return _encode_pandas(X, mask, cats), mask, cats


def _encode_pandas(X: Any, mask: np.ndarray, cats: list[Any]) -> Any:
    import pandas as pd

    out = X.copy(deep=False)
    for j in np.flatnonzero(mask):
        col = X.iloc[:, j]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = pd.Categorical(col.astype(object), categories=cats[j]).codes
        else:
            codes = pd.Categorical(col, categories=cats[j]).codes
        out.isetitem(int(j), np.where(codes < 0, np.nan, codes.astype(np.float64)))
    return out


def _feature_label(j: int, names: Any) -> str:
    """How scikit-learn names feature ``j`` in messages: ``'name'`` with feature names, else ``at index j``."""
    return f"'{names[j]}'" if names is not None else f"at index {j}"


def _category_values(col: np.ndarray, max_bins: int, j: int, names: Any = None) -> np.ndarray:
    """Sorted distinct non-negative values of a categorical column (host), checked."""
    vals = col[~np.isnan(col)]
    vals = vals[vals >= 0]  # negative values count as missing (scikit-learn's rule)
    if vals.size and not np.all(vals == np.round(vals)):
        bad = vals[vals != np.round(vals)][0]
        raise ValueError(f"Categorical feature {_feature_label(j, names)} (column {j}) holds the non-integer "
                         f"value {bad}; categories must be non-negative integers (or a pandas 'category' "
                         "column).")
    cats = np.unique(vals)
    if cats.size > max_bins:
        raise ValueError(f"Categorical feature {_feature_label(j, names)} is expected to have a cardinality <= "
                         f"{max_bins} but actually has a cardinality of {cats.size}.")
    return cats.astype(np.float64)


class _BaseHGB(BaseEstimator):
    """The boosting loop shared by the regressor and the classifier."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # ------------------------------------------------------------------ #
    # parameters
    # ------------------------------------------------------------------ #

    def _check_params(self) -> None:
        name = type(self).__name__

        def bad(param: str, expected: str) -> ValueError:
            return ValueError(f"The '{param}' parameter of {name} must be {expected}. "
                              f"Got {getattr(self, param)!r} instead.")

        def real(param: str, lo: float, hi: float = np.inf, *, lo_open: bool = False, hi_open: bool = False,
                 none: bool = False) -> None:
            v = getattr(self, param)
            if v is None and none:
                return
            ok = (isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)) or (
                isinstance(v, numbers.Real) and v == np.inf and hi == np.inf)
            ok = ok and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
            if not ok:
                raise bad(param, f"a float in the range {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
                          + (" or None" if none else ""))

        def integer(param: str, lo: int, hi: int | None = None, *, none: bool = False) -> None:
            v = getattr(self, param)
            if v is None and none:
                return
            ok = isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)
            if not ok:
                raise bad(param, f"an int in the range [{lo}, {'inf' if hi is None else hi}]"
                          + (" or None" if none else ""))

        real("learning_rate", 0.0, lo_open=True)
        integer("max_iter", 1)
        integer("max_leaf_nodes", 2, none=True)
        integer("max_depth", 1, none=True)
        integer("min_samples_leaf", 1)
        real("l2_regularization", 0.0)
        real("max_features", 0.0, 1.0, lo_open=True)
        integer("max_bins", 2, 255)
        integer("n_iter_no_change", 1)
        real("tol", 0.0)
        integer("verbose", 0)
        if self.early_stopping not in ("auto", True, False):
            raise bad("early_stopping", "'auto', True or False")
        vf = self.validation_fraction
        if vf is not None:
            if isinstance(vf, numbers.Integral) and not isinstance(vf, bool):
                if vf < 1:
                    raise bad("validation_fraction", "an int >= 1, a float in (0, 1) or None")
            elif not (isinstance(vf, numbers.Real) and 0 < vf < 1):
                raise bad("validation_fraction", "an int >= 1, a float in (0, 1) or None")
        if not (self.scoring is None or callable(self.scoring) or isinstance(self.scoring, str)):
            raise bad("scoring", "a str, a callable or None")

    def _check_monotonic(self, d: int) -> np.ndarray:
        cst = self.monotonic_cst
        out = np.zeros(d, dtype=np.int8)
        if cst is None:
            return out
        if isinstance(cst, dict):
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise ValueError(f"{type(self).__name__} was not fitted on data with feature names. Pass "
                                 "monotonic_cst as an integer array instead.")
            unknown = sorted(set(cst) - set(names))
            if unknown:
                shown = unknown[:5] + (["..."] if len(unknown) > 5 else [])
                raise ValueError(f"monotonic_cst contains {len(unknown)} unexpected feature names: {shown}.")
            for nm in names:  # the values are checked before any is converted
                if nm in cst and cst[nm] not in (-1, 0, 1):
                    raise ValueError(f"monotonic_cst['{nm}'] must be either -1, 0 or 1. Got {cst[nm]!r}.")
            for j, nm in enumerate(names):
                out[j] = cst.get(nm, 0)
            return out
        arr = np.asarray(cst)
        unexpected = np.setdiff1d(arr, [-1, 0, 1]) if arr.dtype.kind in "iufb" else np.unique(arr)
        if unexpected.shape[0]:
            raise ValueError(f"monotonic_cst must be an array-like of -1, 0 or 1. Observed values: "
                             f"{unexpected.tolist()}.")
        if arr.shape != (d,):
            raise ValueError(f"monotonic_cst has shape {arr.shape} but the input data X has {d} features.")
        return arr.astype(np.int8)

    def _check_interaction_cst(self, n_features: int) -> list[set[int]] | None:
        """scikit-learn's name for :meth:`_check_interaction` (the constraint groups as sets)."""
        return self._check_interaction(n_features)

    def _check_interaction(self, d: int) -> list[set[int]] | None:
        cst = self.interaction_cst
        if cst is None:
            return None
        if cst == "no_interactions":
            groups: Any = [[i] for i in range(d)]
        elif cst == "pairwise":
            groups = [[i, j] for i in range(d) for j in range(i + 1, d)]
        elif isinstance(cst, str):
            raise ValueError(f"interaction_cst must be 'pairwise', 'no_interactions' or a sequence of "
                             f"feature groups; got {cst!r}.")
        else:
            groups = cst
        names = getattr(self, "feature_names_in_", None)
        try:
            sets = [set(g) for g in groups]
        except TypeError:
            raise ValueError(f"Interaction constraints must be a sequence of tuples or lists, got: {cst!r}.") from None
        out = []
        for group in sets:
            idx = set()
            for x in group:
                if isinstance(x, str) and names is not None and x in set(names):
                    idx.add(int(np.flatnonzero(names == x)[0]))
                elif isinstance(x, numbers.Integral) and not isinstance(x, bool) and 0 <= x < d:
                    idx.add(int(x))
                else:
                    raise ValueError(
                        f"Interaction constraints must consist of integer indices in [0, n_features - 1] = "
                        f"[0, {d - 1}], specifying the position of features, got invalid indices: "
                        f"{sorted(group, key=str)!r} (the entry {x!r}; feature names of X are accepted too).")
            out.append(idx)
        rest = set(range(d)) - set().union(*out) if out else set(range(d))
        if rest:
            out.append(rest)
        return out

    def _categorical_mask(self, X: Any, d: int, pandas_mask: np.ndarray | None) -> np.ndarray | None:
        cf = self.categorical_features
        if cf is None:
            return None
        if isinstance(cf, str) and cf == "from_dtype":
            return pandas_mask if pandas_mask is not None and pandas_mask.any() else None
        arr = np.asarray(cf)
        if arr.size == 0:
            return None
        names = getattr(self, "feature_names_in_", None)
        if arr.dtype.kind not in "biuUO" or (arr.dtype.kind == "O" and {type(c) for c in arr.ravel()} != {str}):
            got = (arr.dtype.name if arr.dtype.kind != "O"
                   else ", ".join(sorted({type(c).__name__ for c in arr.ravel()})))
            raise ValueError(f"categorical_features must be an array-like of bool, int or str, got: {got}. "
                             "(Or 'from_dtype', or None.)")
        if arr.dtype.kind == "b":
            if arr.shape != (d,):
                raise ValueError(f"categorical_features set as a boolean mask must have shape (n_features,), "
                                 f"got: {arr.shape} (n_features = {d}).")
            mask = arr.astype(bool)
        elif arr.dtype.kind in "iu":
            if arr.min() < 0 or arr.max() >= d:
                raise ValueError(f"categorical_features set as integer indices must be in [0, n_features - 1] "
                                 f"= [0, {d - 1}]; got {arr.tolist()}.")
            mask = np.zeros(d, dtype=bool)
            mask[arr] = True
        else:
            if names is None:
                raise ValueError("categorical_features should be passed as an array of integers or as a boolean "
                                 "mask when the model is fitted on data without feature names.")
            unknown = [c for c in arr.tolist() if c not in set(names)]
            if unknown:
                raise ValueError(f"categorical_features has an item value '{unknown[0]}' which is not a valid "
                                 f"feature name of the training data. Observed feature names: {list(names)}")
            mask = np.isin(names, arr)
        return mask if mask.any() else None

    # ------------------------------------------------------------------ #
    # data
    # ------------------------------------------------------------------ #

    def _validate(self, X: Any, y: Any = None, sample_weight: Any = None, *, reset: bool) -> Any:
        if reset:
            X, pmask, pcats = _pandas_categoricals(X)
            self._pandas_categories = pcats
            self._pandas_mask = pmask
        elif getattr(self, "_pandas_categories", None) is not None:
            X = _encode_pandas(X, self._pandas_mask, self._pandas_categories)
        # NaN is missing; +-inf are values (the edge bins), as scikit-learn's estimators take them
        v = validate_data(self, X, y, reset=reset, sample_weight=sample_weight, allow_nan=True,
                          check_finite=False, y_numeric=isinstance(self, RegressorMixin))
        return v

    def _numba_path(self, v: Any) -> bool:
        return numba_active() or (namespace_kind(v.xp) != "numpy" and _on_cpu(v.compute) and _numba_installed())

    def _feature_order(self) -> np.ndarray:
        """The columns in the order the trees see them: categorical first, then numerical.

        scikit-learn's ColumnTransformer puts the categorical columns first; the order decides
        ties between features and which features ``max_features`` draws, so it is kept.
        """
        mask = self.is_categorical_
        if mask is None:
            return np.arange(self.n_features_in_)
        return np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)])

    def _encode_categories(self, X: Any, *, xp: Any) -> Any:
        """``X`` in tree order: category codes first (NaN: missing or unknown), numerical columns after."""
        if self.is_categorical_ is None:
            return X
        cols = np.flatnonzero(self.is_categorical_)
        rest = np.flatnonzero(~self.is_categorical_)
        Xc = xp.take(X, xp.asarray(cols, device=X.device), axis=1)
        codes = self._cat_mapper.transform(Xc, xp=xp)
        missing = codes == self._cat_mapper.missing_values_bin_idx_
        enc = xp.where(missing, xp.nan, xp.astype(codes, X.dtype))
        if rest.size == 0:
            return enc
        return xp.concat([enc, xp.take(X, xp.asarray(rest, device=X.device), axis=1)], axis=1)

    # ------------------------------------------------------------------ #
    # fit
    # ------------------------------------------------------------------ #

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, X_val: Any = None, y_val: Any = None,
            sample_weight_val: Any = None) -> _BaseHGB:
        """Fit on ``X`` (n_samples, n_features; NaN = missing) and ``y`` (n_samples,), optionally weighted.

        ``X_val``, ``y_val`` (and ``sample_weight_val``): a validation set for early stopping,
        used instead of a ``validation_fraction`` split, as in scikit-learn (early stopping must
        then be ``"auto"`` or True). They must come from the same library and device as ``X``.
        """
        with contextlib.ExitStack() as stack:
            return self._fit(X, y, sample_weight, stack, (X_val, y_val, sample_weight_val))

    @staticmethod
    def _check_val_args(val: tuple[Any, Any, Any]) -> bool:
        """Whether a validation set was given; raises if only part of it was (before anything else)."""
        X_val, y_val, sw_val = val
        if X_val is None and y_val is None:
            if sw_val is not None:
                raise ValueError("sample_weight_val is provided, but X_val and y_val were not provided.")
            return False
        if y_val is None:
            raise ValueError("X_val is provided, but y_val was not provided.")
        if X_val is None:
            raise ValueError("y_val is provided, but X_val was not provided.")
        return True

    def _validation_set(self, val: tuple[Any, Any, Any], compute: Compute) -> tuple[Any, Any, Any] | None:
        """The user's validation set, validated and encoded like the training data; None if not given."""
        X_val, y_val, sw_val = val
        if not self._check_val_args(val):
            return None
        if self.early_stopping is False:
            raise ValueError("X_val and y_val are passed to fit while at the same time early_stopping is False. "
                             "When passing X_val and y_val to fit, early_stopping should be set to either "
                             "'auto' or True.")
        vv = self._validate(X_val, y_val, sw_val, reset=False)
        if vv.compute.framework is not compute.framework or str(vv.compute.device) != str(compute.device):
            raise TypeError(f"X_val lives on {vv.compute.framework.name} ({vv.compute.device}) but X on "
                            f"{compute.framework.name} ({compute.device}): pass both from the same library "
                            "and device.")
        return vv.X, self._encode_y_val(vv.y, compute), vv.sample_weight

    def _encode_y_val(self, y: Any, compute: Compute) -> Any:
        return y

    def _fit(self, X: Any, y: Any, sample_weight: Any, stack: contextlib.ExitStack,
             val: tuple[Any, Any, Any] = (None, None, None)) -> _BaseHGB:
        self._check_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        self._check_val_args(val)
        warm = self.warm_start and getattr(self, "_trees", None)
        if not warm:
            for attr in ("_trees", "_forest", "train_score_", "validation_score_", "n_iter_"):
                self.__dict__.pop(attr, None)
        v = self._validate(X, y, sample_weight, reset=not warm)
        xp, compute = v.xp, v.compute
        Xa, ya, sw = v.X, v.y, v.sample_weight
        n, d = int(Xa.shape[0]), int(Xa.shape[1])
        if not warm:
            rng = check_random_state(self.random_state)
            self._random_seed = int(rng.randint(np.iinfo(np.uint32).max, dtype="u8"))
            self._feature_rng = np.random.default_rng(int(rng.randint(np.iinfo(np.uint32).max, dtype="u8")))
        ya, sw = self._encode_y(ya, sw, compute)
        given_val = self._validation_set(val, compute)
        if sw is not None and not bool(xp.any(sw > 0)):
            raise ValueError("sample_weight must have at least one positive value; all the weights are zero "
                             "(or negative).")
        self._loss = self._make_loss(sw)
        self._loss.check_y(ya, xp=xp)
        if given_val is not None:
            self._loss.check_y(given_val[1], xp=xp)
        mono = self._check_monotonic(d)
        inter = self._check_interaction(d)
        if warm and self.max_iter < self.n_iter_:
            raise ValueError(f"max_iter={self.max_iter} must be larger than or equal to n_iter_={self.n_iter_} "
                             "when warm_start==True")

        # categorical features
        if not warm:
            mask = self._categorical_mask(X, d, getattr(self, "_pandas_mask", None))
            self.is_categorical_ = mask
        mask = self.is_categorical_
        if mask is not None and np.any(mono[mask] != 0):
            raise ValueError("Categorical features cannot have monotonic constraints: monotonic_cst is "
                             f"non-zero at categorical column(s) {np.flatnonzero(mask & (mono != 0)).tolist()}.")
        if self._loss.n_trees_per_iteration > 1 and np.any(mono != 0):
            raise ValueError("monotonic constraints are not supported for multiclass classification.")

        # host fast path for torch / JAX arrays in CPU memory
        if namespace_kind(xp) != "numpy" and _on_cpu(compute) and self._numba_path(v):
            np_compute = Compute(get_framework("numpy").xp, "cpu", "numba", get_framework("numpy"))
            Xa, ya = _host_view(Xa), _host_view(ya)
            sw = None if sw is None else _host_view(sw)
            if given_val is not None:
                given_val = tuple(None if a is None else _host_view(a) for a in given_val)
            xp, compute = np_compute.xp, np_compute
            stack.enter_context(use_backend("numba"))  # the numba kernels, on the zero-copy views

        # early stopping and the validation split
        self.do_early_stopping_ = n > 10_000 if self.early_stopping == "auto" else bool(self.early_stopping)
        X_tr, y_tr, sw_tr = Xa, ya, sw
        X_val = y_val = sw_val = None
        if self.do_early_stopping_ and given_val is not None:
            X_val, y_val, sw_val = given_val  # the user's validation set: no split of the training data
        elif self.do_early_stopping_ and self.validation_fraction is not None:
            n_val = (self.validation_fraction if isinstance(self.validation_fraction, numbers.Integral)
                     else int(np.ceil(self.validation_fraction * n)))
            why = None
            if n - n_val < 2 or n_val < 1:
                why = f"{n} samples are too few for a validation split of {self.validation_fraction!r}"
            elif isinstance(self, ClassifierMixin):  # the split is stratified
                counts = np.bincount(_host(ya).astype(np.int64), minlength=int(self.classes_.shape[0]))
                if counts.min() < 2:
                    why = (f"the least populated class ({_host(self.classes_)[int(np.argmin(counts))].tolist()!r}) has "
                           f"{int(counts.min())} sample(s), too few for a stratified validation split")
                elif min(n_val, n - n_val) < counts.size:
                    why = (f"a validation split of {self.validation_fraction!r} of {n} samples leaves fewer "
                           f"samples than the {counts.size} classes on one side of a stratified split")
            if why is not None:
                warnings.warn(f"early_stopping: {why}; scoring on the training data instead "
                              "(validation_score_ stays empty).", UserWarning, stacklevel=2)
            else:
                X_tr, X_val, y_tr, y_val, sw_tr, sw_val = self._split(Xa, ya, sw)
        if isinstance(X_tr, np.ndarray) and not X_tr.flags.c_contiguous:
            # BinMapper.fit sorts ``X.T`` in place when that is already C-contiguous: it would reorder the
            # caller's Fortran-ordered array (or fail on a read-only one, e.g. a DataFrame's values).
            X_tr = np.ascontiguousarray(X_tr)
        if mask is not None and not warm:
            Xh = _host(X_tr)
            names = getattr(self, "feature_names_in_", None)
            known = [_category_values(Xh[:, j], self.max_bins, j, names) if mask[j] else None for j in range(d)]
            self._cat_mapper = BinMapper(n_bins=self.max_bins + 1, is_categorical=np.ones(int(mask.sum()), bool),
                                         known_categories=[k for k in known if k is not None])
            cols = np.flatnonzero(mask)
            self._cat_mapper.fit(xp.take(X_tr, xp.asarray(cols, device=X_tr.device), axis=1), xp=xp)
        X_tr = self._encode_categories(X_tr, xp=xp)
        if X_val is not None:
            X_val = self._encode_categories(X_val, xp=xp)

        # binning, on the columns in tree order (categorical first): constraints follow the columns
        order = self._feature_order()
        is_cat = np.zeros(d, dtype=bool) if mask is None else mask[order]
        mono = mono[order]
        if inter is not None:
            position = np.empty(d, dtype=np.int64)
            position[order] = np.arange(d)
            inter = [{int(position[j]) for j in group} for group in inter]
        known_codes = [np.arange(self._cat_mapper.n_bins_non_missing_[j], dtype=np.float64) if is_cat[j] else None
                       for j in range(d)] if mask is not None else None
        if not warm:
            self._bin_mapper = BinMapper(n_bins=self.max_bins + 1, is_categorical=is_cat if mask is not None else None,
                                         known_categories=known_codes, random_state=self._random_seed)
            self._bin_mapper.fit(X_tr, xp=xp, sample_weight=sw_tr)
        # the compiled grower reads columns: Fortran-ordered codes, straight from the binning kernel
        fortran = namespace_kind(xp) == "numpy" and numba_active()
        Xb = self._bin_mapper.transform(X_tr, xp=xp, order="F" if fortran else "C")
        missing_bin = self._bin_mapper.missing_values_bin_idx_
        has_missing = _any_missing(Xb, missing_bin, xp=xp)

        loss = self._loss
        K = loss.n_trees_per_iteration
        fdt = X_tr.dtype
        params = GrowerParams(
            n_bins=self.max_bins + 1, n_bins_non_missing=np.asarray(self._bin_mapper.n_bins_non_missing_, np.uint32),
            has_missing=has_missing, is_categorical=is_cat.astype(np.uint8), monotonic=mono,
            max_leaf_nodes=self.max_leaf_nodes, max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=float(self.l2_regularization), shrinkage=float(self.learning_rate),
            interaction_cst=inter, feature_fraction=float(self.max_features), rng=self._feature_rng)

        use_host = namespace_kind(xp) == "numpy"
        fast_grad = None
        if use_host and numba_active() and loss.name in ("squared_error", "log_loss"):
            from . import _loss_numba as fast_grad

            g_buf = np.empty((loss.n_trees_per_iteration, int(X_tr.shape[0])), dtype=np.float32)
            h_buf = np.empty_like(g_buf)
        growers: list[Any] = []
        kernels = None
        if use_host:
            if numba_active():
                from ...backends import _threaded
                from ._grower_numba import Grower

                # the trees of one iteration (one per class) grow side by side, one per thread, each
                # grown exactly as alone (feature subsampling draws in order: then one at a time)
                side = min(_threaded.worker_threads(), K)
                if _threaded.in_job() or params.feature_fraction < 1.0 or loss.need_update_leaves_values:
                    side = 1
                growers = [Grower(Xb, params) for _ in range(max(1, side))]
            else:
                from . import _tree_numpy as kernels

                Xb = np.ascontiguousarray(Xb)
        else:
            from ._grower_array import ArrayGrower

            grower = ArrayGrower(Xb, params, xp=xp)

        if not warm:
            self._baseline = _host(loss.baseline(y_tr, sw_tr, xp=xp)).astype(np.float64)
            self._trees = []
            self.train_score_, self.validation_score_ = [], []
        else:
            self.train_score_ = list(self.train_score_)
            self.validation_score_ = list(self.validation_score_)
        raw = self._raw(X_tr, xp=xp, dtype=fdt)
        raw_val = self._raw(X_val, xp=xp, dtype=fdt) if X_val is not None else None
        scorer, small = self._scoring_setup(X_tr, y_tr, sw_tr, xp=xp)
        if self.do_early_stopping_ and not warm:
            self._record_scores(raw, y_tr, sw_tr, raw_val, y_val, sw_val, scorer, small, X_val, xp=xp)

        for _ in range(len(self._trees), self.max_iter):
            if fast_grad is not None:
                g, h = fast_grad.gradient_hessian(loss, y_tr, raw, sw_tr, g_buf, h_buf)
            else:
                g, h = loss.gradient_hessian(y_tr, raw, sw_tr, xp=xp)
                g = xp.astype(g, xp.float32)
                h = None if h is None else xp.astype(h, xp.float32)
            trees: list[Tree] = []
            if use_host:
                trees = self._host_trees(g, h, raw, y_tr, sw_tr, Xb, params, kernels, growers, xp=xp)
            for k in range(0 if use_host else K):
                gk = g[k, ...]
                hk = None if h is None else h[k, ...]
                tb, node_of, node_values = grower.grow(gk, hk)
                vals = node_values * params.shrinkage
                leaf_values = None
                if loss.need_update_leaves_values:
                    vals = loss.update_leaves_values(node_of, grower.M, y_tr, raw[k, ...], sw_tr, xp=xp)
                    vals = xp.where(xp.isnan(vals), 0.0, vals) * params.shrinkage
                    leaf_values = _host(vals)[: len(tb.value)]
                delta = xp.take(xp.astype(vals, raw.dtype), node_of)
                raw = self._add_row(raw, k, delta, xp=xp)
                trees.append(tb.build(self._bin_mapper.bin_thresholds_, params.n_bins_non_missing,
                                      params.shrinkage, leaf_values))
            self._trees.append(trees)
            if raw_val is not None:
                raw_val = Forest([trees]).predict(X_val, xp=xp, out=raw_val)
            stop = False
            if self.do_early_stopping_:
                stop = self._record_scores(raw, y_tr, sw_tr, raw_val, y_val, sw_val, scorer, small, X_val, xp=xp)
                for name, scores in (("train_score", self.train_score_), ("validation_score", self.validation_score_)):
                    if len(scores):  # figures early stopping computed anyway: to the tracking run, if one listens
                        _hooks.report_metric(self, name, scores[-1], len(self._trees))
            if self.verbose:
                print(f"[{len(self._trees)}/{self.max_iter}] train score: "
                      f"{self.train_score_[-1] if self.train_score_ else float('nan'):.5f}")
            if stop:
                break
        self._forest = Forest(self._trees)
        self.n_iter_ = len(self._trees)
        self.n_trees_per_iteration_ = K
        self.train_score_ = np.asarray(self.train_score_)
        self.validation_score_ = np.asarray(self.validation_score_)
        return self

    def _host_tree(self, k: int, g: np.ndarray, h: np.ndarray | None, raw: np.ndarray, y: Any, sw: Any,
                   Xb: np.ndarray, params: GrowerParams, kernels: Any, grower: Any, *, xp: Any) -> Tree:
        """Tree ``k`` of an iteration on the host (gradients ``g[k]``), its values added to ``raw[k]``."""
        from . import _grower_host

        loss = self._loss
        gk = g[k, ...]
        hk = None if h is None else h[k, ...]
        gt = grower.grow(gk, hk) if grower is not None else _grower_host.grow(Xb, gk, hk, params, kernels=kernels)
        leaf_values = None
        values = np.asarray(gt.builder.value) * params.shrinkage
        if loss.need_update_leaves_values:
            leaf = np.empty(Xb.shape[0], dtype=np.int64)
            (grower.leaf_ids if grower is not None else kernels.leaf_ids)(gt.idx, gt.starts, gt.stops, leaf)
            upd = np.asarray(loss.update_leaves_values(leaf, len(gt.leaves), y, raw[k], sw, xp=xp))
            leaf_values = np.zeros(len(gt.builder.value))
            leaf_values[gt.leaves] = np.nan_to_num(upd) * params.shrinkage
            values = leaf_values
        if grower is not None:
            grower.add_leaf_values(raw[k], gt, values[gt.leaves])
        else:
            kernels.update_raw(raw[k], gt.idx, gt.starts, gt.stops, values[gt.leaves])
        return gt.builder.build(self._bin_mapper.bin_thresholds_, params.n_bins_non_missing, params.shrinkage,
                                leaf_values)

    def _host_trees(self, g: np.ndarray, h: np.ndarray | None, raw: np.ndarray, y: Any, sw: Any, Xb: np.ndarray,
                    params: GrowerParams, kernels: Any, growers: list[Any], *, xp: Any) -> list[Tree]:
        """The K trees of one iteration on the host. With several growers, rounds of trees grow side by
        side, each in a job of its own (its parts serial, sized as in a serial run: the same tree);
        the trees left over grow one at a time with every thread."""
        K = int(g.shape[0])
        args = (g, h, raw, y, sw, Xb, params, kernels)
        if len(growers) < 2:
            grower = growers[0] if growers else None
            return [self._host_tree(k, *args, grower, xp=xp) for k in range(K)]
        from ...backends import _threaded

        side = len(growers)
        trees: list[Tree] = []
        full = K - K % side
        for r0 in range(0, full, side):
            ctxs = [_threaded.job_context() for _ in range(side)]
            trees.extend(_threaded.parallel_map(
                lambda j, r0=r0, ctxs=ctxs: ctxs[j].run(self._host_tree, r0 + j, *args, growers[j], xp=xp),
                side, threads=side))
        trees.extend(self._host_tree(k, *args, growers[0], xp=xp) for k in range(full, K))
        return trees

    @staticmethod
    def _add_row(raw: Any, k: int, delta: Any, *, xp: Any) -> Any:
        if raw.shape[0] == 1:
            return raw + delta[None, :]
        rows = [raw[j, ...] + delta if j == k else raw[j, ...] for j in range(raw.shape[0])]
        return xp.stack(rows)

    def _raw(self, X: Any, *, xp: Any, dtype: Any) -> Any:
        """Raw predictions (K, n) of the trees fitted so far (``X`` already encoded), baseline included."""
        K = self._loss.n_trees_per_iteration
        n = int(X.shape[0])
        info = xp.__array_namespace_info__()
        wide = xp.float64 if "float64" in info.dtypes(device=X.device) else xp.float32
        base = xp.asarray(self._baseline, dtype=wide, device=X.device)
        raw = xp.broadcast_to(base[:, None], (K, n))
        raw = xp.asarray(raw, copy=True) if namespace_kind(xp) != "jax" else raw + 0.0
        if self._trees:
            forest = vars(self).get("_forest")
            if forest is None or forest.n_iter != len(self._trees):  # during fit: the trees so far
                forest = Forest(self._trees)
            raw = forest.predict(X, xp=xp, out=raw)
        return raw

    def _split(self, X: Any, y: Any, sw: Any) -> tuple[Any, ...]:
        stratify = y if isinstance(self, ClassifierMixin) else None
        arrays = (X, y) if sw is None else (X, y, sw)
        if all(isinstance(a, np.ndarray) for a in arrays):
            # host data: scikit-learn's own split (the same rows for the same seed), so that early
            # stopping sees scikit-learn's validation set and stops where it does
            from sklearn.model_selection import train_test_split
        else:  # device arrays: toolbox's split, computed where they live
            from ...model_selection import train_test_split
        parts = train_test_split(*arrays, test_size=self.validation_fraction, stratify=stratify,
                                 random_state=self._random_seed)
        X_tr, X_val, y_tr, y_val = parts[:4]
        sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
        return X_tr, X_val, y_tr, y_val, sw_tr, sw_val

    # ------------------------------------------------------------------ #
    # early stopping
    # ------------------------------------------------------------------ #

    def _scoring_setup(self, X: Any, y: Any, sw: Any, *, xp: Any) -> tuple[Any, Any]:
        if not self.do_early_stopping_ or self.scoring == "loss":
            return None, None
        from ...model_selection import check_scoring

        scorer = check_scoring(self, self.scoring)
        n = int(X.shape[0])
        if n > _SMALL_TRAIN:
            from sklearn.utils import resample

            # scikit-learn's subsample: the same rows (stratified for a classifier), in the same order
            stratify = _host(y) if isinstance(self, ClassifierMixin) else None
            idx = resample(np.arange(n), n_samples=_SMALL_TRAIN, replace=False, random_state=self._random_seed,
                           stratify=stratify)
            take = lambda a: None if a is None else xp.take(a, xp.asarray(idx, device=X.device), axis=0)  # noqa: E731
            return scorer, (take(X), take(y), take(sw), idx)
        return scorer, (X, y, sw, None)

    def _record_scores(self, raw: Any, y: Any, sw: Any, raw_val: Any, y_val: Any, sw_val: Any, scorer: Any,
                       small: Any, X_val: Any, *, xp: Any) -> bool:
        if scorer is None:
            self.train_score_.append(self._loss.score(y, raw, sw, xp=xp))
            if raw_val is not None:
                self.validation_score_.append(self._loss.score(y_val, raw_val, sw_val, xp=xp))
        else:
            self.n_iter_ = len(self._trees)
            self.n_trees_per_iteration_ = self._loss.n_trees_per_iteration
            Xs, ys, sws, idx = small
            # the scorer predicts on the rows whose raw predictions the loop keeps up to date: reuse them
            # rather than run every tree again at every iteration
            raw_small = raw if idx is None else xp.take(raw, xp.asarray(idx, device=raw.device), axis=1)
            self._fit_raw = {id(Xs): raw_small}
            if X_val is not None:
                self._fit_raw[id(X_val)] = raw_val
            self._in_fit_encoded = True
            try:
                self.train_score_.append(self._score_encoded(scorer, Xs, ys, sws))
                if X_val is not None:
                    self.validation_score_.append(self._score_encoded(scorer, X_val, y_val, sw_val))
            finally:
                self._in_fit_encoded = False
                self._fit_raw = {}
        scores = self.validation_score_ if raw_val is not None or (scorer is not None and X_val is not None) \
            else self.train_score_
        return self._should_stop(scores)

    def _score_encoded(self, scorer: Any, X: Any, y: Any, sw: Any) -> float:
        """``scorer`` on encoded ``X`` and ``y`` during fit (a classifier then predicts encoded labels)."""
        return float(scorer(self, X, y) if sw is None else scorer(self, X, y, sample_weight=sw))

    def _should_stop(self, scores: list[float]) -> bool:
        ref = self.n_iter_no_change + 1
        if len(scores) < ref:
            return False
        reference = scores[-ref] + self.tol
        return not any(s > reference for s in scores[-ref + 1:])

    # ------------------------------------------------------------------ #
    # prediction
    # ------------------------------------------------------------------ #

    def _prepare(self, X: Any) -> tuple[Any, Any, Any]:
        """Validated, encoded ``X`` on its compute namespace: ``(X, xp, origin)``."""
        if getattr(self, "_in_fit_encoded", False):
            fw = framework_of(X)
            return X, fw.xp, None
        check_is_fitted(self, "_forest")
        v = self._validate(X, reset=False)
        Xa, xp = v.X, v.xp
        if namespace_kind(xp) != "numpy" and _on_cpu(v.compute) and self._numba_path(v):
            Xa, xp = _host_view(Xa), get_framework("numpy").xp
        return self._encode_categories(Xa, xp=xp), xp, v.origin

    @staticmethod
    def _host_context(xp: Any, origin: Any) -> Any:
        """The numba kernels for torch / JAX arrays in CPU memory that run on zero-copy NumPy views."""
        on_views = origin is not None and origin.framework != "numpy" and namespace_kind(xp) == "numpy"
        return use_backend("numba") if on_views else contextlib.nullcontext()

    def _raw_predict(self, X: Any) -> Any:
        """Raw scores, shape (n_samples, n_trees_per_iteration), mirroring ``X`` (scikit-learn's private API)."""
        raw, _xp, origin = self._raw_scores(X)
        return self._out(raw.T, origin)

    def _raw_scores(self, X: Any) -> tuple[Any, Any, Any]:
        """Raw scores of shape (n_trees_per_iteration, n_samples), their namespace, and ``X``'s origin."""
        if getattr(self, "_in_fit_encoded", False) and id(X) in self._fit_raw:  # scoring during fit
            return self._fit_raw[id(X)], framework_of(X).xp, None
        Xe, xp, origin = self._prepare(X)
        with self._host_context(xp, origin):
            return self._raw(Xe, xp=xp, dtype=Xe.dtype), xp, origin

    def _staged_raw(self, X: Any) -> Any:
        Xe, xp, origin = self._prepare(X)
        with self._host_context(xp, origin):
            yield from self._staged_raw_from(Xe, xp, origin)

    def _staged_raw_from(self, Xe: Any, xp: Any, origin: Any) -> Any:
        K = self._loss.n_trees_per_iteration
        n = int(Xe.shape[0])
        info = xp.__array_namespace_info__()
        wide = xp.float64 if "float64" in info.dtypes(device=Xe.device) else xp.float32
        raw = xp.broadcast_to(xp.asarray(self._baseline, dtype=wide, device=Xe.device)[:, None], (K, n)) + 0.0
        for i in range(self.n_iter_):
            raw = self._forest.predict(Xe, xp=xp, start=i, stop=i + 1, out=raw if namespace_kind(xp) != "numpy"
                                       else raw.copy())
            yield raw, xp, origin

    def _out(self, result: Any, origin: Any) -> Any:
        return result if origin is None else self._output(result, origin)

    @property
    def _predictors(self) -> list[list[TreeView]]:
        """The trees as scikit-learn's ``_predictors`` lists them: one list per iteration, one tree per
        output (``nodes`` record arrays, ``get_max_depth()``, ``get_n_leaf_nodes()``)."""
        check_is_fitted(self, "_forest")
        order = np.asarray(self._feature_order())
        return [[TreeView(t, order) for t in it] for it in self._trees]

    @property
    def feature_importances_(self) -> np.ndarray:
        """Total split gain per feature over all trees, normalised to sum to 1: shape (n_features,).

        (scikit-learn's HistGradientBoosting has no such attribute.) All zeros when no tree split.
        """
        check_is_fitted(self, "_forest")
        in_tree_order = np.zeros(self.n_features_in_)
        for it in self._trees:
            for t in it:
                split = ~t.is_leaf
                np.add.at(in_tree_order, t.feature[split], t.gain[split])
        imp = np.zeros(self.n_features_in_)
        imp[self._feature_order()] = in_tree_order
        total = imp.sum()
        return imp / total if total > 0 else imp


class HistGradientBoostingRegressor(RegressorMixin, _BaseHGB):
    """Histogram-based gradient boosting regression trees, written once for every backend.

    A drop-in for :class:`sklearn.ensemble.HistGradientBoostingRegressor` (same
    parameters, defaults and meaning; see there), computed where the data live:
    NumPy with numba kernels on the CPU, torch / CuPy / JAX on their device.
    NaN in ``X`` marks missing values.

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "gamma", "poisson", "quantile"}, default="squared_error"
    quantile : float, default=None
        The quantile to predict with ``loss="quantile"``, in (0, 1).
    learning_rate, max_iter, max_leaf_nodes, max_depth, min_samples_leaf, l2_regularization,
    max_features, max_bins, categorical_features, monotonic_cst, interaction_cst, warm_start,
    early_stopping, scoring, validation_fraction, n_iter_no_change, tol, verbose, random_state
        As in scikit-learn.

    Attributes
    ----------
    n_iter_ : int
    n_trees_per_iteration_ : int (1)
    train_score_, validation_score_ : ndarray of shape (n_iter_ + 1,) or (0,)
    is_categorical_ : ndarray of bool, shape (n_features,), or None
    do_early_stopping_ : bool
    feature_importances_ : ndarray of shape (n_features,)
        Total split gain per feature, normalised.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    def __init__(self, loss: str = "squared_error", *, quantile: float | None = None, learning_rate: float = 0.1,
                 max_iter: int = 100, max_leaf_nodes: int | None = 31, max_depth: int | None = None,
                 min_samples_leaf: int = 20, l2_regularization: float = 0.0, max_features: float = 1.0,
                 max_bins: int = 255, categorical_features: Any = "from_dtype", monotonic_cst: Any = None,
                 interaction_cst: Any = None, warm_start: bool = False, early_stopping: Any = "auto",
                 scoring: Any = "loss", validation_fraction: Any = 0.1, n_iter_no_change: int = 10,
                 tol: float = 1e-7, verbose: int = 0, random_state: Any = None) -> None:
        self.loss = loss
        self.quantile = quantile
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.monotonic_cst = monotonic_cst
        self.interaction_cst = interaction_cst
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state

    def _make_loss(self, sw: Any) -> Any:
        loss, quantile = _loss_name(self.loss), self.quantile
        if loss == "quantile" and not isinstance(self.loss, str):  # scikit-learn's PinballLoss instance
            quantile = float(self.loss.closs.quantile)
        if loss not in ("squared_error", "absolute_error", "gamma", "poisson", "quantile"):
            raise ValueError(f"The 'loss' parameter of HistGradientBoostingRegressor must be one of "
                             f"'squared_error', 'absolute_error', 'gamma', 'poisson', 'quantile'. Got {self.loss!r}.")
        return get_loss(loss, quantile=quantile)

    def _encode_y(self, y: Any, sw: Any, compute: Compute) -> tuple[Any, Any]:
        return y, sw

    def predict(self, X: Any) -> Any:
        """Predicted values for ``X`` (n_samples, n_features): shape (n_samples,), mirroring ``X``."""
        raw, xp, origin = self._raw_scores(X)
        return self._out(self._loss.link_inverse(raw, xp=xp), origin)

    def staged_predict(self, X: Any) -> Any:
        """Predictions after each iteration: a generator of arrays of shape (n_samples,)."""
        for raw, xp, origin in self._staged_raw(X):
            yield self._out(self._loss.link_inverse(raw, xp=xp), origin)


class HistGradientBoostingClassifier(ClassifierMixin, _BaseHGB):
    """Histogram-based gradient boosting classification trees, written once for every backend.

    A drop-in for :class:`sklearn.ensemble.HistGradientBoostingClassifier` (same
    parameters, defaults and meaning), computed where the data live. Binary
    problems grow one tree per iteration, ``K`` classes ``K`` trees (softmax).

    Parameters
    ----------
    loss : {"log_loss"}, default="log_loss"
    class_weight : dict or "balanced", default=None
        Weights per class, multiplied into ``sample_weight``.
    (the others as :class:`HistGradientBoostingRegressor`)

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_trees_per_iteration_ : int
        1 for binary problems, else ``n_classes``.
    (and those of :class:`HistGradientBoostingRegressor`)
    """

    def __init__(self, loss: str = "log_loss", *, learning_rate: float = 0.1, max_iter: int = 100,
                 max_leaf_nodes: int | None = 31, max_depth: int | None = None, min_samples_leaf: int = 20,
                 l2_regularization: float = 0.0, max_features: float = 1.0, max_bins: int = 255,
                 categorical_features: Any = "from_dtype", monotonic_cst: Any = None, interaction_cst: Any = None,
                 warm_start: bool = False, early_stopping: Any = "auto", scoring: Any = "loss",
                 validation_fraction: Any = 0.1, n_iter_no_change: int = 10, tol: float = 1e-7, verbose: int = 0,
                 random_state: Any = None, class_weight: Any = None) -> None:
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.monotonic_cst = monotonic_cst
        self.interaction_cst = interaction_cst
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.class_weight = class_weight

    def _make_loss(self, sw: Any) -> Any:
        if _loss_name(self.loss) != "log_loss":
            raise ValueError(f"The 'loss' parameter of HistGradientBoostingClassifier must be 'log_loss'. "
                             f"Got {self.loss!r}.")
        return get_loss("log_loss", n_classes=int(self.classes_.shape[0]))

    def _encode_y(self, y: Any, sw: Any, compute: Compute) -> tuple[Any, Any]:
        xp = compute.xp
        cw = self.class_weight
        if not (cw is None or isinstance(cw, dict) or (isinstance(cw, str) and cw == "balanced")):
            raise ValueError(f"The 'class_weight' parameter of HistGradientBoostingClassifier must be a dict, "
                             f"'balanced' or None. Got {cw!r} instead.")
        _check_finite_labels(y)
        if getattr(self, "_trees", None) and self.warm_start:
            classes = _host(self.classes_)
            yh = _host(y)
            if not np.all(np.isin(yh, classes)):
                raise ValueError("y contains labels not seen in the first fit (warm_start=True).")
            enc = compute.asarray(np.searchsorted(classes, yh).astype(np.int64))
        else:
            self.classes_, enc = encode_labels(y, compute=compute, estimator_name=type(self).__name__)
        if cw is not None:
            from sklearn.utils.class_weight import compute_class_weight

            classes = _host(self.classes_)
            weights = compute_class_weight(cw, classes=classes, y=classes[_host(enc)])
            dtype = _wide_float(xp, compute.device) if sw is None else sw.dtype
            w = xp.take(xp.asarray(weights, dtype=dtype, device=compute.device), enc)
            sw = w if sw is None else sw * w
        return enc, sw

    def _encode_y_val(self, y: Any, compute: Compute) -> Any:
        """``y_val``'s labels as indices into ``classes_``; a label not seen in ``y`` is an error."""
        _check_finite_labels(y)
        classes, yh = _host(self.classes_), _host(y)
        unseen = ~np.isin(yh, classes)
        if unseen.any():
            label = yh[unseen][:1].tolist()[0]
            raise ValueError(f"y_val contains label {label!r}, not seen in y (classes: {classes.tolist()}).")
        return compute.asarray(np.searchsorted(classes, yh).astype(np.int64))

    def _proba(self, raw: Any, xp: Any) -> Any:
        return self._loss.link_inverse(raw, xp=xp)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities: shape (n_samples, n_classes), mirroring ``X``."""
        raw, xp, origin = self._raw_scores(X)
        return self._out(self._proba(raw, xp), origin)

    def decision_function(self, X: Any) -> Any:
        """Raw scores: shape (n_samples,) for binary problems, (n_samples, n_classes) otherwise."""
        raw, _xp, origin = self._raw_scores(X)
        return self._out(raw[0, ...] if raw.shape[0] == 1 else raw.T, origin)

    def predict(self, X: Any) -> Any:
        """Predicted class labels: shape (n_samples,)."""
        raw, xp, origin = self._raw_scores(X)
        idx = xp.argmax(self._proba(raw, xp), axis=1)
        return self._labels(idx, xp, origin)

    def _labels(self, idx: Any, xp: Any, origin: Any) -> Any:
        if origin is None:  # scoring during fit: encoded labels, as y is there
            return idx
        fw = framework_of(idx)
        return self._output_labels(idx, Compute(fw.xp, fw.device_of(idx), fw.name, fw), origin)

    def staged_predict(self, X: Any) -> Any:
        """Predicted labels after each iteration: a generator of arrays of shape (n_samples,)."""
        for raw, xp, origin in self._staged_raw(X):
            yield self._labels(xp.argmax(self._proba(raw, xp), axis=1), xp, origin)

    def staged_predict_proba(self, X: Any) -> Any:
        """Class probabilities after each iteration: a generator of (n_samples, n_classes) arrays."""
        for raw, xp, origin in self._staged_raw(X):
            yield self._out(self._proba(raw, xp), origin)

    def staged_decision_function(self, X: Any) -> Any:
        """Raw scores after each iteration (shapes as :meth:`decision_function`)."""
        for raw, _, origin in self._staged_raw(X):
            yield self._out(raw[0, ...] if raw.shape[0] == 1 else raw.T, origin)
