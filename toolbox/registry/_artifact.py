"""A version's artifact: the model folder of :func:`toolbox.io.save`, its files stored content-addressed.

The model is saved into a temporary folder under ``<artifact root>/tmp/``;
each of its files goes into the store's artifact root (hashed, copied to a
temporary file, fsynced, renamed: never half a blob). The *manifest* lists
every file with its sha256 and size; the version's ``sha256`` is the sha256
of the manifest's canonical JSON. The version row is written only after every
blob is in place, in one transaction, so a process killed at any point leaves
either no version or a complete one (plus, at worst, unreferenced blobs, which
``fsck`` reports as garbage). Loading checks the manifest's digest, every
blob's sha256 and size, and then :func:`toolbox.io.load` checks the folder's
own ``checksums.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import NotFoundError, StoreError
from ._errors import ArtifactError

__all__ = ["SavedModel", "load_artifact", "manifest_digest", "save_artifact"]

MANIFEST_FORMAT = "toolbox-registry-artifact"


@dataclass(frozen=True)
class SavedModel:
    """What :func:`save_artifact` stored and read back from ``model.json``."""

    manifest: str
    sha256: str
    size: int
    info: dict[str, Any]


def manifest_digest(manifest: str) -> str:
    """The sha256 of a manifest's text (the version's ``sha256``)."""
    return hashlib.sha256(manifest.encode()).hexdigest()


def _tmp_root(store: Any) -> Path:
    path = Path(store.artifacts.root) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_artifact(store: Any, estimator: Any) -> SavedModel:
    """Save ``estimator`` and store its files; returns the manifest (nothing is registered yet)."""
    from .. import io as tbio

    tmp = Path(tempfile.mkdtemp(prefix="register-", dir=_tmp_root(store)))
    try:
        folder = tmp / "model"
        tbio.save(estimator, folder)
        files = {}
        for p in sorted(folder.iterdir()):
            digest, size = store.artifacts.put_file(p)
            files[p.name] = {"sha256": digest, "bytes": size}
        info = json.loads((folder / "model.json").read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    manifest = json.dumps({"format": MANIFEST_FORMAT, "format_version": 1, "files": files},
                          sort_keys=True, separators=(",", ":"))
    return SavedModel(manifest, manifest_digest(manifest), sum(f["bytes"] for f in files.values()), info)


def read_manifest(manifest: str, sha256: str, *, model: str, version: str) -> dict[str, Any]:
    """The manifest's file table, after checking the manifest against the version's sha256."""
    if manifest_digest(manifest) != sha256:
        raise ArtifactError(f"Model {model!r} version {version}: the artifact manifest does not match the "
                            "version's sha256 (the database row was changed).", model=model, version=version)
    doc = json.loads(manifest)
    if doc.get("format") != MANIFEST_FORMAT or not isinstance(doc.get("files"), dict):
        raise ArtifactError(f"Model {model!r} version {version}: the artifact manifest is malformed.",
                            model=model, version=version)
    return doc["files"]


def fetch_blob(store: Any, name: str, entry: dict[str, Any], *, model: str, version: str) -> bytes:
    """One file of the artifact, verified (sha256 and size)."""
    digest = entry["sha256"]
    try:
        data = store.artifacts.open_verified(digest)
    except NotFoundError:
        raise ArtifactError(f"Model {model!r} version {version}: the artifact file {name} (blob {digest[:16]}) "
                            f"is missing from {str(store.artifacts.root)!r}.", model=model, version=version) from None
    except StoreError as exc:
        raise ArtifactError(f"Model {model!r} version {version}: the artifact file {name} was changed or "
                            f"truncated (its sha256 does not match): {exc}", model=model, version=version) from None
    if len(data) != entry["bytes"]:  # pragma: no cover - a blob of the right sha256 has the right size
        raise ArtifactError(f"Model {model!r} version {version}: the artifact file {name} has {len(data)} bytes, "
                            f"expected {entry['bytes']}.", model=model, version=version)
    return data


def load_artifact(store: Any, manifest: str, sha256: str, *, model: str, version: str,
                  backend: str | None = None, device: Any = None) -> Any:
    """The fitted estimator of a version, every checksum verified, on ``backend`` / ``device``."""
    from .. import io as tbio
    from ..exceptions import ModelFileError

    files = read_manifest(manifest, sha256, model=model, version=version)
    with tempfile.TemporaryDirectory(prefix="toolbox-registry-load-") as tmp:
        folder = Path(tmp) / "model"
        folder.mkdir()
        for name, entry in files.items():
            if os.sep in name or name.startswith("."):
                raise ArtifactError(f"Model {model!r} version {version}: bad file name {name!r} in the manifest.",
                                    model=model, version=version)
            (folder / name).write_bytes(fetch_blob(store, name, entry, model=model, version=version))
        try:
            return tbio.load(folder, backend=backend, device=device)
        except ModelFileError as exc:
            raise ArtifactError(f"Model {model!r} version {version}: the model file cannot be loaded: {exc}",
                                model=model, version=version) from exc
