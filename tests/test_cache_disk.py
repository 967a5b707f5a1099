"""The disk tier: entries in toolbox model folders, corrupted ones removed with a warning, several processes at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import toolbox
import toolbox.cache as tc
from toolbox import _hooks
from toolbox.cache._disk import CacheEntryWarning
from toolbox.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_cache():
    tc.configure()
    tc.clear()
    yield
    tc.configure()
    tc.clear()


@pytest.fixture
def disk_only(tmp_path):
    """A disk tier with no memory tier: every lookup reads the folder."""
    tc.configure(memory_bytes=0, directory=tmp_path / "cache")
    return tmp_path / "cache"


@pytest.fixture
def fits():
    seen = []

    def spy(est, method, call, args, kwargs):
        seen.append(type(est).__name__)
        return call()

    _hooks.add_fit_hook("test-disk-spy", spy)
    yield seen
    _hooks.remove_fit_hook("test-disk-spy")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    return X, (X[:, 0] > 0).astype(np.int64)


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in (root / "v1").glob("*/*") if not p.name.startswith("."))


def test_entries_are_model_folders_that_name_their_key(disk_only, data, fits):
    X, y = data
    with toolbox.config_context(cache=True):
        a = LogisticRegression().fit(X, y)
        b = LogisticRegression().fit(X, y)
    assert fits == ["LogisticRegression"]
    (entry,) = _entries(disk_only)
    assert sorted(f.name for f in entry.iterdir()) == ["arrays.safetensors", "checksums.json", "model.json"]
    doc = json.loads((entry / "model.json").read_text())
    assert doc["root"]["key"] == entry.name
    np.testing.assert_array_equal(a.coef_, b.coef_)
    info = tc.info()
    assert info["disk"]["hits"] == 1 and info["disk"]["entries"] == 1 and info["disk"]["bytes"] > 0


def test_memoize_persists_and_jax_torch_results_come_back_on_their_framework(disk_only):
    torch = pytest.importorskip("torch")
    calls = []

    @tc.memoize
    def f(x):
        return {"double": x * 2, "n": int(x.shape[0]), "name": "f"}

    t = torch.arange(5, dtype=torch.float32)
    f(t)
    out = f(t)
    calls.append(out)
    assert isinstance(out["double"], torch.Tensor)
    np.testing.assert_array_equal(out["double"].numpy(), np.arange(5) * 2)
    assert out["n"] == 5 and out["name"] == "f"
    assert tc.info()["disk"]["hits"] == 1


@pytest.mark.parametrize("damage", ["flip-array-byte", "truncate-arrays", "truncate-json", "drop-checksums",
                                    "foreign-key", "garbage-json"])
def test_a_damaged_entry_is_a_miss_removed_with_a_warning(disk_only, data, fits, damage):
    X, y = data
    with toolbox.config_context(cache=True):
        ref = LogisticRegression().fit(X, y)
    (entry,) = _entries(disk_only)
    arrays, doc, checks = entry / "arrays.safetensors", entry / "model.json", entry / "checksums.json"
    if damage == "flip-array-byte":
        raw = bytearray(arrays.read_bytes())
        raw[-3] ^= 0x10
        arrays.write_bytes(bytes(raw))
    elif damage == "truncate-arrays":
        arrays.write_bytes(arrays.read_bytes()[:-8])
    elif damage == "truncate-json":
        doc.write_bytes(doc.read_bytes()[:20])
    elif damage == "drop-checksums":
        checks.unlink()
    elif damage == "garbage-json":
        checks.write_text("{not json")
    else:  # a valid model folder, but the entry of another key
        import shutil

        from toolbox.io._values import save_value

        shutil.rmtree(entry)
        save_value({"key": "0" * 32, "value": {"state": {}, "result": {"self": True}}}, entry)
    with toolbox.config_context(cache=True), pytest.warns(CacheEntryWarning, match="unreadable toolbox cache"):
        got = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(got.coef_, ref.coef_)  # refitted, never a wrong model
    assert fits == ["LogisticRegression", "LogisticRegression"]
    # the bad entry was removed and the refit wrote a good one in its place
    (again,) = _entries(disk_only)
    assert not list(again.parent.glob(".*trash*"))
    with toolbox.config_context(cache=True), warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)
        LogisticRegression().fit(X, y)
    assert len(fits) == 2


def test_a_vanished_entry_is_a_plain_miss(disk_only, data, fits):
    X, y = data
    with toolbox.config_context(cache=True):
        LogisticRegression().fit(X, y)
        import shutil

        for e in _entries(disk_only):
            shutil.rmtree(e)
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheEntryWarning)
            LogisticRegression().fit(X, y)
    assert len(fits) == 2


def test_values_the_format_cannot_hold_stay_in_memory(tmp_path):
    tc.configure(directory=tmp_path / "c")

    @tc.memoize
    def f(x):
        return {"fn": np.sum, "x": x}

    f(np.ones(2))
    assert tc.info()["disk"]["entries"] == 0
    assert tc.info()["memory"]["entries"] == 1
    f(np.ones(2))
    assert tc.info()["memory"]["hits"] == 1


def test_clear_empties_the_folder(tmp_path, data):
    X, y = data
    root = tmp_path / "c"
    tc.configure(directory=root)
    with toolbox.config_context(cache=True):
        LogisticRegression().fit(X, y)
        LogisticRegression(C=2.0).fit(X, y)
    assert len(_entries(root)) == 2
    tc.clear()
    assert _entries(root) == []
    assert tc.info()["disk"]["entries"] == 0


_WORKER = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    import toolbox, toolbox.cache as tc
    from toolbox.cache._disk import CacheEntryWarning
    from toolbox.linear_model import LogisticRegression

    warnings.simplefilter("error", CacheEntryWarning)   # no entry may ever look corrupted
    directory, worker, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    tc.configure(memory_bytes=0, directory=directory)   # every lookup goes to the shared folder
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 8))
    y = (X[:, 0] - X[:, 1] > 0).astype(np.int64)
    Cs = [0.01, 0.1, 1.0, 10.0]
    with toolbox.config_context(cache=False):
        ref = {C: LogisticRegression(C=C).fit(X, y).coef_ for C in Cs}

    @tc.memoize
    def gram(a):
        return a.T @ a

    G = X.T @ X
    for r in range(rounds):
        for i, C in enumerate(Cs):
            C = Cs[(i + worker) % len(Cs)]
            with toolbox.config_context(cache=True):
                got = LogisticRegression(C=C).fit(X, y).coef_
            assert np.array_equal(got, ref[C]), (worker, r, C)
            assert np.array_equal(gram(X), G)
        if worker == 0 and r % 3 == 1:
            tc.clear()                                   # concurrent deletion under the readers
    print("ok", tc.info()["disk"]["hits"])
""")


def test_several_processes_share_one_disk_cache(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    directory = tmp_path / "shared"
    procs = [subprocess.Popen([sys.executable, str(script), str(directory), str(w), "8"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
        assert out.startswith("ok")
    hits = [int(out.split()[1]) for out, _ in outs]
    assert sum(hits) > 0  # the processes did read each other's entries
    assert list((directory / "v1").glob("*/.*")) == []  # no temporary or half-removed folder left
