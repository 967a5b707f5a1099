"""Blockwise fits whose statistics are one pass over the rows: scalers, least squares, PCA,
TruncatedSVD, Gaussian naive Bayes, linear discriminant analysis.

Each ``fit_*`` takes the estimator, a row-chunked dask ``X`` (and ``y``), runs one
:func:`~toolbox.dask._graph.map_reduce` pass, and finishes on the client with NumPy and
the estimator family's own helpers, so the fitted attributes are the NumPy path's.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import array_api_compat.numpy as npx
import numpy as np

from ..exceptions import IllConditionedWarning
from . import _moments as m
from ._graph import check_rows_1d, map_reduce, row_blocks

__all__ = [
    "fit_gaussian_nb",
    "fit_lda",
    "fit_linear_regression",
    "fit_min_max_scaler",
    "fit_pca",
    "fit_ridge",
    "fit_standard_scaler",
    "fit_truncated_svd",
]


def _finite(name: str, est: Any, *values: Any) -> None:
    for v in values:
        if v is not None and not np.all(np.isfinite(v)):
            raise ValueError(
                f"Input {name} contains NaN or infinity (found while {type(est).__name__} reduced the "
                "Dask array's blocks). Remove or impute them first (toolbox.impute.SimpleImputer), "
                "e.g. with X[da.isfinite(X).all(axis=1)].")


def _weights(sample_weight: Any, X: Any) -> Any:
    """``sample_weight`` (a number, NumPy or dask, shape (n_samples,)) with ``X``'s row chunks, or None."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, (int, float, np.number)):
        import dask.array as da

        return da.full((X.shape[0],), float(sample_weight), chunks=(X.chunks[0],), dtype=X.dtype)
    sw = check_rows_1d(sample_weight, X, name="sample_weight")
    if sw.ndim != 1:
        raise ValueError(f"sample_weight.shape == {sw.shape}, expected ({X.shape[0]},): one weight per sample.")
    return sw


def _no_weights(est: Any, sample_weight: Any) -> None:
    if sample_weight is not None:
        raise NotImplementedError(
            f"{type(est).__name__}.fit with sample_weight is not implemented for Dask arrays yet; "
            "fit without weights, or compute the data to NumPy (X.compute()) if it fits in memory.")


# --------------------------------------------------------------------------- #
# preprocessing
# --------------------------------------------------------------------------- #


def fit_standard_scaler(est: Any, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
    from ..preprocessing._data import _scale_from_var

    est._reset()
    sw = _weights(sample_weight, X)
    n, mean, ssd = map_reduce(m.moments_block, m.merge_moments, row_blocks(X, *([] if sw is None else [sw])))
    if sw is not None and not n > 0:
        raise ValueError("sample_weight sums to zero or less; at least one positive weight is needed.")
    mean, ssd = mean.astype(X.dtype, copy=False), ssd.astype(X.dtype, copy=False)
    _finite("X", est, mean, ssd)
    var = ssd / n
    need_stats = est.with_mean or est.with_std
    est.n_samples_seen_ = int(n) if sw is None else float(n)
    est.mean_ = mean if need_stats else None
    est.var_ = var if est.with_std else None
    est.scale_ = _scale_from_var(var, mean, n, xp=npx) if est.with_std else None
    return est


def fit_min_max_scaler(est: Any, X: Any, y: Any = None) -> Any:
    from ..preprocessing._data import _handle_zeros_in_scale

    est._reset()
    lo, hi = est._check_range()
    n, data_min, data_max = map_reduce(m.min_max_block, m.merge_min_max, row_blocks(X))
    _finite("X", est, data_min, data_max)
    data_min, data_max = data_min.astype(X.dtype, copy=False), data_max.astype(X.dtype, copy=False)
    data_range = data_max - data_min
    est.n_samples_seen_ = int(n)
    est.scale_ = (hi - lo) / _handle_zeros_in_scale(data_range, xp=npx)
    est.min_ = lo - data_min * est.scale_
    est.data_min_ = data_min
    est.data_max_ = data_max
    est.data_range_ = data_range
    return est


# --------------------------------------------------------------------------- #
# least squares
# --------------------------------------------------------------------------- #


def _normal_equations(est: Any, X: Any, y: Any, sample_weight: Any = None) -> tuple[Any, ...]:
    """``(A, rhs, X_offset, y_offset, y_ndim)`` from one pass over ``[X, y]`` (weighted by ``sample_weight``)."""
    y = check_rows_1d(y, X)
    sw = _weights(sample_weight, X)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{type(est).__name__} needs numeric targets; y has dtype {y.dtype}.")
    d = int(X.shape[1])
    fi = bool(est.fit_intercept)
    merge = m.merge_gram if fi else m.merge_gram_raw
    _, mean, G = map_reduce(m.gram_block, merge, row_blocks(X, y, *([] if sw is None else [sw])),
                            centered=fi, dtype=X.dtype)
    _finite("X or y", est, mean, G)
    A = G[:d, :d]
    rhs = G[:d, d] if y.ndim == 1 else G[:d, d:]
    X_offset, y_offset = (mean[:d], mean[d] if y.ndim == 1 else mean[d:]) if fi else (None, None)
    return A, rhs, X_offset, y_offset, y.ndim


def fit_linear_regression(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    from ..backends import primitives
    from ..linear_model._base import _intercept, _reject_positive
    from ..linear_model._least_squares import _eigen_cutoff, _pinv_solve

    _reject_positive(est)
    A, rhs, X_offset, y_offset, y_ndim = _normal_equations(est, X, y, sample_weight)
    e = np.linalg.eigvalsh(A)
    size = A.shape[0]
    cutoff = _eigen_cutoff(e, size, xp=npx)
    est.rank_ = int(np.sum(e > cutoff))
    est.singular_ = np.flip(np.sqrt(np.where(e > 0, e, 0.0)))
    if est.rank_ == size:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IllConditionedWarning)
            sol = primitives.solve_spd(A, rhs, xp=npx)
    else:
        e, V = np.linalg.eigh(A)
        sol = _pinv_solve(e, V, rhs, cutoff, xp=npx)
    coef = sol.T if sol.ndim == 2 else sol
    est.coef_ = coef
    est.intercept_ = _intercept(coef, X_offset, y_offset, single=y_ndim == 1, xp=npx, dtype=coef.dtype,
                                device="cpu")
    return est


def fit_ridge(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    from ..backends import primitives
    from ..linear_model._base import _intercept
    from ..linear_model._least_squares import _eigen_cutoff, _pinv_solve

    n_targets = 1 if getattr(y, "ndim", 1) == 1 else int(y.shape[1])
    alpha = est._check_params(n_targets)
    A, rhs, X_offset, y_offset, y_ndim = _normal_equations(est, X, y, sample_weight)
    if isinstance(alpha, float):
        if alpha:
            A = A + alpha * np.eye(A.shape[0], dtype=A.dtype)
        sol = primitives.solve_spd(A, rhs, xp=npx)
    else:
        e, V = np.linalg.eigh(A)
        sol = _pinv_solve(e, V, rhs, _eigen_cutoff(e, A.shape[0], xp=npx), np.asarray(alpha, A.dtype), xp=npx)
    coef = sol.T if sol.ndim == 2 else sol
    est.intercept_ = _intercept(coef, X_offset, y_offset, single=y_ndim == 1, xp=npx, dtype=coef.dtype,
                                device="cpu")
    est.coef_ = coef[0, :] if coef.ndim == 2 and coef.shape[0] == 1 else coef
    est.n_iter_ = None
    est.solver_ = "cholesky"
    return est


# --------------------------------------------------------------------------- #
# decomposition
# --------------------------------------------------------------------------- #


def fit_pca(est: Any, X: Any, y: Any = None) -> Any:
    from ..decomposition._pca import _infer_dimension
    from ..decomposition._truncated_svd import _is_int, _svd_flip_v

    est._check_params()
    if est.svd_solver not in ("auto", "covariance_eigh", "full"):
        warnings.warn(f"PCA(svd_solver={est.svd_solver!r}) on a Dask array uses the covariance solver "
                      "(one distributed pass for X.T @ X), like svd_solver='covariance_eigh'.",
                      UserWarning, stacklevel=4)
    n_all, d = int(X.shape[0]), int(X.shape[1])
    mdim = min(n_all, d)
    nc = est.n_components
    if nc is None:
        nc = mdim
    if nc == "mle":
        if n_all < d:
            raise ValueError("n_components='mle' is only supported if n_samples >= n_features")
    elif _is_int(nc) and not 0 <= nc <= mdim:
        raise ValueError(f"n_components={nc} must be between 0 and min(n_samples, n_features)={mdim} with "
                         "svd_solver='covariance_eigh'")
    est._fit_svd_solver = "covariance_eigh"
    n, mean, G = map_reduce(m.gram_block, m.merge_gram, row_blocks(X), centered=True, dtype=X.dtype)
    _finite("X", est, mean, G)
    evals, evecs = np.linalg.eigh(G / (n - 1))
    ev = np.clip(np.flip(evals, axis=0), 0.0, None)
    Vt = np.flip(evecs, axis=1).T
    S = np.sqrt(ev * (n - 1))
    _, Vt = _svd_flip_v(None, Vt, xp=npx)
    ratio = ev / np.sum(ev)
    if nc == "mle":
        nc = _infer_dimension(ev, n, xp=npx)
    elif not _is_int(nc):
        cum = np.cumsum(ratio)
        nc = min(int(np.searchsorted(cum, float(nc), side="right")) + 1, int(ev.shape[0]))
    est.noise_variance_ = float(np.mean(ev[nc:])) if nc < mdim else 0.0
    est._store(_Validated((n, d), X.dtype), mean, Vt[:nc, :], ev[:nc], ratio[:nc], S[:nc], nc)
    return est


def fit_truncated_svd(est: Any, X: Any, y: Any = None) -> Any:
    from ..decomposition._truncated_svd import _svd_flip_v

    est._check_params()
    n, d = int(X.shape[0]), int(X.shape[1])
    name = type(est).__name__
    if d < 2:
        raise ValueError(f"Found array with {d} feature(s) (shape={(n, d)}) while a minimum of 2 is required by {name}.")
    k = int(est.n_components)
    if k > d or (est.algorithm == "arpack" and k >= min(n, d)):
        raise ValueError(f"n_components({k}) must be <= n_features({d}) (< min(n_samples, n_features) with "
                         "algorithm='arpack').")
    n, mean, G = map_reduce(m.gram_block, m.merge_gram_raw, row_blocks(X), centered=False, dtype=X.dtype)
    _finite("X", est, mean, G)
    # the Gram path, exactly: the top-k eigenvectors of X.T X are the right singular vectors
    evals, evecs = np.linalg.eigh(G)
    order = np.argsort(evals)[::-1][:k]
    S = np.sqrt(np.clip(evals[order], 0.0, None))
    Vt = evecs[:, order].T
    _, Vt = _svd_flip_v(None, Vt, xp=npx)
    col_mean = mean @ Vt.T
    est.components_ = Vt
    est.explained_variance_ = np.einsum("kd,de,ke->k", Vt, G, Vt) / n - col_mean**2
    full_var = float(np.sum(np.diagonal(G) / n - mean**2))
    est.explained_variance_ratio_ = est.explained_variance_ / full_var
    est.singular_values_ = S
    return est


# --------------------------------------------------------------------------- #
# per-class statistics
# --------------------------------------------------------------------------- #


def _class_stats(est: Any, X: Any, y: Any, *, full: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``classes, counts (K,), means (K, d), scatter (K, d[, d])`` from one pass."""
    if y is None:
        raise ValueError(f"{type(est).__name__} requires y to be passed, but the target y is None.")
    y = check_rows_1d(y, X)
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    stats = map_reduce(m.class_moments_block, m.merge_class_moments, row_blocks(X, y), full=full)
    labels = sorted(stats)
    if len(labels) < 2:
        raise ValueError(f"{type(est).__name__} needs at least 2 classes; y holds only {labels!r}.")
    classes = np.asarray(labels)
    if y.dtype.kind in "biuf" and classes.dtype.kind in "biuf":
        classes = classes.astype(y.dtype)
    elif y.dtype.kind == "O":
        classes = classes.astype(object)
    counts = np.asarray([stats[c][0] for c in labels], dtype=X.dtype)
    means = np.stack([stats[c][1] for c in labels]).astype(X.dtype, copy=False)
    scatter = np.stack([stats[c][2] for c in labels]).astype(X.dtype, copy=False)
    _finite("X", est, means, scatter)
    return classes, counts, means, scatter


def _pooled(counts: np.ndarray, means: np.ndarray, scatter: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Overall ``(n, mean, scatter)`` from the per-class ones (diagonal or full)."""
    n = float(counts.sum())
    mean = counts @ means / n
    dev = means - mean
    if scatter.ndim == 3:
        between = (dev * counts[:, None]).T @ dev
    else:
        between = counts @ (dev * dev)
    return n, mean, scatter.sum(axis=0) + between


def fit_gaussian_nb(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    _no_weights(est, sample_weight)
    est._check_params()
    for attr in ("classes_", "theta_", "var_", "class_count_", "class_prior_", "epsilon_"):
        est.__dict__.pop(attr, None)
    classes, counts, means, ssd = _class_stats(est, X, y, full=False)
    est.classes_ = classes
    est._init_counters(_Validated(X.shape, X.dtype))  # checks priors, sets class_prior_
    n, _, total = _pooled(counts, means, ssd)
    epsilon = float(est.var_smoothing) * float(np.max(total / n))
    est.theta_ = means
    est.var_ = ssd / counts[:, None] + epsilon
    est.class_count_ = counts
    est.epsilon_ = epsilon
    if est.priors is None:
        est.class_prior_ = counts / counts.sum()
    return est


class _Validated:
    """The few fields of :class:`toolbox.base.Validated` that the estimators' helpers read."""

    def __init__(self, shape: tuple[int, int], dtype: Any) -> None:
        from ..backends import get_framework
        from ..backends._dispatch import Compute

        fw = get_framework("numpy")
        self.xp, self.compute, self.y = fw.xp, Compute(fw.xp, "cpu", "numpy", fw), None
        self.X = _ShapeOnly((int(shape[0]), int(shape[1])), dtype)


class _ShapeOnly:
    def __init__(self, shape: tuple[int, int], dtype: Any) -> None:
        self.shape, self.dtype = shape, np.dtype(dtype)


def fit_lda(est: Any, X: Any, y: Any) -> Any:
    from ..discriminant_analysis._lda import _shrunk

    est._check_params()
    for attr in ("covariance_", "xbar_", "scalings_", "explained_variance_ratio_"):
        est.__dict__.pop(attr, None)
    if isinstance(est.shrinkage, str):
        raise NotImplementedError(
            "LinearDiscriminantAnalysis(shrinkage='auto') (Ledoit-Wolf) needs per-sample fourth moments and "
            "is not implemented for Dask arrays; give a fixed shrinkage in [0, 1] or None.")
    classes, counts, means, scatter = _class_stats(est, X, y, full=True)
    n, d, n_classes = int(counts.sum()), int(X.shape[1]), int(classes.shape[0])
    if n == n_classes:
        raise ValueError("The number of samples must be more than the number of classes.")
    est.classes_ = classes
    v = _Validated(X.shape, X.dtype)
    est.priors_ = est._check_priors(counts / n, n_classes, v.compute, means.dtype)
    max_components = min(n_classes - 1, d)
    if est.n_components is not None and est.n_components > max_components:
        raise ValueError("n_components cannot be larger than min(n_features, n_classes - 1): got "
                         f"n_components={est.n_components} with {d} features and {n_classes} classes.")
    est._max_components = max_components if est.n_components is None else int(est.n_components)
    est.means_ = means
    priors = est.priors_
    within = np.einsum("k,kde->de", priors / counts, scatter)
    if est.solver == "svd":
        _lda_svd(est, n, counts, scatter, within)
    else:
        est.covariance_ = _shrunk(within, est.shrinkage, xp=npx)
        if est.solver == "lsqr":
            est._solve_lstsq(xp=npx)
        else:
            from ..discriminant_analysis._lda import _generalized_eigh

            _, _, total = _pooled(counts, means, scatter)
            Sb = _shrunk(total / n, est.shrinkage, xp=npx) - est.covariance_
            evals, evecs = _generalized_eigh(Sb, est.covariance_, xp=npx)
            evals, evecs = np.flip(evals), np.flip(evecs, axis=1)
            est.explained_variance_ratio_ = (evals / np.sum(evals))[: est._max_components]
            est.scalings_ = evecs
            est.coef_ = (est.means_ @ evecs) @ evecs.T
            est.intercept_ = -0.5 * np.sum(est.means_ * est.coef_, axis=1) + np.log(priors)
    if n_classes == 2:
        est.coef_ = np.reshape(est.coef_[1, :] - est.coef_[0, :], (1, -1))
        est.intercept_ = np.reshape(est.intercept_[1] - est.intercept_[0], (1,))
    est._n_features_out = est._max_components
    return est


def _lda_svd(est: Any, n: int, counts: np.ndarray, scatter: np.ndarray, within: np.ndarray) -> None:
    """The 'svd' solver from the within-class scatter (its Gram-matrix path, which it shares)."""
    means, priors = est.means_, est.priors_
    n_classes, d = int(means.shape[0]), int(means.shape[1])
    if est.store_covariance:
        est.covariance_ = within
    est.xbar_ = priors @ means
    W = scatter.sum(axis=0)  # (X - means[y]).T @ (X - means[y])
    std = np.sqrt(np.clip(np.diagonal(W), 0.0, None) / n)
    std = np.where(std == 0, 1.0, std)
    scaled = std * math.sqrt(n)
    w, V = np.linalg.eigh(W / (scaled[:, None] * scaled[None, :]))
    S = np.sqrt(np.clip(np.flip(w), 0.0, None))
    Vt = np.flip(V, axis=1).T
    rank = int(np.sum(S > est.tol))
    if rank < d:
        warnings.warn("Variables are collinear.", UserWarning, stacklevel=4)
    if rank == 0:
        est._no_discriminant(priors, xp=npx)
        return
    scalings = (Vt[:rank, :] / std).T / S[:rank]
    fac = 1.0 / (n_classes - 1)
    centers = (np.sqrt((n * priors) * fac)[:, None] * (means - est.xbar_)) @ scalings
    _, S2, Vt2 = np.linalg.svd(centers, full_matrices=False)
    est.explained_variance_ratio_ = (S2**2 / np.sum(S2**2))[: est._max_components]
    if int(S2.shape[0]) == 0 or not float(S2[0]) > 0:
        est._no_discriminant(priors, xp=npx)
        return
    rank2 = int(np.sum(S2 > est.tol * S2[0]))
    est.scalings_ = scalings @ Vt2.T[:, :rank2]
    coef = (means - est.xbar_) @ est.scalings_
    intercept = -0.5 * np.sum(coef**2, axis=1) + np.log(priors)
    est.coef_ = coef @ est.scalings_.T
    est.intercept_ = intercept - est.xbar_ @ est.coef_.T
