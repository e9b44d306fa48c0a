"""Functions the source engine refuses (with a located TransformError)."""

import numpy as np


def uses_try(x):
    try:
        y = np.sin(x)
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open("f") as fh:
        fh.read()
    return x


def uses_yield(x):
    yield x * 2


def uses_global(x):
    global COUNTER
    COUNTER = 1
    return x


def uses_nonlocal(x):
    total = 0.0

    def add():
        nonlocal total
        total = total + x
    add()
    return total


def uses_eval(x):
    return eval("x * 2")


class Model:
    def __init__(self, w):
        self.w = w
        self.act = np.tanh      # a function kept on the instance: it may be replaced

    def forward(self, x):
        return self.w * x


MODEL = Model(2.0)


def calls_method(x):
    # accepted since methods are differentiated (the method of the class, on a global
    # object): tests/soundness/test_methods_builtins.py checks its gradient
    return MODEL.forward(x)


def calls_stored_function(x):
    return MODEL.act(x)


def builds_object(x):
    m = Model(x)
    return m.w


async def uses_async(x):
    return x


def uses_while_else(x):
    while x < 1:
        x = x * 2
    else:
        x = x + 1
    return x


def no_rule(x):
    return np.sum(np.roots(x).real)


def attribute_store(x):
    MODEL.w = x
    return x


def lambda_as_value(xs):
    return sum(map(lambda v: v * 2.0, xs))


def deletes_an_item(x):
    items = [x, 2.0 * x]
    del items[0]
    return items[0]


def appends_to_argument(x, base):
    items = base
    items.append(np.sin(x))
    return items[1] * 3.0


def appends_to_argument_in_loop(x, base):
    items = base
    for k in range(3):
        if k > 0:
            items.append(x * k)
    return items[-1] + items[0]


def _doubled(x):
    yield x * 2


async def _doubled_later(x):
    return x * 2


def calls_generator_function(x):
    return np.sum(list(_doubled(x))[0]) + np.sum(np.sin(x))


def calls_coroutine_function(x):
    return np.sum(_doubled_later(x)) + np.sum(np.sin(x))
