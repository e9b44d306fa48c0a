"""Reverse mode: one pass over the normalized function that writes its adjoint.

For every statement, in reverse order, the sweep inlines the VJPs of the
statement's primitive for the active arguments, and accumulates them into
adjoint variables named ``b<name>``.  The invariant that makes loops work:
when the adjoint of a statement runs, every variable the adjoint reads holds
the value it had right after that statement ran in the forward sweep.  Values
a later statement overwrites are pushed on a stack before the overwrite and
popped back after the overwriting statement's adjoint; the sweep records
what each adjoint reads, and only those values are saved
(:func:`ReverseSweep.place_saves`).

Adjoints carry a static state: ``ZERO`` (nothing flowed in yet: the first
contribution *defines* the adjoint, and a zero cotangent skips a statement's
adjoint entirely), ``LIVE`` (holds a value) or ``MAYBE`` (may be ``None`` at
run time, where branches or loop iterations disagree).  No zero array is
ever built only to be added to.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import gast

from .analyze import (
    Activity,
    assigned_name,
    output_count,
    positions,
    reachable,
    statements,
    target_names,
)
from .inline import instantiate
from .names import Namer, Namespace
from .normalize import (
    _CHILD_FIELDS,
    NormalizedFunction,
    assign,
    call,
    child_fields,
    clone,
    const,
    name,
    name_nodes,
    store,
)
from .ops import Operation, arg_names, differentiable_positions
from .optimize import simplify_contribution
from .sweep import LIVE, MAYBE, ZERO, Sweep, bind_call, comment

__all__ = ["ReverseSweep", "ZERO", "LIVE", "MAYBE", "comment"]

_NAME = gast.Name


def _reads(operands: list, target: str) -> bool:
    """Does one of ``operands`` read ``target``?"""
    for operand in operands:
        if target in arg_names(operand):
            return True
    return False


def _call(func: str, args: list) -> Any:
    return call(name(func), args)


def _attr_call(obj: str, method: str, args: list) -> Any:
    return call(gast.Attribute(value=name(obj), attr=method, ctx=gast.Load()), args)


def _expr_stmt(value: Any) -> Any:
    return gast.Expr(value=value)


def _is_none(ident: str) -> Any:
    return gast.Compare(left=name(ident), ops=[gast.Is()], comparators=[const(None)])


def _is_not_none(ident: str) -> Any:
    return gast.Compare(left=name(ident), ops=[gast.IsNot()], comparators=[const(None)])


class _Marker(gast.Pass):
    """Where a saved value is popped back (replaced or dropped by ``place_saves``)."""

    is_marker = True


@dataclass
class Read:
    name: str
    stmt: Any
    before: bool = False        # the value before the statement ran (else after it)
    node: Any = None            # the Name node in the reverse code that reads it
    shape: bool = False         # a helper there reads only its shape (unbroadcast(g, v))


@dataclass
class Save:
    stmt: Any
    target: str
    markers: list = field(default_factory=list)   # (marker, pop-into name)


class ReverseSweep(Sweep):
    prefix = "b"
    comment_label = "grad of"
    dry_trials = True

    def __init__(self, fn: NormalizedFunction, activity: Activity, namespace: Namespace,
                 namer: Namer, compile_callee: Any, scalar: bool = False) -> None:
        super().__init__(fn, activity, namespace, namer, compile_callee, scalar)
        self.reads: list[Read] = []
        self.saves: dict[int, Save] = {}
        self.loop_nodes: dict[int, Any] = {}
        self.reverse_loops: dict[int, Any] = {}
        self.stacks: dict[str, str] = {}
        self.shape_stacks: set[str] = set()     # stacks that keep only shapes
        self.none_init: list[str] = []
        self.live_grads: dict[str, tuple] = {}  # a callee's pullback -> its never-None results
        # while with_guard's build runs: name -> its state before the build (see set_state)
        self.overwritten: dict[str, str] | None = None

    def set_state(self, var: str, state: str) -> None:
        """Set ``var``'s state; in a guarded build, note the state it had before."""
        overwritten = self.overwritten
        if overwritten is not None and var not in overwritten:
            overwritten[var] = self.state.get(var, ZERO)
        self.state[var] = state

    def accumulate(self, var: str, value: Any, out: list, may_be_none: bool = False) -> None:
        """``b<var> += value`` given what is known about ``b<var>``."""
        b = self.adj(var)
        state = self.get(var)
        maybe = may_be_none or self.is_seq(var)
        self.set_state(var, MAYBE if maybe else LIVE)
        if self.dry:
            out.append(value)       # (a dry trial keeps states; its code is thrown away)
            return
        if maybe:
            if state == ZERO:
                out.append(assign(b, value, None))
            else:
                out.append(assign(b, _call(self.ns.bind("add", _support("add")),
                                           [name(b), value]), None))
            return
        if state == ZERO:
            out.append(assign(b, value, None))
        elif state == LIVE:
            out.append(assign(b, gast.BinOp(left=name(b), op=gast.Add(), right=value), None))
        else:
            if not _cheap(value):
                tmp = self.namer.fresh("t" + b)
                out.append(assign(tmp, value, None))
                value = name(tmp)
            out.append(assign(b, gast.IfExp(test=_is_none(b), body=clone(value),
                                            orelse=gast.BinOp(left=name(b), op=gast.Add(),
                                                              right=value)), None))

    # -- reads ----------------------------------------------------------------------
    def record_reads(self, nodes: list, stmt: Any) -> None:
        """Note the primal names the reverse code ``nodes`` reads, after ``stmt`` ran.

        Every piece of reverse code goes through here as it is placed, so ``self.reads``
        holds all its loads of primal names (``share_shapes`` walks no tree for them).
        """
        if self.dry:
            return
        primal, reads, values = self.primal, self.reads, self.ns.values
        for node in nodes:
            for sub, shape in _loads(node, values, primal):
                reads.append(Read(sub.id, stmt, False, sub, shape))

    # -- the sweep ------------------------------------------------------------------
    def block(self, stmts: list) -> list:
        out: list = []
        for stmt in reversed(stmts):
            self.current = stmt
            kind = type(stmt).__name__
            handler = getattr(self, "rev_" + kind, None)
            if handler is not None:
                handler(stmt, out)
        return out

    def rev_Assert(self, stmt: Any, out: list) -> None:
        pass

    def rev_Expr(self, stmt: Any, out: list) -> None:
        op = getattr(stmt, "op", None)
        if op is None or op.kind != "append":
            return
        xs = op.args[0].id
        item = op.args[1]
        code: list = []
        if isinstance(item, gast.Name) and self.act.is_active(item.id) \
                and self.act.is_active(xs) and self.get(xs) != ZERO:
            pop = _call(self.ns.bind("seq_pop", _support("seq_pop")),
                        [name(self.adj(xs)), name(stmt.append_index)])
            self.accumulate(item.id, pop, code, may_be_none=True)
        self.emit_block(stmt, code, out)

    def emit_block(self, stmt: Any, code: list, out: list) -> None:
        """Append one statement's adjoint, headed by a ``# grad of:`` comment."""
        if self.dry:
            return          # (a dry trial's code is thrown away: only its states count)
        self.record_reads(code, stmt)
        code.extend(self.restore_markers(stmt))
        if code:
            self.note(stmt, code, out)

    def restore_markers(self, stmt: Any) -> list:
        if getattr(stmt, "counter", False) or getattr(stmt, "restored_in_block", False):
            return []
        op = getattr(stmt, "op", None)
        if op is not None and op.kind == "append":
            return []
        targets = [assigned_name(stmt), *getattr(stmt, "extra_targets", ())]
        markers = []
        for target in targets:
            if target is None:
                continue
            marker = _Marker()
            key = (id(stmt), target)
            save = self.saves.get(key)
            if save is None:
                save = self.saves[key] = Save(stmt, target)
            save.markers.append((marker, target))
            markers.append(marker)
        return markers

    def rev_Assign(self, stmt: Any, out: list) -> None:
        op = stmt.op
        target = assigned_name(stmt)
        self.current_target = target
        code: list = []
        if self.act.is_active(target) and self.get(target) != ZERO \
                and op.kind not in ("const", "unknown"):
            handler = getattr(self, "adjoint_" + op.kind)
            handler(stmt, op, target, code)
        elif self.act.is_active(target):
            self.set_state(target, ZERO)
        self.emit_block(stmt, code, out)

    # contributions ------------------------------------------------------------------
    def with_guard(self, target: str, build: Any, code: list) -> None:
        """Run ``build(code)`` unguarded for a live adjoint, inside ``if b is not None`` else."""
        if self.get(target) == LIVE:
            build(code)
            return
        # build changes the state in place and notes the states it overwrote: the join
        # looks at those names only, and no state is copied (in a loop nearly every
        # adjoint comes here)
        self.overwritten = before = {}
        inner: list = []
        try:
            build(inner)
        finally:
            self.overwritten = None
        if not inner:
            return      # nothing flows anywhere: the consumed adjoint is simply dropped
        other: list = []
        self.join([self.state, before], [inner, other], before)
        if self.dry:
            return
        code.append(gast.If(test=_is_not_none(self.adj(target)), body=inner, orelse=other))

    def finish(self, target: str, contributions: list, code: list, stmt: Any) -> None:
        """Accumulate ``[(name, expr, may_be_none)]``; the target's adjoint is consumed."""
        if len(contributions) > 1:      # (most operations give one: nothing to combine)
            contributions = self.combine(target, contributions, code)
        self.set_state(target, ZERO)
        for var, expr, maybe in contributions:
            if isinstance(var, tuple):       # a sequence literal argument: one per element
                self.spread(var[1], expr, code)
                continue
            if self.is_container(var) and not maybe:
                if self.dry:
                    self.set_state(var, LIVE)
                    code.append(expr)
                    continue
                value = _call(self.ns.bind("seq_add_all", _support("seq_add_all")),
                              [name(self.adj(var)) if self.get(var) != ZERO else const(None),
                               expr])
                code.append(assign(self.adj(var), value, None))
                self.set_state(var, LIVE)
                continue
            self.accumulate(var, expr, code, may_be_none=maybe)

    def combine(self, target: str, contributions: list, code: list) -> list:
        """Several contributions of one operation, merged per name, staged and ordered."""
        # several contributions to one adjoint become one sum: `bx = c1 + c2`
        merged: list = []
        for var, expr, maybe in contributions:
            previous = next((k for k, c in enumerate(merged)
                             if c[0] == var and isinstance(var, str) and not c[2] and not maybe
                             and not self.is_seq(var)), None)
            if previous is None:
                merged.append((var, expr, maybe))
            else:
                _, first, _ = merged[previous]
                if self.dry:
                    total = first
                elif gast.dump(first) == gast.dump(expr):
                    total = _doubled(first)         # `h * h`: 2 * g * h, not g * h + g * h
                else:
                    total = gast.BinOp(left=first, op=gast.Add(), right=expr)
                merged[previous] = (var, total, False)
        contributions = merged
        receivers = [n for n, _, _ in contributions]
        if receivers.count(target) > 1:
            # several contributions read the adjoint they update: compute them first
            staged = []
            for var, expr, maybe in contributions:
                if var == target:
                    tmp = self.namer.fresh("t" + self.adj(target))
                    code.append(assign(tmp, expr, None))
                    expr = name(tmp)
                staged.append((var, expr, maybe))
            contributions = staged
        # the target's own contribution reads its adjoint: accumulate it last
        return [c for c in contributions if c[0] != target] + \
            [c for c in contributions if c[0] == target]

    def spread(self, elts: list, expr: Any, code: list) -> None:
        """Give each element of a list literal its entry of ``expr`` (nested literals too)."""
        tmp = self.namer.fresh("cotangents")
        code.append(assign(tmp, expr, None))
        for k, elt in enumerate(elts):
            item = gast.Subscript(value=name(tmp), slice=const(k), ctx=gast.Load())
            if isinstance(elt, (gast.List, gast.Tuple)):
                if any(self.act.is_active(n) for n in arg_names(elt)):
                    self.spread(elt.elts, item, code)
            elif isinstance(elt, gast.Name) and self.act.is_active(elt.id):
                self.accumulate(elt.id, item, code)

    def adjoint_linear(self, stmt: Any, op: Any, target: str, code: list) -> None:
        self.refuse_generated(stmt)

    def adjoint_pop(self, stmt: Any, op: Any, target: str, code: list) -> None:
        self.refuse_generated(stmt)

    def refuse_generated(self, stmt: Any) -> None:
        self.refuse_generated_function(self.fn.parsed, stmt)

    @staticmethod
    def refuse_generated_function(parsed: Any, stmt: Any) -> None:
        """Reverse mode over generated derivative code is not supported: say what is."""
        from ..errors import GeneratedCodeError

        error = parsed.error(
            getattr(stmt, "origin", stmt), "reverse mode through generated derivative code",
            "Second derivatives run forward-over-reverse: use srcgrad.hvp, srcgrad.hessian, "
            "srcgrad.jvp of the gradient, or srcgrad.grad (which does so by itself).")
        raise GeneratedCodeError(error.construct, error.hint, error.filename, error.lineno,
                                 error.col_offset, error.line)

    def adjoint_copy(self, stmt: Any, op: Any, target: str, code: list) -> None:
        source = op.args[0].id
        if not self.act.is_active(source):
            self.set_state(target, ZERO)
            return
        b = name(self.adj(target))
        maybe = self.get(target) == MAYBE
        if self.is_seq(source) or self.is_seq(target):
            maybe = True
        self.finish(target, [(source, b, maybe)], code, stmt)

    def adjoint_prim(self, stmt: Any, op: Any, target: str, code: list) -> None:
        rule = op.rule
        positions_ = differentiable_positions(op)
        g: Any = name(self.adj(target))
        if output_count(op) > 1 or self.is_seq(target):
            # several outputs, or one list (np.split) taken apart: the rule wants one
            # cotangent per item, the sweep kept them by index
            g = _call(self.ns.bind("seq_cotangent", _support("seq_cotangent")),
                      [g, name(target)])
        old_name = None
        args = list(op.args)
        kwargs = dict(op.kwargs)
        dry = self.dry
        # (the differentiable positions are among the operands)
        if not dry and _reads(op.operands(), target):
            old_name = self.namer.fresh(target + "_prev")
            if target in self.scalars:
                self.scalars.add(old_name)
            args = [_rename(a, target, old_name) for a in args]
            kwargs = {k: _rename(v, target, old_name) for k, v in kwargs.items()}

        def build(inner: list) -> None:
            contributions = []
            for pos in sorted(positions_):
                arg = positions_[pos]
                active = [n for n in arg_names(arg) if self.act.is_active(n)]
                if not active:
                    continue
                if dry:
                    expr = g        # (states do not depend on the contribution's value)
                else:
                    cotangent = name(g.id) if g.__class__ is _NAME else clone(g)
                    expr = instantiate(rule.vjps[pos], cotangent, name(target), args, kwargs,
                                       self.ns, self.hoister(inner))
                    expr = self.simplify_rule(expr, op, pos)
                if isinstance(arg, gast.Name):
                    contributions.append((arg.id, expr, False))
                elif isinstance(arg, (gast.List, gast.Tuple)):
                    contributions.append((("seq", arg.elts), expr, False))
                else:
                    raise self.fn.parsed.error(getattr(stmt, "origin", stmt),
                                               "a derivative through a compound argument")
            self.finish(target, contributions, inner, stmt)

        self.with_guard(target, build, code)
        if old_name is not None:
            self.resolve_old(stmt, target, old_name, code)

    def resolve_old(self, stmt: Any, target: str, old_name: str, code: list) -> None:
        """The adjoint of ``v = f(v)`` reads the old ``v``: pop it before, as ``old_name``."""
        names = [n for c in code for n in name_nodes(c)]
        if not any(n.id == old_name for n in names):
            return
        uses_new = any(n.id == target and isinstance(n.ctx, gast.Load) for n in names)
        save = self.saves.setdefault((id(stmt), target), Save(stmt, target))
        save.forced = True
        marker = _Marker()
        if uses_new:
            save.markers.append((marker, old_name))
            code.insert(0, marker)
            code.append(assign(target, name(old_name), None))
            stmt.restored_in_block = True
        else:
            for n in names:
                if n.id == old_name:
                    n.id = target
            save.markers.append((marker, target))
            code.insert(0, marker)
            stmt.restored_in_block = True
        self.reads.append(Read(target, stmt, before=True))

    def simplify_rule(self, expr: Any, op: Any, pos: Any) -> Any:
        return simplify_contribution(expr, op, pos, self)

    def adjoint_pack(self, stmt: Any, op: Any, target: str, code: list) -> None:
        b = self.adj(target)

        def build(inner: list) -> None:
            contributions = []
            keys = op.node.keys if isinstance(op.node, gast.Dict) else None
            for k, elt in enumerate(op.args):
                if isinstance(elt, gast.Name) and self.act.is_active(elt.id):
                    # a dict's adjoint is the cotangent of its keys (a tree like it)
                    helper = "seq_get" if keys is None else "key_get"
                    get = _call(self.ns.bind(helper, _support(helper)),
                                [name(b), const(k) if keys is None else clone(keys[k])])
                    contributions.append((elt.id, get, True))
            self.finish(target, contributions, inner, stmt)
        self.with_guard(target, build, code)

    def adjoint_item(self, stmt: Any, op: Any, target: str, code: list) -> None:
        seq, index = op.args
        if not (isinstance(seq, gast.Name) and self.act.is_active(seq.id)):
            self.set_state(target, ZERO)
            return
        b = self.adj(target)

        def build(inner: list) -> None:
            if self.dry:
                inner.append(None)      # (a dry trial keeps states only)
            else:
                bs = self.adj(seq.id)
                current = name(bs) if self.get(seq.id) != ZERO else const(None)
                value = _call(self.ns.bind("seq_add", _support("seq_add")),
                              [current, clone(index), name(b),
                               _call(self.builtin("len"), [name(seq.id)])])
                inner.append(assign(bs, value, None))
            self.set_state(target, ZERO)
            self.set_state(seq.id, LIVE)
        self.with_guard(target, build, code)

    def insert_complex_guards(self, body: list) -> None:
        """Before each active call of a real-only rule: refuse complex operands (forward sweep)."""
        i = 0
        while i < len(body):
            stmt = body[i]
            for attr in ("body", "orelse"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list):
                    self.insert_complex_guards(inner)
            op = getattr(stmt, "op", None)
            if isinstance(stmt, gast.Assign) and op is not None and op.kind == "prim" \
                    and self.act.is_active(assigned_name(stmt)):
                guard = self.complex_guard(op, op.args, op.kwargs)
                if guard is not None:
                    body.insert(i, guard)
                    i += 1
            i += 1

    def prepare_calls(self, body: list) -> None:
        """Active calls to user functions call their compiled VJP and keep its pullback."""
        for stmt in statements(body):
            op = getattr(stmt, "op", None)
            if not isinstance(stmt, gast.Assign) or op is None or op.kind != "user":
                continue
            target = stmt.targets[0].id
            if not self.act.is_active(target):
                continue
            fn = op.fn
            origin = getattr(stmt, "origin", stmt)
            argnums, receivers = bind_call(
                fn, op, self.act.is_active,
                lambda construct, hint, origin=origin: self.fn.parsed.error(origin, construct,
                                                                            hint))
            if not argnums:
                continue
            compiled_name, pullback_fn = self.compile_callee(fn, tuple(argnums), stmt)
            pullback = self.namer.fresh(fn.__name__ + "_saved")
            stmt.primary = target
            stmt.targets = [gast.Tuple(elts=[store(target), store(pullback)], ctx=gast.Store())]
            stmt.value = gast.Call(func=name(compiled_name), args=op.args,
                                   keywords=[gast.keyword(arg=k, value=v)
                                             for k, v in op.kwargs.items()])
            stmt.extra_targets = (pullback,)
            stmt.receivers = receivers
            stmt.pullback = pullback
            stmt.pullback_fn = pullback_fn
            self.primal.add(pullback)

    def adjoint_setlist(self, stmt: Any, op: Any, target: str, code: list) -> None:
        """``xs = setitem_list(xs_old, i, v)``: ``v`` gets entry ``i``, ``xs_old`` the rest."""
        seq, index, item = op.args
        b = self.adj(target)

        def build(inner: list) -> None:
            contributions = []
            length = _call(self.builtin("len"), [name(target)])
            if isinstance(item, gast.Name) and self.act.is_active(item.id):
                get = _call(self.ns.bind("seq_get", _support("seq_get")),
                            [name(b), clone(index), clone(length)])
                contributions.append((item.id, get, True))
            if isinstance(seq, gast.Name) and self.act.is_active(seq.id):
                rest = _call(self.ns.bind("seq_without", _support("seq_without")),
                             [name(b), clone(index), clone(length)])
                contributions.append((seq.id, rest, True))
            self.finish(target, contributions, inner, stmt)
        self.with_guard(target, build, code)

    def adjoint_concat(self, stmt: Any, op: Any, target: str, code: list) -> None:
        """``c = a + b`` on lists: ``a`` gets the first ``len(a)`` entries, ``b`` the rest."""
        a, b = op.args
        bt = self.adj(target)
        # len(a) from values that hold after the statement (a or b may be c itself)
        if isinstance(a, gast.Name) and a.id == target:
            if isinstance(b, gast.Name) and b.id == target:
                head = gast.BinOp(left=_call("len", [name(target)]), op=gast.FloorDiv(),
                                  right=const(2))
            else:
                head = gast.BinOp(left=_call("len", [name(target)]), op=gast.Sub(),
                                  right=_call("len", [clone(b)]))
        else:
            head = _call("len", [clone(a)])

        def build(inner: list) -> None:
            contributions = []
            for arg, helper in ((a, "seq_head"), (b, "seq_tail")):
                if isinstance(arg, gast.Name) and self.act.is_active(arg.id):
                    part = _call(self.ns.bind(helper, _support(helper)), [name(bt), clone(head)])
                    if not self.is_container(arg.id):
                        # a list argument of the function: one cotangent per item
                        part = _call(self.ns.bind("seq_cotangent", _support("seq_cotangent")),
                                     [part, name(arg.id)])
                    contributions.append((arg.id, part, True))
            self.finish(target, contributions, inner, stmt)
        self.with_guard(target, build, code)

    def adjoint_repeat(self, stmt: Any, op: Any, target: str, code: list) -> None:
        raise self.fn.parsed.error(getattr(stmt, "origin", stmt),
                                   "repeating a list or tuple that carries a derivative (* n)",
                                   "Build the list with a comprehension or a loop.")

    def adjoint_user(self, stmt: Any, op: Any, target: str, code: list) -> None:
        receivers = getattr(stmt, "receivers", None)
        if not receivers:
            self.set_state(target, ZERO)
            return
        b = self.adj(target)
        fname = op.fn.__name__

        def build(inner: list) -> None:
            temps = [self.namer.fresh("b" + r + "_" + fname) for r in receivers]
            call = gast.Call(func=name(stmt.pullback_fn), args=[name(b), name(stmt.pullback)],
                             keywords=[])
            inner.append(gast.Assign(targets=[gast.Tuple(elts=[store(t) for t in temps],
                                                         ctx=gast.Store())],
                                     value=call, type_comment=None))
            contributions = []
            live = self.live_grads.get(stmt.pullback_fn, ())
            for k, (r, t) in enumerate(zip(receivers, temps, strict=True)):
                value: Any = name(t)
                if self.is_container(r):
                    # the callee gives one cotangent per item: the sweep keeps them by index
                    value = _call(self.ns.bind("as_seq_adjoint", _support("as_seq_adjoint")),
                                  [value])
                # (a cotangent the callee proves is never None needs no ``is None`` test)
                maybe_none = self.is_container(r) or not (k < len(live) and live[k])
                contributions.append((r, value, maybe_none))
            self.finish(target, contributions, inner, stmt)
        self.with_guard(target, build, code)

    # control flow ---------------------------------------------------------------------
    def rev_If(self, stmt: Any, out: list) -> None:
        before = dict(self.state)
        body = self.block(stmt.body)
        after_body = dict(self.state)
        self.state = dict(before)
        orelse = self.block(stmt.orelse)
        after_else = dict(self.state)
        self.merge([after_body, after_else], [body, orelse])
        if not body and not orelse:
            return
        node = gast.If(test=clone(stmt.test), body=body, orelse=orelse)
        node.is_control = True
        self.record_reads([node.test], stmt)
        out.append(node)

    def rev_For(self, stmt: Any, out: list) -> None:
        header = clone(stmt.iter)
        counter = getattr(stmt, "counter_name", None)
        if counter is not None:
            header = gast.Subscript(value=header, slice=gast.Slice(lower=None,
                                                                   upper=name(counter),
                                                                   step=None),
                                    ctx=gast.Load())
        header = _call(self.builtin("reversed"), [header])
        body = self.loop_body(stmt, out)
        if body is None:
            return
        self.record_reads([header], stmt)
        node = gast.For(target=clone(stmt.target), iter=header, body=body, orelse=[],
                        type_comment=None)
        node.is_control = True
        self.loop_nodes[id(stmt)] = stmt
        self.reverse_loops[id(stmt)] = node
        out.append(node)

    def rev_While(self, stmt: Any, out: list) -> None:
        counter = getattr(stmt, "counter_name", None)
        if counter is None:
            return
        body = self.loop_body(stmt, out)
        if body is None:
            return
        node = gast.For(target=store("_"), iter=_call(self.builtin("range"), [name(counter)]),
                        body=body, orelse=[], type_comment=None)
        node.is_control = True
        self.record_reads([node.iter], stmt)
        out.append(node)

    def snapshot(self) -> tuple:
        return (len(self.reads), dict(self.saves), super().snapshot())

    def restore(self, saved: tuple) -> None:
        reads, saves, base = saved
        self.reads = self.reads[:reads]
        self.saves = dict(saves)
        super().restore(base)

    # -- forward bookkeeping ------------------------------------------------------------
    def add_counters(self, body: list) -> None:
        """Loops that may stop early count their iterations for the reverse sweep."""
        for index in range(len(body) - 1, -1, -1):
            stmt = body[index]
            for attr in ("body", "orelse"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list):
                    self.add_counters(inner)
            if isinstance(stmt, gast.While) or (isinstance(stmt, gast.For)
                                                and getattr(stmt, "break_flag", None)):
                counter = self.namer.fresh("n_iter")
                stmt.counter_name = counter
                self.primal.add(counter)
                init = assign(counter, const(0), getattr(stmt, "origin", None))
                increment = assign(counter, gast.BinOp(left=name(counter), op=gast.Add(),
                                                       right=const(1)), None)
                init.op = Operation("const", init.value)
                increment.op = Operation("const", increment.value)
                increment.counter = True
                stmt.body.insert(0, increment)
                body.insert(index, init)

    def recompute(self, save: Save, where: tuple, pos: dict, reads: list[Read],
                  immutable: set[str]) -> bool:
        """Recompute a cheap loop value in the reverse iteration instead of saving it.

        ``row = xs[t]`` in ``for t in range(n)``: if ``xs`` never changes and the
        reverse sweep reads ``row`` only in the same iteration, after this
        statement, the reverse loop recomputes ``row = xs[t]`` at the start of
        its body and nothing is saved.
        """
        stmt = save.stmt
        loops = where[1]
        if not loops or getattr(stmt, "primary", None) is not None:
            return False
        op = getattr(stmt, "op", None)
        if op is None or not isinstance(stmt, gast.Assign) or not (
                isinstance(stmt.value, gast.Subscript)
                or (isinstance(stmt.value, gast.Attribute) and stmt.value.attr == "T")):
            return False
        loop_id = loops[-1]
        loop = self.loop_nodes.get(loop_id)
        reverse_loop = self.reverse_loops.get(loop_id)
        if loop is None or reverse_loop is None or not isinstance(loop, gast.For):
            return False
        allowed = immutable | {loop.target.id}
        if any(n not in allowed for n in arg_names(stmt.value)):
            return False
        path = where[0]
        loop_path = pos[loop_id][0]
        for r in reads:
            src = pos.get(id(r.stmt))
            if r.before or src is None or src[0][:len(loop_path)] != loop_path \
                    or not src[0] > path or src[1] != loops:
                return False
        reverse_loop.body.insert(0, assign(save.target, clone(stmt.value), None))
        return True

    def _shape_only(self, loads: list[tuple[Any, bool]]) -> set[str]:
        """The primal names that ``loads`` (``(node, shape)``) read only for their shape."""
        primal = self.primal
        only: dict[str, bool] = {}
        for node, shape in loads:
            if node.id in primal:
                only[node.id] = only.get(node.id, True) and shape
        return {v for v, shape in only.items() if shape}

    def share_shapes(self, body: list, unrecorded: list) -> set[str]:
        """Read a shape-only value's shape from the value it was computed from.

        ``t = h * h`` has ``h``'s shape, so ``expand_reduced(g, t)`` can read
        ``h`` instead, where ``h`` still holds the value ``t`` was computed from
        and reading it there saves nothing more; ``t`` then need not be kept.
        Returns the primal names the reverse code still reads only for their shape:
        the code the sweep wrote (its reads recorded) and ``unrecorded``.
        """
        # (a read's node is renamed below: these pairs follow it)
        loaded = [(r.node, r.shape) for r in self.reads if r.node is not None]
        loaded += _loads(gast.Module(body=unrecorded, type_ignores=[]), self.ns.values,
                         self.primal)
        shape_only = self._shape_only(loaded)
        if not shape_only:
            return shape_only
        pos = positions(body)
        where: dict[int, tuple[list, int]] = {}
        defs: dict[str, list] = {}

        blocks = [body]         # (a worklist: a recursive closure would be a reference cycle)
        while blocks:
            stmts = blocks.pop()
            for k, st in enumerate(stmts):
                where[id(st)] = (stmts, k)
                for sub in target_names(st):
                    if isinstance(sub.ctx, gast.Store):
                        defs.setdefault(sub.id, []).append(st)
                for attr in ("body", "orelse"):
                    inner = getattr(st, attr, None)
                    if isinstance(inner, list):
                        blocks.append(inner)
        params = set(self.fn.params) | set(self.fn.kwonly)
        loads_of: dict[str, set[int]] = {}      # name -> ids of the Name nodes loading it
        for n, _ in loaded:
            loads_of.setdefault(n.id, set()).add(id(n))
        reads_of: dict[str, list[Read]] = {}
        for r in self.reads:
            reads_of.setdefault(r.name, []).append(r)
        moved_any = False
        for v in sorted(shape_only):
            stmts = defs.get(v, [])
            if v in params or len(stmts) != 1 or id(stmts[0]) not in pos:
                continue
            source = _shape_source(stmts[0], v)
            if source is None:
                continue
            reads = reads_of.get(v, [])
            loads = set(loads_of.get(v, ()))
            if not reads or {id(r.node) for r in reads} != loads or len(reads) != len(loads):
                continue
            if not all(self.unchanged_between(source, stmts[0], r, pos, where) for r in reads):
                continue
            moved = [Read(source, r.stmt, r.before, r.node, r.shape) for r in reads]
            if not self.free_reads(source, moved, pos, defs.get(source, []),
                                   reads_of.get(source, [])):
                continue
            for r in reads:
                r.node.id = source
                if id(r.node) in loads_of.get(v, ()):
                    loads_of[v].discard(id(r.node))
                    loads_of.setdefault(source, set()).add(id(r.node))
            # (as a list: the reads of other names in their order, then the moved ones)
            self.reads = [r for r in self.reads if r.name != v] + moved
            del reads_of[v]
            reads_of.setdefault(source, []).extend(moved)
            moved_any = True
        return self._shape_only(loaded) if moved_any else shape_only

    @staticmethod
    def unchanged_between(u: str, first: Any, read: Read, pos: dict, where: dict) -> bool:
        """Does ``u`` hold, at ``read``, the value it had when ``first`` ran?"""
        if id(read.stmt) not in pos or id(first) not in where:
            return False
        p1, p2 = pos[id(first)][0], pos[id(read.stmt)][0]
        depth = len(p1) - 1
        if len(p2) <= depth or p2[:depth] != p1[:depth]:
            return False
        block, i1 = where[id(first)]
        i2 = p2[depth]
        if i2 < i1:
            return False
        if i2 == i1:
            return read.stmt is first and not read.before
        between = block[i1 + 1:i2 + 1]
        if read.before and block[i2] is read.stmt:
            between = block[i1 + 1:i2]
        return not any(n.id == u and isinstance(n.ctx, gast.Store)
                       for st in statements(between) for n in target_names(st))

    def free_reads(self, u: str, moved: list[Read], pos: dict, definitions: list,
                   existing: list[Read]) -> bool:
        """Would reading ``u`` at ``moved`` leave what the loops save unchanged, given its
        ``existing`` reads?"""
        saves = [s for s in self.saves.values() if s.target == u]
        if len(saves) != len({id(st) for st in definitions}):
            return False

        def needs(save: Save, reads: list[Read]) -> bool:
            at = pos.get(id(save.stmt))
            if at is None:
                return False
            for r in reads:
                src = pos.get(id(r.stmt))
                if src is not None and reachable(src, at, strictly_after=not r.before):
                    return True
            return False

        return all(getattr(s, "forced", False) or needs(s, existing) or not needs(s, moved)
                   for s in saves)

    def place_saves(self, body: list, shape_only: set[str] = frozenset()) -> list:
        """Decide which overwrites must be saved; insert pushes, turn markers into pops."""
        pos = positions(body)
        param_like = set(self.fn.params) | set(self.fn.kwonly)
        top_defs: dict[str, list[int]] = {}     # definitions that surely ran
        for index, stmt in enumerate(body):
            t = assigned_name(stmt)
            if t is not None:
                top_defs.setdefault(t, []).append(index)
        # names bound once, before any loop reads them: parameters never assigned,
        # and top-level assignments (top-level redefinitions got fresh names)
        top_level = {id(st) for st in body}
        nested = {assigned_name(st) for st in statements(body) if id(st) not in top_level}
        immutable = (param_like | set(top_defs)) - nested - {
            st.target.id for st in statements(body) if isinstance(st, gast.For)}
        reads_by_name: dict[str, list[Read]] = {}
        for r in self.reads:
            reads_by_name.setdefault(r.name, []).append(r)
        inserts: dict[int, list] = {}
        for _key, save in list(self.saves.items()):
            stmt, target = save.stmt, save.target
            where = pos.get(id(stmt))
            needed = getattr(save, "forced", False)
            if where is not None and not needed:
                for r in reads_by_name.get(target, []):
                    src = pos.get(id(r.stmt))
                    if src is None:
                        continue
                    if reachable(src, where, strictly_after=not r.before):
                        needed = True
                        break
            needed = needed and where is not None
            if needed and not getattr(save, "forced", False) and self.recompute(
                    save, where, pos, reads_by_name.get(target, []), immutable):
                needed = False
            if not needed:
                for marker, _ in save.markers:
                    marker.replace_with = []
                continue
            stack = self.stacks.get(target)
            if stack is None:
                if target in shape_only:
                    # the reverse sweep only reads its shape: keep that, not the array
                    stack = self.namer.fresh(target + "_shapes")
                    self.shape_stacks.add(stack)
                else:
                    stack = self.namer.fresh(target + "_stack")
                self.stacks[target] = stack
            saved: Any = name(target)
            inserts.setdefault(id(stmt), []).append(
                _expr_stmt(_attr_call(stack, "append", [saved])))
            for marker, into in save.markers:
                marker.replace_with = [assign(into, _attr_call(stack, "pop", []), None)]
            if target not in param_like:
                top = where[0][0]
                defined_before = any(i < top for i in top_defs.get(target, ()))
                if not defined_before and target not in self.none_init:
                    self.none_init.append(target)
        return inserts


_SHAPE_READERS: dict = {}


def _shape_readers() -> dict:
    """Helpers that read only the shape of one argument: ``{helper: position}``."""
    if not _SHAPE_READERS:
        from ..rules._shape_helpers import reduced_count
        from ..runtime import expand_reduced, unbroadcast

        _SHAPE_READERS.update({unbroadcast: 1, expand_reduced: 1, reduced_count: 0})
    return _SHAPE_READERS


def _loads(node: Any, values: dict, names: set[str]) -> list[tuple[Any, bool]]:
    """``(name, shape)`` for each ``Name`` node of a gast tree loading one of ``names``:
    does a helper read only the shape of its value there (``unbroadcast(g, v)``)?

    (:func:`name_nodes`' walk, looking at calls too: a call comes before its arguments.)
    """
    loads: list = []
    shape_args: set[int] = set()
    stack = [node]
    pop, push, extend, keep = stack.pop, stack.append, stack.extend, loads.append
    fields_of = _CHILD_FIELDS
    name_class, call_class, ast_class, list_class = gast.Name, gast.Call, gast.AST, list
    load_class = gast.Load
    while stack:
        current = pop()
        cls = current.__class__
        if cls is name_class:
            if current.id in names and current.ctx.__class__ is load_class:
                keep((current, id(current) in shape_args))
            if getattr(current, "annotation", None) is None:
                continue        # (nothing else under a Name but its context)
        elif cls is call_class:
            arg = shape_argument(current, values)
            if arg is not None:
                shape_args.add(id(arg))
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
    return loads


def shape_argument(node: Any, values: dict) -> Any:
    """The argument of a helper call that the helper reads only the shape of, or None."""
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)):
        return None
    fn = values.get(node.func.id)
    if fn is None:
        return None
    try:
        position = (_SHAPE_READERS or _shape_readers()).get(fn)
    except TypeError:       # (an unhashable value is no helper)
        return None
    if position is None or position >= len(node.args) or node.keywords:
        return None
    if fn.__name__ == "reduced_count" and len(node.args) > 2 and not (
            isinstance(node.args[2], gast.Constant) and node.args[2].value is True):
        return None        # a ``where`` mask: the count reads more than the shape
    if fn.__name__ == "unbroadcast" and len(node.args) != 2:
        return None
    arg = node.args[position]
    return arg if isinstance(arg, gast.Name) else None


_SAME_SHAPE_BINARY = {operator.mul, operator.truediv, operator.sub, operator.pow}


def _shape_source(stmt: Any, target: str) -> str | None:
    """The name whose shape ``target`` (assigned by ``stmt``) always has, or None.

    Elementwise arithmetic on one name and numbers: ``h * h``, ``x ** 2``,
    ``-x``, ``x + 1.0``.  (``u + u`` and ``u * 2`` are left out: on a list they
    concatenate or repeat.)
    """
    op = getattr(stmt, "op", None)
    if not isinstance(stmt, gast.Assign) or op is None or op.kind != "prim" or op.kwargs \
            or getattr(stmt, "primary", None) is not None or assigned_name(stmt) != target:
        return None
    names = {a.id for a in op.args if isinstance(a, gast.Name)}
    numbers = [a for a in op.args if isinstance(a, gast.Constant)
               and isinstance(a.value, (int, float)) and not isinstance(a.value, bool)]
    if len(names) != 1 or len(numbers) + sum(isinstance(a, gast.Name) for a in op.args) \
            != len(op.args):
        return None
    source = names.pop()
    if source == target:
        return None
    fn = op.fn
    if fn in (operator.neg, operator.pos) and len(op.args) == 1:
        return source
    if len(op.args) != 2:
        return None
    if fn in _SAME_SHAPE_BINARY:
        if fn is operator.mul and any(isinstance(c.value, int) for c in numbers):
            return None
        return source
    if fn is operator.add and len(numbers) == 1:
        return source
    return None


def _support(fname: str) -> Any:
    from . import support

    return getattr(support, fname)


def _rename(expr: Any, old: str, new: str) -> Any:
    expr = clone(expr)
    for sub in name_nodes(expr):
        if isinstance(sub, gast.Name) and sub.id == old:
            sub.id = new
    return expr


def _doubled(expr: Any) -> Any:
    """``2 * expr``, the 2 multiplied into the first factor of a product (``2 * g * h``)."""
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Mult):
        return gast.BinOp(left=_doubled(expr.left), op=gast.Mult(), right=expr.right)
    return gast.BinOp(left=const(2), op=gast.Mult(), right=expr)


def _cheap(expr: Any) -> bool:
    return isinstance(expr, (gast.Name, gast.Constant))
