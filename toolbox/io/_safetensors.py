"""The safetensors layout, written and read without copying the arrays.

A safetensors file is an 8-byte little-endian header length, a JSON header
(``{"name": {"dtype": "F64", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}``)
and the arrays' bytes back to back. The ``safetensors`` package reads and
writes it through a full copy of every array; a model file is written here
straight from the arrays' memory and read as NumPy views of one buffer, after
checking every offset (the files stay standard: the package reads them, and
the tests check that it does).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

__all__ = ["layout", "parse"]

_CODES = {"b": "BOOL", "u1": "U8", "i1": "I8", "u2": "U16", "i2": "I16", "u4": "U32", "i4": "I32",
          "u8": "U64", "i8": "I64", "f2": "F16", "f4": "F32", "f8": "F64"}
_DTYPES = {code: np.dtype(key if key != "b" else "?").newbyteorder("<") for key, code in _CODES.items()}
_MAX_HEADER = 100 * 2**20


def _code(dtype: np.dtype) -> str:
    key = "b" if dtype.kind == "b" else f"{dtype.kind}{dtype.itemsize}"
    if key not in _CODES:
        raise TypeError(f"safetensors cannot hold dtype {dtype}")
    return _CODES[key]


def layout(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> list[bytes | memoryview]:
    """The file as a list of buffers: the header, then each array's memory (no copy).

    Arrays must be C-contiguous; they are laid out widest item first, so every
    array starts at a multiple of its item size.
    """
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for k in order:
        a = arrays[k]
        if not a.flags.c_contiguous:
            raise ValueError(f"array {k!r} is not C-contiguous")
        header[k] = {"dtype": _code(a.dtype), "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)  # the data starts 8-byte aligned
    parts: list[bytes | memoryview] = [struct.pack("<Q", len(text)) + text]
    for k in order:
        a = arrays[k]
        if a.nbytes:
            a = a if a.dtype.byteorder in ("<", "|", "=") else a.astype(a.dtype.newbyteorder("<"))
            parts.append(memoryview(a.reshape(-1)).cast("B"))
    return parts


def parse(buf: bytearray | bytes | np.ndarray) -> dict[str, np.ndarray]:
    """Arrays of a safetensors file held in ``buf``, as NumPy views of it; ValueError if malformed.

    Checks the header's JSON, each entry's dtype, shape and offsets, and that
    the entries tile the data exactly (no overlap, no gap, nothing past the end).
    """
    if len(buf) < 8:
        raise ValueError("shorter than a safetensors header")
    (n,) = struct.unpack_from("<Q", buf, 0)
    if n > _MAX_HEADER or 8 + n > len(buf):
        raise ValueError(f"header length {n} does not fit the file ({len(buf)} bytes)")
    try:
        header = json.loads(memoryview(buf)[8:8 + n].tobytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    header.pop("__metadata__", None)
    start, size = 8 + n, len(buf) - 8 - n
    spans = []
    out = {}
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"malformed entry {name!r}")
        dtype = _DTYPES.get(entry["dtype"])
        shape, offsets = entry["shape"], entry["data_offsets"]
        if dtype is None:
            raise ValueError(f"entry {name!r}: unsupported dtype {entry['dtype']!r}")
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
            raise ValueError(f"entry {name!r}: malformed shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
            raise ValueError(f"entry {name!r}: malformed data_offsets {offsets!r}")
        begin, end = offsets
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (0 <= begin <= end <= size) or end - begin != count * dtype.itemsize:
            raise ValueError(f"entry {name!r}: data_offsets {offsets} do not match shape {shape} and the file")
        spans.append((begin, end))
        out[name] = np.frombuffer(buf, dtype=dtype, count=count, offset=start + begin).reshape(shape)
    covered = 0
    for begin, end in sorted(spans):
        if begin != covered:
            raise ValueError("entries overlap or leave a gap in the data")
        covered = end
    if covered != size:
        raise ValueError(f"data holds {size - covered} bytes no entry describes")
    return out
