"""Samples for the elementwise rules (srcgrad/rules/elementwise.py)."""

import numpy as np

from tests.rule_samples import S, arr, bools, const, num, pos, unit

CHECK_FLOAT32 = True
CHECK_DUCK = True


def _unary(domain=arr):
    return [S(domain((3,))), S(domain((2, 3))), S(domain(()))]


def _binary(x=arr, y=arr):
    return [
        S(x((2, 3)), y((2, 3))),
        S(x((2, 3)), y((3,))),
        S(x((2, 1)), y((1, 3))),
        S(x((3,)), 1.5),
        S(0.75, y((2, 2))),
    ]


SAMPLES = {
    np.add: _binary(),
    np.subtract: _binary(),
    np.multiply: _binary() + [S(np.float64(1.5), arr((3,))).opts(float32=False), S(1.5, -0.5)],
    np.divide: _binary(y=pos),
    np.negative: _unary(),
    np.positive: _unary(),
    np.power: [
        S(pos((2, 3)), arr((2, 3))),
        S(pos((2, 3)), arr((3,))),
        S(arr((4,)), 3),
        S(pos((4,)), 2.0),
        S(pos((3,)), 0.5),
        S(1.5, arr((2, 2))),
    ],
    # float_power computes in float64 whatever its inputs
    np.float_power: [
        S(pos((2, 3)), arr((3,))).opts(float32=False),
        S(arr((4,)), 3).opts(float32=False),
        S(1.5, arr((3,))).opts(float32=False),
    ],
    np.remainder: [S(arr((2, 3)), pos((3,))), S(arr((4,), -5, 5), 1.5), S(4.5, pos((3,)))],
    np.fmod: [S(arr((2, 3)), pos((3,))), S(arr((4,), -5, 5), 1.5), S(4.5, pos((3,)))],
    np.square: _unary(),
    np.reciprocal: _unary(pos),
    np.exp: _unary(),
    np.exp2: _unary(),
    np.expm1: _unary(),
    np.log: _unary(pos),
    np.log2: _unary(pos),
    np.log10: _unary(pos),
    np.log1p: _unary(unit),
    np.sqrt: _unary(pos),
    np.cbrt: _unary(pos) + [S(arr((4,), -2.0, -0.5))],
    np.logaddexp: _binary() + [S(arr((3,), 30, 40), arr((3,), -40, -30))],
    np.logaddexp2: _binary(),
    np.sin: _unary() + [S(np.float64(0.7)), S(0.7)],
    np.cos: _unary(),
    np.tan: _unary(unit),
    np.arcsin: _unary(unit),
    np.arccos: _unary(unit),
    np.arctan: _unary(),
    np.sinh: _unary(),
    np.cosh: _unary(),
    np.tanh: _unary(),
    np.arcsinh: _unary(),
    np.arccosh: [S(arr((3,), 1.2, 3.0)), S(arr((2, 3), 1.2, 3.0))],
    np.arctanh: _unary(unit),
    np.sinc: _unary() + [S(const([0.0, 0.5, -1.5]))],
    np.i0: _unary() + [S(const([0.0, 1e-9, -30.0, 400.0])).opts(rtol=1e-6, float32=False),
            S(2.5)],
    np.hypot: _binary(),
    np.arctan2: _binary(),
    np.deg2rad: _unary(),
    np.radians: _unary(),
    np.rad2deg: _unary(),
    np.degrees: _unary(),
    np.absolute: _unary(),
    np.fabs: _unary(),
    np.copysign: [S(arr((2, 3)), arr((2, 3))), S(arr((2, 3)), arr((3,))), S(arr((3,)), -1.0)],
    np.maximum: _binary() + [S(arr((4,)), 0.0), S(np.float64(0.3), -0.2)],
    np.minimum: _binary() + [S(arr((4,)), 0.0)],
    np.fmax: _binary() + [S(arr((3,)), const([np.nan, 0.5, np.nan]))],
    np.fmin: _binary() + [S(const([np.nan, 0.5, np.nan]), arr((3,)))],
    np.where: [
        S(bools((2, 3)), arr((2, 3)), arr((2, 3))),
        S(bools((2, 3)), arr((3,)), arr((2, 1))),
        S(bools((3,)), arr((2, 3)), 0.0),
        S(bools((2, 3)), num(), arr((2, 3))),
    ],
    np.clip: [
        S(arr((2, 3)), -0.5, 0.5),
        S(arr((4,)), None, 0.25),
        S(arr((4,)), -0.25, None),
        S(arr((3,)), arr((2, 3), -2.5, -1.0), 0.5),
        S(arr((2, 3)), a_min=-1.0, a_max=1.0),
        S(arr((2, 3)), arr((2, 3), -1.5, 0.0), arr((3,), 0.3, 1.5)),
        S(arr((5,)), arr((5,), 0.5, 1.0), arr((5,), -1.0, 0.0)),   # crossed: a_max wins
    ],
}
