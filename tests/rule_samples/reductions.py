"""Samples for the reduction rules (srcgrad/rules/reductions.py)."""

from __future__ import annotations

import numpy as np

from tests.rule_samples import S, arr, const, draw, pos

CHECK_DUCK = True

MASK = np.array([[True, False, True], [False, True, True]])


def with_nans(shape: tuple[int, ...]):
    """A random array with a few NaNs, never a whole row or column of them."""

    def make(rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(-2.0, 2.0, size=shape)
        flat = x.reshape(-1)
        flat[:: max(1, shape[-1] + 1)] = np.nan
        return x

    return draw(make, f"with_nans{shape}")


def axis_variants(a):
    """The usual axis/keepdims combinations on a (2, 3, 4) array."""
    return [
        S(a),
        S(a, 1),
        S(a, -1),
        S(a, (0, 2)),
        S(a, axis=(0, -1), keepdims=True),
        S(a, axis=None, keepdims=True),
        S(a, axis=1, keepdims=True),
    ]


ZEROS = const([[1.5, 0.0, 2.0, -0.5], [0.0, 0.0, -1.0, 3.0], [0.7, 1.2, -1.3, 0.9]])

SAMPLES = {
    np.sum: [
        *axis_variants(arr((2, 3, 4))),
        S(arr(())),
        S(arr((5,)), 0),
        S(arr((2, 3)), axis=1, where=MASK),
        S(arr((2, 3)), where=MASK),
        S(arr((2, 3)), 0, keepdims=True, initial=1.5),
    ],
    np.mean: [
        *axis_variants(arr((2, 3, 4))),
        S(arr((4,))),
        S(arr((2, 3)), axis=1, where=MASK),
        S(arr((2, 3)), axis=(0, 1), keepdims=True, where=MASK),
    ],
    np.nansum: [
        S(with_nans((3, 4))),
        S(with_nans((3, 4)), 1),
        S(with_nans((3, 4)), 0, keepdims=True),
    ],
    np.nanmean: [
        S(with_nans((3, 4))),
        S(with_nans((3, 4)), 1),
        S(with_nans((3, 4)), -2, keepdims=True),
    ],
    np.average: [
        S(arr((3, 4))),
        S(arr((3, 4)), 1),
        S(arr((3, 4)), 1, pos((4,))),
        S(arr((3, 4)), 0, pos((3,)), keepdims=True),
        S(arr((3, 4)), None, pos((3, 4))),
        S(arr((2, 3, 4)), (0, 2), pos((2, 4))),
        S(arr((2, 3, 4)), (2, 0), pos((4, 2))),
        S(arr((2, 3, 4)), -1, pos((2, 3, 4)), keepdims=True),
    ],
    np.trace: [
        S(arr((3, 3))),
        S(arr((3, 4)), 1),
        S(arr((4, 3)), -2),
        S(arr((2, 3, 4)), 0, 1, 2),
        S(arr((4, 3, 2)), 1, 2, 0),
    ],
    np.prod: [
        *axis_variants(arr((2, 3, 4), 0.5, 1.5)),
        S(arr((3, 4))),
        S(ZEROS),
        S(ZEROS, 0),
        S(ZEROS, 1, keepdims=True),
        S(arr((2, 3)), 1, initial=2.0),
    ],
    np.max: [*axis_variants(arr((2, 3, 4))), S(arr((5,)))],
    np.min: [*axis_variants(arr((2, 3, 4))), S(arr((5,)), initial=5.0)],
    np.nanmax: [S(with_nans((3, 4))), S(with_nans((3, 4)), 1), S(arr((2, 3, 4)), (0, 2))],
    np.nanmin: [S(with_nans((3, 4))), S(with_nans((3, 4)), 0, keepdims=True)],
    np.ptp: [S(arr((3, 4))), S(arr((3, 4)), 1), S(arr((2, 3, 4)), (0, -1), keepdims=True)],
    np.median: [
        S(arr((5,))),
        S(arr((6,))),
        S(arr((3, 4)), 1),
        S(arr((3, 5)), 0),
        S(arr((2, 3, 4)), (0, 2)),
        S(arr((2, 3, 4)), -1, keepdims=True),
        S(arr((3, 4)), keepdims=True),
    ],
    np.var: [*axis_variants(arr((2, 3, 4))), S(arr((5,)), ddof=1), S(arr((3, 4)), 0, ddof=1)],
    np.std: [*axis_variants(arr((2, 3, 4))), S(arr((5,)), ddof=1), S(arr((3, 4)), -1, ddof=1)],
    np.cumsum: [S(arr((5,))), S(arr((3, 4))), S(arr((3, 4)), 0), S(arr((2, 3, 4)), -1)],
    np.cumprod: [
        S(arr((5,))),
        S(arr((3, 4)), 1),
        S(arr((2, 3, 4)), 0),
        S(ZEROS),
        S(ZEROS, 0),
        S(ZEROS, -1),
        S(const([2.0, 0.0, 1.5, 0.0, 3.0, -1.0])),
    ],
    np.diff: [
        S(arr((5,))),
        S(arr((6,)), 3),
        S(arr((3, 5)), 2),
        S(arr((3, 4)), 1, 0),
        S(arr((3, 4)), 1, -1, prepend=np.zeros((3, 1)), append=2.0),
        S(arr((4, 3)), 2, 0, prepend=1.5),
    ],
}

# np.amax and np.amin share np.max's and np.min's rules.
SAMPLES[np.amax] = SAMPLES[np.max][:2]
SAMPLES[np.amin] = SAMPLES[np.min][:2]
