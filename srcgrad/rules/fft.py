"""Rules: ``numpy.fft``.

Every transform is linear over the reals, so its JVP is the same call on the tangent.
The complex-to-complex transforms (``fft``, ``ifft``, ``fft2``, ``ifft2``, ``fftn``,
``ifftn``) are complex-linear with symmetric matrices: the VJP (JAX's convention, the
transpose and not the conjugate transpose) is the same transform of the cotangent,
cut or zero-padded back to the input's lengths, and its real part for a real input.
The real-input transforms (``rfft*``, ``ihfft``) take the real part of the transpose;
the real-output ones (``irfft*``, ``hfft``) weight the half spectrum: each term but the
first (and the last for an even length) stands for two.  ``norm`` ("backward", "ortho",
"forward") and ``n``/``s``/``axes`` are constants.  ``fftfreq`` and ``rfftfreq`` are
constants; ``fftshift`` and ``ifftshift`` are each other's transpose.
"""

from __future__ import annotations

import numpy as np

from ._fft_helpers import (
    c2c_cotangent,
    hfft_cotangent,
    ihfft_cotangent,
    irfft_cotangent,
    rfft_cotangent,
)
from .registry import complex_rules, defjvp, defvjp, nondifferentiable

_fft = np.fft

# --- complex to complex --------------------------------------------------------------

defvjp(_fft.fft,
       lambda g, ans, a, n=None, axis=-1, norm=None, out=None:
       c2c_cotangent(np.fft.fftn, g, a, n, axis, norm),
       node="FftC2CBackward0")
defjvp(_fft.fft, lambda dx, ans, a, n=None, axis=-1, norm=None, out=None:
       np.fft.fft(dx, n, axis, norm))

defvjp(_fft.ifft,
       lambda g, ans, a, n=None, axis=-1, norm=None, out=None:
       c2c_cotangent(np.fft.ifftn, g, a, n, axis, norm),
       node="FftC2CBackward0")
defjvp(_fft.ifft, lambda dx, ans, a, n=None, axis=-1, norm=None, out=None:
       np.fft.ifft(dx, n, axis, norm))

defvjp(_fft.fftn,
       lambda g, ans, a, s=None, axes=None, norm=None, out=None:
       c2c_cotangent(np.fft.fftn, g, a, s, axes, norm),
       node="FftC2CBackward0")
defjvp(_fft.fftn, lambda dx, ans, a, s=None, axes=None, norm=None, out=None:
       np.fft.fftn(dx, s, axes, norm))

defvjp(_fft.ifftn,
       lambda g, ans, a, s=None, axes=None, norm=None, out=None:
       c2c_cotangent(np.fft.ifftn, g, a, s, axes, norm),
       node="FftC2CBackward0")
defjvp(_fft.ifftn, lambda dx, ans, a, s=None, axes=None, norm=None, out=None:
       np.fft.ifftn(dx, s, axes, norm))

defvjp(_fft.fft2,
       lambda g, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       c2c_cotangent(np.fft.fftn, g, a, s, axes, norm),
       node="FftC2CBackward0")
defjvp(_fft.fft2, lambda dx, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       np.fft.fft2(dx, s, axes, norm))

defvjp(_fft.ifft2,
       lambda g, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       c2c_cotangent(np.fft.ifftn, g, a, s, axes, norm),
       node="FftC2CBackward0")
defjvp(_fft.ifft2, lambda dx, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       np.fft.ifft2(dx, s, axes, norm))

# --- real input: the first half of the spectrum ----------------------------------------

defvjp(_fft.rfft,
       lambda g, ans, a, n=None, axis=-1, norm=None, out=None:
       rfft_cotangent(g, a, n, axis, norm),
       node="FftR2CBackward0")
defjvp(_fft.rfft, lambda dx, ans, a, n=None, axis=-1, norm=None, out=None:
       np.fft.rfft(dx, n, axis, norm))

defvjp(_fft.rfftn,
       lambda g, ans, a, s=None, axes=None, norm=None, out=None:
       rfft_cotangent(g, a, s, axes, norm),
       node="FftR2CBackward0")
defjvp(_fft.rfftn, lambda dx, ans, a, s=None, axes=None, norm=None, out=None:
       np.fft.rfftn(dx, s, axes, norm))

defvjp(_fft.rfft2,
       lambda g, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       rfft_cotangent(g, a, s, axes, norm),
       node="FftR2CBackward0")
defjvp(_fft.rfft2, lambda dx, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       np.fft.rfft2(dx, s, axes, norm))

# ihfft(x) = conj(rfft(x)) at the inverse's scale.
defvjp(_fft.ihfft,
       lambda g, ans, a, n=None, axis=-1, norm=None, out=None:
       ihfft_cotangent(g, a, n, axis, norm),
       node="FftR2CBackward0")
defjvp(_fft.ihfft, lambda dx, ans, a, n=None, axis=-1, norm=None, out=None:
       np.fft.ihfft(dx, n, axis, norm))

# --- real output: a Hermitian half spectrum in ----------------------------------------

defvjp(_fft.irfft,
       lambda g, ans, a, n=None, axis=-1, norm=None, out=None:
       irfft_cotangent(g, a, n, axis, norm),
       node="FftC2RBackward0")
defjvp(_fft.irfft, lambda dx, ans, a, n=None, axis=-1, norm=None, out=None:
       np.fft.irfft(dx, n, axis, norm))

defvjp(_fft.irfftn,
       lambda g, ans, a, s=None, axes=None, norm=None, out=None:
       irfft_cotangent(g, a, s, axes, norm),
       node="FftC2RBackward0")
defjvp(_fft.irfftn, lambda dx, ans, a, s=None, axes=None, norm=None, out=None:
       np.fft.irfftn(dx, s, axes, norm))

defvjp(_fft.irfft2,
       lambda g, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       irfft_cotangent(g, a, s, axes, norm),
       node="FftC2RBackward0")
defjvp(_fft.irfft2, lambda dx, ans, a, s=None, axes=(-2, -1), norm=None, out=None:
       np.fft.irfft2(dx, s, axes, norm))

# hfft(a) = irfft(conj(a)) at the forward scale.
defvjp(_fft.hfft,
       lambda g, ans, a, n=None, axis=-1, norm=None, out=None:
       hfft_cotangent(g, a, n, axis, norm),
       node="FftC2RBackward0")
defjvp(_fft.hfft, lambda dx, ans, a, n=None, axis=-1, norm=None, out=None:
       np.fft.hfft(dx, n, axis, norm))

# --- shifts and frequencies --------------------------------------------------------------

defvjp(_fft.fftshift, lambda g, ans, x, axes=None: np.fft.ifftshift(g, axes),
       node="RollBackward0")
defjvp(_fft.fftshift, lambda dx, ans, x, axes=None: np.fft.fftshift(dx, axes))
defvjp(_fft.ifftshift, lambda g, ans, x, axes=None: np.fft.fftshift(g, axes),
       node="RollBackward0")
defjvp(_fft.ifftshift, lambda dx, ans, x, axes=None: np.fft.ifftshift(dx, axes))

# the sample frequencies k / (n d) vary with the spacing d: an active d is refused
nondifferentiable(_fft.fftfreq, _fft.rfftfreq, argnums=(0,))

# Every transform and shift is right on complex values in JAX's convention.
complex_rules(_fft.fft, _fft.ifft, _fft.fftn, _fft.ifftn, _fft.fft2, _fft.ifft2, _fft.rfft,
              _fft.rfftn, _fft.rfft2, _fft.ihfft, _fft.irfft, _fft.irfftn, _fft.irfft2, _fft.hfft,
              _fft.fftshift, _fft.ifftshift)
