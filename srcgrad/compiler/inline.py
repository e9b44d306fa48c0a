"""Inline a rule into generated code: read a lambda rule's source, substitute its parameters.

``defvjp(np.sin, lambda g, ans, x: g * np.cos(x))`` becomes, at a call
``s = np.sin(y)`` with adjoint ``bs``, the expression ``bs * np.cos(y)``; the
names the rule's body reads from its module (``np``, ``unbroadcast``...) are
put into the generated function's namespace.  A rule written with ``def`` or
without readable source is called instead.
"""

from __future__ import annotations

import builtins
import inspect
import math
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from ..rules import registry
from ..rules.source import lambda_node
from .names import Namespace, _generated_view
from .normalize import clone, name_nodes, walk
from .parse import MISSING

__all__ = ["RuleTemplate", "template_for", "instantiate"]

_TEMPLATES: dict[Any, RuleTemplate | None] = {}
# one list per transform in progress: the templates it inlined. Its cache entry is good
# only while they are current (a rule reading a global that was rebound since)
RECORDING: list[list] = []


@dataclass
class RuleTemplate:
    fn: Any
    signature: inspect.Signature
    params: list[str]
    body: Any                       # gast expression
    free: dict[str, Any]            # free names of the body and what they refer to
    uses: dict[str, int]            # name -> how many times the body reads it
    code: Any = None                # the code object the body was proven to be
    build: Callable[[_Copy], Any] | None = field(default=None, repr=False)


def template_for(fn: Any, checked: set | None = None) -> RuleTemplate | None:
    """The inlinable form of a lambda rule, or ``None`` (then the rule is called).

    ``checked``: rules whose templates were found current earlier in the same
    transform; they are not checked again (and ``fn`` joins them).
    """
    key = fn
    try:
        if key in _TEMPLATES:
            template = _TEMPLATES[key]
            if template is None or (checked is not None and key in checked) \
                    or is_current(template):
                if checked is not None:
                    checked.add(key)
                return template
    except TypeError:
        return None
    template = _build(fn)
    _TEMPLATES[key] = template
    if checked is not None:
        checked.add(key)
    return template


def _build(fn: Any) -> RuleTemplate | None:
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name != "<lambda>":
        return None
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
        return None
    lam = lambda_node(fn)
    if lam is None:
        return None
    params = [a.id for a in [*lam.args.posonlyargs, *lam.args.args, *lam.args.kwonlyargs]]
    body = lam.body
    for sub in walk(body):
        if isinstance(sub, (gast.Lambda, gast.ListComp, gast.GeneratorExp, gast.DictComp,
                            gast.SetComp, gast.NamedExpr)):
            return None
    free = _free_values(fn, dict.fromkeys(sub.id for sub in name_nodes(body)
                                          if isinstance(sub, gast.Name)
                                          and sub.id not in params))
    if free is None:
        return None
    uses: dict[str, int] = {}
    for sub in name_nodes(body):
        if isinstance(sub, gast.Name):
            uses[sub.id] = uses.get(sub.id, 0) + 1
    return RuleTemplate(fn, signature, params, body, free, uses, code=code)


def _free_values(fn: Any, names: Any) -> dict[str, Any] | None:
    """What each of ``names`` refers to in ``fn`` now (closure, globals, builtins), or
    None when one is unbound or a closure cell is empty."""
    code = fn.__code__
    closure = {}
    try:
        if fn.__closure__:
            closure = {n: c.cell_contents for n, c in zip(code.co_freevars, fn.__closure__,
                                                         strict=False)}
    except ValueError:
        return None
    free: dict[str, Any] = {}
    for ident in names:
        if ident in closure:
            free[ident] = closure[ident]
        elif ident in fn.__globals__:
            free[ident] = fn.__globals__[ident]
        else:
            value = getattr(builtins, ident, MISSING)
            if value is MISSING:
                return None
            free[ident] = value
    return free


def is_current(template: RuleTemplate) -> bool:
    """Does ``template`` still say what its rule computes: the same code, and every free
    name bound to the very object that was inlined?"""
    fn = template.fn
    if getattr(fn, "__code__", None) is not template.code:
        return False
    now = _free_values(fn, template.free)
    return now is not None and all(now[k] is v for k, v in template.free.items())


class _Arg:
    """A placeholder carrying an argument expression through ``Signature.bind``."""

    def __init__(self, node: Any) -> None:
        self.node = node


def _literal(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return gast.Constant(value=value, kind=None)
    if isinstance(value, tuple) and all(_literal(v) is not None for v in value):
        return gast.Tuple(elts=[_literal(v) for v in value], ctx=gast.Load())
    return None


_SIGNATURES: dict[Any, inspect.Signature] = {}


def _signature(fn: Any) -> inspect.Signature:
    signature = _SIGNATURES.get(fn)
    if signature is None:
        signature = _SIGNATURES[fn] = inspect.signature(fn)
    return signature


def bind_arguments(fn: Any, g: Any, ans: Any, args: list, kwargs: dict,
                   namespace: Namespace) -> dict[str, Any] | None:
    """``{parameter: expression}`` for calling rule ``fn`` as ``fn(g, ans, *args, **kwargs)``."""
    plan = _plan(fn, 2 + len(args), tuple(kwargs))
    if plan is None:
        return None
    steps, defaulted = plan
    supplied = [g, ans, *args]
    out: dict[str, Any] = {}
    for param, from_call, where in steps:
        if from_call:
            out[param] = supplied[where] if type(where) is int else kwargs[where]
            continue
        node = _literal(where)
        if node is None:
            node = gast.Name(id=namespace.bind(param, where), ctx=gast.Load(),
                             annotation=None, type_comment=None)
        out[param] = node
    out[_DEFAULTED] = defaulted
    return out


# (rule, positional count, keyword names) -> how a call binds, or None: Signature.bind
# once per shape of call, not once per use
_PLANS: dict[tuple, Any] = {}
_UNPLANNED = object()


def _plan(fn: Any, count: int, keywords: tuple) -> Any:
    """``(steps, defaulted)`` for a call of ``fn`` with ``count`` positional arguments and
    ``keywords``: each step is ``(parameter, from_call, where)``, ``where`` the index of a
    positional argument or a keyword's name if ``from_call``, else the default value.
    ``None`` where the call does not bind (or binds arguments into ``*args``/``**kwargs``)."""
    key = (fn, count, keywords)
    try:
        plan = _PLANS.get(key, _UNPLANNED)
    except TypeError:           # an unhashable rule: planned every time
        return _make_plan(fn, count, keywords)
    if plan is _UNPLANNED:
        plan = _PLANS[key] = _make_plan(fn, count, keywords)
    return plan


def _make_plan(fn: Any, count: int, keywords: tuple) -> Any:
    try:
        signature = _signature(fn)
        bound = signature.bind(*[_Arg(i) for i in range(count)],
                               **{k: _Arg(k) for k in keywords})
    except (TypeError, ValueError):
        return None
    supplied = set(bound.arguments)
    bound.apply_defaults()
    steps = []
    for param, value in bound.arguments.items():
        if isinstance(value, _Arg):
            steps.append((param, True, value.node))
        elif isinstance(value, (tuple, dict)) and any(isinstance(v, _Arg) for v in
                                                      (value.values() if isinstance(value, dict)
                                                       else value)):
            return None
        else:
            steps.append((param, False, value))
    return steps, frozenset(bound.arguments) - supplied


_DEFAULTED = "\0defaulted"      # binding key: the parameters the call left to their default


def instantiate(fn: Any, g: Any, ans: Any, args: list, kwargs: dict, namespace: Namespace,
                hoist: Any) -> Any:
    """The expression computing ``fn(g, ans, *args, **kwargs)``, inlined when possible.

    ``hoist(expr, hint)`` assigns a non-trivial expression used several times to a
    fresh name and returns that name.  ``g`` and ``ans`` become part of the result
    (pass nodes nothing else holds); ``args`` and ``kwargs`` are copied.
    """
    template = template_for(fn, namespace.rules_checked)
    if template is not None:
        binding = bind_arguments(fn, g, ans, args, kwargs, namespace)
        if binding is not None:
            for used in RECORDING:
                used.append(template)
            return _substitute(template, binding, namespace, hoist, (g, ans))
    func = gast.Name(id=namespace.bind(_rule_name(fn), fn), ctx=gast.Load(), annotation=None,
                     type_comment=None)
    return gast.Call(func=func, args=[g, ans, *[clone(a) for a in args]],
                     keywords=[gast.keyword(arg=k, value=clone(v)) for k, v in kwargs.items()])


def _rule_name(fn: Any) -> str:
    """The name generated code calls a rule by: its own, or its primitive's (``clip_rule``)."""
    name = getattr(fn, "__name__", "rule")
    if name != "<lambda>":
        return name
    primitive = _primitive_of(fn)
    short = getattr(primitive, "__name__", None) if primitive is not MISSING else None
    return f"{short}_rule" if isinstance(short, str) and short.isidentifier() else "rule"


def _substitute(template: RuleTemplate, binding: dict, namespace: Namespace, hoist: Any,
                given: tuple) -> Any:
    """``template``'s body with ``binding`` substituted; ``given`` (g and ans) are the
    caller's to give away: a parameter read once takes its node itself, not a copy."""
    uses = template.uses
    values = {}
    taken = set()
    defaulted = binding.pop(_DEFAULTED, frozenset())
    for param, node in binding.items():
        count = uses.get(param, 0)
        if count > 1 and not _trivial(node):
            # (an argument's node stays where it is: the hoisted assignment takes a copy)
            node = hoist(node if node is given[0] or node is given[1] else clone(node), param)
        elif count == 1 and (node is given[0] or node is given[1]):
            taken.add(param)
        values[param] = node
    # a free name the namespace already binds to its value keeps it (as ``bind`` would)
    bound = namespace.values
    renames = {n: n if bound.get(n) is _generated_view(v) else namespace.bind(n, v)
               for n, v in template.free.items()}
    build = template.build
    if build is None:
        build = template.build = _builder(template, template.body)
    return build(_Copy(template, values, renames, defaulted, taken))


def _trivial(node: Any) -> bool:
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.Attribute):
        return _trivial(node.value)
    if isinstance(node, gast.UnaryOp) and isinstance(node.operand, gast.Constant):
        return True
    return False


class _Copy:
    """A copy of a template's body with parameters replaced by (copies of) their values
    and free names renamed; the template itself is left as it is.

    Two exact simplifications read like hand-written code:

    * a call of the rule's own primitive drops the arguments the user's call left to
      their defaults (``np.mean(dt)``, not ``np.mean(dt, None, None, keepdims=False,
      where=True)``): the primitive then applies its own defaults, as the user's call did;
    * a call of a ``math`` function on number constants is replaced by its value
      (``math.log(math.e)`` is ``1.0``): the same function on the same numbers in the
      same process gives the same float.
    """

    def __init__(self, template: RuleTemplate, values: dict, renames: dict,
                 defaulted: frozenset, taken: set = frozenset()) -> None:
        self.template, self.values, self.renames = template, values, renames
        self.defaulted = defaulted
        self.taken = taken          # parameters whose (once-read) value is used uncopied
        self.primitive = _primitive_of(template.fn) if defaulted else None

    def node(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.node(n) for n in node]
        if not isinstance(node, gast.AST):
            return node
        if isinstance(node, gast.Name) and node.id in self.values:
            value = self.values[node.id]
            return value if node.id in self.taken else clone(value)
        if isinstance(node, gast.Call) and self.primitive is not None \
                and self._resolve(node.func) is self.primitive:
            node = self._without_defaults(node)
        elif isinstance(node, gast.Call) and self.defaulted:
            node = self._without_callee_defaults(node, self._resolve(node.func))
        new = node.__class__.__new__(node.__class__)
        fields = node._fields
        for key, value in node.__dict__.items():
            if isinstance(value, (gast.AST, list)):
                value = self.node(value) if key in fields else clone(value)
            new.__dict__[key] = value
        if isinstance(new, gast.Name) and new.id in self.renames:
            new.id = self.renames[new.id]
        if isinstance(node, gast.Call):
            return _folded(new, self._resolve(node.func)) or new
        return new

    def _resolve(self, func: Any) -> Any:
        return _resolve_free(self.template, func)

    def _without_defaults(self, call: Any) -> Any:
        params = self.template.params[2:]          # the primitive's, after g/dx and ans
        keywords = [k for k in call.keywords
                    if not (isinstance(k.value, gast.Name) and k.arg == k.value.id
                            and k.arg in self.defaulted)]
        args = list(call.args)
        while args:
            j, last = len(args) - 1, args[-1]
            if not (isinstance(last, gast.Name) and j < len(params) and params[j] == last.id
                    and last.id in self.defaulted):
                break
            args.pop()
        return gast.Call(func=call.func, args=args, keywords=keywords)


    def _without_callee_defaults(self, call: Any, callee: Any) -> Any:
        """``call`` without the arguments that pass a parameter the user's call left to its
        default when that value is also the callee's own default for that argument
        (``np.sum(e, None, keepdims=False)`` is ``np.sum(e)``)."""
        params = _callee_parameters(callee)
        if params is None:
            return call

        def same_default(node: Any, param: inspect.Parameter) -> bool:
            if not (isinstance(node, gast.Name) and node.id in self.defaulted):
                return False
            value = self.values.get(node.id)
            if not isinstance(value, gast.Constant):
                return False
            default = param.default
            if default is np._NoValue:      # NumPy passes these on only when given
                return (param.name, value.value) in (("keepdims", False), ("where", True))
            return type(default) is type(value.value) and default == value.value \
                if default is not None else value.value is None

        by_name = {p.name: p for p in params}
        keywords = [k for k in call.keywords
                    if not (k.arg in by_name and same_default(k.value, by_name[k.arg]))]
        args = list(call.args)
        while args and len(args) <= len(params) and not any(
                isinstance(a, gast.Starred) for a in args):
            param = params[len(args) - 1]
            if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) \
                    or not same_default(args[-1], param):
                break
            args.pop()
        if len(args) == len(call.args) and len(keywords) == len(call.keywords):
            return call
        return gast.Call(func=call.func, args=args, keywords=keywords)


def _builder(template: RuleTemplate, node: Any) -> Callable[[_Copy], Any]:
    """A function making what ``copy.node(node)`` makes, for a node of ``template``'s body.

    The decisions that depend only on the template (which names are parameters,
    what a callee is, which fields hold children) are made here, once per rule, so
    that an instantiation only builds nodes.  Calls made when the user's call left
    arguments to their defaults go through :class:`_Copy` itself (they are rare).
    """
    if isinstance(node, gast.Name) and node.id in template.params:
        param = node.id
        return lambda copy: copy.values[param] if param in copy.taken \
            else _copy(copy.values[param])
    cls = node.__class__
    fields = node._fields
    layout: dict[str, Any] = {}     # the node's attributes, children left to ``parts``
    parts = []
    for key, value in node.__dict__.items():
        if isinstance(value, gast.AST):
            layout[key] = None
            parts.append((key, _builder(template, value) if key in fields
                          else _cloner(value)))
        elif isinstance(value, list):
            layout[key] = None
            parts.append((key, _list_builder(template, value) if key in fields
                          else _cloner(value)))
        else:
            layout[key] = value
    renamed = node.id if isinstance(node, gast.Name) else None

    def build(copy: _Copy) -> Any:
        new = cls.__new__(cls)
        attributes = new.__dict__
        attributes.update(layout)
        for key, part in parts:
            attributes[key] = part(copy)
        if renamed is not None:
            attributes["id"] = copy.renames.get(renamed, renamed)
        return new

    if not isinstance(node, gast.Call):
        return build
    callee = _resolve_free(template, node.func)
    folds = getattr(callee, "__module__", None) == "math"

    def build_call(copy: _Copy) -> Any:
        if copy.defaulted:
            return copy.node(node)
        new = build(copy)
        return (_folded(new, callee) or new) if folds else new

    return build_call


def _copy(node: Any) -> Any:
    """``clone(node)``, quicker for the plain names most arguments are: a ``Name`` that
    holds its four fields only, a string, an empty ``Load`` context and two ``None``."""
    if node.__class__ is gast.Name:
        attributes = node.__dict__
        ctx = attributes.get("ctx")
        if attributes.keys() == _NAME_FIELDS and attributes["id"].__class__ is str \
                and attributes["annotation"] is None and attributes["type_comment"] is None \
                and ctx.__class__ is gast.Load and not ctx.__dict__:
            new = gast.Name.__new__(gast.Name)
            copied = new.__dict__
            copied.update(attributes)
            copied["ctx"] = gast.Load.__new__(gast.Load)
            return new
    return clone(node)


_NAME_FIELDS = frozenset({"id", "ctx", "annotation", "type_comment"})


def _list_builder(template: RuleTemplate, items: list) -> Callable[[_Copy], list]:
    parts = [_builder(template, item) if isinstance(item, gast.AST)
             else _list_builder(template, item) if isinstance(item, list)
             else (lambda copy, item=item: item) for item in items]
    # (the short lists of calls, arguments and keywords, without a comprehension's frame)
    if not parts:
        return lambda copy: []
    if len(parts) == 1:
        only = parts[0]
        return lambda copy: [only(copy)]
    if len(parts) == 2:
        first, second = parts
        return lambda copy: [first(copy), second(copy)]
    return lambda copy: [part(copy) for part in parts]


def _cloner(value: Any) -> Callable[[_Copy], Any]:
    return lambda copy: clone(value)


def _resolve_free(template: RuleTemplate, func: Any) -> Any:
    """What a template's callee expression (``np.mean``, ``math.log``) refers to."""
    if isinstance(func, gast.Name) and func.id not in template.params:
        return template.free.get(func.id, MISSING)
    if isinstance(func, gast.Attribute):
        owner = _resolve_free(template, func.value)
        if isinstance(owner, types.ModuleType):
            return getattr(owner, func.attr, MISSING)
    return MISSING


_PARAMETERS: dict[Any, Any] = {}


def _callee_parameters(callee: Any) -> list | None:
    """The parameters of a NumPy or srcgrad Python function (``None`` for anything else)."""
    module = getattr(callee, "__module__", None) or ""
    if not callable(callee) or isinstance(callee, (type, np.ufunc)) or not (
            module == "numpy" or module.startswith(("numpy.", "srcgrad."))):
        return None
    try:
        found = _PARAMETERS.get(callee)
        if found is None:
            found = _PARAMETERS[callee] = list(inspect.signature(callee).parameters.values())
        return found
    except (TypeError, ValueError):
        return None


def _folded(call: Any, callee: Any) -> Any:
    """``math.f(constants)`` as its value, or ``None``."""
    if getattr(callee, "__module__", None) != "math" or getattr(math, getattr(
            callee, "__name__", ""), None) is not callee or call.keywords:
        return None
    values = []
    for arg in call.args:
        if not (isinstance(arg, gast.Constant) and type(arg.value) in (int, float)):
            return None
        values.append(arg.value)
    try:
        value = callee(*values)
    except (ValueError, OverflowError, TypeError):
        return None
    if type(value) is not float or not math.isfinite(value):
        return None
    return gast.Constant(value=value, kind=None)


_PRIMITIVES: dict[Any, tuple[int, Any]] = {}


def _primitive_of(rule_fn: Any) -> Any:
    """The primitive whose VJP or JVP ``rule_fn`` is (``MISSING`` if none)."""
    known = _PRIMITIVES.get(rule_fn)
    if known is not None and known[0] == registry.generation():
        return known[1]
    found = MISSING
    for rule in registry.all_rules():
        if any(f is rule_fn for f in (*rule.vjps.values(), *rule.jvps.values())):
            found = rule.primitive
            break
    _PRIMITIVES[rule_fn] = (registry.generation(), found)
    return found
