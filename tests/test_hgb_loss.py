"""The histogram-gradient-boosting losses against scikit-learn's own loss objects."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss, PinballLoss
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import _LOSSES

import toolbox.ensemble._hist_gradient_boosting._loss as loss_module
from toolbox.ensemble._hist_gradient_boosting._loss import LOSS_NAMES, Loss, get_loss

N = 240
REGRESSION = [("squared_error", None), ("absolute_error", None), ("poisson", None), ("gamma", None),
              ("quantile", 0.1), ("quantile", 0.5), ("quantile", 0.9)]


def _sk_loss(name, quantile, sw, n_classes=None):
    if name == "quantile":
        return PinballLoss(sample_weight=sw, quantile=quantile)
    if name == "log_loss":
        if n_classes <= 2:
            return HalfBinomialLoss(sample_weight=sw)
        return HalfMultinomialLoss(sample_weight=sw, n_classes=n_classes)
    return _LOSSES[name](sample_weight=sw)


def _weights(rng, kind, n=N):
    if kind is None:
        return None
    if kind == "tenths":  # many exact ties between quantile targets and cumulative weights
        return rng.integers(0, 4, n) * 0.1
    w = rng.uniform(0.0, 2.0, n)
    w[::17] = 0.0
    return w


def _y_for(name, rng, n=N):
    if name == "poisson":
        y = rng.poisson(1.5, n).astype(np.float64)
        y[0] = 0.0
        return y
    if name == "gamma":
        return rng.gamma(2.0, 1.5, n) + 1e-3
    return rng.normal(size=n) * 2.0


def _round(xp, a):
    """``a`` as the backend will hold it (float32 where float64 is missing), back in float64."""
    a = np.asarray(a)
    if a.dtype.kind == "f" and not xp.float64:
        a = a.astype(np.float32)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def _close(xp, got, want, atol=0.0):
    got = xp.to_numpy(got)
    rtol = xp.rtol()
    atol = atol if xp.float64 else max(atol, 1e-5)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- #
# regression losses
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("weighted", [None, "uniform"])
@pytest.mark.parametrize(("name", "quantile"), REGRESSION)
def test_regression_loss_matches_sklearn(xp, name, quantile, weighted):
    rng = np.random.default_rng(1)
    y = _round(xp, _y_for(name, rng))
    raw = _round(xp, rng.normal(size=(1, N)) * 0.7)
    sw = None if weighted is None else _round(xp, _weights(rng, weighted))
    loss = get_loss(name, quantile=quantile)
    sk = _sk_loss(name, quantile, sw)
    assert loss.name == name and loss.n_trees_per_iteration == 1
    assert loss.constant_hessian == (name in ("squared_error", "absolute_error", "quantile"))
    assert loss.need_update_leaves_values == (not sk.differentiable)

    Y, R = xp.asarray(y), xp.asarray(raw)
    SW = None if sw is None else xp.asarray(sw)
    loss.check_y(Y, xp=xp.xp)

    g_ref, h_ref = sk.gradient_hessian(y_true=y, raw_prediction=raw[0], sample_weight=sw)
    g, h = loss.gradient_hessian(Y, R, SW, xp=xp.xp)
    assert tuple(g.shape) == (1, N) and g.dtype == R.dtype
    _close(xp, g, g_ref[None, :], atol=1e-12)
    if loss.constant_hessian and sw is None:
        assert h is None
        np.testing.assert_array_equal(h_ref, 1.0)
    else:
        assert tuple(h.shape) == (1, N) and h.dtype == R.dtype
        _close(xp, h, h_ref[None, :], atol=1e-12)

    want = sk(y_true=y, raw_prediction=raw[0], sample_weight=sw)
    value = loss.loss(Y, R, SW, xp=xp.xp)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, want, rtol=xp.rtol())
    assert loss.score(Y, R, SW, xp=xp.xp) == -value  # what train_score_ holds

    base = loss.baseline(Y, SW, xp=xp.xp)
    assert tuple(base.shape) == (1,) and base.dtype == xp.float_dtype
    _close(xp, base, np.reshape(sk.fit_intercept_only(y_true=y, sample_weight=sw), (1,)))

    _close(xp, loss.link_inverse(R, xp=xp.xp), sk.link.inverse(raw[0]))


def test_gradient_hessian_out_and_weights_copy(xp):
    rng = np.random.default_rng(2)
    y, raw, sw = rng.normal(size=N), rng.normal(size=(1, N)), rng.uniform(size=N)
    loss = get_loss("squared_error")
    SW = xp.asarray(sw)
    _, h = loss.gradient_hessian(xp.asarray(y), xp.asarray(raw), SW, xp=xp.xp)
    _close(xp, h, sw[None, :])
    if xp.name != "jax":
        h[0, 0] = 123.0  # the hessian is not a view of the caller's weights
        assert float(SW[0]) != 123.0
        g_out = xp.xp.zeros((1, N), dtype=xp.float_dtype, device=xp.device)
        g2, _ = get_loss("poisson").gradient_hessian(xp.asarray(np.abs(y)), xp.asarray(raw), xp=xp.xp,
                                                       out=(g_out, None))
        assert g2 is g_out
        _close(xp, g_out, np.exp(raw) - np.abs(y)[None, :], atol=1e-12)


# --------------------------------------------------------------------------- #
# classification
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("weighted", [None, "uniform"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_loss_matches_sklearn(xp, n_classes, weighted):
    rng = np.random.default_rng(3)
    y_int = rng.integers(0, n_classes, N)
    y = y_int.astype(np.float64)
    K = 1 if n_classes == 2 else n_classes
    raw = rng.normal(size=(K, N)) * 3.0
    if K == 1:  # every branch of scikit-learn's stable formulas
        raw[0, :12] = [-800, -50, -37.5, -36.5, -20, -2.5, -1.5, 10, 17.5, 25, 40, 800]
    raw = _round(xp, raw)
    sw = None if weighted is None else _round(xp, _weights(rng, weighted))
    loss = get_loss("log_loss", n_classes=n_classes)
    sk = _sk_loss("log_loss", None, sw, n_classes)
    assert loss.n_trees_per_iteration == K and not loss.constant_hessian and not loss.need_update_leaves_values

    # integer labels for the multiclass loss, floating ones for the binary loss
    Y = xp.asarray(y_int if K > 1 else y)
    R = xp.asarray(raw)
    SW = None if sw is None else xp.asarray(sw)
    loss.check_y(Y, xp=xp.xp)
    sk_raw = raw[0] if K == 1 else np.ascontiguousarray(raw.T)

    g_ref, h_ref = sk.gradient_hessian(y_true=y, raw_prediction=sk_raw, sample_weight=sw)
    g, h = loss.gradient_hessian(Y, R, SW, xp=xp.xp)
    assert tuple(g.shape) == (K, N) and tuple(h.shape) == (K, N)
    g_ref, h_ref = np.reshape(g_ref.T, (K, N)), np.reshape(h_ref.T, (K, N))
    atol = 1e-15 if xp.float64 else 1e-6
    _close(xp, g, g_ref, atol=atol)
    _close(xp, h, h_ref, atol=atol)

    value = loss.loss(Y, R, SW, xp=xp.xp)
    np.testing.assert_allclose(value, sk(y_true=y, raw_prediction=sk_raw, sample_weight=sw), rtol=xp.rtol())

    base = loss.baseline(Y, SW, xp=xp.xp)
    assert tuple(base.shape) == (K,)
    want = np.reshape(sk.fit_intercept_only(y_true=y, sample_weight=sw), (K,))
    _close(xp, base, want, atol=1e-12)

    proba = loss.link_inverse(R, xp=xp.xp)
    assert tuple(proba.shape) == (N, n_classes)
    _close(xp, proba, sk.predict_proba(sk_raw), atol=1e-15 if xp.float64 else 1e-6)


def test_baseline_clips_like_sklearn(xp):
    # one class absent: scikit-learn clips the mean into (eps, 1 - eps) before the link
    y = np.zeros(50)
    for n_classes in (2, 3):
        sk = _sk_loss("log_loss", None, None, n_classes)
        base = get_loss("log_loss", n_classes=n_classes).baseline(xp.asarray(y), xp=xp.xp)
        if xp.float64:
            np.testing.assert_allclose(xp.to_numpy(base), np.ravel(sk.fit_intercept_only(y)), rtol=1e-12)
        else:
            assert np.all(np.isfinite(xp.to_numpy(base)))
    base = get_loss("poisson").baseline(xp.asarray(np.array([0.0, 0.0, 1e-300])), xp=xp.xp)
    assert np.isfinite(xp.to_numpy(base)).all()


# --------------------------------------------------------------------------- #
# leaf values of the non-differentiable losses
# --------------------------------------------------------------------------- #


def _leaf_reference(sk, leaf, n_leaves, r, sw):
    """scikit-learn's ``_update_leaves_values``; 0 for empty leaves.

    Each leaf's samples are handed over sorted (stably) by residual, so that scikit-learn's
    unstable argsort keeps equal residuals in sample order, as toolbox adds them.
    """
    out = np.zeros(n_leaves)
    for k in range(n_leaves):
        idx = np.flatnonzero(leaf == k)
        idx = idx[np.argsort(r[idx], kind="stable")]
        if idx.size:
            out[k] = sk.fit_intercept_only(y_true=r[idx], sample_weight=None if sw is None else sw[idx])
    return out


@pytest.mark.parametrize("weighted", [None, "uniform", "tenths"])
@pytest.mark.parametrize(("name", "quantile"), [("absolute_error", None), ("quantile", 0.1),
                                                ("quantile", 0.5), ("quantile", 0.9)])
def test_update_leaves_values_matches_sklearn(xp, name, quantile, weighted):
    rng = np.random.default_rng(4)
    n_leaves = 12
    leaf = rng.integers(0, n_leaves - 2, N)
    leaf[leaf == 3] = 4                     # leaves 3, 10 and 11 are empty
    leaf[:7] = 9                            # leaf 9 has a few samples more
    y = _round(xp, np.round(rng.normal(size=N), 1))  # ties among the residuals
    raw = _round(xp, np.where(rng.uniform(size=N) < 0.5, 0.0, rng.normal(size=N)))
    sw = None if weighted is None else _round(xp, _weights(rng, weighted))
    loss = get_loss(name, quantile=quantile)
    sk = _sk_loss(name, quantile, sw)
    r = _round(xp, y - raw)
    want = _leaf_reference(sk, leaf, n_leaves, r, sw)

    got = loss.update_leaves_values(xp.asarray(leaf), n_leaves, xp.asarray(y), xp.asarray(raw),
                                    None if sw is None else xp.asarray(sw), xp=xp.xp)
    assert tuple(got.shape) == (n_leaves,)
    if xp.float64 and xp.param.id in _SEQUENTIAL_CUMSUM:
        np.testing.assert_array_equal(xp.to_numpy(got), want)
    elif weighted == "tenths":
        # Targets meet cumulative weights exactly; a cumulative sum in another order (JAX's
        # scan, float32) rounds them another way. Check what the value must be instead.
        _check_weighted_quantile(xp.to_numpy(got), leaf, r, sw, 0.5 if quantile is None else quantile, want)
    else:
        _close(xp, got, want, atol=1e-12)


#: Backends whose ``cumulative_sum`` adds in order, as NumPy (scikit-learn) does.
_SEQUENTIAL_CUMSUM = ("numpy", "numba", "array_api_strict", "array_api_strict-no-dds", "torch-cpu")


def _check_weighted_quantile(got, leaf, r, sw, q, want):
    for k, v in enumerate(got):
        idx = np.flatnonzero(leaf == k)
        if idx.size == 0 or np.isnan(want[k]):
            assert v == 0.0 if idx.size == 0 else np.isnan(v)
            continue
        rk, wk = r[idx], sw[idx]
        target, slack = q * wk.sum(), 1e-5 * wk.sum()
        assert np.min(np.abs(rk - v)) <= 1e-6 * max(1.0, abs(v))    # one of the leaf's residuals
        assert wk[rk < v - 1e-6].sum() <= target + slack                 # inverted cdf: the first
        assert wk[rk <= v + 1e-6].sum() >= target - slack                # residual reaching the target


def test_update_leaves_values_in_blocks(xp, monkeypatch):
    # more leaves than one padded block holds: largest first, several blocks, same answer
    rng = np.random.default_rng(5)
    n, n_leaves = 600, 31
    leaf = rng.integers(0, n_leaves, n)
    leaf[:150] = 7
    y, sw = _round(xp, np.round(rng.normal(size=n), 1)), _round(xp, rng.integers(0, 4, n) * 0.1)
    args = (xp.asarray(leaf), n_leaves, xp.asarray(y), xp.asarray(np.zeros(n)), xp.asarray(sw))
    for q in (0.1, 0.9):
        loss = get_loss("quantile", quantile=q)
        one_block = xp.to_numpy(loss.update_leaves_values(*args, xp=xp.xp))
        monkeypatch.setattr(loss_module, "PADDED_CDF_ELEMENTS", 200)
        blocks = xp.to_numpy(loss.update_leaves_values(*args, xp=xp.xp))
        monkeypatch.undo()
        np.testing.assert_array_equal(blocks, one_block)
        if xp.float64 and xp.param.id in _SEQUENTIAL_CUMSUM:
            want = _leaf_reference(_sk_loss("quantile", q, sw), leaf, n_leaves, y, sw)
            np.testing.assert_array_equal(blocks, want)


def test_update_leaves_values_zero_weight_leaf_and_baseline():
    import array_api_compat.numpy as xnp

    leaf = np.array([0, 0, 1, 1, 2])
    y, raw = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.zeros(5)
    sw = np.array([1.0, 1.0, 0.0, 0.0, 2.0])
    got = get_loss("absolute_error").update_leaves_values(leaf, 4, y, raw, sw, xp=xnp)
    np.testing.assert_array_equal(got, [1.0, np.nan, 5.0, 0.0])  # scikit-learn: nan; empty: 0
    with pytest.raises(ValueError, match="sums to zero"):
        get_loss("absolute_error").baseline(y, np.zeros(5), xp=xnp)
    with pytest.raises(TypeError, match="differentiable"):
        get_loss("squared_error").update_leaves_values(leaf, 4, y, raw, sw, xp=xnp)


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #


def test_check_y_errors(xp):
    y = np.ones(30)
    for bad, what in ((np.nan, "NaN"), (np.inf, "infinity")):
        yb = y.copy()
        yb[[11, 20]] = bad
        with pytest.raises(ValueError, match=f"contains {what} .first at index 11"):
            get_loss("squared_error").check_y(xp.asarray(yb), xp=xp.xp)
    yb = y.copy()
    yb[5] = -1.0
    with pytest.raises(ValueError, match=r"loss='poisson' requires non-negative y and sum\(y\) > 0 \(y\[5\]"):
        get_loss("poisson").check_y(xp.asarray(yb), xp=xp.xp)
    with pytest.raises(ValueError, match=r"sum\(y\) > 0"):
        get_loss("poisson").check_y(xp.asarray(np.zeros(4)), xp=xp.xp)
    get_loss("poisson").check_y(xp.asarray(np.array([0.0, 2.0])), xp=xp.xp)
    yb[5] = 0.0
    with pytest.raises(ValueError, match=r"loss='gamma' requires strictly positive y \(y\[5\]"):
        get_loss("gamma").check_y(xp.asarray(yb), xp=xp.xp)
    for n_classes, labels, i in ((2, [0, 1, 2, 0], 2), (3, [0, 2, 1, -1], 3)):
        with pytest.raises(ValueError, match=rf"class indices 0..{n_classes - 1}; y\[{i}\]"):
            get_loss("log_loss", n_classes=n_classes).check_y(xp.asarray(np.array(labels)), xp=xp.xp)
    with pytest.raises(ValueError, match=r"y\[1\] = 0.5"):
        get_loss("log_loss", n_classes=3).check_y(xp.asarray(np.array([0.0, 0.5])), xp=xp.xp)
    with pytest.raises(ValueError, match="shape"):
        get_loss("squared_error").gradient_hessian(xp.asarray(y), xp.asarray(np.zeros((2, 30))), xp=xp.xp)


def test_get_loss_errors():
    assert set(LOSS_NAMES) == {"squared_error", "absolute_error", "gamma", "poisson", "quantile", "log_loss"}
    for name in LOSS_NAMES:
        assert isinstance(get_loss(name, n_classes=3, quantile=0.3), Loss)
    with pytest.raises(ValueError, match="loss='hinge'"):
        get_loss("hinge")
    for q in (None, 0, 1, 1.5, -0.2, "0.5"):
        with pytest.raises(ValueError, match="parameter quantile"):
            get_loss("quantile", quantile=q)
    for k in (None, 0, 2.5):
        with pytest.raises(ValueError, match="parameter n_classes"):
            get_loss("log_loss", n_classes=k)
    assert get_loss("log_loss", n_classes=2).n_trees_per_iteration == 1
    assert get_loss("log_loss", n_classes=5).n_trees_per_iteration == 5


# --------------------------------------------------------------------------- #
# scikit-learn's estimators: baseline and train_score_ (the sign convention)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("name", "quantile"), REGRESSION)
def test_train_score_is_minus_loss_regressor(name, quantile):
    import array_api_compat.numpy as xnp

    rng = np.random.default_rng(6)
    X = rng.normal(size=(120, 3))
    y = _y_for(name, rng, 120)
    sw = rng.uniform(0.5, 2.0, 120)
    est = HistGradientBoostingRegressor(loss=name, quantile=quantile, max_iter=1, early_stopping=True,
                                        validation_fraction=None, scoring="loss").fit(X, y, sample_weight=sw)
    loss = get_loss(name, quantile=quantile)
    base = loss.baseline(y, sw, xp=xnp)
    np.testing.assert_allclose(base, est._baseline_prediction.ravel(), rtol=1e-12)
    raw = np.broadcast_to(base[:, None], (1, 120))
    np.testing.assert_allclose(loss.score(y, raw, sw, xp=xnp), est.train_score_[0], rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_train_score_is_minus_loss_classifier(n_classes):
    import array_api_compat.numpy as xnp

    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, 3))
    y = rng.integers(0, n_classes, 150)
    sw = rng.uniform(0.5, 2.0, 150)
    est = HistGradientBoostingClassifier(max_iter=1, early_stopping=True, validation_fraction=None,
                                         scoring="loss").fit(X, y, sample_weight=sw)
    loss = get_loss("log_loss", n_classes=n_classes)
    base = loss.baseline(y, sw, xp=xnp)
    np.testing.assert_allclose(base, est._baseline_prediction.ravel(), rtol=1e-12)
    raw = np.ascontiguousarray(np.broadcast_to(base[:, None], (loss.n_trees_per_iteration, 150)))
    np.testing.assert_allclose(loss.score(y, raw, sw, xp=xnp), est.train_score_[0], rtol=1e-12)
