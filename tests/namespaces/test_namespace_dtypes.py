"""Mixed dtypes on other libraries' arrays: gradients in the inputs' dtypes, and ``+=``
with the library's own meaning (PyTorch writes into the tensor, JAX and Dask rebind)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad


def product(w, x):
    return (w * x).sum()


def updated(w, x):
    c = w * 2.0
    c += x
    return (c * c).sum(), c


def _reference(w, x):
    """The same values in float64 NumPy: (loss, gradient of w) of ``updated``."""
    c = np.asarray(w, dtype=np.float64) * 2.0 + np.asarray(x, dtype=np.float64)
    return np.sum(c * c), 4.0 * c


def test_torch_float32_with_float64_data():
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    w = torch.tensor([0.5, -0.25, 1.0])                       # float32
    x = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    g = srcgrad.grad(product, engine="source")(w, x)
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float32
    np.testing.assert_allclose(g.numpy(), x.numpy(), rtol=1e-7)
    (value, c), g = srcgrad.value_and_grad(updated, engine="source", has_aux=True)(w, x)
    want_value, want_c = updated(w.clone(), x)
    assert c.dtype == want_c.dtype == torch.float32          # c += x wrote into c
    assert torch.equal(c, want_c) and torch.equal(value, want_value)
    assert g.dtype == torch.float32
    np.testing.assert_allclose(g.numpy(), _reference(w.numpy(), x.numpy())[1], rtol=1e-6)


def test_torch_refuses_casts_torch_refuses():
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")

    def into_ints(w, n):
        k = n * 1
        k += w          # float into an integer tensor: torch refuses
        return w.sum() + k.sum()

    w = torch.tensor([0.5, 1.5])
    n = torch.tensor([1, 2])
    with pytest.raises(RuntimeError):
        into_ints(w, n.clone())
    with pytest.raises(RuntimeError, match="can't be cast"):
        srcgrad.grad(into_ints, engine="source")(w, n)


def test_jax_rebinds_and_keeps_the_input_dtype():
    jnp = pytest.importorskip("jax.numpy")
    pytest.importorskip("array_api_compat")
    w = jnp.asarray([0.5, -0.25, 1.0], dtype=jnp.float32)
    x = jnp.asarray([0.1, 0.2, 0.3], dtype=jnp.float64)
    (value, c), g = srcgrad.value_and_grad(updated, engine="source", has_aux=True)(w, x)
    assert c.dtype == jnp.float64       # JAX arrays have no +=: c = c + x promotes
    assert value.dtype == updated(w, x)[0].dtype
    assert g.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(g), _reference(w, x)[1], rtol=1e-6)


def test_array_api_strict_refuses_a_dtype_change():
    xp = pytest.importorskip("array_api_strict")
    pytest.importorskip("array_api_compat")
    w = xp.asarray([0.5, -0.25], dtype=xp.float32)
    x = xp.asarray([0.1, 0.2], dtype=xp.float64)

    def add_into(w, x):
        c = w * 2.0
        c += x
        return xp.sum(c)

    with pytest.raises(TypeError):
        add_into(w, x)
    with pytest.raises(TypeError, match="dtype"):
        srcgrad.grad(updated, engine="source", has_aux=True)(w, x)
    g = srcgrad.grad(product, engine="source")(w, xp.asarray([0.1, 0.2], dtype=xp.float32))
    assert g.dtype == xp.float32
