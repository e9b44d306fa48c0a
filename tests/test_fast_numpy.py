"""Generated code's NumPy: the same results as NumPy's own reductions, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad import fast_numpy

FAST = fast_numpy.module
RNG = np.random.default_rng(5)
ARRAYS = [
    RNG.standard_normal((4, 5)),
    RNG.standard_normal((3, 2, 6)).astype(np.float32),
    RNG.standard_normal(7) + 1j * RNG.standard_normal(7),
    np.arange(12).reshape(3, 4),                    # integers: NumPy's own function
    np.array([True, False, True]),
    RNG.standard_normal((2, 3)).astype(np.float16),
]
CALLS = [dict(), dict(axis=0), dict(axis=-1, keepdims=True), dict(axis=None, keepdims=False),
         dict(keepdims=True)]


@pytest.mark.parametrize("name", ["sum", "max", "min", "amax", "amin", "mean"])
@pytest.mark.parametrize("k", range(len(ARRAYS)))
@pytest.mark.parametrize("kwargs", CALLS, ids=str)
def test_reductions_match_numpy_exactly(name, k, kwargs):
    a = ARRAYS[k]
    if name in ("max", "min", "amax", "amin") and a.dtype.kind == "c":
        pytest.skip("complex maxima compare lexicographically in both; not a reduction we use")
    expected = getattr(np, name)(a, **kwargs)
    got = getattr(FAST, name)(a, **kwargs)
    assert type(got) is type(expected)
    assert np.shape(got) == np.shape(expected) and np.asarray(got).dtype == np.asarray(
        expected).dtype
    np.testing.assert_array_equal(got, expected)


def test_everything_else_is_numpy():
    assert FAST.exp is np.exp and FAST.ndarray is np.ndarray and FAST.linalg is np.linalg
    assert fast_numpy.original(FAST) is np
    assert fast_numpy.original(FAST.sum) is np.sum and fast_numpy.original(FAST.mean) is np.mean


def test_other_arguments_and_types_go_to_numpy():
    a = RNG.standard_normal((3, 4))
    np.testing.assert_array_equal(FAST.sum(a, where=a > 0), np.sum(a, where=a > 0))
    np.testing.assert_array_equal(FAST.sum(a, initial=2.0), np.sum(a, initial=2.0))
    np.testing.assert_array_equal(FAST.sum(a, dtype=np.float32), np.sum(a, dtype=np.float32))
    assert FAST.sum([1.0, 2.0]) == 3.0 and FAST.max(3.0) == 3.0
    m = np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    assert FAST.sum(m) == np.sum(m) == 4.0
    with pytest.raises(ValueError):
        FAST.max(np.zeros(0))


def test_generated_code_sees_numpy_through_it():
    from tests.compiler import golden_functions

    compiled = srcgrad.grad(golden_functions.tanh_layer, argnums=(1, 2))
    assert compiled._compiled.namespace["np"] is FAST
    t = srcgrad.tensor([1.0, 2.0, 4.0], requires_grad=True)
    assert t.mean().item() == pytest.approx(7.0 / 3.0)
