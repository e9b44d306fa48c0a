"""Shapes known at transform time: ``unbroadcast``/``broadcast_like`` only where broadcasting
may happen.

Each case checks the gradient (and, in forward mode, the directional
derivative) against central differences, with argument shapes that do
broadcast wherever the code allows it, and the generated source for the
calls that must be gone or must stay.
"""

from __future__ import annotations

import numpy as np
import pytest

from srcgrad.compiler import compile_grad, compile_jvp

from .fd import numerical_grad

LABELS = np.array([0, 2, 1, 1, 0])


def log_softmax_pick(logits):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(logits.shape[0]), LABELS])


def other_arrays_maximum(x, w):
    # the reduction is of w, not x: x's shape may grow, so its sum must stay
    y = x - np.max(w, axis=0, keepdims=True)
    return np.sum(y * y)


def unary_chain(x, b):
    y = np.exp(np.sin(x)) * x - 2.0 * np.tanh(x)
    return np.sum(y + b)


def reassigned_in_a_loop(x, w):
    for _ in range(2):
        x = x - np.mean(w, axis=1, keepdims=True)     # x grows to w's shape
    return np.sum(np.sin(x))


def reassigned_parameter(x, w):
    x = x * w                       # x no longer has its parameter's shape
    s = x - np.max(x, axis=-1, keepdims=True)
    return np.sum(s * s)


def centered_variance(x):
    centered = x - np.mean(x, axis=0, keepdims=True)
    scaled = centered / np.std(x, axis=0, keepdims=True)
    return np.sum(scaled ** 3)


def _check(fun, args, argnums):
    _, grads = compile_grad(fun, argnums).function(*args)
    for argnum, g in zip(argnums, grads, strict=True):
        expected = numerical_grad(fun, args, argnum)
        assert np.shape(g) == np.shape(args[argnum])
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)


def _check_forward(fun, args, argnum):
    rng = np.random.default_rng(3)
    v = rng.standard_normal(np.shape(args[argnum]))
    _, tangent = compile_jvp(fun, (argnum,)).function(v, *args)
    expected = np.sum(numerical_grad(fun, args, argnum) * v)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


def _lines_with(source: str, text: str) -> list[str]:
    return [ln.strip() for ln in source.splitlines() if text in ln]


RNG = np.random.default_rng(0)


def test_log_softmax_sums_only_where_shapes_differ():
    logits = RNG.standard_normal((5, 3))
    _check(log_softmax_pick, (logits,), (0,))
    _check_forward(log_softmax_pick, (logits,), 0)
    source = compile_grad(log_softmax_pick, (0,)).source
    # shifted and log_probs have the shape of logits: no sum back to it...
    assert "unbroadcast(blog_probs, shifted)" not in source
    assert "unbroadcast(bshifted, logits)" not in source
    # ...while the reductions kept as columns still get theirs
    assert _lines_with(source, "unbroadcast(blog_probs, log)")
    assert _lines_with(source, "unbroadcast(bshifted, max_1)")
    tangent = compile_jvp(log_softmax_pick, (0,)).source
    assert "broadcast_like(" not in tangent


def test_a_reduction_of_another_array_keeps_the_sum():
    x, w = RNG.standard_normal(4), RNG.standard_normal((3, 4))
    _check(other_arrays_maximum, (x, w), (0, 1))
    _check_forward(other_arrays_maximum, (x, w), 0)
    assert "unbroadcast(by, x)" in compile_grad(other_arrays_maximum, (0, 1)).source


def test_elementwise_functions_keep_their_argument_shape():
    x, b = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    _check(unary_chain, (x, b), (0, 1))
    _check_forward(unary_chain, (x, b), 0)
    source = compile_grad(unary_chain, (0, 1)).source
    # y + b may broadcast either; nothing before it can
    assert sorted(_lines_with(source, "unbroadcast(")) == [
        "bb = unbroadcast(bt_2, b)", "by = unbroadcast(bt_2, y)"], source


@pytest.mark.parametrize("xshape, wshape", [((3, 1), (3, 4)), ((3, 4), (3, 4))])
def test_names_with_several_values_give_no_facts(xshape, wshape):
    x, w = RNG.standard_normal(xshape), RNG.standard_normal(wshape)
    _check(reassigned_in_a_loop, (x, w), (0, 1))
    _check_forward(reassigned_in_a_loop, (x, w), 0)
    _check(reassigned_parameter, (RNG.standard_normal(3), RNG.standard_normal((2, 3))),
           (0, 1))


def test_keepdims_statistics_of_the_same_array():
    x = RNG.standard_normal((6, 2)) + 1.0
    _check(centered_variance, (x,), (0,))
    _check_forward(centered_variance, (x,), 0)
    source = compile_grad(centered_variance, (0,)).source
    assert "unbroadcast(bscaled, centered)" not in source
    assert "unbroadcast(bcentered, x)" not in source
