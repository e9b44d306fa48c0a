"""What the reverse and the forward sweep share: derivative names, their static
states, branch merges, loop fixpoints, inlined rules and call bindings.

Both sweeps walk the normalized function statement by statement and write
derivative code: adjoints ``b<name>`` backwards (:mod:`.reverse`), tangents
``d<name>`` forwards (:mod:`.forward`).  A derivative variable carries a
static state: ``ZERO`` (nothing flowed in: no code reads or builds it),
``LIVE`` (holds a value) or ``MAYBE`` (may be ``None`` at run time, where
branches or loop iterations disagree).  The two modes differ in the rule they
inline (VJP or JVP) and in the order they visit statements, not in how they
track these states.
"""

from __future__ import annotations

import builtins
import inspect
from typing import Any

import gast

from ..rules.registry import refuse_complex
from .analyze import Activity, target_names
from .names import Namer, Namespace
from .normalize import (
    SIMPLE_STATEMENTS,
    NormalizedFunction,
    assign,
    call,
    clone,
    const,
    name,
    statements,
)
from .shapes import ShapeFacts

__all__ = ["Sweep", "ZERO", "LIVE", "MAYBE", "comment", "bind_call"]

ZERO, LIVE, MAYBE = "zero", "live", "maybe"


def comment(text: str) -> Any:
    """A statement the emitter prints as ``# text``."""
    node = gast.Expr(value=call(name("__comment__"), [const(text)]))
    node.is_comment = True
    return node


class Sweep:
    """Derivative variables and their states, for one transformed function."""

    prefix = "b"                    # adjoints b<name>; tangents d<name>
    comment_label = "grad of"
    dry_trials = False              # does the sweep know dry trial sweeps (see loop_body)?

    def __init__(self, fn: NormalizedFunction, activity: Activity, namespace: Namespace,
                 namer: Namer, compile_callee: Any, scalar: bool = False) -> None:
        self.fn = fn
        self.act = activity
        self.ns = namespace
        self.namer = namer
        self.compile_callee = compile_callee
        self.adjoints: dict[str, str] = {}      # name -> its derivative's name
        self.state: dict[str, str] = {}
        self.kinds = fn.kinds
        self.scalar = scalar
        self.scalars: set[str] = set()
        # read as the sweep goes: names the sweep learns are 0-d count too
        self.shapes = ShapeFacts(fn, self.is_scalar, namespace.bind, all_scalar=scalar)
        self.primal = set(fn.params) | set(fn.kwonly)
        for stmt in statements(fn.body):
            for node in target_names(stmt):
                if isinstance(node.ctx, gast.Store):
                    self.primal.add(node.id)
        self.current: Any = None
        # in a dry trial sweep of a loop body: track states, build no derivative code
        self.dry = False

    def complex_guard(self, op: Any, args: list, kwargs: dict) -> Any:
        """``refuse_complex(<primitive>, <operands>)`` for a rule not declared ``complex``.

        Generated code refuses complex operands of a real-only rule where it
        differentiates the call, as the tape does where it records it; ``None`` for
        rules that are right on complex values.
        """
        rule = op.rule
        if rule is None or rule.complex or not rule.differentiable:
            return None
        operands = [clone(a) for a in [*args, *kwargs.values()]
                    if not (isinstance(a, gast.Constant) and type(a.value) is not complex)]
        if not operands:
            return None
        fn = self.ns.bind("refuse_complex", refuse_complex)
        return gast.Expr(value=gast.Call(func=name(fn), args=[const(rule.name), *operands],
                                         keywords=[]))

    # -- names and states -------------------------------------------------------------
    def adj(self, var: str) -> str:
        """The name of ``var``'s derivative (adjoint or tangent)."""
        if var not in self.adjoints:
            self.adjoints[var] = self.namer.fresh(self.prefix + var)
        return self.adjoints[var]

    def get(self, var: str) -> str:
        return self.state.get(var, ZERO)

    def is_container(self, var: str) -> bool:
        """Is ``var`` a list or tuple built in the function?"""
        return self.kinds.get(var) in ("list", "tuple")

    def is_seq(self, var: str) -> bool:
        """Is ``var``'s derivative a sequence (or, for an indexed argument, possibly one)?"""
        return self.kinds.get(var) in ("list", "tuple", "argument")

    def unknown_state(self, var: str) -> str:
        """The state where paths disagree: a scalar zero when all values are scalars."""
        return LIVE if self.scalar and not self.is_seq(var) else MAYBE

    def zero(self, var: str) -> Any:
        """A run-time zero: ``0.0`` for scalar code, else ``None``."""
        return const(0.0) if self.unknown_state(var) == LIVE else const(None)

    def builtin(self, ident: str) -> str:
        """The name generated code calls ``builtins.<ident>`` by (user code may shadow it)."""
        return self.ns.bind(ident, getattr(builtins, ident))

    def is_scalar(self, var: str) -> bool:
        """Is ``var`` a 0-d value at every assignment (always, in the scalar variant)?"""
        return self.scalar or var in self.scalars

    def merge(self, states: list[dict], blocks: list[list], names: Any = None) -> None:
        """Join branch states; a branch that left a derivative at zero sets it to ``None``.

        ``names``: the only names whose states may differ, where the caller knows them.
        """
        first = states[0]
        if names is None:
            # only names whose states differ somewhere need a look: a set difference of
            # the states' items finds them without a pass over every name in Python (a
            # missing name and an explicit ZERO are told apart below)
            names = set()
            for other in states[1:]:
                names.update(_differing(first, other))
        self.state = dict(first)
        self.join(states, blocks, names)

    def join(self, states: list[dict], blocks: list[list], names: Any) -> None:
        """``merge`` into ``self.state`` as it is, looking at ``names`` only (``states[0]``
        may be ``self.state`` itself: each name's states are read before it is set)."""
        state = self.state
        for var in sorted(names):
            values = [s.get(var, ZERO) for s in states]
            value = values[0]
            if values.count(value) == len(values):
                state[var] = value
                continue
            state[var] = self.unknown_state(var)
            if self.dry:
                continue
            for other, block in zip(values, blocks, strict=True):
                if other == ZERO:
                    block.append(assign(self.adj(var), self.zero(var), None))

    def hoister(self, out: list) -> Any:
        """``hoist(expr, hint)``: assign ``expr`` to a fresh name in ``out``, return the name."""
        def hoist(expr: Any, hint: str) -> Any:
            tmp = self.namer.fresh(hint)
            out.append(assign(tmp, expr, None))
            return name(tmp)
        return hoist

    def note(self, stmt: Any, code: list, out: list) -> None:
        """Head a statement's derivative code with ``# <label>: <source line>`` once."""
        origin = getattr(stmt, "origin", None)
        text = self.fn.parsed.source_line(origin) if origin is not None else ""
        if text and _has_code(code) and not _noted(out, id(origin)):
            marker = comment(f"{self.comment_label}: {text}")
            marker.origin_id = id(origin)
            out.append(marker)
        out.extend(code)

    # -- loops -------------------------------------------------------------------------
    def snapshot(self) -> tuple:
        """What one trial sweep of a loop body changes, to undo it before the next trial."""
        return (set(self.namer.taken), dict(self.adjoints), dict(self.ns.values))

    def restore(self, saved: tuple) -> None:
        taken, adjoints, values = saved
        self.namer.taken = set(taken)
        self.adjoints = dict(adjoints)
        self.ns.values = dict(values)

    def loop_body(self, stmt: Any, out: list) -> list | None:
        """The derivative code of one iteration, with states made loop-invariant.

        Sweeps the body until the states at its start and end agree (a name
        whose derivative is zero on entry but not on exit starts as ``None``);
        zero initializations the loop needs go to ``out``, before the loop.

        A sweep with ``dry_trials`` finds those states by dry trial sweeps, which
        track states only and build no derivative expressions, and sweeps once
        more for the code where they agree.  Most loops' states agree after one
        widening: the trial after the first widening builds the code at once,
        and only where the states still disagree does it go on with dry trials.
        (Trials from the same entry states give the same states, dry or not:
        what is built is what trials that all build code would build.)
        """
        outer = dict(self.state)
        entry = dict(self.state)
        saved = self.snapshot()
        outer_dry = self.dry
        dry_trials = self.dry_trials and not outer_dry
        trials = 5
        k = 1                   # the trial's entry states are the k-th tried
        building = not dry_trials
        try:
            while True:
                self.state = dict(entry)
                self.dry = outer_dry or not building
                body = self.block(stmt.body)
                exit_ = self.state
                widened = self.widen(entry, exit_)
                if building and (not widened or k == trials):
                    break
                if widened:
                    k += 1
                # build on a dry trial's agreeing states, after the first widening, and at
                # the last entry states
                building = not dry_trials or not widened or k in (2, trials)
                self.restore(saved)     # (the next trial starts where this one did)
        finally:
            self.dry = outer_dry
        # the state at the end of an iteration must be the state at the start of the next
        for var in _differing(entry, exit_):
            if entry.get(var, ZERO) != ZERO and exit_.get(var, ZERO) == ZERO:
                body.append(assign(self.adj(var), self.zero(var), None))
        self.state = entry
        if not body:
            return None
        for var in _differing(entry, outer):
            if entry.get(var, ZERO) != ZERO and outer.get(var, ZERO) == ZERO:
                out.append(assign(self.adj(var), self.zero(var), None))
        return body

    def widen(self, entry: dict, exit_: dict) -> bool:
        """Raise ``entry`` where one iteration's ``exit_`` state disagrees; did it change?"""
        changed = False
        for var in _differing(entry, exit_):
            a, b = entry.get(var, ZERO), exit_.get(var, ZERO)
            if a == b or a == MAYBE:
                continue
            joined = self.unknown_state(var)
            if joined != a:
                entry[var] = joined
                changed = True
        return changed

    def block(self, stmts: list) -> list:       # pragma: no cover - each sweep has its own
        raise NotImplementedError


class _Slot:
    def __init__(self, node: Any) -> None:
        self.node = node


def bind_call(fn: Any, op: Any, is_active: Any, error: Any) -> tuple[list[int], list[str]]:
    """``(argnums, receivers)``: the callee's positional parameters that get active names.

    ``error(construct, hint)`` builds the exception for a call that cannot be bound or
    passes an active value to a keyword-only parameter.
    """
    try:
        signature = inspect.signature(fn)
        bound = signature.bind(*[_Slot(a) for a in op.args],
                               **{k: _Slot(v) for k, v in op.kwargs.items()})
    except (TypeError, ValueError) as exc:
        raise error(f"a call to {fn.__name__} ({exc})", "") from None
    params = list(signature.parameters)
    argnums, receivers = [], []
    for pname, value in bound.arguments.items():
        if not isinstance(value, _Slot):
            packed = value.values() if isinstance(value, dict) else value
            if any(isinstance(v, _Slot) and isinstance(v.node, gast.Name)
                   and is_active(v.node.id) for v in packed):
                # (bound to *args or **kwargs: no parameter of its own to differentiate)
                raise error(f"a value with a derivative passed to {fn.__name__}'s "
                            f"{'**' if isinstance(value, dict) else '*'}{pname}",
                            "Give the callee a parameter for it.")
            continue
        expr = value.node
        if isinstance(expr, gast.Name) and is_active(expr.id):
            kind = signature.parameters[pname].kind
            if kind not in (inspect.Parameter.POSITIONAL_ONLY,
                            inspect.Parameter.POSITIONAL_OR_KEYWORD):
                raise error("a derivative through a keyword-only argument",
                            "Pass the value positionally.")
            argnums.append(params.index(pname))
            receivers.append(expr.id)
    return argnums, receivers


def _differing(a: dict, b: dict) -> list[str]:
    """The names ``a`` and ``b`` may disagree on, sorted (a missing name is ZERO in either)."""
    return sorted({var for var, _ in a.items() ^ b.items()})


def _noted(out: list, origin_id: int) -> bool:
    """Is ``out``'s last comment the one for ``origin_id``, with only code after it?"""
    for index in range(len(out) - 1, -1, -1):
        node = out[index]
        cls = node.__class__
        # (comments are Expr statements, control statements compound ones: the class
        # spares most statements the slow look-up of an attribute they lack)
        if cls is gast.Expr:
            if getattr(node, "is_comment", False):
                return node.origin_id == origin_id
        elif cls not in SIMPLE_STATEMENTS and getattr(node, "is_control", False):
            return False
    return False


def _has_code(stmts: list) -> bool:
    """Anything besides comments and the reverse sweep's restore markers?"""
    for s in stmts:
        # (an assignment, most code, is neither: no look-up of attributes it lacks)
        if s.__class__ is gast.Assign or not (getattr(s, "is_marker", False)
                                             or getattr(s, "is_comment", False)):
            return True
    return False
