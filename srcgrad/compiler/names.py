"""Deterministic names for generated code, and the generated code's namespace."""

from __future__ import annotations

import builtins
import functools
import keyword
import re
from typing import Any

import numpy as np

from .. import fast_numpy

__all__ = ["Namer", "Namespace"]

_RESERVED = set(keyword.kwlist) | set(dir(builtins))
# the builtins by name, read as a dict: asking the module for a name it lacks (most
# hints) raises and drops an AttributeError, 1.8 us
_BUILTINS = vars(builtins)


class Namer:
    """Hands out fresh names that collide with nothing the function uses.

    Names depend only on the order of requests, so the same function always
    produces the same text.
    """

    def __init__(self, taken: set[str] = frozenset()) -> None:
        self.taken = set(taken)

    @property
    def taken(self) -> set[str]:
        """The names in use.  Only ever added to; assigning another set (a snapshot
        put back) is the one way to forget names."""
        return self._taken

    @taken.setter
    def taken(self, names: set[str]) -> None:
        self._taken = names
        # stem -> a number below which every ``stem_<k>`` is taken (so ``fresh`` need not
        # try them again: names taken stay taken until ``taken`` is assigned)
        self._counts: dict[str, int] = {}

    def reserve(self, name: str) -> None:
        self._taken.add(name)

    def fresh(self, hint: str) -> str:
        base, stem = _base(hint)
        taken = self._taken
        if base not in taken and base not in _RESERVED:
            taken.add(base)
            return base
        k = self._counts.get(stem, 1)
        while True:
            name = f"{stem}_{k}"
            if name not in taken and name not in _RESERVED:
                break
            k += 1
        taken.add(name)
        self._counts[stem] = k + 1
        return name


@functools.lru_cache(maxsize=4096)
def _base(hint: str) -> tuple[str, str]:
    """The name ``hint`` asks for (an identifier), and its stem without a ``_<number>``."""
    base = hint if hint.isascii() and hint.isidentifier() else _NON_WORD.sub("_", hint)
    base = base.strip("_") or "t"
    if base[0].isdigit():
        base = "t" + base
    return base, _NUMBERED.sub("", base)


_NON_WORD = re.compile(r"\W")
_NUMBERED = re.compile(r"_\d+$")


class Namespace:
    """The globals of a generated function: the user's names and the helpers rules need."""

    def __init__(self, namer: Namer) -> None:
        self.namer = namer
        self.values: dict[str, Any] = {}
        # rules whose templates this transform found current: one check per transform,
        # not one per inlined call (nothing rebinds a rule's names while it runs)
        self.rules_checked: set = set()

    def bind(self, hint: str, value: Any) -> str:
        """A global name for ``value``; reuses ``hint`` when it already means ``value``."""
        value = _generated_view(value)
        if _BUILTINS.get(hint, _ABSENT) is value and (
                self.values.get(hint, _ABSENT) is value
                or (hint not in self.values and hint not in self.namer.taken)):
            # the builtin by its own name, unless the user's code binds that name
            # (a local, or a global the namespace holds): then by a fresh one below
            return hint
        existing = self.values.get(hint, _ABSENT)
        if existing is value:
            return hint
        if existing is _ABSENT and hint not in self.namer.taken and hint not in _RESERVED:
            self.namer.reserve(hint)
            self.values[hint] = value
            return hint
        for name, bound in self.values.items():
            if bound is value and name.startswith(hint):
                return name
        name = self.namer.fresh(hint)
        self.values[name] = value
        return name

    def bind_user(self, name: str, value: Any) -> None:
        """Bind a name exactly as the user's function sees it."""
        self.namer.reserve(name)
        self.values[name] = _generated_view(value)


def _generated_view(value: Any) -> Any:
    """NumPy itself is seen by generated code with faster reductions (same results)."""
    return fast_numpy.module if value is np else value


_ABSENT = object()
