"""The scalar variant starts from the generic variant's function: a copy of it as
normalized, bound and analysed (``_Builder.keep_front``), with its operations
attached again, instead of parsing, normalizing and analysing the function again.
The code must be what that fresh start gives, for every corpus function in every
mode (reverse, with a pullback, forward).
"""

from __future__ import annotations

import gast
import numpy as np
import pytest

from srcgrad.compiler import transform
from srcgrad.compiler.normalize import statements, walk

from .corpus import CASES, Case
from .test_dry_trials import LOOPS
from .transforms import transform_texts


def names_the_sweeps_pick(x, y):
    # locals named as adjoints, saved values and temporaries are named: the scalar
    # variant's names must avoid them as the generic variant's do
    bx = x * y
    by = np.sin(bx) + x
    x_prev = by * by
    t = np.exp(x_prev * 0.1) - y
    dx = t * bx
    return dx + np.cos(x) * x


def reassigned_scalars(x, y):
    x = x * y + 1.0
    y = np.tanh(x) * y
    x = np.sin(x * y)
    return x * x + y


NAMED = [Case(names_the_sweeps_pick, (0.3, 1.2), (0, 1)),
         Case(reassigned_scalars, (0.3, 1.2), (0, 1))]
ALL = CASES + LOOPS + NAMED


def _sources(case, fresh: bool, monkeypatch: pytest.MonkeyPatch) -> list:
    with monkeypatch.context() as patch:
        if fresh:       # nothing kept: the scalar variant parses and normalizes again
            patch.setattr(transform._Builder, "keep_front", lambda self, act: None)
        return transform_texts(case)


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_scalar_variant_from_the_kept_function_is_the_fresh_one(case, monkeypatch):
    assert _sources(case, False, monkeypatch) == _sources(case, True, monkeypatch)


def test_corpus_has_scalar_variants(monkeypatch):
    # (the comparison above means something only where scalar variants are built)
    with_scalar = [case.name for case in CASES + NAMED
                   if any("_scalar(" in s for s in _sources(case, False, monkeypatch))]
    assert len(with_scalar) >= 20, with_scalar
    assert {c.name for c in NAMED} <= set(with_scalar)


def test_scalar_variants_operations_are_on_its_own_copy(monkeypatch):
    # the copy's statements get operations of their own: an operation left from the
    # generic variant's analysis would point into the trees its sweep changed
    reanalyze, checked = transform.reanalyze, []

    def checking(fn, known):
        act = reanalyze(fn, known)
        for stmt in statements(fn.body):
            op = getattr(stmt, "op", None)
            if op is not None:
                own = {id(n) for n in walk(stmt)}
                assert id(op.node) in own
                assert all(id(a) in own for a in op.operands() if isinstance(a, gast.AST))
                checked.append(stmt)
        return act

    monkeypatch.setattr(transform, "reanalyze", checking)
    for case in CASES + NAMED:
        transform_texts(case)
    assert len(checked) > 100
