"""numpy.fft through both engines: real-valued losses of every transform, checked
against central differences in the real and imaginary directions (JAX's convention:
the gradient of a real loss at a complex ``z`` is ``dL/dRe z - i dL/dIm z``), against
JAX where it is installed, and with the source engine asserted not to fall back.

The per-rule checks (every transform, norm, length and axis sample, VJP and JVP) are
in tests/rule_samples/fft.py, run by tests/test_rules.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad

ENGINES = ["source", "tape"]
F = np.fft


def make_loss(fun, *args):
    """A real loss of ``fun(x, *args)`` that reads both parts of a complex result."""
    if len(args) == 1:
        (a,) = args

        def transform(x):
            return fun(x, a)
    else:
        a, b, c = args

        def transform(x):
            return fun(x, a, b, c)

    def loss(x):
        y = transform(x)
        w = np.cos(np.arange(y.size) * 1.0).reshape(y.shape)
        if np.iscomplexobj(y):
            return np.sum(np.real(y * (0.3 + 0.7j)) * w) + np.sum(np.real(y) ** 2)
        return np.sum(y * w) + np.sum(y ** 2)

    return loss


def numerical(loss, x: np.ndarray) -> np.ndarray:
    """``dL/dRe x - i dL/dIm x`` by central differences (the real part for a real ``x``)."""
    def partials(direction: complex) -> np.ndarray:
        out = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            step = np.zeros(x.shape, dtype=x.dtype)
            step[i] = 1e-6 * direction
            out[i] = (loss(x + step) - loss(x - step)) / 2e-6
        return out

    if not np.iscomplexobj(x):
        return partials(1.0)
    return partials(1.0) - 1j * partials(1j)


def _cplx(rng, shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# (function, its arguments after x, whether x may be complex, x's shape)
CASES = [
    (F.fft, (None, -1, None), True, (5,)),
    (F.fft, (8, 0, "ortho"), True, (3, 2)),
    (F.ifft, (3, -1, "forward"), True, (2, 5)),
    (F.fftn, ((3, 6), (0, 1), "ortho"), True, (3, 4)),
    (F.ifftn, (None, (1,), "backward"), True, (2, 3, 2)),
    (F.fft2, (None, (-2, -1), "forward"), True, (3, 4)),
    (F.ifft2, ((2, 5), (0, 1), None), True, (3, 4)),
    (F.rfft, (None, -1, None), False, (7,)),
    (F.rfft, (6, 0, "forward"), False, (5, 2)),
    (F.ihfft, (5, -1, "ortho"), False, (2, 6)),
    (F.irfft, (None, -1, None), True, (5,)),
    (F.irfft, (7, -1, "ortho"), True, (4,)),
    (F.hfft, (5, 0, "forward"), True, (3, 2)),
    (F.hfft, (None, -1, "backward"), True, (4,)),
    (F.rfftn, ((4, 5), (0, 1), "ortho"), False, (3, 4)),
    (F.rfft2, (None, (-2, -1), "forward"), False, (3, 5)),
    (F.irfftn, ((3, 5), (0, 1), None), True, (3, 4)),
    (F.irfft2, ((4, 6), (-2, -1), "ortho"), True, (2, 3, 4)),
    (F.fftshift, ((0,),), True, (5, 2)),
    (F.ifftshift, (None,), True, (3, 4)),
]


def _id(case) -> str:
    fun, args, _, shape = case
    return f"{fun.__name__}{args}{shape}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_gradient_of_a_real_loss(case, engine):
    fun, args, takes_complex, shape = case
    loss = make_loss(fun, *args)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(shape)] + ([_cplx(rng, shape)] if takes_complex else [])
    for x in inputs:
        got = srcgrad.grad(loss, engine=engine)(x)
        assert np.iscomplexobj(got) == np.iscomplexobj(x), got.dtype   # real in, real out
        np.testing.assert_allclose(got, numerical(loss, x), rtol=1e-6, atol=1e-6)


def spectrum_energy(x):
    y = np.fft.fft(x, norm="ortho")
    return np.sum(np.real(y) ** 2 + np.real(-1j * y) ** 2)


def spectral_filter(x):
    # a filter applied in the frequency domain and back: a real-to-real linear map
    h = np.fft.rfft(np.array([0.5, 0.25, 0.0, 0.0, 0.0, 0.25]))
    return np.sum(np.fft.irfft(np.fft.rfft(x) * h, 6) ** 3)


@pytest.mark.parametrize("engine", ENGINES)
def test_round_trips_and_parseval(engine):
    x = np.random.default_rng(3).standard_normal(6)
    # Parseval with the orthonormal scale: the energy is |x|^2 whatever the spectrum
    np.testing.assert_allclose(srcgrad.grad(spectrum_energy, engine=engine)(x), 2 * x)
    np.testing.assert_allclose(srcgrad.grad(spectral_filter, engine=engine)(x),
                               numerical(spectral_filter, x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_jvp_and_second_order(engine):
    x = np.random.default_rng(4).standard_normal(6)
    v = np.random.default_rng(5).standard_normal(6)
    _, tangent = srcgrad.jvp(spectral_filter, (x,), (v,), engine=engine)
    np.testing.assert_allclose(tangent, numerical(spectral_filter, x) @ v, rtol=1e-6)
    hess = srcgrad.hessian(spectral_filter, engine=engine)(x)
    column = (srcgrad.grad(spectral_filter, engine=engine)(x + 1e-6 * v)
              - srcgrad.grad(spectral_filter, engine=engine)(x - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(hess @ v, column, rtol=1e-5, atol=1e-6)


def filtered(x, norm):
    y = np.fft.rfft(x, 9, norm=norm)
    return np.sum(np.fft.irfft(y * (1.0 + 0.5j), 8, norm=norm) ** 2)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_against_jax(engine, norm):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    x = np.random.default_rng(6).standard_normal(7)

    def jax_filtered(x):
        y = jnp.fft.rfft(x, 9, norm=norm)
        return jnp.sum(jnp.fft.irfft(y * (1.0 + 0.5j), 8, norm=norm) ** 2)

    want = np.asarray(jax.grad(jax_filtered)(jnp.asarray(x)))
    got = srcgrad.grad(filtered, engine=engine)(x, norm)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_frequencies_are_constants():
    def loss(x):
        return np.sum(x * np.fft.fftfreq(4, 0.5) + x * np.fft.rfftfreq(7)[:4])

    x = np.ones(4)
    for engine in ENGINES:
        np.testing.assert_allclose(srcgrad.grad(loss, engine=engine)(x),
                                   np.fft.fftfreq(4, 0.5) + np.fft.rfftfreq(7)[:4])
