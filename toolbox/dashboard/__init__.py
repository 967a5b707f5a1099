"""The live dashboard: runs, metrics and models in the browser, pushed over WebSocket as they are logged.

>>> import toolbox.dashboard
>>> d = toolbox.dashboard.serve()        # non-blocking; prints http://127.0.0.1:<port>/
>>> d.stop()

or, from a shell, ``toolbox dashboard [--store URI] [--host 127.0.0.1] [--port 0]``.
A Starlette app on uvicorn, bound to 127.0.0.1 by default (elsewhere only with
a token); Plotly's JavaScript comes from the installed ``plotly`` package, so
nothing is fetched from the network. See ``docs/dashboard.md``. Needs
``pip install 'toolbox[dashboard]'``.
"""

from __future__ import annotations

from ._app import create_app
from ._server import Dashboard, serve

__all__ = ["Dashboard", "create_app", "serve"]
