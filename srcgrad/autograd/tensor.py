"""The Tensor: a NumPy array that records what is done to it.

Operations go through the rule registry (:mod:`srcgrad.autograd.ops`), so
the tape knows exactly the derivatives the source engine knows.  NumPy
functions called on Tensors arrive here through ``__array_ufunc__`` and
``__array_function__``.
"""

from __future__ import annotations

import operator
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import rules as _rules  # noqa: F401  (registers the built-in rules)
from ..fast_numpy import mean_of_floats
from ..mutation import output_arguments
from ..rules import nn as _nn
from ..rules.registry import get_rule, lookup
from ..runtime import is_complex
from . import dtypes, forward_ad, grad_mode, graph, ops, saved
from .graph import AccumulateGrad, RemovableHandle, user_grad
from .ops import record

__all__ = ["Tensor", "Size", "VersionCounter", "unwrap"]

_grad_state = grad_mode._state
_DUAL = forward_ad.OPEN

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information."
)
LEAF_INPLACE_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_INPLACE_ERROR = (
    "an in-place operation on this view is not supported while recording: it shares its "
    "base's memory but was not made by indexing the base directly (it is a reshaped, "
    "transposed or twice-indexed view), so the base's gradient would be wrong. Index the base "
    "directly (y[0, 1] = v instead of y[0][1] = v), use an out-of-place operation "
    "(v = v * 2), or .clone() the view first."
)

STALE_VIEW_ERROR = (
    "a view made before its base was changed in place is part of the gradient: the view "
    "(reshaped, transposed or twice indexed) shows the changed values, but the tape cannot "
    "follow the change into it. Take the view again after the change (v = y.T), or "
    ".clone() it before changing the base."
)


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``srcgrad.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"srcgrad.Size({list(self)})"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for d in self:
            n *= d
        return n


class VersionCounter:
    """Counts in-place changes; shared by a tensor and its views (``views``: weak
    references to the views, so an in-place change of the base can reach them)."""

    __slots__ = ("value", "views")

    def __init__(self) -> None:
        self.value = 0
        self.views: list | None = None


class StaleViewBackward(graph.Node):
    """The node of a view whose base changed in place in a way the tape cannot replay
    into the view: using the view's gradient is an error (its value is right)."""

    __slots__ = ()
    _refuses = True

    def __init__(self) -> None:
        graph._init_node(self, ())

    def apply(self, grad_outputs: tuple, create_graph: bool) -> tuple:
        raise RuntimeError(STALE_VIEW_ERROR)


def unwrap(x: Any) -> Any:
    """The NumPy value inside a Tensor (anything else is returned unchanged)."""
    return x._a if isinstance(x, Tensor) else x


def _dim_kwargs(dim: Any, keepdim: bool) -> dict:
    kw: dict[str, Any] = {}
    if dim is not None:
        kw["axis"] = tuple(dim) if isinstance(dim, list) else dim
    if keepdim:
        kw["keepdims"] = True
    return kw


class Tensor:
    """A multi-dimensional array with automatic differentiation (PyTorch's ``Tensor``)."""

    __slots__ = ("_a", "_rg", "_fn", "_output_nr", "_grad", "_vc", "_base", "_view_index",
                 "_hooks",
                 "_post_accumulate_hooks", "_retains_grad", "_acc", "_fw", "__weakref__")
    __array_priority__ = 1000

    # -- construction ---------------------------------------------------------------

    def __init__(self, *data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        """``Tensor(2, 3)``: zeros of that shape; ``Tensor([[0]])`` or ``Tensor(array)``:
        the data, both in the default float dtype as in PyTorch (``dtype=`` chooses)."""
        self._init(_legacy_array(data, dtypes.to_numpy_dtype(dtype)), None, 0, False)
        if requires_grad:
            self.requires_grad = True

    def _init(self, array: Any, fn: Any, output_nr: int, rg: bool) -> None:
        self._a = array
        self._fn = fn
        self._output_nr = output_nr
        self._rg = rg
        self._grad = None
        self._vc = None
        self._base = None  # the tensor this one is a view of, if any
        self._view_index = None  # ... and the index that made it, when it is base[index]
        self._hooks = None
        self._post_accumulate_hooks = None
        self._retains_grad = False
        self._acc = None
        self._fw = None  # the tangent at the open forward-AD level (see forward_ad.py)

    @classmethod
    def _wrap(cls, array: Any) -> Tensor:
        """A Tensor around ``array`` that does not require grad (no copy)."""
        t = cls.__new__(cls)
        t._init(array, None, 0, False)
        return t

    @classmethod
    def _make(cls, array: Any, fn: Any, output_nr: int) -> Tensor:
        """The ``output_nr``-th output of node ``fn``."""
        t = cls.__new__(cls)
        t._init(array, fn, output_nr, True)
        return t

    @classmethod
    def _output_view(cls, array: Any, node: Any) -> Any:
        """A node's saved output(s) as Tensors attached to the node (double backward)."""
        if node.n_outputs == 1:
            out = cls._make(array, node, 0)
        else:
            # (integer outputs and np.histogramdd's list of bin edges are constants: they
            # stay as saved, as they are not outputs of the node; see
            # ops.differentiable_output)
            constant = getattr(getattr(node, "_rule", None), "constant_outputs", ())
            out = tuple(cls._make(a, node, i) if ops.differentiable_output(a)
                        and i not in constant else a for i, a in enumerate(array))
        if _DUAL[0]:   # inside a forward-AD level the saved outputs keep their tangents
            forward_ad.output_tangents(node, out)
        return out

    # -- autograd attributes ----------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        """Whether gradients are computed for this tensor."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._fn is not None:
            message = "you can only change requires_grad flags of leaf variables."
            if not value:  # PyTorch adds the hint only when turning it off
                message += (" If you want to use a computed variable in a subgraph that doesn't "
                            "require differentiation use var_no_grad = var.detach().")
            raise RuntimeError(message)
        if value and self._a.dtype.kind not in "fc":
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self._rg = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        if requires_grad and self._a.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and self._fn is not None:
            return self  # a non-leaf already requires grad (PyTorch allows this no-op)
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> Any:
        """The node that created this tensor (``None`` for leaves)."""
        return self._fn

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user or that do not require grad."""
        return self._fn is None

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (leaves, or non-leaves after ``retain_grad()``)."""
        if self._fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {value!r}")
            if value.shape != self.shape:
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """True when this non-leaf keeps its ``.grad`` (see :meth:`retain_grad`)."""
        return bool(self._retains_grad)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._fn is None or self._retains_grad:
            return
        ref = weakref.ref(self)

        def keep(grad: Tensor) -> None:
            me = ref()
            if me is None:
                return
            if me._grad is None:
                me._grad = Tensor._wrap(np.array(grad._a, copy=True)) if not grad._rg else grad
            else:
                me._grad = Tensor._wrap(me._grad._a + grad._a)

        keep._retains_grad = True  # type: ignore[attr-defined]
        # the handle (truthy) lets an in-place operation move the hook to the new version
        self._retains_grad = self._fn._add_tensor_pre_hook(self._output_nr, keep,
                                                           self._dtype_marker())

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._fn is not None:
            return self._fn._add_tensor_pre_hook(self._output_nr, hook, self._dtype_marker())
        if self._hooks is None:
            self._hooks = []
            acc = self._acc() if self._acc is not None else None
            if acc is not None:  # its node must now take the engine's hook-running path
                acc._plain = False
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def _dtype_marker(self) -> Any:
        """A number as complex as this tensor: tells hooks which gradient convention applies."""
        return 1j if self._a.dtype.kind == "c" else 0.0

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Call ``hook(tensor)`` after a gradient has been accumulated into this leaf."""
        if self._fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_hooks, hook)

    def _accumulator(self) -> AccumulateGrad:
        ref = self._acc
        if ref is not None:
            acc = ref()
            if acc is not None:
                return acc
        acc = AccumulateGrad(self)
        self._acc = weakref.ref(acc)
        return acc

    def _accumulate(self, g: Any, create_graph: bool = False) -> None:
        if is_complex(g):   # (PyTorch's convention: see graph.user_grad)
            g = user_grad(g, self._a)
        grad = self._grad
        if grad is not None and not create_graph and not grad._rg and type(g) is np.ndarray:
            buf = grad._a  # the common case: add into the existing .grad in place
            if type(buf) is np.ndarray and buf.flags.writeable and buf.shape == g.shape:
                np.add(buf, g, out=buf, casting="unsafe")
                grad._bump()
                return
        if isinstance(g, Tensor) and not create_graph:
            g = g._a
        if self._grad is None:
            if create_graph:
                self._grad = g if isinstance(g, Tensor) else Tensor._wrap(g)
            else:
                self._grad = Tensor._wrap(np.array(g, dtype=self._a.dtype, copy=True))
        elif create_graph or self._grad._rg:
            gt = g if isinstance(g, Tensor) else Tensor._wrap(g)
            self._grad = self._grad + gt
        else:
            buf = self._grad._a
            if type(buf) is np.ndarray and buf.flags.writeable:
                np.add(buf, g, out=buf, casting="unsafe")
            else:
                self._grad._a = buf + g
            self._grad._bump()

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Compute the gradient of this tensor with respect to the graph's leaves."""
        from .engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph."""
        t = Tensor._wrap(self._as_array())
        t._vc = self._version_counter()
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place."""
        self._fn = None
        self._rg = False
        return self

    @property
    def data(self) -> Tensor:
        """The tensor's data as a tensor that does not require grad (shares memory)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._a = unwrap(value)

    # -- versions and in-place operations ----------------------------------------------

    @property
    def _version(self) -> int:
        return self._vc.value if self._vc is not None else 0

    def _version_counter(self) -> VersionCounter:
        if self._vc is None:
            self._vc = VersionCounter()
        return self._vc

    def _bump(self) -> None:
        vc = self._vc  # _version_counter() inlined: every in-place change calls this
        if vc is None:
            vc = self._vc = VersionCounter()
        vc.value += 1

    def _as_array(self) -> np.ndarray:
        """The data as an ndarray (NumPy scalars are promoted once, in place)."""
        a = self._a
        if type(a) is not np.ndarray:
            a = self._a = np.array(a)
        return a

    def _inplace(self, fun: Any, *args: Any, forward: Any = None, name: str | None = None,
                 **kwargs: Any) -> Tensor:
        """Apply ``fun(self, *args)`` in place: on the data, and on the graph if recording."""
        recording = _grad_state.enabled and (
            self._rg or any(isinstance(a, Tensor) and a._rg for a in args)
        )
        if recording and self._fn is None and self._rg:
            if name == "CopySlices":  # ``x[i] = v`` writes through a view of the leaf
                raise RuntimeError("a view of " + LEAF_INPLACE_ERROR)
            raise RuntimeError(LEAF_INPLACE_ERROR)
        dual = _DUAL[0] and forward_ad.carries((self, *args), kwargs)
        if (recording or dual) and self._base is not None:
            if self._view_index is not None or recording:
                return self._inplace_on_view(fun, args, kwargs, forward, name)
            forward_ad.check_view_update(self)
        target = self._as_array()
        if dual and not recording:
            return self._inplace_dual(fun, args, kwargs, forward, name)
        if not recording:
            raw = [a._a if isinstance(a, Tensor) else a for a in args]
            if forward is None and not kwargs and isinstance(fun, np.ufunc):
                fun(target, *raw, out=target, casting="same_kind")  # truly in place
            else:
                target[...] = (forward or fun)(target, *raw, **kwargs)
            self._bump()
            return self
        # Record on a snapshot of the old value, then rebase this tensor onto the new node.
        old = Tensor._make(target.copy(), self._fn, self._output_nr)
        old._rg = self._rg
        if self._rg and self._fn is None:  # pragma: no cover - refused above
            old._acc = self._acc
        if dual and self._fw is not None:
            forward_ad.set_tangent(old, self._fw)
        out = record(get_rule(fun), (old, *args), kwargs, forward=forward, name=name)
        _check_in_place_cast(out._a.dtype, target.dtype)
        target[...] = out._a
        self._fn = out._fn
        self._output_nr = out._output_nr
        self._rg = out._rg
        self._bump()
        if dual:
            forward_ad.take_tangent(self, out)
        if self._vc.views:
            self._follow_into_views()
        if self._retains_grad:  # .grad is the gradient of the current version, as in PyTorch
            self._retains_grad.remove()
            self._retains_grad = False
            self.retain_grad()
        return self

    def _follow_into_views(self) -> None:
        """After an in-place change of this base: its views (which show the new values)
        get nodes reading the new version, ``base[index]`` again for a view made by
        indexing; any other view gets a node that refuses to give a wrong gradient."""
        vc = self._vc
        alive = []
        for ref in list(vc.views):
            view = ref()
            if view is None:
                continue
            alive.append(ref)
            if view is self or view._base is not self:
                continue
            if view._view_index is not None:
                fresh = self[view._view_index]
                view._fn, view._output_nr, view._rg = fresh._fn, fresh._output_nr, fresh._rg
            else:
                view._fn, view._output_nr, view._rg = StaleViewBackward(), 0, True
            if _DUAL[0]:
                forward_ad.follow_view(self, view)
        vc.views = [ref for ref in vc.views if ref() is not None]

    def _inplace_dual(self, fun: Any, args: tuple, kwargs: dict, forward: Any,
                      name: str | None) -> Tensor:
        """An in-place change carrying a tangent, with nothing to record: the data and
        the tangent change in place (the tangent's views, a view's base, see it)."""
        target = self._as_array()
        old = Tensor._wrap(target.copy())
        if self._fw is not None:
            forward_ad.set_tangent(old, self._fw)
        out = record(get_rule(fun), (old, *args), kwargs, forward=forward, name=name)
        _check_in_place_cast(out._a.dtype, target.dtype)
        target[...] = out._a
        self._bump()
        if not forward_ad.take_tangent(self, out) and self._base is not None:
            forward_ad.check_view_update(self)    # its base's tangent would not follow
        if self._base is None and self._vc.views:
            for ref in list(self._vc.views):
                view = ref()
                if view is not None and view is not self and view._base is self:
                    forward_ad.follow_view(self, view)
        return self

    def _inplace_on_view(self, fun: Any, args: tuple, kwargs: dict, forward: Any,
                         name: str | None) -> Tensor:
        """An in-place change of ``base[index]``: recorded on the base, as PyTorch does.

        The view's new value is computed out of place, written into the base with
        index assignment (``CopySlices`` on the base), and the view becomes a fresh
        view of the updated base.  Views made otherwise than by indexing a base
        directly are refused: their base's gradient would be wrong.
        """
        base, index = self._base, self._view_index
        if base._fn is None and base._rg and _grad_state.enabled:
            raise RuntimeError("a view of " + LEAF_INPLACE_ERROR)
        if index is None:
            raise RuntimeError(VIEW_INPLACE_ERROR)
        old = Tensor._make(self._as_array().copy(), self._fn, self._output_nr)
        old._rg = self._rg
        if _DUAL[0] and self._fw is not None:
            forward_ad.set_tangent(old, self._fw)
        new = record(get_rule(fun), (old, *args), kwargs, forward=forward, name=name)
        recording = new._fn is not None
        base[index] = new
        fresh = base[index]
        if recording:
            self._fn, self._output_nr, self._rg = fresh._fn, fresh._output_nr, fresh._rg
        if _DUAL[0]:
            forward_ad.set_tangent(self, fresh._fw)
        return self

    def zero_(self) -> Tensor:
        """Fill with zeros, in place."""
        return self._fill(0, "ZeroBackward0")

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value``, in place."""
        return self._fill(value, "FillBackward2")

    def _fill(self, value: Any, name: str) -> Tensor:
        if (_grad_state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))) \
                or (_DUAL[0] and forward_ad.carries((self, value), None)):
            # as in PyTorch the result stays in the graph, with a zero gradient upstream
            from ..rules.shape import setitem

            return self._inplace(setitem, Ellipsis, value, name=name)
        target = self._as_array()
        if type(value) in (int, float):
            target.fill(value)  # the same cast as target[...] = value, without indexing
        else:
            target[...] = unwrap(value)
        self._bump()
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` into this tensor, in place (gradient flows to ``src``)."""
        from ..rules.shape import setitem

        return self._inplace(setitem, Ellipsis, src, name="CopyBackwards")

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self._inplace(np.add, other if alpha == 1 else other * alpha, name="AddBackward0")

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self._inplace(np.subtract, other if alpha == 1 else other * alpha,
                             name="SubBackward0")

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(np.multiply, other, name="MulBackward0")

    multiply_ = mul_

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
        """Add ``alpha * source``'s slices at ``index`` along ``dim``, in place (repeated
        indices add up)."""
        from ..rules.selection import index_add

        _check_dim(dim, self._a.ndim)
        return self._inplace(index_add, dim, np.asarray(unwrap(index)), source, alpha=alpha)

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        from ..rules.selection import index_add

        _check_dim(dim, self._a.ndim)
        return record(get_rule(index_add), (self, dim, np.asarray(unwrap(index)), source),
                      {"alpha": alpha})

    def uniform_(self, from_: float = 0.0, to: float = 1.0, **kwargs: Any) -> Tensor:
        """Fill with uniform random values in ``[from, to)``, in place (no gradient flows
        to the old values)."""
        from .factories import _rng

        low = kwargs.pop("from", from_)
        values = _rng[0].uniform(low, to, self._a.shape).astype(self._a.dtype)
        return self._fill(values, "UniformBackward0")

    def div_(self, other: Any) -> Tensor:
        return self._inplace(np.divide, other, name="DivBackward0")

    def pow_(self, other: Any) -> Tensor:
        return self._inplace(np.power, other)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return self._inplace(np.clip, min, max, name="ClampBackward1")

    def neg_(self) -> Tensor:
        return self._inplace(np.negative)

    def exp_(self) -> Tensor:
        return self._inplace(np.exp)

    def log_(self) -> Tensor:
        return self._inplace(np.log)

    def sqrt_(self) -> Tensor:
        return self._inplace(np.sqrt)

    def abs_(self) -> Tensor:
        return self._inplace(np.abs)

    def tanh_(self) -> Tensor:
        return self._inplace(np.tanh)

    def sin_(self) -> Tensor:
        return self._inplace(np.sin)

    def cos_(self) -> Tensor:
        return self._inplace(np.cos)

    def relu_(self) -> Tensor:
        from ..rules.nn import relu

        return self._inplace(relu)

    def sigmoid_(self) -> Tensor:
        from ..rules.nn import sigmoid

        return self._inplace(sigmoid)

    def __iadd__(self, other: Any) -> Tensor:
        if self._unrecorded_update(np.add, other):
            return self
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        if self._unrecorded_update(np.subtract, other):
            return self
        return self.sub_(other)

    def _unrecorded_update(self, ufunc: Any, other: Any) -> bool:
        """``self op= other`` straight into the array when nothing is recorded (an
        optimizer's step under ``no_grad``); False when the general path must run."""
        target = self._a
        if _grad_state.enabled or type(other) is not Tensor or type(target) is not np.ndarray \
                or self._fw is not None or other._fw is not None:
            return False
        ufunc(target, other._a, out=target, casting="same_kind")
        self._bump()
        return True

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __ipow__(self, other: Any) -> Tensor:
        return self.pow_(other)

    def __setitem__(self, index: Any, value: Any) -> None:
        from ..rules.shape import setitem

        self._inplace(setitem, _index(index), value, name="CopySlices")

    # -- conversion and inspection -----------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self._a.shape)

    @property
    def size(self) -> _CallableSize:
        """``t.size()`` is the shape (PyTorch), ``t.size`` the element count (NumPy)."""
        return _CallableSize(self._a.size, self._a.shape)

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.as_dtype(self._a.dtype)

    @property
    def ndim(self) -> int:
        return self._a.ndim

    def dim(self) -> int:
        """The number of dimensions."""
        return self._a.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements."""
        return int(self._a.size)

    nelement = numel

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._a.dtype.kind == "f"

    def element_size(self) -> int:
        return self._a.dtype.itemsize

    def data_ptr(self) -> int:
        """The address of the first element (tensors sharing memory may compare them)."""
        return int(self._as_array().__array_interface__["data"][0])

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        _refuse_scalar_escape(self, ".item()")
        if self._a.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._a.size} elements cannot be converted to Scalar"
            )
        return self._a.item() if self._a.ndim == 0 else self._a.reshape(()).item()

    def tolist(self) -> Any:
        """The data as (nested) Python lists of numbers."""
        return self._a.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array sharing memory; refused, as in PyTorch, for a tensor
        that requires grad while grad mode is on (allowed under ``no_grad`` and in a
        custom Function's ``forward``)."""
        if self._rg and not force and _grad_state.enabled:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._as_array()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._rg and grad_mode._state.numpy_code:
            raise RuntimeError(
                "a value that needs a gradient is being turned into a plain NumPy array (for "
                "example stored into an array made with np.zeros), which would drop its "
                "gradient on srcgrad's tape. Build the result with np.stack/np.concatenate "
                "or index assignment on an array derived from the inputs, or differentiate "
                "with engine='source'."
            )
        if self._rg and _grad_state.enabled:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        a = self._as_array()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._a.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._a.shape[0]))

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self._a.size > 1 else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(self._a)

    def __float__(self) -> float:
        _refuse_scalar_escape(self, "float()")
        return float(self.item())

    def __int__(self) -> int:
        _refuse_scalar_escape(self, "int()")
        return int(self.item())

    def __index__(self) -> int:
        if self._a.dtype.kind not in "iub" or self._a.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from .formatting import format_tensor

        suffixes = []
        if self._fn is not None:
            suffixes.append(f"grad_fn=<{type(self._fn).__name__}>")
        elif self._rg:
            suffixes.append("requires_grad=True")
        if self._fw is not None and _DUAL[0]:
            suffixes.append(f"tangent={forward_ad.tangent_of(self)}")
        array = self._as_array()
        return format_tensor(array, suffixes=suffixes,
                             dtype_suffix=_dtype_suffix(array.dtype, array.size == 0))

    def __format__(self, spec: str) -> str:
        if self._a.ndim == 0:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (np.array(self._a), self._rg))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self._fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment."
            )
        t = Tensor._wrap(np.array(self._a, copy=True))
        t._rg = self._rg
        if self._grad is not None:
            t._grad = Tensor._wrap(np.array(self._grad._a, copy=True))
        memo[id(self)] = t
        return t

    # -- dtype conversion ---------------------------------------------------------------

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Convert dtype (``to(srcgrad.float64)``); devices other than ``"cpu"`` are refused."""
        target = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                target = a.dtype
            elif isinstance(a, str):
                if a != "cpu":
                    raise RuntimeError(f"srcgrad runs on the CPU only; cannot move to {a!r}")
            elif a is not None:
                target = a
        device = kwargs.get("device")
        if device not in (None, "cpu"):
            raise RuntimeError(f"srcgrad runs on the CPU only; cannot move to {device!r}")
        if target is None or dtypes.as_dtype(target) == self.dtype:
            return self
        return self._astype(target)

    def _astype(self, target: Any) -> Tensor:
        from ..rules.shape import astype

        return record(get_rule(astype), (self, dtypes.to_numpy_dtype(target)))

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    # -- NumPy protocols -------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None:
            return _ufunc_out(ufunc, method, inputs, kwargs)
        if method == "__call__":
            rule = lookup(ufunc)
            if rule is None:
                raise _no_rule(ufunc)
            if kwargs.get("dtype") is not None:
                inputs, kwargs = _cast_ufunc_inputs(ufunc, inputs, kwargs)
            return record(rule, inputs, kwargs)
        if method == "reduce" and ufunc in _REDUCERS:
            return record(get_rule(_REDUCERS[ufunc]), inputs, kwargs)
        raise TypeError(
            f"srcgrad Tensors do not support numpy.{ufunc.__name__}.{method}; "
            "call it on t.detach().numpy() if no gradient is needed"
        )

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        rule = lookup(func)
        if rule is None:
            raise _no_rule(func)
        outs = output_arguments(func, args, kwargs)
        if outs:
            return _function_out(func, args, kwargs, outs)
        if func is np.block and args and isinstance(args[0], list):
            return _joined_blocks(*args, **kwargs)
        return record(rule, args, kwargs)

    # -- arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Any) -> Any:
        return record(_ADD, (self, other), forward=operator.add)

    def __radd__(self, other: Any) -> Any:
        # PyTorch lists the tensor first: ``2 + x`` is ``x.add(2)``
        return record(_ADD, (self, other), forward=operator.add)

    def __sub__(self, other: Any) -> Any:
        return record(_SUBTRACT, (self, other), forward=operator.sub)

    def __rsub__(self, other: Any) -> Any:
        return record(_SUBTRACT, (other, self), forward=operator.sub)

    def __mul__(self, other: Any) -> Any:
        if type(other) is float and not (self._rg and _grad_state.enabled) and self._fw is None:
            return self._scaled(other)
        return record(_MULTIPLY, (self, other), forward=operator.mul)

    def __rmul__(self, other: Any) -> Any:
        if type(other) is float and not (self._rg and _grad_state.enabled) and self._fw is None:
            return self._scaled(other)
        return record(_MULTIPLY, (self, other), forward=operator.mul)

    def _scaled(self, factor: float) -> Tensor:
        """``self * factor`` with nothing to record (``p -= lr * p.grad`` in an optimizer)."""
        out = self._a * factor
        if type(out) is np.ndarray:
            return Tensor._wrap(out)
        return ops._wrap_outputs(out, None, (self, factor))

    def __truediv__(self, other: Any) -> Any:
        return record(_DIVIDE, (self, other), forward=operator.truediv)

    def __rtruediv__(self, other: Any) -> Any:
        if self._a.dtype.kind in "fc":  # as PyTorch: ``2 / x`` is ``x.reciprocal() * 2``
            return self.reciprocal() * other
        return record(_DIVIDE, (other, self), forward=operator.truediv)

    def __floordiv__(self, other: Any) -> Any:
        return record(get_rule(np.floor_divide), (self, other))

    def __rfloordiv__(self, other: Any) -> Any:
        return record(get_rule(np.floor_divide), (other, self))

    def __mod__(self, other: Any) -> Any:
        return record(get_rule(np.remainder), (self, other))

    def __rmod__(self, other: Any) -> Any:
        return record(get_rule(np.remainder), (other, self))

    def __divmod__(self, other: Any) -> Any:
        return record(get_rule(np.divmod), (self, other))

    def __rdivmod__(self, other: Any) -> Any:
        return record(get_rule(np.divmod), (other, self))

    def __round__(self, ndigits: Any = None) -> Any:
        """``round(t)``: Python's ``round`` of the value, a constant (as for an ndarray)."""
        value = self._a
        if np.ndim(value) != 0:
            raise TypeError(f"type {type(value).__name__} doesn't define __round__ method")
        value = value[()] if isinstance(value, np.ndarray) else value
        return round(value) if ndigits is None else round(value, ndigits)

    def __pow__(self, other: Any) -> Any:
        return record(_POWER, (self, other), forward=operator.pow)

    def __rpow__(self, other: Any) -> Any:
        return record(_POWER, (other, self), forward=operator.pow)

    def __matmul__(self, other: Any) -> Any:
        return record(_MATMUL, (self, other))

    def __rmatmul__(self, other: Any) -> Any:
        return record(_MATMUL, (other, self))

    def __neg__(self) -> Any:
        return record(_NEGATIVE, (self,), forward=operator.neg)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Any:
        return self.abs()

    def __invert__(self) -> Any:
        return record(get_rule(np.logical_not) if self._a.dtype == np.bool_ else
                      get_rule(np.invert), (self,))

    def _compare(self, fun: Any, other: Any) -> Tensor:
        return Tensor._wrap(fun(self._a, unwrap(other)))

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare(np.equal, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare(np.not_equal, other)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other)

    def __and__(self, other: Any) -> Tensor:
        return self._compare(np.bitwise_and, other)

    __rand__ = __and__

    def __or__(self, other: Any) -> Tensor:
        return self._compare(np.bitwise_or, other)

    __ror__ = __or__

    def __xor__(self, other: Any) -> Tensor:
        return self._compare(np.bitwise_xor, other)

    def eq(self, other: Any) -> Tensor:
        return self == other

    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    def equal(self, other: Tensor) -> bool:
        return bool(np.array_equal(self._a, unwrap(other)))

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08) -> bool:
        return bool(np.allclose(self._a, unwrap(other), rtol=rtol, atol=atol))

    def add(self, other: Any, *, alpha: Any = 1) -> Any:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Any:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Any:
        return self * other

    multiply = mul

    def div(self, other: Any) -> Any:
        return self / other

    def pow(self, exponent: Any) -> Any:
        return self ** exponent

    def neg(self) -> Any:
        return -self

    # -- indexing -----------------------------------------------------------------------

    def __getitem__(self, index: Any) -> Any:
        if type(index) is tuple:  # _index() inlined for the common case
            for i in index:
                if isinstance(i, Tensor):
                    index = tuple([i._a if isinstance(i, Tensor) else i for i in index])
                    break
        else:
            index = _index(index)
        return record(_GETITEM, (self, index))

    # -- elementwise -------------------------------------------------------------------

    def _unary(self, fun: Any) -> Any:
        return record(get_rule(fun), (self,))

    # exp, log, sin, ... are made by _elementwise_method below the class (one line each)

    def rsqrt(self) -> Any:
        return 1.0 / self.sqrt()

    def round(self, decimals: int = 0) -> Any:
        if decimals:
            return record(get_rule(np.round), (self, decimals))
        return self._unary(np.round)

    def sigmoid(self) -> Any:
        from ..rules.nn import sigmoid

        return self._unary(sigmoid)

    def relu(self) -> Any:
        from ..rules.nn import relu

        return self._unary(relu)

    def clamp(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        """Limit values to ``[min, max]`` (either bound may be None)."""
        # (tensor bounds stay tensors: their gradients are recorded, as in PyTorch)
        return record(get_rule(np.clip), (self, min, max))

    clip = clamp

    def clamp_min(self, min: Any) -> Any:  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Any:  # noqa: A002
        return self.clamp(max=max)

    def maximum(self, other: Any) -> Any:
        return record(get_rule(np.maximum), (self, other))

    def minimum(self, other: Any) -> Any:
        return record(get_rule(np.minimum), (self, other))

    def where(self, condition: Any, other: Any) -> Any:
        return record(get_rule(np.where), (unwrap(condition), self, other))

    def masked_fill(self, mask: Any, value: Any) -> Any:
        return record(get_rule(np.where), (unwrap(mask), value, self))

    def softmax(self, dim: int) -> Any:
        from ..rules.nn import softmax

        return record(get_rule(softmax), (self,), {"axis": _dims(dim, self._a.ndim)})

    def log_softmax(self, dim: int) -> Any:
        if type(dim) is not int:
            dim = _dims(dim, self._a.ndim)
        else:
            _check_dim(dim, self._a.ndim)
        return record(_LOG_SOFTMAX, (self,), {"axis": dim})

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Any:
        from ..rules.nn import logsumexp

        return record(get_rule(logsumexp), (self,), {"axis": dim, "keepdims": keepdim})

    # -- reductions ----------------------------------------------------------------------

    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
            axis: Any = None, keepdims: bool = False) -> Any:
        """Sum over ``dim`` (all elements by default); NumPy's ``axis``/``keepdims`` too."""
        kw = _dim_kwargs(_dims(dim if axis is None else axis, self._a.ndim), keepdim or keepdims)
        if dtype is not None:
            kw["dtype"] = dtypes.to_numpy_dtype(dtype)
        return record(get_rule(np.sum), (self,), kw)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool = False) -> Any:
        """Mean over ``dim`` (all elements by default); NumPy's ``axis``/``keepdims`` too."""
        if axis is None and dim is None and not (keepdim or keepdims):
            return record(_MEAN, (self,), None, forward=mean_of_floats)  # the whole tensor
        return record(_MEAN, (self,),
                      _dim_kwargs(_dims(dim if axis is None else axis, self._a.ndim),
                                  keepdim or keepdims), forward=mean_of_floats)

    def prod(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool = False) -> Any:
        return record(get_rule(np.prod), (self,),
                      _dim_kwargs(dim if axis is None else axis, keepdim or keepdims))

    def _spread(self, fun: Any, dim: Any, unbiased: Any, keepdim: bool, correction: Any,
                axis: Any, ddof: Any, keepdims: bool) -> Any:
        if ddof is None:
            ddof = correction
        if ddof is None:
            # PyTorch divides by n - 1 by default, NumPy by n: code differentiated on
            # the tape is NumPy code, so it keeps NumPy's meaning.
            default = 0 if grad_mode._state.numpy_code else 1
            ddof = default if unbiased is None else (1 if unbiased else 0)
        kw = _dim_kwargs(dim if axis is None else axis, keepdim or keepdims)
        return record(get_rule(fun), (self,), {**kw, "ddof": ddof})

    def var(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
            correction: Any = None, axis: Any = None, ddof: Any = None,
            keepdims: bool = False) -> Any:
        """Variance (PyTorch: unbiased by default; NumPy code on the tape: ``ddof=0``)."""
        return self._spread(np.var, dim, unbiased, keepdim, correction, axis, ddof, keepdims)

    def std(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
            correction: Any = None, axis: Any = None, ddof: Any = None,
            keepdims: bool = False) -> Any:
        """Standard deviation (defaults as :meth:`var`)."""
        return self._spread(np.std, dim, unbiased, keepdim, correction, axis, ddof, keepdims)

    def _extreme(self, fun: Any, arg: Any, dim: Any, keepdim: bool) -> Any:
        if dim is None:
            return record(get_rule(fun), (self,))
        if isinstance(dim, Tensor):  # max(other): elementwise
            return record(get_rule(np.maximum if fun is np.max else np.minimum), (self, dim))
        from ..rules.selection import max_with_indices, min_with_indices

        pick = max_with_indices if fun is np.max else min_with_indices
        values, indices = record(get_rule(pick), (self, dim, keepdim))
        return _values_indices(values, indices, "max" if fun is np.max else "min")

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool = False) -> Any:
        """Largest value; with ``dim``, ``(values, indices)`` (PyTorch); with ``axis``, the
        values only (NumPy)."""
        if axis is not None or keepdims:
            return self.amax(axis, keepdims)
        return self._extreme(np.max, np.argmax, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool = False) -> Any:
        """Smallest value; as :meth:`max`."""
        if axis is not None or keepdims:
            return self.amin(axis, keepdims)
        return self._extreme(np.min, np.argmin, dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Any:
        return record(get_rule(np.amax), (self,), _dim_kwargs(_dims(dim, self.ndim), keepdim),
                      name="AmaxBackward0")

    def amin(self, dim: Any = None, keepdim: bool = False) -> Any:
        return record(get_rule(np.amin), (self,), _dim_kwargs(_dims(dim, self.ndim), keepdim),
                      name="AminBackward0")

    def argmax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        axis = dim if axis is None else axis
        return Tensor._wrap(np.asarray(np.argmax(self._a, axis=axis, keepdims=keepdim)))

    def argmin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        axis = dim if axis is None else axis
        return Tensor._wrap(np.asarray(np.argmin(self._a, axis=axis, keepdims=keepdim)))

    def all(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        """Whether all elements (along ``dim``) are nonzero: a bool tensor, no gradient."""
        axis = _dims(dim if axis is None else axis, self._a.ndim)
        return Tensor._wrap(np.asarray(np.all(self._a, axis=axis, keepdims=keepdim)))

    def any(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        axis = _dims(dim if axis is None else axis, self._a.ndim)
        return Tensor._wrap(np.asarray(np.any(self._a, axis=axis, keepdims=keepdim)))

    def sort(self, dim: int = -1, descending: bool = False, stable: bool | None = None) -> Any:
        """``(values, indices)`` sorted along ``dim`` (ties keep their order).  In NumPy
        code run on the tape it is ``ndarray.sort``: in place, returning None."""
        from ..rules.selection import sort_with_indices

        if grad_mode._state.numpy_code:
            self._inplace(np.sort, dim)
            return None

        _check_dim(dim, max(self._a.ndim, 1))
        if self._a.ndim == 0:
            return _values_indices(self.clone(), Tensor._wrap(np.zeros((), np.int64)), "sort")
        # (PyTorch's overload taking ``stable`` names its node SortBackward1)
        values, indices = record(get_rule(sort_with_indices), (self, dim, bool(descending)),
                                 name=None if stable is None else "SortBackward1")
        return _values_indices(values, indices, "sort")

    def cumsum(self, dim: Any = None, *, axis: Any = None) -> Any:
        """Running sums along ``dim`` (NumPy: over the flattened tensor when no axis)."""
        return record(get_rule(np.cumsum), (self,), {"axis": dim if axis is None else axis})

    def cumprod(self, dim: Any = None, *, axis: Any = None) -> Any:
        return record(get_rule(np.cumprod), (self,), {"axis": dim if axis is None else axis})

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
        """The vector 2-norm of all elements by default (PyTorch's ``Tensor.norm``)."""
        if dim is None and p in ("fro", 2):
            return record(get_rule(np.linalg.norm), (self.reshape(-1),))
        ord_ = None if p == "fro" else p
        return record(get_rule(np.linalg.norm), (self,),
                      {"ord": ord_, "axis": dim, "keepdims": keepdim})

    def trace(self) -> Any:
        return record(get_rule(np.trace), (self,))

    # -- products ------------------------------------------------------------------------

    def matmul(self, other: Any) -> Any:
        return self @ other

    def mm(self, other: Any) -> Any:
        return self @ other

    def mv(self, vec: Any) -> Any:
        return self @ vec

    def dot(self, other: Any) -> Any:
        return record(get_rule(np.dot), (self, other))

    def outer(self, other: Any) -> Any:
        return record(get_rule(np.outer), (self, other))

    # -- shape -------------------------------------------------------------------------------

    def view(self, *shape: Any) -> Any:
        """Same data with a new shape (``-1`` infers one dimension)."""
        shape = _shape_args(shape)
        if isinstance(shape, dtypes.dtype):
            return self._astype(shape)
        _check_view(self._a.size, shape)
        return record(get_rule(np.reshape), (self, shape), name="ViewBackward0")

    def reshape(self, *shape: Any) -> Any:
        shape = _shape_args(shape)
        _check_view(self._a.size, shape)
        return record(get_rule(np.reshape), (self, shape), name="ViewBackward0")

    def view_as(self, other: Tensor) -> Any:
        return self.view(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        shape = self._a.shape
        if not shape:
            return self.reshape(1)
        s = _check_dim(start_dim, len(shape))
        e = _check_dim(end_dim, len(shape))
        new = shape[:s] + (-1,) + shape[e + 1:]
        if s == e:
            return self
        return self.reshape(new)

    def squeeze(self, dim: Any = None, *, axis: Any = None) -> Any:
        dim = dim if axis is None else axis
        if isinstance(dim, tuple):
            return record(get_rule(np.squeeze), (self,), {"axis": dim})
        if dim is None:
            return record(get_rule(np.squeeze), (self,))
        dim = _check_dim(dim, self._a.ndim)
        if self._a.shape[dim] != 1:
            return record(get_rule(np.squeeze), (self,), {"axis": ()}, name="SqueezeBackward1")
        return record(get_rule(np.squeeze), (self,), {"axis": dim})

    def unsqueeze(self, dim: int) -> Any:
        dim = _check_dim(dim, self._a.ndim + 1)
        return record(get_rule(np.expand_dims), (self, dim))

    def expand(self, *sizes: Any) -> Any:
        sizes = _shape_args(sizes)
        lead = len(sizes) - self._a.ndim
        target = tuple(
            self._a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes)
        )
        return record(get_rule(np.broadcast_to), (self, target))

    def expand_as(self, other: Tensor) -> Any:
        return self.expand(other.shape)

    def repeat(self, *sizes: Any) -> Any:
        return record(get_rule(np.tile), (self, _shape_args(sizes)), name="RepeatBackward0")

    def permute(self, *dims: Any) -> Any:
        return record(get_rule(np.transpose), (self, _shape_args(dims)))

    def transpose(self, *dims: Any, dim0: Any = None, dim1: Any = None) -> Any:
        """``transpose(d0, d1)`` swaps two dimensions (PyTorch, also as ``dim0=, dim1=``);
        ``transpose()`` reverses them and ``transpose(axes)`` permutes them (NumPy)."""
        dims = dims + tuple(d for d in (dim0, dim1) if d is not None)
        ndim = self._a.ndim
        if len(dims) == 2 and all(isinstance(d, (int, np.integer)) for d in dims):
            _check_dim(dims[0], ndim)
            _check_dim(dims[1], ndim)
            return record(get_rule(np.swapaxes), (self, dims[0], dims[1]))
        if not dims or (len(dims) == 1 and dims[0] is None):
            return record(get_rule(np.transpose), (self,))
        return record(get_rule(np.transpose), (self, _shape_args(dims)))

    def swapaxes(self, axis0: int, axis1: int) -> Any:
        """The view with two axes exchanged (NumPy's and PyTorch's name)."""
        _check_dim(axis0, self._a.ndim)
        _check_dim(axis1, self._a.ndim)
        return record(get_rule(np.swapaxes), (self, axis0, axis1))

    swapdims = swapaxes

    def copy(self) -> Any:
        """A copy that stays in the graph (NumPy's name for :meth:`clone`)."""
        return self.clone()

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        """The tensor converted to ``dtype`` (NumPy's name for :meth:`to`).

        ``dtype`` is read as NumPy reads it: ``"float64"``, ``np.float32``,
        ``float`` (float64). :meth:`to` would take a string for a device.
        """
        converted = self.to(dtypes.as_dtype(dtype))
        return converted.clone() if copy and converted is self else converted

    def ravel(self) -> Any:
        return self.reshape(-1)

    def t(self) -> Any:
        if self._a.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._a.ndim}D")
        return record(get_rule(np.transpose), (self,), name="TBackward0")

    @property
    def T(self) -> Any:  # noqa: N802 - PyTorch's name
        return record(get_rule(np.transpose), (self,))

    @property
    def mT(self) -> Any:  # noqa: N802 - PyTorch's name
        return self.transpose(-2, -1)

    def flip(self, *dims: Any) -> Any:
        return record(get_rule(np.flip), (self,), {"axis": _shape_args(dims)})

    def roll(self, shifts: Any, dims: Any = None) -> Any:
        return record(get_rule(np.roll), (self, shifts), {"axis": dims})

    def tril(self, diagonal: int = 0) -> Any:
        return record(get_rule(np.tril), (self, diagonal))

    def triu(self, diagonal: int = 0) -> Any:
        return record(get_rule(np.triu), (self, diagonal))

    def diag(self, diagonal: int = 0) -> Any:
        return record(get_rule(np.diag), (self, diagonal))

    def split(self, split_size: Any, dim: int = 0) -> tuple:
        n = self._a.shape[dim]
        if isinstance(split_size, int):
            points = list(range(split_size, n, split_size))
        else:
            points = list(np.cumsum(split_size)[:-1])
        return tuple(_slice_along(self, dim, a, b)
                     for a, b in zip([0, *points], [*points, n], strict=True))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        n = self._a.shape[dim]
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim: int = 0) -> tuple:
        index = [slice(None)] * self._a.ndim
        out = []
        for i in range(self._a.shape[dim]):
            index[dim] = i
            out.append(self[tuple(index)])
        return tuple(out)

    def index_select(self, dim: int, index: Any) -> Any:
        return record(get_rule(np.take), (self, unwrap(index)), {"axis": dim},
                      name="IndexSelectBackward0")

    def gather(self, dim: int, index: Any) -> Any:
        return record(get_rule(np.take_along_axis), (self, unwrap(index)), {"axis": dim},
                      name="GatherBackward0")

    def clone(self) -> Any:
        """A copy that stays in the graph (``CloneBackward0``)."""
        return record(get_rule(np.copy), (self,))

    # -- constructors sharing this tensor's dtype -------------------------------------------

    def new_tensor(self, data: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        npd = dtypes.to_numpy_dtype(dtype) or self._a.dtype
        return Tensor(np.array(unwrap(data), dtype=npd), dtype=npd, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_shape_args(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_shape_args(size), 1, dtype=dtype, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None,
                 requires_grad: bool = False) -> Tensor:
        npd = dtypes.to_numpy_dtype(dtype) or self._a.dtype
        return Tensor(np.full(tuple(size), fill_value, dtype=npd), dtype=npd,
                      requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)


class _CallableSize(int):
    """An element count that, called, gives the shape: serves PyTorch's ``t.size()`` and
    NumPy's ``t.size`` at once."""

    def __new__(cls, n: int, shape: tuple) -> _CallableSize:
        obj = super().__new__(cls, n)
        obj._shape = shape  # type: ignore[attr-defined]
        return obj

    def __call__(self, dim: int | None = None) -> Any:
        shape = self._shape  # type: ignore[attr-defined]
        if dim is None:
            return Size(shape)
        return shape[_check_dim(dim, len(shape))]


_TORCH_DTYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double",
                      "complex64": "ComplexFloat", "complex128": "ComplexDouble",
                      "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                      "uint8": "Byte", "bool": "Bool"}


def _check_in_place_cast(have: np.dtype, want: np.dtype) -> None:
    """An in-place update keeps the tensor's dtype: a result that cannot be cast back
    with NumPy's ``same_kind`` rule (complex into float, float into integers) is refused,
    as NumPy refuses it (TypeError, in NumPy code) and PyTorch (RuntimeError)."""
    if have == want or np.can_cast(have, want, "same_kind"):
        return
    if grad_mode._state.numpy_code:
        raise TypeError(f"Cannot cast ufunc output from {have!r} to {want!r} with casting "
                        "rule 'same_kind'")
    raise RuntimeError(f"result type {_TORCH_DTYPE_NAMES.get(have.name, have.name)} can't be "
                       "cast to the desired output type "
                       f"{_TORCH_DTYPE_NAMES.get(want.name, want.name)}")


def _refuse_scalar_escape(t: Tensor, how: str) -> None:
    """In NumPy code run on the tape, a Python number taken from a tensor that needs a
    gradient would carry none: refuse instead of dropping the gradient silently."""
    if t._rg and grad_mode._state.numpy_code and grad_mode._state.enabled:
        # RuntimeError, not TypeError: NumPy would catch a TypeError and retry the value
        # as a sequence, hiding this message behind its own.
        raise RuntimeError(
            f"{how} of a value that needs a gradient would drop the gradient on srcgrad's "
            "tape: math.* functions and float()/int() turn it into a plain number. Use the "
            "NumPy function instead (np.sin(x) for math.sin(x)), or keep it an array, or "
            "differentiate with engine='source'."
        )


def _legacy_array(data: tuple, npd: np.dtype | None) -> np.ndarray:
    """The array of ``Tensor(*data)``: sizes give zeros, data is converted (PyTorch's
    legacy constructor; a Tensor argument keeps its dtype and shares its memory)."""
    default = dtypes.get_default_dtype().numpy_dtype
    if not data:
        return np.zeros((0,), dtype=npd or default)
    if len(data) == 1 and isinstance(data[0], Tensor) and npd is None:
        return data[0]._as_array()
    if all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in data) \
            or (len(data) == 1 and isinstance(data[0], Size)):
        return np.zeros(tuple(data[0]) if data and isinstance(data[0], Size) else data,
                        dtype=npd or default)
    if len(data) != 1:
        raise TypeError(f"new(): expected sizes or one sequence of data, got {len(data)} "
                        "arguments")
    if np.ndim(unwrap(data[0])) == 0:
        raise TypeError(f"new(): data must be a sequence (got {type(data[0]).__name__})")
    return np.array(unwrap(data[0]), dtype=npd or default)


def _rebuild(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    t._rg = requires_grad
    return t


def _dtype_suffix(npd: np.dtype, empty: bool) -> str | None:
    """PyTorch names the dtype unless it is the default float (or int64/bool, or the
    complex dtype of the default float, when non-empty)."""
    default = dtypes.get_default_dtype().numpy_dtype
    if npd == default:
        return None
    if not empty and (npd == np.int64 or npd.kind == "b" or (
            npd.kind == "c" and npd.itemsize == 2 * default.itemsize)):
        return None
    return f"dtype={dtypes.as_dtype(npd)!r}"


def _index(index: Any) -> Any:
    """Indices with Tensors replaced by their arrays."""
    if isinstance(index, Tensor):
        return index._a
    if isinstance(index, tuple):
        return tuple(i._a if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [unwrap(i) for i in index]
    return index


def _joined_blocks(arrays: list) -> Any:
    """``np.block(arrays)`` on Tensors, spelled with ``np.concatenate``.

    The tape records lists of Tensors one level deep; ``np.block`` nests them, so it is
    recorded as NumPy computes it: every item given leading 1-axes up to the result's
    ``ndim``, the lists at nesting level ``k`` joined along axis ``ndim - depth + k``.
    """
    np.block(_unwrap_nested(arrays))        # NumPy's own errors for ragged or bad nesting

    def depth_and_ndim(item: Any) -> tuple[int, int]:
        if not isinstance(item, list):
            return 0, np.ndim(item._a if isinstance(item, Tensor) else item)
        inner = [depth_and_ndim(e) for e in item]
        return 1 + inner[0][0], max(n for _, n in inner)

    depth, most = depth_and_ndim(arrays)
    ndim = max(depth, most)

    def join(item: Any, level: int) -> Any:
        if not isinstance(item, list):
            shape = tuple(np.shape(item._a if isinstance(item, Tensor) else item))
            return np.reshape(item, (1,) * (ndim - len(shape)) + shape)
        return np.concatenate([join(e, level + 1) for e in item], axis=ndim - depth + level)

    return join(arrays, 0)


def _unwrap_nested(item: Any) -> Any:
    if isinstance(item, list):
        return [_unwrap_nested(e) for e in item]
    return item._a if isinstance(item, Tensor) else item


def _check_dim(dim: int, ndim: int) -> int:
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim % ndim if ndim else 0


def _dims(dim: Any, ndim: int) -> Any:
    """``dim`` as NumPy's ``axis``, refused with PyTorch's IndexError when out of range."""
    if dim is None:
        return dim
    if isinstance(dim, int):
        _check_dim(dim, ndim)
        return dim
    dims = tuple(dim)
    for d in dims:
        _check_dim(d, ndim)
    return dims


def _shape_args(shape: tuple) -> Any:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        return tuple(shape[0])
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        return shape[0]
    return tuple(int(s) for s in shape)


def _check_view(size: int, shape: Sequence[int]) -> None:
    known = 1
    infer = 0
    for s in shape:
        if s == -1:
            infer += 1
        else:
            known *= s
    if infer > 1:
        raise RuntimeError("only one dimension can be inferred")
    ok = (size == known) if not infer else (known != 0 and size % known == 0)
    if not ok:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")


def _slice_along(t: Tensor, dim: int, start: int, stop: int) -> Any:
    index = [slice(None)] * t.ndim
    index[dim] = slice(int(start), int(stop))
    return t[tuple(index)]


class _ValuesIndices(tuple):
    """``(values, indices)`` with attribute access, like PyTorch's named tuple (printed
    as ``srcgrad.return_types.max(values=..., indices=...)``)."""

    __slots__ = ()
    _name = "values_indices"

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return (f"srcgrad.return_types.{self._name}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")


_RETURN_TYPES: dict = {}


def _values_indices(values: Any, indices: Any, name: str) -> _ValuesIndices:
    if isinstance(indices, Tensor) and indices._rg:
        indices = Tensor._wrap(indices._a)
    cls = _RETURN_TYPES.get(name)
    if cls is None:  # one class per operation, named as PyTorch's (return_types.max ...)
        cls = _RETURN_TYPES[name] = type(name, (_ValuesIndices,), {"__slots__": (),
                                                                  "_name": name})
    return cls((values, indices))


def _cast_ufunc_inputs(ufunc: np.ufunc, inputs: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``ufunc(*inputs, dtype=d)`` as ``ufunc`` on the inputs cast to ``d``, without ``dtype``.

    That is what NumPy computes (the loop for ``d`` runs on inputs cast to
    ``d``), and the rules' derivatives take the operands only: the casts are
    recorded, so cotangents go back in each input's own dtype.  Python numbers
    are left as they are: NumPy gives them the loop's dtype anyway.
    """
    kwargs = dict(kwargs)
    target = dtypes.to_numpy_dtype(kwargs.pop("dtype"))
    casting = kwargs.pop("casting", "same_kind")
    cast = []
    for i, x in enumerate(inputs):
        if type(x) in (bool, int, float, complex):
            cast.append(x)
            continue
        source = x._a.dtype if isinstance(x, Tensor) else np.asarray(x).dtype
        if not np.can_cast(source, target, casting):
            raise TypeError(f"Cannot cast ufunc {ufunc.__name__!r} input {i} from {source!r} "
                            f"to {target!r} with casting rule {casting!r}")
        if isinstance(x, Tensor):
            cast.append(x.to(target))
        else:
            cast.append(np.asarray(x).astype(target, copy=False))
    return tuple(cast), kwargs


def _ufunc_out(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``np.add(a, b, out=t)``: allowed when nothing needs a gradient."""
    outs = kwargs["out"]
    tensors = [x for x in (*inputs, *outs) if isinstance(x, Tensor)]
    if _grad_state.enabled and any(t._rg for t in tensors):
        raise TypeError(
            f"numpy.{ufunc.__name__}(..., out=...) on a Tensor that requires grad would drop "
            "its gradient; use the out-of-place form"
        )
    raw_inputs = tuple(unwrap(x) for x in inputs)
    raw_out = tuple(x._as_array() if isinstance(x, Tensor) else x for x in outs)
    getattr(ufunc, method)(*raw_inputs, **{**kwargs, "out": raw_out})
    for x in outs:
        if isinstance(x, Tensor):
            x._bump()
    return outs[0] if len(outs) == 1 else outs


def _function_out(func: Any, args: tuple, kwargs: dict, outs: list) -> Any:
    """``np.sum(x, out=t)``: allowed when nothing needs a gradient, as ``out=`` in PyTorch.

    With a gradient to record, the result would reach ``t`` without it (and
    the rule's ``out`` would write into ``t`` behind the tape's back): refused.
    """
    if _grad_state.enabled and any(
            _needs_grad(x) for x in (*args, *kwargs.values(), *outs)):
        from ..rules.registry import primitive_name

        raise TypeError(
            f"{primitive_name(func)}(..., out=...) on a Tensor that requires grad would drop "
            "its gradient; use the out-of-place form (y = f(x))"
        )
    func(*[_unwrap_items(a) for a in args],
         **{k: _unwrap_items(v) for k, v in kwargs.items()})
    for x in outs:
        if isinstance(x, Tensor):
            x._bump()
    return outs[0] if len(outs) == 1 else tuple(outs)


def _needs_grad(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x._rg
    return type(x) in (list, tuple) and any(_needs_grad(v) for v in x)


def _unwrap_items(x: Any) -> Any:
    """``x`` with Tensors (also inside lists and tuples) replaced by their arrays."""
    if isinstance(x, Tensor):
        return x._as_array()
    if type(x) in (list, tuple):
        return type(x)(_unwrap_items(v) for v in x)
    return x


def _no_rule(fun: Any) -> TypeError:
    from ..errors import TapeNoRuleError
    from ..rules.registry import primitive_name

    name = primitive_name(fun)
    return TapeNoRuleError(
        f"{name} has no derivative rule, so it cannot be called on srcgrad Tensors. Register one "
        f"with srcgrad.defvjp({name}, ...), declare it constant with "
        f"srcgrad.nondifferentiable({name}), or call it on t.detach().numpy() when no gradient "
        "is needed.", fun)


_REDUCERS = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min}


def _elementwise_method(name: str, fun: Any) -> Any:
    """``Tensor.<name>()``: ``fun`` applied elementwise, its rule looked up once."""
    rule = get_rule(fun)

    def method(self: Tensor) -> Any:
        return record(rule, (self,))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``{name}`` of each element (``numpy.{fun.__name__}``)."
    return method


for _name, _fun in {
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "abs": np.abs, "sqrt": np.sqrt, "square": np.square,
    "reciprocal": np.reciprocal, "sign": np.sign, "sgn": np.sign, "floor": np.floor,
    "ceil": np.ceil,
}.items():
    setattr(Tensor, _name, _elementwise_method(_name, _fun))

_ADD = get_rule(np.add)
_MATMUL = get_rule(np.matmul)
_NEGATIVE = get_rule(np.negative)
_GETITEM = get_rule(operator.getitem)
_LOG_SOFTMAX = get_rule(_nn.log_softmax)
_MEAN = get_rule(np.mean)
_SUBTRACT = get_rule(np.subtract)
_MULTIPLY = get_rule(np.multiply)
_DIVIDE = get_rule(np.divide)
_POWER = get_rule(np.power)

graph.Tensor = ops.Tensor = saved.Tensor = forward_ad.Tensor = Tensor
graph._MAY_HOLD_TENSORS = (Tensor, list, tuple)
ops.VersionCounter = VersionCounter
