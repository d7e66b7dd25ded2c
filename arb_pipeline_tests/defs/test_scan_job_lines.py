"""Issue #12 end to end: spreads and totals traded from the simulator's extended slate.

Over real HTTP, with the configuration a user sets for every catalogued league (KALSHI_SERIES with
the spread and total series, ODDS_SPORTS with every sport key, ODDS_API_MARKETS=h2h,spreads,totals):

- every Kalshi market of the extended slate resolves, with zero inversions against the simulator's
  own truth (winners: the team; lines: the strike, the team and the side on the book's axis);
- an injected spread arbitrage and an injected total arbitrage are found by the scan job, priced to
  the cent (recomputed here from the window's ask, Kalshi's fee formula and the books' price), and
  paper-traded: one order per Kalshi leg and a hedge instruction naming the line and its point.

Runs on SQLite and PostgreSQL (`db_url`, this folder's conftest).
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import dagster as dg
import pytest
from sqlalchemy import select

from arb_pipeline.defs.runner import build_resources, run_scan_job
from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.settings import get_settings
from arb_pipeline.storage.models import HedgeInstruction, OpportunityRecord, Order

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def sim():
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    scenario = ScenarioConfig(seed=13, live_clock=True, games_per_league=2, arb_rate_per_hour=0.0,
                              value_rate_per_hour=0.0, extended=True)
    with start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None)) as handle:
        yield handle


def every_series_and_sport(sim) -> tuple[str, str]:
    """KALSHI_SERIES and ODDS_SPORTS covering every league the slate plays (winner, spread, total)."""
    from arb_pipeline.sim.slate import sim_sport_key

    catalogue = load_catalogue()
    leagues = {s.game.league.code for s in sim.scenario.states.values()}
    series = [t for code in sorted(leagues) for t in catalogue.leagues[code].all_series()]
    sports = sorted({sim_sport_key(s.game.league) for s in sim.scenario.states.values()})
    return ",".join(series), ",".join(sports)


@pytest.fixture
def settings_env(sim, tmp_path, monkeypatch):
    series, sports = every_series_and_sport(sim)
    for name, value in {"ARB_DATA_DIR": str(tmp_path), "ARB_MODE": "paper", "KALSHI_API_KEY_ID": sim.key_id,
                        "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode("ascii"),
                        "ODDS_API_KEY": sim.odds_api_key, "KALSHI_BASE_URL": sim.kalshi_base_url,
                        "ODDS_API_BASE_URL": sim.odds_base_url, "KALSHI_SERIES": series, "ODDS_SPORTS": sports,
                        "ODDS_API_MARKETS": "h2h,spreads,totals"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_every_market_of_the_extended_slate_resolves_with_no_inversion(sim, settings_env):
    from arb_pipeline.services.ingest import capture_from_settings
    from arb_pipeline.services.scan import ScanConfig, resolve_snapshot

    capture = capture_from_settings(settings_env, source="simulator")
    snapshot = capture.snapshot
    assert not capture.sports_failed and not capture.problems
    resolution = resolve_snapshot(snapshot, ScanConfig(overrides_path=settings_env.data_dir / "none.yaml"),
                                  snapshot.captured_at)
    assert not resolution.unresolved, [u.to_dict() for u in resolution.unresolved]
    assert len(resolution.rows) + len(resolution.lines) == len(snapshot.markets)
    engine = sim.scenario
    for row in resolution.rows:
        state, outcome = engine.market_index[row.kalshi_market]
        assert row.sportsbook_event_id == state.game.odds_id
        assert row.team_id == (state.game.team(outcome).id if state.game.team(outcome) else None)
    assert {line.kind for line in resolution.lines} == {"spread", "total"}
    for line in resolution.lines:
        state, market = engine.line_index[line.kalshi_market]
        assert (line.kind, line.strike, line.sportsbook_event_id) == (market.kind, market.strike, state.game.odds_id)
        if market.kind == "spread":
            assert line.team_id == state.game.team(market.subject).id
        else:
            assert (line.team_id, line.yes_outcome.value, line.point) == (None, "over", market.strike)


def served(snapshot, window: dict) -> tuple[Decimal, Decimal, str]:
    """What the scan saw for the window's two legs: Kalshi's best YES ask of the market, and the best
    decimal odds (and its bookmaker) of the other side of the same line at exactly the same point."""
    from arb_pipeline.arb.book import OrderBook
    from arb_pipeline.domain import ContractSide, line_position

    ask = OrderBook.from_levels(snapshot.orderbooks[window["market_ticker"]]).best_ask(ContractSide.YES)
    (leg,) = window["book_legs"]
    market = "totals" if window["line"] == "total" else "spreads"
    point = Decimal(window["strike"]) if market == "totals" else None
    other = []
    for q in snapshot.quotes:
        if q.event_id != window["odds_event_id"] or q.market != market or q.outcome != leg["outcome"]:
            continue
        side, at = line_position(q.market, q.outcome, q.point)
        if market == "spreads":  # the Kalshi market's YES side sits at the same point on the home-margin axis
            point = at
        if at == point:
            other.append(q)
    best = max(other, key=lambda q: q.decimal_odds)
    return ask, best.decimal_odds, best.bookmaker


def test_injected_spread_and_total_arbitrages_are_found_priced_to_the_cent_and_paper_traded(
        sim, settings_env, db_url, engine):
    from arb_pipeline.definitions import defs
    from arb_pipeline.defs.ingest.sensors import SCAN_SENSOR

    windows = {line: sim.scenario.inject_line_arbitrage(line, edge=Decimal("0.03"), lifetime_s=900)
               for line in ("spread", "total")}
    resources = build_resources(database_url=db_url, source="simulator", kalshi_base_url=sim.kalshi_base_url,
                                odds_api_base_url=sim.odds_base_url)
    with dg.instance_for_test() as instance:
        tick = defs.get_sensor_def(SCAN_SENSOR).evaluate_tick(dg.build_sensor_context(instance=instance,
                                                                                      definitions=defs))
        (request,) = tick.run_requests
        run = run_scan_job(resources, instance=instance, tags={**request.tags, "dagster/run_key": request.run_key})
    assert run.success, run.error
    assert not [c for c in run.failed_checks if c.endswith("_schema")], run.failed_checks
    snapshot = resources["snapshot_store"].load(run.metadata["arb_opportunities"]["snapshot_id"])

    with resources["database"].session() as session:
        for line, window in windows.items():
            book_market = {"spread": "spreads", "total": "totals"}[line]
            found = [o for o in session.scalars(select(OpportunityRecord).where(
                OpportunityRecord.event_key == window["event_ticker"])) if o.payload["kind"] == "arbitrage"]
            assert len(found) == 1, (line, window, [o.payload for o in found])
            (record,) = found
            payload = record.payload
            assert payload["market"] == book_market
            assert Decimal(payload["point"]).copy_abs() == Decimal(window["strike"])  # on the line's axis
            # priced to the cent against what the scan saw: Kalshi YES at its best ask with Kalshi's fee
            # ceil_to_cent(0.07 C P (1-P)), the best back of the other side at the same point staked C/d
            ask, odds, bookmaker = served(snapshot, window)
            assert ask <= Decimal(window["kalshi_yes_ask"])  # the window's ask (or one re-derived since)
            (kalshi,) = [leg for leg in payload["legs"] if leg["venue"] == "kalshi"]
            (book,) = [leg for leg in payload["legs"] if leg["venue"] == "sportsbook"]
            size = Decimal(kalshi["size"])
            fee = (Decimal("0.07") * size * ask * (1 - ask)).quantize(CENT, rounding=ROUND_CEILING)
            stake = (size / odds).quantize(CENT, rounding=ROUND_CEILING)
            assert (kalshi["market"], kalshi["side"], Decimal(kalshi["price"])) == (window["market_ticker"], "yes", ask)
            assert size == Decimal(window["size"])  # the window's whole depth
            assert Decimal(kalshi["fee"]) == fee and Decimal(kalshi["cost"]) == size * ask + fee
            assert (book["bookmaker"], Decimal(book["price"])) == (bookmaker, odds)
            assert Decimal(book["size"]) == stake and Decimal(book["cost"]) == stake
            payout = (stake * odds).quantize(CENT, rounding=ROUND_FLOOR)
            assert Decimal(book["payout"]) == payout
            cost = size * ask + fee + stake
            assert Decimal(payload["cost"]) == cost
            assert Decimal(payload["profit"]) == min(size, payout) - cost > 0
            assert set(payload["payouts"]) == ({"over", "under"} if line == "total" else {"home", "away"})

            # paper-traded: one order on the Kalshi leg, filled; a hedge instruction stating line and point
            orders = session.scalars(select(Order).where(Order.opportunity_id == record.id)).all()
            assert [(o.ticker, o.mode, o.status) for o in orders] == [(window["market_ticker"], "paper", "filled")]
            (hedge,) = session.scalars(select(HedgeInstruction).where(
                HedgeInstruction.opportunity_id == record.id)).all()
            assert hedge.bookmaker == book["bookmaker"] and hedge.status == "pending"
            assert hedge.stake == stake and hedge.odds == odds
            assert book["outcome"] in hedge.selection and book_market in hedge.selection
            assert window["strike"] in hedge.selection
