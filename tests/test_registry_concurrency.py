"""The registry under concurrent writers: registrations, a registering process killed with SIGKILL, and
promotes/rollbacks against concurrent readers (SQLite and PostgreSQL where marked).

Sizes are what CI affords (8 x 25 registrations, 8 kills, 2 x 100 promote/rollback cycles);
``benchmarks/bench_registry.py`` runs 8 x 100 registrations and 1,000 cycles and reports the figures.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from test_registry import store_uri  # noqa: F401 - the fixture (SQLite and PostgreSQL)

import toolbox.registry as registry
from toolbox.registry._semver import Version

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = r"""
import os, sys, time
import numpy as np
import toolbox.registry as registry
from toolbox.linear_model import LogisticRegression
uri, art = sys.argv[1], sys.argv[2]
registry.set_store(uri, art)
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
X = rng.standard_normal((60, 3)); y = (X[:, 0] > 0).astype(int)
def gate(path):
    while not os.path.exists(path):
        time.sleep(0.005)
"""

REGISTER = PRELUDE + r"""
n, idx, go = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
model = LogisticRegression(C=1.0 / (idx + 1)).fit(X, y)
gate(go)
for i in range(n):
    mv = registry.register(model, "churn", tags={"worker": str(idx), "i": str(i)})
    print(mv.version, flush=True)
"""

VICTIM = PRELUDE + r"""
i = 0
print("ready", flush=True)
while True:
    mv = registry.register(LogisticRegression(C=float(i + 1)).fit(X, y), "churn", metrics={"i": i})
    print(mv.version, flush=True)  # acknowledged: committed
    i += 1
"""

FLIPPER = PRELUDE + r"""
cycles, go = int(sys.argv[3]), sys.argv[5]
versions = [f"1.0.{k}" for k in range(4)]
gate(go)
done = 0
for c in range(cycles):
    v = versions[int(rng.integers(len(versions)))]
    if registry.promote("churn", v, "production", reason=f"cycle {c}"):
        registry.rollback("churn", "production", reason=f"cycle {c}")
        done += 1
print(done, flush=True)
"""

READER = PRELUDE + r"""
go, stop = sys.argv[5], sys.argv[6]
gate(go)
checks = zero = two = 0
while not os.path.exists(stop) or checks < 20:
    try:
        registry.get_version("churn", stage="production")
    except registry.VersionNotFoundError:
        zero += 1
    n = len(registry.search("name = 'churn' and stage = 'production'"))
    zero += n == 0
    two += n > 1
    checks += 1
print(checks, zero, two, flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for k in ("TOOLBOX_TRACKING_URI", "TOOLBOX_REGISTRY_URI"):
        env.pop(k, None)
    return env


def _spawn(script: str, *args: object, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=cwd)


@pytest.fixture
def open_registry(store_uri, tmp_path):  # noqa: F811
    registry.set_store(store_uri, tmp_path / "art")
    try:
        yield registry
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)


def test_concurrent_registrations_get_exactly_the_consecutive_versions(store_uri, tmp_path):  # noqa: F811
    n_proc, n_each = 8, 25
    go = tmp_path / "go"
    procs = [_spawn(REGISTER, store_uri, tmp_path / "art", n_each, k, go, cwd=tmp_path) for k in range(n_proc)]
    go.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "lock" not in err.lower(), err
    printed = [out.split() for out, _ in outs]
    for mine in printed:  # each worker saw its own versions increase
        assert len(mine) == n_each
        assert [Version.parse(v) for v in mine] == sorted(Version.parse(v) for v in mine)
    want = [f"1.0.{k}" for k in range(n_proc * n_each)]
    assert sorted((v for mine in printed for v in mine), key=Version.parse) == want  # no gap, no duplicate
    registry.set_store(store_uri, tmp_path / "art")
    try:
        stored = registry.versions("churn")
        assert sorted(v.version for v in stored) == sorted(want)
        by_version = {v.version: v.tags["worker"] for v in stored}
        for k, mine in enumerate(printed):  # every version holds the model of the worker that got it
            assert {by_version[v] for v in mine} == {str(k)}
        assert registry.load("churn", stored[0].version).C == 1.0 / (int(stored[0].tags["worker"]) + 1)
        assert registry.fsck().ok
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)


def test_sigkill_at_random_points_never_leaves_a_broken_version(tmp_path):
    uri, art = str(tmp_path / "store"), tmp_path / "art"
    rnd = random.Random(7)
    acknowledged: list[str] = []
    kills = 8
    for _ in range(kills):
        p = _spawn(VICTIM, uri, art, cwd=tmp_path)
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
        time.sleep(rnd.uniform(0.0, 0.6))  # each registration takes a few tens of ms: any phase can be hit
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate(timeout=60)
        assert p.returncode == -signal.SIGKILL
        acknowledged += out.split()
    registry.set_store(uri, art)
    try:
        report = registry.fsck()
        assert report.ok, report.errors
        try:
            stored = [v.version for v in registry.versions("churn")]
        except registry.ModelNotFoundError:  # on a loaded machine every victim can die before its first commit
            assert not acknowledged
            stored = []
        assert set(acknowledged) <= set(stored)  # every acknowledged version survived
        assert sorted(stored, key=Version.parse) == [f"1.0.{k}" for k in range(len(stored))]  # and no gap
        for v in stored:  # every version's artifact is whole
            est = registry.load("churn", v)
            assert est.C == float(registry.get_version("churn", v).metrics["i"] + 1)
        # a killed run leaves at most garbage: blobs of an unregistered model and temporary files
        assert all(g.startswith(("unreferenced blob", "temporary file", "leftover folder")) for g in report.garbage)
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)
    proc = subprocess.run([sys.executable, "-m", "toolbox.cli", "--store", uri, "registry", "fsck"],
                          capture_output=True, text=True, env={**_env(), "TOOLBOX_ARTIFACT_ROOT": str(art)},
                          cwd=tmp_path, timeout=120)
    assert "0 error(s)" in proc.stdout, proc.stdout + proc.stderr


def test_promotes_and_rollbacks_never_show_zero_or_two_holders(store_uri, tmp_path, open_registry):  # noqa: F811
    import numpy as np

    from toolbox.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    m = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    for k in range(4):
        open_registry.register(m, "churn")
        open_registry.promote("churn", f"1.0.{k}", "production")  # a history to roll back through
    go, stop = tmp_path / "go", tmp_path / "stop"
    cycles = 100
    writers = [_spawn(FLIPPER, store_uri, tmp_path / "art", cycles, k + 1, go, cwd=tmp_path) for k in range(2)]
    readers = [_spawn(READER, store_uri, tmp_path / "art", 0, 0, go, stop, cwd=tmp_path) for _ in range(2)]
    go.touch()
    w_outs = [p.communicate(timeout=300) for p in writers]
    stop.touch()
    r_outs = [p.communicate(timeout=300) for p in readers]
    for p, (_out, err) in zip(writers + readers, w_outs + r_outs):
        assert p.returncode == 0, err
        assert "lock" not in err.lower(), err
    done = sum(int(out.split()[0]) for out, _ in w_outs)
    assert done > cycles  # most cycles changed the holder (a promote of the holder itself is a no-op)
    for out, _ in r_outs:
        checks, zero, two = map(int, out.split())
        assert checks >= 20 and zero == 0 and two == 0, out
    events = open_registry.history("churn", "production")
    assert len(events) == 4 + 2 * done
    assert sum(e.action == "rollback" for e in events) == done
    assert open_registry.get_version("churn", stage="production").version == "1.0.3"  # every push was popped
    assert open_registry.fsck().ok
