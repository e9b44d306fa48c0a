"""Write ``docs/numpy-coverage.md``: srcgrad's rule registry against NumPy's namespace.

Run from the repository root::

    python tools/numpy_coverage.py            # rewrite docs/numpy-coverage.md
    python tools/numpy_coverage.py --check    # exit 1 when the file is out of date
    python tools/numpy_coverage.py --gaps     # print the uncovered NumPy callables

Everything in the document is computed: the table walks the registry
(``srcgrad.rules.all_rules()``), and "Not yet covered" lists the public
callables of ``numpy``, ``numpy.linalg``, ``numpy.fft`` and the ``ndarray`` methods that
look differentiable but have no rule.  A callable *looks differentiable*
when it is a ufunc with a floating-point loop (``d->d``, ``dd->d``...) or a
function that takes arrays (it dispatches through NumPy's
``__array_function__`` protocol), except the input/output and printing
functions.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import srcgrad  # noqa: E402,F401  (registers the built-in rules)
from srcgrad.autograd.ops import tape_records  # noqa: E402
from srcgrad.rules import all_rules, load_optional, lookup  # noqa: E402

# Why a callable has no rule yet, where that is decided rather than merely not done.
_IN_PLACE = ("writes into its argument: the source engine refuses in-place writes it cannot "
             "model as item writes, and a rule cannot express one")
WHY_NOT = {
    "numpy.put_along_axis": _IN_PLACE + "; write `a[idx] = v` on a copy instead",
    "numpy.fill_diagonal": _IN_PLACE + "; write `a[i, i] = v` on a copy instead",
    "numpy.put": _IN_PLACE,
    "numpy.putmask": _IN_PLACE,
    "numpy.place": _IN_PLACE,
    "numpy.copyto": _IN_PLACE,
    "numpy.piecewise": "takes user functions, which a fixed rule cannot differentiate; "
                       "write it with `np.where` (or run it on the tape)",
    "numpy.apply_along_axis": "takes a user function, which a fixed rule cannot "
                              "differentiate; write the loop or a vectorised expression",
    "numpy.apply_over_axes": "takes a user function, which a fixed rule cannot differentiate",
}
from srcgrad.rules.registry import (  # noqa: E402
    Rule,
    _default_node_name,
    primitive_name,
    registered_callables,
)

DOC = ROOT / "docs" / "numpy-coverage.md"

# Modules whose functions read, write or print arrays rather than compute with them.
NOT_COMPUTATIONS = ("_npyio_impl", "arrayprint", "_datasource", "_format_impl")

# ndarray methods spelled differently from the NumPy function they mean.
METHOD_FUNCTIONS = {"flatten": "ravel", "conj": "conjugate"}

FAMILY_TITLES = {
    "elementwise": "Elementwise functions, ufuncs and operators",
    "reductions": "Reductions, statistics and cumulative functions",
    "shape": "Shape, joining, splitting, indexing and array creation",
    "linalg": "Products, linear algebra, polynomials and interpolation",
    "fft": "Discrete Fourier transforms (numpy.fft)",
    "nn": "Neural-network primitives",
    "builtins": "Python builtins and the math module",
    "selection": "Values with indices",
}

# Families of optional libraries: listed after NumPy's, counted apart.
OPTIONAL_TITLES = {
    "scipy_special": "SciPy: scipy.special",
    "scipy_stats": "SciPy: scipy.stats",
    "scipy_linalg": "SciPy: scipy.linalg",
    "scipy_signal": "SciPy: scipy.signal",
}


# --- what looks differentiable ------------------------------------------------------


def _floating_loop(ufunc: np.ufunc) -> bool:
    """Whether a ufunc has a loop taking and returning float64 (``d->d``, ``dd->d``, ``d->dd``)."""
    for types in ufunc.types:
        inputs, _, outputs = types.partition("->")
        if "d" in inputs and "d" in outputs:
            return True
    return False


def _takes_arrays(fun: Any) -> bool:
    """Whether ``fun`` dispatches on array arguments (NumPy's ``__array_function__`` protocol)."""
    implementation = getattr(fun, "_implementation", None)
    if implementation is None:
        return False
    module = getattr(implementation, "__module__", "") or ""
    return not any(part in module for part in NOT_COMPUTATIONS)


def looks_differentiable(fun: Any) -> bool:
    """A floating-point ufunc or a function computing on arrays."""
    if isinstance(fun, np.ufunc):
        return _floating_loop(fun)
    return _takes_arrays(fun)


def public_callables(module: Any, prefix: str) -> list[tuple[str, Any]]:
    """``(qualified name, callable)`` for a module's public functions and ufuncs."""
    out = []
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        fun = getattr(module, name)
        if isinstance(fun, type) or inspect.ismodule(fun) or not callable(fun):
            continue
        out.append((f"{prefix}.{name}", fun))
    return out


def method_targets() -> list[tuple[str, Any]]:
    """``(ndarray.method, the NumPy function it computes)`` for the methods that have one."""
    out = []
    for name in sorted(dir(np.ndarray)):
        if name.startswith("_") or not callable(getattr(np.ndarray, name)):
            continue  # attributes (shape, real, T...) are not methods
        target = getattr(np, METHOD_FUNCTIONS.get(name, name), None)
        if target is None or not callable(target) or isinstance(target, type):
            continue
        out.append((f"ndarray.{name}", target))
    return out


def uncovered() -> list[tuple[str, str]]:
    """``(name, why it looks differentiable)`` for NumPy callables without any rule."""
    gaps = []
    seen: set[int] = set()
    for name, fun in [*public_callables(np, "numpy"), *public_callables(np.linalg, "numpy.linalg"),
                      *public_callables(np.fft, "numpy.fft"), *method_targets()]:
        if lookup(fun) is not None or not looks_differentiable(fun):
            continue
        if name.startswith("ndarray.") and id(fun) in seen:
            continue  # the function itself is listed already
        seen.add(id(fun))
        kind = "ufunc" if isinstance(fun, np.ufunc) else "array function"
        if name.startswith("ndarray."):
            kind = f"method (numpy.{getattr(fun, '__name__', '?')})"
        gaps.append((name, kind))
    return gaps


# --- the registry table ---------------------------------------------------------------


def family(rule: Rule) -> str:
    """The rule's family: the last part of the module that registered it."""
    module = rule.module or "unknown"
    if module.startswith("srcgrad.rules."):
        return module.rsplit(".", 1)[-1]
    return module


def _parameters(rule: Rule) -> list[str] | None:
    for fun in (*rule.vjps.values(), *rule.jvps.values()):
        try:
            return list(inspect.signature(fun).parameters.values())[2:]
        except (TypeError, ValueError):
            return None
    return None


def argument_names(rule: Rule) -> str:
    """The differentiable arguments, by the primitive's parameter names."""
    params = _parameters(rule)
    positional = varargs = []
    if params is not None:
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
        varargs = [p for p in params if p.kind == p.VAR_POSITIONAL]
    names = []
    for i in rule.argnums:
        label = f"#{i}"
        if i < len(positional):
            label = positional[i].name
        elif varargs:
            label = f"*{varargs[0].name}"
        if i in rule.sequence_argnums:
            label += "[]"
        if label not in names:
            names.append(label)
    return ", ".join(names)


def node_label(rule: Rule) -> str:
    if not tape_records(rule.primitive):
        return "none: the tape refuses it"
    node = rule.node
    if node is None:
        return _default_node_name(rule.name)
    if isinstance(node, str):
        return node
    return "(depends on the call)"


def aliases() -> dict[int, list[str]]:
    """Other spellings sharing each rule (``operator.mul`` for ``numpy.multiply``)."""
    out: dict[int, list[str]] = {}
    for fun in registered_callables():
        rule = lookup(fun)
        if rule is not None and fun is not rule.primitive and rule.module.startswith("srcgrad."):
            out.setdefault(id(rule), []).append(primitive_name(fun))
    return {k: sorted(v) for k, v in out.items()}


def _row(rule: Rule, also: list[str]) -> str:
    name = f"`{rule.name}`"
    if also:
        name += " (also " + ", ".join(f"`{a}`" for a in also) + ")"
    if not rule.differentiable:
        return f"| {name} | constant | | |"
    jvp = "yes" if set(rule.jvps) >= set(rule.vjps) else "no"
    outputs = f" ({rule.outputs} outputs)" if rule.outputs > 1 else ""
    node = node_label(rule)
    node = node if not tape_records(rule.primitive) else f"`{node}`"
    return f"| {name} | {argument_names(rule)}{outputs} | {jvp} | {node} |"


def builtin_rules() -> list[Rule]:
    """The rules srcgrad itself registers (not those a user program adds), SciPy's included."""
    load_optional(import_libraries=True)
    return [r for r in all_rules() if r.module.startswith("srcgrad.")]


def _scipy_version() -> str | None:
    scipy = sys.modules.get("scipy")
    return None if scipy is None else ".".join(scipy.__version__.split(".")[:2])


def _family_section(fam: str, members: list[Rule], also: dict) -> list[str]:
    n_diff = sum(r.differentiable for r in members)
    lines = [
        f"## {FAMILY_TITLES.get(fam) or OPTIONAL_TITLES.get(fam) or fam}",
        "",
        f"`srcgrad/rules/{fam}.py`: {n_diff} differentiable, "
        f"{len(members) - n_diff} constant.",
        "",
        "| primitive | differentiable arguments | JVP | tape node |",
        "|---|---|---|---|",
    ]
    for rule in sorted(members, key=lambda r: (not r.differentiable, r.name)):
        lines.append(_row(rule, also.get(id(rule), [])))
    lines.append("")
    return lines


def method_rows() -> list[str]:
    """One table row per ``ndarray`` method with a NumPy function: the rule it uses."""
    rows = []
    for name, fun in method_targets():
        if not looks_differentiable(fun):
            continue
        rule = lookup(fun)
        if rule is None:
            status = "no rule"
        elif rule.differentiable:
            status = f"`{rule.name}`"
        else:
            status = "constant"
        rows.append(f"| `{name}` | {status} |")
    return rows


def render() -> str:
    """The whole document, as text."""
    every = builtin_rules()
    rules = [r for r in every if family(r) not in OPTIONAL_TITLES]
    optional = [r for r in every if family(r) in OPTIONAL_TITLES]
    also = aliases()
    differentiable = [r for r in rules if r.differentiable]
    constant = [r for r in rules if not r.differentiable]
    n_aliases = sum(len(v) for v in also.values())
    gaps = uncovered()
    lines = [
        "# NumPy coverage",
        "",
        "<!-- Generated by `python tools/numpy_coverage.py` from the rule registry; "
        "do not edit by hand. -->",
        "",
        "Every primitive srcgrad can differentiate, read from the rule registry "
        "(`srcgrad.rules.all_rules()`), and the NumPy callables it does not know yet.",
        "Both engines use these rules: the source engine inlines them into generated code, "
        "the tape records one node per call (named as in the last column). The tape "
        "refuses Python's `math` functions and `float()` on Tensors (they would take a "
        "plain number out of a value that needs a gradient) and `np.full` (its fill value "
        "goes into a plain array): those are differentiable in the source engine only. "
        "An argument not listed as differentiable has no rule: a value depending on the "
        "differentiated inputs that reaches it is refused by both engines, never given a "
        "zero derivative, unless the rule declares the argument non-differentiable (a "
        "condition, a mask; see docs/rules.md).",
        "",
        f"- **{len(differentiable)}** differentiable primitives (VJP and JVP for each "
        "differentiable argument)",
        f"- **{len(constant)}** functions with constant results (no derivative: "
        "integer, boolean and index results, comparisons, array creation)",
        f"- **{n_aliases}** other spellings sharing those rules",
        f"- **{len(gaps)}** NumPy callables that look differentiable but have no rule yet",
        "",
        "At points where a derivative is not defined the rules follow PyTorch and JAX: "
        "`abs'(0) = 0`, ties in `max`/`min`/`maximum`/`minimum` (and `ptp`, `median`) "
        "share the gradient evenly, the 2-norm and the Frobenius norm have gradient 0 at "
        "the zero vector, `sqrt'(0) = inf`, `clip` passes the gradient on its bounds. "
        "Integer and boolean arguments (indices, masks, counts) are constants.",
        "",
    ]
    by_family: dict[str, list[Rule]] = {}
    for rule in rules:
        by_family.setdefault(family(rule), []).append(rule)
    order = [f for f in FAMILY_TITLES if f in by_family] + sorted(
        f for f in by_family if f not in FAMILY_TITLES)
    for fam in order:
        lines += _family_section(fam, by_family[fam], also)
    lines += [
        "## ndarray methods",
        "",
        "Array methods compute what the NumPy function of the same name computes "
        "(`x.flatten()` is `numpy.ravel`, `x.conj()` is `numpy.conjugate`) and use its rule.",
        "",
        "| method | rule |",
        "|---|---|",
        *method_rows(),
        "",
        "## Not yet covered",
        "",
        "Public callables of `numpy`, `numpy.linalg`, `numpy.fft` and `ndarray` methods that look "
        "differentiable (a ufunc with a floating-point loop, or a function taking arrays) "
        "but have no rule, so calling them on a differentiated value fails with a message "
        "naming the function (register a rule with `srcgrad.defvjp`). "
        f"{len(gaps)} in NumPy {_numpy_version()}:",
        "",
        "| callable | kind | why not yet |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {kind} | {WHY_NOT.get(name, '')} |" for name, kind in gaps]
    lines.append("")
    lines += _scipy_sections(optional, also)
    return "\n".join(lines)


def _scipy_sections(optional: list[Rule], also: dict) -> list[str]:
    """SciPy's families (registered when SciPy is installed: ``pip install srcgrad[scipy]``)."""
    n_diff = sum(r.differentiable for r in optional)
    lines = [
        "## SciPy",
        "",
        "With SciPy installed (`pip install srcgrad[scipy]`) its rules register the first "
        "time a differentiated function uses `scipy.special`, `scipy.stats`, "
        "`scipy.linalg` or `scipy.signal` (`import srcgrad` does not import SciPy). "
        f"**{n_diff}** differentiable SciPy primitives in SciPy {_scipy_version()}. "
        "The ufuncs of `scipy.special` are recorded by the tape too; SciPy's other "
        "functions turn their arguments into plain arrays, so the tape refuses them "
        "and the source engine differentiates them. The rules are for real arguments; "
        "orders of Bessel functions and of `polygamma`, and discrete arguments, raise "
        "when a derivative is asked of them. See [scipy.md](scipy.md).",
        "",
    ]
    by_family: dict[str, list[Rule]] = {}
    for rule in optional:
        by_family.setdefault(family(rule), []).append(rule)
    for fam in [f for f in OPTIONAL_TITLES if f in by_family]:
        lines += _family_section(fam, by_family[fam], also)
    return lines


def _numpy_version() -> str:
    return ".".join(np.__version__.split(".")[:2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the document is stale")
    parser.add_argument("--gaps", action="store_true", help="print the uncovered callables")
    options = parser.parse_args(argv)
    if options.gaps:
        for name, kind in uncovered():
            print(f"{name}  ({kind})")
        return 0
    text = render()
    if options.check:
        current = DOC.read_text() if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is out of date: run python tools/numpy_coverage.py")
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
