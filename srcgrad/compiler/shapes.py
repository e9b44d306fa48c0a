"""What is known of shapes at transform time, before any argument is seen.

Generated code sums a cotangent back to an operand's shape (``unbroadcast``)
and stretches a tangent to a result's (``broadcast_like``) wherever
broadcasting may have happened.  Often it cannot have:
``shifted = logits - np.max(logits, axis=1, keepdims=True)`` has the shape of
``logits``, whatever that is.  :class:`ShapeFacts` finds such facts in the
normalized function, for both sweeps and for the optimizer.

Facts are drawn only from names with one value: assigned once, at the top
level of the body (not in a loop or branch), or parameters never assigned.
A name that may hold a list or tuple takes part in none.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

import gast
import numpy as np

from .analyze import target_names
from .normalize import NormalizedFunction, statements

__all__ = ["ShapeFacts", "elementwise"]

_ELEMENTWISE_OPERATORS = {operator.add, operator.sub, operator.mul, operator.truediv,
                          operator.pow, operator.floordiv, operator.mod, operator.neg,
                          operator.pos}

# Reductions whose ``keepdims=True`` result has the input's rank, with 1 in the
# reduced axes: it broadcasts back to the input's shape without changing it.
_KEEPDIMS_REDUCTIONS = {getattr(np, n) for n in (
    "sum", "prod", "max", "min", "amax", "amin", "mean", "std", "var", "median", "ptp",
    "nansum", "nanprod", "nanmax", "nanmin", "nanmean", "nanstd", "nanvar", "nanmedian")
    if hasattr(np, n)}


def elementwise(op: Any) -> bool:
    """Is the primitive an elementwise operator or ufunc, called without keywords?"""
    fn = op.fn
    return not op.kwargs and (fn in _ELEMENTWISE_OPERATORS or (
        isinstance(fn, np.ufunc) and fn.signature is None and fn.nout == 1))


def _number(node: Any) -> bool:
    return isinstance(node, gast.Constant) and isinstance(node.value, (int, float, complex))


def _basic_index(index: Any) -> bool:
    """Does the index select a view: numbers, slices, ``None`` and ``...`` only?"""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return all(isinstance(p, gast.Constant) or (isinstance(p, gast.Call) and isinstance(
        p.func, gast.Name) and p.func.id == "slice" and all(isinstance(a, gast.Constant)
                                                           for a in p.args))
        for p in parts)


def _keepdims(op: Any) -> bool:
    flag = op.kwargs.get("keepdims")
    return isinstance(flag, gast.Constant) and flag.value is True


class ShapeFacts:
    """Which names surely have the same shape, and which broadcast into which.

    ``is_scalar(name)`` says whether a name is known to be 0-d.
    """

    def __init__(self, nf: NormalizedFunction, is_scalar: Callable[[str], bool] | None = None,
                 bind: Any = None, all_scalar: bool = False) -> None:
        self.is_scalar = is_scalar or (lambda var: False)
        self.bind = bind            # the optimizer binds the helpers it introduces with it
        self.operands: dict[str, set[str]] = {}     # a -> the operands of elementwise a
        self._parent: dict[str, str] = {}           # union-find: names of one shape
        self._within: dict[str, str] = {}           # class -> a name it broadcasts into
        self._small: set[str] = set()               # reductions and views
        if all_scalar:
            # ``is_scalar`` holds for every name (the scalar variant): each question
            # below is answered before the facts are read, so none are gathered
            self.stable: set[str] = set()
            return
        self.stable = _names_with_one_value(nf)
        for stmt in nf.body:
            op = getattr(stmt, "op", None)
            if not isinstance(stmt, gast.Assign) or op is None or op.kind != "prim" \
                    or len(stmt.targets) != 1 or not isinstance(stmt.targets[0], gast.Name):
                continue
            target = stmt.targets[0].id
            if target not in self.stable:
                continue
            if elementwise(op):
                self.learn_elementwise(target, op.args)
            elif op.fn in _KEEPDIMS_REDUCTIONS:
                self._small.add(target)
                if _keepdims(op) and op.args and isinstance(op.args[0], gast.Name) \
                        and op.args[0].id in self.stable:
                    self._within[self._find(target)] = op.args[0].id
            elif op.fn is operator.getitem and _basic_index(op.args[1]):
                self._small.add(target)         # a view: it holds no memory of its own

    def learn_elementwise(self, target: str, args: list) -> None:
        stable = self.stable
        names = [a.id if isinstance(a, gast.Name) and a.id in stable else None for a in args]
        self.operands[target] = {n for n in names if n is not None}
        for pos, ident in enumerate(names):
            if ident is not None and self.kept([*args[:pos], *args[pos + 1:]], ident):
                self._parent[self._find(target)] = self._find(ident)
                return

    def _find(self, var: str) -> str:
        while var in self._parent:
            var = self._parent[var]
        return var

    def fits(self, b: str, a: str) -> bool:
        """Does ``b``'s shape broadcast to exactly ``a``'s (so ``a``'s is the result's)?"""
        if b == a or self.is_scalar(b):
            return True
        if b not in self.stable or a not in self.stable:
            return False
        goal = self._find(a)
        seen = set()
        while b is not None:
            root = self._find(b)
            if root == goal:
                return True
            if root in seen:
                return False
            seen.add(root)
            b = self._within.get(root)
        return False

    def kept(self, others: Iterable, x: str) -> bool:
        """Does broadcasting name ``x`` with the expressions ``others`` leave ``x``'s shape?"""
        # (a loop: ``all`` over a generator that stops early pays for closing it)
        for o in others:
            if not (_number(o) or (isinstance(o, gast.Name) and self.fits(o.id, x))):
                return False
        return True

    def may_be_large(self, var: str) -> bool:
        """Might ``var`` own an array as large as the arrays it was computed from?

        Not if it is 0-d, a reduction, a view, or broadcasts into another name.
        """
        if self.is_scalar(var) or var in self._small:
            return False
        return var not in self.stable or self._find(var) not in self._within

    def __call__(self, b: str, a: str) -> bool:
        """Does ``b``'s shape surely broadcast to ``a``'s (``b`` an operand of ``a``, say)?"""
        return b in self.operands.get(a, ()) or self.fits(b, a)


def _names_with_one_value(nf: NormalizedFunction) -> set[str]:
    params = set(nf.params) | set(nf.kwonly)
    # store_counts(nf.body), read from the statements' targets (one look for both
    # questions): normalized code stores nowhere else, and deletes nothing
    stored: dict[str, int] = {}
    for top in nf.body:
        weight = 1 if isinstance(top, (gast.Assign, gast.Expr)) else 2
        for stmt in statements([top]):
            for node in target_names(stmt):
                if isinstance(node.ctx, gast.Store):
                    stored[node.id] = stored.get(node.id, 0) + weight
    once = {n for n, c in stored.items() if c == 1}
    names = (once - params) | (params - stored.keys())
    return {n for n in names if nf.kinds.get(n) not in ("list", "tuple", "argument")}
