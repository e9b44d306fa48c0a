"""Optimize: make generated code short and fast without changing what it computes.

* contributions: ``unbroadcast(e, x)`` disappears where the other operands of
  the primitive are Python numbers (or ``x`` itself), constants fold
  (``np.where(2 == 0, 0, 2 * x ** (2 - 1))`` -> ``2 * x``), ``g * 1`` -> ``g``;
* dead code: assignments nobody reads (flags, counters, unused temporaries);
* copies: ``y = t`` right after ``t`` is computed becomes ``y`` computed directly;
* folding: a temporary read once, right after it is computed, moves back into
  the expression that reads it, so ``y = np.sin(y) * 0.9 + 0.1 * x`` stays one line;
* empty branches and loops of the reverse sweep are dropped.
"""

from __future__ import annotations

import inspect
import operator
import types
from collections.abc import Callable
from typing import Any

import gast
import numpy as np

from .. import fast_numpy
from ..rules._shape_helpers import (
    extremum_cotangent,
    extremum_share,
    index_cotangent,
    matmul_left_cotangent,
    matmul_right_cotangent,
    reduced_count,
)
from ..rules.source import positional_defaults
from ..runtime import expand_reduced, unbroadcast, unbroadcast_scaled
from .normalize import (
    SIMPLE_STATEMENTS,
    Transformer,
    assigned_once,
    child_fields,
    name_nodes,
    nodes_of,
)

__all__ = ["simplify_contribution", "fold", "optimize_body", "Index"]

_FOLDABLE = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod,
}
_COMPARE = {
    gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Lt: operator.lt, gast.LtE: operator.le,
    gast.Gt: operator.gt, gast.GtE: operator.ge,
}


def _is_numpy(value: Any) -> bool:
    """NumPy, or the view of it generated code gets (:mod:`srcgrad.fast_numpy`)."""
    return value is np or value is fast_numpy.module


def _number(node: Any, bools: bool = False) -> bool:
    return isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
        and (bools or not isinstance(node.value, bool))


class _Rewriter(Transformer):
    """A :class:`Transformer` that finds each node class's ``visit_`` method once per
    rewriter class, not by name at every node: these passes run on every inlined rule.

    Nodes without children (``Constant``; a ``Name`` without annotation) are returned
    as they are, as the generic visit would.
    """

    _methods: dict[type, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = {}

    def visit(self, node: Any) -> Any:
        cls = node.__class__
        try:
            method = self._methods[cls]
        except KeyError:
            method = self._methods[cls] = self._method(cls)
        return method(self, node)

    def generic_visit(self, node: Any) -> Any:
        # the children of the commonest nodes are visited without the generic loop over
        # fields (a rewriter's visit returns a node: nothing is removed or spliced in)
        cls = node.__class__
        if cls is gast.BinOp:
            node.left = self.visit(node.left)
            node.right = self.visit(node.right)
            return node
        if cls is gast.Call:
            node.func = self.visit(node.func)
            for children in (node.args, node.keywords):
                for i, child in enumerate(children):
                    children[i] = self.visit(child)
            return node
        if cls is gast.Attribute:
            node.value = self.visit(node.value)
            return node
        return Transformer.generic_visit(self, node)

    @classmethod
    def _method(cls, node_class: type) -> Any:
        method = getattr(cls, "visit_" + node_class.__name__, None)
        if method is not None:
            return method
        if node_class is gast.Name:
            return _visit_name
        if not child_fields(node_class):
            return _same
        return cls.generic_visit


def _visit_name(visitor: Transformer, node: Any) -> Any:
    return node if getattr(node, "annotation", None) is None else visitor.generic_visit(node)


def _same(visitor: Transformer, node: Any) -> Any:
    return node


def simplify_contribution(expr: Any, op: Any, pos: Any, sweep: Any) -> Any:
    """Simplify one inlined VJP of operation ``op`` for argument position ``pos``."""
    values = sweep.ns.values
    drop = _DropUnbroadcast(op, pos, sweep, values)
    expr = drop.visit(expr)
    # most inlined rules (``unbroadcast(g * y, x)``) have nothing to fold: not visited again
    return _Fold(values).visit(expr) if drop.folds else expr


class _DropUnbroadcast(_Rewriter):
    """``unbroadcast(e, x)`` is ``e`` when nothing else in the operation can broadcast ``x``."""

    def __init__(self, op: Any, pos: Any, sweep: Any, values: dict) -> None:
        self.op, self.pos = op, pos
        self.target = op.args[pos] if isinstance(pos, int) and pos < len(op.args) else None
        self.sweep = sweep
        self.values = values
        self.folds = False          # a node a rewrite of _Fold needs (_folding_helper)?

    def visit_Constant(self, node: Any) -> Any:
        self.folds = True
        return node

    def visit_UnaryOp(self, node: Any) -> Any:
        self.folds = True
        return self.generic_visit(node)

    visit_IfExp = visit_Compare = visit_UnaryOp

    def drop(self, call: Any) -> bool:
        if len(call.args) != 2 or call.keywords:
            return False
        func = call.func
        if not (isinstance(func, gast.Name) and self.values.get(func.id) is unbroadcast):
            return False
        x = call.args[1]
        if not isinstance(x, gast.Name):
            return False
        if self.sweep.scalar:
            return True
        result = getattr(self.sweep, "current_target", None)
        if result is not None and self.sweep.is_scalar(x.id) and self.sweep.is_scalar(result):
            return True             # a number broadcast only against numbers
        target = self.target
        if target is None or not (isinstance(target, gast.Name) and target.id == x.id):
            return False
        others = [a for i, a in enumerate(self.op.args) if i != self.pos]
        return self.sweep.shapes.kept(others, x.id)

    def visit_Call(self, node: Any) -> Any:
        self.generic_visit(node)
        if _folding_helper(node, self.values):
            self.folds = True
        if self.drop(node):
            return node.args[0]     # (a removed node: nothing _Fold would rewrite)
        return node


# Every rewrite of _Fold (without ``broadcasts_into``) needs a constant, a negation, a
# conditional or a comparison in the expression, or a call of a helper below; an
# expression without them is left as it is.  A new rewrite in _Fold must keep this true,
# and the finer test of _scan and _may_fold (which nodes a rewrite starts from).
def _folding_helper(call: Any, values: dict) -> bool:
    func = call.func
    if not isinstance(func, gast.Name):
        return False
    callee = values.get(func.id)
    return callee is expand_reduced or callee is index_cotangent


def fold(expr: Any, values: dict | None = None) -> Any:
    """Constant folding and algebraic identities on one expression."""
    return _Fold(values or {}).visit(expr)


class _Fold(_Rewriter):
    def __init__(self, values: dict, broadcasts_into: Any = None) -> None:
        self.values = values
        # broadcasts_into(b, a): is b's shape always one that broadcasts to a's?
        self.broadcasts_into = broadcasts_into

    def visit_BinOp(self, node: Any) -> Any:
        self.generic_visit(node)
        left, right = node.left, node.right
        fn = _FOLDABLE.get(type(node.op))
        if fn is not None and _number(left, True) and _number(right, True) \
                and (_number(left) or _number(right)):
            try:
                value = fn(left.value, right.value)
            except (ArithmeticError, ValueError, OverflowError):
                return node
            if isinstance(value, (int, float)) and abs(value) < 1e15:
                return gast.Constant(value=value, kind=None)
        if isinstance(node.op, gast.Mult):
            if _number(right) and right.value == 1:
                return left
            if _number(left) and left.value == 1:
                return right
            if _number(left) and left.value in (2, -1) and _scaled_expand_dims(right) \
                    and _is_numpy(self.values.get(getattr(right.func.value, "id", None))):
                # 2 * np.expand_dims(a * -0.5, k) -> np.expand_dims(-a, k)
                scaled = right.args[0]
                factor = left.value * scaled.right.value
                if factor == -1 and isinstance(factor, float):
                    right.args[0] = gast.UnaryOp(op=gast.USub(), operand=scaled.left)
                else:
                    scaled.right = gast.Constant(value=factor, kind=None)
                    right.args[0] = self.visit_BinOp(scaled)
                return right
        if isinstance(node.op, gast.Div) and _number(right) and right.value == 1:
            return left
        if isinstance(node.op, (gast.Add, gast.Sub)) and _number(right) and right.value == 0 \
                and type(right.value) is int and self.is_count(left):
            # reduced_count(x) - 0 (ddof left at 0): the count itself, a Python int
            return left
        if isinstance(node.op, gast.Div) and self.is_call(left, expand_reduced) \
                and left.args and self.is_count(right):
            # expand_reduced(g, x, ...) / reduced_count(x, ...) -> expand_reduced(g / ..., x, ...):
            # divide the reduced cotangent, not its expansion (the count is a Python int)
            left.args[0] = gast.BinOp(left=left.args[0], op=gast.Div(), right=right)
            return left
        if isinstance(node.op, gast.Pow) and _number(right) and right.value == 1:
            return left
        if isinstance(node.op, gast.Sub) and isinstance(right, gast.UnaryOp) \
                and isinstance(right.op, gast.USub):
            return gast.BinOp(left=left, op=gast.Add(), right=right.operand)
        if isinstance(node.op, gast.Add) and _leading_negation(right):
            # a + -b * c -> a - b * c
            return gast.BinOp(left=left, op=gast.Sub(), right=_without_negation(right))
        if isinstance(node.op, (gast.Add, gast.Sub)) and self.negated_linear(right):
            # a + f(-g, ...) -> a - f(g, ...) for a helper linear in g: no negation at all
            right.args[0] = right.args[0].operand
            op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
            return gast.BinOp(left=left, op=op, right=right)
        if isinstance(node.op, (gast.Mult, gast.Div)) and _negated(left) and _number(right):
            # -a * 0.5 -> a * -0.5: one pass over the array instead of two
            return gast.BinOp(left=left.operand, op=node.op,
                              right=gast.Constant(value=-right.value, kind=None))
        return node

    def visit_UnaryOp(self, node: Any) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            if _number(node.operand):
                return gast.Constant(value=-node.operand.value, kind=None)
            if isinstance(node.operand, gast.UnaryOp) and isinstance(node.operand.op, gast.USub):
                return node.operand.operand
            # -(-a * b / c) -> a * b / c
            inner = node.operand
            chain = []
            while isinstance(inner, gast.BinOp) and isinstance(inner.op, (gast.Mult, gast.Div)):
                chain.append(inner)
                inner = inner.left
            if chain and isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
                chain[-1].left = inner.operand
                return node.operand
        return node

    def visit_IfExp(self, node: Any) -> Any:
        self.generic_visit(node)
        if isinstance(node.test, gast.Constant) and type(node.test.value) in (bool, int):
            # a rule's test on an argument that is a constant (``y != 0`` with y = 2.0)
            return node.body if node.test.value else node.orelse
        return node

    def visit_Compare(self, node: Any) -> Any:
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.Is, gast.IsNot)) \
                and isinstance(node.left, gast.Constant) \
                and isinstance(node.comparators[0], gast.Constant) \
                and None in (node.left.value, node.comparators[0].value):
            # ``axis is None`` with a literal axis substituted (``-1 is None``)
            same = node.left.value is None and node.comparators[0].value is None
            return gast.Constant(value=same == isinstance(node.ops[0], gast.Is), kind=None)
        if len(node.ops) == 1 and _number(node.left) and _number(node.comparators[0]):
            fn = _COMPARE.get(type(node.ops[0]))
            if fn is not None:
                return gast.Constant(value=bool(fn(node.left.value,
                                                   node.comparators[0].value)), kind=None)
        return node

    def is_call(self, node: Any, fn: Any) -> bool:
        return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
            and self.values.get(node.func.id) is fn and not node.keywords

    def is_count(self, node: Any) -> bool:
        """Is ``node`` ``reduced_count(x, axis[, True])``, a Python int?"""
        if not (self.is_call(node, reduced_count) and 1 <= len(node.args) <= 3):
            return False
        return len(node.args) < 3 or (isinstance(node.args[2], gast.Constant)
                                      and node.args[2].value is True)

    def negated_linear(self, node: Any) -> bool:
        """Is ``node`` a call ``f(-g, ...)`` of a helper whose array result is linear in g?"""
        return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
            and node.args and _negated(node.args[0]) \
            and _linear_helper(self.values.get(node.func.id))

    def is_unbroadcast(self, node: Any) -> bool:
        return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
            and self.values.get(node.func.id) is unbroadcast and len(node.args) == 2 \
            and not node.keywords

    def compose(self, node: Any) -> Any:
        """``unbroadcast(unbroadcast(g * y, a), b)`` where ``b`` broadcasts to ``a``.

        Summing to ``a``'s shape and then to ``b``'s is one sum to ``b``'s; and
        when ``y`` is constant along the summed axes the product can come after
        the sum (``unbroadcast_scaled`` decides at run time).
        """
        inner, b = node.args
        if not (self.broadcasts_into is not None and self.is_unbroadcast(inner)
                and isinstance(b, gast.Name) and isinstance(inner.args[1], gast.Name)
                and self.broadcasts_into(b.id, inner.args[1].id)):
            return None
        g = inner.args[0]
        bind = getattr(self.broadcasts_into, "bind", None)
        if isinstance(g, gast.BinOp) and isinstance(g.op, gast.Mult) \
                and isinstance(g.right, gast.Name) and bind is not None:
            helper = bind("unbroadcast_scaled", unbroadcast_scaled)
            return gast.Call(func=gast.Name(id=helper, ctx=gast.Load(), annotation=None,
                                            type_comment=None),
                             args=[g.left, g.right, b], keywords=[])
        node.args[0] = g
        return node

    def is_full_expansion(self, node: Any) -> bool:
        """Is ``node`` ``expand_reduced(c, x[, None[, False]])``, so ``c`` is 0-d?"""
        if not (self.is_call(node, expand_reduced) and 2 <= len(node.args) <= 4):
            return False
        rest = node.args[2:]
        return all(isinstance(a, gast.Constant) and a.value is v
                   for a, v in zip(rest, (None, False), strict=False))

    def visit_Call(self, node: Any) -> Any:
        self.generic_visit(node)
        func = node.func
        if self.is_call(node, index_cotangent) and len(node.args) == 3 \
                and self.is_full_expansion(node.args[0]):
            # index_cotangent(expand_reduced(c, x[i]), x, i) -> index_cotangent(c, x, i):
            # the cotangent of a full reduction is one number, which the scatter spreads
            node.args[0] = node.args[0].args[0]
            return node
        if self.is_unbroadcast(node):
            composed = self.compose(node)
            if composed is not None:
                return composed
        if isinstance(func, gast.Name) and self.values.get(func.id) is unbroadcast \
                and len(node.args) == 2 and not node.keywords and _negated(node.args[0]):
            # unbroadcast(-g, x) -> -unbroadcast(g, x): negate the (smaller) sum
            node.args[0] = node.args[0].operand
            return gast.UnaryOp(op=gast.USub(), operand=node)
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and _is_numpy(self.values.get(func.value.id)) and func.attr == "where" \
                and len(node.args) == 3 and not node.keywords:
            cond = node.args[0]
            if isinstance(cond, gast.Constant) and isinstance(cond.value, bool):
                return node.args[1] if cond.value else node.args[2]
        return node


def _scaled_expand_dims(node: Any) -> bool:
    """Is ``node`` ``np.expand_dims(a * c, axis)`` with a number ``c``?"""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
        and node.func.attr == "expand_dims" and len(node.args) == 2 and not node.keywords \
        and isinstance(node.args[0], gast.BinOp) and isinstance(node.args[0].op, gast.Mult) \
        and _number(node.args[0].right)


def _negated(node: Any) -> bool:
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)


def _leading_negation(node: Any) -> bool:
    """Is ``node`` ``-a``, or a product/quotient whose first factor is ``-a``?"""
    while isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        node = node.left
    return _negated(node)


def _without_negation(node: Any) -> Any:
    if _negated(node):
        return node.operand
    node.left = _without_negation(node.left)
    return node


class _LazyExpand(_Rewriter):
    """``expand_reduced(g, x, axis, keepdims) * x`` -> ``g * x`` (axes kept for broadcasting).

    A reduction's cotangent spread back over ``x`` only to be multiplied by an
    array of ``x``'s shape need not be materialized: broadcasting does it.
    """

    def __init__(self, values: dict, numpy_name: Any) -> None:
        self.values = values
        self.numpy_name = numpy_name

    def visit_BinOp(self, node: Any) -> Any:
        self.generic_visit(node)
        if not isinstance(node.op, gast.Mult):
            return node
        factors: list = []          # (parent, field) of every factor of the product
        inner = node
        while isinstance(inner, gast.BinOp) and isinstance(inner.op, gast.Mult):
            factors.append((inner, "right"))
            if not (isinstance(inner.left, gast.BinOp) and isinstance(inner.left.op, gast.Mult)):
                factors.append((inner, "left"))
            inner = inner.left
        names = {getattr(parent, f).id for parent, f in factors
                 if isinstance(getattr(parent, f), gast.Name)}
        names |= {self.shaped_like(getattr(parent, f)) for parent, f in factors} - {None}
        for parent, f in factors:
            factor = getattr(parent, f)
            small = self.reduced(factor, names)
            if small is not None:
                setattr(parent, f, small)
        return node

    def shaped_like(self, node: Any) -> str | None:
        """The name whose shape a helper call's result has (``extremum_share(x, ...)``)."""
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.args \
                and isinstance(node.args[0], gast.Name) and not node.keywords \
                and _same_shape_helper(self.values.get(node.func.id)):
            return node.args[0].id
        return None

    def reduced(self, call: Any, names: set[str]) -> Any:
        """The unexpanded cotangent of an ``expand_reduced(g, x, ...)`` call, x in ``names``.

        Also inside a quotient's numerator: ``expand_reduced(g, x) / n`` -> ``g / n``.
        """
        if isinstance(call, gast.BinOp) and isinstance(call.op, gast.Div):
            numerator = self.reduced(call.left, names)
            if numerator is None:
                return None
            call.left = numerator
            return call
        if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Name)
                and self.values.get(call.func.id) is expand_reduced and not call.keywords
                and 2 <= len(call.args) <= 4):
            return None
        g, x, *rest = call.args
        if not (isinstance(x, gast.Name) and x.id in names):
            return None
        axis = rest[0] if rest else gast.Constant(value=None, kind=None)
        keepdims = rest[1] if len(rest) > 1 else gast.Constant(value=False, kind=None)
        if not (isinstance(keepdims, gast.Constant) and isinstance(keepdims.value, bool)):
            return None
        if keepdims.value or (isinstance(axis, gast.Constant) and axis.value is None):
            return g
        if self.numpy_name is None:
            return None
        np_name = self.numpy_name()
        return gast.Call(func=gast.Attribute(value=gast.Name(id=np_name, ctx=gast.Load(),
                                                             annotation=None, type_comment=None),
                                             attr="expand_dims", ctx=gast.Load()),
                         args=[g, axis], keywords=[])


def _linear_helper(fn: Any) -> bool:
    """Helpers returning an array that is linear in their first argument (``f(-g) == -f(g)``)."""
    return any(fn is f for f in (extremum_cotangent, matmul_left_cotangent,
                                 matmul_right_cotangent, expand_reduced))


def _same_shape_helper(fn: Any) -> bool:
    """Helpers whose result has their first argument's shape."""
    return fn is extremum_share


# -- whole-body passes ------------------------------------------------------------------

_PURE_BUILTINS = {"len", "range", "min", "max", "abs", "slice"}


def _pure_builtins(values: dict | None) -> set[str]:
    """The pure builtins generated code calls by their own names (not a user's ``len``)."""
    import builtins

    if values is None:
        return set(_PURE_BUILTINS)
    return {n for n in _PURE_BUILTINS
            if values.get(n, getattr(builtins, n)) is getattr(builtins, n)}


class _Entry:
    """One statement's own ``Name`` and ``Call`` nodes (see :class:`Index`)."""

    __slots__ = ("stmt", "value", "targets", "calls", "nested", "folds")

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt        # (held, so that no other statement gets its id while indexed)
        self.value: list = []   # the Names of an assignment's value (of anything else: all
        #                         but those of the statements in its body and orelse)
        self.targets: list = []  # the Names of an assignment's targets
        self.calls: list = []   # the Calls of what ``value`` covers
        self.nested: list = []  # its body and orelse (the lists themselves)
        self.folds = False      # a node a fold of constants or negations starts from in
        #                         what ``value`` covers? (see _scan, _may_fold)


class Index:
    """The ``Name`` and ``Call`` nodes of each statement, found once for all the passes.

    A statement's entry holds only its own nodes: an ``if``, ``for`` or
    ``while`` those of its test, target and iterator, not those of the
    statements in its body and ``orelse``, which have entries of their own.
    The passes that use an index delete only assignments, from the lists
    that hold them (in place), and rename names in place (``node.id = ...``):
    so the entries, which hold the nodes and the nested lists, stay true, and
    so do the :meth:`blocks` of a list.  A pass that rewrites an expression
    drops its statement's entry (:meth:`forget`).
    """

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self._blocks: dict[int, tuple[list, list]] = {}

    def entry(self, stmt: Any) -> _Entry:
        entry = self._entries.get(id(stmt))
        if entry is None:
            entry = self._entries[id(stmt)] = _scan_statement(stmt)
        return entry

    def forget(self, stmt: Any) -> None:
        self._entries.pop(id(stmt), None)

    def entries(self, stmts: list, found: list | None = None) -> list[_Entry]:
        """The entries of all statements of ``stmts``, nested ones included."""
        found = [] if found is None else found
        entries = self._entries
        for stmt in stmts:
            entry = entries.get(id(stmt))
            if entry is None:
                entry = entries[id(stmt)] = _scan_statement(stmt)
            found.append(entry)
            for inner in entry.nested:
                self.entries(inner, found)
        return found

    def blocks(self, stmts: list) -> list[list]:
        """``stmts`` and the statement lists nested in it, each after those nested in it:
        the order in which a pass that recurses into bodies first handles them."""
        held = self._blocks.get(id(stmts))
        if held is None:
            found: list = []
            self._post_order(stmts, found)
            held = self._blocks[id(stmts)] = (stmts, found)
        return held[1]

    def _post_order(self, stmts: list, found: list) -> None:
        for stmt in stmts:
            for inner in self.entry(stmt).nested:
                self._post_order(inner, found)
        found.append(stmts)

    def names(self, stmt: Any) -> list:
        """The Names of ``stmt``, those of the statements nested in it included."""
        entry = self.entry(stmt)
        if not entry.nested:
            return entry.value + entry.targets
        found: list = []
        for each in self.entries([stmt]):
            found += each.value
            found += each.targets
        return found


def _scan_statement(stmt: Any) -> _Entry:
    entry = _Entry(stmt)
    if _is_comment(stmt):
        return entry        # (its call of ``__comment__`` matters to no pass)
    if isinstance(stmt, gast.Assign):
        entry.folds = _scan(stmt.value, entry.value, entry.calls)
        targets = stmt.targets
        if len(targets) == 1 and targets[0].__class__ is gast.Name \
                and getattr(targets[0], "annotation", None) is None:
            entry.targets.append(targets[0])        # (the usual case, without a walk)
        else:
            for target in targets:
                _scan(target, entry.targets, [])
        return entry
    entry.nested = _nested(stmt)
    nested = _nested_fields(stmt.__class__)
    for field in child_fields(stmt.__class__):
        value = getattr(stmt, field, None)
        if isinstance(value, list):
            if field not in nested:
                for item in value:
                    if isinstance(item, gast.AST):
                        entry.folds |= _scan(item, entry.value, entry.calls)
        elif isinstance(value, gast.AST):
            entry.folds |= _scan(value, entry.value, entry.calls)
    return entry


def _count_loads(entries: list, counts: dict[str, int], step: int = 1) -> None:
    """Add ``step`` to ``counts[n]`` for each read of ``n`` in the statements of ``entries``."""
    load = gast.Load
    for entry in entries:
        for names in (entry.value, entry.targets):
            for node in names:
                if isinstance(node.ctx, load):
                    counts[node.id] = counts.get(node.id, 0) + step


_FIELDS: dict[type, tuple[str, ...]] = {}


def _scan(node: Any, names: list, calls: list) -> bool:
    """Append the Name and the Call nodes of the tree ``node`` to ``names`` and ``calls``
    (one walk, in :func:`name_nodes`'s order); return whether it has a node that a fold
    of constants or negations starts from (:func:`_may_fold`): a negation, an operation
    or a comparison with a constant operand (left, for a comparison), a conditional
    with a constant test, or a call of a ``where``."""
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    name_class, call_class, ast_class, list_class = gast.Name, gast.Call, gast.AST, list
    binop_class, attribute_class = gast.BinOp, gast.Attribute
    constant_class, unary_class, compare_class = gast.Constant, gast.UnaryOp, gast.Compare
    fields_of = _FIELDS
    folds = False
    while stack:
        current = pop()
        cls = current.__class__
        # (the commonest nodes' children are pushed without the loop over fields below)
        if cls is name_class:
            names.append(current)
            if getattr(current, "annotation", None) is None:
                continue        # (nothing else under a Name but its context)
        elif cls is binop_class:
            left, right = current.left, current.right
            if left.__class__ is constant_class or right.__class__ is constant_class:
                folds = True
            push(left)
            push(right)
            continue
        elif cls is call_class:
            calls.append(current)
            func = current.func
            if func.__class__ is attribute_class and func.attr == "where":
                folds = True
            push(func)
            extend(current.args)
            extend(current.keywords)
            continue
        elif cls is attribute_class:
            push(current.value)
            continue
        elif cls is constant_class:
            continue            # (no children)
        elif cls is unary_class:
            folds = True
        elif cls is compare_class:
            folds = folds or current.left.__class__ is constant_class
        elif cls is gast.IfExp:
            folds = folds or current.test.__class__ is constant_class
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = child_fields(cls)
        for field_name in fields:
            value = getattr(current, field_name, None)
            if isinstance(value, list_class):
                for item in value:
                    if isinstance(item, ast_class):
                        push(item)
            elif isinstance(value, ast_class):
                push(value)
    return folds


_NESTED: dict[type, tuple[str, ...]] = {}


def _nested_fields(cls: type) -> tuple[str, ...]:
    """The fields of statement class ``cls`` that hold nested statements the passes visit."""
    fields = _NESTED.get(cls)
    if fields is None:
        fields = _NESTED[cls] = tuple(f for f in ("body", "orelse")
                                      if f in getattr(cls, "_fields", ()))
    return fields


def _nested(stmt: Any) -> list:
    """The statement lists nested in ``stmt`` (its body and orelse)."""
    fields = _nested_fields(stmt.__class__)
    if not fields:
        return []
    return [inner for f in fields if isinstance(inner := getattr(stmt, f, None), list)]


def _pure(calls: list, pure_calls: set) -> bool:
    """Are all of ``calls`` calls without side effects?"""
    for call in calls:
        func = call.func
        if isinstance(func, gast.Name) and func.id in pure_calls:
            continue
        if getattr(call, "pure", False):
            continue
        return False
    return True


def _named(names: list, ident: str) -> bool:
    for node in names:
        if node.id == ident:
            return True
    return False


def remove_dead(body: list, keep: set[str], pure_calls: set, index: Index | None = None,
                counts: dict[str, int] | None = None) -> dict[str, int]:
    """Drop assignments to names that are never read, then those only they read, and so on.

    A worklist: deleting an assignment lowers the counts of the names it
    reads, and only the assignments of a name whose count falls to zero are
    looked at again.  Returns how many times each name is read in what is left
    (``counts``, updated, where the caller has counted the reads in ``body``).
    """
    index = index if index is not None else Index()
    entries = index.entries(body)
    if counts is None:
        counts = {}
        _count_loads(entries, counts)
    definitions: dict[str, list] = {}       # the assignments to one name, by name
    for entry in entries:
        stmt = entry.stmt
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id not in keep:
            definitions.setdefault(stmt.targets[0].id, []).append(entry)
    dead: set[int] = set()
    work = [target for target in definitions if counts.get(target, 0) == 0]
    load = gast.Load
    while work:
        for entry in definitions[work.pop()]:
            if id(entry.stmt) in dead or not _pure(entry.calls, pure_calls):
                continue
            dead.add(id(entry.stmt))
            for names in (entry.value, entry.targets):
                for node in names:
                    if isinstance(node.ctx, load):
                        left = counts[node.id] = counts[node.id] - 1
                        if left == 0 and node.id in definitions:
                            work.append(node.id)
    _delete(body, index, dead)
    return counts


def drop_empty(stmts: list, reverse: bool) -> list:
    """Remove ifs with nothing in either branch, and (in the reverse sweep) empty loops;
    then comments not followed by code, and duplicates (of a run of comments, the last
    stays)."""
    out = []
    comment = None      # (the last comment, kept if code comes next)
    expr_class = gast.Expr
    for stmt in stmts:
        cls = stmt.__class__
        if cls is expr_class and getattr(stmt, "is_comment", False):
            comment = stmt
            continue
        fields = _NESTED.get(cls)
        if fields is None:
            fields = _nested_fields(cls)
        if fields:
            for attr in fields:
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list):
                    setattr(stmt, attr, drop_empty(inner, reverse))
            # (a cleaned list with code in it is not empty: it has no lone comments)
            if isinstance(stmt, gast.If) and not stmt.body and not stmt.orelse:
                continue
            if reverse and isinstance(stmt, (gast.For, gast.While)) and not stmt.body:
                continue
        if comment is not None:
            out.append(comment)
            comment = None
        out.append(stmt)
    return out


def _is_comment(stmt: Any) -> bool:
    # (comments are Expr statements: see sweep.comment; the class test spares the
    # slow look-up of a missing attribute on every other statement)
    return isinstance(stmt, gast.Expr) and getattr(stmt, "is_comment", False)


def fold_temporaries(stmts: list, temps: set[str], counts: dict[str, int],
                     pure_calls: set = frozenset(), index: Index | None = None) -> None:
    """Move single-use temporaries back into the next statement that reads them."""
    index = index if index is not None else Index()
    for block in index.blocks(stmts):
        _fold_block(block, temps, counts, pure_calls, index)


def _fold_block(stmts: list, temps: set[str], counts: dict[str, int], pure_calls: set,
                index: Index) -> None:
    for position in range(len(stmts) - 2, -1, -1):     # (deleting stmts[position] moves
        stmt = stmts[position]                          # only the statements after it)
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)):
            continue
        temp = stmt.targets[0].id
        if temp not in temps or counts.get(temp, 0) != 1 or getattr(stmt, "keep", False):
            continue
        value = stmt.value
        entry = index.entry(stmt)
        reads = {n.id for n in entry.value}
        user = None
        for k in range(position + 1, len(stmts)):
            nxt = stmts[k]
            if not isinstance(nxt, (gast.Assign, gast.Expr)):
                break
            found = index.entry(nxt)
            if isinstance(nxt, gast.Assign) and _named(found.value, temp):
                user = nxt
                break
            if _named(found.value, temp) or _named(found.targets, temp):
                break
            if _stores_any(found.value, reads) or _stores_any(found.targets, reads) \
                    or isinstance(nxt, gast.Expr) and not _is_push(nxt):
                break
            if isinstance(nxt, gast.Assign) and not _pure(found.calls, pure_calls):
                break       # never move a computation past a call with side effects
        if user is None or getattr(user, "keep", False):
            continue
        if user is not stmts[position + 1] and not _pure(entry.calls, pure_calls):
            continue
        if isinstance(value, (gast.List, gast.Tuple)) and not isinstance(user.value,
                                                                            gast.Call):
            continue
        if isinstance(user.value, gast.Name) and user.value.id == temp:
            user.value = value
        else:
            _replace_name(user.value, temp, value)
        # (the count of one says no other statement, and no other node of the user,
        # reads the replaced name: only the user's entry changes)
        index.forget(user)
        if hasattr(stmt, "origin") and not hasattr(user, "origin"):
            user.origin = stmt.origin
        del stmts[position]


def _is_push(stmt: Any) -> bool:
    value = stmt.value
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
        and value.func.attr == "append" and getattr(stmt, "is_push", False)


def _replace_name(tree: Any, ident: str, value: Any) -> None:
    """Replace the ``Name`` ``ident`` under ``tree`` (not ``tree`` itself) by ``value``:
    the first found, which the caller knows to be the only one.  ``value`` is moved,
    not copied: it comes from the statement the fold deletes (a copy per fold made a
    chain of folds copy its growing expression again at each step)."""
    stack = [tree]
    name_class, ast_class = gast.Name, gast.AST
    while stack:
        node = stack.pop()
        for field in child_fields(node.__class__):
            old = getattr(node, field, None)
            if isinstance(old, name_class) and old.id == ident:
                setattr(node, field, value)
                return
            elif isinstance(old, list):
                for k, item in enumerate(old):
                    if isinstance(item, name_class) and item.id == ident:
                        old[k] = value
                        return
                    elif isinstance(item, ast_class):
                        stack.append(item)
            elif isinstance(old, ast_class):
                stack.append(old)


def coalesce_copies(stmts: list, temps: set[str], counts: dict[str, int],
                    index: Index | None = None) -> None:
    """``t = f(...)`` followed by ``y = t`` (t used nowhere else) becomes ``y = f(...)``."""
    index = index if index is not None else Index()
    for block in index.blocks(stmts):
        _coalesce_block(block, temps, counts, index)


def _coalesce_block(stmts: list, temps: set[str], counts: dict[str, int],
                    index: Index) -> None:
    at = 0
    while at < len(stmts):
        stmt = stmts[at]
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) \
                and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
                and stmt.value.id in temps and counts.get(stmt.value.id, 0) == 1 and at > 0:
            temp, target = stmt.value.id, stmt.targets[0].id
            prev = stmts[at - 1]
            prev_names = index.names(prev)
            stores = [n for n in prev_names if n.id == temp and isinstance(n.ctx, gast.Store)]
            others = [n for n in prev_names if n.id == target]
            simple_prev = isinstance(prev, gast.Assign) and isinstance(prev.targets[0], gast.Name)
            branch_prev = isinstance(prev, gast.If) and _only_final_stores(prev, temp, target,
                                                                           index)
            if stores and ((simple_prev and prev.targets[0].id == temp) or branch_prev) and (
                    simple_prev or not others):
                for n in stores:
                    n.id = target
                del stmts[at]
                continue
        at += 1


def _only_final_stores(node: Any, temp: str, target: str, index: Index) -> bool:
    """Each branch of ``node`` ends with ``temp = ...`` and does not use ``target``."""
    for branch in (node.body, node.orelse):
        if not branch:
            return False
        last = branch[-1]
        if not (isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name)
                and last.targets[0].id == temp):
            return False
        for stmt in branch:
            if _named(index.names(stmt), target):
                return False
    return True


def propagate_copies(stmts: list, removable: set[str], counts: dict[str, int],
                     index: Index | None = None) -> list:
    """Replace reads of ``a`` after ``a = b`` with ``b`` while neither is reassigned;
    return the statements whose reads changed."""
    index = index if index is not None else Index()
    renamed: list = []
    for block in index.blocks(stmts):
        _propagate_block(block, removable, counts, index, renamed)
    return renamed


def _propagate_block(stmts: list, removable: set[str], counts: dict[str, int],
                     index: Index, renamed: list) -> None:
    at = 0
    while at < len(stmts):
        stmt = stmts[at]
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name)):
            at += 1
            continue
        a, b = stmt.targets[0].id, stmt.value.id
        if a not in removable:
            at += 1
            continue
        for k in range(at + 1, len(stmts)):
            later = stmts[k]
            names = index.names(later)
            stores = _stores_any(names, (a, b))
            if stores and isinstance(later, (gast.If, gast.For, gast.While)):
                break
            # (in an assignment, only the value's reads: not an index in its targets)
            replaced = _replace_loads(index.entry(later).value
                                      if isinstance(later, gast.Assign) else names, a, b)
            if replaced:
                renamed.append(later)
            counts[a] = counts.get(a, 0) - replaced
            counts[b] = counts.get(b, 0) + replaced
            if stores or counts[a] <= 0:
                break
        if counts.get(a, 0) == 0:
            counts[b] = counts.get(b, 0) - 1
            del stmts[at]
            continue
        at += 1


def _stores_any(names: list, idents: Any) -> bool:
    """Does one of ``names`` store one of ``idents`` (a set or a short tuple)?"""
    store = gast.Store
    for node in names:
        if node.id in idents and isinstance(node.ctx, store):
            return True
    return False


def _replace_loads(names: list, old: str, new: str) -> int:
    count = 0
    for node in names:
        if node.id == old and isinstance(node.ctx, gast.Load):
            node.id = new
            count += 1
    return count


def optimize_body(forward: list, reverse: list, keep: set[str], temps: set[str],
                  pure_calls: set, values: dict | None = None,
                  numpy_name: Any = None, broadcasts_into: Any = None,
                  index: Index | None = None) -> tuple[list, list]:
    """Dead code, copy propagation and folding over both sweeps' code.

    ``index``: the index the passes share (a new one by default); it stays true of
    the statements returned, for a caller to read their names from.
    """
    forward = list(forward)     # (edited in place below, the caller's list is not)
    reverse = drop_empty(reverse, reverse=True)
    # every pass up to the folding of temporaries finds names through one index
    index = Index() if index is None else index
    load, store = gast.Load, gast.Store
    loads: dict[str, int] = {}      # (one walk over the names for these three)
    forward_names: set[str] = set()
    for entry in index.entries(forward):
        for names in (entry.value, entry.targets):
            for node in names:
                forward_names.add(node.id)
                if isinstance(node.ctx, load):
                    loads[node.id] = loads.get(node.id, 0) + 1
    reverse_stores: set[str] = set()
    selves = set()                  # (the reverse sweep's ``a = a``, ids)
    for entry in index.entries(reverse):
        for names in (entry.value, entry.targets):
            for node in names:
                if isinstance(node.ctx, load):
                    loads[node.id] = loads.get(node.id, 0) + 1
                elif isinstance(node.ctx, store):
                    reverse_stores.add(node.id)
        if _self_assignment(entry.stmt):
            selves.add(id(entry.stmt))
    reverse_temps = reverse_stores - keep - forward_names
    dropped = _delete(reverse, index, selves)
    _count_loads([index.entry(stmt) for stmt in dropped], loads, -1)
    renamed = propagate_copies(reverse, reverse_temps, loads, index)
    # (a renamed read may have made ``a = a``: ``a = b`` after ``b = a``)
    dropped = _delete(reverse, index, {id(entry.stmt) for entry in index.entries(renamed)
                                       if _self_assignment(entry.stmt)})
    dropped += drop_overwritten(reverse, index)
    _count_loads([index.entry(stmt) for stmt in dropped], loads, -1)
    everything = forward + reverse
    pure_calls = pure_calls | _pure_builtins(values)
    # (the passes above kept ``loads`` true: it is every name's reads in ``everything``)
    counts = remove_dead(everything, keep, pure_calls, index, loads)
    alive = {id(s) for s in everything}
    forward[:] = [s for s in forward if id(s) in alive]
    reverse[:] = [s for s in reverse if id(s) in alive]
    # the passes below only ever lower the true counts of temporaries, and they
    # act on counts of exactly one, so one count stays valid for all of them
    coalesce_copies(forward, temps, counts, index)
    fold_temporaries(forward, temps, counts, pure_calls, index)
    fold_temporaries(reverse, temps | reverse_temps, counts, pure_calls, index)
    _rewrite_reverse(reverse, values or {}, numpy_name, broadcasts_into, index)
    if values:
        drop_default_arguments(forward + reverse, values, index)
    reverse = drop_empty(reverse, reverse=True)
    forward = drop_empty(forward, reverse=False)
    return forward, reverse


def drop_default_arguments(stmts: list, values: dict, index: Index | None = None) -> None:
    """``expand_reduced(g, x, None, False)`` -> ``expand_reduced(g, x)``: in calls to
    srcgrad's own helpers, trailing arguments that only repeat the defaults go."""
    index = index if index is not None else Index()
    defaults_of: dict[str, tuple] = {}      # (a signature per name, not per call)
    for entry in index.entries(stmts):
        calls = entry.calls
        if isinstance(entry.stmt, gast.Assign):
            for target in entry.stmt.targets:   # (an entry has no calls of its targets)
                if target.__class__ is not gast.Name:
                    calls = calls + nodes_of(target, (gast.Call,))
        for node in calls:
            if isinstance(node.func, gast.Name):
                defaults = defaults_of.get(node.func.id)
                if defaults is None:
                    defaults = defaults_of[node.func.id] = _helper_defaults(
                        values.get(node.func.id))
                args = node.args
                while args and len(args) <= len(defaults) and _same_constant(
                        args[-1], defaults[len(args) - 1]):
                    args.pop()


def _helper_defaults(fn: Any) -> tuple:
    """The defaults of a srcgrad helper's positional parameters (none for anything else)."""
    if not (isinstance(fn, types.FunctionType)
            and (fn.__module__ or "").startswith("srcgrad.")):
        return ()
    return tuple(default for _, default in positional_defaults(fn))


def _same_constant(node: Any, default: Any) -> bool:
    return isinstance(node, gast.Constant) and default is not inspect.Parameter.empty \
        and type(node.value) is type(default) and node.value == default


def _rewrite_reverse(stmts: list, values: dict, numpy_name: Any, broadcasts_into: Any,
                     index: Index) -> None:
    """Rewrite the assignments of the reverse sweep by :class:`_LazyExpand`, then by
    :class:`_Fold` (identities that folding temporaries exposed: ``-(-a * b)``).

    Only assignments with what a rewrite needs are visited (:func:`_may_expand`,
    :func:`_may_fold`).  The entry of a visited assignment is dropped (its value
    may have new nodes).
    """
    entries = [entry for entry in index.entries(stmts) if isinstance(entry.stmt, gast.Assign)]
    expander = _LazyExpand(values, numpy_name)      # (it keeps no state of its own)
    expanded = set()
    for entry in entries:
        if _may_expand(entry, values):
            entry.stmt.value = expander.visit(entry.stmt.value)
            expanded.add(id(entry))
    # (all expansions first: a tree two statements share is expanded, then folded)
    folder = _Fold(values, broadcasts_into)
    composes = broadcasts_into is not None
    for entry in entries:
        if id(entry) in expanded or _may_fold(entry, values, composes):
            entry.stmt.value = folder.visit(entry.stmt.value)
            index.forget(entry.stmt)


def _calls_of(calls: list, values: dict, fn: Any) -> bool:
    """Is one of ``calls`` a call of ``fn`` by a name ``values`` binds to it?"""
    for call in calls:
        func = call.func
        if isinstance(func, gast.Name) and values.get(func.id) is fn:
            return True
    return False


def _may_expand(entry: _Entry, values: dict) -> bool:
    """Can :class:`_LazyExpand` change the value of ``entry``'s assignment?  Not without
    a call of ``expand_reduced``."""
    return _calls_of(entry.calls, values, expand_reduced)


def _may_fold(entry: _Entry, values: dict, composes: bool) -> bool:
    """Can :class:`_Fold` change the value of ``entry``'s assignment?

    Not unless one of its rewrites applies to the value as it is (a rewrite
    makes nodes that others apply to only after one applied): each needs a
    node :func:`_scan` notes, or a call of a folding helper (see
    :func:`_folding_helper`), or, where it ``composes`` sums
    (``broadcasts_into``), ``unbroadcast(unbroadcast(...), ...)``.
    """
    if entry.folds:
        return True
    for call in entry.calls:
        if _folding_helper(call, values):
            return True
        if composes and _calls_of([call], values, unbroadcast) and call.args \
                and isinstance(call.args[0], gast.Call) \
                and _calls_of([call.args[0]], values, unbroadcast):
            return True
    return False


def drop_overwritten(stmts: list, index: Index | None = None) -> list:
    """Drop ``a = e`` when the next statements overwrite ``a`` before anything reads it;
    return what went."""
    index = index if index is not None else Index()
    dropped: list = []
    for block in index.blocks(stmts):
        _drop_overwritten_block(block, index, dropped)
    return dropped


def _drop_overwritten_block(stmts: list, index: Index, dropped: list) -> None:
    at = 0
    while at < len(stmts):
        stmt = stmts[at]
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) \
                and _pure(index.entry(stmt).calls, frozenset()) \
                and not getattr(stmt, "keep", False):
            target = stmt.targets[0].id
            dead = False
            for k in range(at + 1, len(stmts)):
                later = stmts[k]
                if _is_comment(later):
                    continue
                if not isinstance(later, gast.Assign) \
                        or _named(index.entry(later).value, target):
                    break
                if _named(index.entry(later).targets, target):
                    dead = len(later.targets) == 1 and isinstance(later.targets[0], gast.Name)
                    break
            if dead:
                dropped.append(stmt)
                del stmts[at]
                continue
        at += 1


def _self_assignment(stmt: Any) -> bool:
    """Is ``stmt`` ``a = a``?"""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) \
        and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
        and stmt.targets[0].id == stmt.value.id


def _delete(stmts: list, index: Index, doomed: set[int]) -> list:
    """Delete the statements whose ids are in ``doomed`` from ``stmts`` and the lists
    nested in it; return them."""
    deleted: list = []
    if doomed:
        for block in index.blocks(stmts):
            kept = [stmt for stmt in block if id(stmt) not in doomed]
            if len(kept) < len(block):
                deleted += [stmt for stmt in block if id(stmt) in doomed]
                block[:] = kept
    return deleted


def release_saved_values(forward: list, reverse: list, keep: set[str],
                         worth: Callable[[str], bool] | None = None,
                         index: Index | None = None) -> list:
    """``del`` values of the forward sweep once the reverse sweep has read them for the last time.

    As a tape frees what a node saved once its backward has run, so the
    generated gradient holds no more large intermediates than it still needs
    (lower peak memory, and fewer fresh pages asked of the allocator).  Only
    names the forward sweep assigns exactly once, unconditionally, and for
    which ``worth(name)`` holds are released, all those of one source line at
    the end of its block; names in ``keep`` (arguments, outputs) never are.

    ``index``: the optimizer's, true of the simple statements (``finish_statements``
    rewrote compound ones since): their names are read from it, not walked again.
    """
    def names_of(stmt: Any) -> list:
        if index is not None and stmt.__class__ in SIMPLE_STATEMENTS:
            return index.names(stmt)
        return name_nodes(stmt)

    reverse_names = [names_of(stmt) for stmt in reverse]     # (one walk for both uses)
    # a name the reverse sweep stores or deletes is not assigned once: this is
    # assigned_once(forward, reverse), without walking the reverse sweep again
    writes = (gast.Store, gast.Del)
    changed = {n.id for names in reverse_names for n in names if n.ctx.__class__ in writes}
    once = {v for v in assigned_once(forward, names_of=names_of) - changed - keep
            if worth is None or worth(v)}
    # (a later reader replaces an earlier one)
    last_reader = {node.id: index for index, names in enumerate(reverse_names)
                   for node in names if node.id in once}
    block_end = {}
    end = len(reverse)
    for index in range(len(reverse) - 1, -1, -1):
        block_end[index] = end
        if _is_comment(reverse[index]):
            end = index
    released: dict[int, list[str]] = {}
    for var, index in last_reader.items():
        if block_end[index] < len(reverse):         # the return comes next anyway
            released.setdefault(block_end[index], []).append(var)
    out = []
    for index, stmt in enumerate(reverse):
        if index in released:
            out.append(gast.Delete(targets=[gast.Name(id=v, ctx=gast.Del(), annotation=None,
                                                      type_comment=None)
                                            for v in sorted(released[index])]))
        out.append(stmt)
    return out
