"""Content hashes of arrays: xxh3-128 over every byte, with no copy of host data.

The digest covers the array's library, dtype, shape and memory order as well
as its bytes, so that two arrays hash alike only when a computation could not
tell them apart (the device is not part of it: cache keys add it).

* Host arrays (NumPy, torch and JAX on the CPU, array_api_strict) are hashed
  straight from their buffer when it is C- or Fortran-contiguous (a
  ``memoryview``, no copy); other strided arrays are streamed in C order, one
  block of at most :data:`CHUNK_BYTES` at a time.
* Device arrays (torch CUDA/MPS, CuPy, JAX on a GPU) are streamed to the host
  a block at a time through one reusable (pinned, where the library offers
  it) buffer: the host never holds a second full copy, and the digest is the
  same as for the host copy of the array.
* Object arrays (string labels and other Python scalars) are hashed element
  by element with a type tag per element; other objects are refused.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import xxhash

from ..backends import framework_of

__all__ = ["CHUNK_BYTES", "array_digest", "hash_array", "hash_bytes"]

#: Largest block copied at once when an array cannot be hashed in place (16 MiB).
CHUNK_BYTES = 1 << 24

_VERSION = "toolbox-array-v1"


def hash_bytes(data: bytes | str) -> str:
    """xxh3-128 hex digest of ``data`` (a ``str`` is UTF-8 encoded)."""
    if isinstance(data, str):
        data = data.encode()
    return xxhash.xxh3_128_hexdigest(data)


def hash_array(x: Any) -> str:
    """Content hash of array ``x`` as a 32-character hex string (xxh3-128).

    Parameters
    ----------
    x : array
        NumPy (also masked), torch, JAX, CuPy or array_api_strict array, on
        any device.

    Returns
    -------
    str
        Equal for two arrays exactly when their library, dtype, shape, memory
        order ("C", "F" or strided) and every byte of data are equal.

    Raises
    ------
    TypeError
        ``x`` is not an array of a supported library, is sparse, or is an
        object array holding something other than Python/NumPy scalars.
    """
    return array_digest(x).hexdigest()


def array_digest(x: Any) -> Any:
    """The ``xxhash.xxh3_128`` state after hashing ``x`` (see :func:`hash_array`)."""
    h = xxhash.xxh3_128()
    if isinstance(x, np.ndarray):
        _hash_numpy(x, "numpy", h)
        return h
    fw = framework_of(x)
    if fw is None:
        raise TypeError(f"hash_array needs an array (NumPy, torch, JAX, CuPy, array_api_strict); "
                        f"got {type(x).__module__}.{type(x).__qualname__}.")
    if fw.name == "torch":
        _hash_torch(x, h)
    elif fw.name == "jax":
        _hash_jax(x, h)
    elif fw.name == "cupy":
        _hash_cupy(x, h)
    else:  # array_api_strict wraps a NumPy array: zero-copy through DLPack
        _hash_numpy(fw.to_host(x), fw.name, h)
    return h


# --------------------------------------------------------------------------- #
# Helpers shared by every library
# --------------------------------------------------------------------------- #


def _header(h: Any, framework: str, dtype: str, shape: tuple[int, ...], order: str) -> None:
    text = json.dumps([_VERSION, framework, dtype, [int(s) for s in shape], order])
    h.update(text.encode() + b"\0")


def _np_dtype_tag(dtype: np.dtype) -> str:
    # name tells apart extension dtypes sharing a ``str`` (ml_dtypes' float8 kinds are all '<V1')
    if dtype.fields is not None:
        return f"{dtype.name}|{dtype.descr}"
    return f"{dtype.name}|{dtype.str}"


def _order(c_contiguous: bool, f_contiguous: bool) -> str:
    if c_contiguous:
        return "C"
    if f_contiguous:
        return "F"
    return "strided"


def _blocks(shape: tuple[int, ...], itemsize: int) -> list[tuple[int, int]] | None:
    """Row ranges of axis 0 of about :data:`CHUNK_BYTES` each; None when one row is already larger."""
    if not shape:
        return [(0, 1)]
    row = itemsize * math.prod(shape[1:])
    if row > CHUNK_BYTES and len(shape) > 1:
        return None
    step = max(1, CHUNK_BYTES // max(row, 1))
    return [(i, min(i + step, shape[0])) for i in range(0, shape[0], step)]


# --------------------------------------------------------------------------- #
# NumPy (and everything that is a NumPy buffer underneath)
# --------------------------------------------------------------------------- #


def _hash_numpy(a: np.ndarray, framework: str, h: Any) -> None:
    if isinstance(a, np.ma.MaskedArray):
        _header(h, f"{framework}.ma", _np_dtype_tag(a.dtype), a.shape, "masked")
        _hash_numpy(np.ma.getdata(a), framework, h)
        _hash_numpy(np.ma.getmaskarray(a), framework, h)
        return
    if type(a) is not np.ndarray:  # np.matrix and other subclasses: tagged, hashed as plain arrays
        framework = f"{framework}:{type(a).__module__}.{type(a).__qualname__}"
        a = a.view(np.ndarray)
    order = _order(a.flags.c_contiguous, a.flags.f_contiguous)
    _header(h, framework, _np_dtype_tag(a.dtype), a.shape, order)
    if a.dtype.hasobject:
        _hash_objects(a, h)
        return
    _update_numpy_data(a, h)


def _update_numpy_data(a: np.ndarray, h: Any) -> None:
    """Feed ``a``'s bytes to ``h``: in memory order if contiguous, else in C order block by block."""
    if a.size == 0:
        return
    if a.flags.c_contiguous or a.flags.f_contiguous:
        flat = a.ravel(order="K")  # a view for either contiguous order
        h.update(memoryview(flat.view(np.uint8)))
        return
    blocks = _blocks(a.shape, a.itemsize)
    if blocks is None:  # a single row is larger than a block: recurse into it
        for i in range(a.shape[0]):
            _update_numpy_data(a[i], h)
        return
    for start, stop in blocks:
        h.update(memoryview(np.ascontiguousarray(a[start:stop]).reshape(-1).view(np.uint8)))


def _hash_objects(a: np.ndarray, h: Any) -> None:
    """Object arrays: every element with a type tag (C order); only scalars are accepted."""
    flat = a.ravel(order="C") if a.ndim else a.reshape(1)
    types = set(map(type, flat))
    if types == {str}:  # the common case (string labels): one vectorized conversion
        h.update(b"str-array\0")
        u = flat.astype(str)
        _header(h, "numpy", _np_dtype_tag(u.dtype), u.shape, "C")
        _update_numpy_data(u, h)
        return
    h.update(b"objects\0")
    for v in flat:
        h.update(_scalar_bytes(v))


def _scalar_bytes(v: Any) -> bytes:
    if v is None:
        return b"n;"
    if isinstance(v, bool):
        return b"t;" if v else b"f;"
    if isinstance(v, int):
        s = str(v).encode()
        return b"i%d:%s" % (len(s), s)
    if isinstance(v, float):
        s = v.hex().encode()
        return b"d%d:%s" % (len(s), s)
    if isinstance(v, complex):
        s = f"{v.real.hex()},{v.imag.hex()}".encode()
        return b"c%d:%s" % (len(s), s)
    if isinstance(v, str):
        s = v.encode("utf-8", "surrogatepass")
        return b"s%d:%s" % (len(s), s)
    if isinstance(v, bytes):
        return b"b%d:%s" % (len(v), v)
    if isinstance(v, np.generic) and not v.dtype.hasobject:
        tag = _np_dtype_tag(v.dtype).encode()
        data = v.tobytes()
        return b"g%d:%s%d:%s" % (len(tag), tag, len(data), data)
    raise TypeError(f"Cannot hash an object array holding a {type(v).__module__}.{type(v).__qualname__}; "
                    "only None, bool, int, float, complex, str, bytes and NumPy scalars can be hashed.")


# --------------------------------------------------------------------------- #
# torch
# --------------------------------------------------------------------------- #

_TORCH_SAME_SIZE_INT = {1: "uint8", 2: "int16", 4: "int32", 8: "int64"}


def _torch_host_view(t: Any) -> np.ndarray:
    """A NumPy view of CPU tensor ``t`` (same strides); dtypes NumPy lacks are viewed as integers."""
    import torch

    try:
        return t.numpy()
    except TypeError:  # bfloat16, float8...: reinterpret as an integer of the same size (same strides)
        return t.view(getattr(torch, _TORCH_SAME_SIZE_INT[t.element_size()])).numpy()


def _hash_torch(t: Any, h: Any) -> None:
    if t.layout != _torch_strided():
        raise TypeError(f"hash_array needs a dense tensor; got one with layout {t.layout}. "
                        "Use .to_dense() first.")
    t = t.detach()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    dtype = str(t.dtype)
    shape = tuple(t.shape)
    if t.device.type == "cpu":
        a = _torch_host_view(t)
        _header(h, "torch", dtype, shape, _order(a.flags.c_contiguous, a.flags.f_contiguous))
        _update_numpy_data(a, h)
        return
    c, f = t.is_contiguous(), _torch_f_contiguous(t)
    _header(h, "torch", dtype, shape, _order(c, f))
    if t.numel() == 0:
        return
    with _TorchStreamer(t.device) as stream:
        if c or f:
            flat = t.reshape(-1) if c else t.permute(*reversed(range(t.dim()))).reshape(-1)
            stream.feed(flat, h)
        else:
            _torch_strided_blocks(t, stream, h)


def _torch_strided() -> Any:
    import torch

    return torch.strided


def _torch_f_contiguous(t: Any) -> bool:
    if t.dim() < 2:
        return t.is_contiguous()
    return t.permute(*reversed(range(t.dim()))).is_contiguous()


def _torch_strided_blocks(t: Any, stream: _TorchStreamer, h: Any) -> None:
    blocks = _blocks(tuple(t.shape), t.element_size())
    if blocks is None:
        for i in range(t.shape[0]):
            _torch_strided_blocks(t[i], stream, h)
        return
    for start, stop in blocks:  # one block-sized temporary on the device at a time
        stream.feed(t[start:stop].contiguous().reshape(-1), h)


class _TorchStreamer:
    """Copies contiguous device tensors to the host one block at a time through one pinned buffer."""

    def __init__(self, device: Any) -> None:
        import torch

        self.torch = torch
        self.device = device
        self.buffer = None

    def __enter__(self) -> _TorchStreamer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.buffer = None

    def _buf(self, n: int) -> Any:
        if self.buffer is None:
            pin = self.device.type == "cuda"
            self.buffer = self.torch.empty(CHUNK_BYTES, dtype=self.torch.uint8, pin_memory=pin)
        return self.buffer[:n]

    def feed(self, flat: Any, h: Any) -> None:
        # a 1-D contiguous tensor viewed as bytes (any dtype: same-size integer view first)
        torch = self.torch
        if flat.dtype != torch.uint8:
            flat = flat.view(getattr(torch, _TORCH_SAME_SIZE_INT[flat.element_size()])).view(torch.uint8)
        n = flat.numel()
        for start in range(0, n, CHUNK_BYTES):
            stop = min(start + CHUNK_BYTES, n)
            buf = self._buf(stop - start)
            buf.copy_(flat[start:stop])  # synchronous: the buffer is complete when this returns
            h.update(memoryview(buf.numpy()))


# --------------------------------------------------------------------------- #
# JAX
# --------------------------------------------------------------------------- #


def _hash_jax(x: Any, h: Any) -> None:
    devices = x.devices()
    on_host = all(d.platform == "cpu" for d in devices)
    dtype = np.dtype(x.dtype)
    # JAX arrays have no strides: their logical (C) order is all there is
    _header(h, "jax", _np_dtype_tag(dtype), tuple(x.shape), "C")
    if on_host:
        _update_numpy_data(np.asarray(x), h)  # zero-copy view of the CPU buffer
        return
    _jax_blocks(x, h)


def _jax_blocks(x: Any, h: Any) -> None:
    if x.size == 0:
        return
    blocks = _blocks(tuple(x.shape), np.dtype(x.dtype).itemsize)
    if blocks is None:
        for i in range(x.shape[0]):
            _jax_blocks(x[i], h)
        return
    for start, stop in blocks:  # a block-sized slice on the device, then on the host
        part = x[start:stop] if x.ndim else x
        _update_numpy_data(np.ascontiguousarray(np.asarray(part)), h)


# --------------------------------------------------------------------------- #
# CuPy
# --------------------------------------------------------------------------- #


def _hash_cupy(x: Any, h: Any) -> None:
    import cupy

    c, f = bool(x.flags.c_contiguous), bool(x.flags.f_contiguous)
    _header(h, "cupy", _np_dtype_tag(np.dtype(x.dtype)), tuple(x.shape), _order(c, f))
    if x.size == 0:
        return
    mem = cupy.cuda.alloc_pinned_memory(CHUNK_BYTES)
    host = np.frombuffer(mem, dtype=np.uint8, count=CHUNK_BYTES)

    def feed(flat: Any) -> None:
        u8 = flat.view(cupy.uint8)
        for start in range(0, u8.size, CHUNK_BYTES):
            stop = min(start + CHUNK_BYTES, u8.size)
            out = host[: stop - start]
            u8[start:stop].get(out=out)  # synchronous copy into the pinned buffer
            h.update(memoryview(out))

    def strided(a: Any) -> None:
        blocks = _blocks(tuple(a.shape), a.itemsize)
        if blocks is None:
            for i in range(a.shape[0]):
                strided(a[i])
            return
        for start, stop in blocks:
            feed(cupy.ascontiguousarray(a[start:stop]).reshape(-1))

    if c:
        feed(x.reshape(-1))
    elif f:
        feed(x.T.reshape(-1))
    else:
        strided(x)
