"""Samples for the shape and indexing rules (srcgrad/rules/shape.py)."""

from __future__ import annotations

import operator

import numpy as np

from srcgrad.rules.shape import astype, in_place, setitem
from tests.rule_samples import S, arr, ints

CHECK_DUCK = True

ROWS = np.array([True, False, True, True])
CELLS = np.array([[True, False, True], [False, False, True], [True, True, False],
                  [False, True, True]])

SAMPLES = {
    np.reshape: [
        S(arr((2, 3)), (3, 2)),
        S(arr((2, 3, 4)), (-1,)),
        S(arr((6,)), (2, 3), order="F"),
        S(arr((2, 3)), shape=(6, 1)),
    ],
    np.ravel: [S(arr((2, 3))), S(arr((2, 3)), "F"), S(arr(()))],
    np.expand_dims: [S(arr((2, 3)), 0), S(arr((2, 3)), (0, -1)), S(arr(()), 0)],
    np.squeeze: [S(arr((1, 3, 1))), S(arr((1, 3, 1)), 0), S(arr((2, 1, 3)), axis=(1,))],
    np.atleast_1d: [S(arr(())), S(arr((3,)))],
    np.atleast_2d: [S(arr(())), S(arr((3,))), S(arr((2, 3)))],
    np.atleast_3d: [S(arr((3,))), S(arr((2, 3)))],
    np.broadcast_to: [
        S(arr((3,)), (2, 3)),
        S(arr((2, 1)), (2, 3)),
        S(arr(()), (2, 2)),
        S(arr((1, 3)), (4, 2, 3)),
    ],
    np.copy: [S(arr((2, 3))), S(arr(()))],
    np.transpose: [
        S(arr((2, 3))),
        S(arr((2, 3, 4)), (1, 2, 0)),
        S(arr((2, 3, 4)), (-1, 0, 1)),
        S(arr((2, 3, 4)), axes=(2, 0, 1)),
    ],
    np.swapaxes: [S(arr((2, 3, 4)), 0, 2), S(arr((2, 3)), -1, 0)],
    np.moveaxis: [S(arr((2, 3, 4)), 0, -1), S(arr((2, 3, 4)), (0, 1), (2, 0))],
    np.flip: [S(arr((2, 3))), S(arr((2, 3)), 0), S(arr((2, 3, 4)), (0, 2))],
    np.fliplr: [S(arr((2, 3))), S(arr((2, 3, 2)))],
    np.flipud: [S(arr((2, 3))), S(arr((4,)))],
    np.rot90: [S(arr((2, 3))), S(arr((2, 3)), 2), S(arr((2, 3)), 3), S(arr((2, 3, 4)), -1, (1, 2))],
    np.roll: [
        S(arr((5,)), 2),
        S(arr((2, 3)), 1),
        S(arr((2, 3)), -1, 1),
        S(arr((2, 3, 4)), (1, 2), (0, 2)),
    ],
    np.concatenate: [
        S([arr((2, 3)), arr((1, 3))]),
        S([arr((2, 3)), arr((2, 1)), arr((2, 2))], 1),
        S([arr((2, 3)), arr((2, 2))], axis=-1),
        S([arr((2, 3)), arr((4,))], axis=None),
    ],
    np.stack: [
        S([arr((2, 3)), arr((2, 3))]),
        S([arr((2, 3)), arr((2, 3)), arr((2, 3))], 1),
        S([arr((3,)), arr((3,))], axis=-1),
        S([arr(()), arr(())]),
    ],
    np.hstack: [
        S([arr((3,)), arr((2,))]),
        S([arr((2, 3)), arr((2, 1))]),
        S([arr(()), arr((2,))]),
    ],
    np.vstack: [
        S([arr((3,)), arr((3,))]),
        S([arr((2, 3)), arr((3,))]),
        S([arr((1, 2)), arr((2, 2))]),
    ],
    np.split: [
        S(arr((6,)), 3),
        S(arr((4, 3)), 2, 0),
        S(arr((3, 4)), [2], 1),
        S(arr((3, 6)), 3, axis=-1),
    ],
    np.array_split: [S(arr((6,)), 2), S(arr((4, 6)), 3, 1)],
    np.tile: [
        S(arr((3,)), 2),
        S(arr((2, 3)), (2, 1)),
        S(arr((3,)), (2, 2)),
        S(arr((2, 1, 3)), (2,)),
    ],
    np.repeat: [
        S(arr((3,)), 2),
        S(arr((2, 3)), 2, 1),
        S(arr((2, 3)), [1, 0, 2], 1),
        S(arr((2, 3)), 3),
        S(arr((2, 3)), np.array([2, 1]), axis=0).opts(
            duck=False, note="np.repeat does not dispatch on its repeats"),
        S(arr((2, 2)), [1, 3, 0, 2]),
    ],
    np.pad: [
        S(arr((3,)), 1),
        S(arr((2, 3)), ((1, 0), (2, 1))),
        S(arr((2, 3)), 1, "constant", constant_values=2.0),
        S(arr((4,)), (2, 3), "reflect"),
        S(arr((2, 3)), 1, "edge"),
        S(arr((3, 3)), ((1, 2), (2, 0)), "wrap"),
        S(arr((4,)), 2, "symmetric"),
    ],
    np.triu: [S(arr((3, 4))), S(arr((3, 4)), 1), S(arr((2, 3, 3)), -1)],
    np.tril: [S(arr((3, 4))), S(arr((3, 4)), -1), S(arr((2, 3, 3)), 1)],
    np.diag: [
        S(arr((3,))),
        S(arr((3,)), 1),
        S(arr((3, 4))),
        S(arr((3, 4)), -1),
        S(arr((4, 3)), 2),
    ],
    np.diagonal: [
        S(arr((3, 4))),
        S(arr((3, 4)), 1),
        S(arr((2, 3, 4)), 0, 1, 2),
        S(arr((4, 3, 2)), -1, 2, 0),
        S(arr((3, 3, 2)), 0, 0, 1),
    ],
    np.take: [
        S(arr((5,)), ints((4,), 0, 5)),
        S(arr((3, 4)), ints((2, 3), 0, 4), 1),
        S(arr((3, 4)), np.array([0, 0, 2]), 0),
        S(arr((3, 4)), 5),
        S(arr((3, 4)), np.array([-1, 7]), 1, mode="wrap"),
        S(arr((3, 4)), np.array([-2, 9]), axis=0, mode="clip"),
    ],
    np.take_along_axis: [
        S(arr((3, 4)), ints((3, 2), 0, 4), 1),
        S(arr((3, 4)), ints((2, 4), 0, 3), 0),
        S(arr((3, 4)), ints((1, 4), 0, 3), axis=0),
        S(arr((2, 3)), ints((7,), 0, 6), None),
    ],
    np.sort: [S(arr((5,))), S(arr((3, 4)), 0), S(arr((3, 4))), S(arr((3, 4)), None)],
    # distinct random values: np.unique is then a sort (ties are not differentiable)
    np.unique: [S(arr((5,))), S(arr((2, 3)))],
    operator.getitem: [
        S(arr((4, 3)), 1),
        S(arr((4, 3)), -1),
        S(arr((4, 3)), slice(1, 3)),
        S(arr((4, 3)), slice(None, None, -2)),
        S(arr((4, 3)), None),
        S(arr((4, 3)), Ellipsis),
        S(arr((4, 3)), (slice(None), 0)),
        S(arr((4, 3, 2)), (Ellipsis, 1)),
        S(arr((4, 3)), (0, None, slice(None, None, -1))),
        S(arr((4, 3)), (-2, 1)),
        S(arr((4, 3)), np.array([0, 2, 0])),
        S(arr((4, 3)), (np.array([0, 0, 3]), np.array([1, 1, 2]))),
        S(arr((4, 3)), [1, 1]),
        S(arr((4, 3)), ROWS),
        S(arr((4, 3)), CELLS),
        S(arr((4, 3)), (slice(1, None), np.array([2, 0, 2]))),
    ],
    setitem: [
        S(arr((4, 3)), 1, arr((3,))),
        S(arr((4, 3)), (slice(None), 0), arr((4,))),
        S(arr((4, 3)), slice(1, 3), arr((1, 3))),
        S(arr((4, 3)), np.array([0, 2]), arr((2, 3))),
        S(arr((4, 3)), CELLS, 1.5),
        S(arr((4, 3)), (Ellipsis, -1), arr(())),
    ],
    astype: [S(arr((3,)), np.float64), S(arr((2, 3)), "float64")],
    # (the old value gives its dtype and shape: a complex one keeps a complex sum)
    in_place: [S(arr((3,)), np.zeros(3), "+="), S(arr((2, 3)), np.ones((2, 3)), "*="),
               S(arr(()), 0.5, "-="), S(arr((3,)), np.array([1 + 1j, 2.0, 3j]), "/=")],
}
