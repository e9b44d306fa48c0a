"""Work that runs with Python's cyclic garbage collector paused."""

from __future__ import annotations

import ast
import gc
import threading

_LOCK = threading.Lock()
_acquire, _release = _LOCK.acquire, _LOCK.release
_users = 0              # pauses under way, in all threads
_resume = False         # was the collector on when the first of them began?


class paused:  # noqa: N801  (used as a context manager, named like one)
    """``with paused():`` runs its body with the cyclic garbage collector off.

    For work that makes many short-lived objects and no reference cycles (a
    transform, a backward pass): reference counting frees them, and a collection
    in between would only walk them, and the whole heap behind them, for nothing.
    Nested uses and a collector the user turned off are left alone; the
    collector is on again when the last use under way, in any thread, ends, as it
    was before the first began (a thread ending its use does not turn it on under
    another's).
    """

    __slots__ = ()

    def __enter__(self) -> None:
        global _users, _resume
        _acquire()          # (not ``with``, slower: this runs once per backward pass)
        try:
            if not _users:
                _resume = gc.isenabled()
                if _resume:
                    gc.disable()
            _users += 1
        finally:
            _release()

    def __exit__(self, *exc: object) -> None:
        global _users
        _acquire()
        try:
            _users -= 1
            if not _users and _resume:
                gc.enable()
        finally:
            _release()


def parse(text: str) -> ast.Module:
    """``ast.parse(text)`` with the collector paused.

    CPython 3.11 keeps the depth counter of the C code that builds a parse's
    Python objects in state shared by all threads. A collection in the middle
    runs weak reference callbacks and finalizers, Python code that lets another
    thread in; if that thread parses too, the first parse fails with
    ``SystemError: AST constructor recursion depth mismatch``. Without a
    collection, nothing in that C code lets another thread in.
    """
    with paused():
        return ast.parse(text)
