"""jacobian, jacfwd, jacrev, hessian and hvp of complex values, with ``holomorphic=``, in
both engines: JAX's convention and refusals, against central differences and JAX."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

import srcgrad

ENGINES = ["source", "tape"]
C = np.array([1 + 2j, 0.5 - 1j, 2j])
X = np.array([0.3, -1.2, 0.7])
H = 1e-6


@contextlib.contextmanager
def _no_fallback():
    """The source engine must not fall back; the tape is asked for explicitly."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", srcgrad.FallbackWarning)
        yield


def _fd_rows(f, z):
    """JAX's reverse rows of real ``f`` at complex ``z``: d f_i/dx - 1j d f_i/dy."""
    cols = []
    for k in range(z.size):
        e = np.zeros(z.shape)
        e.flat[k] = H
        dx = (f(z + e) - f(z - e)) / (2 * H)
        dy = (f(z + 1j * e) - f(z - 1j * e)) / (2 * H)
        cols.append(np.asarray(dx - 1j * dy))
    return np.stack(cols, axis=-1).reshape(np.shape(f(z)) + z.shape)


def _fd_columns(f, z):
    """The columns d f/dz_k along the real direction (the complex derivative of a
    holomorphic ``f``, the Jacobian of ``f`` of a real ``z``)."""
    cols = []
    for k in range(z.size):
        e = np.zeros(z.shape)
        e.flat[k] = H
        cols.append(np.asarray((f(z + e) - f(z - e)) / (2 * H)))
    return np.stack(cols, axis=-1).reshape(np.shape(f(z)) + z.shape)


def real_of_complex(z):
    return np.abs(z) * np.real(z[::-1] * z) + np.imag(z[0] * np.conj(z))


def holomorphic_vector(z):
    return z * z * np.sin(z) + z[0] * z


def holomorphic_scalar(z):
    return np.sum(z ** 3 * np.exp(z[0])) + z[1] * z[2]


def real_scalar(z):
    return np.sum(np.abs(z) ** 2 * z.real) + np.angle(z[0] * z[1])


def complex_of_real(x):
    return np.exp(1j * x) * x[0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("transform", ["jacrev", "jacobian"])
def test_rows_of_a_real_function_of_complex_inputs(engine, transform):
    with _no_fallback():
        got = getattr(srcgrad, transform)(real_of_complex, engine=engine)(C)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, _fd_rows(real_of_complex, C), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("transform", ["jacfwd", "jacrev", "jacobian"])
def test_holomorphic_jacobian_is_the_complex_derivative(engine, transform):
    with _no_fallback():
        got = getattr(srcgrad, transform)(holomorphic_vector, engine=engine,
                                          holomorphic=True)(C)
    want = np.diag(2 * C * np.sin(C) + C * C * np.cos(C) + C[0])
    want[:, 0] += C
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got, _fd_columns(holomorphic_vector, C), rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("transform", ["jacfwd", "jacobian"])
def test_complex_output_of_real_inputs_has_complex_columns(engine, transform):
    with _no_fallback():
        got = getattr(srcgrad, transform)(complex_of_real, engine=engine)(X)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, _fd_columns(complex_of_real, X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_holomorphic_hessian(engine):
    with _no_fallback():
        got = srcgrad.hessian(holomorphic_scalar, engine=engine, holomorphic=True)(C)
    gradient = srcgrad.grad(holomorphic_scalar, engine="tape", holomorphic=True)
    np.testing.assert_allclose(got, _fd_columns(gradient, C), rtol=1e-6)
    np.testing.assert_allclose(got, got.T, rtol=1e-12)     # symmetric, not Hermitian
    assert np.abs(got.imag).max() > 1


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("holomorphic", [False, True])
def test_hvp_of_complex_inputs_is_the_tangent_of_the_gradient(engine, holomorphic):
    f = holomorphic_scalar if holomorphic else real_scalar
    v = np.array([0.5 - 1j, 2.0, -1j])
    with _no_fallback():
        got = srcgrad.hvp(f, (C,), (v,), engine=engine, holomorphic=holomorphic)
    gradient = srcgrad.grad(f, engine="tape", holomorphic=holomorphic)
    want = (gradient(C + H * v) - gradient(C - H * v)) / (2 * H)
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_mixed_real_and_complex_arguments(engine):
    def f(z, x):
        return np.real(z * z[::-1]) * x + np.abs(z) * x[0]

    with _no_fallback():
        jz, jx = srcgrad.jacrev(f, argnums=(0, 1), engine=engine)(C, X)
    np.testing.assert_allclose(jz, _fd_rows(lambda z: f(z, X), C), rtol=1e-6, atol=1e-8)
    assert jx.dtype == np.float64
    np.testing.assert_allclose(jx, _fd_columns(lambda x: f(C, x), X), rtol=1e-6, atol=1e-8)
    with pytest.raises(TypeError, match="holomorphic=True requires complex inputs"):
        srcgrad.jacrev(f, argnums=(0, 1), engine=engine, holomorphic=True)(C, X)
    with pytest.raises(TypeError, match="jacfwd requires real inputs"):
        srcgrad.jacfwd(f, argnums=(0, 1), engine=engine)(C, X)


@pytest.mark.parametrize("engine", ENGINES)
def test_tree_arguments_keep_holomorphic(engine):
    p = {"a": C, "b": C[:2] * 1j}

    def f(p):
        return np.sum(p["a"] ** 2) * p["b"][0] + p["b"][1]

    got = srcgrad.jacobian(lambda p: f(p) * np.ones(2), engine=engine, holomorphic=True)(p)
    np.testing.assert_allclose(got["a"][0], 2 * C * p["b"][0])
    np.testing.assert_allclose(got["b"][1], [np.sum(C ** 2), 1])
    g = srcgrad.grad(f, engine=engine, holomorphic=True)(p)
    np.testing.assert_allclose(g["b"], [np.sum(C ** 2), 1])
    h = srcgrad.hessian(f, engine=engine, holomorphic=True)(p)
    np.testing.assert_allclose(h["a"]["a"], np.diag(2 * np.full(3, p["b"][0])))


@pytest.mark.parametrize("engine", ENGINES)
def test_refusals_follow_jax(engine):
    with pytest.raises(TypeError, match="jacfwd requires real inputs.*holomorphic=True"):
        srcgrad.jacfwd(real_of_complex, engine=engine)(C)
    with pytest.raises(TypeError, match="hessian requires real inputs"):
        srcgrad.hessian(real_scalar, engine=engine)(C)
    with pytest.raises(TypeError, match="jacrev requires .* real values"):
        srcgrad.jacrev(holomorphic_vector, engine=engine)(C)
    with pytest.raises(TypeError, match="jacobian requires .* real values"):
        srcgrad.jacobian(holomorphic_vector, engine=engine)(C)
    with pytest.raises(TypeError, match="jacrev requires .* real values"):
        srcgrad.jacrev(complex_of_real, engine=engine)(X)
    for name in ("jacfwd", "jacrev", "jacobian"):
        with pytest.raises(TypeError, match="holomorphic=True requires .* complex values"):
            getattr(srcgrad, name)(real_of_complex, engine=engine, holomorphic=True)(C)
        with pytest.raises(TypeError, match="holomorphic=True requires complex inputs"):
            getattr(srcgrad, name)(complex_of_real, engine=engine, holomorphic=True)(X)
    with pytest.raises(TypeError, match="return complex values"):
        srcgrad.hessian(real_scalar, engine=engine, holomorphic=True)(C)
    with pytest.raises(TypeError, match="holomorphic=True requires complex inputs"):
        srcgrad.hessian(lambda x: np.sum(x * 1j), engine=engine, holomorphic=True)(X)
    with pytest.raises(TypeError, match="holomorphic=True requires complex inputs"):
        srcgrad.hvp(lambda x: np.sum(x * 1j), (X,), (X,), engine=engine, holomorphic=True)


def test_jacobian_of_a_gradient_of_complex_inputs():
    """Forward-over-reverse gives only d/dx there: the tape computes it (rows), the source
    engine refuses."""
    gradient = srcgrad.grad(real_scalar, engine="tape")
    with pytest.raises(srcgrad.TransformError):
        srcgrad.jacobian(lambda z: np.real(gradient(z)), engine="source")
    with pytest.raises(TypeError, match="real values"):
        srcgrad.jacobian(gradient, engine="tape")(C)
    got = srcgrad.jacobian(lambda z: np.real(gradient(z)), engine="tape")(C)
    np.testing.assert_allclose(got, _fd_rows(lambda z: np.real(gradient(z)), C), rtol=1e-5,
                               atol=1e-7)

    def weighted(z, x):
        return np.sum(np.abs(z) ** 2 * x)

    by_x = srcgrad.grad(weighted, argnums=1)     # |z|**2, real
    with pytest.raises(srcgrad.TransformError, match="complex inputs"):
        srcgrad.jacrev(by_x, engine="source")(C, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        got = srcgrad.jacobian(by_x)(C, X)
    np.testing.assert_allclose(got, np.diag(2 * np.conj(C)), rtol=1e-10)


def test_python_complex_scalar():
    for engine in ENGINES:
        got = srcgrad.jacfwd(lambda z: np.sin(z) * z, engine=engine, holomorphic=True)(0.5 + 1j)
        z = 0.5 + 1j
        np.testing.assert_allclose(got, np.cos(z) * z + np.sin(z))
        got = srcgrad.hessian(lambda z: np.sin(z) * z, engine=engine, holomorphic=True)(z)
        np.testing.assert_allclose(got, 2 * np.cos(z) - z * np.sin(z))


# --- against JAX, outcome by outcome ---------------------------------------------------

CASES = {
    "real_of_complex": (real_of_complex, C), "holomorphic_vector": (holomorphic_vector, C),
    "holomorphic_scalar": (holomorphic_scalar, C), "real_scalar": (real_scalar, C),
    "complex_of_real": (complex_of_real, X),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("holomorphic", [False, True])
@pytest.mark.parametrize("name", ["jacfwd", "jacrev", "hessian"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_against_jax(engine, holomorphic, name, case):
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    f, arg = CASES[case]

    def jax_f(z):       # the same function, on JAX's NumPy
        global np
        saved, np = np, jnp
        try:
            return f(z)
        finally:
            np = saved

    def outcome(run):
        try:
            return np.asarray(run())
        except TypeError:
            return TypeError

    want = outcome(lambda: getattr(jax, name)(jax_f, holomorphic=holomorphic)(jnp.asarray(arg)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        got = outcome(lambda: getattr(srcgrad, name)(f, engine=engine,
                                                     holomorphic=holomorphic)(arg))
    if name == "hessian" and np.ndim(f(arg)) > 0:
        assert got is TypeError     # srcgrad's Hessians are of scalar functions only
        return
    if want is TypeError:
        assert got is TypeError
        return
    assert got is not TypeError
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("engine", ["auto", "tape"])
def test_complex_jacobians_nested_in_a_gradient(engine):
    from tests.compiler.fd import numerical_grad

    def rows(x):
        return np.real(np.sum(srcgrad.jacrev(real_of_complex)(x * C) ** 2))

    def columns(x):
        derivative = srcgrad.jacfwd(lambda z: z * z * x[0], holomorphic=True)
        return np.sum(np.abs(derivative(x * C)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        for f in (rows, columns):
            np.testing.assert_allclose(srcgrad.grad(f, engine=engine)(X),
                                       numerical_grad(f, (X,), 0), rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_tuple_output_rows(engine):
    def f(z):
        return np.abs(z), np.real(z * z[0])

    a, b = srcgrad.jacrev(f, engine=engine)(C)
    np.testing.assert_allclose(a, _fd_rows(lambda z: f(z)[0], C), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b, _fd_rows(lambda z: f(z)[1], C), rtol=1e-6, atol=1e-8)


def test_tensor_mode_hvp_of_complex_inputs_matches_torch():
    torch = pytest.importorskip("torch")
    v = np.array([0.5 - 1j, 2.0, -1j])

    def run(lib):
        def f(z, x):
            return (z.abs() ** 2 * x).sum() + (z * z[0].conj()).real.sum()

        _, (hz, hx) = lib.autograd.functional.hvp(
            f, (lib.tensor(C), lib.tensor(X)), (lib.tensor(v), lib.tensor(v.imag)))
        return hz.detach().numpy(), hx.detach().numpy()

    for got, want in zip(run(srcgrad), run(torch), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
