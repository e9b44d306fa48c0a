"""Run the python blocks of one Markdown file, as a user pasting them into a script would.

``python runner.py DOC.md [RESULT.json]``: the blocks run in order in one module
namespace (``__main__``), compiled under the doc's own file name at the doc's own
line numbers, so tracebacks, warnings and srcgrad's messages point into the doc,
and srcgrad reads the functions' source from it.  One JSON record per python block
is written to RESULT.json: ``{"line", "status", "message"}`` with status ``passed``,
``failed``, ``skipped`` or ``not run`` (after a block that raised; a block that
printed something else does not stop the ones after it).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import linecache
import os
import sys
import traceback
import types
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent)) if str(
    Path(__file__).resolve().parent) in sys.path else None
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.docs.mdblocks import Block, blocks, output_matches  # noqa: E402


def gpu_found() -> bool:
    for probe in (_cupy_gpu, _torch_gpu):
        try:
            if probe():
                return True
        except Exception:        # a library without a driver: no GPU
            pass
    return False


def _cupy_gpu() -> bool:
    if importlib.util.find_spec("cupy") is None:
        return False
    import cupy
    return cupy.cuda.runtime.getDeviceCount() > 0


def _torch_gpu() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch
    return bool(torch.cuda.is_available())


def why_skipped(block: Block, gpu: list) -> str | None:
    if block.skip_reason is not None:
        return block.skip_reason
    missing = sorted(m for m in block.optional_imports() if importlib.util.find_spec(m) is None)
    if missing:
        return f"needs {', '.join(missing)}, not installed"
    if block.needs_gpu:
        if not gpu:
            gpu.append(gpu_found())
        if not gpu[0]:
            return "needs a GPU"
    return None


def run(path: Path) -> list[dict]:
    filename = str(path.resolve())
    items = blocks(path)
    # srcgrad reads a function's source through linecache: give it the doc with
    # everything but the python blocks blanked (it would not parse otherwise)
    text = [""] * len(path.read_text(encoding="utf-8").splitlines())
    for block in items:
        for k, line in enumerate(block.text.splitlines()):
            text[block.line - 1 + k] = line
    lines = [line + "\n" for line in text]
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)

    module = types.ModuleType("__main__")
    module.__file__ = filename
    sys.modules["__main__"] = module
    results, failed, gpu = [], False, []
    for block in items:
        record = {"line": block.line, "status": "passed", "message": "", "printed": ""}
        results.append(record)
        reason = why_skipped(block, gpu)
        if failed:
            record.update(status="not run", message="an earlier block failed")
            continue
        if reason is not None:
            record.update(status="skipped", message=reason)
            continue
        printed = io.StringIO()
        try:
            code = compile("\n" * (block.line - 1) + block.text, filename, "exec")
            with contextlib.redirect_stdout(printed):
                exec(code, module.__dict__)
        except BaseException as error:     # noqa: BLE001 -- reported, not raised
            failed = True
            shown = traceback.TracebackException.from_exception(error)
            shown.stack = traceback.StackSummary.from_list(
                [f for f in shown.stack if f.filename != __file__])
            record.update(status="failed", message="".join(shown.format()) + _tail(printed))
            continue
        record["printed"] = printed.getvalue()
        if block.expected is not None and not output_matches(block.expected, printed.getvalue()):
            record.update(status="failed", message=(
                f"printed output differs from the block at line {block.expected_line}\n"
                f"--- expected\n{block.expected.rstrip()}\n"
                f"--- printed\n{printed.getvalue().rstrip()}"))
    return results


def _tail(printed: io.StringIO) -> str:
    out = printed.getvalue()
    return f"\n(printed before the error:)\n{out[-2000:]}" if out.strip() else ""


def main() -> None:
    """``runner.py DOC [RESULT.json]``: without RESULT, show what each block printed."""
    doc = Path(sys.argv[1])
    results = run(doc)
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(json.dumps(results), encoding="utf-8")
    else:
        for record in results:
            print(f"--- {doc}:{record['line']} {record['status']} {record['message']}")
            print(record["printed"], end="")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)     # background threads a doc started (dask, jax) do not hold the exit


if __name__ == "__main__":
    main()
