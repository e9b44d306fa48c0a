"""PyTorch's legacy spellings: ``FloatTensor``/``DoubleTensor``/``LongTensor``... and
``autograd.Variable``.

``srcgrad.FloatTensor([1, 2])`` and ``srcgrad.FloatTensor(2, 3)`` build tensors of
that dtype, and ``isinstance(t, srcgrad.FloatTensor)`` asks for the dtype, as in
PyTorch.  ``Variable(t, requires_grad=True)`` is a new leaf sharing ``t``'s data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, _legacy_array

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "BoolTensor", "Variable", "variable"]


class _TypedTensorMeta(type):
    """``isinstance(t, FloatTensor)``: a Tensor of that dtype."""

    _dtype: np.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._a.dtype == cls._dtype

    def __call__(cls, *data: Any) -> Tensor:  # type: ignore[override]
        if len(data) == 1 and isinstance(data[0], Tensor):
            data = (data[0]._a,)  # a copy in this dtype, as PyTorch's conversion
        array = _legacy_array(data, cls._dtype)
        return Tensor._wrap(array if array.dtype == cls._dtype else array.astype(cls._dtype))


def _typed(name: str, dtype: Any) -> type:
    return _TypedTensorMeta(name, (), {"_dtype": np.dtype(dtype), "__module__": __name__,
                                       "__doc__": f"A tensor of dtype {np.dtype(dtype)}."})


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
BoolTensor = _typed("BoolTensor", np.bool_)


class _VariableMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated PyTorch wrapper kept for old code: ``Variable(t, requires_grad)`` is a
    new leaf sharing ``t``'s data (``t`` itself is unchanged); every tensor is one."""

    def __new__(cls, data: Tensor, requires_grad: bool = False,  # type: ignore[misc]
                volatile: bool = False) -> Tensor:
        t = data.detach() if isinstance(data, Tensor) else Tensor._wrap(np.asarray(data))
        return t.requires_grad_(True) if requires_grad else t


def variable(*args: Any, **kwargs: Any) -> Any:
    """Removed from PyTorch: raises its error."""
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead")
