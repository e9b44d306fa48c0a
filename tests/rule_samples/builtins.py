"""Samples for Python's builtins and the math module (srcgrad/rules/builtins.py)."""

import math

from tests.rule_samples import S, arr, num

CHECK_FLOAT32 = False  # math functions and float() return Python floats

POS = num(0.5, 2.0)
UNIT = num(-0.9, 0.9)


def _scalar(domain=None):
    domain = domain or num()
    return [S(domain), S(domain)]


SAMPLES = {
    math.exp: _scalar(),
    math.expm1: _scalar(),
    math.log: [S(POS), S(POS, POS), S(POS, 10.0), S(POS, 2)],
    math.log2: _scalar(POS),
    math.log10: _scalar(POS),
    math.log1p: _scalar(UNIT),
    math.sqrt: _scalar(POS),
    math.pow: [S(POS, num()), S(num(), 3), S(2.5, num()), S(POS, 0.5)],
    math.sin: _scalar(),
    math.cos: _scalar(),
    math.tan: _scalar(UNIT),
    math.asin: _scalar(UNIT),
    math.acos: _scalar(UNIT),
    math.atan: _scalar(),
    math.atan2: [S(num(), num()), S(num(), POS), S(POS, -1.5)],
    math.sinh: _scalar(),
    math.cosh: _scalar(),
    math.tanh: _scalar(),
    math.asinh: _scalar(),
    math.acosh: _scalar(num(1.2, 3.0)),
    math.atanh: _scalar(UNIT),
    math.hypot: [S(num(), num()), S(num(), 2.0)],
    math.fabs: _scalar(),
    math.erf: _scalar(),
    math.erfc: _scalar(),
    math.degrees: _scalar(),
    math.radians: _scalar(),
    float: [S(num()), S(arr(()))],
    max: [S(num(), num()), S(num(), 0.0), S(-0.5, num()), S(num(), num(), num()),
          S([num(), num(), num()]), S(arr((4,)))],
    min: [S(num(), num()), S(num(), 0.0), S(-0.5, num()), S(num(), num(), num()),
          S((num(), num())), S(arr((3,)))],
    sum: [
        S([arr((3,)), arr((3,)), arr((3,))]),
        S([arr((2, 3)), arr((3,)), 1.5]),
        S([num(), num()], num()),
        S([arr((2,)), arr((2,))], arr((2,))),
    ],
}
