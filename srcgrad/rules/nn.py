"""Neural-network primitives and their rules.

These are plain NumPy functions, numerically stable for large inputs, that
``Tensor.sigmoid()``, ``relu()``, ``softmax(dim)`` and ``log_softmax(dim)``
call (``dim`` is passed as ``axis``).  Being primitives, they get one node
on the tape and a short closed-form derivative in generated code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..runtime import expand_reduced
from .registry import defjvp, defvjp

__all__ = ["sigmoid", "relu", "softplus", "softmax", "log_softmax", "logsumexp"]


def sigmoid(x: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-x))``, without overflow for any ``x``."""
    return np.exp(-np.logaddexp(0, -x))


def relu(x: Any) -> Any:
    """``max(x, 0)`` elementwise."""
    return np.maximum(x, 0)


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``, without overflow for any ``x``."""
    return np.logaddexp(0, x)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x), axis))``, shifted by the maximum so that it cannot overflow."""
    # ufunc reductions: the same arithmetic as np.max/np.sum without their Python layer
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    finite = np.isfinite(m)
    if not np.all(finite):      # (a function, not the method: any array library's arrays)
        m = np.where(finite, m, 0)
    total = np.add.reduce(np.exp(x - m), axis=axis, keepdims=True)
    if not np.minimum.reduce(total, axis=None) > 0:  # all -inf there: log(0), no warning
        with np.errstate(divide="ignore"):
            out = np.log(total) + m
    else:
        out = np.log(total) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: Any, axis: Any = -1) -> Any:
    """``exp(x) / sum(exp(x), axis)``, shifted by the maximum so that it cannot overflow."""
    z = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: Any = -1) -> Any:
    """``x - logsumexp(x, axis)``: the logarithm of :func:`softmax`, computed stably."""
    if type(x) is not np.ndarray:   # Tensors (double backward) and others: the general way
        return x - logsumexp(x, axis=axis, keepdims=True)
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    if not math.isfinite(float(np.add.reduce(m, axis=None))):
        return x - logsumexp(x, axis=axis, keepdims=True)  # infinities or NaN: the careful way
    # finite maxima: each sum of exponentials is at least 1 (the maximum's own term), so
    # the shorter computation needs no guard against log(0); fewer NumPy calls matter
    # more than the arithmetic on small arrays
    shifted = x - m
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


defvjp(sigmoid, lambda g, ans, x: g * ans * (1 - ans), node="SigmoidBackward0")
defjvp(sigmoid, lambda dx, ans, x: dx * ans * (1 - ans))

defvjp(relu, lambda g, ans, x: g * (ans > 0), node="ReluBackward0")
defjvp(relu, lambda dx, ans, x: dx * (ans > 0))

# softplus'(x) = sigmoid(x) = exp(x - softplus(x))
defvjp(softplus, lambda g, ans, x: g * np.exp(x - ans), node="SoftplusBackward0")
defjvp(softplus, lambda dx, ans, x: dx * np.exp(x - ans))

# the gradient of logsumexp is softmax: exp(x - logsumexp(x))
defvjp(
    logsumexp,
    lambda g, ans, x, axis=None, keepdims=False: (
        expand_reduced(g, x, axis, keepdims) * np.exp(x - expand_reduced(ans, x, axis, keepdims))
    ),
    node="LogsumexpBackward0",
)
defjvp(
    logsumexp,
    lambda dx, ans, x, axis=None, keepdims=False: np.sum(
        dx * np.exp(x - expand_reduced(ans, x, axis, keepdims)), axis=axis, keepdims=keepdims
    ),
)

# softmax's Jacobian is diag(s) - s s^T
defvjp(
    softmax,
    lambda g, ans, x, axis=-1: ans * (g - np.sum(g * ans, axis=axis, keepdims=True)),
    node="SoftmaxBackward0",
)
defjvp(
    softmax,
    lambda dx, ans, x, axis=-1: ans * (dx - np.sum(dx * ans, axis=axis, keepdims=True)),
)

# log_softmax's Jacobian is I - 1 softmax^T, and softmax = exp(ans)
defvjp(
    log_softmax,
    lambda g, ans, x, axis=-1: g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True),
    node="LogSoftmaxBackward0",
)
defjvp(
    log_softmax,
    lambda dx, ans, x, axis=-1: dx - np.sum(np.exp(ans) * dx, axis=axis, keepdims=True),
)
