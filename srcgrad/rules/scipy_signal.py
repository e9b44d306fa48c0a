"""Rules for ``scipy.signal.convolve`` and ``correlate``: n-D, modes full, same and valid.

Registered when ``scipy.signal`` is first used; the source engine differentiates
them (SciPy turns its arguments into plain arrays, so the tape refuses).  Every
mode is a centred crop of the full result, so a cotangent is padded back to the
full shape and differentiated there; ``method=`` is passed on to the products
that compute the derivatives.  Real arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import signal

from .registry import defjvp, defvjp, lookup


def _full_cotangent(g: Any, in1: Any, in2: Any) -> Any:
    """``g`` padded to the shape of the full result, where the mode's crop took it from."""
    full = [n + m - 1 for n, m in zip(np.shape(in1), np.shape(in2), strict=True)]
    widths = []
    for f, o in zip(full, np.shape(g), strict=True):
        start = (f - o) // 2
        widths.append((start, f - o - start))
    return np.pad(g, widths)


def _flip(x: Any) -> Any:
    return np.flip(x, axis=tuple(range(np.ndim(x))))


def convolve_cotangent(g: Any, in1: Any, in2: Any, method: str = "auto",
                       which: int = 0) -> Any:
    """``full[k] = sum_i in1[i] in2[k - i]``: each input's cotangent is the other's
    correlation with the full cotangent."""
    gf = _full_cotangent(g, in1, in2)
    other = in2 if which == 0 else in1
    return signal.correlate(gf, other, mode="valid", method=method)


def correlate_cotangent(g: Any, in1: Any, in2: Any, method: str = "auto",
                        which: int = 0) -> Any:
    """``full[k] = sum_i in1[i] in2[i - k + M - 1]``: in1 gets the convolution of the
    full cotangent with in2, in2 the flipped correlation of it with in1."""
    gf = _full_cotangent(g, in1, in2)
    if which == 0:
        return signal.convolve(gf, in2, mode="valid", method=method)
    return _flip(signal.correlate(gf, in1, mode="valid", method=method))


defvjp(signal.convolve,
       lambda g, ans, in1, in2, mode="full", method="auto":
       convolve_cotangent(g, in1, in2, method, 0),
       lambda g, ans, in1, in2, mode="full", method="auto":
       convolve_cotangent(g, in1, in2, method, 1),
       node="ConvolutionBackward0")
# bilinear: each tangent goes through the same product
defjvp(signal.convolve,
       lambda d1, ans, in1, in2, mode="full", method="auto":
       signal.convolve(d1, in2, mode=mode, method=method),
       lambda d2, ans, in1, in2, mode="full", method="auto":
       signal.convolve(in1, d2, mode=mode, method=method))
lookup(signal.convolve).name = "scipy.signal.convolve"

defvjp(signal.correlate,
       lambda g, ans, in1, in2, mode="full", method="auto":
       correlate_cotangent(g, in1, in2, method, 0),
       lambda g, ans, in1, in2, mode="full", method="auto":
       correlate_cotangent(g, in1, in2, method, 1),
       node="ConvolutionBackward0")
defjvp(signal.correlate,
       lambda d1, ans, in1, in2, mode="full", method="auto":
       signal.correlate(d1, in2, mode=mode, method=method),
       lambda d2, ans, in1, in2, mode="full", method="auto":
       signal.correlate(in1, d2, mode=mode, method=method))
lookup(signal.correlate).name = "scipy.signal.correlate"
