"""Derivative rules shared by both engines, one module per family.

Importing this package registers every built-in rule.  The public extension
API (:func:`defvjp`, :func:`defjvp`, :func:`nondifferentiable`, ...) lives in
:mod:`srcgrad.rules.registry` and is re-exported from ``srcgrad``.
"""

from . import (  # noqa: F401  (importing registers the rules)
    builtins,
    elementwise,
    linalg,
    nn,
    reductions,
    selection,
    shape,
)
from .registry import (
    Rule,
    alias,
    all_rules,
    defjvp,
    defrule,
    defvjp,
    get_rule,
    lookup,
    nondifferentiable,
    primitive,
)

__all__ = [
    "Rule",
    "all_rules",
    "alias",
    "defjvp",
    "defrule",
    "defvjp",
    "get_rule",
    "lookup",
    "nondifferentiable",
    "primitive",
]
