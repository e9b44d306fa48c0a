"""Type tests the tape cannot answer as NumPy code expects: found before it runs.

On the tape a differentiated value is a :class:`Tensor`, not the array or
float it wraps, so ``isinstance(x, np.ndarray)``, ``isinstance(s, float)``,
``type(x) is np.ndarray`` and ``np.isscalar(x)`` answer differently than they
do for the caller's values, and the function would silently take the other
branch.  No protocol lets a Tensor answer them (``isinstance`` and ``type``
look at the class; ``np.isscalar`` has no ``__array_function__`` dispatch), so
before the tape runs a user's function :func:`check_type_tests` reads its
source, and that of the functions it calls, follows which names hold values
computed from the differentiated arguments, and refuses (``TypeError``) a test
of such a value whose answer differs between a Tensor and an array or float.
The source engine sees the arrays themselves and answers these tests right.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import types
from typing import Any

import numpy as np

from .. import collector
from ..rules.registry import lookup

__all__ = ["check_type_tests"]

_CHECKED: dict[tuple, str | None] = {}     # (code, tainted positions) -> finding or None
_MISSING = object()


def check_type_tests(fun: Any, argnums: tuple[int, ...]) -> None:
    """Raise ``TypeError`` if ``fun`` tests the type of a differentiated value (see module)."""
    code = getattr(fun, "__code__", None)
    if code is None:
        return
    key = (code, tuple(argnums))
    if key not in _CHECKED:
        _CHECKED[key] = _Scan().function(fun, set(argnums))
    finding = _CHECKED[key]
    if finding is not None:
        raise TypeError(finding)


def _samples() -> list:
    return [np.zeros(2), np.zeros(()), np.float64(1.5), np.float32(1.5), 1.5, 1.5j]


def _diverges(kind: Any) -> bool:
    """Does ``isinstance(v, kind)`` differ between a Tensor and an array or float ``v``?"""
    from .tensor import Tensor

    tensor = Tensor._wrap(np.zeros(2))
    try:
        return any(isinstance(s, kind) != isinstance(tensor, kind) for s in _samples())
    except TypeError:          # not a type: let Python raise its own error
        return False


def _type_diverges(kind: Any) -> bool:
    """Does ``type(v) is kind`` differ between a Tensor and an array or float ``v``?"""
    from .tensor import Tensor

    kinds = kind if isinstance(kind, tuple) else (kind,)
    return any(k is Tensor or any(type(s) is k for s in _samples()) for k in kinds)


class _Scan:
    """One function and the functions it calls with values computed from its arguments."""

    def __init__(self) -> None:
        self.seen: set = set()

    def function(self, fun: Any, tainted_positions: set | None) -> str | None:
        code = fun.__code__
        key = (code, None if tainted_positions is None else frozenset(tainted_positions))
        if key in self.seen:
            return None
        self.seen.add(key)
        node = _definition(fun)
        if node is None:
            return None
        params = _parameters(node.args)
        if tainted_positions is None:
            tainted = set(params)
        else:
            tainted = {params[i] for i in tainted_positions if i < len(params)}
            if node.args.vararg is not None and any(i >= len(node.args.posonlyargs)
                                                    + len(node.args.args)
                                                    for i in tainted_positions):
                tainted.add(node.args.vararg.arg)
        if not tainted:
            return None
        tainted = _propagate(node, tainted)
        report = not (getattr(fun, "__module__", "") or "").startswith("srcgrad.")
        for sub in _walk_body(node):
            if isinstance(sub, ast.Call):
                found = (self.test_call(fun, sub, tainted) if report else None) \
                    or self.callee(fun, sub, tainted)
            elif isinstance(sub, ast.Compare) and report:
                found = self.type_compare(fun, sub, tainted)
            else:
                found = None
            if found:
                return found
        return None

    def test_call(self, fun: Any, call: ast.Call, tainted: set) -> str | None:
        target = _resolve(fun, call.func)
        if target is builtins.isinstance and len(call.args) == 2 and \
                _mentions(call.args[0], tainted):
            kind = _resolve(fun, call.args[1])
            if kind is _MISSING or _diverges(kind):
                return _message(fun, call, "a differentiated value's isinstance test")
        if target is np.isscalar and call.args and _mentions(call.args[0], tainted):
            return _message(fun, call, "np.isscalar of a differentiated value")
        return None

    def type_compare(self, fun: Any, node: ast.Compare, tainted: set) -> str | None:
        sides = [node.left, *node.comparators]
        for k, side in enumerate(sides):
            if isinstance(side, ast.Call) and _resolve(fun, side.func) is builtins.type \
                    and side.args and _mentions(side.args[0], tainted):
                others = [_resolve(fun, s) for j, s in enumerate(sides) if j != k]
                if any(o is not _MISSING and _type_diverges(o) for o in others):
                    return _message(fun, node, "a differentiated value's type() test")
        return None

    def callee(self, fun: Any, call: ast.Call, tainted: set) -> str | None:
        target = _resolve(fun, call.func)
        if not isinstance(target, types.FunctionType) or \
                (target.__module__ or "").startswith(("numpy", "srcgrad.autograd")):
            return None
        if lookup(target) is not None:
            return None  # a primitive (scipy.linalg.det): its rule is used, not its code
        positions: set | None = set()
        for i, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred) and _mentions(arg, tainted):
                positions = None
                break
            if _mentions(arg, tainted):
                positions.add(i)
        if positions is not None:
            names = list(inspect.signature(target).parameters) if call.keywords else []
            for kw in call.keywords:
                if _mentions(kw.value, tainted):
                    if kw.arg is None or kw.arg not in names:
                        positions = None
                        break
                    positions.add(names.index(kw.arg))
        if positions is not None and not positions:
            return None
        return self.function(target, positions)


def _definition(fun: Any) -> ast.FunctionDef | ast.Lambda | None:
    """``fun``'s ``def`` or ``lambda`` node, or None when its source cannot be read."""
    try:
        lines, first = inspect.getsourcelines(fun)
        tree = collector.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    name = fun.__code__.co_name
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
        if isinstance(node, ast.Lambda) and name == "<lambda>":
            return node
    return None


def _parameters(args: ast.arguments) -> list[str]:
    return [a.arg for a in [*args.posonlyargs, *args.args]]


def _walk_body(node: Any) -> Any:
    """The nodes of a function's body, not those of functions defined inside it."""
    body = node.body if isinstance(node.body, list) else [node.body]
    stack = list(reversed(body))
    while stack:
        sub = stack.pop()
        yield sub
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(sub))))


def _mentions(node: Any, names: set) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _stored_names(target: Any) -> list[str]:
    """Names a store into ``target`` changes (``a``, ``a[i]``, ``a.b``, ``a, b``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _stored_names(t)]
    if isinstance(target, ast.Starred):
        return _stored_names(target.value)
    if isinstance(target, (ast.Subscript, ast.Attribute)):
        return _stored_names(target.value)
    return []


def _propagate(node: Any, tainted: set) -> set:
    """Every local name that may hold a value computed from a tainted name."""
    tainted = set(tainted)
    flows = []
    for sub in _walk_body(node):
        if isinstance(sub, ast.Assign):
            flows.append((sub.value, [n for t in sub.targets for n in _stored_names(t)]))
        elif isinstance(sub, (ast.AugAssign, ast.AnnAssign)) and sub.value is not None:
            flows.append((sub.value, _stored_names(sub.target)))
        elif isinstance(sub, (ast.For, ast.comprehension)):
            flows.append((sub.iter, _stored_names(sub.target)))
        elif isinstance(sub, ast.NamedExpr):
            flows.append((sub.value, _stored_names(sub.target)))
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            # lst.append(x) and friends: the receiver holds x now
            flows.append((ast.Tuple(elts=sub.args, ctx=ast.Load()),
                          _stored_names(sub.func.value)))
    changed = True
    while changed:
        changed = False
        for value, targets in flows:
            if _mentions(value, tainted):
                new = set(targets) - tainted
                if new:
                    tainted |= new
                    changed = True
    return tainted


def _resolve(fun: Any, node: Any) -> Any:
    """The object a name, attribute chain or tuple of them refers to in ``fun``, or _MISSING."""
    if isinstance(node, ast.Tuple):
        items = tuple(_resolve(fun, e) for e in node.elts)
        return _MISSING if any(i is _MISSING for i in items) else items
    if isinstance(node, ast.Attribute):
        base = _resolve(fun, node.value)
        return _MISSING if base is _MISSING else getattr(base, node.attr, _MISSING)
    if not isinstance(node, ast.Name):
        return _MISSING
    code = fun.__code__
    if node.id in code.co_varnames:
        return _MISSING                      # a local: its value is not known here
    if node.id in code.co_freevars:
        cell = fun.__closure__[code.co_freevars.index(node.id)]
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    if node.id in fun.__globals__:
        return fun.__globals__[node.id]
    return getattr(builtins, node.id, _MISSING)


def _message(fun: Any, node: Any, what: str) -> str:
    code = fun.__code__
    try:
        lines, first = inspect.getsourcelines(fun)
        line = lines[node.lineno - 1].strip()
        lineno = first + node.lineno - 1
    except (OSError, TypeError, IndexError):
        line, lineno = "", code.co_firstlineno
    return (f"{code.co_filename}:{lineno}: srcgrad's tape cannot run {fun.__qualname__}: "
            f"{what} ({line}) would be answered for a Tensor, not for the array or number it "
            "wraps, and the function could take the other branch. Test the value another "
            "way (np.ndim(x) == 0, np.shape(x), np.result_type(x)), or make the function one "
            'the source engine transforms (engine="source"), which sees the arrays '
            "themselves.")
