"""The ``toolbox`` command: ``toolbox runs list|show|compare|delete``, ``toolbox experiments list``."""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import re
import sys
from collections.abc import Sequence
from typing import Any

from ._dashboard import COMMANDS as DASHBOARD_COMMANDS
from ._dashboard import add_parser as add_dashboard_parser
from ._registry import COMMANDS as REGISTRY_COMMANDS
from ._registry import add_parser as add_registry_parser

__all__ = ["main"]

_EXTRA = "pip install 'toolbox[tracking]'"
_HEX = re.compile(r"[0-9a-f]{1,32}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="toolbox", description="toolbox experiment tracking from the command line.")
    p.add_argument("--store", metavar="URI", help="folder, sqlite:///file.db or postgresql://... "
                   "(default: $TOOLBOX_TRACKING_URI or ./toolbox-runs)")
    sub = p.add_subparsers(dest="group", required=True)

    runs = sub.add_parser("runs", help="list, show, compare or delete runs")
    rsub = runs.add_subparsers(dest="command", required=True)
    ls = rsub.add_parser("list", help="runs, newest first (or in --order-by order)")
    ls.add_argument("-e", "--experiment", action="append", help="only this experiment (repeatable)")
    ls.add_argument("-f", "--filter", help="e.g. \"metrics.accuracy > 0.9 and params.C = '1.0'\"")
    ls.add_argument("-o", "--order-by", action="append", help="e.g. 'metrics.accuracy DESC' (repeatable)")
    ls.add_argument("-n", "--max", type=int, default=50, help="most runs shown (default 50)")
    ls.add_argument("--columns", type=int, default=3,
                    help="most metric and parameter columns each (default 3; parameters that vary first)")
    show = rsub.add_parser("show", help="everything about one run")
    show.add_argument("run_id", help="a run id or a unique prefix of one")
    cmp_ = rsub.add_parser("compare", help="parameters and metrics of runs side by side")
    cmp_.add_argument("run_ids", nargs="+", help="run ids or unique prefixes")
    rm = rsub.add_parser("delete", help="delete runs (with their child runs)")
    rm.add_argument("run_ids", nargs="+", help="run ids or unique prefixes")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    exps = sub.add_parser("experiments", help="list experiments")
    esub = exps.add_subparsers(dest="command", required=True)
    esub.add_parser("list", help="every experiment with its number of runs")
    add_registry_parser(sub)
    add_dashboard_parser(sub)
    return p


# --------------------------------------------------------------------------- #
# formatting
# --------------------------------------------------------------------------- #
def _time(t: float | None) -> str:
    if t is None:
        return "-"
    return _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def _duration(r: Any) -> str:
    d = r.duration
    if d is None:
        return "-"
    return f"{d:.2f} s" if d < 120 else f"{d / 60:.1f} min"


def _num(v: float | None) -> str:
    if v is None:
        return ""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


_STATUS_STYLE = {"finished": "green", "running": "cyan", "failed": "red", "killed": "magenta"}


def _status(s: str) -> str:
    return f"[{_STATUS_STYLE.get(s, 'white')}]{s}[/]"


def _table(title: str | None = None, **kw: Any) -> Any:
    from rich.table import Table

    return Table(title=title, title_justify="left", **kw)


# --------------------------------------------------------------------------- #
# commands
# --------------------------------------------------------------------------- #
def _resolve(tracking: Any, ref: str) -> str:
    from toolbox.store import NotFoundError

    ref = ref.strip().lower()
    if not _HEX.fullmatch(ref):
        raise NotFoundError(f"{ref!r} is not a run id (32 hex digits, or a prefix of one).")
    if len(ref) == 32:
        return ref
    found = tracking.search_runs(filter=f"attributes.run_id like '{ref}%'", max_results=2)
    if not found:
        raise NotFoundError(f"No run id starts with {ref!r}.")
    if len(found) > 1:
        raise NotFoundError(f"Several runs start with {ref!r}: give more digits.")
    return found[0].id


def _runs_list(args: argparse.Namespace, tracking: Any, console: Any) -> int:
    runs = tracking.search_runs(args.experiment, filter=args.filter, order_by=args.order_by, max_results=args.max)
    metric_keys = _common_keys(runs, "metrics", args.columns)
    param_keys = _common_keys(runs, "params", args.columns)
    t = _table(f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {tracking.get_store_uri()}")
    several = len({r.experiment for r in runs}) > 1
    for col in ("run id", "experiment", "name", "status", "started", "duration"):
        if col != "experiment" or several:
            t.add_column(col, no_wrap=True)
    for k in param_keys:
        t.add_column(f"params.{k}", style="yellow")
    for k in metric_keys:
        t.add_column(f"metrics.{k}", justify="right", style="bold")
    for r in runs:
        name = ("  └ " if r.parent_id else "") + r.name
        t.add_row(r.id[:12], *([r.experiment] if several else []), name, _status(r.status), _time(r.start_time),
                  _duration(r),
                  *[r.params.get(k, "") for k in param_keys],
                  *[_num(r.metrics.get(k)) for k in metric_keys])
    console.print(t)
    return 0


def _common_keys(runs: Sequence[Any], attr: str, limit: int) -> list[str]:
    """The ``limit`` keys to show: those whose values differ between runs first (timings last), then the most
    common."""
    counts: dict[str, int] = {}
    values: dict[str, set[str]] = {}
    for r in runs:
        for k, v in getattr(r, attr).items():
            counts[k] = counts.get(k, 0) + 1
            values.setdefault(k, set()).add(str(v))
    return sorted(counts, key=lambda k: (len(values[k]) < 2, k.endswith("time"), -counts[k], k))[:max(limit, 0)]


def _runs_show(args: argparse.Namespace, tracking: Any, console: Any) -> int:
    r = tracking.get_run(_resolve(tracking, args.run_id))
    t = _table(f"run {r.id}", show_header=False)
    t.add_column("", style="bold")
    t.add_column("")
    children = tracking.search_runs(filter=f"attributes.parent_id = '{r.id}'", max_results=None)
    for k, v in (("name", r.name), ("experiment", r.experiment), ("status", _status(r.status)),
                 ("parent", r.parent_id or "-"), ("children", str(len(children))),
                 ("started", _time(r.start_time)), ("ended", _time(r.end_time)), ("duration", _duration(r)),
                 ("host", f"{r.host} (pid {r.pid})")):
        t.add_row(k, v)
    console.print(t)
    if r.params:
        pt = _table("parameters")
        pt.add_column("name")
        pt.add_column("value", style="yellow")
        for k, v in r.params.items():
            pt.add_row(k, v)
        console.print(pt)
    if r.metrics:
        mt = _table("metrics (latest value)")
        mt.add_column("name")
        mt.add_column("value", justify="right", style="bold")
        mt.add_column("points", justify="right")
        for k, v in r.metrics.items():
            mt.add_row(k, _num(v), str(len(tracking.get_metric_history(r.id, k))))
        console.print(mt)
    if r.tags:
        tt = _table("tags")
        tt.add_column("name")
        tt.add_column("value", overflow="fold")
        for k, v in r.tags.items():
            tt.add_row(k, v)
        console.print(tt)
    if r.artifacts:
        at = _table("artifacts")
        at.add_column("path")
        at.add_column("bytes", justify="right")
        at.add_column("sha256")
        for a in r.artifacts:
            at.add_row(a.path, str(a.size), a.digest[:16])
        console.print(at)
    return 0


def _runs_compare(args: argparse.Namespace, tracking: Any, console: Any) -> int:
    runs = [tracking.get_run(_resolve(tracking, ref)) for ref in args.run_ids]
    t = _table(f"{len(runs)} runs compared (differences in bold)")
    t.add_column("")
    for r in runs:
        t.add_column(f"{r.name}\n{r.id[:12]}", justify="right")
    t.add_row("[dim]status[/]", *[_status(r.status) for r in runs])
    t.add_row("[dim]experiment[/]", *[r.experiment for r in runs])
    for attr, fmt in (("params", str), ("metrics", _num)):
        keys = sorted({k for r in runs for k in getattr(r, attr)})
        if keys:
            t.add_section()
        for k in keys:
            vals = [getattr(r, attr).get(k) for r in runs]
            shown = ["-" if v is None else fmt(v) for v in vals]
            style = "bold" if len(set(shown)) > 1 else "dim"
            t.add_row(f"{attr}.{k}", *[f"[{style}]{s}[/]" for s in shown])
    console.print(t)
    return 0


def _runs_delete(args: argparse.Namespace, tracking: Any, console: Any) -> int:
    ids = [_resolve(tracking, ref) for ref in args.run_ids]
    if not args.yes:
        if not sys.stdin.isatty():
            console.print("[red]error:[/] refusing to delete without confirmation: add --yes")
            return 1
        answer = input(f"Delete {len(ids)} run(s) and their child runs? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            console.print("nothing deleted")
            return 1
    deleted = tracking.delete_runs(ids)
    console.print(f"deleted {len(deleted)} run(s): {', '.join(d[:12] for d in deleted)}")
    return 0


def _experiments_list(args: argparse.Namespace, tracking: Any, console: Any) -> int:
    exps = tracking.list_experiments()
    t = _table(f"{len(exps)} experiment{'s' if len(exps) != 1 else ''} in {tracking.get_store_uri()}")
    for col in ("id", "name", "runs", "created"):
        t.add_column(col, justify="right" if col in ("id", "runs") else "left")
    for e in exps:
        t.add_row(str(e.id), e.name, str(e.n_runs), _time(e.created_at))
    console.print(t)
    return 0


_COMMANDS = {("runs", "list"): _runs_list, ("runs", "show"): _runs_show, ("runs", "compare"): _runs_compare,
             ("runs", "delete"): _runs_delete, ("experiments", "list"): _experiments_list}
_COMMANDS.update(REGISTRY_COMMANDS)
_COMMANDS.update(DASHBOARD_COMMANDS)


def main(argv: Sequence[str] | None = None, *, console: Any = None) -> int:
    """Run the ``toolbox`` command with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        from rich.console import Console
    except ImportError:
        print(f"error: the toolbox command needs rich; install it with: {_EXTRA}", file=sys.stderr)
        return 1
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True) if console.file in (sys.stdout, None) else console
    from toolbox import tracking
    from toolbox.store import StoreError

    try:
        if args.store:
            tracking.set_store(args.store)
        return _COMMANDS[(args.group, args.command)](args, tracking, console)
    except (StoreError, ValueError, ImportError, FileNotFoundError) as exc:
        from rich.markup import escape

        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        return 1
