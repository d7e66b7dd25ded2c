"""End to end against the shared venue simulator (`arb_pipeline.sim.server`), when it is present."""

from __future__ import annotations

import pytest

from arb_pipeline.connectors.sportsbooks.errors import OddsAuthError
from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider

sim_server = pytest.importorskip(
    "arb_pipeline.sim.server", reason="the shared simulator arb_pipeline.sim.server is not available in this tree"
)


def test_every_simulated_sport_normalizes_cleanly_in_both_formats():
    with sim_server.start_simulator(sim_server.SimConfig()) as sim:
        for odds_format in ("decimal", "american"):
            with TheOddsApiProvider(api_key=sim.odds_api_key, base_url=sim.odds_base_url, regions=("us", "eu"),
                                    odds_format=odds_format, backoff_initial_s=0.05) as provider:
                sports = [s.key for s in provider.list_sports() if s.active]
                assert sports, "the simulator lists no active sport"
                for sport in sports:
                    before = provider.quota.state.used
                    result = provider.fetch_quotes(sport, markets=("h2h", "spreads", "totals"))
                    assert result.problems == (), [str(p) for p in result.problems]
                    assert result.quotes, f"no quotes for {sport}"
                    assert provider.quota.state.used - before <= provider.estimate_cost(["h2h", "spreads", "totals"])
                    outcomes = {q.outcome for q in result.quotes if q.market == "h2h"}
                    assert outcomes == ({"home", "away", "draw"} if sport.startswith("soccer") else {"home", "away"})
                    assert all(q.decimal_odds > 1 for q in result.quotes)
                    assert all((q.american_odds is not None) == (odds_format == "american") for q in result.quotes)
                    assert all(q.point is not None for q in result.quotes if q.market != "h2h")
        with TheOddsApiProvider(api_key="0" * 32, base_url=sim.odds_base_url) as wrong, \
                pytest.raises(OddsAuthError) as caught:
            wrong.list_sports()
        assert caught.value.error_code == "INVALID_KEY" and "0" * 32 not in str(caught.value)
