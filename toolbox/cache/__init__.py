"""Content-addressed memoization of fits and functions of arrays (layer 2)."""

from __future__ import annotations

from ._hashing import hash_array

__all__ = ["hash_array"]
