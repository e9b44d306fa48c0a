"""The optimizer's shortcuts leave the generated code as the full passes make it.

The reverse sweep's rewrites visit only the assignments they can change:
lazy expansion those with a call of ``expand_reduced`` (``_may_expand``), the
fold those with a node one of its rewrites starts from (``_may_fold``: a
negation, an operation with a constant operand, ...).  Every corpus function
is transformed with the shortcuts and with every assignment visited, and
must give the same text (or the same refusal); and on random expressions, the
fold leaves those ``_may_fold`` rules out as they are.
"""

from __future__ import annotations

from typing import Any

import gast
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srcgrad.compiler import optimize
from srcgrad.compiler.normalize import clone
from srcgrad.rules._shape_helpers import extremum_cotangent, index_cotangent, reduced_count
from srcgrad.runtime import expand_reduced, unbroadcast

from .corpus import CASES
from .transforms import dump_all, transform_texts


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rewrites_skip_only_assignments_they_leave_as_they_are(case, monkeypatch):
    skipping = transform_texts(case)
    monkeypatch.setattr(optimize, "_may_expand", lambda *args: True)
    monkeypatch.setattr(optimize, "_may_fold", lambda *args: True)
    assert transform_texts(case) == skipping


# -- the test itself, on random expressions ---------------------------------------------

def _name(id_: str) -> Any:
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


def _call(func: Any, *args: Any) -> Any:
    return gast.Call(func=_name(func) if isinstance(func, str) else func, args=list(args),
                     keywords=[])


VALUES = {"unbroadcast": unbroadcast, "expand_reduced": expand_reduced, "np": np,
          "index_cotangent": index_cotangent, "reduced_count": reduced_count,
          "extremum_cotangent": extremum_cotangent, "f": np.sin}
# (names mostly: an expression with a constant in an operation is folded anyway)
_names = st.sampled_from(["a", "b", "x"]).map(_name)
_leaves = st.one_of(_names, _names, _names, st.sampled_from(
    [0, 1, 2, -1, 0.5, 1.0, None, True, False]).map(lambda v: gast.Constant(value=v, kind=None)))
_operators = [gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow]


def _extend(inner: Any) -> Any:
    where = gast.Attribute(value=_name("np"), attr="where", ctx=gast.Load())
    return st.one_of(
        st.builds(lambda left, op, right: gast.BinOp(left=left, op=op(), right=right),
                  inner, st.sampled_from(_operators), inner),
        inner.map(lambda e: gast.UnaryOp(op=gast.USub(), operand=e)),
        st.builds(lambda left, op, right: gast.Compare(left=left, ops=[op()],
                                                        comparators=[right]),
                  inner, st.sampled_from([gast.Is, gast.Eq]), inner),
        st.builds(lambda t, b, o: gast.IfExp(test=t, body=b, orelse=o), inner, inner, inner),
        st.builds(lambda f, e, n: _call(f, e, _name(n)),
                  st.sampled_from(["unbroadcast", "expand_reduced", "extremum_cotangent",
                                   "reduced_count", "f"]),
                  inner, st.sampled_from(["a", "x"])),
        st.builds(lambda e: _call("index_cotangent", e, _name("x"), _name("a")), inner),
        st.builds(lambda e: _call("unbroadcast", _call("unbroadcast", e, _name("x")),
                                  _name("a")), inner),
        st.builds(lambda c, b, o: _call(where, c, b, o), inner, inner, inner))


_expressions = st.recursive(_leaves, _extend, max_leaves=6)


def _broadcasts_into(b: str, a: str) -> bool:
    return True


_broadcasts_into.bind = lambda name, value: name


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(_expressions)
def test_fold_leaves_what_may_fold_rules_out(expr):
    stmt = gast.Assign(targets=[gast.Name(id="t", ctx=gast.Store(), annotation=None,
                                          type_comment=None)], value=expr, type_comment=None)
    for broadcasts_into in (None, _broadcasts_into):
        entry = optimize._scan_statement(stmt)
        if not optimize._may_fold(entry, VALUES, broadcasts_into is not None):
            folded = optimize._Fold(VALUES, broadcasts_into).visit(clone(expr))
            assert dump_all(folded) == dump_all(expr)

