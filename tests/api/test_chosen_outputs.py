"""Primitives whose arguments choose how many outputs a call returns.

``np.linalg.svd(a, compute_uv=False)`` returns one array where ``svd(a)`` returns
three, ``np.linalg.qr(a, "r")`` returns R alone, ``np.linspace(..., retstep=True)``
adds the step.  Both engines read the count from the call (the rule's
``outputs_of``); the source engine needs the choosing argument to be a literal and
refuses otherwise, and then ``auto`` runs the tape.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import TransformError
from tests.compiler.fd import numerical_grad

ENGINES = ["source", "tape"]


def singular_values(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) ** 2 * np.array([1.0, 0.5]))


def singular_values_positional(a):
    s = np.linalg.svd(a, False, False)
    return s[0] - s[1]


def both_kinds(a):
    # one call with three outputs, one with one, in the same function
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s * np.linalg.svd(a, compute_uv=False)) + np.sum(u[:, 0] ** 2)


def r_factor(a):
    return np.sum(np.linalg.qr(a, "r") * np.arange(4.0).reshape(2, 2))


def r_factor_keyword(a):
    r = np.linalg.qr(a, mode="r")
    return np.sum(np.triu(r) ** 3)


def samples_and_step(a):
    x, step = np.linspace(a, 3.0 * a + 1.0, 5, retstep=True)
    return np.sum(x ** 2) + np.sum(step * a)


def samples_only(a):
    return np.sum(np.linspace(a, 2.0, 4, retstep=False) ** 2)


CASES = [singular_values, singular_values_positional, both_kinds, r_factor,
         r_factor_keyword, samples_and_step, samples_only]


def _input(fun):
    rng = np.random.default_rng(1)
    if fun in (samples_and_step, samples_only):
        return rng.uniform(0.5, 1.5, 3)
    # a tall matrix: two distinct singular values, full column rank
    return np.array([[3.0, 0.2], [0.1, 1.0], [0.4, -0.3], [0.2, 0.5], [-0.1, 0.3]]) + \
        0.01 * rng.standard_normal((5, 2))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fun", CASES, ids=lambda f: f.__name__)
def test_gradient_matches_finite_differences(fun, engine):
    x = _input(fun)
    got = srcgrad.grad(fun, engine=engine)(x)
    np.testing.assert_allclose(got, numerical_grad(fun, (x,), 0), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_forward_mode_and_hessian(engine):
    x = _input(singular_values)
    v = np.random.default_rng(2).standard_normal(x.shape)
    _, tangent = srcgrad.jvp(singular_values, (x,), (v,), engine=engine)
    np.testing.assert_allclose(tangent, np.sum(numerical_grad(singular_values, (x,), 0) * v),
                               rtol=1e-6)
    y = _input(samples_and_step)
    hess = srcgrad.hessian(samples_and_step, engine=engine)(y)
    column = (srcgrad.grad(samples_and_step, engine=engine)(y + 1e-6 * np.eye(3)[0])
              - srcgrad.grad(samples_and_step, engine=engine)(y - 1e-6 * np.eye(3)[0])) / 2e-6
    np.testing.assert_allclose(hess[:, 0], column, rtol=1e-6, atol=1e-7)


def chosen_at_run_time(a, flag):
    return np.sum(np.linalg.svd(a, compute_uv=flag))


UV = False


def chosen_by_a_global(a):
    return np.sum(np.linalg.svd(a, compute_uv=UV))


@pytest.mark.parametrize("fun", [chosen_at_run_time, chosen_by_a_global])
def test_a_choice_that_is_not_a_literal_is_refused(fun):
    args = (_input(fun), False)[: 2 if fun is chosen_at_run_time else 1]
    with pytest.raises(TransformError, match="number of outputs depends on") as info:
        srcgrad.grad(fun, engine="source")(*args)
    assert "compute_uv" in str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        got = srcgrad.grad(fun)(*args)
    np.testing.assert_allclose(got, numerical_grad(fun, args, 0), rtol=1e-6, atol=1e-7)
