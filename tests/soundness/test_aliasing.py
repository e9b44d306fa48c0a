"""Mutation of arrays that may be shared: aliases, views, ``out=``, repeated indices.

Each function below is checked on both engines against float64 central
differences.  The source engine may refuse (``TransformError``) where it
cannot prove a write is unobservable; it may never disagree.  The tape may
refuse with a ``RuntimeError``/``TypeError`` that says why; it may never
disagree either.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError

from ..compiler.fd import assert_close, numerical_grad

X3 = np.array([0.3, -0.7, 1.1])
X4 = np.array([0.3, -0.7, 1.1, 0.45])
M23 = np.array([[0.2, -0.5, 0.9], [1.3, 0.4, -0.8]])


def _expected(fun, args, argnum=0):
    return numerical_grad(fun, tuple(np.copy(a) for a in args), argnum)


def _run(fun, args, engine, argnum=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        return srcgrad.value_and_grad(fun, argnums=argnum, engine=engine)(
            *(np.copy(a) for a in args))


def check_engine(fun, args, engine, argnum=0):
    """The engine's value and gradient match NumPy and differences."""
    value, grad = _run(fun, args, engine, argnum)
    assert_close(value, fun(*(np.copy(a) for a in args)))
    assert_close(grad, _expected(fun, args, argnum), rtol=1e-5, atol=1e-6)


def check_forward(fun, args):
    """Forward mode of the source engine (when it accepts ``fun``) matches differences."""
    x = np.copy(args[0])
    tangent = np.linspace(0.5, -0.3, x.size).reshape(x.shape)
    _, dout = srcgrad.jvp(fun, (x, *args[1:]), (tangent,), engine="source")
    expected = np.sum(_expected(fun, args) * tangent)
    assert_close(dout, expected, rtol=1e-5, atol=1e-6)


# -- class 4: repeated integer indices in writes (NumPy keeps the last write) ----------------

def repeated_add(x):
    y = x * 1.0
    y[[0, 0]] += x[1:3]
    return np.sum(y * y)


def repeated_set(x):
    y = x * 1.0
    y[[0, 0]] = x[1:3]
    return np.sum(y * y)


def negative_duplicate(x):
    y = x * 2.0
    y[[0, -3]] = x[1:3] * np.array([2.0, 3.0])
    return np.sum(y * y * y)


def repeated_scalar_value(x):
    y = np.zeros_like(x)
    y[[1, 2, 1, 1]] = x[0] * x[2]
    return np.sum(y * np.arange(1.0, 5.0)) + x[1]


def repeated_2d_pairs(m):
    y = m * 1.0
    y[[0, 0, 1], [1, 1, 2]] = m[1, :] ** 2
    return np.sum(y * y)


def repeated_rows(m):
    y = m * 1.0
    y[[1, 1], :] = m * 3.0
    return np.sum(y ** 3)


def repeated_broadcast_index(m):
    y = np.zeros_like(m)
    y[np.array([[0], [0]]), np.array([1, 1, 2])] = m * m
    return np.sum(y * np.arange(1.0, 7.0).reshape(2, 3))


def repeated_in_loop(x):
    y = np.zeros_like(x)
    for i in range(3):
        y[[i, 0, i]] += x[i] * np.array([1.0, 2.0, 3.0])
    return np.sum(y * y)


def repeated_array_index(x):
    idx = np.array([2, 1, 2, 2])
    y = x ** 2
    y[idx] = x * x[0]
    return np.sum(np.sin(y))


REPEATED = [
    (repeated_add, (X3,)), (repeated_set, (X3,)), (negative_duplicate, (X3,)),
    (repeated_scalar_value, (X4,)), (repeated_2d_pairs, (M23,)), (repeated_rows, (M23,)),
    (repeated_broadcast_index, (M23,)), (repeated_in_loop, (X3,)),
    (repeated_array_index, (X4,)),
]


@pytest.mark.parametrize("engine", ["source", "tape"])
@pytest.mark.parametrize("fun, args", REPEATED, ids=[f.__name__ for f, _ in REPEATED])
def test_repeated_indices_keep_the_last_write(fun, args, engine):
    check_engine(fun, args, engine)


@pytest.mark.parametrize("fun, args", REPEATED, ids=[f.__name__ for f, _ in REPEATED])
def test_repeated_indices_forward_mode(fun, args):
    check_forward(fun, args)


# -- class 2: writes through aliases and views ----------------------------------------------

def alias_write(x):
    a = x * 1.0
    b = a
    b[0] = x[1] * 3.0
    return np.sum(a * a)


def slice_view_write(x):
    y = x * 2.0
    v = y[1:]
    v[0] = x[0] ** 2
    return np.sum(y * y)


def reshape_view_write(x):
    y = x * 2.0
    v = y.reshape(3, 1)
    v[0, 0] = x[2] ** 2
    return np.sum(y * y)


def transpose_view_write(x):
    y = np.outer(x, x)
    v = y.T
    v[0, 1] = 7.0 * x[0]
    return np.sum(y * y)


def ravel_view_write(x):
    y = np.outer(x, x)
    v = y.ravel()
    v[1] = 7.0 * x[0]
    return np.sum(y * y)


def asarray_view_write(x):
    y = x * 2.0
    v = np.asarray(y)
    v[0] = 0.0
    return np.sum(y * y)


def row_augmented(x):
    y = np.outer(x, x)
    r = y[0]
    r += x
    return np.sum(y * y)


def name_augmented_alias(x):
    a = x * 1.0
    b = a
    b *= x
    return np.sum(a)


def view_of_view_write(x):
    y = np.outer(x, x)
    v = y[1:]
    w = v[:, 1:]
    w[0, 0] = x[0] * 5.0
    return np.sum(y * y)


def base_write_seen_by_view(x):
    y = x * 2.0
    v = y[1:]
    y[1] = x[0] ** 3
    return np.sum(v * v)


def _identity(v):
    return v


def alias_through_callee(x):
    y = x * 2.0
    z = _identity(y)
    z[0] = x[2] * 4.0
    return np.sum(y * y)


def write_in_loop_through_view(x):
    y = x * 1.0
    for i in range(2):
        v = y[i:]
        v[0] = v[1] * x[i]
    return np.sum(y * y)


def list_item_alias(x):
    y = x * 1.0
    items = [y, x]
    first = items[0]
    first[1] = 0.0
    return np.sum(items[0] * y)


def alias_in_branch(x):
    y = x * 1.0
    z = x * 3.0
    w = y if x[0] > 0 else z
    w[2] = 0.0
    return np.sum(y * z)


def parameter_alias_read(x):
    y = x
    y[0] = 5.0
    return np.sum(x * y)


def global_write(x):
    buffer = GLOBAL_BUFFER
    buffer[0] = x[0]
    return np.sum(buffer * x)


GLOBAL_BUFFER = np.zeros(3)

# NumPy changes the array seen through the other name; the source engine must refuse.
ALIASED = [
    alias_write, slice_view_write, reshape_view_write, transpose_view_write, ravel_view_write,
    asarray_view_write, row_augmented, name_augmented_alias, view_of_view_write,
    base_write_seen_by_view, alias_through_callee, write_in_loop_through_view,
    list_item_alias, alias_in_branch, parameter_alias_read,
]


@pytest.mark.parametrize("fun", ALIASED, ids=lambda f: f.__name__)
def test_source_refuses_writes_seen_through_another_name(fun):
    with pytest.raises(TransformError) as info:
        srcgrad.grad(fun, engine="source")
    assert "in-place write" in info.value.construct or "in place" in info.value.construct
    assert info.value.filename == __file__


@pytest.mark.parametrize("fun", [*ALIASED, global_write], ids=lambda f: f.__name__)
def test_tape_is_right_or_refuses(fun):
    """The tape (what ``auto`` falls back to) gives NumPy's answer or raises."""
    try:
        value, grad = _run(fun, (X3,), "tape")
    except (RuntimeError, TypeError):
        return
    assert_close(value, fun(np.copy(X3)))
    assert_close(grad, _expected(fun, (X3,)), rtol=1e-5, atol=1e-6)


def test_global_write_is_refused():
    with pytest.raises(TransformError, match="global or closure value"):
        srcgrad.grad(global_write, engine="source")


def _writes_parameter(v):
    v[0] = 0.0
    return np.sum(v)


def calls_a_writer(x):
    y = x * 2.0
    s = _writes_parameter(y)
    return s + np.sum(y * x)


def test_callee_writing_its_parameter_is_refused():
    """The caller would see the change: refused; ``auto`` is right or the tape refuses."""
    with pytest.raises(TransformError, match="caller's"):
        from srcgrad.compiler.transform import compile_function
        compile_function(_writes_parameter, (0,), "vjp", internal=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        try:
            grad = srcgrad.grad(calls_a_writer)(np.copy(X3))
        except (RuntimeError, TypeError):
            return      # the tape refuses the write into a view of its input
    assert_close(grad, _expected(calls_a_writer, (X3,)))


# Writes nothing else can see: accepted, and right.
def fresh_buffer(x):
    y = np.zeros(3)
    y[0] = x[1] * 2.0
    y[1:] += x[:2] ** 2
    return np.sum(y * y)


def copy_then_write(x):
    y = x.copy()
    v = y[1:]
    v[0] = x[0] * 3.0           # y is not read after this write
    return np.sum(v * v)


def dead_alias(x):
    y = x * 2.0
    z = y                       # z is not read after the write
    y[0] = np.sum(z) * x[1]
    return np.sum(y * y)


def rebound_in_loop(x):
    y = x
    for i in range(3):
        y = y * 1.5
        y[i] = y[i] * x[i]
    return np.sum(y)


def augmented_fresh(x):
    s = x * 1.0
    s += x * x
    s *= 2.0
    return np.sum(s)


def top_level_parameter_write(x):
    x[0] = 5.0
    return np.sum(x * x)


ACCEPTED = [fresh_buffer, copy_then_write, dead_alias, rebound_in_loop, augmented_fresh,
            top_level_parameter_write]


@pytest.mark.parametrize("fun", ACCEPTED, ids=lambda f: f.__name__)
def test_unobservable_writes_are_accepted_and_right(fun):
    check_engine(fun, (X3,), "source")
    check_forward(fun, (X3,))


# -- class 3: NumPy calls that write into an argument --------------------------------------

def sin_out(x):
    y = np.zeros(3)
    np.sin(x, out=y)
    return np.sum(y * y)


def multiply_out_positional(x):
    y = np.zeros(3)
    np.multiply(x, x, y)
    return np.sum(y * y)


def matmul_out(x):
    y = np.zeros(())
    np.matmul(x, x, out=y)
    return y * 2.0


def sum_out(x):
    y = np.zeros(())
    np.sum(x * x, out=y)
    return y * 2.0


def sum_out_positional(x):
    y = np.zeros(())
    np.sum(x * x, None, None, y)
    return y * 2.0


def method_out(x):
    y = np.zeros(())
    (x * x).sum(out=y)
    return y * 2.0


def clip_out(x):
    y = np.zeros(3)
    np.clip(x, 0.0, 0.5, out=y)
    return np.sum(y * y)


def copyto(x):
    y = np.zeros(3)
    np.copyto(y, x * x)
    return np.sum(y * y)


def add_at(x):
    y = np.zeros(3)
    np.add.at(y, [0, 0, 1], x)
    return np.sum(y * y)


def put(x):
    y = x * 1.0
    np.put(y, [0], x[2] * 5.0)
    return np.sum(y * y)


def sort_method(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(3.0))


def fill_method(x):
    y = x * 1.0
    y.fill(2.0)
    return np.sum(y * x)


WRITERS = [sin_out, multiply_out_positional, matmul_out, sum_out, sum_out_positional,
           method_out, clip_out, copyto, add_at, put, sort_method, fill_method]


@pytest.mark.parametrize("fun", WRITERS, ids=lambda f: f.__name__)
def test_source_refuses_calls_writing_into_arguments(fun):
    with pytest.raises(TransformError) as info:
        srcgrad.grad(fun, engine="source")
    assert info.value.filename == __file__


@pytest.mark.parametrize("fun", WRITERS, ids=lambda f: f.__name__)
def test_tape_refuses_or_is_right_for_calls_writing_into_arguments(fun):
    try:
        value, grad = _run(fun, (X3,), "tape")
    except (RuntimeError, TypeError, AttributeError):
        return      # refused: out= with a gradient, no rule, or no such Tensor method
    assert_close(value, fun(np.copy(X3)))
    assert_close(grad, _expected(fun, (X3,)), rtol=1e-5, atol=1e-6)


def test_tape_out_without_gradient_writes_and_returns_the_output():
    x = srcgrad.tensor([1.0, 2.0, 3.0])
    out = srcgrad.tensor(0.0)
    result = np.sum(x, out=out)
    assert result is out and float(out) == 6.0
    target = np.zeros(3)
    assert np.clip(x, 1.5, 2.5, out=target) is target
    np.testing.assert_array_equal(target, [1.5, 2.0, 2.5])


def test_tape_refuses_out_with_gradient():
    x = srcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"numpy\.sum\(\.\.\., out=\.\.\.\)"):
        np.sum(x * x, out=np.zeros(()))
    with pytest.raises(TypeError, match="out="):
        np.clip(x, 0.0, 1.0, np.zeros(3))


# -- the tape: views made before their base changed in place --------------------------------

def sibling_views(x):
    y = x * 2.0
    a = y[0:2]
    b = y[1:]
    a[1] = x[2] ** 2            # changes y[1], which b shows
    return np.sum(b * b) + np.sum(y)


def reshaped_view_read_after_base_write(x):
    y = x * 2.0
    v = y.reshape(3, 1)
    y[0] = x[1] ** 2
    return np.sum(v * v)


@pytest.mark.parametrize("fun", [base_write_seen_by_view, sibling_views],
                         ids=lambda f: f.__name__)
def test_tape_follows_base_writes_into_index_views(fun):
    check_engine(fun, (X3,), "tape")


def test_tape_refuses_gradient_through_a_stale_reshaped_view():
    grad = srcgrad.grad(reshaped_view_read_after_base_write, engine="tape")
    with pytest.raises(RuntimeError, match="view made before its base was changed"):
        grad(np.copy(X3))


def test_tape_forgets_dead_views():
    x = srcgrad.tensor(np.arange(4.0))
    for _ in range(1000):
        x[1:]           # a view, dropped at once
    assert len(x._vc.views) < 64


# -- which NumPy functions return views: checked on every rule's samples ---------------------

def _arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays_in(v)


def _view_cases():
    from tests.test_rules import CASES
    return [c for c in CASES if c.rule.primitive is not None]


def test_functions_returning_views_are_listed():
    """A rule's primitive whose result shares memory with an argument in any sample must
    be listed in srcgrad.mutation (else the source engine would think it fresh)."""
    import operator

    from srcgrad import mutation
    from srcgrad.rules.shape import setitem

    unlisted = set()
    for case in _view_cases():
        fn = case.rule.primitive
        if fn in (operator.getitem, setitem) or isinstance(fn, np.ufunc):
            continue        # indexing is a view for the analysis; ufuncs make new arrays
        args, kwargs = case.draw()
        try:
            out = fn(*args, **kwargs)
        except Exception:       # noqa: BLE001 - samples for other dtypes or versions
            continue
        inputs = [a for v in [*args, *kwargs.values()] for a in _arrays_in(v)]
        if any(np.shares_memory(o, a) for o in _arrays_in(out) for a in inputs) \
                and not mutation.may_return_view(fn, kwargs):
            unlisted.add(case.rule.name)
    assert not unlisted, f"results share memory with arguments: {sorted(unlisted)}"


# Calls writing into an argument deep in loops and branches, in functions with and
# without item writes (the checker follows values only when there is a write to check):
# the construct reported is the first refusable one in program order either way.
def out_in_a_branch_in_a_loop(x):
    acc = x * 0.0
    for _ in range(2):
        if np.sum(x) > 0.0:
            np.multiply(x, 2.0, out=acc)     # refused: first
        acc = acc + x
    np.copyto(acc, x)
    return np.sum(acc)


def out_in_a_branch_in_a_loop_with_an_item_write(x):
    acc = x * 1.0
    for _ in range(2):
        if np.sum(x) > 0.0:
            np.multiply(x, 2.0, out=acc)     # refused: first
        acc[0] = x[1]
    np.copyto(acc, x)
    return np.sum(acc)


def out_in_an_else_branch(x):
    y = x * 1.0
    if np.sum(x) > 10.0:
        y = y + 1.0
    else:
        np.clip(x, 0.0, 0.5, out=y)          # refused: first
    np.copyto(y, x)
    return np.sum(y)


def add_at_after_an_accepted_item_write(x):
    y = x * 1.0
    y[0] = x[2] * 2.0
    for _ in range(2):
        np.add.at(y, [0, 0], x[1])           # refused: first
    np.copyto(y, x)
    return np.sum(y * x)


def _marked_line(fun) -> int:
    import inspect

    lines, first = inspect.getsourcelines(fun)
    return first + next(k for k, text in enumerate(lines) if "# refused: first" in text)


@pytest.mark.parametrize("fun", [out_in_a_branch_in_a_loop,
                                 out_in_a_branch_in_a_loop_with_an_item_write,
                                 out_in_an_else_branch, add_at_after_an_accepted_item_write],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_the_first_writing_call_in_program_order_is_refused(fun, mode):
    with pytest.raises(TransformError) as info:
        if mode == "grad":
            srcgrad.grad(fun, engine="source")
        else:
            srcgrad.jvp(fun, (X3,), (np.ones(3),), engine="source")
    assert info.value.filename == __file__
    assert info.value.lineno == _marked_line(fun), str(info.value)


# Item writes in loops with branches: the checker's states merge at each branch and
# go round each loop until they settle (a view made in one round is seen in the next).
def writes_in_branches_in_loops(x):
    y = x * 1.0
    z = x * 2.0
    acc = 0.0
    for k in range(3):
        y[0] = np.sin(y[1]) * x[2]
        z[1] = np.cos(z[0]) + y[2]
        if k > 0:
            y[2] = z[1] * 0.5
        else:
            z[2] = y[0] - 1.0
        acc = acc + np.sum(y * z)
    for _ in range(2):
        y[1] = np.tanh(y[0]) * x[0]
        z[0] = np.exp(z[2] * 0.1) + y[1]
        acc = acc + np.sum(y * z)
    return acc


def write_seen_by_a_view_from_the_last_round(x):
    y = x * 1.0
    v = x * 0.0
    acc = 0.0
    for _ in range(2):
        y[0] = x[1] * 2.0                    # refused: first
        acc = acc + np.sum(v * v)
        v = y[1:]
    return acc


def write_seen_by_a_view_from_one_branch(x):
    y = x * 1.0
    v = x * 0.0
    if np.sum(x) > 0.0:
        v = y.T
    y[0] = x[1] * 2.0                        # refused: first
    return np.sum(v * v)


def test_writes_in_branches_in_loops_are_accepted_and_right():
    check_engine(writes_in_branches_in_loops, (X3,), "source")
    check_forward(writes_in_branches_in_loops, (X3,))


@pytest.mark.parametrize("fun", [write_seen_by_a_view_from_the_last_round,
                                 write_seen_by_a_view_from_one_branch],
                         ids=lambda f: f.__name__)
def test_a_view_made_in_another_round_or_branch_is_seen(fun):
    with pytest.raises(TransformError) as info:
        srcgrad.grad(fun, engine="source")
    assert info.value.lineno == _marked_line(fun), str(info.value)
    assert "share its memory" in str(info.value)
