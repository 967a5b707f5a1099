"""toolbox.metrics against sklearn.metrics on every backend."""

from __future__ import annotations

import functools
import importlib.util
import re
import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from toolbox import metrics as tm
from toolbox.backends import framework_of


@functools.cache
def _iris():
    """Iris labels, predicted labels and probabilities (a weak model, so there are errors)."""
    X, y = datasets.load_iris(return_X_y=True)
    clf = LogisticRegression(C=0.05, max_iter=500).fit(X[:, :2], y)
    return y, clf.predict(X[:, :2]), clf.predict_proba(X[:, :2])


@functools.cache
def _cancer():
    """Breast-cancer labels, predictions and scores (rounded: many ties)."""
    X, y = datasets.load_breast_cancer(return_X_y=True)
    Xs = StandardScaler().fit_transform(X[:, :3])
    clf = LogisticRegression().fit(Xs, y)
    return y, clf.predict(Xs), np.round(clf.predict_proba(Xs)[:, 1], 2)


@functools.cache
def _wine():
    X, y = datasets.load_wine(return_X_y=True)
    Xs = StandardScaler().fit_transform(X[:, :2])
    clf = LogisticRegression(C=0.1).fit(Xs, y)
    return y, clf.predict(Xs), clf.predict_proba(Xs)


@functools.cache
def _diabetes():
    X, y = datasets.load_diabetes(return_X_y=True)
    Y = np.column_stack([y, np.sqrt(y) * 10])
    return Y, Ridge(alpha=1.0).fit(X, Y).predict(X)


def _weights(n, seed=0):
    return np.random.default_rng(seed).random(n)


def _close(xp, got, want, dtype=None):
    rtol = xp.rtol(dtype)
    got = xp.to_numpy(got) if framework_of(got) is not None else np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(1.0, float(np.nanmax(np.abs(want)))))


CLASSIFICATION = {"iris": _iris, "cancer": _cancer, "wine": _wine}


# --------------------------------------------------------------------------- #
# accuracy, confusion matrix
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", CLASSIFICATION)
@pytest.mark.parametrize("weighted", [False, True])
def test_accuracy(xp, data, weighted):
    y, pred, _ = CLASSIFICATION[data]()
    sw = _weights(len(y)) if weighted else None
    swb = None if sw is None else xp.asarray(sw)
    for normalize in (True, False):
        got = tm.accuracy_score(xp.asarray(y), xp.asarray(pred), normalize=normalize, sample_weight=swb)
        assert isinstance(got, float)
        _close(xp, got, skm.accuracy_score(y, pred, normalize=normalize, sample_weight=sw))
    # host labels with device predictions
    _close(xp, tm.accuracy_score(y, xp.asarray(pred)), skm.accuracy_score(y, pred))


@pytest.mark.parametrize("data", ["iris", "cancer"])
def test_confusion_matrix(xp, data):
    y, pred, _ = CLASSIFICATION[data]()
    sw = _weights(len(y), 1)
    yb, pb = xp.asarray(y), xp.asarray(pred)
    cm = tm.confusion_matrix(yb, pb)
    assert framework_of(cm) is framework_of(yb)
    assert xp.xp.isdtype(cm.dtype, "integral")
    np.testing.assert_array_equal(xp.to_numpy(cm), skm.confusion_matrix(y, pred))
    _close(xp, tm.confusion_matrix(yb, pb, sample_weight=xp.asarray(sw)), skm.confusion_matrix(y, pred, sample_weight=sw))
    labels = [1, 0, 7]
    for normalize in (None, "true", "pred", "all"):
        _close(
            xp,
            tm.confusion_matrix(yb, pb, labels=labels, sample_weight=xp.asarray(sw), normalize=normalize),
            skm.confusion_matrix(y, pred, labels=labels, sample_weight=sw, normalize=normalize),
        )


def test_confusion_matrix_integer_weights_exact(xp):
    # integer weights are summed as integers (scikit-learn's test_confusion_matrix_dtype), on every backend
    y, pred, _ = _iris()
    rng = np.random.default_rng(0)
    w = rng.integers(0, 1000, size=len(y))
    labels = [2, 0, 1, 7]
    cm = tm.confusion_matrix(xp.asarray(y), xp.asarray(pred), sample_weight=xp.asarray(w), labels=labels)
    assert xp.xp.isdtype(cm.dtype, "integral")
    np.testing.assert_array_equal(xp.to_numpy(cm), skm.confusion_matrix(y, pred, sample_weight=w, labels=labels))
    if not xp.float64:  # a backend without 64-bit types sums in int32
        return
    big = np.full(3, np.iinfo(np.int64).max, dtype=np.int64)
    cm = tm.confusion_matrix([0, 1, 1], [0, 1, 1], sample_weight=big)
    assert cm[0, 0] == np.iinfo(np.int64).max and cm[1, 1] == -2  # wraps as scikit-learn's
    cm = tm.confusion_matrix([0, 1, 1], [0, 1, 1], sample_weight=np.full(3, 4294967295, dtype=np.uint32))
    assert cm.dtype == np.int64 and cm[1, 1] == 8589934590


def test_confusion_matrix_string_labels_give_numpy(xp):
    names = np.array(["setosa", "versicolor", "virginica"])
    y, pred, _ = _iris()
    cm = tm.confusion_matrix(names[y], names[pred], labels=["virginica", "setosa", "versicolor"])
    assert isinstance(cm, np.ndarray)
    np.testing.assert_array_equal(
        cm, skm.confusion_matrix(names[y], names[pred], labels=["virginica", "setosa", "versicolor"])
    )
    with pytest.warns(UserWarning, match="A single label was found"):
        tm.confusion_matrix(["a", "a"], ["a", "a"])


# --------------------------------------------------------------------------- #
# precision, recall, F
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", ["iris", "wine"])
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_prf_multiclass(xp, data, average, weighted):
    y, pred, _ = CLASSIFICATION[data]()
    sw = _weights(len(y), 2) if weighted else None
    swb = None if sw is None else xp.asarray(sw)
    yb, pb = xp.asarray(y), xp.asarray(pred)
    for name in ("precision_score", "recall_score", "f1_score"):
        got = getattr(tm, name)(yb, pb, average=average, sample_weight=swb)
        want = getattr(skm, name)(y, pred, average=average, sample_weight=sw)
        if average is None:
            assert framework_of(got) is framework_of(yb)
        else:
            assert isinstance(got, float)
        _close(xp, got, want)
    _close(xp, tm.fbeta_score(yb, pb, beta=0.5, average=average, sample_weight=swb),
           skm.fbeta_score(y, pred, beta=0.5, average=average, sample_weight=sw))
    p, r, f, s = tm.precision_recall_fscore_support(yb, pb, average=None, sample_weight=swb, labels=[2, 0])
    want = skm.precision_recall_fscore_support(y, pred, average=None, sample_weight=sw, labels=[2, 0])
    for g, w in zip((p, r, f, s), want):
        _close(xp, g, w)


def test_prf_binary(xp):
    y, pred, _ = _cancer()
    yb, pb = xp.asarray(y), xp.asarray(pred)
    for name in ("precision_score", "recall_score", "f1_score"):
        for pos_label in (0, 1):
            _close(xp, getattr(tm, name)(yb, pb, pos_label=pos_label),
                   getattr(skm, name)(y, pred, pos_label=pos_label))
    _close(xp, tm.f1_score(y, pb), skm.f1_score(y, pred))  # host labels, device predictions
    labels = np.array(["benign", "malignant"])
    _close(xp, tm.f1_score(labels[y], labels[pred], pos_label="malignant"),
           skm.f1_score(labels[y], labels[pred], pos_label="malignant"))


@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0, np.nan])
def test_prf_zero_division(xp, zero_division):
    y = np.array([0, 1, 2, 2, 1])
    pred = np.array([0, 2, 2, 2, 0])  # class 1 is never predicted; label 3 never occurs
    yb, pb = xp.asarray(y), xp.asarray(pred)
    for average in ("macro", "weighted", None):
        for name in ("precision_score", "recall_score", "f1_score"):
            kwargs = {"average": average, "zero_division": zero_division, "labels": [0, 1, 2, 3]}
            with warnings.catch_warnings(record=True) as got_w:
                warnings.simplefilter("always")
                got = getattr(tm, name)(yb, pb, **kwargs)
            with warnings.catch_warnings(record=True) as want_w:
                warnings.simplefilter("always")
                want = getattr(skm, name)(y, pred, **kwargs)
            _close(xp, got, want)
            got_msgs = sorted(str(w.message) for w in got_w if issubclass(w.category, UndefinedMetricWarning))
            want_msgs = sorted(str(w.message) for w in want_w if issubclass(w.category, UndefinedMetricWarning))
            assert got_msgs == want_msgs


def test_prf_bad_input():
    y, pred, _ = _iris()
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
        tm.f1_score(y, pred)
    with pytest.raises(ValueError, match=r"pos_label=5 is not a valid label. It should be one of \[0 1\]"):
        tm.precision_score([0, 1, 1], [1, 1, 0], pos_label=5)
    with pytest.raises(ValueError, match=re.escape("pos_label=1 is not a valid label. It should be one of "
                                                   "['eggs' 'spam']")):
        tm.f1_score(np.array(["spam", "eggs", "spam"]), np.array(["spam", "eggs", "eggs"]))
    with pytest.raises(ValueError, match="average has to be one of"):
        tm.recall_score(y, pred, average="median")
    with pytest.raises(ValueError, match="zero_division must be"):
        tm.recall_score(y, pred, average="macro", zero_division=2)
    with pytest.warns(UserWarning, match="pos_label .* is ignored"):
        tm.f1_score(y, pred, average="macro", pos_label=2)


# --------------------------------------------------------------------------- #
# ROC AUC
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_binary_with_ties(xp, weighted):
    y, _, score = _cancer()
    sw = _weights(len(y), 3) if weighted else None
    s = xp.asarray(score)
    got = tm.roc_auc_score(xp.asarray(y), s, sample_weight=None if sw is None else xp.asarray(sw))
    assert isinstance(got, float)
    # reference on the scores as the backend holds them (float32 may merge or split ties)
    _close(xp, got, skm.roc_auc_score(y, xp.to_numpy(s), sample_weight=sw))
    labels = np.array(["no", "yes"])
    _close(xp, tm.roc_auc_score(labels[y], s), skm.roc_auc_score(labels[y], xp.to_numpy(s)))


def test_roc_auc_all_tied_and_perfect(xp):
    y = np.array([0, 1, 0, 1, 1])
    _close(xp, tm.roc_auc_score(xp.asarray(y), xp.asarray(np.full(5, 0.3))), 0.5)
    _close(xp, tm.roc_auc_score(xp.asarray(y), xp.asarray(y * 2.0)), 1.0)
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present in y_true"):
        assert np.isnan(tm.roc_auc_score(xp.asarray(np.ones(4)), xp.asarray(np.arange(4.0))))


@pytest.mark.parametrize("data", ["iris", "wine"])
@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_ovr(xp, data, average, weighted):
    y, _, proba = CLASSIFICATION[data]()
    sw = _weights(len(y), 4) if weighted else None
    P = xp.asarray(proba)
    got = tm.roc_auc_score(xp.asarray(y), P, multi_class="ovr", average=average,
                           sample_weight=None if sw is None else xp.asarray(sw))
    want = skm.roc_auc_score(y, xp.to_numpy(P), multi_class="ovr", average=average, sample_weight=sw)
    if average is None:
        assert framework_of(got) is framework_of(P)
    _close(xp, got, want)


def test_roc_auc_ovr_labels_and_errors(xp):
    y, _, proba = _iris()
    names = np.array(["a", "b", "c"])
    P = xp.asarray(proba)
    _close(xp, tm.roc_auc_score(names[y], P, multi_class="ovr", labels=["a", "b", "c"]),
           skm.roc_auc_score(names[y], xp.to_numpy(P), multi_class="ovr", labels=["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"multi_class must be in \('ovo', 'ovr'\)"):
        tm.roc_auc_score(xp.asarray(y), P)
    with pytest.raises(ValueError, match=r"should sum up to 1\.0 over classes"):
        tm.roc_auc_score(xp.asarray(y), P * 2, multi_class="ovr")
    with pytest.raises(ValueError, match="Number of classes in y_true not equal to the number of columns"):
        tm.roc_auc_score(xp.asarray(y[y < 2]), P[:100, ...], multi_class="ovr")
    with pytest.raises(ValueError, match="Parameter 'labels' must be ordered"):
        tm.roc_auc_score(names[y], P, multi_class="ovr", labels=["b", "a", "c"])
    with pytest.raises(NotImplementedError, match="average=None is not implemented for multi_class='ovo'"):
        tm.roc_auc_score(xp.asarray(y), P, multi_class="ovo", average=None)
    with pytest.raises(ValueError, match="y_score should be a 1d array"):
        tm.roc_auc_score(xp.asarray(y[y < 2]), P[:100, :2])


# --------------------------------------------------------------------------- #
# log loss
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", CLASSIFICATION)
@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss(xp, data, weighted):
    y, _, proba = CLASSIFICATION[data]()
    sw = _weights(len(y), 5) if weighted else None
    P = xp.asarray(proba)
    swb = None if sw is None else xp.asarray(sw)
    for normalize in (True, False):
        got = tm.log_loss(xp.asarray(y), P, normalize=normalize, sample_weight=swb)
        assert isinstance(got, float)
        _close(xp, got, skm.log_loss(y, xp.to_numpy(P), normalize=normalize, sample_weight=sw))


def test_log_loss_binary_clipping_and_labels(xp):
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.0, 1.0, 0.8, 0.3, 0.0])  # exact 0/1: clipped to [eps, 1 - eps] of the dtype
    pb = xp.asarray(p)
    _close(xp, tm.log_loss(xp.asarray(y), pb), skm.log_loss(y, xp.to_numpy(pb)))
    p32 = xp.asarray(p.astype(np.float32))
    _close(xp, tm.log_loss(xp.asarray(y), p32), skm.log_loss(y, p.astype(np.float32)), dtype=xp.xp.float32)
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    _close(xp, tm.log_loss(xp.asarray(np.array([0, 1, 0])), xp.asarray(P), labels=[0, 1, 2]),
           skm.log_loss([0, 1, 0], P, labels=[0, 1, 2]))
    _close(xp, tm.log_loss(["a", "b", "a"], xp.asarray(P), labels=["a", "b", "c"]),
           skm.log_loss(["a", "b", "a"], P, labels=["a", "b", "c"]))


def test_log_loss_bad_input(xp):
    P = xp.asarray(np.array([[0.7, 0.3], [0.4, 0.6]]))
    y = xp.asarray(np.array([0, 1]))
    with pytest.raises(ValueError, match="y_prob contains values greater than 1"):
        tm.log_loss(y, P * 2)
    with pytest.raises(ValueError, match=r"y_true contains only one label \(0\)"):
        tm.log_loss(xp.asarray(np.array([0, 0])), P)
    with pytest.raises(ValueError, match="y_true and y_prob contain different number of classes: 2 vs 3"):
        tm.log_loss(y, xp.asarray(np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])))
    with pytest.raises(ValueError, match="not belonging to the passed labels"):
        tm.log_loss(xp.asarray(np.array([0, 5])), P, labels=[0, 1])
    with pytest.warns(UserWarning, match="do not sum to one"):
        tm.log_loss(y, P * 0.5)
    with pytest.warns(FutureWarning, match="`y_pred` was renamed to `y_proba`"):
        tm.log_loss(y, y_pred=P)


# --------------------------------------------------------------------------- #
# regression
# --------------------------------------------------------------------------- #


def _check_regression_metric(xp, name, Y, pred, multioutput, sw):
    """toolbox's metric ``name`` on ``xp`` arrays against scikit-learn's on NumPy (the result type too)."""
    Yb, Pb = xp.asarray(Y), xp.asarray(pred)
    got = getattr(tm, name)(Yb, Pb, multioutput=multioutput, sample_weight=None if sw is None else xp.asarray(sw))
    want = getattr(skm, name)(Y, pred, multioutput=multioutput, sample_weight=sw)
    if multioutput == "raw_values":
        assert framework_of(got) is framework_of(Pb)
    else:
        assert isinstance(got, float)
    _close(xp, got, want)


@pytest.mark.parametrize("name", ["r2_score", "mean_squared_error", "mean_absolute_error"])
@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", [0.3, 0.7]])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression(xp, name, multioutput, weighted):
    Y, pred = _diabetes()
    sw = _weights(len(Y), 6) if weighted else None
    _check_regression_metric(xp, name, Y, pred, multioutput, sw)
    # single output, host y_true with device predictions
    _close(xp, getattr(tm, name)(Y[:, 0], xp.asarray(pred)[:, 0]), getattr(skm, name)(Y[:, 0], pred[:, 0]))


def test_r2_variance_weighted_and_constant_targets(xp):
    Y, pred = _diabetes()
    _close(xp, tm.r2_score(xp.asarray(Y), xp.asarray(pred), multioutput="variance_weighted"),
           skm.r2_score(Y, pred, multioutput="variance_weighted"))
    const = np.full(6, 3.0)
    _close(xp, tm.r2_score(xp.asarray(const), xp.asarray(const)), 1.0)
    _close(xp, tm.r2_score(xp.asarray(const), xp.asarray(const + 1)), 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = tm.r2_score(xp.asarray(const), xp.asarray(const + 1), force_finite=False)
    assert got == -np.inf
    with pytest.warns(UndefinedMetricWarning, match="not well-defined with less than two samples"):
        assert np.isnan(tm.r2_score(xp.asarray(np.array([1.0])), xp.asarray(np.array([2.0]))))


def test_regression_bad_input():
    with pytest.raises(ValueError, match=r"different number of output \(2!=1\)"):
        tm.mean_squared_error(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tm.mean_absolute_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="Allowed 'multioutput' string values are"):
        tm.mean_squared_error(np.ones(3), np.ones(3), multioutput="variance_weighted")
    with pytest.raises(ValueError, match="There must be equally many custom weights"):
        tm.r2_score(np.ones((3, 2)), np.ones((3, 2)), multioutput=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        tm.r2_score(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(ValueError, match="non-numeric"):
        tm.mean_squared_error(np.array(["a", "b"]), np.ones(2))


# --------------------------------------------------------------------------- #
# shared: classification input checks, mixing libraries, inputs untouched
# --------------------------------------------------------------------------- #


def test_classification_bad_input():
    with pytest.raises(ValueError, match="Classification metrics can't handle a mix of continuous and binary"):
        tm.accuracy_score(np.array([0.1, 0.7, 0.3]), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="continuous is not supported"):
        tm.f1_score(np.array([0.1, 0.7]), np.array([0.2, 0.6]))
    with pytest.raises(ValueError, match="Labels in y_true and y_pred should be of the same type"):
        tm.accuracy_score(np.array(["a", "b"]), np.array([0, 1]))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tm.confusion_matrix([0, 1, 1], [0, 1])
    # 2-D 0/1 arrays are multilabel indicators (as in scikit-learn); other 2-D values are refused
    assert tm.accuracy_score(np.ones((3, 2)), np.ones((3, 2))) == 1.0
    with pytest.raises(ValueError, match="only 0 and 1"):
        tm.accuracy_score(np.full((3, 2), 0.5), np.ones((3, 2)))
    with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
        tm.confusion_matrix([0, 1], [0, 1], labels=[5])
    # scikit-learn's wording, which its own tests match on (scripts/upstream-tests.sh)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[2, 2, 3\]"):
        tm.accuracy_score([0, 1], [0, 1], sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Complex data not supported"):
        tm.accuracy_score([0, 1], [0, 1], sample_weight=np.array([1 + 2j, 3 + 4j]))
    with pytest.raises(ValueError, match="Sample weights must be 1D array or scalar"):
        tm.accuracy_score([0, 1], [0, 1], sample_weight=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[3, 3, 4\]"):
        tm.f1_score(np.eye(3, dtype=int), np.eye(3, dtype=int), average="macro", sample_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[3, 2\]"):
        tm.log_loss([0, 1], [[0.5, 0.5]] * 3)
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\)"):
        tm.accuracy_score(np.array(["a", "b"]), np.array([0, 1]))
    with pytest.raises(ValueError, match="can't handle a mix of binary and continuous targets"):
        tm.accuracy_score(np.array(["a", "b", "a"]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="can't handle a mix of binary and continuous targets"):
        tm.f1_score(np.array(["a", "b", "a"]), np.array([0.1, 0.2, 0.3]), average="samples")
    with pytest.raises(ValueError, match="Input y_pred contains NaN"):
        tm.accuracy_score(np.array([0, 1]), np.array([0, np.nan]))
    with pytest.raises(ValueError, match="Input y_pred contains infinity or a value too large"):
        tm.accuracy_score(np.array([0, 1]), np.array([0, np.inf]))
    with pytest.raises(ValueError, match=r"Found empty input array \(e\.g\., `y_true` or `y_pred`\)"):
        tm.accuracy_score([], [])


@pytest.mark.skipif(not (importlib.util.find_spec("torch") and importlib.util.find_spec("jax")),
                    reason="needs torch and jax")
def test_two_device_libraries_raise():
    import jax.numpy as jnp
    import torch

    with pytest.raises(TypeError, match="Arrays from different libraries"):
        tm.accuracy_score(torch.asarray([0, 1]), jnp.asarray([0, 1]))
    with pytest.raises(TypeError, match="Arrays from different libraries"):
        tm.r2_score(torch.asarray([0.0, 1.0]), torch.asarray([0.0, 1.0]), sample_weight=jnp.asarray([1.0, 1.0]))


def test_inputs_not_modified(xp):
    y, pred, proba = _iris()
    yb, pb, Pb = xp.asarray(y), xp.asarray(pred), xp.asarray(proba)
    before = [xp.to_numpy(a).copy() for a in (yb, pb, Pb)]
    tm.f1_score(yb, pb, average="macro")
    tm.confusion_matrix(yb, pb, normalize="true")
    tm.roc_auc_score(yb, Pb, multi_class="ovr")
    tm.log_loss(yb, Pb)
    tm.r2_score(Pb, Pb * 0.5)
    for a, b in zip((yb, pb, Pb), before):
        np.testing.assert_array_equal(xp.to_numpy(a), b)


# --------------------------------------------------------------------------- #
# ROC AUC: partial (max_fpr), one-vs-one, multilabel indicators
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_partial(xp, weighted):
    y, _, score = _cancer()
    sw = _weights(len(y), 7) if weighted else None
    s = xp.asarray(score)
    for max_fpr in (1e-4, 0.05, 0.3, 0.5, 0.99, 1):
        got = tm.roc_auc_score(xp.asarray(y), s, max_fpr=max_fpr, sample_weight=None if sw is None else xp.asarray(sw))
        assert isinstance(got, float)
        _close(xp, got, skm.roc_auc_score(y, xp.to_numpy(s), max_fpr=max_fpr, sample_weight=sw))


def test_roc_auc_partial_exact_and_errors():
    # McClish's standardization: 1 for a perfect score, 0.5 on the diagonal (exactly, as scikit-learn)
    y = np.array([0, 0, 1, 1])
    assert tm.roc_auc_score(y, y, max_fpr=0.001) == 1
    assert tm.roc_auc_score(y, np.array([0.1, 0, 0.1, 0.01]), max_fpr=0.3) == 0.5
    assert tm.roc_auc_score(y, np.array([0.1, 0, 0.1, 0.01]), max_fpr=1) == skm.roc_auc_score(
        y, np.array([0.1, 0, 0.1, 0.01]))
    for bad in (0, -0.1, 1.1):
        with pytest.raises(ValueError, match=r"'max_fpr' parameter of roc_auc_score must be a float in the range"):
            tm.roc_auc_score(y, y, max_fpr=bad)
    P = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    with pytest.raises(ValueError, match=r"Partial AUC computation not available in multiclass setting, 'max_fpr' "
                                         r"must be set to `None`, received `max_fpr=0.5` instead"):
        tm.roc_auc_score([0, 1, 2, 2], P, multi_class="ovo", max_fpr=0.5)


@pytest.mark.parametrize("data", ["iris", "wine"])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_roc_auc_ovo(xp, data, average):
    y, _, proba = CLASSIFICATION[data]()
    P = xp.asarray(np.round(proba, 2) / np.round(proba, 2).sum(axis=1, keepdims=True))  # ties
    got = tm.roc_auc_score(xp.asarray(y), P, multi_class="ovo", average=average)
    assert isinstance(got, float)
    _close(xp, got, skm.roc_auc_score(y, xp.to_numpy(P), multi_class="ovo", average=average))
    # a class of `labels` absent from y_true: the pairs of present classes only (Hand & Till)
    keep = y != 1
    names = np.array(["a", "b", "c"])
    _close(xp, tm.roc_auc_score(names[y[keep]], xp.xp.take(P, xp.asarray(np.flatnonzero(keep)), axis=0), multi_class="ovo",
                                labels=["a", "b", "c"], average=average),
           skm.roc_auc_score(names[y[keep]], xp.to_numpy(P)[keep], multi_class="ovo", labels=["a", "b", "c"],
                             average=average))


def test_roc_auc_ovo_errors():
    rng = np.random.default_rng(404)
    y = rng.integers(0, 3, 20)
    P = rng.random((20, 3))
    P /= P.sum(axis=1, keepdims=True)
    cases = [
        (r"average must be one of \('macro', 'weighted', None\) for multiclass problems",
         {"average": "samples", "multi_class": "ovo"}),
        (r"average must be one of \('micro', 'macro', 'weighted', None\) for multiclass problems",
         {"average": "samples", "multi_class": "ovr"}),
        (r"sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' must be None",
         {"multi_class": "ovo", "sample_weight": []}),
        (r"multi_class must be in \('ovo', 'ovr'\)", {}),
    ]
    for msg, kwargs in cases:
        with pytest.raises(ValueError, match=msg):
            skm.roc_auc_score(y, P, **kwargs)
        with pytest.raises(ValueError, match=msg):
            tm.roc_auc_score(y, P, **kwargs)
    with pytest.raises(ValueError, match="'y_true' contains labels not in parameter 'labels'"):
        tm.roc_auc_score(np.array([0, 1, 2, 3]), P[:4], labels=[0, 1, 2], multi_class="ovo")


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "samples", None])
@pytest.mark.parametrize("max_fpr", [None, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_multilabel(xp, average, max_fpr, weighted):
    rng = np.random.default_rng(8)
    Y = rng.integers(0, 2, (60, 4))
    S = np.round(rng.random((60, 4)), 1)
    sw = rng.random(60) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        got = tm.roc_auc_score(xp.asarray(Y), xp.asarray(S), average=average, max_fpr=max_fpr,
                               sample_weight=None if sw is None else xp.asarray(sw))
        want = skm.roc_auc_score(Y, xp.to_numpy(xp.asarray(S)), average=average, max_fpr=max_fpr, sample_weight=sw)
    if average is None:
        assert framework_of(got) is framework_of(xp.asarray(S))
    else:
        assert isinstance(got, float)
    _close(xp, got, want)


def test_roc_auc_multilabel_undefined_and_errors():
    Y = np.array([[0, 1], [0, 1]])
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present in y_true"):
        assert np.isnan(tm.roc_auc_score(Y, np.array([[0, 1], [1, 0]]), average="macro"))
    assert tm.roc_auc_score(Y, np.array([[0, 1], [1, 0]]), average="samples") == 0.5
    assert tm.roc_auc_score(Y, np.array([[0, 1], [1, 0]]), average="micro") == 0.5
    # a single row of 0/1 is a multilabel indicator of one sample: undefined, as scikit-learn's
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(tm.roc_auc_score(np.array([[0, 1, 1, 0]]), np.array([[1, 0, 1, 0]])))
    with pytest.raises(ValueError, match="multiclass-multioutput format is not supported"):
        tm.roc_auc_score(np.array([[0, 1], [2, 1], [1, 0]]), np.ones((3, 2)))
    with pytest.raises(ValueError, match="continuous-multioutput format is not supported"):
        tm.roc_auc_score(np.array([[0.5, 1], [2, 1], [1, 0]]), np.ones((3, 2)))


# --------------------------------------------------------------------------- #
# multilabel log loss, legacy multilabel sequences
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_multilabel(xp, weighted):
    rng = np.random.default_rng(9)
    Y = rng.integers(0, 2, (40, 4))
    P = rng.random((40, 4))
    sw = rng.random(40) if weighted else None
    for normalize in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # multilabel rows do not sum to one
            got = tm.log_loss(xp.asarray(Y), xp.asarray(P), normalize=normalize,
                              sample_weight=None if sw is None else xp.asarray(sw))
            want = skm.log_loss(Y, xp.to_numpy(xp.asarray(P)), normalize=normalize, sample_weight=sw)
        _close(xp, got, want)


@pytest.mark.parametrize("metric", [tm.accuracy_score, tm.f1_score, tm.jaccard_score, tm.roc_auc_score])
def test_legacy_multilabel_sequences_raise(metric):
    for seq in ([[1], [2], [0, 1]], [(), (2), (0, 1)], np.array([[], [1, 2]], dtype=object)):
        with pytest.raises(ValueError, match="legacy multi-label data representation"):
            metric(seq, seq)


# --------------------------------------------------------------------------- #
# more regression metrics
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", ["explained_variance_score", "root_mean_squared_error", "mean_squared_log_error",
                                  "root_mean_squared_log_error", "mean_absolute_percentage_error",
                                  "median_absolute_error", "d2_absolute_error_score"])
@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", [0.3, 0.7]])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_more(xp, name, multioutput, weighted):
    Y, pred = _diabetes()
    sw = _weights(len(Y), 10) if weighted else None
    if sw is not None:
        sw[:20] = 0  # zero weights: the weighted median skips them
    _check_regression_metric(xp, name, Y, pred, multioutput, sw)


@pytest.mark.parametrize("power", [-1, 0, 1, 1.5, 2, 3])
def test_tweedie_deviances(xp, power):
    Y, pred = _diabetes()
    y, p = Y[:, 0], np.abs(pred[:, 0]) + 1
    sw = _weights(len(y), 11)
    _close(xp, tm.mean_tweedie_deviance(xp.asarray(y), xp.asarray(p), power=power, sample_weight=xp.asarray(sw)),
           skm.mean_tweedie_deviance(y, p, power=power, sample_weight=sw))
    if power == 1:
        y0 = y.copy()
        y0[:5] = 0  # zero counts are fine for Poisson
        _close(xp, tm.mean_poisson_deviance(xp.asarray(y0), xp.asarray(p)), skm.mean_poisson_deviance(y0, p))
    if power == 2:
        _close(xp, tm.mean_gamma_deviance(xp.asarray(y), xp.asarray(p)), skm.mean_gamma_deviance(y, p))


def test_regression_more_errors():
    _close_np = np.testing.assert_allclose
    _close_np(tm.max_error([3, 2, 7, 1], [4, 2, 7, 1]), skm.max_error([3, 2, 7, 1], [4, 2, 7, 1]))
    with pytest.raises(ValueError, match="Multioutput not supported in max_error"):
        tm.max_error(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="cannot be used when targets contain values less than or equal to -1"):
        tm.mean_squared_log_error([-1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="can only be used on strictly positive y and y_pred"):
        tm.mean_gamma_deviance([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="can only be used on non-negative y and strictly positive y_pred"):
        tm.mean_poisson_deviance([1.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="'power' parameter of mean_tweedie_deviance"):
        tm.mean_tweedie_deviance([1.0, 1.0], [1.0, 1.0], power=0.5)


# --------------------------------------------------------------------------- #
# MCC, balanced accuracy, Jaccard
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", CLASSIFICATION)
@pytest.mark.parametrize("weighted", [False, True])
def test_mcc_and_balanced_accuracy(xp, data, weighted):
    y, pred, _ = CLASSIFICATION[data]()
    sw = _weights(len(y), 12) if weighted else None
    yb, pb, swb = xp.asarray(y), xp.asarray(pred), None if sw is None else xp.asarray(sw)
    _close(xp, tm.matthews_corrcoef(yb, pb, sample_weight=swb), skm.matthews_corrcoef(y, pred, sample_weight=sw))
    for adjusted in (False, True):
        _close(xp, tm.balanced_accuracy_score(yb, pb, sample_weight=swb, adjusted=adjusted),
               skm.balanced_accuracy_score(y, pred, sample_weight=sw, adjusted=adjusted))
    assert tm.matthews_corrcoef(yb, yb * 0) == 0.0  # a constant prediction: no correlation
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
        got = tm.balanced_accuracy_score(xp.asarray(np.array([0, 0, 1, 1])), xp.asarray(np.array([0, 2, 1, 1])))
    assert got == skm.balanced_accuracy_score([0, 0, 1, 1], [0, 2, 1, 1])
    with pytest.raises(ValueError, match="multilabel-indicator is not supported"):
        tm.matthews_corrcoef(np.eye(3, dtype=int), np.eye(3, dtype=int))


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_jaccard(xp, average, weighted):
    y, pred, _ = _iris()
    sw = _weights(len(y), 13) if weighted else None
    got = tm.jaccard_score(xp.asarray(y), xp.asarray(pred), average=average, labels=[0, 2, 1, 5],
                           sample_weight=None if sw is None else xp.asarray(sw), zero_division=1.0)
    _close(xp, got, skm.jaccard_score(y, pred, average=average, labels=[0, 2, 1, 5], sample_weight=sw,
                                      zero_division=1.0))
    yb, pb, _ = _cancer()
    _close(xp, tm.jaccard_score(xp.asarray(yb), xp.asarray(pb), pos_label=0), skm.jaccard_score(yb, pb, pos_label=0))
    rng = np.random.default_rng(14)
    Y, P = rng.integers(0, 2, (30, 4)), rng.integers(0, 2, (30, 4))
    for avg in ("micro", "macro", "weighted", "samples"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            np.testing.assert_allclose(tm.jaccard_score(Y, P, average=avg), skm.jaccard_score(Y, P, average=avg))
    with pytest.warns(UndefinedMetricWarning, match="Jaccard is ill-defined and being set to 0.0 in labels with no "
                                                    "true or predicted samples"):
        tm.jaccard_score(np.array([0, 0, 1]), np.array([0, 0, 1]), labels=[0, 1, 2], average="macro")
    with pytest.raises(ValueError, match="'zero_division' parameter of jaccard_score"):
        tm.jaccard_score([0, 1], [0, 1], zero_division=np.nan)


# --------------------------------------------------------------------------- #
# scorers: every name whose metric toolbox has computes with toolbox
# --------------------------------------------------------------------------- #


def test_scorers_match_scikit_learn():
    from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
    from sklearn.linear_model import PoissonRegressor
    from sklearn.metrics import get_scorer as sk_get_scorer
    from sklearn.neighbors import KNeighborsClassifier

    from toolbox.model_selection import get_scorer, get_scorer_names
    from toolbox.model_selection._scoring import _Scorer

    for name in ("neg_median_absolute_error", "roc_auc_ovo", "f1_samples", "jaccard", "matthews_corrcoef",
                 "explained_variance", "neg_mean_gamma_deviance", "d2_absolute_error_score"):
        assert name in get_scorer_names()
        assert isinstance(get_scorer(name), _Scorer)
    X, y = make_classification(n_classes=3, n_informative=4, random_state=0)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    X2, Y2 = make_multilabel_classification(n_samples=72, n_classes=3, random_state=0)
    knn = KNeighborsClassifier().fit(X2, Y2)
    Xr, yr = make_regression(random_state=0)
    reg = PoissonRegressor(max_iter=1000).fit(Xr, np.abs(yr) + 1)
    cases = [(clf, X, y, ["roc_auc_ovo", "roc_auc_ovo_weighted", "roc_auc_ovr", "balanced_accuracy",
                          "matthews_corrcoef", "jaccard_macro", "neg_log_loss", "d2_log_loss_score",
                          "neg_brier_score", "d2_brier_score", "top_k_accuracy"]),
             (knn, X2, Y2, ["roc_auc", "average_precision", "f1_samples", "jaccard_samples", "precision_samples", "recall_samples"]),
             (reg, Xr, np.abs(yr) + 1, ["explained_variance", "neg_max_error", "neg_median_absolute_error",
                                       "neg_mean_absolute_percentage_error", "neg_mean_squared_log_error",
                                       "neg_root_mean_squared_log_error", "neg_mean_poisson_deviance",
                                       "neg_mean_gamma_deviance", "d2_absolute_error_score",
                                       "neg_root_mean_squared_error"])]
    Xb, yb = make_classification(random_state=1)
    clf_b = LogisticRegression().fit(Xb, yb)
    cases.append((clf_b, Xb, yb, ["roc_auc", "roc_auc_ovr", "average_precision", "neg_brier_score", "d2_brier_score",
                                  "neg_log_loss", "positive_likelihood_ratio", "neg_negative_likelihood_ratio"]))
    w = _weights(len(y), 15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for est, Xs, ys, names in cases:
            for name in names:
                np.testing.assert_allclose(get_scorer(name)(est, Xs, ys), sk_get_scorer(name)(est, Xs, ys),
                                           rtol=1e-10, err_msg=name)
        for name in ("balanced_accuracy", "matthews_corrcoef", "roc_auc_ovr"):
            np.testing.assert_allclose(get_scorer(name)(clf, X, y, sample_weight=w),
                                       sk_get_scorer(name)(clf, X, y, sample_weight=w), rtol=1e-10)


# --------------------------------------------------------------------------- #
# average precision
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("weighted", [False, True])
def test_average_precision_binary(xp, weighted):
    y, _, score = _cancer()
    sw = _weights(len(y), 16) if weighted else None
    if sw is not None:
        sw[:30] = 0  # zero weights leave the curve unchanged
    s, swb = xp.asarray(score), None if sw is None else xp.asarray(sw)
    for pos_label in (0, 1):
        got = tm.average_precision_score(xp.asarray(y), s, pos_label=pos_label, sample_weight=swb)
        assert isinstance(got, float)
        _close(xp, got, skm.average_precision_score(y, xp.to_numpy(s), pos_label=pos_label, sample_weight=sw))
    names = np.array(["no", "yes"])
    _close(xp, tm.average_precision_score(names[y], s, pos_label="yes"),
           skm.average_precision_score(names[y], xp.to_numpy(s), pos_label="yes"))


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "samples", None])
def test_average_precision_multilabel_and_multiclass(xp, average):
    rng = np.random.default_rng(17)
    Y = rng.integers(0, 2, (60, 4))
    Y[:, 1] = 0  # a label without positives: 0.0, with scikit-learn's warning
    S = np.round(rng.random((60, 4)), 1)
    sw = rng.random(60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        got = tm.average_precision_score(xp.asarray(Y), xp.asarray(S), average=average, sample_weight=xp.asarray(sw))
        want = skm.average_precision_score(Y, xp.to_numpy(xp.asarray(S)), average=average, sample_weight=sw)
    _close(xp, got, want)
    if average == "samples":
        return
    y, _, proba = _iris()
    P = xp.asarray(proba)
    _close(xp, tm.average_precision_score(xp.asarray(y), P, average=average),
           skm.average_precision_score(y, xp.to_numpy(P), average=average))


def test_average_precision_edge_cases_and_errors():
    with pytest.warns(UndefinedMetricWarning, match="No positive class found in y_true"):
        assert tm.average_precision_score([0, 0, 0], [0.1, 0.2, 0.3]) == 0.0
    assert tm.average_precision_score([1, 1, 1], [0.1, 0.2, 0.3]) == 1.0
    with pytest.raises(ValueError, match=r"pos_label=2 is not a valid label. It should be one of \[0 1\]"):
        tm.average_precision_score([0, 1, 1], [0.1, 0.2, 0.3], pos_label=2)
    with pytest.raises(ValueError, match="Parameter pos_label is fixed to 1 for multiclass y_true"):
        tm.average_precision_score([0, 1, 2], np.eye(3), pos_label=2)
    with pytest.raises(ValueError, match="Parameter pos_label is fixed to 1 for multilabel-indicator y_true"):
        tm.average_precision_score(np.eye(3, dtype=int), np.eye(3), pos_label=0)
    with pytest.raises(ValueError, match=r"`y_score` needs to be of shape `\(n_samples, n_classes\)`"):
        tm.average_precision_score([0, 1, 2], np.ones((3, 2)))


@pytest.mark.parametrize("data", CLASSIFICATION)
@pytest.mark.parametrize("weighted", [False, True])
def test_d2_log_loss(xp, data, weighted):
    y, _, proba = CLASSIFICATION[data]()
    sw = _weights(len(y), 18) if weighted else None
    P = xp.asarray(proba)
    got = tm.d2_log_loss_score(xp.asarray(y), P, sample_weight=None if sw is None else xp.asarray(sw))
    assert isinstance(got, float)
    _close(xp, got, skm.d2_log_loss_score(y, xp.to_numpy(P), sample_weight=sw))
    with pytest.warns(UndefinedMetricWarning, match="D\\^2 score is not well-defined with less than two samples"):
        assert np.isnan(tm.d2_log_loss_score([0], [[0.6, 0.4]]))


@pytest.mark.parametrize("weighted", [False, True])
def test_brier_scores(xp, weighted):
    yb, _, score = _cancer()
    y, _, proba = _iris()
    sw_b = _weights(len(yb), 19) if weighted else None
    sw = _weights(len(y), 20) if weighted else None
    for name in ("brier_score_loss", "d2_brier_score"):
        for pos_label in (None, 0):
            got = getattr(tm, name)(xp.asarray(yb), xp.asarray(score), pos_label=pos_label,
                                    sample_weight=None if sw_b is None else xp.asarray(sw_b))
            assert isinstance(got, float)
            _close(xp, got, getattr(skm, name)(yb, xp.to_numpy(xp.asarray(score)), pos_label=pos_label,
                                               sample_weight=sw_b))
        P = xp.asarray(proba)
        _close(xp, getattr(tm, name)(xp.asarray(y), P, sample_weight=None if sw is None else xp.asarray(sw)),
               getattr(skm, name)(y, xp.to_numpy(P), sample_weight=sw))
    _close(xp, tm.brier_score_loss(xp.asarray(y), xp.asarray(proba), scale_by_half=True),
           skm.brier_score_loss(y, proba, scale_by_half=True))


def test_brier_errors():
    names = np.array(["a", "b", "a"])
    with pytest.raises(ValueError, match=r"y_true takes value in \{'a', 'b'\} and pos_label is not specified"):
        tm.brier_score_loss(names, [0.2, 0.7, 0.1])
    assert tm.brier_score_loss(names, [0.2, 0.7, 0.1], pos_label="b") == skm.brier_score_loss(
        names, [0.2, 0.7, 0.1], pos_label="b")
    with pytest.raises(ValueError, match="is multiclass but should be binary according to the shape of y_prob"):
        tm.brier_score_loss([0, 1, 2], [0.2, 0.7, 0.1])
    with pytest.raises(ValueError, match="y_prob contains values less than 0"):
        tm.brier_score_loss([0, 1, 1], [-0.2, 0.7, 0.1])
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(tm.d2_brier_score([1], [0.5]))


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_top_k_accuracy(xp, k, weighted):
    y, _, proba = _wine()
    P = xp.asarray(np.round(proba, 1))  # ties: broken towards the larger class index, as scikit-learn
    sw = _weights(len(y), 21) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # k = n_classes
        for normalize in (True, False):
            got = tm.top_k_accuracy_score(xp.asarray(y), P, k=k, normalize=normalize,
                                          sample_weight=None if sw is None else xp.asarray(sw))
            _close(xp, got, skm.top_k_accuracy_score(y, xp.to_numpy(P), k=k, normalize=normalize, sample_weight=sw))
    yb, _, score = _cancer()
    _close(xp, tm.top_k_accuracy_score(xp.asarray(yb), xp.asarray(score), k=1),
           skm.top_k_accuracy_score(yb, score, k=1))


def test_top_k_accuracy_errors():
    P = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.8, 0.1]])
    with pytest.warns(UndefinedMetricWarning, match=r"'k' \(3\) greater than or equal to 'n_classes' \(3\)"):
        assert tm.top_k_accuracy_score([0, 1, 2], P, k=3) == 1.0
    with pytest.raises(ValueError, match=r"Number of classes in 'y_true' \(3\) not equal"):
        tm.top_k_accuracy_score([0, 1, 2], np.full((3, 4), 0.25))
    with pytest.raises(ValueError, match="Parameter 'labels' must be ordered"):
        tm.top_k_accuracy_score([0, 1, 2], P, labels=[1, 0, 2])
    with pytest.raises(ValueError, match="y type must be 'binary' or 'multiclass', got 'continuous' instead"):
        tm.top_k_accuracy_score([0.5, 1, 1], P)
    with pytest.raises(ValueError, match="`y_true` is binary while y_score is 2d with 3 classes"):
        tm.top_k_accuracy_score([0, 1, 1], P[:, :3])


@pytest.mark.parametrize("weighted", [False, True])
def test_class_likelihood_ratios(xp, weighted):
    y, pred, _ = _cancer()
    sw = _weights(len(y), 22) if weighted else None
    got = tm.class_likelihood_ratios(xp.asarray(y), xp.asarray(pred), sample_weight=None if sw is None else xp.asarray(sw))
    _close(xp, np.asarray(got), np.asarray(skm.class_likelihood_ratios(y, pred, sample_weight=sw)))
    for yt, yp in (([0, 0, 1, 1], [0, 0, 0, 0]), ([1, 1, 1, 1], [1, 1, 0, 1]), ([0, 1, 1], [1, 1, 1])):
        for replace in (np.nan, 1.0, {"LR+": 2.0, "LR-": 0.5}):
            with warnings.catch_warnings(record=True) as got_w:
                warnings.simplefilter("always")
                got = tm.class_likelihood_ratios(xp.asarray(np.array(yt)), xp.asarray(np.array(yp)),
                                                 replace_undefined_by=replace)
            with warnings.catch_warnings(record=True) as want_w:
                warnings.simplefilter("always")
                want = skm.class_likelihood_ratios(yt, yp, replace_undefined_by=replace)
            np.testing.assert_allclose(got, want)
            assert [str(w.message) for w in got_w] == [str(w.message) for w in want_w]
    with pytest.raises(ValueError, match="only supports binary classification problems, got targets of type: multiclass"):
        tm.class_likelihood_ratios([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="The dictionary passed as `replace_undefined_by` needs to be in the form"):
        tm.class_likelihood_ratios([0, 1], [0, 1], replace_undefined_by={"LR+": 0.5, "LR-": 0.5})
