"""Canonical forms of parameters and inputs, and the cache keys built from them.

:func:`canonical` turns a value into a JSON tree that is equal for two values
exactly when a computation could not tell them apart: arrays become their
content hash (:func:`~toolbox.cache._hashing.hash_array`) and device, floats
their exact hex form, estimators their class and parameters, functions their
qualified name and the hash of their code. Anything whose behaviour cannot be
pinned down that way (lambdas, closures, random generators whose state a fit
would advance, arbitrary objects) raises :class:`Uncacheable`, and the call
then simply runs without the cache.
"""

from __future__ import annotations

import enum
import functools
import json
import sys
import types
from typing import Any

import numpy as np

from ..backends import framework_of
from ._hashing import _np_dtype_tag, hash_array, hash_bytes

__all__ = ["Uncacheable", "canonical", "environment", "fitted_state", "function_key", "key_of", "qualified_name"]

#: Modules whose plain objects (splitters, scorers, kernels) may be keyed by their attributes.
_TRUSTED_MODULES = ("toolbox", "sklearn")
_MAX_DEPTH = 64


class Uncacheable(TypeError):
    """A value the cache cannot key deterministically; the call runs uncached."""


def qualified_name(obj: Any) -> str:
    """``module.QualName`` of a class or function."""
    return f"{getattr(obj, '__module__', None) or '?'}.{getattr(obj, '__qualname__', None) or obj!r}"


def key_of(parts: Any) -> str:
    """The 32-character key (xxh3-128) of a canonical tree."""
    return hash_bytes(json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def environment() -> dict[str, Any]:
    """What, besides the inputs, decides a result: toolbox version, backend, device, output type, dtypes."""
    import toolbox

    from .._config import get_config
    from ..backends._dispatch import numba_active

    cfg = get_config()
    env: dict[str, Any] = {
        "toolbox": toolbox.__version__,
        "backend": cfg["backend"],
        "device": None if cfg["device"] is None else str(cfg["device"]),
        "output_type": cfg["output_type"],
        "numba": numba_active(),
    }
    jax = sys.modules.get("jax")
    if jax is not None:
        env["jax_x64"] = bool(jax.config.jax_enable_x64)
    torch = sys.modules.get("torch")
    if torch is not None:
        env["torch_default"] = [str(torch.get_default_dtype()), str(torch.get_default_device())]
    return env


def _array(x: Any) -> list:
    fw = framework_of(x)
    device = "cpu" if fw is None else fw.describe_device(fw.device_of(x))
    try:
        digest = hash_array(x)
    except TypeError as exc:
        raise Uncacheable(str(exc)) from None
    return ["array", digest, device]


def _const(c: Any) -> str:
    if isinstance(c, types.CodeType):
        return _code_digest(c)
    if isinstance(c, frozenset):  # its repr's order follows string hashing, which varies by process
        return "frozenset(" + ",".join(sorted(_const(x) for x in c)) + ")"
    if isinstance(c, tuple):
        return "(" + ",".join(_const(x) for x in c) + ")"
    return repr(c)


def _code_digest(code: types.CodeType) -> str:
    """Hash of a code object: bytecode, names and constants (nested code objects included)."""
    text = json.dumps([code.co_code.hex(), list(code.co_names), [_const(c) for c in code.co_consts],
                       code.co_argcount, code.co_kwonlyargcount, list(code.co_varnames)])
    return hash_bytes(text)


def _function(f: types.FunctionType, where: str, depth: int, cells: list | None = None) -> list:
    """A Python function: its name, code, closure cells and defaults (not the globals it reads)."""
    name = qualified_name(f)
    here = f"{where} (function {name})"
    if cells is None:
        cells = [canonical(c.cell_contents, here, depth + 1) for c in f.__closure__ or ()]
    defaults = canonical(f.__defaults__, here, depth + 1) if f.__defaults__ else None
    kwdefaults = canonical(f.__kwdefaults__, here, depth + 1) if f.__kwdefaults__ else None
    return ["function", name, _code_digest(f.__code__), cells, defaults, kwdefaults]


def function_key(f: Any, token: str) -> tuple[list, bool]:
    """``(canonical form, durable)`` of a memoized function.

    Closure cells holding values (numbers, strings, arrays, estimators...) are
    keyed by content; a cell holding a mutable container or an object that
    cannot be keyed (a counter list, a lock) is keyed by ``token``, which
    names this decorated function in this process only (``durable`` False:
    such entries never go to disk).
    """
    if not isinstance(f, types.FunctionType):
        try:
            return canonical(f, qualified_name(f)), True
        except Uncacheable:
            return ["object", qualified_name(f), token], False
    durable = True
    cells: list = []
    for i, c in enumerate(f.__closure__ or ()):
        try:
            v = c.cell_contents
            if isinstance(v, (list, dict, set, bytearray)):
                raise Uncacheable("mutable closure cell")
            cells.append(canonical(v, qualified_name(f)))
        except (Uncacheable, ValueError):  # ValueError: an empty cell
            cells.append(["cell", token, i])
            durable = False
    try:
        return _function(f, qualified_name(f), 0, cells), durable
    except Uncacheable:  # unkeyable defaults
        return ["object", qualified_name(f), token], False


def fitted_state(est: Any) -> dict[str, Any]:
    """The attributes of ``est`` that are not constructor parameters (its fitted state)."""
    names = set(est.get_params(deep=False))
    return {k: v for k, v in vars(est).items() if k not in names}


def _estimator(v: Any, where: str, depth: int) -> list:
    here = f"{where}({type(v).__name__})"
    params = canonical(v.get_params(deep=False), here, depth + 1)
    # a fitted estimator given as a parameter may be used as it is (prefit): its state is part of the key
    state = fitted_state(v) if hasattr(v, "__dict__") else {}
    fitted = canonical(state, f"{here} fitted state", depth + 1) if any(
        k.endswith("_") and not k.startswith("__") for k in state) else None
    return ["estimator", qualified_name(type(v)), params, fitted]


def _pandas(v: Any, where: str, depth: int) -> list | None:
    if not type(v).__module__.startswith("pandas"):
        return None
    import pandas as pd

    def column(s: Any) -> list:
        if isinstance(s.dtype, np.dtype):
            values = s.to_numpy()
        else:  # extension dtypes (nullable integers, categoricals): objects, NA as None
            values = s.astype(object).where(s.notna(), None).to_numpy()
        return [str(s.dtype), _array(values)]

    def index(ix: Any) -> list:
        if isinstance(ix, pd.RangeIndex):
            return ["range", ix.start, ix.stop, ix.step]
        return ["index", column(ix.to_series())]

    if isinstance(v, pd.DataFrame):
        names = [canonical(c, f"{where}.columns", depth + 1) for c in v.columns]
        cols = [column(v.iloc[:, i]) for i in range(v.shape[1])]
        return ["dataframe", names, cols, index(v.index)]
    if isinstance(v, pd.Series):
        return ["series", canonical(v.name, where, depth + 1), column(v), index(v.index)]
    if isinstance(v, pd.Index):
        return index(v)
    return None


def canonical(v: Any, where: str = "value", depth: int = 0) -> Any:
    """A JSON tree equal for two values exactly when a computation cannot tell them apart.

    Raises
    ------
    Uncacheable
        ``v`` (found at ``where``) holds something that cannot be keyed
        deterministically.
    """
    if depth > _MAX_DEPTH:
        raise Uncacheable(f"{where}: nested too deeply (a cycle?)")
    if v is None or isinstance(v, str) or type(v) is bool:
        return v
    if type(v) is int:
        return v
    if type(v) is float:
        return ["float", v.hex()]
    if type(v) is complex:
        return ["complex", v.real.hex(), v.imag.hex()]
    if isinstance(v, (bytes, bytearray)):
        return ["bytes", type(v).__name__, hash_bytes(bytes(v))]
    if isinstance(v, np.generic):
        if v.dtype.hasobject:
            raise Uncacheable(f"{where}: a NumPy object scalar")
        return ["np", _np_dtype_tag(v.dtype), v.tobytes().hex()]
    if isinstance(v, np.dtype):
        return ["dtype", _np_dtype_tag(v)]
    if isinstance(v, np.ndarray) or framework_of(v) is not None:
        return _array(v)
    if isinstance(v, enum.Enum):
        return ["enum", qualified_name(type(v)), v.name]
    if isinstance(v, (int, float, complex)):  # subclasses (IntEnum handled above): keep the type
        return ["number", qualified_name(type(v)), repr(v)]
    if isinstance(v, (list, tuple)):
        kind = "list" if type(v) is list else "tuple" if type(v) is tuple else qualified_name(type(v))
        return [kind, [canonical(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(v)]]
    if isinstance(v, dict):
        items = [[canonical(k, f"{where}.key", depth + 1), canonical(x, f"{where}[{k!r}]", depth + 1)]
                 for k, x in v.items()]
        kind = "dict" if type(v) is dict else qualified_name(type(v))
        return [kind, items]
    if isinstance(v, (set, frozenset)):
        items = sorted(json.dumps(canonical(x, f"{where} item", depth + 1), sort_keys=True) for x in v)
        return ["set", items]
    if isinstance(v, slice):
        return ["slice", canonical((v.start, v.stop, v.step), where, depth + 1)]
    if isinstance(v, range):
        return ["range", v.start, v.stop, v.step]
    if isinstance(v, type):
        return ["type", qualified_name(v)]
    if isinstance(v, (np.random.RandomState, np.random.Generator, np.random.BitGenerator)) or (
            type(v).__name__ == "Generator" and type(v).__module__.startswith("toolbox.backends")):
        raise Uncacheable(f"{where}: a random generator ({type(v).__name__}); a fit advances its state, "
                          "which a cached result could not reproduce. Pass an int seed to cache it.")
    if hasattr(v, "get_params") and callable(v.get_params) and hasattr(v, "fit"):
        return _estimator(v, where, depth)
    frame = _pandas(v, where, depth)
    if frame is not None:
        return frame
    if isinstance(v, functools.partial):
        return ["partial", canonical(v.func, where, depth + 1), canonical(v.args, where, depth + 1),
                canonical(v.keywords, where, depth + 1)]
    if isinstance(v, types.FunctionType):
        return _function(v, where, depth)
    if isinstance(v, types.MethodType):
        return ["method", canonical(v.__self__, where, depth + 1), v.__func__.__name__]
    if isinstance(v, (types.BuiltinFunctionType, np.ufunc)):
        owner = getattr(v, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            raise Uncacheable(f"{where}: the bound built-in method {v!r}")
        return ["builtin", qualified_name(v) if not isinstance(v, np.ufunc) else f"numpy.{v.__name__}"]
    module = type(v).__module__ or ""
    if module.split(".")[0] in ("numpy", "scipy") and callable(v) and hasattr(v, "__qualname__"):
        return ["builtin", qualified_name(v)]  # NumPy's dispatching functions (np.sum...): library code
    if module.split(".")[0] in _TRUSTED_MODULES and hasattr(v, "__dict__") and not callable(
            getattr(v, "__next__", None)):
        return ["object", qualified_name(type(v)), canonical(vars(v), f"{where}.{type(v).__name__}", depth + 1)]
    raise Uncacheable(f"{where}: cannot key an object of class {qualified_name(type(v))}")
