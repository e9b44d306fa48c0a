"""What a newcomer reads: fallback warnings at their own line, functions without
source, a missing rule under engine="auto", and decorated functions."""

from __future__ import annotations

import functools
import subprocess
import sys
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, NoRuleError, NoSourceError
from tests.compiler.fd import assert_close, numerical_grad

PLAIN = "so this runs on the tape; define it in a file to get generated code."


def _recorded(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = action()
    return result, [w for w in caught if issubclass(w.category, FallbackWarning)]


def _exec_function(text: str, name: str):
    namespace = {"np": np}
    exec(text, namespace)
    return namespace[name]


def test_exec_function_warns_plainly_at_the_users_line():
    g = _exec_function("def g(x):\n    return np.sum(x * x)\n", "g")
    grads, caught = _recorded(lambda: srcgrad.grad(g)(np.ones(2)))
    assert_close(grads, 2 * np.ones(2))
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text == f"g: no source available (defined by exec or python -c), {PLAIN}"
    assert caught[0].filename == __file__


def test_exec_callee_without_module_runs_on_the_tape_inside_generated_code():
    inner = _exec_function("def inner(x):\n    return np.sum(x * x)\n", "inner")
    assert inner.__module__ is None         # (exec'd in a namespace without __name__)

    def outer(x):
        return inner(x) * 2.0 + np.sum(np.sin(x))

    made = []
    grads, caught = _recorded(lambda: made.append(srcgrad.grad(outer)) or made[0](
        np.array([0.5, -1.0])))
    g = made[0]
    assert_close(grads, 4 * np.array([0.5, -1.0]) + np.cos(np.array([0.5, -1.0])))
    assert g.engine == "source" and "inner_pullback(" in g.source
    assert len(caught) == 1 and caught[0].filename == __file__
    assert str(caught[0].message) == (
        "inner: no source available (defined by exec or python -c), so this runs on the "
        "tape inside the generated gradient of its caller; define it in a file to get "
        "generated code.")


def test_exec_function_under_engine_source_names_no_fake_place():
    g = _exec_function("def g(x):\n    return np.sum(x * x)\n", "g")
    with pytest.raises(NoSourceError) as error:
        srcgrad.grad(g, engine="source")
    assert "<unknown>" not in str(error.value) and ":0" not in str(error.value)
    assert str(error.value).startswith("cannot differentiate g: no source available")


def test_partial_is_named_without_its_arguments():
    def f(x, w):
        return np.sum(np.sin(x) * w)

    weights = np.arange(50.0)
    p = functools.partial(f, w=weights)
    grads, caught = _recorded(lambda: srcgrad.grad(p)(np.ones(50)))
    assert_close(grads, np.cos(1.0) * weights)
    text = str(caught[0].message)
    assert text.startswith("functools.partial(test_partial_is_named_without_its_arguments."
                           "<locals>.f): no source available (a functools.partial object)")
    assert "array" not in text and "<unknown>" not in text and "0." not in text
    assert caught[0].filename == __file__


def test_python_c_warning_is_plain_and_located():
    code = ("import numpy as np, srcgrad\n"
            "def f(x):\n    return np.sum(x * x)\n"
            "print(srcgrad.grad(f)(np.ones(2)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[2. 2.]" in done.stdout
    if sys.version_info >= (3, 13) and not done.stderr:
        return  # 3.13 keeps python -c's source in linecache: it was proven and transformed
    assert f"<string>:4: FallbackWarning: f: no source available (defined by exec or " \
           f"python -c), {PLAIN}" in done.stderr
    assert "srcgrad/" not in done.stderr and "<unknown>" not in done.stderr


def _try_helper(v):
    try:
        return np.sin(v) * 2.0
    except ValueError:
        return v


def test_warnings_point_at_the_users_line_in_every_fallback():
    def outer(x):
        return np.sum(_try_helper(x * 3.0) ** 2)

    def whole(x):
        return _try_helper(x)

    x = np.array([0.1, 0.2])
    checks = [
        lambda: srcgrad.grad(outer)(x),                       # mixed mode, reverse
        lambda: srcgrad.jvp(outer, (x,), (np.ones(2),)),       # mixed mode, forward
        lambda: srcgrad.grad(lambda v: np.sum(whole(v)))(x),  # a callee on the tape
        lambda: srcgrad.vjp(whole, x),                         # top level
        lambda: srcgrad.hessian(outer)(x),
    ]
    for check in checks:
        srcgrad.api._warned.clear()
        _, caught = _recorded(check)
        assert caught, check
        assert {w.filename for w in caught} == {__file__}, [str(w.message) for w in caught]


def test_missing_rule_under_auto_shows_the_located_rule_template():
    def norule(x):
        return np.sum(np.roots(x))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        with pytest.raises(NoRuleError) as error:
            srcgrad.grad(norule)(np.ones(2))
    text = str(error.value)
    assert f"{__file__}:{norule.__code__.co_firstlineno + 1}:" in text
    assert "srcgrad.defvjp(numpy.roots, lambda g, ans, x:" in text
    assert "Tensor" not in text
    assert isinstance(error.value, TypeError)     # what the tape raised before


def test_missing_rule_on_an_inactive_path_still_runs_on_the_tape():
    def sometimes(x, use):
        return np.sum(np.roots(x)) if use else np.sum(x * x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        assert_close(srcgrad.grad(sometimes)(np.ones(2), False), 2 * np.ones(2))


# -- decorated functions --------------------------------------------------------------

def forwarding(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        """Forwards its arguments unchanged."""
        return fn(*args, **kwargs)
    return wrapper


def forwarding_through_a_name(fn):
    @functools.wraps(fn)
    def wrapper(*a, **k):
        result = fn(*a, **k)
        return result
    return wrapper


def scaling(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def dropping_first(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args[1:], **kwargs)
    return wrapper


def lying(fn):
    """__wrapped__ names one function, the code calls another."""
    def other(x, w=1.0):
        return np.sum(np.cos(x)) * w

    def wrapper(*args, **kwargs):
        return other(*args, **kwargs)
    wrapper.__wrapped__ = fn
    return wrapper


def _cubic(x, w=1.0):
    return np.sum(x ** 3) * w


class _Scaled:
    def __init__(self, fn):
        self.__wrapped__ = fn

    def __call__(self, x):
        return 2.0 * self.__wrapped__(x)


@pytest.mark.parametrize(("make", "engine"), [
    (forwarding, "source"),
    (forwarding_through_a_name, "source"),
    (lambda f: forwarding(forwarding_through_a_name(f)), "source"),
    (scaling, "tape"),
    (lying, "tape"),
    (_Scaled, "tape"),
    (functools.lru_cache, "tape"),
])
def test_decorated_functions_are_looked_through_only_when_they_forward(make, engine):
    decorated = make(_cubic)
    x = np.array([0.5, -1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        g = srcgrad.grad(decorated)
        if make is functools.lru_cache:
            assert_close(g(0.5), 3 * 0.25)
            return
        got = g(x)
    assert g.engine == engine
    assert_close(got, numerical_grad(decorated, (x,), 0))


def test_a_wrapper_that_is_not_looked_through_says_why():
    decorated = scaling(_cubic)
    srcgrad.api._warned.clear()
    with pytest.warns(FallbackWarning) as caught:
        srcgrad.grad(decorated)(np.array([0.5, -1.5]))
    text = str(caught[0].message)
    assert caught[0].filename == __file__
    assert "a decorator's wrapper (its function 'wrapper')" in text
    assert "around the original _cubic" in text
    assert "just passes its arguments on" in text


def test_dropping_wrapper_differentiates_what_runs():
    decorated = dropping_first(_cubic)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        g = srcgrad.grad(decorated, argnums=1)
        assert_close(g(np.ones(2), np.array([0.5, 2.0])), 3 * np.array([0.25, 4.0]))
        assert g.engine == "tape"


def test_forwarder_passes_keywords_and_is_used_by_callers():
    decorated = forwarding(_cubic)

    def caller(x):
        return decorated(x, w=3.0) + np.sum(x)

    g = srcgrad.grad(caller, engine="source")
    x = np.array([0.5, -1.5])
    assert_close(g(x), 9 * x ** 2 + 1)
    assert "# grad of: return np.sum(x ** 3) * w" in srcgrad.grad(decorated).source


def test_callable_object_is_its_class_call_method():
    class Model:
        def __init__(self, s):
            self.s = s

        def __call__(self, x):
            return self.s * np.sum(np.sin(x))

    model = Model(3.0)
    model.__call__ = lambda x: 0.0          # an instance attribute: model(x) ignores it
    g = srcgrad.grad(model, engine="source")
    x = np.array([0.2, 0.7])
    assert_close(g(x), 3.0 * np.cos(x))
    assert_close(g(x), numerical_grad(model, (x,), 0))


def test_staticmethod_object_is_its_function():
    g = srcgrad.grad(staticmethod(_cubic), engine="source")
    assert_close(g(np.array([2.0])), np.array([12.0]))
