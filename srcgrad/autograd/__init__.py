"""Tensor mode: srcgrad's PyTorch-style runtime tape.

``import srcgrad as torch`` runs PyTorch autograd tutorial code: tensors
record what is done to them, ``backward()`` walks the recorded graph in
reverse, and every derivative comes from the rule registry shared with the
source engine.
"""

from . import functional
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import AccumulateGrad, Node, RemovableHandle
from .tensor import Size, Tensor
from .viz import graph_dot


def Variable(tensor: Tensor, requires_grad: bool = False) -> Tensor:  # noqa: N802
    """Deprecated PyTorch wrapper kept for old code: returns the tensor itself."""
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


__all__ = [
    "AccumulateGrad", "Function", "FunctionCtx", "GradcheckError", "Node", "RemovableHandle",
    "Size", "Tensor", "Variable", "backward", "enable_grad", "functional", "grad", "gradcheck",
    "gradgradcheck", "graph_dot", "is_grad_enabled", "no_grad", "once_differentiable",
    "set_grad_enabled",
]
