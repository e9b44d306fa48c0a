"""How the helpers that generated code calls carry tangents: generated code, differentiated.

A gradient's generated code calls helpers (``unbroadcast``, the matmul
cotangents, ``grad_or_zeros``...) besides NumPy.  To run forward mode over
it (Hessian-vector products, ``jvp`` of ``grad``), the forward sweep needs
their derivatives.  Nearly all are *linear* in the cotangent they move, so
their tangent is the helper itself applied to tangents: no new rule to write
or to get wrong.  Each entry says which arguments are linear and which are
inert (read for their shape, or a piecewise-constant mask); an active value
reaching any other argument is refused, never silently dropped.

``joint`` helpers are linear in all their linear arguments together (``add(a,
b)``): the tangent is one call with every linear argument replaced by its
tangent.  The others are linear in each argument separately (``g @ b.T`` in
``g`` and ``b``): the tangent sums one call per argument that carries one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["HelperRule", "lookup"]


@dataclass(frozen=True)
class HelperRule:
    fn: Any
    linear: tuple[int, ...] = ()        # positions the helper is linear in
    inert: tuple[int, ...] = ()         # positions that carry no derivative
    joint: bool = False                 # linear in the ``linear`` positions together
    constant: bool = False              # the result carries no derivative at all

    @property
    def name(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))


_TABLE: dict[Any, HelperRule] | None = None


def _build() -> dict[Any, HelperRule]:
    from .. import runtime
    from ..rules import _fft_helpers, _helpers, _shape_helpers
    from . import support

    entries = [
        # moving a cotangent to an argument's shape
        HelperRule(runtime.unbroadcast, linear=(0,), inert=(1,)),
        HelperRule(runtime.unbroadcast_to, linear=(0,), inert=(1,)),
        HelperRule(runtime.unbroadcast_scaled, linear=(0, 1), inert=(2,)),
        HelperRule(runtime.expand_reduced, linear=(0,), inert=(1, 2, 3)),
        HelperRule(_helpers.broadcast_like, linear=(0,), inert=(1,)),
        HelperRule(_shape_helpers.index_cotangent, linear=(0,), inert=(1, 2)),
        HelperRule(_shape_helpers.part, linear=(0,), inert=(1, 2)),
        HelperRule(_shape_helpers.mT, linear=(0,)),
        # products: bilinear in the cotangent and the other factor
        HelperRule(_shape_helpers.matmul_left_cotangent, linear=(0, 2), inert=(1,)),
        HelperRule(_shape_helpers.matmul_right_cotangent, linear=(0, 1), inert=(2,)),
        HelperRule(_shape_helpers.dot_left_cotangent, linear=(0, 2), inert=(1,)),
        HelperRule(_shape_helpers.dot_right_cotangent, linear=(0, 1), inert=(2,)),
        # Fourier transforms of the cotangent: linear over the reals
        HelperRule(_fft_helpers.c2c_cotangent, linear=(1,), inert=(0, 2, 3, 4, 5, 6)),
        *(HelperRule(helper, linear=(0,), inert=(1, 2, 3, 4, 5))
          for helper in (_fft_helpers.rfft_cotangent, _fft_helpers.irfft_cotangent,
                         _fft_helpers.hfft_cotangent, _fft_helpers.ihfft_cotangent)),
        # ties of max/min: a piecewise-constant share of the cotangent
        HelperRule(_shape_helpers.extremum_share, constant=True),
        HelperRule(_shape_helpers.reduced_count, constant=True),
        # the compiler's own bookkeeping
        HelperRule(support.one_like, constant=True),
        HelperRule(support.zeros_for, constant=True),
        HelperRule(runtime.zeros_like, constant=True),
        HelperRule(support.add, linear=(0, 1), joint=True),
        HelperRule(support.grad_or_zeros, linear=(0,), inert=(1,), joint=True),
        HelperRule(runtime.real_cotangent, linear=(0,), inert=(1,)),
        HelperRule(runtime.as_gradient, linear=(0,), inert=(1,)),
        HelperRule(support.seq_add, linear=(0, 2), inert=(1, 3), joint=True),
        HelperRule(support.seq_add_all, linear=(0, 1), joint=True),
        HelperRule(support.seq_get, linear=(0,), inert=(1, 2)),
        HelperRule(support.seq_without, linear=(0,), inert=(1, 2)),
        HelperRule(support.seq_pop, linear=(0,), inert=(1,)),
        HelperRule(support.seq_cotangent, linear=(0,), inert=(1,)),
        HelperRule(support.seq_grad, linear=(0,), inert=(1,)),
        HelperRule(support.as_seq_adjoint, linear=(0,)),
        HelperRule(support.setitem_list, linear=(0, 2), inert=(1,), joint=True),
        HelperRule(support.copy_stack, linear=(0,)),
        HelperRule(support.aux_seed, constant=True),
        HelperRule(support.seq_head, linear=(0,), inert=(1,)),
        HelperRule(support.seq_tail, linear=(0,), inert=(1,)),
        HelperRule(support.seq_concat, linear=(0, 1), joint=True),
        HelperRule(support.seq_repeat, linear=(0,), inert=(1,)),
    ]
    extremum_cotangent = getattr(_shape_helpers, "extremum_cotangent", None)
    if extremum_cotangent is not None:
        entries.append(HelperRule(extremum_cotangent, linear=(0,), inert=(1, 2, 3, 4, 5)))
    return {rule.fn: rule for rule in entries}


def lookup(fn: Any) -> HelperRule | None:
    """The entry for a helper of generated code, or ``None``."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _build()
    try:
        return _TABLE.get(fn)
    except TypeError:           # unhashable callables
        return None
