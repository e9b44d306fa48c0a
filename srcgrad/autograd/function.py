"""Custom differentiable operations: subclass :class:`Function`.

As in PyTorch, ``forward(ctx, *args)`` computes the result (not recorded)
and ``backward(ctx, *grad_outputs)`` returns one gradient per ``forward``
argument; ``ctx`` is the graph node itself, named ``<ClassName>Backward``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..runtime import unbroadcast_to
from . import forward_ad, grad_mode
from .graph import (
    FREED_MESSAGE,
    Node,
    _init_node,
    _modified_message,
    _sequence,
    _user_grads,
    cotangent,
)
from .ops import edge
from .saved import ACTIVE as _SAVED_HOOKS
from .saved import Packed, current_hooks
from .tensor import Tensor

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


class FunctionCtx:
    """What ``forward`` can tell ``backward``: saved tensors and flags."""

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (or None) for ``backward``; read them back as ``saved_tensors``."""
        self.to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Declare inputs that ``forward`` modified in place (and returns)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Declare outputs that carry no gradient (indices, masks...)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Whether ``backward`` receives zeros (True, default) or None for unused outputs."""
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The node of a custom Function call; it is also the ``ctx`` of that call."""

    _function: type
    _once_differentiable = False

    def __init__(self) -> None:
        _init_node(self, ())
        self.to_save = ()
        self.dirty_tensors = ()
        self.non_differentiable = ()
        self.materialize_grads = True
        self.needs_input_grad: tuple = ()
        self._saved: tuple | None = None
        self._freed = False
        self._input_shapes: tuple = ()
        self._tensor_positions: tuple = ()

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, checked for in-place changes."""
        if getattr(self, "_in_jvp", False):   # jvp reads what save_for_forward kept
            return tuple(getattr(self, "saved_for_forward", ()))
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        if self._saved is None:
            return tuple(self.to_save)
        out = []
        for t, version in self._saved:
            if isinstance(t, Packed):  # given to saved-tensor hooks: unpacked on each use
                out.append(t.tensor())
                continue
            if isinstance(t, Tensor) and t._version != version:
                raise RuntimeError(_modified_message(t, version))
            out.append(t)
        return tuple(out)

    saved_variables = saved_tensors

    def apply(self, grad_outputs: tuple, create_graph: bool) -> tuple:
        fn = self._function
        name = type(self).__name__
        grads_in = []
        for g, shape, dtype in zip(grad_outputs, self._output_shapes, self._output_dtypes,
                                   strict=True):
            if g is None and self.materialize_grads:
                g = np.zeros(shape, dtype=dtype)
            if g is not None:
                # backward sees and returns PyTorch's convention (see graph.user_grad)
                g = _user_grads((g,), (dtype,))[0]
                if not isinstance(g, Tensor):
                    g = Tensor._wrap(g)
            grads_in.append(g)
        # (create_graph is also set for a pass on tensors inside a forward-AD level:
        # grad mode, on exactly when the pass creates a graph, decides)
        with grad_mode.set_grad_enabled(create_graph and grad_mode.is_grad_enabled()
                                        and not self._once_differentiable):
            result = fn.backward(self, *grads_in)
        if not isinstance(result, tuple):
            result = (result,)
        n_inputs = len(self.needs_input_grad)
        if len(result) > n_inputs and all(r is None for r in result[n_inputs:]):
            result = result[:n_inputs]
        if len(result) != n_inputs:
            raise RuntimeError(
                f"function {name} returned an incorrect number of gradients "
                f"(expected {n_inputs}, got {len(result)})"
            )
        tensor_positions = set(self._tensor_positions)
        out = []
        for i, g in enumerate(result):
            if i not in tensor_positions:
                if g is not None:
                    raise RuntimeError(
                        f"function {name} returned a gradient different than None at position "
                        f"{i + 1}, but the corresponding forward input was not a Variable"
                    )
                continue
            out.append(cotangent(self._check_grad(name, len(out), g, create_graph)))
        return tuple(out)

    def _output_dtype(self, nr: int) -> Any:
        return self._output_dtypes[nr]

    def _check_grad(self, name: str, index: int, g: Any, create_graph: bool) -> Any:
        if g is None:
            return None
        shape = self._input_shapes[index]
        gshape = np.shape(g._a if isinstance(g, Tensor) else g)
        if gshape != shape:
            try:
                np.broadcast_shapes(gshape, shape)
                compatible = len(gshape) >= len(shape) and np.broadcast_shapes(gshape, shape) \
                    == tuple(gshape)
            except ValueError:
                compatible = False
            if not compatible:
                raise RuntimeError(
                    f"Function {name} returned an invalid gradient at index {index} - got "
                    f"{list(gshape)} but expected shape compatible with {list(shape)}"
                )
            g = unbroadcast_to(g, shape)
        if create_graph:
            return g if isinstance(g, Tensor) else Tensor._wrap(g)
        return g._a if isinstance(g, Tensor) else g

    def _release(self) -> None:
        self._freed = True
        self._saved = None
        self.to_save = ()


class _FunctionMeta(type):
    """Gives every Function subclass its own node class, ``<Name>Backward``."""

    def __init__(cls, name: str, bases: tuple, ns: dict) -> None:
        super().__init__(name, bases, ns)
        cls._backward_cls = type(f"{name}Backward", (BackwardCFunction,),
                                 {"_function": cls, "__module__": cls.__module__})


class Function(metaclass=_FunctionMeta):
    """Base class of user-defined differentiable operations.

    Define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as
    static methods (or ``forward(*args)`` plus ``setup_context(ctx, inputs,
    output)``), then call ``MyFunction.apply(*args)``.
    """

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        return _SETUP_NOT_OVERRIDDEN

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` and, when an input requires grad, link a node for ``backward``."""
        if kwargs:  # as PyTorch: keyword arguments are bound to forward's positions
            args, kwargs = _bind_to_forward(cls, args, kwargs)
        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        if cls.vjp is not Function.vjp and cls.backward is Function.backward:
            cls.backward = cls.vjp  # type: ignore[method-assign]
        dual = forward_ad.OPEN[0] and forward_ad.carries(args, kwargs)
        # forward (and setup_context) see the primals, without tangents, as in PyTorch
        seen = forward_ad.primals(args) if dual else args
        with grad_mode.no_grad(), forward_ad.busy():
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(ctx, *seen, **kwargs)
            else:
                outputs = cls.forward(*seen, **kwargs)
                cls.setup_context(ctx, seen, outputs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        recording = grad_mode.is_grad_enabled() and any(ctx.needs_input_grad)
        if not recording:
            wrapped = tuple(_detached(o) for o in outs)
            if dual:
                forward_ad.function_tangents(cls, ctx, args, wrapped)
            return wrapped[0] if single else wrapped

        tensor_inputs = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.next_functions = tuple(edge(a) for _, a in tensor_inputs)
        ctx._seq = next(_sequence)  # numbered after its inputs' nodes, which edge() may create
        ctx._tensor_positions = tuple(i for i, _ in tensor_inputs)
        ctx._input_shapes = tuple(a._a.shape for _, a in tensor_inputs)
        ctx._saved = tuple((t, t._version if isinstance(t, Tensor) else 0)
                           for t in ctx.to_save)
        non_diff = {id(t) for t in ctx.non_differentiable}
        dirty = {id(t) for t in ctx.dirty_tensors}
        ctx.n_outputs = len(outs)
        ctx._output_shapes = tuple(np.shape(o._a if isinstance(o, Tensor) else o) for o in outs)
        ctx._output_dtypes = tuple(
            (o._a.dtype if isinstance(o, Tensor) else np.result_type(o)) for o in outs
        )
        results = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                results.append(o)
            elif id(o) in non_diff:
                results.append(_detached(o))
            elif id(o) in dirty:
                o._fn, o._output_nr, o._rg = ctx, i, True
                o._bump()
                results.append(o)
            else:
                results.append(Tensor._make(o._a, ctx, i))
        if ctx._saved:
            # A saved output is the tensor handed back to the caller, so that a double
            # backward (create_graph) differentiates through it as PyTorch does.
            returned = {id(o): r for o, r in zip(outs, results, strict=True)
                        if isinstance(r, Tensor) and not any(o is a for a in args)}
            ctx._saved = tuple((returned[id(t)], returned[id(t)]._version) if id(t) in returned
                               else (t, v) for t, v in ctx._saved)
            hooks = current_hooks() if _SAVED_HOOKS[0] else None
            if hooks is not None:
                ctx._saved = tuple((Packed(t, *hooks), None) if isinstance(t, Tensor) else (t, v)
                                   for t, v in ctx._saved)
                ctx.to_save = ()
        if dual:
            forward_ad.function_tangents(cls, ctx, args, tuple(results))
        return results[0] if single else tuple(results)


_SETUP_NOT_OVERRIDDEN = object()


def _bind_to_forward(cls: type, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    import inspect

    params = list(inspect.signature(cls.forward).parameters.values())
    if cls.setup_context is Function.setup_context:
        params = params[1:]  # forward(ctx, ...)
    bound = inspect.Signature(params).bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(bound.args), dict(bound.kwargs)


def _detached(o: Any) -> Any:
    if isinstance(o, Tensor) and (o._rg or o._fn is not None):
        return Tensor._wrap(o._a)
    return o


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a ``backward`` that cannot itself be differentiated (runs without recording)."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grad_outputs: Any) -> Any:
        with grad_mode.no_grad():
            return backward(ctx, *grad_outputs)

    return wrapper
