"""Rule samples on other array libraries: the generated gradient equals NumPy's there.

``tests/test_rules_engines.py`` writes, for each differentiable rule, a plain
function calling the primitive on a rule sample (and checks its gradient
against finite differences).  Here a representative sample of those functions
(every ``STRIDE``-th rule, so that the run stays within a few seconds per
library) is differentiated once, and the gradient computed on NumPy arrays and
on the same values as arrays of array_api_strict, PyTorch, JAX (eagerly and
under ``jax.jit``) and Dask: it must be that library's arrays with NumPy's
values.

Where the library has no function with NumPy's meaning (``np.einsum`` on
array_api_strict), srcgrad refuses with a located error naming the function:
the test then skips with that reason.  SciPy's rules are left out: SciPy's
functions convert any array to NumPy, so srcgrad refuses them on other
libraries' arrays (``test_scipy_is_refused``).
Other refusals, the library's own limits, are listed in ``LIMITS`` with the
error they must raise.
"""

from __future__ import annotations

import re

import pytest

import srcgrad
from srcgrad.errors import TransformError
from srcgrad.namespaces import MissingFunction
from tests.namespaces.libraries import LIBRARIES, Library
from tests.test_rules_engines import SELECTED, Built

STRIDE = 8
# SciPy's functions are refused on other libraries' arrays (test_scipy_is_refused)
# (and srcgrad's own rules built on SciPy's functions, srcgrad.rules.scipy_special)
NUMPY_RULES = [(rule, cases) for rule, cases in SELECTED if "scipy" not in rule.name]
SAMPLED = [(rule, cases[0]) for rule, cases in NUMPY_RULES[::STRIDE]]

# (library, rule) -> the error raised where the library, or srcgrad's namespace layer for
# it, cannot run the sample (an error, never a wrong value)
LIMITS: dict[tuple[str, str], str] = {
    # array_api_strict: bool * float, imag of real arrays, m[0] of a 3-d array
    ("strict", "numpy.array"): "multi-axes index",
    ("strict", "numpy.clip"): "numeric dtypes",
    ("strict", "numpy.imag"): "complex floating-point dtypes",
    ("strict", "numpy.linalg.cholesky"): "numeric dtypes",
    ("strict", "numpy.linalg.eigh"): "numeric dtypes",
    ("torch", "numpy.imag"): "imag is not implemented",
    # histogram2d's helper branches on array values (``if bins_array:``)
    ("jax", "numpy.histogram2d"): "truth value",
    ("jit", "numpy.histogram2d"): "Tracer|truth value",
    ("dask", "numpy.histogram2d"): "same shape and chunk",
    # values decide the output's shape: unknown when traced or lazy
    ("jit", "numpy.extract"): "Tracer",
    ("dask", "numpy.extract"): "nan",
    # Dask's linear algebra needs square chunks; its nancumprod an axis, its
    # nanpercentile a keyword axis
    ("dask", "numpy.linalg.cholesky"): "square",
    ("dask", "numpy.linalg.solve"): "square",
    ("dask", "numpy.nancumprod"): "axis",
    ("dask", "numpy.nanpercentile"): "positional",
    ("dask", "numpy.linalg.qr"): "tall-and-skinny",
    ("dask", "numpy.median"): "only works along an axis",
    ("dask", "numpy.compress"): "nan",
    ("jit", "numpy.compress"): "Tracer",
    # the helper branches on whether the maxima are finite (``if not np.all(finite)``)
    ("jit", "srcgrad.rules.nn.log_softmax"): "Tracer",
    ("jit", "srcgrad.rules.nn.logsumexp"): "Tracer",
    # array_api_strict: bool * float; its eigh takes no UPLO
    ("strict", "numpy.linalg.eigvalsh"): "numeric dtypes|positional",
}


# errors by which a library itself refuses a sample (array_api_strict's strictness about
# dtypes and indices): skipped with the library's message, wherever a new rule's sample hits
LIBRARY_REFUSES = {"strict": "Only numeric dtypes|multi-axes index|complex floating-point dtypes"}


def _lacks(err: Exception) -> str | None:
    """The reason to skip when ``err`` says the library has no such function, else None."""
    text = str(err)
    if isinstance(err, (MissingFunction, TransformError)) and "is not available for" in text:
        line = next((ln for ln in text.splitlines() if "is not available for" in ln), text)
        return line.strip().split(":")[0] if ":" in line else line.strip()
    return None


@pytest.mark.parametrize("rule,case", [pytest.param(r, c, id=r.name) for r, c in SAMPLED])
@pytest.mark.parametrize("lib", LIBRARIES, ids=[lib.name for lib in LIBRARIES])
def test_rule_sample_gradient_equals_numpy(lib: Library, rule, case) -> None:
    lib.require()
    built = Built(case)
    argnums = tuple(range(len(built.params)))
    gradient = srcgrad.grad(built.fn, argnums=argnums, engine="source")
    expected = gradient(*built.primals)
    args = [lib.convert(a) for a in built.primals]
    limit = LIMITS.get((lib.name, rule.name))
    if limit is not None:
        with pytest.raises(Exception, match=limit):
            lib.call(gradient, args)
        return
    try:
        got = lib.call(gradient, args)
    except (MissingFunction, TransformError) as err:
        reason = _lacks(err)
        if reason is None:
            raise
        pytest.skip(f"{lib.name} lacks it: {reason}")
    except (TypeError, IndexError) as err:
        refuses = LIBRARY_REFUSES.get(lib.name)
        if refuses is None or not re.search(refuses, str(err)):
            raise
        pytest.skip(f"{lib.name} refuses it: {str(err).splitlines()[0][:100]}")
    lib.check_same(got, expected, tuple(built.primals), argnums)


@pytest.mark.parametrize("lib", LIBRARIES, ids=[lib.name for lib in LIBRARIES])
def test_scipy_is_refused(lib: Library) -> None:
    lib.require()
    scipy_rules = [(rule, cases[0]) for rule, cases in SELECTED if rule.name.startswith("scipy.")]
    if not scipy_rules:
        pytest.skip("SciPy is not installed")
    for _rule, case in scipy_rules[::STRIDE]:
        built = Built(case)
        gradient = srcgrad.grad(built.fn, argnums=tuple(range(len(built.params))),
                                engine="source")
        with pytest.raises(TransformError, match="would convert the arrays to NumPy"):
            lib.call(gradient, [lib.convert(a) for a in built.primals])
