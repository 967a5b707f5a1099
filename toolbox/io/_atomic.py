"""Atomic writes: a reader sees the old file (or folder) or the new one, never half of one.

A file is written to a temporary name in the same folder, flushed to disk
(``fsync``) and renamed over the target. A folder is built the same way as a
temporary sibling and then swapped in: on Linux with ``renameat2
(RENAME_EXCHANGE)``, which swaps two folders in one step; elsewhere the old
folder is first renamed aside, so a crash between the two renames leaves the
old folder under ``.<name>.old-*`` and nothing at the target — never a mix.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["fsync_dir", "write_bytes", "write_directory"]


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new, renamed, removed names) to disk; a no-op where unsupported."""
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


Content = bytes | memoryview | Sequence[bytes | memoryview] | Callable[[], bytes]


def _write_synced(path: Path, data: Content) -> None:
    """Write ``data`` (a buffer, a list of buffers, or a function returning one) to a new file; fsync."""
    if callable(data):
        data = data()
    with open(path, "xb") as f:
        for part in (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data:
            f.write(part)
        f.flush()
        os.fsync(f.fileno())


def write_bytes(target: str | os.PathLike, data: Content) -> None:
    """Write ``data`` to ``target`` atomically (temporary file, fsync, rename)."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    try:
        _write_synced(tmp, data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_EXCHANGE = _renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` in one step; False where the system cannot."""
    if _EXCHANGE is None:
        return False
    rc = _EXCHANGE(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the filesystem cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_directory(target: str | os.PathLike, files: Mapping[str, Content],
                    *, replaceable: Callable[[Path], bool] | None = None) -> None:
    """Write the folder ``target`` holding ``files`` (name -> content) atomically.

    Files are written in the order given (put the one that marks a complete
    folder last); a content that is a function is called when its turn comes. An existing ``target`` is replaced only when
    ``replaceable(target)`` is true (e.g. it is a model folder written by this
    module); otherwise ``FileExistsError`` is raised and nothing is touched.
    """
    target = Path(target)
    parent = target.parent
    tmp = parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        for name, data in files.items():
            _write_synced(tmp / name, data)
        fsync_dir(tmp)
        _swap_in(tmp, target, replaceable)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(parent)


def _swap_in(tmp: Path, target: Path, replaceable: Callable[[Path], bool] | None) -> None:
    try:
        os.rename(tmp, target)  # target absent (or an empty folder, on POSIX)
        return
    except (FileExistsError, IsADirectoryError, NotADirectoryError, OSError) as exc:
        if not target.exists() and not target.is_symlink():
            raise
        if not (target.is_dir() and not target.is_symlink() and replaceable is not None
                and replaceable(target)):
            raise FileExistsError(
                f"{target} exists and is not a toolbox model folder; not replacing it "
                f"(remove it or choose another path).") from exc
    if _exchange(tmp, target):  # tmp now holds the old folder
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
    os.rename(target, old)
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
