"""Reading rules as source: the syntax tree of a lambda rule, and what it reads.

Both engines look inside rules: the compiler inlines a lambda's body into
generated code, and the tape saves for backward only what a rule's body
needs (an argument read only for its shape need not be kept, nor checked
for in-place changes).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import linecache
from collections.abc import Callable
from typing import Any

import gast
import numpy as np

from .. import runtime

__all__ = ["lambda_node", "matches_code", "structural_params", "reads_structure",
           "positional_defaults"]

_LAMBDAS: dict[Any, Any] = {}


def _statement_tree(filename: str, lineno: int) -> Any:
    """The top-level statement of ``filename`` holding line ``lineno``, parsed.

    Parsing one statement instead of the whole module keeps the first look at a
    rule cheap; node line numbers are those of the file.
    """
    lines = linecache.getlines(filename)
    if not lines or lineno > len(lines):
        return None
    start = lineno - 1
    while start > 0 and (not lines[start].strip() or lines[start][0] in " \t)]}"):
        start -= 1
    for end in range(lineno, min(len(lines), lineno + 200) + 1):
        try:
            tree = gast.parse("".join(lines[start:end]))
        except SyntaxError:
            continue
        return gast.increment_lineno(tree, start) if start else tree
    try:
        return gast.parse("".join(lines))
    except SyntaxError:
        return None


def lambda_node(fn: Callable[..., Any]) -> Any:
    """The gast ``Lambda`` node ``fn`` was compiled from, or ``None`` when unknown."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name != "<lambda>":
        return None
    if code in _LAMBDAS:
        return _LAMBDAS[code]
    found = None
    first = code.co_firstlineno
    tree = _statement_tree(code.co_filename, first)
    if tree is not None:
        candidates = [n for n in gast.walk(tree) if isinstance(n, gast.Lambda)
                      and first <= n.lineno <= first + 50]
        near = [n for n in candidates if n.lineno == first] or candidates
        found = next((n for n in near if matches_code(n, code)), None)
    _LAMBDAS[code] = found
    return found


def matches_code(lam: Any, code: Any) -> bool:
    """Could the gast Lambda ``lam`` be the source of ``code``?

    Bytecode depends on the compiling module (imported names are loaded
    differently), so names, constants, parameters and the column of the body
    are compared instead.
    """
    try:
        expr = gast.gast_to_ast(gast.Expression(body=lam))
        ast.fix_missing_locations(expr)
        outer = compile(expr, "<lambda>", "eval")
    except (SyntaxError, ValueError, TypeError):
        return False
    inner = next((c for c in outer.co_consts if hasattr(c, "co_code")), None)
    if inner is None:
        return False
    if (inner.co_names, inner.co_varnames, inner.co_argcount, _consts(inner)) != (
            code.co_names, code.co_varnames, code.co_argcount, _consts(code)):
        return False
    positions = getattr(code, "co_positions", None)  # column information: Python 3.11+
    if positions is None:
        return True
    columns = [p[2] for p in positions() if p[2] is not None and p[3] is not None
               and p[3] > p[2] and p[0] == lam.lineno]
    if columns and getattr(lam.body, "col_offset", None) is not None:
        return min(columns) >= lam.col_offset
    return True


def _consts(code: Any) -> tuple:
    return tuple(c for c in code.co_consts if not hasattr(c, "co_code"))


# -- what a rule reads of its arguments ------------------------------------------------

_STRUCTURE_ATTRS = frozenset({"shape", "ndim", "dtype", "size"})
# Callables that read only the structure of the arguments at these positions
# (``None``: all of them).
_STRUCTURE_CALLS: dict[Any, tuple[int, ...] | None] = {
    np.shape: None, np.ndim: None, np.size: None, np.zeros_like: (0,), np.ones_like: (0,),
    len: None, runtime.shape_of: None, runtime.unbroadcast: (1,),
    runtime.expand_reduced: (1,), runtime.zeros_like: None,
}
_STRUCTURAL: dict[Any, frozenset] = {}


@functools.lru_cache(maxsize=512)
def positional_defaults(fn: Callable[..., Any]) -> tuple[tuple[str, Any], ...]:
    """``fn``'s positional parameters in order, each with its default
    (``inspect.Parameter.empty`` if it has none); ``()`` without a signature."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple((p.name, p.default) for p in params
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def reads_structure(*positions: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a rule helper that reads only the shape and dtype of these arguments.

    Rules calling it then need only those arguments' structure, so the tape
    does not treat an in-place change of them as an error.
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__srcgrad_reads_structure__ = positions  # type: ignore[attr-defined]
        return fn

    return mark


def structural_params(fn: Callable[..., Any]) -> frozenset:
    """Parameters of lambda rule ``fn`` that its body reads only for shape or dtype.

    Anything the analysis cannot see through counts as a use of the value,
    so the answer errs on the side of keeping values.
    """
    cached = _STRUCTURAL.get(fn)
    if cached is not None:
        return cached
    lam = lambda_node(fn)
    result: frozenset = frozenset()
    if lam is not None:
        params = {a.id for a in [*lam.args.posonlyargs, *lam.args.args, *lam.args.kwonlyargs]}
        structural: set[str] = set()
        valued: set[str] = set()
        _classify(lam.body, params, fn.__globals__, structural, valued, False)
        result = frozenset(structural - valued)
    _STRUCTURAL[fn] = result
    return result


def _resolve(node: Any, namespace: dict) -> Any:
    if isinstance(node, gast.Name):
        return namespace.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, gast.Attribute):
        base = _resolve(node.value, namespace)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _classify(node: Any, params: set, namespace: dict, structural: set, valued: set,
              in_structure: bool) -> None:
    if isinstance(node, gast.Name) and node.id in params:
        (structural if in_structure else valued).add(node.id)
        return
    if isinstance(node, gast.Attribute) and node.attr in _STRUCTURE_ATTRS:
        _classify(node.value, params, namespace, structural, valued, True)
        return
    if isinstance(node, gast.Call):
        target = _resolve(node.func, namespace)
        try:
            positions = _STRUCTURE_CALLS.get(target, ()) if target is not None else ()
        except TypeError:  # unhashable callee
            positions = ()
        if positions == ():
            positions = getattr(target, "__srcgrad_reads_structure__", ())
        for i, arg in enumerate(node.args):
            shape_only = positions is None or (positions and i in positions)
            _classify(arg, params, namespace, structural, valued, bool(shape_only))
        for kw in node.keywords:
            _classify(kw.value, params, namespace, structural, valued, False)
        _classify(node.func, params, namespace, structural, valued, False)
        return
    for child in gast.iter_child_nodes(node):
        _classify(child, params, namespace, structural, valued, False)
