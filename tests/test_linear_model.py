"""Linear models against scikit-learn on every backend, plus scikit-learn's conformance suite."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn import linear_model as sk
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.exceptions import ConvergenceWarning, IllConditionedWarning
from toolbox.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    _logistic_loss,
)

# --------------------------------------------------------------------------- #
# Data (cached: the same shapes across tests also keep JAX's compile cache warm)
# --------------------------------------------------------------------------- #


@functools.cache
def diabetes():
    return datasets.load_diabetes(return_X_y=True)


@functools.cache
def _standardized(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def breast_cancer():
    return _standardized("breast_cancer")


def wine():
    return _standardized("wine")


def iris():
    return _standardized("iris")


@functools.cache
def multi_target():
    # diabetes' X (shapes shared with the other regressor tests keep JAX's compile cache warm)
    # with three targets of different scales
    X, y = diabetes()
    rng = np.random.default_rng(0)
    Y = np.column_stack([y, X @ rng.normal(0, 50, X.shape[1]) + rng.normal(size=len(y)), -0.01 * y + 3.0])
    return X, Y


def _close(xp, got, want, rtol=None, dtype=None):
    """``got`` (any backend) vs ``want`` (NumPy) within a relative tolerance of the largest entry."""
    rtol = xp.rtol(dtype) if rtol is None else rtol
    want = np.asarray(want, dtype=np.float64)
    got = xp.to_numpy(got) if framework_of(got) is not None else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(1.0, float(np.abs(want).max())))


def _same_type(out, inp):
    assert framework_of(out) is framework_of(inp)


def _rtol_solver(xp, float64_tol):
    """Tolerance for an iterative solver: ``float64_tol`` in float64, float32's otherwise."""
    return float64_tol if xp.float64 else xp.rtol()


# scikit-learn's coordinate descent at a tight tolerance is the reference for Lasso/ElasticNet:
# at its default tol=1e-4 its own answer is only that accurate, while toolbox's (polished)
# answer is exact once the support is found.
TIGHT = dict(tol=1e-12, max_iter=100_000)

REGRESSORS = {
    "LinearRegression": (LinearRegression, sk.LinearRegression, {}),
    "Ridge": (Ridge, sk.Ridge, {"alpha": 0.5}),
    "Lasso": (Lasso, sk.Lasso, {"alpha": 0.1}),
    "ElasticNet": (ElasticNet, sk.ElasticNet, {"alpha": 0.01, "l1_ratio": 0.7}),
}


def _reference(name, **extra):
    _, Ref, kw = REGRESSORS[name]
    if name in ("Lasso", "ElasticNet"):
        kw = {**kw, **TIGHT}
    return Ref(**kw, **extra)


def _ours(name, **extra):
    Est, _, kw = REGRESSORS[name]
    return Est(**kw, **extra)


# Least squares are direct solves (float64 agrees to ~1e-12); the FISTA path stops at a duality
# gap, so its float64 answer is compared at 1e-7.
REG_RTOL = {"LinearRegression": None, "Ridge": None, "Lasso": 1e-7, "ElasticNet": 1e-7}


# --------------------------------------------------------------------------- #
# Regressors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressor_matches_sklearn_on_diabetes(xp, name):
    X, y = diabetes()
    ref = _reference(name).fit(X, y)
    Xb = xp.asarray(X)
    est = _ours(name).fit(Xb, xp.asarray(y))
    rtol = REG_RTOL[name] if xp.float64 and REG_RTOL[name] else None
    assert est.coef_.shape == ref.coef_.shape
    _close(xp, est.coef_, ref.coef_, rtol)
    assert isinstance(est.intercept_, float)
    _close(xp, est.intercept_, ref.intercept_, rtol)
    pred = est.predict(Xb)
    _same_type(pred, Xb)
    assert pred.dtype == Xb.dtype and tuple(pred.shape) == (X.shape[0],)
    _close(xp, pred, ref.predict(X), rtol)
    assert est.n_features_in_ == X.shape[1]
    np.testing.assert_allclose(est.score(Xb, xp.asarray(y)), ref.score(X, y), rtol=1e-4)


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressor_sample_weight(xp, name):
    X, y = diabetes()
    w = np.random.default_rng(0).uniform(0.1, 3.0, size=y.shape[0])
    ref = _reference(name).fit(X, y, sample_weight=w)
    est = _ours(name).fit(xp.asarray(X), xp.asarray(y), sample_weight=xp.asarray(w))
    rtol = REG_RTOL[name] if xp.float64 and REG_RTOL[name] else None
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.intercept_, ref.intercept_, rtol)


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressor_multi_output(xp, name):
    X, Y = multi_target()
    ref = _reference(name).fit(X, Y)
    Xb = xp.asarray(X)
    est = _ours(name).fit(Xb, xp.asarray(Y))
    assert tuple(est.coef_.shape) == (3, X.shape[1]) and tuple(est.intercept_.shape) == (3,)
    _same_type(est.intercept_, Xb)
    rtol = REG_RTOL[name] if xp.float64 and REG_RTOL[name] else None
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.intercept_, ref.intercept_, rtol)
    pred = est.predict(Xb)
    _same_type(pred, Xb)
    assert tuple(pred.shape) == Y.shape
    _close(xp, pred, ref.predict(X), rtol)


def test_column_vector_y_gives_2d_coef():
    X, y = diabetes()
    for name in REGRESSORS:
        # as scikit-learn: LinearRegression keeps a 2-D coef_ (1, n_features), the others ravel it
        est = _ours(name).fit(X, y[:, None])
        ref = _reference(name).fit(X, y[:, None])
        assert est.coef_.shape == ref.coef_.shape, name
        assert est.intercept_.shape == ref.intercept_.shape == (1,)
        assert est.predict(X).shape == ref.predict(X).shape
        _close_np(est.predict(X), ref.predict(X), 1e-7)


def test_fit_intercept_false(xp):
    X, y = diabetes()
    for name in ("LinearRegression", "Ridge", "Lasso"):
        ref = _reference(name, fit_intercept=False).fit(X, y)
        est = _ours(name, fit_intercept=False).fit(xp.asarray(X), xp.asarray(y))
        assert est.intercept_ == 0.0
        _close(xp, est.coef_, ref.coef_, 1e-7 if xp.float64 else None)


def test_linear_regression_rank_deficient(xp):
    # Duplicated and linearly dependent columns: a legitimate input, solved by the minimum-norm
    # solution without IllConditionedWarning (pyproject turns that warning into an error).
    X, y = diabetes()
    X = X.copy()
    X[:, 8] = X[:, 0]
    X[:, 9] = X[:, 1] - 2.0 * X[:, 2]
    ref = sk.LinearRegression().fit(X, y)
    est = LinearRegression().fit(xp.asarray(X), xp.asarray(y))
    assert est.rank_ == ref.rank_ == 8
    rtol = 1e-8 if xp.float64 else 1e-3
    _close(xp, est.predict(xp.asarray(X)), ref.predict(X), rtol)
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.singular_, [*ref.singular_[:8].tolist(), 0.0, 0.0], 1e-6 if xp.float64 else 1e-3)


def test_wide_data_min_norm_and_kernel_ridge(xp):
    if xp.param.id == "jax-cpu-f32":  # new shapes cost JAX compiles; jax-cpu covers this path
        pytest.skip("wide data on JAX is tested on the jax-cpu backend")
    X, y = datasets.make_regression(n_samples=20, n_features=50, random_state=0)
    Xb, yb = xp.asarray(X), xp.asarray(y)
    # n_samples < n_features: the kernel form for least squares, FISTA on X itself for the lasso
    # (no polishing there, so both solvers run at a tight tol to be comparable).
    for ours, ref in ((LinearRegression(), sk.LinearRegression()), (Ridge(alpha=2.0), sk.Ridge(alpha=2.0)),
                      (Lasso(alpha=1.0, tol=1e-12 if xp.float64 else 1e-7, max_iter=5000),
                       sk.Lasso(alpha=1.0, **TIGHT))):
        ref.fit(X, y)
        ours.fit(Xb, yb)
        _close(xp, ours.coef_, ref.coef_, 1e-7 if xp.float64 else 2e-3)
        _close(xp, ours.predict(Xb), ref.predict(X), 1e-7 if xp.float64 else 2e-3)


def test_ridge_alpha_per_target():
    X, Y = multi_target()
    alphas = np.array([0.1, 10.0, 1000.0])
    est = Ridge(alpha=alphas).fit(X, Y)
    _close_np(est.coef_, sk.Ridge(alpha=alphas).fit(X, Y).coef_)
    with pytest.raises(ValueError, match="Number of targets and number of penalties do not correspond: 2 != 3"):
        Ridge(alpha=[1.0, 2.0]).fit(X, Y)


def _close_np(got, want, rtol=1e-9):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())


def test_ridge_singular_warns():
    X = np.column_stack([np.arange(10.0), np.arange(10.0)])
    with pytest.warns(IllConditionedWarning):
        Ridge(alpha=0.0).fit(X, np.arange(10.0))


def test_lasso_positive_and_zero_solution(xp):
    X, y = diabetes()
    ref = sk.Lasso(alpha=0.05, positive=True, **TIGHT).fit(X, y)
    est = Lasso(alpha=0.05, positive=True).fit(xp.asarray(X), xp.asarray(y))
    assert float(np.min(xp.to_numpy(est.coef_))) >= 0.0
    _close(xp, est.coef_, ref.coef_, 1e-7 if xp.float64 else None)
    big = Lasso(alpha=1e4).fit(xp.asarray(X), xp.asarray(y))  # alpha above alpha_max: w = 0 is optimal
    assert np.all(xp.to_numpy(big.coef_) == 0) and big.n_iter_ == 0
    assert big.intercept_ == pytest.approx(float(y.mean()), rel=1e-6)


def test_enet_l1_ratio_zero_is_ridge(xp):
    X, y = diabetes()
    ref = sk.ElasticNet(alpha=0.01, l1_ratio=0.0, **TIGHT).fit(X, y)
    est = ElasticNet(alpha=0.01, l1_ratio=0.0).fit(xp.asarray(X), xp.asarray(y))
    _close(xp, est.coef_, ref.coef_, 1e-7 if xp.float64 else None)


def test_enet_warm_start_precompute_and_convergence_warning():
    X, y = diabetes()
    est = Lasso(alpha=0.001, warm_start=True, tol=1e-10).fit(X, y)
    assert est.n_iter_ > 0
    est.fit(X, y)
    assert est.n_iter_ == 0  # started at the solution
    ref = sk.Lasso(alpha=0.001, **TIGHT).fit(X, y)
    _close_np(est.coef_, ref.coef_, 1e-7)
    # a precomputed Gram matrix is used as is without intercept
    Xc = X - X.mean(0)
    g = Lasso(alpha=0.01, fit_intercept=False, precompute=Xc.T @ Xc).fit(Xc, y)
    _close_np(g.coef_, sk.Lasso(alpha=0.01, fit_intercept=False, **TIGHT).fit(Xc, y).coef_, 1e-7)
    with pytest.warns(UserWarning, match="Gram matrix was provided"):  # X not centred: recomputed
        Lasso(alpha=0.01, precompute=Xc.T @ Xc).fit(X + 1.0, y)
    with pytest.warns(ConvergenceWarning, match=r"did not converge after 1 FISTA iterations: duality gap"):
        Lasso(alpha=0.1, max_iter=1, tol=1e-12).fit(X, y)
    gap = ElasticNet(alpha=0.1, selection="random", random_state=0).fit(X, y).dual_gap_
    assert abs(gap) <= 1e-4 * np.mean((y - y.mean()) ** 2)  # (may be -1e-13 by rounding at the optimum)


# --------------------------------------------------------------------------- #
# positive=True: non-negative least squares and ridge
# --------------------------------------------------------------------------- #


@functools.cache
def signed_problem():
    """Diabetes' X with a target whose unconstrained fit has negative coefficients."""
    X, y = diabetes()
    rng = np.random.default_rng(1)
    coef = rng.normal(0, 100, X.shape[1])
    return X, X @ coef + rng.normal(0, 1, len(y)), rng.uniform(0.2, 2.0, len(y))


def _kkt(est, X, y, sw=None, alpha=0.0):
    """Non-negative, and the projected gradient of the (weighted, penalized) loss is zero."""
    coef = np.asarray(est.coef_)
    assert np.all(coef >= 0)
    w = np.ones(len(y)) if sw is None else sw
    grad = -X.T @ (w * (y - X @ coef - est.intercept_)) + alpha * coef
    scale = np.abs(X.T @ (w * y)).max()
    assert np.all(grad[coef == 0] >= -1e-8 * scale)
    np.testing.assert_allclose(grad[coef > 0], 0.0, atol=1e-8 * scale)


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge"])
def test_positive_matches_sklearn(xp, name):
    X, y, sw = signed_problem()
    if name == "LinearRegression":
        ref, est = sk.LinearRegression(positive=True), LinearRegression(positive=True)
    else:  # scikit-learn's lbfgs at a tight tol; toolbox's active set is exact
        ref, est = sk.Ridge(alpha=0.5, positive=True, tol=1e-14), Ridge(alpha=0.5, positive=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y, sample_weight=sw)
    Xb = xp.asarray(X)
    est.fit(Xb, xp.asarray(y), sample_weight=xp.asarray(sw))
    assert np.any(sk.LinearRegression().fit(X, y).coef_ < 0) and xp.to_numpy(est.coef_).min() >= 0
    rtol = (1e-9 if name == "LinearRegression" else 1e-6) if xp.float64 else None
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.intercept_, ref.intercept_, rtol)
    assert est.coef_.dtype == Xb.dtype
    _same_type(est.coef_, Xb)
    _same_type(est.predict(Xb), Xb)
    if xp.float64:
        _kkt(est.to_backend("numpy"), X, y, sw, alpha=0.0 if name == "LinearRegression" else 0.5)


def test_positive_shapes_wide_multi_target_and_no_intercept():
    X, Y = multi_target()
    ols = LinearRegression(positive=True).fit(X, Y)
    assert ols.coef_.shape == (3, X.shape[1]) and ols.intercept_.shape == (3,)
    for k in range(3):  # one NNLS per target, the same as fitting each alone
        _close_np(ols.coef_[k], LinearRegression(positive=True).fit(X, Y[:, k]).coef_)
    _close_np(ols.coef_, sk.LinearRegression(positive=True).fit(X, Y).coef_, 1e-8)
    alphas = np.array([0.1, 10.0, 1000.0])
    ridge = Ridge(alpha=alphas, positive=True).fit(X, Y)
    for k in range(3):
        _kkt(Ridge(alpha=alphas[k], positive=True).fit(X, Y[:, k]), X, Y[:, k], alpha=alphas[k])
        _close_np(ridge.coef_[k], Ridge(alpha=alphas[k], positive=True).fit(X, Y[:, k]).coef_)
    rng = np.random.default_rng(0)
    Xw, yw = rng.normal(size=(12, 30)), rng.normal(size=12)  # wide: the (d, d) problem, not the kernel form
    for fit_intercept in (True, False):
        est = Ridge(alpha=1.0, positive=True, fit_intercept=fit_intercept).fit(Xw, yw)
        _kkt(est, Xw - (Xw.mean(0) if fit_intercept else 0), yw - (yw.mean() if fit_intercept else 0), alpha=1.0)
        est = LinearRegression(positive=True, fit_intercept=fit_intercept).fit(Xw, yw)
        assert np.all(est.coef_ >= 0)
        ref = sk.LinearRegression(positive=True, fit_intercept=fit_intercept).fit(Xw, yw)
        _close_np(est.predict(Xw), ref.predict(Xw), 1e-7)  # (the NNLS coefficients need not be unique)
    # all-positive truth: positive=True changes nothing
    Xp = rng.uniform(size=(200, 4))
    yp = Xp @ np.array([1.0, 2.0, 3.0, 1.5])
    _close_np(LinearRegression(positive=True).fit(Xp, yp).coef_, LinearRegression().fit(Xp, yp).coef_)
    est = LinearRegression(positive=True).fit([[1.0]], [0.0])  # degenerate: one sample
    assert float(est.coef_[0]) == 0.0 and est.intercept_ == 0.0


def test_positive_ridge_solvers_sparse_and_messages():
    import scipy.sparse

    X, y, sw = signed_problem()
    Xs = scipy.sparse.csr_matrix(X)
    auto = Ridge(alpha=0.5, positive=True).fit(X, y, sw)
    assert auto.solver_ == "nnls" and auto.n_iter_ is None
    lbfgs = Ridge(alpha=0.5, positive=True, solver="lbfgs").fit(X, y, sw)
    assert lbfgs.solver_ == "lbfgs"
    _close_np(lbfgs.coef_, auto.coef_)  # a converged L-BFGS-B point is polished to the exact minimizer
    for solver in ("auto", "lbfgs"):
        sparse = Ridge(alpha=0.5, positive=True, solver=solver).fit(Xs, y, sw)
        _close_np(sparse.coef_, auto.coef_)
        assert sparse.intercept_ == pytest.approx(auto.intercept_, rel=1e-9)
    with pytest.warns(ConvergenceWarning, match="lbfgs solver did not converge"):  # scikit-learn's test
        Ridge(alpha=0.01, solver="lbfgs", fit_intercept=False, tol=1e-12, positive=True,
              max_iter=1).fit(np.array([[1.0, -1], [1, 1]]), np.array([-1e10, 1e10]))
    for solver in ("svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga"):
        with pytest.raises(ValueError, match=f"solver='{solver}' does not support positive fitting"):
            Ridge(positive=True, solver=solver).fit(X, y)
    with pytest.raises(ValueError, match="'lbfgs' solver can be used only when positive=True"):
        Ridge(solver="lbfgs").fit(X, y)
    with pytest.raises(TypeError, match="Sparse data was passed for X, but dense data is required"):
        LinearRegression(positive=True).fit(Xs, y)
    assert not LinearRegression(positive=True).__sklearn_tags__().input_tags.sparse
    with pytest.raises(ValueError, match="Sample weights must be 1D array or scalar"):
        Ridge().fit(X, y, sw[:, None])
    ridge = Ridge().fit(X, y)
    assert isinstance(ridge.intercept_, float) and ridge.intercept_.shape == ()  # np.float64, as scikit-learn


def test_enet_l1_ratio_zero_positive(xp):
    X, y, _ = signed_problem()
    with warnings.catch_warnings():  # scikit-learn's coordinate descent never meets its gap rule here
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = sk.ElasticNet(alpha=0.1, l1_ratio=0.0, positive=True, **TIGHT).fit(X, y)
    est = ElasticNet(alpha=0.1, l1_ratio=0.0, positive=True).fit(xp.asarray(X), xp.asarray(y))
    assert est.n_iter_ == 1 and xp.to_numpy(est.coef_).min() >= 0 and (ref.coef_ == 0).any()
    _close(xp, est.coef_, ref.coef_, 1e-7 if xp.float64 else None)
    _close(xp, est.intercept_, ref.intercept_, 1e-7 if xp.float64 else None)


def test_positive_nnls_falls_back_to_lbfgs(monkeypatch):
    import scipy.optimize

    X, y, sw = signed_problem()
    exact = Ridge(alpha=0.5, positive=True).fit(X, y, sw)

    def cycling(*args, **kwargs):
        raise RuntimeError("Maximum number of iterations reached.")

    monkeypatch.setattr(scipy.optimize, "nnls", cycling)
    est = Ridge(alpha=0.5, positive=True).fit(X, y, sw)
    _close_np(est.coef_, exact.coef_, 1e-5)
    assert np.all(est.coef_ >= 0)


def test_enet_given_gram_and_ridge_case():
    import scipy.sparse

    X, y = diabetes()
    Xc = X - X.mean(0)
    with pytest.warns(UserWarning, match="Gram matrix was provided but X was centered to fit intercept: "
                                         "recomputing Gram matrix"):
        ElasticNet(alpha=0.01, precompute=X.T @ X).fit(X + 1.0, y)
    # X already centred: the Gram matrix is used with the intercept, after scikit-learn's spot check
    g = ElasticNet(alpha=0.01, precompute=Xc.T @ Xc).fit(Xc, y)
    _close_np(g.coef_, sk.ElasticNet(alpha=0.01, **TIGHT).fit(Xc, y).coef_, 1e-7)
    garbage = np.random.default_rng(0).normal(size=X.shape)
    with pytest.raises(ValueError, match=r"Gram matrix.*did not pass validation"):
        ElasticNet(alpha=0.01, precompute=garbage.T @ garbage).fit(Xc, y)
    ElasticNet(alpha=0.01, precompute=garbage.T @ garbage, fit_intercept=False).fit(Xc, y, check_input=False)
    # l1_ratio=0 is a ridge problem, solved exactly: dense (kernel form when wide) and sparse agree
    rng = np.random.default_rng(0)
    for n, d in ((24, 6), (6, 24)):
        Xr, yr, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.uniform(0.5, 2, n)
        dense = ElasticNet(alpha=0.3, l1_ratio=0.0).fit(Xr, yr, w)
        sparse = ElasticNet(alpha=0.3, l1_ratio=0.0).fit(scipy.sparse.csc_matrix(Xr), yr, w)
        _close_np(sparse.coef_, dense.coef_, 1e-10)
        ref = sk.Ridge(alpha=0.3 * w.sum()).fit(Xr, yr, w)
        _close_np(dense.coef_, ref.coef_, 1e-9)
        assert dense.n_iter_ == 1 and abs(dense.dual_gap_) < 1e-12
    est = ElasticNet().fit(X, y)
    assert scipy.sparse.issparse(est.sparse_coef_) and est.sparse_coef_.shape == (1, X.shape[1])
    np.testing.assert_array_equal(est.sparse_coef_.toarray()[0], est.coef_)
    with pytest.raises(ValueError, match="Coordinate descent iterations resulted in non-finite parameter values"):
        ElasticNet(alpha=0.1).fit(np.finfo(np.float64).max * rng.uniform(size=(10, 2)), np.arange(10.0))


def test_score_single_sample_is_nan():
    X, y = diabetes()
    est = Ridge().fit(X, y)
    with pytest.warns(UndefinedMetricWarning, match="R\\^2 score is not well-defined with less than two samples"):
        assert np.isnan(est.score(X[:1], y[:1]))  # as scikit-learn's r2_score (GridSearchCV with one-row folds)


def _skip_jax_x64(xp):
    if xp.param.id == "jax-cpu":  # JAX in float32 is covered by the jax-cpu-f32 backend (saves compiles)
        pytest.skip("float32 on JAX is tested on the jax-cpu-f32 backend")


def test_regressor_float32_kept(xp):
    _skip_jax_x64(xp)
    X, y = diabetes()
    Xb = xp.asarray(X.astype(np.float32))
    for name in REGRESSORS:
        est = _ours(name).fit(Xb, xp.asarray(y.astype(np.float32)))
        assert est.coef_.dtype == xp.xp.float32
        assert est.predict(Xb).dtype == xp.xp.float32
        _close(xp, est.coef_, _reference(name).fit(X, y).coef_, 1e-3)


# --------------------------------------------------------------------------- #
# LogisticRegression
# --------------------------------------------------------------------------- #


def _ref_logistic(**kw):
    # scikit-learn's Newton solver at a tight tol: the exact optimum of the same objective.
    return sk.LogisticRegression(solver="newton-cholesky", tol=1e-10, max_iter=1000, **kw)


# toolbox's Newton stops at the default tol=1e-4 after a final full Newton step; on these
# well-conditioned problems that is within ~1e-5 of the optimum (float32: the dtype's tolerance).
LOGIT_RTOL = 1e-4


@pytest.mark.parametrize("data", ["breast_cancer", "wine"])
def test_logistic_matches_sklearn(xp, data):
    X, y = {"breast_cancer": breast_cancer, "wine": wine}[data]()
    ref = _ref_logistic().fit(X, y)
    Xb = xp.asarray(X)
    est = LogisticRegression().fit(Xb, xp.asarray(y))
    rtol = _rtol_solver(xp, LOGIT_RTOL)
    n_classes = len(ref.classes_)
    assert tuple(est.coef_.shape) == ref.coef_.shape == ((1 if n_classes == 2 else n_classes), X.shape[1])
    assert tuple(est.intercept_.shape) == ref.intercept_.shape
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.intercept_, ref.intercept_, rtol)
    _close(xp, est.classes_, ref.classes_)
    for method in ("predict_proba", "decision_function"):
        out = getattr(est, method)(Xb)
        _same_type(out, Xb)
        assert out.dtype == Xb.dtype
        _close(xp, out, getattr(ref, method)(X), rtol)
    logp = xp.to_numpy(est.predict_log_proba(Xb))
    np.testing.assert_allclose(np.exp(logp), ref.predict_proba(X), atol=rtol)
    pred = est.predict(Xb)
    _same_type(pred, Xb)
    np.testing.assert_array_equal(xp.to_numpy(pred), ref.predict(X))
    assert est.n_iter_.shape == (1,) and 1 <= int(est.n_iter_[0]) <= 100
    assert est.score(Xb, xp.asarray(y)) == pytest.approx(ref.score(X, y))


def test_logistic_string_labels(xp):
    X, y = wine()
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    ref = _ref_logistic().fit(X, names)
    Xb = xp.asarray(X)
    est = LogisticRegression().fit(Xb, names)
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    pred = est.predict(Xb)
    assert isinstance(pred, np.ndarray) and pred.dtype.kind == "U"  # string labels live on the host
    np.testing.assert_array_equal(pred, ref.predict(X))
    _close(xp, est.predict_proba(Xb), ref.predict_proba(X), _rtol_solver(xp, LOGIT_RTOL))
    # binary string labels: coef_ has one row, for classes_[1]
    Xc, yc = breast_cancer()
    bin_names = np.where(yc == 0, "malignant", "benign")
    est2 = LogisticRegression().fit(xp.asarray(Xc), bin_names)
    _close(xp, est2.coef_, _ref_logistic().fit(Xc, bin_names).coef_, _rtol_solver(xp, LOGIT_RTOL))
    assert est2.predict(xp.asarray(Xc[:3])).tolist() == ref_labels(Xc[:3], bin_names, Xc)


def ref_labels(Xq, labels, X):
    return _ref_logistic().fit(X, labels).predict(Xq).tolist()


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}])
def test_logistic_class_and_sample_weight(xp, class_weight):
    X, y = wine()
    w = np.random.default_rng(2).uniform(0.2, 2.0, size=y.shape[0])
    ref = _ref_logistic(class_weight=class_weight).fit(X, y, sample_weight=w)
    Xb = xp.asarray(X)
    est = LogisticRegression(class_weight=class_weight).fit(Xb, xp.asarray(y), sample_weight=xp.asarray(w))
    rtol = _rtol_solver(xp, LOGIT_RTOL)
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.intercept_, ref.intercept_, rtol)


def test_logistic_binary_class_weight_and_no_intercept(xp):
    X, y = breast_cancer()
    ref = _ref_logistic(class_weight={0: 2.0}, fit_intercept=False, C=0.1).fit(X, y)
    est = LogisticRegression(class_weight={0: 2.0}, fit_intercept=False, C=0.1)
    est.fit(xp.asarray(X), xp.asarray(y))
    _close(xp, est.coef_, ref.coef_, _rtol_solver(xp, LOGIT_RTOL))
    assert np.all(xp.to_numpy(est.intercept_) == 0)


def test_logistic_lbfgs_path(monkeypatch):
    # Many parameters switch to the in-namespace L-BFGS; force it on small data.
    monkeypatch.setattr(_logistic_loss, "NEWTON_MAX_PARAMS", 0)
    for X, y in (breast_cancer(), wine()):
        ref = _ref_logistic().fit(X, y)
        est = LogisticRegression(tol=1e-8, max_iter=1000).fit(X, y)
        _close_np(est.coef_, ref.coef_, 1e-5)
        _close_np(est.intercept_, ref.intercept_, 1e-5)
    with pytest.warns(ConvergenceWarning, match=r"\(lbfgs\) did not converge after 3 iteration"):
        LogisticRegression(max_iter=3).fit(*wine())


def test_logistic_matches_sklearn_lbfgs():
    # toolbox at its default tol against scikit-learn's lbfgs run to convergence. (At the default
    # tol=1e-4 scikit-learn's lbfgs itself stops ~1e-2 (breast_cancer) or ~1e-3 (iris) away from
    # the optimum, relative to the largest coefficient; toolbox's Newton answer is within 1e-5.)
    for X, y in (breast_cancer(), iris()):
        ref = sk.LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
        est = LogisticRegression().fit(X, y)
        _close_np(est.coef_, ref.coef_, 1e-4)
        _close_np(est.predict_proba(X), ref.predict_proba(X), 1e-4)
        _close_np(est.coef_, sk.LogisticRegression().fit(X, y).coef_, 2e-2)


def test_logistic_no_penalty_and_liblinear():
    X, y = iris()
    X2, y2 = X[y > 0, :2], y[y > 0]  # two overlapping classes: the unpenalized optimum is finite
    ref = _ref_logistic(C=np.inf).fit(X2, y2)
    _close_np(LogisticRegression(C=np.inf).fit(X2, y2).coef_, ref.coef_, 1e-6)
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        est = LogisticRegression(penalty=None).fit(X2, y2)
    _close_np(est.coef_, ref.coef_, 1e-6)
    # liblinear penalizes the intercept (with weight 1 / intercept_scaling**2)
    lib = sk.LogisticRegression(solver="liblinear", intercept_scaling=2.0, tol=1e-10, max_iter=10000)
    lib.fit(X2, y2)
    ours = LogisticRegression(solver="liblinear", intercept_scaling=2.0).fit(X2, y2)
    _close_np(ours.coef_, lib.coef_, 1e-4)
    _close_np(ours.intercept_, lib.intercept_, 1e-4)
    with pytest.raises(ValueError, match="'liblinear' solver does not support multiclass"):
        LogisticRegression(solver="liblinear").fit(X, y)


def test_logistic_warm_start_and_convergence_warning():
    X, y = wine()
    est = LogisticRegression(warm_start=True).fit(X, y)
    est.fit(X, y)
    assert int(est.n_iter_[0]) <= 2
    with pytest.warns(ConvergenceWarning, match=r"\(newton\) did not converge after 1 iteration"):
        LogisticRegression(max_iter=1).fit(X, y)


def test_logistic_float32_kept(xp):
    _skip_jax_x64(xp)
    X, y = breast_cancer()
    Xb = xp.asarray(X.astype(np.float32))
    est = LogisticRegression().fit(Xb, xp.asarray(y))
    assert est.coef_.dtype == xp.xp.float32
    assert est.predict_proba(Xb).dtype == xp.xp.float32
    _close(xp, est.coef_, _ref_logistic().fit(X, y).coef_, 1e-3)


# --------------------------------------------------------------------------- #
# Bad input, no mutation
# --------------------------------------------------------------------------- #


def test_bad_input_messages(xp):
    X, y = diabetes()
    Xb, yb = xp.asarray(X), xp.asarray(y)
    with pytest.raises(ValueError, match=r"needs samples of at least 2 classes.*only one class"):
        LogisticRegression().fit(Xb, xp.asarray(np.zeros(len(y))))
    for Est in (LinearRegression, Ridge, Lasso, ElasticNet):
        with pytest.raises(ValueError, match=f"{Est.__name__} needs numeric targets"):
            Est().fit(Xb, np.array(["a", "b"] * (len(y) // 2)))
        with pytest.raises(ValueError, match="requires y to be passed"):
            Est().fit(Xb, None)
    for Est in (Ridge, Lasso, ElasticNet):
        with pytest.raises(ValueError, match=f"{Est.__name__}: alpha must be >= 0, got -1.0"):
            Est(alpha=-1.0).fit(Xb, yb)
    for C in (0.0, -1.0):
        with pytest.raises(ValueError, match=r"LogisticRegression: C must be > 0, got"):
            LogisticRegression(C=C).fit(Xb, yb > 150)
    with pytest.raises(ValueError, match=r"ElasticNet: l1_ratio must be <= 1, got 1.5"):
        ElasticNet(l1_ratio=1.5).fit(Xb, yb)
    with pytest.raises(ValueError, match=r"Ridge: solver must be one of 'auto', .*; got 'magic'"):
        Ridge(solver="magic").fit(Xb, yb)
    with pytest.raises(ValueError, match="sample_weight must contain at least one non-zero"):
        Ridge().fit(Xb, yb, sample_weight=xp.asarray(np.zeros(len(y))))
    with pytest.raises(ValueError, match="X has 3 features, but LinearRegression is expecting 10"):
        LinearRegression().fit(Xb, yb).predict(xp.asarray(X[:, :3]))


# --------------------------------------------------------------------------- #
# LogisticRegression: L1 and elastic-net penalties (saga, liblinear)
# --------------------------------------------------------------------------- #


def _ref_l1(**kw):
    # scikit-learn's saga / liblinear run to a tight tol: the optimum of the same objective
    kw = {"tol": 1e-12, "max_iter": 100_000, **kw}
    return sk.LogisticRegression(**kw)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("data", ["binary", "multinomial"])
def test_logistic_l1_enet_matches_sklearn(xp, data, l1_ratio):
    X, y = iris()
    if data == "binary":
        X, y = X[y > 0], y[y > 0]  # two overlapping classes
    C = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = _ref_l1(C=C, l1_ratio=l1_ratio, solver="saga").fit(X, y)
    Xb = xp.asarray(X)
    tol = 1e-10 if xp.float64 else 1e-5
    est = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=tol, max_iter=200).fit(Xb, xp.asarray(y))
    rtol = _rtol_solver(xp, 1e-6)
    assert tuple(est.coef_.shape) == ref.coef_.shape
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.intercept_, ref.intercept_, rtol)
    _close(xp, est.predict_proba(Xb), ref.predict_proba(X), rtol)
    if xp.float64:  # the same exact zeros (the support)
        np.testing.assert_array_equal(xp.to_numpy(est.coef_) == 0, ref.coef_ == 0)
    assert (ref.coef_ == 0).any()
    assert int(est.n_iter_[0]) < 50  # proximal Newton: a handful of iterations


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_logistic_liblinear_l1_matches_sklearn(fit_intercept):
    X, y = breast_cancer()
    for C, s in ((0.05, 1.0), (0.5, 3.0)):
        kw = dict(C=C, l1_ratio=1, solver="liblinear", intercept_scaling=s, fit_intercept=fit_intercept)
        ref = _ref_l1(**kw).fit(X, y)
        est = LogisticRegression(tol=1e-10, **kw).fit(X, y)
        _close_np(est.coef_, ref.coef_, 1e-5)
        _close_np(est.intercept_ + 1e-300, ref.intercept_ + 1e-300, 1e-5)
        np.testing.assert_array_equal(est.coef_ == 0, ref.coef_ == 0)
    # liblinear fits in float64, as scikit-learn (its coef_ is float64 for float32 X)
    assert LogisticRegression(solver="liblinear").fit(X.astype(np.float32), y).coef_.dtype == np.float64
    # the L2 penalty with dual=True: the same optimum as the primal problem
    dual = LogisticRegression(solver="liblinear", dual=True, tol=1e-10).fit(X, y)
    _close_np(dual.coef_, _ref_l1(solver="liblinear").fit(X, y).coef_, 1e-5)


def test_logistic_l1_sparse_and_weights():
    import scipy.sparse

    X, y = wine()
    w = np.random.default_rng(0).uniform(0.2, 2.0, size=y.shape[0])
    kw = dict(C=0.2, l1_ratio=0.7, solver="saga")
    dense = LogisticRegression(tol=1e-10, **kw).fit(X, y, sample_weight=w)
    sparse = LogisticRegression(tol=1e-10, **kw).fit(scipy.sparse.csr_matrix(X), y, sample_weight=w)
    _close_np(sparse.coef_, dense.coef_, 1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = _ref_l1(**kw).fit(X, y, sample_weight=w)
    _close_np(dense.coef_, ref.coef_, 1e-6)
    # class weights are sample weights
    Xb, yb = X[y < 2], y[y < 2]
    cw = LogisticRegression(l1_ratio=1, solver="liblinear", class_weight={0: 1, 1: 2}, tol=1e-12).fit(Xb, yb)
    sw = LogisticRegression(l1_ratio=1, solver="liblinear", tol=1e-12).fit(Xb, yb, sample_weight=yb + 1.0)
    _close_np(cw.coef_, sw.coef_, 1e-10)


def test_logistic_l1_gradient_fallback(monkeypatch):
    # Too many parameters for a dense Hessian: accelerated proximal gradient, the same optimum
    from toolbox.linear_model import _logistic_loss

    X, y = breast_cancer()
    kw = dict(C=0.5, l1_ratio=1, solver="saga", tol=1e-8, max_iter=100_000)
    newton = LogisticRegression(**kw).fit(X, y)
    monkeypatch.setattr(_logistic_loss, "NEWTON_MAX_PARAMS", 0)
    fista = LogisticRegression(**kw).fit(X, y)
    _close_np(fista.coef_, newton.coef_, 1e-4)
    with pytest.warns(ConvergenceWarning, match="The max_iter was reached"):
        LogisticRegression(C=0.5, l1_ratio=1, solver="saga", max_iter=3).fit(X, y)


def test_logistic_penalty_options_as_sklearn():
    X, y = iris()
    Xb, yb = X[y > 0], y[y > 0]
    for solver in ("lbfgs", "newton-cg", "newton-cholesky", "sag"):
        with pytest.raises(ValueError, match=f"Solver {solver} supports only 'l2' or None penalties, got l1"):
            LogisticRegression(solver=solver, l1_ratio=1).fit(X, y)
        with pytest.raises(ValueError, match=f"Solver {solver} supports only dual=False, got dual=True"):
            LogisticRegression(solver=solver, dual=True).fit(X, y)
    with pytest.raises(ValueError, match="Only 'saga' solver supports elasticnet penalty, got solver=liblinear"):
        LogisticRegression(solver="liblinear", l1_ratio=0.5).fit(Xb, yb)
    with pytest.raises(ValueError, match="penalty=None is not supported for the liblinear solver"):
        LogisticRegression(solver="liblinear", C=np.inf).fit(Xb, yb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ValueError, match="l1_ratio must be specified when penalty is elasticnet"):
            LogisticRegression(penalty="elasticnet", solver="saga", l1_ratio=None).fit(Xb, yb)
        with pytest.warns(UserWarning, match=r"l1_ratio parameter is only used when penalty is 'elasticnet'"):
            LogisticRegression(penalty="l1", solver="saga", l1_ratio=0.5).fit(Xb, yb)
        with pytest.warns(UserWarning, match="Inconsistent values: penalty=l2 with l1_ratio=1.0"):
            LogisticRegression(penalty="l2", solver="saga", l1_ratio=1.0).fit(Xb, yb)
        with pytest.warns(UserWarning, match="Setting penalty=None will ignore the C"):
            LogisticRegression(penalty=None, C=4).fit(Xb, yb)
        # penalty='elasticnet' with l1_ratio=1 is penalty='l1'
        a = LogisticRegression(penalty="elasticnet", l1_ratio=1.0, solver="saga").fit(Xb, yb)
        b = LogisticRegression(penalty="l1", solver="saga").fit(Xb, yb)
        np.testing.assert_array_equal(a.coef_, b.coef_)
    with pytest.raises(ValueError, match=r"Unsupported set of arguments.*penalty='l1'.*dual=True"):
        LogisticRegression(solver="liblinear", l1_ratio=1, dual=True).fit(Xb, yb)
    with pytest.warns(FutureWarning, match="'n_jobs' has no effect since 1.8"):
        LogisticRegression(n_jobs=1).fit(Xb, yb)
    with pytest.raises(ValueError, match="maximum value > 1e30 results in a frozen fit"):
        LogisticRegression(solver="liblinear").fit(np.array([[0.0], [1e100]]), [0, 1])


def test_logistic_large_sparse_indices():
    import scipy.sparse

    X = scipy.sparse.random(20, 10, density=0.5, format="csr", random_state=0)
    X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    y = np.arange(20) % 2
    for solver in ("liblinear", "sag", "saga"):
        with pytest.raises(ValueError, match="Only sparse matrices with 32-bit integer indices"):
            LogisticRegression(solver=solver).fit(X, y)
    LogisticRegression(solver="lbfgs").fit(X, y)


def test_logistic_sparsify_densify():
    import scipy.sparse

    X, y = wine()
    est = LogisticRegression(C=0.1, l1_ratio=1, solver="saga").fit(X, y)
    dense = est.decision_function(X)
    assert est.sparsify() is est and scipy.sparse.issparse(est.coef_)
    _close_np(est.decision_function(X), dense)
    _close_np(est.decision_function(scipy.sparse.coo_matrix(X)), dense)
    np.testing.assert_array_equal(est.predict(X), np.argmax(dense, axis=1))
    assert est.densify() is est and isinstance(est.coef_, np.ndarray)
    _close_np(est.decision_function(X), dense)


def test_logistic_newton_cholesky_singular_resorts_to_lbfgs():
    # as scikit-learn: a singular Hessian makes newton-cholesky resort to lbfgs (toolbox's lbfgs)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 20)), np.arange(10) % 2
    ref = LogisticRegression(solver="lbfgs", C=1e30).fit(X, y)
    with pytest.warns(IllConditionedWarning, match="It will now resort to lbfgs instead"):
        nc = LogisticRegression(solver="newton-cholesky", C=1e30).fit(X, y)
    assert nc.n_iter_[0] == ref.n_iter_[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
            lim = LogisticRegression(solver="newton-cholesky", C=1e30, max_iter=int(ref.n_iter_[0]) - 1).fit(X, y)
    assert lim.n_iter_[0] == lim.max_iter - 1


def test_inputs_not_modified(xp):
    X, y = diabetes()
    Xc, yc = wine()
    for X_, y_ in ((X, y), (Xc, yc.astype(np.float64))):
        w = np.linspace(0.5, 1.5, y_.shape[0])
        Xb, yb, wb = xp.asarray(X_), xp.asarray(y_), xp.asarray(w)
        X0, y0, w0 = xp.to_numpy(Xb).copy(), xp.to_numpy(yb).copy(), xp.to_numpy(wb).copy()
        ests = (LinearRegression(), Ridge(), Lasso(alpha=0.01), ElasticNet(alpha=0.01)) if X_ is X \
            else (LogisticRegression(),)
        for est in ests:
            est.fit(Xb, yb, sample_weight=wb)
            est.predict(Xb)
        np.testing.assert_array_equal(xp.to_numpy(Xb), X0)
        np.testing.assert_array_equal(xp.to_numpy(yb), y0)
        np.testing.assert_array_equal(xp.to_numpy(wb), w0)


# --------------------------------------------------------------------------- #
# scikit-learn's conformance suite (NumPy input)
# --------------------------------------------------------------------------- #


def _expected_failed_checks(estimator):
    if isinstance(estimator, Ridge):
        # Closed-form solve: n_iter_ is None, as in scikit-learn, whose own test suite exempts Ridge.
        return {"check_non_transformer_estimators_n_iter": "Ridge solves in closed form; n_iter_ is None."}
    return {}


@parametrize_with_checks(
    [LinearRegression(), Ridge(), Lasso(), ElasticNet(), LogisticRegression(), LinearRegression(positive=True),
     Ridge(positive=True)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- #
# LogisticRegression: Newton's method with a subsampled Hessian
# --------------------------------------------------------------------------- #


def _explicit_logistic_hessian(P, X, sw, pen, n_rows):
    """sum_i s_i (diag(p_i) - p_i p_i') (x) [x_i, 1][x_i, 1]' + diag(pen), written out."""
    X1 = np.column_stack([X, np.ones(len(X))])
    if n_rows == 1:
        H = X1.T @ ((sw * P[:, 0] * (1 - P[:, 0]))[:, None] * X1)
    else:
        A = np.einsum("i,ik,km->ikm", sw, P, np.eye(n_rows)) - np.einsum("i,ik,im->ikm", sw, P, P)
        H = np.einsum("ikm,ia,ib->kamb", A, X1, X1).reshape(n_rows * X1.shape[1], -1)
    return H + np.diag(pen)


@pytest.mark.parametrize("n_rows", [1, 3, 4])
def test_logistic_hessian_derived_blocks(n_rows):
    # Only the blocks among the first K - 1 classes are computed; the last block row and column
    # come from the rows summing to zero. Along any direction orthogonal to the softmax's null
    # space (class sums zero) the regularized Hessian must act as the exact one.
    import array_api_compat.numpy as anp

    rng = np.random.default_rng(0)
    n, d = 200, 5
    X = rng.normal(size=(n, d))
    Z = rng.normal(size=(n, n_rows))
    P = 1 / (1 + np.exp(-Z)) if n_rows == 1 else np.exp(Z) / np.exp(Z).sum(1, keepdims=True)
    sw = rng.uniform(0.5, 1.5, n)
    sw /= sw.sum()
    pen = np.tile(np.r_[np.full(d, 0.01), 0.0], n_rows)
    H = _logistic_loss._hessian(np.ascontiguousarray(P.T), X, sw, pen, n_rows=n_rows, fit_intercept=True, xp=anp)
    want = _explicit_logistic_hessian(P, X, sw, pen, n_rows)
    V = rng.normal(size=(n_rows * (d + 1), 4))
    if n_rows > 1:  # project out the null space: each feature's class sum is zero
        V = (V.reshape(n_rows, d + 1, -1) - V.reshape(n_rows, d + 1, -1).mean(0)).reshape(n_rows * (d + 1), -1)
    _close_np(H @ V, want @ V, 1e-12)
    np.testing.assert_allclose(H, H.T, atol=1e-15)


def _spy_hessian_rows(monkeypatch):
    """The rows each Newton Hessian was computed on (its chunks' rows summed)."""
    rows = []
    real_chunk, real_reg = _logistic_loss._chunk_hessian, _logistic_loss._regularized_hessian
    pending = [0]

    def spy_chunk(w, X, *args, **kwargs):
        pending[0] += int(X.shape[0])
        return real_chunk(w, X, *args, **kwargs)

    def spy_reg(*args, **kwargs):
        rows.append(pending[0])
        pending[0] = 0
        return real_reg(*args, **kwargs)

    monkeypatch.setattr(_logistic_loss, "_chunk_hessian", spy_chunk)
    monkeypatch.setattr(_logistic_loss, "_regularized_hessian", spy_reg)
    return rows


@pytest.mark.parametrize("data", ["breast_cancer", "wine"])
def test_logistic_subsampled_hessian(xp, data, monkeypatch):
    # Force the subsampled Hessian on small data: the gradient and line search still use every
    # row, so the optimum is the same.
    monkeypatch.setattr(_logistic_loss, "HESSIAN_SUBSAMPLE", 16)
    monkeypatch.setattr(_logistic_loss, "HESSIAN_ROWS_PER_PARAM", 1)
    rows = _spy_hessian_rows(monkeypatch)
    X, y = {"breast_cancer": breast_cancer, "wine": wine}[data]()
    ref = _ref_logistic().fit(X, y)
    Xb, yb = xp.asarray(X), xp.asarray(y)
    tol = 1e-8 if xp.float64 else 1e-4
    est = LogisticRegression(tol=tol).fit(Xb, yb)
    assert rows and rows[0] < len(X)  # the Newton steps came from a subsample
    rtol = _rtol_solver(xp, 1e-6)
    _close(xp, est.coef_, ref.coef_, rtol)
    _close(xp, est.intercept_, ref.intercept_, rtol)
    # at the default tol the largest gradient entry is below 1e-4: the same optimum up to tol
    default = LogisticRegression().fit(Xb, yb)
    _close(xp, default.predict_proba(Xb), ref.predict_proba(X), _rtol_solver(xp, 1e-3))


def test_logistic_subsampled_hessian_falls_back(monkeypatch):
    # A feature that is nonzero only on rows the subsample skips: the subsampled Hessian has only
    # the penalty along it, the exact curvature along the step disagrees, and the solver switches
    # to the full Hessian.
    monkeypatch.setattr(_logistic_loss, "HESSIAN_SUBSAMPLE", 50)
    monkeypatch.setattr(_logistic_loss, "HESSIAN_ROWS_PER_PARAM", 1)
    rows = _spy_hessian_rows(monkeypatch)
    rng = np.random.default_rng(0)
    n = 400
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    rare = np.zeros(n)
    idx = np.array([1, 2, 3, 5, 6, 7, 9, 10])  # stride 8: the subsample takes rows 0, 8, 16, ...
    rare[idx] = 3.0
    y[idx] = 1
    X = np.column_stack([X, rare])
    est = LogisticRegression(tol=1e-10).fit(X, y)
    assert rows[0] == n // 8 and n in rows  # started on the subsample, finished on every row
    ref = _ref_logistic().fit(X, y)
    _close_np(est.coef_, ref.coef_, 1e-6)
    _close_np(est.intercept_, ref.intercept_, 1e-6)


def test_logistic_solver_choice():
    # Newton (subsampled Hessian) for many samples and few parameters, L-BFGS for many parameters.
    assert _logistic_loss.use_newton(200_000, 50, 3, "cpu")
    assert _logistic_loss.hessian_stride(200_000, 153) == 200_000 // _logistic_loss.HESSIAN_SUBSAMPLE
    assert _logistic_loss.hessian_stride(1000, 153) == 1
    assert _logistic_loss.use_newton(150, 4, 3, "cpu")
    assert not _logistic_loss.use_newton(2000, 3000, 1, "cpu")
    assert not _logistic_loss.use_newton(200_000, 1000, 10, "cpu")


@pytest.mark.parametrize("data", ["breast_cancer", "wine"])
def test_logistic_newton_chunks(data, monkeypatch):
    # Newton's passes over row chunks (here ~20 chunks, run on 2 worker threads on NumPy): scikit-learn's
    # optimum, and the same bits whatever the number of threads (the chunks are fixed by the shape).
    from toolbox.backends import _threaded

    monkeypatch.setattr(_logistic_loss, "NEWTON_CHUNK_BYTES", 1)
    monkeypatch.setattr(_logistic_loss, "NEWTON_CHUNK_MIN_ROWS", 29)
    X, y = {"breast_cancer": breast_cancer, "wine": wine}[data]()
    assert len(_logistic_loss._row_chunks(len(y), X.shape[1], 8, xp=np, device="cpu")) >= 6
    ref = _ref_logistic().fit(X, y)
    fits = {}
    for threads in (1, 2):
        monkeypatch.setattr(_threaded, "worker_threads", lambda t=threads: t)
        fits[threads] = LogisticRegression(tol=1e-10).fit(X, y)
    _close_np(fits[2].coef_, ref.coef_, 1e-6)
    _close_np(fits[2].intercept_, ref.intercept_, 1e-6)
    np.testing.assert_array_equal(fits[1].coef_, fits[2].coef_)
    np.testing.assert_array_equal(fits[1].intercept_, fits[2].intercept_)


def test_logistic_newton_weightless_subsample(monkeypatch):
    # A subsample whose rows all have zero weight is not used (every row is).
    monkeypatch.setattr(_logistic_loss, "HESSIAN_SUBSAMPLE", 20)
    monkeypatch.setattr(_logistic_loss, "HESSIAN_ROWS_PER_PARAM", 1)
    rows = _spy_hessian_rows(monkeypatch)
    X, y = wine()
    w = np.ones(len(y))
    w[:: len(y) // 42] = 0.0  # p = 42 parameters: the subsample is every 4th row
    ref = _ref_logistic().fit(X, y, sample_weight=w)
    est = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=w)
    assert set(rows) == {len(y)}
    _close_np(est.coef_, ref.coef_, 1e-6)
    _close_np(est.intercept_, ref.intercept_, 1e-6)


@pytest.mark.parametrize("solver, message", [
    ("lbfgs", "lbfgs failed to converge"),
    ("newton-cg", "newton-cg failed to converge.* Increase the number of iterations."),
    ("liblinear", "Liblinear failed to converge, increase the number of iterations."),
    ("sag", "The max_iter was reached which means the coef_ did not converge"),
    ("newton-cholesky", "Newton solver did not converge after [0-9]* iterations"),
])
def test_logistic_convergence_warning_has_sklearns_wording(solver, message):
    # scikit-learn's test_max_iter matches these per-solver phrases (scripts/upstream-tests.sh)
    from sklearn.exceptions import ConvergenceWarning

    from toolbox.linear_model import LogisticRegression

    X, y = datasets.load_iris(return_X_y=True)
    y = (y == 1).astype(int)
    with pytest.warns(ConvergenceWarning, match=message):
        lr = LogisticRegression(max_iter=2, tol=1e-15, solver=solver).fit(X, y)
    assert lr.n_iter_[0] == 2


def test_logistic_callbacks_one_task_per_lbfgs_iteration():
    # scikit-learn's task tree for solver='lbfgs': the fit, one 'lbfgs-iter' task per iteration (at
    # least one) whose fitted_estimator is the model after that many iterations, and a last empty one
    callback = pytest.importorskip("sklearn.callback")  # noqa: F841
    from sklearn.callback.tests._utils import RecordingCallback

    X, y = iris()

    def tree(Est, **kw):
        cb = RecordingCallback()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = Est(**kw).set_callbacks(cb).fit(X, y)
        return est, [(r["name"], r["context"].task_name) for r in cb.record], cb.record

    for max_iter in (0, 3, 100):
        ours, calls, record = tree(LogisticRegression, max_iter=max_iter)
        n = int(ours.n_iter_[0])
        begins = [c for c in calls if c == ("on_fit_task_begin", "lbfgs-iter")]
        assert len(begins) == max(n, 1) + 1
        assert calls[:2] == [("setup", "fit"), ("on_fit_task_begin", "fit")]
        assert calls[-2:] == [("on_fit_task_end", "fit"), ("teardown", "fit")]
        ends = [r for r in record if r["name"] == "on_fit_task_end" and r["context"].task_name == "lbfgs-iter"]
        assert ends[-1]["kwargs"]["fitted_estimator"] is None
        if n:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                after_one = LogisticRegression(max_iter=1).fit(X, y)
            _close_np(ends[0]["kwargs"]["fitted_estimator"].coef_, after_one.coef_)
            _close_np(ends[n - 1]["kwargs"]["fitted_estimator"].coef_, ours.coef_)
    with pytest.warns(UserWarning, match="Callbacks are only supported in LogisticRegression for solver='lbfgs'"):
        LogisticRegression(solver="saga").set_callbacks(RecordingCallback())
