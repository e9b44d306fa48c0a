"""Sample calls for every differentiable rule, one module per rule family.

Each module in this package defines ``SAMPLES``: a dict mapping a primitive
(``np.sin``, ``math.exp``, ...) to a list of sample calls built with
:func:`S`.  ``tests/test_rules.py`` finds every module here, draws the
random values and checks each rule against central finite differences::

    from tests.rule_samples import S, arr, pos, unit

    SAMPLES = {
        np.sin: [S(arr((3,))), S(arr((2, 3)))],
        np.log: [S(pos((2, 3)))],
        np.add: [S(arr((2, 3)), arr((3,))), S(arr((2, 1)), 2.5)],
        np.sum: [S(arr((2, 3)), axis=1, keepdims=True)],
    }

Arguments are given positionally as the primitive takes them; an argument
is differentiated when the rule has a VJP for its position and the drawn
value is a float (array, NumPy scalar or Python float), or a list of them
for a rule's ``sequence_argnums``.  Anything else (ints, shapes, axes,
boolean masks) is passed through as a constant.

Module-level switches a sample module may set:

``CHECK_FLOAT32`` (default ``True``)
    run the samples again in float32 and require float32 cotangents and
    tangents whenever the primitive's output is float32.
``CHECK_DUCK`` (default ``False``)
    call the rules on a minimal ``__array_ufunc__``/``__array_function__``
    wrapper (what the tape's Tensors are), requiring the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "S",
    "Sample",
    "Spec",
    "arr",
    "pos",
    "unit",
    "num",
    "ints",
    "bools",
    "const",
    "draw",
    "spd",
    "resolve",
]


@dataclass(frozen=True)
class Spec:
    """A value drawn at test time from a seeded ``np.random.Generator``."""

    make: Callable[[np.random.Generator], Any]
    label: str = "spec"

    def draw(self, rng: np.random.Generator) -> Any:
        return self.make(rng)

    def __repr__(self) -> str:
        return self.label


def arr(shape: tuple[int, ...] = (), low: float = -2.0, high: float = 2.0) -> Spec:
    """A float64 array of ``shape`` uniform in ``(low, high)`` (``()`` gives a 0-d array)."""
    shape = tuple(shape)
    return Spec(lambda rng: rng.uniform(low, high, size=shape), f"arr{shape}")


def pos(shape: tuple[int, ...] = (), low: float = 0.5, high: float = 2.0) -> Spec:
    """A positive float64 array (for log, sqrt, ...)."""
    return arr(shape, low, high)


def unit(shape: tuple[int, ...] = ()) -> Spec:
    """A float64 array inside (-0.9, 0.9) (for arcsin, arctanh, ...)."""
    return arr(shape, -0.9, 0.9)


def num(low: float = -2.0, high: float = 2.0) -> Spec:
    """A random Python float."""
    return Spec(lambda rng: float(rng.uniform(low, high)), "num")


def ints(shape: tuple[int, ...] = (), low: int = 0, high: int = 3) -> Spec:
    """An int64 array in ``[low, high)`` (indices, counts): never differentiated."""
    shape = tuple(shape)
    return Spec(lambda rng: rng.integers(low, high, size=shape), f"ints{shape}")


def bools(shape: tuple[int, ...] = ()) -> Spec:
    """A random boolean array (masks, conditions)."""
    shape = tuple(shape)
    return Spec(lambda rng: rng.random(size=shape) < 0.5, f"bools{shape}")


def const(value: Any) -> Spec:
    """A fixed float64 array (a fresh copy for every draw)."""
    fixed = np.array(value, dtype=np.float64)
    return Spec(lambda rng: fixed.copy(), f"const{fixed.tolist()}")


def draw(make: Callable[[np.random.Generator], Any], label: str = "draw") -> Spec:
    """Any value: ``make(rng)`` is called at test time."""
    return Spec(make, label)


def spd(n: int, batch: tuple[int, ...] = ()) -> Spec:
    """A well-conditioned symmetric positive-definite float64 matrix (or stack of them)."""

    def make(rng: np.random.Generator) -> np.ndarray:
        a = rng.uniform(-1.0, 1.0, size=(*batch, n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)

    return Spec(make, f"spd({n})")


def resolve(value: Any, rng: np.random.Generator) -> Any:
    """Draw every :class:`Spec` inside ``value`` (lists, tuples and dicts are walked)."""
    if isinstance(value, Spec):
        return value.draw(rng)
    if isinstance(value, list):
        return [resolve(v, rng) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, rng) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v, rng) for k, v in value.items()}
    return value


@dataclass
class Sample:
    """One call of a primitive: positional args, keyword args and check options."""

    args: tuple
    kwargs: dict
    rtol: float = 1e-5
    atol: float = 1e-6
    float32: bool = True
    duck: bool = True
    note: str = field(default="")

    def opts(
        self,
        *,
        rtol: float | None = None,
        atol: float | None = None,
        float32: bool | None = None,
        duck: bool | None = None,
        note: str | None = None,
    ) -> Sample:
        """Adjust the checks for this sample: tolerances, or skip the float32/duck runs."""
        if rtol is not None:
            self.rtol = rtol
        if atol is not None:
            self.atol = atol
        if float32 is not None:
            self.float32 = float32
        if duck is not None:
            self.duck = duck
        if note is not None:
            self.note = note
        return self

    def draw(self, rng: np.random.Generator) -> tuple[tuple, dict]:
        """Concrete ``(args, kwargs)`` for this sample."""
        return resolve(self.args, rng), resolve(self.kwargs, rng)

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"S({', '.join(parts)})"


def S(*args: Any, **kwargs: Any) -> Sample:
    """Record a sample call ``primitive(*args, **kwargs)``."""
    return Sample(args, kwargs)
