"""Forward mode and second order on other libraries' arrays: the generated code runs there.

``jvp``, ``hvp``, ``hessian``, a gradient of a gradient, ``jacfwd``, ``jacrev``
and ``jacobian`` called with array_api_strict, PyTorch, JAX (eagerly and
under ``jax.jit``) and Dask arrays return that library's arrays, with the
values NumPy's arrays give (which the tests of each transform check against
finite differences).  Where only the tape could run, the call is refused with
an error that says why: never a silent conversion to NumPy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning
from tests.namespaces.libraries import LIBRARIES, Library


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2) + np.sum(w * w * w)


def layer(w, x):
    return np.tanh(x @ w) * w[0] + np.sin(x[:, 1])


def summed_gradient(w, x):
    return np.sum(srcgrad.grad(loss)(w, x) * w)


W = np.array([0.3, -0.7, 0.5])
X = np.array([[0.2, -1.0, 0.4], [1.5, 0.1, -0.3], [0.0, 0.6, 0.9], [-0.4, 0.8, 0.2]])
V = np.array([1.0, -0.5, 2.0])

# name -> (the call, its arguments): each returns arrays only
CALLS = {
    "jvp": (lambda w, x, v: srcgrad.jvp(lambda w: layer(w, x), (w,), (v,)), (W, X, V)),
    "jvp_of_grad": (lambda w, x, v: srcgrad.jvp(srcgrad.grad(loss), (w, x), (v, 0 * x)),
                    (W, X, V)),
    "hvp": (lambda w, x, v: srcgrad.hvp(loss, (w, x), (v, 0 * x)), (W, X, V)),
    "hessian": (lambda w, x: srcgrad.hessian(loss)(w, x), (W, X)),
    "hessian_two": (lambda w, x: srcgrad.hessian(loss, argnums=(0, 1))(w, x)[0], (W, X)),
    "grad_of_grad": (lambda w, x: srcgrad.grad(summed_gradient, argnums=(0, 1))(w, x), (W, X)),
    "jacfwd": (lambda w, x: srcgrad.jacfwd(layer, argnums=(0, 1))(w, x), (W, X)),
    "jacrev": (lambda w, x: srcgrad.jacrev(layer)(w, x), (W, X)),
    "jacobian": (lambda w, x: srcgrad.jacobian(layer)(w, x), (W, X)),
    "jacobian_of_grad": (lambda w, x: srcgrad.jacobian(srcgrad.grad(loss))(w, x), (W, X)),
}


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [leaf for r in result for leaf in _flat(r)]
    return [result]


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("lib", LIBRARIES, ids=[lib.name for lib in LIBRARIES])
def test_forward_mode_equals_numpy(lib: Library, name: str) -> None:
    lib.require()
    call, args = CALLS[name]
    expected = _flat(call(*args))
    got = _flat(lib.call(call, [lib.convert(a) for a in args]))
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert isinstance(g, lib.array_type()), \
            f"{name} returned a {type(g).__name__}, not a {lib.name} array"
        value = lib.to_numpy(g)
        assert value.shape == np.shape(e) and value.dtype == np.asarray(e).dtype
        np.testing.assert_allclose(value, e, rtol=1e-9, atol=1e-12)


def test_hessian_matches_finite_differences_on_torch():
    torch = pytest.importorskip("torch")
    h = srcgrad.hessian(loss)(torch.from_numpy(W), torch.from_numpy(X)).numpy()
    eps = 1e-6
    g = srcgrad.grad(loss)
    fd = np.stack([(g(W + eps * e, X) - g(W - eps * e, X)) / (2 * eps) for e in np.eye(3)],
                  axis=-1)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, h.T, rtol=1e-12)


def tape_only(w):
    total = 0.0
    for v in {"a": w}.values():     # a loop over a dict: refused by the source engine
        total = total + np.sum(np.sin(v) * v)
    return total


@pytest.mark.parametrize("call", [
    lambda w: srcgrad.jvp(tape_only, (w,), (w,)),
    lambda w: srcgrad.hvp(tape_only, (w,), (w,)),
    lambda w: srcgrad.hessian(tape_only)(w),
    lambda w: srcgrad.jacfwd(np.sin)(w),
    lambda w: srcgrad.jvp(np.sin, (w,), (w,), engine="tape"),
], ids=["jvp", "hvp", "hessian", "jacfwd_ufunc", "jvp_tape"])
def test_tape_is_refused_for_other_libraries(call):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        assert isinstance(call(W.copy()), (np.ndarray, tuple))      # NumPy: the tape runs
        with pytest.raises(TypeError, match="NumPy arrays only.*never converts"):
            call(torch.from_numpy(W.copy()))


def test_mixed_tangent_library_is_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="NumPy arrays and torch"):
        srcgrad.jvp(lambda w: np.sin(w), (torch.from_numpy(W),), (V,))
