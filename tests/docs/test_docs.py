"""Every python block of README.md and docs/*.md runs, and prints what the doc shows.

tests/docs/mdblocks.py states the conventions; each doc runs in a Python process
of its own (tests/docs/runner.py), so a doc that registers rules never changes the
registry other tests see.  One test per python block, named ``doc:line``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.mdblocks import blocks, names_from_skippable

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNER = Path(__file__).resolve().parent / "runner.py"

_CASES = [(doc, block.line) for doc in DOCS for block in blocks(doc)]
_RESULTS: dict[Path, dict[int, dict]] = {}


def _run(doc: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict]:
    if doc not in _RESULTS:
        where = tmp_path_factory.mktemp(doc.stem)
        result = where / "result.json"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        try:
            done = subprocess.run([sys.executable, str(RUNNER), str(doc), str(result)],
                                  cwd=where, env=env, capture_output=True, text=True,
                                  timeout=600)
            stderr = done.stderr
        except subprocess.TimeoutExpired as timeout:
            stderr = f"timed out after {timeout.timeout} s\n{timeout.stderr or ''}"
        if result.exists():
            _RESULTS[doc] = {r["line"]: dict(r, stderr=stderr)
                             for r in json.loads(result.read_text())}
        else:
            _RESULTS[doc] = {line: {"status": "failed", "message": "the doc's process died",
                                    "stderr": stderr} for d, line in _CASES if d == doc}
    return _RESULTS[doc]


@pytest.mark.parametrize(("doc", "line"), _CASES,
                         ids=[f"{doc.relative_to(ROOT)}:{line}" for doc, line in _CASES])
def test_doc_block(doc: Path, line: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    record = _run(doc, tmp_path_factory)[line]
    where = f"{doc.relative_to(ROOT)}:{line}"
    if record["status"] == "skipped":
        pytest.skip(f"{where}: {record['message']}")
    if record["status"] == "not run":
        pytest.skip(f"{where}: not run, an earlier block of the doc failed")
    if record["status"] != "passed":
        pytest.fail(f"{where}\n{record['message']}\n--- stderr\n{record['stderr'][-3000:]}",
                    pytrace=False)


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_skippable_blocks_stand_alone(doc: Path) -> None:
    """A block skipped where a library or GPU is missing binds nothing later blocks read."""
    assert names_from_skippable(blocks(doc)) == [], doc.relative_to(ROOT)
