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
dense Hessian (:func:`use_newton`). Newton's passes over the rows go in chunks of about 2 MiB on
NumPy, on the worker threads, so that the fit needs little memory beyond ``X`` (9 MiB for
200,000 x 50 and 3 classes, against scikit-learn's 12 MiB); elsewhere all rows are one chunk.
Each chunk's array work is one jitted call; the host only sees a few scalars (step acceptance,
convergence).
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
    Z = sp.matmul(X, W[:, :d].T) if sp.is_sparse(X) else X @ primitives.c_ordered(xp.permute_dims(W[:, :d], (1, 0)), xp=xp)  # contiguous: ~1.8x faster BLAS
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


def _lse_and_prob(Zt: Any, *, n_rows: int, xp: Any) -> tuple[Any, Any]:
    """:func:`_log_normalizer` (n,) and the probabilities ``exp(Zt - lse)`` (n_rows, n), from one
    ``exp`` of the scores."""
    if n_rows == 1:
        z = Zt[0, :]
        e = xp.exp(-xp.abs(z))
        pos = z > 0
        lse = xp.where(pos, z, xp.zeros_like(z)) + xp.log1p(e)
        return lse, xp.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))[None, :]
    m = _over_classes(Zt, "max", xp=xp)
    E = xp.exp(Zt - m[None, :])
    total = _over_classes(E, "sum", xp=xp)
    return xp.log(total) + m, E / total[None, :]


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
def _loss_hessian(Pt: Any, X: Any, sw: Any, *, n_rows: int, fit_intercept: bool, xp: Any) -> Any:
    """Hessian (p, p) of the weighted loss ``sum_i sw_i loss_i`` alone, from the probabilities ``Pt``
    (n_rows, m) of the rows ``X`` (m, n_features).

    Its blocks are ``X.T diag(c_km) X`` with ``c_km = sw * P_k * (delta_km - P_m)``. Its block rows
    sum to zero (the probabilities do), so for the softmax only the ``(K - 1) K / 2`` blocks among
    the first ``K - 1`` classes are computed, as symmetric products, and the last block row and
    column are derived from them. Additive over rows: the Hessian of a set of rows is the sum of
    its chunks' Hessians.
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
    return xp.concat([xp.concat([blocks[k, m] for m in range(K)], axis=1) for k in range(K)], axis=0)


@jit(static_argnames=("n_rows", "identify"))
def _regularized_hessian(H: Any, pen: Any, *, n_rows: int, xp: Any, identify: bool = True) -> Any:
    """The objective's Hessian from the loss Hessian ``H`` (p, p): plus the L2 penalty ``pen`` (p,).

    ``identify=False`` leaves out the term that makes the softmax Hessian definite (the L1 solver
    damps it itself).
    """
    K = n_rows
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


def _hessian(Pt: Any, X: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, xp: Any,
             identify: bool = True) -> Any:
    """Hessian (p, p) of the objective from the probabilities ``Pt`` (n_rows, m) of the rows ``X``.

    ``sw`` (m,) are those rows' weights, scaled to the full data's total when the rows are a
    subsample (whose Hessian then estimates the full one). :func:`_loss_hessian`, then
    :func:`_regularized_hessian`.
    """
    H = _loss_hessian(Pt, X, sw, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    return _regularized_hessian(H, pen, n_rows=n_rows, xp=xp, identify=identify)


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


#: Bytes of ``X`` per chunk of Newton's passes over the rows on a CPU (NumPy, torch): each chunk's
#: per-sample work (scores, probabilities, residuals: a few (n_rows, chunk) arrays) stays in cache
#: and the fit holds O(chunk * n_rows) memory beyond ``X`` instead of a dozen (n_rows, n) arrays.
#: On NumPy the chunks run on the shared worker threads (one BLAS thread each). Accelerators and
#: JAX take all rows at once.
NEWTON_CHUNK_BYTES = 1 << 21
#: ... with at least this many rows.
NEWTON_CHUNK_MIN_ROWS = 1024
#: Step lengths tried per pass over ``X`` after a rejected full step (backtracking by halves).
_TRIALS_PER_PASS = 4
#: With one chunk, the scores are updated along each step and recomputed from ``w`` every this
#: many iterations so that rounding does not accumulate.
_RESCORE_EVERY = 10


def _row_chunks(n: int, d: int, itemsize: int, *, xp: Any, device: Any) -> list[tuple[int, int]]:
    """Row ranges ``[a, b)`` of the chunks of one pass: fixed by the shape, never by the threads."""
    from ..backends._dispatch import namespace_kind

    kind = namespace_kind(xp)
    on_cpu = device is None or "cpu" in str(device).lower()
    if kind != "numpy" or not on_cpu:
        return [(0, n)]
    rows = max(NEWTON_CHUNK_MIN_ROWS, NEWTON_CHUNK_BYTES // max(1, d * itemsize))
    return [(a, min(a + rows, n)) for a in range(0, n, rows)] or [(0, n)]


class _Passes:
    """Runs one function over the row chunks of ``X`` and its label codes and weights.

    ``run(fn)`` returns ``[fn(X_c, y_c, sw_c) for each chunk]`` in chunk order: on NumPy the
    chunks go to the shared worker threads (:func:`toolbox.backends._threaded.parallel_map`;
    NumPy's kernels release the GIL) while BLAS runs one thread per chunk, elsewhere one after
    another. The caller sums the results in that order, so they do not depend on the threads.
    """

    def __init__(self, X: Any, y: Any, sw: Any, *, xp: Any) -> None:
        from ..backends._dispatch import namespace_kind

        n, d = int(X.shape[0]), int(X.shape[1])
        self.parts = [(X, y, sw)] if n == 0 else [
            (X, y, sw) if (a, b) == (0, n) else (X[a:b, ...], y[a:b], sw[a:b])
            for a, b in _row_chunks(n, d, primitives._itemsize(xp, X.dtype), xp=xp, device=getattr(X, "device", None))
        ]
        from ..backends import _threaded

        self.threaded = namespace_kind(xp) == "numpy" and len(self.parts) > 1 and _threaded.worker_threads() > 1

    def run(self, fn: Any) -> list[Any]:
        if not self.threaded:
            return [fn(*part) for part in self.parts]
        from ..backends import _threaded

        return _threaded.parallel_map(lambda i: fn(*self.parts[i]), len(self.parts))


def _total(parts: list[Any]) -> Any:
    """The sum of a pass's per-chunk results, in chunk order."""
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return out


def _onehot_t(y: Any, codes: Any, dtype: Any, *, xp: Any) -> Any:
    """Class-major one-hot labels (n_rows, m) from the label codes ``y`` (m,) and ``codes`` (n_rows,)."""
    return xp.astype(codes[:, None] == y[None, :], dtype)


@jit(static_argnames=("n_rows", "fit_intercept"))
def _chunk_gradient(w: Any, X: Any, y: Any, sw: Any, codes: Any, Zt: Any = None, *, n_rows: int,
                    fit_intercept: bool, xp: Any) -> tuple[Any, Any]:
    """One chunk's weighted loss (0-d) and loss gradient (n_rows, n_features + fit_intercept).

    ``y`` (m,) are the chunk's label codes, ``sw`` (m,) its weights, ``Zt`` (n_rows, m) its scores
    at ``w`` when known. One product with ``X`` for the scores (unless given), one for the
    gradient ``R @ X`` (``R = sw * (P - Y)``, class-major), both while the chunk is in cache.
    """
    if Zt is None:
        Zt = _scores_t(w, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    lse, Pt = _lse_and_prob(Zt, n_rows=n_rows, xp=xp)
    Yt = _onehot_t(y, codes, X.dtype, xp=xp)
    loss = xp.sum(sw * lse) - xp.sum(sw * _over_classes(Yt * Zt, "sum", xp=xp))
    R = sw[None, :] * (Pt - Yt)
    G = R @ X
    if fit_intercept:
        G = xp.concat([G, xp.sum(R, axis=1)[:, None]], axis=1)
    return loss, G


@jit(static_argnames=("n_rows", "fit_intercept"))
def _chunk_hessian(w: Any, X: Any, sw: Any, *, n_rows: int, fit_intercept: bool, xp: Any) -> Any:
    """One chunk's loss Hessian (p, p) at ``w`` (:func:`_loss_hessian` of its rows)."""
    Zt = _scores_t(w, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    _, Pt = _lse_and_prob(Zt, n_rows=n_rows, xp=xp)
    return _loss_hessian(Pt, X, sw, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)


@jit(static_argnames=("n_rows", "fit_intercept"))
def _chunk_along(w: Any, step: Any, ts: Any, X: Any, y: Any, sw: Any, codes: Any, Zt: Any = None,
                 Zst: Any = None, *, n_rows: int, fit_intercept: bool, xp: Any) -> tuple[Any, Any, Any, Any]:
    """One chunk's weighted loss at ``w + t * step`` for each ``t`` in ``ts`` (k,), and the loss's
    curvature ``step' H step`` along the step at ``w`` (0-d); also the scores ``Zt`` of ``w`` and
    ``Zst`` of ``step`` (n_rows, m).

    The scores come from one product with ``X`` each, unless given; every trial length then costs
    O(m * n_rows).
    """
    if Zt is None:
        Zt = _scores_t(w, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    if Zst is None:
        Zst = _scores_t(step, X, n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    _, Pt = _lse_and_prob(Zt, n_rows=n_rows, xp=xp)
    if n_rows == 1:
        q = Pt[0, :] * (1.0 - Pt[0, :]) * Zst[0, :] * Zst[0, :]
    else:
        PZ = Pt * Zst
        mean = _over_classes(PZ, "sum", xp=xp)
        q = _over_classes(PZ * Zst, "sum", xp=xp) - mean * mean
    Yt = _onehot_t(y, codes, X.dtype, xp=xp)
    losses = []
    for i in range(ts.shape[0]):  # a few trial lengths (a static count), never samples
        Z = Zt + ts[i] * Zst
        lse = _log_normalizer(Z, n_rows=n_rows, xp=xp)
        losses.append(xp.sum(sw * lse) - xp.sum(sw * _over_classes(Yt * Z, "sum", xp=xp)))
    return xp.stack(losses), xp.sum(sw * q), Zt, Zst


def newton(w: Any, X: Any, y: Any, sw: Any, pen: Any, *, n_rows: int, fit_intercept: bool, max_iter: int,
           tol: float, xp: Any, report: Any = None, solver: str = "", on_step: Any = None) -> tuple[Any, int]:
    """Damped Newton's method with a backtracking (Armijo) line search.

    Parameters
    ----------
    w : array of shape (p,), floating
        Starting point, ``p = n_rows * (n_features + fit_intercept)``.
    X : array of shape (n, n_features), same dtype
    y : array of shape (n,), integer
        Label codes: ``0 .. n_rows - 1`` for the softmax, ``1`` marks the positive class when
        ``n_rows == 1``.
    sw : array of shape (n,), same dtype as ``X``
        Sample weights summing to one.
    pen : array of shape (p,), same dtype
        Per-parameter L2 strengths.
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

    Per iteration: one pass over ``X`` for the objective and gradient, a pass over the Hessian's
    rows, and one pass for the full step's objective and the exact curvature along it (a rejected
    step costs a pass per :data:`_TRIALS_PER_PASS` shorter lengths). The passes go over row chunks
    (:data:`NEWTON_CHUNK_BYTES`) whose per-sample arrays are dropped after use: beyond ``X``,
    ``y`` and ``sw`` the fit holds O(chunk * n_rows + p**2) memory. Host synchronizations: the
    objective and the gradient's largest entry, the step's slope, objectives and curvature.
    """
    kw = dict(n_rows=n_rows, fit_intercept=fit_intercept, xp=xp)
    eps = float(xp.finfo(X.dtype).eps)
    n = int(X.shape[0])
    device = getattr(X, "device", None)
    codes = (xp.asarray([1], dtype=y.dtype, device=device) if n_rows == 1
             else xp.arange(n_rows, dtype=y.dtype, device=device))
    passes = _Passes(X, y, sw, xp=xp)
    stride = hessian_stride(n, int(w.shape[0]))
    sub = None
    if stride > 1:
        total_h = float(xp.sum(sw[::stride]))
        if total_h > 0:  # the subsample's rows (a view where the library has strided views)
            sub = _Passes(X[::stride, ...], y[::stride], sw[::stride] * (1.0 / total_h), xp=xp)
        else:  # the subsample has no weight at all
            stride = 1

    # One chunk (accelerators, JAX, torch, small data): the scores of w and of the step are kept
    # between passes, and the next iterate's are Zt + t * Zst, recomputed from w every
    # _RESCORE_EVERY iterations against rounding drift. Several chunks: recomputed in each pass.
    keep = len(passes.parts) == 1
    kept: dict[str, Any] = {"Zt": None, "Zst": None}

    def objective_gradient(w: Any) -> tuple[float, Any, float]:
        parts = passes.run(lambda Xc, yc, swc: _chunk_gradient(w, Xc, yc, swc, codes, kept["Zt"], **kw))
        G = _total([G for _, G in parts])
        g = xp.reshape(G, (-1,)) + pen * w
        f = _total([f for f, _ in parts]) + 0.5 * xp.sum(pen * w * w)
        return float(f), g, float(xp.max(xp.abs(g)))

    def hessian(w: Any, rows: _Passes) -> Any:
        H = _total(rows.run(lambda Xc, yc, swc: _chunk_hessian(w, Xc, swc, **kw)))
        return _regularized_hessian(H, pen, n_rows=n_rows, xp=xp)

    def along(w: Any, step: Any, ts: list[float]) -> tuple[list[float], float]:
        t_arr = xp.asarray(ts, dtype=X.dtype, device=device)
        def chunk(Xc: Any, yc: Any, swc: Any) -> tuple[Any, ...]:
            out = _chunk_along(w, step, t_arr, Xc, yc, swc, codes, kept["Zt"], kept["Zst"], **kw)
            return out if keep else out[:2]  # several chunks: their scores are not kept

        parts = passes.run(chunk)
        if keep:
            kept["Zt"], kept["Zst"] = parts[0][2], parts[0][3]
        losses = _total([part[0] for part in parts])
        curvature = _total([part[1] for part in parts]) + xp.sum(pen * step * step)
        reg = [0.5 * float(xp.sum(pen * (w + t * step) ** 2)) for t in ts]
        host = [float(v) for v in losses]
        return [a + b for a, b in zip(host, reg, strict=True)], float(curvature)

    def new_step(step: Any) -> Any:
        kept["Zst"] = None  # the old step's scores
        return step

    def run() -> tuple[Any, int]:
        nonlocal w, stride, sub
        gmax = float("inf")
        for it in range(max_iter):
            if it % _RESCORE_EVERY == 0:
                kept["Zt"] = None
            f, g, gmax = objective_gradient(w)
            if gmax <= tol and stride > 1:
                if on_step is not None:
                    on_step(w)
                return w, it + 1
            step, singular = _newton_step(hessian(w, sub if stride > 1 else passes), g, xp=xp)
            step = new_step(step)
            if singular and solver == "newton-cholesky":
                # as scikit-learn: resort to 'lbfgs' (toolbox's is this solver) from the current point, with
                # the iterations left, counting its iterations only
                _singular_hessian_notice(it)
                return newton(w, X, y, sw, pen, n_rows=n_rows, fit_intercept=fit_intercept,
                              max_iter=max_iter - it - 1, tol=tol, xp=xp, report=report, solver="lbfgs",
                              on_step=on_step)
            if gmax <= tol:
                if on_step is not None:
                    on_step(w + step)
                return w + step, it + 1
            slope = float(xp.sum(g * step))
            trials, curvature = along(w, step, [1.0])
            if stride > 1 and not (slope < 0 and -slope / HESSIAN_MAX_RATIO <= curvature <= -slope * HESSIAN_MAX_RATIO):
                # the subsample misrepresents the data along this step: every row from now on
                stride, sub = 1, None
                step = new_step(_newton_step(hessian(w, passes), g, xp=xp)[0])
                slope = float(xp.sum(g * step))
                trials, _ = along(w, step, [1.0])
            if not slope < 0:  # not a descent direction (numerical trouble): fall back to the gradient
                step = new_step(-g)
                slope = float(xp.sum(g * step))
                trials, _ = along(w, step, [1.0])
            t, f_new, tried = 1.0, trials[0], 1
            while not _accept(f_new, f, t, slope, eps):
                if tried >= 40:
                    warnings.warn(_converge_message("newton", it + 1, gmax, tol, " The line search failed.", solver),
                                  ConvergenceWarning, stacklevel=4)
                    if on_step is not None:
                        on_step(w)
                    return w, it + 1
                ts = [t * 0.5 ** (k + 1) for k in range(_TRIALS_PER_PASS)]
                trials, _ = along(w, step, ts)
                for t_k, f_k in zip(ts, trials, strict=True):
                    t, f_new, tried = t_k, f_k, tried + 1
                    if _accept(f_new, f, t, slope, eps):
                        break
            w = w + t * step
            if keep:
                kept["Zt"] = kept["Zt"] + t * kept["Zst"]
            if report is not None:
                report(f_new, it)
            if on_step is not None:
                on_step(w)
        warnings.warn(_converge_message("newton", max_iter, gmax, tol, solver=solver), ConvergenceWarning,
                      stacklevel=4)
        return w, max_iter

    if not passes.threaded:
        return run()
    from ..backends import _threaded

    with _threaded.blas_one_thread():  # the chunks run side by side, one BLAS thread each
        return run()


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
