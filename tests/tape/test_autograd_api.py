"""The parts of PyTorch's autograd API beyond backward(): what ``autograd.grad`` runs,
saved tensors and their hooks, forward mode, anomaly and inference modes, legacy
constructors and the remaining Tensor methods.  PyTorch parity for the same items is
in ``test_autograd_api_torch.py``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad as torch
from srcgrad import autograd


class Exp(autograd.Function):
    """The custom Function of PyTorch's "Double Backward with Custom Functions" tutorial."""

    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return result * grad_out


# -- autograd.grad stops at its inputs -----------------------------------------------------


def test_grad_with_respect_to_a_non_leaf_leaves_the_graph_behind_it_alone():
    x = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    fired = []
    x.register_hook(lambda g: fired.append(g))
    y = x * x                     # MulBackward0 saves x: freeing it would break backward
    out = (y.exp()).sum()
    (g,) = autograd.grad(out, y)
    np.testing.assert_allclose(g.numpy(), np.exp([0.25, 4.0]))
    assert fired == []            # the leaf's hook is behind y: it does not run
    assert x.grad is None
    y.sum().backward()            # the graph behind y was not freed
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 4.0])
    assert len(fired) == 1


def test_grad_runs_past_a_non_leaf_input_only_for_an_input_behind_it():
    x = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    y = x.sin()
    out = y * y
    gy, gx = autograd.grad(out, (y, x))
    assert gy.item() == pytest.approx(2 * np.sin(1.5))
    assert gx.item() == pytest.approx(2 * np.sin(1.5) * np.cos(1.5))


def test_grad_skips_branches_that_lead_to_no_input():
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    ran = []
    a_side = a.exp()
    a_side.register_hook(lambda g: ran.append("a"))
    b_side = b.exp()
    b_side.register_hook(lambda g: ran.append("b"))
    (g,) = autograd.grad(a_side * b_side, b)
    assert g.item() == pytest.approx(np.exp(5.0))
    assert ran == ["b"]


def test_backward_with_inputs_runs_only_towards_them():
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    fired = []
    a.register_hook(lambda g: fired.append("a"))
    (a * b).backward(inputs=[b])
    assert fired == [] and a.grad is None and b.grad.item() == 2.0


def test_gradgradcheck_of_a_custom_function_at_a_non_leaf():
    x = torch.tensor(1.0, requires_grad=True, dtype=torch.double).clone()
    assert autograd.gradcheck(Exp.apply, x)
    assert autograd.gradgradcheck(Exp.apply, x)
