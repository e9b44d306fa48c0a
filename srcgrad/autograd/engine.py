"""``backward`` and ``grad``: the entry points of reverse mode on the tape."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import forward_ad
from .graph import cotangent, run_backward, user_grad
from .tensor import Size, Tensor, unwrap

__all__ = ["backward", "grad"]

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using autograd.grad "
    "when creating the graph to avoid this. If you have to use this function, make sure to "
    "reset the .grad fields of your parameters to None after use to break the cycle and avoid "
    "the leak."
)
ONLY_INPUTS_WARNING = (
    "only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
    "gradient for other parts of the graph, please use torch.autograd.backward."
)


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


class ComplexSeedError(RuntimeError):
    """A complex output given no gradient: PyTorch creates the implicit one (ones) for
    real outputs only (a complex output's derivative is not one number)."""


def _root_grads(outputs: tuple, grad_outputs: Any, create_graph: bool) -> list:
    grads = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"grad requires one gradient per output: got {len(grads)} gradients for "
            f"{len(outputs)} outputs"
        )
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grads, strict=True)):
        if not isinstance(out, Tensor):
            raise TypeError(f"expected a Tensor as output {i}, got {type(out).__name__}")
        if not out._rg:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out._a.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._a.dtype.kind == "c":
                raise ComplexSeedError("grad can be implicitly created only for real scalar "
                                       f"outputs but got srcgrad.{out._a.dtype}")
            g = _one_like(out._a)
        else:
            gshape = np.shape(unwrap(g))
            if gshape != out._a.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {Size(gshape)!r} and "
                    f"output[{i}] has a shape of {Size(out._a.shape)!r}."
                )
            if not create_graph and not forward_ad.OPEN[0]:   # (a tangent is kept inside a level)
                g = unwrap(g)
            g = cotangent(g)    # (the rules' convention: see graph.user_grad)
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._wrap(np.asarray(g, dtype=out._a.dtype))
        if out._fn is not None:
            roots.append((out._fn, out._output_nr, g))
        else:
            roots.append((out._accumulator(), 0, g))
    return roots


def _user_level() -> int:
    """The ``stacklevel`` of the first caller outside this package (Tensor.backward or
    autograd.backward called by the user)."""
    import sys

    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("srcgrad."):
        frame, level = frame.f_back, level + 1
    return level


def _one_like(a: Any) -> Any:
    """``np.ones_like(a)`` for a one-element ``a``; a 0-d result built directly (faster)."""
    if isinstance(a, np.generic) or (type(a) is np.ndarray and a.ndim == 0):
        return np.array(1, dtype=a.dtype)
    return np.ones_like(a)


def _place(t: Tensor) -> tuple:
    return (t._fn, t._output_nr) if t._fn is not None else (t._accumulator(), 0)


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    ``inputs`` limits accumulation to those tensors.
    """
    outputs = _as_tuple(tensors)
    if create_graph:
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=_user_level())
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outputs, grad_tensors, create_graph)
    if inputs is None:
        run_backward(roots, retain_graph, create_graph)
        return
    targets = _as_tuple(inputs)
    if not targets:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for t in targets:
        if t._fn is not None:
            t.retain_grad()  # as PyTorch: a non-leaf input keeps the gradient it gets
    # The inputs' nodes run (a leaf's AccumulateGrad accumulates, with its hooks) and
    # nothing behind them does.
    run_backward(roots, retain_graph, create_graph, targets={_place(t)[0] for t in targets})


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple | dict:
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    ``inputs`` may be a dict of Tensors: the gradients come back as a dict with its keys.
    ``only_inputs`` is accepted for old code, as PyTorch does (``False`` warns and is
    ignored).
    """
    if not only_inputs:
        warnings.warn(ONLY_INPUTS_WARNING, FutureWarning, stacklevel=2)
    if isinstance(inputs, dict):
        grads = grad(outputs, tuple(inputs.values()), grad_outputs, retain_graph, create_graph,
                     allow_unused=allow_unused, materialize_grads=materialize_grads)
        return dict(zip(inputs, grads, strict=True))
    outs = _as_tuple(outputs)
    ins: Sequence[Tensor] = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    for t in ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad expects Tensors as inputs, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outs, grad_outputs, create_graph)
    captured = run_backward(roots, retain_graph, create_graph,
                            capture={_place(t): None for t in ins})
    result = []
    for i, t in enumerate(ins):
        g = captured.get(_place(t))
        if g is None:
            if materialize_grads:
                result.append(Tensor._wrap(np.zeros_like(t._a)))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(user_grad(g, t._a))
        else:
            result.append(Tensor._wrap(np.asarray(user_grad(g, t._a), dtype=t._a.dtype)))
    return tuple(result)
