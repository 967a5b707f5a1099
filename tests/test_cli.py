"""The ``toolbox`` command: runs list|show|compare|delete, experiments list."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("rich")

from rich.console import Console

from toolbox import tracking
from toolbox.cli import main
from toolbox.tracking._run import _close_session

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "store"
    tracking.set_store(path)
    ids = {}
    for C in ("0.1", "1.0"):
        with tracking.start_run("churn", name=f"lr-{C}") as run:
            run.log_params({"C": C})
            run.log_metric("accuracy", 0.8 if C == "0.1" else 0.9)
            run.log_metric("loss", float("nan"))
            ids[C] = run.id
    with tracking.start_run("other", name="solo") as run, tracking.start_run(name="inner") as kid:
        kid.log_metric("x", 1.0)
    ids["solo"], ids["inner"] = run.id, kid.id
    try:
        yield path, ids
    finally:
        _close_session()


def _run(*argv):
    buf = io.StringIO()
    code = main(list(argv), console=Console(file=buf, width=200, color_system=None))
    return code, buf.getvalue()


def test_runs_list(store):
    path, ids = store
    code, out = _run("--store", str(path), "runs", "list")
    assert code == 0
    assert "4 runs" in out and all(i[:12] in out for i in ids.values())
    assert "metrics.accuracy" in out and "params.C" in out and "nan" in out
    code, out = _run("--store", str(path), "runs", "list", "-e", "churn", "-f", "metrics.accuracy > 0.85",
                     "-o", "metrics.accuracy DESC")
    assert code == 0 and "1 run " in out and ids["1.0"][:12] in out and ids["0.1"][:12] not in out


def test_runs_show_and_compare(store):
    path, ids = store
    code, out = _run("--store", str(path), "runs", "show", ids["1.0"][:6])
    assert code == 0
    assert ids["1.0"] in out and "lr-1.0" in out and "finished" in out and "toolbox.version" in out
    assert "accuracy" in out and "0.9" in out
    code, out = _run("--store", str(path), "runs", "show", ids["solo"])
    assert code == 0 and "children" in out
    code, out = _run("--store", str(path), "runs", "compare", ids["0.1"], ids["1.0"])
    assert code == 0 and "params.C" in out and "0.1" in out and "1.0" in out and "metrics.accuracy" in out


def test_experiments_list(store):
    path, _ = store
    code, out = _run("--store", str(path), "experiments", "list")
    assert code == 0 and "2 experiments" in out and "churn" in out and "other" in out


def test_runs_delete(store, monkeypatch):
    path, ids = store
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: --yes is required
    code, out = _run("--store", str(path), "runs", "delete", ids["solo"])
    assert code == 1 and "--yes" in out
    code, out = _run("--store", str(path), "runs", "delete", ids["solo"], "--yes")
    assert code == 0 and "deleted 2 run(s)" in out
    code, out = _run("--store", str(path), "runs", "list")
    assert "2 runs" in out and ids["inner"][:12] not in out


def test_errors_are_one_clear_line(store):
    path, _ = store
    code, out = _run("--store", str(path), "runs", "show", "ffff")
    assert code == 1 and "No run id starts with 'ffff'" in out
    code, out = _run("--store", str(path), "runs", "show", "not-hex")
    assert code == 1 and "is not a run id" in out
    code, out = _run("--store", str(path), "runs", "list", "-f", "params.C = 1")
    assert code == 1 and "quote the value" in out
    code, out = _run("--store", str(path), "runs", "list", "-e", "nope")
    assert code == 1 and "No experiment named 'nope'" in out
    code, out = _run("--store", "postgresql://u:pw@127.0.0.1:9/db", "experiments", "list")
    assert code == 1 and "Cannot reach the store" in out and ":pw@" not in out


def test_console_script_entry_point(store, tmp_path):
    path, _ = store
    out = subprocess.run([sys.executable, "-m", "toolbox.cli", "--store", str(path), "experiments", "list"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "churn" in out.stdout
    text = (ROOT / "pyproject.toml").read_text()
    assert 'toolbox = "toolbox.cli:main"' in text
