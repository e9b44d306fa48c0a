"""Plain NumPy-style functions covering the Python the source engine transforms.

Each entry of ``CASES`` is ``Case(fun, args, argnums)``: ``fun(*args)``
returns a scalar, and the gradient with respect to ``argnums`` is checked
against finite differences (and can be run through any other engine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from math import sin as msin
from typing import Any

import numpy
import numpy as np

from srcgrad.rules import nn

SCALE = 0.5
WEIGHTS = np.array([0.3, -0.2, 0.5])


@dataclass
class Case:
    fun: Any
    args: tuple
    argnums: tuple = (0,)

    @property
    def name(self) -> str:
        return self.fun.__name__


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


X3 = np.array([0.5, -1.2, 2.0])
Y3 = np.array([1.5, 0.7, -0.4])
M23 = np.array([[0.2, -0.5, 1.0], [1.5, 0.3, -0.8]])
M33 = np.array([[1.0, 0.2, -0.3], [0.4, 0.9, 0.1], [-0.2, 0.5, 1.1]])


# -- straight-line code ---------------------------------------------------------------

def straight_line(x, y):
    z = np.sin(x) * y + x ** 2
    return np.sum(z)


def reassign(x):
    y = np.sin(x)
    y = y * y
    y = np.exp(-y) + y
    return np.sum(y)


def tuple_unpack(x, y):
    a, b = x * 2.0, y + 1.0
    a, b = b, a
    return np.sum(a * b)


def chained_assign(x):
    a = b = np.tanh(x)
    return np.sum(a * b + a)


def augmented(x, y):
    s = x * 1.0
    s += y
    s *= x
    s -= 0.5 * y
    s /= 2.0
    s **= 2
    return np.sum(s)


def unary_ops(x):
    return np.sum(-x + (+x) * 3.0 - (-x) ** 2)


def matmul(a, b):
    return np.sum(np.tanh(a @ b))


def power_ops(x, y):
    return np.sum(x ** 3 + 2.0 ** x + np.abs(y) ** 1.5)


def division(x, y):
    return np.sum(x / y + 1.0 / (y * y) - y / 3.0)


def broadcasting(m, v):
    return np.sum(m * v + v - m / (1.0 + v * v))


def scalar_python(x, y):
    return math.sin(x) * y + math.exp(x * 0.5) - math.log(y) + math.sqrt(y)


def global_constant(x):
    return np.sum(x * WEIGHTS) * SCALE


def builtins_math(x, y):
    return abs(x - y) + max(x, y) * min(x, 2.0) + float(x) * 2.0


def numpy_functions(x):
    y = np.log1p(np.exp(x)) + np.sqrt(x * x + 1.0) + np.arctan(x)
    return np.mean(y) + np.max(y) + np.prod(np.cos(x))


def reductions_axis(m):
    return np.sum(np.sum(m, axis=0) ** 2) + np.sum(np.mean(m, axis=1, keepdims=True) * m)


def dot_and_outer(x, y):
    return np.dot(x, y) + np.sum(np.outer(x, y) ** 2)


def where_and_maximum(x):
    y = np.where(x > 0, x * 2.0, np.exp(x))
    return np.sum(np.maximum(y, 0.1) + np.minimum(x, 0.5))


def keyword_args(x, scale=2.0, *, shift=1.0):
    return np.sum(np.sum(x * scale + shift, axis=0, keepdims=False))


def keyword_call(x):
    return keyword_args(x, shift=0.5) + keyword_args(x, 3.0)


# -- conditionals -----------------------------------------------------------------------

def if_else(x, y):
    if np.sum(x) > 0:
        z = x * y
    else:
        z = x / y
    return np.sum(z)


def if_elif(x):
    s = np.sum(x)
    if s > 10:
        out = x * 2.0
    elif s > 0:
        out = np.sin(x)
    else:
        out = x ** 2
    return np.sum(out)


def if_without_else(x):
    y = x * 1.5
    if np.max(x) > 1.0:
        y = y + np.cos(x)
    return np.sum(y * y)


def conditional_expression(x, y):
    z = x * y if x > y else x + y
    return z * z


def boolean_logic(x, y):
    if x > 0 and y > 0 or x < -5:
        return x * y
    if not (x > 0):
        return x - y
    return x + y


def early_return(x):
    if x > 1.0:
        return x * x
    y = np.sin(x)
    return y * 3.0


def multiple_returns(x):
    if x > 2.0:
        return x
    elif x > 0.0:
        return x ** 2
    return -x


def compare_chain(x):
    if 0.0 < x < 1.0:
        return x ** 3
    return x


# -- loops --------------------------------------------------------------------------------

def for_range(x):
    s = 0.0
    for i in range(5):
        s = s + np.sin(x * i)
    return np.sum(s)


def scalar_loop(x, y):
    s = 0.0
    for _i in range(100):
        y = np.sin(y) * 0.9 + 0.1 * x
        s = s + y * y
    return s


def loop_carried_array(x, w):
    h = x
    for _ in range(4):
        h = np.tanh(w @ h)
    return np.sum(h)


def range_start_step(x):
    s = x * 0.0
    for i in range(2, 11, 3):
        s = s + x ** i
    return np.sum(s)


def nested_loops(x):
    s = 0.0
    for i in range(3):
        for j in range(i + 1):
            s = s + np.sin(x * (i + 1) + j) * j
    return np.sum(s)


def loop_over_array(m):
    s = 0.0
    for row in m:
        s = s + np.sum(row * row)
    return s


def loop_over_list(x):
    s = 0.0
    for c in [1.0, 2.0, 3.0]:
        s = s + x * c
    return s


def loop_enumerate(m):
    s = 0.0
    for i, row in enumerate(m):
        s = s + np.sum(row) * (i + 1)
    return s


def loop_zip(x, y):
    s = 0.0
    for a, b in zip(x, y, strict=False):
        s = s + a * b
    return s


def while_loop(x):
    s = x
    i = 0
    while i < 4:
        s = s * 0.5 + np.sin(s)
        i += 1
    return np.sum(s)


def while_value_condition(x):
    y = x
    while y < 10.0:
        y = y * 1.7
    return y


def loop_break(x):
    s = 0.0
    for i in range(10):
        s = s + x * i
        if i >= 3:
            break
    return s


def loop_continue(x):
    s = 0.0
    for i in range(6):
        if i % 2 == 0:
            continue
        s = s + np.cos(x * i)
    return s


def while_break(x):
    y = x
    k = 0
    while True:
        y = np.sin(y) + x
        k += 1
        if k > 3:
            break
    return y


def return_in_loop(x):
    s = 0.0
    for _i in range(10):
        s = s + x * x
        if s > 3.0:
            return s * 2.0
    return s


def loop_with_if(x):
    s = 0.0
    for i in range(6):
        if i % 3 == 0:
            s = s + x * i
        else:
            s = s * 0.9 + np.sin(x)
    return s


def loop_temp_not_carried(x):
    s = 0.0
    for i in range(4):
        t = np.exp(x * i * 0.1)
        s = s + t * t
    return np.sum(s + t)


def loop_param_overwrite(x):
    for _ in range(3):
        x = x * 0.5 + 1.0
    return x * x


# -- subscripts -------------------------------------------------------------------------

def subscript_read(m):
    return m[0, 1] * m[1, -1] + np.sum(m[:, 1:]) + np.sum(m[1]) + np.sum(m[..., 0])


def subscript_newaxis(x):
    return np.sum(x[:, None] * x[None, :])


def subscript_fancy(x):
    idx = np.array([0, 2, 2])
    mask = x > 0
    return np.sum(x[idx] ** 2) + np.sum(x[mask])


def subscript_write(x):
    y = np.zeros(3)
    y[0] = x[1] * 2.0
    y[1:] = x[:2] ** 2
    y[2] += x[0]
    return np.sum(y * y)


def subscript_write_loop(x):
    out = np.zeros(4)
    for i in range(4):
        out[i] = np.sin(x * (i + 1))
    return np.sum(out * out)


def setitem_does_not_mutate(x):
    x[0] = 5.0
    return np.sum(x * x)


# -- functions, closures, lambdas -------------------------------------------------------

def helper(a, b):
    return np.tanh(a) * b


def calls_helper(x, y):
    return np.sum(helper(x, y) + helper(y, x))


def helper_loop(x):
    s = 0.0
    for i in range(3):
        s = s + helper(x, i + 1.0)
    return np.sum(s)


def recursive_power(x, n):
    if n == 0:
        return 1.0
    return x * recursive_power(x, n - 1)


def calls_recursive(x):
    return recursive_power(x, 4)


def nested_def(x, w):
    def inner(z):
        return np.sin(z * w)
    return np.sum(inner(x) + inner(2.0 * x))


def uses_lambda(x):
    square = lambda z: z * z  # noqa: E731
    return np.sum(square(x) + square(np.sin(x)))


def closure_factory(scale):
    def f(x):
        return np.sum(np.exp(x * scale))
    return f


closure_fn = closure_factory(0.3)


def returns_tuple(a):
    return a * 2.0, np.sin(a)


def unpack_call(x):
    p, q = returns_tuple(x)
    return np.sum(p * q)


# -- lists and tuples -------------------------------------------------------------------

def list_literal(x, y):
    items = [x, y, x * y]
    return np.sum(items[0] + items[2]) + np.sum(items[-2])


def list_append(x):
    out = []
    for i in range(3):
        out.append(x * (i + 1))
    return np.sum(out[0] * out[1] + out[2])


def list_comprehension(x):
    squares = [x ** k for k in range(1, 4)]
    return np.sum(sum(squares))


def comprehension_if(x):
    return np.sum(sum([np.sin(x * k) for k in range(5) if k % 2 == 1]))


def generator_sum(x):
    return sum(np.sum(x * k) for k in range(3))


def list_len(x):
    items = [x, 2.0 * x, 3.0 * x]
    return np.sum(items[len(items) - 1])


def stack_list(x):
    rows = [x, x * 2.0, np.sin(x)]
    m = np.stack(rows)
    return np.sum(m ** 2)


def concatenate(x, y):
    return np.sum(np.concatenate([x, y * 2.0]) ** 2)


def tuple_index(x):
    t = (x, x * 2.0)
    return np.sum(t[1] * t[0])


# -- methods and attributes -------------------------------------------------------------

def array_methods(m):
    return m.sum() + m.mean(axis=0).sum() + m.max() + (m * m).sum(axis=1).mean()


def reshape_transpose(m):
    r = m.reshape(3, 2)
    return np.sum(r.T @ r) + np.sum(m.transpose() * 2.0)


def dot_method(x, y):
    return x.dot(y) + x.copy().sum()


def shape_attributes(m):
    n = m.shape[0]
    return np.sum(m) / n + m.ndim + m.size * 0.0


def astype_method(x):
    return np.sum(x.astype(np.float64) ** 2)


def integer_index_math(x):
    n = len(x)
    s = 0.0
    for i in range(n // 2 + 1):
        s = s + x[n - 1 - i] * x[i]
    return s


# -- more programs ------------------------------------------------------------------------

def rnn(h, w, u, xs):
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(w @ h + u @ xs[t])
        loss = loss + np.sum(h)
    return loss


def logistic_loss(w, b, x, y):
    z = x @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-9
    return -np.mean(y * np.log(p + eps) + (1.0 - y) * np.log(1.0 - p + eps))


def softmax_cross_entropy(w, x, labels):
    logits = x @ w
    logits = logits - np.max(logits, axis=1, keepdims=True)
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(logp * labels, axis=1))


def nn_rules(x):
    return np.sum(nn.sigmoid(x) * nn.relu(x)) + nn.logsumexp(x)


def gaussian_mixture_nll(x, mu, log_scale):
    z = (x[:, None, :] - mu[None, :, :]) * np.exp(-log_scale)[None, :, :]
    log_p = -0.5 * np.sum(z * z, axis=2) - np.sum(log_scale, axis=1)[None, :]
    m = np.max(log_p, axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.sum(np.exp(log_p - m), axis=1))
    return -np.mean(lse)


def math_module(x):
    return math.tanh(x) + math.cos(x) * math.sinh(x) + math.atan(x) ** 2 + math.hypot(x, 2.0)


def sum_builtin_list(x, y):
    return sum([x * x, y * 2.0, x * y])


def min_max_arrays(x, y):
    return np.sum(np.maximum(x, y) * np.minimum(x, y)) + np.max(x) - np.min(y)


def clip_and_abs(x):
    return np.sum(np.clip(x, -1.0, 1.0) * np.abs(x))


def norm_and_solve(a, b):
    x = np.linalg.solve(a, b)
    return np.linalg.norm(x) + np.sum(np.linalg.inv(a))


def loop_over_tuple(x):
    s = 0.0
    for k in (0.5, 1.5, 2.5):
        s = s + np.sin(x * k)
    return np.sum(s)


def while_early_return(x):
    y = x
    while True:
        y = y * 1.5
        if y > 4.0:
            return y * y
        if y < -4.0:
            return -y


def nested_while(x):
    s = x
    i = 0
    while i < 3:
        j = 0
        while j < i:
            s = s * 0.9 + 0.1
            j += 1
        s = np.sin(s)
        i += 1
    return s


def index_arithmetic(x):
    n = x.shape[0]
    s = 0.0
    for i in range(1, n - 1):
        s = s + x[i - 1] * x[i + 1] - x[i] ** 2 + x[(i * 2) % n]
    return s


def row_writes_in_loop(m):
    out = np.zeros_like(m)
    for i in range(m.shape[0]):
        out[i, :] = np.tanh(m[i, :]) * (i + 1)
    return np.sum(out ** 2)


def conditionally_defined(x):
    if x > 0.0:
        y = x * 3.0
    else:
        y = x * x
    z = y + 1.0 if y > 1.0 else y - 1.0
    return z * x


def closure_in_loop(x):
    s = 0.0
    for k in range(3):
        scale = k + 1.0
        f = lambda v: np.sin(v * scale)  # noqa: E731
        s = s + f(x)
    return np.sum(s)


def lambda_in_comprehension(x):
    fs = [x * k for k in range(3)]
    return np.sum(sum([np.exp(-f) for f in fs]))


def list_negative_index(x):
    items = []
    for k in range(4):
        items.append(x * (k + 1))
    return np.sum(items[-1] * items[-2])


def list_built_from_previous(x):
    hs = [x]
    for k in range(3):
        hs.append(np.tanh(hs[k] * 1.5))
    return np.sum(hs[3])


def transpose_in_loop(m):
    acc = m
    for _ in range(2):
        acc = np.tanh(acc @ acc.T @ m)
    return np.sum(acc)


def einsum_and_tensordot(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b) ** 2) + np.sum(np.tensordot(a, b, axes=1))


def power_array_exponent(x, p):
    return np.sum(x ** p)


def where_mask(x):
    mask = x > 0.0
    return np.sum(np.where(mask, x * x, -x)) + np.sum(x[~mask])


def integer_and_float_mix(x):
    n = 3
    m = n * 2 + 1
    return x * m / n + float(n) * x ** 2


def many_returns_in_loop(x):
    for i in range(5):
        if x * i > 3.0:
            return x * i
        if x * i < -3.0:
            return -x
    return x * 0.5


def list_argument(xs):
    s = 0.0
    for x in xs:
        s = s + np.sum(x * x)
    return s + np.sum(xs[0] * xs[1])


def while_int_argument(x, n):
    s = x
    k = n
    while k > 0:
        s = s * 1.1 + np.sin(s)
        k -= 1
    return s


def assert_and_constants(x):
    assert x > 0.0
    n = len([1, 2, 3])
    return x ** n + math.pi * x


def name_collisions(x, unbroadcast):
    np_ = x * 2.0
    np = np_
    return numpy.sum(np * unbroadcast) + msin(0.5) * numpy.sum(x)


def nested_loop_return(x):
    for i in range(3):
        for j in range(3):
            if x * (i + j) > 2.0:
                return x * i + j
    return x


def while_continue(x):
    s = x
    k = 0
    while k < 5:
        k += 1
        if k % 2 == 0:
            continue
        s = s * np.cos(s)
    return s


def is_even(n, x):
    if n == 0:
        return x
    return is_odd(n - 1, x * 1.5)


def is_odd(n, x):
    if n == 0:
        return np.sin(x)
    return is_even(n - 1, x + 0.1)


def mutual_recursion(x):
    return is_even(3, x)


CASES = [
    Case(straight_line, (X3, 3.0), (0, 1)),
    Case(reassign, (X3,)),
    Case(tuple_unpack, (X3, Y3), (0, 1)),
    Case(chained_assign, (X3,)),
    Case(augmented, (X3, Y3), (0, 1)),
    Case(unary_ops, (X3,)),
    Case(matmul, (M23, M33), (0, 1)),
    Case(power_ops, (np.abs(X3) + 0.5, Y3), (0, 1)),
    Case(division, (X3, Y3), (0, 1)),
    Case(broadcasting, (M23, Y3), (0, 1)),
    Case(scalar_python, (0.7, 1.3), (0, 1)),
    Case(global_constant, (X3,)),
    Case(builtins_math, (0.7, 1.3), (0, 1)),
    Case(numpy_functions, (X3,)),
    Case(reductions_axis, (M23,)),
    Case(dot_and_outer, (X3, Y3), (0, 1)),
    Case(where_and_maximum, (X3,)),
    Case(keyword_args, (M23,)),
    Case(keyword_call, (M23,)),
    Case(if_else, (X3, Y3), (0, 1)),
    Case(if_else, (-X3 - 2.0, Y3), (0, 1)),
    Case(if_elif, (X3,)),
    Case(if_elif, (-X3 - 1.0,)),
    Case(if_without_else, (X3,)),
    Case(conditional_expression, (1.5, 0.5), (0, 1)),
    Case(conditional_expression, (0.5, 1.5), (0, 1)),
    Case(boolean_logic, (1.5, 0.5), (0, 1)),
    Case(boolean_logic, (-1.5, 0.5), (0, 1)),
    Case(boolean_logic, (1.5, -0.5), (0, 1)),
    Case(early_return, (1.5,)),
    Case(early_return, (0.5,)),
    Case(multiple_returns, (2.5,)),
    Case(multiple_returns, (1.5,)),
    Case(multiple_returns, (-1.5,)),
    Case(compare_chain, (0.5,)),
    Case(compare_chain, (1.5,)),
    Case(for_range, (X3,)),
    Case(scalar_loop, (0.3, 0.5), (0, 1)),
    Case(loop_carried_array, (Y3, M33), (0, 1)),
    Case(range_start_step, (X3 * 0.5,)),
    Case(nested_loops, (X3,)),
    Case(loop_over_array, (M23,)),
    Case(loop_over_list, (0.7,)),
    Case(loop_enumerate, (M23,)),
    Case(loop_zip, (X3, Y3), (0, 1)),
    Case(while_loop, (X3,)),
    Case(while_value_condition, (1.3,)),
    Case(loop_break, (0.7,)),
    Case(loop_continue, (0.7,)),
    Case(while_break, (0.4,)),
    Case(return_in_loop, (0.9,)),
    Case(return_in_loop, (0.2,)),
    Case(loop_with_if, (0.6,)),
    Case(loop_temp_not_carried, (X3,)),
    Case(loop_param_overwrite, (0.8,)),
    Case(subscript_read, (M23,)),
    Case(subscript_newaxis, (X3,)),
    Case(subscript_fancy, (X3,)),
    Case(subscript_write, (X3,)),
    Case(subscript_write_loop, (0.3,)),
    Case(calls_helper, (X3, Y3), (0, 1)),
    Case(helper_loop, (X3,)),
    Case(calls_recursive, (0.9,)),
    Case(nested_def, (X3, 0.7), (0, 1)),
    Case(uses_lambda, (X3,)),
    Case(closure_fn, (X3,)),
    Case(unpack_call, (X3,)),
    Case(list_literal, (X3, Y3), (0, 1)),
    Case(list_append, (X3,)),
    Case(list_comprehension, (X3,)),
    Case(comprehension_if, (X3,)),
    Case(generator_sum, (X3,)),
    Case(list_len, (X3,)),
    Case(stack_list, (X3,)),
    Case(concatenate, (X3, Y3), (0, 1)),
    Case(tuple_index, (X3,)),
    Case(array_methods, (M23,)),
    Case(reshape_transpose, (M23,)),
    Case(dot_method, (X3, Y3), (0, 1)),
    Case(shape_attributes, (M23,)),
    Case(astype_method, (X3,)),
    Case(integer_index_math, (np.array([0.5, 1.5, -0.3, 2.0, 0.8]),)),
    Case(rnn, (Y3 * 0.1, M33 * 0.5, M23.T * 0.5, np.array([[0.1, 0.2], [0.3, -0.1],
                                                            [0.0, 0.5], [-0.2, 0.1]])),
         (0, 1, 2)),
    Case(logistic_loss, (np.array([0.3, -0.2]), 0.1, M23.T[:, :2] if False else
                         np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.3]]),
                         np.array([1.0, 0.0, 1.0])), (0, 1)),
    Case(softmax_cross_entropy, (M33 * 0.3, M23, np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))),
    Case(nn_rules, (X3,)),
    Case(gaussian_mixture_nll, (np.array([[0.1, 0.2], [0.5, -0.3], [1.0, 0.0]]),
                                np.array([[0.0, 0.1], [0.5, 0.5]]),
                                np.array([[0.1, -0.2], [0.0, 0.3]])), (1, 2)),
    Case(math_module, (0.7,)),
    Case(sum_builtin_list, (0.7, 1.3), (0, 1)),
    Case(min_max_arrays, (X3, Y3), (0, 1)),
    Case(clip_and_abs, (X3 * 0.7,)),
    Case(norm_and_solve, (M33, Y3), (0, 1)),
    Case(loop_over_tuple, (X3,)),
    Case(while_early_return, (0.7,)),
    Case(while_early_return, (-0.7,)),
    Case(nested_while, (0.4,)),
    Case(index_arithmetic, (np.array([0.5, 1.5, -0.3, 2.0, 0.8]),)),
    Case(row_writes_in_loop, (M23,)),
    Case(conditionally_defined, (0.8,)),
    Case(conditionally_defined, (-0.8,)),
    Case(closure_in_loop, (X3,)),
    Case(lambda_in_comprehension, (X3,)),
    Case(list_negative_index, (X3,)),
    Case(list_built_from_previous, (X3,)),
    Case(transpose_in_loop, (M33 * 0.3,)),
    Case(einsum_and_tensordot, (M23, M33), (0, 1)),
    Case(power_array_exponent, (np.abs(X3) + 0.5, Y3), (0, 1)),
    Case(where_mask, (X3,)),
    Case(integer_and_float_mix, (0.9,)),
    Case(many_returns_in_loop, (0.9,)),
    Case(many_returns_in_loop, (-0.9,)),
    Case(many_returns_in_loop, (0.1,)),
    Case(list_argument, ([np.array([1.0, -0.5]), np.array([0.3, 2.0])],)),
    Case(while_int_argument, (0.4, 3)),
    Case(assert_and_constants, (0.7,)),
    Case(name_collisions, (X3, Y3), (0, 1)),
    Case(nested_loop_return, (0.7,)),
    Case(nested_loop_return, (0.2,)),
    Case(while_continue, (0.5,)),
    Case(mutual_recursion, (0.3,)),
]


def list_item_assignment(x, y):
    items = [x, y, x * y]
    items[1] = np.sin(items[0]) * y
    items[-1] += x
    return np.sum(items[1] * items[2] + items[0])


CASES.append(Case(list_item_assignment, (X3, Y3), (0, 1)))


def list_grows_from_last(x):
    hs = [x]
    for _ in range(3):
        hs.append(np.tanh(hs[-1] * 1.5) + hs[0])
    return np.sum(hs[-1] * hs[-2])


CASES.append(Case(list_grows_from_last, (X3,)))


def list_slices_reduced(x, y):
    items = [x, y, x * y]
    return np.mean(items[0:2]) + np.sum(items[1:]) * np.max(items[::2])


CASES.append(Case(list_slices_reduced, (X3, Y3), (0, 1)))


def list_argument_slices_reduced(xs):
    return np.mean(xs[0:2]) + np.sum(xs[2]) * np.mean(xs[-1:])


CASES.append(Case(list_argument_slices_reduced,
                  ([np.array([1.0, -0.5]), np.array([0.3, 2.0]), np.array([0.7, 0.1])],)))


def deletes_a_name(x):
    y = np.sin(x)
    z = y * x
    del y
    return np.sum(z)


CASES.append(Case(deletes_a_name, (X3,)))
