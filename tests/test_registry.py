"""The model registry: semver, registration and metadata, loading, stages, lineage, search, compare, bad input.

Store-backed tests run on SQLite (a temporary folder) and on PostgreSQL (a
fresh schema on ``TOOLBOX_TEST_POSTGRES_URL``; skipped with a reason when it is
unset or unreachable; ``.ci/run`` always starts one). The concurrency, SIGKILL,
A/B, CLI and docs tests are in ``test_registry_*.py``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sqlalchemy")

from test_store import store_uri  # noqa: F401 - the fixture (SQLite and PostgreSQL)

import toolbox.registry as registry
from toolbox.linear_model import LinearRegression, LogisticRegression
from toolbox.registry import (
    ArtifactError,
    DuplicateVersionError,
    InvalidVersionError,
    ModelNotFoundError,
    Range,
    RegistryError,
    SignatureMismatchError,
    StageError,
    Version,
    VersionNotFoundError,
)
from toolbox.registry._semver import SemverError
from toolbox.store import NotFoundError, StoreError

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- #
# fixtures (also used by the other test_registry_*.py files)
# --------------------------------------------------------------------------- #
@pytest.fixture
def reg(store_uri, tmp_path, monkeypatch):  # noqa: F811
    """The registry module pointed at a fresh store (artifacts in ``tmp_path/art``)."""
    monkeypatch.chdir(tmp_path)  # not a git repository: code_version is None unless given
    monkeypatch.setenv("TOOLBOX_USER", "tester")
    registry.set_store(store_uri, tmp_path / "art")
    try:
        yield registry
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    return X, y


def fit(data, C=1.0):
    X, y = data
    return LogisticRegression(C=C).fit(X, y)


def manifest(reg_module, name, version):
    """The stored manifest (file table) of one version."""
    r = reg_module.get_registry()
    with r.store.read() as conn:
        return json.loads(r._resolve(conn, name, version).manifest)


def snapshot(reg_module):
    """Everything a bad call must leave as it was: versions, holders, events, blobs."""
    r = reg_module.get_registry()
    from sqlalchemy import func, select

    from toolbox.store import _schema as S

    with r.store.read() as conn:
        counts = tuple(conn.execute(select(func.count()).select_from(t)).scalar() for t in (
            S.registry_models, S.registry_versions, S.registry_version_tags, S.registry_version_metrics,
            S.registry_lineage, S.registry_holders, S.registry_events, S.registry_ab_tests, S.registry_ab_records))
    blobs = r.store.artifacts.root / "sha256"
    files = sorted(str(p) for p in blobs.rglob("*")) if blobs.exists() else []
    return counts, files


# --------------------------------------------------------------------------- #
# semantic versions (no store)
# --------------------------------------------------------------------------- #
SPEC_ORDER = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
              "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0-0", "2.0.0-0.a", "2.0.0-1", "2.0.0-a",
              "2.0.0-a.0", "2.0.0-a-", "2.0.0-ab", "2.0.0", "10.0.0"]


def test_semver_precedence_and_key_agree_with_the_spec():
    vs = [Version.parse(s) for s in SPEC_ORDER]
    for a, b in itertools.pairwise(vs):
        assert a < b and b > a and not b <= a, (a, b)
        assert a.key < b.key, (a, b)
    shuffled = vs[:]
    random.Random(0).shuffle(shuffled)
    assert sorted(shuffled) == vs
    assert sorted(shuffled, key=lambda v: v.key) == vs
    assert Version.parse("1.0.0+build.7").same_precedence(Version.parse("1.0.0"))
    assert Version.parse("1.0.0+build.7").key == Version.parse("1.0.0").key
    assert str(Version.parse("1.2.3-rc.1+b.5")) == "1.2.3-rc.1+b.5"


def test_semver_key_order_on_random_versions():
    rng = random.Random(1)
    ids = ["0", "1", "2", "9", "10", "11", "a", "b", "a-", "alpha", "beta", "rc", "x1", "1a"]
    texts = set()
    while len(texts) < 400:
        core = ".".join(str(rng.choice([0, 1, 2, 9, 10, 11, 100])) for _ in range(3))
        pre = ".".join(rng.choice(ids) for _ in range(rng.randint(0, 3)))
        texts.add(core + (f"-{pre}" if pre else ""))
    vs = [Version.parse(t) for t in texts]
    assert sorted(vs) == sorted(vs, key=lambda v: v.key)


@pytest.mark.parametrize("bad", ["1", "1.2", "v1.2.3", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-", "1.2.3+", "",
                                 "1.2.3.4", "a.b.c", "1.2.3-rc..1", " ", "1" * 70 + ".0.0", None, 1.2])
def test_semver_rejects(bad):
    with pytest.raises(SemverError):
        Version.parse(bad)


def test_semver_bump():
    b = lambda s, p: str(Version.parse(s).bump(p))  # noqa: E731
    assert [b("1.4.2", p) for p in ("patch", "minor", "major")] == ["1.4.3", "1.5.0", "2.0.0"]
    assert [b("2.0.0-rc.1", p) for p in ("patch", "minor", "major")] == ["2.0.0", "2.0.0", "2.0.0"]
    assert [b("1.5.0-rc.1", p) for p in ("patch", "minor", "major")] == ["1.5.0", "1.5.0", "2.0.0"]
    assert [b("1.4.3-rc.1", p) for p in ("patch", "minor", "major")] == ["1.4.3", "1.5.0", "2.0.0"]
    with pytest.raises(SemverError, match="bump"):
        Version.parse("1.0.0").bump("micro")


RANGES = {  # range: (matching, not matching) — node-semver's behaviour
    "^1.4": (["1.4.0", "1.4.9", "1.9.0"], ["1.3.9", "2.0.0", "2.0.0-rc.1", "1.5.0-rc.1"]),
    "^1.4.2": (["1.4.2", "1.99.0"], ["1.4.1", "2.0.0"]),
    "^0.2.3": (["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
    "^0.0.3": (["0.0.3"], ["0.0.4", "0.0.2"]),
    "^0": (["0.0.1", "0.9.9"], ["1.0.0"]),
    "^2": (["2.0.0", "2.5.1"], ["1.9.9", "3.0.0", "2.1.0-a"]),
    "~1.4.2": (["1.4.2", "1.4.9"], ["1.5.0", "1.4.1"]),
    "~1.4": (["1.4.0", "1.4.7"], ["1.5.0", "1.3.0"]),
    "~1": (["1.0.0", "1.9.0"], ["2.0.0"]),
    "1.4.x": (["1.4.0", "1.4.5"], ["1.5.0"]),
    "1.x": (["1.0.0", "1.8.2"], ["2.0.0", "0.9.0"]),
    "*": (["0.0.0", "5.4.3"], ["1.0.0-rc.1"]),
    ">=1.2.3 <2": (["1.2.3", "1.9.9"], ["1.2.2", "2.0.0"]),
    ">=1.2.3, <2": (["1.2.3"], ["2.0.0"]),
    ">1.2": (["1.3.0"], ["1.2.9", "1.2.0"]),
    "<=1.2": (["1.2.9", "0.1.0"], ["1.3.0"]),
    "<1.2": (["1.1.9"], ["1.2.0", "1.2.0-rc.1"]),
    "1.2 - 2.3.4": (["1.2.0", "2.3.4"], ["2.3.5", "1.1.9"]),
    "1.2.3 - 2": (["1.2.3", "2.9.9"], ["3.0.0"]),
    "^1.0.0 || ^3.0.0": (["1.2.0", "3.1.0"], ["2.0.0"]),
    ">=1.0.0-rc.1 <1.0.0": (["1.0.0-rc.1", "1.0.0-rc.2"], ["1.0.0", "0.9.0", "1.0.1-rc.1"]),
    "=1.2.3": (["1.2.3", "1.2.3+b"], ["1.2.4"]),
    "!=1.2.3": (["1.2.4", "0.0.1"], ["1.2.3"]),
}


@pytest.mark.parametrize("text", list(RANGES))
def test_semver_ranges(text):
    rng = Range.parse(text)
    yes, no = RANGES[text]
    assert [v for v in yes if not rng.matches(v)] == []
    assert [v for v in no if rng.matches(v)] == []


@pytest.mark.parametrize("bad", ["^", "^1.x.y", ">=a", "1.2.3.4", "!=1.2", ">= 1 <", 5])
def test_semver_bad_ranges(bad):
    with pytest.raises(SemverError):
        Range.parse(bad)


# --------------------------------------------------------------------------- #
# register and metadata
# --------------------------------------------------------------------------- #
def test_register_numbers_versions_and_keeps_metadata(reg, data, tmp_path):
    from toolbox.cache._hashing import hash_array

    X, _ = data
    a = reg.register(fit(data), "churn", metrics={"auc": 0.91, "loss": float("nan")}, tags={"team": "risk", "n": 3},
                     description="first", data=X)
    assert a.version == "1.0.0"
    assert [reg.register(fit(data), "churn", bump=b).version for b in ("patch", "minor", "major", "patch")] == \
        ["1.0.1", "1.1.0", "2.0.0", "2.0.1"]
    assert reg.register(fit(data), "churn", version="3.0.0-rc.1").version == "3.0.0-rc.1"
    assert reg.register(fit(data), "churn", bump="minor").version == "3.0.0"  # a pre-release bumps to its release
    assert reg.register(fit(data), "churn", version="1.0.5").version == "1.0.5"  # a hotfix below the latest
    assert reg.register(fit(data), "churn").version == "3.0.1"
    got = reg.get_version("churn", "1.0.0")
    assert replace(got, metrics={}) == replace(a, metrics={})  # what register returned is what is stored
    assert got.signature == {"n_features": 3, "feature_names": None, "dtype": "float64", "classes": [0, 1]}
    assert got.estimator == "toolbox.linear_model.LogisticRegression"
    assert got.params["C"] == 1.0
    assert got.tags == {"team": "risk", "n": "3"} and got.metrics["auc"] == 0.91 and np.isnan(got.metrics["loss"])
    assert got.description == "first" and got.created_by == "tester"
    assert (got.backend, got.device, got.dtype) == ("numpy", "cpu", "float64")
    assert got.toolbox_version == __import__("toolbox").__version__
    assert got.data_fingerprint == hash_array(X) and got.code_version is None
    assert len(got.sha256) == 64 and got.size > 0 and time.time() - got.created_at < 600
    files = manifest(reg, "churn", "1.0.0")["files"]
    assert set(files) == {"arrays.safetensors", "model.json", "checksums.json"}
    assert sum(f["bytes"] for f in files.values()) == got.size
    assert [v.version for v in reg.versions("churn")] == ["3.0.1", "3.0.0", "3.0.0-rc.1", "2.0.1", "2.0.0",
                                                           "1.1.0", "1.0.5", "1.0.1", "1.0.0"]
    assert [v.version for v in reg.versions("churn", "^1")] == ["1.1.0", "1.0.5", "1.0.1", "1.0.0"]
    (m,) = reg.list_models()
    assert (m.name, m.n_versions, m.latest, m.description) == ("churn", 9, "3.0.1", "first")


def test_register_data_tuple_dataframe_and_fingerprint_text(reg, data):
    pd = pytest.importorskip("pandas")
    X, y = data
    a = reg.register(fit(data), "m", data=(X, y))
    b = reg.register(fit(data), "m", data=(X.copy(), y.copy()))
    c = reg.register(fit(data), "m", data=(X, 1 - y))
    d = reg.register(fit(data), "m", data=pd.DataFrame(X))
    e = reg.register(fit(data), "m", data="abc123")
    assert a.data_fingerprint == b.data_fingerprint != c.data_fingerprint
    assert d.data_fingerprint is not None and e.data_fingerprint == "abc123"


def test_lineage_run_code_parents_and_descendants(reg, data, store_uri, tmp_path, monkeypatch):  # noqa: F811
    from toolbox import tracking
    from toolbox.tracking._run import _close_session

    tracking.set_store(store_uri, tmp_path / "art")
    try:
        with tracking.start_run("churn", name="fit") as run:
            base = reg.register(fit(data), "base")
        assert base.run_id == run.id  # the active run
        explicit = reg.register(fit(data), "base", run=run.id)
        assert explicit.run_id == run.id
        with pytest.raises(RegistryError, match="no tracking run"):
            reg.register(fit(data), "base", run="f" * 32)
    finally:
        _close_session()
    monkeypatch.chdir(ROOT)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    tuned = reg.register(fit(data, 0.5), "churn", parents={"base:1.0.0": "fine_tuned_from"})
    assert tuned.code_version == commit
    other = reg.register(fit(data), "other", code_version="abc")
    ens = reg.register(fit(data), "ensemble", parents={tuned.ref: "ensembled_from", ("other", "1.0.0"): "ensembled_from"})
    up = reg.lineage("ensemble", ens.version)
    assert up.versions == (("churn", "1.0.0", "ensembled_from", 1), ("other", "1.0.0", "ensembled_from", 1),
                           ("base", "1.0.0", "fine_tuned_from", 2))
    assert reg.get_version("ensemble").parents == (("churn", "1.0.0", "ensembled_from"),
                                                   ("other", "1.0.0", "ensembled_from"))
    down = reg.descendants("base", "1.0.0")
    assert down.versions == (("churn", "1.0.0", "fine_tuned_from", 1), ("ensemble", "1.0.0", "ensembled_from", 2))
    assert down.run_id == run.id and down.run["name"] == "fit" and down.run["experiment"] == "churn"
    assert other.code_version == "abc" and reg.descendants("other", "1.0.0").versions[0][0] == "ensemble"


# --------------------------------------------------------------------------- #
# load
# --------------------------------------------------------------------------- #
def test_load_by_version_range_stage_alias_and_latest(reg, data):
    X, _ = data
    models = {}
    for C, version in ((1.0, "1.4.2"), (0.1, "1.5.0"), (0.01, "2.0.0"), (5.0, "1.4.9-rc.1")):
        models[version] = fit(data, C)
        reg.register(models[version], "churn", version=version)
    reg.promote("churn", "1.5.0", "production")
    reg.set_alias("churn", "champion", "1.4.2")
    cases = {"1.4.2": {"version": "1.4.2"}, "1.5.0": {"version": "^1.4"}, "2.0.0": {}}
    cases.update({"1.4.2 alias": {"alias": "champion"}, "1.5.0 stage": {"stage": "production"},
                  "1.4.9-rc.1": {"version": ">=1.4.9-rc.1 <1.4.9"}})
    for want, kw in cases.items():
        est = reg.load("churn", **kw)
        ref = models[want.split()[0]]
        np.testing.assert_array_equal(est.predict_proba(X), ref.predict_proba(X))
        assert est.get_params()["C"] == ref.get_params()["C"]
    est = reg.load("churn", "1.4.2", backend="numpy", device="cpu")
    assert type(est.coef_) is np.ndarray
    with pytest.raises(VersionNotFoundError, match=r"'churn'.*no version matches the range '\^3'"):
        reg.load("churn", "^3")
    with pytest.raises(VersionNotFoundError, match=r"no version 1\.4\.3"):
        reg.load("churn", "1.4.3")
    with pytest.raises(VersionNotFoundError, match="no version holds the stage 'staging'"):
        reg.load("churn", stage="staging")
    with pytest.raises(StageError, match="'prod' is not a stage"):
        reg.load("churn", stage="prod")
    with pytest.raises(ModelNotFoundError, match="No model named 'nope'"):
        reg.load("nope")
    with pytest.raises(RegistryError, match="one of version, stage or alias"):
        reg.load("churn", "1.4.2", stage="production")


def test_load_on_torch(reg, data):
    torch = pytest.importorskip("torch")
    X, _ = data
    reg.register(fit(data), "churn")
    est = reg.load("churn", backend="torch", device="cpu")
    assert isinstance(est.coef_, torch.Tensor)
    np.testing.assert_allclose(est.predict_proba(torch.asarray(X)).numpy(), fit(data).predict_proba(X))


def _blob(reg_module, name, version, file="arrays.safetensors"):
    r = reg_module.get_registry()
    return r.store.artifacts.path_of(manifest(reg_module, name, version)["files"][file]["sha256"])


@pytest.mark.parametrize("damage", ["missing", "truncated", "changed"])
def test_damaged_artifacts_are_refused_on_load_and_by_fsck(reg, data, damage):
    reg.register(fit(data), "churn")
    reg.register(fit(data, 0.3), "churn")
    path = _blob(reg, "churn", "1.0.0")
    raw = path.read_bytes()
    os.chmod(path, 0o644)
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    else:
        path.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    word = {"missing": "missing", "truncated": "changed or truncated", "changed": "changed or truncated"}[damage]
    with pytest.raises(ArtifactError, match=rf"Model 'churn' version 1\.0\.0: the artifact file arrays\.safetensors.*"
                                            rf"{word}") as info:
        reg.load("churn", "1.0.0")
    assert (info.value.model, info.value.version) == ("churn", "1.0.0")
    reg.load("churn", "1.0.1")  # the other version is intact
    report = reg.fsck()
    assert not report.ok and len(report.errors) == 1 and "model 'churn' version 1.0.0" in report.errors[0]
    if damage != "changed":
        assert not reg.fsck(verify_contents=False).ok
    assert reg.get_version("churn", "1.0.0").version == "1.0.0"  # the record stays: nothing is lost silently


def test_tampered_manifest_row_is_refused(reg, data):
    from sqlalchemy import update

    from toolbox.store import _schema as S

    reg.register(fit(data), "churn")
    with reg.get_registry().store.write() as conn:
        row = conn.execute(S.registry_versions.select()).first()
        doc = json.loads(row.manifest)
        doc["files"]["model.json"]["bytes"] += 1
        conn.execute(update(S.registry_versions).values(manifest=json.dumps(doc)))
    with pytest.raises(ArtifactError, match="manifest does not match"):
        reg.load("churn")
    assert any("manifest does not match" in e for e in reg.fsck().errors)


# --------------------------------------------------------------------------- #
# bad input leaves the registry unchanged
# --------------------------------------------------------------------------- #
def test_bad_input_is_typed_and_changes_nothing(reg, data):
    reg.register(fit(data), "churn", version="1.4.2", tags={"a": "b"})
    reg.promote("churn", "1.4.2", "staging")
    before = snapshot(reg)
    m = fit(data)
    bad_calls = [
        (InvalidVersionError, r"Model 'churn'.*'1\.4' is not a semantic version",
         lambda: reg.register(m, "churn", version="1.4")),
        (InvalidVersionError, "'v2.0.0' is not a semantic version", lambda: reg.register(m, "churn", version="v2.0.0")),
        (DuplicateVersionError, r"Model 'churn': version 1\.4\.2 is already registered",
         lambda: reg.register(m, "churn", version="1.4.2")),
        (DuplicateVersionError, r"1\.4\.2\+build has the same precedence as 1\.4\.2",
         lambda: reg.register(m, "churn", version="1.4.2+build")),
        (InvalidVersionError, "bump must be one of", lambda: reg.register(m, "churn", bump="micro")),
        (VersionNotFoundError, r"Model 'churn': parent churn:9\.9\.9 is not registered",
         lambda: reg.register(m, "churn", parents=["9.9.9"])),
        (VersionNotFoundError, "parent nope:1.0.0 is not registered",
         lambda: reg.register(m, "new", parents=["nope:1.0.0"])),
        (RegistryError, "metric 'auc' must be a number", lambda: reg.register(m, "churn", metrics={"auc": "high"})),
        (RegistryError, "not a valid model name", lambda: reg.register(m, " churn")),
        (RegistryError, "not a valid model name", lambda: reg.register(m, "")),
        (RegistryError, "longer than 1000", lambda: reg.register(m, "churn", tags={"t": "x" * 1001})),
        (VersionNotFoundError, r"Model 'churn' has no version 1\.5\.0", lambda: reg.promote("churn", "1.5.0",
                                                                                              "production")),
        (ModelNotFoundError, "No model named 'nope'", lambda: reg.promote("nope", "1.0.0", "production")),
        (StageError, r"Model 'churn' version 1\.4\.2: 'prod' is not a stage; stages are dev, staging, production, "
                     "archived", lambda: reg.promote("churn", "1.4.2", "prod")),
        (StageError, "'production' has no previous holder", lambda: reg.rollback("churn", "production")),
        (StageError, "'staging' has no previous holder", lambda: reg.rollback("churn", "staging")),
        (StageError, "'bogus' is not a stage", lambda: reg.rollback("churn", "bogus")),
        (StageError, "not a valid alias", lambda: reg.set_alias("churn", "production", "1.4.2")),
        (VersionNotFoundError, "no version holds the alias 'x'", lambda: reg.remove_alias("churn", "x")),
    ]
    for kind, pattern, call in bad_calls:
        with pytest.raises(kind, match=pattern):
            call()
        assert snapshot(reg) == before, pattern
    from toolbox.exceptions import NotPersistableError

    with pytest.raises(NotPersistableError):
        reg.register(object(), "churn")
    assert snapshot(reg)[0] == before[0]  # no row (the model folder was refused before any blob)


def test_errors_are_store_errors_and_carry_model_and_version(reg, data):
    reg.register(fit(data), "churn")
    with pytest.raises(StoreError):
        reg.get_version("churn", "7.0.0")
    with pytest.raises(NotFoundError) as info:  # KeyError too
        reg.get_version("churn", "7.0.0")
    assert isinstance(info.value, KeyError) and (info.value.model, info.value.version) == ("churn", "7.0.0")
    with pytest.raises(ValueError):
        reg.register(fit(data), "churn", version="x")


# --------------------------------------------------------------------------- #
# stages, aliases, history
# --------------------------------------------------------------------------- #
def test_promote_rollback_history_and_version_at(reg, data):
    for v in ("1.0.0", "1.1.0", "1.2.0"):
        reg.register(fit(data), "churn", version=v)
    t0 = time.time()
    assert reg.promote("churn", "1.0.0", "production", reason="first") is True
    assert reg.promote("churn", "1.0.0", "production") is False  # already: nothing logged
    reg.promote("churn", "1.1.0", "staging")
    t1 = time.time()
    reg.promote("churn", "1.1.0", "production", reason="better auc")  # leaves staging
    reg.promote("churn", "1.2.0", "production")
    assert reg.get_version("churn", stage="production").version == "1.2.0"
    assert reg.get_version("churn", "1.1.0").stage is None
    with pytest.raises(VersionNotFoundError):
        reg.get_version("churn", stage="staging")
    assert reg.rollback("churn", "production", reason="regression") == "1.1.0"
    assert reg.rollback("churn", "production") == "1.0.0"  # twice: two holders back
    with pytest.raises(StageError, match="no previous holder"):
        reg.rollback("churn", "production")
    events = reg.history("churn", "production")
    assert [(e.action, e.from_version, e.to_version) for e in events] == [
        ("promote", None, "1.0.0"), ("promote", "1.0.0", "1.1.0"), ("promote", "1.1.0", "1.2.0"),
        ("rollback", "1.2.0", "1.1.0"), ("rollback", "1.1.0", "1.0.0")]
    assert events[0].reason == "first" and events[3].reason == "regression" and events[0].actor == "tester"
    all_events = reg.history("churn")
    assert [(e.slot, e.action) for e in all_events][:4] == [("production", "promote"), ("staging", "promote"),
                                                           ("staging", "vacate"), ("production", "promote")]
    assert reg.version_at("churn", "production", t0 - 1) is None
    assert reg.version_at("churn", "production", t1) == "1.0.0"
    assert reg.version_at("churn", "production", time.time()) == "1.0.0"
    assert reg.version_at("churn", "staging", t1) == "1.1.0"
    assert reg.version_at("churn", "staging", time.time()) is None
    (m,) = reg.list_models()
    assert m.stages == {"production": "1.0.0"}


def test_rollback_takes_back_a_version_that_moved_on(reg, data):
    for v in ("1.0.0", "1.1.0"):
        reg.register(fit(data), "churn", version=v)
    reg.promote("churn", "1.0.0", "production")
    reg.promote("churn", "1.1.0", "production")
    reg.promote("churn", "1.0.0", "archived")
    assert reg.rollback("churn", "production") == "1.0.0"
    assert reg.get_version("churn", "1.0.0").stage == "production"
    with pytest.raises(VersionNotFoundError):
        reg.get_version("churn", stage="archived")  # it left archived (logged)
    assert reg.history("churn", "archived")[-1].action == "vacate"
    # the production holder moving away empties production; rollback brings it back
    reg.promote("churn", "1.0.0", "archived")
    with pytest.raises(VersionNotFoundError):
        reg.get_version("churn", stage="production")
    assert reg.rollback("churn", "production") == "1.0.0"
    assert reg.fsck().ok


def test_aliases(reg, data):
    for v in ("1.0.0", "1.1.0"):
        reg.register(fit(data), "churn", version=v)
    assert reg.set_alias("churn", "champion", "1.0.0") is True
    assert reg.set_alias("churn", "champion", "1.0.0") is False
    reg.set_alias("churn", "challenger", "1.1.0")
    reg.set_alias("churn", "champion", "1.1.0", reason="won")
    assert reg.get_version("churn", "1.1.0").aliases == ("challenger", "champion")
    assert reg.get_version("churn", alias="champion").version == "1.1.0"
    reg.remove_alias("churn", "challenger")
    assert [(e.action, e.from_version, e.to_version) for e in reg.history("churn", alias="champion")] == [
        ("alias", None, "1.0.0"), ("alias", "1.0.0", "1.1.0")]
    assert reg.history("churn", alias="challenger")[-1].action == "unalias"
    assert reg.list_models()[0].aliases == {"champion": "1.1.0"}
    assert reg.fsck().ok


# --------------------------------------------------------------------------- #
# search
# --------------------------------------------------------------------------- #
@pytest.fixture
def catalogue(reg, data):
    m = fit(data)
    rows = [("churn", "1.4.2", "risk", 0.91), ("churn", "1.5.0", "risk", 0.95), ("churn", "2.0.0", "growth", 0.85),
            ("churn-eu", "2.1.0", "risk", 0.97), ("fraud", "0.3.0", "risk", 0.99), ("fraud", "2.0.0-rc.1", "x", 0.5)]
    for name, version, team, auc in rows:
        reg.register(m, name, version=version, tags={"team": team, "odd-name": "y"}, metrics={"auc": auc})
    reg.promote("churn", "1.5.0", "production")
    reg.promote("fraud", "0.3.0", "production")
    reg.set_alias("churn", "champion", "1.4.2")
    return reg


def _found(reg_module, f, **kw):
    return [f"{v.name}:{v.version}" for v in reg_module.search(f, **kw)]


SEARCHES = {
    None: ["churn:2.0.0", "churn:1.5.0", "churn:1.4.2", "churn-eu:2.1.0", "fraud:2.0.0-rc.1", "fraud:0.3.0"],
    "name like 'churn%' and tags.team = 'risk' and metrics.auc >= 0.9 and stage = 'production' or version ~ '^2'":
        ["churn:2.0.0", "churn:1.5.0", "churn-eu:2.1.0"],
    "name like 'churn%' and (stage = 'production' or version ~ '^2')": ["churn:2.0.0", "churn:1.5.0",
                                                                       "churn-eu:2.1.0"],
    "version ~ '>=2.0.0-rc.1'": ["churn:2.0.0", "churn-eu:2.1.0", "fraud:2.0.0-rc.1"],
    "version >= '1.5'": ["churn:2.0.0", "churn:1.5.0", "churn-eu:2.1.0"],
    "version = '1.4'": ["churn:1.4.2"],
    "version != '1.4.2' and name = 'churn'": ["churn:2.0.0", "churn:1.5.0"],
    "stage is null and name in ('churn', 'fraud')": ["churn:2.0.0", "churn:1.4.2", "fraud:2.0.0-rc.1"],
    "stage != 'production'": [],
    "alias = 'champion'": ["churn:1.4.2"],
    "not tags.team = 'risk'": ["churn:2.0.0", "fraud:2.0.0-rc.1"],
    "tags.`odd-name` = 'y' and metrics.auc > 0.96": ["churn-eu:2.1.0", "fraud:0.3.0"],
    "metrics.missing is null and tags.team ilike 'RI%'": ["churn:1.5.0", "churn:1.4.2", "churn-eu:2.1.0",
                                                          "fraud:0.3.0"],
    "estimator = 'toolbox.linear_model.LogisticRegression' and created_by = 'tester' and size > 0 and name = 'fraud'":
        ["fraud:2.0.0-rc.1", "fraud:0.3.0"],
    "name = 'x'' or 1=1 --'": [],  # quotes stay inside the bound value
}


@pytest.mark.parametrize("f", list(SEARCHES), ids=[str(i) for i in range(len(SEARCHES))])
def test_search_filters(catalogue, f):
    assert _found(catalogue, f) == SEARCHES[f]


def test_search_order_and_limit(catalogue):
    assert _found(catalogue, "tags.team = 'risk'", order_by=["metrics.auc DESC"]) == [
        "fraud:0.3.0", "churn-eu:2.1.0", "churn:1.5.0", "churn:1.4.2"]
    assert _found(catalogue, None, order_by="version", max_results=3) == ["fraud:0.3.0", "churn:1.4.2", "churn:1.5.0"]
    assert _found(catalogue, "name = 'churn'", order_by=["stage", "version DESC"]) == [
        "churn:1.5.0", "churn:2.0.0", "churn:1.4.2"]
    got = catalogue.search("stage = 'production'")
    assert [(v.stage, v.tags["team"]) for v in got] == [("production", "risk"), ("production", "risk")]


def test_search_ordered_by_a_metric_walks_its_index_with_the_same_answer(reg, data, monkeypatch):
    # ties at every window edge, a NaN metric and versions without it: the bounded index
    # walk (used when the order starts with a metric) must agree with sorting every match
    import toolbox.registry._api as api
    import toolbox.registry._search as search_module

    m = fit(data)
    aucs = [0.9, 0.8, 0.9, float("nan"), 0.7, 0.9, None, 0.8, 0.95, None, 0.7, 0.9]
    for i, auc in enumerate(aucs):
        metrics = {"loss": i / 10} if auc is None else {"auc": auc, "loss": i / 10}
        reg.register(m, "a" if i % 2 else "b", version=f"1.{i}.0", tags={"team": "risk" if i % 3 else "ops"},
                     metrics=metrics)

    def found(f, order, limit):
        return [f"{v.name}:{v.version}" for v in reg.search(f, order_by=order, max_results=limit)]

    cases = [(f, order, limit)
             for f in (None, "tags.team = 'risk'", "name = 'a' or metrics.loss < 0.3", "metrics.auc > 0.75")
             for order in (["metrics.auc DESC"], ["metrics.auc"], ["metrics.auc DESC", "version"],
                           ["metrics.loss DESC", "name"])
             for limit in (1, 2, 3, 5, 100)]
    with monkeypatch.context() as mp:
        mp.setattr(search_module, "metric_walk", lambda *a: None)  # the plain sort of every match
        expected = [found(*c) for c in cases]
    assert expected[0] == ["b:1.8.0"]
    for window in (1, 2, 3, 4, 1000):
        monkeypatch.setattr(api, "_WALK_WINDOW", window)
        assert [found(*c) for c in cases] == expected, window


@pytest.mark.parametrize("bad, msg", [
    ("colour = 'red'", "Unknown field 'colour'"), ("metrics.auc > 'high'", "compare it with a number"),
    ("tags.team > 'a'", "is text"), ("version ~ 'abc'", "cannot read"), ("name ~ '^1'", "applies to version only"),
    ("name = 'a' and", "Expected a field"), ("(name = 'a'", r"Expected '\)'"), ("name = 'a' name = 'b'", "Unexpected"),
    ("stage is 'x'", "Expected 'null'"), ("version = 3", "quoted version"), ("name = 'a' @", "Cannot read"),
])
def test_search_syntax_errors(catalogue, bad, msg):
    from toolbox.registry import FilterSyntaxError

    with pytest.raises(FilterSyntaxError, match=msg):
        catalogue.search(bad)
    with pytest.raises(FilterSyntaxError):
        catalogue.search(None, order_by=["bogus DESC"])


# --------------------------------------------------------------------------- #
# compare
# --------------------------------------------------------------------------- #
def test_compare_metadata_metrics_scores_and_param_diff(reg, data):
    X, y = data
    a, b = fit(data, 1.0), fit(data, 0.01)
    reg.register(a, "churn", metrics={"auc": 0.9})
    reg.register(b, "churn", metrics={"auc": 0.8, "f1": 0.7}, tags={"team": "risk"})
    reg.promote("churn", "1.0.1", "staging")
    cmp_ = reg.compare("churn", ["1.0.0", "1.0.1"], X, y)
    assert cmp_.versions == ("1.0.0", "1.0.1")
    assert cmp_["stage"] == {"1.0.0": None, "1.0.1": "staging"}
    assert cmp_["auc"] == {"1.0.0": 0.9, "1.0.1": 0.8} and cmp_["f1"] == {"1.0.0": None, "1.0.1": 0.7}
    assert cmp_["tags.team"] == {"1.0.0": None, "1.0.1": "risk"}
    assert cmp_["accuracy"] == {"1.0.0": float(np.mean(a.predict(X) == y)), "1.0.1": float(np.mean(b.predict(X) == y))}
    assert cmp_["agreement_with_1.0.0"]["1.0.0"] == 1.0
    assert cmp_.params_diff == {"C": {"1.0.0": 1.0, "1.0.1": 0.01}}
    assert [s for s, lab, _ in cmp_.rows if lab == "C"] == ["params"]
    text = str(cmp_)
    assert "scores.accuracy" in text and "params.C" in text and "metrics.auc" in text
    no_data = reg.compare("churn", ["1.0.0", "^1"])
    assert no_data.versions == ("1.0.0", "1.0.1") and "accuracy" not in no_data.to_dict()
    pd = pytest.importorskip("pandas")
    frame = cmp_.to_pandas()
    assert frame.loc[("params", "C"), "1.0.1"] == 0.01 and isinstance(frame, pd.DataFrame)


def test_compare_regressors_and_signature_mismatch(reg, data):
    pd = pytest.importorskip("pandas")
    X, _ = data
    yr = X @ np.array([1.0, -2.0, 0.5])
    reg.register(LinearRegression().fit(X, yr), "price")
    reg.register(LinearRegression().fit(X[:, :2], yr), "price")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    reg.register(LinearRegression().fit(frame, yr), "named")
    cmp_ = reg.compare("price", ["1.0.0"], X, yr)
    assert cmp_["r2"]["1.0.0"] == pytest.approx(1.0) and cmp_["mse"]["1.0.0"] == pytest.approx(0.0, abs=1e-12)
    before = snapshot(reg)
    with pytest.raises(SignatureMismatchError, match=r"Model 'price' version 1\.0\.1 expects 2 features, X has 3") \
            as info:
        reg.compare("price", ["1.0.0", "1.0.1"], X, yr)
    assert (info.value.model, info.value.version) == ("price", "1.0.1")
    with pytest.raises(SignatureMismatchError, match=r"'named' version 1\.0\.0 expects the features \['a', 'b', 'c'\]"):
        reg.compare("named", ["1.0.0"], frame.rename(columns={"c": "z"}), yr)
    with pytest.raises(SignatureMismatchError, match="X has 120 rows but y has 3"):
        reg.compare("price", ["1.0.0"], X, yr[:3])
    with pytest.raises(SignatureMismatchError, match="must be 2-D"):
        reg.compare("price", ["1.0.0"], X[:, 0], yr)
    with pytest.raises(VersionNotFoundError):
        reg.compare("price", ["1.0.0", "4.0.0"])
    assert snapshot(reg) == before


# --------------------------------------------------------------------------- #
# schema and store
# --------------------------------------------------------------------------- #
def test_registry_tables_come_from_the_migration(store_uri, tmp_path):  # noqa: F811
    """A version-2 database (tracking only) upgrades to the registry's schema and works."""
    from sqlalchemy import inspect

    from toolbox.store import _schema as S
    from toolbox.store import open_store

    store = open_store(store_uri, tmp_path / "art", migrate=False)
    try:
        assert store.upgrade(target=2) == 2
        with store.read() as conn:
            assert "registry_versions" not in inspect(conn).get_table_names()
        assert store.upgrade() == S.SCHEMA_VERSION >= 3
        r = registry.Registry(store)
        rng = np.random.default_rng(1)
        X = rng.standard_normal((30, 2))
        r.register(LogisticRegression().fit(X, X[:, 0] > 0), "m")
        assert r.get_version("m").version == "1.0.0"
    finally:
        store.close()


def test_default_store_is_the_tracking_store(tmp_path, monkeypatch, data):
    from toolbox import tracking
    from toolbox.tracking._run import _close_session

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLBOX_REGISTRY_URI", raising=False)
    monkeypatch.setenv("TOOLBOX_TRACKING_URI", str(tmp_path / "team"))
    try:
        registry.register(fit(data), "churn")
        assert registry.get_registry().store.location.path == (tmp_path / "team" / "toolbox.db").resolve()
        tracking.set_store(tmp_path / "other")
        assert registry.get_registry().store.location.path == (tmp_path / "other" / "toolbox.db").resolve()
        with pytest.raises(ModelNotFoundError):
            registry.get_version("churn")
        monkeypatch.setenv("TOOLBOX_REGISTRY_URI", str(tmp_path / "team"))
        assert registry.get_version("churn").version == "1.0.0"
    finally:
        _close_session()
        registry.get_registry().store.close()
        registry.set_store(None)
