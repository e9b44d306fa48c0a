"""Replacing one of srcgrad's built-in rules is an explicit act (``override=True``)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.rules import registry


@pytest.fixture
def saved_registry():
    """Restore the registry however a test leaves it (a rule changed here must not leak)."""
    saved = dict(registry._RULES)
    rules = {id(r): (r, dict(r.vjps), dict(r.jvps), r.differentiable, r.node)
             for r in saved.values()}
    generation = registry.GENERATION[0]
    yield
    registry._RULES.clear()
    registry._RULES.update(saved)
    for rule, vjps, jvps, differentiable, node in rules.values():
        rule.vjps.clear()
        rule.vjps.update(vjps)
        rule.jvps.clear()
        rule.jvps.update(jvps)
        rule.differentiable, rule.node = differentiable, node
        rule._plans.clear()
    registry.GENERATION[0] = generation + 1_000   # code generated meanwhile is stale


@pytest.mark.parametrize("change", [
    lambda: srcgrad.defvjp(np.multiply, lambda g, ans, x, y: g * y),
    lambda: srcgrad.defjvp(np.sin, lambda dx, ans, x: dx),
    lambda: srcgrad.defrule(np.cos, vjps=(lambda g, ans, x: g,)),
    lambda: srcgrad.nondifferentiable(np.exp),
    lambda: srcgrad.alias(np.tanh, np.sin),
], ids=["defvjp", "defjvp", "defrule", "nondifferentiable", "alias"])
def test_changing_a_builtin_rule_needs_override(change, saved_registry):
    before = {f: (dict(registry.get_rule(f).vjps), dict(registry.get_rule(f).jvps),
                  registry.get_rule(f)) for f in (np.multiply, np.sin, np.cos, np.exp, np.tanh)}
    with pytest.raises(srcgrad.RuleExistsError, match="override=True"):
        change()
    for f, (vjps, jvps, rule) in before.items():
        assert registry.get_rule(f) is rule and rule.vjps == vjps and rule.jvps == jvps
    # the derivatives are untouched
    assert srcgrad.grad(lambda x: np.sin(x) * np.exp(x))(0.3) == pytest.approx(
        np.exp(0.3) * (np.sin(0.3) + np.cos(0.3)))


def test_override_replaces_a_builtin_rule(saved_registry):
    srcgrad.defvjp(np.sin, lambda g, ans, x: 2.0 * g, override=True)
    assert srcgrad.grad(lambda x: np.sin(x), engine="tape")(0.3) == 2.0
    srcgrad.nondifferentiable(np.exp, override=True)
    assert not registry.get_rule(np.exp).differentiable


def test_own_primitives_are_registered_again_freely(saved_registry):
    @srcgrad.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)

    srcgrad.defvjp(softplus, lambda g, ans, x: g)
    srcgrad.defvjp(softplus, lambda g, ans, x: g / (1.0 + np.exp(-x)))
    srcgrad.defjvp(softplus, lambda dx, ans, x: dx / (1.0 + np.exp(-x)))
    srcgrad.defjvp(softplus, lambda dx, ans, x: dx / (1.0 + np.exp(-x)))
    assert srcgrad.grad(softplus, engine="tape")(0.0) == pytest.approx(0.5)


def test_a_missing_builtin_jvp_is_added_without_override(saved_registry):
    rule = registry.get_rule(np.negative)
    rule.jvps.pop(0, None)       # a built-in rule without a JVP for argument 0
    srcgrad.defjvp(np.negative, lambda dx, ans, x: -dx)
    assert 0 in rule.jvps
