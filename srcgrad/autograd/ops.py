"""Recording operations on the tape: run a rule's primitive, link a node.

Every Tensor operation, operator and NumPy call on Tensors ends in
:func:`record`, which runs the primitive on the underlying arrays and, when
a gradient will be needed, creates the node that will later call the
primitive's VJPs from the rule registry.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..rules.registry import Rule, get_rule
from . import grad_mode
from .graph import make_rule_node, parameters_used

__all__ = ["record", "record_fn", "edge"]

_grad_state = grad_mode._state
_SAVE_PLANS: dict[tuple, tuple] = {}


def edge(t: Any) -> tuple:
    """The ``(node, output_nr)`` a gradient for ``t`` flows into; ``(None, 0)`` for constants."""
    from .tensor import Tensor

    if isinstance(t, Tensor) and t._rg:
        fn = t._fn
        if fn is not None:
            return (fn, t._output_nr)
        return (t._accumulator(), 0)
    return (None, 0)


def _save_plan(rule: Rule, active: tuple, nargs: int) -> tuple:
    """Which positional arguments and whether the output the active VJPs read."""
    key = (id(rule), active, nargs)
    plan = _SAVE_PLANS.get(key)
    if plan is not None:
        return plan
    keep = [False] * nargs
    uses_ans = rule.outputs > 1
    for pos in active:
        vjp = rule.vjps[pos]
        used = parameters_used(vjp)
        code = getattr(vjp, "__code__", None)
        if "*" in used or code is None:
            keep = [True] * nargs
            uses_ans = True
            continue
        params = code.co_varnames[: code.co_argcount]
        if len(params) > 1 and params[1] in used:
            uses_ans = True
        for i, name in enumerate(params[2:]):
            if i < nargs and name in used:
                keep[i] = True
        if nargs > len(params) - 2:  # extra positional args land in *args
            keep[len(params) - 2:] = [True] * (nargs - len(params) + 2)
    plan = (tuple(keep), uses_ans)
    _SAVE_PLANS[key] = plan
    return plan


def _raw(a: Any, tensor_type: type) -> Any:
    if isinstance(a, tensor_type):
        return a._a
    if type(a) in (list, tuple) and any(isinstance(x, tensor_type) for x in a):
        return type(a)(x._a if isinstance(x, tensor_type) else x for x in a)
    return a


def _bind_keywords(rule: Rule, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Move keyword-passed differentiable arguments to their positions."""
    vjp = next(iter(rule.vjps.values()))
    sig = inspect.signature(vjp)
    bound = sig.bind_partial(None, None, *args, **kwargs)
    names = list(sig.parameters)[2:]
    new_args = list(args)
    new_kwargs = dict(kwargs)
    for pos in sorted(rule.vjps):
        if pos >= len(new_args) and pos < len(names) and names[pos] in new_kwargs:
            while len(new_args) < pos:
                name = names[len(new_args)]
                if name not in bound.arguments:
                    raise TypeError(
                        f"{rule.name}: pass argument {names[pos]!r} positionally to differentiate it"
                    )
                new_args.append(new_kwargs.pop(name))
            new_args.append(new_kwargs.pop(names[pos]))
    return tuple(new_args), new_kwargs


def record(rule: Rule, args: tuple, kwargs: dict | None = None, *, forward: Any = None,
           name: str | None = None) -> Any:
    """Run ``rule``'s primitive on the arrays inside ``args`` and record it when needed.

    ``forward`` replaces the primitive for the computation (``operator.mul``
    is faster than ``np.multiply`` on scalars); ``name`` overrides the node
    name for Tensor methods PyTorch names differently (``t()`` ->
    ``TBackward0``).
    """
    from .tensor import Tensor

    kwargs = kwargs or {}
    raw_args = tuple(_raw(a, Tensor) for a in args)
    raw_kwargs = {k: _raw(v, Tensor) for k, v in kwargs.items()} if kwargs else kwargs
    out = (forward or rule.primitive)(*raw_args, **raw_kwargs)
    if not (_grad_state.enabled and rule.differentiable):
        return _wrap_outputs(out, None, args)

    if kwargs and any(isinstance(v, Tensor) and v._rg for v in kwargs.values()):
        args, kwargs = _bind_keywords(rule, args, kwargs)
    is_tensor = tuple(
        isinstance(a, Tensor) or (type(a) in (list, tuple) and any(isinstance(x, Tensor) for x in a))
        for a in args
    )
    node_name, listed = rule.node_name(is_tensor, kwargs, args)
    nexts: list[tuple] = []
    inputs: list[tuple] = []
    active: list[int] = []
    seq = rule.sequence_argnums
    for pos in listed:
        if pos >= len(args):
            continue
        a = args[pos]
        if pos in seq:
            for k, el in enumerate(a):
                e = edge(el)
                nexts.append(e)
                inputs.append((pos, k) if e[0] is not None else (-1, k))
                if e[0] is not None and pos not in active:
                    active.append(pos)
        else:
            e = edge(a)
            nexts.append(e)
            inputs.append((pos, -1) if e[0] is not None else (-1, -1))
            if e[0] is not None:
                active.append(pos)
    if not active:
        return _wrap_outputs(out, None, args)

    keep, uses_ans = _save_plan(rule, tuple(active), len(args))
    saved_args = tuple(a if k else None for a, k in zip(args, keep, strict=True))
    versions = tuple((a, a._version) for a, k in zip(args, keep, strict=True)
                     if k and isinstance(a, Tensor))
    ans_vc = None
    if uses_ans:
        from .tensor import VersionCounter

        ans_vc = (VersionCounter(), 0)
    node = make_rule_node(name or node_name, rule, saved_args, kwargs, tuple(nexts),
                          tuple(inputs), out if uses_ans else None, ans_vc, versions or None)
    return _wrap_outputs(out, node, args, ans_vc[0] if ans_vc else None)


def _wrap_outputs(out: Any, node: Any, args: tuple, vc: Any = None) -> Any:
    from .tensor import Tensor

    if isinstance(out, (np.ndarray, np.generic)):
        t = Tensor._make(out, node, 0) if node is not None else Tensor._wrap(out)
        if vc is not None:
            t._vc = vc
        elif type(out) is np.ndarray and out.base is not None:
            _share_version_with_base(t, out, args)
        return t
    if isinstance(out, (tuple, list)) and out and all(
        isinstance(o, (np.ndarray, np.generic)) for o in out
    ):
        if node is None:
            return type(out)(Tensor._wrap(o) for o in out) if isinstance(out, list) else tuple(
                Tensor._wrap(o) for o in out)
        wrapped = [Tensor._make(o, node, i) for i, o in enumerate(out)]
        if vc is not None:
            for t in wrapped:
                t._vc = vc
        return wrapped if isinstance(out, list) else tuple(wrapped)
    return out


def _share_version_with_base(t: Any, out: np.ndarray, args: tuple) -> None:
    """A view of an input shares its version counter, so in-place changes are seen."""
    from .tensor import Tensor

    for a in args:
        if isinstance(a, Tensor) and type(a._a) is np.ndarray and np.may_share_memory(out, a._a):
            t._vc = a._version_counter()
            return


def record_fn(fun: Any, args: tuple, kwargs: dict | None = None, **options: Any) -> Any:
    """:func:`record` for a callable looked up in the registry."""
    return record(get_rule(fun), args, kwargs, **options)
