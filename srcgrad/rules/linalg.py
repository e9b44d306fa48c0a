"""Rules: products (matmul, dot, einsum, ...) and np.linalg.

Products are linear in each operand, so each JVP is the product with the
tangent in that operand's place and each VJP contracts the output's
cotangent with the other operand.

The decompositions follow the standard matrix-calculus results (Giles,
"An extended collection of matrix derivative results"; Murray on the
Cholesky factor; Townsend on the SVD).  Their assumptions are the usual
ones and are stated on each rule: distinct eigenvalues for ``eigh``,
distinct nonzero singular values for ``svd``, full rank for ``qr`` and
``pinv``.  ``cholesky`` and ``eigh`` read one triangle of their input (the
lower one by default), so their cotangents live on that triangle: exactly
the derivative of what NumPy computes.  For a symmetric input built from
other values (``a = x @ x.T``) this gives the same gradient as the
symmetrized convention.

Multi-output rules (``slogdet``, ``eigh``, ``svd``, ``qr``) receive a tuple
cotangent with ``None`` for outputs that were not used, and their JVPs
return a tuple of tangents.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..runtime import expand_reduced, unbroadcast
from ._shape_helpers import (
    cholesky_cotangent,
    cholesky_tangent,
    dot_left_cotangent,
    dot_right_cotangent,
    eigh_cotangent,
    eigh_tangent,
    einsum_cotangent,
    inner_left_cotangent,
    inner_right_cotangent,
    kron_left_cotangent,
    kron_right_cotangent,
    matmul_left_cotangent,
    matmul_right_cotangent,
    matrix_power_cotangent,
    matrix_power_tangent,
    mT,
    norm_partials,
    part,
    pinv_cotangent,
    pinv_tangent,
    qr_cotangent,
    qr_tangent,
    solve_left_cotangent,
    solve_left_tangent,
    solve_right_cotangent,
    svd_cotangent,
    svd_tangent,
    tensordot_left_cotangent,
    tensordot_right_cotangent,
    with_operand,
)
from .registry import alias, defjvp, defvjp

__all__ = ["product_node_name", "EINSUM_OPERANDS"]


def _shape(x: Any) -> tuple:
    # Reads the attribute directly: np.shape on a Tensor would go through the
    # array-function protocol, a slow path for a name lookup.
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def product_node_name(a: Any, b: Any) -> str:
    """PyTorch's node for ``a @ b``, which depends on the operands' ranks."""
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 1 and nb == 1:
        return "DotBackward0"
    if na == 2 and nb == 1:
        return "MvBackward0"
    if na == 2 and nb == 2:
        return "MmBackward0"
    if na == 1 and nb == 2:
        return "SqueezeBackward4"
    if na == 3 and nb == 3 and _shape(a)[0] == _shape(b)[0]:
        return "BmmBackward0"
    return "MatmulBackward0"


def _product_node(is_tensor: tuple, kwargs: dict, args: tuple) -> str:
    if len(args) < 2:
        return "MatmulBackward0"
    if not _shape(args[0]) or not _shape(args[1]):
        return "MulBackward0"
    return product_node_name(args[0], args[1])


# --- products ---------------------------------------------------------------------

defvjp(np.matmul,
       lambda g, ans, a, b: matmul_left_cotangent(g, a, b),
       lambda g, ans, a, b: matmul_right_cotangent(g, a, b),
       node=_product_node)
defjvp(np.matmul,
       lambda dx, ans, a, b: dx @ b,
       lambda dx, ans, a, b: a @ dx)
alias(operator.matmul, np.matmul)

defvjp(np.dot,
       lambda g, ans, a, b, out=None: dot_left_cotangent(g, a, b),
       lambda g, ans, a, b, out=None: dot_right_cotangent(g, a, b),
       node=_product_node)
defjvp(np.dot,
       lambda dx, ans, a, b, out=None: np.dot(dx, b),
       lambda dx, ans, a, b, out=None: np.dot(a, dx))

# Both operands flattened (real values: no conjugation happens).
defvjp(np.vdot,
       lambda g, ans, a, b: np.reshape(g * np.ravel(b), np.shape(a)),
       lambda g, ans, a, b: np.reshape(g * np.ravel(a), np.shape(b)),
       node="VdotBackward0")
defjvp(np.vdot,
       lambda dx, ans, a, b: np.vdot(dx, b),
       lambda dx, ans, a, b: np.vdot(a, dx))

defvjp(np.inner,
       lambda g, ans, a, b: inner_left_cotangent(g, a, b),
       lambda g, ans, a, b: inner_right_cotangent(g, a, b),
       node="InnerBackward0")
defjvp(np.inner,
       lambda dx, ans, a, b: np.inner(dx, b),
       lambda dx, ans, a, b: np.inner(a, dx))

defvjp(np.outer,
       lambda g, ans, a, b, out=None: np.reshape(g @ np.ravel(b), np.shape(a)),
       lambda g, ans, a, b, out=None: np.reshape(np.ravel(a) @ g, np.shape(b)),
       node="OuterBackward0")
defjvp(np.outer,
       lambda dx, ans, a, b, out=None: np.outer(dx, b),
       lambda dx, ans, a, b, out=None: np.outer(a, dx))

defvjp(np.tensordot,
       lambda g, ans, a, b, axes=2: tensordot_left_cotangent(g, a, b, axes),
       lambda g, ans, a, b, axes=2: tensordot_right_cotangent(g, a, b, axes),
       node="TensordotBackward0")
defjvp(np.tensordot,
       lambda dx, ans, a, b, axes=2: np.tensordot(dx, b, axes),
       lambda dx, ans, a, b, axes=2: np.tensordot(a, dx, axes))

defvjp(np.kron,
       lambda g, ans, a, b: kron_left_cotangent(g, a, b),
       lambda g, ans, a, b: kron_right_cotangent(g, a, b),
       node="KronBackward0")
defjvp(np.kron,
       lambda dx, ans, a, b: np.kron(dx, b),
       lambda dx, ans, a, b: np.kron(a, dx))

# g . (a x b) = a . (b x g) = b . (g x a)   (3-vectors)
defvjp(np.cross,
       lambda g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None:
       unbroadcast(np.cross(b, g, axisb, axisc, axisa, axis), a),
       lambda g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None:
       unbroadcast(np.cross(g, a, axisc, axisa, axisb, axis), b),
       node="LinalgCrossBackward0")
defjvp(np.cross,
       lambda dx, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None:
       np.cross(dx, b, axisa, axisb, axisc, axis),
       lambda dx, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None:
       np.cross(a, dx, axisa, axisb, axisc, axis))

# np.einsum(subscripts, *operands): operand k is argument k + 1.  Its cotangent is
# another einsum of the output's cotangent with the other operands.  (Rules with
# *operands are called by the compiler, not inlined, so they may be closures.)
EINSUM_OPERANDS = 32


def _einsum_vjp(k: int) -> Any:
    """The VJP of einsum operand ``k``."""
    return lambda g, ans, subscripts, *operands, **kwargs: einsum_cotangent(
        g, subscripts, operands, k)


def _einsum_jvp(k: int) -> Any:
    """The JVP of einsum operand ``k``: the same einsum with the tangent in its place."""
    return lambda dx, ans, subscripts, *operands, **kwargs: np.einsum(
        subscripts, *with_operand(operands, k, dx), **kwargs)


defvjp(np.einsum, *(_einsum_vjp(k) for k in range(EINSUM_OPERANDS)),
       argnums=range(1, EINSUM_OPERANDS + 1), node="EinsumBackward0")
defjvp(np.einsum, *(_einsum_jvp(k) for k in range(EINSUM_OPERANDS)),
       argnums=range(1, EINSUM_OPERANDS + 1))

# --- norms ------------------------------------------------------------------------

# Vector norms (ord None/2/1/inf/-inf/0/p) and matrix norms ('fro', 'nuc', 1, 2,
# inf and their negatives); the 2-norm's gradient at the zero vector is 0.
defvjp(np.linalg.norm,
       lambda g, ans, x, ord=None, axis=None, keepdims=False:
       expand_reduced(g, x, axis, keepdims) * norm_partials(x, ans, ord, axis, keepdims),
       node="LinalgVectorNormBackward0")
defjvp(np.linalg.norm,
       lambda dx, ans, x, ord=None, axis=None, keepdims=False:
       np.sum(dx * norm_partials(x, ans, ord, axis, keepdims), axis=axis, keepdims=keepdims))

# --- inverses, determinants, linear systems -------------------------------------------

# d(A^-1) = -A^-1 dA A^-1
defvjp(np.linalg.inv, lambda g, ans, a: -mT(ans) @ g @ mT(ans), node="LinalgInvExBackward0")
defjvp(np.linalg.inv, lambda dx, ans, a: -ans @ dx @ ans)

# d det(A) = det(A) tr(A^-1 dA)
defvjp(np.linalg.det,
       lambda g, ans, a: np.expand_dims(g * ans, (-2, -1)) * mT(np.linalg.inv(a)),
       node="LinalgDetBackward0")
defjvp(np.linalg.det,
       lambda dx, ans, a: ans * np.trace(np.linalg.solve(a, dx), axis1=-2, axis2=-1))

# (sign, log|det A|): only the logarithm has a derivative, tr(A^-1 dA).
defvjp(np.linalg.slogdet,
       lambda g, ans, a: np.expand_dims(part(g, 1, ans), (-2, -1)) * mT(np.linalg.inv(a)),
       node="LinalgSlogdetBackward0", outputs=2)
defjvp(np.linalg.slogdet,
       lambda dx, ans, a: (np.zeros_like(ans[0]),
                           np.trace(np.linalg.solve(a, dx), axis1=-2, axis2=-1)))

# x = A^-1 b:  gb = A^-T g,  gA = -gb x^T   (b a vector or a stack of matrices)
defvjp(np.linalg.solve,
       lambda g, ans, a, b: solve_left_cotangent(g, ans, a, b),
       lambda g, ans, a, b: solve_right_cotangent(g, ans, a, b),
       node="LinalgSolveExBackward0")
defjvp(np.linalg.solve,
       lambda dx, ans, a, b: solve_left_tangent(dx, ans, a, b),
       lambda dx, ans, a, b: np.linalg.solve(a, dx))

# Constant rank.
defvjp(np.linalg.pinv,
       lambda g, ans, a, rcond=None, hermitian=False, *, rtol=None: pinv_cotangent(g, ans, a),
       node="LinalgPinvBackward0")
defjvp(np.linalg.pinv,
       lambda dx, ans, a, rcond=None, hermitian=False, *, rtol=None: pinv_tangent(dx, ans, a))

defvjp(np.linalg.matrix_power,
       lambda g, ans, a, n: matrix_power_cotangent(g, ans, a, n),
       node="LinalgMatrixPowerBackward0")
defjvp(np.linalg.matrix_power,
       lambda dx, ans, a, n: matrix_power_tangent(dx, ans, a, n))

# --- decompositions ----------------------------------------------------------------------

# Symmetric positive definite a; the cotangent lies on the triangle NumPy reads.
defvjp(np.linalg.cholesky,
       lambda g, ans, a, *, upper=False: cholesky_cotangent(g, ans, a, upper),
       node="LinalgCholeskyExBackward0")
defjvp(np.linalg.cholesky,
       lambda dx, ans, a, *, upper=False: cholesky_tangent(dx, ans, a, upper))

# (w, v) of a symmetric matrix with distinct eigenvalues.
defvjp(np.linalg.eigh,
       lambda g, ans, a, UPLO="L": eigh_cotangent(g, ans, a, UPLO),
       node="LinalgEighBackward0", outputs=2)
defjvp(np.linalg.eigh, lambda dx, ans, a, UPLO="L": eigh_tangent(dx, ans, a, UPLO))

defvjp(np.linalg.eigvalsh,
       lambda g, ans, a, UPLO="L": eigh_cotangent((g, None), np.linalg.eigh(a, UPLO), a, UPLO),
       node="LinalgEighBackward0")
defjvp(np.linalg.eigvalsh,
       lambda dx, ans, a, UPLO="L": eigh_tangent(dx, np.linalg.eigh(a, UPLO), a, UPLO)[0])

# (U, s, Vh) with distinct nonzero singular values; thin factors (full_matrices=False
# or a square a) for the tangents.
defvjp(np.linalg.svd,
       lambda g, ans, a, full_matrices=True, compute_uv=True, hermitian=False:
       svd_cotangent(g, ans, a, full_matrices, compute_uv),
       node="LinalgSvdBackward0", outputs=3)
defjvp(np.linalg.svd,
       lambda dx, ans, a, full_matrices=True, compute_uv=True, hermitian=False:
       svd_tangent(dx, ans, a, full_matrices, compute_uv))

# (Q, R) of a full-rank a with at least as many rows as columns, mode "reduced".
defvjp(np.linalg.qr,
       lambda g, ans, a, mode="reduced": qr_cotangent(g, ans, a, mode),
       node="LinalgQrBackward0", outputs=2)
defjvp(np.linalg.qr, lambda dx, ans, a, mode="reduced": qr_tangent(dx, ans, a, mode))

# --- NumPy 2's array-API spellings of the same products ----------------------------------

if hasattr(np.linalg, "matmul"):
    alias(np.linalg.matmul, np.matmul)
if hasattr(np.linalg, "outer"):
    alias(np.linalg.outer, np.outer)
if hasattr(np.linalg, "svdvals"):
    defvjp(np.linalg.svdvals,
           lambda g, ans, x: svd_cotangent(g, None, x, compute_uv=False),
           node="LinalgSvdBackward0")
    defjvp(np.linalg.svdvals,
           lambda dx, ans, x: svd_tangent(dx, None, x, compute_uv=False))
if hasattr(np, "matrix_transpose"):
    defvjp(np.matrix_transpose, lambda g, ans, x: mT(g), node="TransposeBackward0")
    defjvp(np.matrix_transpose, lambda dx, ans, x: mT(dx))
