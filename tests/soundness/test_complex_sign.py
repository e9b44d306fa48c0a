"""``np.sign`` of complex values, and the piecewise-constant rules on complex values.

NumPy (>= 2) defines ``sign(z) = z / |z|`` for complex ``z`` (0 at 0): it varies
with the angle of ``z`` and is not the constant it is on real values.  Every
gradient here is checked against central differences in the real and the
imaginary direction of each coordinate (JAX's convention for the transforms:
``df/dx - 1j df/dy``), and against PyTorch's ``sgn`` in Tensor mode where PyTorch
is installed.  (JAX's own ``sign`` has a zero derivative on complex values too,
so it is no reference here.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad

ENGINES = ["source", "tape", "auto"]
Z = np.array([1 + 2j, 3 - 1j, -0.5 + 0.25j, -2 - 0.1j])


def _fd_grad(f, z, h=1e-6):
    """``df/dx - 1j df/dy`` of a real-valued ``f`` of a complex array, by central differences."""
    z = np.asarray(z, dtype=complex)
    out = np.zeros(z.shape, dtype=complex)
    for k in np.ndindex(z.shape):
        for step, factor in ((h, 1.0), (1j * h, -1j)):
            up, down = z.copy(), z.copy()
            up[k] += step
            down[k] -= step
            out[k] += factor * (float(f(up)) - float(f(down))) / (2 * h)
    return out


def _fd_jvp(f, z, dz, h=1e-6):
    """The derivative of ``f`` along ``dz``: ``(f(z + h dz) - f(z - h dz)) / 2h``."""
    return (f(z + h * dz) - f(z - h * dz)) / (2 * h)


def _run(engine, fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        return fn(*args)


def sign_of(z):
    return np.sign(z)


def loss_plain(z):
    return np.real(np.sum(2 * np.sign(z)))


def loss_mixed(z):
    s = np.sign(z)
    t = s                      # an alias
    return np.sum(np.imag(t * np.conj(z))) + np.real(np.sum(s * s * (1 + 0.5j)))


def loss_loop(z):
    acc = 0.0
    for k in range(3):
        acc = acc + np.real(np.sum(np.sign(z * (k + 1j)) * z))
    return acc


def _helper(w):
    return np.sign(w) * np.abs(w)      # = w, for every w


def loss_callee(z):
    return np.sum(np.abs(_helper(z) - 0.3j) ** 2)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("loss", [loss_plain, loss_mixed, loss_loop, loss_callee])
def test_grad_of_complex_sign_matches_finite_differences(engine, loss):
    got = _run(engine, srcgrad.grad(loss, engine=engine), Z)
    want = _fd_grad(loss, Z)
    assert not np.allclose(want, 0), "a test that cannot fail"
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_issue_example_is_not_zero(engine):
    z = np.array([1 + 2j, 3 - 1j])
    got = _run(engine, srcgrad.grad(loss_plain, engine=engine), z)
    r = np.abs(z)
    # d(2 x / r)/dx = 2 y^2 / r^3, d(2 x / r)/dy = -2 x y / r^3
    want = 2 * z.imag ** 2 / r ** 3 + 1j * 2 * z.real * z.imag / r ** 3
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_jvp_of_complex_sign(engine):
    dz = np.array([0.5 - 1j, 1j, 2.0 + 0j, -0.3 + 0.7j])
    out, tangent = _run(engine, lambda: srcgrad.jvp(sign_of, (Z,), (dz,), engine=engine))
    np.testing.assert_allclose(out, np.sign(Z))
    np.testing.assert_allclose(tangent, _fd_jvp(np.sign, Z, dz), rtol=1e-6, atol=1e-9)
    assert np.allclose(np.abs(np.sign(Z)), 1)
    # d sign(z) is orthogonal to sign(z): |sign| stays 1
    np.testing.assert_allclose(np.real(np.conj(out) * tangent), 0, atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_vjp_pullback_of_complex_sign(engine):
    rng = np.random.default_rng(0)
    c = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    _, pullback = srcgrad.vjp(sign_of, Z, engine=engine)
    (got,) = pullback(c)
    # the cotangent c of sign(z) is the real functional Re(c d sign): its gradient
    want = _fd_grad(lambda z: np.real(np.sum(c * np.sign(z))), Z)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("engine", ENGINES)
def test_sign_at_complex_zero_has_zero_derivative(engine):
    # PyTorch's sgn: 0 at 0 (the function jumps there); NumPy's sign(0j) is 0
    z = np.array([0j, 1 + 1j])
    got = _run(engine, srcgrad.grad(loss_plain, engine=engine), z)
    assert np.all(np.isfinite(got))
    assert got[0] == 0
    np.testing.assert_allclose(got[1], _fd_grad(loss_plain, z[1:])[0], rtol=1e-6)
    _, tangent = srcgrad.jvp(sign_of, (z,), (np.array([1 + 1j, 0j]),), engine=engine)
    assert tangent[0] == 0 and np.all(np.isfinite(tangent))


@pytest.mark.parametrize("engine", ENGINES)
def test_complex64_keeps_its_precision(engine):
    z = Z.astype(np.complex64)
    got = _run(engine, srcgrad.grad(loss_plain, engine=engine), z)
    assert got.dtype == np.complex64
    np.testing.assert_allclose(got, _fd_grad(loss_plain, Z), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("engine", ENGINES)
def test_sign_of_real_values_still_has_zero_derivative(engine):
    x = np.array([0.3, -1.2, 2.0])

    def f(x):
        return np.sum(np.sign(x) * x ** 2)       # = sum(|x| x)

    got = _run(engine, srcgrad.grad(f, engine=engine), x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, 2 * np.abs(x), rtol=1e-12)
    h = _run(engine, srcgrad.hessian(f, engine=engine), x)
    np.testing.assert_allclose(h, np.diag(2 * np.sign(x)), rtol=1e-12)
    _, t = srcgrad.jvp(sign_of, (x,), (np.ones(3),), engine=engine)
    assert t.dtype == np.float64 and np.all(t == 0)


def test_source_of_complex_sign_is_differentiated():
    g = srcgrad.grad(loss_plain, engine="source")
    assert "sign" in g.source


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fun", [np.round, np.rint, np.around])
def test_rounding_of_complex_values_is_piecewise_constant(engine, fun):
    # NumPy rounds the real and imaginary parts separately: a constant where it is smooth
    z = np.array([1.2 + 2.3j, -0.4 + 0.6j])

    def f(z):
        return np.real(np.sum(fun(z) * z * (1 - 1j)))

    got = _run(engine, srcgrad.grad(f, engine=engine), z)
    np.testing.assert_allclose(got, _fd_grad(f, z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("engine", ENGINES)
def test_comparisons_and_argmax_of_complex_values_are_constant(engine):
    z = np.array([1.2 + 2.3j, -0.4 + 0.6j, 2 - 1j])

    def f(z):
        k = np.argmax(z)                      # NumPy orders complex values lexicographically
        mask = np.greater(z, 0.5 + 0j)
        return np.real(np.sum(np.where(mask, z * z, z)) + z[k] * 2j)

    got = _run(engine, srcgrad.grad(f, engine=engine), z)
    np.testing.assert_allclose(got, _fd_grad(f, z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fun", [np.floor, np.ceil, np.trunc, np.fix, np.signbit,
                                 np.heaviside, np.floor_divide])
def test_real_only_piecewise_constants_refuse_complex_values(engine, fun):
    # NumPy itself has no complex version of these: the error is NumPy's (or the source
    # engine refuses the call first), never a zero
    z = np.array([1.2 + 2.3j, -0.4 + 0.6j])
    with pytest.raises(TypeError):
        fun(z, z) if fun in (np.heaviside, np.floor_divide) else fun(z)

    def f(z):
        return np.real(np.sum(fun(z) * z))

    def g(z):
        return np.real(np.sum(fun(z, z) * z))

    f = g if fun in (np.heaviside, np.floor_divide) else f
    with pytest.raises((TypeError, srcgrad.TransformError)):
        _run(engine, srcgrad.grad(f, engine=engine), z)


def test_tensor_mode_matches_pytorch_sgn():
    torch = pytest.importorskip("torch")
    values = np.array([1 + 2j, 3 - 1j, 0j, -0.5 + 0.25j])
    weights = np.array([0.3 - 1j, 2.0 + 0j, 1 + 1j, -1 + 0.5j])
    grads = []
    for lib, fun in ((torch, "sgn"), (srcgrad, "sgn"), (srcgrad, "sign")):
        z = lib.tensor(values, dtype=lib.complex128, requires_grad=True)
        w = lib.tensor(weights, dtype=lib.complex128)
        out = getattr(z, fun)() * w
        (out.real.sum() + (out * out).imag.sum()).backward()
        grads.append(z.grad.numpy().copy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[2], grads[0], rtol=1e-12, atol=1e-15)
    assert not np.allclose(grads[0], 0)


def test_tensor_mode_is_pytorch_convention_of_finite_differences():
    z = srcgrad.tensor(Z, dtype=srcgrad.complex128, requires_grad=True)
    np_loss = loss_plain
    (2 * z.sgn()).real.sum().backward()
    # PyTorch's convention: the conjugate of JAX's
    np.testing.assert_allclose(z.grad.numpy(), np.conj(_fd_grad(np_loss, Z)), rtol=1e-6)
    assert z.sgn().grad_fn.name() == "SgnBackward0"
    x = srcgrad.tensor([0.5, -1.0], requires_grad=True)
    y = x.sign()
    assert y.grad_fn.name() == "SignBackward0"
    (y * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0])


def test_the_rule_follows_the_numpy_that_runs(monkeypatch):
    from srcgrad.rules import _helpers

    # this NumPy: sign(z) = z / |z| (NumPy >= 2)
    assert _helpers.SIGN_IS_PHASE == (np.sign(3 + 4j) != 1)
    g = np.array([1.0 - 0.5j, 2.0 + 1j])
    if _helpers.SIGN_IS_PHASE:
        assert np.all(_helpers.sign_cotangent(g, np.sign(Z[:2]), Z[:2]) != 0)
    # NumPy 1's complex sign took the sign of the real part: piecewise constant
    monkeypatch.setattr(_helpers, "SIGN_IS_PHASE", False)
    assert np.all(_helpers.sign_cotangent(g, np.sign(Z[:2]), Z[:2]) == 0)
    assert np.all(_helpers.sign_tangent(g, np.sign(Z[:2]), Z[:2]) == 0)
