"""NumPy functions called on Tensors record on the tape.

They reach Tensor mode through ``__array_ufunc__`` and ``__array_function__``.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad as torch
from srcgrad.autograd import Tensor


def _num_grad(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return g


RNG = np.random.default_rng(7)
A = RNG.uniform(0.5, 1.5, (3, 4))
B = RNG.uniform(0.5, 1.5, (3, 4))
V = RNG.uniform(0.5, 1.5, 4)
W = RNG.standard_normal((3, 4))

# (id, f of (a, b) written in plain NumPy, works on arrays and on Tensors alike)
CASES = [
    ("sin", lambda a, b: np.sin(a)),
    ("exp_times_ndarray", lambda a, b: np.exp(a) * W),
    ("ndarray_plus_tensor", lambda a, b: W + a),
    ("ndarray_minus_tensor", lambda a, b: W - a * b),
    ("ndarray_times_tensor", lambda a, b: W * a),
    ("ndarray_div_tensor", lambda a, b: W / a),
    ("sum_axis0", lambda a, b: np.sum(a * b, axis=0)),
    ("sum_all", lambda a, b: np.sum(np.log(a) + b)),
    ("mean_keepdims", lambda a, b: np.mean(a, keepdims=True) * b),
    ("mean_axis1", lambda a, b: np.mean(np.tanh(a), axis=1)),
    ("max_axis", lambda a, b: np.max(a + b, axis=1)),
    ("prod", lambda a, b: np.prod(a, axis=0)),
    ("dot", lambda a, b: np.dot(a, V)),
    ("dot_matrices", lambda a, b: np.dot(a, b.T)),
    ("matmul", lambda a, b: np.matmul(a.T, b)),
    ("concatenate", lambda a, b: np.concatenate([a, b * 2], axis=1)),
    ("stack", lambda a, b: np.stack([a, b])),
    ("where", lambda a, b: np.where(W > 0, a, b)),
    ("maximum", lambda a, b: np.maximum(a, b)),
    ("sqrt_abs", lambda a, b: np.sqrt(np.abs(a - 2))),
    ("power", lambda a, b: np.power(a, b)),
    ("square_reshape", lambda a, b: np.reshape(np.square(a), (4, 3))),
    ("transpose", lambda a, b: np.transpose(a) * 3),
    ("sum_method_chain", lambda a, b: (a * b).sum(axis=1)),
    ("outer", lambda a, b: np.outer(a[0], b[:, 1])),
    ("clip", lambda a, b: np.clip(a, 0.7, 1.2)),
    ("exp_log1p", lambda a, b: np.log1p(np.exp(-a)) + np.cosh(b)),
    ("add_reduce", lambda a, b: np.add.reduce(a * b, axis=0)),
    ("inv", lambda a, b: np.linalg.inv(_sq(a)) @ b),
    ("det", lambda a, b: np.linalg.det(_sq(a) * _sq(b))),
    ("solve", lambda a, b: np.linalg.solve(_sq(a), b)),
    ("slogdet", lambda a, b: np.linalg.slogdet(_sq(a) + _sq(b))[1]),
    ("norm", lambda a, b: np.linalg.norm(a - b * 0.5)),
    ("norm_axis", lambda a, b: np.linalg.norm(a, axis=0) * b[0]),
    ("eigvalsh", lambda a, b: np.linalg.eigvalsh(_sq(a) @ np.transpose(_sq(a)))),
    ("einsum", lambda a, b: np.einsum("ij,ij->i", a, b)),
    ("tensordot", lambda a, b: np.tensordot(a, b, axes=([1], [1]))),
    ("trace", lambda a, b: np.trace(_sq(a) @ _sq(b))),
    ("split", lambda a, b: np.split(a * b, 2, axis=1)[1]),
    ("sort", lambda a, b: np.sort(a + b, axis=1)),
    ("cumsum_cumprod", lambda a, b: np.cumsum(a, axis=1) + np.cumprod(b, axis=0)),
    ("diff", lambda a, b: np.diff(a * b, axis=1)),
    ("pad", lambda a, b: np.pad(a, 1) * 2),
    ("tile_repeat", lambda a, b: np.tile(a, (2, 1)) + np.repeat(b, 2, axis=0)),
    ("take", lambda a, b: np.take(a, [0, 2, 2], axis=1)),
    ("var_std", lambda a, b: np.var(a, axis=0) + np.std(b)),
    ("arctan2", lambda a, b: np.arctan2(a, b)),
    ("logaddexp", lambda a, b: np.logaddexp(a, b)),
    ("hstack_vstack", lambda a, b: np.vstack([a, b]) + np.repeat(np.hstack([b, a])[:, :4], 2, 0)),
    ("swapaxes_moveaxis",
     lambda a, b: np.swapaxes(a[None], 0, 2) * np.moveaxis(b[None], [0, 2], [2, 0])),
    ("swapaxes_method", lambda a, b: a[None].swapaxes(0, 2) * b.swapaxes(-1, 0)[..., None]),
    ("fft", lambda a, b: np.real(np.fft.fft2(a, norm="ortho") * np.fft.ifft(b, 5, axis=0)[:3])
     + np.fft.irfft(np.fft.rfft(a * b), 4)),
    ("squeeze_expand", lambda a, b: np.squeeze(np.expand_dims(a, 0)) * b),
    ("ravel_reshape", lambda a, b: np.ravel(a) * np.reshape(b, -1)),
]


def _sq(x):
    """A well-conditioned 3x3 matrix from the first three columns."""
    return x[:, :3] + 3 * np.eye(3)



@pytest.mark.parametrize(("name", "f"), CASES, ids=[c[0] for c in CASES])
def test_numpy_call_records_and_differentiates(name, f):
    a = torch.tensor(A, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)
    out = f(a, b)
    assert isinstance(out, Tensor), type(out)
    assert out.requires_grad and out.grad_fn is not None
    expected = f(A, B)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
    wv = np.random.default_rng(0).standard_normal(np.shape(expected))
    (out * torch.tensor(wv)).sum().backward()

    def loss_a(x):
        return float(np.sum(f(x, B) * wv))

    def loss_b(x):
        return float(np.sum(f(A, x) * wv))

    ga = _num_grad(loss_a, A)
    gb = _num_grad(loss_b, B)
    if a.grad is None:
        np.testing.assert_allclose(ga, 0, atol=1e-7)
    else:
        np.testing.assert_allclose(a.grad.numpy(), ga, rtol=1e-5, atol=1e-7)
    if b.grad is None:
        np.testing.assert_allclose(gb, 0, atol=1e-7)
    else:
        np.testing.assert_allclose(b.grad.numpy(), gb, rtol=1e-5, atol=1e-7)


def test_ndarray_left_operand_returns_tensor():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    for out in (np.array([1.0, 1.0]) + t, np.array([2.0, 2.0]) * t, np.ones(2) - t,
                np.ones(2) / t, np.ones(2) ** t, np.ones((2, 2)) @ t):
        assert isinstance(out, Tensor) and out.requires_grad


def test_numpy_scalars_with_tensors():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    out = np.float64(3.0) * t
    assert isinstance(out, Tensor) and out.requires_grad
    out.sum().backward()
    assert t.grad.tolist() == [3.0, 3.0]


def test_numpy_on_tensors_without_grad_returns_tensors():
    t = torch.tensor([1.0, 4.0])
    out = np.sqrt(t)
    assert isinstance(out, Tensor) and not out.requires_grad
    assert out.tolist() == [1.0, 2.0]


def test_numpy_under_no_grad():
    t = torch.tensor([1.0, 4.0], requires_grad=True)
    with torch.no_grad():
        out = np.sum(np.exp(t))
    assert isinstance(out, Tensor) and not out.requires_grad


def test_function_without_rule_raises_type_error_naming_it():
    t = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^numpy\.trim_zeros has no derivative rule"):
        np.trim_zeros(t)
    with pytest.raises(TypeError, match=r"^numpy\.sort_complex has no derivative rule"):
        np.sort_complex(t)
    with pytest.raises(TypeError, match=r"srcgrad\.defvjp\(numpy\.roots"):
        np.roots(t)
    # the same call without a gradient at stake still works on the detached data
    assert np.trim_zeros(t.detach().numpy()).shape == (4,)


def test_ufunc_without_rule_raises_type_error_naming_it():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^numpy\.spacing has no derivative rule"):
        np.spacing(t)


def test_unsupported_ufunc_method_raises():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="accumulate"):
        np.add.accumulate(t)


def test_non_differentiable_numpy_functions_give_constants():
    t = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    idx = np.argmax(t)
    assert isinstance(idx, Tensor) and not idx.requires_grad and idx.item() == 0
    assert np.argsort(t).tolist() == [1, 2, 0]
    assert np.shape(t) == (3,) and np.ndim(t) == 1 and np.size(t) == 3
    f = np.floor(t * 1.5) + t
    assert f.requires_grad
    f.sum().backward()
    assert t.grad.tolist() == [1.0, 1.0, 1.0]  # floor contributes a zero derivative


def test_asarray_of_requires_grad_tensor_raises():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(t)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.array(t)
    # fine once detached, and shares memory
    d = np.asarray(t.detach())
    assert isinstance(d, np.ndarray) and d.tolist() == [1.0, 2.0]


def test_out_argument_refused_when_grad_is_needed():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    buf = torch.zeros(2)
    with pytest.raises(TypeError, match="out"):
        np.sin(t, out=buf)
    c = torch.tensor([0.0, 0.0])
    np.add(torch.tensor([1.0, 2.0]), 1, out=c)
    assert c.tolist() == [2.0, 3.0]


def test_numpy_mean_keepdims_gradient():
    t = torch.tensor(A, requires_grad=True)
    m = np.mean(t, keepdims=True)
    assert isinstance(m, Tensor) and m.shape == (1, 1)
    m.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.full(A.shape, 1 / A.size))
