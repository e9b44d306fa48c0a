"""PyTorch-style dtype objects over NumPy dtypes, and the default float dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["dtype", "as_dtype", "to_numpy_dtype", "set_default_dtype", "get_default_dtype"]


class dtype:
    """A Tensor element type; compares equal to the matching NumPy dtype."""

    __slots__ = ("name", "numpy_dtype", "is_floating_point", "is_complex", "is_signed", "itemsize",
                 "kind")

    def __init__(self, name: str) -> None:
        self.name = name
        self.numpy_dtype = np.dtype(name)
        kind = self.kind = self.numpy_dtype.kind     # (NumPy's letter: "f", "c"...)
        self.is_floating_point = kind == "f"
        self.is_complex = kind == "c"
        self.is_signed = kind in "fic"
        self.itemsize = self.numpy_dtype.itemsize

    @property
    def dtype(self) -> np.dtype:
        # Lets ``np.dtype(srcgrad.float32)`` and ``np.zeros(3, srcgrad.float32)`` work.
        return self.numpy_dtype

    def __repr__(self) -> str:
        return f"srcgrad.{self.name}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, dtype):
            return self is other
        try:
            return self.numpy_dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.numpy_dtype)

    def __reduce__(self) -> str:
        return self.name


float16 = half = dtype("float16")
float32 = float = dtype("float32")  # noqa: A001 - PyTorch's alias
float64 = double = dtype("float64")
complex64 = cfloat = dtype("complex64")
complex128 = cdouble = dtype("complex128")
int8 = dtype("int8")
int16 = short = dtype("int16")
int32 = int = dtype("int32")  # noqa: A001 - PyTorch's alias
int64 = long = dtype("int64")
uint8 = dtype("uint8")
bool = dtype("bool")  # noqa: A001 - PyTorch's name

_BY_NUMPY = {d.numpy_dtype: d for d in (float16, float32, float64, complex64, complex128, int8,
                                        int16, int32, int64, uint8, bool)}
_default = [float32]


def as_dtype(value: Any) -> dtype:
    """The srcgrad dtype for a srcgrad dtype, NumPy dtype, type or name."""
    if isinstance(value, dtype):
        return value
    npd = np.dtype(value)
    found = _BY_NUMPY.get(npd)
    if found is None:
        found = _BY_NUMPY[npd] = dtype(npd.name)
    return found


def to_numpy_dtype(value: Any) -> np.dtype | None:
    """A NumPy dtype for anything ``as_dtype`` accepts; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, dtype):
        return value.numpy_dtype
    return np.dtype(value)


def set_default_dtype(d: Any) -> None:
    """Set the floating dtype of new tensors made from Python numbers (float32 by default)."""
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


def get_default_dtype() -> dtype:
    """The floating dtype of new tensors made from Python numbers."""
    return _default[0]
