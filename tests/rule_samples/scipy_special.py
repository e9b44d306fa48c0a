"""Samples for the scipy.special rules (srcgrad/rules/scipy_special.py); none without SciPy."""

from tests.rule_samples import S, arr, const, ints, pos, unit

CHECK_FLOAT32 = True

try:
    from scipy import special
except ImportError:  # SciPy is optional: its rules are not registered either
    SAMPLES: dict = {}
else:
    SAMPLES = {
        special.gammaln: [S(pos((3,), 0.3, 5.0)), S(pos((2, 2)))],
        special.gamma: [S(pos((3,), 0.5, 3.0)), S(arr((2,), -2.7, -2.2))],
        special.digamma: [S(pos((3,), 0.3, 4.0)), S(pos((2, 2)))],
        special.polygamma: [S(1, pos((3,), 0.5, 3.0)), S(ints((3,), 0, 3), pos((3,)))],
        special.beta: [S(pos((3,)), pos((3,))), S(pos((2, 3)), 1.5)],
        special.betaln: [S(pos((3,)), pos((2, 3))), S(2.5, pos((3,)))],
        special.erf: [S(arr((3,))), S(arr((2, 2)))],
        special.erfc: [S(arr((3,)))],
        special.erfinv: [S(unit((3,))), S(unit((2, 2)))],
        special.erfcinv: [S(pos((3,), 0.1, 1.9))],
        special.ndtr: [S(arr((3,), -3, 3))],
        special.log_ndtr: [S(arr((3,), -3, 3)), S(const([-30.0, -5.0, 8.0]))],
        special.ndtri: [S(pos((3,), 0.05, 0.95))],
        special.expit: [S(arr((3,), -5, 5))],
        special.logit: [S(pos((3,), 0.05, 0.95))],
        special.i0: [S(arr((3,), -3, 3))],
        special.i1: [S(arr((3,), -3, 3)), S(const([0.0, 1.0]))],
        special.i0e: [S(arr((3,), -3, 3))],
        special.i1e: [S(arr((3,), -3, 3))],
        special.jv: [S(2, pos((3,), 0.5, 5.0)), S(ints((3,), 0, 3), arr((3,), -4, 4))],
        special.yv: [S(1, pos((3,), 0.5, 5.0))],
        special.iv: [S(2, arr((3,), -3, 3))],
        special.ive: [S(1, arr((3,), -3, 3))],
        special.xlogy: [S(arr((3,)), pos((3,))), S(const([0.0, 1.5]), pos((2,))),
                        S(arr((2, 3)), pos((3,)))],
        special.xlog1py: [S(arr((3,)), pos((3,))), S(const([0.0, 1.5]), arr((2,), -0.5, 1))],
        special.rel_entr: [S(pos((3,)), pos((3,))), S(pos((2, 3)), pos((3,)))],
        special.entr: [S(pos((3,)))],
        special.logsumexp: [
            S(arr((4,))),
            S(arr((2, 3)), axis=1),
            S(arr((2, 3)), 0, pos((2, 3)), True),
            S(arr((2, 3)), b=pos((3,))),
            S(arr((2, 3)), axis=(0, 1), keepdims=True),
            S(arr((3,), 500, 502)),
        ],
        special.softmax: [S(arr((4,))), S(arr((2, 3))), S(arr((2, 3)), axis=1)],
        special.log_softmax: [S(arr((4,))), S(arr((2, 3)), axis=0), S(arr((2, 3)))],
    }
    from srcgrad.rules import scipy_special

    SAMPLES[scipy_special.polygamma] = [S(2, pos((3,), 0.5, 3.0))]
