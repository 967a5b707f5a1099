"""``fsck``: every version's artifact exists and matches its checksums; stage holders are consistent.

Errors (the registry is damaged): a version whose manifest does not match its
sha256, a missing, changed or truncated artifact file; a holder row pointing
at another model's version or at a stage outside the set; a version holding
two stages; a holder that disagrees with the last event of its slot. Garbage
(harmless, reported): blobs nobody refers to (a registration killed after
writing its files, before its row) and temporary files left by killed writers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..store import _schema as S
from ._artifact import MANIFEST_FORMAT, manifest_digest
from ._records import STAGES

__all__ = ["FsckReport", "fsck"]

V, H, E = S.registry_versions, S.registry_holders, S.registry_events


@dataclass
class FsckReport:
    """What :func:`fsck` found; ``ok`` when there are no errors (garbage is not an error)."""

    versions: int = 0
    files: int = 0
    errors: list[str] = field(default_factory=list)
    garbage: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        head = (f"{self.versions} versions, {self.files} artifact files checked: "
                f"{len(self.errors)} error(s), {len(self.garbage)} garbage item(s)")
        return "\n".join([head, *[f"error: {e}" for e in self.errors], *[f"garbage: {g}" for g in self.garbage]])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fsck(reg: Any, *, verify_contents: bool = True) -> FsckReport:
    """Check the registry in ``reg``'s store (read-only); see the module docstring."""
    out = FsckReport()
    root = reg.store.artifacts
    referenced: set[str] = set()
    checked: dict[str, bool] = {}
    with reg.store.read() as conn:
        versions = conn.execute(select(V.c.id, V.c.model_id, V.c.name, V.c.version, V.c.manifest, V.c.sha256)
                                .order_by(V.c.name, V.c.sort_key)).all()
        holders = conn.execute(select(H.c.model_id, H.c.kind, H.c.slot, H.c.version_id)).all()
        last: dict[tuple[int, str, str], Any] = {}
        for r in conn.execute(select(E.c.model_id, E.c.kind, E.c.slot, E.c.to_version_id).order_by(E.c.id)):
            last[(r.model_id, r.kind, r.slot)] = r.to_version_id
        referenced.update(d for (d,) in conn.execute(select(S.artifacts.c.digest)))
    out.versions = len(versions)
    owner = {r.id: (r.model_id, r.name, r.version) for r in versions}
    for r in versions:
        where = f"model {r.name!r} version {r.version}"
        if manifest_digest(r.manifest) != r.sha256:
            out.errors.append(f"{where}: the manifest does not match the version's sha256")
            continue
        try:
            doc = json.loads(r.manifest)
            files = doc["files"] if doc.get("format") == MANIFEST_FORMAT else None
        except (ValueError, KeyError, TypeError):
            files = None
        if not isinstance(files, dict):
            out.errors.append(f"{where}: malformed manifest")
            continue
        for fname, entry in sorted(files.items()):
            digest, size = entry.get("sha256", ""), entry.get("bytes")
            referenced.add(digest)
            out.files += 1
            try:
                path = root.path_of(digest)
            except ValueError:
                out.errors.append(f"{where}: bad digest {digest!r} for {fname}")
                continue
            if not path.is_file():
                out.errors.append(f"{where}: artifact file {fname} (blob {digest[:16]}) is missing")
                continue
            if path.stat().st_size != size:
                out.errors.append(f"{where}: artifact file {fname} is truncated or changed "
                                  f"({path.stat().st_size} bytes, expected {size})")
                continue
            if verify_contents:
                if digest not in checked:
                    checked[digest] = _sha256(path) == digest
                if not checked[digest]:
                    out.errors.append(f"{where}: artifact file {fname} is changed (its sha256 does not match)")
    stages_of: Counter[int] = Counter()
    seen_slots = set()
    for h in holders:
        seen_slots.add((h.model_id, h.kind, h.slot))
        o = owner.get(h.version_id)
        if o is None or o[0] != h.model_id:
            out.errors.append(f"holder of {h.kind} {h.slot!r} of model id {h.model_id} points at a version of "
                              "another model")
            continue
        if h.kind == "stage":
            stages_of[h.version_id] += 1
            if h.slot not in STAGES:
                out.errors.append(f"model {o[1]!r}: unknown stage {h.slot!r} held by version {o[2]}")
        elif h.kind != "alias":
            out.errors.append(f"model {o[1]!r}: unknown holder kind {h.kind!r}")
        if last.get((h.model_id, h.kind, h.slot)) != h.version_id:
            out.errors.append(f"model {o[1]!r}: the {h.kind} {h.slot!r} is held by {o[2]} but its event log says "
                              "otherwise")
    for vid, n in stages_of.items():
        if n > 1:
            out.errors.append(f"model {owner[vid][1]!r}: version {owner[vid][2]} holds {n} stages")
    for slot, to in last.items():
        if to is not None and slot not in seen_slots:
            out.errors.append(f"model id {slot[0]}: the {slot[1]} {slot[2]!r} has no holder but its event log "
                              "names one")
    blobs = root.root / "sha256"
    if blobs.is_dir():
        for sub in sorted(blobs.iterdir()):
            if not sub.is_dir():
                continue
            for f in sorted(sub.iterdir()):
                if f.name.startswith("."):
                    out.garbage.append(f"temporary file {f} (an interrupted write)")
                elif f.name not in referenced:
                    out.garbage.append(f"unreferenced blob {f.name[:16]} ({f.stat().st_size} bytes)")
    tmp = root.root / "tmp"
    if tmp.is_dir():
        for f in sorted(tmp.iterdir()):
            if f.name.startswith("register-") and not _in_use(f):
                out.garbage.append(f"leftover folder {f} (an interrupted registration)")
    return out


def _in_use(path: Path) -> bool:
    # a registration in progress keeps its folder for well under a minute
    import time

    try:
        return time.time() - os.stat(path).st_mtime < 60
    except FileNotFoundError:
        return True
