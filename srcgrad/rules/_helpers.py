"""Helpers that rules call (and so generated code too), beyond :mod:`srcgrad.runtime`'s.

Like the runtime helpers they only call NumPy functions and operators, so
they work on arrays, NumPy scalars, Python numbers and srcgrad Tensors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..runtime import is_complex, shape_of

__all__ = ["abs_cotangent", "abs_tangent", "broadcast_like", "extremum_cotangent",
           "extremum_tangent", "items_cotangent", "log_or_zero", "nonzero", "sign_cotangent",
           "sign_tangent", "clip_bound_mask"]


def broadcast_like(t: Any, ans: Any) -> Any:
    """Tangent ``t`` broadcast to the shape of the output ``ans``.

    A JVP contribution that is the input's own tangent (``add``'s) must still
    have the output's shape when the other operand broadcast the input.
    """
    shape = shape_of(ans)
    if shape_of(t) == shape:
        return t
    return np.broadcast_to(t, shape)


def log_or_zero(x: Any) -> Any:
    """``log(x)``, with ``log(0)`` taken as 0: the factor in ``d(x**y)/dy = x**y * log(x)``.

    At ``x == 0`` the true derivative of ``0**y`` is 0 for ``y > 0``, which
    ``0**y * log(0) = 0 * -inf`` would turn into NaN.  A Python number gives a
    Python float, so a float32 cotangent stays float32.
    """
    if isinstance(x, (int, float)):
        if x > 0:
            return math.log(x)
        return 0.0 if x == 0 else math.nan
    return np.log(np.where(x == 0, 1, x))


def items_cotangent(cotangents: Any, seq: Any) -> Any:
    """The cotangent of a sequence argument from one cotangent per item (``None``: zero).

    ``np.concatenate``, ``np.stack``, ``sum()``... iterate their sequence
    argument.  A list or tuple gets the list of its items' cotangents; an
    array, whose items are its rows, gets them stacked back into one array
    shaped like it.
    """
    if isinstance(seq, (list, tuple)) or not hasattr(seq, "shape"):
        return cotangents
    rows = [np.zeros_like(s) if c is None else c for c, s in zip(cotangents, seq, strict=True)]
    return np.stack(rows) if rows else np.zeros_like(seq)


def nonzero(x: Any) -> Any:
    """``x`` with its zeros replaced by ones: a divisor whose zeros multiply a zero numerator.

    ``np.std``'s partials are ``(a - mean) / (n * std)``; where ``std`` is 0
    every ``a - mean`` is 0 too and the partial is 0, not ``0 / 0``.
    """
    return np.where(x == 0, 1, x)


def _extremum_weights(ans: Any, args: tuple) -> tuple[Any, Any]:
    """``(items, weights)`` of ``max(*args)``/``min(*args)``: each item's share of the result.

    One argument is an iterable (its items along the first axis), several are the
    items.  Items equal to the result share it evenly; when the result is NaN
    (Python keeps a NaN first item: no comparison with it is true) the first item
    has it all.
    """
    if len(args) == 1 and hasattr(args[0], "shape"):
        x = args[0]
        if np.ndim(x) == 0:
            raise TypeError(f"'{type(x).__name__}' object is not iterable")
        mask = np.asarray(x == ans, dtype=float)
        if not mask.any():
            mask = np.zeros(np.shape(x))
            mask[0] = 1.0
        return x, mask / mask.sum() * np.size(ans)
    items = list(args[0]) if len(args) == 1 else list(args)
    mask = [float(np.all(v == ans)) for v in items]
    if not any(mask):
        mask = [1.0] + [0.0] * (len(items) - 1)
    total = sum(mask)
    return items, [m / total for m in mask]


def extremum_cotangent(k: int, g: Any, ans: Any, *args: Any) -> Any:
    """The cotangent of argument ``k`` of ``max(*args)`` or ``min(*args)``."""
    items, weights = _extremum_weights(ans, args)
    if len(args) == 1:
        if hasattr(items, "shape"):
            return g * weights
        return [g * w for w in weights]
    return g * weights[k]


def extremum_tangent(k: int, dx: Any, ans: Any, *args: Any) -> Any:
    """Argument ``k``'s contribution to the tangent of ``max(*args)`` or ``min(*args)``."""
    items, weights = _extremum_weights(ans, args)
    if len(args) == 1:
        if hasattr(items, "shape"):
            return np.sum(dx * weights, axis=0)
        return sum(d * w for d, w in zip(dx, weights, strict=True))
    return dx * weights[k]


def abs_cotangent(g: Any, ans: Any, x: Any) -> Any:
    """The cotangent of ``x`` in ``ans = abs(x)``: ``g * sign(x)``, for complex ``x``
    ``Re(g) * conj(x) / |x|`` (``|x|`` is real: only ``g``'s real part is its cotangent);
    0 at ``x = 0`` either way."""
    if is_complex(x):
        return np.real(g) * np.conj(x) / nonzero(ans)
    return g * np.sign(x)


def abs_tangent(dx: Any, ans: Any, x: Any) -> Any:
    """The tangent of ``abs(x)``: ``dx * sign(x)``, for complex ``x`` ``Re(conj(x) dx) / |x|``."""
    if is_complex(x):
        return np.real(np.conj(x) * dx) / nonzero(ans)
    return dx * np.sign(x)


# NumPy >= 2 defines sign(z) = z / |z| for complex z; NumPy 1 took the sign of the real
# part (piecewise constant, as on real values): the rules follow the NumPy that runs
SIGN_IS_PHASE = bool(np.sign(np.complex128(3 + 4j)) != 1)


def sign_cotangent(g: Any, ans: Any, x: Any) -> Any:
    """The cotangent of ``x`` in ``ans = sign(x)``.

    Real ``x``: 0 (``sign`` is piecewise constant).  Complex ``x``: NumPy's
    ``sign(z) = z / |z|`` is ``exp(i angle(z))``, whose differential is
    ``i sign(z) Im(dz / z)``; the cotangent pairing with it (``Re(b dz) =
    Re(g d sign(z))``) is ``i Im(g sign(z)) / z``.  0 at ``z = 0``, where ``ans`` is 0.
    (0 everywhere under NumPy 1, whose complex sign is piecewise constant.)
    """
    if SIGN_IS_PHASE and is_complex(x):
        return 1j * np.imag(g * ans) / nonzero(x)
    return np.zeros_like(np.real(g))


def sign_tangent(dx: Any, ans: Any, x: Any) -> Any:
    """The tangent of ``sign(x)``: 0 for real ``x``, ``i sign(z) Im(dz / z)`` for complex."""
    if SIGN_IS_PHASE and is_complex(x):
        return 1j * ans * np.imag(dx / nonzero(x))
    return np.zeros_like(np.real(dx))


def clip_bound_mask(ans: Any, a: Any, bound: Any, other: Any = None) -> Any:
    """Where ``clip`` took its value from ``bound``: ``ans`` equals the bound and not ``a``.

    ``np.clip(a, lo, hi)`` is ``minimum(maximum(a, lo), hi)``: where the bounds cross
    (or meet), ``hi`` wins, so ``lo``'s mask (``other`` = ``hi``) leaves those places out.
    """
    took = (ans == bound) & (ans != a)
    if other is not None:
        took = took & (ans != other)
    return took
