"""Central finite differences in float64, for checking gradients."""

from __future__ import annotations

from typing import Any

import numpy as np


def _as_float(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_as_float(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    return value


def _scalar(out: Any) -> float:
    return float(np.asarray(out, dtype=np.float64))


def numerical_grad(f: Any, args: tuple, argnum: int, eps: float = 1e-6,
                   kwargs: dict | None = None) -> Any:
    """d f(*args) / d args[argnum] by central differences (``f`` returns a scalar)."""
    kwargs = kwargs or {}
    args = list(_as_float(a) for a in args)
    x = args[argnum]
    if isinstance(x, (list, tuple)):
        grads = []
        for k in range(len(x)):
            def part(v: Any, k: int = k) -> float:
                items = list(x)
                items[k] = v
                new = list(args)
                new[argnum] = type(x)(items)
                return f(*new, **kwargs)
            grads.append(numerical_grad(part, (x[k],), 0, eps))
        return type(x)(grads)
    if np.isscalar(x) or isinstance(x, (int, float)):
        def at(v: float) -> float:
            new = list(args)
            new[argnum] = v
            return _scalar(f(*new, **kwargs))
        return (at(float(x) + eps) - at(float(x) - eps)) / (2 * eps)
    x = np.array(x, dtype=np.float64, order="C")
    grad = np.zeros(x.shape)
    flat = grad.reshape(-1)
    for i in range(x.size):
        plus, minus = x.copy().reshape(-1), x.copy().reshape(-1)
        plus[i] += eps
        minus[i] -= eps
        new_p, new_m = list(args), list(args)
        new_p[argnum] = plus.reshape(x.shape)
        new_m[argnum] = minus.reshape(x.shape)
        flat[i] = (_scalar(f(*new_p, **kwargs)) - _scalar(f(*new_m, **kwargs))) / (2 * eps)
    return grad


def assert_close(actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), f"expected a sequence, got {actual!r}"
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_close(a, e, rtol, atol)
        return
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
