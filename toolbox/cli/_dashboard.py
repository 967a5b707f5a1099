"""``toolbox dashboard [--store URI] [--host 127.0.0.1] [--port 0]``: serve the live dashboard until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["COMMANDS", "add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add the ``dashboard`` sub-command to the ``toolbox`` parser's sub-parsers."""
    p = sub.add_parser("dashboard", help="serve the live web dashboard of runs and models")
    # also after the sub-command (`toolbox dashboard --store URI`); absent, the global --store stands
    p.add_argument("--store", metavar="URI", default=argparse.SUPPRESS,
                   help="folder, sqlite:///file.db or postgresql://... (default: $TOOLBOX_TRACKING_URI or ./toolbox-runs)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs the printed token)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    p.add_argument("--token", help="token required in every request (default: made up when not on loopback)")
    p.add_argument("--open", action="store_true", help="open the dashboard in the default browser")
    p.set_defaults(command="serve")


def run(args: argparse.Namespace, tracking: Any = None, console: Any = None) -> int:
    """Serve in the foreground; return the exit status."""
    try:
        from toolbox.dashboard import serve
    except ImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from toolbox.store import StoreError

    try:
        serve(args.store, host=args.host, port=args.port, token=args.token, block=True, open_browser=args.open)
    except (StoreError, ValueError, ImportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


#: ``(group, command)`` -> handler, merged into the ``toolbox`` command's table.
COMMANDS = {("dashboard", "serve"): run}
