"""NumPy, as generated code sees it: the same module with faster whole-array reductions.

``np.sum``, ``np.max``, ``np.min`` and ``np.mean`` of a small array spend most
of their time in NumPy's Python layer (argument handling, dispatch), not in
the arithmetic.  For a plain float array and the plain arguments (axis,
keepdims) the functions here call the ufunc reduction NumPy would call in the
end, so the results are identical; for anything else (other arguments,
subclasses, Tensors, lists) they call NumPy's own function unchanged.

Generated code binds ``np`` (or whatever the user named NumPy) to
:data:`module`, so it still reads ``np.sum(x, axis=1)``.  The tape's
``Tensor.mean`` uses :func:`mean_of_floats` for its forward value.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

__all__ = ["module", "mean_of_floats", "original"]

_NO_VALUE = np._NoValue
_ndarray = np.ndarray
_add_reduce = np.add.reduce
_FLOAT_KINDS = frozenset("fc")


def mean_of_floats(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``np.mean`` of a float array: the same sum and division without NumPy's Python
    layer (which costs more than the arithmetic on small arrays)."""
    if a.dtype.kind != "f" or a.dtype.itemsize < 4 or a.size == 0:  # float16: NumPy widens
        return np.mean(a, axis=axis, keepdims=keepdims)
    total = _add_reduce(a, axis, None, None, keepdims)   # positional: no keyword parsing
    if axis is None:
        return total / a.size
    return total / (a.size // max(total.size, 1))


def _plain(a: Any, dtype: Any, out: Any, keepdims: Any, where: Any) -> bool:
    return (type(a) is _ndarray and a.dtype.kind in _FLOAT_KINDS and dtype is None
            and out is None and (keepdims is _NO_VALUE or type(keepdims) is bool)
            and (where is _NO_VALUE or where is True))


def _reduction(name: str, ufunc: Any) -> Any:
    numpy_function = getattr(np, name)

    if name == "sum":
        def reduce(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                   keepdims: Any = _NO_VALUE, initial: Any = _NO_VALUE,
                   where: Any = _NO_VALUE) -> Any:
            if initial is _NO_VALUE and _plain(a, dtype, out, keepdims, where):
                return ufunc.reduce(a, axis, None, None, keepdims is True)
            return numpy_function(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                                  initial=initial, where=where)
    else:   # max, min: no dtype
        def reduce(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NO_VALUE,
                   initial: Any = _NO_VALUE, where: Any = _NO_VALUE) -> Any:
            if initial is _NO_VALUE and _plain(a, None, out, keepdims, where):
                return ufunc.reduce(a, axis, None, None, keepdims is True)
            return numpy_function(a, axis=axis, out=out, keepdims=keepdims, initial=initial,
                                  where=where)

    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = f"``np.{name}``: the ufunc reduction directly for a plain float array."
    reduce.numpy_function = numpy_function
    return reduce


def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
         keepdims: Any = _NO_VALUE, *, where: Any = _NO_VALUE) -> Any:
    """``np.mean``: one sum and one division for a plain float array."""
    if _plain(a, dtype, out, keepdims, where) and a.dtype.kind == "f":
        return mean_of_floats(a, axis, keepdims is True)
    return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where)


mean.numpy_function = np.mean

module = types.ModuleType("numpy", __doc__)
module.__dict__.update(np.__dict__)
for _fast in (_reduction("sum", np.add), _reduction("max", np.maximum),
              _reduction("min", np.minimum), _reduction("amax", np.maximum),
              _reduction("amin", np.minimum), mean):
    setattr(module, _fast.__name__, _fast)


def original(value: Any) -> Any:
    """NumPy's own object for a value taken from :data:`module` (itself otherwise)."""
    if value is module:
        return np
    if isinstance(value, types.FunctionType):
        return getattr(value, "numpy_function", value)
    return value
