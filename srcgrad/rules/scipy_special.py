"""Rules for ``scipy.special``: gamma and error functions, Bessel functions, logsumexp...

Registered when ``scipy.special`` is first used (see :func:`srcgrad.rules.load_optional`).
Most of these functions are ufuncs, which the tape reaches through NumPy's
``__array_ufunc__`` protocol; the others (``logsumexp``, ``softmax``,
``log_softmax``, ``polygamma``) convert their arguments to plain arrays, so only
the source engine differentiates them.  The rules are for real arguments.
Orders of Bessel functions and of ``polygamma`` have no rule: both engines
refuse a differentiated value there instead of reporting a zero derivative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from ..runtime import expand_reduced, unbroadcast
from .registry import defjvp, defvjp, lookup, primitive

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_PI_2 = math.sqrt(math.pi) / 2
_2_SQRT_PI = 2 / math.sqrt(math.pi)


def no_derivative(what: str) -> Any:
    """Raise for an argument srcgrad does not differentiate (instead of a silent zero)."""
    raise NotImplementedError(
        f"{what} is not differentiated by srcgrad; pass it as a constant (an int or a "
        "value that does not depend on the differentiated inputs)"
    )


def _name(fun: Any, name: str, node: str | None = None) -> None:
    """Give the rule of ``fun`` its public name (``scipy.special.gammaln``)."""
    rule = lookup(fun)
    rule.name = name
    if node is not None:
        rule.node = node


def _unary(fun: Any, slope: Any, node: str | None = None, name: str | None = None) -> None:
    """``fun(x)`` with derivative ``slope(ans, x)``."""
    defvjp(fun, lambda g, ans, x: g * slope(ans, x))
    defjvp(fun, lambda dx, ans, x: dx * slope(ans, x))
    _name(fun, f"scipy.special.{name or fun.__name__}", node)


# --- gamma, beta and their logarithms ---------------------------------------------------

_unary(special.gammaln, lambda ans, x: special.psi(x), "LgammaBackward0")
_unary(special.gamma, lambda ans, x: ans * special.psi(x))


@primitive
def polygamma(n: Any, x: Any) -> Any:
    """``scipy.special.polygamma(n, x)`` in ``x``'s precision, one node on the tape.

    SciPy's polygamma is a Python function that the tape cannot see into; the
    derivatives of digamma and polygamma call this one, so that they can be
    differentiated again.
    """
    out = special.polygamma(n, x)
    dtype = getattr(x, "dtype", None)
    return out.astype(dtype) if dtype == np.float32 else out


defvjp(polygamma, None, lambda g, ans, n, x: unbroadcast(g * polygamma(n + 1, x), x),
       node="PolygammaBackward0")
defjvp(polygamma, None, lambda dx, ans, n, x: dx * polygamma(n + 1, x))

_unary(special.digamma, lambda ans, x: polygamma(1, x), "DigammaBackward0", "digamma")

# polygamma(n, x) = (-1)^(n+1) n! zeta(n+1, x): d/dx is polygamma(n+1, x); n is an order
# (no rule for the order n: both engines refuse a differentiated value there)
defvjp(special.polygamma, None, lambda g, ans, n, x: unbroadcast(g * polygamma(n + 1, x), x),
       node="PolygammaBackward0")
defjvp(special.polygamma, None, lambda dx, ans, n, x: dx * polygamma(n + 1, x))
_name(special.polygamma, "scipy.special.polygamma")


def _beta_slope(a: Any, b: Any) -> Any:
    return special.psi(a) - special.psi(a + b)


defvjp(special.betaln,
       lambda g, ans, a, b: unbroadcast(g * _beta_slope(a, b), a),
       lambda g, ans, a, b: unbroadcast(g * _beta_slope(b, a), b))
defjvp(special.betaln,
       lambda da, ans, a, b: da * _beta_slope(a, b),
       lambda db, ans, a, b: db * _beta_slope(b, a))
_name(special.betaln, "scipy.special.betaln")
defvjp(special.beta,
       lambda g, ans, a, b: unbroadcast(g * ans * _beta_slope(a, b), a),
       lambda g, ans, a, b: unbroadcast(g * ans * _beta_slope(b, a), b))
defjvp(special.beta,
       lambda da, ans, a, b: da * ans * _beta_slope(a, b),
       lambda db, ans, a, b: db * ans * _beta_slope(b, a))
_name(special.beta, "scipy.special.beta")

# --- error functions, the normal distribution, the logistic function ----------------------

_unary(special.erf, lambda ans, x: _2_SQRT_PI * np.exp(-x * x), "ErfBackward0")
_unary(special.erfc, lambda ans, x: -_2_SQRT_PI * np.exp(-x * x), "ErfcBackward0")
_unary(special.erfinv, lambda ans, x: _SQRT_PI_2 * np.exp(ans * ans), "ErfinvBackward0")
_unary(special.erfcinv, lambda ans, x: -_SQRT_PI_2 * np.exp(ans * ans))
_unary(special.ndtr, lambda ans, x: np.exp(-0.5 * x * x - _HALF_LOG_2PI),
       "SpecialNdtrBackward0")
# log Phi(x)' = phi(x) / Phi(x), formed in logarithms so that it stays finite for x << 0
_unary(special.log_ndtr, lambda ans, x: np.exp(-0.5 * x * x - _HALF_LOG_2PI - ans),
       "SpecialLogNdtrBackward0")
_unary(special.ndtri, lambda ans, x: np.exp(0.5 * ans * ans + _HALF_LOG_2PI),
       "SpecialNdtriBackward0")
_unary(special.expit, lambda ans, x: ans * (1 - ans), "SigmoidBackward0")
_unary(special.logit, lambda ans, x: 1 / (x * (1 - x)), "LogitBackward0")

# --- modified Bessel functions and Bessel functions of the first and second kind ------

_unary(special.i0, lambda ans, x: special.i1(x), "I0Backward0")
_unary(special.i0e, lambda ans, x: special.i1e(x) - np.sign(x) * ans, "SpecialI0EBackward0")
# I1' = (I0 + I2) / 2, finite at 0 (where I1(x)/x is 0/0)
_unary(special.i1, lambda ans, x: 0.5 * (special.i0(x) + special.iv(2, x)),
       "SpecialI1Backward0")
_unary(special.i1e, lambda ans, x: 0.5 * (special.i0e(x) + special.ive(2, x)) - np.sign(x) * ans,
       "SpecialI1EBackward0")


def _order_rule(fun: Any, slope: Any) -> None:
    """``fun(v, x)``, differentiated in ``x`` only: a differentiated order ``v`` is refused
    by both engines (no rule for it), never given a zero derivative."""
    defvjp(fun, None, lambda g, ans, v, x: unbroadcast(g * slope(ans, v, x), x))
    defjvp(fun, None, lambda dx, ans, v, x: dx * slope(ans, v, x))
    _name(fun, f"scipy.special.{fun.__name__}")


# Z'_v = (Z_{v-1} - Z_{v+1}) / 2 for J and Y; I'_v = (I_{v-1} + I_{v+1}) / 2
_order_rule(special.jv, lambda ans, v, x: 0.5 * (special.jv(v - 1, x) - special.jv(v + 1, x)))
_order_rule(special.yv, lambda ans, v, x: 0.5 * (special.yv(v - 1, x) - special.yv(v + 1, x)))
_order_rule(special.iv, lambda ans, v, x: 0.5 * (special.iv(v - 1, x) + special.iv(v + 1, x)))
_order_rule(special.ive, lambda ans, v, x: 0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x))
            - np.sign(x) * ans)

# --- x log y and relative entropy -------------------------------------------------------


def _ratio(x: Any, y: Any) -> Any:
    """``x / y``, and 0 where ``x`` is 0 (the derivative of ``xlogy`` in ``y`` there)."""
    return np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y))


defvjp(special.xlogy,
       lambda g, ans, x, y: unbroadcast(special.xlogy(g, y), x),
       lambda g, ans, x, y: unbroadcast(g * _ratio(x, y), y),
       node="XlogyBackward0")
defjvp(special.xlogy,
       lambda dx, ans, x, y: special.xlogy(dx, y),
       lambda dy, ans, x, y: dy * _ratio(x, y))
_name(special.xlogy, "scipy.special.xlogy")
defvjp(special.xlog1py,
       lambda g, ans, x, y: unbroadcast(special.xlog1py(g, y), x),
       lambda g, ans, x, y: unbroadcast(g * _ratio(x, 1 + y), y),
       node="SpecialXlog1PyBackward0")
defjvp(special.xlog1py,
       lambda dx, ans, x, y: special.xlog1py(dx, y),
       lambda dy, ans, x, y: dy * _ratio(x, 1 + y))
_name(special.xlog1py, "scipy.special.xlog1py")

# rel_entr(x, y) = x log(x / y);  entr(x) = -x log x
defvjp(special.rel_entr,
       lambda g, ans, x, y: unbroadcast(g * (np.log(x / y) + 1), x),
       lambda g, ans, x, y: unbroadcast(-g * _ratio(x, y), y))
defjvp(special.rel_entr,
       lambda dx, ans, x, y: dx * (np.log(x / y) + 1),
       lambda dy, ans, x, y: -dy * _ratio(x, y))
_name(special.rel_entr, "scipy.special.rel_entr")
_unary(special.entr, lambda ans, x: -(np.log(x) + 1), "SpecialEntrBackward0")

# --- logsumexp, softmax, log_softmax (axis=None: the whole array) -----------------------


def _signed(return_sign: bool) -> None:
    if return_sign:
        no_derivative("scipy.special.logsumexp(..., return_sign=True)")


def lse_weights(ans: Any, a: Any, axis: Any, b: Any, keepdims: bool, return_sign: bool) -> Any:
    """``exp(a - logsumexp)``: each term's share of the sum, over ``a`` and ``b`` broadcast."""
    _signed(return_sign)
    full = a if b is None else np.empty(np.broadcast_shapes(np.shape(a), np.shape(b)))
    return np.exp(a - expand_reduced(ans, full, axis, keepdims))


def lse_cotangent(g: Any, ans: Any, a: Any, axis: Any, b: Any, keepdims: bool,
                  return_sign: bool, which: int) -> Any:
    """The cotangent of ``a`` (``which=0``) or ``b`` (``which=1``) of ``logsumexp``."""
    w = lse_weights(ans, a, axis, b, keepdims, return_sign)
    full = a if b is None else w
    gw = expand_reduced(g, full, axis, keepdims) * w
    if which == 1:
        return unbroadcast(gw, b)
    return unbroadcast(gw if b is None else gw * b, a)


defvjp(special.logsumexp,
       lambda g, ans, a, axis=None, b=None, keepdims=False, return_sign=False:
       lse_cotangent(g, ans, a, axis, b, keepdims, return_sign, 0),
       None,
       lambda g, ans, a, axis=None, b=None, keepdims=False, return_sign=False:
       lse_cotangent(g, ans, a, axis, b, keepdims, return_sign, 1),
       node="LogsumexpBackward0")
defjvp(special.logsumexp,
       lambda da, ans, a, axis=None, b=None, keepdims=False, return_sign=False: np.sum(
           da * lse_weights(ans, a, axis, b, keepdims, return_sign) * (1 if b is None else b),
           axis=axis, keepdims=keepdims),
       None,
       lambda db, ans, a, axis=None, b=None, keepdims=False, return_sign=False: np.sum(
           db * lse_weights(ans, a, axis, b, keepdims, return_sign), axis=axis,
           keepdims=keepdims))
_name(special.logsumexp, "scipy.special.logsumexp")

defvjp(special.softmax,
       lambda g, ans, x, axis=None: ans * (g - np.sum(g * ans, axis=axis, keepdims=True)),
       node="SoftmaxBackward0")
defjvp(special.softmax,
       lambda dx, ans, x, axis=None: ans * (dx - np.sum(dx * ans, axis=axis, keepdims=True)))
_name(special.softmax, "scipy.special.softmax")
defvjp(special.log_softmax,
       lambda g, ans, x, axis=None: g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True),
       node="LogSoftmaxBackward0")
defjvp(special.log_softmax,
       lambda dx, ans, x, axis=None: dx - np.sum(np.exp(ans) * dx, axis=axis, keepdims=True))
_name(special.log_softmax, "scipy.special.log_softmax")
