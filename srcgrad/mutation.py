"""What NumPy calls do to their arguments: write into them, or return views of them.

Both engines ask.  The tape refuses a recorded call that writes its result
into an existing array (``out=``): the result would reach the array without
its gradient.  The source engine refuses every call that writes into an
argument, and follows which results share memory with their arguments, so
that it can prove an item assignment unobservable through any other name
(:mod:`srcgrad.compiler.aliasing`).

NumPy's convention is that a function writes into an argument only through
``out=`` (``overwrite_*=`` in SciPy) or when it is documented as working in
place; the in-place ones are listed here.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any

import numpy as np

__all__ = ["writes_into_arguments", "output_arguments", "may_return_view", "VIEW_METHODS",
           "IN_PLACE_METHODS", "COPYING_METHODS"]


def _numpy(*names: str) -> frozenset:
    found = set()
    for dotted in names:
        value: Any = np
        for part in dotted.split("."):
            value = getattr(value, part, None)
        if value is not None:
            found.add(value)
    return frozenset(found)


# Functions that write into an argument by design.
IN_PLACE_FUNCTIONS = _numpy(
    "copyto", "put", "put_along_axis", "place", "putmask", "fill_diagonal",
    "random.shuffle", "ndarray.sort", "ndarray.fill", "ndarray.put", "ndarray.itemset",
    "ndarray.resize", "ndarray.setfield", "ndarray.partition", "ndarray.byteswap",
    "ndarray.setflags", "ndarray.__setitem__", "ndarray.__iadd__", "ndarray.__isub__",
    "ndarray.__imul__", "ndarray.__itruediv__", "ndarray.__ifloordiv__", "ndarray.__ipow__",
    "ndarray.__imod__", "ndarray.__imatmul__", "ndarray.__iand__", "ndarray.__ior__",
    "ndarray.__ixor__", "ndarray.__ilshift__", "ndarray.__irshift__",
) | frozenset({
    operator.setitem, operator.delitem, operator.iadd, operator.isub, operator.imul,
    operator.itruediv, operator.ifloordiv, operator.ipow, operator.imod, operator.imatmul,
    operator.iand, operator.ior, operator.ixor, operator.ilshift, operator.irshift,
    operator.iconcat,
})

# Methods of NumPy objects (bound to an array or a random generator) that work in place.
IN_PLACE_METHODS = frozenset({
    "sort", "fill", "put", "itemset", "resize", "setfield", "partition", "setflags",
    "shuffle", "at", "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__",
})

# Functions whose result may be an argument itself, a view of one, or hold views of one
# (a list of pieces).  A function of NumPy that is not listed here and not a ufunc returns
# a new array: tests/soundness/test_aliasing.py checks every rule's samples against this.
VIEW_FUNCTIONS = _numpy(
    "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "asarray_chkfinite",
    "require", "asmatrix", "atleast_1d", "atleast_2d", "atleast_3d", "reshape", "ravel",
    "transpose", "matrix_transpose", "permute_dims", "swapaxes", "moveaxis", "rollaxis",
    "squeeze", "expand_dims", "broadcast_to", "broadcast_arrays", "diagonal", "diag", "real",
    "imag", "flip", "fliplr", "flipud", "rot90", "split", "array_split", "hsplit", "vsplit",
    "dsplit", "unstack", "trim_zeros", "einsum", "linalg.matrix_transpose",
    "linalg.diagonal", "linalg.matrix_power", "real_if_close", "histogram",
    "lib.stride_tricks.as_strided", "lib.stride_tricks.sliding_window_view",
    "ndarray.view", "ndarray.reshape", "ndarray.ravel", "ndarray.transpose",
    "ndarray.swapaxes", "ndarray.squeeze", "ndarray.diagonal", "ndarray.conj",
    "ndarray.conjugate",
)

# Functions that return a view or the argument itself only when asked to (copy=False,
# copy=None): ``np.array(x, copy=False)``, ``x.astype(t, copy=False)``.
_COPY_KEYWORD = _numpy("array", "astype", "nan_to_num", "meshgrid", "ndarray.astype")

# Array methods and attributes whose result may share memory with the array.
VIEW_METHODS = frozenset({
    "reshape", "ravel", "transpose", "swapaxes", "squeeze", "diagonal", "view", "conj",
    "conjugate", "T", "mT", "real", "imag", "flat",
})

# Array methods that always return a new array (or a new Python object).
COPYING_METHODS = frozenset({
    "copy", "flatten", "tolist", "item", "sum", "mean", "max", "min", "prod", "std", "var",
    "cumsum", "cumprod", "argmax", "argmin", "argsort", "any", "all", "clip", "round", "dot",
    "trace", "repeat", "take", "nonzero",
})


def writes_into_arguments(fn: Any) -> bool:
    """Does calling ``fn`` write into one of its arguments by design (``np.copyto``,
    ``np.add.at``, ``rng.shuffle``, ``operator.iadd``)?"""
    try:
        if fn in IN_PLACE_FUNCTIONS:
            return True
    except TypeError:
        return False
    owner = getattr(fn, "__self__", None)
    if owner is None or isinstance(owner, type(np)):
        return False
    if isinstance(owner, np.ufunc):
        return getattr(fn, "__name__", "") == "at"
    module = type(owner).__module__ or ""
    return module.startswith("numpy") and getattr(fn, "__name__", "") in IN_PLACE_METHODS


def may_return_view(fn: Any, keywords: dict | None = None) -> bool:
    """Might ``fn``'s result share memory with an argument (keyword values as given)?

    srcgrad's own primitives say so with a ``returns_argument`` attribute."""
    try:
        if fn in VIEW_FUNCTIONS or getattr(fn, "returns_argument", False):
            return True
        if fn in _COPY_KEYWORD:
            copy = (keywords or {}).get("copy", True)
            return copy is not True
    except TypeError:
        return True
    return False


_OUTPUT_PARAMETERS: dict[Any, tuple] = {}


def _output_parameters(fn: Any) -> tuple:
    """``((position or None, name), ...)`` of the parameters ``fn`` writes into."""
    try:
        return _OUTPUT_PARAMETERS[fn]
    except KeyError:
        pass
    except TypeError:
        return _find_output_parameters(fn)
    found = _OUTPUT_PARAMETERS[fn] = _find_output_parameters(fn)
    return found


def _find_output_parameters(fn: Any) -> tuple:
    if isinstance(fn, np.ufunc):
        # positional arguments after the inputs are outputs
        return tuple((fn.nin + k, "out") for k in range(fn.nout))
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ((None, "out"),)
    found = []
    for k, p in enumerate(params):
        if p.name == "out" or p.name.startswith("overwrite_"):
            positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            found.append((k if positional else None, p.name))
    return tuple(found)


def output_arguments(fn: Any, args: tuple | list, kwargs: dict) -> list:
    """The arguments a call of ``fn`` writes into: ``out=`` (a tuple of them for ufuncs),
    positional outputs, true ``overwrite_*=`` flags.  ``None`` does not count."""
    found = []
    if kwargs:
        for name, value in kwargs.items():
            if name == "out" or name.startswith("overwrite_"):
                found.extend(_given(value))
    for position, _ in _output_parameters(fn):
        if position is not None and position < len(args):
            found.extend(_given(args[position]))
    return found


def _given(value: Any) -> list:
    if value is None or value is False:
        return []
    if type(value) is tuple:
        return [v for v in value if v is not None]
    return [value]
