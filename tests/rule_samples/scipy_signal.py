"""Samples for the scipy.signal rules (srcgrad/rules/scipy_signal.py); none without SciPy."""

from tests.rule_samples import S, arr

CHECK_FLOAT32 = False  # SciPy picks the precision of its FFTs itself

try:
    from scipy import signal
except ImportError:  # SciPy is optional: its rules are not registered either
    SAMPLES: dict = {}
else:
    SAMPLES = {
        signal.convolve: [
            S(arr((5,)), arr((3,))),
            S(arr((3, 4)), arr((2, 2)), "same"),
            S(arr((3,)), arr((5,)), "same"),
            S(arr((6,)), arr((3,)), mode="valid", method="direct"),
            S(arr((3,)), arr((5,)), "valid"),
            S(arr((4, 5)), arr((2, 3)), "valid", "fft"),
            S(arr((2, 3)), arr((3, 2)), "full", method="fft"),
        ],
        signal.correlate: [
            S(arr((5,)), arr((3,))),
            S(arr((3, 4)), arr((2, 2)), "same"),
            S(arr((3,)), arr((5,)), "same"),
            S(arr((6,)), arr((3,)), mode="valid", method="direct"),
            S(arr((3,)), arr((5,)), "valid"),
            S(arr((4, 5)), arr((2, 3)), "valid", "fft"),
            S(arr((2, 4)), arr((3, 2)), "same", "direct"),
        ],
    }
