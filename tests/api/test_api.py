"""The public transforms: engine choice, fallback, mixed mode and argument checks."""

import warnings

import numpy as np
import pytest

import srcgrad
from tests.api import mixed_helpers as mh


def central_difference(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def test_mixed_mode_runs_an_untransformable_callee_on_the_tape():
    x = np.array([0.1, 0.4, -0.7])
    with pytest.warns(srcgrad.FallbackWarning, match=r"helper_with_try .*try statement"):
        g = srcgrad.grad(mh.outer)
    assert g.engine == "source"
    assert "helper_with_try" in g.source
    np.testing.assert_allclose(g(x), central_difference(mh.outer, x), rtol=1e-6)


def test_mixed_mode_with_constant_and_differentiated_arguments():
    x = np.array([0.3, -0.2])
    w = np.array([1.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        gx, gw = srcgrad.grad(mh.outer_two_args, argnums=(0, 1))(x, w)
    np.testing.assert_allclose(gx, central_difference(lambda v: mh.outer_two_args(v, w), x),
                               rtol=1e-6)
    np.testing.assert_allclose(gw, central_difference(lambda v: mh.outer_two_args(x, v), w),
                               rtol=1e-6)


def test_auto_falls_back_to_the_tape_with_one_warning():
    with pytest.warns(srcgrad.FallbackWarning, match=r"a try statement at .*mixed_helpers.py:"):
        g = srcgrad.grad(mh.helper_with_try)
    assert g.engine == "tape"
    with pytest.raises(AttributeError, match="tape engine"):
        _ = g.source
    with pytest.raises(TypeError, match="scalar"):
        g(np.ones(2))


def test_engine_source_raises_transform_error():
    with pytest.raises(srcgrad.TransformError, match="mixed_helpers.py:7:5"):
        srcgrad.grad(mh.helper_with_try, engine="source")


def test_argument_errors():
    def f(x, y):
        return np.sum(x * y)

    with pytest.raises(ValueError, match="argnums 2 is out of range for .*f\\(x, y\\)"):
        srcgrad.grad(f, argnums=2)
    with pytest.raises(TypeError, match="argnums must be an int"):
        srcgrad.grad(f, argnums="x")
    with pytest.raises(ValueError, match="engine must be one of"):
        srcgrad.grad(f, engine="jit")
    with pytest.raises(TypeError, match="expects a callable"):
        srcgrad.grad(3)
    g = srcgrad.grad(f)
    with pytest.raises(TypeError, match="dtype int64.*floating-point"):
        g(np.array([1, 2]), np.ones(2))
    with pytest.raises(TypeError, match="return a scalar.*shape \\(2,\\)"):
        srcgrad.grad(lambda x: x * 2.0)(np.ones(2))


@pytest.mark.parametrize("engine", ["auto", "tape"])
def test_decorator_value_and_grad_and_vjp(engine):
    @srcgrad.grad
    def d(x):
        return np.sum(np.sin(x))

    x = np.array([0.2, 1.1])
    np.testing.assert_allclose(d(x), np.cos(x))
    assert d.fun(x) == pytest.approx(np.sum(np.sin(x)))
    value, grad = srcgrad.value_and_grad(lambda v: np.sum(v ** 3), engine=engine)(x)
    assert value == pytest.approx(np.sum(x ** 3))
    np.testing.assert_allclose(grad, 3 * x ** 2)
    out, pullback = srcgrad.vjp(lambda a, b: a * b, x, 2.0 * x, engine=engine)
    ga, gb = pullback(np.ones(2))
    np.testing.assert_allclose(ga, 2.0 * x)
    np.testing.assert_allclose(gb, x)


@pytest.mark.parametrize("engine", ["auto", "tape"])
def test_dtype_and_python_float_follow_the_input(engine):
    g = srcgrad.grad(lambda v: np.sum(v * v), engine=engine)
    assert g(np.ones(3, dtype=np.float32)).dtype == np.float32
    h = srcgrad.grad(lambda v: v * v * 3.0, engine=engine)
    out = h(2.0)
    assert isinstance(out, float) and out == pytest.approx(12.0)


@pytest.mark.parametrize("engine", ["source", "tape"])
def test_primitives_returning_several_arrays(engine):
    from tests.api import sequence_functions as sf

    x = np.array([0.3, -1.2, 0.8, 2.0])
    m = np.array([[2.0, 0.3], [0.1, 1.5]])
    for fun, arg in ((sf.unpack_split, x), (sf.index_named_result, m),
                     (sf.unpack_named_result, m)):
        got = srcgrad.grad(fun, engine=engine)(arg)
        np.testing.assert_allclose(got, central_difference(fun, arg), rtol=1e-6, atol=1e-8)
