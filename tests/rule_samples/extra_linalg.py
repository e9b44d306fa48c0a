"""Samples for the further products, linear algebra, polynomials, interpolation and sampling."""

from __future__ import annotations

import numpy as np

from tests.rule_samples import S, arr, const, draw, ints, pos
from tests.rule_samples.linalg import NAMED, separated_singular, well_conditioned

CHECK_DUCK = True

GRID = const([-1.0, -0.3, 0.4, 1.2, 2.0])

SAMPLES = {
    np.linalg.multi_dot: [
        S([arr((2, 3)), arr((3, 4))]),
        S([arr((3,)), arr((3, 4)), arr((4, 2))]),
        S([arr((2, 3)), arr((3, 4)), arr((4,))]),
        S([arr((3,)), arr((3, 2)), arr((2, 2)), arr((2,))]),
    ],
    np.linalg.cond: [S(well_conditioned(3)).opts(**NAMED), S(well_conditioned(3), 2).opts(**NAMED),
                     S(well_conditioned(3), -2).opts(**NAMED), S(well_conditioned(3), "fro"),
                     S(well_conditioned(3), 1), S(well_conditioned(3), np.inf),
                     S(well_conditioned(2, (2,))).opts(**NAMED)],
    np.linalg.lstsq: [
        S(separated_singular(5, 3), arr((5,))).opts(**NAMED),
        S(separated_singular(5, 3), arr((5, 2))).opts(**NAMED),
        S(separated_singular(3, 3), arr((3,))).opts(**NAMED),
        S(separated_singular(2, 4), arr((2,))).opts(**NAMED),
    ],
    np.linalg.tensorsolve: [
        S(draw(lambda rng: (rng.uniform(-1, 1, (6, 6)) + 6 * np.eye(6)).reshape(2, 3, 6),
               "tensor(2,3,6)"), arr((2, 3))),
        S(draw(lambda rng: (rng.uniform(-1, 1, (6, 6)) + 6 * np.eye(6)).reshape(6, 2, 3),
               "tensor(6,2,3)"), arr((6,))),
        S(draw(lambda rng: np.moveaxis((rng.uniform(-1, 1, (6, 6)) + 6 * np.eye(6))
                                       .reshape(6, 2, 3), 1, 0), "tensor(2,6,3)"),
          arr((6,)), (0,)),
    ],
    np.linalg.tensorinv: [
        S(draw(lambda rng: (rng.uniform(-1, 1, (6, 6)) + 6 * np.eye(6)).reshape(6, 2, 3),
               "tensor(6,2,3)"), 1),
        S(draw(lambda rng: (rng.uniform(-1, 1, (4, 4)) + 4 * np.eye(4)).reshape(2, 2, 4),
               "tensor(2,2,4)")),
    ],
    np.convolve: [S(arr((5,)), arr((3,))), S(arr((3,)), arr((5,))),
                  S(arr((5,)), arr((3,)), "same"), S(arr((4,)), arr((6,)), "same"),
                  S(arr((6,)), arr((3,)), "valid"), S(arr((3,)), arr((4,)), mode="valid")],
    np.correlate: [S(arr((5,)), arr((3,))), S(arr((3,)), arr((5,))),
                   S(arr((5,)), arr((3,)), "same"), S(arr((4,)), arr((6,)), "same"),
                   S(arr((5,)), arr((2,)), "full")],
    np.polyval: [S(arr((4,)), arr((3,))), S(arr((3,)), arr((2, 3))), S(arr((1,)), arr((3,))),
                 S(arr((3,)), 0.7)],
    np.polyadd: [S(arr((3,)), arr((5,))), S(arr((4,)), arr((2,)))],
    np.polysub: [S(arr((3,)), arr((5,))), S(arr((4,)), arr((4,)))],
    np.polymul: [S(arr((3,)), arr((2,))), S(arr((1,)), arr((4,)))],
    np.polyder: [S(arr((5,))), S(arr((5,)), 2), S(arr((3,)), 3)],
    np.polyint: [S(arr((4,))), S(arr((3,)), 2), S(arr((3,)), 1, 1.5)],
    np.vander: [S(arr((3,))), S(arr((4,)), 3), S(arr((3,)), increasing=True)],
    np.interp: [
        S(arr((6,), -1.5, 2.5), GRID, arr((5,))),
        S(arr((2, 3), -0.9, 1.9), GRID, arr((5,)), -3.0, 4.0),
        S(0.3, GRID, arr((5,))),
    ],
    np.bincount: [S(ints((6,), 0, 4), arr((6,))), S(ints((5,), 0, 3), arr((5,)), 6)],
    np.linspace: [
        S(arr(()), arr(()), 5).opts(float32=False),
        S(arr((3,)), 2.5, 4),
        S(-1.0, arr((2,)), 3, endpoint=False),
        S(arr((2,)), arr((2,)), 4, axis=1),
        S(arr((2, 3)), arr((3,)), 3, axis=-1),
        # the samples and the step
        S(arr((3,)), 2.5, 4, retstep=True),
        S(arr((2,)), arr((2,)), 5, False, True, axis=1),
    ],
    np.logspace: [S(arr(()), arr(()), 5), S(arr((2,)), 1.5, 3, base=2.0),
                  S(0.5, arr((3,)), 4, axis=1)],
    np.geomspace: [S(pos(()), pos(()), 5), S(pos((2,)), 3.0, 4),
                   S(0.7, pos((3,)), 3, False, axis=1)],
    np.cov: [
        S(arr((3, 6))),
        S(arr((6,))),
        S(arr((6, 2)), rowvar=False),
        S(arr((2, 5)), arr((5,))),
        S(arr((2, 5)), bias=True),
        S(arr((2, 5)), ddof=0),
        S(arr((2, 5)), fweights=np.array([1, 2, 1, 3, 1])),
        S(arr((2, 5)), aweights=np.array([0.5, 1.0, 2.0, 1.0, 0.3])),
        S(arr((2, 5)), fweights=np.array([1, 2, 1, 3, 1]), aweights=np.array([0.5, 1, 2, 1, 3])),
        S(arr((4, 1)), arr((1, 4)), rowvar=False),
        S(arr((4, 2)), arr((4,)), rowvar=False),
    ],
}

if hasattr(np.linalg, "vecdot"):
    SAMPLES[np.linalg.vecdot] = [S(arr((2, 3)), arr((2, 3))), S(arr((2, 3)), arr((3,))),
                                 S(arr((3, 2)), arr((3, 2)), axis=0), S(arr((4,)), arr((4,)))]
if hasattr(np, "vecdot"):
    SAMPLES[np.vecdot] = [S(arr((2, 3)), arr((2, 3))), S(arr((2, 3)), arr((3,))),
                          S(arr((3, 2)), arr((3, 2)), axis=0)]
if hasattr(np, "matvec"):
    SAMPLES[np.matvec] = [S(arr((2, 3)), arr((3,))), S(arr((4, 2, 3)), arr((3,))),
                          S(arr((2, 3)), arr((4, 3)))]
    SAMPLES[np.vecmat] = [S(arr((2,)), arr((2, 3))), S(arr((4, 2)), arr((2, 3))),
                          S(arr((2,)), arr((4, 2, 3)))]
if hasattr(np.linalg, "trace"):
    SAMPLES[np.linalg.trace] = [S(arr((3, 3))), S(arr((2, 3, 4)), offset=1),
                                S(arr((3, 4)), offset=-1)]
if hasattr(np.linalg, "cross"):
    SAMPLES[np.linalg.cross] = [S(arr((3,)), arr((3,))), S(arr((4, 3)), arr((3,))),
                                S(arr((3, 2)), arr((3, 2)), axis=0)]
if hasattr(np.linalg, "vector_norm"):
    SAMPLES[np.linalg.vector_norm] = [
        S(arr((5,))),
        S(arr((2, 3))),
        S(arr((2, 3)), axis=1),
        S(arr((2, 3, 4)), axis=(0, 2), keepdims=True),
        S(arr((2, 3)), ord=1),
        S(arr((2, 3)), axis=0, ord=np.inf),
        S(arr((4,)), ord=3),
        S(arr((2, 3)), keepdims=True, ord=-np.inf),
    ]
    SAMPLES[np.linalg.matrix_norm] = [
        S(arr((3, 4))),
        S(arr((2, 3, 4)), keepdims=True),
        S(arr((3, 4)), ord="nuc").opts(**NAMED),
        S(arr((2, 3, 4)), ord=2).opts(**NAMED),
        S(arr((3, 4)), ord=1),
        S(arr((2, 3, 3)), ord=-np.inf, keepdims=True),
    ]

SAMPLES.update({
    np.corrcoef: [S(arr((3, 6))), S(arr((6,)), arr((6,))), S(arr((5, 2)), rowvar=False),
                  S(arr((2, 5)), arr((5,)))],
    np.gradient: [
        S(arr((5,))),
        S(arr((5,)), 0.5),
        S(arr((5,)), draw(lambda rng: np.cumsum(rng.uniform(0.2, 1.0, 5)), "grid(5)")),
        S(arr((4, 3))),
        S(arr((4, 3)), 2.0, 0.5),
        S(arr((4, 3)), axis=1),
        S(arr((5,)), edge_order=2),
        S(arr((3, 4, 2)), axis=(0, 2)),
    ],
    np.histogram: [
        S(arr((12,)), 4, None, None, pos((12,))),
        S(arr((12,)), GRID, None, None, pos((12,))),
        S(arr((3, 4)), 3, (-1.0, 1.0), None, pos((3, 4))),
        S(arr((12,)), 4, None, True, pos((12,))),
    ],
})

SAMPLES.update({
    np.polyfit: [
        S(arr((6,)), arr((6,)), 2),
        S(arr((5,)), arr((5, 2)), 1),
        S(arr((6,)), arr((6,)), 3, None, False, pos((6,))),
        S(arr((6,)), arr((6, 2)), 2, None, False, pos((6,))),
    ],
    np.poly: [S(arr((3,))), S(arr((1,))), S(arr((4,)))],
})

SAMPLES.update({
    np.histogramdd: [
        S(arr((10, 2)), 3, None, None, pos((10,))),
        S(arr((10, 3)), (2, 3, 2), None, True, pos((10,))),
        S(arr((8, 2)), 2, [(-1.0, 1.0), (-1.5, 1.5)], None, pos((8,))),
    ],
    np.histogram2d: [
        S(arr((10,)), arr((10,)), 3, None, None, pos((10,))),
        S(arr((10,)), arr((10,)), (2, 4), None, True, pos((10,))),
    ],
})
