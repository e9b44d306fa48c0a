"""Samples for numpy.fft: every transform with each norm, lengths cut and padded,
odd and even real lengths, several axes; complex inputs where NumPy takes them."""

from __future__ import annotations

import numpy as np

from tests.rule_samples import S, arr, draw

CHECK_DUCK = True


def cplx(shape: tuple[int, ...]) -> object:
    """A complex128 array of ``shape``: both parts uniform in (-2, 2)."""
    return draw(lambda rng: rng.uniform(-2, 2, shape) + 1j * rng.uniform(-2, 2, shape),
                f"cplx{shape}")


NORMS = (None, "backward", "ortho", "forward")


def _one_d(real_input: bool) -> list:
    """1-D transform samples: default, cut, padded, another axis, each norm once."""
    x = arr if real_input else cplx
    samples = [S(x((6,))), S(x((2, 5)), 3), S(x((2, 5)), 8, 0, "ortho"),
               S(x((4, 3)), None, 0, "forward"), S(x((5,)), norm="backward"),
               S(x((2, 5)), n=7, axis=-1, norm="ortho")]
    if not real_input:
        samples += [S(arr((5,))), S(arr((2, 4)), 6, 0, "forward")]
    return samples


def _half_spectrum() -> list:
    """irfft/hfft samples: odd and even output lengths, a half spectrum cut and padded."""
    return [S(cplx((5,))), S(cplx((4,)), 7), S(cplx((2, 4)), 6, -1, "ortho"),
            S(cplx((4, 3)), 9, 0, "forward"), S(cplx((6,)), 4, norm="backward"),
            S(cplx((3,)), 5, norm="ortho"), S(arr((4,)), 6)]


def _n_d(real_input: bool, two: bool) -> list:
    x = arr if real_input else cplx
    shape = (3, 4, 5)
    if two:
        return [S(x((3, 4))), S(x(shape), (2, 6)), S(x(shape), (4, 3), (0, 2), "ortho"),
                S(x((3, 4)), None, (-1, -2), "forward")]
    return [S(x(shape)), S(x(shape), None, (1,)), S(x(shape), (2, 6), (0, 2), "ortho"),
            S(x(shape), (4, -1), (2, 0), "forward"), S(x((3, 4)), (3, 4), (0, 1))]


def _real_n_d(two: bool) -> list:
    """irfftn/irfft2 samples: half spectra of odd and even lengths, cut and padded."""
    if two:
        return [S(cplx((3, 4))), S(cplx((3, 4)), (4, 5)), S(cplx((3, 2, 4)), (3, 4), (0, 2),
                                                           "ortho"),
                S(cplx((4, 3)), (2, 6), (-1, -2), "forward")]
    return [S(cplx((3, 4))), S(cplx((3, 4, 3)), None, (0, 2)),
            S(cplx((3, 4, 3)), (2, 5), (1, 2), "ortho"),
            S(cplx((4, 3, 2)), (3, 6), (2, 0), "forward"), S(cplx((2, 3)), (2, 4), (0, 1))]


SAMPLES = {
    np.fft.fft: _one_d(False),
    np.fft.ifft: _one_d(False),
    np.fft.rfft: _one_d(True),
    np.fft.ihfft: _one_d(True),
    np.fft.irfft: _half_spectrum(),
    np.fft.hfft: _half_spectrum(),
    np.fft.fftn: _n_d(False, False),
    np.fft.ifftn: _n_d(False, False),
    np.fft.fft2: _n_d(False, True),
    np.fft.ifft2: _n_d(False, True),
    np.fft.rfftn: _n_d(True, False),
    np.fft.rfft2: _n_d(True, True),
    np.fft.irfftn: _real_n_d(False),
    np.fft.irfft2: _real_n_d(True),
    np.fft.fftshift: [S(arr((5,))), S(cplx((3, 4))), S(arr((3, 4)), 0), S(arr((2, 3, 4)), (0, 2))],
    np.fft.ifftshift: [S(arr((5,))), S(cplx((3, 4))), S(arr((3, 4)), (1,)),
                       S(arr((2, 3, 4)), (0, 2))],
}
