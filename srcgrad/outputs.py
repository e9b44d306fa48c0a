"""What a differentiated function returned, in words, and the errors about it.

Both engines raise the same ``TypeError`` when ``grad`` (or ``value_and_grad``,
``hessian``, ``hvp``) gets something other than a scalar, when ``has_aux=True``
gets something other than a pair, and when a Jacobian or JVP gets no array.
"""

from __future__ import annotations

from typing import Any

__all__ = ["describe", "not_scalar", "check_aux_pair", "check_array_output"]

# values that are surely not a scalar however NumPy would convert them
_NOT_NUMBERS = (type(None), tuple, list, dict, str, bytes)


def describe(value: Any) -> str:
    """``None``, ``a tuple of 2 items``, ``a dict``, ``a string``... for an error message."""
    if value is None:
        return "None"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (str, bytes)):
        return "a string"
    shape = getattr(value, "shape", None)
    if shape == () or isinstance(value, (int, float, complex)):
        dtype = getattr(value, "dtype", None)
        kind = type(value).__name__ if dtype is None else str(dtype).removeprefix("srcgrad.")
        return f"a scalar ({kind})"
    if shape is not None:
        return f"an array of shape {tuple(shape)}"
    return f"a value of type {type(value).__name__}"


def not_scalar(name: str, value: Any, first_of_pair: bool = False) -> TypeError | None:
    """The error for ``grad`` of a function that returned ``value``, if it is no number.

    ``first_of_pair``: ``value`` is the output of ``(output, aux)`` (``has_aux=True``).
    """
    if not isinstance(value, _NOT_NUMBERS):
        return None
    what = describe(value)
    if first_of_pair:
        return TypeError(f"grad with has_aux=True requires {name} to return (output, aux) with "
                         f"a scalar output, but the output is {what}")
    if value is None:
        hint = "; does the function miss a return statement?"
    elif isinstance(value, (tuple, list)):
        hint = ("; to differentiate the first item and carry the others along, pass "
                "has_aux=True; for several outputs use srcgrad.vjp or srcgrad.jacobian")
    else:
        hint = "; return the value to differentiate (with has_aux=True, as the first item)"
    return TypeError(f"grad requires {name} to return a scalar, but it returned {what}{hint}")


def check_aux_pair(name: str, value: Any) -> None:
    """``has_aux=True``: the function must return ``(output, aux)``."""
    if not (isinstance(value, tuple) and len(value) == 2):
        raise TypeError(f"has_aux=True requires {name} to return a pair (output, aux), but it "
                        f"returned {describe(value)}")


def check_array_output(kind: str, name: str, value: Any) -> None:
    """``jvp``/``jacobian``: the function must return an array or a tuple/list of them."""
    if value is None or isinstance(value, (dict, str, bytes)):
        raise TypeError(f"{kind} requires {name} to return an array or a tuple or list of "
                        f"arrays, but it returned {describe(value)}")
