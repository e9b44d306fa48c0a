"""Samples for the further shape, joining and selection rules (append, insert, choose, ...)."""

from __future__ import annotations

import numpy as np

from tests.rule_samples import S, arr, bools, ints

CHECK_DUCK = True

CONDS = [np.array([True, False, False, True]), np.array([False, True, False, True])]

SAMPLES = {
    np.append: [
        S(arr((2, 3)), arr((4,))),
        S(arr((2, 3)), arr((1, 3)), 0),
        S(arr((2, 3)), arr((2, 2)), axis=1),
        S(arr((3,)), 1.5),
    ],
    np.insert: [
        S(arr((5,)), 2, 1.5),
        S(arr((5,)), [1, 3], arr((2,))),
        S(arr((2, 3)), 1, arr((3,)), 0),
        S(arr((2, 3)), [0, 2], arr((2, 2)), axis=1),
        S(arr((2, 3)), 2, arr((2,)), 1),
        S(arr((2, 3)), 4, arr(())),
    ],
    np.delete: [S(arr((5,)), 2), S(arr((5,)), [0, 3]), S(arr((3, 4)), 1, 0),
                S(arr((3, 4)), slice(0, 4, 2), axis=1), S(arr((2, 3)), [1, 4])],
    np.column_stack: [S([arr((3,)), arr((3,))]), S([arr((3, 2)), arr((3,))])],
    np.dstack: [S([arr((3,)), arr((3,))]), S([arr((2, 3)), arr((2, 3, 2))]), S([arr(()), arr(())])],
    np.hsplit: [S(arr((2, 4)), 2), S(arr((6,)), [1, 4])],
    np.vsplit: [S(arr((4, 3)), 2), S(arr((4, 3, 2)), [1])],
    np.dsplit: [S(arr((2, 2, 4)), 2)],
    np.rollaxis: [S(arr((2, 3, 4)), 2), S(arr((2, 3, 4)), 0, 3), S(arr((2, 3, 4)), -1, 1),
                  S(arr((2, 3, 4)), 1, -1)],
    np.resize: [S(arr((3,)), (2, 4)), S(arr((2, 3)), 4), S(arr((2, 2)), (3, 3))],
    np.diagflat: [S(arr((3,))), S(arr((2, 2)), 1), S(arr((3,)), -2)],
    np.compress: [S(np.array([True, False, True]), arr((3, 2)), 0),
                  S(np.array([False, True]), arr((3, 2)), axis=1),
                  S(np.array([True, True, False, True]), arr((2, 3)))],
    np.extract: [S(bools((3, 4)), arr((3, 4))), S(np.array([True, False, True]), arr((3,)))],
    np.choose: [S(ints((2, 3), 0, 3), [arr((2, 3)), arr((2, 3)), arr((3,))]),
                S(ints((4,), 0, 2), [arr((4,)), 1.5]),
                S(ints((4,), -1, 5), [arr((4,)), arr((4,)), arr((4,))], mode="wrap"),
                S(ints((4,), -1, 5), [arr((4,)), arr((4,))], mode="clip")],
    np.select: [S(CONDS, [arr((4,)), arr((4,))]),
                S(CONDS, [arr((4,)), arr((2, 4))], arr((4,))),
                S(CONDS, [arr((4,)), arr(())], 1.5)],
    np.partition: [S(arr((6,)), 2), S(arr((3, 5)), 1), S(arr((3, 5)), (0, 2), 0),
                   S(arr((3, 4)), 3, None)],
    np.full: [S((2, 3), 1.5), S((2, 3), arr((3,))), S((3,), arr(()), np.float64)],
    np.meshgrid: [S(arr((3,)), arr((2,))), S(arr((3,)), arr((2,)), indexing="ij"),
                  S(arr((3,)), arr((2,)), arr((4,))), S(arr((2,)), arr((3,)), sparse=True)],
    np.broadcast_arrays: [S(arr((2, 3)), arr((3,))), S(arr((2, 1)), arr((1, 3)), 1.5)],
}

if hasattr(np, "unstack"):
    SAMPLES[np.unstack] = [S(arr((3, 2))), S(arr((2, 3, 2)), axis=1)]
if hasattr(np.linalg, "diagonal"):
    SAMPLES[np.linalg.diagonal] = [S(arr((3, 4))), S(arr((2, 3, 3)), offset=1),
                                   S(arr((3, 4)), offset=-1)]
if hasattr(np, "row_stack") and np.row_stack is not np.vstack:
    pass  # shares np.vstack's rule (and its samples)

if hasattr(np, "astype"):
    SAMPLES[np.astype] = [S(arr((2, 3)), np.float64), S(arr((3,)), "float64", copy=False)]
