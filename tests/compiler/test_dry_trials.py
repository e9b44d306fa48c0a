"""Dry trial sweeps find the loop states that trial sweeps building code find.

The reverse sweep makes a loop body's derivative states loop-invariant by trial
sweeps of the body that track states only (``ReverseSweep.dry_trials``: no rule
is instantiated, no code kept), then sweeps once for the code.  A handler whose
states depended on the code it builds would make the two disagree: every corpus
function, and loops written to need several trials, are transformed both ways
and must give the same text (or the same refusal).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from srcgrad.compiler import compile_grad
from srcgrad.compiler.reverse import ReverseSweep

from .corpus import CASES, Case
from .fd import assert_close, numerical_grad
from .transforms import REVERSE_MODES, transform_texts


def shifting_chain(x, w):
    # an adjoint reaches `a` only after two iterations, `c` after three
    a = x * 0.0
    b = x * 0.0
    c = x * 0.0
    for _ in range(4):
        a = b * w
        b = c + w
        c = np.sin(x) * c + 0.5 * a
    return np.sum(a * a + b)


def branch_in_nested_loops(x, w):
    total = 0.0
    h = x
    for i in range(3):
        for k in range(2):
            if k == 1:
                h = np.tanh(h * w)
            else:
                total = total + np.sum(h)
        if i == 2:
            h = h + x
    return total + np.sum(h * w)


def appends_in_loops(x, w):
    hs = [x]
    acc = 0.0
    for k in range(3):
        h = np.cos(hs[-1] * 0.5) + w * hs[k % len(hs)]
        hs.append(h)
        for j in range(2):
            if j == 0:
                acc = acc + np.sum(hs[j] * h)
    return acc + np.sum(hs[-1])


def while_with_break(x, w):
    s = x * 0.0
    t = x
    n = 0
    while n < 5:
        s = s + t * w
        if n == 3:
            break
        t = np.exp(0.1 * t)
        n = n + 1
    return np.sum(s * s)


X = np.array([0.3, -0.7, 1.1])
W = np.array([0.9, 0.4, -0.6])
LOOPS = [Case(f, (X, W), (0, 1)) for f in (shifting_chain, branch_in_nested_loops,
                                           appends_in_loops, while_with_break)]


def _transforms(case: Case, dry: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(ReverseSweep, "dry_trials", dry)
    return transform_texts(case, REVERSE_MODES)


@pytest.mark.parametrize("case", CASES + LOOPS, ids=[c.name for c in CASES + LOOPS])
def test_dry_trials_build_the_same_code(case, monkeypatch):
    dry = _transforms(case, True, monkeypatch)
    built = _transforms(case, False, monkeypatch)
    assert dry == built


@pytest.mark.parametrize("case", LOOPS, ids=[c.name for c in LOOPS])
def test_loops_needing_several_trials_match_finite_differences(case):
    value, grads = compile_grad(case.fun, case.argnums).function(*copy.deepcopy(case.args))
    assert_close(value, case.fun(*copy.deepcopy(case.args)), rtol=1e-10, atol=1e-12)
    for argnum, grad in zip(case.argnums, grads, strict=True):
        expected = numerical_grad(case.fun, copy.deepcopy(case.args), argnum)
        assert np.any(expected != 0.0)
        assert_close(grad, expected, rtol=1e-5, atol=1e-6)
