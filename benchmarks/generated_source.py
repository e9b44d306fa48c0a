"""Dump the source of every function the test suite makes the compiler generate, or diff two dumps.

A check for changes that must not change generated code (speed work on the
compiler): dump before, dump after, diff.

```bash
python benchmarks/generated_source.py dump before.txt             # tests/compiler tests/api
python benchmarks/generated_source.py dump after.txt tests/soundness
python benchmarks/generated_source.py diff before.txt after.txt
```

``dump`` runs pytest (one process, fixed Hypothesis examples, ``CI=1``) with a
plugin that records, per test, each generated module's source in the order
it is made; extra arguments go to pytest.  ``diff`` prints the tests whose
generated sources differ and exits 1 if any do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TESTS = ["tests/compiler", "tests/api"]
_HEADER = "### test "


class Recorder:
    """pytest plugin: wraps the compiler's source printer, writes what it prints."""

    def __init__(self, path: str) -> None:
        self.out = open(path, "w")      # noqa: SIM115 (open for the whole session)
        self.test = "<collection>"

    def install(self) -> None:
        from srcgrad import api
        from srcgrad.compiler import emit, transform

        printer = transform.to_source
        def to_source(functions):
            source = printer(functions)
            self.out.write(f"{_HEADER}{self.test}\n{source}")
            return source
        transform.to_source = to_source
        compile_source = emit.compile_source
        def recorded(source, label, namespace):
            self.out.write(f"{_HEADER}{self.test}\n{source}")
            return compile_source(source, label, namespace)
        emit.compile_source = recorded
        del api

    def pytest_runtest_setup(self, item) -> None:
        self.test = item.nodeid

    def pytest_unconfigure(self, config) -> None:
        self.out.close()


def _sources(path: str) -> Counter:
    """source -> how many times it was made; where it was first made is kept in ``_WHERE``.

    Compared as a whole run, not per test: the cache's weak entries may die (and
    a function be transformed again) in one test or the next.
    """
    made: Counter = Counter()
    test, current = "", None
    def close() -> None:
        if current is not None:
            text = "".join(current)
            made[text] += 1
            _WHERE.setdefault(text, test)
    for line in Path(path).read_text().splitlines(keepends=True):
        if line.startswith(_HEADER):
            close()
            test, current = line[len(_HEADER):].strip(), []
        elif current is not None:
            current.append(line)
    close()
    return made


_WHERE: dict[str, str] = {}


def diff(before: str, after: str) -> int:
    old, new = _sources(before), _sources(after)
    # compared as sets: how often a source is made depends on when the cache's
    # weak entries die (garbage collection), not on the compiler
    lost = [t for t in old if t not in new]
    gained = [t for t in new if t not in old]
    for label, texts in (("only before", lost), ("only after", gained)):
        for text in texts:
            print(f"--- {label} (first made in {_WHERE[text]}):")
            sys.stdout.write(text)
    print(f"{sum(old.values())} generated sources before ({len(old)} distinct), "
          f"{sum(new.values())} after; {len(lost)} only before, {len(gained)} only after")
    return 1 if lost or gained else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["diff"] and len(argv) == 3:
        return diff(argv[1], argv[2])
    if argv[:1] == ["dump"] and len(argv) >= 2:
        env = dict(os.environ, CI="1", SRCGRAD_DUMP_GENERATED=os.path.abspath(argv[1]),
                   PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        args = argv[2:] or DEFAULT_TESTS
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", "benchmarks.generated_source", *args]
        return subprocess.call(cmd, cwd=ROOT, env=env)
    print(__doc__)
    return 2


def pytest_configure(config) -> None:
    """Entry point when loaded with ``-p benchmarks.generated_source``."""
    path = os.environ.get("SRCGRAD_DUMP_GENERATED")
    if path:
        recorder = Recorder(path)
        config.pluginmanager.register(recorder, "srcgrad-generated-source")
        recorder.install()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
