"""The check that the generic code already is the scalar variant's code (one function, no
dispatch): a structural comparison, held here to what comparing ``gast.dump`` texts of the
rewritten trees decides (the way it was first written)."""

import gast
import pytest

from srcgrad.compiler import support
from srcgrad.compiler.transform import _serves_scalars

GENERIC = """
def f_grad(x):
    t = x * x
    bt = one_like(t)
    del x
    {extra}
    return t, (bt * 2.0,)
"""
SCALAR = """
def f_grad_scalar(x):
    t = x * x
    bt = {seed}
    {extra}
    return t, (bt * 2.0,)
"""


def _functions(text: str) -> list:
    return gast.parse(text).body


def _serves(generic: str, scalar: str) -> bool:
    values = {"one_like": support.one_like}
    return _serves_scalars({"functions": _functions(generic)},
                           {"functions": _functions(scalar)}, values)


@pytest.mark.parametrize(("generic_extra", "scalar_extra", "seed", "same"), [
    ("pass", "pass", "1.0", True),          # del left out, one_like(t) read as 1.0
    ("pass", "pass", "1", False),           # 1 is not 1.0 (another constant)
    ("pass", "pass", "one_like(t)", False),
    ("y = -0.0", "y = 0.0", "1.0", False),  # equal numbers, different constants
    ("y = f_grad(x)", "y = f_grad_scalar(x)", "1.0", True),   # its own name, renamed
    ("y = g(f_grad)", "y = g(f_grad_scalar)", "1.0", False),  # (only a field's own value)
    ("y = x[0]", "y = x[1]", "1.0", False),
    ("if x:\n        del t", "if x:\n        pass", "1.0", False),
    ("if x:\n        del t\n        pass", "if x:\n        pass", "1.0", True),
])
def test_serves_scalars(generic_extra, scalar_extra, seed, same):
    generic = GENERIC.format(extra=generic_extra)
    scalar = SCALAR.format(extra=scalar_extra, seed=seed)
    assert _serves(generic, scalar) is same


def test_function_count_must_match():
    assert not _serves(GENERIC.format(extra="pass") + "\ndef g(y):\n    return y\n",
                       SCALAR.format(extra="pass", seed="1.0"))
