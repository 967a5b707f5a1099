"""Non-negative least squares on the normal equations (``positive=True``).

:class:`~toolbox.linear_model.LinearRegression` and :class:`~toolbox.linear_model.Ridge` with
``positive=True`` minimize, for each target column ``b`` of ``X.T y``::

    1/2 w.T (G + alpha I) w - b.T w    subject to  w >= 0,      G = X.T X

(``X``, ``y`` centred and ``sqrt(sample_weight)``-scaled). The heavy part, ``G`` and ``b``, is
built once on the data's own backend and device (one BLAS pass over ``X``); this module only
sees the ``(d, d)`` problem, which it solves on the host in float64:

- :func:`nnls_gram` exactly, by the Lawson-Hanson active-set method (SciPy's compiled
  ``nnls``) on a square root of ``G + alpha I``: ``||R w - c||^2`` with ``R.T R = G + alpha I``
  and ``R.T c = b`` is the objective above up to a constant. ``R`` is the Cholesky factor,
  or ``diag(sqrt(e)) V.T`` from the eigendecomposition when the matrix is singular
  (unpenalized, rank-deficient ``X``).
- :func:`lbfgs_gram` by L-BFGS-B with bounds, scikit-learn's ``solver='lbfgs'`` (same
  objective value, gradient, ``tol`` and ``max_iter``, so the same stopping rule and the same
  ``ConvergenceWarning`` when it stops at ``max_iter``); a converged point is then polished to
  the exact minimizer on its support (one ``|S| x |S|`` solve), so ``tol`` does not limit the
  accuracy.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize

from ..exceptions import ConvergenceWarning

__all__: list[str] = []


def _square_root(H: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(R, V, s)``: ``R.T R = H``; Cholesky (``V = s = None``) or the eigen square root.

    The eigen form keeps the directions with eigenvalue above ``d * eps * max``:
    ``R = diag(s) V.T`` with ``s = sqrt(e)``.
    """
    try:
        R = scipy.linalg.cholesky(H, lower=False, check_finite=False)
        diag = np.abs(np.diag(R))
        eps = np.finfo(np.float64).eps
        if diag.size == 0 or diag.min() > np.sqrt(H.shape[0] * eps) * diag.max():
            return R, None, None
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError, ValueError):
        pass
    e, V = np.linalg.eigh(H)
    cutoff = max(float(np.max(np.abs(e))) if e.size else 0.0, 0.0) * H.shape[0] * np.finfo(np.float64).eps
    keep = e > cutoff
    V, s = V[:, keep], np.sqrt(e[keep])
    return s[:, None] * V.T, V, s


def nnls_gram(G: np.ndarray, B: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The exact non-negative minimizer for every target; ``(n_targets, d)``.

    Parameters
    ----------
    G : ndarray (d, d), float64, symmetric positive semi-definite
    B : ndarray (d, n_targets), float64
    alpha : ndarray (n_targets,), float64, the ridge penalty of each target (0 for OLS)
    """
    d, k = B.shape
    out = np.zeros((k, d), dtype=np.float64)
    if d == 0:
        return out
    eye = np.eye(d)
    cache: dict[float, tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = {}
    for j in range(k):  # loop over targets
        a = float(alpha[j])
        if a not in cache:
            cache[a] = _square_root(G + a * eye if a else G)
        R, V, s = cache[a]
        b = B[:, j]
        if R.shape[0] == 0 or not np.any(b > 0):
            continue  # w = 0 is optimal: the gradient -b is non-negative everywhere
        if V is None:
            c = scipy.linalg.solve_triangular(R, b, trans="T", check_finite=False)
        else:  # b lies in the range of G (b = X.T y); its part outside the kept directions is rounding
            c = (V.T @ b) / s
        try:
            out[j], _ = scipy.optimize.nnls(R, c, maxiter=max(100, 10 * d))
        except RuntimeError:  # the active set cycles on rounding (not seen in practice): L-BFGS-B instead
            out[j] = lbfgs_gram(G, B[:, j:j + 1], alpha[j:j + 1], np.zeros(1), tol=1e-12, max_iter=None,
                                polish=False)[0]
    return out


def lbfgs_gram(G: np.ndarray, B: np.ndarray, alpha: np.ndarray, yy: np.ndarray, *, tol: float,
               max_iter: int | None, polish: bool = True) -> np.ndarray:
    """scikit-learn's ``_solve_lbfgs`` with bounds ``w >= 0``, on the normal equations.

    The objective ``1/2 ||y - X w||^2 + alpha/2 ||w||^2`` is evaluated as
    ``1/2 (w.T G w - 2 b.T w + y.T y) + alpha/2 w.T w`` (``yy = y.T y`` per target), so its value
    and gradient, hence L-BFGS-B's stopping rule, are scikit-learn's; each evaluation is
    ``d x d`` work. Warns with scikit-learn's ``ConvergenceWarning`` when a target stops
    before convergence (e.g. at ``max_iter``).
    """
    d, k = B.shape
    options: dict[str, Any] = {}
    if max_iter is not None:
        options["maxiter"] = max_iter
    out = np.zeros((k, d), dtype=np.float64)
    for j in range(k):  # loop over targets
        a, b, c = float(alpha[j]), B[:, j], float(yy[j])

        def func(w: np.ndarray, a: float = a, b: np.ndarray = b, c: float = c) -> tuple[float, np.ndarray]:
            Gw = G @ w
            f = 0.5 * (w @ Gw - 2.0 * (b @ w) + c) + 0.5 * a * (w @ w)
            return f, Gw - b + a * w

        result = scipy.optimize.minimize(func, np.zeros(d), method="L-BFGS-B", jac=True, tol=tol,
                                         bounds=[(0, np.inf)] * d, options=options)
        # Polish unless L-BFGS-B ran out of iterations (status 1): a converged point, or one where the line
        # search stalled on rounding (status 2), becomes the exact minimizer when its support is right.
        if not polish:
            w = result.x if result.success else None
        elif result.status != 1:
            w = _polish(G, b, a, result.x, fallback=bool(result.success))
        else:
            w = None
        if w is None:
            warnings.warn(
                "The lbfgs solver did not converge. Try increasing max_iter or tol. "
                f"Currently: max_iter={max_iter} and tol={tol}",
                ConvergenceWarning,
                stacklevel=5,
            )
            w = result.x
        out[j] = w
    return out


def _polish(G: np.ndarray, b: np.ndarray, alpha: float, w: np.ndarray, *, fallback: bool) -> np.ndarray | None:
    """The exact minimizer from a converged L-BFGS-B point ``w``: solve on its support, check the KKT conditions.

    On the support ``S = {w > 0}`` the minimizer solves ``(G + alpha I)_SS z = b_S``; when ``z > 0`` and no
    coordinate outside ``S`` has a descent direction (``(b - (G + alpha I) z)_j <= 0`` up to rounding) ``z`` is
    the solution. Otherwise (L-BFGS-B stopped with the wrong support, e.g. under a loose ``tol``) the
    active-set method :func:`nnls_gram` computes it when ``fallback``; else ``None``.
    """
    d = w.shape[0]
    H = G + alpha * np.eye(d) if alpha else G
    S = np.flatnonzero(w > 0)
    z = np.zeros(d)
    if S.size:
        try:
            z[S] = scipy.linalg.solve(H[np.ix_(S, S)], b[S], assume_a="pos", check_finite=False)
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError, ValueError):
            z[S] = -1.0
    eps = np.finfo(np.float64).eps
    slack = b - H @ z
    scale = float(np.max(np.abs(b))) + float(np.max(np.abs(H))) * float(np.max(np.abs(z)))
    if np.all(z[S] > 0) and np.all(slack[w <= 0] <= 1e3 * d * eps * scale):
        return z
    return nnls_gram(G, b[:, None], np.asarray([alpha]))[0] if fallback else None
