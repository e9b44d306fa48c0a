"""Samples for the further elementwise rules (ldexp, frexp, modf, divmod, conjugate, ...)."""

import numpy as np

from srcgrad.rules.elementwise import view_as_real
from tests.rule_samples import S, arr, const, ints

CHECK_FLOAT32 = True
CHECK_DUCK = True

WITH_NAN = const([1.5, np.nan, -0.5, 2.0])

SAMPLES = {
    np.ldexp: [S(arr((2, 3)), ints((2, 3), -2, 3)), S(arr((3,)), 2),
               S(arr((2, 3)), ints((3,), 0, 3))],
    np.frexp: [S(arr((2, 3), 0.3, 5.0)), S(arr((4,), -6.0, -0.3))],
    np.modf: [S(arr((2, 3), -5, 5)), S(arr((4,), 0.1, 0.9))],
    np.divmod: [S(arr((2, 3), -5, 5), arr((2, 3), 0.7, 2.0)), S(arr((4,), 0.5, 5.0), 1.5),
                S(arr((2, 3), 1, 4), arr((3,), 0.6, 1.9))],
    np.conjugate: [S(arr((2, 3))), S(arr(()))],
    np.real: [S(arr((2, 3))), S(arr((3,)))],
    np.imag: [S(arr((2, 3))), S(arr(()))],
    np.angle: [S(arr((2, 3))), S(arr((3,)), deg=True)],
    np.sign: [S(arr((2, 3))), S(arr(()))],
    np.real_if_close: [S(arr((2, 3)))],
    np.nan_to_num: [S(arr((2, 3))), S(WITH_NAN), S(WITH_NAN, nan=1.0, posinf=9.0)],
    np.unwrap: [S(arr((6,), -8, 8)), S(arr((3, 5), -8, 8), axis=0)],
    view_as_real: [S(arr((2, 3))), S(arr(()))],
}
