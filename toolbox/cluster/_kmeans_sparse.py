"""K-means on sparse ``X`` (``scipy.sparse``, torch sparse): Lloyd's algorithm with sparse products.

Distances come from ``|x|^2 - 2 x.c + |c|^2``: the only product with ``X`` is
``X @ C.T`` (n, k), and the centre update is ``onehot(labels).T @ X`` computed as
``(X.T @ onehot).T``; the centres are dense (k, d) arrays. ``X`` is never
centred or densified (as scikit-learn's sparse path), so memory is the stored
entries plus (n, k) and (k, d) arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.utils import check_random_state as _sk_random_state

from ..backends import Generator, primitives
from ..backends import _sparse as sp
from ._kmeans import _SklearnStream

__all__: list[str] = []


def rows(X: Any, idx: Any, *, xp: Any) -> Any:
    """Dense rows ``X[idx]`` (m, d) for a few indices ``idx`` (m,), through a (n, m) one-hot product."""
    n = X.shape[0]
    E = xp.astype(xp.arange(n, dtype=idx.dtype, device=idx.device)[:, None] == idx[None, :], sp.stored_values(X).dtype)
    return xp.permute_dims(sp.rmatmul(X, E), (1, 0))


def sq_distances(X: Any, x_sq: Any, C: Any, *, xp: Any) -> Any:
    """``|x_i - c_j|^2`` (n, k), clipped at 0 (rounding)."""
    D = x_sq[:, None] - 2.0 * sp.matmul(X, xp.permute_dims(C, (1, 0))) + xp.sum(C * C, axis=1)[None, :]
    return xp.clip(D, min=0.0)


def assign(X: Any, x_sq: Any, C: Any, *, xp: Any) -> tuple[Any, Any]:
    """Nearest centre (int32, (n,)) and the squared distance to it ((n,))."""
    D = sq_distances(X, x_sq, C, xp=xp)
    labels = xp.argmin(D, axis=1)
    return xp.astype(labels, xp.int32), xp.take_along_axis(D, labels[:, None], axis=1)[:, 0]


def _sums(X: Any, w: Any, labels: Any, k: int, *, xp: Any, XT: Any = None) -> tuple[Any, Any]:
    dtype = sp.stored_values(X).dtype
    onehot = xp.astype(labels[:, None] == xp.arange(k, dtype=labels.dtype, device=labels.device)[None, :], dtype)
    if w is not None:
        onehot = onehot * w[:, None]
    return xp.permute_dims(sp.rmatmul(X, onehot, XT), (1, 0)), xp.sum(onehot, axis=0)


def kmeans_plusplus(X: Any, x_sq: Any, w: Any, k: int, gen: Generator, *, xp: Any) -> Any:
    """Greedy k-means++ seeding (``2 + log(k)`` local trials), as the dense path; dense centres (k, d)."""
    n = X.shape[0]
    dtype = x_sq.dtype
    n_trials = 2 + int(math.log(k))
    w1 = xp.ones((n,), dtype=dtype, device=x_sq.device) if w is None else w
    sk = isinstance(gen, _SklearnStream)  # scikit-learn's own draws (SciPy input)
    if sk:
        first = xp.asarray(gen.weighted_choice(w1))
    else:
        cum_w = xp.cumulative_sum(w1)
        u = gen.random((1,), dtype=dtype) * cum_w[-1]
        first = xp.clip(xp.searchsorted(cum_w, u, side="right"), max=n - 1)
    C = rows(X, first, xp=xp)
    closest = sq_distances(X, x_sq, C, xp=xp)[:, 0]
    pot = xp.sum(closest * w1)
    chosen = [C]
    for _ in range(1, k):
        u = gen.rs.uniform(size=n_trials) if sk else gen.random((n_trials,), dtype=dtype)
        cum = xp.cumulative_sum(w1 * closest)
        cand = xp.clip(xp.searchsorted(cum, u * pot), max=n - 1)
        Cc = rows(X, cand, xp=xp)
        dist = xp.minimum(xp.permute_dims(sq_distances(X, x_sq, Cc, xp=xp), (1, 0)), closest[None, :])
        pots = dist @ w1
        best = int(xp.argmin(pots))
        closest, pot = dist[best, :], pots[best]
        chosen.append(Cc[best:best + 1, :])
    return xp.concat(chosen, axis=0)


def random_init(X: Any, w: Any, k: int, gen: Generator, *, xp: Any) -> Any:
    """``k`` distinct rows, drawn with probability proportional to ``w`` (Efraimidis-Spirakis keys)."""
    n = X.shape[0]
    if isinstance(gen, _SklearnStream):
        return rows(X, xp.asarray(gen.weighted_choice(np.ones(n) if w is None else w, size=k)), xp=xp)
    dtype = sp.stored_values(X).dtype
    u = gen.random((n,), dtype=dtype)
    keys = -xp.log(1.0 - u)
    if w is not None:
        pos = w > 0
        keys = xp.where(pos, keys / xp.where(pos, w, xp.ones_like(w)), xp.full_like(keys, math.inf))
    _, idx = primitives.smallest_k(keys, k, xp=xp)
    return rows(X, idx, xp=xp)


def lloyd(X: Any, x_sq: Any, w: Any, C: Any, *, max_iter: int, tol: float, xp: Any,
          XT: Any = None) -> tuple[Any, float, Any, int]:
    """Lloyd's algorithm from centres ``C`` with scikit-learn's stopping rules (see ``_kmeans._lloyd``).

    An empty cluster takes the point farthest from its centre (the j-th empty one the j-th
    farthest), as scikit-learn's relocation. Returns ``(labels, inertia, centers, n_iter)``.
    """
    k = C.shape[0]
    labels_old = None
    i = 0
    for i in range(max_iter):  # noqa: B007 (i is the iteration count afterwards)
        labels, mind = assign(X, x_sq, C, xp=xp)
        sums, wsum = _sums(X, w, labels, k, xp=xp, XT=XT)
        empty = wsum == 0
        n_empty = int(xp.sum(xp.astype(empty, xp.int32)))
        if n_empty and float(xp.max(mind)) > 0:
            _, far = primitives.smallest_k(-mind, n_empty, xp=xp)
            moved = rows(X, far, xp=xp)
            ws = xp.ones((n_empty,), dtype=mind.dtype, device=mind.device) if w is None else xp.take(w, far, axis=0)
            empty_idx = [j for j, e in enumerate(empty.tolist() if hasattr(empty, "tolist") else list(empty)) if e]
            for slot, j in enumerate(empty_idx):  # a few empty clusters: a loop over clusters, not samples
                src = int(far[slot])
                old = int(labels[src])
                sums = _set_row(sums, old, sums[old, :] - ws[slot] * moved[slot, :], xp=xp)
                wsum = _set_item(wsum, old, wsum[old] - ws[slot], xp=xp)
                sums = _set_row(sums, j, ws[slot] * moved[slot, :], xp=xp)
                wsum = _set_item(wsum, j, ws[slot], xp=xp)
        nonempty = wsum > 0
        safe = xp.where(nonempty, wsum, xp.ones_like(wsum))
        new_C = xp.where(nonempty[:, None], sums / safe[:, None], C)
        shift = float(xp.sum((new_C - C) ** 2))
        changed = labels_old is None or bool(xp.any(labels != labels_old))
        C = new_C
        if not changed:  # strict convergence
            break
        if shift <= tol:
            break
        labels_old = labels
    labels, mind = assign(X, x_sq, C, xp=xp)
    inertia = float(xp.sum(mind) if w is None else xp.sum(mind * w))
    return labels, inertia, C, i + 1


def _set_row(A: Any, i: int, row: Any, *, xp: Any) -> Any:
    mask = (xp.arange(A.shape[0], device=A.device) == i)[:, None]
    return xp.where(mask, row[None, :], A)


def _set_item(a: Any, i: int, value: Any, *, xp: Any) -> Any:
    mask = xp.arange(a.shape[0], device=a.device) == i
    return xp.where(mask, value, a)


def fit(est: Any, v: Any, *, xp: Any) -> tuple[Any, float, Any, int]:
    """Fit ``est`` (a KMeans) on the validated sparse ``v.X``: the best of its runs."""
    X, w = v.X, v.sample_weight
    d = int(X.shape[1])
    k = est.n_clusters
    x_sq = sp.row_sq_norms(X)
    init = est.init
    init_is_array = not isinstance(init, str) and not callable(init)
    if init_is_array:
        init = est._validate_centers(init, v, d)
    # scikit-learn's tolerance: tol times the mean per-feature variance (implicit zeros included)
    tol = float(xp.mean(sp.column_mean_var(X)[1])) * float(est.tol) if est.tol else 0.0
    gen: Any = (_SklearnStream(est.random_state) if sp.sparse_kind(X) == "scipy"
                else Generator(est.random_state, xp=xp, device=v.compute.device))
    # torch: X.T as a CSR copy, made once (products with its CSC view are many times slower)
    XT = sp.transpose(X) if sp.sparse_kind(X) == "torch" else None
    best = None
    for _ in range(est._n_runs(init_is_array)):
        if init_is_array:
            C = init
        elif callable(init):  # it gets the sparse X, as scikit-learn's; dense centres come back
            rs = gen.rs if isinstance(gen, _SklearnStream) else _sk_random_state(gen.seed)
            C = est._validate_centers(init(X, k, random_state=rs), v, d)
        elif init == "k-means++":
            C = kmeans_plusplus(X, x_sq, w, k, gen, xp=xp)
        else:
            C = random_init(X, w, k, gen, xp=xp)
        result = lloyd(X, x_sq, w, C, max_iter=est.max_iter, tol=tol, xp=xp, XT=XT)
        if best is None or result[1] < best[1]:
            best = result
    return best
