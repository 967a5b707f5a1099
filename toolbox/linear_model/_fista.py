"""Accelerated proximal gradient (FISTA) for the elastic net, written once against the Array API.

The problem, for every target column ``k`` at once (the normalized form of scikit-learn's)::

    min_W  1/(2n) ||Y - X W||^2 + l1 * |W|_1 + l2/2 * ||W||^2

With ``gram=True`` the solver works on ``G = X.T X / n`` and ``q = X.T Y / n`` only (each
iteration is d x d work; the fast path for n_samples >= n_features); otherwise on ``X``
itself (two matrix-vector products per iteration). Iterations run in jitted chunks; between
chunks the duality gap (scikit-learn's formula, so ``tol`` means the same) is checked and,
on the Gram path, a "polished" candidate is tried: the linear system on the current support
and signs solved exactly. When its gap is within ``tol`` it is returned, which makes the
result exact once FISTA has found the support, typically after a few dozen iterations.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..backends import jit, primitives, to_backend
from ..exceptions import ConvergenceWarning, IllConditionedWarning

__all__: list[str] = []

#: FISTA iterations per jitted chunk (between two duality-gap checks).
CHECK_EVERY = 10
#: Largest matrix whose top eigenvalue is found with ``eigvalsh`` (else power iteration).
EXACT_EIGEN_MAX = 2048
#: Up to this many features the support is polished at every check; above, only when the
#: support did not change since the previous check (each polish is a d x d solve).
POLISH_ALWAYS_MAX = 500


def _zeros(a: Any, xp: Any) -> Any:
    return xp.zeros_like(a)


def _prox(V: Any, thresh: Any, *, positive: bool, xp: Any) -> Any:
    if positive:
        return xp.where(V > thresh, V - thresh, _zeros(V, xp))
    shrunk = xp.abs(V) - thresh
    return xp.sign(V) * xp.where(shrunk > 0, shrunk, _zeros(V, xp))


def _smooth_grad(W: Any, A: Any, B: Any, l2: Any, *, gram: bool, xp: Any) -> Any:
    if gram:
        return A @ W - B + l2 * W
    return A.T @ (A @ W - B) / A.shape[0] + l2 * W


@jit(static_argnames=("n_steps", "positive", "gram"))
def _fista_steps(W: Any, Z: Any, t: Any, A: Any, B: Any, step: Any, l1: Any, l2: Any, *, n_steps: int,
                 positive: bool, gram: bool, xp: Any) -> tuple[Any, Any, Any]:
    """``n_steps`` FISTA iterations with adaptive (gradient) restart, per target column."""
    for _ in range(n_steps):
        W_new = _prox(Z - step * _smooth_grad(Z, A, B, l2, gram=gram, xp=xp), step * l1, positive=positive,
                      xp=xp)
        restart = xp.sum((Z - W_new) * (W_new - W), axis=0) > 0
        t_next = (1.0 + xp.sqrt(1.0 + 4.0 * t * t)) / 2.0
        momentum = xp.where(restart, _zeros(t, xp), (t - 1.0) / t_next)
        t = xp.where(restart, xp.ones_like(t), t_next)
        Z = W_new + momentum[None, :] * (W_new - W)
        W = W_new
    return W, Z, t


@jit(static_argnames=("positive", "gram", "kind"))
def _gap(W: Any, A: Any, B: Any, y2: Any, l1: Any, l2: Any, n_samples: Any, *, positive: bool, gram: bool,
         kind: str, xp: Any) -> Any:
    """Duality gap per target (n_targets,), scikit-learn's formulas divided by ``n_samples``.

    ``kind``: ``"A"`` (l1 > 0), ``"B"`` (ridge: l1 = 0 < l2) or ``"ols"`` (first-order condition).
    """
    if gram:
        GW = A @ W
        qW = xp.sum(B * W, axis=0)
        R2 = y2 + xp.sum(W * GW, axis=0) - 2.0 * qW
        Ry = y2 - qW
        XtR = B - GW
    else:
        R = B - A @ W
        R2 = xp.sum(R * R, axis=0) / A.shape[0]
        Ry = xp.sum(R * B, axis=0) / A.shape[0]
        XtR = A.T @ R / A.shape[0]
    if kind == "ols":
        return n_samples * xp.sum(XtR * XtR, axis=0)
    w2 = xp.sum(W * W, axis=0)
    if kind == "B":
        return R2 + 0.5 * l2 * w2 - Ry + xp.sum(XtR * XtR, axis=0) / (2.0 * l2)
    XtA = XtR - l2 * W
    dual_norm = xp.max(XtA, axis=0) if positive else xp.max(xp.abs(XtA), axis=0)
    big = dual_norm > l1
    scale = xp.where(big, l1 / xp.where(big, dual_norm, xp.ones_like(dual_norm)), xp.ones_like(dual_norm))
    quad = R2 + l2 * w2
    primal = 0.5 * quad + l1 * xp.sum(xp.abs(W), axis=0)
    dual = -0.5 * scale * scale * quad + scale * Ry
    return primal - dual


def _polish(W: Any, G: Any, q: Any, l1: float, l2: float, *, positive: bool, xp: Any) -> Any:
    """Solve the optimality conditions exactly on each target's current support and signs.

    On the support ``S`` with signs ``s``: ``(G_SS + l2 I) w_S = q_S - l1 s``. Written with
    masks (static shapes): inactive rows become identity rows with a zero right-hand side.
    A target whose system is singular (or, with ``positive``, gives a negative entry)
    keeps its current column.
    """
    d, k = W.shape
    eye = xp.eye(d, dtype=W.dtype, device=W.device)
    cols = []
    for j in range(k):  # loop over targets, never over samples or features
        w = W[:, j]
        m = xp.astype(w != 0, W.dtype)
        A = G * (m[:, None] * m[None, :]) + eye * (l2 * m + (1.0 - m))[None, :]
        rhs = m * (q[:, j] - l1 * xp.sign(w))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IllConditionedWarning)
            sol = primitives.solve_spd(A, rhs, xp=xp)
        bad = any(issubclass(c.category, IllConditionedWarning) for c in caught)
        if not bad and positive:
            bad = bool(xp.any(sol < 0))
        cols.append(w if bad else sol)
    return xp.stack(cols, axis=1)


#: Largest active set the exact active-set finish (:func:`_finish`) works on (each step solves a
#: system of that size).
FINISH_MAX = 2048
#: Most active-set steps of the finish (each adds one feature, drops one, or solves on the support).
FINISH_STEPS = 200


def _solve_quiet(H: Any, rhs: Any, *, xp: Any) -> Any | None:
    """``H^-1 rhs`` by Cholesky, or ``None`` when ``H`` is singular or ill-conditioned."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IllConditionedWarning)
        sol = primitives.solve_spd(H, rhs, xp=xp)
    if any(issubclass(c.category, IllConditionedWarning) for c in caught):
        return None
    return sol


def _finish(w: Any, A: Any, b: Any, l1: float, l2: float, *, gram: bool, positive: bool,
            xp: Any) -> Any | None:
    """The exact minimizer for one target, by an active-set method started at ``w``; or ``None``.

    FISTA's iterates approach the solution but leave small non-zero coefficients where the
    solution has exact zeros (and scikit-learn's coordinate descent puts them): a gap within
    ``tol`` does not mean the right support. From FISTA's point this finishes like the
    feature-sign search (Lee et al., 2007) / Lawson-Hanson: solve the smooth problem on the
    support ``S`` with fixed signs, ``(G_SS + l2 I) z = q_S - l1 s_S``; step towards ``z`` up
    to the first coefficient that would change sign (which leaves ``S``); once optimal on
    ``S``, add the zero coefficient that violates ``|(G w - q)_j| <= l1`` most, and repeat
    until none does. Every step lowers the objective; each is one gradient (d x d or n x d
    work) and one |S| x |S| solve, vectorised. It stops at the exact solution (up to
    rounding) — so at its support — usually a few steps after FISTA's gap is within ``tol``.

    ``None`` when the support outgrows :data:`FINISH_MAX`, a support system is singular
    (collinear features without an L2 term: the solution is not unique) or
    :data:`FINISH_STEPS` are used up; the caller then keeps FISTA's point.
    """
    d = int(w.shape[0])
    dtype, device = w.dtype, w.device
    eps = float(xp.finfo(dtype).eps)
    n = 1 if gram else int(A.shape[0])
    q_full = b if gram else A.T @ b / n
    thr = 1e-2 * eps ** 0.5 * l1 + 1e3 * eps * float(xp.max(xp.abs(q_full)))
    rows = xp.arange(d, device=device)

    def gradient(x: Any) -> Any:
        smooth = A @ x - b if gram else A.T @ (A @ x - b) / n
        return smooth + l2 * x

    def system(idx: list[int]) -> tuple[Any, Any]:
        ii = xp.asarray(idx, dtype=rows.dtype, device=device)
        if gram:
            H = xp.take(xp.take(A, ii, axis=0), ii, axis=1)
        else:
            XS = xp.take(A, ii, axis=1)
            H = XS.T @ XS / n
        return H + l2 * xp.eye(len(idx), dtype=dtype, device=device), xp.take(q_full, ii)

    def expand(z: Any, idx: list[int]) -> Any:
        if not idx:
            return xp.zeros((d,), dtype=dtype, device=device)
        ii = xp.asarray(idx, dtype=rows.dtype, device=device)
        return xp.astype(rows[:, None] == ii[None, :], dtype) @ z

    nonzero = to_backend(w != 0, "numpy")
    idx = [int(i) for i in np.flatnonzero(nonzero)]
    if len(idx) > FINISH_MAX:
        return None
    z = xp.take(w, xp.asarray(idx, dtype=rows.dtype, device=device)) if idx else \
        xp.zeros((0,), dtype=dtype, device=device)
    signs = xp.sign(z)
    optimal_on_support = not idx
    for _ in range(FINISH_STEPS):
        if optimal_on_support:
            g = gradient(expand(z, idx))
            viol = (-g if positive else xp.abs(g)) - l1
            if idx:
                in_s = xp.any(rows[:, None] == xp.asarray(idx, dtype=rows.dtype, device=device)[None, :],
                              axis=1)
                viol = xp.where(in_s, xp.full_like(viol, -xp.inf), viol)
            j = int(xp.argmax(viol))
            if not float(viol[j]) > thr:
                return expand(z, idx)
            if len(idx) >= FINISH_MAX:
                return None
            idx.append(j)
            new_sign = 1.0 if positive or float(g[j]) < 0 else -1.0
            signs = xp.concat([signs, xp.full((1,), new_sign, dtype=dtype, device=device)])
            z = xp.concat([z, xp.zeros((1,), dtype=dtype, device=device)])
        H, q = system(idx)
        z_new = _solve_quiet(H, q - l1 * signs, xp=xp)
        if z_new is None:
            return None
        # the first coefficient to reach zero on the way from z to z_new (the new one starts at 0)
        cross = (z != 0) & (xp.sign(z_new) != signs)
        safe = xp.where(cross, z - z_new, xp.ones_like(z))
        t_all = xp.where(cross, z / safe, xp.full_like(z, xp.inf))
        k = int(xp.argmin(t_all)) if idx else 0
        t = min(1.0, float(t_all[k])) if idx else 1.0
        if t >= 1.0:
            z, optimal_on_support = z_new, True
            continue
        z = z + t * (z_new - z)
        keep = [i for i in range(len(idx)) if i != k]
        kk = xp.asarray(keep, dtype=rows.dtype, device=device)
        z, signs = xp.take(z, kk), xp.take(signs, kk)
        idx = [idx[i] for i in keep]
        optimal_on_support = not idx
    return None


@jit(static_argnames=("n_steps",))
def _power_iteration(M: Any, *, n_steps: int, xp: Any) -> Any:
    v = xp.ones((M.shape[0],), dtype=M.dtype) / M.shape[0] ** 0.5
    for _ in range(n_steps):
        u = M @ v
        v = u / xp.sqrt(xp.sum(u * u) + xp.finfo(M.dtype).tiny)
    return xp.sum(v * (M @ v))


def _lipschitz(A: Any, *, gram: bool, xp: Any) -> float:
    """Largest eigenvalue of ``X.T X / n`` (from the Gram matrix, or from ``X X.T / n``).

    Exact (``eigvalsh``) up to :data:`EXACT_EIGEN_MAX` rows; above, 50 power iterations with a
    10% margin (the O(d^3) eigensolver would cost more than the whole fit).
    """
    M = A if gram else primitives.gram(A.T, xp=xp) / A.shape[0]
    if M.shape[0] <= EXACT_EIGEN_MAX:
        top = float(xp.max(xp.linalg.eigvalsh(M)))
    else:
        top = 1.1 * float(_power_iteration(M, n_steps=50, xp=xp))
    return top if top > 0 else 1.0


def enet_fista(W: Any, A: Any, B: Any, y2: Any, n_samples: int, l1: float, l2: float, *, gram: bool,
               positive: bool, max_iter: int, tol: float, xp: Any) -> tuple[Any, Any, int]:
    """Minimize the elastic net; return ``(W, gap, n_iter)``.

    Parameters
    ----------
    W : array (n_features, n_targets), the starting point
    A : array, ``G = X.T X / n`` (d, d) when ``gram`` else ``X`` (n, d)
    B : array, ``q = X.T Y / n`` (d, n_targets) when ``gram`` else ``Y`` (n, n_targets)
    y2 : array (n_targets,), ``||Y||^2 / n`` per target
    l1, l2 : the L1 and L2 strengths (``alpha * l1_ratio``, ``alpha * (1 - l1_ratio)``)

    Stops when every target's duality gap is at most ``tol * y2`` (scikit-learn's rule);
    warns with ``ConvergenceWarning`` after ``max_iter`` FISTA iterations otherwise.
    """
    kind = "A" if l1 > 0 else ("B" if l2 > 0 else "ols")
    kw = dict(positive=positive, gram=gram, kind=kind, xp=xp)
    tol_abs = tol * y2
    gap = _gap(W, A, B, y2, l1, l2, float(n_samples), **kw)
    if bool(xp.all(gap <= tol_abs)):
        return W, gap, 0
    step = 1.0 / (_lipschitz(A, gram=gram, xp=xp) + l2)
    Z, t = W, xp.ones((W.shape[1],), dtype=W.dtype, device=W.device)
    n_iter = 0
    support = None
    while n_iter < max_iter:
        n_steps = min(CHECK_EVERY, max_iter - n_iter)
        W, Z, t = _fista_steps(W, Z, t, A, B, step, l1, l2, n_steps=n_steps, positive=positive, gram=gram,
                               xp=xp)
        n_iter += n_steps
        gap = _gap(W, A, B, y2, l1, l2, float(n_samples), **kw)
        polish = gram
        if gram and W.shape[0] > POLISH_ALWAYS_MAX:
            previous, support = support, W != 0
            polish = previous is not None and bool(xp.all(previous == support))
        if polish:
            # The polished point is only a candidate for stopping early: FISTA's own sequence
            # (W, Z, t) continues undisturbed, so its convergence guarantee is kept (restarting
            # FISTA from polished points can cycle between supports).
            Wp = _polish(W, A, B, l1, l2, positive=positive, xp=xp)
            gap_p = _gap(Wp, A, B, y2, l1, l2, float(n_samples), **kw)
            better = gap_p < gap
            best, best_gap = xp.where(better[None, :], Wp, W), xp.where(better, gap_p, gap)
        else:
            best, best_gap = W, gap
        if bool(xp.all(best_gap <= tol_abs)):
            if kind == "A":
                best, best_gap = _finish_all(best, best_gap, A, B, y2, l1, l2, n_samples, tol_abs, kw)
            return best, best_gap, n_iter
    W, gap = best, best_gap
    worst = int(xp.argmax(gap - tol_abs))
    # scikit-learn's message (its gap and tolerance are not divided by n_samples), then toolbox's count
    warnings.warn(
        "Objective did not converge. You might want to increase the number of iterations, check the "
        "scale of the features or consider increasing regularisation. "
        f"Duality gap: {float(gap[worst]) * n_samples:.6e}, "
        f"tolerance: {float(tol_abs[worst]) * n_samples:.3e}. The solver did not converge after {n_iter} "
        f"FISTA iterations: duality gap {float(gap[worst]):.3e} per sample.",
        ConvergenceWarning,
        stacklevel=3,
    )
    return W, gap, n_iter


def _finish_all(W: Any, gap: Any, A: Any, B: Any, y2: Any, l1: float, l2: float, n_samples: int,
                tol_abs: Any, kw: dict[str, Any]) -> tuple[Any, Any]:
    """:func:`_finish` every target of a converged ``W``; keep a target's column where it fails."""
    xp, positive, gram = kw["xp"], kw["positive"], kw["gram"]
    cols = []
    for j in range(W.shape[1]):  # loop over targets, never over samples or features
        w = _finish(W[:, j], A, B[:, j], l1, l2, gram=gram, positive=positive, xp=xp)
        if w is not None and positive and bool(xp.any(w < 0)):
            w = None
        cols.append(W[:, j] if w is None else w)
    Wf = xp.stack(cols, axis=1)
    gap_f = _gap(Wf, A, B, y2, l1, l2, float(n_samples), **kw)
    ok = gap_f <= tol_abs
    return xp.where(ok[None, :], Wf, W), xp.where(ok, gap_f, gap)
