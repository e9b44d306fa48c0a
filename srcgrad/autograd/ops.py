"""Recording operations on the tape: run a rule's primitive, link a node.

Every Tensor operation, operator and NumPy call on Tensors ends in
:func:`record`, which runs the primitive on the underlying arrays and, when
a gradient will be needed, creates the node that will later call the
primitive's VJPs from the rule registry.
"""

from __future__ import annotations

import dis
import inspect
import operator
import weakref
from typing import Any

import numpy as np

from ..errors import MissingDerivativeError
from ..rules.registry import (
    EVERY_ARGUMENT,
    Rule,
    _dispatchers,
    get_rule,
    missing_derivative_message,
    missing_derivatives,
    refuse_complex,
)
from ..rules.source import positional_defaults, structural_params
from . import forward_ad, grad_mode
from .graph import OutputVersions, make_rule_node, node_class, parameters_used
from .saved import ACTIVE as _SAVED_HOOKS
from .saved import pack_rule_node

__all__ = ["record", "record_fn", "edge", "tape_records"]

# Bound by srcgrad.autograd.tensor once the classes exist (mutual dependency).
Tensor: Any = None
VersionCounter: Any = None

_grad_state = grad_mode._state
_DUAL = forward_ad.OPEN


def edge(t: Any) -> tuple:
    """The ``(node, output_nr)`` a gradient for ``t`` flows into; ``(None, 0)`` for constants."""
    if isinstance(t, Tensor) and t._rg:
        fn = t._fn
        if fn is not None:
            return (fn, t._output_nr)
        return (t._accumulator(), 0)
    return (None, 0)


def _save_plan(rule: Rule, active: tuple, nargs: int) -> tuple:
    """What the active VJPs read: ``(keep, uses_ans, check)``.

    ``keep[i]``: argument ``i`` must be saved; ``check[i]``: its *value* is
    read, so an in-place change before backward is an error (an argument read
    only for its shape, as ``unbroadcast(g, x)`` reads ``x``, is kept but not
    checked, as PyTorch keeps only sizes there).
    """
    key = ("save", active, nargs)
    plan = rule._plans.get(key)
    if plan is not None:
        return plan
    keep = [False] * nargs
    check = [False] * nargs
    uses_ans = rule.outputs > 1
    for pos in active:
        vjp = rule.vjps[pos]
        used = parameters_used(vjp)
        code = getattr(vjp, "__code__", None)
        if "*" in used or code is None:
            keep = [True] * nargs
            check = [True] * nargs
            uses_ans = True
            continue
        structural = structural_params(vjp)
        params = code.co_varnames[: code.co_argcount]
        if len(params) > 1 and params[1] in used:
            uses_ans = True
        for i, name in enumerate(params[2:]):
            if i < nargs and name in used:
                keep[i] = True
                if name not in structural:
                    check[i] = True
        if nargs > len(params) - 2:  # extra positional args land in *args
            keep[len(params) - 2:] = [True] * (nargs - len(params) + 2)
            check[len(params) - 2:] = [True] * (nargs - len(params) + 2)
    plan = (tuple(keep), uses_ans, tuple(check))
    rule._plans[key] = plan
    return plan


def _raw(a: Any, tensor_type: type) -> Any:
    if isinstance(a, tensor_type):
        return a._a
    if type(a) in (list, tuple) and any(isinstance(x, tensor_type) for x in a):
        return type(a)(x._a if isinstance(x, tensor_type) else x for x in a)
    return a


def tape_records(primitive: Any) -> bool:
    """Can the tape record ``primitive`` called on Tensors?

    Not the ``math`` module's functions and ``float()``, which take a Python
    number out of a Tensor, nor ``np.full`` and ``np.array``, which store their
    arguments into a plain array without NumPy's dispatch: the tape refuses
    those with a RuntimeError (the source engine differentiates them).
    """
    module = getattr(primitive, "__module__", None) or ""
    # SciPy's Python functions (logsumexp, scipy.linalg, scipy.stats...) turn their
    # arguments into plain arrays without NumPy's dispatch; its ufuncs dispatch
    return module != "math" and primitive is not float and primitive is not np.full \
        and primitive is not np.array and not module.startswith("scipy.")


_EMPTY = inspect.Parameter.empty


def _bind_keywords(rule: Rule, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Move keyword-passed differentiable arguments to their positions.

    Positions left out before such an argument take the primitive's defaults:
    ``np.histogramdd(x, edges, weights=w)`` is ``np.histogramdd(x, edges, None, None, w)``.
    """
    vjp = next(iter(rule.vjps.values()))
    names = list(inspect.signature(vjp).parameters)[2:]
    new_args = list(args)
    new_kwargs = dict(kwargs)
    for pos in sorted(rule.vjps):
        if pos >= len(new_args) and pos < len(names) and names[pos] in new_kwargs:
            while len(new_args) < pos:
                name = names[len(new_args)]
                if name in new_kwargs:
                    new_args.append(new_kwargs.pop(name))
                    continue
                default = dict(positional_defaults(rule.primitive)).get(name, _EMPTY)
                if default is _EMPTY:
                    raise TypeError(
                        f"{rule.name}: pass argument {names[pos]!r} positionally to "
                        "differentiate it"
                    )
                new_args.append(default)
            new_args.append(new_kwargs.pop(names[pos]))
    return tuple(new_args), new_kwargs


def record(rule: Rule, args: tuple, kwargs: dict | None = None, *, forward: Any = None,
           name: str | None = None) -> Any:
    """Run ``rule``'s primitive on the arrays inside ``args`` and record it when needed.

    ``forward`` replaces the primitive for the computation (``operator.mul``
    is faster than ``np.multiply`` on scalars); ``name`` overrides the node
    name for Tensor methods PyTorch names differently (``t()`` ->
    ``TBackward0``).

    This is the tape's hot path, for calls on arrays with constant keywords:
    what depends only on which arguments are tensors needing grad (listed
    inputs, what to save) is planned once per rule and pattern, then reused;
    only a node name that depends on argument values is worked out per call.
    Anything else goes to :func:`_record_general`.
    """
    if _DUAL[0] and forward_ad.carries(args, kwargs):   # a tangent to carry (forward AD)
        return forward_ad.record_dual(rule, args, kwargs, forward, name)
    T = Tensor
    if not kwargs:
        kwargs = _NO_KWARGS
    else:
        for v in kwargs.values():   # (a loop: cheaper than any() over a generator)
            if isinstance(v, T):
                return _record_general(rule, args, kwargs, forward, name)
    raw = []
    # A leading 1, then one base-3 digit per argument: 0 constant, 1 tensor, 2 tensor
    # needing grad (the leading 1 tells (x,) from (c, x), so the pattern alone is a key).
    pattern = 1
    needs = False
    for a in args:
        if isinstance(a, T):
            raw.append(a._a)
            if a._rg:
                pattern = pattern * 3 + 2
                needs = True
            else:
                pattern = pattern * 3 + 1
        elif type(a) in _SEQUENCES and any(isinstance(x, T) for x in a):
            # tensors inside a list (np.concatenate)
            return _record_general(rule, args, kwargs, forward, name)
        else:
            raw.append(a)
            pattern *= 3
    out = (forward or rule.primitive)(*raw, **kwargs)
    if not (needs and _grad_state.enabled and rule.differentiable):
        if needs and rule.inert is not EVERY_ARGUMENT and _grad_state.enabled:
            refuse_missing(rule, args, kwargs)     # constant results, some arguments not inert
        return _wrap_outputs(out, None, args, None, rule)
    if _not_float(out):      # integers and booleans carry no gradient, as in PyTorch
        return _wrap_outputs(out, None, args, None, rule)
    if not rule.complex:
        refuse_complex(rule.name, *raw)
    if type(out) in _SEQUENCES or rule.outputs != 1:  # several outputs: the general path
        return _link(rule, args, tuple(raw), kwargs, out, name)
    # a fixed node name: the pattern alone is the plan's key (see _plan_for)
    plan = rule._plans.get(pattern) if name is None else None
    if plan is None:
        plan = _plan_for(rule, pattern, len(args), kwargs, raw, name)
    if plan is _GENERIC:  # no listed input needs grad
        return _wrap_outputs(out, None, args, None, rule)
    cls, edges, inputs, keep, uses_ans, checked = plan
    # edge() inlined: a position >= 0 holds a tensor needing grad (a plan that is not
    # _GENERIC has one, so a single edge is one)
    if len(edges) == 1:
        a = args[edges[0]]
        fn = a._fn
        nexts: Any = ((fn, a._output_nr) if fn is not None else (a._accumulator(), 0),)
    else:
        nexts = []
        for p in edges:
            if p < 0:
                nexts.append(_NO_EDGE)
            else:
                a = args[p]
                fn = a._fn
                nexts.append((fn, a._output_nr) if fn is not None else (a._accumulator(), 0))
        nexts = tuple(nexts)
    saved = None
    if checked:
        saved = []
        for p in checked:
            a = args[p]
            vc = a._vc
            saved.append((a, vc.value if vc is not None else 0))
        saved = tuple(saved)
    if keep is None:
        saved_args, saved_raw = args, tuple(raw)
    elif len(keep) == 1 == len(args):   # one argument (log_softmax, mean...): kept or not
        saved_args, saved_raw = (args, tuple(raw)) if keep[0] else _NOTHING_SAVED
    else:
        saved_args = tuple([a if k else None for a, k in zip(args, keep)])  # noqa: B905
        saved_raw = tuple([a if k else None for a, k in zip(raw, keep)])  # noqa: B905
    vc = VersionCounter() if uses_ans else None
    node = make_rule_node(cls, rule, saved_args, saved_raw, kwargs, nexts, inputs,
                          out if uses_ans else None, (vc, 0) if uses_ans else None, saved,
                          None, None, out)
    if keep is not None and type(out) not in _ARRAYS:
        result = _wrap_outputs(out, node, args, vc, rule)
    else:
        result = _output_tensor(out, node, vc, args, rule)
    if _SAVED_HOOKS[0]:
        pack_rule_node(node, result)
    return result


_NOTHING_SAVED = ((None,), (None,))


def _output_versions(rule: Rule, inputs: tuple, out: tuple) -> OutputVersions:
    """One version counter per output of a node with several, watching the outputs the
    active VJPs read (``max(x, dim)`` reads its indices, not its values)."""
    read: set = set()
    for pos in {p for p, _ in inputs if p >= 0}:
        items = answer_items_read(rule.vjps[pos])
        read.update(range(len(out)) if items is None else items)
    return OutputVersions(tuple(VersionCounter() for _ in out),
                          tuple(sorted(i for i in read if i < len(out))), out)


_LOAD_INT = frozenset({"LOAD_CONST", "LOAD_SMALL_INT"})
_LOAD_ONE = frozenset({"LOAD_FAST", "LOAD_FAST_BORROW"})
_LOAD_TWO = frozenset({"LOAD_FAST_LOAD_FAST", "LOAD_FAST_BORROW_LOAD_FAST_BORROW"})
_ITEMS_CACHE: dict = {}


def answer_items_read(vjp: Any) -> frozenset | None:
    """Which items of ``ans`` (a tuple of outputs) ``vjp`` reads: only ``ans[k]`` with
    constant ``k`` is understood; ``None`` (all of them) for any other use."""
    code = getattr(vjp, "__code__", None)
    if code is None or code.co_argcount < 2:
        return None
    if code in _ITEMS_CACHE:
        return _ITEMS_CACHE[code]
    ans = code.co_varnames[1]
    ins = list(dis.get_instructions(code))
    items: set | None = set()
    for k, i in enumerate(ins):
        names = i.argval if isinstance(i.argval, tuple) else (i.argval,)
        if not (i.opname.startswith("LOAD_") and ans in names and i.opname != "LOAD_CONST"):
            continue
        nxt = ins[k + 1:k + 3]
        # ``ans`` pushed last: by itself, or as the second name of the superinstruction
        # loading two locals at once (Python 3.13+: ``LOAD_FAST_LOAD_FAST (x, ans)``)
        last = i.opname in _LOAD_ONE or (i.opname in _LOAD_TWO and names[-1] == ans
                                          and names.count(ans) == 1)
        if (last and len(nxt) == 2
                and nxt[0].opname in _LOAD_INT and type(nxt[0].argval) is int
                and (nxt[1].opname == "BINARY_SUBSCR" or (nxt[1].opname == "BINARY_OP"
                                                           and "[" in nxt[1].argrepr))):
            items.add(nxt[0].argval)
        else:
            items = None
            break
    result = None if items is None else frozenset(items)
    _ITEMS_CACHE[code] = result
    return result


def _record_general(rule: Rule, args: tuple, kwargs: dict, forward: Any,
                    name: str | None) -> Any:
    """:func:`record` for tensors inside lists or passed as keywords."""
    T = Tensor
    raw_args = tuple(_raw(a, T) for a in args)
    needs = any(_requires_grad(a, T) for a in args)
    if kwargs:
        raw_kwargs = {k: (v._a if isinstance(v, T) else v) for k, v in kwargs.items()}
        needs = needs or any(isinstance(v, T) and v._rg for v in kwargs.values())
    else:
        raw_kwargs = kwargs = _NO_KWARGS
    out = (forward or rule.primitive)(*raw_args, **raw_kwargs)
    if not (needs and _grad_state.enabled and (rule.differentiable or
                                               rule.inert is not EVERY_ARGUMENT)):
        return _wrap_outputs(out, None, args, None, rule)
    refuse_missing(rule, args, kwargs)
    if not rule.differentiable or _not_float(out):
        return _wrap_outputs(out, None, args, None, rule)
    if not rule.complex:
        refuse_complex(rule.name, *raw_args, *raw_kwargs.values())
    if kwargs and any(isinstance(v, T) and v._rg for v in kwargs.values()):
        args, kwargs = _bind_keywords(rule, args, kwargs)
        raw_args = tuple(_raw(a, T) for a in args)
    return _link(rule, args, raw_args, kwargs, out, name)


def _not_float(out: Any) -> bool:
    """Is ``out`` one array (or NumPy scalar) of integers or booleans (no gradient)?"""
    dtype = getattr(out, "dtype", None)
    return dtype is not None and dtype.kind not in "fc"


def refuse_missing(rule: Rule, args: tuple, kwargs: dict) -> None:
    """Raise when a tensor needing grad is an argument ``rule`` has no VJP for (and does
    not declare inert): its gradient would be dropped, a silent zero."""
    T = Tensor
    positions = [i for i, a in enumerate(args) if _requires_grad(a, T)]
    keywords = [k for k, v in kwargs.items() if _requires_grad(v, T)]
    missing = missing_derivatives(rule, rule.vjps, positions, keywords)
    if missing:
        raise MissingDerivativeError(missing_derivative_message(rule, missing[0]))


def _requires_grad(a: Any, T: type) -> bool:
    if isinstance(a, T):
        return a._rg
    return type(a) in _SEQUENCES and any(isinstance(x, T) and x._rg for x in a)


def _link(rule: Rule, args: tuple, raw_args: tuple, kwargs: dict, out: Any,
          name: str | None) -> Any:
    """Create the node for a call whose output ``out`` is computed (general case)."""
    T = Tensor
    is_tensor = tuple(
        isinstance(a, T) or (type(a) in _SEQUENCES and any(isinstance(x, T) for x in a))
        for a in args
    )
    # Node names read shapes and index types: the arrays answer that fastest.
    node_name, listed = rule.node_name(is_tensor, kwargs, raw_args)
    nexts: list[tuple] = []
    inputs: list[tuple] = []
    active: list[int] = []
    seq = rule.sequence_argnums
    nargs = len(args)
    for pos in listed:
        if pos >= nargs:
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
        return _wrap_outputs(out, None, args, None, rule)
    keep, uses_ans, check = _save_plan(rule, tuple(active), nargs)
    return _make_node(rule, node_class(name or node_name), args, raw_args, kwargs,
                      tuple(nexts), tuple(inputs), None if all(keep) else keep, uses_ans,
                      _versions(args, check), out)


def _make_node(rule: Rule, cls: type, args: tuple, raw: tuple, kwargs: dict, nexts: tuple,
               inputs: tuple, keep: tuple | None, uses_ans: bool, saved: tuple | None,
               out: Any) -> Any:
    """Link a node for a call whose output ``out`` is computed; return the output tensor."""
    if keep is None:
        saved_args, saved_raw = args, raw
    elif len(keep) == 1 == len(args):   # one argument (log_softmax, mean...): kept or not
        saved_args, saved_raw = (args, raw) if keep[0] else ((None,), (None,))
    else:
        saved_args = tuple([a if k else None for a, k in zip(args, keep)])  # noqa: B905
        saved_raw = tuple([a if k else None for a, k in zip(raw, keep)])  # noqa: B905
    pieces = out if type(out) in _SEQUENCES and rule.outputs == 1 else None
    # the arguments may choose how many outputs the call has (svd's compute_uv)
    count = None if rule.outputs_of is None else rule.count_outputs(raw, kwargs)
    vc = None
    if uses_ans:
        vc = _output_versions(rule, inputs, out) if type(out) is tuple and rule.outputs > 1 \
            else VersionCounter()
    node = make_rule_node(cls, rule, saved_args, saved_raw, kwargs, nexts, inputs,
                          out if uses_ans else None, (vc, 0) if uses_ans else None, saved,
                          pieces, count, out)
    if type(out) in _ARRAYS:  # one array out: the common case, wrapped directly
        result = _output_tensor(out, node, vc, args, rule)
    else:
        result = _wrap_outputs(out, node, args, vc, rule)
    if _SAVED_HOOKS[0]:
        pack_rule_node(node, result)
    return result


def _output_tensor(out: Any, node: Any, vc: Any, args: tuple, rule: Rule) -> Any:
    """The tensor for a node's single array output (sharing a view's version counter)."""
    t = Tensor.__new__(Tensor)
    t._init(out, node, 0, True)
    if vc is not None:
        t._vc = vc
    elif type(out) is np.ndarray and out.base is not None:
        _share_version_with_base(t, out, args, rule)
    return t


_SEQUENCES = (list, tuple)
_ARRAYS = frozenset({np.ndarray, np.float64, np.float32, np.float16})
_NO_KWARGS: dict = {}
_GENERIC = object()
_NO_EDGE = (None, 0)


def _plan_for(rule: Rule, pattern: int, nargs: int, kwargs: dict, raw: list,
              name: str | None) -> Any:
    """The cached plan (see :func:`_plan`) for a call with argument ``pattern``."""
    plans = rule._plans
    listed = None
    if name is not None:
        key: Any = (pattern, name)
    elif callable(rule.node):  # a name that depends on the call's values
        # names depend on ranks, dtype kinds and index types, never on array contents:
        # the plan is remembered per such signature (working a name out costs more)
        signature = _signature(raw)
        words = (() if kwargs is _NO_KWARGS else _keywords(kwargs)) \
            if signature is not None else None
        by_signature = (pattern, signature, words) if words is not None else None
        if by_signature is not None:
            plan = plans.get(by_signature)
            if plan is not None:
                return plan
        is_tensor = _IS_TENSOR.get(pattern)
        if is_tensor is None:
            is_tensor = _IS_TENSOR[pattern] = tuple(d > 0 for d in _digits(pattern, nargs))
        name, listed = rule.node_name(is_tensor, kwargs, raw)
        plan = plans.get((pattern, name, listed))
        if plan is None:
            plan = plans[pattern, name, listed] = _plan(rule, _digits(pattern, nargs), name,
                                                        listed)
        if by_signature is not None and len(plans) < 4096:
            plans[by_signature] = plan
        return plan
    else:
        key = pattern
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _plan(rule, _digits(pattern, nargs), name, listed)
    return plan


_IS_TENSOR: dict[int, tuple] = {}


_SCALARS = frozenset({int, float, bool, str, type(None), np.float64, np.float32, np.int64,
                      np.intp, np.bool_})


def _signature(values: Any) -> tuple | None:
    """What a node name may depend on in the arguments: ranks and kinds of arrays, the
    types and values of scalars, the structure of tuples; ``None`` for anything else."""
    if len(values) == 2 and type(values[0]) is np.ndarray:   # the commonest calls first:
        a, b = values                                        # a @ b, a[rows, cols]
        if type(b) is np.ndarray:
            return (a.ndim, a.dtype.kind, b.ndim, b.dtype.kind)
        if type(b) is tuple and len(b) == 2 and type(b[0]) is np.ndarray \
                and type(b[1]) is np.ndarray:
            return (a.ndim, a.dtype.kind, tuple, b[0].ndim, b[0].dtype.kind, b[1].ndim,
                    b[1].dtype.kind)
    out = []
    for v in values:
        kind = type(v)
        if kind is np.ndarray:
            out.append((v.ndim, v.dtype.kind))
        elif kind in _SCALARS:
            out.append((kind, v))
        elif kind is slice or v is Ellipsis:
            out.append(kind)
        elif kind is tuple or kind is list:
            inner = _signature(v)
            if inner is None:
                return None
            out.append((kind, inner))
        else:
            return None
    return tuple(out)


def _keywords(kwargs: dict) -> tuple | None:
    """The keyword arguments as a key, or ``None`` when a value is not a plain scalar."""
    if not kwargs:
        return ()
    items = []
    for k, v in kwargs.items():
        if type(v) in _SCALARS:
            items.append((k, v))
        elif type(v) is tuple and all(type(x) in _SCALARS for x in v):
            items.append((k, v))
        else:
            return None
    return tuple(items)


def _digits(pattern: int, n: int) -> tuple:
    """The per-argument states encoded in ``pattern`` (see :func:`record`)."""
    out = []
    for _ in range(n):
        out.append(pattern % 3)
        pattern //= 3
    return tuple(reversed(out))


def _plan(rule: Rule, state: tuple, name: str | None, listed: tuple | None) -> Any:
    """Node class, edges, inputs, save mask and output use for one call pattern."""
    if listed is None:
        node_name, listed = rule.node_name(tuple(s > 0 for s in state), _NO_KWARGS)
        name = name or node_name
    needing = [p for p, s in enumerate(state) if s == 2]
    missing = missing_derivatives(rule, rule.vjps, needing)
    if missing:     # (raised before any plan for this pattern is kept)
        raise MissingDerivativeError(missing_derivative_message(rule, missing[0]))
    # the listed positions, -1 where a constant is listed for PyTorch parity
    edges = tuple(p if state[p] == 2 else -1 for p in listed if p < len(state))
    inputs = tuple((p, -1) for p in edges)
    active = tuple(p for p in edges if p >= 0)
    if not active:
        return _GENERIC
    keep, uses_ans, check = _save_plan(rule, active, len(state))
    # positions of the tensors whose values backward reads (version-checked)
    checked = tuple(i for i, c in enumerate(check) if c and state[i] > 0)
    return (node_class(name), edges, inputs, None if all(keep) else keep, uses_ans, checked)


def _versions(args: tuple, check: tuple) -> tuple | None:
    """``(tensor, version)`` for the saved tensors whose values backward will read."""
    T = Tensor
    saved = tuple([(a, a._vc.value if a._vc is not None else 0)
                   for a, c in zip(args, check) if c and isinstance(a, T)])  # noqa: B905
    return saved or None


def _wrap_outputs(out: Any, node: Any, args: tuple, vc: Any = None, rule: Any = None) -> Any:
    if isinstance(out, (np.ndarray, np.generic)):
        t = Tensor._make(out, node, 0) if node is not None else Tensor._wrap(out)
        if vc is not None:
            t._vc = vc
        elif type(out) is np.ndarray and out.base is not None:
            _share_version_with_base(t, out, args, rule)
        return t
    if isinstance(out, (tuple, list)) and out and all(_is_output(o) for o in out):
        if node is None:
            wrapped = [_constant_output(o) for o in out]
        else:
            constant = rule.constant_outputs if rule is not None else ()
            wrapped = [Tensor._make(o, node, i) if differentiable_output(o)
                       and i not in constant else _constant_output(o)
                       for i, o in enumerate(out)]
            if vc is not None:
                for i, t in enumerate(wrapped):
                    if isinstance(t, Tensor):
                        t._vc = vc.counters[i] if isinstance(vc, OutputVersions) else vc
        return wrapped if isinstance(out, list) else tuple(wrapped)
    return out


_ARRAY_TYPES = (np.ndarray, np.generic)


def _is_output(o: Any) -> bool:
    """An array, or a sequence of arrays (``np.histogramdd``'s list of bin edges)."""
    if isinstance(o, _ARRAY_TYPES):
        return True
    return isinstance(o, (tuple, list)) and all(isinstance(e, _ARRAY_TYPES) for e in o)


def differentiable_output(o: Any) -> bool:
    """Whether an item of a call's several outputs is an output of its node.

    Integer results (``np.unique``'s counts, indices) have no gradient, as in
    PyTorch: a gradient sent into them would reach a rule that has no
    derivative for them.  An output nested in a sequence (``np.histogramdd``'s
    bin edges) is never differentiated by a rule.
    """
    return isinstance(o, _ARRAY_TYPES) and o.dtype.kind in "fc"


def _constant_output(o: Any) -> Any:
    """``o`` wrapped in Tensors that need no gradient."""
    if isinstance(o, _ARRAY_TYPES):
        return Tensor._wrap(o)
    return type(o)(Tensor._wrap(e) for e in o)


def _share_version_with_base(t: Any, out: np.ndarray, args: tuple, rule: Any = None) -> None:
    """A view of an input shares its version counter, so in-place changes are seen.

    A view made by indexing a base tensor directly remembers the index, so an
    in-place change of the view can be recorded on the base.
    """
    for a in args:
        if isinstance(a, Tensor) and type(a._a) is np.ndarray and np.may_share_memory(out, a._a):
            vc = t._vc = a._version_counter()
            t._base = a._base if a._base is not None else a
            views = vc.views
            if views is None:
                views = vc.views = []
            views.append(weakref.ref(t))
            n = len(views)
            if n >= 64 and not n & (n - 1):     # now and then, forget views that died
                views[:] = [ref for ref in views if ref() is not None]
            if rule is not None and rule.primitive is operator.getitem and a._base is None \
                    and args[0] is a:
                t._view_index = args[1]
            return


def record_fn(fun: Any, args: tuple, kwargs: dict | None = None, **options: Any) -> Any:
    """:func:`record` for a callable looked up in the registry."""
    return record(get_rule(fun), args, kwargs, **options)


def _dispatch_primitive(wrapper: Any, fun: Any, args: tuple, kwargs: dict) -> Any:
    """Record a call of an ``@srcgrad.primitive`` function on Tensors as one node."""
    T = Tensor
    if not any(isinstance(a, T) for a in args) and not any(
        isinstance(v, T) for v in kwargs.values()
    ):
        return NotImplemented
    return record(get_rule(wrapper), args, kwargs, forward=fun)


_dispatchers.append(_dispatch_primitive)
