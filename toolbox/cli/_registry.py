"""``toolbox registry list|show|versions|promote|rollback|history|compare|search|fsck``."""

from __future__ import annotations

import argparse
import datetime as _dt
import os
from typing import Any

__all__ = ["COMMANDS", "add_parser"]


def add_parser(sub: Any) -> None:
    """Add the ``registry`` group to the ``toolbox`` command's sub-parsers."""
    reg = sub.add_parser("registry", help="model versions, stages, lineage, search, fsck")
    rs = reg.add_subparsers(dest="command", required=True)
    rs.add_parser("list", help="every model with its latest version and stage holders")
    show = rs.add_parser("show", help="one version (default: the highest) with its metadata and lineage")
    show.add_argument("name")
    show.add_argument("version", nargs="?", help="a version or range (default: the highest)")
    show.add_argument("--stage", help="the holder of this stage")
    show.add_argument("--alias", help="the holder of this alias")
    vs = rs.add_parser("versions", help="the versions of one model, highest first")
    vs.add_argument("name")
    vs.add_argument("--range", help="only versions in this semver range, e.g. '^1.4'")
    pr = rs.add_parser("promote", help="make a version the holder of a stage")
    pr.add_argument("name")
    pr.add_argument("version")
    pr.add_argument("stage", help="dev, staging, production or archived")
    pr.add_argument("-r", "--reason")
    rb = rs.add_parser("rollback", help="re-point a stage to its previous holder")
    rb.add_argument("name")
    rb.add_argument("stage")
    rb.add_argument("-r", "--reason")
    hi = rs.add_parser("history", help="stage and alias changes, oldest first")
    hi.add_argument("name")
    hi.add_argument("--stage")
    hi.add_argument("--alias")
    cp = rs.add_parser("compare", help="versions side by side (metadata, metrics, parameter diff)")
    cp.add_argument("name")
    cp.add_argument("versions", nargs="+")
    se = rs.add_parser("search", help="versions of every model matching a filter")
    se.add_argument("filter", nargs="?", help="e.g. \"tags.team = 'risk' and metrics.auc >= 0.9\"")
    se.add_argument("-o", "--order-by", action="append", help="e.g. 'metrics.auc DESC' (repeatable)")
    se.add_argument("-n", "--max", type=int, default=50, help="most versions shown (default 50)")
    fs = rs.add_parser("fsck", help="check artifacts (exist, sha256) and stage holders; exit 1 on errors")
    fs.add_argument("--quick", action="store_true", help="check sizes only, not every file's sha256")


def _time(t: float | None) -> str:
    return "-" if t is None else _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def _table(title: str | None = None, **kw: Any) -> Any:
    from rich.table import Table

    return Table(title=title, title_justify="left", **kw)


def _registry(args: argparse.Namespace) -> Any:
    import toolbox.registry as registry

    if getattr(args, "store", None):  # with $TOOLBOX_ARTIFACT_ROOT, as the tracking store reads it
        registry.set_store(args.store, os.environ.get("TOOLBOX_ARTIFACT_ROOT") or None)
    return registry


def _list(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    models = registry.list_models()
    t = _table(f"{len(models)} model{'s' if len(models) != 1 else ''} in {registry.get_registry().store.display}")
    for col in ("name", "versions", "latest", "dev", "staging", "production", "archived", "aliases", "updated"):
        t.add_column(col, justify="right" if col == "versions" else "left")
    for m in models:
        t.add_row(m.name, str(m.n_versions), m.latest or "-",
                  *[m.stages.get(s, "-") for s in registry.STAGES],
                  ", ".join(f"{a}={v}" for a, v in m.aliases.items()) or "-", _time(m.updated_at))
    console.print(t)
    return 0


def _show(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    mv = registry.get_version(args.name, args.version, stage=args.stage, alias=args.alias)
    t = _table(f"{mv.name} {mv.version}", show_header=False)
    t.add_column("", style="bold")
    t.add_column("", overflow="fold")
    sig = mv.signature
    for k, v in (("description", mv.description), ("estimator", mv.estimator), ("stage", mv.stage),
                 ("aliases", ", ".join(mv.aliases)), ("n_features", sig.get("n_features")),
                 ("feature names", sig.get("feature_names")), ("dtype", mv.dtype), ("classes", sig.get("classes")),
                 ("fitted on", f"{mv.backend} / {mv.device}"), ("size", f"{mv.size} bytes"), ("sha256", mv.sha256),
                 ("toolbox", mv.toolbox_version), ("created", f"{_time(mv.created_at)} by {mv.created_by}"),
                 ("run", mv.run_id), ("data fingerprint", mv.data_fingerprint), ("code version", mv.code_version),
                 ("parents", ", ".join(f"{n}:{v} ({r})" for n, v, r in mv.parents))):
        t.add_row(k, "-" if v in (None, "") else str(v))
    for k, v in sorted(mv.tags.items()):
        t.add_row(f"tags.{k}", v)
    for k, v in sorted(mv.metrics.items()):
        t.add_row(f"metrics.{k}", f"{v:.6g}")
    kids = registry.descendants(mv.name, mv.version).versions
    if kids:
        t.add_row("descendants", ", ".join(f"{n}:{v}" for n, v, _, _ in kids))
    console.print(t)
    return 0


def _versions_table(title: str, mvs: list[Any], *, with_name: bool) -> Any:
    metric_keys = sorted({k for m in mvs for k in m.metrics})[:4]
    t = _table(title)
    for col in (["name"] if with_name else []) + ["version", "stage", "aliases", "created", "by"]:
        t.add_column(col, no_wrap=True)
    for k in metric_keys:
        t.add_column(f"metrics.{k}", justify="right")
    for m in mvs:
        t.add_row(*([m.name] if with_name else []), m.version, m.stage or "-", ", ".join(m.aliases) or "-",
                  _time(m.created_at), m.created_by,
                  *["" if m.metrics.get(k) is None else f"{m.metrics[k]:.6g}" for k in metric_keys])
    return t


def _versions(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    mvs = registry.versions(args.name, args.range)
    console.print(_versions_table(f"{len(mvs)} version{'s' if len(mvs) != 1 else ''} of {args.name}", mvs,
                                  with_name=False))
    return 0


def _promote(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    changed = registry.promote(args.name, args.version, args.stage, reason=args.reason)
    mv = registry.get_version(args.name, stage=args.stage)
    console.print(f"{args.name} {mv.version} is in {args.stage}" + ("" if changed else " (it already was)"))
    return 0


def _rollback(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    version = registry.rollback(args.name, args.stage, reason=args.reason)
    console.print(f"{args.name} {args.stage} rolled back to {version}")
    return 0


def _history(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    events = registry.history(args.name, args.stage, alias=args.alias)
    t = _table(f"{len(events)} change{'s' if len(events) != 1 else ''} of {args.name}")
    for col in ("when", "slot", "action", "from", "to", "who", "reason"):
        t.add_column(col, overflow="fold" if col == "reason" else "ellipsis")
    for e in events:
        slot = e.slot if e.kind == "stage" else f"@{e.slot}"
        t.add_row(_time(e.at), slot, e.action, e.from_version or "-", e.to_version or "-", e.actor, e.reason or "")
    console.print(t)
    return 0


def _compare(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    cmp_ = registry.compare(args.name, args.versions)
    t = _table(f"{args.name}: {len(cmp_.versions)} versions compared")
    t.add_column("")
    for v in cmp_.versions:
        t.add_column(v, justify="right")
    section = None
    for sec, label, values in cmp_.rows:
        if section is not None and sec != section:
            t.add_section()
        section = sec
        shown = ["-" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v) for v in values]
        style = "bold" if len(set(shown)) > 1 else "dim"
        t.add_row(f"{sec}.{label}" if sec != "metadata" else label, *[f"[{style}]{s}[/]" for s in shown])
    console.print(t)
    return 0


def _search(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    registry = _registry(args)
    mvs = registry.search(args.filter, order_by=args.order_by, max_results=args.max)
    console.print(_versions_table(f"{len(mvs)} version{'s' if len(mvs) != 1 else ''}", mvs, with_name=True))
    return 0


def _fsck(args: argparse.Namespace, _tracking: Any, console: Any) -> int:
    from rich.markup import escape

    registry = _registry(args)
    report = registry.fsck(verify_contents=not args.quick)
    style = "green" if report.ok else "red"
    console.print(f"[{style}]{escape(str(report).splitlines()[0])}[/]")
    for e in report.errors:
        console.print(f"[red]error:[/] {escape(e)}")
    for g in report.garbage:
        console.print(f"[yellow]garbage:[/] {escape(g)}")
    return 0 if report.ok else 1


COMMANDS = {("registry", "list"): _list, ("registry", "show"): _show, ("registry", "versions"): _versions,
            ("registry", "promote"): _promote, ("registry", "rollback"): _rollback,
            ("registry", "history"): _history, ("registry", "compare"): _compare, ("registry", "search"): _search,
            ("registry", "fsck"): _fsck}
