"""Random nests of transforms over a family of small smooth functions.

A nest is a base function and a list of steps, each applying one transform to
the function built so far. :func:`build` writes the nest once against a
namespace of transforms: srcgrad's (with an engine) or the finite-difference
``reference``, so the two compute the same nest. Steps that need a scalar get a
(nonlinear) reduction first; ``vjp``, ``jvp`` and ``hvp`` steps add the
cotangent or tangent as a new argument, so that later steps differentiate with
respect to it too. A ``closure`` step differentiates an inner function of a
fresh variable that closes over the outer arguments (``grad(lambda u: f(x, u))(y)``).
"""

from __future__ import annotations

import functools
import itertools
import linecache
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

import srcgrad

# ---------------------------------------------------------------------------
# The family: smooth functions of one and two arguments, scalars and 2-vectors, with
# straight-line code, a loop through a callee and a list.


def wave(x):
    return np.sin(x) * x + x ** 3 / 3


def damped(x):
    return np.exp(0.3 * x) * np.cos(x)


def energy(x):
    return np.sum(np.tanh(x) * x) + 0.1 * np.sum(x) ** 2


def swirl(x):
    return np.sin(x) * np.sum(x ** 2)


def coupled(x, y):
    return np.sin(x * y) + x ** 2 * y


def mixed(x, y):
    return np.sum(np.cos(x)) * np.sum(y ** 2) + np.sum(x * np.exp(0.2 * y))


def softlog(x, y):
    return x * np.log(1.0 + y ** 2)


def _blend(a, b):
    return a * np.tanh(b) + 0.5 * b


def looped(x):
    # a loop carrying a value through a callee: the generated code keeps a stack
    h = x
    for k in range(3):
        h = _blend(h, x) * 0.5 + np.sin(h) * (0.2 + 0.1 * k)
    return h


def listed(x, y):
    # a list built in a loop and read back by index
    parts = [x * y]
    for k in range(2):
        parts.append(np.cos(parts[-1]) + y * 0.5 * (k + 1))
    return parts[0] + parts[-1] * x


# (function, argument shapes)
FAMILY = [
    (wave, [()]), (wave, [(2,)]), (damped, [()]), (damped, [(2,)]), (energy, [(2,)]),
    (swirl, [(2,)]), (coupled, [(), ()]), (coupled, [(2,), ()]), (mixed, [(2,), (2,)]),
    (softlog, [(), (2,)]), (looped, [()]), (looped, [(2,)]), (listed, [(), ()]),
    (listed, [(2,), ()]),
]

KINDS = ("grad", "value_and_grad", "vjp", "jvp", "jacobian", "jacfwd", "jacrev", "hessian",
         "hvp")
SCALAR_KINDS = frozenset({"grad", "value_and_grad", "hessian", "hvp"})
MAX_ARGS = 4        # vjp, jvp and hvp steps add an argument
MAX_OUT = 8         # a Jacobian step may not make the output larger than this
# Nested differences lose about 1e-16 * 1.5 / STEP per derivative: at most four
# derivatives keep the extrapolated reference within about 1e-7 (higher orders are
# checked against closed forms).
MAX_ORDER = 4


def order(kind: str) -> int:
    """How many derivatives a step takes."""
    return 2 if kind in ("hessian", "hvp") else 1


@dataclass(frozen=True)
class Step:
    kind: str
    argnum: Any          # an int, or a pair of ints (grad and value_and_grad)
    closure: bool


@dataclass(frozen=True)
class Nest:
    base: Any
    shapes: tuple
    steps: tuple

    def __str__(self) -> str:
        text = self.base.__name__ + "".join(f"/{s}" for s in self.shapes)
        for s in self.steps:
            text = f"{s.kind}[{s.argnum}{', closure' if s.closure else ''}]({text})"
        return text


def engine_transforms(engine: str) -> SimpleNamespace:
    """srcgrad's transforms, all with ``engine``."""
    return SimpleNamespace(**{k: functools.partial(getattr(srcgrad, k), engine=engine)
                              for k in KINDS})


def size(shape: tuple) -> int:
    return int(np.prod(shape, dtype=int))


def _weights(shape: tuple) -> np.ndarray:
    return np.linspace(0.5, 1.5, max(size(shape), 1)).reshape(shape)


_SERIAL = itertools.count()


def _explicit(body: str, n: int, **env: Any) -> Any:
    """``def wrapper(a0, ..., a<n-1>): <body>`` over the globals ``env`` (and ``np``).

    The wrappers a nest puts between its transforms take their arguments one by one,
    not as ``*args``, which the source engine refuses: so it gets to differentiate
    them. Their text is kept in linecache, where the proof of their source finds it.
    """
    params = ", ".join(f"a{i}" for i in range(n))
    text = f"def wrapper({params}):\n" + "".join(
        f"    {line}\n" for line in body.format(args=params).splitlines())
    filename = f"<nest wrapper {next(_SERIAL)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"np": np, **env}
    exec(compile(text, filename, "exec"), namespace)
    return namespace["wrapper"]


def _replaced(n: int, k: int, by: str) -> str:
    """``a0, ..., a<n-1>`` with ``a<k>`` replaced by ``by``."""
    return ", ".join(by if i == k else f"a{i}" for i in range(n))


def _zero(shape: tuple) -> Any:
    return 0.0 if shape == () else np.zeros(shape)


def _flat(parts: tuple) -> Any:
    return np.concatenate([np.reshape(p, (-1,)) for p in parts])


def reduced(f: Any, out: tuple, n: int) -> Any:
    """A scalar function of ``f``'s value (``n`` arguments), nonlinear so that
    curvature matters."""
    return _explicit("o = f({args})\nreturn np.sum(w * o) + 0.25 * np.sum(o * o)", n,
                     f=f, w=_weights(out))


def next_shapes(step: Step, shapes: list, out: tuple) -> tuple[list, tuple]:
    """The argument shapes and the output shape after ``step``."""
    kind, k = step.kind, step.argnum
    if kind in SCALAR_KINDS:
        out = ()
    if isinstance(k, tuple):
        return shapes, (sum(size(shapes[i]) for i in k),)
    if kind in ("grad", "value_and_grad"):
        return shapes, shapes[k]
    if kind in ("jacobian", "jacfwd", "jacrev"):
        return shapes, out + shapes[k]
    if kind == "hessian":
        return shapes, shapes[k] + shapes[k]
    if kind == "vjp":
        return shapes + [out], shapes[k]
    return shapes + [shapes[k]], (out if kind == "jvp" else shapes[k])


def apply(step: Step, f: Any, shapes: list, out: tuple, T: Any) -> Any:
    """The function ``step`` makes of ``f`` (arguments ``shapes``, output ``out``)."""
    kind, k, closure = step.kind, step.argnum, step.closure
    n = len(shapes)
    if kind in SCALAR_KINDS and out != ():
        f = reduced(f, out, n)
    transform = getattr(T, kind)
    env = {"f": f, "transform": transform, "flat": _flat}
    if closure and not isinstance(k, tuple) and kind not in ("vjp", "jvp", "hvp"):
        # the derivative of an inner function of a fresh variable closing over the rest
        g = _explicit(f"return transform(lambda u: f({_replaced(n, k, 'u')}))(a{k})", n,
                      **env)
        if kind == "value_and_grad":
            return _explicit("v, gk = inner({args})\nreturn 0.5 * v + gk", n, inner=g)
        return g
    if kind in ("grad", "value_and_grad"):
        made = transform(f, argnums=k)
        if isinstance(k, tuple):
            if kind == "grad":
                return _explicit("return flat(made({args}))", n, made=made, flat=_flat)
            return _explicit("v, gs = made({args})\nreturn 0.5 * v + flat(gs)", n,
                             made=made, flat=_flat)
        if kind == "grad":
            return made
        return _explicit("v, gk = made({args})\nreturn 0.5 * v + gk", n, made=made)
    if kind in ("jacobian", "jacfwd", "jacrev", "hessian"):
        return transform(f, argnums=k)
    primals = ", ".join(f"a{i}" for i in range(n))
    if kind == "vjp":
        # the cotangent is the new last argument
        if closure:
            body = f"return transform(lambda u: f({_replaced(n, k, 'u')}), a{k})[1](a{n})[0]"
        else:
            body = f"return transform(f, {primals})[1](a{n})[{k}]"
        return _explicit(body, n + 1, **env)
    # jvp and hvp: the new last argument is the tangent of argument k
    if closure:
        call = f"transform(lambda u: f({_replaced(n, k, 'u')}), (a{k},), (a{n},))"
        body = f"return {call}[1]" if kind == "jvp" else f"return {call}"
        return _explicit(body, n + 1, **env)
    zeros = {f"z{i}": _zero(shapes[i]) for i in range(n) if i != k}
    tangents = ", ".join(f"a{n}" if i == k else f"z{i}" for i in range(n))
    call = f"transform(f, ({primals},), ({tangents},))"
    if kind == "jvp":
        body = f"return {call}[1]"
    else:
        body = f"return {call}[{k}]" if n > 1 else f"return {call}"
    return _explicit(body, n + 1, **env, **zeros)


def build(nest: Nest, T: Any) -> tuple[Any, list]:
    """The nest's function against transforms ``T``, and its argument shapes."""
    f, shapes = nest.base, list(nest.shapes)
    out = np.shape(nest.base(*(np.full(s, 0.5) for s in shapes)))
    for step in nest.steps:
        f = apply(step, f, shapes, out, T)
        shapes, out = next_shapes(step, shapes, out)
    return f, shapes


def allowed(kind: str, shapes: list, out: tuple, orders_left: int) -> bool:
    """Whether a step of ``kind`` keeps the nest small (order, arguments, output size)."""
    if order(kind) > orders_left:
        return False
    if kind in ("vjp", "jvp", "hvp"):
        return len(shapes) < MAX_ARGS
    if kind in ("jacobian", "jacfwd", "jacrev"):
        return size(out) * max(size(s) for s in shapes) <= MAX_OUT
    return True
