"""Random small programs at the boundaries of the supported language: aliases, views,
writes in place, repeated indices, ``out=``, lists and tuples through calls, a
callee changing its list argument, methods of an object, builtins on arrays.

Each program is checked on the source engine, the tape and float64 central
differences.  The source engine may refuse (``TransformError``) and the tape
may refuse (``RuntimeError``/``TypeError``), but neither may disagree with the
differences.  CI runs the profile's examples (15 with ``SRCGRAD_QUICK=1``); a
longer run: ``SRCGRAD_BOUNDARY_EXAMPLES=2000 pytest tests/soundness/test_boundary_programs.py``.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError

from ..compiler.fd import numerical_grad
from .modules import load_module

# (statement template, names it needs, name it defines)
_STEPS = [
    ("b = y", {"y"}, "b"),
    ("v = y[1:]", {"y"}, "v"),
    ("v = y.reshape(2, 2)[0]", {"y"}, "v"),
    ("v = y[::-1]", {"y"}, "v"),
    ("w = v[1:]", {"v"}, "w"),
    ("y[0] = x[1] * 2.0", {"y"}, None),
    ("y[[0, 0]] = x[1:3]", {"y"}, None),
    ("y[[1, -3, 1]] += x[:3] * 0.5", {"y"}, None),
    ("y += x * x", {"y"}, None),
    ("b[2] = np.sin(x[0])", {"b"}, None),
    ("b *= 1.5", {"b"}, None),
    ("v[0] = x[3] ** 2", {"v"}, None),
    ("v += x[0]", {"v"}, None),
    ("w[0] = x[2] * 3.0", {"w"}, None),
    ("y = y * x", {"y"}, None),
    ("y = np.tanh(y)", {"y"}, None),
    ("np.multiply(x, y, out=y)", {"y"}, None),
    ("for i in range(2):\n        y[i] = y[i + 1] * x[i]", {"y"}, None),
    ("s = norm2([x[0], y[1]])", {"y"}, "s"),
    ("s = norm2(v=(y[2], x[3] * y[0]))", {"y"}, "s"),
    ("p = pair(y, x)[0]", {"y"}, "p"),
    ("p, q = pair(x[1:], y[:3])", {"y"}, "p"),
    ("t = sum(pushed([x[0]], y[1]))", {"y"}, "t"),
    ("t = sum([y[0], x[1]] + [y[2]])", {"y"}, "t"),
    ("m = max(y)", {"y"}, "m"),
    ("m = min(y[0], x[2], 0.5)", {"y"}, "m"),
    ("m = sum(y * x)", {"y"}, "m"),
    ("k = SCALER.apply(y)", {"y"}, "k"),
]

_PRELUDE = """import numpy as np


def norm2(v):
    return v[0] * v[0] + v[1] * v[1]


def pair(a, b):
    return a * b, a + b


def pushed(lst, v):
    lst.append(v * 2.0)        # changes the caller's list
    return lst


class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, v):
        return np.tanh(v) * self.k


SCALER = Scaler(1.5)

"""


@st.composite
def programs(draw):
    lines = [draw(st.sampled_from(["y = x * 1.0", "y = np.zeros(4)", "y = x.copy()"]))]
    defined = {"y"}
    for _ in range(draw(st.integers(2, 6))):
        usable = [s for s in _STEPS if s[1] <= defined]
        text, _, made = draw(st.sampled_from(usable))
        lines.append(text)
        if made:
            defined.add(made)
    result = " + ".join(f"np.sum({n} * {n})" for n in sorted(defined))
    return lines + [f"return {result} + np.sum(x)"]


def _load(lines, tmp_path):
    source = _PRELUDE + "\ndef f(x):\n" + "".join(f"    {ln}\n" for ln in lines)
    return load_module(tmp_path, source, "boundary_program").f, source


_EXAMPLES = int(os.environ.get("SRCGRAD_BOUNDARY_EXAMPLES", 0)) or None


@settings(**({"max_examples": _EXAMPLES} if _EXAMPLES else {}),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(programs())
def test_boundary_programs_agree_or_refuse(tmp_path, lines):
    f, source = _load(lines, tmp_path)
    x = np.array([0.3, -0.7, 1.1, 0.45])
    expected = numerical_grad(f, (x,), 0)
    for engine in ("source", "tape"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            try:
                grad = srcgrad.grad(f, engine=engine)(np.copy(x))
            except TransformError:
                assert engine == "source", source
                continue
            except (RuntimeError, TypeError):
                assert engine == "tape", source
                continue
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{engine} engine on\n{source}")
