"""Which rules are right for complex values: the audit of the registry.

A rule is real-only unless declared ``complex`` (``defvjp(..., complex=True)``,
or :func:`complex_rules` here for the families registered elsewhere); both
engines refuse complex values for a real-only rule.  The rules declared here
keep their real-valued expressions, which are right for complex values in JAX's
convention (a cotangent ``c`` of ``z`` stands for ``dz -> Re(c dz)``):

* holomorphic functions: the VJP ``g * f'(z)`` and JVP ``f'(z) * dz`` of the
  real formula, with the transpose (never the conjugate transpose) of a linear
  map (``matmul``, ``einsum``, ``inv``...);
* linear and structural operations (``sum``, ``reshape``, ``getitem``,
  ``concatenate``...), whose rules only move the cotangent around.

The rules of non-holomorphic functions (``conj``, ``real``, ``imag``,
``angle``, ``abs``, ``astype`` to a real type) are written for complex values
where they are registered.  Everything not listed stays real-only: orderings
(``max``, ``sort``, ``clip``, ``maximum``, ``median``...), statistics of
``|z|`` (``var``, ``std``, ``norm``), factorizations whose complex forms
conjugate (``eigh``, ``svd``, ``qr``, ``cholesky``), and functions that
conjugate an operand (``vdot``, ``vecdot``, ``correlate``).
``tests/test_complex_rules.py`` checks every declared rule against finite
differences in the real and imaginary directions.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from . import shape
from .registry import complex_rules, lookup

_HOLOMORPHIC = [
    np.add, np.subtract, np.multiply, np.divide, np.negative, np.positive, np.power,
    np.float_power, np.square, np.reciprocal, np.exp, np.exp2, np.expm1, np.log, np.log2,
    np.log10, np.log1p, np.sqrt, np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan,
    np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh, np.sinc,
    np.linalg.det, np.linalg.inv, np.linalg.solve, np.linalg.matrix_power,
    np.polyval, np.polymul, np.vander,
]

_LINEAR = [
    # elementwise selection and arithmetic
    np.where, builtins.sum,
    # reductions and scans
    np.sum, np.mean, np.prod, np.cumsum, np.cumprod, np.nansum, np.nanmean, np.nanprod,
    np.nancumsum, np.nancumprod, np.average, np.trace, np.diff, np.ediff1d, np.trapezoid,
    # products
    np.dot, np.matmul, np.einsum, np.inner, np.outer, np.tensordot, np.kron, np.cross,
    np.linalg.multi_dot, np.linalg.trace, np.convolve, np.polyadd, np.polysub, np.polyder,
    np.polyint,
    # shapes and indexing
    np.append, np.array, np.array_split, np.atleast_1d, np.atleast_2d, np.atleast_3d,
    np.broadcast_arrays, np.broadcast_to, np.choose, np.column_stack, np.compress,
    np.concatenate, np.copy, np.delete, np.diag, np.diagflat, np.diagonal, np.dsplit,
    np.dstack, np.expand_dims, np.extract, np.flip, np.fliplr, np.flipud, np.full, np.hsplit,
    np.hstack, np.insert, np.meshgrid, np.moveaxis, np.ravel, np.repeat, np.reshape,
    np.resize, np.roll, np.rollaxis, np.rot90, np.select, np.split, np.squeeze, np.stack,
    np.swapaxes, np.take, np.take_along_axis, np.tile, np.transpose, np.tril, np.triu,
    np.vsplit, np.vstack, operator.getitem, shape.setitem, shape.astype,
]

# rules written for complex values themselves (eig normalises its eigenvectors
# with |v|, which is not holomorphic: the rule models it exactly)
_OWN = [np.linalg.eig, np.linalg.eigvals]

_OPTIONAL = ["cumulative_sum", "cumulative_prod", "unstack", "matrix_transpose", "astype"]
_OPTIONAL_LINALG = ["diagonal", "cross", "matrix_transpose"]


def _present() -> list:
    found = [getattr(np, n) for n in _OPTIONAL if hasattr(np, n)]
    found += [getattr(np.linalg, n) for n in _OPTIONAL_LINALG if hasattr(np.linalg, n)]
    return [f for f in found if lookup(f) is not None and lookup(f).differentiable]


complex_rules(*_HOLOMORPHIC, *_LINEAR, *_OWN, *_present())
