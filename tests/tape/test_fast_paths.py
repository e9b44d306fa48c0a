"""The tape's fast paths keep the general behaviour (hooks, fills, implicit roots)."""

from __future__ import annotations

import numpy as np

import srcgrad


def test_leaf_hook_registered_after_the_graph_is_built_still_runs():
    # the leaf's AccumulateGrad exists before the hook: it must leave the engine's
    # hook-free fast path
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    x.register_hook(lambda g: g * 10)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 20.0])


def test_leaf_hook_registered_before_the_graph_runs():
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g + 1)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_fill_with_numbers_casts_as_assignment_does():
    t = srcgrad.tensor([1, 2, 3])
    t.fill_(2.7)
    assert t.tolist() == [2, 2, 2]
    u = srcgrad.tensor([1.5, 2.5])
    u.zero_()
    assert u.tolist() == [0.0, 0.0]
    assert u._version == 1


def test_implicit_root_gradient_keeps_the_output_dtype_and_shape():
    for shape in [(), (1,), (1, 1)]:
        x = srcgrad.tensor(np.full(shape, 2.0, dtype=np.float64), requires_grad=True)
        (x * x).backward()
        assert x.grad.shape == x.shape
        assert x.grad.dtype == srcgrad.float64
        np.testing.assert_array_equal(x.grad.numpy(), np.full(shape, 4.0))


def test_same_rule_with_constant_first_or_tensor_first_gets_its_own_plan():
    # (c, x) and (x,) must not share a recording plan
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    a = 3.0 - x
    b = x - 3.0
    assert type(a.grad_fn).__name__ == "RsubBackward1"
    assert type(b.grad_fn).__name__ == "SubBackward0"
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_node_names_follow_each_call_when_remembered():
    # names are remembered per argument signature: alternating shapes and index kinds
    # on the same rules must still give each call its own name
    m = srcgrad.randn(3, 4, requires_grad=True)
    v = srcgrad.randn(4, requires_grad=True)
    w = srcgrad.randn(4, 2, requires_grad=True)
    for _ in range(2):
        assert type((m @ w).grad_fn).__name__ == "MmBackward0"
        assert type((m @ v).grad_fn).__name__ == "MvBackward0"
        assert type((v @ v).grad_fn).__name__ == "DotBackward0"
        assert type(m[0].grad_fn).__name__ == "SelectBackward0"
        assert type(m[1:].grad_fn).__name__ == "SliceBackward0"
        assert type(m[np.array([0, 2])].grad_fn).__name__ == "IndexBackward0"
        assert type(m.mean().grad_fn).__name__ == "MeanBackward0"
        assert type(m.mean(1).grad_fn).__name__ == "MeanBackward1"


def test_scaling_without_recording_keeps_dtype_and_does_not_record():
    p = srcgrad.tensor([1.0, 2.0], dtype=srcgrad.float32, requires_grad=True)
    with srcgrad.no_grad():
        q = 0.5 * p
    assert q.dtype == srcgrad.float32 and q.grad_fn is None and not q.requires_grad
    r = p * 0.5
    assert type(r.grad_fn).__name__ == "MulBackward0"
    s = srcgrad.tensor(3.0) * 2.0
    assert s.item() == 6.0 and s.dim() == 0
