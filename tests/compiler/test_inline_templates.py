"""Inlining rules: what the compiled builders of rule templates make, for every rule.

A template's builder (made once per rule) must make exactly what the generic copy
(:class:`srcgrad.compiler.inline._Copy`) makes, attributes included; and the fold pass,
skipped for an inlined rule without a constant, negation, conditional, comparison or
folding helper, must have had nothing to do there.
"""

from __future__ import annotations

from typing import Any

import gast
import pytest

from srcgrad.compiler import inline
from srcgrad.compiler.names import Namer, Namespace
from srcgrad.compiler.normalize import clone, walk
from srcgrad.compiler.optimize import _Fold, _folding_helper
from srcgrad.rules import registry

from .transforms import dump_all


def _templates() -> list:
    found = []
    for rule in registry.all_rules():
        for kind, rules in (("vjp", rule.vjps), ("jvp", rule.jvps)):
            for pos, fn in rules.items():
                template = inline.template_for(fn)
                if template is not None:
                    found.append(pytest.param(template, id=f"{rule.name}-{kind}{pos}"))
    return found


TEMPLATES = _templates()


def _name(id_: str) -> Any:
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


def _copies(template: Any, values: dict) -> tuple:
    namespace = Namespace(Namer())
    renames = {n: namespace.bind(n, v) for n, v in template.free.items()}
    generic = inline._Copy(template, values, renames, frozenset()).node(template.body)
    built = inline._builder(template, template.body)(
        inline._Copy(template, values, renames, frozenset()))
    return generic, built, namespace


def test_every_registry_family_has_inlined_templates():
    assert len(TEMPLATES) > 200


@pytest.mark.parametrize("template", TEMPLATES)
def test_builder_makes_what_the_generic_copy_makes(template):
    names = {p: _name(f"v_{p}") for p in template.params}
    generic, built, _ = _copies(template, names)
    assert dump_all(built) == dump_all(generic)
    # constants substituted (math.f(constants) folds in both)
    numbers = {p: gast.Constant(value=2.0, kind=None) for p in template.params}
    generic, built, _ = _copies(template, numbers)
    assert dump_all(built) == dump_all(generic)
    # a fresh tree: no node of the template or of the values is in it
    held = {id(n) for n in walk(template.body)} | {
        id(n) for v in names.values() for n in walk(v)}
    assert not any(id(n) in held for n in walk(built))


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_given_value_read_once_is_taken_uncopied(template):
    first = template.params[0]
    g = _name("g_given")
    values = {p: _name(f"v_{p}") for p in template.params}
    values[first] = g
    namespace = Namespace(Namer())
    renames = {n: namespace.bind(n, v) for n, v in template.free.items()}
    built = inline._builder(template, template.body)(
        inline._Copy(template, values, renames, frozenset(), {first}))
    if template.uses.get(first, 0) == 1:
        assert any(n is g for n in walk(built))
    assert not any(n is values[p] for p in template.params[1:] for n in walk(built))


@pytest.mark.parametrize("template", TEMPLATES)
def test_fold_has_nothing_to_do_without_foldable_nodes(template):
    _, built, namespace = _copies(template, {p: _name(f"v_{p}") for p in template.params})
    values = namespace.values
    foldable = any(isinstance(n, (gast.Constant, gast.UnaryOp, gast.IfExp, gast.Compare))
                   or (isinstance(n, gast.Call) and _folding_helper(n, values))
                   for n in walk(built))
    if foldable:
        pytest.skip("foldable: the fold pass runs")
    assert dump_all(_Fold(values).visit(clone(built))) == dump_all(built)
