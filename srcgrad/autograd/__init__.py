"""Tensor mode: srcgrad's PyTorch-style runtime tape.

``import srcgrad as torch`` runs PyTorch autograd tutorial code: tensors
record what is done to them, ``backward()`` walks the recorded graph in
reverse, and every derivative comes from the rule registry shared with the
source engine.
"""

from . import forward_ad, functional
from .anomaly import detect_anomaly, set_detect_anomaly
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import AccumulateGrad, Node, RemovableHandle
from .legacy import Variable, variable
from .tensor import Size, Tensor
from .viz import graph_dot

__all__ = [
    "AccumulateGrad", "Function", "FunctionCtx", "GradcheckError", "Node", "RemovableHandle",
    "Size", "Tensor", "Variable", "backward", "enable_grad", "functional", "grad", "gradcheck",
    "gradgradcheck", "graph_dot", "is_grad_enabled", "no_grad", "once_differentiable",
    "set_grad_enabled", "variable", "detect_anomaly", "set_detect_anomaly", "inference_mode",
    "is_inference_mode_enabled", "forward_ad",
]
