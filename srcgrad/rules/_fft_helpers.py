"""Helpers of the ``numpy.fft`` rules: which lengths and axes a call transforms, fitting
a cotangent back to the input's lengths, and the Hermitian weights of the real transforms.

Complex values follow JAX's convention: a cotangent ``c`` of a value ``z`` pairs with a
change ``dz`` as ``Re(sum(c * dz))`` (no conjugation), so a complex-linear map's VJP is
its transpose, and a real input gets the real part.  Like every rule helper they only
call NumPy functions, slicing and operators, so they run on srcgrad's Tensors too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..runtime import shape_of

__all__ = ["c2c_cotangent", "dual_norm", "hfft_cotangent", "ihfft_cotangent",
           "irfft_cotangent", "rfft_cotangent", "transformed"]

# The norm that scales the opposite direction the same way: a forward transform with
# dual_norm(norm) has the scale of the inverse transform with norm.
_DUAL = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def dual_norm(norm: str | None) -> str:
    """``"forward"`` for ``"backward"`` (or ``None``) and back; ``"ortho"`` for itself."""
    return _DUAL[norm]


def transformed(x: Any, s: Any, axes: Any, default_axes: Any = None,
                inverse_real: bool = False) -> tuple[list[int], list[int]]:
    """``(lengths, axes)`` a call of an n-D transform of ``x`` works on, as NumPy reads them.

    ``s=None`` takes the input's lengths (for ``irfftn`` the last one is ``2 (m - 1)``),
    ``axes=None`` the last ``len(s)`` axes (all axes without ``s``), a length -1 the
    input's own; ``default_axes`` is ``fft2``'s ``(-2, -1)``.
    """
    shape = shape_of(x)
    ndim = len(shape)
    if axes is None:
        axes = default_axes
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(ndim))
    axes = [int(a) % ndim for a in np.atleast_1d(axes)] if np.ndim(axes) else [int(axes) % ndim]
    if s is None:
        lengths = [shape[a] for a in axes]
        if inverse_real:
            lengths[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        lengths = [shape[a] if int(n) == -1 else int(n)
                   for n, a in zip(np.atleast_1d(s), axes, strict=True)]
    return lengths, axes


def _one(x: Any, n: Any, axis: int, inverse_real: bool = False) -> tuple[list[int], list[int]]:
    """``(lengths, axes)`` of a 1-D transform's call (``n``, ``axis``)."""
    return transformed(x, None if n is None else [n], [axis], inverse_real=inverse_real)


def _fit(c: Any, shape: tuple, axes: list[int]) -> Any:
    """``c`` cut or zero-padded along ``axes`` to the lengths of ``shape``: the transpose
    of the zero-padding or cutting NumPy applies to an input of ``shape``."""
    have = shape_of(c)
    index = [slice(None)] * len(have)
    widths = [(0, 0)] * len(have)
    for a in axes:
        if have[a] > shape[a]:
            index[a] = slice(0, shape[a])
        elif have[a] < shape[a]:
            widths[a] = (0, shape[a] - have[a])
    if any(i != slice(None) for i in index):
        c = c[tuple(index)]
    for a, (_, extra) in enumerate(widths):
        if extra:
            c = _pad_end(c, a, extra)
    return c


def _pad_end(c: Any, axis: int, extra: int) -> Any:
    """``c`` with ``extra`` zeros appended along ``axis`` (a constant block joined on)."""
    shape = list(shape_of(c))
    shape[axis] = extra
    return np.concatenate([c, np.zeros(shape, dtype=np.dtype(c.dtype))], axis=axis)


def _like(c: Any, x: Any) -> Any:
    """The cotangent of ``x``: its real part when ``x`` is real."""
    return c if np.iscomplexobj(x) else np.real(c)


def _hermitian_weights(c: Any, axis: int, n: int) -> Any:
    """``c`` (``n // 2 + 1`` long on ``axis``) with every term doubled except the first
    and, for an even ``n``, the last: the terms a real signal of length ``n`` sees twice."""
    m = shape_of(c)[axis]
    ndim = len(shape_of(c))

    def cut(start: int, stop: int) -> Any:
        index = [slice(None)] * ndim
        index[axis] = slice(start, stop)
        return c[tuple(index)]

    inner = m - 1 if n % 2 else m - 2
    pieces = [cut(0, 1), 2 * cut(1, 1 + inner)]
    if not n % 2:
        pieces.append(cut(m - 1, m))
    return np.concatenate(pieces, axis=axis)


def c2c_cotangent(transform: Any, g: Any, x: Any, s: Any, axes: Any, norm: Any,
                  default_axes: Any = None) -> Any:
    """The cotangent of ``x`` in ``transform(x, s, axes, norm)`` (``fftn`` or ``ifftn``).

    The DFT matrix is symmetric, so the transpose is the same transform of ``g`` at the
    output's lengths, fitted back to the input's.
    """
    lengths, axes = transformed(x, s, axes, default_axes)
    return _like(_fit(transform(g, lengths, axes, norm), shape_of(x), axes), x)


def _unhalved(transform: Any, g: Any, x: Any, lengths: list[int], axes: list[int],
              norm: Any) -> Any:
    """The real part of ``transform`` of ``g`` put back among zeros to the full lengths,
    fitted to ``x``: the transpose of keeping the first ``n // 2 + 1`` terms."""
    full = transform(_pad_end(g, axes[-1], lengths[-1] - shape_of(g)[axes[-1]]), lengths, axes,
                     norm)
    return np.real(_fit(full, shape_of(x), axes))


def rfft_cotangent(g: Any, x: Any, s: Any, axes: Any, norm: Any,
                   default_axes: Any = None) -> Any:
    """The cotangent of the real ``x`` in ``rfftn(x, s, axes, norm)``: ``rfftn`` keeps the
    first ``n // 2 + 1`` terms of the full ``fftn``."""
    lengths, axes = transformed(x, s, axes, default_axes)
    return _unhalved(np.fft.fftn, g, x, lengths, axes, norm)


def irfft_cotangent(g: Any, a: Any, s: Any, axes: Any, norm: Any,
                    default_axes: Any = None) -> Any:
    """The cotangent of the Hermitian half-spectrum ``a`` in ``irfftn(a, s, axes, norm)``.

    ``irfftn`` reads ``a`` as the first half of a Hermitian spectrum: every term but the
    first (and, for an even length, the last) stands for two, and the imaginary parts
    of those two are dropped.  Pairing ``Re(c * da)`` with ``g . dx`` gives ``c`` = the
    weights times the first half of ``ifftn(g)`` (the conjugate of ``rfftn(g)`` at the
    inverse's scale, without a conjugation to differentiate again).
    """
    lengths, axes = transformed(a, s, axes, default_axes, inverse_real=True)
    full = np.fft.ifftn(g, lengths, axes, norm)
    half = _fit(full, (*shape_of(full)[:axes[-1]], lengths[-1] // 2 + 1,
                       *shape_of(full)[axes[-1] + 1:]), axes[-1:])
    return _like(_fit(_hermitian_weights(half, axes[-1], lengths[-1]), shape_of(a), axes), a)


def hfft_cotangent(g: Any, a: Any, n: Any, axis: int, norm: Any) -> Any:
    """The cotangent of ``a`` in ``hfft(a, n, axis, norm)`` = ``irfft(conj(a), n, axis,
    dual_norm(norm))``: the conjugate of ``irfft``'s."""
    lengths, axes = _one(a, n, axis, inverse_real=True)
    half = np.fft.rfftn(g, lengths, axes, norm)
    return _like(_fit(_hermitian_weights(half, axes[-1], lengths[-1]), shape_of(a), axes), a)


def ihfft_cotangent(g: Any, x: Any, n: Any, axis: int, norm: Any) -> Any:
    """The cotangent of the real ``x`` in ``ihfft(x, n, axis, norm)`` = ``conj(rfft(x, n,
    axis, dual_norm(norm)))``: ``rfft``'s with ``ifft`` in place of ``fft`` (a conjugate
    has the same real part)."""
    lengths, axes = _one(x, n, axis)
    return _unhalved(np.fft.ifftn, g, x, lengths, axes, norm)
