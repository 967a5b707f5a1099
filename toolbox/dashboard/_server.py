"""Running the app on uvicorn: in a background thread (notebooks, tests) or in the foreground (the CLI)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from typing import Any

from ._security import is_loopback, new_token

__all__ = ["Dashboard", "serve"]


class Dashboard:
    """A running dashboard: its ``url`` (with the token when there is one), ``stop()`` and ``wait()``."""

    def __init__(self, server: Any, thread: threading.Thread | None, host: str, port: int,
                 token: str | None) -> None:
        self._server, self._thread = server, thread
        self.host, self.port, self.token = host, port, token
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")

    def __repr__(self) -> str:
        return f"<toolbox dashboard at {self.url}>"

    def _repr_html_(self) -> str:
        import html

        return f'<a href="{html.escape(self.url)}" target="_blank">toolbox dashboard: {html.escape(self.url)}</a>'

    @property
    def running(self) -> bool:
        """Whether the server still runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (open pages show "disconnected")."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C stops it)."""
        if self._thread is None:
            return
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            self.stop()


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(store: str | os.PathLike | None = None, *, host: str = "127.0.0.1", port: int = 0,
          token: str | None = None, artifact_root: str | os.PathLike | None = None, block: bool = False,
          quiet: bool = False, open_browser: bool = False) -> Dashboard:
    """Start the dashboard and print its URL.

    Parameters
    ----------
    store : str or path, optional
        The tracking store (a folder, ``sqlite:///``, ``postgresql://``); default
        the one :mod:`toolbox.tracking` uses in this process.
    host : str, default="127.0.0.1"
        Where to listen. Anything but a loopback address needs a token.
    port : int, default=0
        0 picks a free port.
    token : str, optional
        Required in every request; made up (and printed once) when ``host`` is not loopback.
    artifact_root : str or path, optional
        The store's artifact root, when it is not the default one.
    block : bool, default=False
        Serve in this thread until Ctrl-C (the CLI); otherwise in a background
        thread, returning at once (notebooks).
    quiet : bool, default=False
        Do not print the URL.
    open_browser : bool, default=False
        Open the URL in the default browser.

    Returns
    -------
    Dashboard
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError("The dashboard needs uvicorn; install it with: pip install 'toolbox[dashboard]'") from exc
    from ._app import create_app

    if token is None and not is_loopback(host):
        token = new_token()
    app = create_app(store, artifact_root=artifact_root, host=host, token=token)
    sock = _socket(host, port)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio",
                            ws_ping_interval=20.0, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    if block:
        d = Dashboard(server, None, host, port, token)
        if not quiet:
            print(f"toolbox dashboard: {d.url}  (store: {app.state.queries.display}; Ctrl-C stops it)", flush=True)
        _maybe_open(d.url, open_browser)
        server.run(sockets=[sock])
        return d
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="toolbox-dashboard",
                              daemon=True)
    thread.start()
    started = threading.Event()

    def _wait_started() -> None:
        while thread.is_alive() and not server.started:
            started.wait(0.02)

    _wait_started()
    if not server.started:
        raise RuntimeError("The dashboard server did not start (see the log above).")
    d = Dashboard(server, thread, host, port, token)
    if not quiet:
        print(f"toolbox dashboard: {d.url}  (store: {app.state.queries.display})", file=sys.stdout, flush=True)
    _maybe_open(d.url, open_browser)
    return d


def _maybe_open(url: str, yes: bool) -> None:
    if yes:
        import webbrowser

        webbrowser.open(url)
