"""Array namespaces: NumPy's names, as generated code calls them, on other libraries' arrays.

Generated gradient code, and every rule helper it calls, is written against
``np``.  For the arrays of another library (CuPy, Dask, JAX, PyTorch, any
array-API library) the same code runs with ``np`` bound to an
:class:`ArrayNamespace`: an object with NumPy's names and signatures whose
functions call the input's library, through array-api-compat's namespace for
it (``array_api_compat.array_namespace``) and, for the NumPy functions outside
the array API (``einsum``, ``linalg``, ``tril``...), the library's own function
of that name where it has one.  Nothing is converted to NumPy: a name the
library does not have raises :class:`MissingFunction`, naming the function and
the namespace.

Item writes go through two primitives, :meth:`ArrayNamespace.assign` and
:meth:`ArrayNamespace.index_add`: out-of-place copies for mutable arrays,
``x.at[...]`` updates for JAX's immutable ones (also under ``jax.jit``).
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

__all__ = ["ArrayNamespace", "MissingFunction", "namespace_of", "call_namespace", "float_kind"]


class MissingFunction(AttributeError):
    """A NumPy function the input's array library does not have."""


# types that never make a call leave NumPy (scanned cheaply on every call)
_NUMPY_VALUES = frozenset({np.ndarray, float, int, bool, complex, str, type(None), np.float64,
                           np.float32, np.float16, np.int64, np.int32, np.bool_, np.complex128,
                           np.complex64, slice, type(Ellipsis), bytes})
_LOCK = threading.Lock()
_NAMESPACES: dict[tuple, ArrayNamespace] = {}


def call_namespace(args: tuple, kwargs: dict) -> ArrayNamespace | None:
    """The namespace of a call's arrays, or None when they are all NumPy's (or numbers).

    Arrays of two libraries, or on two devices, raise ``TypeError``.
    """
    for a in args:
        if type(a) not in _NUMPY_VALUES:
            break
    else:
        if not kwargs:
            return None
    return namespace_of(*args, *kwargs.values())


def _leaves(values: Any, found: list) -> None:
    for v in values:
        kind = type(v)
        if kind in _NUMPY_VALUES:
            continue
        if kind in (list, tuple) or isinstance(v, tuple):
            _leaves(v, found)
        elif kind is dict:
            _leaves(v.values(), found)
        elif _is_foreign_array(v):
            found.append(v)


# libraries whose arrays need array-api-compat (an optional extra) to be told apart
_EXTRAS = {"torch": "torch", "jax": "jax", "jaxlib": "jax", "cupy": "cupy", "dask": "dask"}


def _is_foreign_array(v: Any) -> bool:
    if isinstance(v, (np.ndarray, np.generic)) or _is_tensor(v):
        return False
    try:
        import array_api_compat
    except ImportError:  # the default install: only NumPy (and srcgrad's own Tensors)
        library = (type(v).__module__ or "").partition(".")[0]
        if library in _EXTRAS or hasattr(v, "__array_namespace__"):
            extra = _EXTRAS.get(library, "all")
            raise ImportError(
                f"srcgrad runs generated code on {library} arrays through array-api-compat, "
                f"which is not installed: pip install 'srcgrad[{extra}]'") from None
        return False
    return array_api_compat.is_array_api_obj(v)


def _is_tensor(v: Any) -> bool:
    module = type(v).__module__ or ""
    return module.startswith("srcgrad.")


def namespace_of(*values: Any) -> ArrayNamespace | None:
    """The :class:`ArrayNamespace` of the arrays among ``values`` (in lists, tuples and
    dicts too); None when there are none but NumPy's."""
    found: list = []
    _leaves(values, found)
    if not found:
        return None
    keys = {}
    for v in found:
        keys.setdefault(_key(v), v)
    if len(keys) > 1:
        described = " and ".join(_describe(k) for k in keys)
        raise TypeError(f"srcgrad got arrays of several array namespaces in one call: "
                        f"{described}; move them to one library and device first")
    key, sample = next(iter(keys.items()))
    numpy_mixed = [v for v in _numpy_arrays(values)]
    if numpy_mixed:
        raise TypeError(f"srcgrad got NumPy arrays and {_describe(key)} arrays in one call; "
                        f"convert the NumPy arrays to {key[0]} first (srcgrad never converts "
                        "arrays between libraries)")
    with _LOCK:
        ns = _NAMESPACES.get(key)
        if ns is None:
            ns = _NAMESPACES[key] = ArrayNamespace(key, sample)
    return ns


def _numpy_arrays(values: Any) -> list:
    out = []
    for v in values:
        if type(v) is np.ndarray and v.ndim:
            out.append(v)
        elif type(v) in (list, tuple) or type(v) is dict:
            out.extend(_numpy_arrays(v.values() if type(v) is dict else v))
    return out


def _key(x: Any) -> tuple:
    import array_api_compat as compat

    if compat.is_jax_array(x):
        # (placement follows JAX's default device, also traced; float64 only with x64)
        return ("jax", None, bool(sys.modules["jax"].config.jax_enable_x64))
    if compat.is_torch_array(x):
        return ("torch", str(x.device))
    if compat.is_dask_array(x):
        return ("dask", None)
    if compat.is_cupy_array(x):
        return ("cupy", int(x.device.id))
    xp = compat.array_namespace(x)
    return (xp.__name__, repr(compat.device(x)))


def _describe(key: tuple) -> str:
    return key[0] if key[1] is None else f"{key[0]} on {key[1]}"  # (x64: JAX's mode)


def float_kind(x: Any) -> str | None:
    """``"f"``/``"c"`` for real/complex floating arrays of any library, else the kind or None."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return None
    try:
        return np.dtype(dtype).kind
    except TypeError:
        pass
    name = _dtype_name(dtype)
    try:
        return np.dtype(name).kind
    except TypeError:
        return None


def _dtype_name(dtype: Any) -> str:
    name = getattr(dtype, "name", None)
    if not isinstance(name, str):
        name = str(dtype)
    return name.rpartition(".")[2]


_NO = np._NoValue
# ndarray methods that are NumPy functions of the array (``x.sum(1)`` is ``np.sum(x, 1)``)
_METHODS = frozenset({"sum", "prod", "mean", "max", "min", "std", "var", "all", "any",
                      "cumsum", "cumprod", "clip", "take", "squeeze", "swapaxes", "astype",
                      "copy", "dot", "round", "repeat", "argmax", "argmin", "diagonal",
                      "trace", "nonzero", "conj", "conjugate", "ravel", "reshape",
                      "transpose"})
_RENAMED = {"absolute": "abs", "fabs": "abs", "arccos": "acos", "arcsin": "asin",
            "arctan": "atan", "arctan2": "atan2", "arccosh": "acosh", "arcsinh": "asinh",
            "arctanh": "atanh", "power": "pow", "conjugate": "conj", "true_divide": "divide",
            "invert": "bitwise_invert", "left_shift": "bitwise_left_shift",
            "right_shift": "bitwise_right_shift", "amax": "max", "amin": "min",
            "concatenate": "concat", "cumulative_sum": "cumulative_sum"}
# the array API standard's names (2023.12): the only names taken from a library's array API
# namespace, whose other names (array-api-compat's torch namespace is all of torch) can
# mean something else than NumPy's functions of the same name (torch.split, torch.logspace)
_ARRAY_API = frozenset("""
    abs acos acosh add all any arange argmax argmin argsort asarray asin asinh astype
    atan atan2 atanh bitwise_and bitwise_invert bitwise_left_shift bitwise_or
    bitwise_right_shift bitwise_xor bool broadcast_arrays broadcast_shapes broadcast_to
    can_cast ceil clip complex128 complex64 concat conj copysign cos cosh count_nonzero
    cumulative_prod cumulative_sum diff divide e empty empty_like equal exp expand_dims
    expm1 eye finfo flip float32 float64 floor floor_divide from_dlpack full full_like
    greater greater_equal hypot iinfo imag inf int16 int32 int64 int8 isdtype isfinite
    isin isinf isnan less less_equal linspace log log10 log1p log2 logaddexp logical_and
    logical_not logical_or logical_xor matmul matrix_transpose max maximum mean meshgrid
    min minimum moveaxis multiply nan negative newaxis nextafter nonzero not_equal ones
    ones_like permute_dims pi positive pow prod real reciprocal remainder repeat reshape
    result_type roll round searchsorted sign signbit sin sinh sort sqrt square squeeze
    stack std subtract sum take take_along_axis tan tanh tensordot tile tril triu trunc
    uint16 uint32 uint64 uint8 unique_all unique_counts unique_inverse unique_values
    unstack var vecdot where zeros zeros_like
""".split())
# NumPy-like libraries whose own functions take NumPy's signatures
_NUMPY_LIKE = {"jax": "jax.numpy", "cupy": "cupy", "dask": "dask.array"}
# PyTorch functions with NumPy's signature, used where the array API has no such function
_TORCH_NATIVE = frozenset({"einsum", "kron", "tril", "triu", "trace", "diag", "diagonal",
                           "logaddexp", "sinc", "cross", "atleast_1d", "atleast_2d", "fmax",
                           "fmin", "hypot", "heaviside", "rot90", "cov", "corrcoef", "deg2rad",
                           "rad2deg", "logcumsumexp", "fliplr", "flipud", "vander"})


class _ArrayCheck(type):
    def __instancecheck__(cls, x: Any) -> bool:
        return isinstance(x, cls.types)


class ArrayNamespace:
    """NumPy's names for one array library on one device (see the module docstring).

    Helper code keeps its NumPy fast paths (``type(x) is np.ndarray``): here
    ``ndarray`` is a class no value has as its exact type, while
    ``isinstance(x, np.ndarray)`` holds for the library's arrays.
    """

    def __init__(self, key: tuple, sample: Any) -> None:
        import array_api_compat as compat

        self.key = key
        self.library = key[0]
        self.xp = compat.array_namespace(sample)
        native = _NUMPY_LIKE.get(self.library)
        self.native = _import(native) if native else None
        self.torch = _import("torch") if self.library == "torch" else None
        self.device = compat.device(sample) if self.library not in ("jax", "dask") else None
        self.immutable = self.library == "jax"
        self.lazy = self.library == "dask"
        self.array_type = type(sample) if self.library != "jax" else _import("jax").Array
        self.__name__ = f"srcgrad.namespaces[{_describe(key)}]"
        self.ndarray = _ArrayCheck("ndarray", (), {"types": (self.array_type,)})
        self.float64 = getattr(self.xp, "float64", None)
        if self.library == "jax" and not key[2]:
            self.float64 = self.xp.float32     # what jax.numpy makes of float64 itself
        self.float32 = self.xp.float32
        self.linalg = _Sub(self, "linalg")
        self.fft = _Sub(self, "fft")

    def __repr__(self) -> str:
        return f"<array namespace {_describe(self.key)} ({self.xp.__name__})>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._resolve(name)
        object.__setattr__(self, name, value)
        return value

    def _resolve(self, name: str) -> Any:
        if name in _UFUNCS:
            return _UFUNCS[name](self)
        adapter = _ADAPTERS.get(name)
        if adapter is not None:
            return adapter.__get__(self)
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if self.native is not None:
            found = getattr(self.native, name, None)
            if found is not None:
                return _elementwise(self, found) if isinstance(getattr(np, name, None),
                                                               np.ufunc) else found
        standard = _RENAMED.get(name, name)
        found = getattr(self.xp, standard, None) if standard in _ARRAY_API else None
        if found is not None:
            return _elementwise(self, found) if callable(found) and \
                not isinstance(found, type) else found
        if self.torch is not None and name in _TORCH_NATIVE:
            return getattr(self.torch, name)
        raise MissingFunction(self.missing(f"np.{name}"))

    def missing(self, what: str) -> str:
        return (f"{what} is not available for {_describe(self.key)} arrays: neither the array "
                f"API namespace {self.xp.__name__} nor {self.library} has it with NumPy's "
                "meaning; write the computation with functions the library has, or use NumPy "
                "arrays")

    # -- dtypes and devices ------------------------------------------------------------
    def dt(self, dtype: Any) -> Any:
        """``dtype`` (a NumPy dtype, type or name) as this library's dtype."""
        if dtype is None:
            return None
        if dtype is float:
            return self.float64
        if dtype is int or (self.library == "jax" and not self.key[2]
                            and getattr(dtype, "__name__", str(dtype)) in ("int64", "intp")):
            return self.xp.int64 if self.library != "jax" or self.key[2] else self.xp.int32
        if dtype is bool:
            return self.xp.bool
        if dtype is complex:
            return self.xp.complex128
        try:
            name = np.dtype(dtype).name
        except TypeError:
            return dtype            # already the library's own
        if name == "float64":
            return self.float64
        found = getattr(self.xp, "bool" if name == "bool" else name, None)
        return found if found is not None else dtype

    def where_to(self) -> dict:
        return {} if self.device is None else {"device": self.device}

    # -- NumPy's array methods and attributes ------------------------------------------
    def method(self, x: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        """``x.<name>(...)`` with NumPy's meaning for this library's arrays (generated code
        calls methods through this); other objects' own methods otherwise."""
        if not isinstance(x, self.array_type):
            return getattr(x, name)(*args, **kwargs)
        if name in ("reshape", "transpose") and len(args) != 1 and not (
                name == "transpose" and not args):
            args = (args,)
        if name == "reshape" and args and isinstance(args[0], int):
            args = ((args[0],),)
        if name == "flatten":
            return self.copy(self.ravel(x))
        if name == "item":
            return x.item() if hasattr(x, "item") else float(x)
        if name in _METHODS:
            return getattr(self, name)(x, *args, **kwargs)
        if self.native is not None and hasattr(x, name):
            return getattr(x, name)(*args, **kwargs)   # NumPy-like arrays' own methods
        raise MissingFunction(self.missing(f"the array method .{name}()"))

    def attribute(self, x: Any, name: str) -> Any:
        """``x.<name>`` with NumPy's meaning (``.T`` reverses every axis, ``.size`` counts)."""
        if not isinstance(x, self.array_type):
            return getattr(x, name)
        if name == "T":
            return self.transpose(x)
        if name == "mT":
            return self.xp.matrix_transpose(x)
        if name == "size":
            return self.size(x)
        if name in ("real", "imag"):
            return getattr(self, name)(x)
        raise MissingFunction(self.missing(f"the array attribute .{name}"))

    # -- item writes ---------------------------------------------------------------------
    def index(self, index: Any) -> Any:
        """An index with NumPy integer arrays as this library's arrays."""
        if type(index) is tuple:
            return tuple(self.index(i) for i in index)
        if isinstance(index, np.ndarray):
            return self.xp.asarray(index, **self.where_to())
        if isinstance(index, list):
            return self.xp.asarray(np.asarray(index), **self.where_to())
        return index

    def positions(self, shape: tuple, index: Any) -> Any:
        n = math.prod(shape)
        flat = self.xp.arange(n, **self.where_to())
        return flat[...] if not shape else self.xp.reshape(flat, shape)[index]

    def distinct(self, shape: tuple, index: Any) -> None:
        """Refuse repeated integer indices in an item write: NumPy keeps the last write,
        other libraries do not say which one they keep."""
        if not _has_array_index(index):
            return
        positions = self.positions(shape, index)
        if self.lazy or _traced(positions):
            raise TypeError(f"an item write with an integer-array index on "
                            f"{_describe(self.key)} arrays whose values are not known "
                            "(lazy or traced): repeated indices keep the last write in NumPy, "
                            "and which one the library keeps is not defined. Index with slices "
                            "or a boolean mask, or use NumPy arrays")
        count = int(self.xp.unique_values(self.xp.reshape(positions, (-1,))).shape[0])
        if count != math.prod(positions.shape):
            raise TypeError(f"an item write with repeated integer indices on "
                            f"{_describe(self.key)} arrays: NumPy keeps the last write, and "
                            "which one the library keeps is not defined. Write each element "
                            "once, or use NumPy arrays")

    def assign(self, x: Any, index: Any, value: Any) -> Any:
        """``x`` with ``x[index] = value``, as a new array (``x`` is not changed)."""
        index = self.index(index)
        self.distinct(tuple(x.shape), index)
        items = index if type(index) is tuple else (index,)
        if any(i is None for i in items):       # new axes: write the value without them
            kept = tuple(i for i in items if i is not None)
            value = self.xp.reshape(self.xp.broadcast_to(_as_array(self, value),
                                                         tuple(x[index].shape)),
                                    tuple(x[kept].shape))
            index = kept
        if self.immutable:
            return x.at[index].set(value)
        out = self.copy(x)
        out[index] = value
        return out

    def index_add(self, x: Any, index: Any, values: Any) -> Any:
        """``x`` with ``values`` added at ``x[index]``, repeated indices accumulating."""
        xp = self.xp
        index = self.index(index)
        if self.immutable:
            return x.at[index].add(values)
        shape = tuple(x.shape)
        n = math.prod(shape)
        positions = self.positions(shape, index)
        values = xp.asarray(values, dtype=x.dtype, **self.where_to()) \
            if not hasattr(values, "shape") else xp.astype(values, x.dtype)
        values = xp.reshape(xp.broadcast_to(values, tuple(positions.shape)), (-1,))
        positions = xp.reshape(positions, (-1,))
        if self.torch is not None:
            flat = self.torch.zeros(n, dtype=x.dtype, device=x.device)
            flat = flat.index_add_(0, positions, values)
        elif self.native is not None and hasattr(self.native, "bincount") and \
                float_kind(values) == "f":
            flat = xp.astype(self.native.bincount(positions, weights=values, minlength=n),
                             x.dtype)
        else:       # a one-hot product: any array-API library
            hits = positions[:, None] == xp.arange(n, **self.where_to())[None, :]
            flat = values @ xp.astype(hits, x.dtype)
        return x + xp.reshape(flat, shape)

    def in_place(self, new: Any, old: Any, op: str) -> Any:
        """What ``old op= value`` leaves bound to the name, given ``new = old op value``
        (:func:`srcgrad.rules.shape.in_place` for this library): arrays that update
        themselves (PyTorch, CuPy) keep their shape and dtype, where the library allows
        the cast; immutable and lazy arrays (JAX, Dask) and numbers are rebound to ``new``."""
        from .rules.shape import IN_PLACE_METHODS

        if not isinstance(old, self.array_type) or \
                not hasattr(self.array_type, IN_PLACE_METHODS[op]):
            return new
        shape, have, want = tuple(new.shape), new.dtype, old.dtype
        if have == want:
            pass
        elif self.torch is not None:
            if not self.torch.can_cast(have, want):
                raise RuntimeError(f"result type {_dtype_name(have)} can't be cast to the "
                                   f"desired output type {_dtype_name(want)}")
        elif self.native is None or not self.native.can_cast(have, want, "same_kind"):
            raise TypeError(f"{op} would change the dtype of an array of "
                            f"{_describe(self.key)} from {want} to {have}, which the library "
                            "does not define; cast one operand first")
        if shape != tuple(old.shape):
            raise ValueError(f"non-broadcastable output operand with shape {tuple(old.shape)} "
                             f"doesn't match the broadcast shape {shape}")
        return new if have == want else self.xp.astype(new, want)

    def expand_reduced(self, g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """Broadcast the cotangent of a reduction over ``axis`` back to ``x``'s shape."""
        if hasattr(x, "shape"):
            shape = tuple(x.shape)
        elif isinstance(x, (list, tuple)):
            shape = (len(x), *(_shape(self, x[0]) if x else ()))
        else:
            shape = ()
        if not isinstance(g, self.array_type):
            kind = float_kind(x)
            g = _asarray(self, g, dtype=x.dtype if kind in ("f", "c") else None)
        if not keepdims and axis is not None and shape:
            axes = axis if isinstance(axis, (tuple, list)) else (axis,)
            g = _expand_dims(self, g, tuple(a % len(shape) for a in axes))
        return self.xp.broadcast_to(g, shape)

    def surviving_writes(self, shape: tuple, index: Any, written: tuple) -> Any:
        # (``assign`` refused repeated indices: every write survives)
        return self.xp.ones(written, dtype=self.xp.bool, **self.where_to())


def _elementwise(ns: ArrayNamespace, fn: Any) -> Any:
    """An array API function called as NumPy's ufunc: ``dtype=``, ``out=None``, ``where=True``
    and Python numbers as arguments."""
    array_type = ns.array_type

    def call(*args: Any, out: Any = None, where: Any = True, dtype: Any = None,
             **kwargs: Any) -> Any:
        _plain(fn.__name__, out=out, where=None if where is True else where)
        if args and not isinstance(args[0], array_type):
            if isinstance(args[0], (list, tuple)):
                args = (_as_array(ns, args[0]), *args[1:])
            elif not any(isinstance(a, array_type) for a in args[1:]):
                args = (_asarray(ns, args[0]), *args[1:])
        if len(args) > 1 and isinstance(args[1], (list, tuple)):
            args = (args[0], _as_array(ns, args[1]), *args[2:])
        if dtype is not None:       # NumPy computes in ``dtype``: cast the arrays first
            args = tuple(ns.xp.astype(a, ns.dt(dtype)) if isinstance(a, array_type) else a
                         for a in args)
        return fn(*args, **kwargs)
    call.__name__ = fn.__name__
    call.__wrapped__ = fn
    return call


def _traced(x: Any) -> bool:
    return "Tracer" in type(x).__name__


def _has_array_index(index: Any) -> bool:
    items = index if type(index) is tuple else (index,)
    for i in items:
        if i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)):
            continue
        if getattr(i, "ndim", 0) and float_kind(i) in ("i", "u"):
            return True
    return False


def _import(name: str) -> Any:
    __import__(name)
    return sys.modules[name]


class _Sub:
    """``np.linalg`` / ``np.fft`` for a namespace: the array API extension, else the
    library's own module of that name."""

    def __init__(self, ns: ArrayNamespace, name: str) -> None:
        self._ns = ns
        self._name = name
        self.__name__ = f"{ns.__name__}.{name}"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        ns = self._ns
        for owner in (ns.native, ns.torch, ns.xp):
            sub = getattr(owner, self._name, None) if owner is not None else None
            found = getattr(sub, name, None) if sub is not None else None
            if found is not None:
                object.__setattr__(self, name, found)
                return found
        raise MissingFunction(ns.missing(f"np.{self._name}.{name}"))


# -- NumPy's signatures over the array API ---------------------------------------------

_CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan, "newaxis": None,
              "_NoValue": _NO, "generic": np.generic, "integer": np.integer,
              "floating": np.floating, "number": np.number, "bool_": bool, "intp": int,
              "errstate": np.errstate, "ufunc": np.ufunc, "SCALAR": None}
_ADAPTERS: dict[str, Any] = {}
_UFUNCS: dict[str, Any] = {}


def _adapter(fn: Any) -> Any:
    _ADAPTERS[fn.__name__.lstrip("_")] = fn
    return fn


def _plain(name: str, **given: Any) -> None:
    for key, value in given.items():
        if value is not _NO and value is not None and not (key == "where" and value is True):
            raise TypeError(f"np.{name}(..., {key}=...) is not supported on arrays of other "
                            "libraries than NumPy")


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(name: str, array_api: str, has_dtype: bool = True) -> None:
    def reduce(ns: ArrayNamespace, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
               keepdims: Any = False, initial: Any = _NO, where: Any = _NO) -> Any:
        _plain(name, out=out, initial=initial, where=where)
        kwargs = {"axis": _axis(axis), "keepdims": bool(keepdims)}
        a = _as_array(ns, a)
        if dtype is not None:
            a = ns.xp.astype(a, ns.dt(dtype))
        elif name in ("sum", "prod") and float_kind(a) == "b":
            a = ns.xp.astype(a, ns.dt(int))         # NumPy counts booleans
        return getattr(ns.xp, array_api)(a, **kwargs)

    def reduce_no_dtype(ns: ArrayNamespace, a: Any, axis: Any = None, out: Any = None,
                        keepdims: Any = False, initial: Any = _NO, where: Any = _NO) -> Any:
        return reduce(ns, a, axis, None, out, keepdims, initial, where)

    fn = reduce if has_dtype else reduce_no_dtype
    fn.__name__ = name
    _ADAPTERS[name] = fn


for _name, _api, _dtype in (("sum", "sum", True), ("prod", "prod", True),
                            ("mean", "mean", True), ("max", "max", False),
                            ("min", "min", False), ("amax", "max", False),
                            ("amin", "min", False), ("all", "all", False),
                            ("any", "any", False)):
    _reduction(_name, _api, _dtype)


def _as_array(ns: ArrayNamespace, a: Any) -> Any:
    if isinstance(a, ns.array_type):
        return a
    if isinstance(a, (list, tuple)):
        return ns.stack([ns.asarray(v) for v in a])
    return ns.asarray(a)


def _moments(name: str) -> None:
    def moment(ns: ArrayNamespace, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
               ddof: Any = 0, keepdims: Any = False, where: Any = _NO) -> Any:
        _plain(name, out=out, where=where)
        return getattr(ns.xp, name)(_as_array(ns, a), axis=_axis(axis), correction=ddof,
                                    keepdims=bool(keepdims))
    moment.__name__ = name
    _ADAPTERS[name] = moment


_moments("std")
_moments("var")


@_adapter
def _asarray(ns: ArrayNamespace, a: Any, dtype: Any = None, order: Any = None,
             copy: Any = None) -> Any:
    if isinstance(a, ns.array_type) and dtype is None and not copy:
        return a
    if isinstance(a, (list, tuple)) and any(isinstance(v, ns.array_type) for v in a):
        out = ns.stack([_asarray(ns, v) for v in a])
        return out if dtype is None else ns.xp.astype(out, ns.dt(dtype))
    if ns.library == "dask":
        return ns.native.asarray(a, dtype=ns.dt(dtype))
    if isinstance(a, float) or (isinstance(a, (list, tuple)) and dtype is None
                                and np.asarray(a).dtype.kind == "f"):
        dtype = dtype or float     # NumPy's float64, not the library's default float
    kwargs = {"copy": True} if copy else {}
    return ns.xp.asarray(a, dtype=ns.dt(dtype), **kwargs, **ns.where_to())


@_adapter
def _array(ns: ArrayNamespace, obj: Any, dtype: Any = None, copy: bool = True,
           order: Any = None, subok: bool = False, ndmin: int = 0) -> Any:
    out = _asarray(ns, obj, dtype=dtype, copy=copy)
    while out.ndim < ndmin:
        out = ns.xp.expand_dims(out, axis=0)
    return out


@_adapter
def _copy(ns: ArrayNamespace, a: Any, order: Any = None) -> Any:
    if ns.immutable:
        return a
    if ns.library == "dask":
        return a.copy()
    return ns.xp.asarray(a, copy=True)


@_adapter
def _astype(ns: ArrayNamespace, x: Any, dtype: Any, copy: bool = True) -> Any:
    return ns.xp.astype(_as_array(ns, x), ns.dt(dtype))


def _creation(name: str) -> None:
    def create(ns: ArrayNamespace, shape: Any, dtype: Any = float, order: Any = "C",
               **kwargs: Any) -> Any:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if ns.library == "dask":
            return getattr(ns.native, name)(shape, dtype=ns.dt(dtype))
        return getattr(ns.xp, name)(shape, dtype=ns.dt(dtype), **ns.where_to())
    create.__name__ = name
    _ADAPTERS[name] = create


for _name in ("zeros", "ones", "empty"):
    _creation(_name)


@_adapter
def _full(ns: ArrayNamespace, shape: Any, fill_value: Any, dtype: Any = None,
          order: Any = "C") -> Any:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None:
        dtype = float if isinstance(fill_value, float) else None
    return ns.xp.full(shape, fill_value, dtype=ns.dt(dtype), **ns.where_to())


def _like(name: str) -> None:
    def like(ns: ArrayNamespace, a: Any, dtype: Any = None, order: Any = "K",
             subok: bool = True, shape: Any = None) -> Any:
        a = _as_array(ns, a)
        return getattr(ns.xp, name)(a, dtype=ns.dt(dtype))
    like.__name__ = name
    _ADAPTERS[name] = like


for _name in ("zeros_like", "ones_like", "empty_like"):
    _like(_name)


@_adapter
def _full_like(ns: ArrayNamespace, a: Any, fill_value: Any, dtype: Any = None) -> Any:
    return ns.xp.full_like(_as_array(ns, a), fill_value, dtype=ns.dt(dtype))


@_adapter
def _arange(ns: ArrayNamespace, start: Any, stop: Any = None, step: Any = 1,
            dtype: Any = None) -> Any:
    if ns.library == "dask":
        return ns.native.arange(start, stop, step, dtype=ns.dt(dtype)) if stop is not None \
            else ns.native.arange(start, dtype=ns.dt(dtype))
    return ns.xp.arange(start, stop, step, dtype=ns.dt(dtype), **ns.where_to())


@_adapter
def _eye(ns: ArrayNamespace, N: int, M: Any = None, k: int = 0, dtype: Any = float) -> Any:
    return ns.xp.eye(N, M, k=k, dtype=ns.dt(dtype), **ns.where_to())


@_adapter
def _shape(ns: ArrayNamespace, a: Any) -> tuple:
    shape = getattr(a, "shape", None)
    if shape is not None:
        return tuple(shape)
    if isinstance(a, (list, tuple)):     # (without making an array of its items)
        return (len(a), *(_shape(ns, a[0]) if a else ()))
    return ()


@_adapter
def _ndim(ns: ArrayNamespace, a: Any) -> int:
    return len(_shape(ns, a))


@_adapter
def _size(ns: ArrayNamespace, a: Any, axis: Any = None) -> int:
    shape = _shape(ns, a)
    return math.prod(shape) if axis is None else shape[axis]


@_adapter
def _dtype(ns: ArrayNamespace, dtype: Any) -> np.dtype:
    """The NumPy dtype of the same name (helpers read ``.kind`` and ``.itemsize``)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(_dtype_name(dtype))


@_adapter
def _result_type(ns: ArrayNamespace, *arrays_and_dtypes: Any) -> np.dtype:
    """NumPy's promotion, of the NumPy dtypes of the same names (``dt`` maps it back)."""
    given = [a if isinstance(a, (bool, int, float, complex)) else
             _dtype(ns, getattr(a, "dtype", a)) for a in arrays_and_dtypes]
    return np.result_type(*given)


@_adapter
def _iscomplexobj(ns: ArrayNamespace, x: Any) -> bool:
    return float_kind(x) == "c" or isinstance(x, complex)


@_adapter
def _reshape(ns: ArrayNamespace, a: Any, shape: Any = None, order: str = "C", *,
             newshape: Any = None) -> Any:
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return ns.xp.reshape(_as_array(ns, a), shape)


@_adapter
def _ravel(ns: ArrayNamespace, a: Any, order: str = "C") -> Any:
    return ns.xp.reshape(_as_array(ns, a), (-1,))


@_adapter
def _transpose(ns: ArrayNamespace, a: Any, axes: Any = None) -> Any:
    a = _as_array(ns, a)
    axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
    return ns.xp.permute_dims(a, axes)


@_adapter
def _swapaxes(ns: ArrayNamespace, a: Any, axis1: int, axis2: int) -> Any:
    axes = list(range(a.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return ns.xp.permute_dims(a, tuple(axes))


@_adapter
def _expand_dims(ns: ArrayNamespace, a: Any, axis: Any) -> Any:
    a = _as_array(ns, a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = a.ndim + len(axes)
    for ax in sorted(x % ndim for x in axes):
        a = ns.xp.expand_dims(a, axis=ax)
    return a


@_adapter
def _squeeze(ns: ArrayNamespace, a: Any, axis: Any = None) -> Any:
    if axis is None:
        axis = tuple(i for i, n in enumerate(a.shape) if n == 1)
    return ns.xp.squeeze(a, axis=axis)


@_adapter
def _broadcast_to(ns: ArrayNamespace, array: Any, shape: Any, subok: bool = False) -> Any:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return ns.xp.broadcast_to(_as_array(ns, array), shape)


@_adapter
def _concatenate(ns: ArrayNamespace, arrays: Any, axis: Any = 0, out: Any = None,
                 dtype: Any = None) -> Any:
    arrays = [_as_array(ns, a) for a in arrays]
    if axis is None:
        arrays, axis = [ns.xp.reshape(a, (-1,)) for a in arrays], 0
    return ns.xp.concat(arrays, axis=axis)


@_adapter
def _stack(ns: ArrayNamespace, arrays: Any, axis: int = 0, out: Any = None) -> Any:
    return ns.xp.stack([_as_array(ns, a) for a in arrays], axis=axis)


@_adapter
def _where(ns: ArrayNamespace, condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return ns.xp.nonzero(condition)
    return ns.xp.where(condition, _scalar_like(ns, x, y), _scalar_like(ns, y, x))


def _scalar_like(ns: ArrayNamespace, value: Any, other: Any) -> Any:
    if isinstance(value, ns.array_type):
        return value
    dtype = getattr(other, "dtype", None)
    return ns.xp.asarray(value, dtype=dtype, **ns.where_to())


@_adapter
def _clip(ns: ArrayNamespace, a: Any, a_min: Any = None, a_max: Any = None, out: Any = None,
          *, min: Any = None, max: Any = None) -> Any:
    _plain("clip", out=out)
    return ns.xp.clip(a, a_min if a_min is not None else min, a_max if a_max is not None else max)


@_adapter
def _dot(ns: ArrayNamespace, a: Any, b: Any, out: Any = None) -> Any:
    _plain("dot", out=out)
    if not getattr(a, "ndim", 0) or not getattr(b, "ndim", 0):
        return a * b
    if b.ndim <= 2:
        return ns.xp.matmul(a, b)
    return ns.xp.tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


@_adapter
def _outer(ns: ArrayNamespace, a: Any, b: Any, out: Any = None) -> Any:
    _plain("outer", out=out)
    return ns.xp.reshape(a, (-1, 1)) * ns.xp.reshape(b, (1, -1))


@_adapter
def _matmul(ns: ArrayNamespace, a: Any, b: Any, out: Any = None) -> Any:
    _plain("matmul", out=out)
    return ns.xp.matmul(a, b)


@_adapter
def _cumsum(ns: ArrayNamespace, a: Any, axis: Any = None, dtype: Any = None,
            out: Any = None) -> Any:
    _plain("cumsum", out=out)
    a = _as_array(ns, a)
    if axis is None:
        a, axis = ns.xp.reshape(a, (-1,)), 0
    return ns.xp.cumulative_sum(a, axis=axis, dtype=ns.dt(dtype))


@_adapter
def _flip(ns: ArrayNamespace, m: Any, axis: Any = None) -> Any:
    return ns.xp.flip(m, axis=_axis(axis))


@_adapter
def _take(ns: ArrayNamespace, a: Any, indices: Any, axis: Any = None, out: Any = None,
          mode: str = "raise") -> Any:
    _plain("take", out=out)
    if axis is None:
        a, axis = ns.xp.reshape(a, (-1,)), 0
    indices = ns.index(indices)
    if isinstance(indices, int):
        return ns.xp.take(a, ns.xp.asarray([indices], **ns.where_to()), axis=axis)[
            (slice(None),) * (axis % a.ndim) + (0,)]
    return ns.xp.take(a, indices, axis=axis)


@_adapter
def _moveaxis(ns: ArrayNamespace, a: Any, source: Any, destination: Any) -> Any:
    return ns.xp.moveaxis(a, source, destination)


@_adapter
def _tensordot(ns: ArrayNamespace, a: Any, b: Any, axes: Any = 2) -> Any:
    if isinstance(axes, (list, tuple)):
        axes = tuple(tuple(x) if isinstance(x, (list, tuple)) else (x,) for x in axes)
    return ns.xp.tensordot(a, b, axes=axes)


class _UFunc:
    """``np.add`` and its kin: callable, with ``reduce``, ``accumulate`` and ``outer``."""

    def __init__(self, ns: ArrayNamespace, name: str, reduction: str | None,
                 accumulation: str | None) -> None:
        self.ns = ns
        self.__name__ = name
        self._reduction = reduction
        self._accumulation = accumulation
        self._call = getattr(ns.xp, name)

    def __call__(self, x1: Any, x2: Any, out: Any = None, **kwargs: Any) -> Any:
        _plain(self.__name__, out=out, **kwargs)
        return self._call(x1, x2)

    def reduce(self, a: Any, axis: Any = 0, dtype: Any = None, out: Any = None,
               keepdims: bool = False, initial: Any = _NO, where: Any = _NO) -> Any:
        if self._reduction is None:
            raise MissingFunction(self.ns.missing(f"np.{self.__name__}.reduce"))
        result = _ADAPTERS[self._reduction](self.ns, a, axis=axis, out=out, keepdims=keepdims,
                                            initial=initial, where=where)
        return result if dtype is None else self.ns.xp.astype(result, self.ns.dt(dtype))

    def accumulate(self, a: Any, axis: int = 0, dtype: Any = None, out: Any = None) -> Any:
        ns = self.ns
        if self._accumulation is not None:
            return getattr(ns.xp, self._accumulation)(a, axis=axis, dtype=ns.dt(dtype))
        native = ns.native if ns.native is not None else None
        found = getattr(getattr(native, self.__name__, None), "accumulate", None)
        if found is None and ns.torch is not None and self.__name__ in ("maximum", "minimum"):
            result = getattr(ns.torch, "cummax" if self.__name__ == "maximum" else "cummin")
            return result(a, dim=axis).values
        if found is None:
            raise MissingFunction(ns.missing(f"np.{self.__name__}.accumulate"))
        return found(a, axis=axis)

    def outer(self, a: Any, b: Any) -> Any:
        xp = self.ns.xp
        return self._call(xp.reshape(a, (*a.shape, *(1,) * b.ndim)), b)

    def at(self, *args: Any) -> None:
        raise TypeError(f"np.{self.__name__}.at writes in place; on {self.ns.library} arrays "
                        "srcgrad writes out of place")


for _name, _reduce, _accumulate in (("add", "sum", "cumulative_sum"),
                                    ("multiply", "prod", "cumulative_prod"),
                                    ("maximum", "max", None), ("minimum", "min", None)):
    def _make(ns: ArrayNamespace, _n: str = _name, _r: Any = _reduce,
              _a: Any = _accumulate) -> _UFunc:
        return _UFunc(ns, _n, _r, _a)
    _UFUNCS[_name] = _make


@_adapter
def _negative(ns: ArrayNamespace, x: Any, out: Any = None) -> Any:
    _plain("negative", out=out)
    return -x


@_adapter
def _logaddexp(ns: ArrayNamespace, x1: Any, x2: Any, out: Any = None) -> Any:
    _plain("logaddexp", out=out)
    return ns.xp.logaddexp(x1, x2)


def _sorting(name: str) -> None:
    def sort(ns: ArrayNamespace, a: Any, axis: Any = -1, kind: Any = None, order: Any = None,
             *, stable: Any = None) -> Any:
        if order is not None:
            raise TypeError(f"np.{name}(..., order=...) is not supported on arrays of other "
                            "libraries than NumPy")
        a = _as_array(ns, a)
        if axis is None:
            a, axis = ns.xp.reshape(a, (-1,)), 0
        # NumPy's "stable" and "mergesort" keep ties in order; its default does not promise to
        stable = bool(stable) or kind in ("stable", "mergesort")
        return getattr(ns.xp, name)(a, axis=axis, stable=stable)
    sort.__name__ = name
    _ADAPTERS[name] = sort


_sorting("sort")
_sorting("argsort")


def _triangle(name: str) -> None:
    def triangle(ns: ArrayNamespace, m: Any, k: int = 0) -> Any:
        return getattr(ns.xp, name)(_as_array(ns, m), k=k)
    triangle.__name__ = name
    _ADAPTERS[name] = triangle


_triangle("tril")
_triangle("triu")


@_adapter
def _take_along_axis(ns: ArrayNamespace, arr: Any, indices: Any, axis: Any = -1) -> Any:
    found = getattr(ns.xp, "take_along_axis", None)
    if found is None:
        raise MissingFunction(ns.missing("np.take_along_axis"))
    indices = ns.index(indices)
    if axis is None:
        arr, indices, axis = ns.xp.reshape(arr, (-1,)), ns.xp.reshape(indices, (-1,)), 0
    return found(arr, indices, axis=axis)
