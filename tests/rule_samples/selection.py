"""Samples for values-with-indices along a dimension (srcgrad/rules/selection.py)."""

from srcgrad.rules import selection
from tests.rule_samples import S, arr

CHECK_DUCK = True

SAMPLES = {
    selection.max_with_indices: [S(arr((3, 4)), 1), S(arr((3, 4)), 0, True),
                                 S(arr((2, 3, 2)), -1)],
    selection.min_with_indices: [S(arr((3, 4)), 1), S(arr((3, 4)), 0, True),
                                 S(arr((2, 3, 2)), -2)],
}
