"""toolbox.tracking: runs, params, metrics, tags, artifacts, search, bad input; on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("sqlalchemy")

from test_store import store_uri  # noqa: F401 - the fixture (SQLite and PostgreSQL)

from toolbox import tracking
from toolbox.store import NotFoundError
from toolbox.tracking import FilterSyntaxError, RunStatus
from toolbox.tracking._run import _close_session
from toolbox.tracking._writer import MetricWriter


@pytest.fixture
def tr(store_uri, tmp_path, monkeypatch):  # noqa: F811
    """toolbox.tracking writing to a fresh store; the working directory is a temporary folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLBOX_TRACKING_URI", raising=False)
    tracking.set_store(store_uri, artifact_root=tmp_path / "artifacts")
    try:
        yield tracking
    finally:
        _close_session()


def test_import_is_light():
    code = ("import sys, toolbox, toolbox.tracking, toolbox.store, toolbox.cli;"
            "print(' '.join(m for m in ['sqlalchemy', 'rich', 'psycopg', 'pandas'] if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------- #
# logging and reading back
# --------------------------------------------------------------------------- #
def test_run_records_params_metrics_tags_and_system_facts(tr):
    with tr.start_run(experiment="churn", name="first", tags={"team": "growth"}) as run:
        run.log_params({"C": 1.0, "solver": "lbfgs", "layers": [1, 2]})
        for i in range(5):
            run.log_metric("loss", 1.0 / (i + 1))
        run.log_metrics({"acc": 0.8, "f1": 0.7}, step=3)
        run.set_tags({"stage": "dev"})
        tr.log_metric("module_level", 2.5)
    rec = tr.get_run(run.id)
    assert rec.name == "first" and rec.experiment == "churn" and rec.status == RunStatus.FINISHED
    assert rec.params == {"C": "1.0", "layers": "[1, 2]", "solver": "lbfgs"}
    assert rec.metrics == {"acc": 0.8, "f1": 0.7, "loss": 0.2, "module_level": 2.5}
    assert rec.tags["team"] == "growth" and rec.tags["stage"] == "dev"
    for fact in ("toolbox.version", "toolbox.backend", "toolbox.device", "toolbox.host", "toolbox.frameworks",
                 "toolbox.python"):
        assert rec.tags[fact], fact
    assert "numpy==" in rec.tags["toolbox.frameworks"]
    assert rec.end_time is not None and rec.end_time >= rec.start_time
    hist = tr.get_metric_history(run.id, "loss")
    assert [(m.step, m.value) for m in hist] == [(i, 1.0 / (i + 1)) for i in range(5)]
    assert [m.step for m in tr.get_metric_history(run.id, "acc")] == [3]
    assert tr.get_metric_history(run.id, "never") == []


def test_non_finite_values_are_kept(tr):
    with tr.start_run() as run:
        run.log_metric("loss", 1.0, step=0)
        run.log_metric("loss", float("nan"), step=1)
        run.log_metric("loss", float("inf"), step=2)
        run.log_metric("loss", -math.inf, step=3)
        run.log_metric("gap", float("nan"))
    values = [m.value for m in tr.get_metric_history(run.id, "loss")]
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2:] == [math.inf, -math.inf]
    rec = tr.get_run(run.id)
    assert math.isnan(rec.metrics["gap"]) and rec.metrics["loss"] == -math.inf
    assert [r.id for r in tr.search_runs(filter="metrics.gap = nan")] == [run.id]
    assert tr.search_runs(filter="metrics.gap != nan") == []


def test_nested_runs(tr):
    with tr.start_run(experiment="search", name="parent") as parent:
        with tr.start_run(name="child-a") as a:
            a.log_metric("score", 0.5)
        with tr.start_run(name="child-b", experiment="other") as b:
            b.log_metric("score", 0.7)
        assert tr.active_run() is parent
    assert tr.active_run() is None
    assert tr.get_run(a.id).parent_id == parent.id and tr.get_run(a.id).experiment == "search"
    assert tr.get_run(b.id).parent_id == parent.id and tr.get_run(b.id).experiment == "other"
    kids = tr.search_runs(filter=f"attributes.parent_id = '{parent.id}'", order_by=["metrics.score DESC"])
    assert [k.name for k in kids] == ["child-b", "child-a"]
    tops = tr.search_runs(filter="attributes.parent_id is null")
    assert [r.id for r in tops] == [parent.id]


def test_exception_marks_failed_and_keeps_what_was_logged(tr):
    with pytest.raises(ZeroDivisionError), tr.start_run(experiment="crash") as run:
        run.log_params({"lr": 0.1})
        for i in range(100):
            run.log_metric("loss", float(i))
        1 / 0
    rec = tr.get_run(run.id)
    assert rec.status == RunStatus.FAILED and "ZeroDivisionError" in rec.tags["toolbox.error"]
    assert rec.params == {"lr": "0.1"} and len(tr.get_metric_history(run.id, "loss")) == 100
    with pytest.raises(KeyboardInterrupt), tr.start_run() as run2:
        raise KeyboardInterrupt
    assert tr.get_run(run2.id).status == RunStatus.KILLED


def test_artifacts(tr, tmp_path):
    f = tmp_path / "report.txt"
    f.write_text("hello")
    d = tmp_path / "plots"
    (d / "sub").mkdir(parents=True)
    (d / "a.csv").write_text("1,2")
    (d / "sub" / "b.csv").write_text("3,4")
    with tr.start_run() as run:
        assert run.log_artifact(f) == ["report.txt"]
        assert run.log_artifact(d, "figures") == ["figures/plots/a.csv", "figures/plots/sub/b.csv"]
        tr.log_artifact(f, "copy")
    rec = tr.get_run(run.id)
    assert [a.path for a in rec.artifacts] == ["copy/report.txt", "figures/plots/a.csv",
                                               "figures/plots/sub/b.csv", "report.txt"]
    same = {a.path: a.digest for a in rec.artifacts}
    assert same["copy/report.txt"] == same["report.txt"]  # content-addressed
    out = tr.download_artifact(run.id, "figures/plots/sub/b.csv", tmp_path / "dl" / "b.csv")
    assert out.read_text() == "3,4"
    with pytest.raises(NotFoundError, match=r"no artifact 'missing\.txt'"):
        tr.download_artifact(run.id, "missing.txt")
    with pytest.raises(FileNotFoundError, match="nothing-here"), tr.start_run() as r2:
        r2.log_artifact(tmp_path / "nothing-here")


def test_log_model_uses_toolbox_io(tr, tmp_path):
    io = pytest.importorskip("toolbox.io")
    if not hasattr(io, "save"):
        pytest.skip("toolbox.io.save is not there")
    import numpy as np

    from toolbox.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(60, 3))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    with tr.start_run() as run:
        paths = run.log_model(model, "clf")
    assert paths and all(p.startswith("models/clf/") for p in paths)
    dest = tmp_path / "restored"
    for p in paths:
        tr.download_artifact(run.id, p, dest / p)
    loaded = io.load(dest / "models" / "clf")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# --------------------------------------------------------------------------- #
# search
# --------------------------------------------------------------------------- #
@pytest.fixture
def grid(tr):
    ids = {}
    for C in ("0.1", "1.0", "10.0"):
        for solver in ("lbfgs", "newton"):
            with tr.start_run(experiment="grid", name=f"{solver}-{C}", tags={"solver": solver}) as run:
                run.log_params({"C": C, "solver": solver})
                acc = float(C) / 20 + (0.4 if solver == "newton" else 0.3)
                run.log_metric("accuracy", 0.0)
                run.log_metric("accuracy", acc)
                ids[(C, solver)] = run.id
    with tr.start_run(experiment="other") as run:
        run.log_metric("accuracy", 0.99)
    return ids


def test_search_filter_and_order(tr, grid):
    got = tr.search_runs("grid", filter="metrics.accuracy > 0.4 and params.C = '1.0'")
    assert [r.id for r in got] == [grid[("1.0", "newton")]]
    got = tr.search_runs("grid", order_by=["metrics.accuracy DESC"])
    assert [r.metrics["accuracy"] for r in got] == sorted((r.metrics["accuracy"] for r in got), reverse=True)
    assert len(got) == 6
    got = tr.search_runs(["grid", "other"], filter="metrics.accuracy >= 0.85", order_by="metrics.accuracy")
    assert [r.experiment for r in got] == ["grid", "other"]
    got = tr.search_runs("grid", filter="(params.C = '0.1' or params.C = '10.0') and not tags.solver = 'lbfgs'",
                         order_by=["params.C ASC"])
    assert [r.name for r in got] == ["newton-0.1", "newton-10.0"]
    got = tr.search_runs("grid", filter="params.C in ('0.1', '1.0') and attributes.name like 'lbfgs-%'")
    assert sorted(r.name for r in got) == ["lbfgs-0.1", "lbfgs-1.0"]
    assert len(tr.search_runs("grid", filter="attributes.name ilike 'LBFGS%'")) == 3
    assert tr.search_runs("grid", filter="attributes.name like 'LBFGS%'") == []  # LIKE keeps case
    assert len(tr.search_runs("grid", filter="metrics.nothing is null")) == 6
    assert len(tr.search_runs("grid", filter="attributes.status = 'finished' and attributes.start_time > 0")) == 6
    assert len(tr.search_runs(max_results=2)) == 2
    assert len(tr.search_runs("grid", filter="params.C = '1.0'", max_results=None)) == 2
    injected = tr.search_runs("grid", filter="params.C = '1.0'' or ''1''=''1'")  # a quote is just text
    assert injected == []


def test_search_to_pandas(tr, grid):
    df = tr.search_runs("grid", order_by=["metrics.accuracy DESC"]).to_pandas()
    assert len(df) == 6
    assert {"run_id", "experiment", "name", "status", "params.C", "metrics.accuracy", "tags.solver"} <= set(df)
    assert df["metrics.accuracy"].is_monotonic_decreasing
    assert str(df["start_time"].dtype).startswith("datetime64")
    assert tr.search_runs("grid", filter="params.C = 'x'").to_pandas().empty


@pytest.mark.parametrize(("bad", "match"), [
    ("metrics.accuracy >", "ends where a value"),
    ("metrics.accuracy > 'high'", "compare it with a number"),
    ("params.C = 1.0", "quote the value"),
    ("params.C > '1'", "is text"),
    ("accuracy > 1", "Cannot read|Expected"),
    ("foo.bar = 1", "Unknown field 'foo.bar'"),
    ("attributes.colour = 'red'", "Unknown attribute"),
    ("metrics.a > 1 metrics.b < 2", "Unexpected"),
    ("metrics.a > 1; DROP TABLE runs", "Cannot read"),
])
def test_bad_filters_are_clear_errors(tr, bad, match):
    with pytest.raises(FilterSyntaxError, match=match):
        tr.search_runs(filter=bad)


def test_search_errors(tr):
    with pytest.raises(NotFoundError, match="No experiment named 'nope'"):
        tr.search_runs("nope")
    with pytest.raises(FilterSyntaxError, match="order_by"):
        tr.search_runs(order_by=["metrics.a SIDEWAYS"])
    with pytest.raises(ValueError, match="max_results"):
        tr.search_runs(max_results=-1)


def test_experiments_and_delete(tr, grid):
    exps = {e.name: e.n_runs for e in tr.list_experiments()}
    assert exps == {"grid": 6, "other": 1}
    with tr.start_run(experiment="grid", name="parent") as parent, tr.start_run(name="kid") as kid:
        kid.log_metric("m", 1.0)
    deleted = tr.delete_runs(parent.id)
    assert set(deleted) == {parent.id, kid.id}
    with pytest.raises(NotFoundError, match=kid.id):
        tr.get_run(kid.id)
    assert len(tr.search_runs("grid")) == 6


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #
def test_bad_input_is_a_clear_error_and_loses_nothing(tr):
    with tr.start_run() as run:
        run.log_params({"C": 1.0})
        run.log_metric("loss", 0.5)
        run.log_params({"C": 1.0})  # the same value again: fine
        with pytest.raises(ValueError, match=r"Parameter 'C' .* already logged as '1.0'.*'2.0'"):
            run.log_params({"C": 2.0, "other": 3})
        with pytest.raises(ValueError, match="Invalid metric name 'bad name!'"):
            run.log_metric("bad name!", 1.0)
        with pytest.raises(ValueError, match="Invalid parameter name"):
            run.log_params({"a;b": 1})
        with pytest.raises(ValueError, match="Invalid tag name ''"):
            run.set_tags({"": "x"})
        with pytest.raises(TypeError, match=r"Metric 'loss': the step must be an integer, got float 1\.5"):
            run.log_metric("loss", 1.0, step=1.5)
        with pytest.raises(TypeError, match="Metric 'loss': the step must be an integer, got the bool"):
            run.log_metric("loss", 1.0, step=True)
        with pytest.raises(TypeError, match="Metric 'loss': the value must be a number"):
            run.log_metric("loss", "0.3")
        with pytest.raises(ValueError, match="Invalid experiment name"):
            tr.start_run(experiment="a/../b")
        run.log_metric("loss", 0.25)
    rec = tr.get_run(run.id)
    assert rec.params == {"C": "1.0"} and rec.status == RunStatus.FINISHED  # 'other' was not half-logged
    assert [m.value for m in tr.get_metric_history(run.id, "loss")] == [0.5, 0.25]
    with pytest.raises(RuntimeError, match="has ended"):
        run.log_metric("loss", 1.0)
    with pytest.raises(NotFoundError, match="No run with id 'f00' in the store"):
        tr.get_run("f00")
    with pytest.raises(NotFoundError, match="No run with id 'f00'"):
        tr.get_metric_history("f00", "loss")
    with pytest.raises(RuntimeError, match="No active run"):
        tr.log_metric("loss", 1.0)
    with pytest.raises(NotFoundError, match="No run with id 'abc'"):
        tr.start_run(parent="abc")


def test_metric_value_conversions(tr):
    np = pytest.importorskip("numpy")
    with tr.start_run() as run:
        run.log_metric("a", np.float32(0.5), step=np.int64(2))
        run.log_metric("b", np.asarray(3.0))
        run.log_metric("c", 7)
    assert tr.get_run(run.id).metrics == {"a": 0.5, "b": 3.0, "c": 7.0}
    assert tr.get_metric_history(run.id, "a")[0].step == 2


# --------------------------------------------------------------------------- #
# the writer
# --------------------------------------------------------------------------- #
def test_writer_back_pressure_never_drops():
    written: list = []

    def slow_write(rows, conn=None):
        time.sleep(0.002)
        written.extend(rows)

    w = MetricWriter(slow_write, max_queue=8, batch_size=5)
    start = time.perf_counter()
    for i in range(400):
        w.put(("r", "m", float(i), i, 0.0))
    w.flush()
    assert [r[2] for r in written] == [float(i) for i in range(400)]  # all, in order
    assert w.batches_written >= 400 / 5  # small batches: the producer had to wait
    assert time.perf_counter() - start >= 0.002 * 400 / 5 * 0.5
    w.close()


def test_writer_keeps_a_failed_batch_and_reports_it():
    written: list = []
    fail = threading.Event()
    fail.set()

    def flaky(rows, conn=None):
        if fail.is_set():
            raise OSError("disk full")
        written.extend(rows)

    w = MetricWriter(flaky, batch_size=100)
    for i in range(10):
        w.put(("r", "m", float(i), i, 0.0))
    with pytest.raises(OSError, match="disk full"):
        w.flush()
    fail.clear()
    for i in range(10, 15):
        w.put(("r", "m", float(i), i, 0.0))
    w.flush()
    assert [r[3] for r in written] == list(range(15))
    w.close()


def test_writer_drops_only_what_can_never_be_written():
    from toolbox.store import NotFoundError as Missing

    written: list = []

    def write(rows, conn=None):
        if any(r[0] == "deleted-run" for r in rows):
            raise Missing("No run with id 'deleted-run'")
        written.extend(rows)

    w = MetricWriter(write, linger=0.5)
    w.put(("early-run", "m", 0.0, 0, 0.0))
    w.put(("deleted-run", "m", 1.0, 0, 0.0))  # one batch, two runs: only the deleted run's points go
    with pytest.raises(Missing, match="deleted-run"):
        w.flush()
    ops: list = []
    w.put_op(lambda conn: ops.append("op"))
    w.put(("live-run", "m", 2.0, 0, 0.0))
    w.flush()  # the bad batch did not block what came after it
    assert ops == ["op"] and [r[0] for r in written] == ["early-run", "live-run"]
    w.close()


def test_flush_makes_points_visible(tr):
    with tr.start_run() as run:
        for i in range(1000):
            run.log_metric("x", float(i))
        tr.flush()
        s = tracking._run._session()
        assert s.tracking.count_metric_points([run.id]) == 1000


def test_store_location_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOOLBOX_TRACKING_URI", str(tmp_path / "team-store"))
    monkeypatch.setenv("TOOLBOX_ARTIFACT_ROOT", str(tmp_path / "shared-artifacts"))
    _close_session()
    try:
        (tmp_path / "a.txt").write_text("x")
        with tracking.start_run() as run:
            run.log_artifact(tmp_path / "a.txt")
        assert tracking.get_store_uri() == str(tmp_path / "team-store" / "toolbox.db")
        assert (tmp_path / "shared-artifacts" / "sha256").is_dir()
        assert not (tmp_path / "toolbox-runs").exists()
        tracking.set_store(tmp_path / "explicit")  # set_store wins over the environment
        assert tracking.get_store_uri() == str(tmp_path / "explicit" / "toolbox.db")
        assert tracking.search_runs() == []
    finally:
        _close_session()
