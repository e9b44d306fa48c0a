"""What each normalized statement computes: its primitive, rule and arguments.

This is the one place that maps syntax (``a * b``, ``x[i]``, ``x.sum()``,
``np.sin(x)``) to the callables the rule registry knows.  The sweeps ask it
for an :class:`Operation` and never look at syntax themselves.
"""

from __future__ import annotations

import builtins
import inspect
import operator
import types
import weakref
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from .. import fast_numpy
from ..rules import registry
from ..treeargs import TreeFunction
from . import linear_helpers
from .normalize import ARRAY_ATTRIBUTES, CONSTANT_ATTRIBUTES, index_value, is_atom, name_nodes
from .parse import MISSING, ParsedFunction

__all__ = ["Operation", "classify", "resolve_static", "arg_names"]

# Builtins whose results never carry a derivative, whatever their inputs.
CONSTANT_BUILTINS = {
    builtins.len, builtins.range, builtins.isinstance, builtins.print, builtins.type,
    builtins.str, builtins.repr, builtins.bool, builtins.hasattr, builtins.id,
    builtins.enumerate, builtins.zip, builtins.callable, builtins.issubclass,
}
_CONSTANT_OPS = (gast.Not, gast.Invert)


@dataclass
class Operation:
    kind: str                   # copy | prim | const | unknown | user | pack | item | append
    #                             | setlist | pop | linear (a helper of generated code)
    node: Any = None            # the value expression (or the statement for append)
    fn: Any = None
    rule: Any = None
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    outputs: int | None = None  # this call's number of outputs, when its arguments choose it

    def operands(self) -> list:
        """Every argument expression, positional then keyword."""
        return [*self.args, *self.kwargs.values()]


def resolve_static(parsed: ParsedFunction, node: Any) -> Any:
    if isinstance(node, gast.Name):
        return fast_numpy.original(parsed.resolve(node.id))
    if isinstance(node, gast.Attribute):
        base = resolve_static(parsed, node.value)
        if base is MISSING:
            return MISSING
        return fast_numpy.original(getattr(base, node.attr, MISSING))
    if isinstance(node, gast.Constant):
        return node.value
    return MISSING


def arg_names(expr: Any) -> list[str]:
    """Local names read by an argument expression."""
    cls = expr.__class__
    # (the common argument, a name or a constant, without a walk)
    if cls is gast.Name and getattr(expr, "annotation", None) is None:
        return [] if getattr(expr, "support", False) else [expr.id]
    if cls is gast.Constant:
        return []
    return [n.id for n in name_nodes(expr) if not getattr(n, "support", False)]


def _np_function(target: str) -> Any:
    if target == "astype":
        from ..rules import shape

        return getattr(shape, "astype", MISSING)
    if target == "item":
        return builtins.float
    return getattr(np, target, MISSING)


def classify(value: Any, parsed: ParsedFunction, kinds: dict[str, str],
             locals_: set[str]) -> Operation:
    """The operation an assignment's value (or an expression statement) performs."""
    if is_atom(value):
        if isinstance(value, gast.Name):
            return Operation("copy", value, args=[value])
        return Operation("const", value)
    if isinstance(value, gast.BinOp):
        fn = registry.BINARY_OPERATORS.get(type(value.op).__name__)
        return _prim(value, fn, [value.left, value.right], {})
    if isinstance(value, gast.UnaryOp):
        if isinstance(value.op, _CONSTANT_OPS):
            return Operation("const", value)
        fn = registry.UNARY_OPERATORS[type(value.op).__name__]
        return _prim(value, fn, [value.operand], {})
    if isinstance(value, (gast.Compare, gast.JoinedStr)):
        return Operation("const", value)
    if isinstance(value, (gast.Tuple, gast.List)):
        return Operation("pack", value, args=list(value.elts))
    if isinstance(value, gast.Dict):     # (an output tree: its values' derivatives by key)
        return Operation("pack", value, args=list(value.values))
    if isinstance(value, gast.Subscript):
        base = value.value
        index = index_value(value.slice, parsed.builtin_names)
        if isinstance(base, gast.Name) and kinds.get(base.id) in ("list", "tuple"):
            return Operation("item", value, args=[base, index])
        return _prim(value, operator.getitem, [base, index], {})
    if isinstance(value, gast.Attribute):
        if value.attr in CONSTANT_ATTRIBUTES or getattr(value, "receiver_read", False):
            return Operation("const", value)
        target = ARRAY_ATTRIBUTES[value.attr]
        return _prim(value, getattr(np, target), [value.value], {})
    if isinstance(value, gast.Call):
        return _call(value, parsed, locals_)
    raise parsed.error(value, f"the expression {type(value).__name__}")


def _call(value: Any, parsed: ParsedFunction, locals_: set[str]) -> Operation:
    args = list(value.args)
    kwargs = {k.arg: k.value for k in value.keywords}
    func = value.func
    if getattr(value, "list_pop", False):
        return Operation("pop", value, args=[func.value])
    method = getattr(value, "method", None)
    if method is not None:
        receiver = func.value
        fn = _np_function(method)
        if method == "copy" and registry.lookup(fn) is None:
            return Operation("copy", value, args=[receiver])
        if fn is MISSING:
            raise parsed.error(value, f"the method .{func.attr}()")
        node = _prim(value, fn, [receiver, *args], kwargs)
        if func.attr == "item":
            node.args = [receiver]
        return node
    if (isinstance(func, gast.Attribute) and func.attr == "append"
            and isinstance(func.value, gast.Name) and func.value.id in locals_):
        # ``items.append(v)`` on a local list (``np.append`` is a function, below)
        return Operation("append", value, args=[func.value, args[0]])
    if getattr(func, "support", False) or getattr(func, "support_name", None):
        from . import support

        support_name = getattr(func, "support_name", func.id)
        func.support_name = support_name
        if support_name == "setitem_list":
            return Operation("setlist", value, args=args)
        if support_name in ("seq_concat", "seq_repeat"):
            return Operation(support_name[4:], value, args=args)
        fn = support.resolve(support_name)
        return _prim(value, fn, args, kwargs)
    fn = resolve_static(parsed, func)
    if fn is MISSING:
        raise parsed.error(value, "a call to a function that cannot be resolved")
    if isinstance(func, gast.Attribute) and not _fixed_chain(func, parsed):
        raise parsed.error(value, f"a call to {_chain_text(func)}, a function kept on an "
                           "object, which may be replaced after the transform",
                           "Call a function of a module or a method of the class, or pass "
                           'the function in, or use engine="tape".')
    as_source = getattr(fn, "source_function", None)
    if callable(as_source) and not isinstance(fn, type):
        # a srcgrad gradient called inside the function: its generated code, called
        plain = as_source()
        if plain is not None:
            return Operation("user", value, fn=plain, args=args, kwargs=kwargs)
        raise _nested_transform(parsed, value, repr(fn).strip("<>"))
    rule = registry.lookup(fn)
    if (fn is builtins.max or fn is builtins.min) and kwargs:
        raise parsed.error(value, f"{fn.__name__}() with {', '.join(k + '=' for k in kwargs)}",
                           "The item chosen by a key function is not differentiated: index "
                           f"explicitly (np.arg{fn.__name__}), or use engine=\"tape\".")
    if rule is not None:
        if not rule.differentiable:
            return Operation("const", value, fn=fn, rule=rule, args=args, kwargs=kwargs)
        return Operation("prim", value, fn=fn, rule=rule, args=args, kwargs=kwargs,
                         outputs=_output_count(rule, value, args, kwargs, parsed))
    if fn in CONSTANT_BUILTINS:
        return Operation("const", value, fn=fn, args=args, kwargs=kwargs)
    helper = linear_helpers.lookup(fn)
    if helper is not None:
        kind = "const" if helper.constant else "linear"
        return Operation(kind, value, fn=fn, rule=helper, args=args, kwargs=kwargs)
    if isinstance(fn, type) and fn.__module__.startswith("srcgrad."):
        return Operation("const", value, fn=fn, args=args, kwargs=kwargs)  # ShapeStack()
    if getattr(fn, "__module__", None) in _TRANSFORM_MODULES or \
            str(getattr(fn, "__module__", "")).startswith("srcgrad.autograd."):
        # srcgrad's own transforms (jvp, vjp, jacobian, hessian, hvp, a pullback) and the
        # tape: never differentiated as if they were the user's code
        raise _nested_transform(parsed, value, f"srcgrad.{getattr(fn, '__name__', fn)}")
    if isinstance(fn, TreeFunction):        # a callee given containers: their leaves
        return Operation("user", value, fn=fn, args=args, kwargs=kwargs)
    if isinstance(fn, types.FunctionType):
        # (a function made by exec in a namespace without __name__ has __module__ None)
        if (getattr(fn, "__module__", None) or "").startswith(("numpy", "srcgrad.runtime")):
            return Operation("unknown", value, fn=fn, args=args, kwargs=kwargs)
        return Operation("user", value, fn=fn, args=args, kwargs=kwargs)
    if inspect.ismethod(fn) and not inspect.ismodule(fn.__self__) and \
            isinstance(fn.__func__, types.FunctionType):
        # a method of the class, on an object fixed when transformed: the callee's
        # code reads the object's attributes when called (``self.w``)
        return Operation("user", value, fn=fn, args=args, kwargs=kwargs)
    if isinstance(fn, type) and not (fn.__module__ in ("builtins", "numpy")
                                     or fn.__module__.startswith("numpy")):
        raise parsed.error(value, f"a call into a user class ({fn.__name__})",
                           "Build objects outside the differentiated function, or use "
                           'engine="tape".')
    if fn in (builtins.eval, builtins.exec, builtins.compile, builtins.globals,
              builtins.locals, builtins.vars, builtins.setattr, builtins.delattr):
        raise parsed.error(value, f"a call to {fn.__name__}()",
                           "Write the code out explicitly.")
    return Operation("unknown", value, fn=fn, args=args, kwargs=kwargs)


_TRANSFORM_MODULES = frozenset({"srcgrad.api", "srcgrad.autograd"})


class _NotConstant(Exception):
    pass


class _Unknown:
    """An argument that is not a literal: a rule's ``outputs_of`` may not read it."""

    def _refuse(self, *args: Any) -> Any:
        raise _NotConstant

    __bool__ = __eq__ = __ne__ = __index__ = __int__ = _refuse  # type: ignore[assignment]
    __hash__ = object.__hash__


def _literal(node: Any) -> Any:
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, (gast.Tuple, gast.List)):
        return tuple(_literal(e) for e in node.elts)
    return _Unknown()


def _output_count(rule: Any, value: Any, args: list, kwargs: dict,
                  parsed: ParsedFunction) -> int | None:
    """The number of outputs of a call whose arguments choose it (``svd(a,
    compute_uv=False)`` returns one array): read from the literals it is called with."""
    if rule.outputs_of is None:
        return None
    try:
        return rule.outputs_of(*[_literal(a) for a in args],
                               **{k: _literal(v) for k, v in kwargs.items()})
    except _NotConstant:
        name = getattr(rule.primitive, "__name__", rule.name)
        raise parsed.error(value, f"a call to {name}() whose number of outputs depends on "
                           "an argument that is not a literal constant",
                           f"Write the argument that chooses {name}'s outputs as a literal "
                           "(compute_uv=False, mode=\"r\"), or use engine=\"tape\".") from None


def _nested_transform(parsed: ParsedFunction, node: Any, what: str) -> Any:
    """The refusal of a transform called inside a function the source engine transforms."""
    return parsed.error(
        node, f"a call to {what} inside a function being differentiated (a nest of "
        "transforms the source engine does not compute)",
        "The source engine differentiates calls to srcgrad.grad and srcgrad.value_and_grad "
        "that have generated code (forward-over-reverse), nothing else: use engine=\"tape\" "
        "(engine=\"auto\" does so by itself).")


def _fixed_chain(func: Any, parsed: ParsedFunction) -> bool:
    """Does ``a.b.c`` name the same object whenever the generated code runs?

    A name is fixed (its value is part of the cache key, or it is the object a
    method is bound to), so are attributes of modules and classes (``np.sin``,
    ``cls.helper``).  An attribute of another object is fixed only when it comes
    from its class (a method): one kept in the object's ``__dict__`` (a layer, a
    function stored on ``self``) may be replaced at any time.
    """
    links = []
    node = func
    while isinstance(node, gast.Attribute):
        links.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return False
    value = parsed.resolve(node.id)
    for attr in reversed(links):
        if not (inspect.ismodule(value) or isinstance(value, type)):
            if attr in getattr(value, "__dict__", {}) or \
                    not any(attr in vars(k) for k in type(value).__mro__):
                return False
        value = getattr(value, attr, MISSING)
    return True


def _chain_text(func: Any) -> str:
    parts = []
    while isinstance(func, gast.Attribute):
        parts.append(func.attr)
        func = func.value
    parts.append(getattr(func, "id", "..."))
    return ".".join(reversed(parts))


def _prim(node: Any, fn: Any, args: list, kwargs: dict) -> Operation:
    rule = registry.lookup(fn)
    if rule is None:
        return Operation("unknown", node, fn=fn, args=args, kwargs=kwargs)
    if not rule.differentiable:
        return Operation("const", node, fn=fn, rule=rule, args=args, kwargs=kwargs)
    return Operation("prim", node, fn=fn, rule=rule, args=args, kwargs=kwargs)


def differentiable_positions(op: Operation) -> dict[Any, Any]:
    """``{position or keyword: argument expression}`` that a derivative can flow through."""
    if op.kind == "prim":
        out: dict[Any, Any] = {}
        rule = op.rule
        # (a keyword argument's position is read from a VJP's signature: only when needed)
        params = _vjp_parameters(rule) if op.kwargs else None
        # a rule may know only one mode's derivative of an argument (a JVP and no VJP):
        # the value flows; the analysis refuses the mode that has none
        for pos in (rule.vjps.keys() | rule.jvps.keys()):
            if pos < len(op.args):
                out[pos] = op.args[pos]
            elif params is not None and pos < len(params) and params[pos] in op.kwargs:
                out[pos] = op.kwargs[params[pos]]
        return out
    if op.kind in ("user", "pack", "copy"):
        out = {i: a for i, a in enumerate(op.args)}
        out.update(op.kwargs)
        return out
    if op.kind == "item":
        return {0: op.args[0]}
    if op.kind == "append":
        return {0: op.args[0], 1: op.args[1]}
    if op.kind == "pop":
        return {0: op.args[0]}
    if op.kind == "linear":
        return {**_helper_arguments(op, op.rule.linear), **_helper_arguments(op, _others(op))}
    if op.kind == "setlist":
        return {0: op.args[0], 2: op.args[2]}
    if op.kind == "concat":
        return {0: op.args[0], 1: op.args[1]}
    if op.kind == "repeat":
        return {0: op.args[0]}
    return {}


def _helper_arguments(op: Operation, positions: Any) -> dict[int, Any]:
    """``{position: argument expression}`` of a helper call, keywords matched by name."""
    params = _parameters(op.fn)
    out = {}
    for pos in positions:
        if pos < len(op.args):
            out[pos] = op.args[pos]
        elif params is not None and pos < len(params) and params[pos] in op.kwargs:
            out[pos] = op.kwargs[params[pos]]
    return out


def _others(op: Operation) -> list[int]:
    """Positions of a helper call that are neither linear nor inert."""
    count = len(op.args) + len(op.kwargs)
    params = _parameters(op.fn)
    if params is not None:
        count = max(count, len(params))
    return [p for p in range(count) if p not in op.rule.linear and p not in op.rule.inert]


def helper_nonlinear_arguments(op: Operation) -> dict[int, Any]:
    """The arguments of a helper call that a derivative cannot flow through."""
    return _helper_arguments(op, _others(op))


def _parameters(fn: Any) -> list[str] | None:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None


# VJP function -> (its code, its parameter names): signatures are slow to read and a
# primitive's rule is looked at once per use; the code is compared in case it was replaced
_VJP_PARAMETERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _vjp_parameters(rule: Any) -> list[str] | None:
    """Names of the primitive's positional parameters, read from a VJP's signature."""
    for vjp in (*rule.vjps.values(), *rule.jvps.values()):
        code = getattr(vjp, "__code__", None)
        try:
            cached = _VJP_PARAMETERS.get(vjp)
        except TypeError:                       # not weakly referenceable
            cached = None
        if cached is not None and cached[0] is code and code is not None:
            return cached[1]
        params = _parameters(vjp)
        params = None if params is None else params[2:]
        if code is not None:
            try:
                _VJP_PARAMETERS[vjp] = (code, params)
            except TypeError:
                pass
        return params
    return None
