"""Lists and tuples through calls, list changes and generators (sources in a file).

``ACCEPTED`` the source engine models exactly; ``REFUSED`` it refuses with a
located error (``auto`` then runs them on the tape).  Every function takes an
array ``x`` of 4 floats and returns a scalar.
"""

import numpy as np


def sq(v):
    return v[0] * v[0] + v[1] * v[1]


def weighted(a, v=None, scale=1.0):
    return a * (v[0] * v[1]) * scale


def sum_products(v):
    return np.sum(v[0] * v[1]) + np.sum(v[1])


def pair(a, b):
    return a, b


def nested_pair(a):
    return pair(a * 2.0, np.sin(a)), a


def head_and_rest(v):
    return v[0], v[1:]


def total(v):
    s = 0.0
    for item in v:
        s = s + np.sum(item)
    return s


def inner_sum(rows):
    return rows[0][1] * rows[1][0] + rows[0][0]


def on_the_tape(v):
    try:                            # refused by the source engine: runs on the tape
        return np.sum(v[0] * np.sin(v[1]))
    except ValueError:
        return 0.0


def tape_pair(a):
    try:
        return a * 3.0, np.cos(a)
    except ValueError:
        return a, a


def appends_to_argument(v, a):
    v.append(a * 2.0)
    return v[0] * v[-1]


def writes_into_argument(v, a):
    v[0] = a
    return v[0] * v[1]


def appends_to_default(v, acc=[]):   # noqa: B006 (the mutable default is the point)
    acc.append(v)
    return acc[-1] * v


def squares(x):
    for v in x:
        yield v * v


def ident(v):
    return v


def passes_on(v):
    return sq(v) + sq([v[1], v[0] * 2.0])


def first_two(v):
    return [v[0], v[1]]


def swap(t):
    a, b = t
    return b, a


def with_default_tuple(a, v=(1.0, 2.0)):
    return a * v[0] * v[1]


# -- accepted ------------------------------------------------------------------

def list_literal_to_callee(x):
    return sq([x[0], x[1]])


def tuple_literal_to_callee(x):
    return sq((x[0], x[2] * x[3]))


def named_list_to_callee(x):
    t = [np.sin(x[0]), x[1]]
    return sq(t) + t[0]


def keyword_list_to_callee(x):
    return weighted(2.0, v=[x[0], x[2]], scale=x[3])


def list_of_arrays_of_different_shapes(x):
    return sum_products([x[:2], x[1:3] * x[3]]) + total([x, x[:3], x[3]])


def nested_list_to_callee(x):
    return inner_sum([[x[0], x[1] * 2.0], [np.cos(x[2])]])


def list_to_two_callees(x):
    v = [x[0] * x[1], x[2]]
    return sq(v) * total(v)


def tuple_returned_by_callee(x):
    r = pair(x, 2 * x)
    return np.sum(r[0] * r[1])


def tuple_returned_and_unpacked(x):
    a, b = pair(np.sin(x), x[1:3])
    return np.sum(a) * np.sum(b * b)


def nested_tuples_returned(x):
    inner, a = nested_pair(x)
    return np.sum(inner[0] * inner[1]) + np.sum(a[1:] * inner[1][:3])


def tuple_returned_then_sliced(x):
    head, rest = head_and_rest(x)
    return head * np.sum(rest)


def augmented_list(x):
    lst = [x[0]]
    lst += [x[1] * 2]
    return lst[0] * lst[1]


def concatenated_in_loop(x):
    lst = []
    for i in range(4):
        lst = lst + [x[i] * x[i]]
    return lst[0] + lst[1] * lst[3] + lst[2]


def augmented_in_loop(x):
    lst = [x[0]]
    for i in range(1, 4):
        lst += [lst[-1] * x[i]]
    return lst[3] + lst[1]


def prepended_in_loop(x):
    lst = [1.0]
    for i in range(3):
        lst = [x[i] * lst[0]] + lst
    return lst[0] * lst[2] + lst[1]


def tuples_concatenated(x):
    t = (x[0],) + (x[1] * 3.0, x[2])
    return t[0] * t[1] + t[2] * t[1]


def list_doubled(x):
    lst = [x[0], x[1]]
    both = lst + lst
    return both[0] * both[3] + both[2]


def slice_unpacked(x):
    lst = [x[0], x[1], x[2]]
    a, b = lst[1:]
    return a * b


def slices_of_lists(x):
    lst = [x[0], x[1] * 2.0, x[2], x[3]]
    evens = lst[::2]
    tail = lst[-3:]
    return evens[0] * evens[1] + tail[0] * tail[2]


def tape_callee_with_list(x):
    return on_the_tape([x[:2], x[2:]]) + x[0]


def tape_callee_returning_tuple(x):
    a, b = tape_pair(x)
    return np.sum(a * b)


def appended_list_owned(x):
    out = []
    for i in range(3):
        out.append(x[i] * x[i + 1])
    out[1] = out[1] * 2.0
    return out[0] + out[1] * out[2]


def comprehension_in_callee_list(x):
    return total([x[i] * x[i] for i in range(4)])


def generator_consumed_at_once(x):
    return sum(v * v for v in x) * sum(v * 2.0 for v in x[:2])


def constant_list_repeated(x):
    acc = [0.0] * 2
    acc[0] = x[0] * x[1]
    return acc[0] + acc[1] + x[2]


ACCEPTED = [
    list_literal_to_callee, tuple_literal_to_callee, named_list_to_callee,
    keyword_list_to_callee, list_of_arrays_of_different_shapes, nested_list_to_callee,
    list_to_two_callees, tuple_returned_by_callee, tuple_returned_and_unpacked,
    nested_tuples_returned, tuple_returned_then_sliced, augmented_list, concatenated_in_loop,
    augmented_in_loop, prepended_in_loop, tuples_concatenated, list_doubled, slice_unpacked,
    slices_of_lists, tape_callee_with_list, tape_callee_returning_tuple, appended_list_owned,
    comprehension_in_callee_list, generator_consumed_at_once, constant_list_repeated,
]


def list_passed_on_by_callee(x):
    return passes_on([x[0], x[1]])


def list_to_callee_in_loop(x):
    s = 0.0
    for i in range(3):
        s = s + sq([x[i], x[i + 1] * s])
    return s


def list_returned_by_callee_unchanged(x):
    lst = [x[0], x[1]]
    r = ident(lst)
    return r[0] * r[1] + lst[1]


def tuple_through_callee(x):
    a, b = swap((x[0], x[1] * 3.0))
    return a * a + b


def default_and_keyword_tuples(x):
    return with_default_tuple(x[0]) + with_default_tuple(x[1], v=(x[2], 1.5))


def list_added_to_itself(x):
    lst = [x[0], x[1]]
    lst += lst
    return lst[0] * lst[3] + lst[2]


def tuple_augmented_with_alias(x):
    t = (x[0],)
    u = t
    t += (x[1],)          # a new tuple: u keeps the old one
    return t[1] * u[0] + t[0]


def list_inside_tuple(x):
    lst = [x[0]]
    t = (lst, x[1])
    return t[0][0] * t[1]


def lists_through_callee(x):
    a, b = swap(([x[0], x[1]], [x[2]]))
    return a[0] * b[1]


def comprehension_then_augmented(x):
    lst = [x[i] * 2.0 for i in range(2)]
    lst += [x[3]]
    return lst[0] * lst[2] + lst[1]


def list_grown_in_branches(x):
    lst = [x[0]]
    if x[1] > 0:
        lst = lst + [x[2]]
    else:
        lst += [x[3] * 2.0]
    return lst[-1] * lst[0]


def lists_appended_in_loop_to_callee(x):
    rows = []
    for i in range(2):
        rows.append([x[i], x[i + 2]])
    return sq(rows[0]) + rows[1][1] * rows[0][1]


def rows_to_callee(x):
    rows = [[x[0], x[1]], [x[2], x[3]]]
    return sq(rows[0]) * sq(rows[1])


def enumerate_concatenated(x):
    lst = [x[0], x[1] * 2.0] + [x[2]]
    s = 0.0
    for i, v in enumerate(lst):
        s = s + v * (i + 1)
    return s


def zip_over_concatenated_tuple(x):
    a = [x[0], x[1]]
    b = (x[2], x[3])
    s = 0.0
    for u, w in zip(a, b + (1.0,), strict=False):
        s = s + u * w
    return s


def one_row_in_several_forms(x):
    rows = [[x[0], x[1]], [x[2], x[3]]]
    r = rows[0]
    return sq(r) + r[1] * rows[0][0] + np.sum(np.stack(rows[1])) * rows[1][0]


def items_of_callee_results(x):
    a, b = swap(([x[0], x[1]], (x[2], x[3])))
    return sq(a) * b[0] + a[1] * sq(b)


ACCEPTED += [
    list_passed_on_by_callee, list_to_callee_in_loop, list_returned_by_callee_unchanged,
    tuple_through_callee, default_and_keyword_tuples, list_added_to_itself,
    tuple_augmented_with_alias, list_inside_tuple, lists_through_callee,
    comprehension_then_augmented, list_grown_in_branches, lists_appended_in_loop_to_callee,
    rows_to_callee, enumerate_concatenated, zip_over_concatenated_tuple,
    one_row_in_several_forms, items_of_callee_results,
]


def tuple_iterated(x):
    s = 0.0
    for v in pair(x[0], x[1] * x[2]):
        s = s + v * v
    return s


def tuple_length_read(x):
    r = pair(x[0], x[1])
    return r[len(r) - 1] * r[0]


ACCEPTED += [tuple_iterated, tuple_length_read]


def tuple_summed_as_array(x):
    # NumPy stacks the tuple; the tape refuses to (a tensor into a plain array)
    r = pair(x, np.sin(x))
    return np.sum(r)


# -- refused -------------------------------------------------------------------

def callee_appends(x):
    lst = [x[0]]
    r = appends_to_argument(lst, x[1])
    return r + lst[1]


def callee_writes_item(x):
    lst = [x[0], x[1]]
    r = writes_into_argument(lst, x[2])
    return r + lst[0] * x[3]


def alias_appended(x):
    a = [x[0]]
    b = a
    b.append(x[1] * 3.0)
    return a[1] * a[0]


def alias_item_written(x):
    a = [x[0], x[1]]
    b = a
    b[0] = x[2] * 2.0
    return a[0] * a[1]


def alias_augmented(x):
    a = [x[0]]
    b = a
    b += [x[1]]
    return a[-1] * x[2]


def list_inside_list_changed(x):
    row = [x[0]]
    rows = [row, [x[1]]]
    row.append(x[2])
    return rows[0][1] * rows[1][0]


def nested_item_written(x):
    rows = [[x[0], x[1]], [x[2]]]
    rows[0][1] = x[3] * 2.0
    return rows[0][1] * rows[0][0] + rows[1][0]


def popped_with_index(x):
    lst = [x[0], x[1], x[2]]
    v = lst.pop(1)
    return v * lst[1]


def popped(x):
    lst = [x[0], x[1], x[2]]
    v = lst.pop()
    return v * lst[1]


def inserted(x):
    lst = [x[0], x[1]]
    lst.insert(0, x[2])
    return lst[0] * lst[2]


def extended(x):
    lst = [x[0]]
    lst.extend([x[1], x[2]])
    return lst[0] * lst[2]


def mutable_default(x):
    return np.sum(appends_to_default(x))


def generator_function(x):
    return sum(squares(x))


def generator_kept(x):
    g = (v * v for v in x)
    return sum(g) + sum(g)


def active_list_repeated(x):
    lst = [x[0], x[1]] * 2
    return lst[0] * lst[3]


def own_argument_appended(x, acc=None):
    items = [x[0]] if acc is None else acc
    items.append(x[1])
    return items[0] * items[-1]


REFUSED = [
    callee_appends, callee_writes_item, alias_appended, alias_item_written, alias_augmented,
    list_inside_list_changed, nested_item_written, popped_with_index, popped, inserted,
    extended, mutable_default, generator_function, generator_kept, active_list_repeated,
]


def callee_result_appended(x):
    lst = [x[0], x[1]]
    r = ident(lst)          # the same list: appending to r changes lst
    r.append(x[2])
    return lst[2] * x[3]


def list_from_callee_appended(x):
    v = first_two(x)        # (a fresh list, but the source engine cannot see that)
    v.append(x[2])
    return v[0] * v[2]


REFUSED += [callee_result_appended, list_from_callee_appended]
