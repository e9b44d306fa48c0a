"""The rule registry: the one place where srcgrad's derivatives live.

A rule belongs to a *primitive* (``np.sin``, ``np.sum``, ``operator.mul``,
``math.exp``...). It holds one VJP and (optionally) one JVP per
differentiable positional argument, written as plain NumPy::

    defvjp(np.sin, lambda g, ans, x: g * np.cos(x))
    defjvp(np.sin, lambda dx, ans, x: dx * np.cos(x))

A VJP receives the cotangent ``g`` of the output, the output ``ans`` and the
primitive's own arguments, exactly as the primitive was called (positional
and keyword), and returns the cotangent of its argument.  A JVP receives the
tangent of its argument instead of ``g`` and returns that argument's
contribution to the output's tangent.  Rule parameters mirror the
primitive's signature, so a call binds to a rule the way it binds to the
primitive.

The tape (``srcgrad.autograd``) calls rules; the compiler
(``srcgrad.compiler``) reads a lambda rule's source and inlines it into
generated code.  Neither engine has derivative knowledge of its own.
"""

from __future__ import annotations

import functools
import importlib
import operator
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import NoRuleError, RuleExistsError

__all__ = [
    "Rule",
    "defvjp",
    "defjvp",
    "defrule",
    "nondifferentiable",
    "alias",
    "get_rule",
    "lookup",
    "all_rules",
    "primitive_name",
    "primitive",
    "generation",
    "optional_family",
    "load_optional",
    "complex_rules",
    "refuse_complex",
    "EVERY_ARGUMENT",
    "missing_derivatives",
    "missing_derivative_message",
]

NodeSpec = str | Callable[..., Any] | None


class _EveryArgument:
    """``Rule.inert`` of a function whose results are constants: every argument is inert."""

    def __contains__(self, item: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERY_ARGUMENT"


EVERY_ARGUMENT: Any = _EveryArgument()


@dataclass(eq=False)
class Rule:
    """Everything srcgrad knows about differentiating one primitive."""

    primitive: Callable[..., Any]
    name: str
    vjps: dict[int, Callable[..., Any]] = field(default_factory=dict)
    jvps: dict[int, Callable[..., Any]] = field(default_factory=dict)
    # Tape node name (PyTorch's), or a callable ``node(is_tensor, kwargs)``
    # returning a name or ``(name, listed_argnums)`` for call-dependent names
    # such as SumBackward0 / SumBackward1.
    node: NodeSpec = None
    # Argument positions holding a *sequence* of arrays (np.concatenate's
    # first argument); their VJP returns one cotangent per element.
    sequence_argnums: tuple[int, ...] = ()
    # Number of outputs for primitives returning a tuple (eigh, slogdet...);
    # then ``g`` passed to a VJP is a tuple with zeros for unused outputs.
    outputs: int = 1
    # For primitives whose arguments choose how many outputs a call returns (svd's
    # compute_uv, qr's mode): ``outputs_of(*args, **kwargs)`` with the primitive's
    # signature gives that call's number (1: a single array).
    outputs_of: Callable[..., int] | None = None
    # Outputs that never carry a derivative (np.histogram's bin edges: a VJP ignores
    # their cotangents, and the tape makes them constants rather than outputs of its node)
    constant_outputs: tuple[int, ...] = ()
    differentiable: bool = True
    # Arguments that carry no derivative by design (positions, or keyword names): an
    # integer axis, a shape, an index, a mask, an order.  A value that depends on the
    # differentiated inputs may reach them; reaching any other argument without a VJP
    # (reverse mode) or JVP (forward mode) is refused by both engines, never a zero.
    # EVERY_ARGUMENT for functions declared constant (nondifferentiable(f)).
    inert: Any = frozenset()
    # Whether the VJPs and JVPs are right for complex values (JAX's convention, see
    # docs/rules.md): False makes both engines refuse complex values with TypeError.
    complex: bool = False
    _argnums: tuple[int, ...] | None = field(default=None, repr=False)
    # The tape's recording plans for this rule, by call pattern (see autograd/ops.py).
    _plans: dict = field(default_factory=dict, repr=False)
    # Keyword parameters that are always constants (axis, dtype, ...): never
    # differentiated, passed through unchanged.
    doc: str = ""
    # The module that registered the rule (its family: ``srcgrad.rules.linalg``...).
    module: str = ""

    @property
    def argnums(self) -> tuple[int, ...]:
        """Positions of the differentiable arguments, in order."""
        cached = self._argnums
        if cached is None or len(cached) != len(self.vjps):
            cached = self._argnums = tuple(sorted(self.vjps))
        return cached

    def count_outputs(self, args: tuple | list, kwargs: dict) -> int:
        """How many outputs this call returns (1: one array, not a tuple)."""
        if self.outputs_of is None:
            return self.outputs
        return self.outputs_of(*args, **kwargs)

    def node_name(
        self, is_tensor: tuple[bool, ...], kwargs: dict, args: tuple = ()
    ) -> tuple[str, tuple[int, ...]]:
        """The tape node name for a call, and the argument positions it lists.

        A callable ``node`` receives ``(is_tensor, kwargs)``, or
        ``(is_tensor, kwargs, args)`` when it takes three parameters (names
        that depend on shapes or index types); ``args`` are the call's
        arguments with arrays in place of tensors.
        """
        spec = self.node
        listed = self.argnums
        if callable(spec):
            spec = spec(is_tensor, kwargs, args) if _takes_args(spec) else spec(is_tensor, kwargs)
        if isinstance(spec, tuple):
            return spec[0], spec[1]
        if spec is None:
            spec = _default_node_name(self.name)
        return spec, listed

    def __repr__(self) -> str:
        kind = "differentiable" if self.differentiable else "non-differentiable"
        return f"<Rule {self.name} ({kind}, argnums={self.argnums})>"


_RULES: dict[Any, Rule] = {}
# bumped by every registration: code generated from the rules before is stale after
GENERATION = [0]


def generation() -> int:
    """How many times the rules have changed (the source engine's cache keys on it)."""
    return GENERATION[0]
_ARITY: dict[Any, bool] = {}


def _takes_args(spec: Callable[..., Any]) -> bool:
    known = _ARITY.get(spec)
    if known is None:
        code = getattr(spec, "__code__", None)
        known = _ARITY[spec] = code is not None and code.co_argcount >= 3
    return known


def _key(fun: Any) -> Any:
    # Bound methods of the same builtin compare equal but are new objects
    # each time; functions, ufuncs and builtins hash by identity.
    try:
        hash(fun)
    except TypeError:  # pragma: no cover - unhashable callables are rare
        return id(fun)
    return fun


def primitive_name(fun: Any) -> str:
    """A readable qualified name for a callable: ``numpy.sin``, ``math.exp``."""
    if isinstance(fun, _ufunc_type()):
        return f"numpy.{fun.__name__}"
    module = getattr(fun, "__module__", None) or ""
    qual = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None) or repr(fun)
    if module.startswith("numpy"):
        # numpy.core.fromnumeric.sum -> numpy.sum when that is the public name
        import numpy as np

        public = getattr(np, getattr(fun, "__name__", ""), None)
        if public is fun:
            module = "numpy"
        elif module.startswith("numpy.linalg"):
            module = "numpy.linalg"
    if module == "_operator":
        module = "operator"
    return f"{module}.{qual}" if module else qual


def _ufunc_type():
    import numpy as np

    return np.ufunc


def _default_node_name(name: str) -> str:
    base = name.rsplit(".", 1)[-1]
    return "".join(part.capitalize() for part in base.split("_")) + "Backward0"


def _rule_for(fun: Any) -> Rule:
    key = _key(fun)
    rule = _RULES.get(key)
    if rule is None or rule.primitive is not fun:
        rule = Rule(primitive=fun, name=primitive_name(fun), module=_registering_module())
        _RULES[key] = rule
    return rule


def _registering_module() -> str:
    """The module outside this one whose code is registering a rule."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return "" if frame is None else frame.f_globals.get("__name__", "")


def _builtin(module: str) -> bool:
    return module == "srcgrad" or module.startswith("srcgrad.")


def _guard(fun: Any, rule: Rule | None, what: str, override: bool) -> None:
    """Refuse to change a built-in rule from outside srcgrad unless ``override``."""
    if override or rule is None or not _builtin(rule.module) \
            or _builtin(_registering_module()):
        return
    name = primitive_name(fun)
    raise RuleExistsError(
        f"{name} already has srcgrad's built-in rule ({rule.module}); {what} would change "
        f"every derivative through {name}, in both engines. Pass override=True to replace "
        f"it on purpose, or register the rule on a new function (@srcgrad.primitive).")


def _store(fun: Any, table: dict, funcs: tuple, argnums: Iterable[int] | None) -> None:
    positions = range(len(funcs)) if argnums is None else tuple(argnums)
    if len(tuple(positions)) != len(funcs):
        raise ValueError(
            f"{primitive_name(fun)}: {len(funcs)} rule(s) given for argnums {tuple(positions)}"
        )
    for i, f in zip(positions, funcs, strict=True):
        if f is None:
            continue
        if not callable(f):
            raise TypeError(f"{primitive_name(fun)}: rule for argument {i} is not callable: {f!r}")
        table[i] = f


def defvjp(
    fun: Callable[..., Any],
    *vjps: Callable[..., Any] | None,
    argnums: Iterable[int] | None = None,
    node: NodeSpec = None,
    sequence_argnums: tuple[int, ...] = (),
    outputs: int = 1,
    outputs_of: Callable[..., int] | None = None,
    override: bool = False,
    complex: bool | None = None,
) -> Rule:
    """Register the VJPs of ``fun``: one per differentiable positional argument.

    ``vjps[k]`` is ``vjp(g, ans, *args, **kwargs) -> cotangent of argument
    argnums[k]`` (``argnums`` defaults to ``0, 1, ...``; a ``None`` entry registers
    nothing for its argument).  An argument without a VJP is refused by both
    engines when a value depending on the differentiated inputs reaches it, unless
    it is declared with ``nondifferentiable(fun, argnums=...)``.  ``node`` names the tape node as
    PyTorch would (``"SinBackward0"``).  ``outputs`` is the number of arrays the
    primitive returns as a tuple; when its arguments choose that number
    (``np.linalg.svd(a, compute_uv=False)`` returns one array), ``outputs_of`` takes
    the call's arguments and returns it (the source engine needs those arguments to
    be constants).  Replacing one of srcgrad's built-in rules raises
    :class:`~srcgrad.errors.RuleExistsError` unless ``override=True``.
    ``complex=True`` declares the rules right for complex values in JAX's
    convention (a new rule is real-only: both engines refuse complex values).
    Returns the rule.

    Example::

        import numpy as np, srcgrad

        def softplus(x):
            return np.log1p(np.exp(x))

        srcgrad.defvjp(softplus, lambda g, ans, x: g / (1 + np.exp(-x)))
    """
    _guard(fun, lookup(fun), "a new VJP", override)
    rule = _rule_for(fun)
    rule.differentiable = True
    rule._plans.clear()  # an engine's cached use of the old rules is stale now
    GENERATION[0] += 1
    _store(fun, rule.vjps, vjps, argnums)
    if node is not None:
        rule.node = node
    if sequence_argnums:
        rule.sequence_argnums = tuple(sequence_argnums)
    rule.outputs = outputs
    rule.outputs_of = outputs_of
    if complex is not None:
        rule.complex = complex
    return rule


def defjvp(
    fun: Callable[..., Any],
    *jvps: Callable[..., Any] | None,
    argnums: Iterable[int] | None = None,
    override: bool = False,
    complex: bool | None = None,
) -> Rule:
    """Register the JVPs of ``fun``: one per differentiable positional argument.

    ``jvps[k]`` is ``jvp(dx, ans, *args, **kwargs)`` and returns the
    contribution of argument ``argnums[k]``'s tangent ``dx`` to the output's
    tangent.  The output tangent is the sum of the active contributions.
    Replacing a built-in JVP needs ``override=True``; adding one where a built-in
    rule has none does not.
    """
    existing = lookup(fun)
    if existing is not None and any(i in existing.jvps for i in (
            range(len(jvps)) if argnums is None else tuple(argnums))):
        _guard(fun, existing, "a new JVP", override)
    rule = _rule_for(fun)
    rule.differentiable = True
    GENERATION[0] += 1
    _store(fun, rule.jvps, jvps, argnums)
    if complex is not None:
        rule.complex = complex
    return rule


def defrule(
    fun: Callable[..., Any],
    vjps: tuple = (),
    jvps: tuple = (),
    **options: Any,
) -> Rule:
    """Register VJPs and JVPs together: ``defrule(f, vjps=(...), jvps=(...))``."""
    rule = defvjp(fun, *vjps, **options)
    if jvps:
        defjvp(fun, *jvps, argnums=options.get("argnums"), override=True)
    return rule


def complex_rules(*funs: Callable[..., Any]) -> None:
    """Declare the rules of ``funs`` right for complex values (``complex=True`` of defvjp)."""
    for fun in funs:
        rule = lookup(fun)
        if rule is None or not rule.differentiable:
            raise ValueError(f"{primitive_name(fun)} has no derivative rule to declare complex")
        rule.complex = True
        rule._plans.clear()
    GENERATION[0] += 1


def refuse_complex(name: str, *values: Any) -> None:
    """Raise TypeError when one of ``values`` (a primitive's arguments) is complex.

    Both engines call it for the rules that are not declared ``complex``: the tape
    as it records the call, generated code where it differentiates the call.
    """
    for v in values:
        kind = type(v)
        if kind is float or kind is int or kind is bool:
            continue
        if kind is complex or getattr(getattr(v, "dtype", None), "kind", "") == "c" or (
                (kind is list or kind is tuple) and any(_is_complex(e) for e in v)):
            raise TypeError(
                f"srcgrad differentiates {name} for real values only, and it was called with "
                "a complex value. Differentiate a real formulation (of np.real(z) and "
                "np.imag(z)), or register complex rules with srcgrad.defvjp(..., complex=True)")


def _is_complex(v: Any) -> bool:
    return type(v) is complex or getattr(getattr(v, "dtype", None), "kind", "") == "c" or (
        type(v) in (list, tuple) and any(_is_complex(e) for e in v))


def nondifferentiable(
    *funs: Callable[..., Any],
    argnums: Iterable[int | str] | None = None,
    override: bool = False,
) -> None:
    """Declare what carries no derivative: whole functions, or some of their arguments.

    Without ``argnums``, the functions' results are constants (argmax, shape, len...):
    both engines treat them as such, whatever their arguments.  Declaring a function
    that has a built-in derivative constant needs ``override=True``.

    With ``argnums`` (positions, or keyword names), those arguments of each function
    are not differentiated by design (an integer order, a shape, a mask): a value
    depending on the differentiated inputs gets no derivative through them (a zero,
    on purpose).  The function keeps its rules for the other arguments::

        srcgrad.defvjp(scaled, lambda g, ans, x, n: g * n)     # a VJP for x only
        srcgrad.nondifferentiable(scaled, argnums=(1,))         # n: no derivative

    A value that depends on the differentiated inputs and reaches an argument that
    has neither a rule nor such a declaration is refused by both engines.  A function
    with no rules at all and some arguments declared keeps constant results (and
    refuses such a value in any other argument).  Changing a built-in rule's
    arguments needs ``override=True``.
    """
    if argnums is not None:
        marked = frozenset(argnums)
        for fun in funs:
            _guard(fun, lookup(fun), f"declaring arguments {tuple(marked)} non-differentiable",
                   override)
        for fun in funs:
            rule = _rule_for(fun)
            if rule.inert is not EVERY_ARGUMENT:
                rule.inert = rule.inert | marked
            if not rule.vjps and not rule.jvps:
                rule.differentiable = False     # nothing else known: results are constants
            rule._plans.clear()
            GENERATION[0] += 1
        return
    for fun in funs:
        existing = lookup(fun)
        if existing is not None and existing.differentiable:
            _guard(fun, existing, "declaring it constant", override)
    for fun in funs:
        rule = _rule_for(fun)
        rule.differentiable = False
        rule.inert = EVERY_ARGUMENT
        GENERATION[0] += 1
        rule._plans.clear()
        rule.vjps.clear()
        rule.jvps.clear()


def parameter_position(rule: Rule, keyword: str) -> int | None:
    """The position of the primitive's parameter named ``keyword`` (``None``: not known).

    Read from a VJP's or JVP's signature (rule parameters mirror the primitive's),
    else from the primitive's own.
    """
    key = ("position", keyword)
    plans = rule._plans
    if key in plans:
        return plans[key]
    names = None
    for f in (*rule.vjps.values(), *rule.jvps.values()):
        code = getattr(f, "__code__", None)
        if code is not None:
            names = list(code.co_varnames[2:code.co_argcount])
            break
    if names is None:
        try:
            import inspect

            names = [p.name for p in inspect.signature(rule.primitive).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            names = []
    found = names.index(keyword) if keyword in names else None
    plans[key] = found
    return found


def missing_derivatives(rule: Rule, table: dict, positions: Iterable[int],
                        keywords: Iterable[str] = ()) -> list[int | str]:
    """Which arguments of a call have no derivative: positions (and keyword names) that
    hold values depending on the differentiated inputs, with no entry in ``table``
    (``rule.vjps`` or ``rule.jvps``) and not declared inert."""
    inert = rule.inert
    missing: list[int | str] = []
    for p in positions:
        if p not in table and p not in inert:
            missing.append(p)
    for k in keywords:
        p = parameter_position(rule, k)
        if k in inert or (p is not None and (p in table or p in inert)):
            continue
        missing.append(k if p is None else p)
    return missing


def missing_derivative_message(rule: Rule, where: int | str, mode: str = "vjp") -> str:
    """What to say when a value needing a derivative reaches argument ``where`` of ``rule``
    and ``rule`` has no ``mode`` ("vjp" or "jvp") for it."""
    short = getattr(rule.primitive, "__name__", None) or rule.name.rsplit(".", 1)[-1]
    what = f"argument {where}" if isinstance(where, int) else f"argument {where}="
    argnums = f"argnums=({where!r},)"
    kind, define, lead = ("VJP", "defvjp", "g") if mode == "vjp" else ("JVP", "defjvp", "d")
    return (
        f"{rule.name} has no {kind} for its {what}, and a value that depends on the "
        f"differentiated inputs reaches it: its derivative would be dropped (a silent "
        f"zero), so srcgrad refuses. Register a rule for that argument "
        f"(srcgrad.{define}({short}, lambda {lead}, ans, *args: ..., {argnums})), or, if "
        f"{short} is not differentiable in it by design, declare that with "
        f"srcgrad.nondifferentiable({short}, {argnums}); or pass a value there that does "
        f"not depend on the differentiated inputs."
    )


def alias(fun: Callable[..., Any], target: Callable[..., Any], override: bool = False) -> None:
    """Make ``fun`` use ``target``'s rule (``operator.mul`` -> ``np.multiply``).

    The alias shares the rule object, so later registrations on either name
    are seen through both.  Replacing a built-in rule of ``fun`` needs ``override=True``.
    """
    _guard(fun, lookup(fun), f"aliasing it to {primitive_name(target)}", override)
    _RULES[_key(fun)] = _rule_for(target)
    GENERATION[0] += 1


def lookup(fun: Any) -> Rule | None:
    """The rule for ``fun``, or ``None`` when srcgrad knows nothing about it."""
    try:
        rule = _RULES.get(fun)
    except TypeError:
        rule = _RULES.get(id(fun))
    if rule is None and _OPTIONAL and load_optional():
        return lookup(fun)
    return rule


# Rule families of optional libraries (SciPy), registered when the library is first
# seen: {library module: srcgrad module registering its rules}.  ``import srcgrad``
# never imports them; a function calling one has imported the library first.
_OPTIONAL: dict[str, str] = {}
_OPTIONAL_LOCK = threading.RLock()


def optional_family(library: str, rules_module: str) -> None:
    """Register ``rules_module``'s rules once ``library`` has been imported."""
    _OPTIONAL[library] = rules_module


def load_optional(import_libraries: bool = False) -> bool:
    """Register the optional families whose library is imported; whether any was.

    With ``import_libraries`` the installed libraries are imported first (the
    coverage document and the tests list every rule); a missing one is skipped.
    """
    loaded = False
    with _OPTIONAL_LOCK:  # another thread finds the rules complete, not half registered
        for library in list(_OPTIONAL):
            if library not in sys.modules:
                if not import_libraries or library not in _OPTIONAL:
                    continue
                try:
                    importlib.import_module(library)
                except ImportError:
                    continue
            # a family registering its rules looks them up: this runs again inside
            module = _OPTIONAL.pop(library, None)
            if module is not None:
                importlib.import_module(module)
                loaded = True
    return loaded


def get_rule(fun: Any) -> Rule:
    """The rule for ``fun``; raises :class:`NoRuleError` showing how to add one."""
    rule = lookup(fun)
    if rule is None:
        raise NoRuleError(fun)
    return rule


# Engines that want to intercept calls of @primitive functions (the tape records
# them as one node when a Tensor is among the arguments) register here, so this
# module never imports an engine.
_dispatchers: list[Callable[..., Any]] = []


def primitive(fun: Callable[..., Any]) -> Callable[..., Any]:
    """Declare ``fun`` a primitive: differentiated by its rule, never looked into.

    Use it for your own functions before registering their rules::

        @srcgrad.primitive
        def softplus(x):
            return np.logaddexp(0.0, x)

        srcgrad.defvjp(softplus, lambda g, ans, x: g / (1.0 + np.exp(-x)))

    Called on arrays it is ``fun`` itself; called on Tensors it records one
    node (named by the rule's ``node=``) instead of the operations inside it.
    """

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for dispatch in _dispatchers:
            result = dispatch(wrapper, fun, args, kwargs)
            if result is not NotImplemented:
                return result
        return fun(*args, **kwargs)

    wrapper.__srcgrad_primitive__ = fun  # type: ignore[attr-defined]
    return wrapper


def all_rules() -> list[Rule]:
    """Every distinct registered rule, sorted by name (aliases appear once)."""
    if _OPTIONAL:
        load_optional()
    seen: dict[int, Rule] = {}
    for rule in _RULES.values():
        seen[id(rule)] = rule
    return sorted(seen.values(), key=lambda r: r.name)


def registered_callables() -> list[Any]:
    """Every callable with a rule, aliases included."""
    return list(_RULES.keys())


# Python's operator module spells the arithmetic that both engines see.
BINARY_OPERATORS = {
    "Add": operator.add,
    "Sub": operator.sub,
    "Mult": operator.mul,
    "Div": operator.truediv,
    "FloorDiv": operator.floordiv,
    "Mod": operator.mod,
    "Pow": operator.pow,
    "MatMult": operator.matmul,
}
UNARY_OPERATORS = {"USub": operator.neg, "UAdd": operator.pos}
