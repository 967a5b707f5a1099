"""StandardScaler against scikit-learn on every backend, plus scikit-learn's conformance suite."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.preprocessing import StandardScaler as SkStandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.preprocessing import StandardScaler

DATASETS = {
    "wine": lambda: datasets.load_wine().data,
    "breast_cancer": lambda: datasets.load_breast_cancer().data,
    "diabetes": lambda: datasets.load_diabetes().data,
    "generated": lambda: np.random.default_rng(0).normal(3.0, 5.0, size=(500, 20)),
}


def _assert_matches(xp, got, want, dtype=None):
    rtol = xp.rtol(dtype)
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=rtol, atol=rtol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("with_mean, with_std", [(True, True), (False, True), (True, False)])
def test_matches_sklearn(xp, data, with_mean, with_std):
    X = DATASETS[data]()
    ref = SkStandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    Xb = xp.asarray(X)
    sc = StandardScaler(with_mean=with_mean, with_std=with_std).fit(Xb)
    Xt = sc.transform(Xb)
    assert framework_of(Xt) is framework_of(Xb)
    assert Xt.dtype == Xb.dtype
    _assert_matches(xp, Xt, ref.transform(X))
    _assert_matches(xp, sc.mean_, ref.mean_)
    if with_std:
        _assert_matches(xp, sc.var_, ref.var_)
        _assert_matches(xp, sc.scale_, ref.scale_)
    else:
        assert sc.var_ is None and sc.scale_ is None
    assert sc.n_samples_seen_ == ref.n_samples_seen_
    _assert_matches(xp, sc.inverse_transform(Xt), X)


def test_fit_transform_on_torch_returns_torch_on_same_device():
    torch = pytest.importorskip("torch")
    X = datasets.load_wine().data
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        t = torch.asarray(X, device=dev)
        out = StandardScaler().fit_transform(t)
        assert isinstance(out, torch.Tensor) and out.device == t.device
        np.testing.assert_allclose(out.cpu().numpy(), SkStandardScaler().fit_transform(X), rtol=1e-10, atol=1e-10)


def test_no_centering_no_scaling(xp):
    X = np.random.default_rng(1).normal(size=(20, 3))
    sc = StandardScaler(with_mean=False, with_std=False).fit(xp.asarray(X))
    assert sc.mean_ is None and sc.var_ is None and sc.n_samples_seen_ == 20
    _assert_matches(xp, sc.transform(xp.asarray(X)), X)


def test_constant_feature_gets_unit_scale(xp):
    X = np.column_stack([np.full(50, 3.3), np.random.default_rng(2).normal(size=50)])
    sc = StandardScaler().fit(xp.asarray(X))
    _assert_matches(xp, sc.scale_, SkStandardScaler().fit(X).scale_)
    assert float(xp.to_numpy(sc.scale_)[0]) == 1.0


def test_sample_weight(xp):
    rng = np.random.default_rng(3)
    X, w = rng.normal(size=(100, 4)), rng.random(100)
    ref = SkStandardScaler().fit(X, sample_weight=w)
    sc = StandardScaler().fit(xp.asarray(X), sample_weight=xp.asarray(w))
    _assert_matches(xp, sc.mean_, ref.mean_)
    _assert_matches(xp, sc.var_, ref.var_)
    np.testing.assert_allclose(sc.n_samples_seen_, w.sum())
    # host weights with data on another backend are accepted
    sc2 = StandardScaler().fit(xp.asarray(X), sample_weight=w)
    _assert_matches(xp, sc2.var_, ref.var_)


def test_partial_fit_matches_fit(xp):
    X = np.random.default_rng(4).normal(5.0, 2.0, size=(300, 6))
    sc = StandardScaler()
    for chunk in np.array_split(X, 4):
        sc.partial_fit(xp.asarray(chunk))
    ref = SkStandardScaler().fit(X)
    _assert_matches(xp, sc.mean_, ref.mean_)
    _assert_matches(xp, sc.var_, ref.var_)
    assert sc.n_samples_seen_ == 300


def test_float32_is_preserved(xp):
    X = np.random.default_rng(5).normal(size=(50, 3)).astype(np.float32)
    Xb = xp.asarray(X)
    sc = StandardScaler().fit(Xb)
    # the statistics: float64 on NumPy (scikit-learn's accumulators and attributes), X's dtype elsewhere
    assert sc.mean_.dtype == (np.float64 if isinstance(Xb, np.ndarray) else xp.xp.float32)
    np.testing.assert_allclose(xp.to_numpy(sc.var_), SkStandardScaler().fit(X).var_, rtol=1e-5)
    Xt = sc.transform(Xb)
    assert Xt.dtype == xp.xp.float32
    _assert_matches(xp, Xt, SkStandardScaler().fit_transform(X.astype(np.float64)), dtype=xp.xp.float32)


def test_integers_become_default_float(xp):
    X = np.arange(20).reshape(10, 2)
    Xt = StandardScaler().fit_transform(xp.asarray(X))
    info = xp.xp.__array_namespace_info__()
    assert Xt.dtype == info.default_dtypes(device=xp.device)["real floating"]
    _assert_matches(xp, Xt, SkStandardScaler().fit_transform(X.astype(float)), dtype=Xt.dtype)


@parametrize_with_checks([StandardScaler(), StandardScaler(with_mean=False), StandardScaler(with_std=False)])
def test_sklearn_conformance(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", ["StandardScaler", "MinMaxScaler"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_scaler_fits_find_nan_and_inf_from_their_statistics(xp, cls, bad):
    # the fits skip validate_data's own NaN/inf pass and read it off the statistics they compute;
    # the error is the same, and a failed partial_fit leaves the fitted state as it was
    import toolbox.preprocessing as tp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    Xb = X.copy()
    Xb[17, 3] = bad
    what = "NaN" if np.isnan(bad) else "infinity"
    for method in ("fit", "fit_transform", "partial_fit"):
        with pytest.raises(ValueError, match=rf"Input X contains {what}: .* the first is at row 17, column 3"):
            getattr(getattr(tp, cls)(), method)(xp.asarray(Xb))
    est = getattr(tp, cls)().partial_fit(xp.asarray(X))
    before = {k: xp.to_numpy(v).copy() for k, v in vars(est).items() if k.endswith("_") and v is not None
              and not isinstance(v, (int, float))}
    with pytest.raises(ValueError, match=what):
        est.partial_fit(xp.asarray(Xb))
    for k, v in before.items():
        np.testing.assert_array_equal(xp.to_numpy(getattr(est, k)), v)
