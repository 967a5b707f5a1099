"""GaussianNB against scikit-learn on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.naive_bayes import GaussianNB as SkGaussianNB
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.naive_bayes import GaussianNB, _gaussian


def _digits():
    X, y = datasets.load_digits(return_X_y=True)
    return X[:500], y[:500]


def _generated():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=500)
    X = rng.normal(size=(500, 6)) * (1.0 + y[:, None]) + 3.0 * y[:, None] + 100.0
    return X, y


DATA = {
    "iris": lambda: datasets.load_iris(return_X_y=True),
    "wine": lambda: datasets.load_wine(return_X_y=True),
    "breast_cancer": lambda: datasets.load_breast_cancer(return_X_y=True),
    "digits": _digits,
    "generated": _generated,
}


def _backend_data(xp, X):
    """Round to the backend's precision so the reference sees the same values."""
    return X if xp.float64 else X.astype(np.float32).astype(np.float64)


def _rtol(xp):
    # float64: rounding only. float32 (JAX without x64): single-precision sums and
    # variances against a float64 reference on the same rounded data.
    return 1e-9 if xp.float64 else 2e-3


def _close(xp, got, want, rtol=None, atol=None):
    rtol = _rtol(xp) if rtol is None else rtol
    want = np.asarray(want, dtype=float)
    got = xp.to_numpy(got) if not isinstance(got, np.ndarray) else got
    atol = rtol * max(1.0, np.abs(want).max()) if atol is None else atol
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _check_predictions(xp, est, ref, Xb, X):
    """Posteriors and labels against the reference; log-posteriors where they are not vanishing."""
    jll, logp, proba, pred = (est.predict_joint_log_proba(Xb), est.predict_log_proba(Xb),
                              est.predict_proba(Xb), est.predict(Xb))
    for out in (jll, logp, proba, pred):
        assert framework_of(out) is framework_of(Xb)
    assert proba.dtype == Xb.dtype and proba.shape == (len(X), len(ref.classes_))
    ref_jll = ref.predict_joint_log_proba(X)
    # joint log-likelihoods: error relative to the largest magnitude in the row. In float32 a
    # variance that is ~0 in exact arithmetic (a feature constant within a class) keeps the
    # rounding of the class mean, ~1e-4 relative to var_smoothing's epsilon_.
    scale = np.maximum(np.abs(ref_jll).max(axis=1, keepdims=True), 1.0)
    err = np.abs(xp.to_numpy(jll) - ref_jll) / scale
    assert err.max() <= (1e-9 if xp.float64 else 1e-3), err.max()
    _close(xp, proba, ref.predict_proba(X), atol=1e-9 if xp.float64 else 2e-3)
    ref_logp = ref.predict_log_proba(X)
    meaningful = ref_logp > -20
    _close(xp, xp.to_numpy(logp)[meaningful], ref_logp[meaningful], atol=1e-8 if xp.float64 else 2e-2)
    # labels, except where the two best classes are too close to call
    top2 = np.sort(ref_jll, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > (1e-6 if xp.float64 else 1e-1)
    np.testing.assert_array_equal(xp.to_numpy(pred)[clear], ref.predict(X)[clear])


@pytest.mark.parametrize("data", DATA)
def test_matches_sklearn(xp, data):
    X, y = DATA[data]()
    X = _backend_data(xp, X)
    ref = SkGaussianNB().fit(X, y)
    Xb = xp.asarray(X)
    est = GaussianNB().fit(Xb, xp.asarray(y))
    for attr in ("theta_", "var_", "class_count_", "class_prior_"):
        got = getattr(est, attr)
        assert framework_of(got) is framework_of(Xb), attr
        assert got.shape == getattr(ref, attr).shape, attr
        _close(xp, got, getattr(ref, attr), atol=0 if xp.float64 else None)
    assert est.epsilon_ == pytest.approx(ref.epsilon_, rel=_rtol(xp))
    _check_predictions(xp, est, ref, Xb, X)


@pytest.mark.parametrize("data", ["iris", "breast_cancer", "generated"])
def test_sample_weight(xp, data):
    X, y = DATA[data]()
    X = _backend_data(xp, X)
    w = np.random.default_rng(2).random(len(y)) * 3
    w[:10] = 0.0
    ref = SkGaussianNB().fit(X, y, sample_weight=w)
    Xb = xp.asarray(X)
    est = GaussianNB().fit(Xb, xp.asarray(y), sample_weight=xp.asarray(w))
    for attr in ("theta_", "var_", "class_count_", "class_prior_"):
        _close(xp, getattr(est, attr), getattr(ref, attr))
    _check_predictions(xp, est, ref, Xb, X)
    # integer weights are repetitions
    reps = np.random.default_rng(3).integers(0, 3, size=len(y))
    est_w = GaussianNB().fit(Xb, xp.asarray(y), sample_weight=xp.asarray(reps.astype(float)))
    est_r = GaussianNB().fit(xp.asarray(np.repeat(X, reps, axis=0)), xp.asarray(np.repeat(y, reps)))
    _close(xp, est_w.theta_, xp.to_numpy(est_r.theta_), rtol=1e-9 if xp.float64 else 1e-4)
    _close(xp, est_w.var_, xp.to_numpy(est_r.var_), rtol=1e-7 if xp.float64 else 1e-3)


@pytest.mark.parametrize("data", ["iris", "wine", "digits"])
def test_partial_fit_matches_sklearn(xp, data):
    X, y = DATA[data]()
    X = _backend_data(xp, X)
    classes = np.unique(y)
    ref, est = SkGaussianNB(), GaussianNB()
    # the data sets are sorted by class: some batches miss some classes
    for part in np.array_split(np.arange(len(y)), 4):
        ref.partial_fit(X[part], y[part], classes=classes)
        est.partial_fit(xp.asarray(X[part]), xp.asarray(y[part]), classes=classes)
    for attr in ("theta_", "var_", "class_count_", "class_prior_"):
        _close(xp, getattr(est, attr), getattr(ref, attr))
    assert est.epsilon_ == pytest.approx(ref.epsilon_, rel=_rtol(xp))
    _check_predictions(xp, est, ref, xp.asarray(X), X)
    # classes only needed on the first call; a later call may omit them
    est.partial_fit(xp.asarray(X[:20]), xp.asarray(y[:20]))
    ref.partial_fit(X[:20], y[:20])
    _close(xp, est.var_, ref.var_)


def test_partial_fit_with_weights_and_fit_resets(xp):
    X, y = _generated()
    X = _backend_data(xp, X)
    w = np.random.default_rng(4).random(len(y))
    ref, est = SkGaussianNB(), GaussianNB()
    for part in np.array_split(np.arange(len(y)), 3):
        ref.partial_fit(X[part], y[part], classes=[0, 1, 2], sample_weight=w[part])
        est.partial_fit(xp.asarray(X[part]), xp.asarray(y[part]), classes=[0, 1, 2], sample_weight=xp.asarray(w[part]))
    _close(xp, est.theta_, ref.theta_)
    _close(xp, est.var_, ref.var_)
    _close(xp, est.class_count_, ref.class_count_)
    # fit starts over
    est.fit(xp.asarray(X[:100]), xp.asarray(y[:100]))
    _close(xp, est.class_count_, SkGaussianNB().fit(X[:100], y[:100]).class_count_)


def test_priors(xp):
    X, y = datasets.load_iris(return_X_y=True)
    X = _backend_data(xp, X)
    priors = [0.1, 0.3, 0.6]
    est = GaussianNB(priors=priors).fit(xp.asarray(X), xp.asarray(y))
    ref = SkGaussianNB(priors=priors).fit(X, y)
    _close(xp, est.class_prior_, ref.class_prior_)
    _check_predictions(xp, est, ref, xp.asarray(X), X)
    with pytest.raises(ValueError, match="The sum of the priors should be 1"):
        GaussianNB(priors=[0.5, 0.5, 0.5]).fit(xp.asarray(X), xp.asarray(y))
    with pytest.raises(ValueError, match="Number of priors must match number of classes"):
        GaussianNB(priors=[0.5, 0.5]).fit(xp.asarray(X), xp.asarray(y))
    with pytest.raises(ValueError, match="Priors must be non-negative"):
        GaussianNB(priors=[-0.5, 0.5, 1.0]).fit(xp.asarray(X), xp.asarray(y))


def test_string_labels(xp):
    X, y = datasets.load_iris(return_X_y=True)
    X = _backend_data(xp, X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = GaussianNB().fit(xp.asarray(X), names)
    ref = SkGaussianNB().fit(X, names)
    pred = est.predict(xp.asarray(X))
    assert isinstance(pred, np.ndarray) and pred.dtype.kind == "U"
    np.testing.assert_array_equal(pred, ref.predict(X))
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    # partial_fit with string classes
    pf = GaussianNB()
    for part in np.array_split(np.random.default_rng(0).permutation(len(y)), 3):
        pf.partial_fit(xp.asarray(X[part]), names[part], classes=["virginica", "setosa", "versicolor"])
    np.testing.assert_array_equal(pf.classes_, ref.classes_)
    _close(xp, pf.theta_, ref.theta_, rtol=1e-9 if xp.float64 else 1e-4)


def test_exact_path_for_features_constant_within_classes(xp, monkeypatch):
    # Features constant within classes at different, non-representable values (a scaled
    # one-hot column): the expanded quadratic form would lose the near-zero variances'
    # terms to rounding, so the direct form is used; both agree with scikit-learn.
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, size=300)
    onehot = np.eye(3)[y] * 1.7320508 - 0.5773503
    X = np.column_stack([rng.normal(size=(300, 3)) + y[:, None], onehot])
    X = _backend_data(xp, X)
    used = []
    for name in ("_quadratic_expanded", "_quadratic_exact"):
        real = getattr(_gaussian, name)
        monkeypatch.setattr(_gaussian, name, lambda *a, _real=real, _name=name, **k: used.append(_name) or _real(*a, **k))
    est = GaussianNB().fit(xp.asarray(X), xp.asarray(y))
    ref = SkGaussianNB().fit(X, y)
    _check_predictions(xp, est, ref, xp.asarray(X), X)
    assert set(used) == {"_quadratic_exact"}
    # well-scaled float64 data takes the matrix-product path
    used.clear()
    Xg, yg = _generated()
    Xg = _backend_data(xp, Xg)
    est = GaussianNB().fit(xp.asarray(Xg), xp.asarray(yg))
    _check_predictions(xp, est, SkGaussianNB().fit(Xg, yg), xp.asarray(Xg), Xg)
    if xp.float64:
        assert set(used) == {"_quadratic_expanded"}


def test_float32_is_preserved(xp):
    X, y = _generated()
    X32 = xp.asarray(X.astype(np.float32))
    est = GaussianNB().fit(X32, xp.asarray(y))
    assert est.theta_.dtype == xp.xp.float32 and est.var_.dtype == xp.xp.float32
    assert est.predict_proba(X32).dtype == xp.xp.float32
    ref = SkGaussianNB().fit(X.astype(np.float32), y)
    np.testing.assert_array_equal(xp.to_numpy(est.predict(X32)), ref.predict(X.astype(np.float32)))


def test_inputs_not_modified(xp):
    X, y = _generated()
    Xb, yb, wb = xp.asarray(X), xp.asarray(y), xp.asarray(np.ones(len(y)))
    before = xp.to_numpy(Xb).copy()
    est = GaussianNB().fit(Xb, yb, sample_weight=wb)
    est.partial_fit(Xb, yb)
    est.predict_proba(Xb)
    np.testing.assert_array_equal(xp.to_numpy(Xb), before)
    np.testing.assert_array_equal(xp.to_numpy(yb), y)
    np.testing.assert_array_equal(xp.to_numpy(wb), 1.0)


def test_bad_input(xp):
    X, y = _generated()
    Xb, yb = xp.asarray(X), xp.asarray(y)
    with pytest.raises(ValueError, match="only one class"):
        GaussianNB().fit(Xb, xp.asarray(np.zeros(len(X), dtype=int)))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        GaussianNB().fit(Xb, yb, sample_weight=xp.asarray(np.zeros(len(X))))
    with pytest.raises(ValueError, match="requires y to be passed"):
        GaussianNB().fit(Xb, None)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        GaussianNB().fit(Xb, xp.asarray(X[:, 0]))
    with pytest.raises(ValueError, match="'var_smoothing' parameter of GaussianNB must be a float"):
        GaussianNB(var_smoothing=-1.0).fit(Xb, yb)
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        GaussianNB().partial_fit(Xb, yb)
    with pytest.raises(ValueError, match="only one"):
        GaussianNB().partial_fit(Xb, yb, classes=[0])
    est = GaussianNB().partial_fit(Xb, yb, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"The target label\(s\) \[7\] in y do not exist in the initial classes"):
        est.partial_fit(Xb[:5, ...], xp.asarray(np.array([0, 1, 7, 2, 0])))
    with pytest.raises(ValueError, match=r"`classes=.*` is not the same as on last call to partial_fit"):
        est.partial_fit(Xb, yb, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="X has 2 features, but GaussianNB is expecting 6"):
        est.partial_fit(xp.asarray(X[:, :2]), yb)
    with pytest.raises(ValueError, match="X has 2 features, but GaussianNB is expecting 6"):
        est.predict(xp.asarray(X[:, :2]))


@pytest.mark.parametrize(("scale", "match"), [
    (0.0, "no feature varies"), (None, "no feature varies"), (1e300, "variances overflow"),
    (1e-300, "underflow to 0"),
])
def test_degenerate_variances_are_refused_not_nan(xp, scale, match):
    # scikit-learn returns NaN probabilities for all of these; toolbox says why and fits nothing
    if scale is not None and scale != 0.0 and not xp.float64:
        pytest.skip("float64 magnitudes")
    rng = np.random.default_rng(0)
    X = np.ones((40, 3)) * 2.5 if scale is None else rng.normal(size=(40, 3)) * scale
    y = np.arange(40) % 2
    est = GaussianNB()
    with pytest.raises(ValueError, match=match):
        est.fit(xp.asarray(X), xp.asarray(y))
    assert not hasattr(est, "var_") and not hasattr(est, "classes_")
    # one varying feature is enough: the constant ones get var_smoothing's share of its variance
    X2 = np.column_stack([np.ones(40), rng.normal(size=40)])
    ref = SkGaussianNB().fit(X2, y)
    got = GaussianNB().fit(xp.asarray(X2), xp.asarray(y))
    tol = 1e-6 if xp.float64 else 1e-4
    np.testing.assert_allclose(xp.to_numpy(got.predict_proba(xp.asarray(X2))), ref.predict_proba(X2), rtol=tol)


def test_fitted_on_numpy_predicts_on_backend(xp):
    X, y = datasets.load_wine(return_X_y=True)
    X = _backend_data(xp, X)
    est = GaussianNB().fit(X, y)
    Xb = xp.asarray(X)
    proba = est.predict_proba(Xb)
    assert framework_of(proba) is framework_of(Xb)
    _close(xp, proba, SkGaussianNB().fit(X, y).predict_proba(X), atol=1e-9 if xp.float64 else 2e-3)


@parametrize_with_checks([GaussianNB(), GaussianNB(var_smoothing=1e-5)])
def test_sklearn_conformance(estimator, check):
    check(estimator)
