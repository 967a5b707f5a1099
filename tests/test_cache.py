"""toolbox.cache: configure/info/clear/disabled, the memory LRU by bytes, memoize, independent copies, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import toolbox.cache as tc
from toolbox.cache._tiers import MemoryTiers, copy_value, measure


@pytest.fixture(autouse=True)
def fresh_cache():
    tc.configure()
    tc.clear()
    yield
    tc.configure()
    tc.clear()


# --------------------------------------------------------------------------- #
# configure / info / clear / disabled
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("kwargs, error, match", [
    ({"memory_bytes": -1}, ValueError, "memory_bytes must be >= 0"),
    ({"device_bytes": -5}, ValueError, "device_bytes must be >= 0"),
    ({"memory_bytes": 1.5}, TypeError, "memory_bytes must be a whole number"),
    ({"device_bytes": "1GB"}, TypeError, "device_bytes must be a whole number"),
    ({"memory_bytes": True}, TypeError, "memory_bytes"),
    ({"enabled": "yes"}, TypeError, "enabled must be True or False"),
    ({"directory": 3}, TypeError, "directory must be a path"),
])
def test_configure_rejects_bad_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        tc.configure(**kwargs)
    assert tc.info()["memory"]["limit_bytes"] == 2**30  # nothing changed


def test_configure_rejects_an_unusable_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"directory=.*cannot be used for the cache"):
        tc.configure(directory=blocker / "sub")


def test_info_counts_hits_misses_entries_and_bytes():
    calls = []

    @tc.memoize
    def double(x):
        calls.append(1)
        return x * 2

    x = np.arange(1000, dtype=np.float64)
    info = tc.info()
    assert (info["hits"], info["misses"], info["memory"]["entries"]) == (0, 0, 0)
    double(x)
    double(x.copy())
    double(x + 1)
    info = tc.info()
    assert len(calls) == 2
    assert (info["hits"], info["misses"], info["stores"]) == (1, 2, 2)
    assert info["memory"]["hits"] == 1 and info["memory"]["entries"] == 2
    assert info["memory"]["bytes"] >= 2 * x.nbytes
    assert info["device"] == {"entries": 0, "bytes": 0, "limit_bytes": 2**30, "hits": 0}
    assert info["disk"] is None
    tc.clear()
    info = tc.info()
    assert (info["hits"], info["misses"], info["memory"]["entries"], info["memory"]["bytes"]) == (0, 0, 0, 0)
    double(x)
    assert len(calls) == 3


def test_disabled_and_enabled_false_bypass_the_cache():
    calls = []

    @tc.memoize
    def f(x):
        calls.append(1)
        return x + 1

    x = np.ones(3)
    f(x)
    with tc.disabled():
        f(x)
        f(x)
    assert len(calls) == 3
    f(x)
    assert len(calls) == 3  # a hit again outside the block
    tc.configure(enabled=False)
    f(x)
    assert len(calls) == 4
    assert tc.info()["enabled"] is False


def test_disabled_is_context_local():
    calls = []

    @tc.memoize
    def f(x):
        calls.append(1)
        return x

    x = np.ones(3)
    f(x)
    seen = []
    with tc.disabled():
        t = threading.Thread(target=lambda: seen.append(f(x)))
        t.start()
        t.join()
    assert len(calls) == 1  # the other thread still used the cache


# --------------------------------------------------------------------------- #
# The LRU by bytes
# --------------------------------------------------------------------------- #


def test_lru_evicts_least_recently_used_by_bytes():
    calls = []

    @tc.memoize
    def block(i):
        calls.append(i)
        return np.full(125_000, float(i))  # 1 MB each

    tc.configure(memory_bytes=3_500_000)
    for i in range(3):
        block(i)
    block(0)  # 0 is now the most recently used
    block(3)  # evicts 1, the least recently used
    assert tc.info()["evictions"] == 1
    calls.clear()
    block(0)
    block(2)
    block(3)
    assert calls == []
    block(1)
    assert calls == [1]
    info = tc.info()
    assert info["memory"]["bytes"] <= 3_500_000
    assert info["memory"]["entries"] == 3


def test_an_entry_larger_than_the_budget_is_not_kept():
    @tc.memoize
    def big():
        return np.zeros(1_000_000)

    tc.configure(memory_bytes=1_000_000)
    big()
    info = tc.info()
    assert info["memory"]["entries"] == 0 and info["too_large"] == 1
    tc.configure(memory_bytes=0)
    assert tc.info()["memory"]["bytes"] == 0


def test_shrinking_the_budget_evicts():
    @tc.memoize
    def block(i):
        return np.full(125_000, float(i))

    for i in range(4):
        block(i)
    assert tc.info()["memory"]["entries"] == 4
    tc.configure(memory_bytes=2_100_000)
    assert tc.info()["memory"]["entries"] == 2


def test_device_budget_is_separate():
    tiers = MemoryTiers(memory_bytes=10_000, device_bytes=100)
    assert tiers.put("a", 1, sizes=(10, 90))
    assert tiers.put("b", 2, sizes=(10, 0))
    assert tiers.put("c", 3, sizes=(10, 50))  # the device budget evicts "a", the host entry stays
    assert "a" not in tiers and "b" in tiers and "c" in tiers
    assert not tiers.put("d", 4, sizes=(10, 101))
    stats = tiers.stats()
    assert stats["device"] == {"entries": 1, "bytes": 50, "limit_bytes": 100}
    assert stats["memory"]["entries"] == 1 and stats["memory"]["bytes"] == 20


def test_measure_counts_each_array_once():
    a = np.zeros(1000)
    host, device = measure({"x": a, "y": [a, a], "z": np.ones(10)})
    assert a.nbytes + 80 <= host < a.nbytes + 80 + 2000
    assert device == 0


@pytest.mark.gpu
def test_cuda_entries_stay_on_the_device():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")

    @tc.memoize
    def f(x):
        return x * 2

    x = torch.ones(1000, device="cuda")
    f(x)
    out = f(x)
    assert out.device.type == "cuda"
    info = tc.info()
    assert info["device"]["entries"] == 1 and info["device"]["bytes"] >= 4000 and info["device"]["hits"] == 1


# --------------------------------------------------------------------------- #
# memoize
# --------------------------------------------------------------------------- #


def _framework_arrays():
    out = [("numpy", np.asarray)]
    try:
        import torch

        out.append(("torch", torch.as_tensor))
    except ImportError:
        pass
    try:
        import jax.numpy as jnp

        out.append(("jax", jnp.asarray))
    except ImportError:
        pass
    return out


@pytest.mark.parametrize("name, make", _framework_arrays(), ids=[n for n, _ in _framework_arrays()])
def test_memoize_by_content_on_each_framework(name, make):
    calls = []

    @tc.memoize
    def stats(x, *, scale=1.0):
        calls.append(1)
        return {"sum": x.sum() * scale, "twice": x * 2}

    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = make(base.copy())
    first = stats(x)
    again = stats(make(base.copy()))  # another object, same content
    assert len(calls) == 1
    assert type(again["twice"]) is type(x)
    np.testing.assert_array_equal(np.asarray(again["twice"]), base * 2)
    stats(make(base + 1))
    stats(x, scale=2.0)
    assert len(calls) == 3
    assert float(first["sum"]) == float(again["sum"])


def test_memoize_binds_arguments():
    calls = []

    @tc.memoize
    def f(x, k=2):
        calls.append(1)
        return x * k

    x = np.ones(3)
    f(x)
    f(x, 2)
    f(x, k=2)
    f(x=x, k=2)
    assert len(calls) == 1
    f(x, 3)
    assert len(calls) == 2


def test_memoize_returns_independent_copies():
    @tc.memoize
    def f(x):
        return x * 2, [x + 1]

    x = np.arange(5.0)
    a, (b,) = f(x)
    a[:] = -1
    b[:] = -1
    c, (d,) = f(x)
    np.testing.assert_array_equal(c, np.arange(5.0) * 2)
    np.testing.assert_array_equal(d, np.arange(5.0) + 1)


def test_memoize_stores_a_copy_of_what_the_function_returned():
    keep = {}

    @tc.memoize
    def f(x):
        keep["out"] = x * 2
        return keep["out"]

    x = np.arange(4.0)
    f(x)
    keep["out"][:] = 99  # the function's own reference to its result, mutated later
    np.testing.assert_array_equal(f(x), np.arange(4.0) * 2)


def test_memoize_torch_hit_is_a_copy():
    torch = pytest.importorskip("torch")

    @tc.memoize
    def f(x):
        return x + 1

    x = torch.zeros(4)
    out = f(x)
    out.add_(100)
    np.testing.assert_array_equal(f(x).numpy(), np.ones(4))


def test_memoize_distinguishes_closures_and_runs_unkeyable_calls():
    def make(k):
        @tc.memoize
        def scaled(x):
            return x * k
        return scaled

    x = np.ones(3)
    np.testing.assert_array_equal(make(2)(x), 2 * x)
    np.testing.assert_array_equal(make(3)(x), 3 * x)

    calls = []

    @tc.memoize
    def draw(rng):
        calls.append(1)
        return rng.standard_normal(2)

    r = np.random.default_rng(0)
    a, b = draw(r), draw(r)
    assert len(calls) == 2 and not np.array_equal(a, b)  # a generator advances: never cached
    assert tc.info()["uncacheable"] == 2


def test_memoize_with_an_unkeyable_closure_is_cached_in_this_process_only():
    lock = threading.Lock()  # not keyable
    calls = []

    @tc.memoize
    def f(x):
        with lock:
            calls.append(1)
        return x + 1

    x = np.ones(2)
    f(x)
    f(x)
    assert len(calls) == 1


def test_memoize_arguments():
    @tc.memoize(persist=False)
    def f(x):
        return x

    np.testing.assert_array_equal(f(np.ones(2)), np.ones(2))
    with pytest.raises(TypeError, match="memoize decorates a function"):
        tc.memoize(3)
    assert f.__name__ == "f"


def test_copy_value_keeps_order_sharing_and_types():
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    value = {"a": a, "again": a, "t": (1, "s", None), "l": [a]}
    out = copy_value(value)
    assert out["a"] is not a and out["a"].flags.f_contiguous
    assert out["again"] is out["a"] and out["l"][0] is out["a"]
    assert out["t"] == (1, "s", None)


# --------------------------------------------------------------------------- #
# Threads
# --------------------------------------------------------------------------- #


def test_threads_share_the_cache_and_compute_a_key_once():
    calls = []
    start = threading.Barrier(8)

    @tc.memoize
    def slow(x):
        calls.append(1)
        import time

        time.sleep(0.05)
        return x * 3

    x = np.arange(100.0)
    results = []
    errors = []

    def work():
        try:
            start.wait()
            for i in range(20):
                results.append(slow(x if i % 2 == 0 else x + 1))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(calls) == 2  # one computation per key, whatever the number of threads
    assert len(results) == 160
    for r in results:
        assert np.array_equal(r, x * 3) or np.array_equal(r, (x + 1) * 3)
