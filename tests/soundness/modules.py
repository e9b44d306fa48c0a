"""Write test functions to real files and import them, as a user's modules would be."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import textwrap
from pathlib import Path
from types import ModuleType

_counter = itertools.count()


def load_module(directory: Path, text: str, stem: str = "mod") -> ModuleType:
    """Import ``text`` as a new module from a new file in ``directory``."""
    name = f"srcgrad_soundness_{stem}_{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
