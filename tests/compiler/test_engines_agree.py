"""The corpus through both engines: generated code and the tape must agree."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import srcgrad
from srcgrad.compiler import compile_grad

from .corpus import CASES

# Gradients the tape engine gets wrong or cannot compute yet (the source engine
# matches finite differences on all of them): math.* on Tensors, item
# assignment, some ndarray methods.
# NumPy code the tape cannot follow: Python numbers taken from values that need a
# gradient (math.*, float()), values stored into plain NumPy arrays, and NumPy
# reductions of Python lists of such values (NumPy makes one plain array of the
# list first).  The tape refuses them loudly (tested below); the source engine
# handles them.
TAPE_REFUSES = {"scalar_python", "builtins_math", "math_module", "subscript_write",
                "subscript_write_loop", "list_slices_reduced"}


def _close(a, b):
    if isinstance(b, (list, tuple)):
        for u, v in zip(a, b, strict=True):
            _close(u, v)
        return
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_source_and_tape_agree(case):
    if case.name in TAPE_REFUSES:
        with pytest.raises(RuntimeError, match="gradient"):
            srcgrad.grad(case.fun, argnums=case.argnums, engine="tape")(
                *copy.deepcopy(case.args))
        return
    tape = srcgrad.grad(case.fun, argnums=case.argnums, engine="tape")
    expected = tape(*copy.deepcopy(case.args))
    _, grads = compile_grad(case.fun, case.argnums).function(*copy.deepcopy(case.args))
    _close(grads, expected)
