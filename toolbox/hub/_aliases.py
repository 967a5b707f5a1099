"""The pinned alias table: short names -> Hub repo, revision, task, licence, per-file sha256."""

from __future__ import annotations

import importlib
import re
import threading
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["Alias", "aliases", "get_alias", "packaged_path", "register_alias"]

#: tasks toolbox.hub.load can turn into an estimator, and which one
TASK_ESTIMATORS = {
    "feature-extraction": "Embedder",
    "sentence-similarity": "Embedder",
    "fill-mask": "Embedder",
    "text-classification": "TextClassifier",
}

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_LOCK = threading.Lock()
_TABLE: dict[str, Alias] | None = None
_EXTRA: dict[str, Alias] = {}


@dataclass(frozen=True)
class Alias:
    """One pinned short name.

    Attributes
    ----------
    name : str
        The short name (``"minilm"``); ``names`` are further spellings.
    repo_id, revision : str
        The Hub repository and the pinned commit (full or short sha, or a branch
        name where no commit is pinned yet).
    task, library, license : str
        Hugging Face pipeline tag, the library whose layout the repo uses, licence id.
    size_mb : float or None
        Size of the weights.
    sha256 : dict
        ``{filename: sha256}`` where known.
    package : str or None
        ``"module:attribute"`` of a pip package that ships the same files.
    """

    name: str
    repo_id: str
    revision: str
    task: str
    library: str = "transformers"
    license: str | None = None
    size_mb: float | None = None
    names: tuple[str, ...] = ()
    sha256: dict[str, str] = field(default_factory=dict)
    package: str | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The entry as a plain dict (JSON-able)."""
        return {"name": self.name, "repo_id": self.repo_id, "revision": self.revision, "task": self.task,
                "library": self.library, "license": self.license, "size_mb": self.size_mb,
                "names": list(self.names), "package": self.package, "description": self.description,
                "sha256": dict(self.sha256)}


def _shipped() -> dict[str, Alias]:
    global _TABLE
    with _LOCK:
        if _TABLE is None:
            text = resources.files(__package__).joinpath("aliases.toml").read_text(encoding="utf-8")
            table = {}
            for name, entry in tomllib.loads(text).items():
                alias = Alias(name=name, repo_id=entry["repo"], revision=str(entry["revision"]),
                              task=entry["task"], library=entry.get("library", "transformers"),
                              license=entry.get("license"), size_mb=entry.get("size_mb"),
                              names=tuple(entry.get("names", ())), sha256=dict(entry.get("sha256", {})),
                              package=entry.get("package"), description=entry.get("description", ""))
                table[name] = alias
            _TABLE = table
        return _TABLE


def _all() -> dict[str, Alias]:
    return {**_shipped(), **_EXTRA}


def get_alias(name: str) -> Alias | None:
    """The alias called ``name`` (case-insensitive, any of its spellings), or None."""
    key = name.lower()
    for alias in _all().values():
        if key == alias.name.lower() or key in (n.lower() for n in alias.names):
            return alias
    return None


def alias_for_repo(repo_id: str) -> Alias | None:
    """The alias pinning ``repo_id`` (case-insensitive), or None."""
    key = repo_id.lower()
    for alias in _all().values():
        if alias.repo_id.lower() == key:
            return alias
    return None


def aliases(task: str | None = None) -> list[Alias]:
    """List the known short names, optionally only those for ``task``.

    Parameters
    ----------
    task : str, optional
        A pipeline tag (``"sentence-similarity"``, ``"fill-mask"``, ``"text-classification"``...).

    Returns
    -------
    list of Alias
        Sorted by name; registered aliases included.
    """
    table = _all()
    return [table[k] for k in sorted(table) if task is None or table[k].task == task]


def register_alias(name: str, repo_id: str, *, revision: str = "main", task: str = "feature-extraction",
                   library: str = "transformers", license: str | None = None, size_mb: float | None = None,
                   sha256: dict[str, str] | None = None, names: tuple[str, ...] = (), description: str = "",
                   replace: bool = False) -> Alias:
    """Add a short name for this process.

    Parameters
    ----------
    name : str
        The short name; it may not contain ``/`` or ``:``.
    repo_id : str
        ``"org/name"`` on the Hub.
    revision : str
        The commit to pin (a branch name works, but is not a pin).
    task, library, license, size_mb, sha256, names, description
        As in :class:`Alias`.
    replace : bool
        Allow replacing an existing name.

    Returns
    -------
    Alias
    """
    if not isinstance(name, str) or not name or "/" in name or ":" in name:
        raise ValueError(f"alias name {name!r} must be a non-empty string without '/' or ':'")
    if not _REPO_ID.match(repo_id or ""):
        raise ValueError(f"repo_id {repo_id!r} is not of the form 'org/name'")
    existing = get_alias(name)
    if existing is not None and not replace:
        raise ValueError(f"alias {name!r} already exists (-> {existing.repo_id}); pass replace=True to change it")
    alias = Alias(name=name, repo_id=repo_id, revision=revision, task=task, library=library, license=license,
                  size_mb=size_mb, names=tuple(names), sha256=dict(sha256 or {}), description=description)
    with _LOCK:
        if existing is not None and existing.name in _EXTRA:
            del _EXTRA[existing.name]
        _EXTRA[name] = alias
    return alias


def unregister_alias(name: str) -> None:
    """Remove an alias added with :func:`register_alias` (shipped ones stay)."""
    with _LOCK:
        _EXTRA.pop(name, None)


def packaged_path(alias: Alias) -> Path | None:
    """The folder a pip package ships for ``alias``, or None when the package is not installed.

    Besides the table's ``package`` field, packages can declare an entry point in
    the group ``toolbox.hub.models`` named after the alias or the repo id, whose
    value is a module attribute holding (or a function returning) the folder.
    """
    specs = [alias.package] if alias.package else []
    specs += _entry_point_specs(alias.name, alias.repo_id)
    for spec in specs:
        path = _load_spec(spec)
        if path is not None and (path / "config.json").is_file():
            return path
    return None


def _entry_point_specs(*names: str) -> list[str]:
    from importlib.metadata import entry_points

    wanted = {n.lower() for n in names}
    return [ep.value for ep in entry_points(group="toolbox.hub.models") if ep.name.lower() in wanted]


def _load_spec(spec: str) -> Path | None:
    module_name, _, attr = spec.partition(":")
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
        obj: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part, None)
    if callable(obj):
        obj = obj()
    return Path(obj) if obj is not None else None


def is_repo_id(name: str) -> bool:
    """Whether ``name`` has the shape of a Hub repo id (``org/name``)."""
    return bool(_REPO_ID.match(name))
