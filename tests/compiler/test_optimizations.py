"""What the generated code avoids: saved values, expanded cotangents, repeated passes.

Each case checks the gradient against central differences and the generated
source for the operation that should be gone.
"""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest

from srcgrad.compiler import compile_grad, compile_vjp
from srcgrad.compiler.support import ShapeOf, ShapeStack
from srcgrad.runtime import unbroadcast, unbroadcast_to

from .fd import numerical_grad


def rnn(W, U, xs, h0):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
        loss = loss + np.sum(h * h)
    return loss


def square_then_overwrite(x, n):
    h = x
    s = 0.0
    for _ in range(n):
        sq = h * h
        h = np.sin(h)           # h changes after sq: sq's shape cannot be read from h
        s = s + np.sum(sq) + np.sum(h)
    return s


def mixture_like(means, X):
    z = X[:, None, :] - means[None, :, :]
    return -np.sum(np.log(np.sum(np.exp(-0.5 * np.sum(z * z, axis=2)), axis=1)))


def negated_mean(x):
    y = np.sin(x)
    return -np.mean(y * y)


def _args_rnn():
    rng = np.random.default_rng(0)
    return (0.5 * rng.standard_normal((5, 5)), 0.5 * rng.standard_normal((5, 3)),
            rng.standard_normal((7, 3)), np.zeros(5))


def _check(fun, args, argnums):
    _, grads = compile_grad(fun, argnums).function(*args)
    for argnum, g in zip(argnums, grads, strict=True):
        expected = numerical_grad(fun, args, argnum)
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)


def test_rnn_saves_only_the_hidden_state():
    args = _args_rnn()
    _check(rnn, args, (0, 1, 3))
    source = compile_grad(rnn, (0, 1)).source
    stacks = [line.split("=")[0].strip() for line in source.splitlines()
              if line.strip().endswith("= []")]
    assert stacks == ["h_stack"], source
    assert "ShapeOf(" not in source and ".append(t_4)" not in source
    assert "2 * bloss * h" in source          # h * h: one product, not g * h + g * h
    assert "expand_reduced" not in source     # the scalar cotangent broadcasts by itself


def test_rnn_vjp_pullback_can_run_twice():
    args = _args_rnn()
    out, pullback = compile_vjp(rnn, (0, 1)).function(*args)
    first = pullback(1.0)
    second = pullback(1.0)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(first[0], numerical_grad(rnn, args, 0), rtol=1e-6, atol=1e-8)


def test_shape_is_not_read_from_a_changed_value():
    x = np.array([0.3, -0.7, 1.1])
    _check(square_then_overwrite, (x, 3), (0,))
    # and with a shape that changes in the first iteration
    _check(square_then_overwrite, (0.4, 3), (0,))


def test_reduction_cotangent_is_not_expanded_before_a_product():
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((4, 3)), rng.standard_normal((6, 3)))
    _check(mixture_like, args, (0,))
    source = compile_grad(mixture_like, (0,)).source
    assert "np.expand_dims(" in source
    assert "* z + " not in source


def test_negation_moves_to_the_scalar():
    x = np.linspace(-1.0, 1.0, 5)
    _check(negated_mean, (x,), (0,))
    source = compile_grad(negated_mean, (0,)).source
    assert "unbroadcast(-" not in source


@pytest.mark.parametrize("gshape, shape", [
    ((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((3, 4), ()), ((3, 4), (1, 1)),
    ((2, 3, 4), (3, 1)), ((2, 3, 4), (1,)), ((2, 3, 4), (2, 1, 4)), ((3,), (1,)),
    ((3, 4), (3, 4)),
])
def test_unbroadcast_sums_the_broadcast_axes(gshape, shape):
    g = np.arange(np.prod(gshape), dtype=np.float64).reshape(gshape)
    out = unbroadcast_to(g, shape)
    assert np.shape(out) == shape
    np.testing.assert_array_equal(unbroadcast_to(g, shape), out)    # the remembered plan
    np.testing.assert_allclose(np.broadcast_to(out, shape).sum(), g.sum())
    np.testing.assert_allclose(unbroadcast(g, np.zeros(shape)), out)


def test_shape_stack_keeps_runs():
    stack = ShapeStack()
    values = [None, np.zeros(3), np.zeros(3), 1.0, np.zeros((2, 2)), np.zeros(3)]
    for v in values:
        stack.append(v)
    assert len(stack) == len(values)
    assert [e.shape for e in stack] == [np.shape(v) for v in values]
    assert all(isinstance(e, ShapeOf) for e in list(stack))
    popped = [stack.pop().shape for _ in values]
    assert popped == [np.shape(v) for v in reversed(values)]
    assert len(stack) == 0
    with pytest.raises(IndexError):
        stack.pop()


def scaled_residuals(means, log_scales, X):
    z = (X[:, None, :] - means[None, :, :]) * np.exp(log_scales)[None, :, :]
    return np.sum(np.log(np.sum(np.exp(-0.5 * np.sum(z * z, axis=2)), axis=1)))


def scaled_residuals_in_loop(means, scale, X, n):
    total = 0.0
    for k in range(n):
        t = X - means * k       # t and its operands change every iteration
        z = t * scale
        total = total + np.sum(z * z)
    return total


def shifted_max(x):
    return np.sum(np.log(np.sum(np.exp(x - np.max(x, axis=1, keepdims=True)), axis=1)))


def test_sums_run_before_the_scaling():
    rng = np.random.default_rng(2)
    args = (rng.standard_normal((4, 3)), 0.3 * rng.standard_normal((4, 3)),
            rng.standard_normal((6, 3)))
    _check(scaled_residuals, args, (0, 1))
    source = compile_grad(scaled_residuals, (0, 1)).source
    assert "unbroadcast_scaled(" in source


def test_sums_are_not_merged_across_loop_iterations():
    rng = np.random.default_rng(3)
    args = (rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), 3)
    _check(scaled_residuals_in_loop, args, (0, 1))
    assert "unbroadcast_scaled(" not in compile_grad(scaled_residuals_in_loop, (0, 1)).source


def test_max_share_is_not_expanded():
    x = np.array([[0.1, 0.5, 0.5], [2.0, -1.0, 0.3]])
    _check(shifted_max, (x,), (0,))
    source = compile_grad(shifted_max, (0,)).source
    line = next(ln for ln in source.splitlines() if "extremum_cotangent(" in ln)
    assert "expand_reduced(" not in line and "-" + "extremum_cotangent(" not in line
    assert "- extremum_cotangent(unbroadcast(bt, max_1)" in source  # no negated copy


LABELS = np.array([1, 0, 1, 1])


def picked_mean(x):
    shifted = x - np.max(x, axis=1, keepdims=True)
    return -np.mean(shifted[np.arange(x.shape[0]), LABELS])


def test_mean_and_max_cotangents_take_no_extra_passes():
    x = np.array([[0.1, 0.5, 0.5], [2.0, -1.0, 0.3], [0.0, 0.0, 1.0], [0.2, 0.7, 0.1]])
    _check(picked_mean, (x,), (0,))
    source = compile_grad(picked_mean, (0,)).source
    # a scalar division, spread by the scatter itself: no expanded array at all
    assert "index_cotangent(-bt / reduced_count(item_1), shifted," in source
    assert ") / reduced_count(" not in source and "expand_reduced(" not in source
    # the max's share is subtracted, not added negated
    assert "- extremum_cotangent(unbroadcast(" in source and "extremum_cotangent(-" not in source


@pytest.mark.parametrize("gshape, yshape, xshape", [
    ((5, 3, 4), (1, 3, 4), (1, 3, 4)), ((5, 3, 4), (3, 4), (3, 4)),
    ((5, 3, 4), (5, 3, 4), (1, 3, 4)), ((5, 3, 4), (1, 3, 4), (5, 3, 4)),
    ((5, 3, 4), (4,), (3, 4)), ((5, 3, 4), (3, 1), (1, 3, 4)), ((5, 3, 4), (1, 3, 4), (3, 1)),
])
def test_unbroadcast_scaled_is_unbroadcast_of_the_product(gshape, yshape, xshape):
    from srcgrad.runtime import unbroadcast_scaled

    rng = np.random.default_rng(4)
    g, y, x = rng.standard_normal(gshape), rng.standard_normal(yshape), np.zeros(xshape)
    out = unbroadcast_scaled(g, y, x)
    assert out.shape == xshape
    np.testing.assert_allclose(out, unbroadcast(g * y, x))


def matmul_then_reduce(W, h):
    a = np.matmul(W, h)
    return np.sum(np.tanh(a * h))


def test_matmul_result_is_not_taken_for_an_elementwise_one():
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((3, 3)), rng.standard_normal((2, 3, 1)))
    _check(matmul_then_reduce, args, (0, 1))


def chain_of_large_values(x, w):
    a = np.sin(x) * w
    b = np.exp(a) + x
    c = np.tanh(b) * a
    top = np.max(c, axis=1, keepdims=True)
    if np.sum(x) > 0.0:
        d = c - top
    else:
        d = c + top
    return np.sum(d * d) + np.sum(a)


def test_values_are_released_after_their_last_reader():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((200, 50)), rng.standard_normal(50)
    _check(chain_of_large_values, (x[:4, :3], w[:3]), (0, 1))
    compiled = compile_grad(chain_of_large_values, (0, 1))
    source = compiled.source
    dels = [ln.strip() for ln in source.splitlines() if ln.strip().startswith("del ")]
    released = {v.strip() for ln in dels for v in ln[4:].split(",")}
    assert {"a", "c", "tanh"} <= released, source
    # never the arguments, a reduction (small), or a name with a value per branch
    assert not released & {"x", "w", "top", "d"}, source
    # each del comes after the last line reading its names
    lines = source.splitlines()
    for k, line in enumerate(lines):
        if line.strip().startswith("del "):
            for var in line.strip()[4:].split(", "):
                later = "\n".join(ln for ln in lines[k + 1:] if not ln.strip().startswith("#"))
                assert not re.search(rf"\b{var}\b", later), (var, source)
    # releasing lowers the peak: compare with the same code without the dels
    without = "\n".join(ln for ln in lines if not ln.strip().startswith("del "))
    namespace = dict(compiled.namespace)
    exec(compile(without, "<no dels>", "exec"), namespace)
    keeping = namespace[compiled.function.__name__]
    np.testing.assert_allclose(keeping(x, w)[1][0], compiled.function(x, w)[1][0])
    assert _peak(compiled.function, x, w) < _peak(keeping, x, w)


def _peak(fun, *args):
    fun(*args)
    tracemalloc.start()
    try:
        fun(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
