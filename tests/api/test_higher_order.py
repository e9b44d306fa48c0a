"""jvp, jacobian, hessian and hvp against finite differences."""

import numpy as np
import pytest

import srcgrad
from tests.api.higher_order_functions import FUNCTIONS

RNG = np.random.default_rng(7)


def numeric_gradient(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def numeric_jacobian(f, x, eps=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))).ravel() / (2 * eps))
    out_shape = np.shape(f(x))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_hessian_matches_finite_differences_of_the_gradient(fun):
    x = RNG.uniform(-0.8, 0.8, size=4)
    h = srcgrad.hessian(fun)(x)
    gradient = srcgrad.grad(fun)
    expected = numeric_jacobian(gradient, x, eps=1e-5)
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_hvp_is_the_hessian_times_the_vector(fun):
    x = RNG.uniform(-0.8, 0.8, size=4)
    v = RNG.standard_normal(4)
    np.testing.assert_allclose(srcgrad.hvp(fun, (x,), (v,)),
                               srcgrad.hessian(fun)(x) @ v, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_jvp_of_the_gradient_matches_directional_differences(fun):
    x = RNG.uniform(-0.8, 0.8, size=4)
    v = RNG.standard_normal(4)
    eps = 1e-6
    out, tangent = srcgrad.jvp(fun, (x,), (v,))
    assert out == pytest.approx(fun(x))
    assert tangent == pytest.approx((fun(x + eps * v) - fun(x - eps * v)) / (2 * eps),
                                    rel=1e-6, abs=1e-8)


def test_jacobian_of_a_vector_function_and_argnums():
    def f(a, b):
        return np.sin(a) * b[:3] + np.cumsum(a) * np.sum(b)

    a, b = RNG.standard_normal(3), RNG.standard_normal(4)
    ja, jb = srcgrad.jacobian(f, argnums=(0, 1))(a, b)
    assert ja.shape == (3, 3) and jb.shape == (3, 4)
    np.testing.assert_allclose(ja, numeric_jacobian(lambda v: f(v, b), a), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(jb, numeric_jacobian(lambda v: f(a, v), b), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(srcgrad.jacobian(f)(a, b), ja)


def test_hessian_with_two_arguments_is_nested_like_jax():
    def g(a, b):
        return np.sum(a * b ** 2) + np.sum(a ** 3)

    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    (haa, hab), (hba, hbb) = srcgrad.hessian(g, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(haa, np.diag(6 * a))
    np.testing.assert_allclose(hab, np.diag(2 * b))
    np.testing.assert_allclose(hba, np.diag(2 * b))
    np.testing.assert_allclose(hbb, np.diag(2 * a))


def test_multiple_primals_and_errors():
    def f(a, b):
        return np.sum(a * a * b)

    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ha, hb = srcgrad.hvp(f, (a, b), (np.ones(2), np.zeros(2)))
    np.testing.assert_allclose(ha, 2 * b)
    np.testing.assert_allclose(hb, 2 * a)
    for engine in ("source", "tape"):
        out, tangent = srcgrad.jvp(f, (a, b), (a, b), engine=engine)
        assert out == pytest.approx(f(a, b))
        assert tangent == pytest.approx(np.sum(2 * a * a * b + a * a * b))
    with pytest.raises(ValueError, match="one tangent per primal"):
        srcgrad.jvp(f, (a, b), (a,))
    with pytest.raises(ValueError, match="shape"):
        srcgrad.jvp(f, (a, b), (a, np.ones(3)))
    with pytest.raises(TypeError, match="scalar"):
        srcgrad.hessian(lambda v: v * 2.0)(a)


def _loss_with_aux(x):
    return np.sum(x * x), 3


def test_a_transform_without_generated_code_is_refused_with_its_location():
    from srcgrad.compiler import compile_vjp

    with pytest.raises(srcgrad.TransformError) as info:
        compile_vjp(srcgrad.grad(_loss_with_aux, has_aux=True), (0,))
    assert "test_higher_order.py" in info.value.filename and info.value.lineno > 0
    assert 'engine="tape"' in info.value.hint
