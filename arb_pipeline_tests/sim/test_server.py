"""The server's lifetime: what it holds back from the garbage collector while it serves, and gives back."""

from __future__ import annotations

import gc

from arb_pipeline.sim.server import SimConfig, start_simulator
from arb_pipeline_tests.sim.conftest import quiet_scenario


def test_the_engine_is_frozen_out_of_the_collector_while_serving_and_given_back_at_stop() -> None:
    gc.unfreeze()
    with start_simulator(SimConfig(scenario=quiet_scenario(), kalshi_tier=None)) as handle:
        state = next(iter(handle.scenario.states.values()))
        assert gc.get_freeze_count() > 0
        assert all(o is not state for o in gc.get_objects())  # the collector's generations skip the slate
    assert gc.get_freeze_count() == 0
    assert any(o is state for o in gc.get_objects())
