"""Truncated SVD (no centring) and the SVD helpers PCA shares, written once against the Array API."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import sklearn.base

from ..backends import Generator, origin_of, primitives, resolve
from ..backends import _sparse as sp
from ..base import (
    BaseEstimator,
    TransformerMixin,
    _to_compute,
    check_array,
    check_is_fitted,
    validate_data,
)

__all__ = ["TruncatedSVD"]


# --------------------------------------------------------------------------- #
# Helpers shared with PCA (internal; the namespace is the keyword-only ``xp``)
# --------------------------------------------------------------------------- #


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _row_chunk(X: Any, row_items: int, *, xp: Any) -> int:
    itemsize = 4 if X.dtype == xp.float32 else 8
    return primitives.chunk_rows(X.shape[0], row_items * itemsize)


def _centered_sq_sum(X: Any, mean: Any, *, xp: Any) -> Any:
    """Per-column ``sum((X - mean)**2, axis=0)``, shape (n_features,); row chunks bound the temporaries.

    ``mean=None`` means no centring.
    """
    step = _row_chunk(X, 2 * X.shape[1], xp=xp)
    total = None
    n = X.shape[0]
    for start in range(0, n, step):
        Xc = X[start:min(start + step, n), ...]
        if mean is not None:
            Xc = Xc - mean
        part = xp.sum(Xc * Xc, axis=0)
        total = part if total is None else total + part
    return total


def _total_variance(X: Any, G: Any = None, *, xp: Any) -> float | Any:
    """``sum(var(X, axis=0))`` (biased), a 0-d array.

    With the Gram matrix ``G = X.T @ X`` at hand, ``trace(G) / n - |mean|^2``, unless that
    cancels more than a quarter of the digits (then, as without ``G``, the centred sum of
    squares in row chunks).
    """
    n = X.shape[0]
    mean = xp.sum(X, axis=0) / n
    if G is not None:
        raw = xp.sum(xp.linalg.diagonal(G)) / n
        total = raw - xp.sum(mean * mean)
        if bool(raw <= float(xp.finfo(X.dtype).eps) ** -0.25 * total):
            return total
    return xp.sum(_centered_sq_sum(X, mean, xp=xp)) / n


def _svd_flip_v(U: Any, Vt: Any, *, xp: Any) -> tuple[Any, Any]:
    """scikit-learn's ``svd_flip(u, v, u_based_decision=False)``.

    Each row of ``Vt`` is signed so that its largest-magnitude entry is
    positive; the matching column of ``U`` (when given) gets the same sign.
    """
    if Vt.shape[0] == 0:
        return U, Vt
    idx = xp.argmax(xp.abs(Vt), axis=1)
    picked = xp.take_along_axis(Vt, idx[:, None], axis=1)[:, 0]
    signs = xp.where(picked < 0, -xp.ones_like(picked), xp.ones_like(picked))
    if U is not None:
        U = U * signs[None, :]
    return U, Vt * signs[:, None]


def _orthonormal_basis(M: Any, *, xp: Any, block_bytes: int = 2 * 2**20) -> Any:
    """An orthonormal basis of the columns of ``M`` (n, s): the ``Q`` of its thin QR.

    Tall matrices use a two-level TSQR: a batched QR of row blocks, then a QR
    of the stacked small ``R`` factors. Same basis (up to column signs), but
    each block fits in cache; LAPACK's unblocked QR of a 200,000 x 20 matrix
    is memory-bound and several times slower. Row blocks hold about
    ``block_bytes``. Static shapes throughout.
    """
    n, s = M.shape
    itemsize = 4 if M.dtype == xp.float32 else 8
    block = max(4 * s, block_bytes // max(s * itemsize, 1))
    if n < 4 * block:
        return xp.linalg.qr(M)[0]
    nb = -(-n // block)
    pad = nb * block - n
    if pad:
        M = xp.concat([M, xp.zeros((pad, s), dtype=M.dtype, device=M.device)], axis=0)
    Q1, R1 = xp.linalg.qr(xp.reshape(M, (nb, block, s)))
    Q2 = xp.linalg.qr(xp.reshape(R1, (nb * s, s)))[0]
    Q = xp.reshape(Q1 @ xp.reshape(Q2, (nb, s, s)), (nb * block, s))
    return Q[:n, ...] if pad else Q


def _randomized_svd(matmul: Callable[[Any], Any], rmatmul: Callable[[Any], Any], shape: tuple[int, int],
                    n_components: int, *, n_oversamples: int, n_iter: int, normalizer: str, gen: Generator,
                    dtype: Any, xp: Any) -> tuple[Any, Any, Any]:
    """Randomized truncated SVD (Halko, Martinsson & Tropp, 2011) of an operator ``A`` of ``shape``.

    ``A`` is given by ``matmul(Q) = A @ Q`` and ``rmatmul(P) = A.T @ P`` so
    that PCA can centre implicitly. As scikit-learn's ``_randomized_svd``: a
    Gaussian test matrix of ``n_components + n_oversamples`` columns (from
    ``gen``), ``n_iter`` power iterations normalized by ``normalizer``
    (``"QR"`` or ``"none"``), the SVD of the small projected matrix; the
    operator is transposed first when it is wider than tall.

    Returns
    -------
    U : array (n_rows, n_components), S : array (n_components,), Vt : array (n_components, n_cols)
        Not sign-flipped.
    """
    n_rows, n_cols = shape
    transpose = n_rows < n_cols
    if transpose:
        matmul, rmatmul = rmatmul, matmul
        n_rows, n_cols = n_cols, n_rows

    def qr(M: Any) -> Any:
        return _orthonormal_basis(M, xp=xp)

    norm = qr if normalizer == "QR" else (lambda M: M)
    Q = gen.normal((n_cols, n_components + n_oversamples), dtype=dtype)
    for _ in range(n_iter):
        Q = norm(matmul(Q))
        Q = norm(rmatmul(Q))
    Q = qr(matmul(Q))
    B = rmatmul(Q).T  # Q.T @ A, shape (size, n_cols)
    Uhat, S, Vt = xp.linalg.svd(B, full_matrices=False)
    U = Q @ Uhat
    if transpose:
        return Vt[:n_components, :].T, S[:n_components], U[:, :n_components].T
    return U[:, :n_components], S[:n_components], Vt[:n_components, :]


def _randomized_svd_scipy(X: Any, n_components: int, *, n_oversamples: int, n_iter: int, normalizer: str,
                          random_state: Any) -> tuple[Any, Any, Any]:
    """scikit-learn's ``randomized_svd`` for a ``scipy.sparse`` ``X``, on the host with SciPy's LAPACK.

    The same algorithm as :func:`_randomized_svd` with scikit-learn's choices where SciPy has
    them: the test matrix from NumPy's ``RandomState(random_state).normal`` and LU
    normalization of the power iterations (``"auto"`` with ``n_iter > 2``, ``"LU"``), so that a
    seed gives scikit-learn's components. Only products with ``X`` and ``X.T`` touch the data;
    with numba they run on several threads, with SciPy's bits (:func:`toolbox.backends._sparse.matmul`).
    """
    import numpy as np
    import scipy.linalg as sl
    from sklearn.utils import check_random_state

    rs = check_random_state(random_state)
    A = X.T if X.shape[0] < X.shape[1] else X
    AT = A.T
    Q = rs.normal(size=(A.shape[1], n_components + n_oversamples))
    if X.dtype == np.float32:
        Q = Q.astype(np.float32, copy=False)
    if normalizer == "auto":
        normalizer = "none" if n_iter <= 2 else "LU"

    def norm(M: Any) -> Any:
        if normalizer == "LU":
            return sl.lu(M, permute_l=True, check_finite=False)[0]
        if normalizer == "QR":
            return sl.qr(M, mode="economic", check_finite=False)[0]
        return M

    for _ in range(n_iter):
        Q = norm(sp.matmul(A, Q))
        Q = norm(sp.matmul(AT, Q))
    Q = sl.qr(sp.matmul(A, Q), mode="economic", check_finite=False)[0]
    B = sp.matmul(AT, Q).T  # Q.T @ A
    Uhat, S, Vt = sl.svd(B, full_matrices=False, check_finite=False)
    U = Q @ Uhat
    if A is not X:
        return Vt[:n_components, :].T, S[:n_components], np.ascontiguousarray(U[:, :n_components].T)
    return U[:, :n_components], S[:n_components], Vt[:n_components, :]


def _gram_pays(shape: tuple[int, int], size: int, n_iter: int) -> bool:
    """Whether the randomized SVD should run on the Gram matrix ``X.T @ X`` (see ``_randomized_svd_gram``).

    It costs one ``n d^2 / 2`` BLAS pass; the ``(n, d)`` operator costs about ``2 (n_iter + 2) n d size``.
    """
    n, d = shape
    return n >= 2 * d and d <= (n_iter + 2) * size


def _randomized_svd_gram(G: Any, n_components: int, *, n_oversamples: int, n_iter: int, normalizer: str,
                         gen: Generator, dtype: Any, xp: Any) -> tuple[Any, Any]:
    """Randomized truncated SVD of a tall ``X`` from its Gram matrix ``G = X.T @ X`` (d, d).

    The same subspace iteration as :func:`_randomized_svd` (each power iteration applies
    ``X.T X`` once), run on the small ``G``: after one pass over ``X`` to form ``G``,
    every step is ``d x d x size`` work. The right singular vectors come from the
    Rayleigh-Ritz eigenproblem ``Q.T G Q``; singular values are the square roots of its
    eigenvalues (so values below ``sqrt(eps)`` times the largest lose accuracy).

    Returns
    -------
    S : array (n_components,), Vt : array (n_components, d), not sign-flipped.
    """
    d = G.shape[0]
    size = min(n_components + n_oversamples, d)

    def qr(M: Any) -> Any:
        return xp.linalg.qr(M)[0]

    norm = qr if normalizer == "QR" else (lambda M: M)
    Q = gen.normal((d, size), dtype=dtype)
    for _ in range(n_iter):
        Q = norm(G @ Q)
    Q = qr(G @ Q)
    evals, U = xp.linalg.eigh(Q.T @ G @ Q)
    order = xp.flip(xp.arange(size, device=U.device), axis=0)[:n_components]
    S = xp.sqrt(xp.clip(xp.take(evals, order, axis=0), min=0.0))
    Vt = (Q @ xp.take(U, order, axis=1)).T
    return S, Vt


def _normalizer(name: str, n_iter: int) -> str:
    """``"QR"`` or ``"none"``: the standard has no LU, so ``"LU"`` and ``"auto"`` (n_iter > 2) use QR."""
    if name == "none" or (name == "auto" and n_iter <= 2):
        return "none"
    return "QR"


def _check_normalizer(est: Any) -> None:
    if est.power_iteration_normalizer not in ("auto", "QR", "LU", "none"):
        raise ValueError(
            f"The 'power_iteration_normalizer' parameter of {type(est).__name__} must be one of 'auto', "
            f"'QR', 'LU', 'none'; got {est.power_iteration_normalizer!r}."
        )


def _validate_reduced(est: Any, X: Any, n_columns: int) -> tuple[Any, Any, Any]:
    """Validate ``X`` of shape (n_samples, ``n_columns``) for ``inverse_transform``.

    Like :func:`~toolbox.base.validate_data` without the ``n_features_in_``
    check (the input lives in the reduced space). Returns ``(X, compute, origin)``.
    """
    origin = origin_of(X)
    compute = resolve(X)
    Xa = _to_compute(X, compute, "X")
    Xa = check_array(Xa, xp=compute.xp, device=compute.device, name="X", estimator=est)
    if Xa.shape[1] != n_columns:
        raise ValueError(
            f"X has {Xa.shape[1]} columns, but {type(est).__name__}.inverse_transform expects "
            f"{n_columns} (one per component)."
        )
    return Xa, compute, origin


# --------------------------------------------------------------------------- #
# The estimator
# --------------------------------------------------------------------------- #


class TruncatedSVD(sklearn.base.ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Dimensionality reduction by truncated SVD (latent semantic analysis), on the input's backend.

    A drop-in for :class:`sklearn.decomposition.TruncatedSVD`, for dense and
    sparse data (``scipy.sparse`` matrices and arrays; torch sparse tensors):
    the data is not centred, so sparse input is only ever multiplied, never
    densified.

    Parameters
    ----------
    n_components : int, default=2
        Number of components, ``1 <= n_components <= n_features``
        (``< min(n_samples, n_features)`` with ``algorithm="arpack"``).
    algorithm : {"randomized", "arpack"}, default="randomized"
        ``"randomized"``: Halko et al.'s randomized SVD, written against the
        standard (``linalg.qr``, ``linalg.svd``). For tall data
        (``n_samples >= 2 * n_features`` and ``n_features <= (n_iter + 2) *
        (n_components + n_oversamples)``) its subspace iteration runs on the
        Gram matrix ``X.T @ X``, formed in one BLAS pass (the right singular
        vectors by Rayleigh-Ritz on it), instead of ``2 (n_iter + 2)`` passes
        over ``X``; singular values below ``sqrt(eps)`` times the largest then
        lose accuracy. Sparse input only ever uses products with ``X``; on
        ``scipy.sparse`` input the solver is scikit-learn's exactly (its
        NumPy ``RandomState`` test matrix and LU normalization, with SciPy's
        LAPACK), so a seed gives scikit-learn's components.
        ``"arpack"``: for ``scipy.sparse`` input, ARPACK itself
        (``scipy.sparse.linalg.svds``, seeded as scikit-learn); for dense input
        there is no ARPACK in the Array API, so the exact truncated SVD is
        computed with a dense LAPACK SVD instead (the same result ARPACK
        converges to; ``tol`` is not used).
    n_iter : int, default=5
        Power iterations of the randomized solver.
    n_oversamples : int, default=10
        Extra random vectors of the randomized solver.
    power_iteration_normalizer : {"auto", "QR", "LU", "none"}, default="auto"
        Normalization between power iterations. The standard has no LU
        factorization: ``"LU"`` and ``"auto"`` use QR (``"auto"`` with
        ``n_iter <= 2`` uses none, as scikit-learn).
    random_state : int, RandomState instance or None, default=None
        Seed of the backend's Gaussian test matrix (:class:`toolbox.backends.Generator`).
    tol : float, default=0.0
        ARPACK's tolerance (``algorithm="arpack"`` on ``scipy.sparse`` input only).

    Attributes
    ----------
    components_ : array of shape (n_components, n_features)
        Right singular vectors, signed so the largest entry of each is positive.
    explained_variance_ : array of shape (n_components,)
        Variance of the training data projected on each component.
    explained_variance_ratio_ : array of shape (n_components,)
        ``explained_variance_`` over the total variance of the data.
    singular_values_ : array of shape (n_components,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.
    """

    def __init__(self, n_components: int = 2, *, algorithm: str = "randomized", n_iter: int = 5,
                 n_oversamples: int = 10, power_iteration_normalizer: str = "auto", random_state: Any = None,
                 tol: float = 0.0) -> None:
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_iter = n_iter
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state
        self.tol = tol

    def _check_params(self) -> None:
        name = type(self).__name__
        if not _is_int(self.n_components) or self.n_components < 1:
            raise ValueError(f"The 'n_components' parameter of {name} must be an int >= 1; got {self.n_components!r}.")
        if self.algorithm not in ("randomized", "arpack"):
            raise ValueError(
                f"The 'algorithm' parameter of {name} must be 'randomized' or 'arpack'; got {self.algorithm!r}."
            )
        if not _is_int(self.n_iter) or self.n_iter < 0:
            raise ValueError(f"The 'n_iter' parameter of {name} must be an int >= 0; got {self.n_iter!r}.")
        if not _is_int(self.n_oversamples) or self.n_oversamples < 1:
            raise ValueError(
                f"The 'n_oversamples' parameter of {name} must be an int >= 1; got {self.n_oversamples!r}."
            )
        _check_normalizer(self)
        if not isinstance(self.tol, numbers.Real) or isinstance(self.tol, bool) or not self.tol >= 0:
            raise ValueError(f"The 'tol' parameter of {name} must be a float >= 0; got {self.tol!r}.")

    def fit(self, X: Any, y: Any = None) -> TruncatedSVD:
        """Fit the model on ``X`` of shape (n_samples, n_features)."""
        self._fit(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit on ``X`` and return its reduction, shape (n_samples, n_components)."""
        Xt, origin = self._fit(X)
        return self._output(Xt, origin)

    def _fit(self, X: Any) -> tuple[Any, Any]:
        self._check_params()
        v = validate_data(self, X, reset=True, accept_sparse=True)
        xp, X = v.xp, v.X
        n, d = int(X.shape[0]), int(X.shape[1])
        name = type(self).__name__
        sparse = sp.is_sparse(X)
        limit = math.sqrt(float(xp.finfo(X.dtype).max) / max(n, 1))
        if d and n and (not sparse or sp.max_abs(X) > limit):
            if sparse:
                top = sp.column_max_abs(X)
            else:  # max |x| = max(max x, -min x): one pass, no |X| copy (one more X in memory)
                lo, hi = primitives.column_min_max(X, xp=xp)
                top = xp.maximum(hi, -lo)
            j = int(xp.argmax(top))
            if float(top[j]) > limit:
                raise ValueError(
                    f"{name}: X column {j} has values up to {float(top[j]):.3g}, whose squares overflow "
                    f"{X.dtype} (X.T @ X would be infinite). Rescale the features first, e.g. divide X by "
                    "a constant."
                )
        if d < 2:
            raise ValueError(
                f"Found array with {d} feature(s) (shape={(n, d)}) while a minimum of 2 is required by {name}."
            )
        k = self.n_components
        G = None
        Xt = None
        if self.algorithm == "arpack":
            if k >= min(n, d):
                raise ValueError(
                    f"n_components={k} must be strictly less than min(n_samples, n_features)={min(n, d)} "
                    f"with algorithm='arpack' (n_samples={n}, n_features={d})."
                )
            if sparse:
                S, Vt = self._svds(X, k, v.compute)
            else:
                _, S, Vt = xp.linalg.svd(X, full_matrices=False)
                S, Vt = S[:k], Vt[:k, :]
        else:
            if k > d:
                raise ValueError(f"n_components({k}) must be <= n_features({d}).")
            gen = Generator(self.random_state, xp=xp, device=v.compute.device)
            opts = dict(n_oversamples=self.n_oversamples, n_iter=self.n_iter,
                        normalizer=_normalizer(self.power_iteration_normalizer, self.n_iter), gen=gen,
                        dtype=X.dtype, xp=xp)
            if sp.sparse_kind(X) == "scipy":
                _, S, Vt = _randomized_svd_scipy(X, k, n_oversamples=self.n_oversamples, n_iter=self.n_iter,
                                                 normalizer=self.power_iteration_normalizer,
                                                 random_state=self.random_state)
            elif sparse:  # products with the stored entries only; X.T @ X could be dense
                XT = sp.transpose(X)
                _, S, Vt = _randomized_svd(lambda Q: sp.matmul(X, Q), lambda P: sp.matmul(XT, P), (n, d), k,
                                           **opts)
            elif _gram_pays((n, d), k + self.n_oversamples, self.n_iter):
                G = primitives.gram(X, xp=xp)
                S, Vt = _randomized_svd_gram(G, k, **opts)
            else:
                _, S, Vt = _randomized_svd(lambda Q: X @ Q, lambda P: (P.T @ X).T, (n, d), k, **opts)
        if Xt is None:
            _, Vt = _svd_flip_v(None, Vt, xp=xp)
            Xt = sp.matmul(X, Vt.T) if sparse else X @ Vt.T
        self.components_ = Vt
        self.explained_variance_ = xp.var(Xt, axis=0)
        full_var = sp.total_variance(X) if sparse else _total_variance(X, G, xp=xp)
        self.explained_variance_ratio_ = self.explained_variance_ / full_var
        self.singular_values_ = S
        return Xt, v.origin

    def _svds(self, X: Any, k: int, compute: Any) -> tuple[Any, Any]:
        """ARPACK (``scipy.sparse.linalg.svds``) on a SciPy sparse ``X``, seeded as scikit-learn does."""
        if sp.sparse_kind(X) != "scipy":
            raise ValueError(
                "algorithm='arpack' on sparse input needs a scipy.sparse matrix (ARPACK runs on the host); "
                "use algorithm='randomized' for torch sparse tensors."
            )
        import numpy as np
        from scipy.sparse.linalg import svds
        from sklearn.utils import check_random_state

        v0 = check_random_state(self.random_state).uniform(-1, 1, min(X.shape))
        _, S, Vt = svds(X, k=k, tol=self.tol, v0=v0)
        return np.ascontiguousarray(S[::-1]), np.ascontiguousarray(Vt[::-1])

    def transform(self, X: Any) -> Any:
        """Project ``X`` (n_samples, n_features) on the components: shape (n_samples, n_components).

        Sparse ``X`` (``scipy.sparse``, torch sparse) is multiplied as it is; the result is dense.
        """
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        (comp,) = self._fitted(v.compute, "components_", dtype=v.X.dtype)
        if sp.is_sparse(v.X):
            return self._output(sp.matmul(v.X, comp.T), v.origin)
        return self._output(v.X @ comp.T, v.origin)

    def inverse_transform(self, X: Any) -> Any:
        """Map ``X`` (n_samples, n_components) back to feature space: ``X @ components_``."""
        check_is_fitted(self)
        Xa, compute, origin = _validate_reduced(self, X, self.components_.shape[0])
        (comp,) = self._fitted(compute, "components_", dtype=Xa.dtype)
        return self._output(Xa @ comp, origin)

    @property
    def _n_features_out(self) -> int:
        return int(self.components_.shape[0])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags
