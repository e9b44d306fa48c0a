"""Numerical checks of the tape's gradients (float64 central differences)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import grad_mode
from .engine import grad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree."""


def _tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _numerical_jacobian(fn: Callable[..., Any], inputs: tuple, j: int, eps: float) -> list:
    x = inputs[j]
    flat = x._as_array().reshape(-1)
    columns = []
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        with grad_mode.no_grad():
            plus = [np.array(o._a, dtype=np.float64) for o in _tuple(fn(*inputs))]
        flat[k] = orig - eps
        with grad_mode.no_grad():
            minus = [np.array(o._a, dtype=np.float64) for o in _tuple(fn(*inputs))]
        flat[k] = orig
        columns.append([(p - m).reshape(-1) / (2 * eps) for p, m in zip(plus, minus, strict=True)])
    # result[o] has shape (numel(out_o), numel(x))
    return [np.stack([c[o] for c in columns], axis=1) if columns else None
            for o in range(len(columns[0]) if columns else 0)]


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, check_forward_ad: bool = False,
              check_backward_ad: bool = True, **_ignored: Any) -> bool:
    """Compare the tape's gradients of ``func`` with central differences.

    Inputs that require grad should be float64, as in PyTorch.  Returns True,
    or raises :class:`GradcheckError` (returns False with
    ``raise_exception=False``) naming the output, input and worst element.
    ``check_forward_ad=True`` also checks forward mode (dual tensors, one
    column of the Jacobian per input element); ``check_backward_ad=False``
    skips reverse mode.
    """
    inputs = _tuple(inputs)
    diff = [j for j, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    with grad_mode.enable_grad():
        outputs = _tuple(func(*inputs))
    for j in diff:
        numerical = _numerical_jacobian(func, inputs, j, eps)
        if check_forward_ad:
            forward = _forward_jacobian(func, inputs, j, outputs)
            for o, jac in enumerate(forward):
                if jac is not None and not np.allclose(jac, numerical[o], rtol=rtol, atol=atol):
                    msg = (f"Jacobian computed with forward mode mismatch for output {o} with "
                           f"respect to input {j},\nnumerical:{numerical[o]}\n"
                           f"analytical:{jac}\n")
                    if raise_exception:
                        raise GradcheckError(msg)
                    return False
        if not check_backward_ad:
            continue
        for o, out in enumerate(outputs):
            if not isinstance(out, Tensor) or out.dtype.is_floating_point is False:
                continue
            analytical = np.zeros((out.numel(), inputs[j].numel()))
            if out._rg:
                for r in range(out.numel()):
                    v = np.zeros(out.numel(), dtype=out._a.dtype)
                    v[r] = 1
                    with grad_mode.enable_grad():
                        fresh = _tuple(func(*inputs))[o]
                        (g,) = grad(fresh, inputs[j], Tensor._wrap(v.reshape(out._a.shape)),
                                    allow_unused=True)
                    if g is not None:
                        analytical[r] = np.asarray(g._a, dtype=np.float64).reshape(-1)
            if not np.allclose(analytical, numerical[o], rtol=rtol, atol=atol):
                worst = np.unravel_index(np.argmax(np.abs(analytical - numerical[o])),
                                         analytical.shape)
                msg = (f"Jacobian mismatch for output {o} with respect to input {j},\n"
                       f"numerical:{numerical[o]}\nanalytical:{analytical}\n"
                       f"worst element {tuple(int(i) for i in worst)}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def _forward_jacobian(fn: Callable[..., Any], inputs: tuple, j: int, outputs: tuple) -> list:
    """The Jacobian of each output with respect to ``inputs[j]``, a column per element
    of it, from forward mode (``None`` for outputs that are not floating point)."""
    from . import forward_ad

    x = inputs[j]
    columns = []
    for k in range(x.numel()):
        e = np.zeros(x._a.size, dtype=x._a.dtype)
        e[k] = 1
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(x.detach(), Tensor._wrap(e.reshape(x._a.shape)))
            outs = _tuple(fn(*inputs[:j], dual, *inputs[j + 1:]))
            col = []
            for out in outs:
                t = forward_ad.unpack_dual(out).tangent if isinstance(out, Tensor) else None
                col.append(np.zeros(np.size(out._a)) if t is None and isinstance(out, Tensor)
                           else None if t is None
                           else np.asarray(t._a, dtype=np.float64).reshape(-1))
            columns.append(col)
    return [np.stack([c[o] for c in columns], axis=1)
            if isinstance(outputs[o], Tensor) and outputs[o]._a.dtype.kind in "fc" else None
            for o in range(len(outputs))]


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, **_ignored: Any) -> bool:
    """Check second derivatives: gradcheck of the (create_graph) gradient of ``func``."""
    inputs = _tuple(inputs)
    with grad_mode.enable_grad():
        outputs = _tuple(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._wrap(rng.standard_normal(o._a.shape).astype(o._a.dtype)).requires_grad_(True)
            for o in outputs)
    grad_outputs = _tuple(grad_outputs)
    n = len(inputs)
    diff = [j for j, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*args: Any) -> tuple:
        xs, gos = args[:n], args[n:]
        # the numerical pass runs this under no_grad: the inner gradient still needs a graph
        with grad_mode.enable_grad():
            outs = _tuple(func(*xs))
            live = [(o, g) for o, g in zip(outs, gos, strict=True) if o._rg]
            gs = grad([o for o, _ in live], [xs[j] for j in diff], [g for _, g in live],
                      create_graph=True, allow_unused=True)
        return tuple(Tensor._wrap(np.zeros_like(xs[j]._a)) if g is None else g
                     for g, j in zip(gs, diff, strict=True))

    return gradcheck(first_derivative, (*inputs, *grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
