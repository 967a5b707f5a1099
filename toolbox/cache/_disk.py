"""The on-disk tier: one toolbox model folder per entry, shared safely by several processes.

::

    <directory>/
      v1/
        3f/
          3fa1...e9/          one entry: a model folder written by toolbox.io.save_value
            arrays.safetensors
            model.json        {"key": "3fa1...e9", "value": ...}
            checksums.json

Writes use the model-file format of :mod:`toolbox.io` (the document of
:func:`~toolbox.io._values.save_value`, written by ``toolbox.io._files.write``:
a temporary folder, fsync, then an atomic rename or exchange), so a reader
sees a whole entry or none; an entry is decoded once in memory before it is
written, so that one the reader would refuse is never written. Reads verify every checksum; the entry also names its own key, so a
folder moved or copied to another key's place is refused. A corrupted,
truncated or foreign entry is a miss: it is removed with a
:class:`CacheEntryWarning`. An entry that disappears while it is read (another
process cleared it) is a plain miss; one read while another process
replaced it is read a second time before being judged corrupted.

Values the model-file format cannot hold (functions, foreign classes) stay
in memory only. The disk tier has no size bound: :func:`toolbox.cache.clear`
empties it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

__all__ = ["CacheEntryWarning", "DiskTier"]

logger = logging.getLogger("toolbox.cache")

_LAYOUT = "v1"
_HEX = frozenset("0123456789abcdef")
_STALE_SECONDS = 3600  # a temporary folder this old belongs to a writer that died


class CacheEntryWarning(UserWarning):
    """A disk cache entry could not be read (corrupted, truncated, foreign) and was removed."""


class DiskTier:
    """Entries of the cache under ``directory`` (created if missing)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory).expanduser()
        self.root = self.directory / _LAYOUT
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"directory={str(directory)!r} cannot be used for the cache: "
                             f"{exc.strerror or exc}") from None

    def path(self, key: str) -> Path:
        if len(key) != 32 or not set(key) <= _HEX:
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / key

    # ------------------------------------------------------------------ read

    def load(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a valid entry; ``(False, None)`` for none (a bad one is removed, with a warning)."""
        from ..exceptions import ModelFileError
        from ..io._values import load_value

        p = self.path(key)
        if not p.is_dir():
            return False, None
        problem = None
        for _ in range(2):  # a concurrent writer may swap the folder while it is read: read it again
            try:
                doc = load_value(p)
            except ModelFileError as exc:
                problem = str(exc)
            except (OSError, RecursionError) as exc:
                problem = f"{p}: cannot be read ({exc})"
            else:
                if isinstance(doc, dict) and doc.get("key") == key and "value" in doc:
                    return True, doc["value"]
                problem = f"{p}: holds no cache entry for key {key}"
            if not p.exists():  # removed by another process meanwhile: a plain miss
                return False, None
        warnings.warn(f"Removed an unreadable toolbox cache entry (treated as a miss): {problem}",
                      CacheEntryWarning, stacklevel=5)
        self.remove(p)
        return False, None

    # ------------------------------------------------------------------ write

    def save(self, key: str, value: Any) -> bool:
        """Write ``value`` under ``key``; False (nothing written) when the format cannot hold it."""
        from ..exceptions import ModelFileError, NotPersistableError
        from ..io._files import is_model_dir, write
        from ..io._values import decode_document, encode_document

        p = self.path(key)
        if is_model_dir(p):  # another process (or an earlier run) wrote it: same key, same content
            return True
        try:
            document, arrays = encode_document({"key": key, "value": value}, kind="value", where="value")
            # decoded once in memory before it is written: an entry the reader would refuse (and remove,
            # with a warning, on every run) is never written
            decode_document(document, arrays, p, kind="value", place="host")
        except (NotPersistableError, ModelFileError) as exc:
            logger.debug("cache entry %s kept in memory only: %s", key, exc)
            return False
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            write(p, document, arrays)
        except FileExistsError:  # something that is not an entry sits there: clear it for the next write
            self.remove(p)
            return False
        except OSError as exc:  # a full disk, a folder removed by clear() in another process...
            logger.warning("could not write cache entry %s: %s", p, exc)
            return False
        return True

    # ------------------------------------------------------------------ housekeeping

    def remove(self, p: Path) -> None:
        """Remove entry folder ``p``: renamed aside first (atomic), so that no reader sees half of it."""
        trash = p.parent / f".{p.name}.trash-{uuid.uuid4().hex}"
        try:
            os.rename(p, trash)
        except FileNotFoundError:
            return
        except OSError:
            trash = p
        shutil.rmtree(trash, ignore_errors=True)

    def _entries(self) -> list[Path]:
        out = []
        with contextlib.suppress(FileNotFoundError):
            for shard in os.scandir(self.root):
                if not shard.is_dir() or shard.name.startswith("."):
                    continue
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    out.extend(Path(e.path) for e in os.scandir(shard.path)
                               if not e.name.startswith(".") and e.is_dir())
        return out

    def stats(self) -> dict[str, Any]:
        entries = self._entries()
        total = 0
        for e in entries:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                total += sum(f.stat().st_size for f in e.iterdir() if f.is_file())
        return {"entries": len(entries), "bytes": total, "directory": str(self.directory)}

    def clear(self) -> None:
        """Remove every entry, and what interrupted writes and removals left behind."""
        for e in self._entries():
            self.remove(e)
        now = time.time()
        with contextlib.suppress(FileNotFoundError):
            for shard in os.scandir(self.root):
                if not shard.is_dir():
                    continue
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    for e in os.scandir(shard.path):
                        # a temporary folder is left alone while a writer may still be filling it
                        stale = ".trash-" in e.name or now - e.stat().st_mtime > _STALE_SECONDS
                        if e.name.startswith(".") and stale:
                            shutil.rmtree(e.path, ignore_errors=True)
