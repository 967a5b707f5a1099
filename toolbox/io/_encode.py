"""Objects <-> a JSON tree plus named arrays; nothing else is ever written or read.

JSON values stand for themselves; a JSON object whose only key starts with
``"__"`` is a tag:

========================  ==================================================
``{"__array__": key}``    a numeric array stored in safetensors under ``key``
                          (also ``framework``, ``device``, ``order``)
``{"__strarray__": …}``   a string or object array (``dtype``, ``shape``)
``{"__masked__": …}``     a NumPy masked array (``mask``)
``{"__tuple__": […]}``    a tuple; ``{"__items__": [[k, v], …]}`` a dict
                          with non-string keys; ``{"__dict__": {…}}`` one
                          whose keys start with ``"__"``
``{"__float__": "nan"}``  a non-finite float; ``{"__scalar__": dtype, …}``
                          a NumPy scalar; ``{"__dtype__": …}``,
                          ``{"__type__": …}`` a dtype or scalar type
``{"__slice__": […]}``    a slice; ``{"__device__": …}`` an array device;
                          ``{"__generator__": …}``, ``{"__random_state__": …}``
                          NumPy random states
``{"__estimator__": …}``  an allowed estimator (``params``, ``state``)
``{"__object__": …}``     an allowed helper object (``state``)
``{"__function__": …}``   an allowed function
========================  ==================================================

Classes and functions are named by the aliases of :mod:`._allowlist`;
decoding builds objects with ``cls.__new__`` and fills their ``__dict__``:
no constructor, no import of a module the file names, no pickle.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn.base

from ..backends import framework_of, get_framework, to_backend
from . import _allowlist

__all__ = ["Decoder", "Encoder"]

_SCALAR_TYPES = {
    "builtins.float": float, "builtins.int": int, "builtins.bool": bool, "builtins.str": str,
    **{f"numpy.{t}": getattr(np, t) for t in (
        "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
        "uint64", "bool_", "complex64", "complex128", "str_", "object_")},
}
_SCALAR_TYPE_NAMES = {v: k for k, v in _SCALAR_TYPES.items()}
_SAFETENSORS_KINDS = "biuf"  # bool, int, uint, float: what safetensors stores
_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")


def _device_framework(obj: Any) -> str | None:
    """The framework whose device object ``obj`` is, or None."""
    module = type(obj).__module__ or ""
    top = module.split(".")[0]
    if top == "torch" and type(obj).__name__ == "device":
        return "torch"
    if top in ("jax", "jaxlib") and hasattr(obj, "platform") and hasattr(obj, "id"):
        return "jax"
    if top == "array_api_strict" and type(obj).__name__ == "Device":
        return "array_api_strict"
    if top == "cupy" and type(obj).__name__ == "Device":
        return "cupy"
    return None


def _plain_float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {"__float__": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


@dataclass
class Encoder:
    """Encode one object tree; arrays collect in :attr:`arrays` (key -> C- or F-ordered host array)."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    frameworks: set[str] = field(default_factory=set)
    _memo: dict[int, tuple[Any, dict]] = field(default_factory=dict)

    def fail(self, where: str, what: str) -> None:
        from ..exceptions import NotPersistableError

        raise NotPersistableError(f"{where}: {what}; toolbox model files hold arrays and JSON data only.")

    # ------------------------------------------------------------------ arrays

    def _key(self, where: str) -> str:
        base = _KEY_CHARS.sub("_", where.replace("[", ".").replace("]", ""))[-120:] or "array"
        key, i = base, 1
        while key in self.arrays:
            i += 1
            key = f"{base}~{i}"
        return key

    def _ndarray(self, a: np.ndarray, where: str, fw: str = "numpy", device: Any = None) -> dict:
        original = a
        if id(a) in self._memo and self._memo[id(a)][0] is a:  # the same array twice: stored once
            return dict(self._memo[id(a)][1])
        if a.dtype.kind in _SAFETENSORS_KINDS:
            if not a.dtype.isnative:
                a = a.astype(a.dtype.newbyteorder("="))
            # the layout decides how BLAS sums: keep column-major arrays (and column-major views) so
            order = "F" if a.ndim > 1 and not a.flags.c_contiguous and (
                a.flags.f_contiguous or abs(a.strides[0]) < abs(a.strides[-1])) else "C"
            host = np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)
            key = self._key(where)
            self.arrays[key] = host.T if order == "F" else host  # safetensors stores C order
            tag: dict[str, Any] = {"__array__": key}
            if order == "F":
                tag["order"] = "F"
            if fw != "numpy":
                tag["framework"] = fw
                tag["device"] = get_framework(fw).describe_device(device)
                self.frameworks.add(fw)
        elif a.dtype.kind in "USO":
            if fw != "numpy":
                self.fail(where, f"a {fw} array of dtype {a.dtype}")
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(a.reshape(-1).tolist())]
            if a.dtype.kind == "O" and any(isinstance(v, dict) for v in items):
                self.fail(where, "an object array holding something other than strings or numbers")
            tag = {"__strarray__": items, "dtype": a.dtype.str, "shape": list(a.shape)}
        else:
            self.fail(where, f"an array of dtype {a.dtype}, which model files cannot hold")
        self._memo[id(original)] = (original, tag)
        return dict(tag)

    # ------------------------------------------------------------------ the tree

    def encode(self, obj: Any, where: str) -> Any:
        """Encode ``obj`` found at ``where`` (``LogisticRegression.coef_``: used in errors and array keys)."""
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and type(obj) is int:
            return obj
        if type(obj) is float:
            return _plain_float(obj)
        if isinstance(obj, np.ma.MaskedArray):
            return {"__masked__": self._ndarray(np.ma.getdata(obj), f"{where}.data"),
                    "mask": self._ndarray(np.ma.getmaskarray(obj), f"{where}.mask")}
        if isinstance(obj, np.ndarray):
            return self._ndarray(obj, where)
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in "biufUS":
                self.fail(where, f"a NumPy scalar of dtype {obj.dtype}")
            value = obj.item()
            return {"__scalar__": obj.dtype.str,
                    "value": _plain_float(value) if isinstance(value, float) else value}
        if isinstance(obj, np.dtype):
            if obj.fields is not None:
                self.fail(where, "a structured dtype")
            return {"__dtype__": obj.str}
        if isinstance(obj, type) and obj in _SCALAR_TYPE_NAMES:
            return {"__type__": _SCALAR_TYPE_NAMES[obj]}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):  # a tuple subclass comes back as a plain tuple
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            return self._dict(obj, where)
        if isinstance(obj, slice):
            return {"__slice__": [self.encode(v, where) for v in (obj.start, obj.stop, obj.step)]}
        if isinstance(obj, np.random.Generator):
            bg = type(obj.bit_generator).__name__
            if bg not in _allowlist.BIT_GENERATORS:
                self.fail(where, f"a random generator with bit generator {bg}")
            return {"__generator__": bg, "state": self.encode(obj.bit_generator.state, f"{where}.state")}
        if isinstance(obj, np.random.RandomState):
            return {"__random_state__": self.encode(obj.get_state(legacy=False), f"{where}.state")}
        dev_fw = _device_framework(obj)
        if dev_fw is not None:
            return {"__device__": get_framework(dev_fw).describe_device(obj), "framework": dev_fw}
        fw = framework_of(obj)
        if fw is not None:  # torch, JAX, CuPy, array_api_strict arrays
            return self._ndarray(fw.to_host(obj), where, fw.name, fw.device_of(obj))
        return self._named(obj, where)

    def _dict(self, obj: dict, where: str) -> Any:
        if all(type(k) is str for k in obj):
            body = {k: self.encode(v, f"{where}.{k}") for k, v in obj.items()}
            if len(body) == 1 and next(iter(body)).startswith("__"):
                return {"__dict__": body}
            return body
        return {"__items__": [[self.encode(k, f"{where}.key"), self.encode(v, f"{where}[{k!r}]")]
                              for k, v in obj.items()]}

    def _named(self, obj: Any, where: str) -> Any:
        named = _allowlist.name_of(obj)
        if named is None:
            what = (f"the function {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"
                    if callable(obj) and not isinstance(obj, sklearn.base.BaseEstimator)
                    else f"an object of class {type(obj).__module__}.{type(obj).__qualname__}")
            if (type(obj).__module__ or "").startswith("toolbox.hub"):
                what += (", a pretrained model: save it with its save_pretrained(path) (safetensors, JSON and "
                         "a model card) and load it with toolbox.hub.load(path)")
            elif isinstance(obj, sklearn.base.BaseEstimator):
                what += ", which is not a toolbox estimator (use toolbox's class of the same name)"
            self.fail(where, what)
        kind, alias = named
        if kind == "function":
            return {"__function__": alias}
        if kind == "estimator":
            return self._estimator(obj, alias, where)
        state = obj.__getstate__() if hasattr(type(obj), "__getstate__") and "__getstate__" in vars(
            type(obj)) else _instance_dict(obj)
        return {"__object__": alias, "state": self.encode(state, where)}

    def _estimator(self, est: Any, alias: str, where: str) -> dict:
        if alias == "sklearn.preprocessing.FunctionTransformer":
            if est.func is not None or est.inverse_func is not None:
                self.fail(f"{where}.func", "a FunctionTransformer with a function (model files never hold code)")
        names = set(type(est)._get_param_names())
        state = dict(_instance_dict(est))
        params = {k: state.pop(k) for k in list(state) if k in names}
        name = alias.rsplit(".", 1)[1]
        return {"__estimator__": alias,
                "params": {k: self.encode(v, f"{where}.{k}" if where else f"{name}.{k}") for k, v in params.items()},
                "state": {k: self.encode(v, f"{where}.{k}" if where else f"{name}.{k}") for k, v in state.items()}}


def _instance_dict(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "__dict__"):
        return dict(vars(obj))
    return {k: getattr(obj, k) for k in getattr(type(obj), "__slots__", ()) if hasattr(obj, k)}


class Decoder:
    """Decode a JSON tree written by :class:`Encoder` with ``arrays`` (key -> host array).

    ``place`` is ``None`` (every array back on the framework and device it was
    saved from) or ``"host"`` (every array as NumPy; the caller moves the result).
    Every problem raises :class:`~toolbox.exceptions.ModelFileError` for ``path``.
    """

    def __init__(self, arrays: dict[str, np.ndarray], path: Any, *, place: str | None = None) -> None:
        self.arrays = arrays
        self.path = path
        self.place = place
        self.used: set[str] = set()

    def fail(self, where: str, what: str) -> None:
        from ..exceptions import ModelFileError

        raise ModelFileError(self.path, f"{what} (at {where or 'the top level'})")

    def decode(self, node: Any, where: str = "") -> Any:
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if isinstance(node, list):
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if not isinstance(node, dict):
            self.fail(where, f"unexpected JSON value {type(node).__name__}")
        tag = next((k for k in node if k.startswith("__")), None)
        if tag is None:
            return {k: self.decode(v, f"{where}.{k}") for k, v in node.items()}
        body = node[tag]
        try:
            if tag == "__array__":
                return self._array(node, where)
            if tag == "__strarray__":
                items = [self.decode(v, where) for v in body]
                dtype = np.dtype(node["dtype"])
                if dtype.kind not in "USO":
                    self.fail(where, f"a string array with dtype {dtype}")
                out = np.empty(len(items), dtype=dtype)
                out[:] = items
                return out.reshape([int(s) for s in node["shape"]])
            if tag == "__masked__":
                return np.ma.MaskedArray(self.decode(body, where), mask=self.decode(node["mask"], where))
            if tag == "__tuple__":
                return tuple(self.decode(v, f"{where}[{i}]") for i, v in enumerate(body))
            if tag == "__items__":
                return {self._key(self.decode(k, where)): self.decode(v, where) for k, v in body}
            if tag == "__dict__":
                return {k: self.decode(v, f"{where}.{k}") for k, v in body.items()}
            if tag == "__float__":
                return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[body]
            if tag == "__scalar__":
                dtype = np.dtype(body)
                if dtype.kind not in "biufUS":
                    self.fail(where, f"a scalar of dtype {dtype}")
                return dtype.type(self.decode(node["value"], where))
            if tag == "__dtype__":
                dtype = np.dtype(body)
                if dtype.fields is not None:
                    self.fail(where, "a structured dtype")
                return dtype
            if tag == "__type__":
                if body not in _SCALAR_TYPES:
                    self.fail(where, f"the type {body!r}, which is not a scalar type")
                return _SCALAR_TYPES[body]
            if tag == "__slice__":
                return slice(*(self._index(v, where) for v in body))
            if tag == "__device__":
                return self._device(body, node.get("framework"), where)
            if tag == "__generator__":
                if body not in _allowlist.BIT_GENERATORS:
                    self.fail(where, f"the bit generator {body!r}, which is not allowed")
                bg = getattr(np.random, body)()
                bg.state = self.decode(node["state"], where)
                return np.random.Generator(bg)
            if tag == "__random_state__":
                rs = np.random.RandomState()
                rs.set_state(self.decode(body, where))
                return rs
            if tag == "__function__":
                func = _allowlist.lookup("function", body)
                if func is None:
                    self.fail(where, f"the function {body!r}, which is not on toolbox's allow-list")
                return func
            if tag == "__estimator__":
                return self._estimator(node, where)
            if tag == "__object__":
                return self._object(node, where)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            from ..exceptions import ModelFileError

            if isinstance(exc, ModelFileError):
                raise
            self.fail(where, f"malformed {tag} entry ({type(exc).__name__}: {exc})")
        self.fail(where, f"unknown tag {tag!r}")

    # ------------------------------------------------------------------ pieces

    def _key(self, key: Any) -> Any:
        if isinstance(key, (list, dict)):
            raise TypeError("a dict key must be a scalar or a tuple")
        return key

    def _index(self, value: Any, where: str) -> int | None:
        value = self.decode(value, where)
        if value is not None and type(value) is not int:
            raise TypeError("slice bounds must be integers or null")
        return value

    def _host(self, node: Any, where: str) -> np.ndarray:
        if not isinstance(node, dict) or "__array__" not in node:
            raise TypeError("expected an array")
        key = node["__array__"]
        if key not in self.arrays:
            self.fail(where, f"the array {key!r}, which arrays.safetensors does not hold")
        self.used.add(key)
        a = self.arrays[key]
        return a.T if node.get("order") == "F" else a  # stored transposed: .T is the F-ordered array

    def _array(self, node: dict, where: str) -> Any:
        a = self._host(node, where)
        fw = node.get("framework", "numpy")
        if self.place == "host" or fw == "numpy":
            return a
        try:
            return to_backend(a, fw, get_framework(fw).device(node.get("device")))
        except Exception as exc:  # the framework's own error for a missing device: torch raises AssertionError
            self.fail(where, f"an array saved from {fw} on {node.get('device')}, which is not available "
                             f"here ({exc}); load with backend='numpy' (or device='cpu')")

    def _device(self, spec: Any, fw: Any, where: str) -> Any:
        if fw not in ("torch", "jax", "array_api_strict", "cupy") or not isinstance(spec, str):
            raise TypeError("malformed device")
        if self.place == "host":
            return "cpu"
        try:
            return get_framework(fw).device(spec)
        except Exception as exc:  # as in _array
            self.fail(where, f"the {fw} device {spec!r}, which is not available here ({exc}); "
                             f"load with backend='numpy' (or device='cpu')")

    def _estimator(self, node: dict, where: str) -> Any:
        alias = node["__estimator__"]
        cls = _allowlist.lookup("estimator", alias)
        if cls is None:
            self.fail(where, f"the class {alias!r}, which is not a toolbox estimator (only toolbox's "
                             f"classes, and Pipeline/ColumnTransformer/FeatureUnion of them, load)")
        here = where or alias.rsplit(".", 1)[1]
        params = node["params"]
        state = node["state"]
        if not isinstance(params, dict) or not isinstance(state, dict):
            raise TypeError("params and state must be JSON objects")
        allowed = set(cls._get_param_names())
        unknown = sorted(set(params) - allowed)
        if unknown:
            self.fail(here, f"parameters {unknown} that {cls.__name__} does not take")
        if set(params) & set(state):
            raise ValueError("a name is both a parameter and a fitted attribute")
        est = cls.__new__(cls)
        values = {k: self.decode(v, f"{here}.{k}") for k, v in params.items()}
        values.update({k: self.decode(v, f"{here}.{k}") for k, v in state.items()})
        if alias == "sklearn.preprocessing.FunctionTransformer" and (
                values.get("func") is not None or values.get("inverse_func") is not None):
            self.fail(here, "a FunctionTransformer with a function")
        vars(est).update(values)
        return est

    def _object(self, node: dict, where: str) -> Any:
        alias = node["__object__"]
        cls = _allowlist.lookup("object", alias)
        if cls is None:
            self.fail(where, f"the class {alias!r}, which is not on toolbox's allow-list")
        state = self.decode(node["state"], where)
        if not isinstance(state, dict):
            raise TypeError("state must be a JSON object")
        obj = cls.__new__(cls)
        if "__setstate__" in vars(cls):
            obj.__setstate__(state)
        elif hasattr(obj, "__dict__"):
            vars(obj).update(state)
        else:
            for k, v in state.items():
                if k not in getattr(cls, "__slots__", ()):
                    raise ValueError(f"{cls.__name__} has no attribute {k!r}")
                object.__setattr__(obj, k, v)
        return obj

