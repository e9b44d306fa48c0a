"""Tensor mode's complex numbers: ``real``, ``imag``, ``conj``, ``angle``, ``is_complex``,
``view_as_real``, ``view_as_complex``, ``complex`` and ``polar``, named as in PyTorch.

Each is recorded through the rules of ``np.real``, ``np.imag``, ``np.conjugate``,
``np.angle`` and the arithmetic: no derivative of its own.  Gradients follow
PyTorch's convention (``z.grad`` is the conjugate of JAX's gradient; see
``graph.user_grad``).  ``view_as_real`` is a view sharing memory and version counter
with its input; ``view_as_complex`` returns a new tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..rules import elementwise
from ..rules.registry import get_rule
from .factories import as_tensor
from .ops import record
from .tensor import Tensor

__all__ = ["real", "imag", "conj", "conj_physical", "resolve_conj", "angle", "is_complex",
           "view_as_real", "view_as_complex", "complex", "polar"]

_REAL, _IMAG = get_rule(np.real), get_rule(np.imag)
_CONJ, _ANGLE = get_rule(np.conjugate), get_rule(np.angle)
_VIEW_AS_REAL = get_rule(elementwise.view_as_real)


def _is_complex(t: Tensor) -> bool:
    return t._a.dtype.kind == "c"


def _real(self: Tensor) -> Tensor:
    """The real part (the tensor itself when it is real, as in PyTorch)."""
    return record(_REAL, (self,), name="RealBackward0") if _is_complex(self) else self


def _imag(self: Tensor) -> Tensor:
    """The imaginary part of a complex tensor."""
    if not _is_complex(self):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return record(_IMAG, (self,))


def _conj(self: Tensor) -> Tensor:
    """The complex conjugate (the tensor itself when it is real, as in PyTorch)."""
    return record(_CONJ, (self,)) if _is_complex(self) else self


def _conj_physical(self: Tensor) -> Tensor:
    return record(_CONJ, (self,), name="ConjPhysicalBackward0") if _is_complex(self) else self


def _angle(self: Tensor) -> Tensor:
    """The argument of each element: ``atan2(imag, real)`` (0 or pi for real values)."""
    return record(_ANGLE, (self,))


def _resolve_conj(self: Tensor) -> Tensor:
    return self


def _is_complex_method(self: Tensor) -> bool:
    return _is_complex(self)


Tensor.real = property(_real)
Tensor.imag = property(_imag)
Tensor.conj = _conj
Tensor.conj_physical = _conj_physical
Tensor.resolve_conj = _resolve_conj
Tensor.angle = _angle
Tensor.is_complex = _is_complex_method


def real(input: Any) -> Any:  # noqa: A002 - PyTorch's names
    return as_tensor(input).real


def imag(input: Any) -> Any:  # noqa: A002
    return as_tensor(input).imag


def conj(input: Any) -> Any:  # noqa: A002
    return as_tensor(input).conj()


def conj_physical(input: Any) -> Any:  # noqa: A002
    return as_tensor(input).conj_physical()


def resolve_conj(input: Any) -> Any:  # noqa: A002
    return as_tensor(input)


def angle(input: Any) -> Any:  # noqa: A002
    return as_tensor(input).angle()


def is_complex(input: Any) -> bool:  # noqa: A002
    return _is_complex(as_tensor(input))


def view_as_real(input: Any) -> Tensor:  # noqa: A002
    """A complex tensor as a real one with a last dimension of 2: (real, imag)."""
    t = as_tensor(input)
    if not _is_complex(t):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    # a view of t's memory: writes through either are seen in the other, and they
    # share t's version counter
    return record(_VIEW_AS_REAL, (t,))


def view_as_complex(input: Any) -> Tensor:  # noqa: A002
    """A real tensor whose last dimension is 2 (real, imag) as a complex one."""
    t = as_tensor(input)
    if t._a.dtype.kind != "f" or t._a.ndim == 0 or t._a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return complex(t[..., 0], t[..., 1])


def complex(real: Any, imag: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """The complex tensor ``real + 1j * imag`` (both real, same dtype)."""
    re, im = as_tensor(real), as_tensor(imag)
    if re._a.dtype.kind != "f" or im._a.dtype.kind != "f":
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors")
    return re + im * 1j


def polar(abs: Any, angle: Any) -> Tensor:  # noqa: A002
    """The complex tensor ``abs * (cos(angle) + 1j * sin(angle))``."""
    r, theta = as_tensor(abs), as_tensor(angle)
    return complex(r * np.cos(theta), r * np.sin(theta))
