"""Mixed dtypes: the primal keeps NumPy's meaning, gradients come back in the inputs' dtypes.

Augmented assignment writes into an array (``a += b`` keeps ``a``'s dtype and
shape, casting with NumPy's ``same_kind`` rule), where ``a = a + b`` would
promote: the generated code must compute exactly the values (and dtypes, and
errors) the original function computes.  Gradients have the dtype of the
argument they belong to (float32 in, float32 out; float16; complex64), as in
JAX and PyTorch, in both engines and through every transform; they are checked
against float64 central differences with float32's tolerances.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import srcgrad
from srcgrad.errors import FallbackWarning

from ..compiler.fd import numerical_grad

ENGINES = ["source", "tape"]
DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.complex64, np.complex128]
OPS = ["+=", "-=", "*=", "/=", "//=", "**="]


# -- the primal of augmented assignment -----------------------------------------------------
# One function per operator: ``c`` is a fresh array (or number) updated in place, returned
# as the auxiliary value so that its dtype and every element are compared.

def add_into(p, a, b):
    c = a.copy()
    c += b
    return p * np.sum(np.real(c)), c


def sub_into(p, a, b):
    c = a.copy()
    c -= b
    return p * np.sum(np.real(c)), c


def mul_into(p, a, b):
    c = a.copy()
    c *= b
    return p * np.sum(np.real(c)), c


def div_into(p, a, b):
    c = a.copy()
    c /= b
    return p * np.sum(np.real(c)), c


def floordiv_into(p, a, b):
    c = a.copy()
    c //= b
    return p * np.sum(np.real(c)), c


def pow_into(p, a, b):
    c = a.copy()
    c **= b
    return p * np.sum(np.real(c)), c


BY_OP = dict(zip(OPS, [add_into, sub_into, mul_into, div_into, floordiv_into, pow_into],
                 strict=True))


def _outcome(call):
    """``('ok', value)`` or ``('error', exception type)`` of ``call()``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # overflow, invalid values, ComplexWarning
        with np.errstate(all="ignore"):
            try:
                return "ok", call()
            except (TypeError, ValueError, ZeroDivisionError) as err:
                return "error", type(err)


def _same_array(got, want):
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, (np.ndarray, np.generic)):
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        assert np.shape(got) == np.shape(want)
    np.testing.assert_array_equal(got, want)


def _operand(draw, dtype, shape):
    values = draw(st.lists(st.integers(1, 4), min_size=int(np.prod(shape)),
                           max_size=int(np.prod(shape))))
    x = np.array(values, dtype=np.float64).reshape(shape) * 0.75
    if np.dtype(dtype).kind == "c":
        x = x + 0.5j
    return x.astype(dtype)


@st.composite
def augmented_cases(draw):
    op = draw(st.sampled_from(OPS))
    a_dtype = draw(st.sampled_from(DTYPES))
    a_shape = draw(st.sampled_from([(3,), (2, 3), ()]))
    kind = draw(st.sampled_from(["array", "row", "wider", "0-d", "python", "numpy scalar"]))
    b_dtype = draw(st.sampled_from(DTYPES))
    if kind == "python":
        b = draw(st.sampled_from([2, 1.5, 0.5 + 1j]))
    elif kind == "numpy scalar":
        b = _operand(draw, b_dtype, ()).reshape(())[()]
    else:
        shape = {"array": a_shape, "row": a_shape[-1:], "wider": (2, *a_shape), "0-d": ()}[kind]
        b = _operand(draw, b_dtype, shape)
    a = _operand(draw, a_dtype, a_shape)
    if a_shape == () and draw(st.booleans()):
        a = a[()]       # a NumPy scalar: ``c += b`` rebinds, promoting as ``c + b`` does
    return op, a, b


@pytest.mark.parametrize("engine", ENGINES)
@given(case=augmented_cases())
def test_augmented_assignment_keeps_numpy_values_and_dtypes(engine, case):
    op, a, b = case
    fun = BY_OP[op]
    # (the tape makes a Tensor of a Python float, which then promotes like a float64 array,
    # not like NumPy's Python float: the tape is given a float64 scalar)
    p = 1.25 if engine == "source" else np.float64(1.25)
    want = _outcome(lambda: fun(p, np.copy(a), b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        transformed = srcgrad.value_and_grad(fun, engine=engine, has_aux=True)
    got = _outcome(lambda: transformed(p, np.copy(a), b))
    if want[0] == "error":
        # the same refusal as NumPy (the tape may also refuse complex or integer results)
        assert got[0] == "error", got
        if engine == "source":
            assert issubclass(got[1], want[1]) or issubclass(want[1], got[1]), (got, want)
        return
    if engine == "tape" and got[0] == "error":
        return      # the tape may refuse what it cannot record (integer data as a Tensor)
    assert got[0] == "ok", (got, want)
    (value, c), grad = got[1]
    want_value, want_c = want[1]
    _same_array(c, want_c)
    np.testing.assert_array_equal(value, want_value)
    np.testing.assert_array_equal(grad, np.sum(np.real(want_c)))


def item_update(p, a, v, index):
    c = a.copy()
    c[index] += v * p       # c[index] is a view (basic index) or a copy, then written back
    return np.sum(np.real(c)) * 1.0 + p, c


def item_pair_update(p, a, v):
    c = a.copy()
    c[1:] *= v * p
    c[0] -= np.sum(c[1:]) * p
    return np.sum(np.real(c)) * 1.0, c


# (how many items the write reaches once repeated indices keep their last write)
@pytest.mark.parametrize("a_dtype", [np.float32, np.float16, np.int64, np.complex64])
@pytest.mark.parametrize("index, written", [(1, 1), (slice(0, 2), 2), (np.array([0, 0, 2]), 2),
                                           (np.array([True, False, True]), 2)])
def test_item_augmented_assignment_casts_like_numpy(a_dtype, index, written):
    a = np.array([0.3, 1.7, -2.2]).astype(a_dtype)
    v = np.float64(1.0 / 3.0)
    p = 1.1
    want = _outcome(lambda: item_update(p, a, v, index))
    got = _outcome(lambda: srcgrad.value_and_grad(item_update, engine="source",
                                                  has_aux=True)(p, a, v, index))
    assert got[0] == want[0], (got, want)
    if want[0] == "error":
        # an integer view (a slice, a mask's copy) refuses float64 in place, as NumPy does
        assert issubclass(got[1], want[1]) or issubclass(want[1], got[1]), (got, want)
        return
    (value, c), grad = got[1]
    _same_array(c, want[1][1])
    np.testing.assert_array_equal(value, want[1][0])
    # an integer array keeps no fraction of v * p: piecewise constant, no derivative
    expected = 1.0 + (written * v if np.dtype(a_dtype).kind != "i" else 0.0)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)


@pytest.mark.parametrize("a_dtype", [np.float32, np.float64])
def test_item_updates_against_differences(a_dtype):
    a = np.array([0.3, 1.7, -2.2], dtype=a_dtype)
    v, p = np.float64(0.6), 1.3
    (value, c), grad = srcgrad.value_and_grad(item_pair_update, engine="source",
                                              has_aux=True)(p, a, v)
    want_value, want_c = item_pair_update(p, a.copy(), v)
    _same_array(c, want_c)
    assert value == want_value and isinstance(grad, float)
    expected = numerical_grad(lambda q: item_pair_update(q, a.astype(np.float64), v)[0],
                              (p,), 0)
    np.testing.assert_allclose(grad, expected, rtol=1e-4 if a_dtype == np.float32 else 1e-7)


def scalar_update(x):
    s = np.float32(0.5)
    s += x          # a NumPy scalar is rebound: float32 + float64 array promotes
    total = 0
    total += np.sum(s)
    return total


def test_numbers_and_numpy_scalars_are_rebound():
    x = np.array([0.1, 0.2])
    value, grad = srcgrad.value_and_grad(scalar_update, engine="source")(x)
    assert value == scalar_update(x) and type(value) is type(scalar_update(x))
    np.testing.assert_allclose(grad, [1.0, 1.0])


def broadcast_into(x, y):
    c = x * 1.0
    c += y          # y is wider: NumPy refuses to write the broadcast sum into c
    return np.sum(c)


@pytest.mark.parametrize("engine", ENGINES)
def test_augmented_assignment_refuses_to_widen(engine):
    x, y = np.ones(3), np.ones((2, 3))
    with pytest.raises(ValueError):
        broadcast_into(x, y)
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        srcgrad.grad(broadcast_into, engine=engine)(x, y)


# -- gradients of float32 parameters with float64 data ----------------------------------------

def updated_loss(w, x):
    y = w * 2.0                 # float32 (a Python float does not promote)
    y += x                      # float64 data, cast back into float32
    y *= np.sin(x)
    acc = np.zeros(3, dtype=w.dtype)
    for k in range(2):
        acc += y * x[k]         # a float32 accumulator in a loop
    acc[1] -= np.sum(y) * 0.5   # an item update, cast into float32
    return np.sum(acc * acc) + np.sum(w * x)


def mixed_loss(w, x):
    return np.sum(np.tanh(w * x)) + np.sum(w ** 2)


def _fd_tolerance(dtype):
    return {np.float16: 2e-2, np.float32: 2e-4}.get(np.dtype(dtype).type, 1e-6)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("fun", [mixed_loss, updated_loss])
def test_float32_parameter_gets_float32_gradient(engine, dtype, fun):
    x = np.array([0.3, -0.4, 0.8])
    w = np.array([0.5, 0.25, -0.75], dtype=dtype)
    if fun is updated_loss and engine == "tape":
        pytest.skip("the tape cannot store a value that needs a gradient into np.zeros")
    value, grad = srcgrad.value_and_grad(fun, engine=engine)(w, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert value == fun(w.copy(), x)            # the primal, unchanged
    assert grad.dtype == dtype and grad.shape == w.shape
    expected = numerical_grad(fun, (w.astype(np.float64), x), 0)
    tol = _fd_tolerance(dtype)
    np.testing.assert_allclose(grad.astype(np.float64), expected, rtol=tol,
                               atol=tol * np.max(np.abs(expected)))


def two_args(w, x):
    return np.sum(np.sin(w) * x)


def vector_out(w, x):
    return np.sin(w * x)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_transform_returns_the_inputs_dtypes(engine):
    w = np.array([0.5, 0.25, -0.75], dtype=np.float32)
    x = np.array([0.3, -0.4, 0.8])
    g = srcgrad.grad(two_args, argnums=(0, 1), engine=engine)(w, x)
    assert [a.dtype for a in g] == [np.float32, np.float64]
    assert srcgrad.value_and_grad(two_args, engine=engine)(w, x)[1].dtype == np.float32
    out, pullback = srcgrad.vjp(vector_out, w, x, engine=engine)
    assert out.dtype == np.float64                  # the primal promotes, as NumPy does
    assert [a.dtype for a in pullback(np.ones(3))] == [np.float32, np.float64]
    assert srcgrad.jacobian(vector_out, engine=engine)(w, x).dtype == np.float32
    assert srcgrad.jacobian(two_args, engine=engine)(w, x).dtype == np.float32
    assert srcgrad.hessian(two_args, engine=engine)(w, x).dtype == np.float32
    g16 = srcgrad.grad(two_args, engine=engine)(np.float16(0.5), x)
    assert type(g16) is np.float16
    np.testing.assert_allclose(
        srcgrad.jacobian(vector_out, engine=engine)(w, x),
        np.diag(np.cos(w.astype(np.float64) * x) * x), rtol=1e-6)


def complex_loss(z, x):
    return np.sum(np.abs(z * x) ** 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_complex64_stays_complex64(engine):
    z = np.array([0.3 + 0.2j, -0.1 + 0.5j], dtype=np.complex64)
    x = np.array([0.7, 1.3])
    g = srcgrad.grad(complex_loss, engine=engine)(z, x)
    assert g.dtype == np.complex64
    # JAX's convention for a real function of z: df/dre - 1j df/dim = 2 x^2 conj(z)
    np.testing.assert_allclose(g, 2 * x ** 2 * np.conj(z.astype(np.complex128)), rtol=1e-6)


def real_of_complex_weights(w, z):
    return np.sum(np.abs(w * z) ** 2)


def test_real_float32_parameter_of_complex_computation():
    w = np.array([0.5, -1.5], dtype=np.float32)
    z = np.array([1 + 2j, 0.5 - 1j])
    g = srcgrad.grad(real_of_complex_weights, engine="source")(w, z)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * w * np.abs(z) ** 2, rtol=1e-6)


def updated_quadratic(w, x):
    y = w * 1.5
    y += x * w          # float64 data: the sum is cast back into float32
    y *= w
    return np.sum(y)


def test_hessian_through_in_place_updates():
    x = np.array([0.3, -0.4, 0.8])
    w32 = np.array([0.5, 0.25, -0.75], dtype=np.float32)
    h32 = srcgrad.hessian(updated_quadratic, engine="source")(w32, x)
    h64 = srcgrad.hessian(updated_quadratic, engine="source")(w32.astype(np.float64), x)
    assert h32.dtype == np.float32 and h64.dtype == np.float64
    np.testing.assert_allclose(h64, np.diag(2 * (1.5 + x)), rtol=1e-12)
    np.testing.assert_allclose(h32, h64, rtol=1e-6)
