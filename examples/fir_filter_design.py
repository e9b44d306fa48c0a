"""Design an FIR low-pass filter by fitting its frequency response, with SciPy's optimiser.

The 31 taps ``h`` of a linear-phase filter are fitted so that the magnitude of the
frequency response, ``np.abs(np.fft.rfft(h, 256))``, is 1 in the pass band and 0 in
the stop band (the transition band between them is left free).  The loss is plain
NumPy; ``srcgrad.value_and_grad`` turns it into the ``(loss, gradient)`` pair that
``scipy.optimize.minimize(..., jac=True)`` asks for, through ``numpy.fft``'s rules.

    python examples/fir_filter_design.py
"""

import sys

import numpy as np

import srcgrad

try:
    from scipy.optimize import minimize
except ImportError:  # SciPy is optional: pip install srcgrad[scipy]
    minimize = None

N_TAPS = 31
N_FFT = 256
PASS_EDGE, STOP_EDGE = 0.10, 0.15        # cycles per sample (0.5 is Nyquist)

freqs = np.fft.rfftfreq(N_FFT)
target = np.where(freqs <= PASS_EDGE, 1.0, 0.0)
weight = np.where((freqs <= PASS_EDGE) | (freqs >= STOP_EDGE), 1.0, 0.0)
weight = weight / np.sum(weight)


def taps(half):
    """The symmetric (linear-phase) taps from their first 16 values."""
    return np.concatenate([half, half[-2::-1]])


def response_error(half):
    """Weighted squared error of the magnitude response against the ideal low-pass."""
    response = np.fft.rfft(taps(half), N_FFT)
    return np.sum(weight * (np.abs(response) - target) ** 2)


loss_and_grad = srcgrad.value_and_grad(response_error)


def design(verbose=True):
    """Fit the taps from a short box filter; returns SciPy's result and the loss history."""
    start = np.zeros(N_TAPS // 2 + 1)
    start[-4:] = 1.0 / 7.0                 # a 7-tap moving average, centred
    history = [float(response_error(start))]

    def report(intermediate_result):
        history.append(float(intermediate_result.fun))
        if verbose and len(history) % 10 == 1:
            print(f"  iteration {len(history) - 1:3d}: loss {history[-1]:.3e}")

    if verbose:
        print(f"gradient by the {loss_and_grad.engine} engine; start: loss {history[0]:.3e}")
    result = minimize(loss_and_grad, start, jac=True, method="L-BFGS-B", callback=report,
                      options={"maxiter": 500, "gtol": 1e-10, "ftol": 1e-14})
    return result, history


def band_levels(half):
    """Worst pass-band deviation (linear) and stop-band level (dB) of the designed filter."""
    magnitude = np.abs(np.fft.rfft(taps(half), N_FFT))
    ripple = np.max(np.abs(magnitude[freqs <= PASS_EDGE] - 1.0))
    stop_db = 20 * np.log10(np.max(magnitude[freqs >= STOP_EDGE]))
    return ripple, stop_db


def main():
    if minimize is None:
        print("this example needs SciPy: pip install srcgrad[scipy]")
        return 0
    result, history = design()
    ripple, stop_db = band_levels(result.x)
    print(f"{result.message} after {result.nit} iterations: loss {history[0]:.3e} -> "
          f"{result.fun:.3e}, |gradient| {np.linalg.norm(result.jac):.1e}")
    print(f"pass-band ripple {ripple:.3f}, stop band below {stop_db:.1f} dB")
    print("taps:", np.round(taps(result.x), 4))
    return 0 if result.success and result.fun < 1e-2 * history[0] else 1


if __name__ == "__main__":
    sys.exit(main())
