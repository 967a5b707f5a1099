"""The artifact root: content-addressed files, written atomically, verified on read.

A file with sha256 ``abcdef...`` lives at ``<root>/sha256/ab/abcdef...``. It is
hashed first (so a file already stored is not copied again), then copied to a
temporary file in that same folder, fsynced and renamed into place: a reader
never sees half a file, and a crash leaves either no blob or the whole one.
The root can be any local or shared filesystem path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..io._atomic import write_bytes
from ._errors import NotFoundError, StoreError, StoreReadOnlyError

__all__ = ["ArtifactRoot"]

_CHUNK = 1 << 20


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArtifactRoot:
    """Content-addressed blob folder.

    Parameters
    ----------
    root : str or Path
        Created on first write.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"ArtifactRoot({str(self.root)!r})"

    def path_of(self, digest: str) -> Path:
        """Where the blob ``digest`` lives (it may not exist)."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{digest!r} is not a sha256 hex digest.")
        return self.root / "sha256" / digest[:2] / digest

    def put_file(self, src: str | os.PathLike) -> tuple[str, int]:
        """Store the file ``src``; return ``(sha256 hex digest, size in bytes)``."""
        src = Path(src)
        if not src.is_file():
            raise FileNotFoundError(f"Artifact {str(src)!r} is not a file (or does not exist).")
        digest, size = _sha256_file(src)
        dest = self.path_of(digest)
        if dest.exists() and dest.stat().st_size == size:
            return digest, size
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{digest[:8]}.", suffix=".tmp")
        except PermissionError as exc:
            raise StoreReadOnlyError(f"The artifact root {str(self.root)!r} is not writable: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"Cannot write to the artifact root {str(self.root)!r}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
                shutil.copyfileobj(f, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            if _sha256_file(Path(tmp))[0] != digest:
                raise StoreError(f"Artifact {str(src)!r} changed while it was being stored; log it again.")
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
        return digest, size

    def open_verified(self, digest: str) -> bytes:
        """The blob's bytes, after checking their sha256."""
        path = self.path_of(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"Artifact blob {digest} is missing from {str(self.root)!r}.") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise StoreError(f"Artifact blob {str(path)!r} is corrupted: its sha256 does not match its name.")
        return data

    def export(self, digest: str, dest: str | os.PathLike) -> Path:
        """Copy the blob to ``dest`` (atomically, verified); return ``dest``."""
        dest = Path(dest)
        data = self.open_verified(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(dest, data)
        return dest
