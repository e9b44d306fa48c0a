"""What is refused on other libraries' arrays, and how: never a silent NumPy conversion."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError

torch = pytest.importorskip("torch")


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def tape_only(w):
    total = 0.0
    for v in {"a": w}.values():     # a loop over a dict: refused by the source engine
        total = total + np.sum(v * v)
    return total


def uses_einsum(w):
    return np.sum(np.einsum("i,i->", w, w))


def test_mixed_libraries_in_one_call_are_refused():
    g = srcgrad.grad(loss)
    with pytest.raises(TypeError, match="NumPy arrays and torch"):
        g(torch.ones(3, dtype=torch.float64), np.ones((2, 3)))


def test_auto_never_falls_back_to_numpy_for_other_libraries():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        g = srcgrad.grad(tape_only)
    assert g.engine == "tape"
    assert np.allclose(g(np.arange(3.0)), 2 * np.arange(3.0))      # NumPy: the tape
    with pytest.raises(TypeError, match="(?s)NumPy arrays only.*refused it: .*values"):
        g(torch.arange(3.0, dtype=torch.float64))


def test_tape_engine_refuses_other_libraries():
    g = srcgrad.grad(loss, engine="tape")
    with pytest.raises(TypeError, match="NumPy arrays only"):
        g(torch.ones(3, dtype=torch.float64), torch.ones((2, 3), dtype=torch.float64))


def test_missing_function_is_a_located_error():
    xs = pytest.importorskip("array_api_strict")
    g = srcgrad.grad(uses_einsum)
    with pytest.raises(TransformError, match="np.einsum on array_api_strict") as info:
        g(xs.asarray([1.0, 2.0]))
    assert info.value.filename.endswith("test_namespace_errors.py")
    assert info.value.lineno == uses_einsum.__code__.co_firstlineno + 1
    # torch has einsum: the same function runs there
    got = g(torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert isinstance(got, torch.Tensor) and np.allclose(got.numpy(), [2.0, 4.0])


def test_variant_source_shows_the_namespace_and_numpy_code_is_unchanged():
    g = srcgrad.grad(loss)
    numpy_source = g.source
    w, x = torch.ones(3, dtype=torch.float64), torch.ones((2, 3), dtype=torch.float64)
    g(w, x)
    from srcgrad.compiler.variants import variant
    from srcgrad.namespaces import namespace_of

    text = variant(g._compiled, namespace_of(w)).source
    assert text.startswith("# np = namespace_of(w, x)") and "torch" in text.splitlines()[0]
    assert g.source == numpy_source and "namespace_of" not in numpy_source


def test_repeated_integer_index_writes_are_refused():
    def f(w, i):
        y = np.zeros(3)
        y[i] = w
        return np.sum(y * y)

    g = srcgrad.grad(f)
    assert np.allclose(g(np.array([1.0, 2.0]), np.array([0, 2])), [2.0, 4.0])
    got = g(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0, 2]))
    assert np.allclose(got.numpy(), [2.0, 4.0])
    with pytest.raises(TypeError, match="repeated integer indices"):
        g(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1, 1]))


def test_vjp_and_value_and_grad_on_torch():
    w, x = np.linspace(-1, 1, 3), np.linspace(0, 1, 6).reshape(2, 3)
    value, grads = srcgrad.value_and_grad(loss, argnums=(0, 1))(w, x)
    tvalue, tgrads = srcgrad.value_and_grad(loss, argnums=(0, 1))(torch.from_numpy(w),
                                                                  torch.from_numpy(x))
    assert np.isclose(float(tvalue), value)
    for a, b in zip(tgrads, grads, strict=True):
        assert isinstance(a, torch.Tensor) and np.allclose(a.numpy(), b)
    out, pullback = srcgrad.vjp(loss, torch.from_numpy(w), torch.from_numpy(x))
    cot = pullback(torch.tensor(2.0, dtype=torch.float64))
    assert all(isinstance(c, torch.Tensor) for c in cot)
    assert np.allclose(cot[0].numpy(), 2 * grads[0])


def test_dask_gradient_is_lazy():
    da = pytest.importorskip("dask.array")
    w = np.linspace(-1, 1, 3)
    x = np.linspace(0, 1, 12).reshape(4, 3)
    g = srcgrad.grad(loss)(da.from_array(w, chunks=2), da.from_array(x, chunks=(2, 3)))
    assert isinstance(g, da.Array)          # a graph, computed when asked
    assert np.allclose(g.compute(), srcgrad.grad(loss)(w, x))
