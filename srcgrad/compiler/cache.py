"""What a transform depends on, and the bounded store of transforms keyed on it.

A function's *state* is what its generated code was specialised on: its code
object (by identity: equal code from two files is two entries), its defaults and
keyword-only defaults, its closure values and the globals it reads, and the same
for every user function those values reach (callees, transitively; cycles are
cut). Each value enters the key at the level the transform depends on it:

- numbers, strings, ``None``, NumPy scalars: by exact value (``repr`` for
  floats, so ``-0.0`` and ``nan`` are keys of their own);
- arrays (exactly ``np.ndarray``): by type, dtype, shape and which earlier
  array of the walk they alias.  Generated code binds an array read from a
  global, a closure cell or a default by value, so each use of an entry binds
  the current arrays again (``idents`` says which);
- functions, modules, classes and every other object: by identity; a user
  function is walked too, a module's or class's attributes named in the code
  are keyed like values (``helpers.loss`` rebound is a new key).

The store is an LRU of at most :data:`CACHE_LIMIT` entries; an entry goes when
every function that used it has been garbage collected, and holds no array its
functions captured.
"""

from __future__ import annotations

import threading
import types
import weakref
from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = ["CACHE_LIMIT", "State", "state", "lookup", "store", "remove", "clear", "size", "LOCK"]

CACHE_LIMIT = 4096
# every transform, lookup and cache change happens under this lock (re-entrant: a
# transform transforms its callees)
LOCK = threading.RLock()

_ENTRIES: OrderedDict[tuple, Any] = OrderedDict()
_DEAD: list[tuple[tuple, Any]] = []      # (key, entry) whose functions are gone
_ABSENT = ("absent",)
_EMPTY_CELL = ("empty cell",)
_SCALARS = (int, bool, str, bytes, type(None))
_LIBRARIES = ("numpy", "scipy", "srcgrad", "builtins", "math", "operator", "functools")
_NAMES: dict[types.CodeType, tuple[str, ...]] = {}


class State:
    """``facts`` (the hashable key), ``idents`` (the arrays' ids, in walk order),
    ``pins`` (objects whose ids are in the key) and ``anchors`` (what the entry
    lives with)."""

    __slots__ = ("facts", "idents", "pins", "anchors")

    def __init__(self, facts: tuple, idents: tuple, pins: list, anchors: list) -> None:
        self.facts = facts
        self.idents = idents
        self.pins = pins
        self.anchors = anchors


def state(fun: Any) -> State:
    """What a transform of ``fun`` depends on (see the module docstring)."""
    walk = _Walk()
    if isinstance(getattr(fun, "__code__", None), types.CodeType) \
            and hasattr(fun, "__globals__"):
        facts = walk.function(fun, top=True)
        owner = getattr(fun, "__self__", None)
        anchors = [fun]
        if owner is not None:                 # a bound method: its object by identity
            try:
                weakref.ref(owner)
            except TypeError:
                facts = (facts, walk.identity(owner))
                anchors = [fun.__func__]
            else:
                facts = (facts, ("self", id(owner)))
                anchors = [owner]
    else:
        facts = walk.identity(fun)
        anchors = [fun]
    return State(facts, tuple(walk.idents), walk.pins, anchors)


class _Walk:
    def __init__(self) -> None:
        self.idents: list[int] = []
        self.arrays: dict[int, int] = {}
        self.pins: list[Any] = []
        self.stack: list[int] = []
        self.done: dict[int, tuple] = {}

    def identity(self, value: Any) -> tuple:
        self.pins.append(value)
        return ("id", id(value))

    def function(self, fun: Any, top: bool = False) -> tuple:
        ident = id(fun)
        if ident in self.stack:
            return ("cycle", self.stack.index(ident))
        if ident in self.done:
            return self.done[ident]
        code = fun.__code__
        self.pins.append(code)
        self.stack.append(ident)
        names = _code_names(code)
        defaults = tuple(self.value(v, names) for v in fun.__defaults__ or ())
        kwdefaults = tuple(sorted((k, self.value(v, names))
                                  for k, v in (fun.__kwdefaults__ or {}).items()))
        cells = []
        for cell in fun.__closure__ or ():
            try:
                contents = cell.cell_contents
            except ValueError:
                cells.append(_EMPTY_CELL)
                continue
            cells.append(self.value(contents, names))
        globs = fun.__globals__
        read = tuple(self.value(globs[n], names) if n in globs else _ABSENT for n in names)
        self.stack.pop()
        facts = ("code", id(code), defaults, kwdefaults, tuple(cells), read)
        if not top:
            facts = ("fn", ident, facts)
            self.pins.append(fun)
        self.done[ident] = facts
        return facts

    def value(self, value: Any, names: tuple[str, ...], depth: int = 0) -> tuple:
        kind = type(value)
        if kind is float or kind is complex:
            return (kind, repr(value))
        if kind in _SCALARS:
            return (kind, value)
        if kind is np.ndarray:
            ident = id(value)
            first = self.arrays.setdefault(ident, len(self.arrays))
            self.idents.append(ident)
            return ("array", value.dtype.str, value.shape, first)
        if isinstance(value, np.generic):
            return (kind, value.dtype.str, value.tobytes())
        if kind is types.FunctionType:
            module = getattr(value, "__module__", None) or ""
            if module.split(".")[0] not in _LIBRARIES:
                return self.function(value)
            return self.identity(value)
        if (kind is types.ModuleType or isinstance(value, type)) and depth < 3:
            # ``module.name`` is resolved when the code is transformed: key what it is now
            # (read from the namespaces themselves: no __getattr__, no deprecation warning)
            spaces = [vars(value)] if kind is types.ModuleType else \
                [vars(k) for k in value.__mro__]
            attributes = tuple(self.attribute(spaces, n, names, depth) for n in names)
            return ("ns", self.identity(value), attributes)
        return self.identity(value)

    def attribute(self, spaces: list, name: str, names: tuple[str, ...], depth: int) -> tuple:
        for space in spaces:
            if name in space:
                return self.value(space[name], names, depth + 1)
        return _ABSENT


def _code_names(code: types.CodeType) -> tuple[str, ...]:
    """Every global and attribute name the code (and code nested in it) reads, sorted."""
    names = _NAMES.get(code)
    if names is None:
        found: set[str] = set()
        pending = [code]
        while pending:
            current = pending.pop()
            found.update(current.co_names)
            pending.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        names = tuple(sorted(found))
        if len(_NAMES) >= CACHE_LIMIT:
            _NAMES.clear()
        _NAMES[code] = names
    return names


# -- the store ---------------------------------------------------------------------

def lookup(key: tuple) -> Any:
    """The entry stored under ``key`` (made most recently used), or None."""
    _bury()
    entry = _ENTRIES.get(key)
    if entry is not None:
        _ENTRIES.move_to_end(key)
    return entry


def store(key: tuple, entry: Any, anchors: list) -> None:
    """Keep ``entry`` until it is the least recently used of too many, or its functions die."""
    _bury()
    _ENTRIES[key] = entry
    _ENTRIES.move_to_end(key)
    watch(key, entry, anchors)
    while len(_ENTRIES) > CACHE_LIMIT:
        _ENTRIES.popitem(last=False)


def watch(key: tuple, entry: Any, anchors: list) -> None:
    """Let ``entry`` live while one of the functions that used it lives."""
    refs = entry.users
    for anchor in anchors:
        ident = id(anchor)
        if ident in refs:
            continue
        try:
            refs[ident] = weakref.ref(anchor, _gone(key, entry, ident))
        except TypeError:
            entry.immortal = True       # (no weak reference: the LRU bound alone)


def _gone(key: tuple, entry: Any, ident: int) -> Any:
    dead = _DEAD        # (held here: at interpreter exit the module's globals are gone)

    def callback(_ref: Any) -> None:
        # runs wherever the function dies: only note it (no dict is changed under a caller)
        dead.append((key, entry, ident))
    return callback


def _bury() -> None:
    while _DEAD:
        key, entry, ident = _DEAD.pop()
        entry.users.pop(ident, None)
        if not entry.users and not entry.immortal and _ENTRIES.get(key) is entry:
            del _ENTRIES[key]


def remove(key: tuple, entry: Any) -> None:
    """Forget ``entry`` (a transform that failed after it was stored)."""
    if _ENTRIES.get(key) is entry:
        del _ENTRIES[key]


def clear() -> None:
    """Forget every transform."""
    with LOCK:
        _ENTRIES.clear()
        _DEAD.clear()


def size() -> int:
    """How many transforms (and refusals) are kept."""
    with LOCK:
        _bury()
        return len(_ENTRIES)
