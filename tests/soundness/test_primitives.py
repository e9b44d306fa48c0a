"""Primitives called in every form NumPy accepts: modelled exactly, or refused.

Each function is differentiated by both engines (and ``auto``) and checked
against float64 central differences; forms the source engine does not model
must raise a located ``TransformError`` so that ``auto`` runs the tape.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError
from tests.compiler.fd import numerical_grad

ENGINES = ("source", "tape", "auto")

W = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]])


def _grad(f, x, engine):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        return srcgrad.grad(f, engine=engine)(x)


def _check(f, x, engine):
    got = _grad(f, x, engine)
    want = numerical_grad(f, (x,), 0)
    assert isinstance(got, np.ndarray) or np.isscalar(got), type(got)
    assert np.shape(got) == np.shape(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _check_jvp(f, x, engine):
    v = np.linspace(-1.0, 1.0, np.size(x)).reshape(np.shape(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        _, t = srcgrad.jvp(f, (x,), (v,), engine=engine)
    h = 1e-6
    want = (f(x + h * v) - f(x - h * v)) / (2 * h)
    np.testing.assert_allclose(t, want, rtol=1e-5, atol=1e-6)


# --- an array where a sequence of arrays is expected: its items are its rows ---------------

def cat_rows(x):
    return np.sum(np.concatenate(x) ** 2 * np.arange(6.0))


def stack_rows(x):
    return np.sum(np.stack(x, axis=1) ** 2 * W.T)


def vstack_rows(x):
    return np.sum(np.vstack(x) ** 3 * W)


def hstack_rows(x):
    return np.sum(np.hstack(x) * np.arange(6.0) * np.hstack(x))


def column_stack_rows(x):
    return np.sum(np.column_stack(x) ** 2 * W.T)


def dstack_rows(x):
    return np.sum(np.dstack(x) ** 2)


def vstack_of_product(x):
    y = x * 2.0                      # not an argument: its adjoint is an array too
    return np.sum(np.vstack(y) ** 2 * W)


def vstack_and_use(x):
    return np.sum(np.vstack(x) ** 2) + np.sum(x[0] * W[1])


def builtin_sum_rows(x):
    return np.sum(sum(x) ** 2)


def vstack_row(x):
    return np.sum(np.vstack(x[0]) ** 2)  # a 1-D array: its items are numbers


ROWS = [cat_rows, stack_rows, vstack_rows, hstack_rows, column_stack_rows, dstack_rows,
        vstack_of_product, vstack_and_use, builtin_sum_rows, vstack_row]
if hasattr(np, "row_stack"):   # older NumPy only (deprecated in 2.0)
    def row_stack_rows(x):
        return np.sum(np.row_stack(x) ** 2 * W)

    ROWS.append(pytest.param(row_stack_rows, id="row_stack_rows",
                             marks=pytest.mark.filterwarnings("ignore::DeprecationWarning")))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("f", ROWS, ids=lambda f: getattr(f, "__name__", None))
def test_array_as_sequence(f, engine):
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    _check(f, x, engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("f", [cat_rows, vstack_rows, stack_rows], ids=lambda f: f.__name__)
def test_array_as_sequence_jvp(f, engine):
    _check_jvp(f, np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), engine)


# --- a spread of one number -------------------------------------------------------------

def std_of_item(x):
    return np.std(x[0]) + 3.0 * np.std(x) + np.std(x[1:2], ddof=0)


def std_of_column(x):
    return np.sum(np.std(x.reshape(3, 1), axis=1) * np.arange(3.0))


def nanstd_of_item(x):
    return np.nanstd(x[1]) + np.nanstd(x)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("f", [std_of_item, std_of_column, nanstd_of_item],
                         ids=lambda f: f.__name__)
def test_std_of_one_number(f, engine):
    x = np.array([0.5, -1.0, 2.0])
    _check(f, x, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_std_of_equal_values_is_zero_not_nan(engine):
    got = _grad(lambda x: np.std(x), np.array([2.0, 2.0, 2.0]), engine)
    np.testing.assert_array_equal(got, np.zeros(3))


# --- einsum's sublist form -----------------------------------------------------------------

def einsum_transpose(x):
    return np.sum(np.einsum(x, [0, 1], [1, 0]) * W.T)


def einsum_implicit(x):
    return np.sum(np.einsum(x, [1, 0]) * W.T)


def einsum_two(x):
    return np.sum(np.einsum(x, [0, 1], x.T, [1, 2]) * np.eye(2))


def einsum_two_out(x):
    return np.sum(np.einsum(x, [0, 1], W, [0, 1], [1]) ** 2)


def einsum_three(x):
    return np.einsum(x, [0, 1], W.T, [1, 2], x[:, 0], [0], [2])[1]


def einsum_ellipsis(x):
    return np.sum(np.einsum(x, [Ellipsis, 1], x[0], [1], [Ellipsis]) ** 2)


def einsum_trace(x):
    return np.einsum(x[:, :2], [0, 0])


def einsum_string(x):
    return np.sum(np.einsum("ij,ij->j", x, x))


EINSUMS = [einsum_transpose, einsum_implicit, einsum_two, einsum_two_out, einsum_three,
           einsum_ellipsis, einsum_trace, einsum_string]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("f", EINSUMS, ids=lambda f: f.__name__)
def test_einsum_forms(f, engine):
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    _check(f, x, engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("f", [einsum_transpose, einsum_two], ids=lambda f: f.__name__)
def test_einsum_forms_jvp(f, engine):
    _check_jvp(f, np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), engine)


# --- index-expression objects: np.r_, np.c_, np.s_ ------------------------------------------

def r_join(x):
    return np.sum(np.r_[x, x] ** 2)


def c_join(x):
    return np.sum(np.c_[x, 2 * x] ** 2)


def r_through_a_name(x):
    r = np.r_
    return np.sum(r[x, 1.0] ** 2)


def s_tuple(x):
    t = np.s_[x, x * 2]
    return np.sum(t[0] * t[1])


def cast_index(x):
    return x[x.astype(int)][0] * x[1]


@pytest.mark.parametrize("f", [r_join, c_join, r_through_a_name, s_tuple, cast_index],
                         ids=lambda f: f.__name__)
def test_computed_index_is_refused(f):
    with pytest.raises(TransformError, match="index computed from the differentiated") as info:
        srcgrad.grad(f, engine="source")
    assert info.value.filename == __file__ and info.value.lineno > 0


@pytest.mark.parametrize("f", [r_join, c_join, r_through_a_name], ids=lambda f: f.__name__)
def test_index_tricks_on_the_tape_raise(f):
    # np.r_ and np.c_ turn their items into plain arrays: the tape says so loudly.
    x = np.array([0.5, -1.0, 2.0])
    for engine in ("tape", "auto"):
        with pytest.raises(RuntimeError, match="gradient"):
            _grad(f, x, engine)


@pytest.mark.parametrize("f", [s_tuple, cast_index], ids=lambda f: f.__name__)
def test_computed_index_falls_back_to_the_tape(f):
    x = np.array([1.5, 0.0, 2.0])
    with pytest.warns(FallbackWarning):
        got = srcgrad.grad(f)(x)
    np.testing.assert_allclose(got, numerical_grad(f, (x,), 0), atol=1e-6)


# --- np.array of differentiated values: a stack ----------------------------------------------

def array_of_items(x):
    return np.sum(np.array([x[0], x[1] * 2.0, 1.5]) ** 2 * np.arange(3.0))


def array_of_rows(x):
    m = x.reshape(2, 3)
    return np.sum(np.array([m[1], m[0], m[1]]) ** 3 * np.arange(3.0)[:, None])


def array_nested(x):
    return np.sum(np.array([[x[0], x[1]], [x[2] * x[0], 2.0]]) @ W[:, :2].T)


def array_of_array(x):
    y = np.array(x, ndmin=2)
    return np.sum(y ** 2) + np.sum(np.array(x * 1.0, dtype=float) * 0.5)


def array_tuple_of_rows(x):
    return np.sum(np.array((x[:3], np.sin(x[3:]))) * W)


def array_int_cast(x):
    return np.sum(np.array([x[0] * 3.0, x[1]], dtype=int) * 1.0) + x[2]


def astype_int(x):
    return np.sum(x.astype(int) * x) + np.sum(np.astype(x, np.int32) * 1.0)


def astype_bool(x):
    return np.sum(x.astype(bool) * x ** 2)


ARRAYS = [array_of_items, array_of_rows, array_nested, array_of_array, array_tuple_of_rows,
          array_int_cast]


@pytest.mark.parametrize("engine", ("source", "auto"))
@pytest.mark.parametrize("f", ARRAYS, ids=lambda f: f.__name__)
def test_array_of_values(f, engine):
    x = np.array([0.5, -1.25, 2.0, 0.75, -0.3, 1.1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)   # the source engine models it
        _check(f, x, engine)


@pytest.mark.parametrize("f", ARRAYS, ids=lambda f: f.__name__)
def test_array_of_values_jvp(f):
    _check_jvp(f, np.array([0.5, -1.25, 2.0, 0.75, -0.3, 1.1]), "source")


@pytest.mark.parametrize("f", [array_of_items, array_of_rows], ids=lambda f: f.__name__)
def test_array_of_tensors_on_the_tape_raises(f):
    # np.array cannot be intercepted by NumPy's protocols: the tape refuses loudly.
    with pytest.raises(RuntimeError, match="gradient"):
        _grad(f, np.array([0.5, -1.25, 2.0, 0.75, -0.3, 1.1]), "tape")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("f", [astype_int, astype_bool], ids=lambda f: f.__name__)
def test_integer_casts_carry_no_derivative(f, engine):
    x = np.array([0.5, -1.25, 2.3, 0.75])
    _check(f, x, engine)
    _check_jvp(f, x, engine)


# --- list literals nested in a sequence argument: every element gets its cotangent ---------

def concat_nested_literal(x):
    return np.sum(np.concatenate([[x[0], x[1] * 2.0], x[2:]]) ** 2 * np.arange(4.0))


def stack_nested_literal(x):
    return np.sum(np.stack([[x[0], x[1]], (x[2], 3.0)], axis=1) ** 3)


@pytest.mark.parametrize("engine", ("source", "auto"))
@pytest.mark.parametrize("f", [concat_nested_literal, stack_nested_literal],
                         ids=lambda f: f.__name__)
def test_nested_literal_in_sequence_argument(f, engine):
    x = np.array([0.5, -1.25, 2.0, 0.75])
    _check(f, x, engine)
    _check_jvp(f, x, engine)
