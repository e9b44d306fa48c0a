"""Rules: Python's builtins and the ``math`` module.

``math`` functions take and return Python floats, so their rules are
written with ``math`` too: the generated code for scalar arithmetic stays
scalar arithmetic.  ``abs``, ``pow`` and ``divmod`` also apply to arrays and
share NumPy's rules; ``min``/``max`` of numbers or of one iterable split ties
evenly, like ``np.maximum`` and ``np.max``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..runtime import unbroadcast
from ._helpers import broadcast_like, extremum_cotangent, extremum_tangent, items_cotangent
from .registry import alias, defjvp, defvjp, nondifferentiable

# --- math: exponentials and logarithms ---------------------------------------

defvjp(math.exp, lambda g, ans, x: g * ans)
defjvp(math.exp, lambda dx, ans, x: dx * ans)

defvjp(math.expm1, lambda g, ans, x: g * (ans + 1))
defjvp(math.expm1, lambda dx, ans, x: dx * (ans + 1))

# math.log(x, base) = ln(x) / ln(base)
defvjp(
    math.log,
    lambda g, ans, x, base=math.e: g / (x * math.log(base)),
    lambda g, ans, x, base=math.e: -g * ans / (base * math.log(base)),
)
defjvp(
    math.log,
    lambda dx, ans, x, base=math.e: dx / (x * math.log(base)),
    lambda dbase, ans, x, base=math.e: -dbase * ans / (base * math.log(base)),
)

defvjp(math.log2, lambda g, ans, x: g / (x * math.log(2)))
defjvp(math.log2, lambda dx, ans, x: dx / (x * math.log(2)))

defvjp(math.log10, lambda g, ans, x: g / (x * math.log(10)))
defjvp(math.log10, lambda dx, ans, x: dx / (x * math.log(10)))

defvjp(math.log1p, lambda g, ans, x: g / (1 + x))
defjvp(math.log1p, lambda dx, ans, x: dx / (1 + x))

defvjp(math.sqrt, lambda g, ans, x: g / (2 * ans))
defjvp(math.sqrt, lambda dx, ans, x: dx / (2 * ans))

# d(x**y)/dx is 0 where y == 0, d(x**y)/dy is 0 where x == 0 (as for np.power)
defvjp(
    math.pow,
    lambda g, ans, x, y: g * y * math.pow(x, y - 1) if y != 0 else 0.0 * g,
    lambda g, ans, x, y: g * ans * math.log(x) if x != 0 else 0.0 * g,
)
defjvp(
    math.pow,
    lambda dx, ans, x, y: dx * y * math.pow(x, y - 1) if y != 0 else 0.0 * dx,
    lambda dy, ans, x, y: dy * ans * math.log(x) if x != 0 else 0.0 * dy,
)

# --- math: trigonometric and hyperbolic ----------------------------------------

defvjp(math.sin, lambda g, ans, x: g * math.cos(x))
defjvp(math.sin, lambda dx, ans, x: dx * math.cos(x))

defvjp(math.cos, lambda g, ans, x: -g * math.sin(x))
defjvp(math.cos, lambda dx, ans, x: -dx * math.sin(x))

defvjp(math.tan, lambda g, ans, x: g * (1 + ans**2))
defjvp(math.tan, lambda dx, ans, x: dx * (1 + ans**2))

defvjp(math.asin, lambda g, ans, x: g / math.sqrt(1 - x**2))
defjvp(math.asin, lambda dx, ans, x: dx / math.sqrt(1 - x**2))

defvjp(math.acos, lambda g, ans, x: -g / math.sqrt(1 - x**2))
defjvp(math.acos, lambda dx, ans, x: -dx / math.sqrt(1 - x**2))

defvjp(math.atan, lambda g, ans, x: g / (1 + x**2))
defjvp(math.atan, lambda dx, ans, x: dx / (1 + x**2))

# math.atan2(y, x) is the angle of the point (x, y)
defvjp(
    math.atan2,
    lambda g, ans, y, x: g * x / (x**2 + y**2),
    lambda g, ans, y, x: -g * y / (x**2 + y**2),
)
defjvp(
    math.atan2,
    lambda dy, ans, y, x: dy * x / (x**2 + y**2),
    lambda dx, ans, y, x: -dx * y / (x**2 + y**2),
)

defvjp(math.sinh, lambda g, ans, x: g * math.cosh(x))
defjvp(math.sinh, lambda dx, ans, x: dx * math.cosh(x))

defvjp(math.cosh, lambda g, ans, x: g * math.sinh(x))
defjvp(math.cosh, lambda dx, ans, x: dx * math.sinh(x))

defvjp(math.tanh, lambda g, ans, x: g * (1 - ans**2))
defjvp(math.tanh, lambda dx, ans, x: dx * (1 - ans**2))

defvjp(math.asinh, lambda g, ans, x: g / math.sqrt(x**2 + 1))
defjvp(math.asinh, lambda dx, ans, x: dx / math.sqrt(x**2 + 1))

defvjp(math.acosh, lambda g, ans, x: g / math.sqrt(x**2 - 1))
defjvp(math.acosh, lambda dx, ans, x: dx / math.sqrt(x**2 - 1))

defvjp(math.atanh, lambda g, ans, x: g / (1 - x**2))
defjvp(math.atanh, lambda dx, ans, x: dx / (1 - x**2))

# math.hypot(x, y); more coordinates are not differentiated
defvjp(
    math.hypot,
    lambda g, ans, x, y: g * x / ans,
    lambda g, ans, x, y: g * y / ans,
)
defjvp(
    math.hypot,
    lambda dx, ans, x, y: dx * x / ans,
    lambda dy, ans, x, y: dy * y / ans,
)

# --- math: the rest --------------------------------------------------------------

# (x > 0) - (x < 0) is sign(x), with fabs'(0) = 0
defvjp(math.fabs, lambda g, ans, x: g * ((x > 0) - (x < 0)))
defjvp(math.fabs, lambda dx, ans, x: dx * ((x > 0) - (x < 0)))

defvjp(math.erf, lambda g, ans, x: g * 2 / math.sqrt(math.pi) * math.exp(-(x**2)))
defjvp(math.erf, lambda dx, ans, x: dx * 2 / math.sqrt(math.pi) * math.exp(-(x**2)))

defvjp(math.erfc, lambda g, ans, x: -g * 2 / math.sqrt(math.pi) * math.exp(-(x**2)))
defjvp(math.erfc, lambda dx, ans, x: -dx * 2 / math.sqrt(math.pi) * math.exp(-(x**2)))

defvjp(math.degrees, lambda g, ans, x: g * (180 / math.pi))
defjvp(math.degrees, lambda dx, ans, x: dx * (180 / math.pi))

defvjp(math.radians, lambda g, ans, x: g * (math.pi / 180))
defjvp(math.radians, lambda dx, ans, x: dx * (math.pi / 180))

# --- builtins --------------------------------------------------------------------

# abs and pow work on arrays too: NumPy's rules (np.sign, np.where) cover both
alias(abs, np.absolute)
alias(pow, np.power)
alias(divmod, np.divmod)    # (a // b, a % b) of numbers or arrays: NumPy's rule

_VARIADIC = 8               # max(a, b, ..., h): the positions given a derivative

defvjp(float, lambda g, ans, x: g, node="ToCopyBackward0")
defjvp(float, lambda dx, ans, x: dx)

# max/min of several numbers, or of one iterable (a list, or an array's items along its
# first axis).  Python's comparison picks one item; the derivative splits ties evenly
# among the items equal to the result, as np.max and np.maximum do (and as central
# differences see it).  ``key=`` and ``default=`` are refused by the compiler.
for _extremum in (max, min):
    defvjp(_extremum, *[functools.partial(extremum_cotangent, k) for k in range(_VARIADIC)],
           sequence_argnums=(0,))
    defjvp(_extremum, *[functools.partial(extremum_tangent, k) for k in range(_VARIADIC)])

# sum(iterable, start): every element (and start) gets the cotangent, unbroadcast
defvjp(
    sum,
    lambda g, ans, iterable, start=0: items_cotangent([unbroadcast(g, x) for x in iterable],
                                                      iterable),
    lambda g, ans, iterable, start=0: unbroadcast(g, start),
    sequence_argnums=(0,),
)
defjvp(
    sum,
    lambda diterable, ans, iterable, start=0: broadcast_like(sum(diterable), ans),
    lambda dstart, ans, iterable, start=0: broadcast_like(dstart, ans),
)

nondifferentiable(
    int,
    bool,
    round,
    len,
    range,
    isinstance,
    math.floor,
    math.ceil,
    math.trunc,
    math.isnan,
    math.isinf,
    math.isfinite,
    math.isclose,
)
