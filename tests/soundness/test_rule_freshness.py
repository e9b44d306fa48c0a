"""An inlined rule is the rule that runs: globals and closure cells it reads, rebound after
a transform, and a rule whose code was replaced, give the new derivative (source engine
against the tape), for new transforms and for cached ones."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid

import numpy as np
import pytest

import srcgrad
from srcgrad.rules import registry

RULES = """\
    import numpy as np
    import srcgrad

    scale = 2.0

    @srcgrad.primitive
    def f(x):
        return 2.0 * x

    srcgrad.defvjp(f, lambda g, ans, x: g * scale)
    srcgrad.defjvp(f, lambda t, ans, x: t * scale)

    def make(k):
        @srcgrad.primitive
        def h(x):
            return k * x
        srcgrad.defvjp(h, lambda g, ans, x: g * k)
        def set_k(value):
            nonlocal k
            k = value
        return h, set_k

    def loss(x):
        return np.sum(f(x) * 1.0)

    def loss2(x):
        return np.sum(f(x) + 0.0)
    """


@pytest.fixture
def mod(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"rule_freshness_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(RULES))
    yield importlib.import_module(name)
    sys.modules.pop(name, None)


def _both(fun, x, **options):
    return (srcgrad.grad(fun, engine="source", **options)(x),
            srcgrad.grad(fun, engine="tape", **options)(x))


def test_rule_global_rebound_after_a_transform(mod):
    x = np.array([1.0, -2.0])
    source, tape = _both(mod.loss, x)
    assert "scale" in srcgrad.grad(mod.loss, engine="source").source   # it was inlined
    np.testing.assert_allclose(source, [2.0, 2.0])
    np.testing.assert_allclose(tape, [2.0, 2.0])
    mod.scale = 3.0
    for fun in (mod.loss, mod.loss2):       # a cached transform, and a new function
        source, tape = _both(fun, x)
        np.testing.assert_allclose(source, [3.0, 3.0])
        np.testing.assert_allclose(tape, [3.0, 3.0])


def test_forward_mode_rule_global_rebound(mod):
    x = np.array([1.0, 4.0])
    _, t = srcgrad.jvp(mod.loss, (x,), (np.ones(2),), engine="source")
    assert t == pytest.approx(4.0)
    mod.scale = -1.0
    _, t = srcgrad.jvp(mod.loss, (x,), (np.ones(2),), engine="source")
    assert t == pytest.approx(-2.0)


def test_rule_closure_cell_rebound(mod):
    h, set_k = mod.make(2.0)

    def loss(x):
        return h(x) * 1.0

    assert srcgrad.grad(loss, engine="source")(1.5) == pytest.approx(2.0)
    set_k(5.0)
    assert h(1.0) == 5.0
    assert srcgrad.grad(loss, engine="source")(1.5) == pytest.approx(5.0)
    assert srcgrad.grad(loss, engine="tape")(1.5) == pytest.approx(5.0)


def test_rule_code_replaced(mod):
    x = np.array([0.5])
    assert srcgrad.grad(mod.loss, engine="source")(x) == pytest.approx(2.0)
    rule = registry.lookup(mod.f).vjps[0]
    rule.__code__ = (lambda g, ans, x: g * 7.0).__code__
    assert srcgrad.grad(mod.loss, engine="source")(x) == pytest.approx(7.0)
    assert srcgrad.grad(mod.loss, engine="tape")(x) == pytest.approx(7.0)
