"""Generated code on other array libraries: the corpus, with values equal to NumPy's.

Each sampled corpus function is differentiated once, and its gradient is
computed on NumPy arrays and on the same values as arrays of another library
(array_api_strict, PyTorch on the CPU, JAX eagerly and under ``jax.jit``,
Dask).  The gradients must be that library's arrays and equal NumPy's.  The
functions a library cannot run (its own limits: no ``len`` of an
array_api_strict array, Dask's chunked reshape, Python branches on values
JAX traces) are listed with the error they must raise: never a wrong value.
"""

from __future__ import annotations

import copy

import pytest

import srcgrad
from tests.compiler.corpus import CASES
from tests.namespaces.libraries import LIBRARIES, Library

SAMPLE = ("straight_line", "reassign", "augmented", "unary_ops", "matmul", "power_ops",
          "broadcasting", "reductions_axis", "dot_and_outer", "where_and_maximum",
          "keyword_args", "if_else", "for_range", "loop_carried_array", "loop_over_list",
          "while_loop", "loop_with_if", "subscript_read", "subscript_newaxis",
          "subscript_write", "subscript_write_loop",
          "calls_helper", "helper_loop", "nested_def", "uses_lambda", "list_comprehension",
          "stack_list", "concatenate", "array_methods", "reshape_transpose", "dot_method",
          "astype_method", "rnn", "softmax_cross_entropy", "gaussian_mixture_nll",
          "einsum_and_tensordot", "norm_and_solve", "nn_rules", "min_max_arrays",
          "clip_and_abs", "list_slices_reduced")
BY_NAME = {c.name: c for c in CASES if c.name in SAMPLE}

# (library, function) -> the error the library's own limits raise
LIMITS = {
    ("strict", "where_and_maximum"): "numeric dtypes",      # bool * float
    ("strict", "clip_and_abs"): "numeric dtypes",
    ("strict", "subscript_read"): "ellipsis",               # m[0] of a matrix
    ("strict", "stack_list"): "ellipsis",
    ("strict", "rnn"): "ellipsis",
    ("strict", "min_max_arrays"): "numeric dtypes",
    ("strict", "list_slices_reduced"): "iteration",   # a list of arrays
    ("strict", "nn_rules"): "numeric dtypes",           # bool * float
    ("strict", "einsum_and_tensordot"): "np.einsum on array_api_strict",
    ("strict", "norm_and_solve"): "np.linalg.norm on array_api_strict",
    ("dask", "reshape_transpose"): "reshape",               # chunks split unevenly
    ("dask", "norm_and_solve"): "square",                   # LU needs square chunks
    ("jit", "if_else"): "Tracer",                           # Python branch on a traced value
    ("jit", "nn_rules"): "Tracer",
}


@pytest.mark.parametrize("name", SAMPLE)
@pytest.mark.parametrize("lib", LIBRARIES, ids=[lib.name for lib in LIBRARIES])
def test_corpus_gradient_equals_numpy(lib: Library, name: str) -> None:
    lib.require()
    case = BY_NAME[name]
    gradient = srcgrad.grad(case.fun, argnums=case.argnums, engine="source")
    expected = gradient(*copy.deepcopy(case.args))
    args = [lib.convert(a) for a in copy.deepcopy(case.args)]
    limit = LIMITS.get((lib.name, name))
    if limit is not None:
        with pytest.raises(Exception, match=limit):
            lib.call(gradient, args)
        return
    got = lib.call(gradient, args)
    lib.check_same(got, expected, case.args, case.argnums)
