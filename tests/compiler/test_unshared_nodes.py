"""No node of generated code is in two places at once.

The optimizer edits trees in place (it renames names, moves a folded value into
its reader, folds constants inside a call's arguments): a node that the forward
and the reverse code, or two statements, both hold would change in both where a
pass meant to change one.  The sweeps therefore copy every node they reuse (a
call's arguments in a rule call, an index, a hoisted argument), and this test
holds them to it: for every corpus function and the loop cases, in every mode
and variant, each node (contexts and operators aside, which are shared as in
``ast.parse``'s trees) is held once, when the optimizer starts and in the
functions printed at the end.
"""

from __future__ import annotations

from typing import Any

import gast
import pytest

from srcgrad.compiler import transform

from .corpus import CASES
from .test_dry_trials import LOOPS
from .transforms import transform_texts

_SHARED_BY_DESIGN = (gast.expr_context, gast.operator, gast.unaryop, gast.cmpop,
                     gast.boolop)


def _held_twice(trees: list) -> list[str]:
    """A dump of each node that ``trees`` reach a second time."""
    seen: set[int] = set()
    twice = []
    stack: list[Any] = list(trees)
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, gast.AST) or isinstance(node, _SHARED_BY_DESIGN):
            continue
        if id(node) in seen:
            twice.append(gast.dump(node))
            continue
        seen.add(id(node))
        stack.extend(getattr(node, f, None) for f in node._fields)
    return twice


@pytest.mark.parametrize("case", CASES + LOOPS, ids=[c.name for c in CASES + LOOPS])
def test_generated_code_shares_no_node(case, monkeypatch):
    checked: list[str] = []
    optimize, to_source = transform.self_optimize, transform.to_source

    def optimize_checked(forward, reverse, keep, temps, pure, reads, *rest):
        assert _held_twice([forward, reverse, reads]) == []
        checked.append("optimizer")
        return optimize(forward, reverse, keep, temps, pure, reads, *rest)

    def to_source_checked(functions):
        assert _held_twice(functions) == []
        checked.append("printer")
        return to_source(functions)

    monkeypatch.setattr(transform, "self_optimize", optimize_checked)
    monkeypatch.setattr(transform, "to_source", to_source_checked)
    texts = transform_texts(case)
    assert checked or all(text.startswith("refused") for text in texts)


def test_the_check_sees_a_shared_node():
    x = gast.Name(id="x", ctx=gast.Load(), annotation=None, type_comment=None)
    first = gast.Expr(value=gast.Call(func=gast.Name(id="f", ctx=gast.Load(), annotation=None,
                                                     type_comment=None),
                                      args=[x], keywords=[]))
    second = gast.Expr(value=gast.BinOp(left=x, op=gast.Add(),
                                        right=gast.Constant(value=1, kind=None)))
    assert len(_held_twice([[first], [second]])) == 1
