"""Higher-level derivatives on the tape: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

The signatures follow ``torch.autograd.functional``.  Everything here is
built from :func:`srcgrad.autograd.grad`; forward-mode products use the
double-backward identity (the VJP of a VJP is a JVP).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import grad_mode
from .engine import grad
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x: Any) -> tuple[bool, tuple]:
    if isinstance(x, tuple):
        return True, x
    if isinstance(x, list):
        return True, tuple(x)
    return False, (x,)


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """The inputs as the transform's own Tensors.

    With ``create_graph`` an input that requires grad gets a recorded copy, a node
    of its own in the caller's graph: the result can then be differentiated with
    respect to the caller's tensors, and derivatives taken here, at the copy, never
    confuse them with the caller's (as PyTorch does). Otherwise a detached copy.
    """
    prepared = []
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"The inputs given to the function must be Tensors; input {i} is "
                            f"{type(x).__name__}")
        if create_graph and x._rg:
            with grad_mode.enable_grad():
                prepared.append(x.clone())
            continue
        t = x.detach()
        t._a = np.array(t._a, copy=True)
        t._vc = None
        t.requires_grad_(True)
        prepared.append(t)
    return tuple(prepared)


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple | None, create_graph: bool,
           strict: bool) -> tuple:
    live = [(o, g) for o, g in zip(outputs, grad_outputs or (None,) * len(outputs), strict=True)
            if o._rg]
    if not live:
        if strict:
            raise RuntimeError("The output of the user-provided function does not require grad")
        return tuple(Tensor._wrap(np.zeros_like(x._a)) for x in inputs)
    got = grad([o for o, _ in live], inputs, [g for _, g in live], retain_graph=True,
               create_graph=create_graph, allow_unused=True)
    result = []
    for i, (x, g) in enumerate(zip(inputs, got, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode.")
            g = Tensor._wrap(np.zeros_like(x._a))
        result.append(g if create_graph else g.detach())
    return tuple(result)


def _detach(outputs: tuple, create_graph: bool) -> tuple:
    return outputs if create_graph else tuple(o.detach() for o in outputs)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), v^T J)``."""
    is_tuple, xs = _as_tuple(inputs)
    xs = _prepare(xs, create_graph)
    with grad_mode.enable_grad():
        out_is_tuple, outs = _as_tuple(func(*xs))
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            vs = None
        else:
            vs = _as_tuple(v)[1]
        g = _grads(outs, xs, vs, create_graph, strict)
    out = outs if out_is_tuple else outs[0]
    return (_fix(out, create_graph, out_is_tuple), g if is_tuple else g[0])


def _fix(out: Any, create_graph: bool, is_tuple: bool) -> Any:
    if is_tuple:
        return _detach(out, create_graph)
    return out if create_graph else out.detach()


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), J v)`` computed with two reverse passes."""
    is_tuple, xs = _as_tuple(inputs)
    xs = _prepare(xs, create_graph)
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = (Tensor._wrap(np.ones_like(xs[0]._a)),)
    else:
        vs = _as_tuple(v)[1]
    with grad_mode.enable_grad():
        out_is_tuple, outs = _as_tuple(func(*xs))
        dummies = tuple(Tensor._wrap(np.zeros_like(o._a)).requires_grad_(True) for o in outs)
        gx = _grads(outs, xs, dummies, True, strict)
        live = [(g, vi) for g, vi in zip(gx, vs, strict=True) if g._rg]
        if live:
            tangents = grad([g for g, _ in live], dummies, [vi for _, vi in live],
                            create_graph=create_graph, allow_unused=True)
            tangents = tuple(Tensor._wrap(np.zeros_like(o._a)) if t is None else
                             (t if create_graph else t.detach()) for t, o in
                             zip(tangents, outs, strict=True))
        else:
            tangents = tuple(Tensor._wrap(np.zeros_like(o._a)) for o in outs)
    out = outs if out_is_tuple else outs[0]
    return (_fix(out, create_graph, out_is_tuple), tangents if out_is_tuple else tangents[0])


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape``.

    A tuple of inputs or outputs gives nested tuples, as in PyTorch.
    """
    is_tuple, xs = _as_tuple(inputs)
    xs = _prepare(xs, create_graph)
    with grad_mode.enable_grad():
        out_is_tuple, outs = _as_tuple(func(*xs))
        per_output = []
        for o in outs:
            rows: list[list[Any]] = [[] for _ in xs]
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                gs = _grads((flat[k],), xs, None, create_graph, strict)
                for j, g in enumerate(gs):
                    rows[j].append(g)
            blocks = []
            for j, x in enumerate(xs):
                if rows[j]:
                    from .namespace import stack

                    block = stack(rows[j]).reshape(tuple(o.shape) + tuple(x.shape))
                else:
                    block = Tensor._wrap(np.zeros(tuple(o.shape) + tuple(x.shape), x._a.dtype))
                blocks.append(block if create_graph else block.detach())
            per_output.append(tuple(blocks) if is_tuple else blocks[0])
    return tuple(per_output) if out_is_tuple else per_output[0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of scalar ``func`` at ``inputs``: shape ``input.shape + input.shape``."""
    is_tuple, xs = _as_tuple(inputs)

    def gradient(*args: Any) -> Any:
        out = func(*args)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element")
        gs = grad(out.reshape(()), args, create_graph=True, allow_unused=True) if out._rg \
            else (None,) * len(args)        # (a function independent of its inputs)
        gs = tuple(Tensor._wrap(np.zeros_like(a._a)) if g is None else g
                   for g, a in zip(gs, args, strict=True))
        return gs if is_tuple else gs[0]

    return jacobian(gradient, xs if is_tuple else xs[0], create_graph=create_graph, strict=strict)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), H v)`` for scalar ``func``."""
    is_tuple, xs = _as_tuple(inputs)
    xs = _prepare(xs, create_graph)
    vs = _as_tuple(v)[1]
    with grad_mode.enable_grad():
        out = func(*xs)
        gs = _grads((out,), xs, None, True, strict)
        # <g, v> in the real inner product: Re(conj(g) v) for complex inputs, whose
        # gradient is the conjugate of the Hessian's product (PyTorch's convention)
        dot = sum((((g.conj() * vi).real if g.is_complex() else g * vi).sum()
                   for g, vi in zip(gs, vs, strict=True)), Tensor._wrap(
            np.zeros((), out._a.dtype)))
        h = _grads((dot,), xs, None, create_graph, strict)
    return (out if create_graph else out.detach(), h if is_tuple else h[0])


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), v^T H)``; equal to :func:`hvp` since Hessians are symmetric."""
    return hvp(func, inputs, v, create_graph, strict)
