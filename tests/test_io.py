"""Model files: round trips on every backend, and what loading refuses (toolbox.io)."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import sklearn.base
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer

import toolbox as tb
import toolbox.cache
import toolbox.io
from toolbox.exceptions import ModelFileError, NotPersistableError
from toolbox.io._allowlist import FAMILIES

rng0 = np.random.default_rng(0)
X_CLS = rng0.normal(size=(120, 5))
Y_CLS = (X_CLS[:, 0] + 0.5 * X_CLS[:, 1] > 0).astype(np.int64)
Y_REG = X_CLS @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng0.normal(size=120)
X_INT = rng0.integers(0, 4, size=(120, 3)).astype(np.float64)
X_NAN = X_CLS.copy()
X_NAN[::7, 1] = np.nan

# class name -> (constructor kwargs, X, y); y None: unsupervised
SPECS: dict[str, tuple[dict, np.ndarray, np.ndarray | None]] = {
    "LogisticRegression": ({}, X_CLS, Y_CLS),
    "LinearRegression": ({}, X_CLS, Y_REG),
    "Ridge": ({"alpha": 0.5}, X_CLS, Y_REG),
    "Lasso": ({"alpha": 0.01}, X_CLS, Y_REG),
    "ElasticNet": ({"alpha": 0.01}, X_CLS, Y_REG),
    "LinearDiscriminantAnalysis": ({}, X_CLS, Y_CLS),
    "GaussianNB": ({}, X_CLS, Y_CLS),
    "KNeighborsClassifier": ({"n_neighbors": 3}, X_CLS, Y_CLS),
    "KNeighborsRegressor": ({"n_neighbors": 3}, X_CLS, Y_REG),
    "HistGradientBoostingClassifier": ({"max_iter": 5, "max_leaf_nodes": 7}, X_CLS, Y_CLS),
    "HistGradientBoostingRegressor": ({"max_iter": 5, "max_leaf_nodes": 7}, X_CLS, Y_REG),
    "KMeans": ({"n_clusters": 3, "n_init": 1, "random_state": 0}, X_CLS, None),
    "PCA": ({"n_components": 3}, X_CLS, None),
    "TruncatedSVD": ({"n_components": 2, "random_state": 0}, X_CLS, None),
    "StandardScaler": ({}, X_CLS, None),
    "MinMaxScaler": ({}, X_CLS, None),
    "MaxAbsScaler": ({}, X_CLS, None),
    "Normalizer": ({"norm": "l1"}, X_CLS, None),
    "RobustScaler": ({}, X_CLS, None),
    "PolynomialFeatures": ({"degree": 2}, X_CLS, None),
    "OneHotEncoder": ({"handle_unknown": "ignore", "sparse_output": False}, X_INT, None),
    "SimpleImputer": ({}, X_NAN, None),
    "MissingIndicator": ({}, X_NAN, None),
    "LabelEncoder": ({}, None, Y_CLS),
}
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform", "score_samples")


def _public_estimators() -> dict[str, type]:
    out = {}
    for family in FAMILIES:
        if family == "automl":  # AutoModel's round trip is tested with toolbox.fit (tests/test_automl*.py)
            continue
        mod = importlib.import_module(f"toolbox.{family}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj) and issubclass(obj, sklearn.base.BaseEstimator):
                out[name] = obj
    return out


ESTIMATORS = _public_estimators()
SEARCHES = {"GridSearchCV", "RandomizedSearchCV"}


def test_every_public_estimator_has_a_round_trip_spec():
    assert set(ESTIMATORS) - SEARCHES == set(SPECS)


def _np(x):
    return np.asarray(tb.to_backend(x, "numpy"))


def _outputs(est, X):
    out = {}
    for m in METHODS:
        if hasattr(est, m):
            try:
                out[m] = _np(getattr(est, m)(X))
            except (AttributeError, NotImplementedError):
                continue
    return out


def _fit(name, xp=None):
    kwargs, X, y = SPECS[name]
    est = ESTIMATORS[name](**kwargs)
    conv = xp.asarray if xp is not None else (lambda a: a)
    if name == "LabelEncoder":
        return est.fit(conv(y)), conv(y)
    Xc = conv(X)
    return (est.fit(Xc) if y is None else est.fit(Xc, conv(y))), Xc


def _assert_same_outputs(a, b, X):
    ref, got = _outputs(a, X), _outputs(b, X)
    assert ref and ref.keys() == got.keys()
    for m in ref:
        assert ref[m].dtype == got[m].dtype, m
        np.testing.assert_array_equal(got[m], ref[m], err_msg=m)  # bit-identical (NaN == NaN)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_round_trip_bit_identical(name, xp, tmp_path):
    est, X = _fit(name, xp)
    tb.save(est, tmp_path / "m")
    loaded = tb.load(tmp_path / "m")
    assert type(loaded) is type(est) and repr(loaded.get_params()) == repr(est.get_params())  # NaN params too
    if name == "LabelEncoder":
        np.testing.assert_array_equal(_np(loaded.transform(X)), _np(est.transform(X)))
        np.testing.assert_array_equal(_np(loaded.classes_), _np(est.classes_))
        return
    _assert_same_outputs(est, loaded, X)
    for attr, value in vars(est).items():  # fitted arrays come back on their library and device
        if attr.endswith("_") and tb.backends.framework_of(value) is not None:
            got = getattr(loaded, attr)
            assert type(got) is type(value), attr
            if isinstance(got, np.ndarray):  # views of the verified buffer, but the user's to change
                assert got.flags.writeable and got.flags.aligned, attr


def test_unfitted_estimator_round_trips(tmp_path):
    from toolbox.linear_model import LogisticRegression

    est = LogisticRegression(C=0.3, max_iter=50)
    tb.save(est, tmp_path / "m")
    loaded = tb.load(tmp_path / "m")
    assert loaded.get_params() == est.get_params()
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["fitted"] is False and doc["fitted_on"] is None


@pytest.mark.parametrize("name", ["LogisticRegression", "HistGradientBoostingClassifier", "KNeighborsClassifier",
                                  "StandardScaler", "KMeans"])
def test_torch_model_loads_on_numpy_and_back(name, tmp_path):
    torch = pytest.importorskip("torch")
    from toolbox.testing import BACKEND_PARAMS, activated

    with activated(next(p for p in BACKEND_PARAMS if p.id == "torch-cpu")) as b:
        est, X = _fit(name, b)
        tb.save(est, tmp_path / "torch")
    on_numpy = tb.load(tmp_path / "torch", backend="numpy")
    for attr, value in vars(on_numpy).items():
        if attr.endswith("_") and not attr.startswith("_"):
            assert not isinstance(value, torch.Tensor), attr
    Xn = X.numpy()
    _assert_numpy_close(est, on_numpy, X, Xn)
    tb.save(on_numpy, tmp_path / "numpy")
    back = tb.load(tmp_path / "numpy", backend="torch", device="cpu")
    _assert_same_outputs(est, back, X)
    doc = json.loads((tmp_path / "torch" / "model.json").read_text())
    # gradient boosting computes on zero-copy NumPy views of CPU tensors: its fitted arrays are NumPy
    where = "numpy" if name.startswith("HistGradientBoosting") else "torch"
    assert doc["fitted_on"]["backend"] == where and doc["fitted_on"]["device"] == "cpu"


def _assert_numpy_close(torch_est, numpy_est, Xt, Xn):
    ref, got = _outputs(torch_est, Xt), _outputs(numpy_est, Xn)
    assert ref.keys() == got.keys()
    for m in ref:
        np.testing.assert_allclose(got[m], ref[m], rtol=1e-9, atol=1e-12, err_msg=m)


def test_pipeline_column_transformer_feature_union_round_trip(tmp_path):
    import pandas as pd

    from toolbox.decomposition import PCA
    from toolbox.linear_model import LogisticRegression
    from toolbox.preprocessing import OneHotEncoder, StandardScaler

    df = pd.DataFrame({"a": X_CLS[:, 0], "b": X_CLS[:, 1], "c": X_INT[:, 0], "d": X_CLS[:, 2]})
    ct = ColumnTransformer([("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(sparse_output=False), ["c"])],
                           remainder="passthrough")
    union = FeatureUnion([("id", FunctionTransformer()), ("pca", PCA(n_components=2))])
    model = make_pipeline(ct, union, LogisticRegression()).fit(df, Y_CLS)
    tb.save(model, tmp_path / "m")
    loaded = tb.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(df), model.predict_proba(df))
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["class"] == "sklearn.pipeline.Pipeline"
    assert doc["feature_names_in_"] == ["a", "b", "c", "d"] and doc["classes_"] == [0, 1]
    assert doc["n_features_in_"] == 4


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_search_round_trip(search, tmp_path):
    from toolbox.linear_model import LogisticRegression

    cls = ESTIMATORS[search]
    kwargs = {"n_iter": 2, "random_state": 0} if search == "RandomizedSearchCV" else {}
    for scoring in (None, "accuracy"):
        est = cls(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=3, scoring=scoring, **kwargs).fit(X_CLS, Y_CLS)
        tb.save(est, tmp_path / "m")
        loaded = tb.load(tmp_path / "m")
        np.testing.assert_array_equal(loaded.predict(X_CLS), est.predict(X_CLS))
        assert loaded.score(X_CLS, Y_CLS) == est.score(X_CLS, Y_CLS)
        assert loaded.best_params_ == est.best_params_
        for k, v in est.cv_results_.items():
            w = loaded.cv_results_[k]
            if isinstance(v, np.ma.MaskedArray):
                np.testing.assert_array_equal(np.ma.getmaskarray(w), np.ma.getmaskarray(v))
            np.testing.assert_array_equal(np.asarray(w), np.asarray(v), err_msg=k)


def test_string_labels_and_feature_names(tmp_path):
    import pandas as pd

    from toolbox.linear_model import LogisticRegression

    y = np.array(["no", "yes"], dtype=object)[Y_CLS]
    df = pd.DataFrame(X_CLS, columns=[f"f{i}" for i in range(5)])
    est = LogisticRegression().fit(df, y)
    tb.save(est, tmp_path / "m")
    loaded = tb.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(df), est.predict(df))
    assert loaded.classes_.dtype == est.classes_.dtype and list(loaded.feature_names_in_) == list(df.columns)
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["classes_"] == ["no", "yes"]


def test_hgb_warm_start_continues_identically_after_load(tmp_path):
    from toolbox.ensemble import HistGradientBoostingClassifier

    a = HistGradientBoostingClassifier(max_iter=5, warm_start=True, max_features=0.6, random_state=3)
    a.fit(X_CLS, Y_CLS)
    tb.save(a, tmp_path / "m")
    b = tb.load(tmp_path / "m")
    a.set_params(max_iter=10).fit(X_CLS, Y_CLS)
    b.set_params(max_iter=10).fit(X_CLS, Y_CLS)  # the random generator's state came back too
    np.testing.assert_array_equal(b.predict_proba(X_CLS), a.predict_proba(X_CLS))


def test_fortran_ordered_attributes_keep_their_order(tmp_path):
    from toolbox.decomposition import PCA

    est = PCA(n_components=3).fit(X_CLS)
    est.components_ = np.asfortranarray(est.components_)
    tb.save(est, tmp_path / "m")
    loaded = tb.load(tmp_path / "m")
    assert loaded.components_.flags.f_contiguous
    np.testing.assert_array_equal(loaded.components_, est.components_)


def test_save_replaces_a_model_and_refuses_anything_else(tmp_path):
    from toolbox.linear_model import LogisticRegression, Ridge

    tb.save(LogisticRegression().fit(X_CLS, Y_CLS), tmp_path / "m")
    tb.save(Ridge().fit(X_CLS, Y_REG), tmp_path / "m")
    assert type(tb.load(tmp_path / "m")) is Ridge
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no temporary folder left behind
    user = tmp_path / "notes"
    user.mkdir()
    (user / "thesis.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a toolbox model folder"):
        tb.save(Ridge(), user)
    assert (user / "thesis.txt").read_text() == "mine" and sorted(os.listdir(user)) == ["thesis.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        tb.save(Ridge(), tmp_path / "file")
    assert (tmp_path / "file").read_text() == "x"


# --------------------------------------------------------------------------- refusals on save


def test_save_refuses_code_and_foreign_classes(tmp_path):
    from sklearn.preprocessing import StandardScaler as SkScaler

    from toolbox.linear_model import LogisticRegression
    from toolbox.preprocessing import StandardScaler

    with pytest.raises(NotPersistableError, match=r"func.*FunctionTransformer with a function"):
        tb.save(make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()), tmp_path / "a")
    with pytest.raises(NotPersistableError, match=r"steps\[0\]\[1\].*sklearn.preprocessing.*not a toolbox estimator"):
        tb.save(make_pipeline(SkScaler(), LogisticRegression()), tmp_path / "b")
    est = StandardScaler().fit(X_CLS)
    est.mean_ = lambda: 0  # a user attaching code to a fitted model
    with pytest.raises(NotPersistableError, match=r"StandardScaler\.mean_: the function"):
        tb.save(est, tmp_path / "c")
    with pytest.raises(NotPersistableError, match=r"toolbox\.save saves toolbox estimators"):
        tb.save({"not": "an estimator"}, tmp_path / "d")
    assert not any(tmp_path.iterdir())  # nothing written


# --------------------------------------------------------------------------- refusals on load


def _saved(tmp_path, name="m"):
    from toolbox.linear_model import LogisticRegression

    est = LogisticRegression().fit(X_CLS, Y_CLS)
    tb.save(est, tmp_path / name)
    return tmp_path / name, est


def _rewrite(folder: Path, edit) -> None:
    """Edit model.json with ``edit(doc)`` and fix checksums.json, as an attacker would."""
    doc = json.loads((folder / "model.json").read_text())
    edit(doc)
    data = json.dumps(doc).encode()
    (folder / "model.json").write_bytes(data)
    checks = json.loads((folder / "checksums.json").read_text())
    checks["files"]["model.json"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (folder / "checksums.json").write_text(json.dumps(checks))


def test_changed_file_is_refused(tmp_path):
    folder, _ = _saved(tmp_path)
    text = (folder / "model.json").read_text().replace('"C": 1.0', '"C": 2.0')
    (folder / "model.json").write_text(text)
    with pytest.raises(ModelFileError, match=r"model\.json: changed since it was written"):
        tb.load(folder)
    folder, _ = _saved(tmp_path, "m2")
    blob = bytearray((folder / "arrays.safetensors").read_bytes())
    blob[-1] ^= 1
    (folder / "arrays.safetensors").write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match=r"arrays\.safetensors: changed"):
        tb.load(folder)


def test_truncated_and_missing_files_are_refused(tmp_path):
    folder, _ = _saved(tmp_path)
    blob = (folder / "arrays.safetensors").read_bytes()
    (folder / "arrays.safetensors").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelFileError, match=r"arrays\.safetensors: truncated"):
        tb.load(folder)
    (folder / "arrays.safetensors").unlink()
    with pytest.raises(ModelFileError, match="missing"):
        tb.load(folder)
    (folder / "checksums.json").unlink()
    with pytest.raises(ModelFileError, match=r"no checksums\.json"):
        tb.load(folder)
    with pytest.raises(ModelFileError, match="no such model folder"):
        tb.load(tmp_path / "nowhere")


@pytest.mark.parametrize("tag, alias, match", [
    ("__estimator__", "os.system", "'os.system', which is not a toolbox estimator"),
    ("__estimator__", "toolbox.io.save", "not a toolbox estimator"),
    ("__estimator__", "toolbox.linear_model.__builtins__", "not a toolbox estimator"),
    ("__estimator__", "sklearn.preprocessing.StandardScaler", "not a toolbox estimator"),
    ("__object__", "subprocess.Popen", "not on toolbox's allow-list"),
    ("__function__", "builtins.eval", "not on toolbox's allow-list"),
])
def test_foreign_class_or_function_is_refused(tmp_path, tag, alias, match):
    folder, _ = _saved(tmp_path)

    def edit(doc):
        if tag == "__estimator__":
            doc["root"]["__estimator__"] = alias
        else:
            doc["root"]["state"]["n_features_in_"] = {tag: alias, "state": {}}

    _rewrite(folder, edit)
    with pytest.raises(ModelFileError, match=match):
        tb.load(folder)


def test_unknown_parameter_and_tag_are_refused(tmp_path):
    folder, _ = _saved(tmp_path)
    _rewrite(folder, lambda doc: doc["root"]["params"].update({"__init__": 1}))
    with pytest.raises(ModelFileError, match=r"parameters.*does not take"):
        tb.load(folder)
    folder, _ = _saved(tmp_path, "m2")
    _rewrite(folder, lambda doc: doc["root"]["state"].update({"x_": {"__reduce__": ["os.system", ["true"]]}}))
    with pytest.raises(ModelFileError, match="unknown tag '__reduce__'"):
        tb.load(folder)


def test_newer_format_version_is_refused(tmp_path):
    folder, _ = _saved(tmp_path)
    checks = json.loads((folder / "checksums.json").read_text())
    checks["format_version"] = tb.io.FORMAT_VERSION + 1
    (folder / "checksums.json").write_text(json.dumps(checks))
    with pytest.raises(ModelFileError, match=r"checksums\.json: written in model-file format 2, newer.*upgrade"):
        tb.load(folder)


def test_planted_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    payload = pickle.dumps(Payload())
    folder, est = _saved(tmp_path)
    for name in ("model.pkl", "arrays.pkl", "model.joblib", "__init__.py"):
        (folder / name).write_bytes(payload)
    loaded = tb.load(folder)  # the planted files are never opened
    np.testing.assert_array_equal(loaded.predict(X_CLS), est.predict(X_CLS))
    # the payload in place of the arrays, checksums fixed: not a safetensors file, never unpickled
    (folder / "arrays.safetensors").write_bytes(payload)
    checks = json.loads((folder / "checksums.json").read_text())
    checks["files"]["arrays.safetensors"] = {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}
    (folder / "checksums.json").write_text(json.dumps(checks))
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        tb.load(folder)
    # ...and as model.json
    (folder / "model.json").write_bytes(payload)
    checks["files"]["model.json"] = {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}
    (folder / "checksums.json").write_text(json.dumps(checks))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        tb.load(folder)
    assert not marker.exists()
    assert pickle.loads(payload) is None and marker.exists()  # the payload was real


def test_load_to_an_unavailable_backend_names_the_fix(tmp_path):
    folder, _ = _saved(tmp_path)
    _rewrite(folder, lambda doc: doc["root"]["state"]["coef_"].update({"framework": "torch", "device": "cuda:7"}))
    pytest.importorskip("torch")
    import torch

    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    with pytest.raises(ModelFileError, match=r"torch on cuda:7.*backend='numpy'"):
        tb.load(folder)
    assert type(tb.load(folder, backend="numpy").coef_) is np.ndarray


# --------------------------------------------------------------------------- crashes and concurrency

_WRITER = textwrap.dedent("""
    import sys, numpy as np, toolbox as tb
    from toolbox.neighbors import KNeighborsRegressor
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 20))
    models = [KNeighborsRegressor().fit(X, X[:, 0]), KNeighborsRegressor().fit(X + 1.0, X[:, 1])]
    tb.save(models[0], sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        tb.save(models[i % 2], sys.argv[1])
""")


def _check_is_one_of_the_two(path):
    m = tb.load(path)
    first = np.asarray(m._fit_X_aug[:2, 0])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 20))
    assert np.array_equal(first, X[:2, 0]) or np.array_equal(first, X[:2, 0] + 1.0)
    assert m.n_samples_fit_ == 40_000


def test_sigkill_during_save_leaves_a_complete_model(tmp_path):
    path = tmp_path / "m"
    for delay in (0.05, 0.3, 0.7):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        _check_is_one_of_the_two(path)  # the old model or the new one, complete and verified
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "m"]
    assert all(".tmp-" in n or ".old-" in n for n in leftovers)  # only unfinished temporaries, never loaded


def test_readers_see_complete_models_while_a_writer_saves(tmp_path):
    path = tmp_path / "m"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        loaded = 0
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            _check_is_one_of_the_two(path)
            loaded += 1
        assert loaded >= 3
    finally:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp_path, ignore_errors=True)


# --------------------------------------------------------------------------- the safetensors layout


def test_arrays_file_is_standard_safetensors(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from toolbox.ensemble import HistGradientBoostingClassifier
    from toolbox.io import _safetensors

    est = HistGradientBoostingClassifier(max_iter=3).fit(X_CLS, Y_CLS)
    tb.save(est, tmp_path / "m")
    blob = (tmp_path / "m" / "arrays.safetensors").read_bytes()
    theirs = safetensors_numpy.load(blob)  # the reference reader accepts what toolbox writes
    ours = _safetensors.parse(bytearray(blob))
    assert theirs.keys() == ours.keys() and len(ours) > 10
    for k in ours:
        assert ours[k].dtype == theirs[k].dtype and ours[k].shape == theirs[k].shape
        np.testing.assert_array_equal(ours[k], theirs[k])
    mixed = {"u8": np.arange(3, dtype=np.uint8), "f64": np.ones((2, 3)), "empty": np.zeros((0, 4), np.float32),
             "scalar": np.array(7, dtype=np.int64), "mask": np.array([True, False])}
    parsed = _safetensors.parse(bytearray(safetensors_numpy.save(mixed)))  # and toolbox reads what it writes
    for k, v in mixed.items():
        assert parsed[k].dtype == v.dtype and parsed[k].shape == v.shape
        np.testing.assert_array_equal(parsed[k], v)
    for k, a in ours.items():  # widest items first: every array is aligned
        assert a.ctypes.data % a.dtype.itemsize == 0, k


def _header_file(header: dict, data: bytes) -> bytearray:
    text = json.dumps(header).encode()
    return bytearray(len(text).to_bytes(8, "little") + text + data)


@pytest.mark.parametrize("header, data, match", [
    ({"a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}}, b"\0" * 8, "do not match"),
    ({"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]},
      "b": {"dtype": "F64", "shape": [1], "data_offsets": [4, 12]}}, b"\0" * 16, "overlap or leave a gap"),
    ({"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 16, "no entry describes"),
    ({"a": {"dtype": "OBJ", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "unsupported dtype"),
    ({"a": {"dtype": "F64", "shape": [-1], "data_offsets": [0, 8]}}, b"\0" * 8, "malformed shape"),
    ({"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8], "code": "x"}}, b"\0" * 8, "malformed entry"),
])
def test_malformed_safetensors_headers_are_refused(header, data, match):
    from toolbox.io import _safetensors

    with pytest.raises(ValueError, match=match):
        _safetensors.parse(_header_file(header, data))
    with pytest.raises(ValueError, match="does not fit"):
        _safetensors.parse(bytearray((10**9).to_bytes(8, "little") + b"{}"))


def test_docs_examples_run(tmp_path, monkeypatch, capsys):
    import re

    doc = (Path(__file__).resolve().parent.parent / "docs" / "persistence-and-caching.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/persistence-and-caching.md block {i}", "exec"), namespace)
        assert "churn" in capsys.readouterr().out
        if len(blocks) > 1:  # the caching example ran through the cache
            assert toolbox.cache.info()["hits"] >= 1
    finally:
        tb.set_config(cache=False)
        toolbox.cache.clear()
        toolbox.cache.configure()
