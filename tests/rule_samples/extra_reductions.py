"""Samples for the further reductions: NaN variants, quantiles, cumulative sums, trapezoid."""

from __future__ import annotations

import numpy as np

from tests.rule_samples import S, arr, const, draw
from tests.rule_samples.reductions import ZEROS, with_nans

CHECK_DUCK = True

Q = const([0.15, 0.6, 0.92])

SAMPLES = {
    np.nanprod: [S(with_nans((3, 4))), S(with_nans((3, 4)), 1), S(arr((2, 3, 4), 0.5, 1.5), (0, 2)),
                 S(with_nans((3, 4)), 0, keepdims=True)],
    np.nanvar: [S(with_nans((3, 4))), S(with_nans((3, 4)), 1), S(with_nans((3, 4)), 0, ddof=1),
                S(arr((2, 3, 4)), (0, 2), keepdims=True)],
    np.nanstd: [S(with_nans((3, 4))), S(with_nans((3, 4)), -1), S(arr((5,)), ddof=1)],
    np.nancumsum: [S(with_nans((3, 4))), S(with_nans((3, 4)), 1), S(arr((2, 3, 4)), 0)],
    np.nancumprod: [S(with_nans((3, 4))), S(with_nans((3, 4)), 0), S(ZEROS, 1)],
    np.nanmedian: [S(with_nans((3, 4))), S(with_nans((3, 5)), 1), S(arr((2, 3, 4)), (0, 2)),
                   S(with_nans((4, 3)), 0, keepdims=True)],
    np.quantile: [
        S(arr((7,)), 0.3),
        S(arr((3, 5)), 0.45, 1),
        S(arr((3, 5)), Q, 0),
        S(arr((2, 3, 4)), 0.7, (0, 2)),
        S(arr((3, 4)), Q, -1, keepdims=True),
        S(arr((3, 4)), 0.37, None),
    ],
    np.nanquantile: [S(with_nans((3, 5)), 0.4, 1), S(with_nans((4, 3)), Q, 0)],
    np.percentile: [S(arr((7,)), 30.0), S(arr((3, 5)), const([15.0, 60.0]), 1),
                    S(arr((2, 3, 4)), 72.0, (0, 2), keepdims=True)],
    np.nanpercentile: [S(with_nans((3, 5)), 40.0, 1), S(with_nans((3, 5)), const([20.0, 85.0]))],
    np.trapezoid: [
        S(arr((5,))),
        S(arr((5,)), dx=0.5),
        S(arr((3, 5)), axis=0),
        S(arr((5,)), draw(lambda rng: np.cumsum(rng.uniform(0.2, 1.0, 5)), "grid(5)")),
        S(arr((3, 4)), draw(lambda rng: np.cumsum(rng.uniform(0.2, 1.0, 4)), "grid(4)")),
        S(arr((3, 4)), draw(lambda rng: np.cumsum(rng.uniform(0.2, 1.0, 3)), "grid(3)"), axis=0),
        S(arr((3, 4)), draw(lambda rng: np.cumsum(rng.uniform(0.2, 1.0, (3, 4)), 1), "grid(3,4)")),
    ],
    np.ediff1d: [S(arr((5,))), S(arr((2, 3))), S(arr((4,)), to_begin=1.5, to_end=[2.0, 3.0])],
}

if hasattr(np, "cumulative_sum"):
    SAMPLES[np.cumulative_sum] = [
        S(arr((5,))),
        S(arr((3, 4)), axis=1),
        S(arr((3, 4)), axis=0, include_initial=True),
        S(arr((5,)), include_initial=True),
    ]
    SAMPLES[np.cumulative_prod] = [
        S(arr((5,), 0.5, 1.5)),
        S(arr((3, 4)), axis=1),
        S(ZEROS, axis=0, include_initial=True),
        S(arr((4,)), include_initial=True),
    ]

