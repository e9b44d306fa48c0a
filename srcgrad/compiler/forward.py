"""Forward mode: one pass over the normalized function that writes its tangent code.

Statements run in their own order; after each statement whose value is
active, the sweep writes the tangent ``d<name>`` of its target from the
tangents of its arguments, inlining the rule's JVPs (one per active
argument, summed).  Control flow keeps its shape: a branch or loop of the
primal code is a branch or loop of the tangent code, so nothing is saved.
Tangent states are those of :mod:`.sweep`; a tangent that may be ``None``
(``MAYBE``) is read through ``tangent_or_zeros``.
"""

from __future__ import annotations

from typing import Any

import gast

from ..rules._helpers import broadcast_like
from .analyze import assigned_name, returns_sequence, statements
from .inline import instantiate
from .normalize import assign, clone, const, name, name_nodes, nodes_of, store
from .ops import arg_names, differentiable_positions, helper_nonlinear_arguments
from .optimize import fold
from .shapes import elementwise
from .sweep import LIVE, MAYBE, ZERO, Sweep, bind_call

__all__ = ["ForwardSweep"]

def _call(func: str, args: list) -> Any:
    return gast.Call(func=name(func), args=args, keywords=[])


class ForwardSweep(Sweep):
    prefix = "d"
    comment_label = "tangent of"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loop_depth = 0
        self.merge_zeros: list[tuple[Any, list]] = []
        from .support import ShapeStack

        # stacks of shapes in generated gradient code: they never hold tangents
        self.shape_stacks = {assigned_name(st) for st in statements(self.fn.body)
                             if getattr(getattr(st, "op", None), "fn", None) is ShapeStack}

    # -- reading tangents -------------------------------------------------------------
    def helper(self, fname: str) -> str:
        from . import support

        return self.ns.bind(fname, getattr(support, fname))

    def tangent(self, expr: Any) -> Any:
        """The tangent of an argument expression, zeros where nothing flows."""
        if isinstance(expr, (gast.List, gast.Tuple)):
            return type(expr)(elts=[self.tangent(e) for e in expr.elts], ctx=gast.Load())
        if isinstance(expr, gast.Name) and self.act.is_active(expr.id):
            state = self.get(expr.id)
            if state == LIVE:
                return name(self.adj(expr.id))
            if state == MAYBE:
                return _call(self.helper("tangent_or_zeros"), [name(self.adj(expr.id)),
                                                               clone(expr)])
        if isinstance(expr, gast.Constant) and expr.value is None:
            return const(None)          # a zero adjoint of generated gradient code
        if (isinstance(expr, gast.Constant) and isinstance(expr.value, (int, float))) or (
                isinstance(expr, gast.Name) and expr.id in self.scalars):
            return const(0.0)
        return _call(self.helper("zeros_for"), [clone(expr)])

    def flows(self, expr: Any) -> bool:
        """Can a nonzero tangent come out of this argument expression?"""
        return any(self.act.is_active(n) and self.get(n) != ZERO for n in arg_names(expr))

    def unknown_state(self, var: str) -> str:
        # a scalar variant may still build arrays (``out = np.zeros(n)``): only names
        # known to be 0-d get a ``0.0`` tangent where paths disagree
        return LIVE if var in self.scalars and not self.is_seq(var) else MAYBE

    # -- the sweep --------------------------------------------------------------------
    def block(self, stmts: list) -> list:
        out: list = []
        for stmt in stmts:
            self.current = stmt
            handler = getattr(self, "fwd_" + type(stmt).__name__, None)
            if handler is None:
                out.append(stmt)
            else:
                handler(stmt, out)
        return out

    def fwd_Expr(self, stmt: Any, out: list) -> None:
        op = getattr(stmt, "op", None)
        if op is None or op.kind != "append":
            out.append(stmt)
            return
        xs, item = op.args[0].id, op.args[1]
        if self.act.is_active(xs) and self.get(xs) != LIVE and self.flows(item) \
                and xs not in self.shape_stacks:
            # a list that had no tangent (on some path) gets one now, zeros for its items;
            # a stack of shapes (ShapeStack) carries no tangent at all
            zeros = _call(self.helper("zeros_for"), [name(xs)]) if self.get(xs) == ZERO \
                else self.tangent(name(xs))
            out.append(assign(self.adj(xs), zeros, None))
            self.state[xs] = LIVE
        out.append(stmt)
        if self.act.is_active(xs) and self.get(xs) != ZERO:
            append = gast.Call(func=gast.Attribute(value=name(self.adj(xs)), attr="append",
                                                   ctx=gast.Load()),
                               args=[self.tangent(item)], keywords=[])
            self.note(stmt, [gast.Expr(value=append)], out)

    def fwd_Assign(self, stmt: Any, out: list) -> None:
        op = stmt.op
        target = assigned_name(stmt)
        if not self.act.is_active(target) or op.kind in ("const", "unknown"):
            out.append(stmt)
            if self.act.is_active(target):
                self.state[target] = ZERO
            return
        getattr(self, "tangent_" + op.kind)(stmt, op, target, out)

    def answer(self, stmt: Any, target: str) -> str:
        """The name holding the statement's new value while its tangent is computed.

        A statement that reads its target's old value (``s = s * x``) computes into a
        fresh name first, so the tangent still sees the old value.
        """
        if any(n.id == target and isinstance(n.ctx, gast.Load) for n in name_nodes(stmt.value)):
            return self.namer.fresh(target + "_new")
        return target

    def define(self, stmt: Any, target: str, value: Any, out: list, ans: str | None = None,
               pre: tuple = ()) -> None:
        """The primal statement, then ``d<target> = value`` (``None``: the tangent is zero)."""
        if value is None:
            out.append(stmt)
            self.state[target] = ZERO
            return
        if ans is None:
            ans = self.answer(stmt, target)
        if not _pops(value):
            _mark_pure(value)       # derivative code: dead code may drop any of it
            for hoisted in pre:
                _mark_pure(hoisted.value)
        code = [*pre, assign(self.adj(target), value, None)]
        if ans is not None and ans != target:
            out.append(assign(ans, stmt.value, getattr(stmt, "origin", None)))
            code.append(assign(target, name(ans), None))
        else:
            out.append(stmt)
        self.note(stmt, code, out)
        self.state[target] = LIVE

    def tangent_copy(self, stmt: Any, op: Any, target: str, out: list) -> None:
        source = op.args[0]
        self.define(stmt, target, self.tangent(source) if self.flows(source) else None, out)

    def tangent_prim(self, stmt: Any, op: Any, target: str, out: list) -> None:
        rule = op.rule
        ans = self.answer(stmt, target)
        pre: list = []          # values a JVP reads several times, computed once
        value = None
        flowing = sorted(((pos, arg) for pos, arg in differentiable_positions(op).items()
                          if self.flows(arg)), key=lambda kv: str(kv[0]))
        guard = self.complex_guard(op, op.args, op.kwargs) if flowing else None
        if guard is not None:
            out.append(guard)
        # one term with the result's shape: the sum broadcasts the others by itself
        full = any(self.same_shape(op, pos) for pos, _ in flowing)
        for pos, arg in flowing:
            term = fold(instantiate(rule.jvps[pos], self.tangent(arg), name(ans),
                                    list(op.args), dict(op.kwargs), self.ns, self.hoister(pre)),
                        self.ns.values)
            if full and not returns_sequence(op):
                term = self.without_broadcast(term)
            if returns_sequence(op):
                # one tangent per output: added item by item, a None item made zeros
                term = _call(self.helper("seq_tangent"), [term, name(ans)])
                value = term if value is None else _call(self.helper("add"), [value, term])
            else:
                value = term if value is None else gast.BinOp(left=value, op=gast.Add(),
                                                              right=term)
        self.define(stmt, target, fold(value, self.ns.values) if value is not None else None,
                    out, ans, pre)

    def same_shape(self, op: Any, pos: Any) -> bool:
        """Does an elementwise operation surely give argument ``pos``'s shape?

        Then ``broadcast_like(d, ans)`` is ``d`` itself.
        """
        arg = op.args[pos] if isinstance(pos, int) and pos < len(op.args) else None
        return isinstance(arg, gast.Name) and elementwise(op) and self.shapes.kept(
            [a for k, a in enumerate(op.args) if k != pos], arg.id)

    def without_broadcast(self, term: Any) -> Any:
        if isinstance(term, gast.Call) and isinstance(term.func, gast.Name) \
                and self.ns.values.get(term.func.id) is broadcast_like and term.args:
            return term.args[0]
        return term

    def tangent_linear(self, stmt: Any, op: Any, target: str, out: list) -> None:
        """A helper of generated code, linear in some arguments: itself, on tangents."""
        helper = op.rule
        for pos, arg in helper_nonlinear_arguments(op).items():
            if self.flows(arg):
                raise self.fn.parsed.error(
                    getattr(stmt, "origin", stmt),
                    f"a derivative through argument {pos} of {helper.name}, which only the "
                    "tape can differentiate")
        linear = {pos: arg for pos, arg in differentiable_positions(op).items()
                  if pos in helper.linear}
        flowing = [pos for pos, arg in linear.items() if self.flows(arg)]
        if not flowing:
            self.define(stmt, target, None, out)
            return
        fn = name(self.ns.bind(helper.name, helper.fn))
        groups = [list(linear)] if helper.joint else [[pos] for pos in flowing]
        value = None
        for group in groups:
            args, kwargs = _replace(op, {pos: self.tangent(linear[pos]) for pos in group})
            term = gast.Call(func=clone(fn), args=args, keywords=[
                gast.keyword(arg=k, value=v) for k, v in kwargs.items()])
            value = term if value is None else gast.BinOp(left=value, op=gast.Add(), right=term)
        self.define(stmt, target, value, out)

    def tangent_pop(self, stmt: Any, op: Any, target: str, out: list) -> None:
        stack = op.args[0]
        if not self.flows(stack):
            self.define(stmt, target, None, out)
            return
        pop = gast.Call(func=gast.Attribute(value=name(self.adj(stack.id)), attr="pop",
                                            ctx=gast.Load()), args=[], keywords=[])
        self.define(stmt, target, pop, out)

    def tangent_pack(self, stmt: Any, op: Any, target: str, out: list) -> None:
        # a list or tuple built here keeps one tangent per item, zeros included
        value = op.node
        if isinstance(value, gast.Dict):        # a dict's tangent: a dict of the same keys
            packed = gast.Dict(keys=[clone(k) for k in value.keys],
                               values=[self.tangent(v) for v in value.values])
            self.define(stmt, target, packed, out)
            return
        packed = type(value)(elts=[self.tangent(e) for e in value.elts], ctx=gast.Load())
        self.define(stmt, target, packed, out)

    def tangent_item(self, stmt: Any, op: Any, target: str, out: list) -> None:
        seq, index = op.args
        if not self.flows(seq):
            self.define(stmt, target, None, out)
            return
        value = gast.Subscript(value=self.tangent(seq), slice=clone(index), ctx=gast.Load())
        self.define(stmt, target, value, out)

    def tangent_setlist(self, stmt: Any, op: Any, target: str, out: list) -> None:
        seq, index, item = op.args
        if not (self.flows(seq) or self.flows(item)):
            self.define(stmt, target, None, out)
            return
        value = _call(self.helper("setitem_list"), [self.tangent(seq), clone(index),
                                                    self.tangent(item)])
        self.define(stmt, target, value, out)

    def tangent_concat(self, stmt: Any, op: Any, target: str, out: list) -> None:
        a, b = op.args
        if not (self.flows(a) or self.flows(b)):
            self.define(stmt, target, None, out)
            return
        self.define(stmt, target, _call(self.helper("seq_concat"),
                                        [self.tangent(a), self.tangent(b)]), out)

    def tangent_repeat(self, stmt: Any, op: Any, target: str, out: list) -> None:
        if not self.flows(op.args[0]):
            self.define(stmt, target, None, out)
            return
        raise self.fn.parsed.error(getattr(stmt, "origin", stmt),
                                   "repeating a list or tuple that carries a derivative (* n)",
                                   "Build the list with a comprehension or a loop.")

    def tangent_user(self, stmt: Any, op: Any, target: str, out: list) -> None:
        origin = getattr(stmt, "origin", stmt)
        argnums, receivers = bind_call(
            op.fn, op, lambda n: self.act.is_active(n) and self.get(n) != ZERO,
            lambda construct, hint: self.fn.parsed.error(origin, construct, hint))
        if not argnums:
            self.define(stmt, target, None, out)
            return
        compiled, _ = self.compile_callee(op.fn, tuple(argnums), stmt)
        tangents = [self.tangent(name(r)) for r in receivers]
        call = gast.Call(func=name(compiled), args=[*tangents, *op.args],
                         keywords=[gast.keyword(arg=k, value=v) for k, v in op.kwargs.items()])
        node = gast.Assign(targets=[gast.Tuple(elts=[store(target), store(self.adj(target))],
                                               ctx=gast.Store())],
                           value=call, type_comment=None)
        node.origin = getattr(stmt, "origin", None)
        out.append(node)
        self.state[target] = LIVE

    # -- control flow -----------------------------------------------------------------
    def fwd_If(self, stmt: Any, out: list) -> None:
        before = dict(self.state)
        body = self.block(stmt.body)
        after_body = dict(self.state)
        self.state = before
        orelse = self.block(stmt.orelse)
        after_else = dict(self.state)
        sizes = (len(body), len(orelse))
        self.merge([after_body, after_else], [body, orelse])
        node = _like(stmt, gast.If(test=stmt.test, body=body, orelse=orelse))
        if not self.loop_depth:
            # zeros the merge added: dropped later when nothing after the branch reads them
            self.merge_zeros.append((node, body[sizes[0]:] + orelse[sizes[1]:]))
        out.append(node)

    def fwd_For(self, stmt: Any, out: list) -> None:
        if isinstance(stmt.target, gast.Name) and self.act.is_active(stmt.target.id):
            raise self.fn.parsed.error(getattr(stmt, "origin", stmt),
                                       "a loop variable that carries a derivative")
        body = self.loop(stmt, out)
        out.append(_like(stmt, gast.For(target=stmt.target, iter=stmt.iter, body=body or [],
                                        orelse=[], type_comment=None)))

    def fwd_While(self, stmt: Any, out: list) -> None:
        body = self.loop(stmt, out)
        out.append(_like(stmt, gast.While(test=stmt.test, body=body or [], orelse=[])))

    def loop(self, stmt: Any, out: list) -> list | None:
        self.loop_depth += 1
        try:
            return self.loop_body(stmt, out)
        finally:
            self.loop_depth -= 1

    def drop_unread_zeros(self, code: list) -> None:
        """Remove a branch's ``d<name> = None`` that no statement after the branch reads.

        Only for branches outside loops, where "after" is plain program order.
        """
        loads: dict[str, int] = {}
        for node in name_nodes(gast.Module(body=code, type_ignores=[])):
            if isinstance(node.ctx, gast.Load):
                loads[node.id] = loads.get(node.id, 0) + 1
        for branch, zeros in self.merge_zeros:
            inside: dict[str, int] = {}
            for node in name_nodes(branch):
                if isinstance(node.ctx, gast.Load):
                    inside[node.id] = inside.get(node.id, 0) + 1
            for zero in zeros:
                ident = zero.targets[0].id
                if loads.get(ident, 0) == inside.get(ident, 0):
                    for block in (branch.body, branch.orelse):
                        if zero in block:
                            block.remove(zero)


_CALL = (gast.Call,)


def _pops(value: Any) -> bool:
    """Does the value pop from a stack (a side effect dead code must keep)?"""
    return any((isinstance(n.func, gast.Attribute) and n.func.attr == "pop")
               or (isinstance(n.func, gast.Name) and n.func.id.startswith("seq_pop"))
               for n in nodes_of(value, _CALL))


def _mark_pure(value: Any) -> None:
    for sub in nodes_of(value, _CALL):
        sub.pure = True


def _replace(op: Any, values: dict) -> tuple[list, dict]:
    """The call's arguments with those at the given positions replaced."""
    from .ops import _parameters

    args = [values.get(k, clone(a)) for k, a in enumerate(op.args)]
    params = _parameters(op.fn) or []
    kwargs = {k: values.get(params.index(k) if k in params else -1, clone(v))
              for k, v in op.kwargs.items()}
    return args, kwargs


def _like(old: Any, new: Any) -> Any:
    """``new`` with the loop and origin annotations of the statement it replaces."""
    for attr in ("origin", "break_flag", "break_added"):
        if hasattr(old, attr):
            setattr(new, attr, getattr(old, attr))
    new.is_control = True
    return new
