"""Every corpus function: compiled gradients match central differences."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from srcgrad.compiler import compile_grad, compile_vjp

from .corpus import CASES
from .fd import assert_close, numerical_grad


def _id(case) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_grad_matches_finite_differences(case):
    compiled = compile_grad(case.fun, case.argnums)
    args = copy.deepcopy(case.args)
    value, grads = compiled.function(*args)
    assert_close(value, case.fun(*copy.deepcopy(case.args)), rtol=1e-10, atol=1e-12)
    assert len(grads) == len(case.argnums)
    for argnum, grad in zip(case.argnums, grads, strict=True):
        expected = numerical_grad(case.fun, copy.deepcopy(case.args), argnum)
        assert_close(grad, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_vjp_matches_grad(case):
    grad_fn = compile_grad(case.fun, case.argnums).function
    vjp_fn = compile_vjp(case.fun, case.argnums).function
    value, grads = grad_fn(*copy.deepcopy(case.args))
    out, pullback = vjp_fn(*copy.deepcopy(case.args))
    assert_close(out, value)
    for _ in range(2):  # a pullback can be called again
        again = pullback(2.0)
        for a, b in zip(again, grads, strict=True):
            assert_close(a, 2.0 * np.asarray(b))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_inputs_not_mutated(case):
    args = copy.deepcopy(case.args)
    compile_grad(case.fun, case.argnums).function(*args)
    for before, after in zip(case.args, args, strict=True):
        assert_close(after, before, rtol=0, atol=0)
