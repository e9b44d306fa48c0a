"""Nests of transforms that once gave a silently wrong number, each checked exactly or
against central differences. Every nest must be right on the tape and under ``auto``;
``engine="source"`` must be right or refuse with a ``TransformError``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, NestingError, TransformError
from tests.soundness.nested_fd import reference

ENGINES = ("tape", "auto")
X = np.array([0.3, -0.7])
A = np.array([[2.0, 0.3], [0.3, 1.0]])


@pytest.fixture(autouse=True)
def _quiet_fallbacks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        yield


def _right_or_refused(compute, expected, **tolerances):
    """engine="source": the right number, or a refusal auto can fall back from."""
    try:
        value = compute()
    except TransformError:
        return
    np.testing.assert_allclose(value, expected, **tolerances)


def wave(x):
    return np.sin(x)


def cube(y):
    return y ** 3


def product_square(x, y):
    return x * y ** 2


def vector_map(x):
    return np.sin(x) * x[0]


def calls_jvp(x, engine):
    return srcgrad.jvp(wave, (x,), (1.0,), engine=engine)[1]


def pulled_back(x, g, engine):
    return srcgrad.vjp(wave, x, engine=engine)[1](g)[0]


def calls_grad(x, engine):
    return srcgrad.grad(cube, engine=engine)(x)


def first_of_value_and_grad(x, engine):
    return srcgrad.value_and_grad(cube, engine=engine)(x)[0]


# ---------------------------------------------------------------------------
# differentiating a function that calls srcgrad.jvp

@pytest.mark.parametrize("engine", ENGINES)
def test_gradient_of_a_function_calling_jvp(engine):
    d = srcgrad.grad(lambda x: calls_jvp(x, engine), engine=engine)
    assert d(0.5) == pytest.approx(-np.sin(0.5), rel=1e-12)


def test_source_engine_refuses_a_function_calling_jvp():
    def directional(x):
        return srcgrad.jvp(wave, (x,), (1.0,))[1]

    with pytest.raises(TransformError, match="srcgrad.jvp"):
        srcgrad.grad(directional, engine="source")
    with pytest.warns(FallbackWarning):
        d = srcgrad.grad(directional)
    assert d(0.5) == pytest.approx(-np.sin(0.5), rel=1e-12)


# ---------------------------------------------------------------------------
# the VJP of a pullback, with respect to its cotangent and to its primal

@pytest.mark.parametrize("engine", ENGINES)
def test_gradient_of_a_pullback_with_respect_to_the_cotangent_and_the_primal(engine):
    f = lambda x, g: pulled_back(x, g, engine)
    dg = srcgrad.grad(f, argnums=1, engine=engine)(0.5, 2.0)
    assert dg == pytest.approx(np.cos(0.5), rel=1e-12)
    dx = srcgrad.grad(f, argnums=0, engine=engine)(0.5, 2.0)
    assert dx == pytest.approx(-2.0 * np.sin(0.5), rel=1e-12)
    both = srcgrad.grad(f, argnums=(0, 1), engine=engine)(0.5, 2.0)
    np.testing.assert_allclose(both, (-2.0 * np.sin(0.5), np.cos(0.5)), rtol=1e-12)


@pytest.mark.parametrize("outer", ["tape", "auto"])
@pytest.mark.parametrize("inner", ["tape", "auto"])
def test_a_pullback_made_outside_is_differentiated_with_respect_to_its_cotangent(outer, inner):
    x = X.copy()
    _, pullback = srcgrad.vjp(vector_map, x, engine=inner)
    w = np.array([1.5, -0.5])
    d = srcgrad.grad(lambda g: np.sum(pullback(g)[0] * w), engine=outer)(np.array([0.2, 0.9]))
    jac = reference.jacobian(vector_map)(x)
    np.testing.assert_allclose(d, jac @ w, rtol=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_second_order_of_a_vector_pullback(engine):
    # d/dx of <g, J(x) v>: the pullback's own derivative, as a JAX rule check would take it
    v = np.array([0.4, -1.1])

    def pulled(x, g):
        return np.sum(srcgrad.vjp(vector_map, x, engine=engine)[1](g)[0] * v)

    x, g = X.copy(), np.array([0.7, 0.2])
    for argnum in (0, 1):
        got = srcgrad.grad(pulled, argnums=argnum, engine=engine)(x, g)
        expected = reference.grad(
            lambda x, g: np.sum(reference.vjp(vector_map, x)[1](g)[0] * v), argnums=argnum)(x, g)
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------
# the VJP of tuple- and list-valued functions (eigh, svd, split)

def _check_pullback(fun, x, cotangent, engine):
    _, pullback = srcgrad.vjp(fun, x, engine=engine)
    (got,) = pullback(cotangent)

    def scalar(a):
        out = fun(a)
        return sum(np.sum(np.asarray(o) * c) for o, c in zip(out, cotangent, strict=True))

    expected = reference.grad(scalar)(x)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("engine", ["tape", "auto", "source"])
def test_pullback_of_eigh_svd_and_split(engine):
    eigenvalues = lambda a: np.linalg.eigh(a)
    _check_pullback(eigenvalues, A.copy(), (np.array([1.0, -2.0]), np.zeros((2, 2))), engine)
    singular = lambda a: np.linalg.svd(a)
    m = np.array([[1.0, 0.4, 0.2], [-0.3, 2.0, 0.5]])
    _check_pullback(singular, m, (np.zeros((2, 2)), np.array([0.5, 1.5]), np.zeros((3, 3))),
                    engine)
    halves = lambda a: np.split(a, 2)
    _check_pullback(halves, np.arange(4.0) * 0.3, [np.array([1.0, 2.0]), np.array([-1.0, 3.0])],
                    engine)


# ---------------------------------------------------------------------------
# perturbation confusion: an inner transform closing over an outer primal

@pytest.mark.parametrize("outer", ["tape", "auto"])
@pytest.mark.parametrize("inner", ["tape", "auto"])
def test_inner_gradient_closing_over_the_outer_variable(outer, inner):
    # d/dx [x * d/dy (x y)] = d/dx x^2 = 2x
    d = srcgrad.grad(lambda x: x * srcgrad.grad(lambda y: x * y, engine=inner)(2.0),
                     engine=outer)
    assert d(1.5) == pytest.approx(3.0, rel=1e-12)
    # the inner variable evaluated at the outer one: d/dx [d/dy (x y) at y=x] = d/dx x = 1
    same = srcgrad.grad(lambda x: srcgrad.grad(lambda y: x * y, engine=inner)(x), engine=outer)
    assert same(1.5) == pytest.approx(1.0, rel=1e-12)


def spread(c):
    def inner(y):
        return np.sum(np.sin(y * c) * y)
    return inner


Y = np.array([0.5, 1.5])
T = np.array([0.3, -0.2])


def _inner_nests(S):
    """Outer functions of x whose inner transform (S's, default engine) closes over x."""
    return {
        "grad": lambda x: np.sum(S.grad(lambda y: spread(x)(y[0] * Y))(np.array([0.7]))) * x,
        "hessian": lambda x: np.sum(S.hessian(spread(x))(Y)) * x,
        "jvp": lambda x: S.jvp(spread(x), (Y,), (T,))[1] * x,
        "hvp": lambda x: np.sum(S.hvp(spread(x), (Y,), (T,))) * x,
        "jacobian": lambda x: np.sum(S.jacobian(spread(x))(Y)) * x,
        "value_and_grad": lambda x: S.value_and_grad(spread(x))(Y)[0] * x,
        "vjp": lambda x: S.vjp(spread(x), Y)[1](2.0)[0][1] * x,
    }


@pytest.mark.parametrize("outer", ["tape", "auto"])
@pytest.mark.parametrize("kind", list(_inner_nests(srcgrad)))
def test_inner_transform_with_generated_code_records_onto_the_outer_tape(outer, kind):
    # the inner transforms have generated code; run inside a function the tape
    # differentiates, they must record onto that tape (never return constants)
    assert srcgrad.grad(spread(0.4)).engine == "source"
    got = srcgrad.grad(_inner_nests(srcgrad)[kind], engine=outer)(1.2)
    expected = reference.grad(_inner_nests(reference)[kind])(1.2)
    assert got == pytest.approx(expected, rel=1e-7)


def test_inner_source_engine_inside_the_tape_is_refused():
    gy = srcgrad.grad(product_square, argnums=1, engine="source")
    with pytest.raises(NestingError, match="engine='source'"):
        srcgrad.grad(lambda x: gy(x, 0.3), engine="tape")(1.2)


# ---------------------------------------------------------------------------
# differentiating value_and_grad(f)(x)[0]

@pytest.mark.parametrize("engine", ENGINES)
def test_gradient_of_the_value_of_value_and_grad(engine):
    d = srcgrad.grad(lambda x: first_of_value_and_grad(x, engine), engine=engine)
    assert d(1.5) == pytest.approx(3 * 1.5 ** 2, rel=1e-12)
    both = srcgrad.grad(lambda x: srcgrad.value_and_grad(cube, engine=engine)(x)[0]
                        * srcgrad.value_and_grad(cube, engine=engine)(x)[1], engine=engine)
    # d/dx [x^3 * 3x^2] = 15 x^4
    assert both(1.5) == pytest.approx(15 * 1.5 ** 4, rel=1e-12)


# ---------------------------------------------------------------------------
# jacobian(jacobian(f)) is the second derivative, never the first

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("outer", ["jacobian", "jacfwd", "jacrev"])
def test_jacobian_of_a_jacobian(engine, outer):
    second = getattr(srcgrad, outer)(srcgrad.jacobian(vector_map, engine=engine), engine=engine)
    got = second(X.copy())
    expected = reference.jacobian(reference.jacobian(vector_map))(X.copy())
    assert got.shape == (2, 2, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


def test_source_engine_refuses_a_jacobian_of_a_jacobian():
    with pytest.raises(NestingError, match="srcgrad.jacobian"):
        srcgrad.jacobian(srcgrad.jacobian(vector_map), engine="source")
    with pytest.raises(NestingError):
        srcgrad.hessian(srcgrad.jacobian(vector_map), engine="source")


# ---------------------------------------------------------------------------
# a gradient with respect to a later argument, differentiated in an earlier one

@pytest.mark.parametrize("engine", ENGINES)
def test_gradient_through_a_gradient_in_another_argument(engine):
    gy = srcgrad.grad(product_square, argnums=1, engine=engine)
    d = srcgrad.grad(lambda x: gy(x, 0.3), engine=engine)
    assert d(1.2) == pytest.approx(0.6, rel=1e-12)   # d/dx 2xy


# ---------------------------------------------------------------------------
# vjp of a function that calls grad

def test_vjp_of_a_function_calling_grad_falls_back_under_auto():
    def slope(x):
        return srcgrad.grad(cube)(x)

    with pytest.warns(FallbackWarning):
        _, pullback = srcgrad.vjp(slope, 1.5)
    assert pullback(2.0)[0] == pytest.approx(2.0 * 6 * 1.5, rel=1e-12)
    with pytest.raises(NestingError, match="calls a gradient"):
        srcgrad.vjp(slope, 1.5, engine="source")
    _, pullback = srcgrad.vjp(slope, 1.5, engine="tape")
    assert pullback(2.0)[0] == pytest.approx(2.0 * 6 * 1.5, rel=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_jvp_with_respect_to_its_tangent(engine):
    def tangent(x, t):
        return np.sum(srcgrad.jvp(vector_map, (x,), (t,), engine=engine)[1] * X)

    x, t = np.array([0.5, 0.25]), np.array([-0.3, 0.8])
    for argnum in (0, 1):
        got = srcgrad.grad(tangent, argnums=argnum, engine=engine)(x, t)
        expected = reference.grad(
            lambda x, t: np.sum(reference.jvp(vector_map, (x,), (t,))[1] * X),
            argnums=argnum)(x, t)
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    _right_or_refused(lambda: srcgrad.grad(tangent, argnums=1, engine="source")(x, t),
                      reference.jacobian(vector_map)(x).T @ X, rtol=1e-7)


# ---------------------------------------------------------------------------
# functions independent of the differentiated input, outer or nested

def linear_in_x(x, y):
    return np.sum(x * np.log(1.0 + y ** 2))


@pytest.mark.parametrize("engine", ENGINES)
def test_derivatives_of_functions_that_do_not_depend_on_the_input(engine):
    x = X.copy()
    assert np.all(srcgrad.jacobian(lambda x: np.ones(3), engine=engine)(x) == 0)
    assert np.all(srcgrad.hessian(lambda x: 1.0, engine=engine)(x) == 0)
    assert np.all(srcgrad.hvp(lambda x: 1.0, (x,), (x,), engine=engine) == 0)
    assert np.all(srcgrad.jvp(lambda x: np.ones(3), (x,), (x,), engine=engine)[1] == 0)
    # the Hessian in x of a function linear in x is zero, and so is its own Hessian
    fourth = srcgrad.hessian(lambda x, y: np.sum(srcgrad.hessian(linear_in_x, engine=engine)(
        x, y)), engine=engine)
    assert fourth(0.3, np.array([0.5, -0.4])) == 0.0
    nested = srcgrad.grad(lambda x: np.sum(srcgrad.hvp(lambda y: 1.0, (x,), (x,),
                                                       engine=engine)) + x[0], engine=engine)
    np.testing.assert_array_equal(nested(x), [1.0, 0.0])


# -- forward mode over reverse code that called the tape -------------------------------
# (found by the nesting fuzzer once its wrappers took explicit parameters: under auto
# the outer Hessian crashed inside generated code, in a tangent through the tape's
# pullback, with "only Tensors of floating point dtype can require gradients")

def _odd_wave(x):
    return np.sin(x) * x + x ** 3 / 3


def _on_the_tape_inside(a, engine):
    # a transform of a lambda made here: the source engine does not transform it, so
    # a caller's generated reverse code runs it on the tape (mixed mode)
    return srcgrad.value_and_grad(lambda u: _odd_wave(u), engine=engine)(a)


def _mixed(a, engine):
    value, slope = _on_the_tape_inside(a, engine)
    return 0.5 * value + slope


@pytest.mark.parametrize("engine", ENGINES + ("source",))
def test_hessian_over_a_call_that_ran_on_the_tape(engine):
    x = 0.3
    second = -x * np.sin(x) + 2 * np.cos(x) + 2 * x
    third = -x * np.cos(x) - 3 * np.sin(x) + 2
    expected = 0.5 * second + third
    inner = "tape" if engine == "tape" else "auto"

    def compute():
        return srcgrad.hessian(lambda u: _mixed(u, inner), engine=engine)(x)
    if engine == "source":
        _right_or_refused(compute, expected, rtol=1e-10)
    else:
        np.testing.assert_allclose(compute(), expected, rtol=1e-10)
    # and one level less: the gradient itself
    first = np.cos(x) * x + np.sin(x) + x ** 2
    grad = srcgrad.grad(lambda u: _mixed(u, inner), engine=engine if engine != "source"
                        else "auto")(x)
    np.testing.assert_allclose(grad, 0.5 * first + second, rtol=1e-10)
