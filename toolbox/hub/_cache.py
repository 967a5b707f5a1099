"""The Hugging Face cache layout, with toolbox owning its writes.

``<cache>/models--org--name/{blobs,snapshots/<commit>,refs/<branch>}``, shared
with transformers and huggingface_hub, so nothing is downloaded twice. toolbox
writes refs atomically and without a trailing newline, writes ``.no_exist``
markers for optional files a repo does not have, keeps a manifest per snapshot
(``.toolbox/<commit>.json``: every file's sha256 / git sha1 and size), reads
every setting from the environment per call, and quarantines blobs that fail
verification.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io._atomic import write_bytes

__all__ = ["CachedRepo", "VerifyReport", "cache_dir", "export", "import_", "ls", "prune", "verify"]

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHORT = re.compile(r"^[0-9a-f]{7,39}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: files transformers / sentence-transformers look for and that a repo may lack: marked ``.no_exist``
OPTIONAL_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.txt",
    "generation_config.json", "model.safetensors.index.json", "chat_template.jinja", "chat_template.json",
    "preprocessor_config.json", "processor_config.json", "modules.json", "sentence_bert_config.json",
    "config_sentence_transformers.json", "adapter_config.json", "custom_generate/generate.py",
)


class CacheError(RuntimeError):
    """A cache entry is missing, incomplete or fails verification."""


# --------------------------------------------------------------------------- #
# Where things are: read from the environment on every call
# --------------------------------------------------------------------------- #


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The hub cache folder: ``path``, else ``TOOLBOX_HUB_CACHE``, ``HF_HUB_CACHE``, ``HF_HOME/hub``, ``~/.cache/huggingface/hub``.

    Read at each call, never frozen at import.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ
    for var in ("TOOLBOX_HUB_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(var):
            return Path(env[var]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def repo_folder(repo_id: str, root: Path) -> Path:
    """``root/models--org--name``."""
    return root / ("models--" + repo_id.replace("/", "--"))


def _repo_id_of(folder: Path) -> str | None:
    name = folder.name
    if not name.startswith("models--"):
        return None
    return name[len("models--"):].replace("--", "/", 1)


# --------------------------------------------------------------------------- #
# Atomic writes
# --------------------------------------------------------------------------- #


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, data)


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)


def write_ref(folder: Path, ref: str, commit: str) -> None:
    """Point ``refs/<ref>`` at ``commit``: atomically, no trailing newline."""
    if not _COMMIT.match(commit):
        raise ValueError(f"{commit!r} is not a 40-character commit sha")
    atomic_write(folder / "refs" / ref, commit.encode("ascii"))


def read_ref(folder: Path, ref: str) -> str | None:
    """The commit ``refs/<ref>`` points at, or None.

    A ref with surrounding whitespace (a trailing newline written by hand or by
    another tool, which breaks huggingface_hub's offline loading) is read
    correctly and rewritten without it.
    """
    path = folder / "refs" / ref
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    text = raw.decode("ascii", errors="replace").strip()
    if not _COMMIT.match(text):
        raise CacheError(f"{path} does not hold a commit sha (it holds {raw[:60]!r}); delete it or run "
                         "tb.hub.cache.prune()")
    if raw != text.encode():
        with _suppress():
            write_ref(folder, ref, text)
    return text


def mark_no_exist(folder: Path, commit: str, filename: str) -> None:
    """Record that ``filename`` does not exist at ``commit`` (so nothing asks the network for it)."""
    path = folder / ".no_exist" / commit / filename
    if not path.exists():
        atomic_write(path, b"")


# --------------------------------------------------------------------------- #
# Hashes
# --------------------------------------------------------------------------- #


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def git_sha1_file(path: Path, chunk: int = 1 << 22) -> str:
    """Git's blob id of a file: ``sha1(b"blob <size>\\0" + content)``."""
    h = hashlib.sha1(usedforsecurity=False)
    h.update(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def blob_ok(path: Path, expected: str) -> bool:
    """Whether the file at ``path`` hashes to ``expected`` (a sha256, or a git sha1 for small git files)."""
    if _SHA256.match(expected):
        return sha256_file(path) == expected
    if _COMMIT.match(expected):
        return git_sha1_file(path) == expected
    raise ValueError(f"{expected!r} is neither a sha256 nor a git sha1")


# --------------------------------------------------------------------------- #
# Snapshots
# --------------------------------------------------------------------------- #


def resolve_commit(folder: Path, revision: str) -> str | None:
    """The commit ``revision`` (branch, tag, full or unique short sha) names in the cache, or None."""
    if _COMMIT.match(revision):
        return revision
    commit = read_ref(folder, revision)
    if commit is not None:
        return commit
    if _SHORT.match(revision):
        snaps = folder / "snapshots"
        found = [p.name for p in snaps.iterdir()] if snaps.is_dir() else []
        hits = [c for c in found if c.startswith(revision)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise CacheError(f"short revision {revision!r} is ambiguous in {folder}: {sorted(hits)}")
    return None


def manifest_path(folder: Path, commit: str) -> Path:
    return folder / ".toolbox" / f"{commit}.json"


def read_manifest(folder: Path, commit: str) -> dict[str, Any] | None:
    """toolbox's manifest for ``commit`` (``{"files": {name: {"hash", "size"}}}``), or None."""
    try:
        return json.loads(manifest_path(folder, commit).read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise CacheError(f"{manifest_path(folder, commit)} is not valid JSON: {exc}") from None


def write_manifest(folder: Path, commit: str, files: dict[str, dict[str, Any]]) -> None:
    atomic_write(manifest_path(folder, commit), json.dumps({"commit": commit, "files": files},
                                                           indent=1, sort_keys=True).encode())


def snapshot_files(snapshot: Path) -> list[str]:
    """Relative paths (with ``/``) of every file in a snapshot folder."""
    out = []
    for root, _dirs, files in os.walk(snapshot):
        for f in files:
            out.append(Path(root, f).relative_to(snapshot).as_posix())
    return sorted(out)


def missing_files(folder: Path, commit: str) -> list[str]:
    """Files a complete snapshot of ``commit`` needs and lacks (broken links and wrong sizes included).

    With a toolbox manifest, every file listed in it; otherwise ``config.json``,
    the weights (every shard of a sharded index) and a tokenizer or processor.
    """
    snap = folder / "snapshots" / commit
    manifest = read_manifest(folder, commit)
    if manifest is not None:
        bad = []
        for name, meta in manifest["files"].items():
            p = snap / name
            if not p.is_file() or (meta.get("size") is not None and p.stat().st_size != meta["size"]):
                bad.append(name)
        return sorted(bad)
    return required_missing(snap)


def required_missing(snap: Path) -> list[str]:
    """What a model folder lacks to be loaded: config, weights, tokenizer (no manifest needed)."""
    missing = []
    if not (snap / "config.json").is_file():
        missing.append("config.json")
    if (snap / "model.json").is_file():  # toolbox's own format
        return [f for f in ("model.json", "arrays.safetensors", "checksums.json") if not (snap / f).is_file()]
    index = snap / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (ValueError, KeyError):
            return [*missing, "model.safetensors.index.json (unreadable)"]
        missing += [s for s in shards if not (snap / s).is_file()]
    elif not (snap / "model.safetensors").is_file() and not any(
            (snap / f).is_file() for f in ("pytorch_model.bin", "adapter_model.safetensors")):
        missing.append("model.safetensors")
    if not any((snap / f).is_file() for f in ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model",
                                              "sentencepiece.bpe.model", "preprocessor_config.json")):
        missing.append("tokenizer.json")
    return missing


def find_snapshot(repo_id: str, revision: str, root: Path) -> tuple[str, Path] | None:
    """``(commit, snapshot folder)`` when the cache holds a complete snapshot of ``revision``; else None."""
    folder = repo_folder(repo_id, root)
    if not folder.is_dir():
        return None
    commit = resolve_commit(folder, revision)
    if commit is None:
        return None
    snap = folder / "snapshots" / commit
    if not snap.is_dir() or missing_files(folder, commit):
        return None
    return commit, snap


# --------------------------------------------------------------------------- #
# Public: ls / verify / prune / export / import_
# --------------------------------------------------------------------------- #


@dataclass
class CachedRepo:
    """One repo in the cache: its refs, snapshots, size on disk (bytes) and folder."""

    repo_id: str
    refs: dict[str, str]
    snapshots: list[str]
    size: int
    path: Path

    def as_dict(self) -> dict[str, Any]:
        return {"repo_id": self.repo_id, "refs": self.refs, "snapshots": self.snapshots, "size": self.size,
                "path": str(self.path)}


def _repo_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("models--"))


def _refs(folder: Path) -> dict[str, str]:
    refs = {}
    base = folder / "refs"
    if base.is_dir():
        for p in base.rglob("*"):
            if p.is_file():
                name = p.relative_to(base).as_posix()
                with _suppress():
                    commit = read_ref(folder, name)
                    if commit:
                        refs[name] = commit
    return refs


def ls(cache_dir: str | os.PathLike | None = None) -> list[CachedRepo]:
    """List the models in the hub cache (shared with transformers).

    Returns
    -------
    list of CachedRepo
        ``repo_id``, ``refs`` ({branch: commit}), ``snapshots`` (commits), ``size`` (bytes of blobs), ``path``.
    """
    root = _root(cache_dir)
    out = []
    for folder in _repo_folders(root):
        blobs = folder / "blobs"
        size = sum(p.stat().st_size for p in blobs.iterdir() if p.is_file()) if blobs.is_dir() else 0
        snaps = sorted(p.name for p in (folder / "snapshots").iterdir()) if (folder / "snapshots").is_dir() else []
        out.append(CachedRepo(_repo_id_of(folder) or folder.name, _refs(folder), snaps, size, folder))
    return out


def _root(path: str | os.PathLike | None) -> Path:
    return cache_dir(path)


@dataclass
class VerifyReport:
    """The result of :func:`verify` for one repo: files checked, mismatches (quarantined), missing."""

    repo_id: str
    commit: str | None
    checked: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.corrupted and not self.missing

    def __str__(self) -> str:
        state = "ok" if self.ok else "FAILED"
        parts = [f"{self.repo_id}@{(self.commit or '?')[:12]}: {state}, {len(self.checked)} files checked"]
        if self.corrupted:
            parts.append(f"corrupted (quarantined): {', '.join(self.corrupted)}")
        if self.missing:
            parts.append(f"missing: {', '.join(self.missing)}")
        return "; ".join(parts)


def _expected_hashes(folder: Path, commit: str, pinned: dict[str, str]) -> dict[str, str]:
    expected: dict[str, str] = {}
    manifest = read_manifest(folder, commit)
    if manifest is not None:
        expected.update({k: v["hash"] for k, v in manifest["files"].items() if v.get("hash")})
    expected.update(pinned)
    return expected


def quarantine(folder: Path, snap: Path, name: str) -> None:
    """Move the blob behind ``snap/name`` to ``folder/.quarantine/`` and drop the snapshot entry."""
    link = snap / name
    qdir = folder / ".quarantine"
    qdir.mkdir(exist_ok=True)
    target = link.resolve() if link.is_symlink() else link
    if target.exists() and folder in target.parents:
        os.replace(target, qdir / f"{target.name}.{os.getpid()}")
    elif target.exists():  # a file outside the repo folder: leave it, drop the link only
        pass
    with _suppress():
        os.unlink(link)


def verify(name: str | None = None, *, revision: str | None = None,
           cache_dir: str | os.PathLike | None = None) -> list[VerifyReport]:
    """Check every cached file's sha256 (or git sha1) offline; quarantine what fails.

    Each file is checked against the alias table's pinned sha256, toolbox's
    download manifest, or (for files transformers downloaded) the blob's own
    name, which is its sha256 for LFS files and its git sha1 otherwise. A
    corrupted blob is moved to ``.quarantine/`` and its snapshot entry removed,
    so the next load refuses it (offline) or downloads it again (online).

    Parameters
    ----------
    name : str, optional
        An alias, repo id or ``hf://`` address; all cached repos when omitted.
    revision : str, optional
        Only this revision (default: every snapshot).

    Returns
    -------
    list of VerifyReport
        One per snapshot checked; ``report.ok`` tells whether it passed.
    """
    from ._aliases import alias_for_repo
    from ._resolve import repo_of

    root = _root(cache_dir)
    targets: list[tuple[Path, str, dict[str, str]]] = []
    if name is None:
        folders = _repo_folders(root)
    else:
        repo_id, _rev, _ = repo_of(name)
        folders = [repo_folder(repo_id, root)]
        if not folders[0].is_dir():
            raise CacheError(f"{repo_id} is not in the hub cache at {root}")
    for folder in folders:
        repo_id = _repo_id_of(folder) or folder.name
        alias = alias_for_repo(repo_id)
        if revision is not None:
            commit = resolve_commit(folder, revision)
            commits = [commit] if commit else []
            if not commits:
                raise CacheError(f"{repo_id}: revision {revision!r} is not in the cache")
        else:
            commits = sorted(p.name for p in (folder / "snapshots").iterdir()) if (folder / "snapshots").is_dir() else []
        for commit in commits:
            pinned = dict(alias.sha256) if alias is not None and commit.startswith(alias.revision) else {}
            targets.append((folder, commit, pinned))
    return [_verify_snapshot(folder, commit, pinned) for folder, commit, pinned in targets]


def _verify_snapshot(folder: Path, commit: str, pinned: dict[str, str]) -> VerifyReport:
    snap = folder / "snapshots" / commit
    report = VerifyReport(_repo_id_of(folder) or folder.name, commit)
    expected = _expected_hashes(folder, commit, pinned)
    present = snapshot_files(snap) if snap.is_dir() else []
    for rel in present:
        p = snap / rel
        if not p.exists():  # a dangling link: the blob is gone
            report.missing.append(rel)
            with _suppress():
                os.unlink(p)
            continue
        want = expected.get(rel)
        if want is None and p.is_symlink():
            blob_name = p.resolve().name
            if _SHA256.match(blob_name) or _COMMIT.match(blob_name):
                want = blob_name
        if want is None:
            report.unverified.append(rel)
            continue
        report.checked.append(rel)
        if not blob_ok(p, want):
            report.corrupted.append(rel)
            quarantine(folder, snap, rel)
    report.missing += [m for m in missing_files(folder, commit) if m not in report.missing + report.corrupted]
    return report


@dataclass
class PruneReport:
    """What :func:`prune` removed (or would remove, with ``dry_run``) and the bytes freed."""

    snapshots: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    freed: int = 0


def prune(*, cache_dir: str | os.PathLike | None = None, keep_unreferenced: bool = False,
          dry_run: bool = False) -> PruneReport:
    """Delete what no ref needs: quarantined blobs, temporary files, orphan blobs, and detached snapshots.

    Parameters
    ----------
    keep_unreferenced : bool
        Keep snapshots no ref points at (by default they go, unless a ref names them).
    dry_run : bool
        Report only.
    """
    root = _root(cache_dir)
    report = PruneReport()

    def drop(p: Path, bucket: list[str]) -> None:
        size = p.stat().st_size if p.is_file() and not p.is_symlink() else 0
        if p.is_dir() and not p.is_symlink():
            size = sum(q.stat().st_size for q in p.rglob("*") if q.is_file() and not q.is_symlink())
        report.freed += size
        bucket.append(str(p))
        if not dry_run:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                os.unlink(p)

    for folder in _repo_folders(root):
        q = folder / ".quarantine"
        if q.is_dir():
            drop(q, report.other)
        for tmp in folder.rglob("*.incomplete"):
            drop(tmp, report.other)
        refs = set(_refs(folder).values())
        snaps = folder / "snapshots"
        live_snaps = []
        if snaps.is_dir():
            for s in sorted(snaps.iterdir()):
                if not keep_unreferenced and s.name not in refs:
                    drop(s, report.snapshots)
                    m = manifest_path(folder, s.name)
                    if m.exists():
                        drop(m, report.other)
                else:
                    live_snaps.append(s)
        used = set()
        for s in live_snaps:
            for p in s.rglob("*"):
                if p.is_symlink():
                    used.add(Path(os.path.realpath(p)).name)
        blobs = folder / "blobs"
        if blobs.is_dir():
            for b in sorted(blobs.iterdir()):
                if b.name not in used:
                    drop(b, report.blobs)
    return report


def export(name: str, path: str | os.PathLike, *, revision: str | None = None,
           cache_dir: str | os.PathLike | None = None) -> Path:
    """Write a cached model to a ``.tar`` file for an air-gapped machine (see :func:`import_`).

    The archive holds the repo's cache folder for that one snapshot (blobs,
    snapshot links, the ref, toolbox's manifest), verified before it is written.

    Returns
    -------
    Path
        The archive written.
    """
    from ._resolve import repo_of

    root = _root(cache_dir)
    repo_id, alias_rev, _ = repo_of(name)
    rev = revision or alias_rev or "main"
    folder = repo_folder(repo_id, root)
    commit = resolve_commit(folder, rev) if folder.is_dir() else None
    if commit is None or not (folder / "snapshots" / commit).is_dir():
        raise CacheError(f"{repo_id}@{rev} is not in the hub cache at {root}; nothing to export")
    report = verify(repo_id, revision=commit, cache_dir=root)[0]
    if not report.ok:
        raise CacheError(f"refusing to export a damaged snapshot: {report}")
    snap = folder / "snapshots" / commit
    files = {}
    for rel in snapshot_files(snap):
        p = snap / rel
        files[rel] = {"hash": sha256_file(p), "size": p.stat().st_size}
    out = Path(path)
    if out.is_dir() or not out.suffix:  # a folder: the archive is named after the repo and commit
        out.mkdir(parents=True, exist_ok=True)
        out = out / f"{repo_id.replace('/', '--')}-{commit[:12]}.tar"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": "toolbox-hub-export", "version": 1, "repo_id": repo_id, "commit": commit,
            "refs": {r: c for r, c in _refs(folder).items() if c == commit} or {}, "files": files}
    tmp = out.with_name(f".{out.name}.tmp")
    with tarfile.open(tmp, "w") as tar:
        data = json.dumps(meta, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo("toolbox-export.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for rel in files:
            tar.add(os.path.realpath(snap / rel), arcname=f"files/{rel}", recursive=False)
    os.replace(tmp, out)
    return out


def import_(path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None) -> str:
    """Load an archive written by :func:`export` into the hub cache, verifying every file.

    Files are stored as blobs named by their sha256 with snapshot links, as
    huggingface_hub does, so transformers finds them too.

    Returns
    -------
    str
        ``"org/name@commit"`` of the imported snapshot.
    """
    root = _root(cache_dir)
    with tarfile.open(path, "r") as tar:
        try:
            meta = json.loads(tar.extractfile("toolbox-export.json").read())  # type: ignore[union-attr]
        except KeyError:
            raise CacheError(f"{path} is not a toolbox hub export (no toolbox-export.json)") from None
        if meta.get("format") != "toolbox-hub-export":
            raise CacheError(f"{path} is not a toolbox hub export")
        repo_id, commit, files = meta["repo_id"], meta["commit"], meta["files"]
        if not _COMMIT.match(commit):
            raise CacheError(f"{path}: bad commit {commit!r}")
        folder = repo_folder(repo_id, root)
        for rel, info in files.items():
            _check_relative(rel)
            member = tar.getmember(f"files/{rel}")
            if not member.isfile():
                raise CacheError(f"{path}: files/{rel} is not a regular file")
            blob = folder / "blobs" / info["hash"]
            if not blob.is_file() or sha256_file(blob) != info["hash"]:
                _write_stream(blob, tar.extractfile(member), info["hash"], rel)  # type: ignore[arg-type]
            link_blob(folder, commit, rel, info["hash"])
        write_manifest(folder, commit, {k: {"hash": v["hash"], "size": v["size"]} for k, v in files.items()})
        for ref in meta.get("refs", {}) or {"main": commit}:
            write_ref(folder, ref, commit)
    return f"{repo_id}@{commit}"


def _check_relative(rel: str) -> None:
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts:
        raise CacheError(f"unsafe path in archive: {rel!r}")


def _write_stream(blob: Path, stream: Any, sha: str, rel: str) -> None:
    blob.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=blob.parent, suffix=".incomplete")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as f:
            while chunk := stream.read(1 << 22):
                h.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        if h.hexdigest() != sha:
            raise CacheError(f"{rel}: sha256 {h.hexdigest()} does not match the archive's manifest ({sha})")
        os.replace(tmp, blob)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


def link_blob(folder: Path, commit: str, rel: str, blob_name: str) -> None:
    """Point ``snapshots/<commit>/<rel>`` at ``blobs/<blob_name>`` with a relative symlink (atomic)."""
    link = folder / "snapshots" / commit / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    target = os.path.relpath(folder / "blobs" / blob_name, link.parent)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.lnk")
    with _suppress():
        os.unlink(tmp)
    try:
        os.symlink(target, tmp)
    except OSError:  # no symlinks (Windows without developer mode): copy
        shutil.copyfile(folder / "blobs" / blob_name, tmp)
    os.replace(tmp, link)


class _CacheNamespace:
    """``tb.hub.cache``: the offline-first model cache (shared with transformers).

    ``ls()``, ``verify(name)``, ``prune()``, ``export(name, path)``, ``import_(path)``, ``dir()``.
    """

    ls = staticmethod(ls)
    verify = staticmethod(verify)
    prune = staticmethod(prune)
    export = staticmethod(export)
    import_ = staticmethod(import_)
    dir = staticmethod(cache_dir)
    CacheError = CacheError

    def __repr__(self) -> str:
        return f"<toolbox.hub.cache at {cache_dir()}>"


namespace = _CacheNamespace()
