"""The few helpers that rules and generated code call.

Everything here works on NumPy arrays, NumPy scalars and Python numbers, and
(because it only calls NumPy functions) on srcgrad Tensors too, which is what
lets the tape differentiate its own backward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["unbroadcast", "unbroadcast_to", "unbroadcast_scaled", "shape_of", "zeros_like",
           "expand_reduced", "normalize_axis", "real_cotangent", "as_gradient", "is_complex"]


def shape_of(x: Any) -> tuple[int, ...]:
    """``x.shape`` for arrays and Tensors, ``()`` for Python numbers."""
    return getattr(x, "shape", ())


_SUM_PLANS: dict[tuple, tuple] = {}     # (g's shape, target shape) -> how to sum
_ndarray = np.ndarray
_add_reduce = np.add.reduce


def _sum_plan(gshape: tuple, shape: tuple) -> tuple:
    """How a plain array of ``gshape`` is summed to ``shape``: (axes, keepdims, reshape)."""
    extra = len(gshape) - len(shape)
    stretched = tuple(i + extra for i, n in enumerate(shape)
                      if n == 1 and gshape[i + extra] != 1)
    if not stretched:
        plan = (tuple(range(extra)), False, False)
    else:
        plan = (tuple(range(extra)) + stretched, True, bool(extra))
    if len(_SUM_PLANS) > 4096:
        _SUM_PLANS.clear()
    _SUM_PLANS[gshape, shape] = plan
    return plan


def unbroadcast_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``."""
    gshape = getattr(g, "shape", ())
    if gshape == shape:
        return g
    # plain arrays go straight to the ufunc reduction (what np.sum does for them), with
    # the axes worked out once per pair of shapes; anything else (Tensors) through
    # np.sum, so that it can intercept the call
    if type(g) is np.ndarray and type(shape) is tuple and len(gshape) >= len(shape):
        plan = _SUM_PLANS.get((gshape, shape))
        if plan is None:
            plan = _sum_plan(gshape, shape)
        axes, keepdims, reshape = plan
        g = _add_reduce(g, axes, None, None, keepdims)    # positional: no keyword parsing
        return g.reshape(shape) if reshape else g
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    return g


def unbroadcast(g: Any, x: Any) -> Any:
    """The part of cotangent ``g`` that belongs to ``x`` before broadcasting.

    ``x`` may be an array, a Tensor or a Python number (shape ``()``); the
    result has ``x``'s shape.
    """
    shape = x.shape if type(x) is _ndarray else getattr(x, "shape", ())
    if type(g) is _ndarray:
        gshape = g.shape
        if gshape == shape:
            return g
        plan = _SUM_PLANS.get((gshape, shape))
        if plan is not None:        # unbroadcast_to's common case, one call less
            g = _add_reduce(g, plan[0], None, None, plan[1])
            return g.reshape(shape) if plan[2] else g
    elif getattr(g, "shape", ()) == shape:
        return g
    return unbroadcast_to(g, shape)


def _fits(small: tuple, big: tuple) -> bool:
    """Does shape ``small`` broadcast to exactly ``big``?"""
    if len(small) > len(big):
        return False
    offset = len(big) - len(small)
    return all(n == 1 or n == big[i + offset] for i, n in enumerate(small))


def unbroadcast_scaled(g: Any, y: Any, x: Any) -> Any:
    """``unbroadcast(g * y, x)``, summing first when ``y`` is constant along the summed axes.

    When ``y`` broadcasts to ``x``'s shape and ``g`` already has the full
    shape, ``y`` is the same along every axis the sum removes, so the sum
    runs over ``g`` and only the (smaller) result is multiplied by ``y``.
    """
    gshape = getattr(g, "shape", ())
    yshape = getattr(y, "shape", ())
    xshape = getattr(x, "shape", ())
    if type(g) is np.ndarray and gshape != xshape and _fits(yshape, gshape) \
            and _fits(yshape, xshape) and _fits(xshape, gshape):
        return unbroadcast_to(g, xshape) * y
    return unbroadcast(g * y, x)


def normalize_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of positives."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(a % ndim if ndim else 0 for a in axis))
    return (axis % ndim if ndim else 0,)


_PLAIN = frozenset({np.ndarray, np.float64, np.float32, np.float16, float})


def expand_reduced(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Broadcast the cotangent of a reduction over ``axis`` back to ``x``'s shape."""
    shape = np.shape(x) if isinstance(x, (list, tuple)) else getattr(x, "shape", ())
    if not keepdims and axis is not None and shape:
        g = np.expand_dims(g, normalize_axis(axis, len(shape)))
    kind = type(g)
    if kind in _PLAIN:
        # Filling a new array is much cheaper than np.broadcast_to's Python layer,
        # and gives a writable result.
        out = np.empty(shape, dtype=np.float64 if kind is float else g.dtype)
        out[...] = g
        return out
    return np.broadcast_to(g, shape)  # Tensors (the tape's double backward) record this


def is_complex(x: Any) -> bool:
    """Whether ``x`` (array, Tensor, NumPy or Python number) holds complex values."""
    return type(x) is complex or getattr(getattr(x, "dtype", None), "kind", "") == "c"


def real_cotangent(ct: Any, x: Any) -> Any:
    """``ct`` as the cotangent of ``x``: its real part where ``x`` is real.

    Cotangents follow JAX's convention: ``c`` stands for ``dz -> Re(c * dz)``, so a
    real ``x`` (a real ``dz``) is served by ``Re(c)`` alone.  Inside a sweep the
    cotangent of a real value may carry an imaginary part from a complex operation it
    fed (``x * 1j``): every rule of a real-valued operation is real-linear in it with
    real coefficients, so that part never mixes into the real part; it is dropped
    here, where a gradient is handed out, and by the rules that take a real value
    out of a complex one (``np.real``, ``np.abs``...).
    """
    kind = type(ct)
    if kind is _ndarray:
        if ct.dtype.kind != "c":
            return ct
    elif kind is float or not is_complex(ct):
        return ct
    return ct if is_complex(x) else np.real(ct)


_REAL_SCALARS = frozenset({float, np.float64})


def as_gradient(ct: Any, x: Any) -> Any:
    """``ct`` handed out as the gradient of argument ``x``: real where ``x`` is real
    (:func:`real_cotangent`) and in ``x``'s dtype.

    A float32 parameter gets a float32 gradient even when float64 data promoted the
    computation, as in JAX and PyTorch: the sweep runs in the dtypes the primal
    computed in, and the result is cast once, here.  Python numbers, which have no
    dtype of their own, keep what the sweep computed.
    """
    kind = type(x)
    if kind is _ndarray:
        if type(ct) is _ndarray and ct.dtype == x.dtype:
            return ct       # the common case: nothing to do (equal dtypes: both real or not)
    elif kind is float and type(ct) in _REAL_SCALARS:
        return ct
    want = getattr(x, "dtype", None)
    ct = real_cotangent(ct, x)
    if want is None:
        return ct
    have = getattr(ct, "dtype", None)
    if have is None:        # a Python number: the NumPy scalar (or 0-d array) of x's dtype
        return np.asarray(ct, dtype=want)[()]
    if have == want:
        return ct
    method = getattr(ct, "astype", None)
    return method(want) if method is not None else np.astype(ct, want)


def zeros_like(x: Any) -> Any:
    """A zero cotangent or tangent shaped like ``x`` (0.0 for Python numbers)."""
    if isinstance(x, (int, float)):
        return 0.0
    return np.zeros_like(x)
