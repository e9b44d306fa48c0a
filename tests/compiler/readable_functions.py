"""Functions whose generated code tests/compiler/test_readable.py reads."""

import math

import numpy as np


def log_scaled(x):
    return math.log(x) * 3.0 + math.log(x, 2.0)


def reductions(x):
    y = np.mean(x * 2.0) + np.sum(x,
                                  axis=0)   # a statement over two lines
    z = np.sum(np.std(x, ddof=1) * x, axis=1, keepdims=True)
    return np.sum(y) + np.sum(z) + np.var(x, axis=0).sum()


def commented(x):
    y = np.sin(x) * 2.0    # the '#' inside "a # string" is not a comment
    if np.sum(y) > 0:  # a branch
        y = y * len("a # b")
    return np.sum(y)


def _scaled_sum(a, b):
    return np.sum(a * b)


def _squashed(a):
    return np.tanh(a) * 2.0


def _on_the_tape(a):
    try:                # (refused by the source engine: runs on the tape)
        return np.sin(a) * 3.0
    finally:
        pass


def calls_callees(x, w):
    z = _scaled_sum(x, w)
    y = _squashed(x)
    u = _scaled_sum(y, w) + z
    v = _on_the_tape(y)
    return u * 2.0 + np.sum(w * x) + np.sum(v * y)


def _sometimes(a, b):
    if np.sum(a) > 0:
        return np.sum(a * b)
    return np.sum(b)


def calls_a_callee_giving_none(x, w):
    y = _squashed(x)
    return _sometimes(y, w) * 2.0


def branchy(x):
    if x > 0.5:
        y = x * x
    else:
        y = np.sin(x) * 3.0
    return y * 2.0


def broadcasting_scalar(x, y):
    z = np.sin(x) * y + x
    return z * z


# names the generated code would give its temporaries, stacks and helpers, taken by
# the user: module globals here, locals and parameters below, and a callee's
t_shapes = 3.0
s_shapes = 7.0
ShapeStack = 4.0
one_like = 1.25
unbroadcast = 0.5
expand_reduced = 1.0
grad_or_zeros = 1.5
real_cotangent = 2.5
as_gradient = 0.75
in_place = 0.125
SCALAR_TYPES = 1.0
saved = 1.0
value = 3.0
_taken_vjp = taken_vjp = 2.0
_taken_pullback = taken_pullback = 3.0


def _taken(t, bt):
    t_1 = t * bt
    bt_1 = np.sum(t_1 * t_1)
    return bt_1


def takes_the_names(x, w, t_1=0.5, bx=0.25):
    t = (2.0 + t_shapes + ShapeStack + one_like + s_shapes + taken_vjp + taken_pullback
         + _taken_vjp + _taken_pullback
         + unbroadcast + grad_or_zeros + real_cotangent + as_gradient + in_place
         + expand_reduced + SCALAR_TYPES)
    sin_shapes = saved + value
    tbx = 0.5
    s = 0.0
    for i in range(3):
        sin = np.sin(x)
        s = s + np.sum(sin * i) * t + _taken(x, w) * t_1 * bx + sin_shapes * tbx
        s *= 0.5
    return s


def takes_the_names_of_scalars(x):
    t = one_like * SCALAR_TYPES
    bt = t * x
    for _i in range(2):
        bt = bt * np.sin(bt) + value
    takes_the_names_of_scalars_grad_scalar = bt * saved
    return takes_the_names_of_scalars_grad_scalar


def spreads(x):
    return np.std(x) + np.var(x, ddof=1) + np.linalg.norm(x) + np.max(x) + math.pow(np.sum(x), 2.0)


def clipped(x):
    return np.sum(np.clip(x, -1.0, 1.0) * x)
