"""Rules: NumPy's elementwise functions (ufuncs), ``np.where``, ``np.clip``, operators.

Each rule is one expression in the derivative's textbook form.  VJPs of
binary functions sum the cotangent back over the axes broadcasting added
(``unbroadcast``); JVPs return the argument's contribution with the
output's shape (``broadcast_like`` where the contribution is the tangent
itself).

Points where the derivative is not defined follow PyTorch and JAX:
``abs'(0) = 0`` (``np.sign``), ties of ``maximum``/``minimum`` split the
gradient evenly, ``sqrt'(0) = inf``, ``clip`` passes the gradient where
``a_min <= a <= a_max``, ``d(x**y)/dx`` is 0 where ``y == 0`` and
``d(x**y)/dy`` is 0 where ``x == 0``.

Constants are Python floats (``math.log(2)``, never ``np.log(2)``) so that
float32 inputs get float32 gradients.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..runtime import is_complex, unbroadcast
from ._extra_helpers import bessel_i1
from ._helpers import (
    abs_cotangent,
    abs_tangent,
    broadcast_like,
    clip_bound_mask,
    log_or_zero,
    nonzero,
    sign_cotangent,
    sign_tangent,
)
from ._shape_helpers import part
from .registry import alias, defjvp, defvjp, lookup, nondifferentiable, primitive


def _sub_node(is_tensor: tuple[bool, ...], kwargs: dict) -> str | tuple[str, tuple[int, ...]]:
    # PyTorch spells ``2 - t`` as rsub(t, 2): one listed input.
    return "SubBackward0" if is_tensor[0] else ("RsubBackward1", (1,))


def _pow_node(is_tensor: tuple[bool, ...], kwargs: dict) -> str | tuple[str, tuple[int, ...]]:
    base, exponent = (*is_tensor, False, False)[:2]
    if base and exponent:
        return "PowBackward1"
    if base:
        return ("PowBackward0", (0,))
    return ("PowBackward2", (1,))


def _remainder_node(is_tensor: tuple[bool, ...], kwargs: dict) -> str | tuple[str, tuple[int, ...]]:
    x, y = (*is_tensor, False, False)[:2]
    if x and not y:
        return ("RemainderBackward0", (0,))
    return "RemainderBackward1"


def _fmod_node(is_tensor: tuple[bool, ...], kwargs: dict) -> str | tuple[str, tuple[int, ...]]:
    x, y = (*is_tensor, False, False)[:2]
    if x and not y:
        return ("FmodBackward0", (0,))
    return "FmodBackward1"


def _sign_node(is_tensor: tuple[bool, ...], kwargs: dict, args: tuple) -> str:
    # PyTorch's sign is real-only; its sgn is z / |z|
    return "SgnBackward0" if args and is_complex(args[0]) else "SignBackward0"


# --- arithmetic --------------------------------------------------------------

defvjp(
    np.add,
    lambda g, ans, x, y: unbroadcast(g, x),
    lambda g, ans, x, y: unbroadcast(g, y),
    node="AddBackward0",
)
defjvp(
    np.add,
    lambda dx, ans, x, y: broadcast_like(dx, ans),
    lambda dy, ans, x, y: broadcast_like(dy, ans),
)

defvjp(
    np.subtract,
    lambda g, ans, x, y: unbroadcast(g, x),
    lambda g, ans, x, y: unbroadcast(-g, y),
    node=_sub_node,
)
defjvp(
    np.subtract,
    lambda dx, ans, x, y: broadcast_like(dx, ans),
    lambda dy, ans, x, y: broadcast_like(-dy, ans),
)

defvjp(
    np.multiply,
    lambda g, ans, x, y: unbroadcast(g * y, x),
    lambda g, ans, x, y: unbroadcast(g * x, y),
    node="MulBackward0",
)
defjvp(
    np.multiply,
    lambda dx, ans, x, y: dx * y,
    lambda dy, ans, x, y: x * dy,
)

defvjp(
    np.divide,
    lambda g, ans, x, y: unbroadcast(g / y, x),
    lambda g, ans, x, y: unbroadcast(-g * ans / y, y),
    node="DivBackward0",
)
defjvp(
    np.divide,
    lambda dx, ans, x, y: dx / y,
    lambda dy, ans, x, y: -dy * ans / y,
)

defvjp(np.negative, lambda g, ans, x: -g, node="NegBackward0")
defjvp(np.negative, lambda dx, ans, x: -dx)

defvjp(np.positive, lambda g, ans, x: g, node="PositiveBackward0")
defjvp(np.positive, lambda dx, ans, x: dx)

# d(x**y)/dx = y * x**(y - 1), which is 0 where y == 0: the exponent is taken
# as 0 there instead of -1, so that 0 * 0**-1 (NaN) is never formed.
defvjp(
    np.power,
    lambda g, ans, x, y: unbroadcast(g * y * x ** (y - 1 + (y == 0)), x),
    lambda g, ans, x, y: unbroadcast(g * ans * log_or_zero(x), y),
    node=_pow_node,
)
defjvp(
    np.power,
    lambda dx, ans, x, y: dx * y * x ** (y - 1 + (y == 0)),
    lambda dy, ans, x, y: dy * ans * log_or_zero(x),
)

defvjp(
    np.float_power,
    lambda g, ans, x, y: unbroadcast(g * y * np.float_power(x, y - 1 + (y == 0)), x),
    lambda g, ans, x, y: unbroadcast(g * ans * log_or_zero(x), y),
    node=_pow_node,
)
defjvp(
    np.float_power,
    lambda dx, ans, x, y: dx * y * np.float_power(x, y - 1 + (y == 0)),
    lambda dy, ans, x, y: dy * ans * log_or_zero(x),
)

defvjp(np.square, lambda g, ans, x: g * 2 * x, node="PowBackward0")
defjvp(np.square, lambda dx, ans, x: dx * 2 * x)

defvjp(np.reciprocal, lambda g, ans, x: -g * ans**2, node="ReciprocalBackward0")
defjvp(np.reciprocal, lambda dx, ans, x: -dx * ans**2)

# x = (x // y) * y + remainder: d/dx = 1, d/dy = -floor(x / y)
defvjp(
    np.remainder,
    lambda g, ans, x, y: unbroadcast(g, x),
    lambda g, ans, x, y: unbroadcast(-g * np.floor(x / y), y),
    node=_remainder_node,
)
defjvp(
    np.remainder,
    lambda dx, ans, x, y: broadcast_like(dx, ans),
    lambda dy, ans, x, y: -dy * np.floor(x / y),
)

defvjp(
    np.fmod,
    lambda g, ans, x, y: unbroadcast(g, x),
    lambda g, ans, x, y: unbroadcast(-g * np.trunc(x / y), y),
    node=_fmod_node,
)
defjvp(
    np.fmod,
    lambda dx, ans, x, y: broadcast_like(dx, ans),
    lambda dy, ans, x, y: -dy * np.trunc(x / y),
)

# --- exponentials and logarithms ---------------------------------------------

defvjp(np.exp, lambda g, ans, x: g * ans, node="ExpBackward0")
defjvp(np.exp, lambda dx, ans, x: dx * ans)

defvjp(np.exp2, lambda g, ans, x: g * ans * math.log(2), node="Exp2Backward0")
defjvp(np.exp2, lambda dx, ans, x: dx * ans * math.log(2))

defvjp(np.expm1, lambda g, ans, x: g * (ans + 1), node="Expm1Backward0")
defjvp(np.expm1, lambda dx, ans, x: dx * (ans + 1))

defvjp(np.log, lambda g, ans, x: g / x, node="LogBackward0")
defjvp(np.log, lambda dx, ans, x: dx / x)

defvjp(np.log2, lambda g, ans, x: g / (x * math.log(2)), node="Log2Backward0")
defjvp(np.log2, lambda dx, ans, x: dx / (x * math.log(2)))

defvjp(np.log10, lambda g, ans, x: g / (x * math.log(10)), node="Log10Backward0")
defjvp(np.log10, lambda dx, ans, x: dx / (x * math.log(10)))

defvjp(np.log1p, lambda g, ans, x: g / (1 + x), node="Log1PBackward0")
defjvp(np.log1p, lambda dx, ans, x: dx / (1 + x))

defvjp(np.sqrt, lambda g, ans, x: g / (2 * ans), node="SqrtBackward0")
defjvp(np.sqrt, lambda dx, ans, x: dx / (2 * ans))

defvjp(np.cbrt, lambda g, ans, x: g / (3 * ans**2), node="CbrtBackward0")
defjvp(np.cbrt, lambda dx, ans, x: dx / (3 * ans**2))

# log(exp(x) + exp(y)): the weights exp(x - ans) and exp(y - ans) are softmax's
defvjp(
    np.logaddexp,
    lambda g, ans, x, y: unbroadcast(g * np.exp(x - ans), x),
    lambda g, ans, x, y: unbroadcast(g * np.exp(y - ans), y),
    node="LogaddexpBackward0",
)
defjvp(
    np.logaddexp,
    lambda dx, ans, x, y: dx * np.exp(x - ans),
    lambda dy, ans, x, y: dy * np.exp(y - ans),
)

defvjp(
    np.logaddexp2,
    lambda g, ans, x, y: unbroadcast(g * np.exp2(x - ans), x),
    lambda g, ans, x, y: unbroadcast(g * np.exp2(y - ans), y),
    node="Logaddexp2Backward0",
)
defjvp(
    np.logaddexp2,
    lambda dx, ans, x, y: dx * np.exp2(x - ans),
    lambda dy, ans, x, y: dy * np.exp2(y - ans),
)

# --- trigonometric and hyperbolic --------------------------------------------

defvjp(np.sin, lambda g, ans, x: g * np.cos(x), node="SinBackward0")
defjvp(np.sin, lambda dx, ans, x: dx * np.cos(x))

defvjp(np.cos, lambda g, ans, x: -g * np.sin(x), node="CosBackward0")
defjvp(np.cos, lambda dx, ans, x: -dx * np.sin(x))

defvjp(np.tan, lambda g, ans, x: g * (1 + ans**2), node="TanBackward0")
defjvp(np.tan, lambda dx, ans, x: dx * (1 + ans**2))

defvjp(np.arcsin, lambda g, ans, x: g / np.sqrt(1 - x**2), node="AsinBackward0")
defjvp(np.arcsin, lambda dx, ans, x: dx / np.sqrt(1 - x**2))

defvjp(np.arccos, lambda g, ans, x: -g / np.sqrt(1 - x**2), node="AcosBackward0")
defjvp(np.arccos, lambda dx, ans, x: -dx / np.sqrt(1 - x**2))

defvjp(np.arctan, lambda g, ans, x: g / (1 + x**2), node="AtanBackward0")
defjvp(np.arctan, lambda dx, ans, x: dx / (1 + x**2))

defvjp(np.sinh, lambda g, ans, x: g * np.cosh(x), node="SinhBackward0")
defjvp(np.sinh, lambda dx, ans, x: dx * np.cosh(x))

defvjp(np.cosh, lambda g, ans, x: g * np.sinh(x), node="CoshBackward0")
defjvp(np.cosh, lambda dx, ans, x: dx * np.sinh(x))

defvjp(np.tanh, lambda g, ans, x: g * (1 - ans * ans), node="TanhBackward0")
defjvp(np.tanh, lambda dx, ans, x: dx * (1 - ans * ans))

defvjp(np.arcsinh, lambda g, ans, x: g / np.sqrt(x**2 + 1), node="AsinhBackward0")
defjvp(np.arcsinh, lambda dx, ans, x: dx / np.sqrt(x**2 + 1))

defvjp(np.arccosh, lambda g, ans, x: g / np.sqrt(x**2 - 1), node="AcoshBackward0")
defjvp(np.arccosh, lambda dx, ans, x: dx / np.sqrt(x**2 - 1))

defvjp(np.arctanh, lambda g, ans, x: g / (1 - x**2), node="AtanhBackward0")
defjvp(np.arctanh, lambda dx, ans, x: dx / (1 - x**2))

# sinc(x) = sin(pi x) / (pi x): sinc'(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0
defvjp(
    np.sinc,
    lambda g, ans, x: g * (np.cos(np.pi * x) - ans) / np.where(x == 0, 1, x),
    node="SincBackward0",
)
defjvp(np.sinc, lambda dx, ans, x: dx * (np.cos(np.pi * x) - ans) / np.where(x == 0, 1, x))

# The modified Bessel function: i0' = i1 (which NumPy lacks; see bessel_i1).
defvjp(np.i0, lambda g, ans, x: g * bessel_i1(x), node="I0Backward0")
defjvp(np.i0, lambda dx, ans, x: dx * bessel_i1(x))

defvjp(
    np.hypot,
    lambda g, ans, x, y: unbroadcast(g * x / ans, x),
    lambda g, ans, x, y: unbroadcast(g * y / ans, y),
    node="HypotBackward0",
)
defjvp(
    np.hypot,
    lambda dx, ans, x, y: dx * x / ans,
    lambda dy, ans, x, y: dy * y / ans,
)

# arctan2(y, x) is the angle of the point (x, y)
defvjp(
    np.arctan2,
    lambda g, ans, y, x: unbroadcast(g * x / (x**2 + y**2), y),
    lambda g, ans, y, x: unbroadcast(-g * y / (x**2 + y**2), x),
    node="Atan2Backward0",
)
defjvp(
    np.arctan2,
    lambda dy, ans, y, x: dy * x / (x**2 + y**2),
    lambda dx, ans, y, x: -dx * y / (x**2 + y**2),
)

for _to_radians in (np.deg2rad, np.radians):
    defvjp(_to_radians, lambda g, ans, x: g * (np.pi / 180), node="Deg2RadBackward0")
    defjvp(_to_radians, lambda dx, ans, x: dx * (np.pi / 180))

for _to_degrees in (np.rad2deg, np.degrees):
    defvjp(_to_degrees, lambda g, ans, x: g * (180 / np.pi), node="Rad2DegBackward0")
    defjvp(_to_degrees, lambda dx, ans, x: dx * (180 / np.pi))

# --- absolute value, sign transfer, extrema ----------------------------------

defvjp(np.fabs, lambda g, ans, x: g * np.sign(x), node="AbsBackward0")
defjvp(np.fabs, lambda dx, ans, x: dx * np.sign(x))

# |z| of a complex z: d|z| = Re(conj(z) dz) / |z|, 0 at z = 0 (abs_cotangent)
defvjp(np.absolute, lambda g, ans, x: abs_cotangent(g, ans, x), node="AbsBackward0",
       complex=True)
defjvp(np.absolute, lambda dx, ans, x: abs_tangent(dx, ans, x))

# copysign(x, y) = |x| * sign(y): its derivative in y is 0 wherever it exists
defvjp(
    np.copysign,
    lambda g, ans, x, y: unbroadcast(g * np.sign(x) * np.sign(ans), x),
    node="CopysignBackward0",
)
defjvp(np.copysign, lambda dx, ans, x, y: dx * np.sign(x) * np.sign(ans))
nondifferentiable(np.copysign, argnums=(1,))     # d/dy = 0 wherever it exists

defvjp(
    np.maximum,
    lambda g, ans, x, y: unbroadcast(g * (x > y) + g * (x == y) / 2, x),
    lambda g, ans, x, y: unbroadcast(g * (y > x) + g * (x == y) / 2, y),
    node="MaximumBackward0",
)
defjvp(
    np.maximum,
    lambda dx, ans, x, y: dx * (x > y) + dx * (x == y) / 2,
    lambda dy, ans, x, y: dy * (y > x) + dy * (x == y) / 2,
)

defvjp(
    np.minimum,
    lambda g, ans, x, y: unbroadcast(g * (x < y) + g * (x == y) / 2, x),
    lambda g, ans, x, y: unbroadcast(g * (y < x) + g * (x == y) / 2, y),
    node="MinimumBackward0",
)
defjvp(
    np.minimum,
    lambda dx, ans, x, y: dx * (x < y) + dx * (x == y) / 2,
    lambda dy, ans, x, y: dy * (y < x) + dy * (x == y) / 2,
)

# fmax / fmin ignore a NaN operand: the other one gets the whole gradient
defvjp(
    np.fmax,
    lambda g, ans, x, y: unbroadcast(g * ((x > y) | np.isnan(y)) + g * (x == y) / 2, x),
    lambda g, ans, x, y: unbroadcast(g * ((y > x) | np.isnan(x)) + g * (x == y) / 2, y),
    node="FmaxBackward0",
)
defjvp(
    np.fmax,
    lambda dx, ans, x, y: dx * ((x > y) | np.isnan(y)) + dx * (x == y) / 2,
    lambda dy, ans, x, y: dy * ((y > x) | np.isnan(x)) + dy * (x == y) / 2,
)

defvjp(
    np.fmin,
    lambda g, ans, x, y: unbroadcast(g * ((x < y) | np.isnan(y)) + g * (x == y) / 2, x),
    lambda g, ans, x, y: unbroadcast(g * ((y < x) | np.isnan(x)) + g * (x == y) / 2, y),
    node="FminBackward0",
)
defjvp(
    np.fmin,
    lambda dx, ans, x, y: dx * ((x < y) | np.isnan(y)) + dx * (x == y) / 2,
    lambda dy, ans, x, y: dy * ((y < x) | np.isnan(x)) + dy * (x == y) / 2,
)

# --- selection ---------------------------------------------------------------

defvjp(
    np.where,
    lambda g, ans, condition, x, y: unbroadcast(np.where(condition, g, 0), x),
    lambda g, ans, condition, x, y: unbroadcast(np.where(condition, 0, g), y),
    argnums=(1, 2),
    node="WhereBackward0",
)
defjvp(
    np.where,
    lambda dx, ans, condition, x, y: np.where(condition, dx, np.zeros_like(ans)),
    lambda dy, ans, condition, x, y: np.where(condition, np.zeros_like(ans), dy),
    argnums=(1, 2),
)

# clip leaves a unchanged exactly where a_min <= a <= a_max: the gradient flows there;
# elsewhere the output is the bound it took (a_max where the bounds cross)
def _clamp_node(is_tensor: tuple[bool, ...], kwargs: dict) -> str | tuple[str, tuple[int, ...]]:
    # PyTorch's clamp with tensor bounds is ClampBackward0; with numbers ClampBackward1
    return "ClampBackward0" if any(is_tensor[1:]) else ("ClampBackward1", (0,))


defvjp(
    np.clip,
    lambda g, ans, a, a_min=None, a_max=None, **kwargs: unbroadcast(g * (ans == a), a),
    lambda g, ans, a, a_min=None, a_max=None, **kwargs:
    unbroadcast(g * clip_bound_mask(ans, a, a_min, a_max), a_min),
    lambda g, ans, a, a_min=None, a_max=None, **kwargs:
    unbroadcast(g * clip_bound_mask(ans, a, a_max), a_max),
    node=_clamp_node,
)
defjvp(
    np.clip,
    lambda da, ans, a, a_min=None, a_max=None, **kwargs: da * (ans == a),
    lambda dlo, ans, a, a_min=None, a_max=None, **kwargs:
    dlo * clip_bound_mask(ans, a, a_min, a_max),
    lambda dhi, ans, a, a_min=None, a_max=None, **kwargs: dhi * clip_bound_mask(ans, a, a_max),
)

# --- piecewise-constant and integer-valued functions -------------------------

# sign is piecewise constant on real values; on complex ones NumPy (>= 2) defines it as
# z / |z| (0 at 0), which varies with the angle of z: a rule, zero for real values
defvjp(np.sign, lambda g, ans, x: sign_cotangent(g, ans, x), node=_sign_node, complex=True)
defjvp(np.sign, lambda dx, ans, x: sign_tangent(dx, ans, x))

nondifferentiable(
    np.signbit,
    np.floor,
    np.ceil,
    np.trunc,
    np.rint,
    np.round,
    np.around,
    np.floor_divide,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.greater,
    np.greater_equal,
    np.less,
    np.less_equal,
    np.equal,
    np.not_equal,
    np.logical_and,
    np.logical_or,
    np.logical_not,
    np.logical_xor,
    np.isclose,
    np.allclose,
    np.array_equal,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.argmax,
    np.argmin,
    np.argsort,
    np.nonzero,
    np.shape,
    np.ndim,
    np.size,
)

# Constant results that vary with some arguments: those are refused when active.
# heaviside(x1, x2) is x2 where x1 == 0; full_like(a, v) is v; nextafter(x1, x2) ~ x1.
nondifferentiable(np.heaviside, argnums=(0,))
nondifferentiable(np.full_like, argnums=(0,))
nondifferentiable(np.nextafter, argnums=(1,))
# np.where's condition is read for its truth (piecewise constant)
nondifferentiable(np.where, argnums=(0,))

# --- Python operators ---------------------------------------------------------

for _op, _ufunc in [
    (operator.add, np.add),
    (operator.sub, np.subtract),
    (operator.mul, np.multiply),
    (operator.truediv, np.divide),
    (operator.pow, np.power),
    (operator.neg, np.negative),
    (operator.pos, np.positive),
    (operator.abs, np.absolute),
    (operator.floordiv, np.floor_divide),
    (operator.mod, np.remainder),
    (operator.gt, np.greater),
    (operator.ge, np.greater_equal),
    (operator.lt, np.less),
    (operator.le, np.less_equal),
    (operator.eq, np.equal),
    (operator.ne, np.not_equal),
]:
    alias(_op, _ufunc)

del _to_radians, _to_degrees, _op, _ufunc

# --- more of NumPy's elementwise functions ------------------------------------------------

# ldexp(x, n) = x * 2**n, exactly: the cotangent is scaled the same way (n is an integer).
defvjp(np.ldexp, lambda g, ans, x1, x2: unbroadcast(np.ldexp(g, x2), x1), node="MulBackward0")
defjvp(np.ldexp, lambda dx, ans, x1, x2: np.ldexp(dx, x2))

# frexp(x) = (m, e) with x = m * 2**e: m' = 2**-e, the exponent is an integer.
defvjp(np.frexp, lambda g, ans, x: np.ldexp(part(g, 0, ans), -ans[1]), node="FrexpBackward0",
       outputs=2)
defjvp(np.frexp, lambda dx, ans, x: (np.ldexp(dx, -ans[1]), None))

# modf(x) = (fractional part, integral part): slopes 1 and 0.
defvjp(np.modf, lambda g, ans, x: part(g, 0, ans), outputs=2)
defjvp(np.modf, lambda dx, ans, x: (broadcast_like(dx, ans[0]), np.zeros_like(ans[1])))

# divmod(x, y) = (floor(x / y), x - y * floor(x / y)): only the remainder has slopes.
defvjp(
    np.divmod,
    lambda g, ans, x, y: unbroadcast(part(g, 1, ans), x),
    lambda g, ans, x, y: unbroadcast(-part(g, 1, ans) * ans[0], y),
    outputs=2,
)
defjvp(
    np.divmod,
    lambda dx, ans, x, y: (np.zeros_like(ans[0]), broadcast_like(dx, ans[1])),
    lambda dy, ans, x, y: (np.zeros_like(ans[0]), -dy * ans[0]),
)

# The complex parts.  A cotangent c of z stands for dz -> Re(c dz) (JAX's convention):
# conj(z) passes conj(c) back; Re(z) passes Re(g) (its output is real: only the real part
# of g is its cotangent); Im(z) = Re(-1j z) passes -1j Re(g); angle(z) = atan2(Im z, Re z)
# moves by Im(conj(z) dz) / |z|**2.  Of a real input, Im and angle are constants.
defvjp(np.conjugate, lambda g, ans, x: np.conj(g), node="ConjBackward0", complex=True)
defjvp(np.conjugate, lambda dx, ans, x: np.conj(dx))

defvjp(np.real, lambda g, ans, val: np.real(g), node="RealBackward0", complex=True)
defjvp(np.real, lambda dx, ans, val: np.real(dx))

defvjp(np.imag, lambda g, ans, val: -1j * np.real(g) if is_complex(val) else 0 * np.real(g),
       node="ImagBackward0", complex=True)
defjvp(np.imag, lambda dx, ans, val: np.imag(dx))

defvjp(
    np.angle,
    lambda g, ans, z, deg=False: np.real(g) * (180 / np.pi if deg else 1.0) * -1j * np.conj(z)
    / nonzero(np.real(z * np.conj(z))) if is_complex(z) else 0 * np.real(g),
    node="AngleBackward0",
    complex=True,
)
defjvp(
    np.angle,
    lambda dz, ans, z, deg=False: np.imag(np.conj(z) * dz) * (180 / np.pi if deg else 1.0)
    / nonzero(np.real(z * np.conj(z))),
)

# real_if_close: the real part where it drops the imaginary one, else the identity
defvjp(np.real_if_close, lambda g, ans, a, tol=100: g if is_complex(ans) else np.real(g),
       node="RealBackward0", complex=True)
defjvp(np.real_if_close, lambda dx, ans, a, tol=100: dx if is_complex(ans) else np.real(dx))



@primitive
def view_as_real(z: np.ndarray) -> np.ndarray:
    """``z``'s memory read as real numbers, with a last axis of 2 (real, imaginary): a view
    of a complex array, which writes go through (Tensor mode's ``view_as_real``); a real
    array gets a new one, with zero imaginary parts."""
    z = np.asarray(z)
    if z.dtype.kind != "c":
        return np.stack([z, np.zeros_like(z)], axis=-1)
    part = z.real
    return np.lib.stride_tricks.as_strided(part, z.shape + (2,),
                                           part.strides + (part.itemsize,))


defvjp(view_as_real,
       lambda g, ans, z: g[..., 0] - 1j * g[..., 1] if is_complex(z) else g[..., 0],
       node="ViewAsRealBackward0", complex=True)
defjvp(view_as_real, lambda dz, ans, z: np.stack([np.real(dz), np.imag(dz)], axis=-1))

# nan_to_num replaces NaN and infinities by constants: the gradient flows where x is finite,
# for a complex x part by part (NumPy replaces the real and imaginary parts separately)
defvjp(
    np.nan_to_num,
    lambda g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None:
    np.real(g) * np.isfinite(np.real(x)) + 1j * (np.imag(g) * np.isfinite(np.imag(x)))
    if is_complex(x) else g * np.isfinite(x),
    node="NanToNumBackward0",
    complex=True,
)
defjvp(
    np.nan_to_num,
    lambda dx, ans, x, copy=True, nan=0.0, posinf=None, neginf=None:
    np.real(dx) * np.isfinite(np.real(x)) + 1j * (np.imag(dx) * np.isfinite(np.imag(x)))
    if is_complex(x) else dx * np.isfinite(x),
)

# unwrap adds piecewise-constant multiples of the period.
defvjp(np.unwrap, lambda g, ans, p, discont=None, axis=-1, *, period=2 * np.pi: g)
defjvp(np.unwrap, lambda dx, ans, p, discont=None, axis=-1, *, period=2 * np.pi: dx)

nondifferentiable(
    np.fix,
    np.isneginf,
    np.isposinf,
    np.isreal,
    np.iscomplex,
    np.isrealobj,
    np.iscomplexobj,
    np.gcd,
    np.lcm,
    np.bitwise_and,
    np.bitwise_or,
    np.bitwise_xor,
    np.invert,
    np.left_shift,
    np.right_shift,
    np.all,
    np.any,
    np.array_equiv,
    np.count_nonzero,
)
for _name in ("bitwise_count", "bitwise_left_shift", "bitwise_right_shift", "bitwise_invert",
              "bitwise_not"):
    _fun = getattr(np, _name, None)
    if _fun is not None and lookup(_fun) is None:
        nondifferentiable(_fun)

# NumPy 2's array-API spellings that are distinct objects share the rules above.
for _spelling, _target in [
    ("acos", np.arccos), ("asin", np.arcsin), ("atan", np.arctan), ("atan2", np.arctan2),
    ("acosh", np.arccosh), ("asinh", np.arcsinh), ("atanh", np.arctanh), ("pow", np.power),
    ("abs", np.absolute), ("conj", np.conjugate), ("true_divide", np.divide),
    ("round_", np.round), ("absolute", np.absolute),
]:
    _fun = getattr(np, _spelling, None)
    if _fun is not None and _fun is not _target and lookup(_fun) is None:
        alias(_fun, _target)

del _name, _fun, _spelling, _target
