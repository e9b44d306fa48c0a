"""The parts of PyTorch's autograd API beyond backward(): what ``autograd.grad`` runs,
saved tensors and their hooks, forward mode, anomaly and inference modes, legacy
constructors and the remaining Tensor methods.  PyTorch parity for the same items is
in ``test_autograd_api_torch.py``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad as torch
from srcgrad import autograd

from .parity import exp_function

Exp = exp_function(torch)  # PyTorch's "Double Backward with Custom Functions" tutorial


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


# -- saved tensors and their hooks ---------------------------------------------------------


def _f(x, w):
    return ((x * w).sin() * x.exp()).sum() + (x ** 3 / w).sum()


def test_hooks_that_copy_saved_values_keep_first_and_second_derivatives():
    store = []

    def pack(t):
        store.append(t.detach().numpy().copy())
        return len(store) - 1

    def unpack(i):
        return torch.tensor(store[i])

    x = torch.tensor([0.3, -1.2, 0.7], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([1.5, 0.4, -0.8], dtype=torch.float64, requires_grad=True)
    plain = autograd.grad(_f(x, w), (x, w), create_graph=True)
    with autograd.graph.saved_tensors_hooks(pack, unpack):
        y = _f(x, w)
    hooked = autograd.grad(y, (x, w), create_graph=True)
    assert store  # the hooks ran
    for a, b in zip(plain, hooked, strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    second = autograd.grad((hooked[0] * hooked[1]).sum(), x)[0]
    expected = autograd.grad((plain[0] * plain[1]).sum(), x)[0]
    np.testing.assert_allclose(second.numpy(), expected.numpy(), rtol=1e-13)

    def hooked_f(x, w):
        with autograd.graph.saved_tensors_hooks(pack, unpack):
            return _f(x, w)

    assert autograd.gradcheck(hooked_f, (x, w))
    assert autograd.gradgradcheck(hooked_f, (x, w))


def test_hooks_that_keep_the_tensor_itself_refuse_an_in_place_change():
    # PyTorch stops checking versions under hooks and would use the changed values
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    with autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        b = a.sin()
    a.mul_(10)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    # a copy made by the pack hook is not affected by the change
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    a = x * 1
    with autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        b = a.sin()
    a.mul_(10)
    b.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]))


def test_saved_tensor_hooks_on_a_custom_function():
    seen = []
    x = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    with autograd.graph.saved_tensors_hooks(lambda t: seen.append("pack") or t.detach().clone(),
                                            lambda t: seen.append("unpack") or t):
        y = Exp.apply(x)
    (g,) = autograd.grad(y.sum(), x, create_graph=True)
    (g2,) = autograd.grad(g.sum(), x)
    assert seen == ["pack", "unpack", "unpack"]  # the second order reads it again (PyTorch too)
    assert g2.item() == pytest.approx(np.exp(0.5))


def test_saved_attributes():
    x = torch.tensor([0.5, 2.0], requires_grad=True)
    y = x * x.exp()
    assert y.grad_fn._saved_self is x
    assert y.grad_fn._saved_other.grad_fn is y.grad_fn.next_functions[1][0]
    assert "_saved_result" in dir(y.grad_fn.next_functions[1][0])
    assert "_saved_self" not in dir((x + x).grad_fn)  # read for its shape only
    with pytest.raises(AttributeError):
        getattr((x + x).grad_fn, "_saved_self")  # noqa: B009
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        _ = y.grad_fn._saved_self


def test_allow_mutation_on_saved_tensors_uses_the_values_at_save_time():
    with autograd.graph.allow_mutation_on_saved_tensors():
        a = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
        b = a.clone()
        out = (b.sin() * b).sum()
        b.mul_(3)
        out.backward()
    v = np.array([0.5, 1.5])
    np.testing.assert_allclose(a.grad.numpy(), np.cos(v) * v + np.sin(v))


def test_multi_grad_hook_all_and_any():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    got = []
    handle = autograd.graph.register_multi_grad_hook((a, b), got.append)
    (a * 2).sum().backward()
    assert len(got) == 1 and got[0][1] is None and got[0][0].tolist() == [2.0, 2.0]
    (a * b).sum().backward()
    assert [g.tolist() for g in got[1]] == [[3.0, 4.0], [1.0, 2.0]]
    handle.remove()
    (a * b).sum().backward()
    assert len(got) == 2
    first = []
    autograd.graph.register_multi_grad_hook((a, b), first.append, mode="any")
    (a * b).sum().backward()
    assert len(first) == 1


# -- modes ------------------------------------------------------------------------------------


def test_anomaly_mode():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = autograd.detect_anomaly()
    with mode, np.errstate(all="ignore"):
        y = x / x
        assert "traceback_" in y.grad_fn.metadata
        with pytest.warns(UserWarning, match="Error detected in DivBackward0") as caught:
            with pytest.raises(RuntimeError, match="returned nan values in its 1th output"):
                y.sum().backward()
        assert "y = x / x" in str(caught[0].message)
    assert not torch.is_anomaly_enabled()
    with np.errstate(all="ignore"):
        (x / x).sum().backward()  # off again: no check


def test_inference_mode():
    x = torch.tensor([1.0], requires_grad=True)
    with torch.inference_mode():
        assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not torch.is_inference_mode_enabled() and torch.is_grad_enabled()

    @torch.inference_mode
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_numpy_refused_only_while_recording():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        x.numpy()
    with torch.no_grad():
        assert x.numpy().tolist() == [1.0, 2.0]


# -- legacy spellings and methods ----------------------------------------------------------


def test_legacy_constructors():
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor(2, 3).dtype == torch.float32
    assert torch.Tensor([[0]]).dtype == torch.float32
    assert torch.DoubleTensor([1, 2]).dtype == torch.float64
    assert torch.LongTensor([1.5]).tolist() == [1]
    assert isinstance(torch.tensor([1.0]), torch.FloatTensor)
    assert not isinstance(torch.tensor([1.0]), torch.LongTensor)
    x = torch.tensor([1.0])
    v = autograd.Variable(x, requires_grad=True)
    assert v.requires_grad and not x.requires_grad and v.data_ptr() == x.data_ptr()
    with pytest.raises(RuntimeError, match="deprecated"):
        autograd.variable(1.0)
    with pytest.raises(TypeError, match="data must be a sequence"):
        torch.Tensor(2.5)


def test_sort_and_index_add_gradients():
    x = torch.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert autograd.gradcheck(lambda t: t.sort(dim=1, descending=True).values, x)
    assert autograd.gradgradcheck(lambda t: t.sort(dim=0).values ** 2, x)
    src = torch.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    index = torch.tensor([2, 0, 2])
    assert autograd.gradcheck(lambda a, s: a.index_add(0, index, s, alpha=1.5), (x, src))
    assert autograd.gradgradcheck(lambda a, s: a.index_add(0, index, s) ** 2, (x, src))
    out = x.clone().index_add_(0, index, src)
    assert out.grad_fn.name() == "IndexAddBackward0"


def test_max_with_dim_values_may_change_in_place_its_indices_may_not():
    x = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
    values, indices = torch.max(x, 1)
    values.mul_(2)
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
    values, indices = torch.max(x, 1)
    indices.add_(0)
    with pytest.raises(RuntimeError, match=r"\[srcgrad\.LongTensor \[2\]\] is at version 1"):
        values.sum().backward()


@pytest.mark.parametrize(("vjp", "items"), [
    (lambda g, ans, x: x * ans[1], {1}),           # 3.13+: LOAD_FAST_LOAD_FAST (x, ans)
    (lambda g, ans, x: ans[0] + ans[1] * x, {0, 1}),
    (lambda g, ans, x: g[0] * ans[2], {2}),
    (lambda g, ans, x: ans + x, None),             # (ans, x): ans used whole
    (lambda g, ans, x: x * ans, None),
    (lambda g, ans, x: (ans, ans)[0], None),       # (ans, ans): the first use is unknown
    (lambda g, ans, x: ans[x], None),
    (lambda g, ans, x: g, set()),
])
def test_which_outputs_a_vjp_reads(vjp, items):
    from srcgrad.autograd.ops import answer_items_read

    got = answer_items_read(vjp)
    assert (None if got is None else set(got)) == items
