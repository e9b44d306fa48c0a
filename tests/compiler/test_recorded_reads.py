"""The reverse sweep records every load of a primal name in the reverse code it writes.

``ReverseSweep.share_shapes`` finds the names the reverse code reads only for
their shape from the recorded reads (``Read.node``, ``Read.shape``) instead of
walking the reverse code again: that is right only while every piece of reverse
code goes through ``record_reads`` on the very nodes placed in it.  For every
corpus function and the loops of the dry-trial tests, the recorded loads must be
exactly the primal loads a walk of the finished reverse code finds.
"""

from __future__ import annotations

from collections import Counter

import gast
import pytest

from srcgrad.compiler.normalize import name_nodes, nodes_of
from srcgrad.compiler.reverse import ReverseSweep, shape_argument

from .corpus import CASES
from .test_dry_trials import LOOPS
from .transforms import REVERSE_MODES, transform_texts


def _checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Patch the sweep to compare its recorded loads with a walk; returns a check count."""
    checks: list[int] = []
    block, share_shapes = ReverseSweep.block, ReverseSweep.share_shapes

    def outermost_block(self, stmts):
        # the outermost call returns the whole reverse code
        depth = getattr(self, "_depth", 0)
        self._depth = depth + 1
        try:
            code = block(self, stmts)
        finally:
            self._depth = depth
        if depth == 0:
            self._reverse_code = code
        return code

    def checking_share_shapes(self, body, unrecorded):
        reverse = gast.Module(body=self._reverse_code, type_ignores=[])
        shape_args = {id(arg) for call in nodes_of(reverse, (gast.Call,))
                      if (arg := shape_argument(call, self.ns.values)) is not None}
        walked = Counter((id(n), id(n) in shape_args) for n in name_nodes(reverse)
                         if isinstance(n.ctx, gast.Load) and n.id in self.primal)
        recorded = Counter((id(r.node), r.shape) for r in self.reads if r.node is not None)
        assert recorded == walked
        checks.append(1)
        return share_shapes(self, body, unrecorded)

    monkeypatch.setattr(ReverseSweep, "block", outermost_block)
    monkeypatch.setattr(ReverseSweep, "share_shapes", checking_share_shapes)
    return checks


@pytest.mark.parametrize("case", CASES + LOOPS, ids=[c.name for c in CASES + LOOPS])
def test_recorded_reads_are_the_reverse_codes_primal_loads(case, monkeypatch):
    checks = _checked(monkeypatch)
    transform_texts(case, REVERSE_MODES)
    assert checks
