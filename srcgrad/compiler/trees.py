"""Tree parameters: a function reading containers, rewritten to read their leaves.

Called with a pytree in a differentiated position, the transforms
differentiate ``fun`` for that tree's structure (:mod:`srcgrad.treeargs`).
This pass replaces the parameter by one parameter per leaf (``p`` holding
``{"W": ..., "b": ...}`` becomes ``p_W, p_b``) and every read of the tree by
what it reads, known from the structure: ``p["W"]``, ``p.w`` of a namedtuple
or plain dataclass, ``p[0]``, ``p[1:]``, ``p.get("k")``, ``len(p)``,
``W, b = p["enc"]``, ``q = p["enc"]`` (an alias, resolved statically),
loops over a tree (unrolled), comprehensions over a tree (unrolled into a
list), ``*p`` and ``**p`` in calls. Anything else that touches a container
(a write into it, a method call, passing it to a function, returning it, a
rebinding in a branch) is refused with a located error: the container is
mutable and its identity observable, which the rest of the pipeline does not
model.  Only exact ``dict``, ``list``, ``tuple``, namedtuple classes and plain
dataclasses are read here; their class must not change how items or
attributes are read.
"""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import inspect
import keyword
import operator
from typing import Any

import gast

from .. import tree as tree_module
from ..errors import TransformError
from .normalize import nodes_of
from .parse import ParsedFunction, proven_definition, resolve_free

__all__ = ["reads_trees", "spread_parameters"]

_UNROLL_LIMIT = 1000
_NDARRAY_ATTRIBUTES = None


class _Leaf:
    __slots__ = ("name", "treedef")

    def __init__(self, name: str, treedef: Any) -> None:
        self.name = name
        self.treedef = treedef


class _Node:
    """A container: its kind (dict, list, tuple, namedtuple, dataclass, none), class,
    entries (keys, indices or field names) and children (trees)."""

    __slots__ = ("kind", "cls", "entries", "children", "treedef")

    def __init__(self, kind: str, cls: type, entries: list, children: list,
                 treedef: Any) -> None:
        self.kind = kind
        self.cls = cls
        self.entries = entries
        self.children = children
        self.treedef = treedef

    def leaves(self) -> list:
        """The names of its leaves' parameters, in the order its treedef flattens them."""
        out: list = []
        for c in self.children:
            out.extend(c.leaves() if isinstance(c, _Node) else [c.name])
        return out

    def child(self, entry: Any) -> Any:
        for e, c in zip(self.entries, self.children, strict=True):
            if type(e) is type(entry) and e == entry:
                return c
        raise KeyError(entry)


# ---------------------------------------------------------------------------
# Which functions read their arguments as containers (decided when transformed).

def reads_trees(fun: Any, argnums: Any, depth: int = 0) -> bool:
    """Does ``fun`` read a differentiated parameter as a container: ``p["W"]``, ``p.w``
    (not an array attribute), ``p.get(...)``, ``p.items()``, ``*p``, ``**p``, or pass it
    to a function that does?

    Such a function is transformed when called, for the structure it is given.
    Read from the proven definition's ``ast`` tree (no gast tree is made for it).
    """
    if not inspect.isfunction(fun) and not inspect.ismethod(fun) or depth > 8:
        return False
    try:
        found = proven_definition(fun)
    except TransformError:
        return False
    args = found.node.args
    params = [a.arg for a in [*args.posonlyargs, *args.args]]
    if inspect.ismethod(fun):
        params = params[1:]
    nums = argnums if isinstance(argnums, (tuple, list)) else (argnums,)
    names = {params[n] for n in nums if isinstance(n, int) and -len(params) <= n < len(params)}
    if not names:
        return False
    # (the answer does not depend on the order)
    for node in nodes_of(found.node, _CONTAINER_READS):
        kind = node.__class__
        if kind is ast.Subscript and _rooted(node.value, names) \
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            return True
        if kind is ast.Attribute and _rooted(node.value, names) \
                and not _array_attribute(node.attr):
            return True
        if kind is ast.keyword and node.arg is None and _named(node.value, names):
            return True
        if kind is ast.Starred and _named(node.value, names):
            return True
        if kind is ast.Call and isinstance(node.func, ast.Name):
            passed = [i for i, a in enumerate(node.args) if _named(a, names)]
            if passed:
                callee = resolve_free(fun, node.func.id)
                if callee is not fun and reads_trees(callee, tuple(passed), depth + 1):
                    return True
    return False


_CONTAINER_READS = (ast.Subscript, ast.Attribute, ast.keyword, ast.Starred, ast.Call)


def _named(node: Any, names: set) -> bool:
    return isinstance(node, (gast.Name, ast.Name)) and node.id in names


def _rooted(node: Any, names: set) -> bool:
    """``p``, or an item of it at constant indices (``p[0]``, ``p[0][1]``): in an ``ast``
    tree."""
    while isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        node = node.value
    return _named(node, names)


def _array_attribute(attr: str) -> bool:
    global _NDARRAY_ATTRIBUTES
    if _NDARRAY_ATTRIBUTES is None:
        import numpy as np

        _NDARRAY_ATTRIBUTES = frozenset(dir(np.ndarray))
    return attr in _NDARRAY_ATTRIBUTES and attr not in ("get", "items", "values", "keys")


# ---------------------------------------------------------------------------
# The rewrite.

def spread_parameters(parsed: ParsedFunction, trees: tuple) -> None:
    """Rewrite ``parsed.node`` in place: the parameters at ``trees`` (``(position,
    treedef, leaf count)``, positions counted as the caller passes arguments) become
    one parameter per leaf, and the reads of those trees the leaves they read."""
    node = parsed.node
    if isinstance(node, gast.Lambda):
        node.body = _Rewriter(parsed, {}).lambda_body(node, trees)
        return
    _Rewriter(parsed, {}).function(node, trees)


class _Rewriter:
    def __init__(self, parsed: ParsedFunction, env: dict) -> None:
        self.parsed = parsed
        self.env: dict[str, Any] = env
        self.taken: set[str] = set()
        self.depth = 0          # inside a branch or loop that is not unrolled

    # -- parameters ----------------------------------------------------------------

    def parameters(self, fn: Any, trees: tuple) -> None:
        self.taken = {n.id for n in gast.walk(fn) if isinstance(n, gast.Name)}
        args = fn.args
        params = list(args.posonlyargs) + list(args.args)
        n_posonly = len(args.posonlyargs)
        defaults = list(args.defaults)
        first_default = len(params) - len(defaults)
        out, new_posonly = [], 0
        tree_at = {position: treedef for position, treedef, _ in trees}
        for i, p in enumerate(params):
            if i in tree_at:
                if i >= first_default:
                    raise self.parsed.error(p, f"a default value for {p.id}, a parameter "
                                            "given a container", "Remove the default.")
                leaves: list = []
                self.env[p.id] = self.describe(tree_at[i], p.id, leaves, p, p.id)
                made = [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
                        for n in leaves]
                for m in made:
                    gast.copy_location(m, p)
                out.extend(made)
                if i < n_posonly:
                    new_posonly += len(made)
            else:
                out.append(p)
                if i < n_posonly:
                    new_posonly += 1
        if max(tree_at, default=-1) >= len(params):
            raise self.parsed.error(fn, "a container passed through *args",
                                    "Name the parameter that takes the container.")
        args.posonlyargs = out[:new_posonly]
        args.args = out[new_posonly:]

    def function(self, fn: Any, trees: tuple) -> None:
        self.parameters(fn, trees)
        fn.body = self.block(fn.body) or [gast.Pass()]

    def lambda_body(self, fn: Any, trees: tuple) -> Any:
        self.parameters(fn, trees)
        return self.expr(fn.body)

    def fresh(self, base: str) -> str:
        base = base if base.isidentifier() and not keyword.iskeyword(base) else "leaf"
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def describe(self, treedef: Any, label: str, leaves: list, where: Any,
                 path: str) -> Any:
        """The static tree for ``treedef``, naming its leaves' parameters after their path
        (``p_enc_1``), and telling refusals how the user writes it (``p["enc"][1]``)."""
        kind = treedef.kind
        names = type(kind).__members__
        if kind == names["LEAF"]:
            name = self.fresh(label)
            leaves.append(name)
            self.parsed.leaf_paths[name] = path
            return _Leaf(name, treedef)
        cls = treedef.type
        children = treedef.children()
        if kind == names["NONE"]:
            return _Node("none", type(None), [], [], treedef)
        if kind == names["DICT"] and cls is dict:
            entries = list(treedef.entries())
            what = "dict"
        elif kind == names["LIST"] and cls is list:
            entries, what = list(range(len(children))), "list"
        elif kind == names["TUPLE"] and cls is tuple:
            entries, what = list(range(len(children))), "tuple"
        elif kind == names["NAMEDTUPLE"] and _plain_namedtuple(cls):
            entries, what = list(cls._fields), "namedtuple"
        elif kind == names["CUSTOM"] and cls in tree_module.DATACLASSES \
                and _plain_dataclass(cls):
            entries, what = [f.name for f in dataclasses.fields(cls)], "dataclass"
        else:
            raise self.parsed.error(
                where, f"a parameter given a {getattr(cls, '__name__', cls)} "
                f"(at {label})", "The source engine reads exact dict, list and tuple "
                "containers, namedtuples and plain dataclasses (no properties, __getattr__ "
                "or overridden item access); pass one of those.")
        made = []
        for entry, sub in zip(entries, children, strict=True):
            step = f".{entry}" if what in ("namedtuple", "dataclass") else \
                f"[{_entry_text(entry)}]"
            made.append(self.describe(sub, f"{label}_{_label(entry)}", leaves, where,
                                      path + step))
        return _Node(what, cls, entries, made, treedef)

    # -- statements ----------------------------------------------------------------

    def block(self, body: list) -> list:
        out: list = []
        for stmt in body:
            out.extend(self.stmt(stmt))
        return out

    def stmt(self, s: Any) -> list:
        if isinstance(s, gast.Assign) and len(s.targets) == 1:
            tree = self.resolve(s.value)
            if tree is not None and not isinstance(tree, _Default):
                return self.bind(s.targets[0], tree, s)
            target, value = s.targets[0], s.value
            if isinstance(target, (gast.Tuple, gast.List)) and isinstance(
                    value, (gast.Tuple, gast.List)) and len(target.elts) == len(value.elts) \
                    and not any(isinstance(e, gast.Starred) for e in target.elts + value.elts):
                found = [self.resolve(e) for e in value.elts]     # all read before any bound
                if all(isinstance(t, (_Leaf, _Node)) for t in found) \
                        and any(isinstance(t, _Node) for t in found):
                    out: list = []
                    for t, tree in zip(target.elts, found, strict=True):
                        out.extend(self.bind(t, tree, s))
                    return out
        if isinstance(s, gast.For) and not s.orelse:
            items = self.iteration(s.iter, s.body, s.target)
            if items is not None:
                return self.unroll(s, items)
        if isinstance(s, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef, gast.Lambda)):
            self.no_capture(s)
            return [s]
        self.check_stores(s)
        if isinstance(s, (gast.If, gast.While, gast.For, gast.AsyncFor, gast.With,
                          gast.AsyncWith, gast.Try)):
            return [self.compound(s)]
        out = self.generic(s)
        if not self.depth:      # a name assigned something else stops holding its container
            for sub in _walk_skipping_scopes(s):
                if isinstance(sub, gast.Name) and isinstance(sub.ctx, (gast.Store, gast.Del)):
                    self.env.pop(sub.id, None)
        return [out]

    def compound(self, s: Any) -> Any:
        self.depth += 1
        try:
            for field in ("test", "iter", "target"):
                value = getattr(s, field, None)
                if value is not None:
                    setattr(s, field, self.expr(value))
            if hasattr(s, "items"):
                for item in s.items:
                    item.context_expr = self.expr(item.context_expr)
            for field in ("body", "orelse", "finalbody"):
                if hasattr(s, field):
                    setattr(s, field, self.block(getattr(s, field)) or
                            ([gast.Pass()] if field == "body" else []))
            for handler in getattr(s, "handlers", []) or []:
                handler.body = self.block(handler.body) or [gast.Pass()]
        finally:
            self.depth -= 1
        return s

    def generic(self, s: Any) -> Any:
        for field, value in gast.iter_fields(s):
            if isinstance(value, gast.AST) and not isinstance(value, (gast.expr_context,)):
                setattr(s, field, self.expr(value) if isinstance(value, gast.expr) else value)
            elif isinstance(value, list):
                setattr(s, field, [self.expr(v) if isinstance(v, gast.expr) else v
                                   for v in value])
        return s

    def check_stores(self, s: Any) -> None:
        """No write into a container, and no rebinding of a name bound to one."""
        for sub in _walk_skipping_scopes(s):
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, (gast.Store, gast.Del)) \
                    and sub.id in self.env:
                if self.depth or isinstance(s, (gast.If, gast.While, gast.For, gast.Try,
                                                gast.With, gast.AugAssign)):
                    raise self.parsed.error(sub, f"a rebinding of {sub.id}, which holds a "
                                            "container, in a branch or loop", "Use a new name.")
            if isinstance(sub, (gast.Subscript, gast.Attribute)) \
                    and isinstance(sub.ctx, (gast.Store, gast.Del)) \
                    and isinstance(self.resolve(sub.value), _Node):
                raise self.parsed.error(sub, f"a write into the container "
                                        f"{_text(self.parsed, sub.value)}",
                                        "The source engine does not change containers given "
                                        "as arguments: build a new one.")

    def bind(self, target: Any, tree: Any, where: Any) -> list:
        """``target = <tree>``: names bound statically, leaves assigned."""
        if isinstance(target, gast.Name):
            if self.depth and (isinstance(tree, _Node) or target.id in self.env):
                raise self.parsed.error(target, f"{target.id} bound to a container in a "
                                        "branch or loop", "Read the container outside it.")
            if isinstance(tree, _Leaf):
                self.env.pop(target.id, None)
                return [gast.copy_location(gast.Assign(
                    targets=[target], value=gast.Name(id=tree.name, ctx=gast.Load(),
                                                      annotation=None, type_comment=None),
                    type_comment=None), where)]
            self.env[target.id] = tree
            return []
        if isinstance(target, (gast.Tuple, gast.List)) and isinstance(tree, _Node):
            if tree.kind not in ("list", "tuple", "namedtuple") or \
                    any(isinstance(e, gast.Starred) for e in target.elts):
                raise self.parsed.error(target, f"unpacking a {tree.kind} into "
                                        "names", "Read its items by key or position.")
            if len(target.elts) != len(tree.children):
                raise self.parsed.error(target, f"unpacking {len(tree.children)} items into "
                                        f"{len(target.elts)} names", "Match the counts.")
            out: list = []
            for t, child in zip(target.elts, tree.children, strict=True):
                out.extend(self.bind(t, child, where))
            return out
        if isinstance(tree, _Leaf):
            self.check_stores(gast.Assign(targets=[target], value=gast.Constant(None, None),
                                          type_comment=None))
            return [gast.copy_location(gast.Assign(
                targets=[self.expr(target)], value=_load(tree.name), type_comment=None), where)]
        raise self.parsed.error(target, "a container stored into an item or attribute",
                                "Keep containers given as arguments in names.")

    def unroll(self, s: Any, items: list) -> list:
        for sub in _walk_skipping_loops(s.body):
            if isinstance(sub, (gast.Break, gast.Continue)):
                raise self.parsed.error(sub, f"{type(sub).__name__.lower()} in a loop over a "
                                        "container (unrolled)", "Use an if around the body.")
        if len(items) > _UNROLL_LIMIT:
            raise self.parsed.error(s, f"a loop over {len(items)} items of a container",
                                    f"Loops over at most {_UNROLL_LIMIT} items are unrolled.")
        out: list = []
        for item in items:
            out.extend(self.bind_item(copy.deepcopy(s.target), item, s))
            out.extend(self.block(copy.deepcopy(s.body)))
        return out

    def bind_item(self, target: Any, item: Any, where: Any) -> list:
        """``target = item`` for a loop's item: a tree, a key (an expression) or a pair."""
        if isinstance(item, _Pair):
            if not isinstance(target, (gast.Tuple, gast.List)) or len(target.elts) != 2 \
                    or any(isinstance(e, gast.Starred) for e in target.elts):
                raise self.parsed.error(target, "a pair unpacked into other than two names",
                                        "Unpack it into two names.")
            return self.bind_item(target.elts[0], item.first, where) + \
                self.bind_item(target.elts[1], item.second, where)
        if isinstance(item, _Constant):     # bound for the body's reads, and assigned
            out = self.bind_item(target, item.node, where)
            self.env[target.id] = _Default(item.node)
            return out
        if isinstance(item, gast.AST):
            self.check_stores(gast.Assign(targets=[target], value=item, type_comment=None))
            for sub in gast.walk(target):
                if isinstance(sub, gast.Name):
                    self.env.pop(sub.id, None)
            return [gast.copy_location(gast.Assign(targets=[self.expr(target)], value=item,
                                                   type_comment=None), where)]
        return self.bind(target, item, where)

    # -- expressions ---------------------------------------------------------------

    def iteration(self, node: Any, body: Any = None, target: Any = None) -> list | None:
        """The items a loop over ``node`` visits, when ``node`` reads a container (or is a
        literal tuple of constants that ``body`` uses as keys of a container)."""
        if isinstance(node, (gast.Tuple, gast.List)) and isinstance(target, gast.Name) \
                and node.elts and all(isinstance(e, gast.Constant) for e in node.elts) \
                and self.keys_of(body, target.id):
            return [_Constant(e) for e in node.elts]
        tree = self.resolve(node)
        if isinstance(tree, _Node):
            if tree.kind == "dict":
                return [_key(e) for e in tree.entries]
            if tree.kind == "none":
                raise self.parsed.error(node, "a loop over None", "")
            if tree.kind == "dataclass":
                raise self.parsed.error(node, "a loop over a dataclass", "Read its fields.")
            return list(tree.children)
        if isinstance(node, gast.Call) and not node.keywords:
            func = node.func
            if isinstance(func, gast.Attribute) and not node.args and \
                    func.attr in ("items", "values", "keys"):
                tree = self.resolve(func.value)
                if isinstance(tree, _Node) and tree.kind == "dict":
                    if func.attr == "values":
                        return list(tree.children)
                    if func.attr == "keys":
                        return [_key(e) for e in tree.entries]
                    return [_Pair(_key(e), c) for e, c in zip(tree.entries, tree.children,
                                                              strict=True)]
            if isinstance(func, gast.Name) and func.id == "enumerate" and len(node.args) == 1 \
                    and self.builtin("enumerate"):
                inner = self.iteration(node.args[0])
                if inner is not None:
                    return [_Pair(gast.Constant(value=k, kind=None), v)
                            for k, v in enumerate(inner)]
        return None

    def keys_of(self, body: Any, name: str) -> bool:
        """Does ``body`` read an item of a container at key ``name``?"""
        for part in body if isinstance(body, list) else [body]:
            for sub in gast.walk(part):
                if isinstance(sub, gast.Subscript) and _named(sub.slice, {name}) \
                        and isinstance(self.resolve(sub.value), _Node):
                    return True
        return False

    def builtin(self, name: str) -> bool:
        """Is ``name`` the builtin (not shadowed anywhere in the function)?"""
        if name in self.taken_stores():
            return False
        return self.parsed.resolve(name) is getattr(builtins, name)

    def taken_stores(self) -> set:
        if not hasattr(self, "_stores"):
            self._stores = {n.id for n in gast.walk(self.parsed.node)
                            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        return self._stores

    def resolve(self, node: Any) -> Any:
        """The tree ``node`` reads (a ``_Node`` or ``_Leaf``), or None if it reads none."""
        if isinstance(node, gast.Name):
            return self.env.get(node.id) if isinstance(node.ctx, gast.Load) else None
        if isinstance(node, gast.Subscript):
            base = self.resolve(node.value)
            if base is None:
                return None
            return self.item(base, node)
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value)
            if base is None:
                return None
            if isinstance(base, _Node) and base.kind in ("namedtuple", "dataclass") \
                    and node.attr in base.entries:
                return base.child(node.attr)
            if not isinstance(base, _Node):
                return None
            raise self.parsed.error(node, f"the attribute .{node.attr} of a {base.kind} "
                                    "given as an argument", "Read its items or fields.")
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "get" and not node.keywords:
            base = self.resolve(node.func.value)
            if isinstance(base, _Node) and base.kind == "dict" and 1 <= len(node.args) <= 2:
                key = node.args[0]
                if not isinstance(key, gast.Constant):
                    raise self.parsed.error(key, "a key not written as a constant",
                                            "Write the key itself.")
                try:
                    return base.child(key.value)
                except KeyError:
                    return _Default(node.args[1] if len(node.args) == 2 else
                                    gast.Constant(value=None, kind=None))
        return None

    def item(self, base: Any, node: Any) -> Any:
        if not isinstance(base, _Node):
            return None
        index = node.slice
        if base.kind in ("list", "tuple", "namedtuple") and isinstance(index, gast.Slice):
            bounds = []
            for part in (index.lower, index.upper, index.step):
                if part is None:
                    bounds.append(None)
                elif isinstance(part, gast.Constant) and type(part.value) is int:
                    bounds.append(part.value)
                elif isinstance(part, gast.UnaryOp) and isinstance(part.op, gast.USub) \
                        and isinstance(part.operand, gast.Constant) \
                        and type(part.operand.value) is int:
                    bounds.append(-part.operand.value)
                else:
                    raise self.parsed.error(index, "a slice of a container with bounds not "
                                            "written as integers", "Write the bounds.")
            picked = range(len(base.children))[slice(*bounds)]
            kind = "list" if base.kind == "list" else "tuple"
            children = [base.children[k] for k in picked]
            lib = tree_module._lib()
            make = lib.treespec_list if kind == "list" else lib.treespec_tuple
            treedef = make([c.treedef for c in children], namespace=tree_module.NAMESPACE)
            return _Node(kind, list if kind == "list" else tuple, list(range(len(picked))),
                         children, treedef)
        key = _constant(index)
        if key is _NOT_CONSTANT and isinstance(index, gast.Name) \
                and isinstance(self.env.get(index.id), _Default) \
                and isinstance(self.env[index.id].value, gast.Constant):
            key = self.env[index.id].value.value     # a key from a loop over constants
        if key is _NOT_CONSTANT:
            raise self.parsed.error(index, f"an item of a {base.kind} at a key or index not "
                                    "written as a constant", "Write the key or index itself, "
                                    "or loop over the container.")
        if base.kind == "dict":
            found = {e: c for e, c in zip(base.entries, base.children, strict=True)}
            try:
                return found[key]
            except (KeyError, TypeError):
                raise self.parsed.error(node, f"the key {key!r}, which the dict given does "
                                        "not hold", "") from None
        if base.kind in ("list", "tuple", "namedtuple"):
            try:
                return base.children[range(len(base.children))[operator.index(key)]]
            except (IndexError, TypeError):
                raise self.parsed.error(node, f"the index {key!r} of a {base.kind} of "
                                        f"{len(base.children)} items", "") from None
        raise self.parsed.error(node, f"an item of a {base.kind}", "Read its fields.")

    def expr(self, node: Any) -> Any:
        """``node`` with every read of a leaf replaced by the leaf's parameter."""
        tree = self.resolve(node)
        if isinstance(tree, _Leaf):
            return gast.copy_location(_load(tree.name), node)
        if isinstance(tree, _Default):
            return self.expr(tree.value)
        if tree is not None:
            raise self.parsed.error(node, f"the container {_text(self.parsed, node)} used as "
                                    "a value", "The source engine reads items, fields and "
                                    "loops of containers given as arguments; pass the leaves "
                                    "to other functions (f(*p), f(**p) or f(p['W'])).")
        if isinstance(node, gast.Call):
            return self.call(node)
        if isinstance(node, gast.ListComp):
            unrolled = self.comprehension(node)
            if unrolled is not None:
                return unrolled
        if isinstance(node, gast.GeneratorExp) and self.iteration(
                node.generators[0].iter, node.elt, node.generators[0].target) is not None:
            raise self.parsed.error(node, "a generator over a container (lazy)",
                                    "Use a list comprehension, or pass the generator to sum, "
                                    "max, min, list or tuple.")
        if isinstance(node, (gast.Lambda,)):
            self.no_capture(node)
            return node
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.expr):
                setattr(node, field, self.expr(value))
            elif isinstance(value, list):
                setattr(node, field, [self.expr(v) if isinstance(v, gast.expr) else
                                      self.keyword(v) if isinstance(v, gast.keyword) else
                                      self.generator(v) if isinstance(v, gast.comprehension)
                                      else v for v in value])
            elif isinstance(value, gast.comprehension):
                setattr(node, field, self.generator(value))
        return node

    def generator(self, g: Any) -> Any:
        g.iter = self.expr(g.iter)
        g.ifs = [self.expr(e) for e in g.ifs]
        return g

    def keyword(self, k: Any) -> Any:
        k.value = self.expr(k.value)
        return k

    def call(self, node: Any) -> Any:
        if isinstance(node.func, gast.Name) and node.func.id == "len" and len(node.args) == 1 \
                and not node.keywords and self.builtin("len"):
            tree = self.resolve(node.args[0])
            if isinstance(tree, _Node):
                return gast.copy_location(gast.Constant(value=len(tree.children), kind=None),
                                          node)
        callee = self.tree_callee(node)
        args: list = []
        for a in node.args:
            if callee is not None and isinstance(self.resolve(a), _Node):
                args.extend(gast.copy_location(_load(n), a) for n in self.resolve(a).leaves())
                continue
            if isinstance(a, gast.Starred):
                tree = self.resolve(a.value)
                if isinstance(tree, _Node):
                    if tree.kind not in ("list", "tuple", "namedtuple"):
                        raise self.parsed.error(a, f"*{_text(self.parsed, a.value)}, a "
                                                f"{tree.kind}", "")
                    args.extend(self.leaf_expr(c, a) for c in tree.children)
                    continue
            if isinstance(a, gast.GeneratorExp) and isinstance(node.func, gast.Name) \
                    and node.func.id in _EAGER and len(node.args) == 1 \
                    and self.builtin(node.func.id):
                unrolled = self.comprehension(a)      # consumed whole: a list is the same
                if unrolled is not None:
                    args.append(unrolled)
                    continue
            args.append(self.expr(a))
        keywords: list = []
        for k in node.keywords:
            tree = self.resolve(k.value) if k.arg is None else None
            if isinstance(tree, _Node):
                if tree.kind != "dict" or not all(type(e) is str for e in tree.entries):
                    raise self.parsed.error(k.value, f"**{_text(self.parsed, k.value)}, not a "
                                            "dict with string keys", "")
                keywords.extend(gast.keyword(arg=e, value=self.leaf_expr(c, k.value))
                                for e, c in zip(tree.entries, tree.children, strict=True))
                continue
            keywords.append(self.keyword(k))
        node.func = self.expr(node.func) if callee is None else callee
        node.args = args
        node.keywords = keywords
        return node

    def tree_callee(self, node: Any) -> Any:
        """For a call passing containers to a plain function, ``g(p, x)``: the name of that
        function with those containers spread (transformed for their structure)."""
        found = [(i, self.resolve(a)) for i, a in enumerate(node.args)]
        trees = [(i, t) for i, t in found if isinstance(t, _Node)]
        if not trees:
            return None
        from ..treeargs import tree_function
        from .normalize import _user_function
        from .ops import resolve_static

        fn = resolve_static(self.parsed, node.func)
        if not _user_function(fn) or any(isinstance(a, gast.Starred) for a in node.args) \
                or any(k.arg is None for k in node.keywords):
            raise self.parsed.error(node.args[trees[0][0]], f"the container "
                                    f"{_text(self.parsed, node.args[trees[0][0]])} passed to "
                                    "a call that is not a plain function's (with no *args or "
                                    "**kwargs)", "Pass its items, or call a function defined "
                                    "with def.")
        layout = tuple((i, t.treedef, len(t.leaves())) for i, t in trees)
        ident = self.fresh(f"{getattr(fn, '__name__', 'f')}_spread")
        self.parsed.closure[ident] = tree_function(fn, layout)
        return gast.copy_location(_load(ident), node.func)

    def leaf_expr(self, tree: Any, where: Any) -> Any:
        if isinstance(tree, _Leaf):
            return gast.copy_location(_load(tree.name), where)
        raise self.parsed.error(where, "a container spread into a call holding containers",
                                "Spread a container of arrays.")

    def comprehension(self, node: Any) -> Any:
        if len(node.generators) != 1:
            return None
        gen = node.generators[0]
        items = self.iteration(gen.iter, node.elt, gen.target)
        if items is None:
            return None
        if gen.ifs or gen.is_async:
            raise self.parsed.error(node, "a comprehension with a condition over a container",
                                    "Loop over the container instead.")
        elts = []
        for item in items:
            inner = _Rewriter(self.parsed, dict(self.env))
            inner.taken = self.taken
            inner._stores = self.taken_stores()
            inner.substitute(gen.target, item, node)
            elts.append(inner.expr(copy.deepcopy(node.elt)))
        return gast.copy_location(gast.List(elts=elts, ctx=gast.Load()), node)

    def substitute(self, target: Any, item: Any, where: Any) -> None:
        """Bind a comprehension's target to ``item`` by substitution (it is local to it)."""
        if isinstance(item, _Pair):
            if not isinstance(target, gast.Tuple) or len(target.elts) != 2:
                raise self.parsed.error(target, "a pair unpacked into other than two names", "")
            self.substitute(target.elts[0], item.first, where)
            self.substitute(target.elts[1], item.second, where)
            return
        if isinstance(item, _Constant):
            item = item.node
        if isinstance(target, gast.Name):
            self.env[target.id] = item if not isinstance(item, gast.AST) else _Default(item)
            return
        if isinstance(target, gast.Tuple) and isinstance(item, _Node) \
                and item.kind in ("list", "tuple", "namedtuple") \
                and len(target.elts) == len(item.children):
            for t, c in zip(target.elts, item.children, strict=True):
                self.substitute(t, c, where)
            return
        raise self.parsed.error(target, "this target in a comprehension over a container", "")

    def no_capture(self, node: Any) -> None:
        for sub in gast.walk(node):
            if isinstance(sub, gast.Name) and sub.id in self.env:
                raise self.parsed.error(sub, f"{sub.id}, a container given as an argument, "
                                        "read inside a nested function", "Read the leaves "
                                        "before and pass them in.")


class _Default:
    """``p.get(k, default)`` where the dict has no ``k``: the default expression."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Constant:
    """An item of a loop over a literal tuple of constants (keys of a container)."""

    __slots__ = ("node",)

    def __init__(self, node: Any) -> None:
        self.node = node


class _Pair:
    """An item of ``d.items()`` or ``enumerate(...)``: a key and a tree."""

    __slots__ = ("first", "second")

    def __init__(self, first: Any, second: Any) -> None:
        self.first = first
        self.second = second


_NOT_CONSTANT = object()
_EAGER = frozenset({"sum", "max", "min", "list", "tuple"})


def _constant(node: Any) -> Any:
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
            and isinstance(node.operand, gast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    if isinstance(node, gast.Tuple) and all(isinstance(e, gast.Constant) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return _NOT_CONSTANT


def _key(entry: Any) -> Any:
    return gast.Constant(value=entry, kind=None)


def _load(name: str) -> Any:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _entry_text(entry: Any) -> str:
    """A key or index as written in code: ``"W"`` (double quotes), ``0``."""
    return '"' + entry.replace('"', '\\"') + '"' if type(entry) is str else repr(entry)


def _label(entry: Any) -> str:
    text = str(entry)
    return text if text.isidentifier() else "".join(c if c.isalnum() else "_" for c in text)


def _text(parsed: ParsedFunction, node: Any) -> str:
    try:
        return gast.unparse(node) if hasattr(gast, "unparse") else _unparse(node)
    except Exception:       # (only for the message)
        return "a container"


def _unparse(node: Any) -> str:
    import ast

    return ast.unparse(gast.gast_to_ast(node))


def _walk_skipping_scopes(node: Any) -> Any:
    yield node
    for child in gast.iter_child_nodes(node):
        if isinstance(child, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda,
                              gast.ClassDef)):
            continue
        yield from _walk_skipping_scopes(child)


def _walk_skipping_loops(body: list) -> Any:
    for stmt in body:
        yield from _in_loop_body(stmt)


def _in_loop_body(node: Any) -> Any:
    yield node
    for child in gast.iter_child_nodes(node):
        if isinstance(child, (gast.For, gast.While, gast.AsyncFor, gast.FunctionDef,
                              gast.AsyncFunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        yield from _in_loop_body(child)


# ---------------------------------------------------------------------------
# Classes whose reads the rewrite models exactly.

_OBJECT_HOOKS = ("__getattr__", "__getattribute__", "__getitem__", "__iter__", "__len__",
                 "__class_getitem__")


def _plain_namedtuple(cls: type) -> bool:
    """A namedtuple class whose fields, items and iteration are tuple's own."""
    fields = getattr(cls, "_fields", None)
    if not isinstance(fields, tuple):
        return False
    getter = type(_PROBE.__dict__["a"])
    for klass in cls.__mro__:
        if klass is tuple or klass is object:
            break
        for name in ("__getattr__", "__getattribute__", "__getitem__", "__iter__", "__len__"):
            if name in klass.__dict__:
                return False
    for f in fields:
        found = inspect.getattr_static(cls, f, None)
        if type(found) is not getter:
            return False
    return True


def _plain_dataclass(cls: type) -> bool:
    """A dataclass whose fields are read from the instance (no properties or hooks)."""
    for klass in cls.__mro__:
        if klass is object:
            break
        for name in ("__getattr__", "__getattribute__"):
            if name in klass.__dict__:
                return False
    for f in dataclasses.fields(cls):
        found = inspect.getattr_static(cls, f.name, None)
        if found is None or type(found).__name__ == "member_descriptor":
            continue
        if hasattr(type(found), "__get__"):     # a property or other descriptor
            return False
    return True


def _make_probe() -> type:
    from collections import namedtuple

    return namedtuple("_Probe", "a")


_PROBE = _make_probe()
