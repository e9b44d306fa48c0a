"""Type tests of differentiated values on the tape: refused, never answered for a Tensor.

A Tensor is not an ``np.ndarray`` nor a ``float``: a function branching on
``isinstance``/``type``/``np.isscalar`` of a differentiated value would take the
other branch on the tape.  The tape refuses such functions before running them
(a ``TypeError`` naming the file, line and test); the source engine answers the
tests for the arrays themselves.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning
from tests.compiler.fd import numerical_grad


def by_isinstance(x):
    if isinstance(x, np.ndarray):
        return np.sum(x ** 2)
    return np.sum(x ** 3)


def by_type(x):
    if type(x) is np.ndarray:
        return np.sum(x ** 2)
    return np.sum(x ** 3)


def by_type_in(x):
    return np.sum(x ** 2) if type(x) in (np.ndarray, list) else np.sum(x ** 3)


def by_isscalar(s):
    if np.isscalar(s):
        return s ** 2
    return s ** 3


def by_float(s):
    if isinstance(s, float):
        return s ** 2
    return s ** 3


def by_number(s):
    return s ** 2 if isinstance(s, numbers.Number) else s ** 3


def helper(v):
    return np.sum(v ** 2) if isinstance(v, np.ndarray) else np.sum(v ** 3)


def through_a_callee(x):
    y = x * 2.0
    return helper(y) + np.sum(x)


def through_a_list(x):
    items = []
    items.append(x[0])
    return items[0] ** 2 if isinstance(items[0], np.floating) else items[0] ** 3


def refused_by_source(x):
    try:                         # the source engine refuses try: auto runs the tape
        pass
    finally:
        pass
    return by_isinstance(x)


ARRAY_TESTS = [by_isinstance, by_type, by_type_in, through_a_callee, through_a_list]
SCALAR_TESTS = [by_isscalar, by_float, by_number]
X = np.array([1.5, -0.5, 2.0])


def _arg(f):
    return 1.5 if f in SCALAR_TESTS else X


@pytest.mark.parametrize("f", ARRAY_TESTS + SCALAR_TESTS, ids=lambda f: f.__name__)
def test_the_tape_refuses_type_tests_of_differentiated_values(f):
    with pytest.raises(TypeError, match=r"test_type_tests\.py:\d+: srcgrad's tape cannot run"):
        srcgrad.grad(f, engine="tape")(_arg(f))
    with pytest.raises(TypeError, match="srcgrad's tape cannot run"):
        srcgrad.jvp(f, (_arg(f),), (_arg(f),), engine="tape")


@pytest.mark.parametrize("engine", ["source", "auto"])
@pytest.mark.parametrize("f", ARRAY_TESTS + SCALAR_TESTS, ids=lambda f: f.__name__)
def test_the_source_engine_answers_them_for_the_arrays(f, engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        got = srcgrad.grad(f, engine=engine)(_arg(f))
    np.testing.assert_allclose(got, numerical_grad(f, (_arg(f),), 0), rtol=1e-6)


def test_auto_falling_back_to_the_tape_refuses_instead_of_branching_wrongly():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        with pytest.raises(TypeError, match="isinstance test"):
            srcgrad.grad(refused_by_source)(X)


def unrelated_tests(x, n, opts):
    # tests of values that are not differentiated, and of containers, are answered alike
    if isinstance(n, int) and type(opts) is dict and not isinstance(x, (list, tuple)):
        return np.sum(x ** n) * opts["scale"]
    return np.sum(x)


def shape_tests(x):
    return np.sum(x ** 2) if np.ndim(x) == 1 and np.shape(x)[0] == 3 else np.sum(x)


@pytest.mark.parametrize("engine", ["tape", "source"])
def test_other_tests_still_run_on_the_tape(engine):
    got = srcgrad.grad(unrelated_tests, engine=engine)(X, 2, {"scale": 0.5})
    np.testing.assert_allclose(got, X)
    np.testing.assert_allclose(srcgrad.grad(shape_tests, engine=engine)(X), 2 * X)
