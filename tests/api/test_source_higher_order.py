"""Second order and forward mode on the source engine, against float64 central differences.

Hessians, Hessian-vector products and ``grad(grad(g))`` run forward-over-reverse
through the generated gradient code; ``jvp`` runs the generated tangent code.
Every transform here must stay on the source engine: a fallback to the tape is
an error, and the tape engine is used only as an independent reference.
"""

import inspect

import numpy as np
import pytest

import srcgrad
import srcgrad.api
import srcgrad.compiler.transform
from srcgrad.errors import FallbackWarning
from tests.api.hessian_functions import (
    SCALAR_FUNCTIONS,
    SCALAR_TO_SCALAR,
    T_VALUES,
    VECTOR_FUNCTIONS,
    V,
    W,
    X,
    Y,
    mixed_pair,
    s_branch,
    s_elif_chain,
    s_polynomial_loop,
    solve_two_args,
    ufunc_chain,
    vec_elementwise,
    vec_two_args,
    vec_two_args_loop,
)

pytestmark = pytest.mark.filterwarnings("error::srcgrad.errors.FallbackWarning")

# documented tape limitations (writes into np.zeros arrays, math.* on tape values): these
# functions are checked against differences only, not against the tape engine
TAPE_UNSUPPORTED = {"subscript_write_loop", "slice_writes", "vec_loop_writes", "s_math",
                    "s_helper"}


@pytest.fixture(autouse=True)
def _fresh_transforms(monkeypatch):
    """Every test compiles afresh, so a fallback warns in every test that meets it.

    srcgrad warns once per function and caches transforms: without this, whether a
    fallback raises (the module filter) would depend on the order the tests run in.
    """
    monkeypatch.setattr(srcgrad.api, "_warned", set())
    srcgrad.compiler.clear_cache()


def _name(f):
    return f.__name__


def _arity(fun):
    return len(inspect.signature(fun).parameters)


def _args(fun):
    return (X.copy(), Y.copy())[:_arity(fun)]


def _tangents(fun):
    return (V.copy(), W.copy())[:_arity(fun)]


def numeric_jacobian(f, x, eps=1e-6):
    """d f(x) / d x by central differences, shaped ``f(x).shape + x.shape``."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        plus, minus = np.asarray(f(x + e), np.float64), np.asarray(f(x - e), np.float64)
        columns.append((plus - minus).ravel() / (2 * eps))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def _replace(args, k, value):
    new = list(args)
    new[k] = value
    return tuple(new)


def _directional(f, args, tangents, eps=1e-6):
    plus = f(*(a + eps * t for a, t in zip(args, tangents, strict=True)))
    minus = f(*(a - eps * t for a, t in zip(args, tangents, strict=True)))
    return (np.asarray(plus) - np.asarray(minus)) / (2 * eps)


# ---------------------------------------------------------------------------
# Hessians of scalar functions

@pytest.mark.parametrize("fun", SCALAR_FUNCTIONS, ids=_name)
def test_hessian_is_source_and_matches_differences_of_the_gradient(fun):
    args = _args(fun)
    hessian = srcgrad.hessian(fun)
    assert hessian.engine == "source"
    assert "# tangent of:" in hessian.source
    h = hessian(*args)
    assert h.shape == (X.size, X.size)
    gradient = srcgrad.grad(fun)
    assert gradient.engine == "source"
    expected = numeric_jacobian(lambda v: gradient(*_replace(args, 0, v)), args[0], eps=1e-5)
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("fun", SCALAR_FUNCTIONS, ids=_name)
def test_hessian_engines_agree(fun):
    if fun.__name__ in TAPE_UNSUPPORTED:
        pytest.skip("the tape engine does not support this function")
    args = _args(fun)
    source = srcgrad.hessian(fun, engine="source")(*args)
    tape = srcgrad.hessian(fun, engine="tape")
    assert tape.engine == "tape"
    np.testing.assert_allclose(source, tape(*args), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("fun", SCALAR_FUNCTIONS, ids=_name)
def test_hvp_and_jvp_of_the_gradient_are_the_hessian_times_the_vector(fun):
    args, tangents = _args(fun), _tangents(fun)
    if len(args) == 1:
        h = srcgrad.hessian(fun)(*args)
        product = srcgrad.hvp(fun, args, tangents, engine="source")
        np.testing.assert_allclose(product, h @ V, rtol=1e-9, atol=1e-10)
        gradient = srcgrad.grad(fun)
        g, tangent = srcgrad.jvp(gradient, args, tangents, engine="source")
        np.testing.assert_allclose(g, gradient(*args), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(tangent, h @ V, rtol=1e-9, atol=1e-10)
        return
    # two arguments: the full Hessian is a nested tuple of blocks, as in JAX
    (hxx, hxy), (hyx, hyy) = srcgrad.hessian(fun, argnums=(0, 1))(*args)
    np.testing.assert_allclose(hxy, hyx.T, rtol=1e-9, atol=1e-10)
    expected = (hxx @ V + hxy @ W, hyx @ V + hyy @ W)
    px, py = srcgrad.hvp(fun, args, tangents, engine="source")
    np.testing.assert_allclose(px, expected[0], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(py, expected[1], rtol=1e-9, atol=1e-10)
    gradient = srcgrad.grad(fun, argnums=(0, 1))
    (gx, gy), (tx, ty) = srcgrad.jvp(gradient, args, tangents, engine="source")
    np.testing.assert_allclose(tx, expected[0], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ty, expected[1], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(gx, gradient(*args)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gy, gradient(*args)[1], rtol=1e-12, atol=1e-12)
    # and the tape's cross blocks
    (_, txy), _ = srcgrad.hessian(fun, argnums=(0, 1), engine="tape")(*args)
    np.testing.assert_allclose(hxy, txy, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("fun", SCALAR_FUNCTIONS, ids=_name)
def test_jvp_matches_directional_differences_and_the_gradient(fun):
    args, tangents = _args(fun), _tangents(fun)
    out, tangent = srcgrad.jvp(fun, args, tangents, engine="source")
    assert float(out) == pytest.approx(float(fun(*args)), rel=1e-12, abs=1e-12)
    assert float(tangent) == pytest.approx(float(_directional(fun, args, tangents)),
                                           rel=1e-6, abs=1e-7)
    grads = srcgrad.grad(fun, argnums=tuple(range(len(args))))(*args)
    expected = sum(float(g @ t) for g, t in zip(grads, tangents, strict=True))
    assert float(tangent) == pytest.approx(expected, rel=1e-10, abs=1e-10)


# ---------------------------------------------------------------------------
# grad of a gradient

@pytest.mark.parametrize("t", T_VALUES)
@pytest.mark.parametrize("g", SCALAR_TO_SCALAR, ids=_name)
def test_grad_of_grad_matches_second_differences(g, t):
    second = srcgrad.grad(srcgrad.grad(g))
    assert second.engine == "source"
    value = second(t)
    assert isinstance(value, float)
    h = 1e-4
    expected = (g(t + h) - 2.0 * g(t) + g(t - h)) / (h * h)
    assert value == pytest.approx(float(expected), rel=1e-5, abs=1e-6)
    first = srcgrad.grad(g)
    from_gradient = (first(t + 1e-6) - first(t - 1e-6)) / 2e-6
    assert value == pytest.approx(from_gradient, rel=1e-7, abs=1e-8)
    if g.__name__ not in TAPE_UNSUPPORTED:
        assert value == pytest.approx(float(srcgrad.hessian(g, engine="tape")(t)),
                                      rel=1e-10, abs=1e-12)


def test_mixed_nested_gradient():
    x, y = X.copy(), Y.copy()
    mixed = srcgrad.grad(lambda x, y: srcgrad.grad(mixed_pair, argnums=0)(x, y)[0], argnums=1)
    assert mixed.engine == "source"
    expected = numeric_jacobian(lambda v: srcgrad.grad(mixed_pair, argnums=0)(x, v)[0], y)
    np.testing.assert_allclose(mixed(x, y), expected, rtol=1e-6, atol=1e-8)
    (_, hxy), _ = srcgrad.hessian(mixed_pair, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(mixed(x, y), hxy[0], rtol=1e-10, atol=1e-12)


def test_mixed_nested_gradient_of_a_named_gradient():
    x, y = X.copy(), Y.copy()
    inner = srcgrad.grad(mixed_pair, argnums=0)
    mixed = srcgrad.grad(lambda x, y: inner(x, y)[0], argnums=1)
    assert mixed.engine == "source"
    (_, hxy), _ = srcgrad.hessian(mixed_pair, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(mixed(x, y), hxy[0], rtol=1e-10, atol=1e-12)
    expected = numeric_jacobian(lambda v: inner(x, v)[0], y)
    np.testing.assert_allclose(mixed(x, y), expected, rtol=1e-6, atol=1e-8)


def test_grad_of_a_directional_derivative_is_the_hessian_times_the_vector():
    x, v = X.copy(), V.copy()
    gradient = srcgrad.grad(ufunc_chain)
    directional = srcgrad.grad(lambda z: gradient(z) @ v)
    assert directional.engine == "source"
    np.testing.assert_allclose(directional(x), srcgrad.hessian(ufunc_chain)(x) @ v,
                               rtol=1e-9, atol=1e-10)
    inline = srcgrad.grad(lambda z: srcgrad.grad(ufunc_chain)(z) @ v)
    assert inline.engine == "source"
    np.testing.assert_allclose(inline(x), srcgrad.hessian(ufunc_chain)(x) @ v,
                               rtol=1e-9, atol=1e-10)


def test_reverse_mode_over_generated_code_is_refused_by_its_origin():
    # ufunc_chain's gradient calls no helper that would give it away as generated
    # code: its origin (the file name it is registered under) does
    from srcgrad.compiler import compile_grad, compile_vjp
    from srcgrad.errors import GeneratedCodeError

    generated = compile_grad(ufunc_chain, (0,))
    assert "unbroadcast" not in generated.source
    with pytest.raises(GeneratedCodeError, match="forward-over-reverse"):
        compile_vjp(generated.function, (0,))


def test_third_order_is_refused_by_the_source_engine():
    second = srcgrad.grad(srcgrad.grad(s_polynomial_loop))
    assert second.engine == "source"
    with pytest.raises(NotImplementedError):
        srcgrad.grad(second, engine="source")
    with pytest.raises(NotImplementedError):
        srcgrad.grad(srcgrad.grad(srcgrad.grad(s_polynomial_loop)), engine="source")


@pytest.mark.parametrize("engine", ["auto", "tape"])
def test_third_order_runs_on_the_tape_when_not_forced_to_source(engine):
    # the NotImplementedError above tells users to pass engine='tape'
    second = srcgrad.grad(srcgrad.grad(s_polynomial_loop))
    if engine == "auto":
        with pytest.warns(FallbackWarning, match="derivative of a derivative"):
            third = srcgrad.grad(second)
    else:
        third = srcgrad.grad(second, engine="tape")
    assert third.engine == "tape"
    # d^3/dt^3 (t + t^2/2 + t^3/3 + t^4/4) = 2 + 6 t
    assert third(0.4) == pytest.approx(2.0 + 6.0 * 0.4, rel=1e-9)


# ---------------------------------------------------------------------------
# Jacobians of vector functions

@pytest.mark.parametrize("fun", VECTOR_FUNCTIONS, ids=_name)
def test_jacobian_modes_agree_with_central_differences(fun):
    x = X.copy()
    expected = numeric_jacobian(fun, x)
    out_size = np.size(fun(x))
    for make in (srcgrad.jacfwd, srcgrad.jacrev, srcgrad.jacobian):
        transform = make(fun)
        assert transform.engine == "source", make.__name__
        j = transform(x)
        assert j.shape == (out_size, x.size), make.__name__
        np.testing.assert_allclose(j, expected, rtol=1e-6, atol=1e-8, err_msg=make.__name__)
    np.testing.assert_allclose(srcgrad.jacfwd(fun)(x), srcgrad.jacrev(fun)(x),
                               rtol=1e-10, atol=1e-12)
    if fun.__name__ not in TAPE_UNSUPPORTED:
        np.testing.assert_allclose(srcgrad.jacobian(fun, engine="tape")(x), expected,
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("size", [2, 7])
def test_jacobian_for_inputs_smaller_and_larger_than_outputs(size):
    x = np.linspace(-0.9, 0.8, size)
    for fun in (vec_elementwise, vec_two_args_as_one):
        expected = numeric_jacobian(fun, x)
        for make in (srcgrad.jacfwd, srcgrad.jacrev, srcgrad.jacobian):
            np.testing.assert_allclose(make(fun)(x), expected, rtol=1e-6, atol=1e-8,
                                       err_msg=f"{make.__name__} {fun.__name__}")


def vec_two_args_as_one(x):
    """R^n -> R^4 (so the input is smaller for n=2 and larger for n=7)."""
    return np.stack([np.sum(np.sin(x)), np.prod(1.0 + 0.1 * x), np.max(x ** 2), x[0] * x[-1]])


@pytest.mark.parametrize("fun, sizes", [(vec_two_args, (3, 4)), (vec_two_args_loop, (4, 2))],
                         ids=["vec_two_args", "vec_two_args_loop"])
def test_jacobian_with_tuple_argnums(fun, sizes):
    a = np.linspace(-0.7, 0.9, sizes[0])
    b = np.linspace(0.3, -0.5, sizes[1])
    expected = (numeric_jacobian(lambda v: fun(v, b), a),
                numeric_jacobian(lambda v: fun(a, v), b))
    for make in (srcgrad.jacfwd, srcgrad.jacrev, srcgrad.jacobian):
        transform = make(fun, argnums=(0, 1))
        assert transform.engine == "source"
        blocks = transform(a, b)
        assert isinstance(blocks, tuple) and len(blocks) == 2
        for block, want in zip(blocks, expected, strict=True):
            assert block.shape == want.shape
            np.testing.assert_allclose(block, want, rtol=1e-6, atol=1e-8,
                                       err_msg=make.__name__)
    np.testing.assert_allclose(srcgrad.jacobian(fun, argnums=1)(a, b), expected[1],
                               rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------
# Derivatives of gradients

@pytest.mark.parametrize("make", [
    srcgrad.jacfwd, srcgrad.jacobian, srcgrad.jacrev,
], ids=lambda m: m.__name__)
def test_jacobian_of_a_gradient_is_the_hessian(make):
    x = X.copy()
    transform = make(srcgrad.grad(ufunc_chain))
    assert transform.engine == "source"
    np.testing.assert_allclose(transform(x), srcgrad.hessian(ufunc_chain)(x), rtol=1e-10,
                               atol=1e-12)


def test_grad_of_a_function_of_the_gradient():
    x = X.copy()
    gradient = srcgrad.grad(ufunc_chain)
    squared = srcgrad.grad(lambda z: np.sum(gradient(z) ** 2))
    assert squared.engine == "source"
    expected = 2.0 * srcgrad.hessian(ufunc_chain)(x) @ gradient(x)
    np.testing.assert_allclose(squared(x), expected, rtol=1e-9, atol=1e-10)


def test_jvp_of_value_and_grad():
    x, v = X.copy(), V.copy()
    (value, g), (dvalue, dg) = srcgrad.jvp(srcgrad.value_and_grad(ufunc_chain), (x,), (v,),
                                           engine="source")
    assert value == pytest.approx(ufunc_chain(x))
    np.testing.assert_allclose(g, srcgrad.grad(ufunc_chain)(x), rtol=1e-12)
    assert dvalue == pytest.approx(float(g @ v), rel=1e-10)
    np.testing.assert_allclose(dg, srcgrad.hessian(ufunc_chain)(x) @ v, rtol=1e-9, atol=1e-10)


def test_hessian_with_respect_to_the_second_argument_and_of_a_float():
    x, y = X.copy(), Y.copy()
    h = srcgrad.hessian(solve_two_args, argnums=1)
    assert h.engine == "source"
    expected = numeric_jacobian(lambda v: srcgrad.grad(solve_two_args, argnums=1)(x, v), y,
                                eps=1e-5)
    np.testing.assert_allclose(h(x, y), expected, rtol=1e-5, atol=1e-6)
    for t in T_VALUES:
        second = srcgrad.grad(srcgrad.grad(s_elif_chain))(t)
        assert float(srcgrad.hessian(s_elif_chain)(t)) == pytest.approx(second, rel=1e-12)
        assert float(srcgrad.hvp(s_elif_chain, (t,), (1.0,))) == pytest.approx(second,
                                                                              rel=1e-12)


# ---------------------------------------------------------------------------
# dtypes, errors and source text

@pytest.mark.parametrize("fun", [ufunc_chain, vec_elementwise, mixed_pair], ids=_name)
def test_float32_inputs_give_float32_tangents(fun):
    args = tuple(a.astype(np.float32) for a in (X, Y)[:_arity(fun)])
    tangents = tuple(t.astype(np.float32) for t in (V, W)[:_arity(fun)])
    out, tangent = srcgrad.jvp(fun, args, tangents, engine="source")
    assert np.asarray(tangent).dtype == np.float32
    assert np.asarray(out).dtype == np.float32
    expected = _directional(fun, tuple(a.astype(np.float64) for a in args),
                            tuple(t.astype(np.float64) for t in tangents))
    np.testing.assert_allclose(tangent, expected, rtol=1e-4, atol=1e-4)


def test_float32_jvp_of_a_gradient_stays_float32():
    x, v = X.astype(np.float32), V.astype(np.float32)
    g, tangent = srcgrad.jvp(srcgrad.grad(ufunc_chain), (x,), (v,), engine="source")
    assert g.dtype == np.float32 and tangent.dtype == np.float32
    product = srcgrad.hvp(ufunc_chain, (x,), (v,), engine="source")
    assert product.dtype == np.float32


def test_grad_of_grad_keeps_the_float32_dtype():
    second = srcgrad.grad(srcgrad.grad(s_branch))(np.float32(0.4))
    assert np.asarray(second).dtype == np.float32
    assert second == pytest.approx(srcgrad.grad(srcgrad.grad(s_branch))(0.4), rel=1e-5)


def test_grad_of_grad_of_a_numpy_scalar_is_a_numpy_scalar():
    t = np.float32(0.4)
    assert isinstance(srcgrad.grad(s_branch)(t), np.float32)
    assert isinstance(srcgrad.grad(srcgrad.grad(s_branch))(t), np.float32)


def test_wrong_tangents_raise_value_error():
    x, v = X.copy(), V.copy()
    for transform in (srcgrad.jvp, srcgrad.hvp):
        with pytest.raises(ValueError, match="shape"):
            transform(ufunc_chain, (x,), (v[:3],))
        with pytest.raises(ValueError, match="shape"):
            transform(ufunc_chain, (x,), (v.reshape(2, 2),))
        with pytest.raises(ValueError, match="one tangent per primal"):
            transform(ufunc_chain, (x,), (v, v))
        with pytest.raises(ValueError, match="one tangent per primal"):
            transform(mixed_pair, (x, Y.copy()), (v,))
    with pytest.raises(ValueError, match="shape"):
        srcgrad.jvp(srcgrad.grad(ufunc_chain), (x,), (np.ones(5),))


def test_jvp_source_shows_the_tangent_code():
    text = srcgrad.jvp_source(ufunc_chain)
    assert "# tangent of:" in text
    assert "dx" in text
    assert "def " in text
    two = srcgrad.jvp_source(mixed_pair, argnums=(0, 1))
    assert "dx" in two and "dy" in two
    of_gradient = srcgrad.jvp_source(srcgrad.grad(s_polynomial_loop))
    assert "# tangent of:" in of_gradient and "dt" in of_gradient

