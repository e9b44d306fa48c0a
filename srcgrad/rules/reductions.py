"""Rules: reductions (sum, mean, prod, max/min, var/std, cumulative sums...).

A reduction's VJP broadcasts the output cotangent back over the reduced
axes (:func:`~srcgrad.runtime.expand_reduced`) and scales it by the partial
derivative of the reduction; its JVP reduces the tangent the same way the
primitive reduces its input.  Every rule accepts ``axis`` as None, an int
(negative too) or a tuple, and ``keepdims``.

Ties in ``max``/``min`` (and ``ptp``, ``nanmax``, ``nanmin``) share the
cotangent evenly, the same convention as ``np.maximum``.

The NaN-ignoring variants give NaNs a zero cotangent.  Quantiles and
percentiles use NumPy's default linear interpolation between the two
nearest ranks; they are differentiable in the data and in ``q``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..runtime import expand_reduced
from ._extra_helpers import (
    cumulative_prod_cotangent,
    cumulative_prod_tangent,
    cumulative_sum_cotangent,
    ediff1d_cotangent,
    nan_mask,
    nan_spread_partials,
    nan_to_one,
    nan_to_zero,
    quantile_cotangent,
    quantile_q_cotangent,
    quantile_q_tangent,
    quantile_tangent,
    trapezoid_x_cotangent,
    trapezoid_x_tangent,
    trapezoid_y_weights,
)
from ._helpers import nonzero
from ._shape_helpers import (
    average_weights,
    average_weights_cotangent,
    average_weights_tangent,
    cumprod_cotangent,
    cumprod_tangent,
    diff_cotangent,
    diff_tangent,
    embed_diagonal,
    extremum_cotangent,
    extremum_share,
    median_partials,
    nan_count,
    prod_others,
    reduced_count,
)
from .registry import alias, defjvp, defvjp


def _axis_node(without: str, with_axis: str, position: int = 1) -> Any:
    """A node-name chooser: ``without`` when the call reduces everything, else ``with_axis``."""

    def node(is_tensor: tuple, kwargs: dict, args: tuple) -> str:
        axis = kwargs.get("axis", args[position] if len(args) > position else None)
        return without if axis is None else with_axis

    return node


# --- sums and means -------------------------------------------------------------

# ``np.where(where, ...)`` with the default ``where=True`` folds away in generated code.

defvjp(np.sum,
       lambda g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
       where=True: np.where(where, expand_reduced(g, a, axis, keepdims), 0),
       node=_axis_node("SumBackward0", "SumBackward1"))
defjvp(np.sum,
       lambda dx, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
       where=True: np.sum(dx, axis, dtype, keepdims=keepdims, where=where))

defvjp(np.mean,
       lambda g, ans, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True:
       np.where(where, expand_reduced(g, a, axis, keepdims), 0) / reduced_count(a, axis, where),
       node=_axis_node("MeanBackward0", "MeanBackward1"))
defjvp(np.mean,
       lambda dx, ans, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True:
       np.mean(dx, axis, dtype, keepdims=keepdims, where=where))

defvjp(np.nansum,
       lambda g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None:
       np.where(np.isnan(a), 0, expand_reduced(g, a, axis, keepdims)),
       node="NansumBackward0")
defjvp(np.nansum,
       lambda dx, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None:
       np.sum(np.where(np.isnan(a), 0, dx), axis, dtype, keepdims=keepdims))

defvjp(np.nanmean,
       lambda g, ans, a, axis=None, dtype=None, out=None, keepdims=False:
       np.where(np.isnan(a), 0, expand_reduced(g, a, axis, keepdims)) / nan_count(a, axis))
defjvp(np.nanmean,
       lambda dx, ans, a, axis=None, dtype=None, out=None, keepdims=False:
       np.nanmean(np.where(np.isnan(a), np.nan, dx), axis, dtype, keepdims=keepdims))

# np.average(a, axis, weights): the weights are differentiable too.
defvjp(np.average,
       lambda g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False:
       expand_reduced(g, a, axis, keepdims) * average_weights(a, axis, weights),
       lambda g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False:
       average_weights_cotangent(g, ans, a, axis, weights, keepdims),
       argnums=(0, 2))
defjvp(np.average,
       lambda dx, ans, a, axis=None, weights=None, returned=False, *, keepdims=False:
       np.average(dx, axis, weights, keepdims=keepdims),
       lambda dx, ans, a, axis=None, weights=None, returned=False, *, keepdims=False:
       average_weights_tangent(dx, ans, a, axis, weights, keepdims),
       argnums=(0, 2))

defvjp(np.trace,
       lambda g, ans, a, offset=0, axis1=0, axis2=1, dtype=None, out=None:
       embed_diagonal(np.expand_dims(g, -1), np.shape(a), offset, axis1, axis2),
       node="TraceBackward0")
defjvp(np.trace,
       lambda dx, ans, a, offset=0, axis1=0, axis2=1, dtype=None, out=None:
       np.trace(dx, offset, axis1, axis2, dtype))

# --- products -------------------------------------------------------------------

defvjp(np.prod,
       lambda g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None:
       expand_reduced(g, a, axis, keepdims) * prod_others(a, axis, initial),
       node=_axis_node("ProdBackward0", "ProdBackward1"))
defjvp(np.prod,
       lambda dx, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None:
       np.sum(dx * prod_others(a, axis, initial), axis, keepdims=keepdims))

# --- extrema: ties share the cotangent evenly ------------------------------------

for _fun, _names in [
    (np.max, ("MaxBackward1", "AmaxBackward0")),
    (np.min, ("MinBackward1", "AminBackward0")),
    (np.nanmax, ("MaxBackward1", "AmaxBackward0")),
    (np.nanmin, ("MinBackward1", "AminBackward0")),
]:
    defvjp(_fun,
           lambda g, ans, a, axis=None, out=None, keepdims=False, initial=None:
           extremum_cotangent(g, a, ans, axis, keepdims, initial is None),
           node=_axis_node(*_names))
    defjvp(_fun,
           lambda dx, ans, a, axis=None, out=None, keepdims=False, initial=None:
           np.sum(dx * extremum_share(a, ans, axis, keepdims), axis, keepdims=keepdims))

# In NumPy 2 np.amax/np.amin are distinct functions computing np.max/np.min.
if np.amax is not np.max:
    alias(np.amax, np.max)
if np.amin is not np.min:
    alias(np.amin, np.min)

# max - min: the cotangent goes to the (shared) maxima and, negated, to the minima.
defvjp(np.ptp,
       lambda g, ans, a, axis=None, out=None, keepdims=False:
       expand_reduced(g, a, axis, keepdims)
       * (extremum_share(a, np.max(a, axis, keepdims=True), axis, True)
          - extremum_share(a, np.min(a, axis, keepdims=True), axis, True)),
       node="PtpBackward0")
defjvp(np.ptp,
       lambda dx, ans, a, axis=None, out=None, keepdims=False:
       np.sum(dx * (extremum_share(a, np.max(a, axis, keepdims=True), axis, True)
                    - extremum_share(a, np.min(a, axis, keepdims=True), axis, True)),
              axis, keepdims=keepdims))

# The median's partials are 1 at the middle element (1/2 at each of two).
defvjp(np.median,
       lambda g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False:
       expand_reduced(g, a, axis, keepdims) * median_partials(a, axis),
       node=_axis_node("MedianBackward0", "MedianBackward1"))
defjvp(np.median,
       lambda dx, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False:
       np.sum(dx * median_partials(a, axis), axis, keepdims=keepdims))

# --- spread ------------------------------------------------------------------------

# var = sum((a - mean)**2) / (N - ddof);  std = sqrt(var).  Where std is 0 every
# deviation a - mean is 0: the partials are 0 (exactly so for one number), not 0/0.
defvjp(np.var,
       lambda g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       expand_reduced(g, a, axis, keepdims) * 2 * (a - np.mean(a, axis, keepdims=True))
       / (reduced_count(a, axis) - ddof),
       node="VarBackward0")
defjvp(np.var,
       lambda dx, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       2 * np.sum(dx * (a - np.mean(a, axis, keepdims=True)), axis, keepdims=keepdims)
       / (reduced_count(a, axis) - ddof))

defvjp(np.std,
       lambda g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       expand_reduced(g / nonzero(ans), a, axis, keepdims) * (a - np.mean(a, axis, keepdims=True))
       / (reduced_count(a, axis) - ddof),
       node="StdBackward0")
defjvp(np.std,
       lambda dx, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       np.sum(dx * (a - np.mean(a, axis, keepdims=True)), axis, keepdims=keepdims)
       / ((reduced_count(a, axis) - ddof) * nonzero(ans)))

# --- cumulative and differences ------------------------------------------------------

# The adjoint of a running sum is a running sum from the other end.
defvjp(np.cumsum,
       lambda g, ans, a, axis=None, dtype=None, out=None:
       np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), np.shape(a)),
       node="CumsumBackward0")
defjvp(np.cumsum,
       lambda dx, ans, a, axis=None, dtype=None, out=None: np.cumsum(dx, axis, dtype))

defvjp(np.cumprod,
       lambda g, ans, a, axis=None, dtype=None, out=None: cumprod_cotangent(g, a, axis),
       node="CumprodBackward0")
defjvp(np.cumprod,
       lambda dx, ans, a, axis=None, dtype=None, out=None: cumprod_tangent(dx, a, axis))

# prepend/append are constants; a differentiable one would be np.concatenate first.
defvjp(np.diff,
       lambda g, ans, a, n=1, axis=-1, prepend=None, append=None:
       diff_cotangent(g, a, n, axis, prepend, append))
defjvp(np.diff,
       lambda dx, ans, a, n=1, axis=-1, prepend=None, append=None:
       diff_tangent(dx, a, n, axis, prepend, append))

# --- NaN-ignoring variants -------------------------------------------------------------

# NaNs count as 1 in a product: their partials are 0, the others' skip them.
defvjp(np.nanprod,
       lambda g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None:
       expand_reduced(g, a, axis, keepdims) * prod_others(nan_to_one(a), axis, initial)
       * nan_mask(a))
defjvp(np.nanprod,
       lambda dx, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None:
       np.sum(nan_to_zero(dx * nan_mask(a)) * prod_others(nan_to_one(a), axis, initial),
              axis, keepdims=keepdims))

# nanvar = sum((a - nanmean)**2 over numbers) / (count - ddof);  nanstd = sqrt(nanvar)
defvjp(np.nanvar,
       lambda g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       expand_reduced(g, a, axis, keepdims) * nan_spread_partials(a, axis, ddof))
defjvp(np.nanvar,
       lambda dx, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       np.sum(nan_to_zero(dx * nan_spread_partials(a, axis, ddof)), axis, keepdims=keepdims))

defvjp(np.nanstd,
       lambda g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       expand_reduced(g / (2 * nonzero(ans)), a, axis, keepdims)
       * nan_spread_partials(a, axis, ddof))
defjvp(np.nanstd,
       lambda dx, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
       np.sum(nan_to_zero(dx * nan_spread_partials(a, axis, ddof)), axis, keepdims=keepdims)
       / (2 * nonzero(ans)))

defvjp(np.nancumsum,
       lambda g, ans, a, axis=None, dtype=None, out=None:
       np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), np.shape(a)) * nan_mask(a),
       node="CumsumBackward0")
defjvp(np.nancumsum,
       lambda dx, ans, a, axis=None, dtype=None, out=None:
       np.cumsum(nan_to_zero(dx * nan_mask(a)), axis, dtype))

defvjp(np.nancumprod,
       lambda g, ans, a, axis=None, dtype=None, out=None:
       cumprod_cotangent(g, nan_to_one(a), axis) * nan_mask(a),
       node="CumprodBackward0")
defjvp(np.nancumprod,
       lambda dx, ans, a, axis=None, dtype=None, out=None:
       cumprod_tangent(nan_to_zero(dx * nan_mask(a)), nan_to_one(a), axis))

# The median of the numbers of each slice: np.nanquantile at 1/2.
defvjp(np.nanmedian,
       lambda g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False:
       quantile_cotangent(g, a, 0.5, axis, ignore_nan=True),
       node=_axis_node("NanmedianBackward0", "NanmedianBackward1"))
defjvp(np.nanmedian,
       lambda dx, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False:
       quantile_tangent(dx, ans, a, 0.5, axis, ignore_nan=True))

# --- quantiles (linear interpolation between the two nearest ranks) ---------------------

# The nan variants skip NaNs; percentiles take q in percent (scale 1/100).
defvjp(np.quantile,
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_cotangent(g, a, q, axis, method),
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_cotangent(g, a, q, axis, method))
defjvp(np.quantile,
       lambda dx, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_tangent(dx, ans, a, q, axis, method),
       lambda dq, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_tangent(dq, ans, a, q, axis, method))

defvjp(np.nanquantile,
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_cotangent(g, a, q, axis, method, ignore_nan=True),
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_cotangent(g, a, q, axis, method, ignore_nan=True))
defjvp(np.nanquantile,
       lambda dx, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_tangent(dx, ans, a, q, axis, method, ignore_nan=True),
       lambda dq, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_tangent(dq, ans, a, q, axis, method, ignore_nan=True))

defvjp(np.percentile,
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_cotangent(g, a, q, axis, method, scale=0.01),
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_cotangent(g, a, q, axis, method, scale=0.01))
defjvp(np.percentile,
       lambda dx, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_tangent(dx, ans, a, q, axis, method, scale=0.01),
       lambda dq, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_tangent(dq, ans, a, q, axis, method, scale=0.01))

defvjp(np.nanpercentile,
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_cotangent(g, a, q, axis, method, ignore_nan=True, scale=0.01),
       lambda g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_cotangent(g, a, q, axis, method, ignore_nan=True, scale=0.01))
defjvp(np.nanpercentile,
       lambda dx, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_tangent(dx, ans, a, q, axis, method, ignore_nan=True, scale=0.01),
       lambda dq, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
       keepdims=False, *, weights=None:
       quantile_q_tangent(dq, ans, a, q, axis, method, ignore_nan=True, scale=0.01))

# --- NumPy 2's array-API cumulative functions --------------------------------------------

if hasattr(np, "cumulative_sum"):
    defvjp(np.cumulative_sum,
           lambda g, ans, x, *, axis=None, dtype=None, out=None, include_initial=False:
           cumulative_sum_cotangent(g, x, axis, include_initial),
           node="CumsumBackward0")
    defjvp(np.cumulative_sum,
           lambda dx, ans, x, *, axis=None, dtype=None, out=None, include_initial=False:
           np.cumulative_sum(dx, axis=axis, dtype=dtype, include_initial=include_initial))

    defvjp(np.cumulative_prod,
           lambda g, ans, x, *, axis=None, dtype=None, out=None, include_initial=False:
           cumulative_prod_cotangent(g, x, axis, include_initial),
           node="CumprodBackward0")
    defjvp(np.cumulative_prod,
           lambda dx, ans, x, *, axis=None, dtype=None, out=None, include_initial=False:
           cumulative_prod_tangent(dx, x, axis, include_initial))

# --- integration and differences ---------------------------------------------------------

# sum of (y[i] + y[i+1]) / 2 * (x[i+1] - x[i]): linear in y; in x through the widths.
_trapezoid = getattr(np, "trapezoid", None) or np.trapz
defvjp(_trapezoid,
       lambda g, ans, y, x=None, dx=1.0, axis=-1:
       np.expand_dims(g, axis) * trapezoid_y_weights(y, x, dx, axis),
       lambda g, ans, y, x=None, dx=1.0, axis=-1: trapezoid_x_cotangent(g, y, x, axis),
       node="TrapezoidBackward0")
defjvp(_trapezoid,
       lambda dy, ans, y, x=None, dx=1.0, axis=-1:
       np.sum(dy * trapezoid_y_weights(y, x, dx, axis), axis=axis),
       lambda dx_, ans, y, x=None, dx=1.0, axis=-1: trapezoid_x_tangent(dx_, y, x, axis))

# to_begin and to_end are constants.
defvjp(np.ediff1d,
       lambda g, ans, ary, to_end=None, to_begin=None:
       ediff1d_cotangent(g, ary, to_end, to_begin))
defjvp(np.ediff1d,
       lambda dx, ans, ary, to_end=None, to_begin=None:
       np.ediff1d(dx, None if to_end is None else 0 * np.ravel(to_end),
                  None if to_begin is None else 0 * np.ravel(to_begin)))

del _fun, _names
