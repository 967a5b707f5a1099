"""The model folder: three files, checksummed, written atomically, verified on read.

::

    model/                    (any name)
      arrays.safetensors      every numeric array (safetensors: a JSON header, then raw bytes)
      model.json              everything else (see toolbox.io._encode for its tags)
      checksums.json          format name and version, and the sha256 and size of the two files above

``checksums.json`` is written last: a folder without it is not a model.
Reading checks, in this order and before anything is decoded: that
``checksums.json`` is a toolbox model file of a format version this toolbox
reads; that it lists exactly the two files; their sizes (a short file is
*truncated*); their sha256 (a different one is *changed*). Other files in the
folder are never opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ModelFileError
from . import _atomic, _safetensors

__all__ = ["FORMAT", "FORMAT_VERSION", "is_model_dir", "read", "write"]

#: ``format`` in checksums.json and model.json.
FORMAT = "toolbox-model"
#: The newest format version this toolbox writes and reads. Older versions must keep loading
#: (``tests/golden/``).
FORMAT_VERSION = 1

ARRAYS, DOCUMENT, CHECKSUMS = "arrays.safetensors", "model.json", "checksums.json"
_MAX_JSON_BYTES = 256 * 2**20


def _sha256(data: bytes | bytearray | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _json(data: bytes | bytearray | np.ndarray, path: Path) -> Any:
    try:
        return json.loads(memoryview(data).tobytes(), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(path, f"not valid JSON ({exc})") from None


def is_model_dir(path: Path) -> bool:
    """Whether ``path`` is a folder holding a toolbox ``checksums.json`` (what a save may replace)."""
    f = path / CHECKSUMS
    try:
        if not f.is_file() or f.stat().st_size > _MAX_JSON_BYTES:
            return False
        doc = json.loads(f.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("format") == FORMAT


def write(path: str | os.PathLike, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write the model folder ``path`` atomically: ``document`` (JSON-able) and ``arrays``.

    An existing toolbox model folder at ``path`` is replaced in one step; any
    other existing file or folder raises ``FileExistsError``. The arrays are
    written from their own memory, and hashed by a second thread meanwhile.
    """
    parts = _safetensors.layout(arrays, {"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    doc = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **document},
                     indent=1, allow_nan=False, ensure_ascii=False).encode()
    digest: dict[str, str] = {}

    def hash_arrays() -> None:
        h = hashlib.sha256()
        for part in parts:
            h.update(part)  # releases the GIL: runs beside the writes
        digest[ARRAYS] = h.hexdigest()

    hasher = threading.Thread(target=hash_arrays, name="toolbox-io-sha256")
    hasher.start()

    def checksums() -> bytes:
        hasher.join()
        if ARRAYS not in digest:
            raise RuntimeError("hashing the arrays failed")
        return json.dumps({
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "files": {ARRAYS: {"sha256": digest[ARRAYS], "bytes": sum(len(p) for p in parts)},
                      DOCUMENT: {"sha256": _sha256(doc), "bytes": len(doc)}},
        }, indent=1).encode()

    try:
        _atomic.write_directory(path, {ARRAYS: parts, DOCUMENT: doc, CHECKSUMS: checksums},
                                replaceable=is_model_dir)
    finally:
        hasher.join()


_CHUNK = 8 * 2**20


def _read_at(dir_fd: int, name: str, *, hashed: bool = False) -> tuple[np.ndarray, str | None]:
    """Read the file ``name`` of the open folder into a uint8 array; with ``hashed``, also its sha256.

    The buffer is not zero-filled first (``numpy.empty``: for a large model that
    alone cost a third of the load). A large file is hashed by a second thread
    chunk by chunk while the next chunk is read (both release the GIL).
    """
    fd = os.open(name, os.O_RDONLY, dir_fd=dir_fd)
    with os.fdopen(fd, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        buf = np.empty(size, dtype=np.uint8)
        view = memoryview(buf)
        h = hashlib.sha256() if hashed else None
        pending: threading.Thread | None = None
        n = 0
        while n < size:
            got = f.readinto(view[n:min(size, n + _CHUNK)])
            if not got:
                break
            if h is not None:
                if pending is not None:
                    pending.join()
                pending = threading.Thread(target=h.update, args=(view[n:n + got],))
                pending.start()
            n += got
        if pending is not None:
            pending.join()
        grew = n == size and f.read(1) != b""
    del view
    if n < size:  # shrank while read: report what was there
        buf = buf[:n]
    elif grew:
        buf = np.append(buf, np.uint8(0))  # longer than its size said: the checksum's size check reports it
    return buf, (h.hexdigest() if h is not None else None)


def _read_checked(folder: Path, dir_fd: int, name: str, entry: Any) -> np.ndarray:
    f = folder / name
    if not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int) or not isinstance(
            entry.get("sha256"), str):
        raise ModelFileError(folder / CHECKSUMS, f"malformed entry for {name}")
    try:
        data, digest = _read_at(dir_fd, name, hashed=True)
    except FileNotFoundError:
        raise ModelFileError(f, "missing (the model folder is incomplete)") from None
    except OSError as exc:
        raise ModelFileError(f, f"cannot be read ({exc.strerror})") from None
    if len(data) != entry["bytes"]:
        what = "truncated" if len(data) < entry["bytes"] else "longer than written"
        raise ModelFileError(f, f"{what}: {len(data)} bytes, checksums.json says {entry['bytes']}")
    if digest != entry["sha256"]:
        raise ModelFileError(f, "changed since it was written: its sha256 differs from checksums.json's")
    return data


def check_version(doc: Any, path: Path) -> None:
    """Raise ModelFileError unless ``doc`` names toolbox's format at a version this toolbox reads."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(path, "not a toolbox model file (no 'format': 'toolbox-model')")
    version = doc.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(path, f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(path, f"written in model-file format {version}, newer than the newest this "
                                   f"toolbox reads ({FORMAT_VERSION}): upgrade toolbox to load it")


def read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Verify and read the model folder ``path``: ``(document, arrays)``; ModelFileError on any problem.

    The three files are read through one handle on the folder, so a save that
    swaps in a new folder meanwhile cannot mix two models; if that save also
    removed the old folder under the reader, the read starts again.
    """
    folder = Path(path)
    for attempt in range(5):
        try:
            dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except FileNotFoundError:
            raise ModelFileError(folder, "no such model folder") from None
        except NotADirectoryError:
            raise ModelFileError(folder, "not a folder (a toolbox model is a folder holding "
                                         "checksums.json)") from None
        try:
            return _read_folder(folder, dir_fd)
        except ModelFileError:
            try:
                replaced = os.stat(folder).st_ino != os.fstat(dir_fd).st_ino
            except OSError:
                replaced = True
            if not replaced or attempt == 4:
                raise
        finally:
            os.close(dir_fd)
    raise AssertionError("unreachable")


def _read_folder(folder: Path, dir_fd: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    check_file = folder / CHECKSUMS
    try:
        raw, _ = _read_at(dir_fd, CHECKSUMS)
    except FileNotFoundError:
        raise ModelFileError(folder, "not a toolbox model folder: no checksums.json (an interrupted save "
                                     "leaves no checksums.json)") from None
    if len(raw) > _MAX_JSON_BYTES:
        raise ModelFileError(check_file, f"too large for a checksum list ({len(raw)} bytes)")
    checks = _json(raw, check_file)
    check_version(checks, check_file)
    files = checks.get("files")
    if not isinstance(files, dict) or set(files) != {ARRAYS, DOCUMENT}:
        listed = sorted(files) if isinstance(files, dict) else files
        raise ModelFileError(check_file, f"must list exactly {ARRAYS} and {DOCUMENT}, lists {listed}")
    doc_bytes = _read_checked(folder, dir_fd, DOCUMENT, files[DOCUMENT])
    blob = _read_checked(folder, dir_fd, ARRAYS, files[ARRAYS])
    document = _json(doc_bytes, folder / DOCUMENT)
    check_version(document, folder / DOCUMENT)
    try:
        arrays = _safetensors.parse(blob)  # NumPy views of the buffer just verified
    except ValueError as exc:
        raise ModelFileError(folder / ARRAYS, f"not a valid safetensors file ({exc})") from None
    return document, arrays
