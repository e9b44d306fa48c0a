"""Recursive functions: the generated derivative reaches the depth Python and the tape reach.

Generated code calls a recursive function's derivative directly (one Python
frame per level of the user's recursion, as the user's function takes), and
past Python's recursion limit it raises a RecursionError that says what
happened and how to raise the limit.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import srcgrad
from tests.compiler.fd import numerical_grad


def nest(x, n):
    return x if n == 0 else np.sin(nest(x, n - 1))


def loss(x, n):
    return np.sum(nest(x, n) ** 2)


def even(x, n):
    return x if n == 0 else odd(x * 1.5, n - 1)


def odd(x, n):
    return np.cos(x) if n == 0 else even(np.sin(x), n - 1)


def mutual(x, n):
    return np.sum(even(x, n))


X = np.array([0.3, -0.5])


@pytest.mark.parametrize("depth", [300, 800])
@pytest.mark.parametrize("f", [loss, mutual], ids=lambda f: f.__name__)
@pytest.mark.parametrize("engine", ["source", "tape"])
def test_gradient_at_depth(f, depth, engine):
    df = srcgrad.grad(f, engine=engine)
    assert df.engine == engine
    got = df(X, depth)
    want = numerical_grad(lambda x: f(x, depth), (X,), 0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("depth", [300, 800])
def test_jvp_and_hessian_at_depth(depth):
    def at(x):
        return loss(x, depth)

    v = np.array([1.0, -2.0])
    _, t = srcgrad.jvp(at, (X,), (v,), engine="source")
    h = 1e-6
    np.testing.assert_allclose(t, (at(X + h * v) - at(X - h * v)) / (2 * h), rtol=1e-5)
    hess = srcgrad.hessian(loss, engine="source")(X, depth)
    np.testing.assert_allclose(hess, srcgrad.hessian(loss, engine="tape")(X, depth), rtol=1e-9,
                               atol=1e-15)


def test_gradient_of_the_recursive_function_itself():
    got = srcgrad.grad(nest, engine="source")(0.7, 800)
    want = numerical_grad(lambda x: nest(x, 800), (0.7,), 0)
    assert abs(got - want) <= 1e-6


def test_past_the_limit_the_error_says_what_to_do():
    df = srcgrad.grad(loss, engine="source")
    depth = sys.getrecursionlimit() + 100
    with pytest.raises(RecursionError, match=r"nest .*recursion limit.*sys\.setrecursionlimit"):
        df(X, depth)
    # the same derivative at a depth that fits still works afterwards
    np.testing.assert_allclose(df(X, 50), numerical_grad(lambda x: loss(x, 50), (X,), 0),
                               rtol=1e-5)


def test_a_raised_limit_is_used():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(old + 600)
    try:
        depth = old + 200
        got = srcgrad.grad(loss, engine="source")(X, depth)
        want = srcgrad.grad(loss, engine="tape")(X, depth)
    finally:
        sys.setrecursionlimit(old)
    np.testing.assert_allclose(got, want, rtol=1e-12)


SCALE = np.array([1.0, 0.5])


def scaled(x, n):
    return x if n == 0 else np.sin(scaled(x, n - 1) * SCALE)


def scaled_loss(x, n):
    return np.sum(scaled(x, n))


def test_depth_after_the_cached_transform_is_bound_again():
    # a new global array: the cached transform's code runs again for it (and for the
    # callees' derivatives bound afresh), still calling itself directly
    global SCALE
    first = srcgrad.grad(scaled_loss, engine="source")(X, 800)
    np.testing.assert_allclose(first, numerical_grad(lambda x: scaled_loss(x, 800), (X,), 0),
                               rtol=1e-5, atol=1e-9)
    old = SCALE
    SCALE = np.array([0.9, 1.1])
    try:
        again = srcgrad.grad(scaled_loss, engine="source")(X, 800)
        want = numerical_grad(lambda x: scaled_loss(x, 800), (X,), 0)
    finally:
        SCALE = old
    np.testing.assert_allclose(again, want, rtol=1e-5, atol=1e-9)
