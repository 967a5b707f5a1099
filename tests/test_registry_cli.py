"""``toolbox registry list|show|versions|promote|rollback|history|compare|search|fsck``."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("rich")

from rich.console import Console

import toolbox.registry as registry
from toolbox.cli import main
from toolbox.linear_model import LogisticRegression


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOOLBOX_USER", "cli-user")
    for k in ("TOOLBOX_TRACKING_URI", "TOOLBOX_REGISTRY_URI", "TOOLBOX_ARTIFACT_ROOT"):
        monkeypatch.delenv(k, raising=False)
    path = tmp_path / "store"
    registry.set_store(path)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    y = (X[:, 0] > 0).astype(int)
    for C, auc in ((1.0, 0.9), (0.1, 0.95)):
        registry.register(LogisticRegression(C=C).fit(X, y), "churn", bump="minor", metrics={"auc": auc},
                          tags={"team": "risk"})
    registry.register(LogisticRegression(C=0.5).fit(X, y), "fraud")
    try:
        yield path
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)


def _run(store, *argv):
    buf = io.StringIO()
    code = main(["--store", str(store), "registry", *argv], console=Console(file=buf, width=200, color_system=None))
    return code, buf.getvalue()


def test_list_versions_show(store):
    code, out = _run(store, "list")
    assert code == 0 and "2 models" in out and "churn" in out and "1.1.0" in out and "fraud" in out
    code, out = _run(store, "versions", "churn")
    assert code == 0 and out.index("1.1.0") < out.index("1.0.0") and "metrics.auc" in out and "0.95" in out
    code, out = _run(store, "versions", "churn", "--range", "~1.0")
    assert code == 0 and "1 version " in out and "1.1.0" not in out
    code, out = _run(store, "show", "churn", "1.0.0")
    assert code == 0 and "LogisticRegression" in out and "metrics.auc" in out and "tags.team" in out
    assert "cli-user" in out


def test_promote_rollback_history(store):
    assert _run(store, "promote", "churn", "1.0.0", "production", "-r", "first")[0] == 0
    code, out = _run(store, "promote", "churn", "1.1.0", "production", "--reason", "better")
    assert code == 0 and "churn 1.1.0 is in production" in out
    code, out = _run(store, "rollback", "churn", "production")
    assert code == 0 and "rolled back to 1.0.0" in out
    code, out = _run(store, "history", "churn", "--stage", "production")
    assert code == 0 and "3 changes" in out and "better" in out and "rollback" in out
    assert registry.get_version("churn", stage="production").version == "1.0.0"
    code, out = _run(store, "show", "churn", "--stage", "production")
    assert code == 0 and "churn 1.0.0" in out


def test_compare_search(store):
    code, out = _run(store, "compare", "churn", "1.0.0", "1.1.0")
    assert code == 0 and "params.C" in out and "metrics.auc" in out
    code, out = _run(store, "search", "tags.team = 'risk' and metrics.auc > 0.92")
    assert code == 0 and "1 version " in out and "1.1.0" in out
    code, out = _run(store, "search", "-o", "metrics.auc DESC")
    assert code == 0 and "3 versions" in out


def test_errors_exit_1_and_leave_the_registry_unchanged(store):
    before = registry.history("churn")
    for argv, msg in ((("promote", "churn", "9.9.9", "production"), "has no version 9.9.9"),
                      (("promote", "churn", "1.0.0", "prod"), "'prod' is not a stage"),
                      (("rollback", "churn", "production"), "no previous holder"),
                      (("show", "nope"), "No model named 'nope'"),
                      (("search", "colour = 'red'"), "Unknown field")):
        code, out = _run(store, *argv)
        assert code == 1 and "error:" in out and msg in out
    assert registry.history("churn") == before


def test_fsck(store):
    code, out = _run(store, "fsck")
    assert code == 0 and "0 error(s)" in out
    reg = registry.get_registry()
    with reg.store.read() as conn:
        manifest = json.loads(reg._resolve(conn, "fraud", "1.0.0").manifest)
    blob = reg.store.artifacts.path_of(manifest["files"]["model.json"]["sha256"])
    blob.unlink()
    code, out = _run(store, "fsck")
    assert code == 1 and "1 error(s)" in out and "model 'fraud' version 1.0.0" in out and "missing" in out
    (reg.store.artifacts.root / "sha256" / "ab").mkdir(parents=True, exist_ok=True)
    (reg.store.artifacts.root / "sha256" / "ab" / ("ab" * 32)).write_bytes(b"orphan")
    code, out = _run(store, "fsck", "--quick")
    assert code == 1 and "garbage: unreferenced blob abababab" in out
