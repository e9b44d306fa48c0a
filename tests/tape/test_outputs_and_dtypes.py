"""Calls with nested or integer outputs, ufuncs with ``dtype=``, and ``Tensor.astype``.

Gradients and tangents on the tape are checked against float64 central
differences (and, where differences do not apply, against the source engine).
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.autograd import Tensor

RNG = np.random.default_rng(11)
SAMPLE = RNG.random((7, 2))
WEIGHTS = RNG.random(7)


def _num_grad(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


def _num_directional(f, x, v, eps=1e-6):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def _check_tape(f, x):
    """The tape's gradient and tangent of scalar ``f`` at ``x`` equal central differences."""
    g = srcgrad.grad(f, engine="tape")(x)
    np.testing.assert_allclose(g, _num_grad(f, x), rtol=1e-6, atol=1e-8)
    v = RNG.standard_normal(np.shape(x))
    value, tangent = srcgrad.jvp(f, (x,), (v,), engine="tape")
    np.testing.assert_allclose(value, f(x), rtol=1e-12)
    np.testing.assert_allclose(tangent, _num_directional(f, x, v), rtol=1e-6, atol=1e-8)


# --- np.histogramdd: its bin edges are a list nested in the output -------------------


@pytest.mark.parametrize("density", [None, True])
def test_histogramdd_weights_gradient_and_tangent(density):
    c = RNG.standard_normal((2, 3))

    def f(w):
        hist, edges = np.histogramdd(SAMPLE, (2, 3), None, density, w)
        return np.sum(hist * c) + np.sum(edges[1])  # the edges (lengths 3 and 4) are constants

    _check_tape(f, WEIGHTS)


def test_histogramdd_outputs_on_tensors():
    w = srcgrad.tensor(WEIGHTS, requires_grad=True)
    hist, edges = np.histogramdd(SAMPLE, 2, None, None, w)
    assert hist.requires_grad and hist.grad_fn is not None
    assert isinstance(edges, list) and len(edges) == 2
    for e, want in zip(edges, np.histogramdd(SAMPLE, 2)[1], strict=True):
        assert isinstance(e, Tensor) and not e.requires_grad
        np.testing.assert_array_equal(e.numpy(), want)
    (hist * 2.0).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full(7, 2.0))


def test_histogramdd_weights_by_keyword():
    c = RNG.standard_normal((2, 2))

    def f(w):
        return np.sum(np.histogramdd(SAMPLE, 2, weights=w, density=True)[0] * c)

    _check_tape(f, WEIGHTS)


def test_histogram2d_density_weights_tangent():
    x, y = SAMPLE[:, 0], SAMPLE[:, 1]
    c = RNG.standard_normal((2, 2))

    def f(w):
        return np.sum(np.histogram2d(x, y, 2, None, True, w)[0] * c)

    _check_tape(f, WEIGHTS)


# --- np.unique and ufuncs with dtype= ----------------------------------------------


def test_unique_tangent():
    x = np.array([0.3, 0.7, 0.1, 0.9])
    c = RNG.standard_normal(4)

    def f(x):
        return np.sum(np.unique(x) * c)

    _check_tape(f, x)


def test_unique_with_ties_agrees_with_source_engine():
    x = np.array([0.3, 0.7, 0.3, 0.1])  # not differentiable in the usual sense: compare rules
    c = RNG.standard_normal(3)
    v = RNG.standard_normal(4)

    def f(x):
        return np.sum(np.unique(x) * c)

    tape = srcgrad.jvp(f, (x,), (v,), engine="tape")
    source = srcgrad.jvp(f, (x,), (v,), engine="source")
    np.testing.assert_allclose(tape, source, rtol=1e-12)
    np.testing.assert_allclose(srcgrad.grad(f, engine="tape")(x),
                               srcgrad.grad(f, engine="source")(x), rtol=1e-12)


def test_integer_outputs_need_no_gradient():
    x = srcgrad.tensor([0.3, 0.7, 0.3], requires_grad=True)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    assert values.requires_grad
    assert not inverse.requires_grad and inverse.grad_fn is None
    assert not counts.requires_grad and counts.grad_fn is None
    np.testing.assert_array_equal(counts.numpy(), [2, 1])


def test_ufunc_dtype_keyword_gradient():
    a = RNG.uniform(0.5, 1.5, 3)
    b = RNG.uniform(0.5, 1.5, 3)
    c = RNG.standard_normal(3)

    def f(a):
        return np.sum(np.divide(a, b, dtype=np.float64) * c)

    _check_tape(f, a)
    t = srcgrad.tensor(a.astype(np.float32), requires_grad=True)
    out = np.divide(t, b.astype(np.float32), dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.detach().numpy(), a.astype(np.float32) / b.astype(np.float32))
    (out * c).sum().backward()
    assert t.grad.dtype == np.float32  # the cotangent goes back through the cast
    np.testing.assert_allclose(t.grad.numpy(), c / b, rtol=1e-6)


def test_ufunc_dtype_keyword_refuses_unsafe_cast_as_numpy_does():
    t = srcgrad.tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(TypeError, match="Cannot cast ufunc 'add' input 0"):
        np.add(t, 1, dtype=np.int32)


# --- Tensor.astype reads its dtype as NumPy does -----------------------------------


@pytest.mark.parametrize(
    ("dtype", "want"),
    [("float64", np.float64), ("float32", np.float32), ("f8", np.float64),
     (np.float32, np.float32), (np.dtype("float64"), np.float64), (float, np.float64)],
)
def test_astype_dtype_spellings(dtype, want):
    x = np.array([0.25, -1.5, 2.0])
    c = RNG.standard_normal(3)
    t = srcgrad.tensor(x, requires_grad=True)
    out = t.astype(dtype)
    assert out.dtype == want and out is not t
    np.testing.assert_array_equal(out.detach().numpy(), x.astype(want))
    (out * c.astype(want)).sum().backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_allclose(t.grad.numpy(), c.astype(want), rtol=1e-7)


def test_astype_string_gradient_and_tangent():
    x = np.array([0.25, -1.5, 2.0])
    c = RNG.standard_normal(3)

    def f(x):
        return np.sum(np.exp(x.astype("float64")) * c)

    _check_tape(f, x)
