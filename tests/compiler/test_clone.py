"""clone: a deep copy of a gast tree that keeps the attributes the passes attach."""

from __future__ import annotations

import ast

import gast

from srcgrad.compiler.normalize import clone, copy_statements, walk
from srcgrad.compiler.parse import to_gast

SOURCE = """
def f(x, w):
    y = x * w + 1.5
    for k in range(3):
        if y[k] > 0:
            y = -y
    return (y, [x, None], {'a': x})
"""


def _tree():
    return to_gast(ast.parse(SOURCE).body[0])


def test_clone_is_an_equal_tree_sharing_no_node():
    tree = _tree()
    tree.body[0].origin = tree.body[1]          # a node kept as an attribute
    tree.body[0].value.pure = True              # a plain attribute
    tree.body[0].op = op = object()             # any other value: the same object
    copy = clone(tree)
    assert gast.dump(copy) == gast.dump(tree)
    originals = {id(n) for n in walk(tree)}
    assert not any(id(n) in originals for n in walk(copy))
    # contexts and operators (nodes without fields) are copied too
    assert copy.body[0].targets[0].ctx is not tree.body[0].targets[0].ctx
    assert copy.body[0].value.left.op is not tree.body[0].value.left.op
    assert copy.body[0].value.pure is True and copy.body[0].op is op
    assert gast.dump(copy.body[0].origin) == gast.dump(tree.body[1])
    assert copy.body[0].origin is not tree.body[1]
    for new, old in zip(walk(copy), walk(tree), strict=True):
        assert list(new.__dict__) == list(old.__dict__)     # the same fields, in order


def test_clone_copies_lists_and_nested_lists():
    tree = _tree()
    tree.extra = [[tree.body[0]], 3]
    copy = clone(tree)
    assert copy.extra is not tree.extra and copy.extra[0] is not tree.extra[0]
    assert copy.extra[0][0] is not tree.body[0] and copy.extra[1] == 3
    assert gast.dump(copy.extra[0][0]) == gast.dump(tree.body[0])


def test_copy_statements_copies_fields_and_shares_attributes():
    tree = _tree()
    stmts = tree.body
    stmts[0].origin = origin = tree.body[1]     # the user's statement: the same object
    stmts[0].op = op = object()
    stmts[0].value.pure = True
    copy = copy_statements(stmts)
    assert [gast.dump(s) for s in copy] == [gast.dump(s) for s in stmts]
    originals = {id(n) for s in stmts for n in walk(s) if n._fields}
    # every node with fields is new (contexts and operators, which have none, are shared)
    assert not any(id(n) in originals for s in copy for n in walk(s) if n._fields)
    assert copy[0].origin is origin and copy[0].op is op and copy[0].value.pure is True
    copy[0].value.left.left.id = "renamed"      # a change in place leaves the original
    assert stmts[0].value.left.left.id == "x"
    for s_new, s_old in zip(copy, stmts, strict=True):
        for new, old in zip(walk(s_new), walk(s_old), strict=True):
            assert list(new.__dict__) == list(old.__dict__)
