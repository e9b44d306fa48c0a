"""Complex numbers in both engines: JAX's convention for the transforms, PyTorch's for
Tensor mode, real gradients for real inputs, and refusals of real-only rules."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from tests.compiler.fd import numerical_grad

ENGINES = ["source", "tape"]
Z = np.array([1 + 2j, 3 - 1j])
X = np.array([0.3, -1.2, 0.7])
C = np.array([1 + 2j, 0.5 - 1j, 2j])


def _grad(f, engine, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        return srcgrad.grad(f, engine=engine, **kw)


def _complex_fd(f, z):
    """JAX's gradient of real f at complex z: df/dx - 1j df/dy, by central differences."""
    dx = numerical_grad(lambda x: f(x + 1j * z.imag), (z.real,), 0)
    dy = numerical_grad(lambda y: f(z.real + 1j * y), (z.imag,), 0)
    return dx - 1j * dy


# --- the issue's examples -----------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_issue_examples(engine):
    got = _grad(lambda z: np.real(np.sum(z * np.conj(z))), engine)(Z)
    np.testing.assert_allclose(got, [2 - 4j, 6 + 2j])
    got = _grad(lambda z: np.sum(np.abs(z) ** 2), engine)(Z)
    np.testing.assert_allclose(got, [2 - 4j, 6 + 2j])
    got = _grad(lambda x: np.real(np.sum(np.exp(1j * x))), engine)(X)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, -np.sin(X))


@pytest.mark.parametrize("engine", ENGINES)
def test_forward_mode_of_imag_angle_conj(engine):
    z, dz = Z, np.array([0.5 - 2j, 1j])
    _, t = srcgrad.jvp(lambda z: np.imag(z), (z,), (dz,), engine=engine)
    np.testing.assert_allclose(t, dz.imag)
    _, t = srcgrad.jvp(lambda z: np.conj(z), (z,), (dz,), engine=engine)
    np.testing.assert_allclose(t, np.conj(dz))
    _, t = srcgrad.jvp(lambda z: np.angle(z), (z,), (dz,), engine=engine)
    h = 1e-7
    np.testing.assert_allclose(t, (np.angle(z + h * dz) - np.angle(z - h * dz)) / (2 * h),
                               rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_real_input_with_complex_constant_gets_real_cotangent(engine):
    def f(x):
        return np.sum(x * C)

    out, pullback = srcgrad.vjp(f, X, engine=engine)
    (ct,) = pullback(1.0 - 2.0j)
    assert not np.iscomplexobj(ct)
    np.testing.assert_allclose(ct, np.real((1.0 - 2.0j) * C))


# --- against finite differences, both engines -----------------------------------------

REAL_OF_COMPLEX = [
    lambda z: np.sum(np.abs(z) ** 2),
    lambda z: np.real(np.sum(z * np.conj(z) * np.exp(z))),
    lambda z: np.sum(np.angle(z)),
    lambda z: np.sum(np.imag(z ** 3)),
    lambda z: np.real(np.sum(np.sin(z) / (1 + z * z))),
    lambda z: np.real(z[0] * z[2]) + np.abs(z[1]),
    lambda z: np.sum(np.abs(np.outer(z, z) @ z)),
    lambda z: np.real(np.linalg.det(np.outer(z, z) + np.eye(3))),
    lambda z: np.real(np.sum(np.linalg.inv(np.outer(z, z) + np.eye(3)))),
    lambda z: np.sum(z.real * z.imag),
    lambda z: np.sum(np.abs(z.conj() * 2)),
    lambda z: np.real(np.sum(np.sqrt(z) * np.log(z))),
    lambda z: np.real(np.einsum("i,i->", z, z[::-1])) + np.sum(np.abs(np.cumsum(z))),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("k", range(len(REAL_OF_COMPLEX)))
def test_gradient_of_real_function_of_complex_input(engine, k):
    f = REAL_OF_COMPLEX[k]
    np.testing.assert_allclose(_grad(f, engine)(C), _complex_fd(f, C), rtol=1e-5, atol=1e-6)


REAL_THROUGH_COMPLEX = [
    lambda x: np.abs(np.sum(x * C)) ** 2,
    lambda x: np.real(np.sum(x[0] * C)) + np.imag(x[1] * C[1]),
    lambda x: np.angle(np.sum(x * C)),
    lambda x: np.real(np.sum(np.stack([x, 2 * x]) @ C)),
    lambda x: np.real(np.sum(np.concatenate([x * C, x]) ** 2)),
    lambda x: np.real(np.prod(x * C)),
    lambda x: np.sum(np.abs(x.astype(complex) * C)),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("k", range(len(REAL_THROUGH_COMPLEX)))
def test_real_input_gets_real_gradient(engine, k):
    f = REAL_THROUGH_COMPLEX[k]
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        got = _grad(f, engine)(X)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, numerical_grad(f, (X,), 0), rtol=1e-5, atol=1e-6)


def test_hessian_of_real_function_through_complex_values():
    def f(x):
        return np.abs(np.sum(x * C)) ** 2

    want = 2 * np.real(np.outer(C, np.conj(C)))
    for engine in ENGINES:
        got = srcgrad.hessian(f, engine=engine)(X)
        assert not np.iscomplexobj(got)
        np.testing.assert_allclose(got, want, rtol=1e-6)


# --- holomorphic and complex outputs ---------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_complex_output_needs_holomorphic(engine):
    with pytest.raises(TypeError, match="holomorphic=True"):
        _grad(lambda z: np.sum(z * z), engine)(Z)
    z0 = 0.7 - 0.4j
    got = _grad(lambda z: np.sin(z) * np.exp(z), engine, holomorphic=True)(z0)
    np.testing.assert_allclose(got, (np.cos(z0) + np.sin(z0)) * np.exp(z0))
    _, got = srcgrad.value_and_grad(lambda z: np.sum(z ** 3), engine=engine,
                                    holomorphic=True)(Z)
    np.testing.assert_allclose(got, 3 * Z ** 2)
    with pytest.raises(TypeError, match="complex inputs"):
        _grad(lambda z: np.sum(z * 1j), engine, holomorphic=True)(X)
    with pytest.raises(TypeError, match="return complex"):
        _grad(lambda z: np.sum(np.abs(z)), engine, holomorphic=True)(Z)


# --- real-only rules are refused --------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("f", [
    lambda z: np.real(np.sum(np.maximum(z, 0.5))),
    lambda z: np.real(np.max(z)),
    lambda z: np.real(np.sum(np.sort(z))),
    lambda z: np.var(z),
    lambda z: np.linalg.norm(z),
    lambda x: np.real(np.sum(np.clip(x * C, 0, 1))),
], ids=["maximum", "max", "sort", "var", "norm", "clip"])
def test_real_only_rules_refuse_complex_values(engine, f):
    arg = X if f.__code__.co_varnames[0] == "x" else C
    with pytest.raises(TypeError, match="for real values only"):
        _grad(f, engine)(arg)


def test_forward_mode_refuses_real_only_rules_too():
    for engine in ENGINES:
        with pytest.raises(TypeError, match="for real values only"):
            srcgrad.jvp(lambda z: np.maximum(z, 0.5), (C,), (C,), engine=engine)


# --- Tensor mode: PyTorch's convention -------------------------------------------------

TENSOR_FUNCTIONS = [
    lambda L, z, w: (z.abs() ** 2).sum(),
    lambda L, z, w: (z * z.conj()).real.sum() + (z * w).imag.sum(),
    lambda L, z, w: L.angle(z * w).sum(),
    lambda L, z, w: L.view_as_real(z.exp() * w).pow(2).sum(),
    lambda L, z, w: L.view_as_complex(L.stack([w, w * 2], dim=-1)).mul(z).abs().sum(),
    lambda L, z, w: (z.sin() / (1 + z * z)).real.sum(),
    lambda L, z, w: L.polar(w.abs() + 1, w).mul(z).real.sum(),
    lambda L, z, w: L.real(z @ z.conj()) + w.sum(),
]


@pytest.mark.parametrize("k", range(len(TENSOR_FUNCTIONS)))
def test_tensor_mode_matches_torch(k):
    torch = pytest.importorskip("torch")
    f = TENSOR_FUNCTIONS[k]

    def run(lib):
        z = lib.tensor(C, requires_grad=True)
        w = lib.tensor(X, requires_grad=True)
        out = f(lib, z, w)
        out.backward()
        return [out.detach().numpy(), *(None if t.grad is None else t.grad.numpy()
                                        for t in (z, w))]

    for got, want in zip(run(srcgrad), run(torch), strict=True):
        assert (got is None) == (want is None)
        if got is not None:
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_tensor_grad_is_conjugate_of_transform_gradient():
    z = srcgrad.tensor(C, requires_grad=True)
    (z * np.exp(z)).abs().sum().backward()
    want = srcgrad.grad(lambda z: np.sum(np.abs(z * np.exp(z))), engine="tape")(C)
    np.testing.assert_allclose(z.grad.numpy(), np.conj(want))
    assert z.is_complex() and srcgrad.is_complex(z) and not srcgrad.tensor(X).is_complex()


def test_tensor_hooks_and_autograd_grad_see_torch_convention():
    torch = pytest.importorskip("torch")
    seen = {}

    def run(lib):
        z = lib.tensor(C, requires_grad=True)
        y = z * z

        def hook(g):
            seen[lib.__name__] = g.detach().numpy().copy()

        y.register_hook(hook)
        (gz,) = lib.autograd.grad((y.abs() ** 2).sum(), z)
        return gz.detach().numpy()

    np.testing.assert_allclose(run(srcgrad), run(torch))
    np.testing.assert_allclose(seen["srcgrad"], seen["torch"])


def test_jacobian_of_complex_output_runs_forward():
    f = lambda x: np.exp(1j * x) * C  # noqa: E731
    for engine in ENGINES:
        got = srcgrad.jacobian(f, engine=engine)(X)
        np.testing.assert_allclose(got, np.diag(1j * np.exp(1j * X) * C))
        with pytest.raises(TypeError, match="returns complex values"):
            srcgrad.jacrev(f, engine=engine)(X)


@pytest.mark.parametrize("engine", ENGINES)
def test_nan_to_num_of_complex_values_masks_each_part(engine):
    inf, nan = np.inf, np.nan
    z = np.array([complex(nan, 1.0), complex(2.0, inf), complex(-inf, nan), 1 - 2j,
                  complex(0.5, -inf)])
    w = np.array([1 + 1j, 2 - 1j, 0.5j, -1 + 3j, 2.0])

    def f(z):
        return np.real(np.sum(np.nan_to_num(z, nan=1.0, posinf=5.0, neginf=-3.0) * w * z[3]))

    def parts(x, y):       # x + 1j * y, also where y is infinite (1j * inf has a nan)
        out = np.empty(x.shape, complex)
        out.real, out.imag = x, y
        return out

    got = _grad(f, engine)(z)
    assert np.all(np.isfinite(got))
    dx = numerical_grad(lambda x: f(parts(x, z.imag)), (z.real,), 0)
    dy = numerical_grad(lambda y: f(parts(z.real, y)), (z.imag,), 0)
    np.testing.assert_allclose(got, dx - 1j * dy, rtol=1e-6, atol=1e-8)
    assert got[0].real == 0 and got[4].imag == 0 and got[2] == 0
    dz = np.array([1 - 1j, 2j, 3.0, 0.5 + 0.5j, 1 + 1j])
    _, t = srcgrad.jvp(lambda z: np.nan_to_num(z), (z,), (dz,), engine=engine)
    np.testing.assert_allclose(t, [1j * dz[0].imag, dz[1].real, 0, dz[3], dz[4].real])
    x = np.array([nan, 1.0, -inf])
    g = _grad(lambda x: np.abs(np.sum(np.nan_to_num(x) * w[:3])), engine)(x)
    assert g.dtype == np.float64 and g[0] == 0 and g[2] == 0 and g[1] != 0


def test_node_hooks_see_torch_convention():
    """grad_fn.register_prehook / register_hook on complex values and on real values
    that feed complex ones, in PyTorch's convention, against torch."""
    torch = pytest.importorskip("torch")

    def run(lib):
        seen = []

        def arrays(grads):
            return [None if g is None else g.detach().numpy().copy() for g in grads]

        def watch(name, node):
            assert node.name() == name.split()[0]       # the same graph in both
            node.register_prehook(lambda go: seen.append((name, "pre", arrays(go))))
            node.register_hook(lambda gi, go: seen.append((name, "post", arrays(gi),
                                                           arrays(go))))

        z = lib.tensor(C[:2], requires_grad=True)
        x = lib.tensor(X[:2], requires_grad=True)
        y = z * z * 1j                  # complex from complex
        r = (y * x).abs()               # real from complex and real
        s = x * 2.0                     # real, fed into a complex product
        w = r * s + x
        loss = w.sum() + (y.conj() * z).imag.sum() + (s * (1 + 2j)).abs().sum()
        watch("MulBackward0 y", y.grad_fn)
        watch("AbsBackward0 r", r.grad_fn)
        watch("MulBackward0 s", s.grad_fn)
        watch("AddBackward0 w", w.grad_fn)
        loss.backward()
        return seen, z.grad.numpy(), x.grad.numpy()

    (got, *ours_grads), (want, *torch_grads) = run(srcgrad), run(torch)
    assert [s[:2] for s in got] == [s[:2] for s in want] and len(got) == 8
    for g, w in zip(got, want, strict=True):
        for ours, theirs in zip(g[2:], w[2:], strict=True):
            for a, b in zip(ours, theirs, strict=True):
                assert (a is None) == (b is None), g[:2]
                if a is not None:
                    assert np.iscomplexobj(a) == np.iscomplexobj(b), g[:2]
                    np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=str(g[:2]))
    for a, b in zip(ours_grads, torch_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_node_hooks_that_change_complex_gradients_match_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        z = lib.tensor(C[:2], requires_grad=True)
        y = z * (2 - 1j)
        # a pre-hook replacing the gradient, in PyTorch's convention, and a post-hook
        # scaling what flows to z by 1j
        y.grad_fn.register_prehook(lambda go: (go[0] * 0 + (1 + 1j),))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 1j, *gi[1:]))
        (y.abs() ** 2).sum().backward()
        return z.grad.numpy()

    np.testing.assert_allclose(run(srcgrad), run(torch), rtol=1e-12)


def test_custom_function_backward_sees_torch_convention():
    torch = pytest.importorskip("torch")

    def run(lib):
        class TimesI(lib.autograd.Function):
            @staticmethod
            def forward(ctx, z, x):
                ctx.save_for_backward(z, x)
                return z * 1j * x

            @staticmethod
            def backward(ctx, g):
                z, x = ctx.saved_tensors
                # PyTorch's convention: grad * conj(d out / d z); a real x gets the real
                # part of grad * conj(d out / d x)
                return g * (-1j) * x, (g * (-1j) * z.conj()).real

        z = lib.tensor(C[:2], requires_grad=True)
        x = lib.tensor(X[:2], requires_grad=True)
        (TimesI.apply(z * z, x).abs() ** 2).sum().backward()
        return z.grad.numpy(), x.grad.numpy()

    for a, b in zip(run(srcgrad), run(torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_view_as_real_shares_memory_and_versions_as_torch_does():
    torch = pytest.importorskip("torch")

    def run(lib):
        z = lib.tensor(C.copy())
        r = lib.view_as_real(z)
        r[0, 0] = 10.0                  # seen in z
        z[1] = 5j                       # seen in r
        z.mul_(2)
        r2 = lib.view_as_real(z[1:])     # a view of a view
        r2[0, 1] = -3.0
        return (z.numpy().copy(), r.numpy().copy(), r2.numpy().copy(), z._version,
                r._version, r.shape, r.dtype == lib.float64)

    for ours, theirs in zip(run(srcgrad), run(torch), strict=True):
        if isinstance(ours, np.ndarray):
            np.testing.assert_array_equal(ours, theirs)
        else:
            assert ours == theirs


def test_view_as_real_refuses_in_place_writes_while_recording():
    """A write through the view of a tensor that needs a gradient would change its base
    in a way the tape does not replay: refused, never a wrong gradient."""
    z = srcgrad.tensor(C, requires_grad=True)
    v = z * 1
    r = srcgrad.view_as_real(v)
    with pytest.raises(RuntimeError, match="in-place operation on this view"):
        r[0, 1] = r[0, 0] * 3
    r = srcgrad.view_as_real(z * 2)
    (r ** 2).sum().backward()            # out of place: the gradient is PyTorch's
    np.testing.assert_allclose(z.grad.numpy(), 8 * C)
