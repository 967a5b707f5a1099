"""The L1 / elastic-net penalized logistic loss and its solvers, written once against the Array API.

The objective is :mod:`._logistic_loss`'s plus an L1 term, in the same scaled form::

    F(w) = sum_i s_i * loss_i(w) + 0.5 * sum_j l2_j * w_j**2 + sum_j l1_j * |w_j|

(``s`` sums to one; ``l1_j = l1_ratio / (C * sum(sample_weight))`` for coefficients, 0 for an
unpenalized intercept). ``tol`` means what it means for the L2 penalty: the largest entry of the
minimum-norm subgradient, ``|g_j + l1_j sign(w_j)|`` where ``w_j != 0`` and
``max(|g_j| - l1_j, 0)`` where ``w_j == 0``.

:func:`prox_newton` (when the parameters are few enough for a dense Hessian, as for the L2
Newton solver): each iteration minimizes the quadratic model of the smooth part plus the exact
L1 term, ``g.d + 0.5 d'Hd + sum_j l1_j |w_j + d_j|``, *exactly*, with an active-set method
(:func:`_l1_qp`, the feature-sign search of Lee et al., 2007), then takes a backtracking line
search on ``F``. The iterates have exact zeros, the support settles in a few iterations and the
convergence is then quadratic, as Newton's method on the support: coefficients and the zeros of
the support match scikit-learn's ``saga`` / ``liblinear`` at their tolerance.
:func:`prox_gradient` (FISTA with backtracking and adaptive restart) otherwise: it needs only
``X @ W.T`` and ``X.T @ R``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..backends import _sparse as sp
from ..backends import primitives, to_backend
from ..exceptions import ConvergenceWarning, IllConditionedWarning
from ._logistic_loss import (
    _accept,
    _converge_message,
    _gradient_at,
    _hessian,
    _objective_along,
    _objective_gradient_jit,
    _scores_t,
)

__all__: list[str] = []

#: Relative Levenberg damping of the Hessian in the L1 model (times its mean diagonal entry, times
#: ``sqrt(eps)``): the softmax loss is flat along shifts of every class's row, duplicated
#: features make ``X.T D X`` singular.
DAMPING = 1e-2
#: Most active-set steps of one model minimization, per parameter (plus a constant).
QP_STEPS_PER_PARAM = 4
#: The active-set method adds up to ``|S| // ADD_FRACTION + 1`` violating coefficients at once.
ADD_FRACTION = 2
#: Scores are recomputed from ``w`` every this many iterations, against rounding drift.
_RESCORE_EVERY = 10


def _host(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else np.asarray(to_backend(a, "numpy"))


def subgradient_max(w: Any, g: Any, l1: Any, *, xp: Any) -> Any:
    """Largest entry (0-d) of the minimum-norm subgradient of ``F`` at ``w`` (``g``: smooth gradient)."""
    shrunk = xp.abs(g) - l1
    at_zero = xp.where(shrunk > 0, shrunk, xp.zeros_like(shrunk))
    off_zero = xp.abs(g + l1 * xp.sign(w))
    return xp.max(xp.where(w != 0, off_zero, at_zero))


def _gradient(Zt: Any, lse: Any, w: Any, X: Any, Yw: Any, sw: Any, l2: Any, *, n_rows: int,
              fit_intercept: bool, xp: Any, XT: Any = None) -> tuple[Any, Any]:
    """Smooth gradient (p,) and class-major probabilities (n_rows, n), dense or sparse ``X``."""
    if not sp.is_sparse(X):
        g, _, Pt = _gradient_at(Zt, lse, w, X, Yw, sw, l2, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
        return g, Pt
    Pt = xp.exp(Zt - lse[None, :])
    R = sw[None, :] * Pt - Yw
    G = xp.permute_dims(sp.rmatmul(X, xp.permute_dims(R, (1, 0)), XT), (1, 0))
    if fit_intercept:
        G = xp.concat([G, xp.sum(R, axis=1)[:, None]], axis=1)
    return xp.reshape(G, (-1,)) + l2 * w, Pt


def _sparse_hessian(Pt: Any, X: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, xp: Any) -> Any:
    """:func:`._logistic_loss._hessian` (without the softmax identification term) for a sparse ``X``."""
    K = n_rows
    blocks: dict[tuple[int, int], Any] = {}
    for k in range(K):  # loops over classes, never over samples or features
        for m in range(k, K):
            c = sw * Pt[k, :] * ((1.0 if k == m else 0.0) - Pt[m, :])
            M = xp.asarray(sp.gram(X, sp.scale_rows(X, c)))
            if fit_intercept:
                v = xp.asarray(sp.column_sums(X, weights=c))
                M = xp.concat([xp.concat([M, v[:, None]], axis=1),
                               xp.concat([v[None, :], xp.reshape(xp.sum(c), (1, 1))], axis=1)], axis=0)
            blocks[k, m] = M
            blocks[m, k] = xp.permute_dims(M, (1, 0))
    H = xp.concat([xp.concat([blocks[k, m] for m in range(K)], axis=1) for k in range(K)], axis=0)
    return H + xp.eye(H.shape[0], dtype=H.dtype, device=H.device) * pen[None, :]


def _solve(A: Any, rhs: Any, *, xp: Any) -> Any:
    with warnings.catch_warnings():
        # a (nearly) singular support system gives a minimum-norm solution, which the
        # discrete line search of the active-set method then judges
        warnings.simplefilter("ignore", IllConditionedWarning)
        return primitives.solve_spd(A, rhs, xp=xp)


def _l1_qp(A: Any, b: Any, lam: Any, lam_host: np.ndarray, v: Any, *, thr: float, max_steps: int,
           xp: Any) -> Any:
    """Minimize ``0.5 v'Av - b'v + sum_j lam_j |v_j|`` (``A`` positive definite) from ``v``.

    The feature-sign search (Lee, Battle, Raina and Ng, 2007), with unpenalized coordinates
    (``lam_j = 0``) always free: on the current support ``S`` with signs ``s`` solve
    ``A_SS z = b_S - lam_S s_S``; move from ``v_S`` towards ``z``, to whichever of ``z`` and the
    points where a coefficient changes sign has the lowest objective (coefficients that reach
    zero leave ``S``); once optimal on ``S``, add the zero coefficient that violates
    ``|(Av - b)_j| <= lam_j`` most, with the sign that lowers the objective. Every step lowers
    the objective; it stops when no coefficient violates the condition by more than ``thr``.
    Each step is one ``A @ v`` and one ``|S| x |S|`` solve; the loop runs on the host over steps.
    """
    p = int(v.shape[0])
    dtype, device = v.dtype, v.device
    rows = xp.arange(p, device=device)
    free_h = lam_host == 0
    nonzero_h = _host(v != 0)
    S = [int(i) for i in np.flatnonzero(free_h | nonzero_h)]

    def index(idx: list[int]) -> Any:
        return xp.asarray(idx, dtype=rows.dtype, device=device)

    def expand(zS: Any, idx: list[int]) -> Any:
        if not idx:
            return xp.zeros((p,), dtype=dtype, device=device)
        return xp.astype(rows[:, None] == index(idx)[None, :], dtype) @ zS

    ii = index(S)
    vS = xp.take(v, ii) if S else xp.zeros((0,), dtype=dtype, device=device)
    sS = xp.sign(vS) * xp.astype(xp.take(lam, ii) > 0, dtype) if S else vS
    optimal = not S
    fresh = None  # position in S of a batch of coefficients just added
    for _ in range(max_steps):
        if optimal:
            grad = A @ expand(vS, S) - b
            viol = xp.abs(grad) - lam
            if S:
                mask = np.zeros(p, dtype=bool)
                mask[S] = True
                viol = xp.where(xp.asarray(mask, device=device), xp.full_like(viol, -xp.inf), viol)
            viol_h = _host(viol)
            n_viol = int(np.count_nonzero(viol_h > thr))
            if not n_viol:
                return expand(vS, S)
            # the largest violators, a batch growing with the support (few solves from a cold start)
            m = min(n_viol, max(1, len(S) // ADD_FRACTION + 1))
            new = [int(j) for j in np.argsort(-viol_h, kind="stable")[:m]]
            fresh, top = len(S), new[0]
            S = [*S, *new]
            ii = index(S)
            sS = xp.concat([sS, -xp.sign(xp.take(grad, index(new)))])
            vS = xp.concat([vS, xp.zeros((m,), dtype=dtype, device=device)])
        A_SS = xp.take(xp.take(A, ii, axis=0), ii, axis=1)
        b_S, lam_S = xp.take(b, ii), xp.take(lam, ii)
        z = _solve(A_SS, b_S - lam_S * sS, xp=xp)
        if fresh is not None:
            # Coefficients just added (at zero) must come out with the sign they were added with,
            # else the move below need not descend: drop those that do not and solve again; when
            # none is left, take an exact coordinate step on the largest violator instead (it
            # descends and gives it that sign), then solve on the support again.
            wrong_h = np.array(_host(xp.sign(z) != sS))  # a writable copy
            wrong_h[:fresh] = False
            if wrong_h.any():
                keep = [i for i in range(len(S)) if not wrong_h[i]]
                if len(keep) == fresh:
                    j = top
                    step = -_prox(grad[j:j + 1], lam[j:j + 1], xp=xp) / A[j:j + 1, j]
                    keep_ii = index(keep)
                    vS = xp.concat([xp.take(vS, keep_ii), step])
                    sS = xp.concat([xp.take(sS, keep_ii), xp.sign(step)])
                    S = [*(S[i] for i in keep), j]
                else:
                    kk = index(keep)
                    vS, sS, S = xp.take(vS, kk), xp.take(sS, kk), [S[i] for i in keep]
                ii = index(S)
                optimal = False
                if len(keep) == fresh:
                    fresh = None
                continue
        fresh = None
        D = z - vS
        # candidates: the points where a non-zero penalized coefficient changes sign, and z
        cross = (vS != 0) & (lam_S > 0) & (xp.sign(z) != xp.sign(vS))
        safe = xp.where(cross, vS - z, xp.ones_like(vS))
        t_cross = xp.where(cross, vS / safe, xp.full_like(vS, 2.0))
        T = xp.concat([t_cross, xp.ones((1,), dtype=dtype, device=device)])
        quad = xp.sum(D * (A_SS @ D))
        lin = xp.sum(D * (A_SS @ vS)) - xp.sum(b_S * D)
        pts = vS[None, :] + T[:, None] * D[None, :]
        # the change of the objective from vS, summed per entry (differences of totals lose it to rounding)
        Q = T * lin + 0.5 * T * T * quad + xp.sum(lam_S[None, :] * (xp.abs(pts) - xp.abs(vS)[None, :]), axis=1)
        Q = xp.where(T <= 1.0, Q, xp.full_like(Q, xp.inf))
        k = int(xp.argmin(Q))
        if float(Q[k]) > 0:
            if not bool(xp.any(cross)):  # z is vS up to rounding: optimal on S already
                optimal = True
                continue
            return expand(vS, S)  # no progress possible (rounding): the current point
        t = float(T[k])
        vS = vS + t * D
        if k < len(S):
            vS = xp.where(rows[:len(S)] == k, xp.zeros_like(vS), vS)  # exactly zero where it crossed
        optimal = not bool(xp.any(cross))
        keep_h = _host((vS != 0) | (lam_S == 0))
        if not keep_h.all():
            keep = [i for i in range(len(S)) if keep_h[i]]
            kk = index(keep)
            vS = xp.take(vS, kk) if keep else xp.zeros((0,), dtype=dtype, device=device)
            S = [S[i] for i in keep]
            ii = index(S)
            lam_S = xp.take(lam, ii) if S else vS
            if not S:
                optimal = True
        sS = xp.sign(vS) * xp.astype(lam_S > 0, dtype) if S else vS
    return expand(vS, S)


def _hessian_any(Pt: Any, X: Any, sw: Any, l2: Any, *, n_rows: int, fit_intercept: bool, xp: Any) -> Any:
    if sp.is_sparse(X):
        return _sparse_hessian(Pt, X, sw, l2, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    return _hessian(Pt, X, sw, l2, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp, identify=False)


def _penalty_l1(w: Any, l1: Any, *, xp: Any) -> Any:
    return xp.sum(l1 * xp.abs(w))


def prox_newton(w: Any, X: Any, Yt: Any, sw: Any, l2: Any, l1: Any, *, n_rows: int, fit_intercept: bool,
                max_iter: int, tol: float, xp: Any, warm: bool = True, report: Any = None,
                solver: str = "") -> tuple[Any, int]:
    """Proximal Newton's method for ``F`` (module docstring); returns ``(w, n_iter)``.

    Arguments as :func:`._logistic_loss.newton`, with ``l2`` and ``l1`` (p,) the per-parameter
    strengths. Stops when the largest minimum-norm subgradient entry is at most ``tol``; the
    model step already computed there is then taken too when it lowers ``F``.
    """
    kw = dict(n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    eps = float(xp.finfo(X.dtype).eps)
    n, p = int(X.shape[0]), int(w.shape[0])
    device = getattr(X, "device", None) if not sp.is_sparse(X) else w.device
    XT = sp.transpose(X) if sp.sparse_kind(X) == "torch" else None
    lam_host = _host(l1).astype(np.float64)
    eye = xp.eye(p, dtype=w.dtype, device=w.device)
    max_steps = QP_STEPS_PER_PARAM * p + 50
    shift = None
    if n_rows > 1 and fit_intercept and not bool(xp.any(xp.reshape(l1, (n_rows, -1))[:, -1] != 0)) \
            and not bool(xp.any(xp.reshape(l2, (n_rows, -1))[:, -1] != 0)):
        d1 = p // n_rows
        shift = xp.astype(xp.arange(d1, device=w.device) == d1 - 1, w.dtype)[None, :]
    Yw = sw[None, :] * Yt
    Zt = _scores_t(w, X, **kw) if warm else xp.zeros((n_rows, n), dtype=w.dtype, device=device)
    f_arr, Zt, lse = _objective_along(0.0, Zt, Zt, w, w, Yw, sw, l2, n_rows=n_rows, xp=xp)
    F = float(f_arr) + float(_penalty_l1(w, l1, xp=xp))
    opt = float("inf")
    for it in range(max_iter):
        if it and it % _RESCORE_EVERY == 0:
            f_arr, Zt, lse = _objective_along(0.0, _scores_t(w, X, **kw), Zt, w, w, Yw, sw, l2, n_rows=n_rows,
                                              xp=xp)
            F = float(f_arr) + float(_penalty_l1(w, l1, xp=xp))
        g, Pt = _gradient(Zt, lse, w, X, Yw, sw, l2, XT=XT, **kw)
        opt = float(subgradient_max(w, g, l1, xp=xp))
        H = _hessian_any(Pt, X, sw, l2, **kw)
        mu = DAMPING * eps ** 0.5 * max(float(xp.sum(xp.linalg.diagonal(H))) / p, float(xp.finfo(w.dtype).smallest_normal))
        A = H + mu * eye
        v = _l1_qp(A, A @ w - g, l1, lam_host, w, thr=0.1 * tol, max_steps=max_steps, xp=xp)
        d = v - w
        if shift is not None:
            # F is invariant to adding one constant to every class's unpenalized intercept; the
            # damped model is nearly flat along it, so rounding would move it: keep d orthogonal
            D = xp.reshape(d, (n_rows, -1))
            D = D - shift * xp.mean(D[:, -1])
            d = xp.reshape(D, (-1,))
            v = w + d
        # the model's decrease, summed per entry (a difference of two L1 norms would lose it to rounding)
        delta = float(xp.sum(g * d + l1 * (xp.abs(v) - xp.abs(w))))
        if opt <= tol or not delta < 0:
            if delta < 0:  # the model's step from the converged point, when it lowers F
                Zst = _scores_t(d, X, **kw)
                f_arr, _, _ = _objective_along(1.0, Zt, Zst, w, d, Yw, sw, l2, n_rows=n_rows, xp=xp)
                if _accept(float(f_arr) + float(_penalty_l1(v, l1, xp=xp)), F, 1.0, delta, eps):
                    w = v
            if opt > tol:  # no descent left at the numerical floor
                warnings.warn(_converge_message("proximal newton", it + 1, opt, tol,
                                                " No descent direction is left (rounding): tol is below what "
                                                "this dtype resolves here."),
                              ConvergenceWarning, stacklevel=3)
            return w, it + 1
        Zst = _scores_t(d, X, **kw)
        t = 1.0
        for _ in range(40):
            f_arr, Zt_t, lse_t = _objective_along(t, Zt, Zst, w, d, Yw, sw, l2, n_rows=n_rows, xp=xp)
            F_new = float(f_arr) + float(_penalty_l1(w + t * d, l1, xp=xp))
            if _accept(F_new, F, t, delta, eps):
                break
            t *= 0.5
        else:
            warnings.warn(_converge_message("proximal newton", it + 1, opt, tol, " The line search failed.",
                                            solver), ConvergenceWarning, stacklevel=3)
            return w, it + 1
        w = v if t == 1.0 else w + t * d
        Zt, lse, F = Zt_t, lse_t, F_new
        if report is not None:
            report(F, it)
    warnings.warn(_converge_message("proximal newton", max_iter, opt, tol, solver=solver), ConvergenceWarning,
                  stacklevel=3)
    return w, max_iter


def _prox(v: Any, thresh: Any, *, xp: Any) -> Any:
    shrunk = xp.abs(v) - thresh
    return xp.sign(v) * xp.where(shrunk > 0, shrunk, xp.zeros_like(shrunk))


def prox_gradient(w: Any, X: Any, Y: Any, sw: Any, l2: Any, l1: Any, *, n_rows: int, fit_intercept: bool,
                  max_iter: int, tol: float, xp: Any, report: Any = None, solver: str = "") -> tuple[Any, int]:
    """FISTA with backtracking and adaptive restart for ``F``; ``Y`` sample-major (n, n_rows).

    For problems whose Hessian is too large to form: each iteration is one objective and gradient
    evaluation (two passes over ``X``) plus backtracking trials. Same stopping rule as
    :func:`prox_newton`; ``max_iter`` counts FISTA iterations.
    """
    kw = dict(n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    XT = sp.transpose(X) if sp.sparse_kind(X) == "torch" else None
    extra = {"XT": XT} if XT is not None else {}
    eps = float(xp.finfo(w.dtype).eps)

    def fg(u: Any) -> tuple[float, Any]:
        f_arr, g = _objective_gradient_jit(u, X, Y, sw, l2, **extra, **kw)
        return float(f_arr), g

    f_w, g_w = fg(w)
    opt = float(subgradient_max(w, g_w, l1, xp=xp))
    if opt <= tol:
        return w, 0
    L = 1.0
    z, f_z, g_z, t_mom = w, f_w, g_w, 1.0
    for it in range(max_iter):
        for _ in range(60):  # backtracking on the Lipschitz estimate
            w_new = _prox(z - g_z / L, l1 / L, xp=xp)
            d = w_new - z
            f_new, g_new = fg(w_new)
            bound = f_z + float(xp.sum(g_z * d)) + 0.5 * L * float(xp.sum(d * d))
            if f_new <= bound + 16.0 * eps * abs(f_z):
                break
            L *= 2.0
        opt = float(subgradient_max(w_new, g_new, l1, xp=xp))
        F_new = f_new + float(_penalty_l1(w_new, l1, xp=xp))
        if report is not None:
            report(F_new, it)
        if opt <= tol:
            return w_new, it + 1
        restart = float(xp.sum((z - w_new) * (w_new - w))) > 0
        t_next = 1.0 if restart else (1.0 + (1.0 + 4.0 * t_mom * t_mom) ** 0.5) / 2.0
        beta = 0.0 if restart else (t_mom - 1.0) / t_next
        z = w_new + beta * (w_new - w)
        w, t_mom = w_new, t_next
        if beta == 0.0:
            f_z, g_z = f_new, g_new
        else:
            f_z, g_z = fg(z)
        L *= 0.9  # let the step grow back
    warnings.warn(_converge_message("fista", max_iter, opt, tol, solver=solver), ConvergenceWarning,
                  stacklevel=3)
    return w, max_iter
