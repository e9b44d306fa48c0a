"""Analyze: which values are active, and where each statement sits.

A name is *active* when it depends on a differentiated argument (it is
*varied*) and the output depends on it (it is *useful*).  Only active values
get adjoints (reverse mode) or tangents (forward mode).  The analysis is per
name and flow-insensitive, which is exact for the straight-line parts (top
level redefinitions got fresh names in normalization) and safe in loops.

The pass also numbers statements (:func:`positions`) so the sweeps can ask
whether one statement can run after another (:func:`reachable`), which is
what deciding what loops must save comes down to.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import gast

from ..errors import NoRuleError, TransformError
from ..rules.registry import missing_derivative_message, missing_derivatives
from ..rules.shape import setitem
from .aliasing import check_writes
from .normalize import SIMPLE_STATEMENTS, NormalizedFunction, is_atom, name_nodes, statements
from .ops import Operation, arg_names, classify, differentiable_positions

__all__ = ["Activity", "analyze", "reanalyze", "statements", "assigned_name", "target_names"]


@dataclass
class Activity:
    varied: set[str] = field(default_factory=set)
    useful: set[str] = field(default_factory=set)

    @property
    def active(self) -> set[str]:
        return self.varied & self.useful

    def is_active(self, name: str) -> bool:
        return name in self.varied and name in self.useful



def assigned_name(stmt: Any) -> str | None:
    primary = getattr(stmt, "primary", None)
    if primary is not None:
        return primary
    if isinstance(stmt, gast.Assign):
        return stmt.targets[0].id
    if getattr(stmt, "op", None) is not None and stmt.op.kind == "append":
        return stmt.op.args[0].id
    return None


def target_names(stmt: Any) -> list:
    """The ``Name`` nodes of ``stmt``'s own assignment targets (a loop's variable too).

    Only targets store, in normalized code and in the code the sweeps write: a
    comprehension becomes a loop, ``:=`` is refused, and a rule template that
    holds either is not inlined.
    """
    if isinstance(stmt, gast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (gast.For, gast.AugAssign, gast.AnnAssign)):
        targets = [stmt.target]
    else:
        return []
    if len(targets) == 1 and targets[0].__class__ is gast.Name:
        return targets          # (the common case, without a walk)
    return [n for target in targets for n in name_nodes(target)]


def attach_operations(fn: NormalizedFunction, stmts: list | None = None) -> None:
    """Classify every assignment and expression statement (``stmt.op``).

    ``stmts``: ``fn``'s statements (:func:`statements`), when the caller has them.
    """
    if stmts is None:
        stmts = list(statements(fn.body))
    locals_ = set(fn.params) | set(fn.kwonly)
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            locals_.add(stmt.targets[0].id)
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            stmt.op = classify(stmt.value, fn.parsed, fn.kinds, locals_)
            if isinstance(stmt.value, gast.Call) and stmt.op.rule is not None:
                stmt.value.pure = True      # a primitive with a rule has no side effects
        elif isinstance(stmt, gast.Expr):
            op = classify(stmt.value, fn.parsed, fn.kinds, locals_)
            if op.kind != "append":
                op = Operation("const", stmt.value)
            stmt.op = op


def mark_sequence_arguments(fn: NormalizedFunction, stmts: list | None = None) -> None:
    """Arguments that are indexed, iterated or passed as sequences may be lists.

    Their adjoints are accumulated with a helper that adds lists item by item.
    ``stmts``: ``fn``'s statements (:func:`statements`), when the caller has them.
    """
    if stmts is None:
        stmts = list(statements(fn.body))
    params = set(fn.params) | set(fn.kwonly)
    # values that may be tuples or lists without the compiler knowing: what a user
    # function returned (``r = pair(a, b)``), an item of a list, and copies of them
    opaque: set[str] = set()
    copies: dict[str, list[str]] = {}       # name -> the names assigned a copy of it
    for stmt in stmts:
        op = getattr(stmt, "op", None)
        if op is None or stmt.__class__ is not gast.Assign:
            continue
        target = assigned_name(stmt)
        if target is None:
            continue
        if op.kind in ("user", "item"):
            opaque.add(target)
        elif op.kind == "copy" and isinstance(op.args[0], gast.Name):
            copies.setdefault(op.args[0].id, []).append(target)
    todo = list(opaque)
    while todo:         # copies of copies, in any order (a loop copies back)
        for copy in copies.get(todo.pop(), ()):
            if copy not in opaque:
                opaque.add(copy)
                todo.append(copy)
    params = params | opaque
    for stmt in stmts:
        op = getattr(stmt, "op", None)
        if op is None or op.kind != "prim":
            continue
        target = assigned_name(stmt)
        if target is not None and not fn.kinds.get(target) and returns_sequence(op):
            # a tuple or list of arrays (eigh, modf, split): adjoints add item by item
            fn.kinds[target] = "argument"
        candidates = []
        if op.fn is operator.getitem:
            candidates.append(op.args[0])
        for pos in op.rule.sequence_argnums:
            if pos < len(op.args):
                candidates.append(op.args[pos])
        for c in candidates:
            if isinstance(c, gast.Name) and c.id in params and not fn.kinds.get(c.id):
                fn.kinds[c.id] = "argument"


def returns_sequence(op: Operation) -> bool:
    """Does the primitive return a tuple or list of arrays?"""
    return output_count(op) > 1 or op.fn in _sequence_results()


def output_count(op: Operation) -> int:
    """How many outputs the primitive call returns (its arguments may choose)."""
    return op.rule.outputs if op.outputs is None else op.outputs


@functools.cache
def _sequence_results() -> frozenset:
    import numpy as np

    names = ("split", "array_split", "hsplit", "vsplit", "dsplit", "unstack", "meshgrid",
             "broadcast_arrays")
    return frozenset(getattr(np, n) for n in names if hasattr(np, n))


def analyze(fn: NormalizedFunction, wrt: list[str], outputs: list[str],
            callee: bool = False, generated: bool = False, mode: str = "vjp") -> Activity:
    """Activity of every name.

    Refuses changes in place of lists the function does not own, and of arrays
    others could see (``callee``: the function is called from other generated
    code, whose arrays it must not change), except in srcgrad's own derivative
    code (``generated``), which changes nothing in place but its own stacks.
    Refuses a varied value reaching an argument of a primitive that has no
    derivative for it in ``mode`` ("vjp": reverse, "jvp": forward) and does not
    declare it inert.
    """
    from .lists import check_list_changes

    stmts = list(statements(fn.body))      # (the passes below change no statement list)
    attach_operations(fn, stmts)
    check_list_changes(fn, stmts)
    if not generated:
        check_writes(fn, callee, stmts)
    mark_sequence_arguments(fn, stmts)
    flows = []   # (target, [names its derivative can flow from], stmt)
    operand_names = {}      # id(stmt) -> the names each operand of its operation reads
    for stmt in stmts:
        op = getattr(stmt, "op", None)
        if op is None:
            continue
        target = assigned_name(stmt)
        operands = op.operands()
        names = operand_names[id(stmt)] = [arg_names(a) for a in operands]
        if op.kind == "append":
            sources = names[1] + [target]
        elif op.kind == "unknown":
            sources = [n for ns in names for n in ns]
        else:
            sources = [n for a in differentiable_positions(op).values() for n in arg_names(a)]
        flows.append((target, sources, stmt))
    act = Activity(varied=_varied(flows, wrt))
    act.useful = _useful(flows, outputs, act.varied)
    returned = _call_results(flows)
    for target, sources, stmt in flows:
        op = stmt.op
        if op.kind == "unknown" and act.is_active(target) and any(
                n in act.varied for n in sources):
            # the caret at the call itself, not at the statement holding it
            call = op.node if getattr(op.node, "lineno", None) else None
            filename, lineno, col, line = fn.parsed.locate(call or getattr(stmt, "origin", stmt))
            raise NoRuleError(op.fn, filename, lineno, col, line)
        names = operand_names[id(stmt)]
        _refuse_varied_index(fn, op, stmt, act, returned, names)
        _refuse_missing_derivative(fn, op, stmt, act, mode, names)
    _refuse_dict_uses(fn, act, flows)
    return act


def reanalyze(fn: NormalizedFunction, known: Activity) -> Activity:
    """The analysis of a copy of a function :func:`analyze` accepted with ``known``
    (its statements copied before any pass but the analysis changed them, its kinds
    as normalization left them): the operations are attached to the copy and the
    sequence arguments marked again; activity and refusals are the same.
    """
    stmts = list(statements(fn.body))
    attach_operations(fn, stmts)
    mark_sequence_arguments(fn, stmts)
    return known


def _varied(flows: list, wrt: list[str]) -> set[str]:
    """The names a derivative can flow to from ``wrt``: the targets of the flows reading
    them, and so on (a worklist: each flow is followed once per name it reads)."""
    readers: dict[str, list] = {}       # name -> the targets of the flows reading it
    for target, sources, _ in flows:
        for s in sources:
            readers.setdefault(s, []).append(target)
    varied = set(wrt)
    todo = list(varied)
    while todo:
        for target in readers.get(todo.pop(), ()):
            if target not in varied:
                varied.add(target)
                todo.append(target)
    return varied


def _useful(flows: list, outputs: list[str], varied: set[str]) -> set[str]:
    """``outputs`` and the varied names their derivatives flow back to, transitively."""
    writers: dict[Any, list] = {}       # target -> the sources of the flows assigning it
    for target, sources, _ in flows:
        writers.setdefault(target, []).append(sources)
    useful = set(outputs)
    todo = list(useful)
    while todo:
        for sources in writers.get(todo.pop(), ()):
            for s in sources:
                if s in varied and s not in useful:
                    useful.add(s)
                    todo.append(s)
    return useful


def _refuse_missing_derivative(fn: NormalizedFunction, op: Operation, stmt: Any,
                               act: Activity, mode: str, operand_names: list) -> None:
    """A varied value reaching an argument whose rule has no derivative for it.

    Its derivative would be dropped: a zero where the true one is not.  Arguments
    a rule declares inert (integer axes, shapes, masks...) and functions declared
    constant as a whole are exempt.  ``operand_names``: the names each operand reads.
    """
    rule = op.rule
    if op.kind not in ("prim", "const") or rule is None or not hasattr(rule, "vjps"):
        return
    table = rule.vjps if mode == "vjp" else rule.jvps
    varied = act.varied
    count = len(op.args)
    keywords = list(op.kwargs)
    for i, read in enumerate(operand_names):
        names = [n for n in read if n in varied]
        if not names:
            continue
        positional, keyword = ((i,), ()) if i < count else ((), (keywords[i - count],))
        missing = missing_derivatives(rule, table, positional, keyword)
        if missing:
            # at the call itself where normalization kept its place, else its statement
            node = op.node if getattr(op.node, "lineno", None) else getattr(stmt, "origin", stmt)
            filename, lineno, col, line = fn.parsed.locate(node)
            # the user's name when the line shows it (not a temporary of normalization)
            shown = next((n for n in names if re.search(rf"\b{re.escape(n)}\b", line)), None)
            value = f"{shown}, which depends" if shown else "a value that depends"
            raise TransformError(
                f"{value} on the differentiated arguments, passed to {rule.name} where it "
                "has no derivative rule",
                missing_derivative_message(rule, missing[0], mode), filename, lineno, col, line)


def _reaching(flows: list, starts: Any, through: tuple) -> set[str]:
    """The targets of the operations ``starts(stmt, op)`` accepts, and of every operation
    of a kind in ``through`` reading one of them (what such values flow on to).

    One pass in program order asks ``starts`` of each operation whose target is not
    reached yet (it may refuse one); what flows on from there follows the readers.
    """
    out: set[str] = set()
    readers: dict[str, list] = {}       # name -> the targets of ``through`` operations
    for target, _, stmt in flows:
        op = stmt.op
        if target is None:
            continue
        names = _arg_names_of(op.args) if op.kind in through else ()
        for n in names:
            readers.setdefault(n, []).append(target)
        if target not in out and (starts(stmt, op) or not out.isdisjoint(names)):
            out.add(target)
    todo = list(out)
    while todo:
        for target in readers.get(todo.pop(), ()):
            if target not in out:
                out.add(target)
                todo.append(target)
    return out


def _call_results(flows: list) -> set[str]:
    """Names holding what a user function returned (or items and copies of it): values
    that may be dicts (a parameter's items are spread when it is given a tree)."""
    return _reaching(flows, lambda stmt, op: op.kind == "user", ("copy", "item"))


def _refuse_dict_uses(fn: NormalizedFunction, act: Activity, flows: list) -> None:
    """A dict holding values with a derivative (an output tree) may be returned, put in a
    tuple, list or dict, or named again; reading it back, changing it or passing it to a
    call is refused (the derivative would have to follow the dict's identity), and so are
    keys other than constants (the reverse sweep reads its cotangent by key)."""
    def made(stmt: Any, op: Any) -> bool:
        if not (op.kind == "pack" and isinstance(op.node, gast.Dict)
                and act.is_active(assigned_name(stmt))):
            return False
        if not all(isinstance(key, gast.Constant) for key in op.node.keys):
            raise fn.parsed.error(getattr(stmt, "origin", stmt), "a dict with a computed key "
                                  "holding a value with a derivative",
                                  "Write its keys as constants.")
        return True

    holding = {n for n in _reaching(flows, made, ("pack", "copy")) if act.is_active(n)}
    if not holding:
        return
    body = fn.body[:-1] if fn.body and isinstance(fn.body[-1], gast.Return) else fn.body
    for stmt in statements(body):
        op = getattr(stmt, "op", None)
        if op is not None and op.kind in ("pack", "copy"):
            continue
        header = [getattr(stmt, f) for f in ("test", "iter", "value", "targets")
                  if getattr(stmt, f, None) is not None] if op is None else [stmt]
        used = {n.id for h in header for node in (h if isinstance(h, list) else [h])
                for n in gast.walk(node) if isinstance(n, gast.Name)} & holding
        if used:
            raise fn.parsed.error(getattr(stmt, "origin", stmt), f"a use of {sorted(used)[0]}, "
                                  "a dict holding values with a derivative, other than "
                                  "returning it", "Return the dict as it is built, or keep "
                                  "the values in variables (engine='tape' follows dicts).")


def _arg_names_of(nodes: list) -> list[str]:
    return [n for a in nodes for n in arg_names(a)]


def _refuse_varied_index(fn: NormalizedFunction, op: Operation, stmt: Any, act: Activity,
                         returned: set[str], operand_names: list) -> None:
    """``obj[index]`` (or ``obj[index] = v``) where the index depends on the arguments.

    The indexing rule differentiates the indexed array, never its index: an
    array's index is integers, slices or masks, whose derivative is zero.  An
    index computed from the arguments is a float (an error for an array) or an
    integer cast of one; and objects that are not arrays (``np.r_[x, y]``,
    ``np.c_``, ``np.s_``) take arrays as their "index" and would get no
    derivative at all.  ``operand_names``: the names each operand reads.
    """
    if op.kind != "prim" or op.fn not in (operator.getitem, setitem) or len(op.args) < 2:
        return
    key = op.args[1]
    if isinstance(key, gast.Constant) and isinstance(key.value, (str, bytes)) and any(
            n in act.varied and n in returned for n in operand_names[0]):
        # not an array's index: an item of a dict another function returned
        raise fn.parsed.error(getattr(stmt, "origin", stmt), f"reading the item "
                              f"{key.value!r} of a value with a derivative (a dict returned "
                              "by a call?)", "Return the values separately (a tuple), or "
                              "use engine='tape', which follows dicts.")
    varied = [n for n in operand_names[1] if n in act.varied]
    if varied:
        raise fn.parsed.error(
            getattr(stmt, "origin", stmt),
            f"an index computed from the differentiated arguments ({varied[0]})",
            "Join arrays with np.concatenate, np.stack or np.column_stack rather than "
            "np.r_/np.c_; take indices from constants (np.argmax, comparisons, int()), "
            "not from casts of differentiated values.")


def positions(body: list, prefix: tuple = (), loops: tuple = (), out: dict | None = None
              ) -> dict[int, tuple[tuple, tuple]]:
    """``{id(stmt): (path, enclosing loops)}`` for every statement."""
    if out is None:
        out = {}
    for index, stmt in enumerate(body):
        path = (*prefix, index)
        out[id(stmt)] = (path, loops)
        if stmt.__class__ in SIMPLE_STATEMENTS:
            continue
        inner_loops = (*loops, id(stmt)) if isinstance(stmt, (gast.For, gast.While)) else loops
        for k, attr in enumerate(("body", "orelse")):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                positions(inner, (*path, k), inner_loops, out)
    return out


def reachable(src: tuple[tuple, tuple], dst: tuple[tuple, tuple], strictly_after: bool) -> bool:
    """Can statement ``dst`` run after the point ``src`` (a statement, after or before it)?"""
    (p1, loops1), (p2, loops2) = src, dst
    if set(loops1) & set(loops2):
        return True
    if p1 == p2:
        return not strictly_after
    # dst inside src (src is a compound statement) counts as after its start only
    if p2[:len(p1)] == p1:
        return not strictly_after
    return p2 > p1


_SCALAR_BUILTINS = {abs, min, max, float, int, round, pow}
_CONSTANT_SCALAR_CALLS = {int, float, bool, round, abs}
_NOT_NUMBERS = frozenset({"frexp", "modf"})       # math functions returning tuples


def scalar_closed(fn: NormalizedFunction, namespace: Any) -> bool:
    """Given scalar arguments, is every value the function computes a scalar?

    A proof, not a guess: every operand of every operation (and the returned
    value) must be a number constant, a parameter, a global or closure value
    that is a number, a float constant of ``math``/``numpy`` (``np.pi``) or a
    local assigned only by ufuncs, operators, ``math`` functions and scalar
    builtins of such operands.  Anything read through an attribute, an item
    or a call that may give an array (``P.W``, ``d["w"]``, ``f()``) makes the
    answer no.  Such functions also get a variant without the broadcasting
    bookkeeping arrays need.
    """
    import numpy as np

    from .support import SCALAR_TYPES

    bound = {n for n, v in namespace.values.items() if type(v) in SCALAR_TYPES or type(v) is bool}
    params = set(fn.params) | set(fn.kwonly)
    operators = _operators()
    defs: dict[str, list] = {}
    loops: list = []
    stmts = list(statements(fn.body))
    for stmt in stmts:
        if isinstance(stmt, gast.For):
            loops.append(stmt)
            continue
        target = assigned_name(stmt)
        if target is not None:
            defs.setdefault(target, []).append(stmt)
        elif not isinstance(stmt, (gast.Expr, gast.If, gast.While, gast.Assert,
                                   gast.Return)):
            return False
    scalars = set(defs) | params | {loop.target.id for loop in loops}

    def scalar_atom(node: Any) -> bool:
        if isinstance(node, gast.Constant):
            return node.value is None or type(node.value) in (int, float, bool)
        if isinstance(node, gast.Name):
            return node.id in scalars or (node.id not in defs and node.id in bound)
        if isinstance(node, gast.Attribute) and getattr(node, "static", False):
            return _module_float(fn, node)
        return False

    def scalar_def(stmt: Any) -> bool:
        op = getattr(stmt, "op", None)
        if op is None or getattr(stmt, "primary", None) is not None:
            return False
        operands = op.operands()
        if op.kind == "copy":
            return scalar_atom(op.args[0])
        if op.kind == "const":
            value = op.node
            if is_atom(value):
                return scalar_atom(value)
            if isinstance(value, gast.Compare):
                return all(scalar_atom(n) for n in [value.left, *value.comparators])
            if isinstance(value, gast.UnaryOp):
                return scalar_atom(value.operand)
            f = op.fn
            if f in _CONSTANT_SCALAR_CALLS or isinstance(f, np.ufunc):
                return all(scalar_atom(a) for a in operands)
            return False
        if op.kind != "prim":
            return False
        f = op.fn
        if not all(scalar_atom(a) for a in operands):
            return False
        if f in (min, max):
            return len(op.args) >= 2 and not op.kwargs
        if isinstance(f, np.ufunc) or f in operators or f in _SCALAR_BUILTINS:
            return True
        return getattr(f, "__module__", None) == "math" and \
            getattr(f, "__name__", "") not in _NOT_NUMBERS

    # the answer is yes only if no definition is dropped: then one round, over the
    # names all still there, is the whole proof (the first rejection answers no)
    if not all(scalar_def(s) for stmts_ in defs.values() for s in stmts_):
        return False
    for loop in loops:
        if not all(scalar_atom(a) for a in loop.iter.args):
            return False
    for stmt in stmts:
        if isinstance(stmt, (gast.If, gast.While)) and not scalar_atom(stmt.test):
            return False
        if isinstance(stmt, gast.Return) and not scalar_atom(stmt.value):
            return False
    return True


def _keep_proved(scalars: set, defs: dict, proved: Any) -> None:
    """Drop from ``scalars`` each name with a definition ``proved`` rejects, until none
    changes (a name's definitions may read names dropped later)."""
    changed = True
    while changed:
        changed = False
        for name_, stmts in defs.items():
            if name_ in scalars and not all(map(proved, stmts)):
                scalars.discard(name_)
                changed = True


def _operators() -> set:
    from ..rules import registry

    return set(registry.BINARY_OPERATORS.values()) | set(registry.UNARY_OPERATORS.values())


def _module_float(fn: NormalizedFunction, node: Any) -> bool:
    """``np.pi``, ``math.tau``: a float constant of ``math`` or NumPy (read when called)."""
    import types

    from .ops import resolve_static

    root = node
    while isinstance(root, gast.Attribute):
        root = root.value
    module = fn.parsed.resolve(root.id) if isinstance(root, gast.Name) else None
    if not isinstance(module, types.ModuleType) or \
            module.__name__.split(".")[0] not in ("math", "numpy", "cmath"):
        return False
    return type(resolve_static(fn.parsed, node)) is float


# Primitives whose result is 0-d whatever their arguments' shapes, when called
# without an ``axis`` (NumPy reductions), and those that always return numbers.
def _reductions() -> set:
    import numpy as np

    return {np.sum, np.mean, np.max, np.min, np.prod, np.std, np.var, np.amax, np.amin,
            np.linalg.norm, np.linalg.det, np.vdot, np.trace}


def scalar_names(fn: NormalizedFunction) -> set[str]:
    """Names that hold a 0-d value (a number) wherever they are assigned.

    Used to drop ``unbroadcast`` between scalars, and with it the saving of the
    values it would read.  Starts from "every assigned name is a scalar" and
    removes names with a definition that might not be one.
    """
    import math
    import operator

    import numpy as np

    from ..rules import registry

    reductions = _reductions()
    operators = set(registry.BINARY_OPERATORS.values()) | set(registry.UNARY_OPERATORS.values())
    defs: dict[str, list] = {}
    loop_targets: set[str] = set()
    stmts = list(statements(fn.body))
    for stmt in stmts:
        if isinstance(stmt, gast.For):
            loop_targets.add(stmt.target.id)
            continue
        target = assigned_name(stmt)
        if target is not None:
            defs.setdefault(target, []).append(stmt)
    scalars = set(defs) | loop_targets
    scalars -= set(fn.params) | set(fn.kwonly)

    def is_scalar_operand(node: Any) -> bool:
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float, bool))
        if isinstance(node, gast.Name):
            return node.id in scalars
        return False

    shape_tuples = {assigned_name(st) for st in stmts
                    if isinstance(getattr(st, "op", None), Operation)
                    and st.op.kind == "const" and isinstance(st.op.node, gast.Attribute)
                    and st.op.node.attr == "shape"}

    def scalar_def(stmt: Any) -> bool:
        op = getattr(stmt, "op", None)
        if op is None or getattr(stmt, "primary", None) is not None:
            return False
        if op.kind == "copy":
            return is_scalar_operand(op.args[0])
        if op.kind == "const":
            value = op.node
            if isinstance(value, gast.Constant):
                return isinstance(value.value, (int, float, bool))
            if isinstance(value, gast.Compare):
                return all(is_scalar_operand(n) for n in [value.left, *value.comparators])
            if op.fn in (len, int, float, bool, round):
                return True
            return False
        if op.kind != "prim":
            return False
        f = op.fn
        if f is operator.getitem:      # an entry of a .shape is an int
            base, index = op.args
            return isinstance(base, gast.Name) and base.id in shape_tuples \
                and is_scalar_operand(index)
        if f in reductions:
            return len(op.args) == 1 and not op.kwargs
        if getattr(f, "__module__", None) == "math" or f in (float, int, math.fsum):
            return True
        if f in operators or isinstance(f, np.ufunc):
            return all(map(is_scalar_operand, op.args)) and not op.kwargs
        return False

    _keep_proved(scalars, defs, scalar_def)
    return scalars
