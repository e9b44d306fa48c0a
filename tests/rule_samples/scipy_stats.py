"""Samples for the scipy.stats rules (srcgrad/rules/scipy_stats.py); none without SciPy.

Shape parameters of cdf/logcdf are passed as ints (their derivative raises).
"""

import numpy as np

from tests.rule_samples import S, arr, const, draw, ints, pos, spd

CHECK_FLOAT32 = False  # SciPy's distributions compute in float64

try:
    from scipy import stats
except ImportError:  # SciPy is optional: its rules are not registered either
    SAMPLES: dict = {}
else:
    def _simplex(k: int, n: int | None = None, drop_last: bool = False):
        def make(rng: np.random.Generator) -> np.ndarray:
            p = rng.dirichlet(np.full(k, 3.0), size=n).T if n else rng.dirichlet(np.full(k, 3.0))
            return p[:-1] if drop_last else p
        return draw(make, f"simplex({k}, {n})")

    U = (0.2, 0.8)
    SAMPLES = {
        stats.norm.logpdf: [S(arr((3,)), arr((3,)), pos((3,))), S(arr((2, 3)), loc=0.5),
                            S(arr((3,)), 0.3, scale=pos(()))],
        stats.norm.pdf: [S(arr((3,)), arr(()), pos((3,))), S(arr((3,)))],
        stats.norm.logcdf: [S(arr((3,)), arr((3,)), pos((3,))), S(const([-30.0, 0.0, 5.0]))],
        stats.norm.cdf: [S(arr((3,)), 0.2, pos(()))],
        stats.t.logpdf: [S(arr((3,)), pos((3,), 1, 5), arr((3,)), pos((3,))),
                         S(arr((2, 3)), 3.5, scale=1.5)],
        stats.t.pdf: [S(arr((3,)), pos((3,), 1, 5), 0.1, pos(()))],
        stats.t.logcdf: [S(arr((3,)), 4, arr((3,)), pos((3,)))],
        stats.t.cdf: [S(arr((3,)), ints((3,), 1, 6), 0.2, 1.3)],
        stats.gamma.logpdf: [S(pos((3,), 0.5, 3), pos((3,), 0.5, 4), arr((3,), -0.4, 0.4),
                               pos((3,))), S(pos((2, 3)), 2.5, scale=0.7)],
        stats.gamma.pdf: [S(pos((3,), 0.5, 3), pos((3,), 1, 4), 0.1, pos(()))],
        stats.gamma.logcdf: [S(pos((3,), 0.5, 3), 2, arr((3,), -0.4, 0.4), pos((3,)))],
        stats.gamma.cdf: [S(pos((3,), 0.5, 3), 3, 0.0, 1.5)],
        stats.beta.logpdf: [S(arr((3,), *U), pos((3,), 1, 4), pos((3,), 1, 4), arr((3,), -0.1, 0.1),
                              pos((3,), 1.1, 1.5)), S(arr((2, 3), *U), 2.5, 1.5)],
        stats.beta.pdf: [S(arr((3,), *U), pos((3,), 1, 4), pos((3,), 1, 4))],
        stats.beta.logcdf: [S(arr((3,), *U), 2, 3, arr((3,), -0.1, 0.1), pos((3,), 1.1, 1.5))],
        stats.beta.cdf: [S(arr((3,), *U), 2, 2)],
        stats.poisson.logpmf: [S(ints((3,), 0, 5), pos((3,), 0.5, 4)), S(ints((2, 3), 0, 4), 2.5)],
        stats.poisson.pmf: [S(ints((3,), 0, 5), pos((3,), 0.5, 4))],
        stats.multivariate_normal.logpdf: [
            S(arr((3,)), arr((3,)), spd(3)),
            S(arr((4, 2)), arr((2,)), pos((2,))),
            S(arr((3,)), cov=spd(3)),
            S(arr((5,)), 0.3, 1.7),
        ],
        stats.multivariate_normal.pdf: [S(arr((2, 3)), arr((3,)), spd(3))],
        stats.dirichlet.logpdf: [S(_simplex(3, drop_last=True), pos((3,), 0.5, 3)),
                                 S(_simplex(4, 2, drop_last=True), pos((4,), 0.5, 3))],
        stats.dirichlet.pdf: [S(_simplex(3, drop_last=True), pos((3,), 0.5, 3))],
    }
