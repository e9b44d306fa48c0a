"""Which lists the source engine may change in place.

A Python list is one object however many names refer to it: ``b = a;
b.append(v)`` changes ``a`` too, a callee that appends to its argument
changes its caller's list, and a mutable default keeps what earlier calls
appended.  The generated code models a change in place (``append``, item
assignment, ``+=``) only on a list it owns: one made in the function (a
literal, a comprehension, a concatenation) that no other name, list or
callee can reach.  Any other change in place is refused with a located error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gast

from .analyze import assigned_name, positions, reachable, statements
from .normalize import NormalizedFunction, name_nodes, nodes_of

__all__ = ["check_list_changes"]

_FRESH = ("concat", "repeat")        # operations that always build a new list


def check_list_changes(fn: NormalizedFunction, stmts: list | None = None) -> None:
    """Refuse changes in place of lists the function does not own (see the module).

    ``stmts``: ``fn``'s statements (:func:`statements`), when the caller has them.
    """
    if fn.parsed.filename.startswith("<srcgrad "):
        return      # generated derivative code: its stacks are its own
    if stmts is None:
        stmts = list(statements(fn.body))
    changes = []                    # (statement, name of the list changed)
    definitions: dict[str, list] = {}
    aliases: dict[str, list] = {}   # name -> statements that let another value reach it
    copies: list = []

    def alias(nodes: list, stmt: Any) -> None:
        for ident in _names(nodes):
            aliases.setdefault(ident, []).append(stmt)

    for stmt in stmts:
        if stmt.__class__ is gast.Assign and getattr(stmt, "op", None) is not None:
            target = assigned_name(stmt)
            if target is not None:
                definitions.setdefault(target, []).append(stmt)
    # parameters and what is bound to them: asked only of item writes and refusals
    arguments = functools.cache(lambda: _from_arguments(definitions, fn))
    for stmt in stmts:
        op = getattr(stmt, "op", None)
        if op is None:
            continue
        target = assigned_name(stmt)
        if op.kind == "append":
            changes.append((stmt, op.args[0].id))
            alias([op.args[1]], stmt)
            continue
        if target is None:
            continue
        base = _changed(stmt, op, fn, definitions, arguments)
        if base is not None:
            changes.append((stmt, base))
        if op.kind == "copy":
            copies.append((stmt, op, target))
        elif op.kind == "pack":
            alias(op.args, stmt)
        elif op.kind == "setlist":
            alias(op.args[2:], stmt)
        elif op.kind in ("user", "unknown"):
            alias([*op.args, *op.kwargs.values()], stmt)
    if not changes:
        return
    loads = _loads(fn.body) if copies else {}
    blocks = _blocks(fn.body) if copies else {}
    for stmt, op, target in copies:
        if _moved(stmt, op, loads, blocks, definitions):
            stmt.moved = True
            continue
        alias(op.args, stmt)
        alias([gast.Name(id=target, ctx=gast.Load(), annotation=None, type_comment=None)],
              stmt)
    owned = _owned(definitions, fn)
    where = None
    for stmt, base in changes:
        if base in owned:
            seen_by = aliases.get(base, ())
            if seen_by and where is None:
                where = positions(fn.body)
            if not any(_after(where, a, stmt) for a in seen_by):
                continue
        origin = getattr(stmt, "origin", stmt)
        if base in arguments():
            error = fn.parsed.error(
                origin, "changing a list argument in place (the caller's list, or a mutable "
                "default, would change)",
                'Build a new list instead (`v = v + [item]`), or use engine="tape".')
        else:
            error = fn.parsed.error(
                origin, "changing in place a list that another name, list or function also "
                "refers to", 'Build a new list instead (`b = a + [item]`), or use '
                'engine="tape".')
        # the list may be the caller's: a callee doing this cannot run on the tape for
        # its caller either (the tape would change a copy)
        error.changes_argument = True
        raise error


def _after(where: dict, alias: Any, change: Any) -> bool:
    """Can ``change`` run once ``alias`` has run (another name then sees the change)?"""
    a, c = where.get(id(alias)), where.get(id(change))
    return a is None or c is None or reachable(a, c, strictly_after=True)


def _changed(stmt: Any, op: Any, fn: NormalizedFunction, definitions: dict[str, list],
             arguments: Callable[[], set[str]]) -> str | None:
    """The list (or argument) an assignment changes in place in Python, if any.

    ``definitions``: each name's assignments; ``arguments()``: :func:`_from_arguments`.
    """
    base = getattr(stmt, "mutates", None)           # lst += [...]
    if base is not None:
        return base
    if op.kind == "setlist" and isinstance(op.args[0], gast.Name):
        return op.args[0].id                         # lst[i] = v
    if op.kind == "prim" and getattr(op.fn, "__name__", "") == "setitem" and op.args \
            and isinstance(op.args[0], gast.Name):
        first = op.args[0].id
        # an item assignment into an item of a list (rows[0][1] = v changes the list
        # rows holds), or a callee's into its argument (the caller's list or array
        # would change; at the top level the generated code documents that it copies)
        if any(d.op.kind == "item" for d in definitions.get(first, ())) or (
                getattr(fn, "callee", False) and first in arguments()):
            return first
    return None


def _from_arguments(definitions: dict[str, list], fn: NormalizedFunction) -> set[str]:
    """Parameters, and names bound to them or to their items."""
    reach = set(fn.params) | set(fn.kwonly)
    changed = True
    while changed:
        changed = False
        for ident, stmts in definitions.items():
            if ident not in reach and any(
                    s.op.kind in ("copy", "item") and _names(s.op.args[:1]) & reach
                    for s in stmts):
                reach.add(ident)
                changed = True
    return reach


def _moved(stmt: Any, op: Any, loads: dict, blocks: dict, definitions: dict) -> bool:
    """Is ``b = a`` the last use of ``a``, made in the block that made ``a``?

    (A comprehension's list, handed to the name it is assigned to.)  Then ``b``
    takes the list over: no other name is left to see its changes.
    """
    source = op.args[0]
    if not isinstance(source, gast.Name) or loads.get(source.id, 0) != 1:
        return False
    block = blocks.get(id(stmt))
    made = definitions.get(source.id, [])
    return bool(made) and all(blocks.get(id(d)) is block for d in made)


def _loads(body: list) -> dict[str, int]:
    """How often each name is read, not counting ``len(name)`` and ``name.append``."""
    skip: set[int] = set()
    nodes = nodes_of(gast.Module(body=body, type_ignores=[]), (gast.Call, gast.Name))
    for node in nodes:
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "append":
            skip.add(id(node.func.value))
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and node.func.id == "len" and len(node.args) == 1:
            skip.add(id(node.args[0]))
    counts: dict[str, int] = {}
    for node in nodes:
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) \
                and id(node) not in skip:
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _blocks(body: list, out: dict | None = None) -> dict[int, list]:
    """``{id(statement): the statement list it is in}``."""
    out = {} if out is None else out
    for stmt in body:
        out[id(stmt)] = body
        for attr in ("body", "orelse"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                _blocks(inner, out)
    return out


def _owned(definitions: dict[str, list], fn: NormalizedFunction) -> set[str]:
    """Names every assignment of which makes a new list (or changes an owned one)."""
    params = set(fn.params) | set(fn.kwonly)
    owned = {n for n in definitions if n not in params}

    def fresh(stmt: Any) -> bool:
        return _fresh(stmt, owned)

    changed = True
    while changed:
        changed = False
        for ident in list(owned):       # (any order: the answer is the same)
            # (``map``: a generator that ``all`` stops early costs closing it)
            if not all(map(fresh, definitions[ident])):
                owned.discard(ident)
                changed = True
    return owned


def _fresh(stmt: Any, owned: set[str]) -> bool:
    op = stmt.op
    base = getattr(stmt, "mutates", None)
    if base is not None:
        return base in owned
    if op.kind == "pack":
        return isinstance(op.node, gast.List)
    if op.kind in _FRESH:
        return True
    if op.kind == "setlist" or getattr(stmt, "moved", False):
        return isinstance(op.args[0], gast.Name) and op.args[0].id in owned
    return False


def _names(nodes: list) -> set[str]:
    return {n.id for node in nodes for n in name_nodes(node)}
