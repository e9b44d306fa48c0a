"""Reading rules as source: the syntax tree of a lambda rule, and what it reads.

Both engines look inside rules: the compiler inlines a lambda's body into
generated code, and the tape saves for backward only what a rule's body
needs (an argument read only for its shape need not be kept, nor checked
for in-place changes).
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable
from typing import Any

import gast
import numpy as np

from .. import identity, runtime

__all__ = ["lambda_node", "structural_params", "reads_structure", "positional_defaults"]

def lambda_node(fn: Callable[..., Any]) -> Any:
    """The gast ``Lambda`` node ``fn`` was proven to be compiled from, or ``None``.

    ``None`` (the rule is then called, not read) when no text provably
    compiles to ``fn``'s code: see :func:`srcgrad.identity.definition`.
    """
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name != "<lambda>":
        return None
    try:
        found = identity.definition(code, getattr(fn, "__qualname__", None),
                                    getattr(fn, "__globals__", None))
    except identity.Unproven:
        return None
    return gast.ast_to_gast(found.node)


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
