"""NumPy functions written the way users write them, for the source engine's second order.

``SCALAR_FUNCTIONS`` are scalar-valued functions of a 1-D float array ``x``
(some also of a second 1-D array ``y``, never differentiated twice here unless
asked); ``SCALAR_TO_SCALAR`` are functions of one float, for ``grad(grad(g))``;
``VECTOR_FUNCTIONS`` map R^n to R^m, for Jacobians.  Every branch decision is
far from its boundary at the test points (``X``, ``Y``, ``T_VALUES``), so
central differences see smooth functions.
"""

import math

import numpy as np

X = np.array([0.37, -0.61, 0.82, 0.15])
Y = np.array([0.52, 0.91, -0.34, 0.66])
V = np.array([0.3, -1.1, 0.7, 0.45])
W = np.array([-0.8, 0.25, 0.6, -0.35])

T_VALUES = (0.4, -0.7, 1.3)

COEFFS = (0.5, -1.0, 0.25, 0.125)
PROJECTION = np.array([[0.4, -0.3, 0.2, 0.7], [-0.6, 0.1, 0.5, 0.3]])


# -- module-level helpers ------------------------------------------------------------------

def _smooth(v):
    return np.tanh(v) * v + np.exp(-v * v)


def _horner(v):
    acc = np.zeros_like(v)
    for c in COEFFS:
        acc = acc * v + c
    return acc


def _polar(v):
    return np.sin(v) * 2.0, np.cos(v) + v


def _scalar_helper(t):
    s = 0.0
    for k in range(1, 4):
        s = s + math.sin(t * k) / k
    return s


def _well_conditioned(x):
    n = x.shape[0]
    return 3.0 * np.eye(n) + 0.4 * np.outer(np.sin(x), np.cos(x))


# -- straight-line code with many ufuncs ---------------------------------------------------

def ufunc_chain(x):
    return np.sum(np.sin(x) * np.exp(0.5 * x) + np.log(1.0 + x * x) + np.tanh(x) ** 2)


def sqrt_and_power(x):
    return np.sum(np.sqrt(x * x + 1.0) + (x * x + 0.5) ** 1.5 + x ** 3 - 2.0 ** x)


def arctan_logaddexp(x):
    return np.sum(np.arctan(2.0 * x) + np.logaddexp(x, 0.3 * x * x))


def hypot_cos(x, y):
    return np.sum(np.hypot(x, y + 2.0)) + np.sum(np.cos(x * y))


def division_and_reciprocal(x):
    d = 2.0 + np.cos(x)
    return np.sum(x / d + 1.0 / (d * d) - np.exp(x) / 3.0)


def augmented_assignment(x):
    s = x * 1.0
    s += np.sin(x)
    s *= x
    s -= 0.5 * x ** 2
    s /= 2.0
    s **= 2
    return np.sum(s)


def log_softplus(x):
    return np.sum(np.log1p(np.exp(x)) + np.expm1(0.5 * x) * np.cosh(x) + np.sinh(x))


# -- reductions ----------------------------------------------------------------------------

def reductions(x):
    return np.mean(x ** 2) * np.sum(np.sin(x)) + np.prod(1.0 + 0.5 * x)


def max_and_var(x):
    return np.max(np.sin(x) + x) ** 2 + np.var(x * x) + np.min(np.cos(x))


def norms(x):
    return np.linalg.norm(x + 0.5) ** 3 + np.linalg.norm(np.exp(x))


def logsumexp_style(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def softmax_entropy(x, y):
    z = x * y
    p = np.exp(z - np.max(z))
    p = p / np.sum(p)
    return -np.sum(p * np.log(p)) + np.dot(p, x)


def array_methods(x):
    return (x * x).sum() + x.mean() * x.max() + np.sin(x).prod()


# -- matrix code ---------------------------------------------------------------------------

def quadratic_form(x):
    n = x.shape[0]
    a = np.outer(x, x) + 2.0 * np.eye(n)
    return x @ a @ x + np.sum(a @ np.sin(x))


def inverse_sum(x):
    return np.sum(np.linalg.inv(_well_conditioned(x))) + np.trace(np.outer(x, x))


def solve_two_args(x, y):
    n = x.shape[0]
    a = 2.0 * np.eye(n) + 0.2 * np.outer(np.sin(x), y)
    b = np.exp(x)
    return np.sum(np.linalg.solve(a, b) ** 2)


def determinant(x):
    a = _well_conditioned(x)
    return np.linalg.det(a) + np.log(np.linalg.det(a @ a.T))


def slogdet_unpacked(x):
    sign, logdet = np.linalg.slogdet(_well_conditioned(x) + 0.1 * np.outer(x, x))
    return sign * logdet + np.sum(x ** 2) * logdet


def gram_matrix(x, y):
    m = np.stack([x, y, x * y])
    g = m @ m.T + np.eye(3)
    return np.sum(np.linalg.inv(g)) + np.linalg.det(g)


# -- branches ------------------------------------------------------------------------------

def if_elif_else(x):
    s = np.sum(x)
    if s > 2.0:
        out = np.exp(x)
    elif s > -0.5:
        out = np.sin(x) * x ** 2
    else:
        out = x ** 4
    return np.sum(out)


def if_on_element(x, y):
    if x[0] > 0.0:
        z = x * y + np.cos(x)
    else:
        z = x / (1.0 + y * y)
    if y[2] > 0.0:
        z = z * 2.0
    return np.sum(z * z)


def conditional_expressions(x):
    scale = 2.0 if np.max(x) > 0.5 else 0.5
    z = np.sin(x) if x[1] < 0.0 else np.cos(x)
    return np.sum(z * scale * x) + (x[0] ** 3 if x[0] > x[3] else x[3] ** 3)


def early_return(x):
    if np.sum(x) < -5.0:
        return np.sum(x)
    y = np.exp(x) * x
    if x[2] > 0.5:
        return np.sum(y * y)
    return np.sum(y)


def boolean_logic(x):
    if x[0] > 0.0 and x[1] < 0.0 or x[2] < -3.0:
        return np.sum(x ** 3 * np.cos(x))
    return np.sum(x ** 2)


# -- loops ---------------------------------------------------------------------------------

def for_accumulate(x):
    s = 0.0
    for i in range(4):
        s = s + np.sum(np.cos(x * (i + 1))) / (i + 1)
    return s * np.sum(x)


def for_carried_array(x, y):
    h = x
    for _ in range(3):
        h = np.tanh(1.5 * h + 0.2 * y) * x
    return np.sum(h * h)


def while_loop(x):
    y = x
    k = 0
    while k < 3:
        y = y * 0.7 + np.sin(y) * x
        k += 1
    return np.sum(y)


def while_value_condition(x):
    y = np.sum(x * x) + 0.1
    while y < 5.0:
        y = y * 1.3 + np.sum(np.sin(x))
    return y * np.sum(x)


def break_and_continue(x):
    s = 0.0
    for i in range(10):
        if i % 2 == 0:
            continue
        s = s + np.sum(np.sin(x * i)) * x[i % 4]
        if i >= 5:
            break
    return s


def return_in_loop(x):
    s = 0.0
    for i in range(10):
        s = s + np.sum(x * x) * (i + 1)
        if s > 3.0:
            return s * np.sum(np.sin(x))
    return s


def nested_loops(x):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                s = s + x[i] * x[j] * np.cos(x[i] - x[j])
    return s


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


# -- subscripts ----------------------------------------------------------------------------

def subscript_reads(x):
    return x[0] * x[1] ** 2 + np.sum(x[1:] * x[:-1]) + x[-1] * np.sum(x[::2])


def subscript_write_loop(x):
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i] * x[(i + 1) % n] + np.sin(x[i])
    return np.sum(out ** 2)


def slice_writes(x):
    n = x.shape[0]
    out = np.zeros(2 * n)
    out[:n] = np.sin(x)
    out[n:] = x ** 2
    out[0] += x[1] * x[2]
    return np.sum(out ** 2) + out[0] * out[-1]


# -- lists ---------------------------------------------------------------------------------

def list_append(x):
    parts = []
    for k in range(3):
        parts.append(np.sin(x * (k + 1)))
    return np.sum(parts[0] * parts[2]) + np.sum(parts[1] ** 2)


def list_comprehension(x):
    terms = [np.sum(x ** k) / k for k in range(1, 4)]
    return sum(terms) * terms[0]


def list_stacked(x):
    rows = [x, np.tanh(x), x * x]
    m = np.stack(rows)
    return np.sum(m @ m.T)


# -- calls, closures, lambdas, tuples ------------------------------------------------------

def helper_called_twice(x):
    return np.sum(_smooth(x) * _smooth(2.0 * x))


def helper_with_loop(x, y):
    return np.sum(_horner(x) ** 2 * y) + np.sum(_horner(y * x))


def nested_def_closure(x):
    def inner(z):
        return np.sin(z) * x + z ** 2

    return np.sum(inner(x) * inner(x * x))


def uses_lambda(x):
    sq = lambda z: z * z + np.sin(z)
    return np.sum(sq(x) * sq(np.cos(x)))


def tuple_unpacking(x):
    a, b = np.sin(x), np.cos(x)
    a, b = b * a, a + b
    p, q = _polar(x)
    return np.sum(a * b) + np.sum(p * q)


SCALAR_FUNCTIONS = [
    ufunc_chain, sqrt_and_power, arctan_logaddexp, hypot_cos, division_and_reciprocal,
    augmented_assignment, log_softplus, reductions, max_and_var, norms, logsumexp_style,
    softmax_entropy, array_methods, quadratic_form, inverse_sum, solve_two_args, determinant,
    slogdet_unpacked, gram_matrix, if_elif_else, if_on_element, conditional_expressions,
    early_return, boolean_logic, for_accumulate, for_carried_array, while_loop,
    while_value_condition, break_and_continue, return_in_loop, nested_loops, rosenbrock,
    subscript_reads, subscript_write_loop, slice_writes, list_append, list_comprehension,
    list_stacked, helper_called_twice, helper_with_loop, nested_def_closure, uses_lambda,
    tuple_unpacking,
]


# -- scalar to scalar, for grad(grad(g)) ---------------------------------------------------

def s_polynomial_loop(t):
    s = 0.0
    for k in range(1, 5):
        s = s + t ** k / k
    return s


def s_branch(t):
    if t > 0.0:
        return np.sin(t) * t
    return np.cos(t) * t ** 2


def s_while(t):
    y = t
    k = 0
    while k < 4:
        y = np.sin(y) + 0.5 * t
        k += 1
    return y * y


def s_helper(t):
    return _scalar_helper(t) * _scalar_helper(2.0 * t)


def s_math(t):
    return math.sin(t) * math.exp(0.5 * t) + math.atan(t) ** 2 + math.hypot(t, 2.0)


def s_break(t):
    s = t
    for k in range(20):
        s = s * 0.8 + np.tanh(t * k)
        if k >= 3:
            break
    return s * s


def s_conditional_expression(t):
    u = t * t if t > 0.0 else -t
    return np.exp(u) * np.sin(t) if u > 0.1 else u


def s_elif_chain(t):
    if t > 1.0:
        y = np.log(t) * t
    elif t > 0.0:
        y = t ** 3
    else:
        y = np.exp(t) * t
    return y + np.arctan(y)


SCALAR_TO_SCALAR = [s_polynomial_loop, s_branch, s_while, s_helper, s_math, s_break,
                    s_conditional_expression, s_elif_chain]


def mixed_pair(x, y):
    return np.sum(x ** 2 * y) + np.sum(np.sin(x) * np.exp(y)) + np.sum(x) * np.prod(y)


# -- vector-valued, for Jacobians ----------------------------------------------------------

def vec_elementwise(x):
    return np.sin(x) * np.exp(x) + x ** 2


def vec_expand(x):
    return np.concatenate([np.sin(x), x ** 2, np.cumsum(x)])


def vec_outer(x):
    return np.outer(x, np.tanh(x)).reshape(-1)


def vec_project(x):
    return PROJECTION @ np.sin(x) + np.sum(x ** 2)


def vec_reduce(x):
    return np.stack([np.sum(x ** 2), np.prod(np.cos(x))])


def vec_loop_writes(x):
    n = x.shape[0]
    out = np.zeros(n + 1)
    for i in range(n):
        out[i] = x[i] * x[(i + 1) % n]
        out[n] = out[n] + np.sin(x[i])
    return out


def vec_branch(x):
    if np.sum(x) > 0.0:
        return np.sin(x[:2]) * x[2] + x[3]
    return np.cos(x[:2]) * x[3]


def vec_calls(x):
    return _smooth(x)[1:] + _horner(x)[:-1]


def vec_solve(x):
    return np.linalg.solve(_well_conditioned(x), np.exp(x))


def vec_list(x):
    ys = []
    for k in range(3):
        ys.append(np.sum(np.sin(x * (k + 1))))
    return np.stack(ys)


def vec_softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def vec_while(x):
    y = x
    k = 0
    while k < 3:
        y = np.tanh(y * 1.2) + 0.1 * x
        k += 1
    return y[:3] * np.sum(y)


VECTOR_FUNCTIONS = [vec_elementwise, vec_expand, vec_outer, vec_project, vec_reduce,
                    vec_loop_writes, vec_branch, vec_calls, vec_solve, vec_list, vec_softmax,
                    vec_while]


def vec_two_args(a, b):
    return np.sin(a) * b[:3] + np.cumsum(a) * np.sum(b ** 2)


def vec_two_args_loop(a, b):
    out = []
    for i in range(b.shape[0]):
        out.append(np.sum(np.tanh(a * b[i])) + b[i] ** 2)
    return np.stack(out)
