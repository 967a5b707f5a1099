"""toolbox.fit / toolbox.automl: task detection, column types, search, budget, devices, persistence."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import toolbox as tb
from toolbox.automl import AutoModel, FeaturePrep, Leaderboard, TableEncoder, fit
from toolbox.automl._task import detect_task

pd = pytest.importorskip("pandas")
pytest.importorskip("optuna")

QUIET = {"track": False, "verbose": False}


def _binary(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.3 * rng.normal(size=n) > 0.5).astype(np.int64)
    return X, y


def _frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "num": rng.normal(size=n),
        "num_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "color": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "city": rng.choice([f"c{i}" for i in range(40)], n).astype(object),
        "flag": rng.random(n) < 0.5,
        "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        "const": 1.0,
        "row_id": np.arange(n),
    })
    df.loc[rng.random(n) < 0.1, "color"] = np.nan
    effect = {f"c{i}": rng.normal() for i in range(40)}
    logit = df["num"] + 1.5 * (df["color"] == "red") + df["city"].map(effect) + (df["when"].dt.month > 6)
    y = pd.Series(np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no"))
    return df, y


def _key(model):
    return [(r["trial"], r["model"], r["params"], r["status"], r["fold_scores"]) for r in model.leaderboard_]


# --------------------------------------------------------------------------- task detection
@pytest.mark.parametrize(("y", "task", "words"), [
    (np.array([True, False] * 10), "binary", "boolean"),
    (np.array(["a", "b", "c"] * 10, dtype=object), "multiclass", "text labels with 3 distinct"),
    (np.array([0, 1, 2] * 500), "multiclass", "3 distinct integer values out of 1,500 rows"),
    (np.array([0.0, 1.0] * 20), "binary", "2 distinct whole-number values"),
    (np.linspace(0, 1, 50), "regression", "non-integer"),
    (np.arange(200) % 60, "regression", "more than 20"),
])
def test_detect_task(y, task, words):
    info = detect_task(y)
    assert info.task == task
    assert words in info.reason


def test_detect_task_pandas_categorical_and_override():
    y = pd.Series(pd.Categorical(["lo", "hi", "mid"] * 10))
    assert detect_task(y).task == "multiclass"
    assert detect_task(np.arange(40) % 3, task="regression").task == "regression"
    with pytest.raises(ValueError, match="exactly 2 classes"):
        detect_task(np.arange(30) % 3, task="binary")
    with pytest.raises(ValueError, match="numeric y"):
        detect_task(np.array(["a", "b"] * 5), task="regression")


@pytest.mark.parametrize(("y", "match"), [
    (np.array([1.0, np.nan, 2.0, 3.0]), "missing or non-finite"),
    (np.array([1.0, np.inf, 2.0, 3.0]), "missing or non-finite"),
    (np.array(["a", None, "b", "a"], dtype=object), "missing"),
    (np.ones(10), "single distinct value"),
])
def test_bad_targets(y, match):
    with pytest.raises(ValueError, match=match):
        detect_task(y)


def test_length_mismatch_and_bad_params():
    X, y = _binary(40)
    with pytest.raises(ValueError, match="different lengths"):
        fit(X, y[:-1], max_trials=1, **QUIET)
    with pytest.raises(ValueError, match="time_budget"):
        fit(X, y, time_budget=-1, **QUIET)
    with pytest.raises(ValueError, match=r"time_budget \(seconds\) or max_trials"):
        fit(X, y, time_budget=None, **QUIET)
    with pytest.raises(ValueError, match="at least 4 rows"):
        fit(X[:3], np.array([0, 1, 0]), max_trials=1, time_budget=None, **QUIET)
    with pytest.raises(ValueError, match="Unknown metric"):
        fit(X, y, metric="nope", max_trials=1, time_budget=None, **QUIET)


# --------------------------------------------------------------------------- columns
def test_table_encoder_kinds_and_drops():
    df, _ = _frame(100)
    df["text"] = [f"the quick brown fox jumps over the lazy dog number {i}" for i in range(100)]
    with pytest.warns(UserWarning, match="free-text"):
        enc = TableEncoder().fit(df)
    kinds = {c["name"]: c["kind"] for c in enc.columns_}
    assert kinds == {"num": "numeric", "num_nan": "numeric", "color": "categorical", "city": "categorical",
                     "flag": "categorical", "when": "date", "const": "dropped", "row_id": "dropped",
                     "text": "dropped"}
    reasons = {d["name"]: d["reason"] for d in enc.dropped_}
    assert reasons["const"] == "constant" and reasons["row_id"].startswith("ID-like")
    M = enc.transform(df)
    assert M.shape == (100, 3 + 2 + 5)  # 3 code columns, 2 numeric, 5 date parts
    assert enc.n_categorical_ == 3
    codes = M[:, 0]  # color: NaN where missing
    assert np.isnan(codes).sum() == df["color"].isna().sum()
    unseen = df.head(3).copy()
    unseen["city"] = "never-seen"
    assert np.isnan(enc.transform(unseen)[:, 1]).all()


def test_unsupported_columns_are_named():
    df = pd.DataFrame({"ok": np.arange(30.0), "bad": [[1, 2]] * 30, "cplx": np.ones(30) * (1 + 2j)})
    with pytest.raises(TypeError, match=r"cannot use column\(s\) 'bad' \(objects of type list\), 'cplx'"):
        TableEncoder().fit(df)


def test_target_encoding_is_out_of_fold():
    # a category per pair of rows and a random target: in-sample encodings would predict y well
    rng = np.random.default_rng(0)
    n = 400
    codes = np.repeat(np.arange(n // 2), 2).astype(np.float64)[:, None]
    y = rng.integers(0, 2, n)
    prep = FeaturePrep(mode="linear", n_categorical=1, cardinalities=[n // 2], task="binary", smoothing=1.0)
    oof = np.asarray(prep.fit_transform(codes, y))[:, 0]
    in_sample = np.asarray(prep.transform(codes))[:, 0]
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, in_sample) > 0.75  # the leak a naive encoding has (so this test can fail)
    assert roc_auc_score(y, oof) < 0.6


# --------------------------------------------------------------------------- end to end
def test_fit_numpy_end_to_end():
    X, y = _binary(300)
    X0 = X.copy()
    y0 = y.copy()
    model = fit(X, y, time_budget=None, max_trials=8, cv=3, random_state=0, **QUIET)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)
    assert isinstance(model, AutoModel)
    assert model.task_ == "binary" and "2 distinct integer values out of 300 rows" in model.task_reason_
    assert model.metric_ == "roc_auc"
    lb = model.leaderboard_
    assert isinstance(lb, Leaderboard) and len(lb) == 9  # the baseline + 8 trials
    assert {r["status"] for r in lb} <= {"ok", "pruned", "failed"}
    assert lb[0]["rank"] == 1 and lb[0]["score_mean"] >= max(r["score_mean"] or 0 for r in lb)
    frame = lb.to_pandas()
    assert list(frame.columns)[:3] == ["rank", "trial", "model"] and len(frame) == 9
    assert "roc_auc" in str(lb)
    pred = model.predict(X)
    assert isinstance(pred, np.ndarray) and pred.shape == (300,) and set(np.unique(pred)) <= {0, 1}
    proba = model.predict_proba(X[:7])
    assert proba.shape == (7, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert 0.7 < model.score(X, y) <= 1.0
    assert model.best_estimator_.steps[0][0] == "encode"
    assert model.best_params_["model"] == lb[0]["model"]
    assert model.feature_importances_.shape == (5,)
    assert int(np.argmax(model.feature_importances_)) in (0, 1)  # the informative columns
    text = model.report()
    assert "Task: binary" in text and "Best:" in text


def test_fit_pandas_nan_categoricals_dates_and_save(tmp_path):
    df, y = _frame(400)
    before, y_before = df.copy(deep=True), y.copy(deep=True)
    model = fit(df, y, time_budget=None, max_trials=6, cv=3, random_state=0, **QUIET)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_series_equal(y, y_before)
    assert model.task_ == "binary" and "text labels" in model.task_reason_
    assert {d["name"] for d in model.dropped_columns_} == {"const", "row_id"}
    pred = model.predict(df)
    assert set(pred.tolist()) <= {"yes", "no"}
    assert model.score(df, y) > 0.6
    assert "dropped 'const': constant" in model.report()
    model.save(tmp_path / "m")
    loaded = tb.load(tmp_path / "m")
    assert np.array_equal(loaded.predict(df), pred)
    np.testing.assert_array_equal(loaded.predict_proba(df), model.predict_proba(df))
    assert loaded.leaderboard_.rows == model.leaderboard_.rows


def test_fit_multiclass_and_regression():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(240, 4))
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3], axis=1)]
    m = fit(X, y, time_budget=None, max_trials=5, cv=3, random_state=0, **QUIET)
    assert m.task_ == "multiclass" and m.metric_ == "log_loss" and not m.greater_is_better_
    assert m.predict_proba(X).shape == (240, 3) and set(m.predict(X)) <= {"a", "b", "c"}
    yr = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=240)
    r = fit(X, yr, time_budget=None, max_trials=5, cv=3, random_state=0, metric="rmse", **QUIET)
    assert r.task_ == "regression" and r.metric_ == "root_mean_squared_error"
    assert r.predict(X).shape == (240,)
    with pytest.raises(AttributeError, match="classification only"):
        r.predict_proba(X)


def test_reproducible_whatever_n_jobs():
    X, y = _binary(200, seed=4)
    a = fit(X, y, time_budget=None, max_trials=8, cv=3, random_state=7, n_jobs=1, **QUIET)
    b = fit(X, y, time_budget=None, max_trials=8, cv=3, random_state=7, n_jobs=2, **QUIET)
    assert _key(a) == _key(b)
    assert a.best_params_ == b.best_params_
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))  # bit for bit
    c = fit(X, y, time_budget=None, max_trials=8, cv=3, random_state=8, **QUIET)
    assert _key(c) != _key(a)


def test_no_leakage_on_noise():
    # pure noise with a high-cardinality categorical (2 rows per category): any cross-validated score
    # clearly above chance would mean the target leaked into the validation folds
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({"cat": np.repeat([f"k{i}" for i in range(n // 2)], 2),
                       "x": rng.normal(size=n)})
    y = rng.integers(0, 2, n)
    model = fit(df, y, time_budget=None, max_trials=6, cv=3, random_state=0, **QUIET)
    scores = [r["score_mean"] for r in model.leaderboard_ if r["status"] == "ok"]
    assert max(scores) < 0.62


# --------------------------------------------------------------------------- budget
def test_budget_rule():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    budget = 2.0
    t0 = time.perf_counter()
    model = fit(X, y, time_budget=budget, random_state=0, **QUIET)
    elapsed = time.perf_counter() - t0
    # the rule is 1.05 * budget + 0.25 s; 0.5 s more of slack for a loaded shared 2-core CI machine
    # (benchmarks/bench_fit.py measures the rule itself)
    assert elapsed <= 1.05 * budget + 0.25 + 0.5, elapsed
    stopped = model.budget_["stopped_because"]
    if not stopped.startswith("converged"):
        # it used most of its budget; how much of the reserve for the final refit is left over depends on
        # the machine's load (a run at 1.76 s of 2 s was seen on a loaded CI-like machine)
        assert elapsed >= 0.6 * budget, (elapsed, stopped)
    assert model.predict(X[:3]).shape == (3,)


def _warming_candidate(monkeypatch, name, seconds):
    """A copy of the LDA candidate whose warm-up (think: kernels to compile) takes ``seconds``."""
    import dataclasses

    from toolbox.automl import _candidates, _warm

    calls = []

    def warm_up(ctx):
        calls.append(time.perf_counter())
        time.sleep(seconds)

    cand = dataclasses.replace(_candidates.CANDIDATES["lda"], name=name, warm_up=warm_up)
    monkeypatch.setitem(_candidates.CANDIDATES, name, cand)
    monkeypatch.setattr(_warm, "_DONE", set())
    monkeypatch.setattr(_warm, "_RUNNING", {})
    return calls


def test_a_warm_up_longer_than_the_budget_keeps_its_candidate_out(monkeypatch):
    # a first fit that compiles for longer than the budget cannot be interrupted: its candidate must wait
    calls = _warming_candidate(monkeypatch, "slow_lda", 5.0)
    X, y = _binary(300)
    t0 = time.perf_counter()
    model = fit(X, y, time_budget=1.5, random_state=0, **QUIET)
    elapsed = time.perf_counter() - t0
    assert elapsed <= 1.05 * 1.5 + 0.25 + 0.5, elapsed
    assert len(calls) == 1  # started once, on a helper thread
    assert not any(r["model"] == "slow_lda" for r in model.leaderboard_)
    assert any(r["model"] == "lda" and r["status"] == "ok" for r in model.leaderboard_)


def test_a_candidate_runs_once_its_warm_up_is_done(monkeypatch):
    calls = _warming_candidate(monkeypatch, "warming_lda", 0.05)
    X, y = _binary(300)
    # a time budget (so the warm-up gate is on) that never binds: the search ends at max_trials
    model = fit(X, y, time_budget=60.0, max_trials=20, random_state=0, **QUIET)
    assert len(calls) == 1
    rows = [r for r in model.leaderboard_ if r["model"] == "warming_lda"]
    # its deferred portfolio entries ran (fold scores; median pruning may stop them) after the warm-up
    seen = " ".join(f"{r['trial']}:{r['model']}:{r['source']}:{r['status']}" for r in model.leaderboard_)
    assert any(r["source"] == "portfolio" and len(r["fold_scores"]) > 0 for r in rows), seen
    # without a time budget nothing waits (and no thread starts): trials simply run, in a fixed order
    calls.clear()
    fit(X, y, time_budget=None, max_trials=12, random_state=0, **QUIET)
    assert calls == []


def test_tiny_budget_returns_a_model():
    X, y = _binary(300)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit(X, y, time_budget=0.1, random_state=0, **QUIET)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.05 * 0.1 + 0.25 + 0.5
    assert model.predict(X).shape == (300,)
    assert len(model.leaderboard_) >= 1


# --------------------------------------------------------------------------- bad input, adapted folds
def test_single_sample_class_and_few_rows():
    X, y = _binary(60, seed=2)
    y = y.copy()
    y[0] = 2  # a class of one row
    with pytest.warns(UserWarning, match="single row"):
        model = fit(X, y, time_budget=None, max_trials=3, random_state=0, **QUIET)
    assert model.predict_proba(X).shape == (60, 3)
    Xs, ys = _binary(8, seed=5)
    ys = np.array([0, 1] * 4)
    with pytest.warns(UserWarning, match="too few for 5 folds"):
        small = fit(Xs, ys, time_budget=None, max_trials=2, random_state=0, **QUIET)
    assert small.cv_folds_ == 4


# --------------------------------------------------------------------------- devices
def test_torch_input_stays_on_its_device(monkeypatch):
    torch = pytest.importorskip("torch")
    from toolbox.backends import _convert

    X, y = _binary(300)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    copies = []
    real = _convert._record

    def spy(kind, x, src, dst):
        copies.append((kind, tuple(getattr(x, "shape", ())), src, dst))
        return real(kind, x, src, dst)

    monkeypatch.setattr(_convert, "_record", spy)
    model = fit(Xt, yt, time_budget=None, max_trials=6, cv=3, random_state=0, **QUIET)
    big = [c for c in copies if c[0] in ("device_to_host", "host_copy") and c[1] and c[1][0] >= 50]
    assert big == []  # no copy of X, y or a fold of them to the host
    assert model.backend_ == "torch"
    pred = model.predict(Xt)
    assert isinstance(pred, torch.Tensor) and pred.shape == (300,)
    assert isinstance(model.predict_proba(Xt), torch.Tensor)


@pytest.mark.gpu
def test_cuda_input_no_host_copy():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    X, y = _binary(2000)
    Xt, yt = torch.tensor(X, device="cuda"), torch.tensor(y, device="cuda")
    tb.reset_transfer_stats()
    model = fit(Xt, yt, time_budget=None, max_trials=6, random_state=0, **QUIET)
    stats = tb.transfer_stats()
    assert stats["bytes_copied"] < X.nbytes / 10, stats  # metadata (classes, counts) only
    assert model.predict(Xt).device.type == "cuda"


def test_jax_input():
    jnp = pytest.importorskip("jax.numpy")
    X, y = _binary(200)
    model = fit(jnp.asarray(X, dtype=jnp.float32), jnp.asarray(y), time_budget=None, max_trials=3, cv=2,
                random_state=0, **QUIET)
    assert model.backend_ == "jax"
    pred = model.predict(jnp.asarray(X[:10], dtype=jnp.float32))
    assert type(pred).__module__.startswith("jax") and pred.shape == (10,)


# --------------------------------------------------------------------------- tracking, cache
def test_tracking_records_a_run_per_fit_and_trial(tmp_path, monkeypatch):
    import toolbox.tracking as tracking

    monkeypatch.delenv("TOOLBOX_TRACKING_URI", raising=False)
    tracking.set_store(tmp_path / "runs")
    try:
        X, y = _binary(150)
        model = fit(X, y, time_budget=None, max_trials=4, cv=3, random_state=0, verbose=False)
        assert model.run_id_
        run = tracking.get_run(model.run_id_)
        assert run.experiment == "toolbox.fit"
        children = tracking.search_runs("toolbox.fit", filter=f"attributes.parent_id = '{model.run_id_}'")
        assert len(children) == len(model.leaderboard_)
        names = {a.path for a in run.artifacts}
        assert "leaderboard.json" in names and any(p.startswith("models/model/") for p in names)
    finally:
        tracking.set_store(None)


def test_repeated_fit_served_from_cache():
    import toolbox.cache

    X, y = _binary(200)
    toolbox.cache.clear()
    with tb.config_context(cache=True):
        a = fit(X, y, time_budget=None, max_trials=4, cv=3, random_state=0, **QUIET)
        hits = toolbox.cache.info()["hits"]
        b = fit(X, y, time_budget=None, max_trials=4, cv=3, random_state=0, **QUIET)
        assert toolbox.cache.info()["hits"] == hits + 1
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert _key(a) == _key(b)


def test_import_is_lazy():
    code = "import sys, toolbox.automl; print(' '.join(m for m in ['optuna', 'rich', 'torch', 'jax'] if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
