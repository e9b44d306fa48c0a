"""Derivative rules shared by both engines, one module per family.

Importing this package registers every built-in rule.  The public extension
API (:func:`defvjp`, :func:`defjvp`, :func:`nondifferentiable`, ...) lives in
:mod:`srcgrad.rules.registry` and is re-exported from ``srcgrad``.
"""

from . import (  # noqa: F401  (importing registers the rules)
    builtins,
    elementwise,
    fft,
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
    complex_rules,
    defjvp,
    defrule,
    defvjp,
    get_rule,
    load_optional,
    lookup,
    nondifferentiable,
    optional_family,
    primitive,
)

# SciPy's rules register when SciPy is first used (importing SciPy is slow).
for _library in ("special", "stats", "linalg", "signal"):
    optional_family(f"scipy.{_library}", f"srcgrad.rules.scipy_{_library}")

# after the families: declares which of their rules take complex values
from . import complex_values  # noqa: E402, F401

__all__ = [
    "Rule",
    "all_rules",
    "alias",
    "complex_rules",
    "defjvp",
    "defrule",
    "defvjp",
    "get_rule",
    "load_optional",
    "lookup",
    "nondifferentiable",
    "primitive",
]
