"""Principal component analysis, written once against the Array API."""

from __future__ import annotations

import math
import numbers
from typing import Any

import sklearn.base

from ..backends import Compute, Generator, primitives, resolve
from ..backends import _sparse as sp
from ..base import BaseEstimator, TransformerMixin, check_finite_after, check_is_fitted, validate_data
from ._truncated_svd import (
    _centered_sq_sum,
    _check_normalizer,
    _is_int,
    _normalizer,
    _randomized_svd,
    _svd_flip_v,
    _validate_reduced,
)

__all__ = ["PCA"]

# the log-likelihood centres X, which would store every implicit zero of a sparse matrix
_PCA_SPARSE_HINT = ("use toolbox.decomposition.TruncatedSVD, which never centres (PCA's score and "
                    "score_samples centre X)")
#: the solvers that centre sparse input implicitly (never densifying it), as in scikit-learn
_SPARSE_SOLVERS = ("auto", "arpack", "covariance_eigh")

_SOLVERS = ("auto", "full", "covariance_eigh", "arpack", "randomized")


# --------------------------------------------------------------------------- #
# Helpers (internal; the namespace is the keyword-only ``xp``)
# --------------------------------------------------------------------------- #


def _safe_log(x: Any, *, xp: Any) -> Any:
    """``log(x)`` with ``-inf`` where ``x <= 0``, without floating-point warnings."""
    pos = x > 0
    return xp.where(pos, xp.log(xp.where(pos, x, xp.ones_like(x))), xp.full_like(x, -math.inf))


def _infer_dimension(spectrum: Any, n_samples: int, *, xp: Any) -> int:
    """Minka's choice of dimension (scikit-learn's ``_infer_dimension``), for every rank at once.

    ``spectrum``: the eigenvalues of the covariance, descending, shape (d,).
    Returns the rank in ``[1, d - 1]`` of highest log-likelihood. scikit-learn
    evaluates the pairwise term with a Python double loop per rank; here the
    sums over eigenvalue pairs ``i < r <= j`` and ``i < j < r`` become
    cumulative sums of (d, d) masked arrays, so all ranks cost O(d^2) array
    work with static shapes. Ranks whose eigenvalues tie (where scikit-learn
    would take ``log(0)``) are skipped.
    """
    d = int(spectrum.shape[0])
    if d < 2:
        return 1
    n = float(n_samples)
    eps = 1e-15
    s = spectrum
    dev = s.device
    idx = xp.arange(d, device=dev)
    r = xp.astype(idx[1:], s.dtype)  # ranks 1 .. d-1
    # host-side constants of each rank (no data): lgamma terms of Minka's prior
    pu_host, acc = [], 0.0
    for i in range(1, d):
        acc += math.lgamma((d - i + 1) / 2.0) - math.log(math.pi) * (d - i + 1) / 2.0
        pu_host.append(acc - i * math.log(2.0))
    pu = xp.asarray(pu_host, dtype=s.dtype, device=dev)
    pl = -xp.cumulative_sum(_safe_log(s, xp=xp))[:-1] * (n / 2.0)
    tail = xp.flip(xp.cumulative_sum(xp.flip(s, axis=0)), axis=0)[1:]  # sum(s[r:]) for r = 1 .. d-1
    v = xp.clip(tail / (d - r), min=eps)
    pv = -xp.log(v) * n * (d - r) / 2.0
    m = d * r - r * (r + 1.0) / 2.0
    pp = math.log(2.0 * math.pi) * (m + r) / 2.0
    # pairwise term pa(r) = sum_{i<r, j>i} log((s_i - s_j) (1/s'_j - 1/s_i)), s'_j = v_r for j >= r
    inv = 1.0 / xp.clip(s, min=float(xp.finfo(s.dtype).smallest_normal))
    upper = idx[None, :] > idx[:, None]
    zero = xp.zeros((d, d), dtype=s.dtype, device=dev)
    log_diff = xp.where(upper, _safe_log(s[:, None] - s[None, :], xp=xp), zero)
    log_inv = xp.where(upper, _safe_log(inv[None, :] - inv[:, None], xp=xp), zero)
    inner = xp.cumulative_sum(xp.sum(log_diff + log_inv, axis=0))[:-1]  # pairs i < j < r
    cross = xp.cumulative_sum(xp.sum(log_diff, axis=1) - xp.sum(log_diff, axis=0))[:-1]  # i < r <= j
    lower = idx[None, :] < xp.astype(r, idx.dtype)[:, None]
    cross_v = (d - r) * xp.sum(xp.where(lower, _safe_log(1.0 / v[:, None] - inv[None, :], xp=xp),
                                         xp.zeros((d - 1, d), dtype=s.dtype, device=dev)), axis=1)
    pa = inner + cross + cross_v + (r * d - r * (r + 1.0) / 2.0) * math.log(n)
    ll = pu + pl + pv + pp - pa / 2.0 - r * math.log(n) / 2.0
    ll = xp.where((s[:-1] >= eps) & xp.isfinite(ll), ll, xp.full_like(ll, -math.inf))
    return int(xp.argmax(ll)) + 1


# --------------------------------------------------------------------------- #
# The estimator
# --------------------------------------------------------------------------- #


def _check_arpack_components(nc: Any, n: int, d: int) -> None:
    """scikit-learn's checks (and messages) of ``n_components`` for ARPACK: an int in [1, min(n, d))."""
    m = min(n, d)
    shape = f" (n_samples={n}, n_features={d})"
    if isinstance(nc, str):
        raise ValueError(f"n_components={nc!r} cannot be a string with svd_solver='arpack'")
    if not _is_int(nc) or not 1 <= nc <= m:
        raise ValueError(f"n_components={nc!r} must be between 1 and min(n_samples, n_features)={m} with "
                         f"svd_solver='arpack'{shape}")
    if nc == m:
        raise ValueError(f"n_components={nc!r} must be strictly less than min(n_samples, n_features)={m} "
                         f"with svd_solver='arpack'{shape}")


class PCA(sklearn.base.ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Principal component analysis, on the input's own backend and device.

    A drop-in for :class:`sklearn.decomposition.PCA` for dense data: the data
    is centred (not scaled) and projected on its leading principal axes.

    Parameters
    ----------
    n_components : int, float in (0, 1), "mle" or None, default=None
        Components to keep. ``None``: ``min(n_samples, n_features)``. A float:
        the fewest components whose cumulative explained-variance ratio exceeds
        it. ``"mle"``: Minka's estimate (needs ``n_samples >= n_features``).
    copy : bool, default=True
        Accepted for compatibility; the input is never modified.
    whiten : bool, default=False
        Scale the projections to unit variance.
    svd_solver : {"auto", "full", "covariance_eigh", "randomized", "arpack"}, default="auto"
        ``"covariance_eigh"``: eigendecomposition of the covariance matrix,
        built in one pass over ``X`` (row chunks centred on the fly).
        ``"full"``: thin SVD of the centred data. ``"randomized"``: Halko et
        al.'s randomized SVD, centring implicitly (no copy of ``X``).
        ``"auto"`` chooses as scikit-learn: ``"covariance_eigh"`` when
        ``n_features <= 1000`` and ``n_samples >= 10 * n_features``; else
        ``"full"`` for inputs up to 500x500 or ``"mle"``; else
        ``"randomized"`` when ``1 <= n_components < 0.8 * min(X.shape)``;
        else ``"full"``. ``"arpack"``: there is no ARPACK in the Array API; the
        exact truncated decomposition is computed instead (``"covariance_eigh"``
        for tall data, else ``"full"``), with ARPACK's constraint
        ``n_components < min(n_samples, n_features)``; ``tol`` is unused.
        Sparse ``X`` (``scipy.sparse``, torch sparse) is centred implicitly,
        never densified, as in scikit-learn: ``"covariance_eigh"`` (``X.T @ X``
        from the stored entries) or ``"arpack"`` (ARPACK itself,
        ``scipy.sparse.linalg.svds`` on the centred operator, seeded as
        scikit-learn; SciPy input only); ``"auto"`` is ``"arpack"`` for SciPy
        input, ``"covariance_eigh"`` for torch; the other solvers refuse it.
    tol : float, default=0.0
        ARPACK's tolerance, with ``svd_solver="arpack"`` on sparse input; otherwise unused.
    iterated_power : int or "auto", default="auto"
        Power iterations of the randomized solver; ``"auto"``: 7 when
        ``n_components < 0.1 * min(X.shape)``, else 4.
    n_oversamples : int, default=10
        Extra random vectors of the randomized solver.
    power_iteration_normalizer : {"auto", "QR", "LU", "none"}, default="auto"
        Normalization between power iterations; the standard has no LU, so
        ``"LU"`` and ``"auto"`` use QR (``"auto"`` with at most 2 iterations: none).
    random_state : int, RandomState instance or None, default=None
        Seed of the randomized solver's Gaussian test matrix (:class:`toolbox.backends.Generator`).

    Attributes
    ----------
    components_ : array of shape (n_components_, n_features)
        Principal axes, by decreasing explained variance; each signed so its
        largest-magnitude entry is positive (scikit-learn's
        ``svd_flip(u_based_decision=False)``).
    explained_variance_ : array of shape (n_components_,)
        Variance along each axis (ddof=1).
    explained_variance_ratio_ : array of shape (n_components_,)
    singular_values_ : array of shape (n_components_,)
    mean_ : array of shape (n_features,)
    n_components_ : int
    n_samples_ : int
    noise_variance_ : float
        Probabilistic-PCA noise variance: the mean of the discarded eigenvalues.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.
    """

    def __init__(self, n_components: Any = None, *, copy: bool = True, whiten: bool = False,
                 svd_solver: str = "auto", tol: float = 0.0, iterated_power: Any = "auto",
                 n_oversamples: int = 10, power_iteration_normalizer: str = "auto",
                 random_state: Any = None) -> None:
        self.n_components = n_components
        self.copy = copy
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.tol = tol
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state

    # ------------------------------------------------------------------ #

    def _check_params(self) -> None:
        name = type(self).__name__
        nc = self.n_components
        ok = (nc is None or nc == "mle" or (_is_int(nc) and nc >= 0)
              or (isinstance(nc, numbers.Real) and not isinstance(nc, (bool, numbers.Integral)) and 0 < nc < 1))
        if not ok:
            raise ValueError(
                f"The 'n_components' parameter of {name} must be None, an int >= 0, a float in (0, 1) "
                f"or 'mle'; got {nc!r}."
            )
        if self.svd_solver not in _SOLVERS:
            raise ValueError(
                f"The 'svd_solver' parameter of {name} must be one of {', '.join(map(repr, _SOLVERS))}; "
                f"got {self.svd_solver!r}."
            )
        if not isinstance(self.tol, numbers.Real) or isinstance(self.tol, bool) or not self.tol >= 0:
            raise ValueError(f"The 'tol' parameter of {name} must be a float >= 0; got {self.tol!r}.")
        if not (self.iterated_power == "auto" or (_is_int(self.iterated_power) and self.iterated_power >= 0)):
            raise ValueError(
                f"The 'iterated_power' parameter of {name} must be 'auto' or an int >= 0; "
                f"got {self.iterated_power!r}."
            )
        if not _is_int(self.n_oversamples) or self.n_oversamples < 1:
            raise ValueError(
                f"The 'n_oversamples' parameter of {name} must be an int >= 1; got {self.n_oversamples!r}."
            )
        _check_normalizer(self)

    def _choose_solver(self, n: int, d: int, n_components: Any) -> str:
        solver = self.svd_solver
        if solver == "auto":
            if d <= 1_000 and n >= 10 * d:
                return "covariance_eigh"
            if max(n, d) <= 500 or n_components == "mle":
                return "full"
            if 1 <= n_components < 0.8 * min(n, d):
                return "randomized"
            return "full"
        return solver

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit the model on ``X`` of shape (n_samples, n_features)."""
        self._fit(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit on ``X`` and return its projection, shape (n_samples, n_components_)."""
        U, S, v = self._fit(X)
        if U is None:  # covariance_eigh computes no U
            return self._output(self._project(v.X, v.compute), v.origin)
        k = self.n_components_
        U = U[:, :k]
        Xt = U * math.sqrt(v.X.shape[0] - 1) if self.whiten else U * S[:k][None, :]
        return self._output(Xt, v.origin)

    def _fit(self, X: Any) -> tuple[Any, Any, Any]:
        self._check_params()
        if sp.is_sparse(X) and self.svd_solver not in _SPARSE_SOLVERS:
            raise TypeError(
                'PCA only support sparse inputs with the "arpack" and "covariance_eigh" solvers, while '
                f'"{self.svd_solver}" was passed. See TruncatedSVD for a possible alternative.')
        # the finiteness check is deferred: the dense covariance solver proves it from the Gram
        # matrix (a NaN or infinity anywhere makes it non-finite), the other paths scan X first
        v = validate_data(self, X, reset=True, accept_sparse=True, check_finite=False)
        X = v.X
        n, d = int(X.shape[0]), int(X.shape[1])
        m = min(n, d)
        sparse = sp.is_sparse(X)
        # sparse input under "auto": ARPACK (scikit-learn's choice; it runs on the host, so torch
        # sparse tensors take the covariance instead)
        sparse_auto = "arpack" if sp.sparse_kind(X) == "scipy" else "covariance_eigh"
        solver_asked = sparse_auto if sparse and self.svd_solver == "auto" else self.svd_solver
        nc = self.n_components
        if nc is None:
            nc = m - 1 if solver_asked == "arpack" else m
        if sparse:
            self._fit_svd_solver = solver_asked
            if solver_asked == "arpack":
                return self._fit_arpack_sparse(v, nc)
            return self._fit_exact(v, self._checked_exact(nc, n, d), "covariance_eigh")
        try:
            solver = self._choose_solver(n, d, nc)
            self._fit_svd_solver = solver
            exact = solver
            if solver == "arpack":
                exact = "covariance_eigh" if d <= 1_000 and n >= 10 * d else "full"
            if exact != "covariance_eigh":
                check_finite_after(v, v.xp.sum(X))  # a finite sum proves it (else the scan)
            if solver == "arpack":
                _check_arpack_components(nc, n, d)
                solver = exact
        except (TypeError, ValueError):
            check_finite_after(v, v.xp.sum(X))  # scikit-learn checks the data first
            raise
        if solver in ("full", "covariance_eigh"):
            try:
                nc = self._checked_exact(nc, n, d)
            except ValueError:
                check_finite_after(v, v.xp.sum(X))  # scikit-learn checks the data first
                raise
            return self._fit_exact(v, nc, solver)
        if isinstance(nc, str):
            raise ValueError(f"n_components={nc!r} cannot be a string with svd_solver='{solver}'")
        if not _is_int(nc) or not 1 <= nc <= m:
            raise ValueError(
                f"n_components={nc!r} must be between 1 and min(n_samples, n_features)={m} with "
                f"svd_solver='{solver}'"
            )
        return self._fit_randomized(v, nc)

    def _checked_exact(self, nc: Any, n: int, d: int) -> Any:
        """``nc`` checked for the exact solvers ("full", "covariance_eigh")."""
        if nc == "mle":
            if n < d:
                raise ValueError("n_components='mle' is only supported if n_samples >= n_features")
        elif _is_int(nc) and not 0 <= nc <= min(n, d):
            raise ValueError(
                f"n_components={nc} must be between 0 and min(n_samples, n_features)={min(n, d)} with "
                f"svd_solver={self._fit_svd_solver!r}"
            )
        return nc

    def _fit_exact(self, v: Any, nc: Any, solver: str) -> tuple[Any, Any, Any]:
        xp, X = v.xp, v.X
        n, d = int(X.shape[0]), int(X.shape[1])
        if solver == "full":
            mean = xp.mean(X, axis=0)
            U, S, Vt = xp.linalg.svd(X - mean, full_matrices=False)
            ev = S**2 / (n - 1)
        else:
            if sp.is_sparse(X):  # X.T @ X from the stored entries, centred afterwards (as scikit-learn)
                mean = sp.column_sums(X) / n
                G = sp.gram(X) - n * (mean[:, None] * mean[None, :])
            else:
                G, _, mean, _ = primitives.centered_gram(X, xp=xp)
                check_finite_after(v, G)
            evals, evecs = xp.linalg.eigh(G)  # of the scatter matrix, scaled below: no scaled copy
            del G  # one (d, d) buffer fewer while the components are signed
            evals = evals / (n - 1)
            ev = xp.clip(xp.flip(evals, axis=0), min=0.0)  # round-off can make tiny eigenvalues negative
            Vt = xp.flip(evecs, axis=1).T
            S = xp.sqrt(ev * (n - 1))
            U = None
        U, Vt = _svd_flip_v(U, Vt, xp=xp)
        ratio = ev / xp.sum(ev)
        if nc == "mle":
            nc = _infer_dimension(ev, n, xp=xp)
        elif not _is_int(nc):  # a fraction of the explained variance
            cum = xp.cumulative_sum(ratio)
            target = xp.asarray([float(nc)], dtype=cum.dtype, device=v.compute.device)
            nc = min(int(xp.searchsorted(cum, target, side="right")[0]) + 1, int(ev.shape[0]))
        self.noise_variance_ = float(xp.mean(ev[nc:])) if nc < min(n, d) else 0.0
        self._store(v, mean, Vt[:nc, :], ev[:nc], ratio[:nc], S[:nc], nc)
        return U, S, v

    def _fit_randomized(self, v: Any, nc: int) -> tuple[Any, Any, Any]:
        xp, X = v.xp, v.X
        n, d = int(X.shape[0]), int(X.shape[1])
        mean = xp.mean(X, axis=0)
        n_iter = self.iterated_power
        if n_iter == "auto":
            n_iter = 7 if nc < 0.1 * min(n, d) else 4

        # the centred operator (X - mean), applied without forming it
        def matmul(Q: Any) -> Any:
            return X @ Q - (mean[None, :] @ Q)

        def rmatmul(P: Any) -> Any:  # (P.T @ X).T: NumPy's BLAS is faster with this layout than X.T @ P
            return (P.T @ X).T - mean[:, None] * xp.sum(P, axis=0)[None, :]

        gen = Generator(self.random_state, xp=xp, device=v.compute.device)
        U, S, Vt = _randomized_svd(
            matmul, rmatmul, (n, d), nc, n_oversamples=self.n_oversamples, n_iter=n_iter,
            normalizer=_normalizer(self.power_iteration_normalizer, n_iter), gen=gen, dtype=X.dtype, xp=xp,
        )
        U, Vt = _svd_flip_v(U, Vt, xp=xp)
        ev = S**2 / (n - 1)
        total_var = xp.sum(_centered_sq_sum(X, mean, xp=xp)) / (n - 1)
        if nc < min(n, d):
            self.noise_variance_ = float(total_var - xp.sum(ev)) / (min(n, d) - nc)
        else:
            self.noise_variance_ = 0.0
        self._store(v, mean, Vt, ev, ev / total_var, S, nc)
        return U, S, v

    def _fit_arpack_sparse(self, v: Any, nc: Any) -> tuple[Any, Any, Any]:
        """ARPACK on the implicitly centred SciPy sparse ``X`` (never densified), seeded as scikit-learn."""
        import numpy as np
        from scipy.sparse.linalg import LinearOperator, svds
        from sklearn.utils import check_random_state

        X = v.X
        n, d = int(X.shape[0]), int(X.shape[1])
        m = min(n, d)
        if sp.sparse_kind(X) != "scipy":
            raise ValueError("svd_solver='arpack' on sparse input needs a scipy.sparse matrix (ARPACK runs on "
                             "the host); use svd_solver='covariance_eigh' for torch sparse tensors.")
        _check_arpack_components(nc, n, d)
        mean, var = sp.column_mean_var(X)
        Xt = sp.transpose(X)

        def matvec(w: Any) -> Any:
            w = np.asarray(w).reshape(d, -1)
            return np.asarray(X @ w) - mean @ w

        def rmatvec(u: Any) -> Any:
            u = np.asarray(u).reshape(n, -1)
            return np.asarray(Xt @ u) - mean[:, None] * u.sum(axis=0)[None, :]

        op = LinearOperator((n, d), matvec=matvec, rmatvec=rmatvec, matmat=matvec, rmatmat=rmatvec,
                            dtype=X.dtype)
        v0 = check_random_state(self.random_state).uniform(-1, 1, m)
        U, S, Vt = svds(op, k=int(nc), tol=self.tol, v0=v0)
        S = np.ascontiguousarray(S[::-1])
        U, Vt = _svd_flip_v(np.ascontiguousarray(U[:, ::-1]), np.ascontiguousarray(Vt[::-1]), xp=v.xp)
        ev = S**2 / (n - 1)
        total_var = float(np.sum(var)) * n / (n - 1)
        self.noise_variance_ = (total_var - float(np.sum(ev))) / (m - nc) if nc < m else 0.0
        self._store(v, mean, Vt, ev, ev / total_var, S, int(nc))
        return U, S, v

    def _store(self, v: Any, mean: Any, comp: Any, ev: Any, ratio: Any, S: Any, nc: int) -> None:
        self.mean_ = mean
        self.components_ = primitives.c_ordered(comp, xp=v.xp)  # not a strided view of the eigenvectors
        self.explained_variance_ = ev
        self.explained_variance_ratio_ = ratio
        self.singular_values_ = S
        self.n_components_ = int(nc)
        self.n_samples_ = int(v.X.shape[0])

    # ------------------------------------------------------------------ #

    def _project(self, X: Any, compute: Compute) -> Any:
        """``(X - mean_) @ components_.T`` (whitened if asked) without a centred copy of ``X``."""
        xp = compute.xp
        mean, comp, ev = self._fitted(compute, "mean_", "components_", "explained_variance_", dtype=X.dtype)
        Xt = (sp.matmul(X, comp.T) if sp.is_sparse(X) else X @ comp.T) - (mean[None, :] @ comp.T)
        if self.whiten:
            scale = xp.sqrt(ev)
            Xt = Xt / xp.clip(scale, min=float(xp.finfo(scale.dtype).eps))
        return Xt

    def transform(self, X: Any) -> Any:
        """Project ``X`` (n_samples, n_features; dense or sparse) on the components: shape (n_samples, n_components_)."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        return self._output(self._project(v.X, v.compute), v.origin)

    def inverse_transform(self, X: Any) -> Any:
        """Map ``X`` (n_samples, n_components_) back to feature space (undoing whitening)."""
        check_is_fitted(self)
        Xa, compute, origin = _validate_reduced(self, X, self.n_components_)
        xp = compute.xp
        mean, comp, ev = self._fitted(compute, "mean_", "components_", "explained_variance_", dtype=Xa.dtype)
        if self.whiten:
            comp = xp.sqrt(ev)[:, None] * comp
        return self._output(Xa @ comp + mean[None, :], origin)

    # ------------------------------------------------------------------ #
    # Probabilistic PCA

    def _covariance(self, comp: Any, ev: Any, *, xp: Any) -> Any:
        d = comp.shape[1]
        nv = self.noise_variance_
        if self.whiten:
            comp = comp * xp.sqrt(ev)[:, None]
        diff = xp.clip(ev - nv, min=0.0)
        cov = (comp.T * diff[None, :]) @ comp
        return cov + nv * xp.eye(d, dtype=comp.dtype, device=comp.device)

    def _precision(self, comp: Any, ev: Any, *, xp: Any) -> Any:
        d = comp.shape[1]
        nv = self.noise_variance_
        eye = xp.eye(d, dtype=comp.dtype, device=comp.device)
        if self.n_components_ == 0:
            return eye / nv
        if nv == 0.0:
            return xp.linalg.inv(self._covariance(comp, ev, xp=xp))
        if self.whiten:
            comp = comp * xp.sqrt(ev)[:, None]
        diff = xp.clip(ev - nv, min=0.0)
        eye_k = xp.eye(comp.shape[0], dtype=comp.dtype, device=comp.device)
        inner = comp @ comp.T / nv + xp.where(eye_k > 0, 1.0 / diff[None, :], xp.zeros_like(eye_k))
        precision = comp.T @ xp.linalg.inv(inner) @ comp
        return eye / nv - precision / (nv**2)

    def get_covariance(self) -> Any:
        """Data covariance under the probabilistic-PCA model, shape (n_features, n_features).

        ``components_.T @ diag(explained_variance_ - noise_variance_) @ components_
        + noise_variance_ * I``, on the backend the model was fitted on.
        """
        check_is_fitted(self)
        compute = resolve(self.components_)
        return self._covariance(self.components_, self.explained_variance_, xp=compute.xp)

    def get_precision(self) -> Any:
        """Inverse of :meth:`get_covariance` (matrix inversion lemma), shape (n_features, n_features)."""
        check_is_fitted(self)
        compute = resolve(self.components_)
        return self._precision(self.components_, self.explained_variance_, xp=compute.xp)

    def score_samples(self, X: Any) -> Any:
        """Log-likelihood of each row of ``X`` under the probabilistic-PCA model, shape (n_samples,)."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, sparse_hint=_PCA_SPARSE_HINT)
        return self._output(self._log_likelihood(v), v.origin)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the rows of ``X`` under the probabilistic-PCA model."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, sparse_hint=_PCA_SPARSE_HINT)
        return float(v.xp.mean(self._log_likelihood(v)))

    def _log_likelihood(self, v: Any) -> Any:
        xp = v.xp
        mean, comp, ev = self._fitted(v.compute, "mean_", "components_", "explained_variance_", dtype=v.X.dtype)
        d = v.X.shape[1]
        precision = self._precision(comp, ev, xp=xp)
        Xr = v.X - mean
        sign, logdet = xp.linalg.slogdet(precision)
        logdet = float(logdet) if float(sign) > 0 else -math.inf
        return -0.5 * xp.sum(Xr * (Xr @ precision), axis=1) - 0.5 * (d * math.log(2.0 * math.pi) - logdet)

    @property
    def _n_features_out(self) -> int:
        return int(self.components_.shape[0])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = self.svd_solver in _SPARSE_SOLVERS
        return tags
