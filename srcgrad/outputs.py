"""What a differentiated function returned, in words, and the errors about it.

Both engines raise the same ``TypeError`` when ``grad`` (or ``value_and_grad``,
``hessian``, ``hvp``) gets something other than a scalar, when ``has_aux=True``
gets something other than a pair, and when a Jacobian or JVP gets no array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["describe", "not_scalar", "check_aux_pair", "check_array_output", "is_tree",
           "map_blocks", "integer_tangents", "FLOAT0"]

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
    """``jvp``/``jacobian``: the function must return an array or a pytree of them
    (a Jacobian's leaves must be floating-point: integer outputs have no derivative
    to tabulate, as in JAX's ``jacrev``)."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{kind} requires {name} to return an array or a pytree (tuple, list, "
                        f"dict...) of arrays, but it returned {describe(value)}")
    if kind != "jacobian" or not is_tree(value):
        return
    from . import tree

    leaves, _ = tree.flatten(value)
    for index, leaf in enumerate(leaves):
        if not tree.differentiable(leaf):
            where = tree.path_of(value, index, "out")
            raise TypeError(f"{kind} requires {name} to return floating-point values, but "
                            f"{where} is {describe(leaf)}; use srcgrad.vjp or srcgrad.jvp "
                            "for outputs with integer leaves, or leave them out")


def is_tree(value: Any) -> bool:
    """Is ``value`` a pytree beyond an array or a flat tuple or list of arrays (a dict, a
    namedtuple, a dataclass, a registered container, or containers nested)?"""
    if isinstance(value, (tuple, list)) and not hasattr(type(value), "_fields"):
        return any(isinstance(v, (tuple, list, dict)) or _other_container(v) for v in value)
    return isinstance(value, (tuple, dict)) or _other_container(value)


def _other_container(value: Any) -> bool:
    if value is None or isinstance(value, (float, int, complex, str, bytes)) \
            or type(value).__module__ == "numpy":
        return False
    from . import tree

    return tree.is_container(value)


# JAX's dtype of the tangent of an integer value: no bytes, no values (``jax.dtypes.float0``)
FLOAT0 = np.dtype([("float0", np.void, 0)])


def integer_tangents(out: Any, tangent: Any) -> Any:
    """``tangent`` of pytree output ``out`` with a float0 zero at each integer, boolean or
    other non-float leaf of ``out``, as JAX's ``jvp`` gives (such leaves have no tangent)."""
    from . import tree

    values, treedef = tree.flatten(out)
    tangents = treedef.flatten_up_to(tangent)
    return tree.unflatten(treedef, [t if tree.differentiable(v) else
                                    np.zeros(np.shape(v), FLOAT0)
                                    for v, t in zip(values, tangents, strict=True)])


def map_blocks(f: Any, jacobian: Any) -> Any:
    """``f`` applied to each tuple of per-argument blocks of a Jacobian nested as JAX
    nests it (the output's structure, with a tuple over the arguments at each leaf)."""
    if _blocks(jacobian):
        return f(jacobian)
    if type(jacobian) is tuple and all(_blocks(b) for b in jacobian):
        return tuple(f(b) for b in jacobian)
    from . import tree

    return tree.map(f, jacobian, is_leaf=_blocks)


def _blocks(value: Any) -> bool:
    return type(value) is tuple and not any(
        isinstance(v, (tuple, list, dict)) or _other_container(v) for v in value)
