"""The bench's scenarios, in the order they run and appear in ``latest.md``.

A scenario declares the speed measurements it needs (shared and measured once per bench run)
and builds its tables and target checks from them, plus anything it measures on its own.
Quality at equal bytes (issue 6) is a separate tool, ``python -m bench.rd``, over the same corpus.
"""

from __future__ import annotations

from bench.scenarios import first_result, many_small, peer, scaling, svg_peer, synthetic
from bench.scenarios.base import Scenario

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (scaling.SCENARIO, peer.SCENARIO, first_result.SCENARIO, many_small.SCENARIO,
              synthetic.SCENARIO, svg_peer.SCENARIO)
}
