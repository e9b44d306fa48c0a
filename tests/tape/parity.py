"""Helpers shared by Tensor mode's tests: the custom Function of PyTorch's tutorials,
and running one scenario on srcgrad and on real PyTorch to compare what a user sees."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import srcgrad


def exp_function(lib: Any) -> type:
    """The ``Exp`` Function of PyTorch's "Double Backward with Custom Functions" tutorial
    (it saves its output), written against ``lib`` (srcgrad or torch)."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = lib.exp(x)
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return result * grad_out

    return Exp


def seen(value: Any) -> Any:
    """What the user sees of ``value``, comparable across the two libraries: a tensor's
    repr (``torch.`` read as ``srcgrad.``) and values rounded past float32's last bit."""
    import torch

    if isinstance(value, (srcgrad.Tensor, torch.Tensor)):
        values = value.detach().numpy()
        if values.dtype.kind == "f":  # float32 results may differ in the last bit
            values = np.round(values.astype(np.float64), 5)
        return ("tensor", repr(value).replace("torch.", "srcgrad."), values.tolist())
    if isinstance(value, (list, tuple)):
        return [seen(v) for v in value]
    return value


def both(scenario: Any, show: Any = seen) -> list:
    """Run ``scenario(lib, log)`` on srcgrad, then torch; return the two logs (an error
    raised, and the warnings given, are logged too), each item passed through ``show``."""
    import torch

    logs = []
    for lib in (srcgrad, torch):
        log: list = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                scenario(lib, log)
            except Exception as e:  # noqa: BLE001 - the error is part of what is compared
                log.append(("raised", type(e).__name__,
                            str(e).split(" Hint:")[0].replace("torch.", "srcgrad.")))
        log.append(("warned", [str(w.message).split(" (Triggered internally")[0]
                               for w in caught]))
        logs.append([show(v) for v in log])
    return logs


def same(scenario: Any, show: Any = seen) -> None:
    """``scenario`` gives srcgrad and torch the same log."""
    mine, theirs = both(scenario, show)
    assert mine == theirs
