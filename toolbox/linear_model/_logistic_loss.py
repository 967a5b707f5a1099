"""The (multinomial) logistic loss and its solvers, written once against the Array API.

Parameters are one flat vector ``w`` of length ``n_rows * (n_features + fit_intercept)``,
row-major over ``(n_rows, n_features [+ 1])``: ``n_rows = 1`` for binary problems (the
positive class, as scikit-learn), ``n_classes`` for the multinomial (softmax) loss.
The objective is scikit-learn's::

    f(w) = sum_i s_i * loss_i(w) + 0.5 * sum_j pen_j * w_j**2

with ``s`` the sample weights normalized to sum to one and ``pen`` the per-parameter L2
strength (``1 / (C * sum(sample_weight))`` for coefficients, 0 for intercepts).

Two solvers share these functions: Newton's method with the full Hessian (``X.T D X``
blocks, BLAS-bound, solved with ``primitives.solve_spd``) when the parameter count is
small, L-BFGS otherwise. Each iteration's array work is one jitted call; the host only
sees a few scalars (step acceptance, convergence).
"""

from __future__ import annotations

import warnings
from typing import Any

from ..backends import jit, primitives
from ..exceptions import ConvergenceWarning, IllConditionedWarning

__all__: list[str] = []

#: Newton (full Hessian) when ``(n_features + 1) * (n_rows + 1)`` is at most this on a CPU,
#: else L-BFGS. One Newton iteration costs about ``n_rows * (n_features + 1) / 2`` L-BFGS
#: iterations' worth of flops (but in BLAS-3, and Newton needs ~6-10 iterations where L-BFGS
#: needs 25-100+): on a CPU the two break even near this value (measured at 200,000 x 100).
NEWTON_MAX_COST = 256
#: The same on accelerators, where the Hessian's matrix products are cheap and every L-BFGS
#: iteration's host synchronizations are what costs.
NEWTON_MAX_COST_ACCELERATOR = 4096


def use_newton(n_features: int, n_rows: int, device: Any) -> bool:
    """Whether to solve with Newton's method (else L-BFGS), from the problem size and device."""
    cost = (n_features + 1) * (n_rows + 1)
    on_cpu = "cpu" in str(device).lower() or device is None
    return cost <= (NEWTON_MAX_COST if on_cpu else NEWTON_MAX_COST_ACCELERATOR)
#: L-BFGS memory (pairs kept).
LBFGS_MEMORY = 10


def _raw(w: Any, X: Any, *, n_rows: int, fit_intercept: bool, xp: Any) -> Any:
    d = X.shape[1]
    W = xp.reshape(w, (n_rows, d + int(fit_intercept)))
    Z = X @ W[:, :d].T
    return Z + W[:, d] if fit_intercept else Z


def _pointwise_loss_and_prob(Z: Any, Y: Any, *, n_rows: int, xp: Any) -> tuple[Any, Any]:
    """Per-sample log-loss (n,) and probabilities (n, n_rows) from raw scores ``Z``."""
    if n_rows == 1:
        z, y = Z[:, 0], Y[:, 0]
        e = xp.exp(-xp.abs(z))
        pos = z > 0
        loss = xp.where(pos, z, xp.zeros_like(z)) + xp.log1p(e) - y * z
        p = xp.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))
        return loss, p[:, None]
    lse = primitives.logsumexp(Z, axis=1, xp=xp)
    loss = lse - xp.sum(Y * Z, axis=1)
    return loss, xp.exp(Z - lse[:, None])


@jit(static_argnames=("n_rows", "fit_intercept"))
def _objective(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool,
               xp: Any) -> Any:
    Z = _raw(w, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    loss, _ = _pointwise_loss_and_prob(Z, Y, n_rows=n_rows, xp=xp)
    return xp.sum(sw * loss) + 0.5 * xp.sum(pen * w * w)


def _gradient_parts(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool,
                    xp: Any) -> tuple[Any, Any, Any]:
    Z = _raw(w, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    loss, P = _pointwise_loss_and_prob(Z, Y, n_rows=n_rows, xp=xp)
    R = sw[:, None] * (P - Y)
    G = R.T @ X
    if fit_intercept:
        G = xp.concat([G, xp.sum(R, axis=0)[:, None]], axis=1)
    g = xp.reshape(G, (-1,)) + pen * w
    f = xp.sum(sw * loss) + 0.5 * xp.sum(pen * w * w)
    return f, g, P


@jit(static_argnames=("n_rows", "fit_intercept"))
def _objective_gradient(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool,
                        xp: Any) -> tuple[Any, Any]:
    f, g, _ = _gradient_parts(w, X, Y, sw, pen, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    return f, g


def _weighted_gram_block(c: Any, X: Any, *, sign: float, fit_intercept: bool, xp: Any) -> Any:
    """``[X, 1].T @ diag(c) @ [X, 1]`` without forming ``[X, 1]``, for ``sign * c >= 0``.

    ``X.T diag(c) X = sign * gram(sqrt(sign * c) * X)``: the symmetric product (BLAS ``syrk``
    where the backend detects it) does half the work of a general one.
    """
    M = primitives.gram(xp.sqrt(sign * c)[:, None] * X, xp=xp)
    M = M if sign > 0 else -M
    if not fit_intercept:
        return M
    v = c @ X
    top = xp.concat([M, v[:, None]], axis=1)
    bottom = xp.concat([v[None, :], xp.reshape(xp.sum(c), (1, 1))], axis=1)
    return xp.concat([top, bottom], axis=0)


@jit(static_argnames=("n_rows", "fit_intercept"))
def _gradient_hessian(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool,
                      xp: Any) -> tuple[Any, Any]:
    """Gradient (p,) and Hessian (p, p) of the objective at ``w``."""
    _, g, P = _gradient_parts(w, X, Y, sw, pen, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    blocks: dict[tuple[int, int], Any] = {}
    for k in range(n_rows):  # loops over classes (a Python int), never over samples or features
        for m in range(k, n_rows):
            c = sw * P[:, k] * ((1.0 if k == m else 0.0) - P[:, m])  # >= 0 on the diagonal, <= 0 off it
            blocks[k, m] = _weighted_gram_block(c, X, sign=1.0 if k == m else -1.0,
                                                fit_intercept=fit_intercept, xp=xp)
    rows = [xp.concat([blocks[k, m] if k <= m else blocks[m, k].T for m in range(n_rows)], axis=1)
            for k in range(n_rows)]
    H = rows[0] if n_rows == 1 else xp.concat(rows, axis=0)
    p = H.shape[0]
    device = getattr(H, "device", None)  # None for JAX tracers: jit places constants itself
    eye = xp.eye(p, dtype=H.dtype, device=device)
    H = H + eye * pen[None, :]
    if n_rows > 1:
        # The softmax loss is invariant to adding the same vector to every class row, so H is
        # singular along (1, ..., 1) (x) e_j. Gradients (and iterates started at 0) stay orthogonal
        # to those directions; adding scale * (J / K) (x) I makes H definite without changing the
        # Newton step within the orthogonal complement.
        d1 = p // n_rows
        scale = xp.sum(xp.linalg.diagonal(H)) / p
        block = xp.eye(d1, dtype=H.dtype, device=device)
        ones = xp.ones((n_rows, 1, n_rows, 1), dtype=H.dtype, device=device)
        J = xp.reshape(ones * block[None, :, None, :], (p, p))
        H = H + (scale / n_rows) * J
    return g, H


def _converge_message(kind: str, n_iter: int, gmax: float, tol: float, extra: str = "") -> str:
    return (
        f"LogisticRegression ({kind}) did not converge after {n_iter} iteration(s): max |gradient| = "
        f"{gmax:.3e}, tol = {tol:.3e}.{extra} Increase max_iter, scale the data (e.g. "
        "toolbox.preprocessing.StandardScaler) or increase the regularization (smaller C)."
    )


def _accept(f_new: float, f: float, t: float, slope: float, eps: float) -> bool:
    """Armijo condition, allowing for rounding in the objective's last digits."""
    return f_new == f_new and f_new <= f + 1e-4 * t * slope + 16.0 * eps * abs(f)


def newton(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, max_iter: int,
           tol: float, xp: Any) -> tuple[Any, int]:
    """Damped Newton's method with backtracking (Armijo) line search.

    Stops when ``max |gradient| <= tol`` (then the Newton step already solved is taken, so the
    result is typically far more precise than ``tol``). Returns ``(w, n_iter)``.
    """
    kw = dict(n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    eps = float(xp.finfo(X.dtype).eps)
    f = float(_objective(w, X, Y, sw, pen, **kw))
    gmax = float("inf")
    for it in range(max_iter):
        g, H = _gradient_hessian(w, X, Y, sw, pen, **kw)
        gmax = float(xp.max(xp.abs(g)))
        with warnings.catch_warnings():
            # A (nearly) singular Hessian gives a minimum-norm step; the line search and the
            # convergence check judge it, so the warning would only be noise here.
            warnings.simplefilter("ignore", IllConditionedWarning)
            step = primitives.solve_spd(H, -g, xp=xp)
        if gmax <= tol:
            return w + step, it + 1
        slope = float(xp.sum(g * step))
        if not slope < 0:  # not a descent direction (numerical trouble): fall back to the gradient
            step, slope = -g, -float(xp.sum(g * g))
        t = 1.0
        for _ in range(40):
            f_new = float(_objective(w + t * step, X, Y, sw, pen, **kw))
            if _accept(f_new, f, t, slope, eps):
                break
            t *= 0.5
        else:
            warnings.warn(_converge_message("newton", it + 1, gmax, tol, " The line search failed."),
                          ConvergenceWarning, stacklevel=3)
            return w, it + 1
        w, f = w + t * step, f_new
    warnings.warn(_converge_message("newton", max_iter, gmax, tol), ConvergenceWarning, stacklevel=3)
    return w, max_iter


@jit
def _two_loop(g: Any, S: Any, Yh: Any, rho: Any, *, xp: Any) -> Any:
    """L-BFGS direction ``-H g`` from the history (rows oldest first; empty rows have rho = 0)."""
    m = S.shape[0]
    q = g
    alphas = []
    for i in range(m - 1, -1, -1):
        a = rho[i] * xp.sum(S[i, :] * q)
        q = q - a * Yh[i, :]
        alphas.append(a)
    sy, yy = xp.sum(S[m - 1, :] * Yh[m - 1, :]), xp.sum(Yh[m - 1, :] * Yh[m - 1, :])
    has = rho[m - 1] > 0
    gamma = xp.where(has, sy / xp.where(has, yy, xp.ones_like(yy)), xp.ones_like(yy))
    r = gamma * q
    for i in range(m):
        b = rho[i] * xp.sum(Yh[i, :] * r)
        r = r + (alphas[m - 1 - i] - b) * S[i, :]
    return -r


@jit
def _push(S: Any, Yh: Any, rho: Any, s: Any, y: Any, sy: Any, *, xp: Any) -> tuple[Any, Any, Any]:
    S = xp.concat([S[1:, :], s[None, :]], axis=0)
    Yh = xp.concat([Yh[1:, :], y[None, :]], axis=0)
    rho = xp.concat([rho[1:], xp.reshape(1.0 / sy, (1,))], axis=0)
    return S, Yh, rho


def lbfgs(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, max_iter: int,
          tol: float, xp: Any) -> tuple[Any, int]:
    """L-BFGS with a backtracking (Armijo) line search; stops when ``max |gradient| <= tol``."""
    kw = dict(n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    eps = float(xp.finfo(X.dtype).eps)
    p = w.shape[0]
    S = xp.zeros((LBFGS_MEMORY, p), dtype=w.dtype, device=w.device)
    Yh, rho = xp.zeros_like(S), xp.zeros((LBFGS_MEMORY,), dtype=w.dtype, device=w.device)
    f_arr, g = _objective_gradient(w, X, Y, sw, pen, **kw)
    f = float(f_arr)
    gmax = float(xp.max(xp.abs(g)))
    for it in range(max_iter):
        if gmax <= tol:
            return w, it
        direction = _two_loop(g, S, Yh, rho, xp=xp)
        slope = float(xp.sum(g * direction))
        if not slope < 0:
            direction, slope = -g, -float(xp.sum(g * g))
            rho = xp.zeros_like(rho)
        t = 1.0 if it else min(1.0, 1.0 / max(float(xp.sum(xp.abs(g))), 1e-30))
        for _ in range(40):
            f_new_arr, g_new = _objective_gradient(w + t * direction, X, Y, sw, pen, **kw)
            f_new = float(f_new_arr)
            if _accept(f_new, f, t, slope, eps):
                break
            t *= 0.5
        else:
            warnings.warn(_converge_message("lbfgs", it + 1, gmax, tol, " The line search failed."),
                          ConvergenceWarning, stacklevel=3)
            return w, it + 1
        s, y = t * direction, g_new - g
        sy = xp.sum(s * y)
        if float(sy) > eps * float(xp.sum(y * y)):
            S, Yh, rho = _push(S, Yh, rho, s, y, sy, xp=xp)
        w, f, g = w + s, f_new, g_new
        gmax = float(xp.max(xp.abs(g)))
    if gmax <= tol:
        return w, max_iter
    warnings.warn(_converge_message("lbfgs", max_iter, gmax, tol), ConvergenceWarning, stacklevel=3)
    return w, max_iter
