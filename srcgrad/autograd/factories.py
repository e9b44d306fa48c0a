"""Creating tensors: ``tensor``, ``zeros``, ``rand``, ``arange``, the ``*_like`` family."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .tensor import Tensor, unwrap

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange",
    "linspace", "rand", "randn", "randint", "zeros_like", "ones_like", "full_like", "empty_like",
    "rand_like", "randn_like", "manual_seed", "is_tensor",
]

_rng = [np.random.default_rng()]


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator behind ``rand``, ``randn`` and ``randint``."""
    _rng[0] = np.random.default_rng(seed)
    return _rng[0]


def _finish(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    if requires_grad:
        if array.dtype.kind not in "fc":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        t._rg = True
    return t


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.to_numpy_dtype(dtype) or dtypes.get_default_dtype().numpy_dtype


def _size(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(s) for s in size)


def tensor(data: Any, *, dtype: Any = None, requires_grad: bool = False,
           device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers or arrays).

    Python floats become the default dtype (float32); a NumPy array keeps its dtype.
    """
    raw = unwrap(data)
    npd = dtypes.to_numpy_dtype(dtype)
    array = np.array(raw, dtype=npd)
    if npd is None and array.dtype == np.float64 and not isinstance(raw, (np.ndarray, np.generic)):
        array = array.astype(dtypes.get_default_dtype().numpy_dtype)
    if npd is None and array.dtype == np.complex128 and not isinstance(raw, (np.ndarray,
                                                                             np.generic)):
        # Python complex numbers: the complex dtype of the default float, as in PyTorch
        array = array.astype(np.result_type(dtypes.get_default_dtype().numpy_dtype, 1j))
    return _finish(array, requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array when possible."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    if isinstance(data, np.ndarray) and dtype is None:
        return Tensor._wrap(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor._wrap(array)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    npd = dtypes.to_numpy_dtype(dtype)
    if npd is None:
        npd = (np.dtype(np.bool_) if isinstance(fill_value, bool) else
               np.dtype(np.int64) if isinstance(fill_value, int) else
               dtypes.get_default_dtype().numpy_dtype)
    return _finish(np.full(tuple(size), fill_value, dtype=npd), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    npd = dtypes.to_numpy_dtype(dtype)
    if npd is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        npd = np.dtype(np.int64) if integral else dtypes.get_default_dtype().numpy_dtype
    return _finish(np.arange(start, end, step, dtype=npd), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _finish(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False,
         generator: np.random.Generator | None = None) -> Tensor:
    """Uniform random values in [0, 1)."""
    rng = generator or _rng[0]
    return _finish(rng.random(_size(size)).astype(_float_dtype(dtype)), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal random values."""
    rng = generator or _rng[0]
    return _finish(rng.standard_normal(_size(size)).astype(_float_dtype(dtype)), requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), *, dtype: Any = None) -> Tensor:
    """Random integers in [low, high)."""
    if high is None:
        low, high = 0, low
    npd = dtypes.to_numpy_dtype(dtype) or np.dtype(np.int64)
    return _finish(_rng[0].integers(low, high, size=tuple(size)).astype(npd), False)


def _like(t: Any, dtype: Any) -> tuple[tuple, np.dtype]:
    a = unwrap(t)
    npd = dtypes.to_numpy_dtype(dtype) or np.asarray(a).dtype
    return np.shape(a), npd


def zeros_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, npd = _like(t, dtype)
    return _finish(np.zeros(shape, dtype=npd), requires_grad)


def ones_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, npd = _like(t, dtype)
    return _finish(np.ones(shape, dtype=npd), requires_grad)


def empty_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def full_like(t: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, npd = _like(t, dtype)
    return _finish(np.full(shape, fill_value, dtype=npd), requires_grad)


def rand_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, npd = _like(t, dtype)
    return _finish(_rng[0].random(shape).astype(npd), requires_grad)


def randn_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, npd = _like(t, dtype)
    return _finish(_rng[0].standard_normal(shape).astype(npd), requires_grad)
