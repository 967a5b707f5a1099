"""toolbox.cache hashing and keys: every byte, shape, dtype, order, library, device, parameter and version counts."""

from __future__ import annotations

import importlib
import inspect
import tracemalloc

import numpy as np
import pytest
import xxhash

import toolbox
import toolbox.cache as tc
from toolbox.cache import _hashing
from toolbox.cache._estimators import fit_key
from toolbox.cache._keys import Uncacheable, canonical
from toolbox.linear_model import LogisticRegression

# --------------------------------------------------------------------------- #
# hash_array
# --------------------------------------------------------------------------- #


def test_public_names_are_honest():
    mod = importlib.import_module("toolbox.cache")
    assert sorted(mod.__all__) == ["clear", "configure", "disabled", "hash_array", "info", "memoize"]
    for attr, value in vars(mod).items():
        if not attr.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value)) and (
                value.__module__.startswith("toolbox.cache")):
            assert attr in mod.__all__, attr


def test_hash_is_xxh3_128_of_header_and_every_byte():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    h = xxhash.xxh3_128()
    _hashing._header(h, "numpy", _hashing._np_dtype_tag(a.dtype), a.shape, "C")
    h.update(a.tobytes())
    assert tc.hash_array(a) == h.hexdigest()
    assert len(tc.hash_array(a)) == 32


def test_every_byte_counts():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 7))
    base = tc.hash_array(a)
    assert tc.hash_array(a.copy()) == base
    for idx in [(0, 0), (150, 3), (299, 6)]:
        b = a.copy()
        b[idx] = np.nextafter(b[idx], np.inf)  # one bit of one value
        assert tc.hash_array(b) != base


@pytest.mark.parametrize("change", ["shape", "dtype", "order", "byteorder", "framework"])
def test_same_bytes_different_meaning_hash_differently(change):
    a = np.arange(24, dtype=np.float64).reshape(4, 6)
    if change == "shape":
        b = a.reshape(6, 4)
    elif change == "dtype":
        b = a.view(np.int64)
    elif change == "order":
        b = np.asfortranarray(a)
    elif change == "byteorder":
        b = a.astype(">f8")
    else:
        torch = pytest.importorskip("torch")
        b = torch.from_numpy(a)
    assert tc.hash_array(a) != tc.hash_array(b)


def test_c_buffer_and_its_transpose_differ():
    # the same buffer read as C (a) and as F (a.T): same bytes, shape and dtype, different data
    a = np.arange(16.0).reshape(4, 4)
    assert a.T.flags.f_contiguous
    assert tc.hash_array(a) != tc.hash_array(a.T)
    assert tc.hash_array(np.ascontiguousarray(a.T)) != tc.hash_array(a.T)  # same values, other order


def test_strided_arrays_stream_in_blocks(monkeypatch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((257, 33))
    views = [a[::3], a[:, ::2], a[5:200:7, 1::4], a[::-1], np.lib.stride_tricks.as_strided(a, (50, 50), (8, 8))]
    expected = [tc.hash_array(v) for v in views]
    monkeypatch.setattr(_hashing, "CHUNK_BYTES", 40)  # smaller than one row: rows recurse
    assert [tc.hash_array(v) for v in views] == expected
    monkeypatch.setattr(_hashing, "CHUNK_BYTES", 1000)
    assert [tc.hash_array(v) for v in views] == expected
    # strided data equals its C copy except for the order tag
    assert tc.hash_array(a[::3]) != tc.hash_array(np.ascontiguousarray(a[::3]))


def test_contiguous_arrays_are_hashed_without_a_copy():
    a = np.random.default_rng(2).standard_normal((1000, 1000))  # 8 MB
    f = np.asfortranarray(a)
    for x in (a, f):
        tracemalloc.start()
        tc.hash_array(x)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 1_000_000, peak
    tracemalloc.start()
    tc.hash_array(a[:, ::2])  # strided: one block at a time
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * _hashing.CHUNK_BYTES


def test_object_and_string_arrays():
    s = np.array(["a", "bb", "c"], dtype=object)
    assert tc.hash_array(s) == tc.hash_array(s.copy())
    assert tc.hash_array(s) != tc.hash_array(np.array(["a", "bb", "d"], dtype=object))
    assert tc.hash_array(s) != tc.hash_array(s.astype(str))  # object vs unicode dtype
    mixed = np.array(["1", 1, 1.0, True, None], dtype=object)
    other = np.array([1, "1", 1.0, True, None], dtype=object)
    assert tc.hash_array(mixed) != tc.hash_array(other)
    with pytest.raises(TypeError, match=r"object array holding a builtins\.list"):
        tc.hash_array(np.array([[1], "a"], dtype=object))


def test_masked_arrays_include_the_mask():
    a = np.ma.MaskedArray([1.0, 2.0, 3.0], mask=[0, 1, 0])
    b = np.ma.MaskedArray([1.0, 2.0, 3.0], mask=[0, 0, 1])
    assert tc.hash_array(a) != tc.hash_array(b)
    assert tc.hash_array(a) != tc.hash_array(np.ma.getdata(a))


def test_not_an_array():
    with pytest.raises(TypeError, match="hash_array needs an array"):
        tc.hash_array([1, 2, 3])


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((40, 6)).astype(np.float32)
    t = torch.from_numpy(a)
    assert tc.hash_array(t) == tc.hash_array(t.clone())
    assert tc.hash_array(t) == tc.hash_array(t.clone().requires_grad_())
    assert tc.hash_array(t) != tc.hash_array(t.T)
    assert tc.hash_array(t[::2]) == tc.hash_array(t.clone()[::2])
    b = torch.ones(5, dtype=torch.bfloat16)
    assert tc.hash_array(b) != tc.hash_array(torch.ones(5, dtype=torch.float16))
    assert tc.hash_array(b) != tc.hash_array(b.view(torch.int16))
    c = torch.tensor([1 + 2j, 3 - 1j])
    assert tc.hash_array(c.conj()) == tc.hash_array(c.conj().resolve_conj())
    assert tc.hash_array(c.conj()) != tc.hash_array(c)
    with pytest.raises(TypeError, match="dense"):
        tc.hash_array(torch.eye(3).to_sparse())


def test_jax_arrays():
    jnp = pytest.importorskip("jax.numpy")
    a = np.random.default_rng(4).standard_normal((30, 5)).astype(np.float32)
    j = jnp.asarray(a)
    assert tc.hash_array(j) == tc.hash_array(jnp.asarray(a.copy()))
    assert tc.hash_array(j) != tc.hash_array(a)
    assert tc.hash_array(j) != tc.hash_array(j + 1)


def test_array_api_strict():
    xps = pytest.importorskip("array_api_strict")
    a = xps.asarray([[1.0, 2.0], [3.0, 4.0]])
    assert tc.hash_array(a) == tc.hash_array(xps.asarray([[1.0, 2.0], [3.0, 4.0]]))
    assert tc.hash_array(a) != tc.hash_array(np.asarray([[1.0, 2.0], [3.0, 4.0]]))


@pytest.mark.gpu
def test_cuda_tensors_hash_like_their_host_copy(monkeypatch):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    a = torch.randn(1000, 37, dtype=torch.float64)
    monkeypatch.setattr(_hashing, "CHUNK_BYTES", 4096)  # several blocks through the pinned buffer
    for host in (a, a.T, a[::3], a[:, ::2], a.to(torch.bfloat16)):
        assert tc.hash_array(host.cuda()) == tc.hash_array(host)


@pytest.mark.gpu
def test_cupy_arrays_hash_their_bytes(monkeypatch):
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception:
        pytest.skip("no CUDA device")
    monkeypatch.setattr(_hashing, "CHUNK_BYTES", 4096)
    a = np.random.default_rng(5).standard_normal((500, 21))
    d = cp.asarray(a)
    for host, dev in ((a, d), (np.asfortranarray(a), cp.asfortranarray(d)), (a[::2], d[::2])):
        h = xxhash.xxh3_128()
        _hashing._hash_numpy(host, "cupy", h)
        assert tc.hash_array(dev) == h.hexdigest()


# --------------------------------------------------------------------------- #
# Keys of a fit
# --------------------------------------------------------------------------- #


@pytest.fixture
def data():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    w = rng.uniform(0.5, 2.0, 60)
    return X, y, w


def _key(est, X, y, **kw):
    return fit_key(est, "fit", (X, y), kw)


def _other(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 + 1
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return 1
    return "other"


def test_key_is_stable(data):
    X, y, w = data
    assert _key(LogisticRegression(), X, y) == _key(LogisticRegression(), X.copy(), y.copy())
    assert _key(LogisticRegression(C=2.0), X, y, sample_weight=w) == _key(
        LogisticRegression(C=2.0), X, y, sample_weight=w.copy())


@pytest.mark.parametrize("param", sorted(LogisticRegression().get_params()))
def test_key_changes_with_each_parameter(data, param):
    X, y, _ = data
    est = LogisticRegression()
    changed = LogisticRegression().set_params(**{param: _other(est.get_params()[param])})
    assert _key(est, X, y) != _key(changed, X, y)


def test_key_changes_with_class(data):
    X, y, _ = data

    class MyLogisticRegression(LogisticRegression):
        pass

    assert _key(LogisticRegression(), X, y) != _key(MyLogisticRegression(), X, y)
    assert fit_key(LogisticRegression(), "fit", (X, y), {}) != fit_key(LogisticRegression(), "fit_transform",
                                                                       (X, y), {})


def test_key_changes_with_user_subclass_code(data):
    X, y, _ = data

    def make(scale):
        class Custom(LogisticRegression):
            def fit(self, X, y, sample_weight=None):
                return super().fit(X * scale, y, sample_weight)
        return Custom

    # two classes of the same qualified name whose code differs
    A = make(1.0)
    B = type(A)("Custom", (LogisticRegression,), {"fit": lambda self, X, y: self, "__module__": A.__module__,
                                                  "__qualname__": A.__qualname__})
    assert _key(A(), X, y) != _key(B(), X, y)


@pytest.mark.parametrize("what", ["X", "y", "sample_weight"])
def test_key_changes_with_each_byte_of_the_data(data, what):
    X, y, w = data
    base = _key(LogisticRegression(), X, y, sample_weight=w)
    X2, y2, w2 = X.copy(), y.copy(), w.copy()
    if what == "X":
        X2[-1, -1] += 1e-12
    elif what == "y":
        y2[-1] = 1 - y2[-1]
    else:
        w2[30] = np.nextafter(w2[30], 0)
    assert _key(LogisticRegression(), X2, y2, sample_weight=w2) != base


def test_key_changes_with_shape_dtype_order_and_library(data):
    X, y, _ = data
    base = _key(LogisticRegression(), X, y)
    X_sq = np.arange(16.0).reshape(4, 4)
    keys = {
        base,
        _key(LogisticRegression(), X.reshape(30, 8), y[:30]),
        _key(LogisticRegression(), X.astype(np.float32), y),
        _key(LogisticRegression(), np.asfortranarray(X), y),
        _key(LogisticRegression(), X, y.astype(np.int32)),
        _key(LogisticRegression(), X_sq, y[:4]),
        _key(LogisticRegression(), X_sq.T, y[:4]),  # the same buffer, F-ordered
        _key(LogisticRegression(), X.tolist(), y),
    }
    assert len(keys) == 8
    with pytest.raises(Uncacheable):
        _key(LogisticRegression(), X, y, sample_weight=object())
    torch = pytest.importorskip("torch")
    assert _key(LogisticRegression(), torch.from_numpy(X), y) != base


def test_key_changes_with_backend_and_device(data):
    X, y, _ = data
    pytest.importorskip("torch")
    keys = [_key(LogisticRegression(), X, y)]
    with toolbox.use_backend("numpy"):
        keys.append(_key(LogisticRegression(), X, y))
    with toolbox.use_backend("torch"):
        keys.append(_key(LogisticRegression(), X, y))
    with toolbox.use_backend("torch", device="cpu"):
        keys.append(_key(LogisticRegression(), X, y))
    with toolbox.config_context(output_type="numpy"):
        keys.append(_key(LogisticRegression(), X, y))
    assert len(set(keys)) == len(keys)


def test_key_includes_the_input_device():
    torch = pytest.importorskip("torch")
    t = torch.zeros(3)
    assert canonical(t)[2] == "cpu"
    jnp = pytest.importorskip("jax.numpy")
    assert canonical(jnp.zeros(3))[2] == "cpu:0"


def test_key_changes_with_toolbox_version(data, monkeypatch):
    X, y, _ = data
    base = _key(LogisticRegression(), X, y)
    monkeypatch.setattr(toolbox, "__version__", "99.0.0")
    assert _key(LogisticRegression(), X, y) != base


def test_nested_estimators_and_grids_are_keyed_by_content(data):
    from sklearn.pipeline import Pipeline

    from toolbox.model_selection import GridSearchCV, KFold
    from toolbox.preprocessing import StandardScaler

    X, y, _ = data

    def search(C=1.0, grid=(0.1, 1.0), cv=3):
        pipe = Pipeline([("s", StandardScaler()), ("c", LogisticRegression(C=C))])
        return GridSearchCV(pipe, {"c__C": list(grid)}, cv=cv)

    base = _key(search(), X, y)
    assert _key(search(), X, y) == base
    assert _key(search(C=2.0), X, y) != base
    assert _key(search(grid=(0.1, 1.0, 10.0)), X, y) != base
    assert _key(search(grid=(1.0, 0.1)), X, y) != base  # candidate order decides cv_results_
    assert _key(search(cv=KFold(3)), X, y) != base
    assert _key(search(cv=KFold(3)), X, y) == _key(search(cv=KFold(3)), X, y)
    assert _key(search(cv=KFold(3, shuffle=True, random_state=0)), X, y) != _key(
        search(cv=KFold(3, shuffle=True, random_state=1)), X, y)


def test_random_generators_and_unkeyable_objects_are_refused(data):
    X, y, _ = data
    with pytest.raises(Uncacheable, match="random generator"):
        _key(LogisticRegression(random_state=np.random.RandomState(0)), X, y)
    with pytest.raises(Uncacheable, match="random generator"):
        canonical(np.random.default_rng(0))
    with pytest.raises(Uncacheable, match="cannot key an object"):
        canonical(object())


def test_callables_are_keyed_by_name_code_and_closure():
    def f(x):
        return x + 1

    def g(x):
        return x + 2

    assert canonical(f) == canonical(f)
    assert canonical(f) != canonical(g)

    def make(k):
        return lambda x: x * k

    assert canonical(make(1)) == canonical(make(1))
    assert canonical(make(1)) != canonical(make(2))
    assert canonical(np.sum) == canonical(np.sum)
    assert canonical(np.add) != canonical(np.multiply)


def test_floats_and_containers_are_exact():
    assert canonical(0.1) != canonical(0.1 + 1e-17 * 2)
    assert canonical(1) != canonical(1.0) != canonical(True)
    assert canonical(float("nan")) == canonical(float("nan"))
    assert canonical(0.0) != canonical(-0.0)
    assert canonical((1, 2)) != canonical([1, 2])
    assert canonical({"a": 1, "b": 2}) != canonical({"b": 2, "a": 1})  # order can decide a result
    assert canonical({1, 2, 3}) == canonical({3, 2, 1})
    assert canonical(np.float32(0.5)) != canonical(0.5)


def test_pandas_frames_key_their_columns():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    assert canonical(df) == canonical(df.copy())
    assert canonical(df) != canonical(df.rename(columns={"a": "c"}))
    assert canonical(df) != canonical(df.assign(b=[3, 5]))
    assert canonical(df) != canonical(df.astype({"b": "Int64"}))
    nullable = pd.DataFrame({"a": pd.array([1, None], dtype="Int64")})
    assert canonical(nullable) == canonical(nullable.copy())
