"""Any value made of arrays, scalars, strings, containers and toolbox estimators, in a model folder.

:func:`save_value` / :func:`load_value` are what :func:`toolbox.save` /
:func:`toolbox.load` and the disk tier of :mod:`toolbox.cache` build on.
"""

from __future__ import annotations

import os
from typing import Any

from .. import __version__
from ._encode import Decoder, Encoder
from ._files import read, write

__all__ = ["decode_document", "encode_document", "load_value", "save_value"]


def encode_document(value: Any, *, kind: str, where: str = "", **extra: Any) -> tuple[dict, dict]:
    """``(document, arrays)`` for ``value``; ``extra`` goes into the document as is (JSON-able)."""
    enc = Encoder()
    root = enc.encode(value, where)
    return {"kind": kind, "toolbox_version": __version__, **extra, "root": root}, enc.arrays


def decode_document(document: dict, arrays: dict, path: Any, *, kind: str, place: str | None = None) -> Any:
    """The value of a document read by :func:`toolbox.io._files.read`; checks that it holds a ``kind``."""
    from ..exceptions import ModelFileError

    if document.get("kind") != kind:
        raise ModelFileError(path, f"holds a {document.get('kind')!r}, not a {kind!r}")
    if "root" not in document:
        raise ModelFileError(path, "model.json has no 'root'")
    dec = Decoder(arrays, path, place=place)
    value = dec.decode(document["root"])
    extra = sorted(set(arrays) - dec.used)
    if extra:
        raise ModelFileError(path, f"arrays.safetensors holds arrays model.json never uses: {extra[:5]}")
    return value


def save_value(value: Any, path: str | os.PathLike) -> None:
    """Write ``value`` to the model folder ``path`` atomically.

    ``value`` may nest lists, tuples and dicts of arrays (NumPy, torch, JAX,
    CuPy, array_api_strict), Python and NumPy scalars, strings, None and
    toolbox estimators. Raises :class:`~toolbox.exceptions.NotPersistableError`
    for anything else (functions, foreign classes).
    """
    document, arrays = encode_document(value, kind="value", where="value")
    write(path, document, arrays)


def load_value(path: str | os.PathLike, *, backend: str | None = None, device: Any = None) -> Any:
    """Read a value written by :func:`save_value`.

    Arrays come back on the framework and device they were saved from, or,
    with ``backend`` / ``device``, converted there. Raises
    :class:`~toolbox.exceptions.ModelFileError` for a changed, truncated,
    foreign or newer file.
    """
    document, arrays = read(path)
    if backend is None and device is None:
        return decode_document(document, arrays, path, kind="value")
    value = decode_document(document, arrays, path, kind="value", place="host")
    from ._models import move

    return move(value, backend, device)
