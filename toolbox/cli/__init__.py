"""The ``toolbox`` console command (layer 5): ``toolbox runs list|show|compare|delete``, ``toolbox experiments list``.

Tables are rendered with ``rich`` (plain text when not on a terminal).
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
