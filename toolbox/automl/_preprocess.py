"""Per-candidate preprocessing, fitted on the training rows only: imputation, encodings, scaling.

:class:`FeaturePrep` follows :class:`~toolbox.automl.TableEncoder` in every
pipeline. Its input is a numeric matrix whose first ``n_categorical`` columns
are category codes (NaN: missing or unseen). Two modes:

* ``"linear"`` (linear models, LDA, naive Bayes, kNN): low-cardinality codes
  become one-hot columns; high-cardinality ones are target-encoded; numeric
  and target-encoded columns are mean-imputed, standardized, and joined by a
  missing-value indicator for each column that had NaN in training.
* ``"tree"`` (gradient boosting, which handles NaN and categories natively):
  codes of up to 254 categories pass through as categorical features (first
  in the output), higher-cardinality ones are target-encoded; nothing else.

Target encoding is out-of-fold: ``fit_transform`` (what a pipeline calls when
fitting) encodes each training row with statistics of the other internal
folds only, so a model never trains on encodings that saw its own target;
``transform`` uses the statistics of all training rows. Everything runs on
the data's namespace and device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._labels import encode_labels
from ..backends import Generator, float_dtype, framework_of, primitives, resolve
from ..base import BaseEstimator, TransformerMixin, check_is_fitted

__all__ = ["FeaturePrep"]

#: Categories beyond this are target-encoded in tree mode (HGB bins hold up to 255 values, one for NaN).
_TREE_MAX_CATEGORIES = 254


def index_dtype(xp: Any, device: Any) -> Any:
    """The namespace's default index dtype (int64, or int32 on JAX without x64)."""
    return xp.__array_namespace_info__().default_dtypes(device=device)["indexing"]


def as_index(values: Any, xp: Any, device: Any) -> Any:
    """Host integers -> an index array of ``xp`` on ``device``."""
    return xp.asarray(np.asarray(values, dtype=np.int64).tolist(), dtype=index_dtype(xp, device), device=device)


def _int_codes(C: Any, cards: Any, *, xp: Any) -> Any:
    """Float codes with NaN (n, J) -> int codes where NaN becomes each column's extra 'missing' index."""
    missing = xp.isnan(C)
    filled = xp.where(missing, xp.astype(cards, C.dtype)[None, :], C)
    return xp.astype(filled, index_dtype(xp, C.device))


class FeaturePrep(TransformerMixin, BaseEstimator):
    """Imputation, one-hot / out-of-fold target encoding and scaling for one candidate (module docstring).

    Parameters
    ----------
    mode : {"linear", "tree"}, default="linear"
    n_categorical : int, default=0
        The first ``n_categorical`` input columns are category codes.
    cardinalities : list of int, default=()
        Number of categories of each code column.
    task : {"binary", "multiclass", "regression"}, default="regression"
        How the target is encoded (class frequencies, or the mean).
    one_hot_max : int, default=16
        In linear mode, code columns with at most this many categories are
        one-hot encoded, the others target-encoded.
    smoothing : float, default=10.0
        Target encoding's prior weight (``(sum + m * prior) / (count + m)``).
    n_folds : int, default=5
        Internal folds of the out-of-fold target encoding.
    random_state : int, default=0
        Seed of the internal folds.

    Attributes
    ----------
    n_native_ : int
        Tree mode: the first ``n_native_`` output columns are category codes.
    n_output_ : int
    """

    def __init__(self, mode: str = "linear", n_categorical: int = 0, cardinalities: Any = (),
                 task: str = "regression", one_hot_max: int = 16, smoothing: float = 10.0, n_folds: int = 5,
                 random_state: int = 0) -> None:
        self.mode = mode
        self.n_categorical = n_categorical
        self.cardinalities = cardinalities
        self.task = task
        self.one_hot_max = one_hot_max
        self.smoothing = smoothing
        self.n_folds = n_folds
        self.random_state = random_state

    # ---------------------------------------------------------------- helpers
    def _split(self) -> tuple[list[int], list[int]]:
        cards = [int(c) for c in self.cardinalities]
        if len(cards) != int(self.n_categorical):
            raise ValueError(f"FeaturePrep: {len(cards)} cardinalities for {self.n_categorical} categorical columns.")
        limit = _TREE_MAX_CATEGORIES if self.mode == "tree" else int(self.one_hot_max)
        low = [j for j, c in enumerate(cards) if c <= limit]
        high = [j for j, c in enumerate(cards) if c > limit]
        return low, high

    def _targets(self, y: Any, compute: Any, dtype: Any) -> Any:
        """Target columns to encode: (n, 1) mean target, or (n, K) class indicators for multiclass."""
        xp = compute.xp
        if self.task == "regression":
            t = compute.asarray(y)
            return xp.astype(t, dtype)[:, None]
        classes, codes = encode_labels(y, compute=compute, estimator_name="FeaturePrep", min_classes=1)
        k = int(classes.shape[0])
        codes = compute.asarray(codes)
        self.n_classes_ = k
        if k <= 2:
            return xp.astype(codes == 1, dtype)[:, None]
        ar = xp.arange(k, dtype=codes.dtype, device=compute.device)
        return xp.astype(codes[:, None] == ar[None, :], dtype)

    # -------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None) -> FeaturePrep:
        """Learn the statistics on ``X`` (and ``y`` for target encoding)."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit, and return the training rows transformed (target encoding out-of-fold)."""
        if self.mode not in ("linear", "tree"):
            raise ValueError(f"FeaturePrep mode must be 'linear' or 'tree'; got {self.mode!r}.")
        compute = resolve(X)
        xp, device = compute.xp, compute.device
        X = compute.asarray(X)
        X = xp.astype(X, float_dtype(X, xp=xp, device=device))
        d = int(X.shape[1])
        self.n_features_in_ = d
        low, high = self._split()
        self.low_, self.high_ = low, high
        cards = [int(c) for c in self.cardinalities]
        n_cat = int(self.n_categorical)
        te = None
        if high:
            if y is None:
                raise ValueError("FeaturePrep needs y to target-encode high-cardinality categorical columns.")
            te = self._fit_target_encoding(X, y, compute, [cards[j] for j in high])
        num = X[:, n_cat:]
        if self.mode == "linear":
            self._fit_scaling(num if te is None else xp.concat([num, te], axis=1), xp)
        return self._assemble(X, te, xp, device)

    def _fit_target_encoding(self, X: Any, y: Any, compute: Any, cards: list[int]) -> Any:
        xp, device = compute.xp, compute.device
        n = int(X.shape[0])
        idx = as_index(self.high_, xp, device)
        C = xp.take(X, idx, axis=1)
        J = len(cards)
        card_arr = as_index(cards, xp, device)
        offsets_np = np.concatenate([[0], np.cumsum(np.asarray(cards) + 1)[:-1]]).astype(np.int64)
        L = int(np.sum(np.asarray(cards) + 1))
        flat = _int_codes(C, card_arr, xp=xp) + as_index(offsets_np, xp, device)[None, :]  # (n, J)
        flat = xp.reshape(flat, (-1,))
        T = self._targets(y, compute, X.dtype)  # (n, K)
        K = int(T.shape[1])
        m = float(self.smoothing)
        # the internal folds
        n_folds = max(2, min(int(self.n_folds), n))
        perm = Generator(int(self.random_state), xp=xp, device=device).permutation(n)
        idt = index_dtype(xp, device)
        pos = xp.arange(n, dtype=idt, device=device) % n_folds
        fold = xp.take(pos, xp.argsort(xp.astype(perm, idt)))  # row perm[i] gets fold i % n_folds
        fold_rep = xp.reshape(xp.broadcast_to(fold[:, None], (n, J)), (-1,))
        by_fold = fold_rep * L + flat
        ones = xp.ones((n * J,), dtype=X.dtype, device=device)
        count_all = primitives.bincount(flat, length=L, weights=ones, xp=xp)
        count_f = primitives.bincount(by_fold, length=n_folds * L, weights=ones, xp=xp)
        rows_f = primitives.bincount(fold, length=n_folds, weights=ones[:n], xp=xp)
        tables, oof = [], []
        for k in range(K):  # one pass per class column (K small)
            t = T[:, k]
            t_rep = xp.reshape(xp.broadcast_to(t[:, None], (n, J)), (-1,))
            s_all = primitives.bincount(flat, length=L, weights=t_rep, xp=xp)
            s_f = primitives.bincount(by_fold, length=n_folds * L, weights=t_rep, xp=xp)
            prior = xp.sum(t) / n
            tables.append((s_all + m * prior) / (count_all + m))
            # out of fold: everything minus the row's own fold
            t_f = primitives.bincount(fold, length=n_folds, weights=t, xp=xp)
            prior_oof = (xp.sum(t) - t_f) / xp.maximum(n - rows_f, xp.ones_like(rows_f))
            p_row = xp.reshape(xp.broadcast_to(xp.take(prior_oof, fold)[:, None], (n, J)), (-1,))
            s_row = xp.take(s_all, flat) - xp.take(s_f, by_fold)
            c_row = xp.take(count_all, flat) - xp.take(count_f, by_fold)
            oof.append(xp.reshape((s_row + m * p_row) / (c_row + m), (n, J)))
        self.te_tables_ = xp.stack(tables, axis=1)  # (L, K)
        self.te_offsets_ = offsets_np
        self.te_cardinalities_ = list(cards)
        return oof[0] if K == 1 else xp.concat(oof, axis=1)

    def _fit_scaling(self, Z: Any, xp: Any) -> None:
        nan = xp.isnan(Z)
        ok = xp.astype(~nan, Z.dtype)
        cnt = xp.sum(ok, axis=0)
        safe_cnt = xp.maximum(cnt, xp.ones_like(cnt))
        zero = xp.zeros_like(Z)
        mean = xp.sum(xp.where(nan, zero, Z), axis=0) / safe_cnt
        var = xp.sum(xp.where(nan, zero, (Z - mean[None, :]) ** 2), axis=0) / safe_cnt
        scale = xp.sqrt(var)
        self.mean_ = mean
        self.scale_ = xp.where(scale > 0, scale, xp.ones_like(scale))
        from ..backends import to_backend

        has_nan = np.asarray(to_backend(xp.astype(cnt < Z.shape[0], xp.int8), "numpy")).astype(bool)  # d flags
        self.indicators_ = np.flatnonzero(has_nan).astype(np.int64)

    # ------------------------------------------------------------ transform
    def _encode_target(self, X: Any, xp: Any, device: Any) -> Any:
        idx = as_index(self.high_, xp, device)
        C = xp.take(X, idx, axis=1)
        n, J = int(C.shape[0]), int(C.shape[1])
        cards = as_index(self.te_cardinalities_, xp, device)
        flat = _int_codes(C, cards, xp=xp) + as_index(self.te_offsets_, xp, device)[None, :]
        tables = self.te_tables_
        if framework_of(tables) is not framework_of(X) or getattr(tables, "device", None) != X.device:
            tables = resolve(X).asarray(tables)
        tables = xp.astype(tables, X.dtype) if tables.dtype != X.dtype else tables
        K = int(tables.shape[1])
        flat1 = xp.reshape(flat, (-1,))
        cols = [xp.reshape(xp.take(tables[:, k], flat1), (n, J)) for k in range(K)]
        return cols[0] if K == 1 else xp.concat(cols, axis=1)

    def _assemble(self, X: Any, te: Any, xp: Any, device: Any) -> Any:
        n_cat = int(self.n_categorical)
        num = X[:, n_cat:]
        blocks = []
        if self.mode == "tree":
            if self.low_:
                blocks.append(xp.take(X, as_index(self.low_, xp, device), axis=1))
            self.n_native_ = len(self.low_)
            blocks.append(num)
            if te is not None:
                blocks.append(te)
        else:
            Z = num if te is None else xp.concat([num, te], axis=1)
            mean, scale = self.mean_, self.scale_
            if framework_of(mean) is not framework_of(Z) or getattr(mean, "device", None) != Z.device:
                conv = resolve(Z)
                mean, scale = conv.asarray(mean), conv.asarray(scale)
            mean, scale = xp.astype(mean, Z.dtype), xp.astype(scale, Z.dtype)
            nan = xp.isnan(Z)
            blocks.append(xp.where(nan, xp.zeros_like(Z), (Z - mean[None, :]) / scale[None, :]))
            if self.low_:
                cards = [int(self.cardinalities[j]) for j in self.low_]
                col = np.repeat(np.asarray(self.low_, dtype=np.int64), cards)
                val = np.concatenate([np.arange(c) for c in cards]).astype(np.float64)
                sel = xp.take(X, as_index(col, xp, device), axis=1)
                blocks.append(xp.astype(sel == xp.asarray(val, dtype=X.dtype, device=device)[None, :], X.dtype))
            if self.indicators_.size:
                ind = xp.take(nan, as_index(self.indicators_, xp, device), axis=1)
                blocks.append(xp.astype(ind, X.dtype))
            self.n_native_ = 0
        out = blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=1)
        self.n_output_ = int(out.shape[1])
        return out

    def transform(self, X: Any) -> Any:
        """Apply the statistics learned at fit (target encoding from all training rows)."""
        check_is_fitted(self, "n_output_")
        compute = resolve(X)
        xp, device = compute.xp, compute.device
        X = compute.asarray(X)
        X = xp.astype(X, float_dtype(X, xp=xp, device=device))
        if int(X.shape[1]) != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but FeaturePrep is expecting {self.n_features_in_}.")
        te = self._encode_target(X, xp, device) if self.high_ else None
        return self._assemble(X, te, xp, device)
