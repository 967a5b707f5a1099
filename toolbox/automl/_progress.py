"""Progress of a :func:`toolbox.fit` call: a live ``rich`` line on a terminal, plain lines otherwise.

The live display shows trials done, the best score so far and the time left;
off a terminal (logs, CI, notebooks' captured output) a line is printed when
the best score improves, and one at the end. ``verbose=False`` prints nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["Progress"]


class Progress:
    """Report trials as they finish (``update``) and the result (``close``)."""

    def __init__(self, verbose: bool, budget: Any, metric: Any, stream: Any = None) -> None:
        self.verbose = bool(verbose)
        self.budget = budget
        self.metric = metric
        self.stream = stream if stream is not None else sys.stdout
        self.done = 0
        self.best: float | None = None
        self.best_model = ""
        self._live = None
        self._task = None
        self._last_line = 0.0
        if self.verbose and getattr(self.stream, "isatty", lambda: False)():
            try:
                from rich.console import Console
                from rich.live import Live

                self._console = Console(file=self.stream)
                self._live = Live(self._render(), console=self._console, refresh_per_second=4, transient=True)
                self._live.start()
            except Exception:  # rich missing or unusable: plain lines
                self._live = None

    def line(self, text: str) -> None:
        """Print one line (above the live display when there is one)."""
        if not self.verbose:
            return
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def _left(self) -> str:
        if not self.budget.limited:
            return ""
        return f", {max(0.0, self.budget.remaining()):.1f}s left"

    def _render(self) -> Any:
        from rich.text import Text

        best = "-" if self.best is None else f"{self.best:.4f} ({self.best_model})"
        return Text(f"toolbox.fit: {self.done} trials, best {self.metric.name} {best}{self._left()}")

    def update(self, result: Any) -> None:
        """One trial finished."""
        if not self.verbose:
            return
        self.done += 1
        improved = False
        if result.status == "ok":
            s = self.metric.signed(result.mean)
            if self.best is None or s > self.metric.signed(self.best):
                self.best, self.best_model, improved = result.mean, result.model, True
        if self._live is not None:
            self._live.update(self._render())
        elif improved:
            self.line(f"  trial {result.number:>3} {result.model:<12} {self.metric.name} {result.mean:.4f} "
                      f"(best so far){self._left()}")
            self._last_line = time.perf_counter()

    def close(self) -> None:
        if self._live is not None:
            try:
                self._live.stop()
            finally:
                self._live = None
