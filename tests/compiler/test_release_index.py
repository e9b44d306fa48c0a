"""``release_saved_values`` reads the names of simple statements from the optimizer's
index instead of walking the generated code again (``optimize_body`` keeps the index
true of the statements it returns).  For every corpus function and the loops of the
dry-trial tests, the ``del`` statements it places must be those a fresh walk gives.
"""

from __future__ import annotations

import gast
import pytest

from srcgrad.compiler import compile_grad, transform
from srcgrad.compiler.optimize import release_saved_values

from .corpus import CASES
from .test_dry_trials import LOOPS
from .transforms import transform_texts


def _dump(stmts: list) -> list[str]:
    return [gast.dump(s) for s in stmts]


@pytest.mark.parametrize("case", CASES + LOOPS, ids=[c.name for c in CASES + LOOPS])
def test_release_from_the_index_is_release_from_a_walk(case, monkeypatch):
    compared: list[int] = []

    def both(forward, reverse, keep, worth=None, index=None):
        assert index is not None        # (the transform keeps the optimizer's index)
        walked = release_saved_values(forward, reverse, keep, worth)
        indexed = release_saved_values(forward, reverse, keep, worth, index)
        assert _dump(indexed) == _dump(walked)
        compared.append(sum(isinstance(s, gast.Delete) for s in indexed))
        return indexed

    monkeypatch.setattr(transform, "release_saved_values", both)
    [text] = transform_texts(case, (compile_grad,))
    assert compared or text.startswith("refused")


def test_the_corpus_releases_values():
    # (the comparison above is not vacuous: a good part of the corpus deletes values)
    texts = [text for case in CASES for text in transform_texts(case, (compile_grad,))]
    assert sum("\n    del " in text for text in texts) >= 20
