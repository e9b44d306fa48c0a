"""Lists and tuples through calls, list changes in place and generators.

Each case runs on both engines and ``auto``, checked against float64 central
differences: the source engine either matches or raises a located
``TransformError`` (then ``auto`` runs the tape, which must match).
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import TransformError
from tests.compiler.fd import numerical_grad
from tests.soundness import sequence_cases as cases

X = np.array([0.3, -1.2, 0.7, 1.1])
T = np.array([0.5, -1.0, 2.0, 0.25])


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        yield


def _expected(fun):
    return numerical_grad(fun, (X.copy(),), 0)


@pytest.mark.parametrize("fun", cases.ACCEPTED, ids=lambda f: f.__name__)
@pytest.mark.parametrize("engine", ["source", "tape", "auto"])
def test_accepted_cases_match_finite_differences(fun, engine):
    g = srcgrad.grad(fun, engine=engine)(X.copy())
    np.testing.assert_allclose(g, _expected(fun), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fun", cases.ACCEPTED, ids=lambda f: f.__name__)
def test_accepted_cases_forward_mode(fun):
    value, tangent = srcgrad.jvp(fun, (X.copy(),), (T,), engine="source")
    assert value == pytest.approx(fun(X.copy()))
    assert tangent == pytest.approx(float(_expected(fun) @ T), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("fun", cases.REFUSED, ids=lambda f: f.__name__)
def test_refused_cases_are_located_and_run_on_the_tape(fun):
    with pytest.raises(TransformError) as info:
        srcgrad.grad(fun, engine="source")
    error = info.value
    assert error.filename == inspect.getsourcefile(cases)
    assert error.lineno > 0 and error.line.strip()
    assert "engine=" in error.hint or error.hint
    for engine in ("tape", "auto"):
        g = srcgrad.grad(fun, engine=engine)(X.copy())
        np.testing.assert_allclose(g, _expected(fun), rtol=1e-6, atol=1e-8)


def test_refusals_point_at_the_change():
    checks = {
        cases.callee_appends: "v.append(a * 2.0)",
        cases.alias_appended: "b.append",
        cases.alias_item_written: "b[0] =",
        cases.alias_augmented: "b += [x[1]]",
        cases.list_inside_list_changed: "row.append",
        cases.nested_item_written: "rows[0][1] =",
        cases.mutable_default: "acc.append(v)",
        cases.generator_function: "squares(x)",
        cases.generator_kept: "(v * v for v in x)",
        cases.active_list_repeated: "[x[0], x[1]] * 2",
    }
    for fun, text in checks.items():
        with pytest.raises(TransformError) as info:
            srcgrad.grad(fun, engine="source")
        assert text in info.value.line, (fun.__name__, info.value.line)


def test_a_list_argument_may_be_changed_by_nobody_else():
    # the caller's list is changed by the call in Python: the tape sees that too
    lst = [1.0]
    srcgrad.grad(cases.appends_to_argument, argnums=1, engine="tape")(lst, 0.5)
    assert len(lst) == 2


def _list_loss(v):
    return cases.total(v) * np.sum(v[2]) + np.sum(v[0] * v[1])


@pytest.mark.parametrize("engine", ["source", "tape"])
def test_gradient_with_respect_to_a_list_argument_is_a_list(engine):
    xs = [np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])[:2], np.array([0.5, -1.0])]
    g = srcgrad.grad(_list_loss, engine=engine)(xs)
    assert isinstance(g, list) and len(g) == 3
    expected = numerical_grad(_list_loss, (xs,), 0)
    for got, want in zip(g, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_a_tuple_returned_by_a_callee_carries_every_cotangent():
    # (the gradient was a third of the answer)
    g = srcgrad.grad(cases.tuple_returned_by_callee, engine="source")(X)
    np.testing.assert_allclose(g, 4 * X)


@pytest.mark.parametrize("fun", [cases.list_literal_to_callee, cases.tuple_returned_by_callee,
                                 cases.concatenated_in_loop, cases.rows_to_callee,
                                 cases.list_to_callee_in_loop],
                         ids=lambda f: f.__name__)
def test_second_derivatives_through_lists(fun):
    hessian = srcgrad.hessian(fun, engine="source")(X.copy())
    gradient = srcgrad.grad(fun, engine="tape")
    expected = np.array([numerical_grad(lambda v, i=i: gradient(v)[i], (X.copy(),), 0)
                         for i in range(X.size)])
    np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-6)
    value, g = srcgrad.value_and_grad(fun, engine="source")(X.copy())
    assert value == pytest.approx(fun(X.copy()))
    np.testing.assert_allclose(g, _expected(fun), rtol=1e-6, atol=1e-8)


def test_a_returned_tuple_used_as_an_array():
    fun = cases.tuple_summed_as_array
    g = srcgrad.grad(fun, engine="source")(X.copy())
    np.testing.assert_allclose(g, _expected(fun), rtol=1e-6, atol=1e-8)
    with pytest.raises(RuntimeError, match="plain NumPy array"):
        srcgrad.grad(fun, engine="tape")(X.copy())
