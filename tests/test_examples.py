"""Every example runs to completion (they are the first thing a newcomer tries)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))
# Examples of optional libraries: skipped where these modules are missing.
NEEDS = {"dask_gradient": ("dask", "distributed")}
# Lines an example must print (its own check of its result).
PRINTS = {"dask_gradient": ("lazy gradient: dask.array<",
                            "equals NumPy's gradient on the same data: True")}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    missing = [m for m in NEEDS.get(script.stem, ()) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip(), "an example should show its result"
    assert "Traceback" not in done.stderr
    for line in PRINTS.get(script.stem, ()):
        assert line in done.stdout

