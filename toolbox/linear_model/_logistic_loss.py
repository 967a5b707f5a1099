"""The (multinomial) logistic loss and its solvers, written once against the Array API.

Parameters are one flat vector ``w`` of length ``n_rows * (n_features + fit_intercept)``,
row-major over ``(n_rows, n_features [+ 1])``: ``n_rows = 1`` for binary problems (the
positive class, as scikit-learn), ``n_classes`` for the multinomial (softmax) loss.
The objective is scikit-learn's::

    f(w) = sum_i s_i * loss_i(w) + 0.5 * sum_j pen_j * w_j**2

with ``s`` the sample weights normalized to sum to one and ``pen`` the per-parameter L2
strength (``1 / (C * sum(sample_weight))`` for coefficients, 0 for intercepts).

Two solvers share these functions. Newton's method (:func:`newton`) with the exact Hessian
(``X.T D X`` blocks, BLAS-bound, solved with ``primitives.solve_spd``) estimated on an evenly
strided subsample of the rows when there are many, with the gradient, line search and
convergence test on every row; L-BFGS (:func:`lbfgs`) when the parameters are too many for a
dense Hessian (:func:`use_newton`). Each iteration's array work is a few jitted calls; the host
only sees a few scalars (step acceptance, convergence).
"""

from __future__ import annotations

import warnings
from typing import Any

from ..backends import _sparse as sp
from ..backends import jit, primitives
from ..exceptions import ConvergenceWarning, IllConditionedWarning

__all__: list[str] = []

#: On a CPU, Newton's method when one iteration's Hessian and solve (:func:`newton_cost`) cost at
#: most this many passes over the data (``n_samples * n_params`` multiply-adds each), else
#: L-BFGS. Newton needs 5-8 iterations where L-BFGS needs 25-50+ of about two passes each, and
#: the Hessian's products are BLAS-3. Measured (2-core CPU, one BLAS thread), Newton against
#: L-BFGS: 200,000 x 50, 10 classes (19 passes) 2.2 s / 4.1 s; 100,000 x 300, binary (50 passes)
#: 1.06 s / 1.81 s; 50,000 x 200, 3 classes (102 passes) 2.4 s / 1.75 s.
NEWTON_MAX_PASSES = 64
#: ... and always when it costs at most this many multiply-adds (a few milliseconds: fewer
#: iterations then matter more than flops).
NEWTON_SMALL_COST = 2**24
#: Never Newton on a CPU above this many parameters (the dense Hessian has ``n_params**2`` entries).
NEWTON_MAX_PARAMS = 2048
#: On accelerators, Newton when ``(n_features + 1) * (n_rows + 1)`` is at most this: the
#: Hessian's matrix products are cheap there and every L-BFGS iteration's host synchronizations
#: are what costs.
NEWTON_MAX_COST_ACCELERATOR = 4096


def newton_cost(n_samples: int, n_features: int, n_rows: int) -> float:
    """Multiply-adds of one Newton iteration's Hessian (on its row subsample) and solve."""
    d1 = n_features + 1
    p = n_rows * d1
    m = -(-n_samples // hessian_stride(n_samples, p))
    blocks = 1 if n_rows == 1 else n_rows * (n_rows - 1) // 2
    return m * d1 * d1 * blocks / 2 + p**3 / 6


def use_newton(n_samples: int, n_features: int, n_rows: int, device: Any) -> bool:
    """Whether to solve with Newton's method (else L-BFGS), from the problem size and device."""
    if not ("cpu" in str(device).lower() or device is None):
        return (n_features + 1) * (n_rows + 1) <= NEWTON_MAX_COST_ACCELERATOR
    p = n_rows * (n_features + 1)
    if p > NEWTON_MAX_PARAMS:
        return False
    cost = newton_cost(n_samples, n_features, n_rows)
    return cost <= NEWTON_SMALL_COST or cost <= NEWTON_MAX_PASSES * n_samples * p


#: L-BFGS memory (pairs kept).
LBFGS_MEMORY = 10


def _raw(w: Any, X: Any, *, n_rows: int, fit_intercept: bool, xp: Any) -> Any:
    d = X.shape[1]
    W = xp.reshape(w, (n_rows, d + int(fit_intercept)))
    Z = sp.matmul(X, W[:, :d].T) if sp.is_sparse(X) else X @ W[:, :d].T
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


def _gradient_parts(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool,
                    xp: Any, XT: Any = None) -> tuple[Any, Any, Any]:
    Z = _raw(w, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    loss, P = _pointwise_loss_and_prob(Z, Y, n_rows=n_rows, xp=xp)
    R = sw[:, None] * (P - Y)
    G = sp.rmatmul(X, R, XT).T if sp.is_sparse(X) else R.T @ X  # sparse X: X.T @ R, stored entries only
    if fit_intercept:
        G = xp.concat([G, xp.sum(R, axis=0)[:, None]], axis=1)
    g = xp.reshape(G, (-1,)) + pen * w
    f = xp.sum(sw * loss) + 0.5 * xp.sum(pen * w * w)
    return f, g, P


@jit(static_argnames=("n_rows", "fit_intercept"))
def _objective_gradient_jit(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool,
                            xp: Any, XT: Any = None) -> tuple[Any, Any]:
    f, g, _ = _gradient_parts(w, X, Y, sw, pen, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp, XT=XT)
    return f, g


def _binary_objective_gradient_scipy(w: Any, X: Any, y: Any, sw: Any, swy: Any, pen: Any, *,
                                     fit_intercept: bool) -> tuple[float, Any]:
    """:func:`_objective_gradient_jit` for two classes and a ``scipy.sparse`` ``X`` (NumPy arrays).

    The same values, with in-place NumPy operations on arrays of this function's own: four
    (n,) temporaries instead of about eight, which keeps the fit's peak memory at
    scikit-learn's (whose loss is one Cython loop). ``swy = sw * y``.
    """
    import numpy as np

    d = X.shape[1]
    z = np.asarray(X @ w[:d])
    if fit_intercept:
        z += w[d]
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)  # exp(-|z|)
    t = np.log1p(e)
    f = float(sw @ t) - float(swy @ z)
    np.maximum(z, 0.0, out=t)
    f += float(sw @ t)
    np.add(e, 1.0, out=t)  # 1 + exp(-|z|)
    p = np.divide(e, t)  # sigmoid(z) where z <= 0
    np.divide(1.0, t, out=p, where=z > 0)  # sigmoid(z) where z > 0
    p *= sw
    p -= swy  # the residual sw * (p - y)
    del z, e, t
    pw = pen * w
    f += 0.5 * float(pw @ w)
    if fit_intercept:
        pw[:d] += np.asarray(X.T @ p)
        pw[d] += p.sum()
    else:
        pw += np.asarray(X.T @ p)
    return f, pw


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


#: scikit-learn's ConvergenceWarning wording per requested solver (its tests match on it); toolbox then
#: says which of its own solvers ran
_SKLEARN_PHRASE = {
    "lbfgs": "lbfgs failed to converge after {n} iteration(s).",
    "newton-cg": "newton-cg failed to converge. Increase the number of iterations.",
    "newton-cholesky": "Newton solver did not converge after {n} iterations.",
    "liblinear": "Liblinear failed to converge, increase the number of iterations.",
    "sag": "The max_iter was reached which means the coef_ did not converge.",
    "saga": "The max_iter was reached which means the coef_ did not converge.",
}


def _converge_message(kind: str, n_iter: int, gmax: float, tol: float, extra: str = "", solver: str = "") -> str:
    phrase = _SKLEARN_PHRASE.get(solver, "").format(n=n_iter)
    return (
        (f"{phrase} " if phrase else "")
        + f"LogisticRegression ({kind}) did not converge after {n_iter} iteration(s): max |gradient| = "
        f"{gmax:.3e}, tol = {tol:.3e}.{extra} Increase max_iter, scale the data (e.g. "
        "toolbox.preprocessing.StandardScaler) or increase the regularization (smaller C)."
    )


def _accept(f_new: float, f: float, t: float, slope: float, eps: float) -> bool:
    """Armijo condition, allowing for rounding in the objective's last digits."""
    return f_new == f_new and f_new <= f + 1e-4 * t * slope + 16.0 * eps * abs(f)


# --------------------------------------------------------------------------- #
# Newton's method. Per-sample quantities are kept class-major, shape (n_rows, n): the
# sums over classes are then a few elementwise operations over long rows (on NumPy a
# reduction along a short last axis costs several times more than the arithmetic).
# --------------------------------------------------------------------------- #

#: Up to this many classes, sums and maxima over classes are unrolled elementwise operations.
_UNROLL_CLASSES = 8
#: Newton's scores ``X @ W.T + b`` are updated along each step, and recomputed from ``w`` every
#: this many iterations so that rounding does not accumulate.
_RESCORE_EVERY = 10

#: Samples at or above twice this count get their Newton steps from a Hessian estimated on an
#: evenly strided subsample of about this many rows (the gradient, the line search and the
#: convergence test always use every row). The Hessian then costs a fraction of one pass over
#: ``X`` instead of ``K (K - 1) / 2`` weighted Gram products of all of it, and the steps are
#: about as good as exact ones (the same iteration count at 200,000 x 50, 3 classes).
HESSIAN_SUBSAMPLE = 32768
#: ... and at least this many rows per parameter.
HESSIAN_ROWS_PER_PARAM = 64
#: A subsampled Hessian is replaced by the full one, for the rest of the fit, when its curvature
#: along a Newton step and the exact curvature differ by more than this factor.
HESSIAN_MAX_RATIO = 2.0


def hessian_stride(n_samples: int, n_params: int) -> int:
    """Row stride of the subsample the Newton Hessian is estimated on (1: every row)."""
    m = max(HESSIAN_SUBSAMPLE, HESSIAN_ROWS_PER_PARAM * n_params)
    return n_samples // m if n_samples >= 2 * m else 1


def _over_classes(A: Any, op: str, *, xp: Any) -> Any:
    """Sum or maximum over the classes (axis 0) of a class-major array (n_rows, n) -> (n,)."""
    if A.shape[0] > _UNROLL_CLASSES:
        return xp.sum(A, axis=0) if op == "sum" else xp.max(A, axis=0)
    out = A[0, :]
    for k in range(1, A.shape[0]):
        out = out + A[k, :] if op == "sum" else xp.maximum(out, A[k, :])
    return out


def _scores_t(w: Any, X: Any, *, n_rows: int, fit_intercept: bool, xp: Any) -> Any:
    """Class-major scores ``(X @ W.T + b).T``, shape (n_rows, n)."""
    return xp.permute_dims(_raw(w, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp), (1, 0))


def _log_normalizer(Zt: Any, *, n_rows: int, xp: Any) -> Any:
    """Per-sample ``log sum_k exp(z_k)`` (n,), with the implicit score 0 for binary problems.

    The probabilities are then ``exp(Zt - lse)`` and the log-loss ``lse - y . z`` in both cases.
    """
    if n_rows == 1:
        z = Zt[0, :]
        return xp.where(z > 0, z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))
    m = _over_classes(Zt, "max", xp=xp)
    return xp.log(_over_classes(xp.exp(Zt - m[None, :]), "sum", xp=xp)) + m


@jit(static_argnames=("n_rows",))
def _objective_along(t: Any, Zt: Any, Zst: Any, w: Any, step: Any, Yw: Any, sw: Any, pen: Any, *,
                     n_rows: int, xp: Any) -> tuple[Any, Any, Any]:
    """Objective at ``w + t * step`` from the scores ``Zt + t * Zst``, without touching ``X``.

    ``Yw = sw * Y`` (n_rows, n). Returns ``(f, Zt_t, lse_t)``: the value, and the scores and
    log-normalizers there, reused when the step is taken.
    """
    Zt_t = Zt + t * Zst
    lse = _log_normalizer(Zt_t, n_rows=n_rows, xp=xp)
    v = w + t * step
    f = xp.sum(sw * lse) - xp.sum(Yw * Zt_t) + 0.5 * xp.sum(pen * v * v)
    return f, Zt_t, lse


@jit(static_argnames=("n_rows", "fit_intercept"))
def _gradient_at(Zt: Any, lse: Any, w: Any, X: Any, Yw: Any, sw: Any, pen: Any, *, n_rows: int,
                 fit_intercept: bool, xp: Any) -> tuple[Any, Any, Any]:
    """Gradient (p,), its largest absolute entry (0-d) and probabilities (n_rows, n).

    One pass over ``X`` (``R @ X`` with the class-major residuals ``R = sw * P - Yw``).
    """
    Pt = xp.exp(Zt - lse[None, :])
    R = sw[None, :] * Pt - Yw
    G = R @ X
    if fit_intercept:
        G = xp.concat([G, xp.sum(R, axis=1)[:, None]], axis=1)
    g = xp.reshape(G, (-1,)) + pen * w
    return g, xp.max(xp.abs(g)), Pt


@jit(static_argnames=("n_rows", "fit_intercept"))
def _step_scores(step: Any, g: Any, Pt: Any, X: Any, sw: Any, pen: Any, *, n_rows: int,
                 fit_intercept: bool, xp: Any) -> tuple[Any, Any]:
    """Class-major scores of a step (n_rows, n), with its slope and the exact curvature along it.

    Returns ``(Zst, v)``, ``v = [g . step, step' H step]`` of shape (2,): once ``X @ S.T`` is
    known (one pass over ``X``) the full Hessian's curvature along ``step`` costs O(n * n_rows).
    """
    Zst = _scores_t(step, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    if n_rows == 1:
        q = Pt[0, :] * (1.0 - Pt[0, :]) * Zst[0, :] * Zst[0, :]
    else:
        PZ = Pt * Zst
        mean = _over_classes(PZ, "sum", xp=xp)
        q = _over_classes(PZ * Zst, "sum", xp=xp) - mean * mean
    curvature = xp.sum(sw * q) + xp.sum(pen * step * step)
    return Zst, xp.stack([xp.sum(g * step), curvature])


@jit(static_argnames=("n_rows", "fit_intercept", "identify"))
def _hessian(Pt: Any, X: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, xp: Any,
             identify: bool = True) -> Any:
    """Hessian (p, p) of the objective from the probabilities ``Pt`` (n_rows, m) of the rows ``X``.

    ``sw`` (m,) are those rows' weights, scaled to the full data's total when the rows are a
    subsample (whose Hessian then estimates the full one). The loss Hessian's blocks are
    ``X.T diag(c_km) X`` with ``c_km = sw * P_k * (delta_km - P_m)``. Its block rows sum to
    zero (the probabilities do), so for the softmax only the ``(K - 1) K / 2`` blocks among the
    first ``K - 1`` classes are computed, as symmetric products, and the last block row and
    column are derived from them. ``identify=False`` leaves out the term that makes the
    softmax Hessian definite (the L1 solver damps it itself).
    """
    K = n_rows
    computed = K - 1 if K > 1 else 1
    blocks: dict[tuple[int, int], Any] = {}
    for k in range(computed):  # loops over classes (a Python int), never over samples or features
        for m in range(k, computed):
            c = sw * Pt[k, :] * ((1.0 if k == m else 0.0) - Pt[m, :])  # >= 0 on the diagonal, <= 0 off it
            blocks[k, m] = blocks[m, k] = _weighted_gram_block(
                c, X, sign=1.0 if k == m else -1.0, fit_intercept=fit_intercept, xp=xp)
    if K > 1:  # every block is symmetric; each block row of the loss Hessian sums to zero
        last = K - 1
        for k in range(last):
            acc = blocks[k, 0]
            for m in range(1, last):
                acc = acc + blocks[k, m]
            blocks[k, last] = blocks[last, k] = -acc
        acc = blocks[0, last]
        for k in range(1, last):
            acc = acc + blocks[k, last]
        blocks[last, last] = -acc
    H = xp.concat([xp.concat([blocks[k, m] for m in range(K)], axis=1) for k in range(K)], axis=0)
    p = H.shape[0]
    device = getattr(H, "device", None)  # None for JAX tracers: jit places constants itself
    H = H + xp.eye(p, dtype=H.dtype, device=device) * pen[None, :]
    if K > 1 and identify:
        # The softmax loss is invariant to adding the same vector to every class row, so H is
        # singular along (1, ..., 1) (x) e_j. Gradients (and iterates started at 0) stay orthogonal
        # to those directions; adding scale * (J / K) (x) I makes H definite without changing the
        # Newton step within the orthogonal complement.
        d1 = p // K
        scale = xp.sum(xp.linalg.diagonal(H)) / p
        block = xp.eye(d1, dtype=H.dtype, device=device)
        ones = xp.ones((K, 1, K, 1), dtype=H.dtype, device=device)
        J = xp.reshape(ones * block[None, :, None, :], (p, p))
        H = H + (scale / K) * J
    return H


def _newton_step(H: Any, g: Any, *, xp: Any) -> tuple[Any, bool]:
    """The Newton step ``-H^-1 g`` and whether ``H`` was singular or ill-conditioned."""
    with warnings.catch_warnings(record=True) as caught:
        # A (nearly) singular Hessian gives a minimum-norm step; the line search and the
        # convergence check judge it, so the warning would only be noise here.
        warnings.simplefilter("always", IllConditionedWarning)
        step = primitives.solve_spd(H, -g, xp=xp)
    return step, any(issubclass(c.category, IllConditionedWarning) for c in caught)


def _singular_hessian_notice(iteration: int) -> None:
    """With ``solver='newton-cholesky'`` and a singular Hessian, scikit-learn resorts to lbfgs.

    toolbox's ``'lbfgs'`` is the same Newton solver, whose minimum-norm steps handle a singular
    Hessian: :func:`newton` says so as scikit-learn does and continues as ``'lbfgs'``.
    """
    warnings.warn(
        "The inner solver of NewtonCholeskySolver stumbled upon a singular or very ill-conditioned Hessian "
        f"matrix at iteration {iteration}. It will now resort to lbfgs instead.\nFurther options are to use "
        "another solver or to avoid such situation in the first place. Possible remedies are removing "
        "collinear features of X or increasing the penalization strengths. (toolbox: its lbfgs solver is "
        "this Newton solver with minimum-norm steps.)",
        IllConditionedWarning, stacklevel=4,
    )


def newton(w: Any, X: Any, Yt: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, max_iter: int,
           tol: float, xp: Any, warm: bool = True, report: Any = None, solver: str = "",
           on_step: Any = None) -> tuple[Any, int]:
    """Damped Newton's method with a backtracking (Armijo) line search.

    Parameters
    ----------
    w : array of shape (p,), floating
        Starting point, ``p = n_rows * (n_features + fit_intercept)``.
    X : array of shape (n, n_features), same dtype
    Yt : array of shape (n_rows, n), same dtype
        Class-major one-hot labels (binary: the positive class's indicator, one row).
    sw : array of shape (n,), same dtype
        Sample weights summing to one.
    pen : array of shape (p,), same dtype
        Per-parameter L2 strengths.
    warm : bool, default=True
        ``False`` promises ``w == 0`` (the scores are then 0, without a pass over ``X``).
    report : callable, optional
        ``report(objective, iteration)`` after each step, with the objective already on the host.
    on_step : callable, optional
        ``on_step(w)`` at the end of every counted iteration, with its iterate (callbacks).

    Returns
    -------
    (w, n_iter) : array of shape (p,) and int

    Stops when ``max |gradient| <= tol``, scikit-learn's meaning of ``tol``. With the exact
    Hessian the Newton step already solved is then taken as well, so the result is typically
    far more precise than ``tol``. From ``2 * HESSIAN_SUBSAMPLE`` samples on, the Hessian is
    estimated on an evenly strided subsample and checked against the exact curvature along each
    step (switching to the full Hessian when they disagree); the gradient, the line search and
    the convergence test always use every row.

    Per iteration: one pass over ``X`` for the gradient (``R @ X``) and one for the step's
    scores (``X @ S.T``); the line search moves the scores, ``Z + t * Zs``, without touching
    ``X``. Host synchronizations: the gradient's largest entry, the step's slope and curvature,
    and one objective value per line-search trial.
    """
    kw = dict(n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    eps = float(xp.finfo(X.dtype).eps)
    n = int(X.shape[0])
    device = getattr(X, "device", None)
    stride = hessian_stride(n, int(w.shape[0]))
    X_h, sw_h = X, sw
    if stride > 1:
        sw_h = sw[::stride]
        total_h = float(xp.sum(sw_h))
        if total_h > 0:  # a contiguous copy of every stride-th row, made once
            X_h, sw_h = xp.asarray(X[::stride, :], copy=True), sw_h * (1.0 / total_h)
        else:  # the subsample has no weight at all
            stride, sw_h = 1, sw
    Yw = sw[None, :] * Yt
    Zt = _scores_t(w, X, **kw) if warm else xp.zeros((n_rows, n), dtype=X.dtype, device=device)
    f_arr, Zt, lse = _objective_along(0.0, Zt, Zt, w, w, Yw, sw, pen, n_rows=n_rows, xp=xp)
    f, gmax = float(f_arr), float("inf")
    for it in range(max_iter):
        if it and it % _RESCORE_EVERY == 0:  # recompute the scores from w, against rounding drift
            f_arr, Zt, lse = _objective_along(0.0, _scores_t(w, X, **kw), Zt, w, w, Yw, sw, pen,
                                              n_rows=n_rows, xp=xp)
            f = float(f_arr)
        g, gmax_arr, Pt = _gradient_at(Zt, lse, w, X, Yw, sw, pen, **kw)
        gmax = float(gmax_arr)
        if gmax <= tol and stride > 1:
            if on_step is not None:
                on_step(w)
            return w, it + 1
        H = _hessian(Pt[:, ::stride] if stride > 1 else Pt, X_h, sw_h, pen, **kw)
        step, singular = _newton_step(H, g, xp=xp)
        if singular and solver == "newton-cholesky":
            # as scikit-learn: resort to 'lbfgs' (toolbox's is this solver) from the current point, with
            # the iterations left, counting its iterations only
            _singular_hessian_notice(it)
            return newton(w, X, Yt, sw, pen, n_rows=n_rows, fit_intercept=fit_intercept,
                          max_iter=max_iter - it - 1, tol=tol, xp=xp, warm=True, report=report, solver="lbfgs",
                          on_step=on_step)
        if gmax <= tol:
            if on_step is not None:
                on_step(w + step)
            return w + step, it + 1
        Zst, v = _step_scores(step, g, Pt, X, sw, pen, **kw)
        slope, curvature = float(v[0]), float(v[1])
        if stride > 1 and not (slope < 0 and -slope / HESSIAN_MAX_RATIO <= curvature <= -slope * HESSIAN_MAX_RATIO):
            # the subsample misrepresents the data along this step: every row from now on
            stride, X_h, sw_h = 1, X, sw
            step, _ = _newton_step(_hessian(Pt, X, sw, pen, **kw), g, xp=xp)
            Zst, v = _step_scores(step, g, Pt, X, sw, pen, **kw)
            slope = float(v[0])
        if not slope < 0:  # not a descent direction (numerical trouble): fall back to the gradient
            step = -g
            Zst, v = _step_scores(step, g, Pt, X, sw, pen, **kw)
            slope = float(v[0])
        t = 1.0
        for _ in range(40):
            f_arr, Zt_t, lse_t = _objective_along(t, Zt, Zst, w, step, Yw, sw, pen, n_rows=n_rows, xp=xp)
            f_new = float(f_arr)
            if _accept(f_new, f, t, slope, eps):
                break
            t *= 0.5
        else:
            warnings.warn(_converge_message("newton", it + 1, gmax, tol, " The line search failed.", solver),
                          ConvergenceWarning, stacklevel=3)
            if on_step is not None:
                on_step(w)
            return w, it + 1
        w, Zt, lse, f = w + t * step, Zt_t, lse_t, f_new
        if report is not None:
            report(f, it)
        if on_step is not None:
            on_step(w)
    warnings.warn(_converge_message("newton", max_iter, gmax, tol, solver=solver), ConvergenceWarning,
                  stacklevel=3)
    return w, max_iter


# --------------------------------------------------------------------------- #
# L-BFGS (many parameters)
# --------------------------------------------------------------------------- #


@jit
def _two_loop(g: Any, S: Any, Yh: Any, rho: Any, *, xp: Any) -> Any:
    """L-BFGS direction ``-H g`` from the history: tuples of ``LBFGS_MEMORY`` vectors, oldest first
    (empty pairs have rho = 0). Tuples, not (m, p) arrays: a push then copies no vector."""
    m = len(S)
    q = g
    alphas = []
    for i in range(m - 1, -1, -1):
        a = rho[i] * xp.sum(S[i] * q)
        q = q - a * Yh[i]
        alphas.append(a)
    sy, yy = xp.sum(S[m - 1] * Yh[m - 1]), xp.sum(Yh[m - 1] * Yh[m - 1])
    has = rho[m - 1] > 0
    gamma = xp.where(has, sy / xp.where(has, yy, xp.ones_like(yy)), xp.ones_like(yy))
    r = gamma * q
    for i in range(m):
        b = rho[i] * xp.sum(Yh[i] * r)
        r = r + (alphas[m - 1 - i] - b) * S[i]
    return -r


def _push(S: tuple, Yh: tuple, rho: Any, s: Any, y: Any, sy: Any, *, xp: Any) -> tuple[tuple, tuple, Any]:
    rho = xp.concat([rho[1:], xp.reshape(1.0 / sy, (1,))], axis=0)
    return (*S[1:], s), (*Yh[1:], y), rho


def lbfgs(w: Any, X: Any, Y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, max_iter: int,
          tol: float, xp: Any, report: Any = None, solver: str = "", on_step: Any = None) -> tuple[Any, int]:
    """L-BFGS with a backtracking (Armijo) line search; stops when ``max |gradient| <= tol``.

    ``report(objective, iteration)``, when given, is called after each step (the objective is
    on the host already); ``on_step(w)`` at the end of every counted iteration.
    """
    kw = dict(n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    eps = float(xp.finfo(X.dtype).eps)
    p = w.shape[0]
    zero = xp.zeros((p,), dtype=w.dtype, device=w.device)
    S, Yh = (zero,) * LBFGS_MEMORY, (zero,) * LBFGS_MEMORY
    rho = xp.zeros((LBFGS_MEMORY,), dtype=w.dtype, device=w.device)
    if n_rows == 1 and sp.sparse_kind(X) == "scipy":  # the in-place NumPy loss for sparse binary problems
        y1 = Y[:, 0]
        swy = sw * y1

        def _objective_gradient(w: Any, X: Any, Y: Any, sw: Any, pen: Any, **_: Any) -> tuple[float, Any]:
            return _binary_objective_gradient_scipy(w, X, y1, sw, swy, pen, fit_intercept=fit_intercept)
    elif sp.sparse_kind(X) == "torch":  # X.T as a CSR copy, made once (torch's CSC products are slow)
        XT = sp.transpose(X)

        def _objective_gradient(w: Any, X: Any, Y: Any, sw: Any, pen: Any, **kw: Any) -> tuple[Any, Any]:
            return _objective_gradient_jit(w, X, Y, sw, pen, XT=XT, **kw)
    else:
        _objective_gradient = _objective_gradient_jit
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
            warnings.warn(_converge_message("lbfgs", it + 1, gmax, tol, " The line search failed.", solver),
                          ConvergenceWarning, stacklevel=3)
            if on_step is not None:
                on_step(w)
            return w, it + 1
        s, y = t * direction, g_new - g
        sy = xp.sum(s * y)
        if float(sy) > eps * float(xp.sum(y * y)):
            S, Yh, rho = _push(S, Yh, rho, s, y, sy, xp=xp)
        w, f, g = w + s, f_new, g_new
        if report is not None:
            report(f, it)
        if on_step is not None:
            on_step(w)
        gmax = float(xp.max(xp.abs(g)))
    if gmax <= tol:
        return w, max_iter
    warnings.warn(_converge_message("lbfgs", max_iter, gmax, tol, solver=solver), ConvergenceWarning,
                  stacklevel=3)
    return w, max_iter
