"""Call forms beyond the plain ones, for rules that have samples elsewhere.

An array passed where a primitive takes a sequence of arrays (its items are
its rows), and reductions of a single number.  Kept in their own module, after
the families' modules, so the engine tests (which run each rule's first cases)
keep running the plain forms.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.shape import astype
from tests.rule_samples import S, arr, ints, num

CHECK_DUCK = True

_CONDS = [np.array([True, False, False, True]), np.array([False, True, False, True])]

SAMPLES = {
    # arrays as sequences of their rows
    np.concatenate: [S(arr((2, 3))), S(arr((3, 2, 2)), 1), S(arr((2, 3)), axis=None)],
    np.stack: [S(arr((2, 3))), S(arr((3, 2)), axis=-1)],
    np.hstack: [S(arr((2, 3))), S(arr((3,)))],
    np.vstack: [S(arr((2, 3))), S(arr((3,))), S(arr((2, 2, 3)))],
    np.column_stack: [S(arr((2, 3))), S(arr((3,)))],
    np.dstack: [S(arr((2, 3))), S(arr((2, 3, 2)))],
    np.linalg.multi_dot: [S(arr((3, 2, 2)))],
    np.choose: [S(ints((2, 3), 0, 3), arr((3, 2, 3)))],
    np.select: [S(_CONDS, arr((2, 4)))],
    sum: [S(arr((3, 4))), S(arr((3,)), num())],
    # einsum's sublist form: operand k is argument 2 k, the output sublist is optional
    np.einsum: [
        S(arr((2, 3)), [0, 1], [1, 0]),
        S(arr((2, 3)), [0, 1]),
        S(arr((2, 3)), [1, 0]),
        S(arr((2, 3)), [30, 1]),
        S(arr((3, 3)), [0, 0]),
        S(arr((2, 3)), [0, 1], arr((3, 4)), [1, 2]),
        S(arr((2, 3)), [0, 1], arr((3, 4)), [1, 2], [2, 0]),
        S(arr((2, 3)), [0, 1], arr((3,)), [1], arr((2,)), [0], []),
        S(arr((2, 2, 3)), [Ellipsis, 1], arr((3,)), [1], [Ellipsis]),
        S(arr((4, 2, 3)), [Ellipsis, 0, 1], arr((3, 2)), [1, 2], [Ellipsis, 0, 2]),
        S(arr((2, 3)), [Ellipsis, 1], arr((3,)), [1]),
        S("ij,jk->ik", arr((2, 3)), arr((3, 4)), optimize=True),
    ],
    # np.array of arrays and numbers, nested, cast, with leading axes (not on the tape's
    # Tensors: np.array has no NumPy dispatch, the tape refuses it)
    # nested lists of blocks: depth 1 and 2, items promoted by leading axes, numbers, a 3-D
    # result from 2-deep lists, an array alone
    np.block: [
        S([arr((2,)), arr((3,)), num()]),
        S([[arr((2, 2)), arr((2, 3))], [arr((1, 5))]]),
        S([[arr((2,)), arr((1, 2))], [arr((3, 4))]]),
        S([[arr((2, 1, 2)), arr((2, 1, 3))], [arr((2, 2, 5))]]),
        S([[num(), arr((1,))], [arr((2,))]]),
        S(arr((2, 3))),
    ],
    np.array: [sample.opts(duck=False) for sample in (
        S([arr((2, 3)), arr((2, 3))]),
        S([num(), num(), 1.5]),
        S(arr((2, 3))),
        S(arr(())),
        S([[arr(()), arr(())], [arr(()), num()]]),
        S((arr((2,)), arr((2,))), ndmin=3),
        S([arr((3,)), arr((3,))], np.float64),
        S([arr((3,)), arr((3,))], np.int64),
    )],
    # casts to integers and booleans are piecewise constant
    astype: [S(arr((2, 3)), np.int64), S(arr((3,)), np.bool_), S(arr((3,)), "int32")],
    # one number: a spread of zero, whose derivative is zero
    np.std: [S(arr(())), S(num()), S(arr((1, 3)), 0), S(arr((2, 1)), axis=1, keepdims=True)],
    np.var: [S(arr(())), S(arr((1, 3)), axis=0)],
}
if hasattr(np, "astype"):
    SAMPLES[np.astype] = [S(arr((2, 3)), np.int16), S(arr(()), bool)]
