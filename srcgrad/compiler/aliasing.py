"""Aliasing: prove that every in-place write is seen through no other name, or refuse.

Generated code writes items out of place: ``y[i] = v`` becomes
``y_1 = setitem(y, i, v)``, a new array, and ``a += b`` on a name becomes
``a_1 = in_place(a + b, a, "+=")`` (the sum, cast to ``a``'s dtype).  That is
what Python does only when nothing else can see the array: no other name
bound to it or to a view of it (``b = a``, ``v = y[1:]``, ``y.T``,
``y.reshape(...)``, ``np.asarray(y)``) is read afterwards, and it is neither
a parameter (the caller holds it) nor a global or closure value.  This pass
proves that for every write, or refuses the write with a located
:class:`TransformError`.

It follows, per name and program point, the objects a value may be or view
(``points``: a fresh array made by a statement, a parameter, anything
global) and the objects it may hold as items (``holds``: the arrays in a
list or tuple).  Results of NumPy's functions and ufuncs are fresh unless
:mod:`srcgrad.mutation` lists the function as returning views; results of
anything else (user functions, unknown callables) may be or hold any of
their arguments and any global.  A write is refused when the objects it
writes may be seen by another name that is read later (liveness), by the
caller or by a global.

Calls that write into an argument (``out=``, ``np.copyto``, ``np.add.at``,
``x.sort()``, ``rng.shuffle``) are refused outright.
"""

from __future__ import annotations

import builtins
import functools
import math
import re
from typing import Any

import gast
import numpy as np

from .. import mutation
from .normalize import NormalizedFunction, name_nodes, statements, walk
from .normalize import name as name_node
from .ops import Operation, resolve_static
from .parse import MISSING

__all__ = ["check_writes"]

_EMPTY: frozenset = frozenset()
_GLOBAL = "global"
_NO_VALUE = (_EMPTY, _EMPTY)

# Builtins whose results are new objects that hold nothing of their arguments.
_FRESH_BUILTINS = frozenset({abs, float, int, round, pow, divmod, sum, complex, bool, len,
                             str, repr, isinstance, type, range, print, hash, id, callable,
                             hasattr, issubclass, format, ord, chr})


def check_writes(fn: NormalizedFunction, callee: bool, stmts: list | None = None) -> None:
    """Refuse any in-place write another name, the caller or a global could observe.

    ``callee``: ``fn`` is called from other generated code, so a write into a
    parameter's array would be seen by its caller.  A function differentiated
    directly may write into its parameters' arrays: its caller, the user, gets
    the derivatives, which do not depend on whether the arrays changed, and the
    arrays are left as they were.  Expects each statement's operation attached
    (``stmt.op``, see ``analyze``).  ``stmts``: ``fn``'s statements
    (:func:`statements`), when the caller has them.
    """
    _Checker(fn, callee, list(statements(fn.body)) if stmts is None else stmts).run()


class _Checker:
    def __init__(self, fn: NormalizedFunction, callee: bool, stmts: list) -> None:
        self.fn = fn
        self.callee = callee
        self.parsed = fn.parsed
        self.stmts = stmts
        self.params = [*fn.params, *fn.kwonly]
        self.locals = set(self.params)
        for stmt in stmts:
            if isinstance(stmt, gast.Assign):
                self.locals.add(stmt.targets[0].id)
            elif isinstance(stmt, gast.For):
                self.locals.add(stmt.target.id)
        self.live_after: dict[int, frozenset] = {}
        self.reads: dict[int, frozenset] = {}   # id(stmt) -> names its own parts read

    @functools.cached_property
    def user_names(self) -> set[str]:
        """The names the user's code spells (error messages show them)."""
        return {n.id for n in name_nodes(self.parsed.node)}

    def run(self) -> None:
        if not any(self.may_write(s) for s in self.stmts):
            return
        if not any(self.writes(s) for s in self.stmts):
            # what values may be or hold matters only to checking writes: with none,
            # only calls that write into an argument are left to refuse (the first in
            # program order, where the flow below would meet it first)
            for stmt in self.stmts:
                op = getattr(stmt, "op", None)
                if op is not None and isinstance(stmt.value, gast.Call) and not (
                        isinstance(stmt, gast.Expr) and op.kind == "append") and \
                        op.kind not in ("setlist", "pop"):
                    self.refuse_writing_call(stmt.value)
            return
        self.live_block(self.fn.body, _EMPTY)
        state = {p: (frozenset({"param " + p}), frozenset({"param " + p}))
                 for p in self.params}
        self.flow_block(self.fn.body, state)

    @staticmethod
    def may_write(stmt: Any) -> bool:
        """Could this statement write into an existing object (what the pass checks)?"""
        if getattr(stmt, "in_place", False):
            return True
        op = getattr(stmt, "op", None)
        if op is None:
            return False
        return isinstance(op.node, gast.Call) or isinstance(getattr(stmt, "value", None),
                                                             gast.Call)

    @staticmethod
    def writes(stmt: Any) -> bool:
        """Does this statement write into an existing array (``check_write`` checks it)?"""
        op = getattr(stmt, "op", None)
        if op is None or not isinstance(stmt, gast.Assign):
            return False
        return bool(getattr(stmt, "in_place", None)) or (
            op.kind == "prim" and _is_support(stmt.value, "setitem"))

    # -- liveness (backward) ---------------------------------------------------------
    def live_block(self, stmts: list, live: frozenset) -> frozenset:
        for stmt in reversed(stmts):
            live = self.live_stmt(stmt, live)
        return live

    def live_stmt(self, stmt: Any, live: frozenset) -> frozenset:
        self.live_after[id(stmt)] = live
        reads = self.reads.get(id(stmt))
        if reads is None:       # (loops ask again per round of their fixpoint)
            reads = self.reads[id(stmt)] = _own_reads(stmt)
        if isinstance(stmt, gast.If):
            return reads | self.live_block(stmt.body, live) | \
                self.live_block(stmt.orelse, live)
        if isinstance(stmt, (gast.For, gast.While)):
            test = reads
            head = live | test
            while True:
                new = live | test | self.live_block(stmt.body, head)
                if new == head:
                    return head
                head = new
        if isinstance(stmt, gast.Assign):
            return (live - {stmt.targets[0].id}) | reads
        if isinstance(stmt, gast.Return):
            return reads
        return live | reads

    # -- what values may be or hold (forward) -----------------------------------------
    def flow_block(self, stmts: list, state: dict) -> dict:
        for stmt in stmts:
            state = self.flow_stmt(stmt, state)
        return state

    def flow_stmt(self, stmt: Any, state: dict) -> dict:
        if isinstance(stmt, gast.If):
            return _merge(self.flow_block(stmt.body, dict(state)),
                          self.flow_block(stmt.orelse, dict(state)))
        if isinstance(stmt, (gast.For, gast.While)):
            head = dict(state)
            if isinstance(stmt, gast.For):
                head[stmt.target.id] = _NO_VALUE
            while True:
                new = _merge(head, self.flow_block(stmt.body, dict(head)))
                if new == head:
                    return head
                head = new
        op = getattr(stmt, "op", None)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0].id
            if op is None:
                state[target] = self.value_of(stmt.value, state, stmt)
                return state
            value = self.operation(stmt, op, state, target)
            updated = getattr(stmt, "in_place", None)
            if updated:         # ``a += b``: the name of the array written into
                self.check_write(stmt, updated, state, _rebound(updated, target))
                value = state.get(updated, _NO_VALUE)
            state[target] = value
            return state
        if isinstance(stmt, gast.Expr) and op is not None:
            if op.kind == "append":
                self.append(stmt, op, state)
            else:
                self.operation(stmt, op, state, None)
        return state

    def operation(self, stmt: Any, op: Operation, state: dict, target: str | None) -> tuple:
        """What the assigned value may be and hold; checks the writes ``op`` makes."""
        node = stmt.value
        if op.kind == "setlist":
            # (lists changed in place are srcgrad/compiler/lists.py's to check)
            points, holds = self.atom(op.args[0], state)
            item = self.atom(op.args[2], state)
            return points, holds | item[0] | item[1]
        if op.kind == "prim" and _is_support(node, "setitem"):
            base = op.args[0]
            self.check_write(stmt, base.id, state, _rebound(base.id, target))
            return self.atom(base, state)
        if op.kind == "pop":
            points, holds = self.atom(op.args[0], state)
            return points | holds, holds
        if isinstance(node, gast.Call):
            return self.call_effects(node, stmt, state)
        return self.value_of(node, state, stmt)

    def value_of(self, node: Any, state: dict, stmt: Any) -> tuple:
        if isinstance(node, (gast.Name, gast.Constant)) or getattr(node, "static", False):
            return self.atom(node, state)
        if isinstance(node, gast.BinOp) and _may_join_sequences(node):
            # ``+`` and ``*`` on lists and tuples keep their items
            return frozenset({id(stmt)}), _union(self.atom(a, state)[1]
                                                 for a in (node.left, node.right))
        if isinstance(node, gast.Subscript):
            points, holds = self.atom(node.value, state)
            return points | holds, holds        # a view of an array, or an item of a list
        if isinstance(node, gast.Attribute):
            if node.attr in mutation.VIEW_METHODS:
                return self.atom(node.value, state)
            return _NO_VALUE                    # .shape, .ndim, .dtype...
        if isinstance(node, (gast.Tuple, gast.List)):
            return frozenset({id(stmt)}), self.contents(node.elts, state)
        if isinstance(node, gast.Dict):
            return frozenset({id(stmt)}), self.contents(node.values, state)
        return frozenset({id(stmt)}), _EMPTY     # comparisons, f-strings: new values

    def call_effects(self, node: Any, stmt: Any, state: dict) -> tuple:
        """Refuse a call that writes into an argument; what its result may be and hold."""
        fn = self.refuse_writing_call(node)
        args = [*node.args, *(k.value for k in node.keywords)]
        everything = self.contents(args, state)
        fresh = frozenset({id(stmt)})
        if getattr(node, "method", None) is not None:
            attr = node.func.attr
            receiver = self.atom(node.func.value, state)
            keywords = _constant_keywords(node)
            if attr in mutation.VIEW_METHODS or (attr == "astype"
                                                 and keywords.get("copy", True) is not True):
                return receiver[0] | receiver[1], receiver[1]
            if attr in mutation.COPYING_METHODS or attr == "astype":
                return fresh, _EMPTY
            return fresh | receiver[0] | receiver[1] | everything, receiver[1] | everything
        if fn is None or _srcgrad_owned(fn):
            # srcgrad's own helpers (in derivative code differentiated again) may return
            # an argument, never a global; ShapeStack() is new
            if isinstance(fn, type):
                return fresh, _EMPTY
            return fresh | everything, everything
        if mutation.may_return_view(fn, _constant_keywords(node)):
            return everything, everything
        if isinstance(fn, np.ufunc) or _numpy_owned(fn) or _in_module(fn, math) \
                or _is_fresh_builtin(fn):
            return fresh, _EMPTY
        return fresh | everything | {_GLOBAL}, everything | {_GLOBAL}

    def refuse_writing_call(self, node: Any) -> Any:
        """Refuse a call that writes into an argument; the function it calls (``None``
        for a method, or a callable not known at transform time)."""
        method = getattr(node, "method", None)
        if method is not None:
            attr = node.func.attr
            if attr in mutation.IN_PLACE_METHODS:
                raise self.parsed.error(node, f"the in-place method .{attr}()",
                                        _METHOD_HINTS.get(attr, _COPY_HINT))
            # the NumPy function the method stands for takes the array first
            self.refuse_outputs(node, getattr(np, method, _NO_SIGNATURE),
                                [node.func.value, *node.args])
            return None
        fn = None if _is_support(node, None) else _resolve(self.parsed, node.func)
        if fn is None or _srcgrad_owned(fn):
            return fn
        if mutation.writes_into_arguments(fn):
            raise self.parsed.error(node, f"{_name(fn)}(), which writes into its argument",
                                    _COPY_HINT)
        self.refuse_outputs(node, fn, node.args)
        return fn

    def refuse_outputs(self, node: Any, fn: Any, args: list) -> None:
        if fn is None:
            fn = _NO_SIGNATURE
        kwargs = {k.arg: _constant_or_node(k.value) for k in node.keywords}
        outs = mutation.output_arguments(fn, [_constant_or_node(a) for a in args], kwargs)
        if outs:
            keyword = next((k.arg for k in node.keywords if k.arg == "out"
                            or k.arg.startswith("overwrite_")), "out")
            raise self.parsed.error(node, f"a call with {keyword}= (it writes into an "
                                    "existing array)",
                                    "Assign the result to a name instead: y = np.sin(x) rather "
                                    "than np.sin(x, out=y).")

    def append(self, stmt: Any, op: Operation, state: dict) -> None:
        """The list holds the item from now on (whether it may grow: see lists.py)."""
        base = op.args[0].id
        item = self.atom(op.args[1], state)
        points, holds = state.get(base, _NO_VALUE)
        state[base] = (points, holds | item[0] | item[1])

    def contents(self, nodes: list, state: dict) -> frozenset:
        out: set = set()
        for node in nodes:
            if isinstance(node, (gast.Tuple, gast.List)):
                out |= self.contents(node.elts, state)
                continue
            for sub in walk(node):
                if isinstance(sub, gast.Name) or getattr(sub, "static", False):
                    points, holds = self.atom(sub, state)
                    out |= points | holds
        return frozenset(out)

    def atom(self, node: Any, state: dict) -> tuple:
        if isinstance(node, gast.Name):
            if node.id in self.locals:
                return state.get(node.id, _NO_VALUE)
            return frozenset({_GLOBAL}), frozenset({_GLOBAL})
        if getattr(node, "static", False):
            return frozenset({_GLOBAL}), frozenset({_GLOBAL})
        return _NO_VALUE

    # -- the check ------------------------------------------------------------------
    def check_write(self, stmt: Any, written: str, state: dict, rebound: set) -> None:
        """Refuse the write into ``written``'s objects unless no one else sees them.

        ``rebound``: the names that hold the written value afterwards (the new
        version of ``written``, or ``written`` itself in a loop).
        """
        points = self.atom(name_node(written), state)[0]
        shown = self.shown(written)
        outside = sorted(o for o in points if o == _GLOBAL or self.callee and isinstance(o, str))
        if outside:
            what = outside[0]
            if what == _GLOBAL:
                why = "may be a global or closure value (or share its memory)"
            else:
                why = f"may be the caller's array (the parameter {what[6:]!r}) or share its " \
                    "memory"
            raise self.parsed.error(stmt.origin, f"an in-place write to {shown!r}, which {why}",
                                    f"Write into a copy ({shown} = {shown}.copy() first) or "
                                    "build a new array.")
        if any(isinstance(o, str) for o in points):
            seen_global = self.global_arrays()
            if seen_global is not None:
                raise self.parsed.error(
                    stmt.origin, f"an in-place write to {shown!r}, which may be the caller's "
                    f"array, and so {seen_global!r}, which the function reads",
                    f"Write into a copy ({shown} = {shown}.copy() first) or build a new "
                    "array.")
        live = self.live_after.get(id(stmt), _EMPTY)
        for other in sorted((live - rebound) & self.locals):
            seen = self.atom(name_node(other), state)
            if _overlap(seen[0] | seen[1], points):
                raise self.parsed.error(
                    stmt.origin, f"an in-place write to {shown!r}, which may share its memory "
                    f"with {self.shown(other)!r} (read later)",
                    f"Write into a copy ({shown} = {shown}.copy()) or build a new array, so "
                    f"{self.shown(other)!r} keeps its value.")

    def global_arrays(self) -> str | None:
        """A global or closure value the function reads that may be (or hold) an array."""
        for node in walk(self.parsed.node):
            if getattr(node, "static", False) or isinstance(node, gast.Attribute) and \
                    isinstance(node.value, gast.Name) and node.value.id not in self.locals:
                value = _resolve(self.parsed, node)
            elif isinstance(node, gast.Name) and node.id not in self.locals \
                    and isinstance(node.ctx, gast.Load):
                value = _resolve(self.parsed, node)
            else:
                continue
            if value is not None and _may_hold_arrays(value):
                return _dotted(node)
        return None

    def shown(self, ident: str) -> str:
        """The user's name for a (possibly renumbered) name of the normalized code."""
        if ident in self.user_names:
            return ident
        stem = re.sub(r"_\d+$", "", ident)
        return stem if stem in self.user_names else "a temporary value"


_COPY_HINT = "Build a new array instead of changing one in place (y = f(x))."
_METHOD_HINTS = {
    "sort": "Use y = np.sort(y) instead of y.sort().",
    "fill": "Use y = np.full_like(y, value) instead of y.fill(value).",
}


class _NoSignature:
    """Stands for a callable not known at transform time: only ``out=`` keywords count."""


_NO_SIGNATURE = _NoSignature()


def _constant_or_node(node: Any) -> Any:
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.Tuple):
        return tuple(_constant_or_node(e) for e in node.elts)
    return node


def _constant_keywords(node: Any) -> dict:
    return {k.arg: k.value.value for k in node.keywords if isinstance(k.value, gast.Constant)}


def _is_support(node: Any, which: str | None) -> bool:
    func = getattr(node, "func", None)
    if not isinstance(func, gast.Name) or not (getattr(func, "support", False)
                                               or getattr(func, "support_name", None)):
        return False
    return which is None or getattr(func, "support_name", func.id) == which


def _resolve(parsed: Any, func: Any) -> Any:
    value = resolve_static(parsed, func)
    return None if value is MISSING else value


def _numpy_owned(fn: Any) -> bool:
    """A function or method of NumPy itself (its results are new arrays unless listed)."""
    module = getattr(fn, "__module__", None)
    owner = getattr(fn, "__self__", None)
    if module is None and owner is not None and not isinstance(owner, type(np)):
        module = type(owner).__module__
    return isinstance(module, str) and (module == "numpy" or module.startswith("numpy."))


def _srcgrad_owned(fn: Any) -> bool:
    module = getattr(fn, "__module__", None)
    return isinstance(module, str) and module.startswith("srcgrad.")


def _in_module(fn: Any, module: Any) -> bool:
    return getattr(module, getattr(fn, "__name__", ""), None) is fn


def _is_fresh_builtin(fn: Any) -> bool:
    try:
        return fn in _FRESH_BUILTINS and getattr(builtins, fn.__name__, None) is fn
    except TypeError:
        return False


def _name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or ""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    if isinstance(owner, np.ufunc):
        return f"np.{owner.__name__}.{fn.__name__}"
    if module.startswith("numpy"):
        return "np." + name
    return name


_INERT_TYPES = (type(np), type, int, float, complex, bool, str, bytes, type(None),
                slice, range, np.dtype, np.generic, type(Ellipsis), np.ufunc)


def _may_hold_arrays(value: Any) -> bool:
    """Could a global value be, view or hold an array (not a module, function, number)?"""
    return not (isinstance(value, _INERT_TYPES) or callable(value))


def _dotted(node: Any) -> str:
    if isinstance(node, gast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return getattr(node, "id", "?")


def _rebound(written: str, target: str | None) -> set:
    """Names that hold a written value after an out-of-place write: its target only."""
    return {target} if target is not None else set()


def _overlap(a: frozenset, b: frozenset) -> bool:
    """May objects of ``a`` and ``b`` share memory?  Every parameter and global may be
    every other (the caller may pass one array twice, or a global)."""
    if a & b:
        return True
    return any(isinstance(o, str) for o in a) and any(isinstance(o, str) for o in b)


def _may_join_sequences(node: Any) -> bool:
    """Could this ``+`` or ``*`` concatenate or repeat lists or tuples?"""
    if not isinstance(node.op, (gast.Add, gast.Mult)):
        return False
    return not any(isinstance(a, gast.Constant) and isinstance(a.value, (float, complex))
                   for a in (node.left, node.right))


def _reads(node: Any) -> frozenset:
    return frozenset(n.id for n in name_nodes(node) if isinstance(n.ctx, gast.Load))


def _own_reads(stmt: Any) -> frozenset:
    """The names a statement reads itself: a loop's iterable or test, a branch's test,
    an assignment's or return's value; any other statement whole."""
    if isinstance(stmt, gast.If):
        return _reads(stmt.test)
    if isinstance(stmt, (gast.For, gast.While)):
        return _reads(stmt.iter if isinstance(stmt, gast.For) else stmt.test)
    if isinstance(stmt, (gast.Assign, gast.Return)):
        return _reads(stmt.value)
    return _reads(stmt)


def _union(sets: Any) -> frozenset:
    out: set = set()
    for s in sets:
        out |= s
    return frozenset(out)


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        old = out.get(key)
        if old is None:
            out[key] = value
        elif old is not value:      # (most entries are the same tuple in both)
            out[key] = (old[0] | value[0], old[1] | value[1])
    return out
