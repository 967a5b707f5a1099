"""System facts recorded with every run, as ``toolbox.*`` tags.

Only frameworks already imported are asked for their version: recording a run
never imports torch or JAX.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from typing import Any

__all__ = ["system_tags"]

_FRAMEWORKS = ("numpy", "scipy", "sklearn", "numba", "torch", "jax", "cupy", "array_api_strict", "pandas")


@functools.lru_cache(maxsize=8)
def _git_commit(cwd: str) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) >= 40 else None


def _frameworks() -> str:
    parts = []
    for name in _FRAMEWORKS:
        mod = sys.modules.get(name)
        version = getattr(mod, "__version__", None) if mod is not None else None
        if version:
            parts.append(f"{'scikit-learn' if name == 'sklearn' else name}=={version}")
    return " ".join(parts)


@functools.lru_cache(maxsize=1)
def _static() -> tuple[tuple[str, str], ...]:
    import toolbox

    return (("toolbox.version", toolbox.__version__), ("toolbox.python", platform.python_version()),
            ("toolbox.platform", platform.platform(terse=True)), ("toolbox.host", socket.gethostname()))


def system_tags() -> dict[str, str]:
    """Versions, backend and device, host, Python, git commit of the working directory."""
    import toolbox

    backend, device = toolbox.get_backend()
    tags: dict[str, Any] = dict(_static())
    tags.update({
        "toolbox.frameworks": _frameworks(),
        "toolbox.backend": backend,
        "toolbox.device": "default" if device is None else str(device),
        "toolbox.user": os.environ.get("USER") or os.environ.get("USERNAME") or "",
        "toolbox.pid": str(os.getpid()),
        "toolbox.command": " ".join(sys.argv)[:1000],
    })
    commit = _git_commit(os.getcwd())
    if commit:
        tags["toolbox.git_commit"] = commit
    return {k: str(v) for k, v in tags.items()}
