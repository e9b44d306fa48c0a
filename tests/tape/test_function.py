"""Custom differentiable operations: ``srcgrad.autograd.Function``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad as torch
from srcgrad import autograd
from srcgrad.autograd import Function, once_differentiable
from srcgrad.autograd.function import Function as FunctionFromModule

from .parity import exp_function


def _t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


def test_function_importable_from_both_places():
    assert Function is FunctionFromModule
    assert torch.autograd.Function is Function


def test_ctx_is_the_node():
    seen = {}

    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            seen["forward"] = ctx
            return x * 1

        @staticmethod
        def backward(ctx, g):
            seen["backward"] = ctx
            return g

    x = _t([1.0, 2.0])
    y = Identity.apply(x)
    assert y.grad_fn is seen["forward"]
    y.sum().backward()
    assert seen["backward"] is seen["forward"]
    assert type(y.grad_fn).__name__ == "IdentityBackward"
    assert y.grad_fn.name() == "IdentityBackward"
    assert repr(y).endswith("grad_fn=<IdentityBackward>)")


def test_forward_runs_without_recording():
    class Check(Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            assert not torch.is_grad_enabled()
            assert not inner.requires_grad
            return inner

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = _t([1.0])
    y = Check.apply(x)
    assert y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0]


def test_save_for_backward_and_saved_tensors():
    x = _t([1.0, 2.0])
    y = Cube.apply(x)
    assert y.grad_fn.saved_tensors[0] is x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.grad_fn.saved_tensors  # noqa: B018


def test_saved_tensor_modified_in_place_is_detected():
    x = _t([1.0, 2.0])
    h = x * 1
    y = Cube.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_needs_input_grad_and_next_functions_only_for_tensors():
    seen = {}

    class Scale(Function):
        @staticmethod
        def forward(ctx, a, k, b):
            seen["needs"] = ctx.needs_input_grad
            return a * k + b

        @staticmethod
        def backward(ctx, g):
            seen["needs_backward"] = ctx.needs_input_grad
            return g * 2.0, None, (g if ctx.needs_input_grad[2] else None)

    a = _t([1.0])
    b = torch.tensor([3.0], dtype=torch.float64)  # does not require grad
    y = Scale.apply(a, 2.0, b)
    assert seen["needs"] == (True, False, False)
    nf = y.grad_fn.next_functions
    assert len(nf) == 2  # the float 2.0 is not listed
    assert type(nf[0][0]).__name__ == "AccumulateGrad" and nf[0][0].variable is a
    assert nf[1] == (None, 0)
    y.sum().backward()
    assert a.grad.tolist() == [2.0]
    assert seen["needs_backward"] == (True, False, False)


def test_no_node_when_nothing_requires_grad():
    y = Cube.apply(torch.tensor([2.0]))
    assert not y.requires_grad and y.grad_fn is None
    with torch.no_grad():
        y = Cube.apply(_t([2.0]))
    assert not y.requires_grad


def test_several_outputs_and_mark_non_differentiable():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.detach().numpy())
            idx = torch.tensor(order)
            ctx.mark_non_differentiable(idx)
            ctx.order = order
            return x[torch.tensor(order)], idx

        @staticmethod
        def backward(ctx, g_values, g_idx):
            assert g_idx is None or float(np.abs(g_idx.numpy()).sum()) == 0
            out = np.zeros(len(ctx.order))
            out[ctx.order] = g_values.numpy()
            return torch.tensor(out)

    x = _t([3.0, 1.0, 2.0])
    values, idx = SortWithIndex.apply(x)
    assert values.requires_grad and values.grad_fn is not None
    assert not idx.requires_grad and idx.grad_fn is None
    assert idx.tolist() == [1, 2, 0]
    assert values.output_nr == 0
    (values * torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_two_differentiable_outputs():
    class SinCos(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            return gs * x.cos() - gc * x.sin()

    x = _t([0.3, 0.9])
    s, c = SinCos.apply(x)
    assert s.grad_fn is c.grad_fn
    assert (s.output_nr, c.output_nr) == (0, 1)
    (s * 2 + c * 3).sum().backward()
    xv = np.array([0.3, 0.9])
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xv) - 3 * np.sin(xv))
    # only one output used: the other gets zeros (materialized)
    x.grad = None
    s, c = SinCos.apply(x)
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xv))


def test_set_materialize_grads_false_gives_none():
    seen = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            total = 0
            if g1 is not None:
                total = total + g1 * 2
            if g2 is not None:
                total = total + g2 * 3
            return total

    x = _t([1.0])
    a, b = Pair.apply(x)
    b.sum().backward()
    assert seen == [(True, False)]
    assert x.grad.tolist() == [3.0]


def test_mark_dirty():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = _t([1.0, 2.0])
    h = x * 2
    version = h._version
    out = AddOneInPlace.apply(h)
    assert out is h
    assert h._version > version
    assert type(h.grad_fn).__name__ == "AddOneInPlaceBackward"
    np.testing.assert_array_equal(h.detach().numpy(), [3.0, 5.0])
    (h * h).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 20.0])


def test_setup_context_style():
    class Mul(Function):
        @staticmethod
        def forward(a, b):
            return a * b

        @staticmethod
        def setup_context(ctx, inputs, output):
            a, b = inputs
            ctx.save_for_backward(a, b)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a

    a = _t([2.0, 3.0])
    b = _t([5.0, 7.0])
    y = Mul.apply(a, b)
    assert type(y.grad_fn).__name__ == "MulBackward"
    y.sum().backward()
    assert a.grad.tolist() == [5.0, 7.0]
    assert b.grad.tolist() == [2.0, 3.0]


def test_backward_may_return_a_single_value_or_trailing_nones():
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None  # more Nones than inputs are tolerated

    x = _t([1.0])
    Twice.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_broadcastable_gradient_is_reduced():
    class Plus(Function):
        @staticmethod
        def forward(ctx, x):
            return x + 1

        @staticmethod
        def backward(ctx, g):
            return g.expand(2, 3)  # broadcastable to x's shape (3,) after summing

    x = _t([1.0, 2.0, 3.0])
    Plus.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_double_backward_through_custom_function():
    x = _t([0.5, -1.5, 2.0])
    y = Cube.apply(x).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())
    # numerically as well
    assert autograd.gradgradcheck(Cube.apply, (_t([0.3, -0.7]),))


def test_once_differentiable_backward_is_not_recorded():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not torch.is_grad_enabled()
            return g * 2 * x

    x = _t([1.5])
    (g,) = autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [3.0]
    assert not g.requires_grad


def test_custom_function_in_a_larger_graph():
    x = _t([0.2, 0.4])
    y = (Cube.apply(x.sin()) * x).sum()
    y.backward()
    xv = np.array([0.2, 0.4])
    expected = 3 * np.sin(xv) ** 2 * np.cos(xv) * xv + np.sin(xv) ** 3
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_gradcheck_of_custom_function():
    assert autograd.gradcheck(Cube.apply, (_t([0.1, 0.2, -0.3]),))


ExpSavingOutput = exp_function(torch)


def test_saved_output_is_the_returned_tensor():
    x = _t([0.5, 1.0])
    y = ExpSavingOutput.apply(x)
    assert y.grad_fn.saved_tensors[0] is y


def test_double_backward_through_a_saved_output():
    x = _t([0.5, 1.0])
    (g,) = autograd.grad(ExpSavingOutput.apply(x).sum(), x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), np.exp([0.5, 1.0]))
    np.testing.assert_allclose(h.numpy(), np.exp([0.5, 1.0]))
    assert autograd.gradgradcheck(ExpSavingOutput.apply, (_t([0.1, -0.4]),))


def test_saved_output_modified_in_place_is_detected():
    x = _t([0.5, 1.0])
    y = ExpSavingOutput.apply(x)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_returning_an_input_unchanged():
    class Same(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 1

    x = _t([1.0, 2.0])
    y = Same.apply(x)
    assert y is not x and y.grad_fn is not None
    assert y.grad_fn.saved_tensors[0] is x
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_keyword_arguments_are_differentiated():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor=2.0):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None

    x = _t([1.0, 2.0])
    y = Scale.apply(x=x)
    assert type(y.grad_fn).__name__ == "ScaleBackward"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    x.grad = None
    Scale.apply(x, factor=5.0).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_vjp_alias_non_tensor_outputs_and_none_saved():
    class WithExtra(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(None, x)
            ctx.k = k
            return x * k, 7

        @staticmethod
        def vjp(ctx, g, g_extra):
            none, x = ctx.saved_tensors
            assert none is None and isinstance(x, torch.Tensor)
            return g * ctx.k, None

    x = _t([1.0, 2.0])
    y, seven = WithExtra.apply(x, 3.0)
    assert seven == 7 and isinstance(seven, int)
    assert len(y.grad_fn.next_functions) == 1
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
