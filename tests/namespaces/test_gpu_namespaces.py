"""CuPy and PyTorch-CUDA gradients equal NumPy's, on the GPU (skipped without one)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad


def loss(w, x):
    h = np.tanh(x @ w)
    return np.sum(h * h) / x.shape[0]


W = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
X = np.linspace(0.0, 1.0, 20).reshape(5, 4)


def test_torch_cuda_gradient_stays_on_the_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    g = srcgrad.grad(loss)(torch.from_numpy(W).cuda(), torch.from_numpy(X).cuda())
    assert isinstance(g, torch.Tensor) and g.device.type == "cuda"
    np.testing.assert_allclose(g.cpu().numpy(), srcgrad.grad(loss)(W, X), rtol=1e-10)


def test_cupy_gradient_stays_on_the_gpu():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            pytest.skip("no CUDA device")
    except cupy.cuda.runtime.CUDARuntimeError:
        pytest.skip("no CUDA device")
    g = srcgrad.grad(loss)(cupy.asarray(W), cupy.asarray(X))
    assert isinstance(g, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(g), srcgrad.grad(loss)(W, X), rtol=1e-10)
