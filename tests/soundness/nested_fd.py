"""Reference transforms by central differences, accurate enough to be nested.

``reference`` has srcgrad's transform signatures (``grad``, ``value_and_grad``,
``vjp``, ``jvp``, ``jacobian``/``jacfwd``/``jacrev``, ``hessian``, ``hvp``), each
computed from function values with a fourth-order stencil in float64 (step
``STEP``). A nest of them, k derivatives deep, errs by c * STEP**4 + O(STEP**6)
(truncation) plus about 1e-16 * (1.5 / STEP)**k (roundoff): four deep, the
truncation term alone reached 4e-5 for ``sin(x) * sum(x**2)`` at 0.
:func:`extrapolated` cancels it (Richardson: the nest at STEP and at 2 * STEP),
which leaves a few times 1e-8 four deep, so a nest of srcgrad transforms can be checked
against the same nest of these. Pullbacks and Hessian-vector products compute
only the parts that are read.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

STEP = 1e-2
# the fourth-order central stencil of a first derivative: offsets and weights
_OFFSETS = (1, 2)
_WEIGHTS = (2 / 3, -1 / 12)


def _derivative(phi: Any) -> Any:
    """d/dh phi(h) at h = 0 (phi returns an array, or a tuple of them)."""
    total = None
    for k, w in zip(_OFFSETS, _WEIGHTS, strict=True):
        term = _scale(_sub(phi(k * STEP), phi(-k * STEP)), w / STEP)
        total = term if total is None else _add(total, term)
    return total


def _sub(a: Any, b: Any) -> Any:
    if isinstance(a, (tuple, list)):
        return tuple(_sub(p, q) for p, q in zip(a, b, strict=True))
    return np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, tuple):
        return tuple(_add(p, q) for p, q in zip(a, b, strict=True))
    return a + b


def _scale(a: Any, c: float) -> Any:
    if isinstance(a, tuple):
        return tuple(_scale(p, c) for p in a)
    return a * c


def _moved(args: tuple, i: int, x: Any) -> tuple:
    return args[:i] + (x,) + args[i + 1:]


def _shift(x: Any, direction: Any, h: float) -> Any:
    if np.ndim(x) == 0:
        return float(x) + h * float(direction)
    return np.asarray(x, dtype=np.float64) + h * direction


def _along(fun: Any, args: tuple, tangents: tuple) -> Any:
    """The directional derivative of ``fun`` at ``args`` along ``tangents`` (one per arg)."""
    return _derivative(lambda h: fun(*(_shift(a, t, h) for a, t in zip(args, tangents,
                                                                         strict=True))))


def _block(fun: Any, args: tuple, i: int) -> np.ndarray:
    """d fun / d args[i], shaped ``out.shape + args[i].shape``."""
    x = args[i]
    shape = np.shape(x)
    columns = []
    for k in range(int(np.prod(shape, dtype=int))):
        e = np.zeros(shape)
        e.flat[k] = 1.0
        columns.append(_derivative(lambda h, e=e: fun(*_moved(args, i, _shift(x, e, h)))))
    out_shape = np.shape(fun(*args))
    if not columns:
        return np.zeros(out_shape + shape)
    return np.stack([np.asarray(c) for c in columns], axis=-1).reshape(out_shape + shape)


def _per_argnum(argnums: Any, one: Any) -> Any:
    if isinstance(argnums, (tuple, list)):
        return tuple(one(i) for i in argnums)
    return one(argnums)


def grad(fun: Any, argnums: Any = 0) -> Any:
    def gradient(*args: Any) -> Any:
        def one(i: int) -> Any:
            g = _block(lambda *a: np.reshape(np.asarray(fun(*a), dtype=np.float64), ()), args, i)
            return float(g) if np.ndim(args[i]) == 0 else g
        return _per_argnum(argnums, one)
    return gradient


def value_and_grad(fun: Any, argnums: Any = 0) -> Any:
    return lambda *args: (fun(*args), grad(fun, argnums)(*args))


def jacobian(fun: Any, argnums: Any = 0) -> Any:
    return lambda *args: _per_argnum(argnums, lambda i: _block(fun, args, i))


def hessian(fun: Any, argnums: Any = 0) -> Any:
    return jacobian(grad(fun, argnums), argnums)


class _Cotangents:
    """A pullback's result: the cotangent of each primal, computed when it is read."""

    def __init__(self, one: Any, count: int) -> None:
        self._one, self._count = one, count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> Any:
        if not -self._count <= i < self._count:
            raise IndexError(i)
        return self._one(i % self._count)


def vjp(fun: Any, *primals: Any) -> tuple:
    out = fun(*primals)

    def pullback(cotangent: Any) -> _Cotangents:
        def one(i: int) -> Any:
            block = _block(fun, primals, i)
            g = np.tensordot(np.asarray(cotangent, dtype=np.float64), block, axes=np.ndim(out))
            return float(g) if np.ndim(primals[i]) == 0 else g
        return _Cotangents(one, len(primals))

    return out, pullback


def jvp(fun: Any, primals: tuple, tangents: tuple) -> tuple:
    primals, tangents = tuple(primals), tuple(tangents)
    return fun(*primals), _along(fun, primals, tangents)


def hvp(fun: Any, primals: tuple, tangents: tuple) -> Any:
    primals, tangents = tuple(primals), tuple(tangents)
    products = _Cotangents(lambda i: _along(grad(fun, i), primals, tangents), len(primals))
    return products if len(primals) > 1 else products[0]


reference = SimpleNamespace(grad=grad, value_and_grad=value_and_grad, vjp=vjp, jvp=jvp,
                            jacobian=jacobian, jacfwd=jacobian, jacrev=jacobian,
                            hessian=hessian, hvp=hvp)


def extrapolated(evaluate: Callable[[], Any]) -> np.ndarray:
    """``evaluate()``, a nest of ``reference`` transforms, with its ``STEP**4`` error
    cancelled: ``(16 * D(STEP) - D(2 * STEP)) / 15`` (Richardson extrapolation)."""
    global STEP
    step = STEP
    try:
        fine = np.asarray(evaluate(), dtype=np.float64)
        STEP = 2 * step
        coarse = np.asarray(evaluate(), dtype=np.float64)
    finally:
        STEP = step
    return (16 * fine - coarse) / 15
