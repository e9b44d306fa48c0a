"""``srcgrad.autograd.functional``, ``gradcheck``/``gradgradcheck`` and ``graph_dot``."""

from __future__ import annotations

import re

import numpy as np
import pytest

import srcgrad as torch
from srcgrad import autograd
from srcgrad.autograd import Function, GradcheckError, functional, graph_dot

RNG = np.random.default_rng(3)
XV = RNG.uniform(0.5, 1.5, 3)
YV = RNG.uniform(0.5, 1.5, 3)
MV = RNG.standard_normal((2, 3))


def _t(a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def f_vec(x):  # R^3 -> R^2
    return torch.tensor(MV) @ x.sin() + x.prod()


def f_vec_np(x):
    return MV @ np.sin(x) + np.prod(x)


def f_scalar(x):  # R^3 -> R
    return (x.exp() * x).sum() + (x[0] * x[1] * x[2])


def f_scalar_np(x):
    return float(np.sum(np.exp(x) * x) + x[0] * x[1] * x[2])


def f_two(x, y):  # (R^3, R^3) -> R^3
    return x * y.log() + y**2


def f_two_np(x, y):
    return x * np.log(y) + y**2


def num_jacobian(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    cols = []
    for i in range(x.size):
        d = np.zeros_like(x)
        d.flat[i] = eps
        cols.append((np.asarray(f(x + d)) - np.asarray(f(x - d))).ravel() / (2 * eps))
    out_shape = np.shape(f(x))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


def num_hessian(f, x, eps=1e-4):
    return num_jacobian(lambda p: num_jacobian(f, p, eps), x, eps)


def test_jacobian_single_input():
    jac = functional.jacobian(f_vec, _t(XV))
    assert jac.shape == (2, 3)
    np.testing.assert_allclose(jac.numpy(), num_jacobian(f_vec_np, XV), rtol=1e-6, atol=1e-8)


def test_jacobian_tuple_inputs():
    ja, jb = functional.jacobian(f_two, (_t(XV), _t(YV)))
    assert ja.shape == jb.shape == (3, 3)
    np.testing.assert_allclose(ja.numpy(), num_jacobian(lambda p: f_two_np(p, YV), XV), rtol=1e-6)
    np.testing.assert_allclose(jb.numpy(), num_jacobian(lambda p: f_two_np(XV, p), YV), rtol=1e-6)


def test_jacobian_does_not_touch_inputs():
    x = _t(XV, requires_grad=True)
    functional.jacobian(f_vec, x)
    assert x.grad is None


def test_hessian():
    h = functional.hessian(f_scalar, _t(XV))
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h.numpy(), num_hessian(f_scalar_np, XV), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.numpy(), h.numpy().T, rtol=1e-12)


def test_vjp():
    v = _t([0.5, -2.0])
    out, g = functional.vjp(f_vec, _t(XV), v)
    np.testing.assert_allclose(out.numpy(), f_vec_np(XV))
    expected = num_jacobian(f_vec_np, XV).T @ v.numpy()
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-6)
    assert not out.requires_grad and not g.requires_grad


def test_vjp_scalar_output_without_v():
    out, g = functional.vjp(f_scalar, _t(XV))
    np.testing.assert_allclose(g.numpy(), num_jacobian(f_scalar_np, XV), rtol=1e-6)


def test_jvp():
    v = _t([1.0, -1.0, 0.5])
    out, jv = functional.jvp(f_vec, _t(XV), v)
    np.testing.assert_allclose(out.numpy(), f_vec_np(XV))
    np.testing.assert_allclose(jv.numpy(), num_jacobian(f_vec_np, XV) @ v.numpy(), rtol=1e-6)


def test_jvp_tuple_inputs():
    vx, vy = _t([1.0, 0.0, 2.0]), _t([0.5, 0.5, -1.0])
    out, jv = functional.jvp(f_two, (_t(XV), _t(YV)), (vx, vy))
    expected = (num_jacobian(lambda p: f_two_np(p, YV), XV) @ vx.numpy()
                + num_jacobian(lambda p: f_two_np(XV, p), YV) @ vy.numpy())
    np.testing.assert_allclose(jv.numpy(), expected, rtol=1e-6)


def test_hvp():
    v = _t([0.3, -1.0, 2.0])
    out, hv = functional.hvp(f_scalar, _t(XV), v)
    assert out.item() == pytest.approx(f_scalar_np(XV))
    np.testing.assert_allclose(hv.numpy(), num_hessian(f_scalar_np, XV) @ v.numpy(), rtol=1e-4)


def test_against_torch_functional():
    real = pytest.importorskip("torch")
    tf = real.autograd.functional

    def rf_vec(x):
        return real.tensor(MV) @ x.sin() + x.prod()

    def rf_scalar(x):
        return (x.exp() * x).sum() + (x[0] * x[1] * x[2])

    rx = real.tensor(XV)
    v2, v3 = np.array([0.5, -2.0]), np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(functional.jacobian(f_vec, _t(XV)).numpy(),
                               tf.jacobian(rf_vec, rx).numpy(), rtol=1e-10)
    np.testing.assert_allclose(functional.hessian(f_scalar, _t(XV)).numpy(),
                               tf.hessian(rf_scalar, rx).numpy(), rtol=1e-10)
    np.testing.assert_allclose(functional.vjp(f_vec, _t(XV), _t(v2))[1].numpy(),
                               tf.vjp(rf_vec, rx, real.tensor(v2))[1].numpy(), rtol=1e-10)
    np.testing.assert_allclose(functional.jvp(f_vec, _t(XV), _t(v3))[1].numpy(),
                               tf.jvp(rf_vec, rx, real.tensor(v3))[1].numpy(), rtol=1e-10)
    np.testing.assert_allclose(functional.hvp(f_scalar, _t(XV), _t(v3))[1].numpy(),
                               tf.hvp(rf_scalar, rx, real.tensor(v3))[1].numpy(), rtol=1e-10)


# -- gradcheck ------------------------------------------------------------------------------------


class WrongSin(Function):
    """sin with a deliberately wrong derivative (cos + 0.1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.cos() + 0.1)


class SinFirstOrderOnly(Function):
    """Right first derivative, but its backward is treated as constant in x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.detach().cos()


def test_gradcheck_passes_on_good_functions():
    x = _t(XV, requires_grad=True)
    y = _t(YV, requires_grad=True)
    assert autograd.gradcheck(f_vec, (x,))
    assert autograd.gradcheck(f_two, (x, y))
    assert autograd.gradcheck(lambda a: a.softmax(0) * a.sum(), (x,))
    assert autograd.gradgradcheck(f_two, (x, y))
    assert autograd.gradgradcheck(lambda a: a.tanh() * a, (x,))


def test_gradcheck_fails_on_wrong_backward():
    x = _t(XV, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        autograd.gradcheck(WrongSin.apply, (x,))
    assert autograd.gradcheck(WrongSin.apply, (x,), raise_exception=False) is False
    assert issubclass(GradcheckError, RuntimeError)


def test_gradgradcheck_fails_on_wrong_double_backward():
    x = _t(XV, requires_grad=True)
    assert autograd.gradcheck(SinFirstOrderOnly.apply, (x,))
    with pytest.raises(GradcheckError):
        autograd.gradgradcheck(SinFirstOrderOnly.apply, (x,))


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError):
        autograd.gradcheck(f_vec, (_t(XV),))


# -- graph_dot ------------------------------------------------------------------------------------


def test_graph_dot_names_the_nodes():
    x = torch.rand(3, requires_grad=True)
    y = torch.rand(3, requires_grad=True)
    z = ((x * y).exp() + x).sum()
    dot = graph_dot(z)
    assert dot.lstrip().startswith("digraph")
    assert dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    for name in ("SumBackward0", "AddBackward0", "ExpBackward0", "MulBackward0",
                 "AccumulateGrad"):
        assert name in dot
    # one AccumulateGrad per leaf, even though x is used twice
    assert dot.count("AccumulateGrad") == 2
    edges = re.findall(r"^\s*(\w+) -> (\w+);?\s*$", dot, flags=re.M)
    assert len(edges) >= 6
    declared = set(re.findall(r"^\s*(\w+) \[", dot, flags=re.M))
    for a, b in edges:
        assert a in declared and b in declared
    assert torch.autograd.graph_dot is graph_dot


def test_graph_dot_of_leaf_and_several_outputs():
    x = torch.rand(2, requires_grad=True)
    dot = graph_dot(x * 2, x.sin())
    assert "MulBackward0" in dot and "SinBackward0" in dot
    assert dot.count("AccumulateGrad") == 1


def test_tuple_inputs_and_outputs_against_torch():
    real = pytest.importorskip("torch")
    xv, yv = np.array([0.3, 0.5]), np.array([1.5, -0.5])

    def f(x, y):
        return x * y, (x.sin() * y).sum()

    def g(x, y):
        return (x.sin() * y).sum()

    results = []
    for lib in (torch, real):
        fn = lib.autograd.functional
        xs = (lib.tensor(xv), lib.tensor(yv))
        jac = fn.jacobian(f, xs)
        hess = fn.hessian(g, xs)
        cot = (lib.ones(2, dtype=lib.float64), lib.tensor(2.0, dtype=lib.float64))
        _, vj = fn.vjp(f, xs, cot)
        _, jv = fn.jvp(f, xs, (lib.ones(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)))
        results.append([b.numpy() for row in (*jac, *hess) for b in row]
                       + [v.numpy() for v in (*vj, *jv)])
    assert len(results[0]) == len(results[1]) == 12
    for a, b in zip(*results, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
