"""What a differentiated function returns: both engines agree, errors say what came back.

``grad`` of a function that returns no scalar (``None``, a tuple, a list, a dict,
a string) raises a ``TypeError`` naming what was returned and, for tuples,
``has_aux``; Jacobians and JVPs of tuple outputs are right in both engines.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from tests.compiler.fd import numerical_grad

X = np.array([0.3, -1.2, 0.7])
ENGINES = ("source", "tape", "auto")


def no_return(x):
    np.sum(x * x)


def returns_tuple(x):
    return np.sum(x), np.sum(x * x)


def returns_list(x):
    return [np.sum(x * x), x]


def returns_dict(x):
    return {"loss": np.sum(x)}


def returns_string(x):
    return "done"


def pair(a, b):
    return a, b


def callee_tuple(x):
    r = pair(np.sum(x), np.sum(x * x))
    return r


def scalar(x):
    return np.sum(x * x)


def arrays(x):
    return np.sin(x), x * 2.0


def arrays_list(x):
    return [np.sin(x) * x, np.cos(x)]


def two_args(x, y):
    return np.sin(x) * y, x * y


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        yield


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fun,what", [
    (no_return, "returned None"), (returns_tuple, "a tuple of 2 items"),
    (returns_list, "a list of 2 items"), (returns_dict, "a dict"),
    (returns_string, "a string"), (callee_tuple, "a tuple of 2 items")])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "hessian"])
def test_grad_of_no_scalar_says_what_was_returned(engine, fun, what, transform):
    make = getattr(srcgrad, transform)
    with pytest.raises(TypeError, match=what) as info:
        make(fun, engine=engine)(X)
    if isinstance(fun(X), tuple):
        assert "has_aux" in str(info.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_has_aux_needs_a_pair(engine):
    with pytest.raises(TypeError, match=r"has_aux=True .* pair .* a scalar"):
        srcgrad.grad(scalar, engine=engine, has_aux=True)(X)
    g, aux = srcgrad.grad(returns_tuple, engine=engine, has_aux=True)(X)
    np.testing.assert_allclose(g, np.ones(3))
    np.testing.assert_allclose(aux, np.sum(X * X))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["jvp", "jacobian"])
def test_forward_of_none_is_an_error(engine, kind):
    with pytest.raises(TypeError, match=f"{kind} requires .* returned None"):
        if kind == "jvp":
            srcgrad.jvp(no_return, (X,), (np.ones(3),), engine=engine)
        else:
            srcgrad.jacobian(no_return, engine=engine)(X)


def _fd_jacobian(f, x):
    cols = [numerical_grad(lambda v, i=i: f(v)[i], (x,), 0) for i in range(x.size)]
    return np.array(cols)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fun", [arrays, arrays_list, returns_tuple])
def test_tuple_outputs_vjp_jvp_jacobian(engine, fun):
    out, pullback = srcgrad.vjp(fun, X, engine=engine)
    cts = type(out)(np.ones_like(o) * (k + 2) for k, o in enumerate(out))
    (g,) = pullback(cts)

    def dot(v):
        return sum(np.sum(o * c) for o, c in zip(fun(v), cts, strict=True))
    np.testing.assert_allclose(g, numerical_grad(dot, (X,), 0), rtol=1e-6, atol=1e-8)
    t = np.array([0.5, -1.0, 2.0])
    value, tangent = srcgrad.jvp(fun, (X,), (t,), engine=engine)
    eps = 1e-6
    plus, minus = fun(X + eps * t), fun(X - eps * t)
    for k in range(len(value)):
        np.testing.assert_allclose(tangent[k], (np.asarray(plus[k]) - np.asarray(minus[k]))
                                   / (2 * eps), rtol=1e-6, atol=1e-8)
    jac = srcgrad.jacobian(fun, engine=engine)(X)
    assert len(jac) == len(value)
    for k in range(len(value)):
        expected = np.array([numerical_grad(lambda v, k=k, i=i: np.ravel(fun(v)[k])[i], (X,), 0)
                             for i in range(np.size(value[k]))]).reshape(
            np.shape(value[k]) + X.shape)
        np.testing.assert_allclose(jac[k], expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("engine", ENGINES)
def test_jacobian_of_tuple_output_with_several_arguments_nests_output_first(engine):
    y = np.array([1.0, 2.0, 0.5])
    jac = srcgrad.jacobian(two_args, argnums=(0, 1), engine=engine)(X, y)
    assert len(jac) == 2 and all(len(row) == 2 for row in jac)
    np.testing.assert_allclose(jac[0][0], np.diag(np.cos(X) * y))
    np.testing.assert_allclose(jac[0][1], np.diag(np.sin(X)))
    np.testing.assert_allclose(jac[1][0], np.diag(y))
    np.testing.assert_allclose(jac[1][1], np.diag(X))


def three_items(x):
    return np.sum(x), x, 2.0


def output_not_scalar(x):
    return (x, x), 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_has_aux_errors_name_the_function_and_what_came_back(engine):
    with pytest.raises(TypeError, match=r"has_aux=True requires scalar to return a pair .* "
                                        r"a scalar \(float64\)"):
        srcgrad.value_and_grad(scalar, engine=engine, has_aux=True)(X)
    with pytest.raises(TypeError, match="three_items .* a tuple of 3 items"):
        srcgrad.value_and_grad(three_items, engine=engine, has_aux=True)(X)
    with pytest.raises(TypeError, match="has_aux=True requires scalar to return a pair"):
        srcgrad.vjp(scalar, X, engine=engine, has_aux=True)
    with pytest.raises(TypeError, match="scalar output, but the output is a tuple of 2 items"):
        srcgrad.grad(output_not_scalar, engine=engine, has_aux=True)(X)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fun,what", [(no_return, "None"), (returns_tuple, "a tuple of 2")])
def test_hvp_of_no_scalar(engine, fun, what):
    with pytest.raises(TypeError, match=what):
        srcgrad.hvp(fun, (X,), (X,), engine=engine)
