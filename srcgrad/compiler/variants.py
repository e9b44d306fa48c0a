"""Generated code for the arrays of another library: the same code, other globals.

A transform's generated functions read NumPy, NumPy's functions and srcgrad's
helpers from their globals.  The variant for an array namespace (see
:mod:`srcgrad.namespaces`) makes the same functions (the same code objects)
over a copy of those globals in which ``np`` is the namespace, each NumPy
function is the namespace's function of that name, each helper is a copy of
itself whose own module globals are remapped the same way, and each callee's
derivative is that callee's variant.  NumPy code itself is never touched: its
functions and namespace stay as they are, and a variant is made once per
transform and namespace (kept with the :class:`Compiled` it comes from).
"""

from __future__ import annotations

import ast
import dataclasses
import types
from typing import Any

import numpy as np

from .. import collector, fast_numpy
from ..namespaces import ArrayNamespace, MissingFunction
from .emit import compile_module

__all__ = ["own", "variant", "header"]

_HELPER_MODULES = ("srcgrad.runtime", "srcgrad.rules", "srcgrad.compiler.support",
                   "srcgrad.compiler.linear_helpers", "srcgrad.fast_numpy", "srcgrad.outputs")
# helpers that write items in place: the namespace's own out-of-place versions
_OVERRIDES = {("srcgrad.runtime", "expand_reduced"): "expand_reduced",
              ("srcgrad.rules._shape_helpers", "assign"): "assign",
              ("srcgrad.rules._shape_helpers", "index_add"): "index_add",
              ("srcgrad.rules._shape_helpers", "_surviving_writes"): "surviving_writes",
              ("srcgrad.compiler.support", "setitem_copy"): "assign",
              ("srcgrad.rules.shape", "in_place"): "in_place"}


def own(compiled: Any) -> None:
    """Note that ``compiled``'s functions are generated code (for callers' variants)."""
    for fn in (compiled.function, compiled.pullback):
        if isinstance(fn, types.FunctionType):
            # (an attribute, not a table: the function and its Compiled die together)
            fn.__srcgrad_compiled__ = compiled


def header(ns: ArrayNamespace, params: list[str]) -> str:
    """The lines the printed source of a variant starts with: how ``np`` is bound."""
    return (f"# np = namespace_of({', '.join(params)})  ->  {ns!r}\n"
            "# (every np.<name> below, and every helper, runs in that namespace)\n")


def variant(compiled: Any, ns: ArrayNamespace, fun: Any = None) -> Any:
    """``compiled`` running in ``ns``: a Compiled with the same code and remapped globals."""
    kept = compiled.__dict__.setdefault("variants", {})
    found = kept.get(ns.key)
    if found is not None:
        return found
    remap = _Remap(ns, fun)
    generated = {k for k, v in compiled.namespace.items()
                 if isinstance(v, types.FunctionType)
                 and v.__code__.co_filename == compiled.filename}
    glob = {k: remap.value(v, k) for k, v in compiled.namespace.items() if k not in generated}
    modules = {k for k, v in compiled.namespace.items() if type(v) is types.ModuleType
               or v is fast_numpy.module}
    tree = collector.parse(compiled.source)
    rewrite = _Methods(modules, glob)
    tree = ast.fix_missing_locations(rewrite.visit(tree))
    for chain, _node in rewrite.chains:
        try:
            target = glob[chain[0]]
            for part in chain[1:]:
                target = getattr(target, part)
        except MissingFunction as err:
            raise remap.located(".".join(chain[1:]), str(err), chain[-1],
                                construct=f"{'.'.join(chain)} on {ns.library} arrays") from None
        except AttributeError:
            continue
    glob["array_method"] = ns.method
    glob["array_attribute"] = ns.attribute
    params = list(compiled.function.__code__.co_varnames[
        :compiled.function.__code__.co_argcount]) if compiled.function else []
    source = header(ns, params) + ast.unparse(tree) + "\n"
    label = compiled.filename.split(" #")[0].rstrip(">") + f" on {ns.library}>"
    exec(compile_module(source, label), glob)
    function = glob.get(getattr(compiled.function, "__name__", ""))
    pullback = glob.get(getattr(compiled.pullback, "__name__", "")) \
        if compiled.pullback is not None else None
    made = dataclasses.replace(compiled, function=function, pullback=pullback, namespace=glob,
                               source=source)
    made.__dict__.pop("variants", None)
    own(made)
    kept[ns.key] = made
    return made


# NumPy array attributes whose meaning other libraries' arrays do not share
_ATTRIBUTES = frozenset({"T", "mT", "size", "real", "imag", "flat", "itemsize", "nbytes"})


class _Methods(ast.NodeTransformer):
    """Array methods and attributes as calls that keep NumPy's meaning: ``x.sum(axis=1)``
    becomes ``array_method(x, 'sum', axis=1)`` (the object's own method when it is not
    an array); and every ``np.<name>`` chain is noted, to be checked."""

    def __init__(self, modules: set, glob: dict) -> None:
        self.modules = modules
        self.glob = glob
        self.chains: list = []

    def _module_chain(self, node: Any) -> list | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.modules:
            return [node.id, *reversed(parts)]
        return None

    def visit_Call(self, node: Any) -> Any:
        func = node.func
        if isinstance(func, ast.Attribute) and self._module_chain(func) is None:
            node.args = [self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            receiver = self.visit(func.value)
            return ast.Call(func=ast.Name(id="array_method", ctx=ast.Load()),
                            args=[receiver, ast.Constant(value=func.attr), *node.args],
                            keywords=node.keywords)
        return self.generic_visit(node)

    def visit_Attribute(self, node: Any) -> Any:
        chain = self._module_chain(node)
        if chain is not None:
            self.chains.append((chain, node))
            return node
        if isinstance(node.ctx, ast.Load) and node.attr in _ATTRIBUTES:
            return ast.Call(func=ast.Name(id="array_attribute", ctx=ast.Load()),
                            args=[self.visit(node.value), ast.Constant(value=node.attr)],
                            keywords=[])
        return self.generic_visit(node)


class _Remap:
    """What each global of generated code (and of a helper module) becomes in ``ns``."""

    def __init__(self, ns: ArrayNamespace, fun: Any) -> None:
        self.ns = ns
        self.fun = fun
        clones = ns.__dict__.get("_clones")
        if clones is None:
            clones = ns.__dict__["_clones"] = {"functions": {}, "modules": {}}
        self.functions: dict = clones["functions"]
        self.modules: dict = clones["modules"]

    def value(self, v: Any, name: str = "", strict: bool = True) -> Any:
        ns = self.ns
        if v is np or v is fast_numpy.module:
            return ns
        kind = type(v)
        if _outside_numpy(v):
            # SciPy's functions take any array to NumPy (``np.asarray``): refused, never run
            owner = getattr(v, "__module__", None) or "scipy.special"
            what = v.__name__ if kind is types.ModuleType else \
                f"{owner}.{getattr(v, '__name__', name)}"
            message = (f"{what} is not available for {ns.library} arrays: srcgrad runs NumPy's "
                       "functions in the arrays' namespace, and SciPy's would convert the "
                       "arrays to NumPy; use NumPy arrays, or write it with NumPy functions")
            if kind is types.ModuleType:
                return _RefusedModule(v.__name__, message)
            if strict:
                raise self.located(v, message, construct=f"{what} on {ns.library} arrays")
            return _missing(message)
        if kind is types.ModuleType:
            module = v.__name__
            if module.startswith("numpy."):
                return getattr(ns, module.partition(".")[2].partition(".")[0], v)
            if module.startswith(_HELPER_MODULES):     # srcgrad.rules.nn.logsumexp
                return types.SimpleNamespace(**self.module(module, vars(v)))
            return v
        if kind is np.ndarray:
            return ns.asarray(v)    # a constant the function reads: in the inputs' library
        ufunc = getattr(v, "__self__", None)
        if isinstance(ufunc, np.ufunc) and not isinstance(v, np.ufunc):   # np.add.reduce
            try:
                return getattr(getattr(ns, ufunc.__name__), v.__name__)
            except AttributeError as err:
                return _missing(str(err))
        if isinstance(v, np.ufunc) or (callable(v) and _numpy_function(v)):
            return self.numpy_function(v, name, strict)
        if kind is types.FunctionType:
            owner = v.__dict__.get("__srcgrad_compiled__")
            if owner is not None:
                return getattr(variant(owner, ns), "function" if v is owner.function
                               else "pullback")
            module = v.__module__ or ""
            if module.startswith(_HELPER_MODULES):
                return self.helper(v)
            if module == "srcgrad.api":
                return _refused_callee(v, ns)
        return v

    def numpy_function(self, v: Any, name: str, strict: bool) -> Any:
        ns = self.ns
        module = getattr(v, "__module__", None) or "numpy"
        path = module.split(".")[1:] if module.startswith("numpy.") else []
        path = [p for p in path if not p.startswith("_")]
        target: Any = ns
        try:
            for part in path:
                target = getattr(target, part)
            return getattr(target, v.__name__)
        except MissingFunction as err:
            if strict:
                raise self.located(v, str(err)) from None
            return _missing(str(err))

    def located(self, v: Any, message: str, attr: str = "", construct: str = "") -> Exception:
        from ..errors import TransformError
        from .parse import parse_function

        name = v if isinstance(v, str) else v.__name__
        construct = construct or f"np.{name} on {self.ns.library} arrays"
        name = attr or name
        if self.fun is not None:
            try:
                parsed = parse_function(self.fun)
                for node in _walk(parsed.node):
                    if getattr(node, "attr", None) == name or \
                            getattr(node, "id", None) == name:
                        return parsed.error(node, construct, message)
                return parsed.error(parsed.node, construct, message)
            except TransformError:
                pass
        return TransformError(construct, message)

    def helper(self, fn: Any) -> Any:
        clone = self.functions.get(fn)
        if clone is not None:
            return clone
        module = fn.__module__
        override = _OVERRIDES.get((module, fn.__name__))
        if override is not None:
            clone = getattr(self.ns, override)
            self.functions[fn] = clone
            return clone
        glob = self.module(module, fn.__globals__)
        clone = types.FunctionType(fn.__code__, glob, fn.__name__, fn.__defaults__,
                                   fn.__closure__)
        clone.__kwdefaults__ = fn.__kwdefaults__
        clone.__dict__.update(fn.__dict__)
        clone.__qualname__ = fn.__qualname__
        clone.__module__ = module
        self.functions[fn] = clone
        return clone

    def module(self, name: str, original: dict) -> dict:
        glob = self.modules.get(name)
        if glob is not None:
            return glob
        glob = self.modules[name] = {}
        for key, v in original.items():
            override = _OVERRIDES.get((name, key))
            if override is not None:
                glob[key] = getattr(self.ns, override)
            elif isinstance(v, types.FunctionType) and (v.__module__ or "").startswith(
                    _HELPER_MODULES):
                glob[key] = self.helper(v)
            elif key == "__builtins__" or isinstance(v, (str, int, float, type, frozenset,
                                                         tuple, dict, list, set)):
                glob[key] = v
            else:
                glob[key] = self.value(v, key, strict=False)
        return glob


def _outside_numpy(v: Any) -> bool:
    """A SciPy module or function (also SciPy's ufuncs, which NumPy's names must not stand
    for: ``scipy.special.gamma`` is no ``np.gamma``)."""
    if isinstance(v, np.ufunc):
        return getattr(np, v.__name__, None) is not v
    if type(v) is types.ModuleType:
        return v.__name__.partition(".")[0] == "scipy"
    module = getattr(v, "__module__", None)
    return callable(v) and isinstance(module, str) and module.partition(".")[0] == "scipy"


class _RefusedModule:
    """A SciPy module in another library's namespace: every name read from it refused."""

    def __init__(self, name: str, message: str) -> None:
        self.__name__ = name
        self._message = message

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise MissingFunction(f"{self.__name__}.{name}: {self._message}")


def _numpy_function(v: Any) -> bool:
    module = getattr(v, "__module__", None) or ""
    return (module == "numpy" or module.startswith("numpy.")
            or module == "srcgrad.fast_numpy") and hasattr(v, "__name__")


def _missing(message: str) -> Any:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise MissingFunction(message)
    return missing


def _refused_callee(fn: Any, ns: ArrayNamespace) -> Any:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"a function called here was refused by the source engine and runs on "
                        f"the tape, which works on NumPy arrays only, not on {ns.library} "
                        "arrays; make the called function transformable (see the "
                        "FallbackWarning), or use NumPy arrays")
    return refused


def _walk(node: Any) -> Any:
    import gast

    return gast.walk(node)

