"""Splitters, cross-validation and search: folds on the data's device, results equal to scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn import model_selection as skms
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import Ridge as SkRidge

from toolbox._labels import decode_labels, encode_labels
from toolbox.backends import framework_of, primitives
from toolbox.base import BaseEstimator, ClassifierMixin, RegressorMixin, check_is_fitted, validate_data
from toolbox.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    check_cv,
    check_scoring,
    cross_val_score,
    cross_validate,
    get_scorer,
    get_scorer_names,
    train_test_split,
)


class _Ridge(RegressorMixin, BaseEstimator):
    """Ridge without intercept, written against the standard (a test double)."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        v = validate_data(self, X, y, reset=True, y_numeric=True)
        xp = v.xp
        A = primitives.gram(v.X, xp=xp) + self.alpha * xp.eye(v.X.shape[1], dtype=v.X.dtype, device=v.X.device)
        self.coef_ = primitives.solve_spd(A, v.X.T @ xp.astype(v.y, v.X.dtype), xp=xp)
        return self

    def predict(self, X):
        check_is_fitted(self)
        v = validate_data(self, X, reset=False)
        (coef,) = self._fitted(v.compute, "coef_", dtype=v.X.dtype)
        return self._output(v.X @ coef, v.origin)


class _Centroid(ClassifierMixin, BaseEstimator):
    """Nearest class centroid (a test double exercising label encoding and on-device scoring)."""

    def __init__(self, shrink=0.0):
        self.shrink = shrink

    def fit(self, X, y):
        v = validate_data(self, X, y, reset=True)
        xp = v.xp
        self.classes_, codes = encode_labels(v.y, compute=v.compute)
        k = int(self.classes_.shape[0])
        sums = primitives.segment_sum(v.X, codes, k, xp=xp)
        counts = xp.astype(primitives.bincount(codes, length=k, xp=xp), v.X.dtype)
        self.centroids_ = (1 - self.shrink) * sums / counts[:, None] + self.shrink * xp.mean(v.X, axis=0)
        return self

    def predict(self, X):
        check_is_fitted(self)
        v = validate_data(self, X, reset=False)
        (c,) = self._fitted(v.compute, "centroids_", dtype=v.X.dtype)
        idx = xp_argmin(primitives.sqeuclidean_distances(v.X, c, xp=v.xp), v.xp)
        out = decode_labels(idx, self.classes_, xp=v.xp)
        return out if isinstance(out, np.ndarray) else self._output(out, v.origin)


def xp_argmin(d, xp):
    return xp.argmin(d, axis=1)


def _np(xp, a):
    return xp.to_numpy(a)


# --------------------------------------------------------------------------- splitters


@pytest.mark.parametrize("n, k", [(10, 3), (23, 5), (7, 7)])
def test_kfold_equals_sklearn(xp, n, k):
    X = xp.asarray(np.zeros((n, 2)))
    ours = list(KFold(k).split(X))
    ref = list(skms.KFold(k).split(np.zeros((n, 2))))
    assert len(ours) == len(ref) == k
    for (tr, te), (rtr, rte) in zip(ours, ref):
        assert framework_of(tr) is framework_of(X)
        np.testing.assert_array_equal(_np(xp, tr), rtr)
        np.testing.assert_array_equal(_np(xp, te), rte)


def test_kfold_shuffle_is_a_partition(xp):
    X = xp.asarray(np.zeros((31, 1)))
    tests = [_np(xp, te) for _, te in KFold(4, shuffle=True, random_state=0).split(X)]
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(31))
    again = [_np(xp, te) for _, te in KFold(4, shuffle=True, random_state=0).split(X)]
    assert all(np.array_equal(a, b) for a, b in zip(tests, again))
    assert not np.array_equal(tests[0], np.arange(8))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_stratified_kfold_equals_sklearn(xp, k):
    y = datasets.load_iris().target[::2].copy()
    rng = np.random.default_rng(0)
    y = y[rng.permutation(len(y))]
    X = np.zeros((len(y), 2))
    ref = list(skms.StratifiedKFold(k).split(X, y))
    ours = list(StratifiedKFold(k).split(xp.asarray(X), xp.asarray(y)))
    for (tr, te), (rtr, rte) in zip(ours, ref):
        np.testing.assert_array_equal(_np(xp, tr), rtr)
        np.testing.assert_array_equal(_np(xp, te), rte)


def test_stratified_kfold_string_labels_and_shuffle(xp):
    y = np.array(["b", "a", "c"] * 10 + ["a"] * 6)
    X = xp.asarray(np.zeros((len(y), 1)))
    ref = list(skms.StratifiedKFold(3).split(np.zeros((len(y), 1)), y))
    for (_, te), (_, rte) in zip(StratifiedKFold(3).split(X, y), ref):
        np.testing.assert_array_equal(_np(xp, te), rte)
    seen = []
    for _, te in StratifiedKFold(3, shuffle=True, random_state=1).split(X, y):
        labels = y[_np(xp, te)]
        assert {c: int(np.sum(labels == c)) in ({"a": (5, 6)}.get(c, (3, 4))) for c in "abc"} == dict.fromkeys("abc", True)
        seen.append(_np(xp, te))
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(len(y)))


def test_splitter_errors():
    with pytest.raises(ValueError, match="n_splits=1"):
        KFold(1)
    with pytest.raises(ValueError, match="Setting a random_state has no effect"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="Cannot have number of splits n_splits=5 greater than the number of samples"):
        list(KFold(5).split(np.zeros((3, 1))))
    with pytest.raises(ValueError, match="n_splits=4 cannot be greater than the number of members in each class"):
        list(StratifiedKFold(4).split(np.zeros((4, 1)), np.array([0, 0, 1, 1])))
    with pytest.raises(ValueError, match=r"StratifiedKFold\.split needs y"):
        list(StratifiedKFold(2).split(np.zeros((4, 1)), None))


# --------------------------------------------------------------------------- train_test_split


def test_train_test_split_sizes_and_devices(xp):
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    Xtr, Xte, ytr, yte = train_test_split(xp.asarray(X), y, test_size=0.25, random_state=0)
    assert framework_of(Xtr) is framework_of(xp.asarray(X)) and isinstance(ytr, np.ndarray)
    assert Xtr.shape == (15, 2) and Xte.shape == (5, 2)
    # rows stay paired with their labels, and together they cover every sample once
    np.testing.assert_array_equal(_np(xp, Xtr)[:, 0] / 2, ytr)
    np.testing.assert_array_equal(np.sort(np.concatenate([ytr, yte])), y)
    again = train_test_split(xp.asarray(X), y, test_size=0.25, random_state=0)
    np.testing.assert_array_equal(_np(xp, again[0]), _np(xp, Xtr))
    Xtr, Xte = train_test_split(xp.asarray(X), shuffle=False, train_size=12)
    np.testing.assert_array_equal(_np(xp, Xtr), X[:12])
    np.testing.assert_array_equal(_np(xp, Xte), X[12:])


def test_train_test_split_stratify(xp):
    y = np.repeat([0, 1, 2], [50, 30, 20])
    X = xp.asarray(np.arange(100.0)[:, None])
    _, Xte, ytr, yte = train_test_split(X, xp.asarray(y), test_size=0.2, stratify=xp.asarray(y), random_state=3)
    np.testing.assert_array_equal(np.bincount(_np(xp, yte)), [10, 6, 4])
    np.testing.assert_array_equal(np.bincount(_np(xp, ytr)), [40, 24, 16])
    np.testing.assert_array_equal(y[_np(xp, Xte)[:, 0].astype(int)], _np(xp, yte))


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        train_test_split(np.zeros((5, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"test_size=1.5 should be a float in the \(0, 1\) range"):
        train_test_split(np.zeros((5, 1)), test_size=1.5)
    with pytest.raises(ValueError, match=r"least populated class(es)? in y ha(s|ve) only 1 member"):
        train_test_split(np.zeros((5, 1)), stratify=np.array([0, 0, 0, 0, 1]))
    with pytest.raises(ValueError, match="At least one array required"):
        train_test_split()


# --------------------------------------------------------------------------- cross-validation and search


def test_cross_val_score_equals_sklearn(xp):
    X, y = datasets.load_diabetes(return_X_y=True)
    ours = cross_val_score(_Ridge(alpha=0.1), xp.asarray(X), xp.asarray(y), cv=4)
    ref = skms.cross_val_score(SkRidge(alpha=0.1, fit_intercept=False), X, y, cv=4)
    np.testing.assert_allclose(ours, ref, rtol=1e-6 if xp.float64 else 1e-3)


def test_cross_validate_classifier_uses_stratified_folds(xp):
    X, y = datasets.load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    out = cross_validate(_Centroid(), xp.asarray(X), names, cv=5, return_train_score=True,
                         return_estimator=True, return_indices=True)
    assert set(out) >= {"fit_time", "score_time", "test_score", "train_score", "estimator", "indices"}
    assert out["test_score"].shape == (5,) and np.all(out["test_score"] > 0.8)
    ref_folds = list(skms.StratifiedKFold(5).split(X, names))
    np.testing.assert_array_equal(_np(xp, out["indices"]["test"][0]), ref_folds[0][1])
    multi = cross_validate(_Centroid(), xp.asarray(X), y, cv=3, scoring=["accuracy", "f1_macro"])
    assert {"test_accuracy", "test_f1_macro"} <= set(multi)


def test_fit_failures():
    X, y = datasets.load_iris(return_X_y=True)
    # scikit-learn's report: one FitFailedWarning for all the failed fits, a ValueError when all failed
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        gs = GridSearchCV(_Centroid(), {"shrink": [0.0, "bad"]}, cv=3, error_score=-1.0).fit(X, y)
    np.testing.assert_array_equal(gs.cv_results_["mean_test_score"][1], -1.0)
    assert gs.best_params_ == {"shrink": 0.0}
    with pytest.raises(ValueError, match="All the 3 fits failed"):
        cross_validate(_Centroid(shrink="bad"), X, y, cv=3)
    with pytest.raises(TypeError):
        cross_validate(_Centroid(shrink="bad"), X, y, cv=3, error_score="raise")


def test_grid_search_matches_sklearn(xp):
    X, y = datasets.load_diabetes(return_X_y=True)
    grid = {"alpha": [0.01, 1.0, 100.0]}
    gs = GridSearchCV(_Ridge(), grid, cv=3, return_train_score=True).fit(xp.asarray(X), xp.asarray(y))
    ref = skms.GridSearchCV(SkRidge(fit_intercept=False), grid, cv=3).fit(X, y)
    assert gs.best_params_ == ref.best_params_
    np.testing.assert_array_equal(gs.cv_results_["rank_test_score"], ref.cv_results_["rank_test_score"])
    np.testing.assert_allclose(gs.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"],
                               rtol=1e-6 if xp.float64 else 1e-3)
    assert gs.best_index_ == ref.best_index_ and "split2_train_score" in gs.cv_results_
    pred = gs.predict(xp.asarray(X))
    assert framework_of(pred) is framework_of(xp.asarray(X))
    assert gs.n_features_in_ == 10


def test_randomized_search_and_classifier_search(xp):
    X, y = datasets.load_wine(return_X_y=True)
    rs = RandomizedSearchCV(_Centroid(), {"shrink": [0.0, 0.1, 0.5, 0.9]}, n_iter=3, cv=3, random_state=0,
                            scoring="accuracy").fit(xp.asarray(X), y)
    assert len(rs.cv_results_["params"]) == 3
    assert rs.best_params_["shrink"] in (0.0, 0.1, 0.5, 0.9)
    np.testing.assert_array_equal(rs.classes_, [0, 1, 2])
    assert 0 <= rs.score(xp.asarray(X), y) <= 1


def test_search_errors():
    X, y = datasets.load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="'bogus' is not a valid scoring value"):
        GridSearchCV(_Centroid(), {"shrink": [0.0]}, scoring="bogus").fit(X, y)
    with pytest.raises(ValueError, match="the parameter refit must be set to a scorer key or a callable"):
        GridSearchCV(_Centroid(), {"shrink": [0.0]}, scoring=["accuracy", "f1_macro"]).fit(X, y)
    gs = GridSearchCV(_Centroid(), {"shrink": [0.0]}, refit=False, cv=3).fit(X, y)
    with pytest.raises(AttributeError, match=r"has no attribute 'predict'"):  # scikit-learn's available_if
        gs.predict(X)
    assert "accuracy" in get_scorer_names() and "neg_mean_squared_error" in get_scorer_names()


def test_search_refit_callable_and_dict_scoring():
    # scikit-learn's behaviours its own test_search.py checks (scripts/upstream-tests.sh)
    X, y = datasets.load_iris(return_X_y=True)
    grid = {"shrink": [0.0, 0.5, 1.0]}
    gs = GridSearchCV(_Centroid(), grid, cv=3, refit=lambda res: 2).fit(X, y)
    assert gs.best_index_ == 2 and gs.best_params_ == {"shrink": 1.0} and not hasattr(gs, "best_score_")
    with pytest.raises(IndexError, match="best_index_ index out of range"):
        GridSearchCV(_Centroid(), grid, cv=3, refit=lambda res: 3).fit(X, y)
    with pytest.raises(TypeError, match="best_index_ returned is not an integer"):
        GridSearchCV(_Centroid(), grid, cv=3, refit=lambda res: "x").fit(X, y)

    def two(est, X_, y_):
        acc = float(np.mean(np.asarray(est.predict(X_)) == np.asarray(y_)))
        return {"acc": acc, "err": 1.0 - acc}

    gs = GridSearchCV(_Centroid(), grid, cv=3, scoring=two, refit="acc").fit(X, y)
    assert {"mean_test_acc", "mean_test_err", "rank_test_acc"} <= set(gs.cv_results_)
    assert gs.multimetric_ and 0.0 <= gs.score(X, y) <= 1.0
    out = cross_validate(_Centroid(), X, y, cv=3, scoring=two)
    np.testing.assert_allclose(out["test_acc"] + out["test_err"], 1.0)
    with pytest.raises(ValueError, match=r"scoring must return a number, got \[1.0\]"):
        cross_validate(_Centroid(), X, y, cv=3, scoring=lambda est, X_, y_: [1.0])

    def broken(est, X_, y_):
        raise RuntimeError("no")

    with pytest.warns(UserWarning, match="Scoring failed. The score on this train-test partition"):
        out = cross_validate(_Centroid(), X, y, cv=3, scoring=broken, error_score=-2.0)
    np.testing.assert_array_equal(out["test_score"], -2.0)
    with pytest.raises(RuntimeError, match="no"):
        cross_validate(_Centroid(), X, y, cv=3, scoring=broken, error_score="raise")


def test_mixins_score_on_device(xp):
    X, y = datasets.load_iris(return_X_y=True)
    clf = _Centroid().fit(xp.asarray(X), xp.asarray(y))
    from sklearn.neighbors import NearestCentroid

    ref = NearestCentroid().fit(X, y).score(X, y)
    assert abs(clf.score(xp.asarray(X), xp.asarray(y)) - ref) < 1e-12
    Xd, yd = datasets.load_diabetes(return_X_y=True)
    reg = _Ridge(alpha=1.0).fit(xp.asarray(Xd), xp.asarray(yd))
    ref = SkRidge(alpha=1.0, fit_intercept=False).fit(Xd, yd).score(Xd, yd)
    np.testing.assert_allclose(reg.score(xp.asarray(Xd), xp.asarray(yd)), ref, rtol=1e-6 if xp.float64 else 1e-3)
    w = np.linspace(0.5, 2.0, len(yd))
    ref_w = SkRidge(alpha=1.0, fit_intercept=False).fit(Xd, yd).score(Xd, yd, sample_weight=w)
    np.testing.assert_allclose(reg.score(xp.asarray(Xd), xp.asarray(yd), sample_weight=w), ref_w,
                               rtol=1e-6 if xp.float64 else 1e-3)


def test_train_test_split_and_cv_on_scipy_sparse():
    # SciPy sparse rows are taken with the folds' indices (COO is turned into CSR, as scikit-learn does)
    sp = pytest.importorskip("scipy.sparse")
    X = np.arange(40.0).reshape(20, 2)
    for fmt in ("csr", "csc", "coo"):
        Xs = sp.random(20, 2, density=1.0, format=fmt, random_state=0) + 0 * sp.csr_matrix(X)
        Xs = Xs.asformat(fmt)
        a, b = train_test_split(Xs, test_size=0.25, random_state=0)
        assert sp.issparse(a) and a.shape == (15, 2) and b.shape == (5, 2)
        ia, ib = train_test_split(np.arange(20), test_size=0.25, random_state=0)
        np.testing.assert_array_equal(a.toarray(), Xs.toarray()[np.asarray(ia)])
        np.testing.assert_array_equal(b.toarray(), Xs.toarray()[np.asarray(ib)])


def test_search_delegation_and_results_like_sklearn():
    X, y = datasets.load_iris(return_X_y=True)
    gs = GridSearchCV(_Centroid(), {"shrink": [0.0, 0.5]}, cv=3, refit=False).fit(X, y)
    assert gs.best_index_ in (0, 1) and "shrink" in gs.best_params_  # best_* without refit (single metric)
    assert not hasattr(gs, "predict") and not hasattr(gs, "best_estimator_")
    gs = GridSearchCV(_Centroid(), {"shrink": [0.0, 0.5]}, cv=3).fit(X, y)
    assert hasattr(gs, "predict") and not hasattr(gs, "predict_proba") and not hasattr(gs, "score_samples")
    assert gs.cv_results_["param_shrink"].dtype == np.float64
    with pytest.raises(ValueError, match="No fits were performed"):
        GridSearchCV(_Centroid(), {"shrink": [0.0]}, cv=iter([])).fit(X, y)
    with pytest.warns(UserWarning, match="One or more of the test scores are non-finite"):
        GridSearchCV(_Centroid(), {"shrink": [0.0, "bad"]}, cv=3).fit(X, y)
    with pytest.warns(UserWarning, match="The groups parameter is ignored by KFold"):
        KFold(3).split(X, y, groups=np.zeros(len(y)))  # at the call, as scikit-learn's
    with pytest.warns(UserWarning, match="The groups parameter is ignored by StratifiedKFold"):
        StratifiedKFold(3).split(X, y, groups=np.zeros(len(y)))
    # column-vector y, list and pandas-like inputs keep scikit-learn's behaviour
    assert len(list(StratifiedKFold(3).split(X, y[:, None]))) == 3
    a, b = train_test_split(list(range(10)), test_size=0.3, random_state=0)
    assert isinstance(a, list) and len(a) == 7 and len(b) == 3


def test_scorers_fall_back_to_sklearn_and_refuse_metric_functions():
    import toolbox.metrics as tm

    X, y = datasets.load_iris(return_X_y=True)
    est = _Centroid().fit(X, y)
    assert get_scorer("adjusted_rand_score")(est, X, y) > 0.5  # scikit-learn's scorer for a name toolbox lacks
    with pytest.raises(ValueError, match="looks like it is a metric function rather than a scorer"):
        check_scoring(est, tm.accuracy_score)
    with pytest.raises(ValueError, match="'bogus' is not a valid scoring value"):
        get_scorer("bogus")


def test_cross_validation_of_a_precomputed_kernel():
    # pairwise estimators get X[test][:, train] (scikit-learn's _safe_split)
    from sklearn.svm import SVC

    X, y = datasets.load_iris(return_X_y=True)
    K = X @ X.T
    want = skms.cross_val_score(SVC(kernel="precomputed"), K, y, cv=3)
    np.testing.assert_allclose(cross_val_score(SVC(kernel="precomputed"), K, y, cv=3), want)
    with pytest.raises(ValueError, match="X should be a square kernel matrix"):
        cross_val_score(SVC(kernel="precomputed"), K[:, :100], y, cv=3)
    gs = GridSearchCV(SVC(kernel="precomputed"), {"C": [0.1, 1.0]}, cv=3).fit(K, y)
    sk = skms.GridSearchCV(SVC(kernel="precomputed"), {"C": [0.1, 1.0]}, cv=3).fit(K, y)
    np.testing.assert_allclose(gs.cv_results_["mean_test_score"], sk.cv_results_["mean_test_score"])


def test_splitters_follow_sklearn_on_fold_order_and_target_types():
    X = np.ones((10, 2))
    for train, test in KFold(5, shuffle=True, random_state=0).split(X):  # sorted indices, as scikit-learn's
        assert np.all(np.diff(np.asarray(train)) > 0) and np.all(np.diff(np.asarray(test)) > 0)
    y = np.array([0, 1, 0, 1, 2, 1, 2, 0, 2])
    assert isinstance(check_cv(3, y.reshape(-1, 1), classifier=True), StratifiedKFold)
    assert isinstance(check_cv(3, np.eye(9, 3), classifier=True), KFold)
    with pytest.raises(ValueError, match=r"Supported target types are: \('binary', 'multiclass'\)\. "
                                         r"Got 'multilabel-indicator'"):
        list(StratifiedKFold(3).split(np.ones((9, 1)), np.eye(9, 3)))


def test_search_never_fits_the_grid_values_in_place():
    from sklearn.pipeline import Pipeline

    X, y = datasets.load_diabetes(return_X_y=True)
    candidates = [_Ridge(alpha=0.1), _Ridge(alpha=10.0)]
    gs = GridSearchCV(Pipeline([("m", _Ridge())]), {"m": candidates}, cv=3).fit(X, y)
    assert not any(hasattr(c, "coef_") for c in candidates)  # clones were fitted, as in scikit-learn
    assert gs.best_estimator_.named_steps["m"] is not gs.best_params_["m"]


def test_folds_as_boolean_masks_and_scorers_without_y():
    X, y = datasets.load_iris(return_X_y=True)
    mask = np.zeros(len(y), dtype=bool)
    mask[::2] = True
    as_masks = cross_val_score(_Centroid(), X, y, cv=[(mask, ~mask), (~mask, mask)])
    as_index = cross_val_score(_Centroid(), X, y, cv=[(np.flatnonzero(mask), np.flatnonzero(~mask)),
                                                      (np.flatnonzero(~mask), np.flatnonzero(mask))])
    np.testing.assert_array_equal(as_masks, as_index)

    from sklearn.neighbors import KernelDensity

    def no_y(est, X_):  # an unsupervised scorer takes (estimator, X), as in scikit-learn
        return 42.0 if est.bandwidth == 0.1 else 0.0

    gs = GridSearchCV(KernelDensity(), {"bandwidth": [0.01, 0.1, 1.0]}, scoring=no_y, cv=3).fit(X)
    assert gs.best_params_ == {"bandwidth": 0.1} and gs.best_score_ == 42.0
    out = cross_validate(_Centroid(), X, y, cv=3, scoring=lambda est, X_, y_: 1.0)
    np.testing.assert_array_equal(out["test_score"], 1.0)


def test_search_verbose_prints_sklearns_lines(capsys):
    import re

    X, y = datasets.load_iris(return_X_y=True)
    GridSearchCV(_Centroid(), {"shrink": [0.0]}, cv=3, verbose=3, return_train_score=True).fit(X, y)
    out = capsys.readouterr().out
    assert "Fitting 3 folds for each of 1 candidates, totalling 3 fits" in out
    assert len(re.findall(r"\[CV \d/3; 1/1\] END .*score=\(train=[\d.]+, test=[\d.]+\)", out)) == 3
    cross_val_score(_Centroid(), X, y, cv=2, verbose=3)
    assert len(re.findall(r"\[CV \d/2\] END .*score=[\d.]+ total time=", capsys.readouterr().out)) == 2
    GridSearchCV(_Centroid(), {"shrink": [0.0]}, cv=3).fit(X, y)
    assert capsys.readouterr().out == ""


def test_splitter_argument_errors_match_sklearn():
    with pytest.raises(ValueError, match=r"The sum of test_size and train_size = 1.2, should be in the \(0, 1\) range"):
        train_test_split(range(3), test_size=0.6, train_size=0.6)
    with pytest.raises(ValueError, match="Expected `cv` as an integer, a cross-validation object"):
        check_cv(cv="lolo")
    with pytest.raises(TypeError, match="shuffle must be True or False; got None"):
        KFold(3, shuffle=None)
    assert KFold(3, shuffle=np.True_, random_state=0).shuffle


@pytest.mark.parametrize("random_state", [0, 42, "rs"])
def test_numpy_splits_are_sklearns_draw_for_draw(random_state):
    """On NumPy data the shuffled splitters draw scikit-learn's stream: the same seed, the same rows."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(103, 3)), rng.integers(0, 4, 103)

    def rs():
        return np.random.RandomState(3) if random_state == "rs" else random_state

    for kwargs in ({}, {"stratify": y, "test_size": 0.3}, {"train_size": 50, "test_size": 20}):
        ours, theirs = train_test_split(X, y, random_state=rs(), **kwargs), skms.train_test_split(
            X, y, random_state=rs(), **kwargs)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    for ours_cls, theirs_cls in ((KFold, skms.KFold), (StratifiedKFold, skms.StratifiedKFold)):
        ours = list(ours_cls(5, shuffle=True, random_state=rs()).split(X, y))
        theirs = list(theirs_cls(5, shuffle=True, random_state=rs()).split(X, y))
        for (a_tr, a_te), (b_tr, b_te) in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a_tr, b_tr)
            np.testing.assert_array_equal(a_te, b_te)


def test_search_passes_fit_sample_weight_to_scorers():
    """scikit-learn 1.9: fit's sample_weight weighs the test scores too (weighted == repeated rows)."""
    from sklearn.model_selection import LeaveOneGroupOut

    from toolbox.linear_model import Ridge

    rng = np.random.RandomState(42)
    X, y, sw = rng.rand(120, 20), rng.rand(120), rng.randint(0, 5, size=120)
    groups = np.tile(np.arange(4), 30)
    Xr, yr, gr = X.repeat(sw, axis=0), y.repeat(sw), groups.repeat(sw)
    weighted = GridSearchCV(Ridge(), {"alpha": [1.0, 0.1]}, cv=list(LeaveOneGroupOut().split(X, groups=groups)))
    repeated = GridSearchCV(Ridge(), {"alpha": [1.0, 0.1]}, cv=list(LeaveOneGroupOut().split(Xr, groups=gr)))
    weighted.fit(X, y, sample_weight=sw)
    repeated.fit(Xr, yr)
    for key in ("split0_test_score", "split3_test_score", "mean_test_score"):
        np.testing.assert_allclose(weighted.cv_results_[key], repeated.cv_results_[key], rtol=1e-10)

    def no_weights(est, X, y):
        return -float(np.mean((est.predict(X) - y) ** 2))

    with pytest.warns(UserWarning, match="does not support sample_weight"):
        GridSearchCV(Ridge(), {"alpha": [1.0]}, scoring=no_weights, cv=3).fit(X, y, sample_weight=sw)


def test_multimetric_scoring_errors_match_sklearn():
    X, y = np.random.default_rng(0).normal(size=(30, 2)), np.random.default_rng(1).normal(size=30)
    for scoring, msg in (((), "Empty list was given"), (("r2", "r2"), "Duplicate elements"),
                         ({}, "An empty dict was passed"), ([[1]], "must be unique strings"),
                         ((get_scorer("r2"),), "One or more of the elements were callables")):
        with pytest.raises(ValueError, match=msg):
            cross_validate(_Ridge(), X, y, scoring=scoring)


def test_search_html_repr_shows_best_estimator():
    from sklearn import config_context

    from toolbox.linear_model import LogisticRegression, Ridge

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, 60)
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3)
    with config_context(display="diagram"):
        assert "estimator: LogisticRegression" in search._repr_html_()
        search.fit(X, y)
        assert "best_estimator_: LogisticRegression" in search._repr_html_()
    assert "best_estimator_" not in GridSearchCV(Ridge(), {"alpha": [1.0]}, refit=False)._repr_html_()


def test_metadata_routing_in_cross_validate_and_searches():
    """scikit-learn's metadata routing: each parameter goes where it was requested, else an error."""
    import sklearn
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.metrics import make_scorer

    from toolbox.linear_model import Ridge
    from toolbox.metrics import r2_score

    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(60, 3)), rng.normal(size=60), rng.uniform(0.5, 2.0, 60)
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(UnsetMetadataPassedError, match=r"\[sample_weight\] are passed but are not explicitly"):
            cross_validate(Ridge(), X, y, params={"sample_weight": w})
        with pytest.raises(ValueError, match="`groups` can only be passed if metadata routing is not enabled"):
            cross_validate(Ridge(), X, y, groups=np.arange(60) % 3)
        scorer = make_scorer(r2_score).set_score_request(sample_weight=True)
        routed = cross_validate(Ridge().set_fit_request(sample_weight=False), X, y, cv=KFold(3),
                                scoring=scorer, params={"sample_weight": w})["test_score"]
        folds = list(KFold(3).split(X))
        expected = [r2_score(y[te], Ridge().fit(X[tr], y[tr]).predict(X[te]), sample_weight=w[te]) for tr, te in folds]
        np.testing.assert_allclose(routed, expected, rtol=1e-12)  # weights reached the scorer only
        est = Ridge().set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        search = GridSearchCV(est, {"alpha": [0.1, 1.0]}, cv=3)
        search.fit(X, y, sample_weight=w)
        assert search.best_estimator_.coef_.shape == (3,)
    search = GridSearchCV(Ridge(), {"alpha": [0.1]}, cv=3).fit(X, y)
    with pytest.raises(ValueError, match="is only supported if enable_metadata_routing=True"):
        search.score(X, y, sample_weight=w)


def test_make_scorer_matches_sklearns():
    # toolbox.model_selection.make_scorer gives scikit-learn's scores for the same metric, estimator and data,
    # and works wherever a scoring callable does (cross_val_score, searches)
    import sklearn.metrics as skm
    from sklearn.linear_model import LogisticRegression as SkLogistic

    import toolbox.metrics as tm
    import toolbox.model_selection as tms
    from toolbox.linear_model import LogisticRegression

    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    est = LogisticRegression().fit(X, y)
    cases = [
        ((tm.accuracy_score,), {}),
        ((tm.mean_squared_error,), {"greater_is_better": False}),
        ((tm.fbeta_score,), {"beta": 2.0}),
        ((tm.roc_auc_score,), {"response_method": "predict_proba"}),
        ((tm.roc_auc_score,), {"response_method": ("decision_function", "predict_proba")}),
        ((tm.log_loss,), {"response_method": "predict_proba", "greater_is_better": False}),
        ((tm.precision_score,), {"pos_label": 0}),
        ((tm.average_precision_score,), {"response_method": "predict_proba", "pos_label": 0}),
    ]
    for args, kwargs in cases:
        ours = tms.make_scorer(*args, **kwargs)
        theirs = skm.make_scorer(getattr(skm, args[0].__name__), **kwargs)
        assert ours(est, X, y) == pytest.approx(theirs(est, X, y), rel=1e-12), (args[0].__name__, kwargs)
        w = np.linspace(0.5, 2.0, len(y))
        assert ours(est, X, y, sample_weight=w) == pytest.approx(theirs(est, X, y, sample_weight=w), rel=1e-12)
        assert "make_scorer(" + args[0].__name__ in repr(ours)
    f2 = tms.make_scorer(tm.fbeta_score, beta=2.0)
    np.testing.assert_allclose(cross_val_score(LogisticRegression(), X, y, cv=3, scoring=f2),
                               skms.cross_val_score(SkLogistic(), X, y, cv=3,
                                                    scoring=skm.make_scorer(skm.fbeta_score, beta=2.0)),
                               rtol=1e-4)
    gs = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3, scoring={"f2": f2, "acc": "accuracy"},
                      refit="f2").fit(X, y)
    assert set(gs.cv_results_) >= {"mean_test_f2", "mean_test_acc"}
    # the other names scikit-learn's metrics module has
    assert tms.get_scorer("accuracy")(est, X, y) == pytest.approx(skm.get_scorer("accuracy")(est, X, y))
    assert "accuracy" in tms.get_scorer_names() and tms.check_scoring(est, None)(est, X, y) == est.score(X, y)
    # bad input: named errors
    with pytest.raises(TypeError, match="score_func must be callable"):
        tms.make_scorer("accuracy")
    with pytest.raises(ValueError, match="response_method must be one of"):
        tms.make_scorer(tm.accuracy_score, response_method="predict_log_proba_nope")
    with pytest.raises(AttributeError, match="has none of the following attributes: predict_proba"):
        tms.make_scorer(tm.roc_auc_score, response_method="predict_proba")(_Ridge().fit(X, y), X, y)
