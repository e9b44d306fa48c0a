"""The fenced code blocks of a Markdown file, and what the doc tests do with each.

The conventions (README.md, "Docs that run", states them for writers):

* A ```` ```python ```` block runs.  The blocks of one file run in order, in one
  namespace, in a fresh Python process per file.
* A ```` ```text ```` block, or a block whose info string has the word ``output``
  (```` ```python output ```` shows printed code highlighted), is the expected
  standard output of the python block before it, when no other fenced block comes
  between them.  Lines are compared without trailing spaces and without leading or
  trailing blank lines; a line that is only ``...`` stands for any number of lines,
  and ``...`` inside a line for any text on that line.
* ```` ```python skip: <reason> ```` is shown but not run (use it sparingly).
* ```` ```python gpu ```` runs only where a GPU is found.
* A block that imports an optional library (jax, torch, dask, scipy, cupy, ...) is
  skipped where that library is missing; later blocks must not use its names.
* Any other fence (```` ```bash ````, a bare ```` ``` ````) is not touched.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

# Libraries the core suite does without (the Pythons of CI other than the main one).
OPTIONAL = frozenset({"jax", "jaxlib", "torch", "dask", "distributed", "scipy", "cupy",
                      "autograd", "array_api_strict", "array_api_compat", "optree"})

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


@dataclass
class Block:
    """One fenced block: ``line`` is the 1-based line of its first code line."""

    info: str
    line: int
    text: str
    expected: str | None = None          # the output block that follows, if any
    expected_line: int | None = None
    flags: dict[str, str] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def runs(self) -> bool:
        return self.language == "python" and not self.is_output

    @property
    def is_output(self) -> bool:
        return self.language == "text" or "output" in self.info.split()[1:]

    @property
    def skip_reason(self) -> str | None:
        match = re.search(r"\bskip\b:?\s*(.*)", self.info)
        if match is None:
            return None
        return match.group(1).strip() or "marked skip"

    @property
    def needs_gpu(self) -> bool:
        return "gpu" in self.info.split()[1:]

    def imports(self) -> set[str]:
        """Top-level packages the block imports (none when it does not parse)."""
        try:
            tree = ast.parse(self.text)
        except SyntaxError:
            return set()
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
        return found

    def optional_imports(self) -> set[str]:
        return self.imports() & OPTIONAL


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` in order, each output block attached to its python
    block (output blocks themselves are not returned)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    last_python: Block | None = None
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, info = match.groups()
        body = []
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence)
                                      and not lines[j].strip()[len(fence):].strip()):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        block = Block(info.strip(), i + 2, "\n".join(body) + "\n")
        if block.is_output:
            if last_python is not None and last_python.expected is None:
                last_python.expected, last_python.expected_line = block.text, block.line
        elif block.language == "python":
            found.append(block)
        if not block.is_output:
            last_python = block if block.language == "python" else None
        i = j + 1
    return found


def output_matches(expected: str, actual: str) -> bool:
    """Whether printed ``actual`` matches the doc's ``expected`` (see the module doc)."""
    want = [line.rstrip() for line in expected.strip("\n").splitlines()]
    got = [line.rstrip() for line in actual.strip("\n").splitlines()]
    return _match(want, got)


def _match(want: list[str], got: list[str]) -> bool:
    if not want:
        return not got
    head = want[0]
    if head.strip() == "...":
        return any(_match(want[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and _line_matches(head, got[0]) and _match(want[1:], got[1:])


def _line_matches(want: str, got: str) -> bool:
    if "..." not in want:
        return want == got
    pattern = ".*".join(re.escape(piece) for piece in want.split("..."))
    return re.fullmatch(pattern, got) is not None


def names_from_skippable(items: list[Block]) -> list[str]:
    """Problems: names that only a block which may be skipped (optional library, GPU)
    binds, read by a later block that always runs."""
    problems = []
    optional_names: dict[str, int] = {}
    for block in items:
        try:
            tree = ast.parse(block.text)
        except SyntaxError:
            continue
        bound = _bound_names(tree)
        if block.optional_imports() or block.needs_gpu or block.skip_reason is not None:
            for name in bound:
                optional_names.setdefault(name, block.line)
            continue
        for statement in tree.body:
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                        and node.id in optional_names:
                    problems.append(
                        f"line {block.line + node.lineno - 1} reads {node.id!r}, bound only "
                        f"by the block at line {optional_names[node.id]}, which is skipped "
                        "where its library or GPU is missing")
            for name in _bound_names(ast.Module(body=[statement], type_ignores=[])):
                optional_names.pop(name, None)
    return problems


def _bound_names(tree: ast.Module) -> set[str]:
    """Names a module-level block binds (not those local to its functions or
    comprehensions)."""
    names: set[str] = set()

    class Binder(ast.NodeVisitor):
        def visit_Name(self, node: ast.Name) -> None:
            if isinstance(node.ctx, ast.Store):
                names.add(node.id)

        def visit_FunctionDef(self, node: ast.AST) -> None:
            names.add(node.name)

        visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

        def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
            names.update((a.asname or a.name).split(".")[0] for a in node.names)

        visit_ImportFrom = visit_Import

        def skip(self, node: ast.AST) -> None:
            return None

        visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = \
            visit_GeneratorExp = skip

    Binder().visit(tree)
    return names
