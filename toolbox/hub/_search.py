"""``search``: the alias table and the local cache, and the Hub's ``list_models`` when the network is allowed."""

from __future__ import annotations

import os
from typing import Any

from . import _cache
from ._aliases import alias_for_repo, aliases
from ._resolve import ModelNotFoundError, network_allowed

__all__ = ["search"]

_WHERE = ("local", "remote", "all")


def _match(query: str, *fields: Any) -> bool:
    words = query.lower().split()
    text = " ".join(str(f) for f in fields if f).lower()
    return all(w in text for w in words)


def search(query: str = "", *, task: str | None = None, where: str = "local", limit: int = 20,
           allow_network: bool | None = None, endpoint: str | None = None) -> list[dict[str, Any]]:
    """Find models by words in their name, repo id or description.

    Parameters
    ----------
    query : str
        Words that must all appear (case-insensitive); ``""`` lists everything.
    task : str, optional
        Only this pipeline tag.
    where : {"local", "remote", "all"}
        ``"local"``: the alias table and the hub cache, no network. ``"remote"``:
        the Hub's ``list_models`` (needs the network allowed). ``"all"``: both;
        the remote part is skipped when the network is off.
    limit : int

    Returns
    -------
    list of dict
        ``name``, ``repo_id``, ``task``, ``source`` ("alias", "cache" or "hub"),
        ``cached`` (bool), ``revision``, ``license``, ``downloads``.
    """
    if where not in _WHERE:
        raise ValueError(f"where={where!r} is not one of {_WHERE}")
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit={limit!r} must be a positive int")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    cached = {r.repo_id.lower(): r for r in _cache.ls()}
    if where in ("local", "all"):
        for a in aliases(task):
            if _match(query, a.name, " ".join(a.names), a.repo_id, a.description, a.task):
                rows.append({"name": a.name, "repo_id": a.repo_id, "task": a.task, "source": "alias",
                             "cached": a.repo_id.lower() in cached, "revision": a.revision,
                             "license": a.license, "downloads": None})
                seen.add(a.repo_id.lower())
        for key, repo in cached.items():
            if key in seen:
                continue
            alias = alias_for_repo(repo.repo_id)
            if task is not None and (alias is None or alias.task != task):
                continue
            if _match(query, repo.repo_id):
                rows.append({"name": repo.repo_id, "repo_id": repo.repo_id, "task": alias.task if alias else None,
                             "source": "cache", "cached": True, "revision": next(iter(repo.refs.values()), None),
                             "license": None, "downloads": None})
                seen.add(key)
    if where in ("remote", "all"):
        if not network_allowed(allow_network):
            if where == "remote":
                raise ModelNotFoundError("search(where='remote') needs the network: pass allow_network=True "
                                         "(or set TOOLBOX_HUB_ALLOW_NETWORK=1)")
        else:
            from huggingface_hub import HfApi

            api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None)
            for m in api.list_models(search=query or None, pipeline_tag=task, limit=limit):
                if m.id.lower() in seen:
                    continue
                rows.append({"name": m.id, "repo_id": m.id, "task": m.pipeline_tag, "source": "hub",
                             "cached": m.id.lower() in cached, "revision": getattr(m, "sha", None),
                             "license": None, "downloads": getattr(m, "downloads", None)})
                seen.add(m.id.lower())
    return rows[:limit]
