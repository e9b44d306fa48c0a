"""The tape's backward engine: accumulation, broadcasting, freeing, higher order, hooks,
in-place operations, detaching, dtypes and factories."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import srcgrad as torch
from srcgrad import autograd


def _num_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of scalar ``f`` (on float64 arrays) at ``x``."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f(x)
        flat[i] = old - eps
        minus = f(x)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return g


def _t(a, requires_grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- accumulation ---------------------------------------------------------------------------


def test_gradients_accumulate_into_the_same_grad_object():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    first = x.grad
    np.testing.assert_allclose(first.numpy(), [2, 4, 6])
    (3 * x).sum().backward()
    assert x.grad is first
    np.testing.assert_allclose(x.grad.numpy(), [5, 7, 9])
    x.grad.zero_()
    assert x.grad is first
    np.testing.assert_array_equal(first.numpy(), [0, 0, 0])
    x.sum().backward()
    np.testing.assert_array_equal(first.numpy(), [1, 1, 1])


def test_grad_can_be_reset_to_none():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_leaf_used_twice_gets_both_contributions():
    x = _t([0.5, -1.0])
    y = x * x + x.sin() * x
    y.sum().backward()
    xv = np.array([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * xv + np.cos(xv) * xv + np.sin(xv))


def test_diamond_graph():
    x = _t(0.7)
    a = x * 2
    b = a.exp()
    c = a.sin()
    (b * c).backward()
    f = lambda v: float(np.exp(2 * v) * np.sin(2 * v))  # noqa: E731
    np.testing.assert_allclose(x.grad.numpy(), _num_grad(f, np.array(0.7)), rtol=1e-6)


def test_grad_dtype_and_shape_follow_the_leaf():
    x = torch.rand(2, 3, requires_grad=True)
    (x * 2.0).sum().backward()
    assert x.grad.shape == (2, 3) and x.grad.dtype == torch.float32
    d = torch.rand(2, dtype=torch.float64, requires_grad=True)
    (d * 2.0).sum().backward()
    assert d.grad.dtype == torch.float64


# -- broadcasting --------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
@pytest.mark.parametrize(("sa", "sb"), [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
                                        ((3, 4), ()), ((1,), (2, 3)), ((2, 1, 4), (2, 3, 1))])
def test_broadcast_inputs_get_grads_of_their_own_shape(op, sa, sb):
    rng = np.random.default_rng(abs(hash((op, sa, sb))) % 2**32)
    av = rng.uniform(0.5, 1.5, sa)
    bv = rng.uniform(0.5, 1.5, sb)
    funcs = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "pow": lambda a, b: a**b,
        "maximum": lambda a, b: (np.maximum if isinstance(a, np.ndarray) else torch.maximum)(a, b),
        "minimum": lambda a, b: (np.minimum if isinstance(a, np.ndarray) else torch.minimum)(a, b),
    }
    f = funcs[op]
    a, b = _t(av), _t(bv)
    w = rng.standard_normal(np.broadcast_shapes(sa, sb))
    (f(a, b) * torch.tensor(w)).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    ga = _num_grad(lambda v: float(np.sum(f(v, bv) * w)), av)
    gb = _num_grad(lambda v: float(np.sum(f(av, v) * w)), bv)
    np.testing.assert_allclose(a.grad.numpy(), ga, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b.grad.numpy(), gb, rtol=1e-5, atol=1e-7)


def test_python_scalar_operands():
    x = _t([1.0, 2.0])
    y = 3 - x * 2 + 1 / x - x / 4 + 2**x + x**3
    y.sum().backward()
    xv = np.array([1.0, 2.0])
    expected = -2 - 1 / xv**2 - 0.25 + np.log(2) * 2**xv + 3 * xv**2
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_zero_dim_tensor_broadcast_against_matrix():
    s = _t(2.0)
    m = _t(np.arange(6.0).reshape(2, 3))
    (s * m).sum().backward()
    assert s.grad.shape == ()
    assert s.grad.item() == pytest.approx(15.0)
    np.testing.assert_array_equal(m.grad.numpy(), np.full((2, 3), 2.0))


# -- freeing the graph -----------------------------------------------------------------------


def test_saved_values_are_freed_after_backward():
    x = torch.rand(50, requires_grad=True)
    h = x.exp()
    y = (h * h).sin()
    node = y.grad_fn
    saved = weakref.ref(h._a)  # an array the MulBackward0 node keeps for backward
    del h
    gc.collect()
    assert saved() is not None  # kept alive by the graph
    y.sum().backward()
    gc.collect()
    assert saved() is None
    assert node is not None
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.sum().backward()


def test_graph_nodes_die_with_their_outputs():
    x = torch.rand(10, requires_grad=True)
    y = (x.exp() * 2).sum()
    nodes = []
    stack = [y.grad_fn]
    while stack:
        n = stack.pop()
        nodes.append(weakref.ref(n))
        stack.extend(f for f, _ in n.next_functions if f is not None)
    big = weakref.ref(y.grad_fn.next_functions[0][0])
    y.backward()
    del y, n, stack
    gc.collect()
    assert big() is None
    assert all(r() is None for r in nodes if type(r()).__name__ != "AccumulateGrad")


def test_retain_graph_keeps_saved_values():
    x = _t([0.3, 0.4])
    y = (x.sin() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_graph_without_saved_values_can_run_twice_only_with_retain():
    x = _t([1.0, 2.0])
    y = (x * 2).sum()  # MulBackward0 by a constant saves nothing from x
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 4])


# -- higher order ----------------------------------------------------------------------------


def _second(f, xv):
    x = _t(xv)
    (g,) = autograd.grad(f(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (h,) = autograd.grad(g.sum(), x)
    return g.detach().numpy(), h.numpy()


def test_second_derivative_of_cube():
    g, h = _second(lambda x: x**3, [1.0, -2.0, 0.5])
    np.testing.assert_allclose(g, 3 * np.array([1.0, -2.0, 0.5]) ** 2)
    np.testing.assert_allclose(h, 6 * np.array([1.0, -2.0, 0.5]))


def test_third_derivative_of_sin():
    x = _t([0.3, 1.1])
    (g,) = autograd.grad(x.sin().sum(), x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x, create_graph=True)
    (k,) = autograd.grad(h.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), np.cos([0.3, 1.1]))
    np.testing.assert_allclose(h.detach().numpy(), -np.sin([0.3, 1.1]))
    np.testing.assert_allclose(k.numpy(), -np.cos([0.3, 1.1]))


def test_backward_create_graph_then_grad_of_grad():
    x = _t([0.5, 1.5])
    y = (x**4).sum()
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.requires_grad
    x2 = _t([0.5, 1.5])
    (hx,) = autograd.grad((gx * x2.detach()).sum(), x)
    np.testing.assert_allclose(hx.numpy(), 12 * np.array([0.5, 1.5]) ** 2 * [0.5, 1.5])


@pytest.mark.parametrize("name", ["matmul", "sum_mean", "softmax", "tanh_chain"])
def test_hessian_vector_products_match_finite_differences(name):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    v = rng.standard_normal(3)

    def f_tape(x):
        if name == "matmul":
            y = torch.tensor(a) @ x
            return (y * y * y).sum()
        if name == "sum_mean":
            return (x.exp().sum() * x.mean()) + (x * x).mean()
        if name == "softmax":
            return (x.softmax(0) * torch.tensor(v)).sum() * x.sum()
        return (x.tanh() * x).tanh().sum()

    def f_np(x):
        if name == "matmul":
            y = a @ x
            return float(np.sum(y**3))
        if name == "sum_mean":
            return float(np.sum(np.exp(x)) * np.mean(x) + np.mean(x * x))
        if name == "softmax":
            e = np.exp(x - x.max())
            return float(np.sum(e / e.sum() * v) * np.sum(x))
        return float(np.sum(np.tanh(np.tanh(x) * x)))

    xv = rng.standard_normal(3)
    x = _t(xv)
    (g,) = autograd.grad(f_tape(x), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), _num_grad(f_np, xv), rtol=1e-6, atol=1e-8)
    (hv,) = autograd.grad((g * torch.tensor(v)).sum(), x)
    grad_np = lambda p: _num_grad(f_np, p, eps=1e-5)  # noqa: E731
    expected = _num_grad(lambda p: float(np.dot(grad_np(p), v)), xv, eps=1e-4)
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-4, atol=1e-5)


# -- long chains ------------------------------------------------------------------------------


def test_100000_node_chain_backward_is_iterative():
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001**100_000, rel=1e-9)
    del y
    gc.collect()


# -- hooks ----------------------------------------------------------------------------------


def test_leaf_hook_modifies_grad_and_can_be_removed():
    x = _t([1.0, 2.0])
    seen = []

    def double(g):
        seen.append(g.numpy().copy())
        return g * 2

    handle = x.register_hook(double)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3, 3])
    np.testing.assert_array_equal(x.grad.numpy(), [6, 6])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])
    assert len(seen) == 1
    handle.remove()  # a second remove is harmless


def test_non_leaf_hook_changes_what_flows_upstream():
    x = _t([1.0, 2.0])
    y = x * x
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [20, 40])


def test_hook_returning_none_keeps_grad():
    x = _t([1.0, 2.0])
    y = x * 2
    calls = []
    y.register_hook(lambda g: calls.append(1))
    y.sum().backward()
    assert calls == [1]
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


def test_retain_grad():
    x = _t([1.0, 2.0])
    y = x * x
    assert not y.retains_grad and not x.retains_grad
    y.retain_grad()
    assert y.retains_grad
    z = (y * 3).sum()
    z.backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3, 3])
    np.testing.assert_array_equal(x.grad.numpy(), [6, 12])
    x.retain_grad()  # no-op on a leaf
    assert not x.retains_grad


def test_retain_grad_sees_the_hooked_gradient():
    x = _t([1.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g + 100)
    y.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [101])


def test_node_hooks_prehooks_and_metadata():
    x = _t([1.0, 2.0])
    y = x * 3
    node = y.grad_fn
    node.metadata["tag"] = "mine"
    assert y.grad_fn.metadata == {"tag": "mine"}
    log = []

    def pre(grad_outputs):
        log.append(("pre", grad_outputs[0].numpy().copy()))
        return (grad_outputs[0] * 2,)

    def post(grad_inputs, grad_outputs):
        log.append(("post", grad_inputs[0].numpy().copy(), grad_outputs[0].numpy().copy()))

    h1 = node.register_prehook(pre)
    h2 = node.register_hook(post)
    y.sum().backward(retain_graph=True)
    assert [e[0] for e in log] == ["pre", "post"]
    np.testing.assert_array_equal(log[0][1], [1, 1])
    np.testing.assert_array_equal(log[1][1], [6, 6])
    np.testing.assert_array_equal(log[1][2], [2, 2])
    np.testing.assert_array_equal(x.grad.numpy(), [6, 6])
    h1.remove()
    h2.remove()
    x.grad = None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])
    assert len(log) == 2


def test_node_post_hook_can_replace_grad_inputs():
    x = _t([1.0, 2.0])
    y = x.exp()
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 7,))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7, 7])


def test_accumulate_grad_node_hook():
    x = _t([1.0, 2.0])
    y = x * 2
    acc = y.grad_fn.next_functions[0][0]
    seen = []
    acc.register_prehook(lambda go: seen.append(go[0].numpy().copy()))
    y.sum().backward()
    np.testing.assert_array_equal(seen[0], [2, 2])


def test_post_accumulate_grad_hook():
    x = _t([1.0, 2.0])
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (x * 5).sum().backward()
    np.testing.assert_array_equal(seen[0], [5, 5])


def test_calling_a_node_directly():
    x = _t([1.0, 2.0])
    y = x * x
    g = y.grad_fn(torch.ones(2, dtype=torch.float64))
    assert isinstance(g, tuple) and len(g) == 2  # one gradient per input: x and x
    np.testing.assert_array_equal(g[0].numpy(), [1, 2])
    np.testing.assert_array_equal(g[1].numpy(), [1, 2])
    (s,) = (y.sum().grad_fn(torch.tensor(3.0, dtype=torch.float64)),)
    np.testing.assert_array_equal(s.numpy(), [3, 3])


# -- backward(inputs=...) and autograd.grad -----------------------------------------------------


def test_backward_inputs_limits_accumulation():
    a = _t([1.0, 2.0])
    b = _t([3.0, 4.0])
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_array_equal(a.grad.numpy(), [3, 4])
    assert b.grad is None
    (a * b).sum().backward(inputs=b)
    np.testing.assert_array_equal(b.grad.numpy(), [1, 2])
    np.testing.assert_array_equal(a.grad.numpy(), [3, 4])


def test_backward_inputs_non_leaf():
    a = _t([1.0, 2.0])
    h = a * 2
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_array_equal(h.grad.numpy(), [4, 8])
    assert a.grad is None


def test_autograd_backward_with_several_tensors():
    a = _t([1.0, 2.0])
    autograd.backward([(a * 2).sum(), (a * a)], [None, torch.ones(2, dtype=torch.float64)])
    np.testing.assert_array_equal(a.grad.numpy(), [4, 6])


def test_autograd_grad_does_not_touch_grad_fields():
    a = _t([1.0, 2.0])
    b = _t([3.0, 4.0])
    ga, gb = autograd.grad((a * b).sum(), [a, b])
    np.testing.assert_array_equal(ga.numpy(), [3, 4])
    np.testing.assert_array_equal(gb.numpy(), [1, 2])
    assert a.grad is None and b.grad is None
    assert not ga.requires_grad


def test_autograd_grad_allow_unused_and_materialize():
    a = _t([1.0, 2.0])
    b = _t([3.0, 4.0])
    ga, gb = autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    assert gb is None
    np.testing.assert_array_equal(ga.numpy(), [2, 2])
    ga, gb = autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)
    np.testing.assert_array_equal(gb.numpy(), [0, 0])


def test_autograd_grad_with_grad_outputs():
    a = _t([1.0, 2.0, 3.0])
    y = a * a
    (g,) = autograd.grad(y, a, grad_outputs=torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64))
    np.testing.assert_array_equal(g.numpy(), [2, 0, 12])
    y2 = a * a
    (g,) = autograd.grad([y2.sum(), (a * 3).sum()], [a])
    np.testing.assert_array_equal(g.numpy(), [5, 7, 9])


def test_autograd_grad_of_intermediate():
    a = _t([1.0, 2.0])
    h = a.exp()
    y = (h * 3).sum()
    (gh,) = autograd.grad(y, h)
    np.testing.assert_array_equal(gh.numpy(), [3, 3])


def test_autograd_grad_create_graph():
    a = _t([1.0, 2.0])
    (g,) = autograd.grad((a**3).sum(), a, create_graph=True)
    assert g.requires_grad
    (g2,) = autograd.grad(g.sum(), a)
    np.testing.assert_array_equal(g2.numpy(), [6, 12])


# -- in-place operations and versions -------------------------------------------------------------


def test_version_counter_counts_in_place_changes():
    t = torch.zeros(3)
    assert t._version == 0
    t.add_(1)
    t.mul_(2)
    t[0] = 5
    t.zero_()
    assert t._version == 4
    np.testing.assert_array_equal(t.numpy(), [0, 0, 0])


def test_in_place_ops_on_non_leaves_are_differentiated():
    x = _t([1.0, 2.0, 3.0])
    y = x * 1
    y.mul_(x)
    y.add_(x)
    y.sub_(1)
    y.div_(2)
    assert y.grad_fn.name() == "DivBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * np.array([1.0, 2, 3]) + 1) / 2)


def test_in_place_operators():
    x = _t([1.0, 2.0])
    y = x * 1
    y += x
    y *= x
    y -= 1
    y /= 2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]))


def test_setitem_on_non_leaf_blocks_gradient_of_overwritten_elements():
    x = _t([1.0, 2.0, 3.0])
    y = x * 1
    y[0] = 5
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1])


def test_setitem_with_tensor_value_routes_gradient_to_the_value():
    x = _t([1.0, 2.0, 3.0])
    v = _t([10.0, 20.0])
    y = x * 2
    y[1:] = v * v
    (y * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 0, 0])
    np.testing.assert_array_equal(v.grad.numpy(), [2 * 10 * 2, 2 * 20 * 3])


def test_setitem_mask_and_integer_index():
    x = _t([1.0, -2.0, 3.0, -4.0])
    y = x * 3
    y[y < 0] = 0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 3, 0])
    x.grad = None
    y = x * 3
    y[[0, 2]] = 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 3, 0, 3])


def test_zero_on_non_leaf_cuts_gradient():
    x = _t([1.0, 2.0])
    y = x * 2
    y.zero_()
    z = y + x
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1])


def test_sgd_updates_under_no_grad():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((20, 2))
    ys = xs @ np.array([2.0, -1.0]) + 0.5
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    X, Y = torch.tensor(xs), torch.tensor(ys)
    w_obj = w
    for _ in range(300):
        loss = ((X @ w + b - Y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    assert w is w_obj and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.detach().numpy(), [2.0, -1.0], atol=1e-4)
    assert b.item() == pytest.approx(0.5, abs=1e-4)
    assert w._version >= 300


def test_in_place_on_leaf_allowed_under_no_grad_and_for_non_requiring():
    x = _t([1.0, 2.0])
    with torch.no_grad():
        x.mul_(2)
        x[0] = 7
    np.testing.assert_array_equal(x.detach().numpy(), [7, 4])
    assert x.is_leaf and x.requires_grad
    c = torch.ones(2)
    c.add_(1)
    np.testing.assert_array_equal(c.numpy(), [2, 2])


# -- detach, data, requires_grad_ --------------------------------------------------------------


def test_detach_shares_memory_and_version():
    x = _t([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 9
    np.testing.assert_array_equal(x.detach().numpy(), [9, 2])
    assert x._version == d._version == 1
    assert np.shares_memory(d.numpy(), x.detach().numpy())


def test_detach_of_non_leaf_cuts_graph():
    x = _t([1.0, 2.0])
    y = x * 2
    z = y.detach() * x
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4])


def test_data_shares_memory_and_does_not_require_grad():
    x = _t([1.0, 2.0])
    d = x.data
    assert not d.requires_grad
    d.mul_(3)  # allowed: no grad is tracked through .data
    np.testing.assert_array_equal(x.detach().numpy(), [3, 6])
    x.data = torch.tensor([5.0, 6.0], dtype=torch.float64)
    np.testing.assert_array_equal(x.detach().numpy(), [5, 6])
    assert x.requires_grad


def test_requires_grad_flag():
    t = torch.ones(2)
    assert not t.requires_grad and t.is_leaf
    assert t.requires_grad_() is t
    assert t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad
    t.requires_grad = True
    y = t * 2
    assert y.requires_grad and not y.is_leaf
    y2 = torch.ones(2) * 2
    assert not y2.requires_grad and y2.is_leaf and y2.grad_fn is None


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        torch.zeros(2, dtype=torch.int64, requires_grad=True)
    # integer results of differentiable inputs do not require grad
    x = _t([1.5, 2.5])
    assert not x.argmax().requires_grad


@pytest.mark.xfail(strict=True, reason="results follow NumPy's type promotion: float32 tensor * "
                   "int64 tensor is float64 (PyTorch: float32)")
def test_mixed_dtype_result_follows_pytorch_promotion():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    i = torch.tensor([1, 2])
    y = x * i
    assert y.dtype == torch.float32


@pytest.mark.xfail(strict=True, reason="results follow NumPy's type promotion: int64 tensor * 0.5 "
                   "is float64 (PyTorch: the default float dtype)")
def test_int_tensor_times_float_scalar_is_default_dtype():
    assert (torch.arange(3) * 0.5).dtype == torch.float32


def test_mixed_dtype_gradient_keeps_leaf_dtype():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    i = torch.tensor([1, 2])
    (x * i).sum().backward()
    assert x.grad.dtype == torch.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2])


# -- dtypes ---------------------------------------------------------------------------------------


def test_default_dtype_is_float32():
    assert torch.get_default_dtype() == torch.float32
    assert torch.tensor([1.0, 2.0]).dtype == torch.float32
    assert torch.tensor(1.5).dtype == torch.float32
    assert torch.tensor([1, 2]).dtype == torch.int64
    assert torch.tensor([True]).dtype == torch.bool
    for f in (torch.rand, torch.randn, torch.zeros, torch.ones):
        assert f(2).dtype == torch.float32


def test_set_default_dtype():
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.get_default_dtype() == torch.float64
        assert torch.tensor([1.0]).dtype == torch.float64
        assert torch.zeros(2).dtype == torch.float64
        assert torch.rand(2).dtype == torch.float64
        assert repr(torch.tensor(2.5)) == "tensor(2.5000)"
        f32 = torch.tensor(2.5, dtype=torch.float32)
        assert repr(f32) == "tensor(2.5000, dtype=srcgrad.float32)"
    finally:
        torch.set_default_dtype(torch.float32)
    assert torch.tensor([1.0]).dtype == torch.float32
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)


def test_numpy_arrays_keep_their_dtype():
    a = np.array([1.0, 2.0])
    assert torch.tensor(a).dtype == torch.float64
    assert torch.from_numpy(a).dtype == torch.float64
    assert torch.tensor(np.float64(1.0)).dtype == torch.float64
    assert torch.tensor(np.array([1, 2], dtype=np.int32)).dtype == torch.int32
    assert torch.tensor(np.array([1.0], dtype=np.float32)).dtype == torch.float32


def test_dtype_conversions_are_differentiable():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == torch.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == torch.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4])
    assert x.to(torch.float32) is x


# -- factories ------------------------------------------------------------------------------------


def test_tensor_copies_and_from_numpy_shares():
    a = np.array([1.0, 2.0])
    t = torch.tensor(a)
    f = torch.from_numpy(a)
    a[0] = 100
    assert t[0].item() == 1.0
    assert f[0].item() == 100.0
    with pytest.raises(TypeError):
        torch.from_numpy([1.0, 2.0])


def test_factories():
    assert torch.zeros(2, 3).shape == (2, 3)
    assert torch.zeros((2, 3)).shape == (2, 3)
    assert torch.ones(4).numpy().tolist() == [1, 1, 1, 1]
    f = torch.full((2, 2), 7.0)
    assert f.dtype == torch.float32 and f.numpy().tolist() == [[7, 7], [7, 7]]
    assert torch.full((2,), 3).dtype == torch.int64
    ar = torch.arange(5)
    assert ar.dtype == torch.int64 and ar.tolist() == [0, 1, 2, 3, 4]
    assert torch.arange(1, 2, 0.5).dtype == torch.float32
    assert torch.arange(1.0, 4.0).tolist() == [1.0, 2.0, 3.0]
    ls = torch.linspace(0, 1, 5)
    np.testing.assert_allclose(ls.numpy(), [0, 0.25, 0.5, 0.75, 1])
    e = torch.eye(3)
    np.testing.assert_array_equal(e.numpy(), np.eye(3))
    assert torch.eye(2, 3).shape == (2, 3)
    z = torch.zeros(3, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    r = torch.rand(1000)
    assert 0 <= r.min().item() and r.max().item() < 1
    n = torch.randn(4000, dtype=torch.float64)
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1


def test_like_factories():
    base = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    for f in (torch.zeros_like, torch.ones_like, torch.rand_like, torch.randn_like,
              torch.empty_like):
        t = f(base)
        assert t.shape == (2, 3) and t.dtype == torch.float64 and not t.requires_grad
    np.testing.assert_array_equal(torch.zeros_like(base).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(torch.ones_like(base).numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(torch.full_like(base, 4.0).numpy(), np.full((2, 3), 4.0))
    assert torch.ones_like(base, requires_grad=True).requires_grad
    assert torch.zeros_like(base, dtype=torch.float32).dtype == torch.float32


def test_manual_seed_reproducibility():
    torch.manual_seed(123)
    a = torch.rand(5)
    b = torch.randn(3)
    torch.manual_seed(123)
    np.testing.assert_array_equal(torch.rand(5).numpy(), a.numpy())
    np.testing.assert_array_equal(torch.randn(3).numpy(), b.numpy())
    torch.manual_seed(124)
    assert not np.array_equal(torch.rand(5).numpy(), a.numpy())


# -- tensor basics --------------------------------------------------------------------------------


def test_tensor_inspection():
    t = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert repr(t.size()) == "srcgrad.Size([2, 3])"
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert t[1, 2].item() == 6.0 and isinstance(t[1, 2].item(), float)
    assert isinstance(torch.tensor(3).item(), int)
    assert isinstance(t.numpy(), np.ndarray)
    assert len(t) == 2
    assert [r.tolist() for r in t] == t.tolist()
    assert float(t[0, 0]) == 1.0 and int(t[1, 1]) == 5


def test_clone_is_in_graph_and_copies():
    x = _t([1.0, 2.0])
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    with torch.no_grad():
        c[0] = 100
    assert x[0].item() == 1.0
    (c * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


def test_non_leaf_grad_is_none_without_retain():
    x = _t([1.0])
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning):
        assert y.grad is None


def test_graph_is_freed_by_reference_counting():
    gc.disable()
    try:
        x = torch.rand(100, requires_grad=True)
        y = (x.exp() * x).sin().sum()
        top = weakref.ref(y.grad_fn)
        below = weakref.ref(y.grad_fn.next_functions[0][0])
        h = x.exp()
        saved = weakref.ref(h._a)
        z = (h * h).sum()
        del h
        del y
        assert top() is None and below() is None
        assert saved() is not None
        del z
        assert saved() is None
    finally:
        gc.enable()


def test_hooks_see_the_summed_gradient_once():
    x = _t([1.0, 2.0])
    leaf_calls, mid_calls = [], []
    x.register_hook(lambda g: leaf_calls.append(g.numpy().copy()))
    h = x * 2
    h.register_hook(lambda g: mid_calls.append(g.numpy().copy()))
    (h * 3 + h * h + x).sum().backward()
    assert len(mid_calls) == 1 and len(leaf_calls) == 1
    np.testing.assert_allclose(mid_calls[0], 3 + 2 * np.array([2.0, 4.0]))
    np.testing.assert_allclose(leaf_calls[0], 2 * mid_calls[0] + 1)
    np.testing.assert_allclose(x.grad.numpy(), leaf_calls[0])


def test_backward_gradient_keyword_and_non_scalar():
    x = _t([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 0.0])
    z = _t(3.0)
    (z * 2).backward(torch.tensor(5.0, dtype=torch.float64))
    assert z.grad.item() == 10.0


def test_max_min_with_dim_return_values_and_indices():
    m = _t([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = m.max(1)
    assert m.max(1).values.tolist() == [5.0, 7.0]
    assert indices.tolist() == [1, 0] and indices.dtype == torch.int64
    assert not indices.requires_grad
    assert m.min(0).indices.tolist() == [0, 1, 0]
    kept = m.max(1, keepdim=True)
    assert kept.values.shape == (2, 1) and kept[1].shape == (2, 1)
    (values * torch.tensor([1.0, 10.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 1, 0], [10, 0, 0]])
    m.grad = None
    m.max().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 0, 0], [1, 0, 0]])


def test_sum_mean_dims_and_keepdim():
    m = _t(np.arange(24.0).reshape(2, 3, 4))
    assert m.sum((0, 2)).shape == (3,)
    assert m.sum([0, 2], keepdim=True).shape == (1, 3, 1)
    assert m.mean(-1).shape == (2, 3)
    assert torch.sum(m, dim=1, keepdim=True).shape == (2, 1, 4)
    (m.mean((1, 2)) * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(m.grad.numpy()[0], np.full((3, 4), 1 / 12))
    np.testing.assert_allclose(m.grad.numpy()[1], np.full((3, 4), 2 / 12))


def test_in_place_on_a_view_of_a_non_leaf():
    x = _t([1.0, 2.0, 3.0])
    y = x * 1
    y[0:2].mul_(2)
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 4.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 1.0])


def test_in_place_on_a_view_of_a_leaf_is_refused():
    x = _t([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x[0:2].mul_(2)


def test_double_backward_through_in_place_ops():
    xv = np.array([0.5, 1.5, -2.0])
    x = _t(xv)
    y = x * 1
    y.mul_(x)
    y[0] = 0.0
    (g,) = autograd.grad((y**2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [0.0, *(4 * xv[1:] ** 3)])
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [0.0, *(12 * xv[1:] ** 2)])


def test_second_backward_accumulates_graph_gradients():
    x = _t([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    (x**2).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.detach().numpy(), 3 * np.array([1.0, 4.0]) + [2.0, 4.0])
    (h,) = autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([1.0, 2.0]) + 2)


def test_saved_value_modified_through_detach_is_detected():
    x = _t([1.0, 2.0])
    w = x.exp()
    w.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_backward_of_a_leaf_and_of_an_empty_tensor():
    x = _t([1.0, 2.0, 3.0])
    x.backward(torch.ones(3, dtype=torch.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 1])
    e = torch.zeros(0, requires_grad=True)
    e.sum().backward()
    assert e.grad.shape == (0,)


def test_grad_setter_checks():
    x = _t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(TypeError):
        x.grad = np.zeros(2)
    x.grad = torch.ones(2, dtype=torch.float64)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


@pytest.mark.parametrize("make_view", [lambda y: y[:2], lambda y: y.view(3), lambda y: y.reshape(3),
                                       lambda y: y.unsqueeze(0), lambda y: y.detach()])
def test_views_share_the_version_counter(make_view):
    x = _t([1.0, 2.0, 3.0])
    y = x * 1
    v = make_view(y)
    w = (v * v).sum() if v.requires_grad else (y * y).sum()
    y.add_(1)
    assert v._version == y._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.backward()


def test_retain_grad_follows_in_place_changes():
    x = _t([1.0, 2.0])
    y = x * 1
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))  # a hook stays with the old version
    y.mul_(2)
    assert y.retains_grad
    (y * 3).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])
    assert seen == [[6.0, 6.0]]
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


@pytest.mark.parametrize("use", ["y.sum()", "(y + 1).sum()", "y[0]", "y.reshape(3).sum()",
                                 "y.mean()"])
def test_in_place_after_shape_only_use_is_allowed(use):
    x = _t([1.0, 2.0, 3.0])
    y = x * 1
    z = eval(use, {"y": y})
    y.add_(1)
    z.backward()
    assert x.grad is not None


@pytest.mark.parametrize("use", ["torch.cat([y, y]).sum()", "y.clone().sum()"])
def test_in_place_after_a_use_that_saves_nothing(use):
    x = _t([1.0, 2.0, 3.0])
    y = x * 1
    z = eval(use, {"y": y, "torch": torch})
    y.add_(1)
    z.backward()
    assert x.grad.tolist() in ([2.0, 2.0, 2.0], [1.0, 1.0, 1.0])


def test_requires_grad_on_non_leaves():
    x = _t([1.0, 2.0])
    y = x * 2
    assert y.requires_grad_() is y  # a no-op, as in PyTorch
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad = True


def test_augmented_assignment_to_an_index():
    m = _t(np.arange(6.0).reshape(2, 3))
    v = _t([0.5])
    y = m * 1
    y[1] += v[0]
    y[:, 1:] *= 2
    (y * torch.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 2, 4], [3, 8, 10]])
    np.testing.assert_array_equal(v.grad.numpy(), [3 + 4 * 2 + 5 * 2])


def test_assignment_through_a_view():
    m = _t(np.arange(6.0).reshape(2, 3))
    v = _t([0.5])
    y = m * 1
    y[0][1] = v[0]
    y.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[1, 0, 1], [1, 1, 1]])
    np.testing.assert_array_equal(v.grad.numpy(), [1])


def test_in_place_on_a_reshaped_view_is_refused_not_wrong():
    x = _t([1.0, 2.0, 3.0, 4.0])
    y = x * 1
    v = y.reshape(2, 2)
    with pytest.raises(RuntimeError, match="not made by indexing the base directly"):
        v.mul_(2)


def test_accumulating_into_a_buffer_by_index():
    x = _t([1.0, 2.0, 3.0])
    out = torch.zeros(3, dtype=torch.float64)
    for i in range(3):
        out[i] += x[i] * x[i]
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_registering_a_rule_again_takes_effect_on_the_tape():
    @torch.primitive
    def twice(v):
        return v * 2.0

    torch.defvjp(twice, lambda g, ans, v: g * 2.0)
    torch.defjvp(twice, lambda dv, ans, v: dv * 2.0)
    x = _t([1.0, 2.0])
    twice(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    torch.defvjp(twice, lambda g, ans, v: g * 3.0)  # a (wrong) replacement must be used
    x.grad = None
    twice(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    torch.rules.registry._RULES.pop(twice)  # keep the registry test's walk clean
