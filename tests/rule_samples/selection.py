"""Samples for values-with-indices along a dimension (srcgrad/rules/selection.py)."""

import numpy as np

from srcgrad.rules import selection
from tests.rule_samples import S, arr

CHECK_DUCK = True

SAMPLES = {
    selection.max_with_indices: [S(arr((3, 4)), 1), S(arr((3, 4)), 0, True),
                                 S(arr((2, 3, 2)), -1)],
    selection.min_with_indices: [S(arr((3, 4)), 1), S(arr((3, 4)), 0, True),
                                 S(arr((2, 3, 2)), -2)],
    selection.sort_with_indices: [S(arr((3, 4)), 1), S(arr((3, 4)), 0, True),
                                  S(arr((2, 3, 2)))],
    # a repeated index: both source rows add into row 0
    selection.index_add: [S(arr((4, 3)), 0, np.array([0, 2, 0]), arr((3, 3))),
                          S(arr((2, 5)), 1, np.array([4, 1]), arr((2, 2)), 2.5)],
}
