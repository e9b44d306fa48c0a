"""Forward-mode AD on the tape: dual tensors carry a tangent through every operation.

Inside ``with dual_level():``, ``make_dual(x, t)`` gives ``x`` the tangent
``t``; every Tensor operation on such a tensor then computes its output's
tangent with the rule registry's JVPs, the ones the source engine inlines
into tangent code (:func:`record_dual`).  ``unpack_dual(y)`` reads the
primal and the tangent back.  As in PyTorch, levels do not nest, tangents
vanish when their level exits, and tangents are computed whatever the grad
mode: the tangent computation is itself recorded when grad mode is on and
something in it requires grad (reverse-over-forward), and a backward pass
inside a level runs on tensors, so gradients get tangents too
(forward-over-reverse).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, NamedTuple

import numpy as np

from ..rules.registry import Rule, refuse_complex
from . import grad_mode

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

# Bound by srcgrad.autograd.tensor once the class exists.
Tensor: Any = None

# OPEN[0]: a level is open (read on the tape's hot path: one list read when none is).
OPEN = [False]
_LEVEL = [-1]
# what got a tangent at the open level: cleared when it exits
_TRACKED: list = []


class _Busy(threading.local):
    # True while a dual operation computes its primal or its JVPs: those run on the
    # primals, so their own operations carry no tangents (one level, as in PyTorch)
    on = False


_BUSY = _Busy()

NO_LEVEL_ERROR = ("Trying to create a dual Tensor for forward AD but no level exists, make "
                  "sure to enter_dual_level() first.")
STALE_VIEW_TANGENT = (
    "the tangent of this view is out of date: its base was changed in place by an operation "
    "carrying a tangent, and the view (reshaped or transposed, not made by indexing the base) "
    "cannot follow that change into its tangent. Take the view again after the change, or "
    ".clone() it before changing the base."
)
VIEW_TANGENT_INPLACE = (
    "an in-place operation that carries a tangent into a view (reshaped or transposed, not "
    "made by indexing its base) whose base has no matching tangent is not supported: the base's "
    "tangent would be wrong. Index the base directly, or .clone() the view first."
)


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: the ``primal`` and its ``tangent`` (or None)."""

    primal: Any
    tangent: Any


class _Stale:
    """The tangent of a view that can no longer be computed (see STALE_VIEW_TANGENT)."""

    __slots__ = ()


STALE = _Stale()


def enter_dual_level() -> int:
    """Open a forward-AD level and return its number (levels do not nest)."""
    if OPEN[0]:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVEL[0] += 1
    OPEN[0] = True
    return _LEVEL[0]


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the open level: every tangent made in it is dropped."""
    current = _LEVEL[0] if OPEN[0] else -1
    if level is None:
        level = current
    if level != current:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    OPEN[0] = False
    _LEVEL[0] = level - 1
    tracked = list(_TRACKED)
    _TRACKED.clear()
    _ALIASES.clear()
    _TANGENT_NODES.clear()
    for ref in tracked:
        obj = ref()
        if obj is None:
            continue
        if isinstance(obj, Tensor):
            obj._fw = None
        else:
            obj._fw_ans = None


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) for a forward-AD level::

        with dual_level():
            y = f(make_dual(x, v))
            jvp = unpack_dual(y).tangent
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper


def _check_level(level: int | None, what: str) -> None:
    if level is not None and (not OPEN[0] or level != _LEVEL[0]):
        raise RuntimeError(f"Invalid level given to {what}")


def _dtype_name(array: Any) -> str:
    from .dtypes import as_dtype

    return repr(as_dtype(np.asarray(array).dtype))


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A view of ``tensor`` carrying ``tangent`` (same shape) at the open level.

    The tangent is kept as given when its memory layout is the primal's, and
    copied into the primal's layout otherwise, as in PyTorch.
    """
    if not OPEN[0]:
        raise RuntimeError(NO_LEVEL_ERROR)
    _check_level(level, "_make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects Tensors for both the primal and the tangent")
    if tensor._a.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{_dtype_name(tensor._a)}")
    if tangent._a.dtype.kind not in "fc":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{_dtype_name(tangent._a)}")
    if tensor._fw is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {_LEVEL[0]} is not supported.")
    if tangent._fw is not None:
        raise RuntimeError("Setting a forward grad that itself has a forward gradient at the "
                           f"same level{_LEVEL[0]} is not supported.")
    if tangent._a.shape != tensor._a.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor._a.shape)} "
            f"while the given forward gradient is of size {list(tangent._a.shape)}.")
    primal, given = tensor._as_array(), tangent._as_array()
    if given.strides != primal.strides:
        # another memory layout (a transposed tangent): copied into the primal's
        copy = np.empty_like(primal, dtype=given.dtype)
        copy[...] = given
        tangent = tangent.new_tensor(copy) if not tangent._rg else _copy_recorded(tangent, copy)
    dual = _alias(tensor)
    set_tangent(dual, tangent)
    return dual


def _copy_recorded(tangent: Any, layout: np.ndarray) -> Any:
    """``tangent`` copied into ``layout``'s memory order, staying in the graph."""
    out = tangent.clone()
    out._a = np.empty_like(layout)
    out._a[...] = tangent._a
    return out


def _alias(tensor: Any, name: str = "ViewBackward0") -> Any:
    """A view of ``tensor`` sharing its data and version counter, in its graph, without
    its tangent (its node named as PyTorch names it: ``ViewBackward0`` for make_dual,
    ``Identity`` for unpack_dual's primal)."""
    import operator

    from ..rules.registry import get_rule
    from .ops import record

    with busy():
        alias = record(get_rule(operator.getitem), (tensor, Ellipsis), name=name)
    # its in-place changes stay its own: its base gets no tangent from them, nor it from
    # its base's (as in PyTorch)
    alias._view_index = None
    if alias._fn is not None:
        # it reads only its input's shape, so a backward pass may run through it again
        # after another one freed the graph (as through PyTorch's view nodes)
        alias._fn.__class__ = _kept_class(name)
    _ALIASES[id(alias)] = weakref.ref(alias)
    return alias


_ALIASES: dict = {}
_KEPT: dict = {}


def _kept_class(name: str) -> type:
    """A rule node class called ``name`` whose saved values are never released."""
    cls = _KEPT.get(name)
    if cls is None:
        from .graph import RuleNode

        def keep(self: Any) -> None:
            pass

        cls = _KEPT[name] = type(name, (RuleNode,), {"__slots__": (), "_release": keep,
                                                     "__module__": "srcgrad.autograd.graph"})
    return cls


def _is_alias(t: Any) -> bool:
    ref = _ALIASES.get(id(t))
    return ref is not None and ref() is t


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: the primal a view without the tangent; the
    tangent None for a tensor that has none (or outside a level)."""
    if level is not None and not OPEN[0]:
        raise RuntimeError("Invalid level given to _fw_primal")
    _check_level(level, "_fw_primal")
    tangent = tangent_of(tensor) if isinstance(tensor, Tensor) else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor, "Identity"), tangent)


# -- tangents on tensors ----------------------------------------------------------------

def tangent_of(t: Any) -> Any:
    """The tangent of tensor ``t`` at the open level (None when it has none)."""
    fw = t._fw
    if fw is STALE:
        raise RuntimeError(STALE_VIEW_TANGENT)
    return fw


def set_tangent(t: Any, tangent: Any) -> None:
    """Give tensor ``t`` the tangent ``tangent`` (a Tensor or an array) at the open level."""
    if tangent is not None and tangent is not STALE and not isinstance(tangent, Tensor):
        tangent = Tensor._wrap(tangent)
    if t._fw is None:
        _track(t)
    t._fw = tangent


def _track(obj: Any) -> None:
    """Remember ``obj`` to clear its tangent when the level exits (now and then the
    references to objects that died are dropped, so a long level does not grow)."""
    _TRACKED.append(weakref.ref(obj))
    n = len(_TRACKED)
    if n >= 1024 and not n & (n - 1):
        _TRACKED[:] = [ref for ref in _TRACKED if ref() is not None]


def carries(args: tuple, kwargs: dict | None) -> bool:
    """Does a call with these arguments carry a tangent (tensors inside lists and keyword
    values included)?  False while a dual operation computes its primal or JVPs."""
    if _BUSY.on:
        return False
    T = Tensor
    for a in args:
        if isinstance(a, T):
            if a._fw is not None:
                return True
        elif type(a) in (list, tuple):
            for x in a:
                if isinstance(x, T) and x._fw is not None:
                    return True
    if kwargs:
        for v in kwargs.values():
            if isinstance(v, T) and v._fw is not None:
                return True
    return False


def no_forward_rule(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"Trying to use forward AD with {name} that does not support it because it has not "
        f"been implemented yet. Register its JVP with srcgrad.defjvp({name}, ...) (the same "
        "rule gives the source engine its forward mode).")


class busy:  # noqa: N801 - a small context manager
    """Run the body on primals: its operations carry no tangents."""

    def __enter__(self) -> None:
        self._prev = _BUSY.on
        _BUSY.on = True

    def __exit__(self, *exc: object) -> None:
        _BUSY.on = self._prev


def record_dual(rule: Rule, args: tuple, kwargs: dict | None, forward: Any,
                name: str | None) -> Any:
    """:func:`srcgrad.autograd.ops.record` for a call carrying tangents.

    The primal is recorded as usual; the output's tangent is the sum of the
    rule's JVPs over the arguments that carry one (a list argument, as
    ``np.concatenate``'s, gets zeros for items without a tangent).
    """
    from .ops import _bind_keywords, record

    with busy():
        out = record(rule, args, kwargs, forward=forward, name=name)
        if not rule.differentiable:
            return out
        kwargs = kwargs or {}
        if any(isinstance(v, Tensor) and v._fw is not None for v in kwargs.values()):
            args, kwargs = _bind_keywords(rule, args, kwargs)
        _refuse_missing(rule, args, kwargs)
        found = _tangents(rule, args)
        if not found:
            return out
        tensors = grad_mode._state.enabled and (
            _any_requires_grad(args, kwargs) or any(_requires_grad(t) for t in found.values()))
        raw_args = tuple(_raw(a) for a in args)
        raw_kwargs = {k: _raw(v) for k, v in kwargs.items()}
        if not rule.complex:
            refuse_complex(rule.name, *raw_args, *raw_kwargs.values())
        if tensors:
            ans = out
            call_args, call_kwargs = args, kwargs
        else:
            ans = _raw(out)
            call_args, call_kwargs = raw_args, raw_kwargs
            found = {p: _raw(t) for p, t in found.items()}
        total: Any = None
        start = next(_graph()._sequence)
        for pos, t in found.items():
            total = _add(total, rule.jvps[pos](t, ans, *call_args, **call_kwargs))
        if tensors:
            _note_tangent_nodes(start)
        _attach(out, _fresh(total, out, found), rule.constant_outputs)
    return out


# Creation numbers of the nodes recorded while computing tangents: ``[start, end)`` each.
_TANGENT_NODES: list = []


def _graph() -> Any:
    from . import graph

    return graph


def _note_tangent_nodes(start: int) -> None:
    end = next(_graph()._sequence)
    if end > start + 1:
        _TANGENT_NODES.append((start, end))


def through_tangents(roots: list) -> bool:
    """Does a backward pass from ``roots`` reach a node recorded while computing a
    tangent?  Then its gradients would need the tangent of a tangent (a second level):
    the pass runs on plain arrays and its gradients get no tangents."""
    if not _TANGENT_NODES:
        return False
    ranges = _TANGENT_NODES
    seen: set = set()
    stack = [r[0] for r in roots]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        seq = node._seq
        if any(lo < seq < hi for lo, hi in ranges):
            return True
        stack.extend(nxt for nxt, _ in node.next_functions)
    return False


def _fresh(total: Any, out: Any, found: dict) -> Any:
    """The output tangent, copied where it shares memory with an input's tangent while
    the output is no view of an input: changing one in place must not change the other
    (the tangent of a view, as ``x[1:]``'s, is a view of its base's tangent)."""
    if isinstance(out, Tensor) and out._base is None and total is not None:
        array = total._a if isinstance(total, Tensor) else total
        if isinstance(array, np.ndarray) and any(
                np.may_share_memory(array, t._a if isinstance(t, Tensor) else t)
                for t in _flat(found.values())):
            return total.clone() if isinstance(total, Tensor) else array.copy()
    return total


def _flat(values: Any) -> list:
    out = []
    for v in values:
        out.extend(v if type(v) in (list, tuple) else (v,))
    return [v for v in out if isinstance(v, (Tensor, np.ndarray))]


def _refuse_missing(rule: Rule, args: tuple, kwargs: dict) -> None:
    """Refuse a tangent reaching an argument without a JVP (it would be dropped, a silent
    zero): PyTorch's NotImplementedError where the argument has a VJP only, else the
    error both engines give for an argument without a derivative."""
    from ..errors import MissingDerivativeError
    from ..rules.registry import missing_derivative_message, missing_derivatives

    positions = [i for i, a in enumerate(args) if _carries(a)]
    keywords = [k for k, v in kwargs.items() if _carries(v)]
    missing = missing_derivatives(rule, rule.jvps, positions, keywords)
    if not missing:
        return
    if missing[0] in rule.vjps:
        raise no_forward_rule(rule.name)
    raise MissingDerivativeError(missing_derivative_message(rule, missing[0], "jvp"))


def _carries(a: Any) -> bool:
    if isinstance(a, Tensor):
        return a._fw is not None
    return type(a) in (list, tuple) and any(isinstance(x, Tensor) and x._fw is not None
                                            for x in a)


def _tangents(rule: Rule, args: tuple) -> dict:
    """``{position: tangent}`` of the differentiable arguments that carry one."""
    T = Tensor
    found: dict = {}
    positions = set(rule.vjps) | set(rule.jvps)
    for pos in sorted(positions):
        if pos >= len(args):
            continue
        a = args[pos]
        if pos in rule.sequence_argnums and type(a) in (list, tuple):
            if any(isinstance(x, T) and x._fw is not None for x in a):
                found[pos] = [_tangent_or_zeros(x) for x in a]
        elif isinstance(a, T):
            t = tangent_of(a)
            if t is not None:
                found[pos] = t
    return found


def _tangent_or_zeros(x: Any) -> Any:
    if isinstance(x, Tensor):
        t = tangent_of(x)
        if t is not None:
            return t
        return Tensor._wrap(np.zeros_like(x._a))
    return np.zeros_like(x)


def _requires_grad(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x._rg
    return type(x) in (list, tuple) and any(_requires_grad(e) for e in x)


def _any_requires_grad(args: tuple, kwargs: dict) -> bool:
    return any(_requires_grad(a) for a in args) or any(_requires_grad(v)
                                                       for v in kwargs.values())


def _raw(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x._a
    if type(x) in (list, tuple):
        return type(x)(_raw(e) for e in x)
    return x


def _add(a: Any, b: Any) -> Any:
    """Two JVP contributions added (item by item for several outputs; None is zero)."""
    if a is None:
        return b
    if b is None:
        return a
    if type(a) in (list, tuple):
        return type(a)(_add(x, y) for x, y in zip(a, b, strict=True))
    return a + b


def _attach(out: Any, tangent: Any, constant: tuple = ()) -> None:
    """Give the output tensor(s) ``out`` their tangent(s); note them on the node, whose
    saved outputs a backward pass inside the level reads with their tangents."""
    T = Tensor
    if isinstance(out, T):
        if tangent is None:
            return
        tangent = _shaped(tangent, out)
        set_tangent(out, tangent)
        node = out._fn
    elif type(out) in (list, tuple) and type(tangent) in (list, tuple):
        node = None
        shaped = []
        for i, (o, t) in enumerate(zip(out, tangent, strict=True)):
            if isinstance(o, T) and t is not None and o._a.dtype.kind in "fc" \
                    and i not in constant:
                t = _shaped(t, o)
                set_tangent(o, t)
                node = node or o._fn
                shaped.append(o._fw)
            else:
                shaped.append(None)
        tangent = type(tangent)(shaped)
    else:
        return
    if node is not None and getattr(node, "_ans", None) is not None:
        node._fw_ans = tangent if isinstance(out, T) else tuple(tangent)
        _track(node)


def _shaped(t: Any, out: Any) -> Any:
    """A JVP's result as a tangent of ``out``: broadcast to its shape where a rule
    returned a smaller value (a Python number, a 0-d array)."""
    if np.shape(t._a if isinstance(t, Tensor) else t) != out._a.shape:
        t = np.broadcast_to(t, out._a.shape)
    if not isinstance(t, Tensor):
        t = Tensor._wrap(np.asarray(t) if not isinstance(t, np.ndarray) else t)
    return t


def output_tangents(node: Any, outputs: Any) -> None:
    """Give a node's saved outputs, rebuilt as tensors for a backward pass, their tangents."""
    fw = getattr(node, "_fw_ans", None)
    if fw is None:
        return
    if isinstance(outputs, Tensor):
        set_tangent(outputs, fw)
        return
    for o, t in zip(outputs, fw, strict=False):
        if isinstance(o, Tensor) and t is not None:
            set_tangent(o, t)


# -- in-place changes -------------------------------------------------------------------

def take_tangent(t: Any, out: Any) -> bool:
    """After ``t`` took ``out``'s value in place, take its tangent: written into ``t``'s
    own tangent where that can be done (so the views of that tangent follow, and a
    user's tangent changes as in PyTorch), else replacing it.  Whether it was written."""
    new, cur = out._fw, t._fw
    if new is None:
        if cur is not None:
            t._fw = None
        return cur is None
    if cur is not None and cur is not STALE and not cur._rg and not new._rg \
            and type(cur._a) is np.ndarray and cur._a.flags.writeable \
            and cur._a.shape == new._a.shape \
            and np.can_cast(new._a.dtype, cur._a.dtype, "same_kind"):
        cur._a[...] = new._a
        cur._bump()
        return True
    set_tangent(t, new)
    return False


def check_view_update(view: Any) -> None:
    """Refuse an in-place change carrying a tangent into a view not made by indexing
    its base unless the view's tangent is a view of its base's (then writing into it
    keeps both right); the aliases of make_dual and unpack_dual have tangents of their own."""
    if _is_alias(view):
        return
    vt, bt = view._fw, view._base._fw
    if vt is None or vt is STALE or (bt is not None and bt is not STALE and not (
            np.may_share_memory(vt._a, bt._a) and type(vt._a) is np.ndarray
            and vt._a.flags.writeable and not vt._rg)):
        raise RuntimeError(VIEW_TANGENT_INPLACE)


def follow_view(base: Any, view: Any) -> None:
    """After ``base`` changed in place at the open level: a view made by indexing it gets
    its tangent again (indexed from the base's); another view keeps a tangent that is a
    view of the base's, and any other tangent it has or needs is out of date."""
    if _is_alias(view):
        return
    bt = base._fw
    if view._view_index is not None:
        if bt is None or bt is STALE:
            if view._fw is not None:
                set_tangent(view, bt)
            return
        with busy():
            set_tangent(view, bt[view._view_index])
        return
    vt = view._fw
    if bt is None and vt is None:
        return
    if vt is not None and vt is not STALE and bt is not None and bt is not STALE \
            and np.may_share_memory(vt._a, bt._a):
        return
    set_tangent(view, STALE)


# -- custom Functions -------------------------------------------------------------------

def function_tangents(cls: type, ctx: Any, args: tuple, results: Any) -> None:
    """Give a custom Function's outputs the tangents its ``jvp(ctx, *tangents)`` returns
    (one tangent per ``forward`` input: zeros for a tensor without one, None for other
    values), as PyTorch does."""
    tangents = []
    for a in args:
        if isinstance(a, Tensor):
            tangents.append(tangent_of(a) if a._fw is not None
                            else Tensor._wrap(np.zeros_like(a._a)))
        else:
            tangents.append(None)
    with busy():
        ctx._in_jvp = True
        try:
            out = cls.jvp(ctx, *tangents)
        finally:
            ctx._in_jvp = False
    outs = results if isinstance(results, tuple) else (results,)
    got = out if isinstance(out, tuple) else (out,)
    if len(got) != len(outs):
        raise RuntimeError(f"function {cls.__name__}_jvp returned an incorrect number of "
                           f"forward gradients (expected {len(outs)}, got {len(got)})")
    for o, t in zip(outs, got, strict=True):
        if t is None or not isinstance(o, Tensor) or o._a.dtype.kind not in "fc":
            continue
        if not isinstance(t, Tensor):
            t = Tensor._wrap(np.asarray(t))
        if t._a.shape != o._a.shape:
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(o._a.shape)} "
                f"while the given forward gradient is of size {list(t._a.shape)}.")
        set_tangent(o, t)


def primals(args: tuple) -> tuple:
    """``args`` with each tensor carrying a tangent replaced by its primal (an alias)."""
    return tuple(_alias(a) if isinstance(a, Tensor) and a._fw is not None else a
                 for a in args)
