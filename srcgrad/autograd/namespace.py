"""Module-level functions mirroring ``torch.*`` (``srcgrad.exp(t)``, ``srcgrad.cat``...).

Each one is the Tensor method of the same name, or a NumPy primitive recorded
through the registry; none has logic of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..rules.registry import get_rule
from .factories import as_tensor
from .ops import record
from .tensor import Tensor, _check_dim, unwrap

__all__: list[str] = []

_METHOD_FUNCTIONS = (
    "exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh abs sqrt "
    "rsqrt square reciprocal sign sgn floor ceil round sigmoid relu clamp clip neg sum mean prod "
    "var std max min amax amin argmax argmin cumsum cumprod norm trace matmul mm mv dot outer "
    "reshape flatten squeeze unsqueeze permute transpose t flip roll tril triu diag split chunk "
    "unbind index_select gather clone softmax log_softmax logsumexp maximum minimum pow "
    "add sub mul div detach numel eq ne lt le gt ge allclose equal masked_fill sort all any "
    "index_add"
).split()


def _method_function(name: str) -> Any:
    method = getattr(Tensor, name)

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 - PyTorch's name
        if not isinstance(input, Tensor):
            input = as_tensor(input)  # noqa: A001
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``srcgrad.{name}(t, ...)`` is ``t.{name}(...)``."
    return function


for _name in _METHOD_FUNCTIONS:
    globals()[_name] = _method_function(_name)
    __all__.append(_name)



def pow(input: Any, exponent: Any) -> Any:  # noqa: A001, A002 - PyTorch's names
    """``input ** exponent``; a number base gives ``PowBackward2``, as in PyTorch."""
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return exponent.__rpow__(input)
    return as_tensor(input).pow(exponent)


absolute = globals()["abs"]
subtract = globals()["sub"]
multiply = globals()["mul"]
divide = true_divide = globals()["div"]
arcsin, arccos, arctan = globals()["asin"], globals()["acos"], globals()["atan"]
__all__ += ["absolute", "subtract", "multiply", "divide", "true_divide", "arcsin", "arccos",
            "arctan"]


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    _check_dim(dim, np.ndim(unwrap(tensors[0])))
    return record(get_rule(np.concatenate), (tensors,), {"axis": dim})


concat = concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along a new dimension."""
    return record(get_rule(np.stack), (list(tensors),), {"axis": dim})


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    if input is None and other is None:
        return tuple(Tensor._wrap(i) for i in np.nonzero(unwrap(condition)))
    return record(get_rule(np.where), (unwrap(condition), input, other))


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``np.einsum``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return record(get_rule(np.einsum), (equation, *operands))


def numel(input: Any) -> int:  # noqa: A002
    return int(np.size(unwrap(input)))


__all__ += ["cat", "concat", "concatenate", "stack", "where", "einsum", "numel"]

from . import complex_tensor  # noqa: E402  (torch.real, torch.view_as_real, ...)
from .complex_tensor import *  # noqa: E402, F403

__all__ += complex_tensor.__all__
