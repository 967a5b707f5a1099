"""Conversion round trips, DLPack vs host copies, copy accounting, float64 policy, mixing errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import toolbox as tb
from toolbox.backends import check_same_library, framework_of, resolve
from toolbox.testing import BACKEND_PARAMS, backend_param

CPU_LIBS = ["numpy", "torch", "jax", "array_api_strict"]


@pytest.fixture(autouse=True)
def _x64():
    jax = pytest.importorskip("jax")
    prev = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", prev)


@pytest.mark.parametrize("src", CPU_LIBS)
@pytest.mark.parametrize("dst", CPU_LIBS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_round_trip(src, dst, dtype):
    a = np.arange(12, dtype=dtype).reshape(3, 4)
    x = tb.to_backend(a, src)
    y = tb.to_backend(x, dst)
    assert framework_of(y).name == dst
    assert str(y.dtype).endswith(dtype)
    back = tb.to_backend(y, "numpy")
    np.testing.assert_array_equal(back, a)


def test_cpu_conversions_are_zero_copy_dlpack():
    tb.reset_transfer_stats()
    a = np.ones((100, 10))
    t = tb.to_backend(a, "torch")
    a2 = tb.to_backend(t, "numpy")
    stats = tb.transfer_stats()
    assert stats["dlpack"] == 2 and stats["host_copy"] == 0 and stats["bytes_copied"] == 0
    assert np.shares_memory(a, a2)


def test_same_library_is_returned_unchanged():
    a = np.ones(3)
    assert tb.to_backend(a, "numpy") is a
    assert tb.to_backend(a, "numba") is a


def test_host_copy_fallback_is_counted_and_logged(monkeypatch, caplog):
    from toolbox.backends._frameworks import get_framework

    torch_fw = get_framework("torch")

    def no_dlpack(x, device):
        raise BufferError("no dlpack here")

    monkeypatch.setattr(torch_fw, "from_dlpack", no_dlpack)
    tb.reset_transfer_stats()
    with caplog.at_level(logging.INFO, logger="toolbox.backends"):
        t = tb.to_backend(np.ones((4, 5)), "torch")
    assert tuple(t.shape) == (4, 5)
    stats = tb.transfer_stats()
    assert stats["host_copy"] == 1 and stats["bytes_copied"] == 4 * 5 * 8
    assert "host_copy: copied float64 array of shape (4, 5)" in caplog.text


def test_lists_and_pandas_convert():
    pd = pytest.importorskip("pandas")
    t = tb.to_backend([[1.0, 2.0], [3.0, 4.0]], "torch")
    assert framework_of(t).name == "torch"
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    np.testing.assert_array_equal(tb.to_backend(df, "numpy"), [[1.0, 3.0], [2.0, 4.0]])


def test_float64_becomes_float32_where_device_lacks_it():
    import array_api_strict as xs
    import jax

    x = tb.to_backend(np.ones(3), "array_api_strict", device=xs.Device("no_float64"))
    assert x.dtype == xs.float32
    jax.config.update("jax_enable_x64", False)
    j = tb.to_backend(np.ones(3), "jax")
    assert str(j.dtype) == "float32"


def test_to_backend_errors():
    with pytest.raises(ValueError, match="concrete backend name, not 'auto'"):
        tb.to_backend(np.ones(2), "auto")
    with pytest.raises(ValueError, match="Unknown backend 'mxnet'"):
        tb.to_backend(np.ones(2), "mxnet")
    with pytest.raises(ValueError, match="NumPy arrays live on the CPU only"):
        tb.to_backend(np.ones(2), "numpy", device="cuda")


def test_mixed_libraries_raise_type_error_naming_both():
    import torch

    with pytest.raises(TypeError, match=r"X is a numpy array on cpu but y is a torch array on cpu"):
        check_same_library(X=np.ones(2), y=torch.ones(2))
    import jax.numpy as jnp

    with pytest.raises(TypeError, match=r"a is a torch array on cpu but b is a jax array on cpu:0"):
        check_same_library(a=torch.ones(2), b=jnp.ones(2))


def test_mixed_devices_raise_type_error():
    import array_api_strict as xs

    a = xs.ones(2)
    b = xs.ones(2, device=xs.Device("device1"))
    with pytest.raises(TypeError, match="device1"):
        check_same_library(a=a, b=b)


def test_resolve_auto_follows_the_data():
    import torch

    assert resolve(torch.ones(2)).backend == "torch"
    assert resolve(np.ones(2)).backend in ("numpy", "numba")
    assert resolve([1.0, 2.0]).framework.name == "numpy"
    with tb.use_backend("jax"):
        c = resolve(np.ones(2))
        assert c.backend == "jax" and c.framework.name == "jax"


@pytest.mark.gpu
@pytest.mark.parametrize("param", [p for p in BACKEND_PARAMS if p.gpu], ids=lambda p: p.id)
def test_gpu_round_trip_counts_copies(param):
    b = backend_param(param)
    if isinstance(b, str):
        pytest.skip(b)
    try:
        tb.reset_transfer_stats()
        a = np.arange(10.0)
        x = b.asarray(a)
        np.testing.assert_array_equal(b.to_numpy(x), a)
        stats = tb.transfer_stats()
        assert stats["host_to_device"] >= 1 and stats["device_to_host"] >= 1
    finally:
        b.close()
