"""Normalize: rewrite a function into the small language the sweeps work on.

After normalization a function body holds only

* ``name = OP`` where ``OP`` is one operation on *atoms* (names, constants,
  attribute chains on module-level objects): a binary/unary operator, one
  comparison, one call, one subscript, one attribute, a tuple or list display;
  or an atom itself (a copy);
* ``name.append(atom)`` on a list;
* ``if atom: ... else: ...`` (an empty ``body`` prints as ``if not atom:``);
* ``for name in range(atoms): ...`` and ``while atom: ...`` without ``else``,
  ``break`` or ``continue``: a loop that may stop early carries a flag name in
  ``node.break_flag`` and the emitter closes its body with ``if flag: break``;
* non-differentiable expression statements (``print(...)``, ``assert``);
* one final ``return atom``.

Augmented and chained assignment, tuple unpacking, subscript stores,
conditional expressions, boolean operators, chained comparisons,
comprehensions, ``for`` over sequences/``enumerate``/``zip``, ``while`` tests,
``break``/``continue`` and early returns are all rewritten here.  Calls to
nested functions and lambdas are inlined.  Every produced statement keeps the
user statement it came from in ``node.origin`` (for ``# grad of:`` comments).

The pass knows nothing about derivatives: the reverse and forward sweeps
share it.
"""

from __future__ import annotations

import builtins
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from ..errors import TransformError
from ..treeargs import TreeFunction
from .names import Namer
from .parse import MISSING, ParsedFunction

__all__ = ["NormalizedFunction", "normalize", "is_atom", "static_root"]

# values whose iteration is reading items 0, 1, ... len - 1 (how loops are lowered)
_POSITIONAL_SEQUENCES = (list, tuple, np.ndarray, range, str)

_REFUSED = {
    "Try": ("a try statement", "Move the try/except outside the differentiated function."),
    "TryStar": ("a try statement", "Move the try/except outside the differentiated function."),
    "With": ("a with statement", "Move the with block outside the differentiated function."),
    "AsyncWith": ("an async with statement", ""),
    "AsyncFor": ("an async for loop", ""),
    "AsyncFunctionDef": ("an async function", ""),
    "Global": ("a global statement", "Pass the value in and return the new value instead of "
               "rebinding a global."),
    "Nonlocal": ("a nonlocal statement", "Return the new value instead of rebinding a "
                 "variable of an enclosing function."),
    "ClassDef": ("a class definition", "Define the class outside the differentiated function."),
    "Raise": ("a raise statement", 'Check inputs before calling the gradient, or use '
              'engine="tape".'),
    "Import": ("an import statement", "Import at module level."),
    "ImportFrom": ("an import statement", "Import at module level."),
    "Yield": ("a generator (yield)", "Return a list instead of yielding values."),
    "YieldFrom": ("a generator (yield from)", "Return a list instead of yielding values."),
    "Await": ("await", ""),
    "NamedExpr": ("an assignment expression (:=)", "Assign in a separate statement."),
    "DictComp": ("a dict comprehension", "Use a list comprehension, or engine=\"tape\"."),
    "SetComp": ("a set comprehension", "Use a list comprehension."),
    "Set": ("a set display", "Use a tuple or list."),
    "Starred": ("a starred expression (*args)", "Pass the arguments one by one."),
    "Match": ("a match statement", "Use if/elif/else."),
}

# Array methods and the NumPy function each one means; ``pack`` gathers
# several positional arguments into one tuple (``x.reshape(2, 3)``).
ARRAY_METHODS: dict[str, tuple[str, bool]] = {
    "sum": ("sum", False), "mean": ("mean", False), "max": ("max", False),
    "min": ("min", False), "prod": ("prod", False), "std": ("std", False),
    "var": ("var", False), "cumsum": ("cumsum", False), "cumprod": ("cumprod", False),
    "argmax": ("argmax", False), "argmin": ("argmin", False), "argsort": ("argsort", False),
    "any": ("any", False), "all": ("all", False), "clip": ("clip", False),
    "round": ("round", False), "dot": ("dot", False), "trace": ("trace", False),
    "squeeze": ("squeeze", False), "ravel": ("ravel", False), "flatten": ("ravel", False),
    "transpose": ("transpose", True), "reshape": ("reshape", True), "copy": ("copy", False),
    "conj": ("conj", False), "conjugate": ("conj", False), "diagonal": ("diagonal", False),
    "swapaxes": ("swapaxes", False), "repeat": ("repeat", False), "take": ("take", False),
    "nonzero": ("nonzero", False), "sort": ("sort", False), "astype": ("astype", False),
    "item": ("item", False), "tolist": ("tolist", False), "fill": ("fill", False),
}
ARRAY_ATTRIBUTES = {"T": "transpose", "real": "real", "imag": "imag"}
CONSTANT_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}


@dataclass
class LocalFunction:
    """A nested ``def`` or a lambda: inlined where it is called."""

    node: Any              # gast FunctionDef or Lambda
    name: str


@dataclass
class NormalizedFunction:
    parsed: ParsedFunction
    name: str
    params: list[str]
    defaults: list[Any]            # gast expressions (module-level atoms) for trailing params
    kwonly: list[str]
    kw_defaults: list[Any]
    body: list[Any]
    namer: Namer
    kinds: dict[str, str] = field(default_factory=dict)   # name -> "list" | "tuple"
    result: str | None = None


_LEAF_FIELDS = frozenset({"ctx", "op", "ops"})
# fields that never hold a node (a name, a number, a flag); and a Constant's value
_SCALAR_FIELDS = frozenset({"id", "attr", "arg", "kind", "type_comment", "conversion",
                            "is_async", "level", "module"})
# statements that hold no statements (no ``body`` or ``orelse``): most statements
SIMPLE_STATEMENTS = frozenset({gast.Assign, gast.AugAssign, gast.Expr, gast.Return,
                               gast.Delete, gast.Pass, gast.Break, gast.Continue,
                               gast.Assert})
# node class -> its fields that may hold child nodes (walk reads only these)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def statements(body: list):
    """Every statement of a normalized body, depth first, in program order."""
    for stmt in body:
        yield stmt
        if stmt.__class__ in SIMPLE_STATEMENTS:
            continue
        for attr in ("body", "orelse"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                yield from statements(inner)


# The walks below push a list field's items all at once and drop what is not a node
# (``None``, a name) when it comes off the stack: the same nodes in the same order,
# with fewer steps per node than testing each item as it is pushed.  (A root that is
# not a node fails as it always has: it has no fields to read.)

def walk(node: Any):
    """The nodes of a gast tree, like ``gast.walk`` but faster.

    Contexts and operator tokens (``Load``, ``Add``...) are not visited: read
    them through their parent node.
    """
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of, ast_class = _CHILD_FIELDS, gast.AST
    while stack:
        current = pop()
        fields = fields_of.get(current.__class__)
        if fields is None:
            if current is not node and not isinstance(current, ast_class):
                continue
            yield current
            fields = child_fields(current.__class__)
        else:
            yield current
        for field_name in fields:
            value = getattr(current, field_name, None)
            if value.__class__ is list:
                extend(value)
            elif isinstance(value, ast_class):
                push(value)
            elif isinstance(value, list):
                extend(value)


def name_nodes(node: Any) -> list:
    """The ``Name`` nodes of a gast tree, in :func:`walk`'s order, as a list.

    Several times faster than filtering ``walk``: the hot name collections
    (reads, stores, counts) of the later passes go through it.
    """
    found: list = []
    stack = [node]
    pop, push, extend, keep = stack.pop, stack.append, stack.extend, found.append
    fields_of = _CHILD_FIELDS
    name_class, ast_class, list_class = gast.Name, gast.AST, list
    while stack:
        current = pop()
        cls = current.__class__
        if cls is name_class:
            keep(current)
            if getattr(current, "annotation", None) is None:
                continue        # (nothing else under a Name but its context)
        fields = fields_of.get(cls)
        if fields is None:
            if current is not node and not isinstance(current, ast_class):
                continue
            fields = child_fields(cls)
        for field_name in fields:
            value = getattr(current, field_name, None)
            if value.__class__ is list_class:
                extend(value)
            elif isinstance(value, ast_class):
                push(value)
            elif isinstance(value, list_class):
                extend(value)
    return found


def nodes_of(node: Any, kinds: tuple, skip: tuple = ()) -> list:
    """The nodes of a gast tree whose class is one of ``kinds`` (exactly), in :func:`walk`'s
    order, as a list (faster than filtering ``walk``).

    Nodes whose class is in ``skip`` (nested functions, say) are not looked into,
    unless it is ``node`` itself.
    """
    found: list = []
    stack = [node]
    pop, push, extend, keep = stack.pop, stack.append, stack.extend, found.append
    fields_of = _CHILD_FIELDS
    ast_class, list_class = gast.AST, list
    while stack:
        current = pop()
        cls = current.__class__
        fields = fields_of.get(cls)
        if fields is None:
            if current is not node and not isinstance(current, ast_class):
                continue
            fields = child_fields(cls)
        if cls in kinds:
            keep(current)
        if cls in skip and current is not node:
            continue
        for field_name in fields:
            value = getattr(current, field_name, None)
            if value.__class__ is list_class:
                extend(value)
            elif isinstance(value, ast_class):
                push(value)
            elif isinstance(value, list_class):
                extend(value)
    return found


def child_fields(cls: type) -> tuple[str, ...]:
    """The fields of node class ``cls`` that may hold child nodes (not contexts, operators,
    names or numbers)."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = tuple(
            f for f in cls._fields if f not in _LEAF_FIELDS and f not in _SCALAR_FIELDS
            and not (cls is gast.Constant and f == "value"))
    return fields


class Transformer:
    """``gast.NodeTransformer``, faster: visits only the fields that can hold child nodes.

    Contexts and operator tokens are not visited (no ``visit_Load``,
    ``visit_Add``...); everything else behaves as ``NodeTransformer`` does.
    """

    def visit(self, node: Any) -> Any:
        method = getattr(self, "visit_" + node.__class__.__name__, None)
        if method is None:
            return self.generic_visit(node)
        return method(node)

    def generic_visit(self, node: Any) -> Any:
        fields = _CHILD_FIELDS.get(node.__class__) or child_fields(node.__class__)
        for field_name in fields:
            old = getattr(node, field_name, None)
            if isinstance(old, list):
                new_values = []
                for value in old:
                    if isinstance(value, gast.AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, gast.AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old[:] = new_values
            elif isinstance(old, gast.AST):
                new_node = self.visit(old)
                if new_node is None:
                    delattr(node, field_name)
                else:
                    setattr(node, field_name, new_node)
        return node


def assigned_once(top_level: list, elsewhere: list = (),
                  names_of: Callable[[Any], list] | None = None) -> set[str]:
    """Names stored exactly once: by an assignment at the top level of ``top_level``.

    A store inside a loop or branch, or anywhere in ``elsewhere``, counts as
    several (it may run any number of times), and so does ``del``.
    ``names_of(stmt)``: a statement's ``Name`` nodes (:func:`name_nodes` by default).
    """
    return {n for n, c in store_counts(top_level, elsewhere, names_of).items() if c == 1}


def store_counts(top_level: list, elsewhere: list = (),
                 names_of: Callable[[Any], list] | None = None) -> dict[str, int]:
    """``{name: how often it is stored}`` for every name stored (or deleted) in the
    statements, counted as :func:`assigned_once` counts."""
    counts: dict[str, int] = {}
    get = counts.get
    names_of = names_of or name_nodes
    for stmts, weight_at_top in ((top_level, 1), (elsewhere, 2)):
        for stmt in stmts:
            weight = weight_at_top if isinstance(stmt, (gast.Assign, gast.Expr)) else 2
            for node in names_of(stmt):
                if node.ctx.__class__ in _STORE_OR_DEL:
                    counts[node.id] = get(node.id, 0) + weight
    return counts


_STORE_OR_DEL = (gast.Store, gast.Del)


def clone(node: Any) -> Any:
    """A deep copy of a gast tree (faster than ``copy.deepcopy``), extra attributes kept."""
    if isinstance(node, list):
        return [clone(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    return _clone_node(node)


def copy_statements(stmts: list) -> list:
    """New nodes for the trees of ``stmts``: their fields are copies, their other
    attributes the same objects (``origin``, the user's statement that comments name
    and group by identity; ``op``), where :func:`clone` copies those too.  A pass
    that changes trees in place may change one copy and leave the other as it was."""
    return [_copy_fields(stmt) for stmt in stmts]


def _copy_fields(node: Any) -> Any:
    cls = node.__class__
    new = cls.__new__(cls)
    old = node.__dict__
    new.__dict__.update(old)
    if cls is _NAME and old.get("annotation") is None:
        return new          # (the commonest node: nothing under it but its context)
    copied = new.__dict__
    # (contexts and operators are shared, as in the trees ast.parse makes)
    for key in _CHILD_FIELDS.get(cls) or child_fields(cls):
        value = old.get(key)
        if value.__class__ is list:
            copied[key] = [_copy_fields(n) if isinstance(n, gast.AST) else n for n in value]
        elif isinstance(value, gast.AST):
            copied[key] = _copy_fields(value)
    return new


# values a node holds that are copied as they are, without testing for nodes or lists
_PLAIN_VALUES = {int, str, bool, float, type(None)}


def _clone_node(node: Any) -> Any:
    cls = node.__class__
    new = cls.__new__(cls)
    old = node.__dict__
    if not old:
        return new          # (a context or an operator: most nodes without fields)
    copied = new.__dict__
    copied.update(old)      # (in the same order; the nodes and lists are copied below)
    ast_class, plain = gast.AST, _PLAIN_VALUES
    for key, value in old.items():
        kind = value.__class__
        if kind in plain:
            continue
        if kind is list:
            copied[key] = [_clone_node(n) if isinstance(n, ast_class) else
                           clone(n) if isinstance(n, list) else n for n in value]
        elif isinstance(value, ast_class):
            copied[key] = _clone_node(value)
        elif isinstance(value, list):
            copied[key] = [clone(n) if isinstance(n, (ast_class, list)) else n for n in value]
    return new


def is_atom(node: Any) -> bool:
    cls = node.__class__        # (gast's classes have no subclasses)
    return cls is _NAME or cls is _CONSTANT or (
        cls is _ATTRIBUTE and getattr(node, "static", False))


def static_root(node: Any) -> str | None:
    while isinstance(node, gast.Attribute):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


# The passes build thousands of nodes per transform.  gast's generated ``__init__``
# sets keyword arguments one by one through a Python frame; the constructors below
# fill a new node's ``__dict__`` directly, with the same keys in the same order:
# the same node, three times faster.
_new = gast.AST.__new__
_NAME, _LOAD, _STORE, _CONSTANT = gast.Name, gast.Load, gast.Store, gast.Constant
_ASSIGN, _IF, _CALL, _ATTRIBUTE = gast.Assign, gast.If, gast.Call, gast.Attribute
_SEQUENCE_KINDS = ("list", "tuple")


def name(id_: str, ctx: Any = None) -> gast.Name:
    node = _new(_NAME)
    fields = node.__dict__
    fields["id"] = id_
    fields["ctx"] = ctx or _new(_LOAD)
    fields["annotation"] = None
    fields["type_comment"] = None
    return node


def store(id_: str) -> gast.Name:
    return name(id_, _new(_STORE))


def const(value: Any) -> gast.Constant:
    node = _new(_CONSTANT)
    fields = node.__dict__
    fields["value"] = value
    fields["kind"] = None
    return node


def assign(target: str, value: Any, origin: Any) -> gast.Assign:
    node = _new(_ASSIGN)
    fields = node.__dict__
    fields["targets"] = [store(target)]
    fields["value"] = value
    fields["type_comment"] = None
    fields["origin"] = origin
    return node


def make_if(test: Any, body: list, orelse: list, origin: Any) -> gast.If:
    node = _new(_IF)
    fields = node.__dict__
    fields["test"] = test
    fields["body"] = body
    fields["orelse"] = orelse
    fields["origin"] = origin
    return node


def call(func: Any, args: list, keywords: list | None = None) -> gast.Call:
    node = _new(_CALL)
    fields = node.__dict__
    fields["func"] = func
    fields["args"] = args
    fields["keywords"] = keywords or []
    return node


def _local_names(fn: Any) -> set[str]:
    found = {sub.id for sub in name_nodes(fn)}
    for sub in nodes_of(fn, (gast.FunctionDef, gast.Lambda)):
        args = sub.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            found.add(a.id)
        if isinstance(sub, gast.FunctionDef):
            found.add(sub.name)
    return found


class _Loop:
    def __init__(self) -> None:
        self.brk: str | None = None
        self.skip: str | None = None


class _Context:
    """Where control goes on ``return``: the function, or an inlined call's result."""

    def __init__(self, result: str, flag: str | None = None) -> None:
        self.result = result
        self.returned: str | None = flag
        self.loops: list[_Loop] = []
        self.multiple = False


class Normalizer:
    def __init__(self, parsed: ParsedFunction, namer: Namer) -> None:
        self.parsed = parsed
        self.namer = namer
        self.locals: set[str] = set()
        self.local_functions: dict[str, LocalFunction] = {}
        self.kinds: dict[str, str] = {}
        self.inline_depth = 0
        self.ctx: _Context | None = None
        self.renames: list[dict[str, str]] = [{}]
        self.temps: set[str] = set()
        self.nesting = 0
        self.defined: set[str] = set()

    # -- helpers -------------------------------------------------------------------
    def error(self, node: Any, construct: str, hint: str = "") -> Exception:
        return self.parsed.error(node, construct, hint)

    def fresh(self, hint: str) -> str:
        ident = self.namer.fresh(hint)
        self.locals.add(ident)
        self.temps.add(ident)
        return ident

    def refuse_node(self, node: Any) -> None:
        kind = type(node).__name__
        if kind in _REFUSED:
            construct, hint = _REFUSED[kind]
            raise self.error(node, construct, hint)

    def is_local(self, ident: str) -> bool:
        return ident in self.locals

    def version(self, ident: str) -> str:
        """The name a store to ``ident`` writes: a fresh version for a top-level redefinition.

        Straight-line code at the top of the function never overwrites a value,
        so the reverse sweep can read every earlier value without saving it.
        """
        current = self.rename(ident)
        if self.nesting == 0 and self.inline_depth == 0 and current in self.defined \
                and len(self.renames) == 1:
            current = self.fresh(ident)
            self.renames[0][ident] = current
            self.locals.add(current)
        self.defined.add(current)
        return current

    def nested(self, stmts: list) -> list:
        self.nesting += 1
        try:
            return self.block(stmts)
        finally:
            self.nesting -= 1

    def rename(self, ident: str) -> str:
        for table in reversed(self.renames):
            if ident in table:
                return table[ident]
        return ident

    def name_builtins(self, bound: set[str]) -> None:
        """Names for the builtins normalized code calls, which user code cannot shadow.

        ``for v in xs`` becomes ``range(len(xs))``: where the user's function or
        module binds ``len`` (a local, a global, ``from numpy import *``; ``bound``
        holds the names the function binds), the generated code calls
        ``builtins.len`` by a fresh name instead.
        """
        table = self.parsed.builtin_names
        for ident in GENERATED_BUILTINS:
            value = getattr(builtins, ident)
            if ident not in bound and self.parsed.resolve(ident) is value:
                table[ident] = ident
            else:
                alias = self.namer.fresh(ident)
                self.parsed.closure[alias] = value
                table[ident] = alias

    def builtin(self, ident: str) -> gast.Name:
        """A reference to ``builtins.<ident>`` that means it whatever the user binds."""
        return name(self.parsed.builtin_names[ident])

    # -- entry point ---------------------------------------------------------------
    def function(self) -> NormalizedFunction:
        fn = self.parsed.node
        if isinstance(fn, gast.AsyncFunctionDef):
            raise self.error(fn, "an async function", "Differentiate a plain function.")
        args = fn.args
        if args.vararg is not None or args.kwarg is not None:
            raise self.error(fn, "a function with *args or **kwargs",
                             "Give the function explicit parameters.")
        if isinstance(fn, gast.FunctionDef) and fn.decorator_list:
            pass  # decorators (including @grad itself) are not part of the body
        params = [a.id for a in [*args.posonlyargs, *args.args]]
        kwonly = [a.id for a in args.kwonlyargs]
        if isinstance(fn, gast.Lambda):
            body_src = [gast.Return(value=fn.body)]
            gast.copy_location(body_src[0], fn.body)
        else:
            body_src = fn.body
        scan = _scan(fn)
        local_names, bound, assigned, multiple = scan if scan is not None else (
            _local_names(fn), _bound_names(fn), _assigned_names(fn), _returns_spread(body_src))
        self.locals = assigned | set(params) | set(kwonly)
        self.defined = set(params) | set(kwonly)
        for ident in local_names:
            self.namer.reserve(ident)
        self.name_builtins(bound)
        self.ctx = _Context(result="")
        self.ctx.multiple = multiple
        self.ctx.result = self.fresh("result") if self.ctx.multiple else ""
        body = self.block(body_src)
        result = self.ctx.result
        if not self.ctx.multiple:
            # the single return statement ends the body
            last = body[-1] if body else None
            if not isinstance(last, gast.Return):
                body.append(_return(const(None), fn))
            result = None
        else:
            if self.ctx.returned:
                body.insert(0, assign(self.ctx.returned, const(False), fn))
            body.append(_return(name(self.ctx.result), fn))
        body = _strip_markers(body)
        defaults = list(args.defaults)    # evaluated once, when the function is defined
        kw_defaults = list(args.kw_defaults)
        return NormalizedFunction(self.parsed, self.parsed.name, params, defaults, kwonly,
                                  kw_defaults, body, self.namer, self.kinds, result)

    # -- statements ----------------------------------------------------------------
    def block(self, stmts: list) -> list:
        out: list = []
        for index, stmt in enumerate(stmts):
            produced: list = []
            self.stmt(stmt, produced)
            out.extend(produced)
            exit_kind = _exits(produced)
            if exit_kind == "always":
                return out          # the rest is unreachable
            if exit_kind == "maybe":
                rest = stmts[index + 1:]
                if not rest:
                    return out
                last = out[-1] if out else None
                if isinstance(last, gast.If) and _exits(last.body) == "always" \
                        and _exits(last.orelse) == "never":
                    last.orelse.extend(self.block(rest))
                    return out
                if isinstance(last, gast.If) and _exits(last.orelse) == "always" \
                        and _exits(last.body) == "never":
                    last.body.extend(self.block(rest))
                    return out
                flag = self.guard_flag()
                guarded = self.block(rest)
                if guarded:
                    if _assigns(guarded, flag):
                        # the reverse sweep reads the test after the branch ran
                        tmp = self.fresh("done")
                        out.append(assign(tmp, name(flag), rest[0]))
                        flag = tmp
                    out.append(make_if(name(flag), [], guarded, rest[0]))
                return out
        return out

    def guard_flag(self) -> str:
        ctx = self.ctx
        if ctx.loops:
            loop = ctx.loops[-1]
            if loop.skip is None:
                loop.skip = self.fresh("skip")
            return loop.skip
        if ctx.returned is None:
            ctx.returned = self.fresh("returned")
        return ctx.returned

    def stmt(self, s: Any, out: list) -> None:
        method = _STATEMENTS.get(s.__class__)
        if method is None:      # (no refused kind has a method)
            self.refuse_node(s)
            raise self.error(s, f"a {type(s).__name__} statement")
        method(self, s, out)

    def stmt_Pass(self, s: Any, out: list) -> None:
        pass

    def stmt_Delete(self, s: Any, out: list) -> None:
        # ``del name`` only releases a value (gradient code does so itself): nothing to
        # differentiate.  Deleting an item or attribute changes a container: refused.
        for target in s.targets:
            if not isinstance(target, gast.Name):
                raise self.error(target, "a del statement on an item or attribute",
                                 "Build a new array or list without the item instead.")

    def stmt_Expr(self, s: Any, out: list) -> None:
        value = s.value
        self.refuse_node(value)
        if isinstance(value, gast.Constant):
            return  # docstrings and bare constants
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and isinstance(value.func.value, gast.Name) \
                and self.is_local(value.func.value.id) and value.func.attr == "append":
            self.list_append(value, s, out)
            return
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and isinstance(value.func.value, gast.Name) \
                and self.is_local(value.func.value.id) and value.func.attr in (
                    "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "fill",
                    "resize", "put", "setfield", "itemset"):
            raise self.error(value, f"an in-place method call (.{value.func.attr})",
                             "Build a new value instead of changing one in place.")
        result = self.expr(value, out, s)
        node = gast.Expr(value=result)
        node.origin = s
        out.append(node)

    def stmt_Assert(self, s: Any, out: list) -> None:
        test = self.atom(s.test, out, s)
        node = gast.Assert(test=test, msg=None)
        node.origin = s
        out.append(node)

    def list_append(self, value: Any, s: Any, out: list) -> None:
        if len(value.args) != 1 or value.keywords:
            raise self.error(value, "list.append with several arguments")
        target = self.rename(value.func.value.id)
        item = self.atom(value.args[0], out, s)
        index = self.fresh("n_" + target)
        out.append(assign(index, call(self.builtin("len"), [name(target)]), s))
        node = gast.Expr(value=call(gast.Attribute(value=name(target), attr="append",
                                                   ctx=gast.Load()), [item]))
        node.origin = s
        node.append_index = index
        out.append(node)

    def stmt_Assign(self, s: Any, out: list) -> None:
        targets = s.targets
        if len(targets) == 1:
            self.assign_to(targets[0], s.value, s, out)
            return
        # a = b = value: evaluate once, then copy
        first = targets[-1]
        self.assign_to(first, s.value, s, out)
        source = first
        for target in reversed(targets[:-1]):
            self.assign_to(target, clone(_as_load(source)), s, out)
            source = target

    def stmt_AnnAssign(self, s: Any, out: list) -> None:
        if s.value is not None:
            self.assign_to(s.target, s.value, s, out)

    def stmt_AugAssign(self, s: Any, out: list) -> None:
        target = s.target
        if isinstance(target, gast.Name):
            value = gast.BinOp(left=name(target.id), op=s.op, right=s.value)
            gast.copy_location(value, s)
            base = self.rename(target.id)
            kind = self.kinds.get(base)
            if kind in ("list", "tuple"):
                self.assign_to(target, value, s, out)
                if kind == "list" and out and isinstance(out[-1], gast.Assign):
                    # ``lst += ...`` extends the list object itself: aliases see it
                    out[-1].mutates = base
                return
            # ``a += b`` writes into an array: its dtype and shape stay (``in_place``
            # casts, as NumPy does); numbers are rebound.  Rebinding the name to the new
            # array is the same only when no other name sees the old one:
            # srcgrad/compiler/aliasing.py checks.
            result = self.expr(value, out, s)
            new = self.fresh(target.id)
            out.append(assign(new, result, s))
            symbol = _AUG_SYMBOLS[type(s.op).__name__]
            updated = call(_support_ref("in_place"), [name(new), name(base), const(symbol)])
            ident = self.version(target.id)
            out.append(assign(ident, updated, s))
            self.kinds[ident] = ""
            out[-1].in_place = base
            return
        if isinstance(target, gast.Subscript):
            base = self.subscript_base(target)
            index = self.list_index(base, self.index(target.slice, out, s), out, s)
            current = self.fresh("item")
            out.append(assign(current, self.subscript_op(base, index), s))
            rhs = self.atom(s.value, out, s)
            combined = self.fresh("item")
            out.append(assign(combined, gast.BinOp(left=name(current), op=s.op, right=rhs), s))
            # the item (a view, or a copy for an integer-array index) is updated in place
            # when it is an array, rebound when it is a scalar; then written back
            updated = self.fresh("item")
            symbol = _AUG_SYMBOLS[type(s.op).__name__]
            out.append(assign(updated, call(_support_ref("in_place"),
                                             [name(combined), name(current), const(symbol)]), s))
            self.store_item(base, clone(index), name(updated), s, out, target.value.id)
            return
        raise self.error(s, "augmented assignment to an attribute",
                         "Assign to a local variable instead.")

    def subscript_base(self, target: Any) -> str:
        base = target.value
        if not isinstance(base, gast.Name) or not self.is_local(base.id):
            raise self.error(target, "an item assignment to a value that is not a local variable",
                             "Copy the value into a local variable first.")
        return self.rename(base.id)

    def store_item(self, base: str, index: Any, value: Any, s: Any, out: list,
                   original: str | None = None) -> None:
        if self.kinds.get(base) == "dict":
            raise self.error(s, "an item assignment into a dict",
                             "Build the dict as one display ({'a': ..., 'b': ...}).")
        func = "setitem_list" if self.kinds.get(base) == "list" else "setitem"
        index = _index_value(index, self.parsed.builtin_names)
        value = call(_support_ref(func), [name(base), index, value])
        target = self.version(original or base)
        self.kinds[target] = self.kinds.get(base, "")
        node = assign(target, value, s)
        out.append(node)

    def assign_to(self, target: Any, value: Any, s: Any, out: list) -> None:
        if isinstance(target, gast.Name):
            if isinstance(value, (gast.Lambda,)):
                ident = self.rename(target.id)
                self.local_functions[ident] = LocalFunction(value, ident)
                return
            result = self.expr(value, out, s)
            ident = self.version(target.id)
            if isinstance(result, gast.Name) and result.id != ident and out \
                    and isinstance(out[-1], gast.Assign) \
                    and out[-1].targets[0].id == result.id and _is_temp(result.id, self):
                # retarget the temporary that computed the value
                out[-1].targets[0].id = ident
                self.kinds[ident] = self.kinds.get(result.id, "")
                return
            out.append(assign(ident, result, s))
            self.kinds[ident] = _kind_of(result, self.kinds)
            return
        if isinstance(target, (gast.Tuple, gast.List)):
            self.unpack(target, value, s, out)
            return
        if isinstance(target, gast.Subscript):
            base = self.subscript_base(target)
            index = self.list_index(base, self.index(target.slice, out, s), out, s)
            item = self.atom(value, out, s)
            self.store_item(base, index, item, s, out, target.value.id)
            return
        if isinstance(target, gast.Attribute):
            raise self.error(target, "an attribute assignment",
                             "Keep values in local variables inside a differentiated function.")
        self.refuse_node(target)
        raise self.error(target, f"assignment to {type(target).__name__}")

    def unpack(self, target: Any, value: Any, s: Any, out: list) -> None:
        elts = target.elts
        if any(isinstance(e, gast.Starred) for e in elts):
            raise self.error(target, "starred unpacking", "Index the sequence explicitly.")
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(elts):
            atoms = [self.atom(v, out, s) for v in value.elts]
            targets = {n.id for e in elts for n in name_nodes(e) if isinstance(n, gast.Name)}
            safe = []
            for a in atoms:
                if isinstance(a, gast.Name) and a.id in targets:
                    tmp = self.fresh(a.id + "_old")
                    out.append(assign(tmp, a, s))
                    a = name(tmp)
                safe.append(a)
            for e, a in zip(elts, safe, strict=True):
                self.assign_to(e, a, s, out)
            return
        source = self.atom(value, out, s)
        if isinstance(source, gast.Name) and self.kinds.get(source.id) == "":
            self.kinds[source.id] = "tuple" if isinstance(value, gast.Call) else ""
        for k, e in enumerate(elts):
            item = gast.Subscript(value=clone(source), slice=const(k), ctx=gast.Load())
            self.assign_to(e, item, s, out)

    def stmt_Return(self, s: Any, out: list) -> None:
        ctx = self.ctx
        value = s.value if s.value is not None else const(None)
        if not ctx.multiple and not ctx.loops and self.inline_depth == 0:
            result = self.atom(value, out, s)
            out.append(_return(result, s))
            return
        result = self.expr(value, out, s)
        out.append(assign(ctx.result, result, s))
        if not ctx.loops:
            if ctx.returned is None:
                ctx.returned = self.fresh("returned")
            out.append(assign(ctx.returned, const(True), s))
        if ctx.loops:
            if ctx.returned is None:
                ctx.returned = self.fresh("returned")
            out.append(assign(ctx.returned, const(True), s))
            for loop in ctx.loops:
                self._stop_loop(loop, s, out)
        node = gast.Pass()
        node.exit = "return"
        node.origin = s
        out.append(node)

    def stmt_Break(self, s: Any, out: list) -> None:
        if not self.ctx.loops:
            raise self.error(s, "break outside a loop")
        self._stop_loop(self.ctx.loops[-1], s, out)
        node = gast.Pass()
        node.exit = "break"
        out.append(node)

    def _stop_loop(self, loop: Any, s: Any, out: list) -> None:
        """Set ``loop``'s stop and skip flags (made on first use): it ends after this pass."""
        if loop.brk is None:
            loop.brk = self.fresh("stop")
        if loop.skip is None:
            loop.skip = self.fresh("skip")
        out.append(assign(loop.brk, const(True), s))
        out.append(assign(loop.skip, const(True), s))

    def stmt_Continue(self, s: Any, out: list) -> None:
        if not self.ctx.loops:
            raise self.error(s, "continue outside a loop")
        loop = self.ctx.loops[-1]
        if loop.skip is None:
            loop.skip = self.fresh("skip")
        out.append(assign(loop.skip, const(True), s))
        node = gast.Pass()
        node.exit = "continue"
        out.append(node)

    def stmt_If(self, s: Any, out: list) -> None:
        test = self.atom(s.test, out, s)
        if isinstance(test, gast.Constant):
            out.extend(self.block(s.body if test.value else s.orelse))
            return
        body = self.nested(s.body)
        orelse = self.nested(s.orelse)
        if isinstance(test, gast.Name) and (_assigns(body, test.id) or _assigns(orelse, test.id)):
            tmp = self.fresh("cond")
            out.append(assign(tmp, test, s))
            test = name(tmp)
        out.append(make_if(test, body, orelse, s))

    def stmt_FunctionDef(self, s: Any, out: list) -> None:
        self.local_functions[s.name] = LocalFunction(s, s.name)

    def stmt_For(self, s: Any, out: list) -> None:
        if s.orelse:
            raise self.error(s, "a for loop with an else clause",
                             "Use a flag variable instead of for/else.")
        it = s.iter
        loop = _Loop()
        prefix: list = []
        if isinstance(it, gast.Call) and self.resolves_to(it.func, range) and not it.keywords:
            bounds = [self.atom(a, out, s) for a in it.args]
            iter_node = call(self.builtin("range"), bounds)
            element = None
            if isinstance(s.target, gast.Name):
                index = self.rename(s.target.id)
                self.defined.add(index)
            else:
                index = self.fresh("i")
        else:
            count, element = self.iteration(it, out, s)
            index = self.fresh("k")
            iter_node = call(self.builtin("range"), [count])
        self.ctx.loops.append(loop)
        self.nesting += 1
        try:
            if element is not None:
                element(name(index), s.target, prefix)
            elif not isinstance(s.target, gast.Name):
                self.assign_to(s.target, name(index), s, prefix)
            body = prefix + self.block(s.body)
        finally:
            self.nesting -= 1
        self.ctx.loops.pop()
        for bound in iter_node.args:
            if isinstance(bound, gast.Name) and _assigns(body, bound.id):
                tmp = self.fresh(bound.id + "_end")
                out.append(assign(tmp, name(bound.id), s))
                bound.id = tmp
        node = gast.For(target=store(index), iter=iter_node, body=body, orelse=[],
                        type_comment=None)
        node.origin = s
        self.close_loop(node, loop, out, s)

    def close_loop(self, node: Any, loop: _Loop, out: list, s: Any,
                   test_stmts: list | None = None) -> None:
        if loop.skip is not None:
            node.body.insert(0, assign(loop.skip, const(False), s))
        if test_stmts:
            if loop.brk is not None:
                node.body.append(make_if(name(loop.brk), [], test_stmts, s))
            else:
                node.body.extend(test_stmts)
        node.break_flag = loop.brk
        if loop.brk is not None:
            out.append(assign(loop.brk, const(False), s))
        out.append(node)

    def iteration(self, it: Any, out: list, s: Any):
        """``(count atom, element(index, target, out))`` for iterating over ``it``."""
        if isinstance(it, gast.Call) and len(it.args) == 1 and not it.keywords \
                and self.resolves_to(it.func, reversed):
            it = gast.Subscript(value=it.args[0], slice=gast.Slice(
                lower=None, upper=None, step=const(-1)), ctx=gast.Load())
        if isinstance(it, gast.Call) and not it.keywords and self.resolves_to(it.func, enumerate):
            count, inner = self.iteration(it.args[0], out, s)
            start = self.atom(it.args[1], out, s) if len(it.args) > 1 else None

            def element(index: Any, target: Any, body: list) -> None:
                if not isinstance(target, (gast.Tuple, gast.List)) or len(target.elts) != 2:
                    raise self.error(target, "enumerate() into a single name",
                                     "Unpack as `for i, item in enumerate(...)`.")
                value = index if start is None else gast.BinOp(left=index, op=gast.Add(),
                                                               right=start)
                self.assign_to(target.elts[0], value, s, body)
                inner(index, target.elts[1], body)
            return count, element
        if isinstance(it, gast.Call) and self.resolves_to(it.func, zip) and all(
                k.arg == "strict" for k in it.keywords):
            parts = [self.iteration(a, out, s) for a in it.args]
            counts = [p[0] for p in parts]
            strict = [self.atom(k.value, out, s) for k in it.keywords]
            if len(counts) == 1:
                count = counts[0]
            elif not strict or (isinstance(strict[0], gast.Constant) and not strict[0].value):
                count = self.atom(call(self.builtin("min"), counts), out, s)
            else:
                # zip(..., strict=True) raises when the lengths differ, as Python's does
                count = name(self.fresh("count"))
                out.append(assign(count.id, call(_support_ref("zip_count"),
                                                 [strict[0], *counts]), s))

            def element(index: Any, target: Any, body: list) -> None:
                if not isinstance(target, (gast.Tuple, gast.List)) or \
                        len(target.elts) != len(parts):
                    raise self.error(target, "zip() into a single name",
                                     "Unpack as `for a, b in zip(...)`.")
                for (_, inner), t in zip(parts, target.elts, strict=True):
                    inner(index, t, body)
            return count, element
        if isinstance(it, gast.Name) and not self.is_local(it.id):
            value = self.parsed.resolve(it.id)
            if not isinstance(value, _POSITIONAL_SEQUENCES) and value is not MISSING:
                # the loop is lowered to len() and item reads by position, which is what
                # iterating means only for sequences (a dict yields its keys, a set has
                # no positions)
                raise self.error(it, f"iteration over {it.id!r}, a {type(value).__name__}",
                                 "Iterate over a list, tuple or array (e.g. list(d.values())).")
        seq = self.atom(it, out, s)
        if isinstance(seq, gast.Constant):
            raise self.error(it, "iteration over a constant")
        count = self.atom(call(self.builtin("len"), [seq]), out, s)

        def element(index: Any, target: Any, body: list) -> None:
            self.assign_to(target, gast.Subscript(value=clone(seq), slice=index,
                                                  ctx=gast.Load()), s, body)
        return count, element

    def stmt_While(self, s: Any, out: list) -> None:
        if s.orelse:
            raise self.error(s, "a while loop with an else clause",
                             "Use a flag variable instead of while/else.")
        test_out: list = []
        test = self.atom(s.test, test_out, s)
        if not isinstance(test, gast.Name):
            tmp = self.fresh("running")
            test_out.append(assign(tmp, test, s))
            test = name(tmp)
        out.extend(test_out)
        loop = _Loop()
        self.ctx.loops.append(loop)
        body = self.nested(s.body)
        self.ctx.loops.pop()
        again: list = []
        test2 = self.atom(clone(s.test), again, s)
        if not (isinstance(test2, gast.Name) and test2.id == test.id):
            again.append(assign(test.id, test2, s))
        node = gast.While(test=test, body=body, orelse=[])
        node.origin = s
        self.close_loop(node, loop, out, s, again)

    # -- expressions ---------------------------------------------------------------
    def resolves_to(self, func: Any, obj: Any) -> bool:
        if isinstance(func, gast.Name) and not self.is_local(func.id):
            return self.parsed.resolve(func.id) is obj
        return False

    def atom(self, e: Any, out: list, s: Any) -> Any:
        result = self.expr(e, out, s)
        if is_atom(result):
            return result
        tmp = self.fresh(_hint(result))
        out.append(assign(tmp, result, s))
        self.kinds[tmp] = _kind_of(result, self.kinds)
        return name(tmp)

    def expr(self, e: Any, out: list, s: Any) -> Any:
        method = _EXPRESSIONS.get(e.__class__)
        if method is None:      # (no refused kind has a method)
            self.refuse_node(e)
            raise self.error(e, f"the expression {type(e).__name__}")
        return method(self, e, out, s)

    def expr_Constant(self, e: Any, out: list, s: Any) -> Any:
        return const(e.value)

    def expr_Name(self, e: Any, out: list, s: Any) -> Any:
        ident = self.rename(e.id)
        if ident in self.local_functions:
            raise self.error(e, f"the nested function {e.id!r} used as a value",
                             "Call nested functions and lambdas directly; pass module-level "
                             "functions instead.")
        if self.is_local(e.id) or ident != e.id:
            return name(ident)
        value = self.parsed.resolve(e.id)
        if value is MISSING:
            raise self.error(e, f"the name {e.id!r}, which is not defined",
                             "Define it before transforming the function.")
        return name(e.id)

    def expr_Attribute(self, e: Any, out: list, s: Any) -> Any:
        root = static_root(e)
        if root is not None and not self.is_local(root) and self.rename(root) == root:
            node = self.static_attribute(e)
            if root == self.parsed.receiver:
                # ``self.w`` is the object's state: read once, where Python reads it
                # (a temporary), never again by the reverse sweep
                node.static = False
                node.receiver_read = True
            return node
        value = self.atom(e.value, out, s)
        if e.attr in CONSTANT_ATTRIBUTES or e.attr in ARRAY_ATTRIBUTES:
            return gast.Attribute(value=value, attr=e.attr, ctx=gast.Load())
        raise self.error(e, f"the attribute .{e.attr} of a value",
                         "Only array attributes (.T, .shape, .ndim, .size, .dtype, .real) are "
                         "understood.")

    def static_attribute(self, e: Any) -> Any:
        """An attribute chain on a module-level or bound object (``np.pi``, ``self.w``)."""
        node = clone(e)
        node.static = True
        self.static_value(node)
        return node

    def static_value(self, node: Any) -> Any:
        if isinstance(node, gast.Name):
            return self.parsed.resolve(node.id)
        base = self.static_value(node.value)
        if base is MISSING:
            raise self.error(node, f"the name {static_root(node)!r}, which is not defined")
        try:
            return getattr(base, node.attr)
        except AttributeError:
            raise self.error(node, f"the attribute .{node.attr}, which does not exist") from None

    def expr_BinOp(self, e: Any, out: list, s: Any) -> Any:
        left = self.atom(e.left, out, s)
        right = self.atom(e.right, out, s)
        kinds = self.kinds
        left_kind = kinds.get(left.id, "") if left.__class__ is _NAME else ""
        right_kind = kinds.get(right.id, "") if right.__class__ is _NAME else ""
        seq = left_kind if left_kind in _SEQUENCE_KINDS else \
            right_kind if right_kind in _SEQUENCE_KINDS else None
        if seq is None:
            return gast.BinOp(left=left, op=e.op, right=right)
        if isinstance(e.op, gast.Add):
            # concatenation: a new list (or tuple), the items of both
            node = call(_support_ref("seq_concat"), [left, right])
            node.seq_kind = seq
            return node
        if isinstance(e.op, gast.Mult):
            # repetition: the same items again (refused by the sweeps where they are active)
            node = call(_support_ref("seq_repeat"), [left, right] if left_kind == seq
                        else [right, left])
            node.seq_kind = seq
            return node
        return gast.BinOp(left=left, op=e.op, right=right)

    def expr_UnaryOp(self, e: Any, out: list, s: Any) -> Any:
        operand = self.atom(e.operand, out, s)
        if isinstance(operand, gast.Constant) and isinstance(e.op, (gast.USub, gast.UAdd)) \
                and isinstance(operand.value, (int, float)):
            return const(-operand.value if isinstance(e.op, gast.USub) else operand.value)
        return gast.UnaryOp(op=e.op, operand=operand)

    def expr_Compare(self, e: Any, out: list, s: Any) -> Any:
        left = self.atom(e.left, out, s)
        if len(e.ops) == 1:
            return gast.Compare(left=left, ops=e.ops, comparators=[self.atom(e.comparators[0],
                                                                              out, s)])
        # a < b < c  ->  (a < b) and (b < c), each operand evaluated once
        result = self.fresh("cond")
        right = self.atom(e.comparators[0], out, s)
        out.append(assign(result, gast.Compare(left=left, ops=[e.ops[0]], comparators=[right]),
                          s))
        rest = gast.Compare(left=right, ops=e.ops[1:], comparators=e.comparators[1:])
        inner: list = []
        value = self.expr(rest, inner, s)
        inner.append(assign(result, value, s))
        out.append(make_if(name(result), inner, [], s))
        return name(result)

    def expr_BoolOp(self, e: Any, out: list, s: Any) -> Any:
        result = self.fresh("cond")
        first = self.expr(e.values[0], out, s)
        out.append(assign(result, first, s))
        rest = e.values[1:]
        if not rest:
            return name(result)
        inner: list = []
        tail = gast.BoolOp(op=e.op, values=rest) if len(rest) > 1 else rest[0]
        value = self.expr(tail, inner, s)
        inner.append(assign(result, value, s))
        if isinstance(e.op, gast.And):
            out.append(make_if(name(result), inner, [], s))
        else:
            out.append(make_if(name(result), [], inner, s))
        return name(result)

    def expr_IfExp(self, e: Any, out: list, s: Any) -> Any:
        test = self.atom(e.test, out, s)
        result = self.fresh("choice")
        body: list = []
        body.append(assign(result, self.expr(e.body, body, s), s))
        orelse: list = []
        orelse.append(assign(result, self.expr(e.orelse, orelse, s), s))
        if isinstance(test, gast.Constant):
            out.extend(body if test.value else orelse)
        else:
            out.append(make_if(test, body, orelse, s))
        return name(result)

    def expr_Tuple(self, e: Any, out: list, s: Any) -> Any:
        return gast.Tuple(elts=[self.atom(v, out, s) for v in e.elts], ctx=gast.Load())

    def expr_List(self, e: Any, out: list, s: Any) -> Any:
        return gast.List(elts=[self.atom(v, out, s) for v in e.elts], ctx=gast.Load())

    def expr_Dict(self, e: Any, out: list, s: Any) -> Any:
        """A dict is carried along (as auxiliary output) but never differentiated through."""
        if any(k is None for k in e.keys):
            raise self.error(e, "a dict display with ** unpacking", "List the items one by one.")
        keys = [self.atom(k, out, s) for k in e.keys]
        values = [self.atom(v, out, s) for v in e.values]
        return gast.Dict(keys=keys, values=values)

    def expr_JoinedStr(self, e: Any, out: list, s: Any) -> Any:
        node = clone(e)
        for part in node.values:
            if isinstance(part, gast.FormattedValue):
                part.value = self.atom(part.value, out, s)
        return node

    def expr_Subscript(self, e: Any, out: list, s: Any) -> Any:
        value = self.atom(e.value, out, s)
        if isinstance(value, gast.Name) and self.kinds.get(value.id) == "dict":
            raise self.error(e, "reading a value back from a dict",
                             "Keep differentiated values in variables, tuples or lists.")
        index = self.list_index(value, self.index(e.slice, out, s), out, s)
        return self.subscript_op(value, index)

    def list_index(self, value: Any, index: Any, out: list, s: Any) -> Any:
        """A negative constant index into a list, counted from the front as of now.

        Lists grow by ``append``; the reverse sweep must not read ``[-1]`` of
        the longer list.
        """
        ident = value.id if isinstance(value, gast.Name) else value
        if self.kinds.get(ident) == "list" and isinstance(index, gast.Constant) \
                and isinstance(index.value, int) and index.value < 0:
            size = self.atom(call(self.builtin("len"), [name(ident)]), out, s)
            return self.atom(gast.BinOp(left=size, op=gast.Add(), right=const(index.value)),
                             out, s)
        return index

    def subscript_op(self, value: Any, index: Any) -> Any:
        if isinstance(value, gast.Name):
            value = name(value.id) if isinstance(value, gast.Name) else value
        elif isinstance(value, str):
            value = name(value)
        return gast.Subscript(value=value, slice=index, ctx=gast.Load())

    def index(self, node: Any, out: list, s: Any) -> Any:
        """An index expression whose leaves are atoms: slices, None, Ellipsis, tuples."""
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.atom(p, out, s)
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(v, out, s) for v in node.elts], ctx=gast.Load())
        return self.atom(node, out, s)

    def expr_ListComp(self, e: Any, out: list, s: Any) -> Any:
        return self.comprehension(e, out, s)

    def expr_GeneratorExp(self, e: Any, out: list, s: Any) -> Any:
        if not getattr(e, "consumed", False):
            # a generator is exhausted once iterated: a list would give its items again
            raise self.error(e, "a generator expression that is not consumed at once",
                             "Use a list comprehension, or pass the generator straight to "
                             "sum(), min(), max(), list() or tuple().")
        return self.comprehension(e, out, s)

    def comprehension(self, e: Any, out: list, s: Any) -> Any:
        result = self.fresh("items")
        out.append(assign(result, gast.List(elts=[], ctx=gast.Load()), s))
        self.kinds[result] = "list"
        self.locals.add(result)
        # comprehension variables are private: give them fresh names
        table: dict[str, str] = {}
        for gen in e.generators:
            for n in name_nodes(gen.target):
                if isinstance(n, gast.Name):
                    table[n.id] = self.fresh(n.id)
                    self.locals.add(table[n.id])
        self.renames.append(table)
        try:
            statement = gast.Expr(value=call(gast.Attribute(value=name(result), attr="append",
                                                            ctx=gast.Load()), [e.elt]))
            gast.copy_location(statement, e)
            for gen in reversed(e.generators):
                if gen.is_async:
                    raise self.error(e, "an async comprehension")
                for cond in reversed(gen.ifs):
                    statement = gast.If(test=cond, body=[statement], orelse=[])
                    gast.copy_location(statement, e)
                statement = gast.For(target=gen.target, iter=gen.iter, body=[statement],
                                     orelse=[], type_comment=None)
                gast.copy_location(statement, e)
            produced: list = []
            saved = self.ctx.loops
            self.ctx.loops = []
            self.stmt(statement, produced)
            self.ctx.loops = saved
            for node in produced:
                _set_origin(node, s)
            out.extend(produced)
        finally:
            self.renames.pop()
        return name(result)

    def expr_Lambda(self, e: Any, out: list, s: Any) -> Any:
        raise self.error(e, "a lambda used as a value",
                         "Call the lambda directly, or assign it to a name and call that.")

    def expr_Call(self, e: Any, out: list, s: Any) -> Any:
        func = e.func
        for a in e.args:
            if isinstance(a, gast.Starred):
                raise self.error(a, "a call with *args", "Pass the arguments one by one.")
        for k in e.keywords:
            if k.arg is None:
                raise self.error(k.value, "a call with **kwargs", "Pass keyword arguments "
                                 "one by one.")
        if isinstance(func, gast.Call):
            made = self.transform_made_here(func)
            if made is not MISSING:
                # ``grad(f)(x)`` inside the function: the gradient is made once, now
                ident = self.namer.fresh("transformed")
                self.parsed.closure[ident] = made
                e.func = func = name(ident)
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Call):
            method = self.super_method(func)
            if method is not MISSING:
                # ``super().loss(x)`` in a bound method: the parent's method, bound to self
                ident = self.namer.fresh("super_" + func.attr)
                self.parsed.closure[ident] = method
                e.func = func = name(ident)
        if isinstance(func, gast.Name) and self.rename(func.id) in self.local_functions:
            return self.inline(self.local_functions[self.rename(func.id)], e, out, s)
        if isinstance(func, gast.Lambda):
            return self.inline(LocalFunction(func, "lambda"), e, out, s)
        if isinstance(func, gast.Attribute):
            root = static_root(func)
            if root is None or self.is_local(root) or self.rename(root) != root:
                return self.method_call(e, out, s)
        if isinstance(func, gast.Name) and (self.is_local(func.id) or
                                            self.rename(func.id) != func.id):
            raise self.error(e, f"a call to {func.id}, a function value not known when the "
                             "code is transformed",
                             "Call the function by its module-level name, or use "
                             'engine="tape".')
        func_node = self.static_attribute(func) if isinstance(func, gast.Attribute) \
            else self.expr(func, out, s)
        target = self.static_value(func_node) if is_atom(func_node) else MISSING
        if isinstance(target, type) and not (target.__module__ == "builtins"
                                             or target.__module__.startswith(("numpy",
                                                                              "srcgrad."))):
            raise self.error(e, f"a call into a user class ({target.__name__})",
                             "Build objects outside the differentiated function, or use "
                             'engine="tape".')
        if _generator_function(target):
            raise self.error(e, f"a call to the generator function {target.__name__}",
                             "Return a list instead of yielding values, or use "
                             'engine="tape".')
        if len(e.args) == 1 and not e.keywords and isinstance(e.args[0], gast.GeneratorExp) \
                and any(target is b for b in _CONSUMING_BUILTINS):
            # consumed once, right here: the same as a list comprehension
            e.args[0].consumed = True
        if _user_function(target):
            # a list or tuple passed to a user function is one value (its adjoint flows
            # back item by item), not a primitive's sequence argument
            args = [self.atom(a, out, s) for a in e.args]
            keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, out, s))
                        for k in e.keywords]
        else:
            args = [self.argument(a, out, s) for a in e.args]
            keywords = [gast.keyword(arg=k.arg, value=self.argument(k.value, out, s))
                        for k in e.keywords]
        node = call(func_node, args, keywords)
        gast.copy_location(node, e)
        return node

    def super_method(self, func: Any) -> Any:
        """``super().name`` in a bound method, resolved as Python does; else ``MISSING``."""
        call_ = func.value
        receiver = self.parsed.receiver
        if receiver is None or call_.args or call_.keywords or not self.resolves_to(
                call_.func, super) or "__class__" not in self.parsed.closure:
            return MISSING
        owner = self.parsed.closure["__class__"]
        bound = self.parsed.closure[receiver]
        try:
            return getattr(super(owner, bound), func.attr)
        except (AttributeError, TypeError):
            raise self.error(func, f"super().{func.attr}, which does not exist") from None

    def transform_made_here(self, call: Any) -> Any:
        """The value of ``srcgrad.grad(f, ...)`` written inside the function, or ``MISSING``.

        Only for srcgrad's own transforms (marked ``made_at_transform_time``) whose
        arguments are all known when the code is transformed.
        """
        func = call.func
        root = static_root(func) if isinstance(func, (gast.Name, gast.Attribute)) else None
        if root is None or self.is_local(root) or self.rename(root) != root:
            return MISSING
        try:
            maker = self.static_value(func)
        except TransformError:
            return MISSING
        if not getattr(maker, "made_at_transform_time", False):
            return MISSING
        values = []
        for node in [*call.args, *(k.value for k in call.keywords)]:
            value = self.known_value(node)
            if value is MISSING:
                return MISSING
            values.append(value)
        args = values[:len(call.args)]
        kwargs = {k.arg: v for k, v in zip(call.keywords, values[len(call.args):], strict=True)}
        return maker(*args, **kwargs)

    def known_value(self, node: Any) -> Any:
        """A constant, a tuple of them, or a module-level name's value; else ``MISSING``."""
        if isinstance(node, gast.Constant):
            return node.value
        if isinstance(node, gast.Tuple):
            items = [self.known_value(e) for e in node.elts]
            return MISSING if any(i is MISSING for i in items) else tuple(items)
        root = static_root(node) if isinstance(node, (gast.Name, gast.Attribute)) else None
        if root is None or self.is_local(root) or self.rename(root) != root:
            return MISSING
        try:
            return self.static_value(node)
        except TransformError:
            return MISSING

    def argument(self, a: Any, out: list, s: Any) -> Any:
        if isinstance(a, (gast.List, gast.Tuple)):
            return type(a)(elts=[self.argument(v, out, s) for v in a.elts], ctx=gast.Load())
        if isinstance(a, gast.GeneratorExp):
            return self.atom(a, out, s)
        return self.atom(a, out, s)

    def method_call(self, e: Any, out: list, s: Any) -> Any:
        func = e.func
        method = func.attr
        receiver = self.atom(func.value, out, s)
        if method == "append":
            raise self.error(e, "list.append used as a value",
                             "Call append as a statement of its own.")
        if method == "pop" and not e.args and not e.keywords and isinstance(receiver, gast.Name) \
                and self.is_local(receiver.id) and self.parsed.filename.startswith("<srcgrad "):
            # a local stack (generated gradients pop what their forward sweep pushed)
            node = call(gast.Attribute(value=receiver, attr="pop", ctx=gast.Load()), [])
            node.list_pop = True
            gast.copy_location(node, e)
            return node
        if method not in ARRAY_METHODS:
            raise self.error(func, f"a call to the method .{method}() of a value",
                             "Only NumPy array methods are understood; call a function "
                             'instead, or use engine="tape".')
        target, pack = ARRAY_METHODS[method]
        args = [self.argument(a, out, s) for a in e.args]
        if pack and len(args) > 1:
            args = [gast.Tuple(elts=args, ctx=gast.Load())]
        keywords = [gast.keyword(arg=k.arg, value=self.argument(k.value, out, s))
                    for k in e.keywords]
        node = call(gast.Attribute(value=receiver, attr=method, ctx=gast.Load()), args,
                    keywords)
        node.method = target
        gast.copy_location(node, e)
        return node

    # -- inlining nested functions and lambdas --------------------------------------
    def inline(self, local: LocalFunction, e: Any, out: list, s: Any) -> Any:
        fn = local.node
        if self.inline_depth > 20:
            raise self.error(e, "a recursive nested function",
                             "Define the function at module level to use recursion.")
        args = fn.args
        if args.vararg is not None or args.kwarg is not None:
            raise self.error(e, "a call to a nested function with *args or **kwargs")
        params = [a.id for a in [*args.posonlyargs, *args.args]]
        kwonly = [a.id for a in args.kwonlyargs]
        table: dict[str, str] = {}
        inner_locals = set(params) | set(kwonly)
        if isinstance(fn, gast.FunctionDef):
            inner_locals |= _assigned_names(fn)
        for ident in sorted(inner_locals):
            table[ident] = self.fresh(ident)
        # bind arguments, evaluated in the caller's scope
        values: dict[str, Any] = {}
        if len(e.args) > len(params):
            raise self.error(e, "a call with too many arguments")
        for p, a in zip(params, e.args, strict=False):
            values[p] = self.atom(a, out, s)
        for k in e.keywords:
            if k.arg not in params and k.arg not in kwonly:
                raise self.error(e, f"an unexpected keyword argument {k.arg!r}")
            values[k.arg] = self.atom(k.value, out, s)
        defaults = dict(zip(params[len(params) - len(args.defaults):], args.defaults,
                            strict=True))
        defaults.update({p: d for p, d in zip(kwonly, args.kw_defaults, strict=True)
                         if d is not None})
        for p in [*params, *kwonly]:
            if p not in values:
                if p not in defaults:
                    raise self.error(e, f"a call missing the argument {p!r}")
                values[p] = self.atom(defaults[p], out, s)
        for p in [*params, *kwonly]:
            out.append(assign(table[p], values[p], s))
            self.kinds[table[p]] = self.kinds.get(getattr(values[p], "id", ""), "")
        self.locals = self.locals | set(table.values())
        saved_ctx = self.ctx
        body_src = fn.body if isinstance(fn, gast.FunctionDef) else [
            gast.copy_location(gast.Return(value=fn.body), fn.body)]
        ctx = _Context(result=self.fresh(getattr(local, "name", "fn") + "_result"))
        ctx.multiple = True
        self.ctx = ctx
        self.renames.append(table)
        self.inline_depth += 1
        try:
            produced = self.block(body_src)
        finally:
            self.inline_depth -= 1
            self.renames.pop()
            self.ctx = saved_ctx
            self.locals = self.locals | {ctx.result}
        if ctx.returned:
            out.append(assign(ctx.returned, const(False), s))
            self.locals.add(ctx.returned)
        produced = _strip_markers(produced)   # the callee's returns end the callee only
        for node in produced:
            _set_origin(node, s, keep=True)
        out.extend(produced)
        if _exits(produced) != "always" and not _assigns(produced, ctx.result):
            out.append(assign(ctx.result, const(None), s))
        return name(ctx.result)


def _methods(prefix: str) -> dict:
    """gast class -> the Normalizer method for its nodes (``expr_Name`` for ``gast.Name``)."""
    return {getattr(gast, attr[len(prefix):]): method for attr, method in vars(Normalizer).items()
            if attr.startswith(prefix)}


_EXPRESSIONS = _methods("expr_")
_STATEMENTS = _methods("stmt_")


# -- helpers -----------------------------------------------------------------------

def _generator_function(target: Any) -> bool:
    """``inspect.isgeneratorfunction``, ``iscoroutinefunction`` or ``isasyncgenfunction``.

    A ufunc or a builtin function (most calls) is none of them, answered without
    asking (they read a function's code, and these hold no code and take no
    attributes, such as the mark of ``inspect.markcoroutinefunction``).
    """
    if isinstance(target, (np.ufunc, types.BuiltinFunctionType)):
        return False
    return inspect.isgeneratorfunction(target) or inspect.iscoroutinefunction(target) \
        or inspect.isasyncgenfunction(target)


def _user_function(fn: Any) -> bool:
    """A plain Python function the source engine transforms as a callee."""
    if isinstance(fn, TreeFunction):        # a function given containers, spread
        return _user_function(fn.fun)
    return isinstance(fn, types.FunctionType) and not (
        getattr(fn, "__module__", "") or "").startswith(("numpy", "srcgrad."))


# builtins that iterate over their one argument once, as a list would be
_CONSUMING_BUILTINS = (sum, min, max, list, tuple, any, all, sorted)


def _strip_markers(stmts: list) -> list:
    kept = []
    for stmt in stmts:
        if isinstance(stmt, gast.Pass):
            continue
        for attr in ("body", "orelse"):
            if isinstance(getattr(stmt, attr, None), list):
                setattr(stmt, attr, _strip_markers(getattr(stmt, attr)))
        kept.append(stmt)
    return kept


_AUG_SYMBOLS = {"Add": "+=", "Sub": "-=", "Mult": "*=", "Div": "/=", "FloorDiv": "//=",
                "Mod": "%=", "Pow": "**=", "MatMult": "@=", "BitAnd": "&=", "BitOr": "|=",
                "BitXor": "^=", "LShift": "<<=", "RShift": ">>="}


def _support_ref(func: str) -> Any:
    node = name(func)
    node.support = True
    return node


def _index_value(index: Any, names: dict[str, str]) -> Any:
    """An index expression written as a value (``1:3`` -> ``slice(1, 3, None)``).

    ``names`` is the parsed function's ``builtin_names``.
    """
    if isinstance(index, gast.Slice):
        parts = [const(None) if p is None else p for p in (index.lower, index.upper, index.step)]
        return call(name(names.get("slice", "slice")), parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value(v, names) for v in index.elts], ctx=gast.Load())
    if isinstance(index, gast.Constant) and index.value is Ellipsis:
        return name(names.get("Ellipsis", "Ellipsis"))
    return index


index_value = _index_value


def _as_load(node: Any) -> Any:
    node = clone(node)
    for sub in walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = gast.Load()
    return node


def _return(value: Any, origin: Any) -> Any:
    node = gast.Return(value=value)
    node.origin = origin
    return node


def _set_origin(node: Any, origin: Any, keep: bool = False) -> None:
    for sub in walk(node):
        if isinstance(sub, gast.stmt) and (not keep or not hasattr(sub, "origin")):
            sub.origin = origin


def _is_temp(ident: str, normalizer: Normalizer) -> bool:
    return ident in normalizer.temps


def _kind_of(value: Any, kinds: dict[str, str]) -> str:
    if isinstance(value, gast.Dict):
        return "dict"
    if isinstance(value, gast.List):
        return "list"
    if isinstance(value, gast.Tuple):
        return "tuple"
    if isinstance(value, gast.Name):
        return kinds.get(value.id, "")
    if isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice) \
            and isinstance(value.value, gast.Name) \
            and kinds.get(value.value.id) in ("list", "tuple"):
        return kinds[value.value.id]        # a slice of a list is a list
    return getattr(value, "seq_kind", "")


def _hint(node: Any) -> str:
    if isinstance(node, gast.Call):
        method = getattr(node, "method", None)
        if method:
            return method
        func = node.func
        if isinstance(func, gast.Attribute):
            return func.attr
        if getattr(func, "support", False):
            return "items"      # (a helper's own name would shadow the helper)
        if isinstance(func, gast.Name):
            return func.id
    if isinstance(node, gast.Subscript):
        return "item"
    if isinstance(node, gast.Attribute):
        return node.attr
    if isinstance(node, gast.Compare):
        return "cond"
    return "t"


# builtins that normalized code calls (or names) where the user's code did not
GENERATED_BUILTINS = ("len", "range", "min", "slice", "Ellipsis")


def _scan(fn: Any) -> tuple[set[str], set[str], set[str], bool] | None:
    """A function's names and returns, read in one walk of its tree: as
    ``(_local_names(fn), _bound_names(fn), _assigned_names(fn), _returns_spread(fn.body))``
    give them; ``None`` for a lambda, or a function defining a function, a lambda or
    a class (then those functions read it, scope by scope)."""
    if not isinstance(fn, gast.FunctionDef):
        return None
    kinds = (gast.Name, gast.Return, *_NESTED_SCOPES)
    header: list = []       # (the parameters, decorators, annotations)
    for field_name in child_fields(fn.__class__):
        value = getattr(fn, field_name, None)
        if field_name != "body":
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, gast.AST):
                    header.extend(nodes_of(part, kinds))
    body = [nodes_of(stmt, kinds) for stmt in fn.body]
    if any(n.__class__ in _NESTED_SCOPES for found in [header, *body] for n in found):
        return None
    names = [n for found in [header, *body] for n in found if n.__class__ is gast.Name]
    args = fn.args
    local_names = {n.id for n in names}
    local_names.update(a.id for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])
    local_names.add(fn.name)
    bound = {n.id for n in names if not isinstance(n.ctx, gast.Load)}
    bound.add(fn.name)
    assigned = {n.id for found in body for n in found
                if n.__class__ is gast.Name and isinstance(n.ctx, (gast.Store, gast.Del))}
    returns = [sum(n.__class__ is gast.Return for n in found) for found in body]
    nested = any(count and not isinstance(stmt, gast.Return)
                 for stmt, count in zip(fn.body, returns, strict=True))
    return local_names, bound, assigned, sum(returns) > 1 or nested


def _bound_names(fn: Any) -> set[str]:
    """Every name a function or a function nested in it binds: assigned, a parameter, a def."""
    found = {sub.id for sub in name_nodes(fn) if not isinstance(sub.ctx, gast.Load)}
    found.update(sub.name for sub in nodes_of(fn, (gast.FunctionDef,)))
    return found


def _assigned_names(fn: Any) -> set[str]:
    """Names a function body binds (not descending into nested functions)."""
    found: set[str] = set()
    if isinstance(fn, gast.FunctionDef):
        for stmt in fn.body:
            if isinstance(stmt, gast.FunctionDef):
                found.add(stmt.name)
                continue
            if isinstance(stmt, gast.Name) and isinstance(stmt.ctx, gast.Store):
                found.add(stmt.id)
            for sub in nodes_of(stmt, (gast.Name, gast.FunctionDef),
                                skip=(gast.FunctionDef, gast.Lambda)):
                if sub.__class__ is gast.FunctionDef:
                    found.add(sub.name)
                elif sub is not stmt and isinstance(sub.ctx, (gast.Store, gast.Del)):
                    found.add(sub.id)
    return found


def _returns_spread(stmts: list) -> bool:
    """Does a body return more than once, or from inside a statement (not counting the
    returns of functions and classes it defines in a statement of it)?"""
    count, nested = 0, False
    for stmt in stmts:
        returns = len(nodes_of(stmt, (gast.Return,), skip=_NESTED_SCOPES))
        count += returns
        nested = nested or (returns > 0 and not isinstance(stmt, gast.Return))
    return count > 1 or nested


_NESTED_SCOPES = (gast.FunctionDef, gast.Lambda, gast.ClassDef)


def _exits(stmts: list) -> str:
    """``"always"``, ``"maybe"`` or ``"never"``: does this normalized block jump away?"""
    kind = "never"
    for stmt in stmts:
        if isinstance(stmt, gast.Return) or getattr(stmt, "exit", None):
            return "always"
        if isinstance(stmt, gast.If):
            a, b = _exits(stmt.body), _exits(stmt.orelse)
            if a == "always" and b == "always":
                return "always"
            if a != "never" or b != "never":
                kind = "maybe"
        elif isinstance(stmt, (gast.For, gast.While)):
            if _loop_returns(stmt):
                kind = "maybe"
    return kind


def _loop_returns(loop: Any) -> bool:
    # (the markers of exits are statements: ``Pass`` nodes in bodies)
    return any(getattr(sub, "exit", None) == "return" for sub in statements([loop]))


def _assigns(stmts: list, ident: str) -> bool:
    for stmt in stmts:
        for sub in name_nodes(stmt):
            if isinstance(sub, gast.Name) and sub.id == ident and isinstance(sub.ctx, gast.Store):
                return True
    return False


def normalize(parsed: ParsedFunction, namer: Namer | None = None) -> NormalizedFunction:
    namer = namer or Namer()
    return Normalizer(parsed, namer).function()
