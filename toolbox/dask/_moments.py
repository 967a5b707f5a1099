"""Per-block sufficient statistics and their exact pairwise merges (Chan et al.).

Each ``*_block`` function runs on a worker on one NumPy row block and returns a few small
arrays; each ``merge_*`` combines two such results. Centred moments are merged with the
pairwise update, so the result matches a one-pass NumPy computation to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "class_moments_block",
    "gram_block",
    "merge_class_moments",
    "merge_gram",
    "merge_min_max",
    "merge_moments",
    "min_max_block",
    "moments_block",
]


def _float(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    return X if X.dtype.kind == "f" and X.dtype.itemsize >= 4 else X.astype(np.float64)


def moments_block(X: np.ndarray, sw: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """``(n, column means, column sums of squared deviations)`` of one block (``n`` = sum of ``sw`` if given)."""
    X = _float(X)
    if sw is None:
        n = int(X.shape[0])
        mean = X.mean(axis=0)
        return n, mean, ((X - mean) ** 2).sum(axis=0)
    sw = np.asarray(sw, dtype=X.dtype)
    n = float(sw.sum())
    if n == 0:
        return 0, np.zeros(X.shape[1], X.dtype), np.zeros(X.shape[1], X.dtype)
    mean = (sw @ X) / n
    return n, mean, sw @ ((X - mean) ** 2)


def _pairwise_merge(a: tuple, b: tuple, outer: Any) -> tuple:
    """Chan et al.'s merge of ``(n, mean, centred second moments)``; ``outer(delta)`` is their correction term."""
    na, ma, sa = a
    nb, mb, sb = b
    if na == 0:
        return b
    if nb == 0:
        return a
    n = na + nb
    delta = mb - ma
    return n, ma + delta * (nb / n), sa + sb + outer(delta) * (na * nb / n)


def merge_moments(a: tuple, b: tuple) -> tuple:
    """Merge per-column ``(n, mean, sum of squared deviations)``."""
    return _pairwise_merge(a, b, lambda d: d**2)


def min_max_block(X: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    X = _float(X)
    return int(X.shape[0]), X.min(axis=0), X.max(axis=0)


def merge_min_max(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], np.minimum(a[1], b[1]), np.maximum(a[2], b[2])


def gram_block(X: np.ndarray, y: np.ndarray | None = None, sw: np.ndarray | None = None, *, centered: bool,
               dtype: Any = None) -> tuple[float, np.ndarray, np.ndarray]:
    """``(n, column means, Z.T W Z)`` of ``Z = [X, y]`` (centred on the block's means if ``centered``).

    With weights ``sw``: ``n`` is their sum, the means are weighted and ``W = diag(sw)``.
    """
    X = _float(X) if dtype is None else np.asarray(X, dtype=dtype)
    if y is not None:
        y = np.asarray(y, dtype=X.dtype)
        X = np.concatenate([X, y[:, None] if y.ndim == 1 else y], axis=1)
    if sw is None:
        n: float = int(X.shape[0])
        mean = X.mean(axis=0) if n else np.zeros(X.shape[1], X.dtype)
        Z = X - mean if centered else X
        return n, mean, Z.T @ Z
    sw = np.asarray(sw, dtype=X.dtype)
    n = float(sw.sum())
    mean = (sw @ X) / n if n else np.zeros(X.shape[1], X.dtype)
    Z = X - mean if centered else X
    return n, mean, (Z * sw[:, None]).T @ Z


def merge_gram(a: tuple, b: tuple) -> tuple:
    """Merge centred cross-products; for uncentred ones (``centered=False``) the mean term is unused."""
    return _pairwise_merge(a, b, lambda d: np.outer(d, d))


def merge_gram_raw(a: tuple, b: tuple) -> tuple:
    """Merge uncentred cross-products (the plain sums ``Z.T Z``)."""
    na, ma, Ga = a
    nb, mb, Gb = b
    n = na + nb
    mean = (ma * na + mb * nb) / n if n else ma
    return n, mean, Ga + Gb


def class_moments_block(X: np.ndarray, y: np.ndarray, *, full: bool) -> dict[Any, tuple]:
    """Per label: ``(n_k, mean_k, M2_k)`` with ``M2_k`` the (d, d) scatter (``full``) or its diagonal."""
    X = _float(X)
    y = np.asarray(y)
    labels, inv = np.unique(y, return_inverse=True)
    out: dict[Any, tuple] = {}
    for k, label in enumerate(labels.tolist()):  # a loop over the block's classes, not its samples
        Xk = X[inv == k]
        mean = Xk.mean(axis=0)
        Z = Xk - mean
        out[label] = (int(Xk.shape[0]), mean, Z.T @ Z if full else (Z * Z).sum(axis=0))
    return out


def merge_class_moments(a: dict, b: dict) -> dict:
    out = dict(a)
    for label, mb in b.items():
        ma = out.get(label)
        if ma is None:
            out[label] = mb
            continue
        na, mua, sa = ma
        nb, mub, sb = mb
        n = na + nb
        delta = mub - mua
        corr = np.outer(delta, delta) if sa.ndim == 2 else delta**2
        out[label] = (n, mua + delta * (nb / n), sa + sb + corr * (na * nb / n))
    return out


def labels_block(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct labels of a block of ``y`` and their counts."""
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    return labels, counts


def merge_labels(a: tuple, b: tuple) -> tuple:
    la, ca = a
    lb, cb = b
    labels = np.union1d(la, lb)
    counts = np.zeros(labels.shape[0], dtype=np.int64)
    counts[np.searchsorted(labels, la)] += ca
    counts[np.searchsorted(labels, lb)] += cb
    return labels, counts
