"""Every derivative rule through both engines: ``grad`` and ``jvp``, source and tape.

``tests/test_rules.py`` checks each rule's VJP and JVP directly.  This file
checks that the engines use them correctly: for every differentiable rule it
takes a few of the rule's sample cases (``tests/rule_samples``, drawn exactly
as ``test_rules`` draws them) and writes an ordinary function calling the
primitive::

    def rule_numpy_sin_0(a0):
        out = prim(a0)
        return np.sum(out * w0)

with the differentiated arguments as parameters (one parameter per element
of a sequence argument such as ``np.concatenate``'s list), the other
arguments as literals or module globals, and fixed random weights reducing
the output(s) to a scalar.  The source is compiled with
:func:`srcgrad.compiler.emit.compile_source`, so the source engine reads it
like any module-level function.  Then, for ``engine`` in ``("source",
"tape")``:

* ``srcgrad.grad(fn, argnums=all, engine=engine)`` equals the float64
  central-difference gradient of ``fn``;
* ``srcgrad.jvp(fn, primals, tangents, engine=engine)`` equals the
  directional central difference, and its primal output equals ``fn``'s value;
* ``engine="source"`` really ran the source engine (``.engine == "source"``,
  no :class:`~srcgrad.errors.FallbackWarning`).

Only the first ``CASES_PER_RULE`` cases of each rule run (one with
``SRCGRAD_QUICK`` set) so the file stays fast.  Engine bugs found this way
are listed in ``KNOWN_FAILURES`` and marked as strict xfails; calls the tape
refuses by design (``math.*``, ``float()``, ``np.full``: ``TAPE_REFUSES``)
must raise its RuntimeError there.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad.autograd.ops import tape_records
from srcgrad.compiler.emit import compile_source
from srcgrad.errors import FallbackWarning
from tests.test_rules import (
    CASES_BY_RULE,
    DIFFERENTIABLE,
    Case,
    _diff_argnums,
    _flat,
    _is_float,
    _step,
    _unflat,
)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ENGINES = ("source", "tape")
MODES = ("grad", "jvp")
CASES_PER_RULE = 1 if os.environ.get("SRCGRAD_QUICK") else 2

# Engine bugs found here, each with a minimal reproduction in a comment: none at present.
KNOWN_FAILURES: dict[tuple[str, str, str], str] = {}

# Known failures that only some of a rule's samples hit: the sample indices (a run with
# SRCGRAD_QUICK, which takes one sample per rule, does not reach them).
FAILING_SAMPLES: dict[tuple[str, str, str], set[int]] = {}

# NumPy code the tape cannot follow, refused loudly by design (as in
# tests/compiler/test_engines_agree.py): Python numbers taken from values that need a
# gradient (math.*, float()) and np.full, which stores its fill value into a plain array
# without NumPy's dispatch.  The tape must raise; the source engine handles them.
TAPE_REFUSES = frozenset(rule.name for rule in DIFFERENTIABLE
                         if not tape_records(rule.primitive))


# --- building the function -----------------------------------------------------------


def _literal(value: Any) -> str | None:
    """Source text for a plain Python constant (ints, axes, shapes, strings), else None."""
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if type(value) is int:
        return repr(value)
    if type(value) is float and np.isfinite(value):
        return repr(value)
    if isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        parts = [_literal(v) for v in value]
        if any(p is None for p in parts):
            return None
        if isinstance(value, tuple):
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        return f"[{', '.join(parts)}]"
    if isinstance(value, slice):
        parts = [_literal(v) for v in (value.start, value.stop, value.step)]
        if any(p is None for p in parts):
            return None
        return f"slice({', '.join(parts)})"
    return None


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    """``(expression, value)`` for each array/scalar inside a (nested) tuple or list output."""
    if isinstance(value, (tuple, list)):
        found = []
        for k, item in enumerate(value):
            found.extend(_leaves(item, f"{path}[{k}]"))
        return found
    return [(path, value)]


class Built:
    """A case as a plain function ``fn(*params)`` returning a float64 scalar."""

    def __init__(self, case: Case) -> None:
        rule = case.rule
        args, kwargs = case.draw()
        self.case = case
        namespace: dict[str, Any] = {
            "np": np,
            "prim": rule.primitive,
            "__name__": "tests.rule_engine_functions",
        }
        params: list[str] = []
        self.primals: list[Any] = []
        call: list[str] = []
        diff = set(_diff_argnums(rule, args))
        for i, arg in enumerate(args):
            if i in diff and i in rule.sequence_argnums and isinstance(arg, (list, tuple)):
                names = [f"a{i}_{k}" for k in range(len(arg))]
                params.extend(names)
                self.primals.extend(arg)
                bracket = "({},)" if isinstance(arg, tuple) else "[{}]"
                call.append(bracket.format(", ".join(names)))
            elif i in diff:
                params.append(f"a{i}")
                self.primals.append(arg)
                call.append(f"a{i}")
            else:
                call.append(self._constant(namespace, f"c{i}", arg))
        for key, arg in kwargs.items():
            call.append(f"{key}={self._constant(namespace, f'k_{key}', arg)}")
        out = rule.primitive(*args, **kwargs)
        rng = case.rng("engines/w")
        terms = []
        for n, (expr, leaf) in enumerate(_leaves(out, "out")):
            if not _is_float(leaf):
                continue  # indices, counts: no derivative
            w = rng.standard_normal(np.shape(leaf))
            namespace[f"w{n}"] = float(w) if type(leaf) is float else w
            terms.append(f"{expr} * w{n}" if type(leaf) is float else f"np.sum({expr} * w{n})")
        assert terms, f"{rule.name} at {case.sample!r} has no float output"
        self.params = params
        self.name = "rule_" + case.id.replace(".", "_").replace("-", "_")
        self.text = (
            f"def {self.name}({', '.join(params)}):\n"
            f"    out = prim({', '.join(call)})\n"
            f"    return {' + '.join(terms)}\n"
        )
        compile_source(self.text, f"<rule engines {case.id}>", namespace)
        self.fn = namespace[self.name]

    @staticmethod
    def _constant(namespace: dict, name: str, value: Any) -> str:
        text = _literal(value)
        if text is not None:
            return text
        namespace[name] = value
        return name

    def value(self, primals: list) -> float:
        return float(self.fn(*primals))

    def fd_gradient(self) -> list[np.ndarray]:
        """Central differences of ``fn`` with respect to each parameter (flattened)."""
        grads = []
        for p, x0 in enumerate(self.primals):
            x = _flat(x0)
            g = np.empty(x.size)
            for j in range(x.size):
                h = 1e-6 * max(1.0, abs(x[j]))
                up, down = x.copy(), x.copy()
                up[j] += h
                down[j] -= h
                g[j] = (self._at(p, up) - self._at(p, down)) / (2 * h)
            assert np.all(np.isfinite(g)), "not differentiable at this sample"
            grads.append(g)
        return grads

    def tangents(self) -> list[Any]:
        rng = self.case.rng("engines/v")
        return [_unflat(rng.standard_normal(_flat(x).size), x) for x in self.primals]

    def fd_directional(self, tangents: list) -> float:
        x = np.concatenate([_flat(p) for p in self.primals])
        v = np.concatenate([_flat(t) for t in tangents])
        h = _step(x)
        plus = self.value(self._split(x + h * v))
        minus = self.value(self._split(x - h * v))
        want = (plus - minus) / (2 * h)
        assert np.isfinite(want), "not differentiable at this sample"
        return want

    def _at(self, p: int, vec: np.ndarray) -> float:
        primals = list(self.primals)
        primals[p] = _unflat(vec, primals[p])
        return self.value(primals)

    def _split(self, vec: np.ndarray) -> list:
        out, start = [], 0
        for x in self.primals:
            n = _flat(x).size
            out.append(_unflat(vec[start : start + n], x))
            start += n
        return out


# --- which cases --------------------------------------------------------------------


def _float64_only(case: Case) -> bool:
    """The case differentiates something, and everything it differentiates is float64."""
    args, _ = case.draw()
    argnums = _diff_argnums(case.rule, args)

    def leaves(v: Any) -> list[Any]:  # nested lists too (np.block's)
        return [w for u in v for w in leaves(u)] if isinstance(v, (list, tuple)) else [v]

    values = [v for i in argnums for v in leaves(args[i])]
    return bool(values) and all(
        type(v) is float or np.asarray(v).dtype == np.float64 for v in values
    )


def _real_outputs(case: Case) -> bool:
    """The case's outputs are real: complex ones (numpy.fft's) go through both engines in
    tests/test_fft.py, with real losses checked in the real and imaginary directions."""
    args, kwargs = case.draw()
    out = case.rule.primitive(*args, **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    return not any(np.iscomplexobj(o) for o in outs if not isinstance(o, (list, tuple)))


# np.block's samples pass nested lists, which the engines take as pytrees of leaves;
# tests/test_numpy_additions.py differentiates np.block of separate arguments instead.
_ELSEWHERE = {id(np.block)}


def _selected(rule: Any) -> list[Case]:
    if id(rule.primitive) in _ELSEWHERE:
        return []
    cases = [c for c in CASES_BY_RULE.get(id(rule), []) if _float64_only(c) and
             _real_outputs(c)]
    return cases[:CASES_PER_RULE]


SELECTED = [(rule, _selected(rule)) for rule in DIFFERENTIABLE]
SELECTED = [(rule, cases) for rule, cases in SELECTED if cases]


def _params() -> list[Any]:
    params = []
    for rule, cases in SELECTED:
        for engine in ENGINES:
            for mode in MODES:
                key = (rule.name, engine, mode)
                reason = KNOWN_FAILURES.get(key)
                if key in FAILING_SAMPLES and not any(
                    c.index in FAILING_SAMPLES[key] for c in cases
                ):
                    reason = None
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                params.append(
                    pytest.param(
                        cases, engine, mode, marks=marks, id=f"{rule.name}-{engine}-{mode}"
                    )
                )
    return params


# --- the checks ---------------------------------------------------------------------


def _close(got: np.ndarray, want: np.ndarray, case: Case, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(
        got, want, rtol=case.sample.rtol, atol=case.sample.atol * scale, err_msg=what
    )


def _check_grad(built: Built, engine: str) -> None:
    what = f"grad ({engine}) of {built.case.rule.name} at {built.case.sample!r}\n{built.text}"
    argnums = tuple(range(len(built.params)))
    df = srcgrad.grad(built.fn, argnums=argnums, engine=engine)
    assert df.engine == engine, f"{what}: ran the {df.engine} engine"
    got = df(*built.primals)
    assert len(got) == len(built.primals), what
    for p, (g, x, want) in enumerate(zip(got, built.primals, built.fd_gradient(), strict=True)):
        assert np.shape(g) == np.shape(x), f"{what}: gradient {p} has shape {np.shape(g)}"
        _close(_flat(g), want, built.case, f"{what}: gradient of parameter {p}")


def _check_jvp(built: Built, engine: str) -> None:
    what = f"jvp ({engine}) of {built.case.rule.name} at {built.case.sample!r}\n{built.text}"
    tangents = built.tangents()
    out, tangent = srcgrad.jvp(built.fn, tuple(built.primals), tuple(tangents), engine=engine)
    _close(_flat(out), _flat(built.value(built.primals)), built.case, f"{what}: value")
    assert np.size(tangent) == 1, f"{what}: tangent of shape {np.shape(tangent)}"
    _close(_flat(tangent), _flat(built.fd_directional(tangents)), built.case, what)


@pytest.mark.parametrize(("cases", "engine", "mode"), _params())
def test_rule_through_engine(cases, engine, mode):
    check = _check_grad if mode == "grad" else _check_jvp
    refused = engine == "tape" and cases[0].rule.name in TAPE_REFUSES
    for case in cases:
        built = Built(case)
        with warnings.catch_warnings():
            warnings.simplefilter("error", FallbackWarning)
            if refused:
                with pytest.raises(RuntimeError, match="gradient"):
                    check(built, engine)
            else:
                check(built, engine)


def test_every_rule_is_covered():
    from tests.test_fft import CASES as FFT_CASES
    from tests.test_numpy_additions import COVERS as ADDITIONS_COVER

    covered = {rule.name for rule, _ in SELECTED}
    # numpy.fft's complex-valued transforms go through both engines in tests/test_fft.py
    covered |= {f"numpy.fft.{case[0].__name__}" for case in FFT_CASES}
    # np.block (nested-list samples) and eig/eigvals (complex outputs) go through both
    # engines in tests/test_numpy_additions.py
    covered |= set(ADDITIONS_COVER)
    missing = sorted(r.name for r in DIFFERENTIABLE if r.name not in covered)
    assert not missing, f"rules with no float64 sample to run through the engines: {missing}"


def test_known_failures_name_real_rules():
    names = {rule.name for rule, _ in SELECTED}
    for rule_name, engine, mode in KNOWN_FAILURES:
        assert rule_name in names, rule_name
        assert engine in ENGINES and mode in MODES, (engine, mode)
        assert not (engine == "tape" and rule_name in TAPE_REFUSES), rule_name
    assert set(FAILING_SAMPLES) <= set(KNOWN_FAILURES)
    assert TAPE_REFUSES <= names, sorted(TAPE_REFUSES - names)
