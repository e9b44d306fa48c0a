"""Samples for the scipy.linalg rules (srcgrad/rules/scipy_linalg.py); none without SciPy."""

import numpy as np

from tests.rule_samples import S, arr, draw, spd
from tests.rule_samples.linalg import well_conditioned

CHECK_FLOAT32 = False  # SciPy's LAPACK wrappers pick their own precision

try:
    from scipy import linalg
except ImportError:  # SciPy is optional: its rules are not registered either
    SAMPLES: dict = {}
else:
    def _factor(lower: bool):
        def make(rng: np.random.Generator):
            a = rng.uniform(-1, 1, (3, 3))
            return linalg.cho_factor(a @ a.T + 3 * np.eye(3), lower=lower)
        return draw(make, f"cho_factor(lower={lower})")

    def _triangular(rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)

    TRI = draw(_triangular, "triangular(3)")
    SAMPLES = {
        linalg.solve: [
            S(well_conditioned(3), arr((3,))),
            S(well_conditioned(3), arr((3, 2)), transposed=True),
            S(spd(3), arr((3,)), assume_a="pos"),
            S(spd(3), arr((3, 2)), True, assume_a="sym"),
        ],
        linalg.inv: [S(well_conditioned(3)), S(spd(3), assume_a="pos", lower=True)],
        linalg.det: [S(well_conditioned(3)), S(arr((2, 2)))],
        linalg.solve_triangular: [
            S(TRI, arr((3,))),
            S(TRI, arr((3, 2)), 1, True),
            S(TRI, arr((3,)), "T", lower=False, unit_diagonal=True),
            S(TRI, arr((3, 2)), trans="C", lower=True),
        ],
        linalg.cholesky: [S(spd(3)), S(spd(3), True)],
        linalg.cho_factor: [S(spd(3)), S(spd(3), lower=True)],
        linalg.cho_solve: [S(_factor(False), arr((3,))), S(_factor(True), arr((3, 2)))],
        linalg.expm: [S(arr((3, 3), -1, 1)), S(arr((2, 2)))],
        linalg.sqrtm: [S(spd(3)), S(spd(2))],
    }
