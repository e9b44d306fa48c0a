"""Samples for the neural-network primitives (srcgrad/rules/nn.py)."""

from srcgrad.rules import nn
from tests.rule_samples import S, arr, const

CHECK_FLOAT32 = True
CHECK_DUCK = True

SAMPLES = {
    nn.sigmoid: [S(arr((3,))), S(arr((2, 3), -6, 6)), S(arr(()))],
    nn.relu: [S(arr((3,))), S(arr((2, 3)))],
    nn.softplus: [S(arr((3,))), S(arr((2, 3), -6, 6)), S(const([-50.0, 0.0, 50.0]))],
    nn.softmax: [
        S(arr((4,))),
        S(arr((2, 3))),
        S(arr((2, 3)), axis=0),
        S(arr((2, 3, 2)), axis=1),
        S(arr((2, 3)), axis=None),
        S(arr((2, 3), 100, 104)),
    ],
    nn.log_softmax: [
        S(arr((4,))),
        S(arr((2, 3))),
        S(arr((2, 3)), axis=0),
        S(arr((2, 3, 2)), axis=(0, 2)),
        S(arr((2, 3), 100, 104)),
    ],
    nn.logsumexp: [
        S(arr((4,))),
        S(arr((2, 3)), axis=1),
        S(arr((2, 3)), axis=0, keepdims=True),
        S(arr((2, 3, 2)), axis=(0, 2)),
        S(arr((2, 3)), axis=None, keepdims=True),
        S(arr((2, 3)), axis=-1),
        S(arr((3,), 500, 502)),
    ],
}
